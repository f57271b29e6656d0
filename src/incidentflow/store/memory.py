"""A store in memory: for tests, demos and embedders that persist elsewhere.

It behaves exactly as :class:`~incidentflow.store.SQLiteStore` does (same checks, same hash
chain, same errors) but keeps nothing once the object is gone.  It is thread-safe; there is no
reopening it.

>>> from incidentflow import Incident, ManualClock, Priority
>>> from datetime import UTC, datetime
>>> clock = ManualClock(datetime(2026, 3, 1, 14, 0, tzinfo=UTC))
>>> incident = Incident.declare("INC-1", "Database is down", Priority.P1, actor="ana", clock=clock)
>>> store = InMemoryStore()
>>> store.append("INC-1", incident.history, expected_version=0)
1
>>> store.load("INC-1") == incident
True
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from incidentflow.errors import StoreUnavailable
from incidentflow.lifecycle import State
from incidentflow.priorities import Priority

from ._base import (
    IncidentSummary,
    Store,
    _Batch,
    _conflict,
    _matches,
    _order,
    _Plan,
    _Stored,
)
from ._feed import Dialect, Transaction, _check_name, _check_position, _moved
from ._keys import _Links

__all__ = ["InMemoryStore"]


class InMemoryStore(Store):
    """A thread-safe store held in memory; everything is lost when it is dropped.

    ``chain_key`` (at least 32 secret bytes) makes every link an HMAC-SHA256 and seals each
    incident's head, as in a keyed :class:`~incidentflow.store.SQLiteStore`.
    """

    def __init__(self, *, chain_key: bytes | None = None) -> None:
        self._links = _Links(chain_key)
        self._lock = threading.RLock()
        self._appended = threading.Condition(self._lock)
        self._checkpoints: dict[str, int] = {}
        self._events: dict[str, list[_Stored]] = {}
        self._summaries: dict[str, IncidentSummary] = {}
        self._seals: dict[str, str | None] = {}
        self._log: list[tuple[int, str, int, str, str]] = []
        self._closed = False

    def close(self) -> None:
        """Forget nothing, but refuse further use, as a closed database would."""
        with self._lock:
            self._closed = True
            self._appended.notify_all()

    def _open(self) -> None:
        if self._closed:
            raise StoreUnavailable("the store is closed")

    def _where(self) -> str:
        return "the in-memory store"

    def _append_all(self, planned: list[tuple[_Batch, _Plan]]) -> list[int]:
        with self._lock:
            self._open()
            for batch, _ in planned:  # every version is checked before anything is written
                actual = len(self._events.get(batch.incident_id, []))
                if actual != batch.expected_version:
                    raise _conflict(batch.incident_id, batch.expected_version, actual)
            for batch, plan in planned:
                # In place: every reader copies what it reads while holding the lock.
                rows = self._events.setdefault(batch.incident_id, [])
                rows.extend(plan.rows)
                self._summaries[batch.incident_id] = plan.summary
                self._seals[batch.incident_id] = self._links.seal(plan.summary, plan.head)
                for version, line, _, digest in plan.rows:
                    entry = (len(self._log) + 1, batch.incident_id, version, line, digest)
                    self._log.append(entry)
            self._appended.notify_all()
            return [plan.summary.version for _, plan in planned]

    def _rows(self, incident_id: str) -> tuple[list[_Stored], IncidentSummary | None, str | None]:
        with self._lock:
            self._open()
            rows: list[_Stored] = list(self._events.get(incident_id, []))
            return rows, self._summaries.get(incident_id), self._seals.get(incident_id)

    def _version(self, incident_id: str) -> int:
        with self._lock:
            self._open()
            return len(self._events.get(incident_id, []))

    def _head(self, incident_id: str) -> tuple[int, str | None]:
        with self._lock:
            self._open()
            rows = self._events.get(incident_id, [])
            return (len(rows), rows[-1][3]) if rows else (0, None)

    def _ids(self) -> list[str]:
        with self._lock:
            self._open()
            return sorted(self._events.keys() | self._summaries.keys())

    def _select(
        self,
        state: State | None,
        priority: Priority | None,
        since: datetime | None,
        until: datetime | None,
    ) -> list[tuple[IncidentSummary, str | None, str | None]]:
        with self._lock:
            self._open()
            found = [
                (summary, self._seals.get(incident_id), self._events[incident_id][-1][3])
                for incident_id, summary in self._summaries.items()
                if _matches(summary, state, priority, since, until)
            ]
        return sorted(found, key=lambda item: _order(item[0]))

    def _stored(self, after: int) -> Iterator[tuple[int, str, int, str, str]]:
        with self._lock:
            self._open()
            log = self._log[after:]
        return iter(log)

    def _feed(self, after: int, limit: int) -> list[tuple[int, str, int, str]]:
        with self._lock:
            self._open()
            return [entry[:4] for entry in self._log[after : after + limit]]

    def _wait(self, after: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                self._open()
                if len(self._log) > after:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._appended.wait(left)

    def _checkpoint(self, name: str) -> int:
        with self._lock:
            self._open()
            return self._checkpoints.get(name, 0)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Checkpoints moved inside the block are kept when it ends, forgotten when it raises.

        The memory store runs no SQL: :meth:`Transaction.execute` raises StoreUnavailable.
        """
        with self._lock:
            self._open()
            transaction = _MemoryTransaction(dict(self._checkpoints))
            yield transaction
            self._open()
            self._checkpoints.update(transaction.moved)


class _MemoryTransaction(Transaction):
    """The memory store's transaction: checkpoints only."""

    dialect: Dialect = "memory"

    def __init__(self, checkpoints: dict[str, int]) -> None:
        self.moved = checkpoints

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Refused: the memory store runs no SQL."""
        raise StoreUnavailable("the memory store runs no SQL; use a SQLite or PostgreSQL store")

    def checkpoint(self, name: str) -> int:
        """The position ``name`` is at in this transaction."""
        return self.moved.get(_check_name(name), 0)

    def advance(self, name: str, position: int) -> None:
        """Move ``name`` to ``position`` when the transaction commits."""
        name = _check_name(name)
        position = _check_position(position)
        _moved(name, self.moved.get(name, 0), position)
        self.moved[name] = position
