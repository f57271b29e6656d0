"""Keeping incidents: append-only, versioned, hash-chained event stores.

:class:`InMemoryStore` for tests and demos, :class:`SQLiteStore` (or :func:`open_store`) for
one host's durable store.  Both behave identically: optimistic appends that raise
:class:`~incidentflow.errors.Conflict` when another writer got there first, loads that re-check
every rule, and a hash chain that makes tampering evident.  The core package never imports
this one, so ``import incidentflow`` stays light.
"""

from ._base import DEFAULT_PATH as DEFAULT_PATH
from ._base import ENVIRONMENT_VARIABLE as ENVIRONMENT_VARIABLE
from ._base import ChainBreak as ChainBreak
from ._base import IncidentSummary as IncidentSummary
from ._base import Store as Store
from ._base import StoredEvent as StoredEvent
from .memory import InMemoryStore as InMemoryStore
from .sqlite import SQLiteStore as SQLiteStore
from .sqlite import open_store as open_store

__all__ = [
    "DEFAULT_PATH",
    "ENVIRONMENT_VARIABLE",
    "ChainBreak",
    "IncidentSummary",
    "InMemoryStore",
    "SQLiteStore",
    "Store",
    "StoredEvent",
    "open_store",
]
