"""The global feed: every incident's events in commit order, and consumers' checkpoints."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, Literal

from attrs import frozen

from incidentflow.errors import CheckpointConflict, InvalidInput
from incidentflow.events import Event

__all__ = ["FeedEntry", "Transaction"]

Dialect = Literal["memory", "sqlite", "postgresql"]

MAX_LIMIT = 100_000
"""The most entries one :meth:`~incidentflow.store.Store.read_since` call returns."""


@frozen(kw_only=True)
class FeedEntry:
    """One event of the global feed: its ``position``, incident, version and the event.

    Positions grow in commit order; they need not be contiguous (a rolled-back write may
    leave a hole), but an event never becomes readable behind one already read.
    """

    position: int
    incident_id: str
    version: int
    event: Event


class Transaction(abc.ABC):
    """One database transaction of a store, yielded by :meth:`Store.transaction`.

    Everything done through it commits together when the ``with`` block ends, or not at all
    when it raises: a consumer writes its own rows with :meth:`execute` and moves its
    checkpoint with :meth:`advance` atomically.
    """

    dialect: Dialect
    """Which database runs the SQL: ``"memory"`` (none), ``"sqlite"`` or ``"postgresql"``."""

    @abc.abstractmethod
    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one SQL statement with qmark (``?``) placeholders; the rows it returns."""

    @abc.abstractmethod
    def checkpoint(self, name: str) -> int:
        """The position consumer ``name`` has advanced to (0 when never advanced)."""

    @abc.abstractmethod
    def advance(self, name: str, position: int) -> None:
        """Move consumer ``name`` to ``position``; going backwards raises CheckpointConflict."""


def _check_name(name: object) -> str:
    if type(name) is not str or not name.strip():
        raise InvalidInput(f"a checkpoint name must be a non-blank string, not {name!r}")
    return name


def _check_position(position: object, what: str = "position") -> int:
    if type(position) is not int or position < 0:
        raise InvalidInput(f"{what} must be a non-negative int, not {position!r}")
    return position


def _check_limit(limit: object) -> int:
    if type(limit) is not int or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be an int from 1 to {MAX_LIMIT}, not {limit!r}")
    return limit


def _check_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0:
        raise InvalidInput(f"timeout must be a non-negative number of seconds, not {timeout!r}")
    return float(timeout)


def _check_sql(sql: object, params: object) -> tuple[str, tuple[object, ...]]:
    if type(sql) is not str or not sql.strip():
        raise InvalidInput(f"sql must be a non-blank string, not {sql!r}")
    if isinstance(params, str | bytes) or not isinstance(params, Sequence):
        raise InvalidInput(f"params must be a sequence of values, not {params!r}")
    return sql, tuple(params)


def _moved(name: str, current: int, position: int) -> None:
    """Refuse moving checkpoint ``name`` from ``current`` back to ``position``."""
    if position < current:
        raise CheckpointConflict(name=name, position=position, current=current)
