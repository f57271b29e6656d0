"""Keeping incidents: append-only, versioned, hash-chained event stores.

:class:`InMemoryStore` for tests and demos, :class:`SQLiteStore` (or :func:`open_store`) for
one host's durable store, :class:`PostgresStore` (the ``postgres`` extra) for a team sharing
one record.  All behave identically: optimistic appends that raise
:class:`~incidentflow.errors.Conflict` when another writer got there first, loads that re-check
every rule, and a hash chain that makes tampering evident (keyed with a secret chain key, it
holds against someone who knows the scheme; see docs/store.md).  The core package never
imports this one, so ``import incidentflow`` stays light.
"""

from typing import TYPE_CHECKING

from incidentflow import _lazy

from ._anchor import Anchor as Anchor
from ._anchor import Audit as Audit
from ._anchor import ChainBreak as ChainBreak
from ._anchor import Head as Head
from ._base import DEFAULT_PATH as DEFAULT_PATH
from ._base import ENVIRONMENT_VARIABLE as ENVIRONMENT_VARIABLE
from ._base import IncidentSummary as IncidentSummary
from ._base import Store as Store
from ._base import StoredEvent as StoredEvent
from ._feed import FeedEntry as FeedEntry
from ._feed import Transaction as Transaction
from ._keys import CHAIN_KEY_FILE_VARIABLE as CHAIN_KEY_FILE_VARIABLE
from ._keys import CHAIN_KEY_VARIABLE as CHAIN_KEY_VARIABLE
from ._keys import MIN_KEY_BYTES as MIN_KEY_BYTES
from ._keys import chain_key_from_environment as chain_key_from_environment
from ._keys import parse_chain_key as parse_chain_key
from ._keys import read_chain_key as read_chain_key
from ._moving import Copied as Copied
from ._moving import Migrated as Migrated
from ._moving import copy_store as copy_store
from ._moving import migrate as migrate
from .memory import InMemoryStore as InMemoryStore
from .sqlite import SCHEMA_VERSION as SCHEMA_VERSION
from .sqlite import SQLiteStore as SQLiteStore
from .sqlite import open_store as open_store

if TYPE_CHECKING:
    from .postgres import PostgresStore as PostgresStore

# PostgresStore needs the postgres extra: it is imported on first use only.
__getattr__ = _lazy.loader(__name__, {"PostgresStore": ".postgres"}, globals())
__dir__ = _lazy.listing(globals())

__all__ = [
    "CHAIN_KEY_FILE_VARIABLE",
    "CHAIN_KEY_VARIABLE",
    "DEFAULT_PATH",
    "ENVIRONMENT_VARIABLE",
    "MIN_KEY_BYTES",
    "SCHEMA_VERSION",
    "Anchor",
    "Audit",
    "ChainBreak",
    "Copied",
    "FeedEntry",
    "Head",
    "IncidentSummary",
    "InMemoryStore",
    "Migrated",
    "PostgresStore",
    "SQLiteStore",
    "Store",
    "StoredEvent",
    "Transaction",
    "chain_key_from_environment",
    "copy_store",
    "migrate",
    "open_store",
    "parse_chain_key",
    "read_chain_key",
]
