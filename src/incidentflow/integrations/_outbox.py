"""The outbox: one delivery row per event and sink, kept in the store's own database.

Rows are written in the transaction that moves the sink's checkpoint, so an event is
either waiting in the outbox or not yet read, never lost in between.  The memory store runs
no SQL; for it the rows live in a private in-memory SQLite database beside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import weakref
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from attrs import frozen

from incidentflow._vocabulary import Vocabulary
from incidentflow.errors import InvalidInput

if TYPE_CHECKING:
    from incidentflow.store import Store, Transaction

__all__ = ["Delivery", "Status", "delivery_key", "reminder_key"]


class Status(Vocabulary):
    """Where a delivery stands."""

    PENDING = "pending"
    """Not tried yet."""
    FAILED = "failed"
    """Tried and failed; tried again at ``next_attempt_at``."""
    DELIVERED = "delivered"
    """Sent (or nothing was owed to the sink for it)."""
    DEAD = "dead"
    """Refused for good, or out of attempts: waits for ``deliveries retry`` or ``discard``."""
    DISCARDED = "discarded"
    """Given up by a person."""


def delivery_key(sink: str, incident_id: str, version: int) -> str:
    """The idempotency key of event ``version`` of ``incident_id`` sent to ``sink``.

    The same on every attempt and every dispatcher, so receivers can drop repeats.

    >>> delivery_key("hooks", "INC-7", 1)
    'msg_...'
    >>> delivery_key("hooks", "INC-7", 1) == delivery_key("hooks", "INC-7", 1)
    True
    """
    digest = hashlib.sha256(f"event\x00{sink}\x00{incident_id}\x00{version}".encode())
    return "msg_" + digest.hexdigest()[:32]


def reminder_key(sink: str, incident_id: str, kind: str, instance: str) -> str:
    """The idempotency key of one reminder: one obligation instance, to one sink."""
    digest = hashlib.sha256(f"reminder\x00{sink}\x00{incident_id}\x00{kind}\x00{instance}".encode())
    return "rem_" + digest.hexdigest()[:32]


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@frozen(kw_only=True)
class Delivery:
    """One event (or reminder) owed to one sink, and how its delivery went so far.

    ``response`` summarises what the receiver answered last (never a secret);
    ``last_error`` says why the last attempt failed.
    """

    key: str
    sink: str
    incident_id: str
    position: int
    version: int
    kind: str
    status: Status
    attempts: int
    next_attempt_at: datetime
    last_error: str
    response: str
    created_at: datetime
    updated_at: datetime
    payload: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The delivery as JSON-ready data (``deliveries --json``)."""
        return {
            "key": self.key,
            "sink": self.sink,
            "incident": self.incident_id,
            "version": self.version,
            "position": self.position,
            "kind": self.kind,
            "status": self.status.value,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat(),
            "last_error": self.last_error,
            "response": self.response,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


COLUMNS = (
    "key, sink, incident_id, position, version, kind, status, attempts, next_attempt_at, "
    "last_error, response, created_at, updated_at, payload"
)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS feed_deliveries (
        key TEXT PRIMARY KEY,
        sink TEXT NOT NULL,
        incident_id TEXT NOT NULL,
        position BIGINT NOT NULL,
        version BIGINT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts BIGINT NOT NULL,
        next_attempt_at DOUBLE PRECISION NOT NULL,
        last_error TEXT NOT NULL,
        response TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        payload TEXT NOT NULL,
        claimed_until DOUBLE PRECISION NOT NULL
    )""",
    # Only what is still owed is indexed for claiming: the claims stay as fast with a
    # million deliveries behind them as with none.
    "CREATE INDEX IF NOT EXISTS feed_deliveries_undone ON feed_deliveries (position) "
    "WHERE status IN ('pending', 'failed')",
    "CREATE INDEX IF NOT EXISTS feed_deliveries_undone_group "
    "ON feed_deliveries (sink, incident_id, position) WHERE status IN ('pending', 'failed')",
    """CREATE TABLE IF NOT EXISTS feed_sink_state (
        sink TEXT NOT NULL,
        incident_id TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (sink, incident_id, name)
    )""",
)


_SCHEMA_LOCK = 0x1CF_0B0C
"""The advisory lock (PostgreSQL) under which the outbox's tables are created."""


def row_to_delivery(row: Sequence[Any]) -> Delivery:
    """A delivery from a row of :data:`COLUMNS`."""
    return Delivery(
        key=row[0],
        sink=row[1],
        incident_id=row[2],
        position=int(row[3]),
        version=int(row[4]),
        kind=row[5],
        status=Status(row[6]),
        attempts=int(row[7]),
        next_attempt_at=_moment(float(row[8])),
        last_error=row[9],
        response=row[10],
        created_at=_moment(float(row[11])),
        updated_at=_moment(float(row[12])),
        payload=row[13],
    )


class Tx:
    """One transaction: SQL on the store's database (or the memory store's companion)."""

    def __init__(self, transaction: Transaction, connection: sqlite3.Connection | None) -> None:
        self._transaction = transaction
        self._connection = connection
        self.dialect = transaction.dialect

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (qmark placeholders); its rows."""
        if self._connection is None:
            return self._transaction.execute(sql, params)
        return [tuple(r) for r in self._connection.execute(sql, tuple(params)).fetchall()]

    def checkpoint(self, name: str) -> int:
        """Consumer ``name``'s position."""
        return self._transaction.checkpoint(name)

    def advance(self, name: str, position: int) -> None:
        """Move consumer ``name`` to ``position``, with this transaction."""
        self._transaction.advance(name, position)


_COMPANIONS: weakref.WeakKeyDictionary[Any, sqlite3.Connection] = weakref.WeakKeyDictionary()


class Outbox:
    """The deliveries and sink state of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._ready = False

    def _companion(self) -> sqlite3.Connection:
        connection = _COMPANIONS.get(self.store)
        if connection is None:
            connection = sqlite3.connect(":memory:", check_same_thread=False)
            _COMPANIONS[self.store] = connection
        return connection

    @contextlib.contextmanager
    def begin(self) -> Iterator[Tx]:
        """One transaction, its tables created on first use."""
        with self.store.transaction() as transaction:
            connection = self._companion() if transaction.dialect == "memory" else None
            tx = Tx(transaction, connection)
            try:
                if not self._ready:
                    if tx.dialect == "postgresql":
                        # One creator at a time: two CREATE TABLE IF NOT EXISTS side by side
                        # collide in PostgreSQL's catalog.  Held until this transaction ends.
                        tx.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
                    for statement in _SCHEMA:
                        tx.execute(statement)
                yield tx
            except BaseException:
                if connection is not None:
                    connection.rollback()
                raise
            if connection is not None:
                connection.commit()
        self._ready = True

    # -- reading and the commands of `incidentflow deliveries` ------------------------------

    def deliveries(
        self,
        *,
        statuses: Sequence[Status] | None = None,
        sink: str | None = None,
        incident_id: str | None = None,
    ) -> list[Delivery]:
        """The deliveries in these statuses (every status when None), oldest first."""
        where: list[str] = []
        params: list[object] = []
        if statuses is not None:
            where.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params.extend(s.value for s in statuses)
        if sink is not None:
            where.append("sink = ?")
            params.append(sink)
        if incident_id is not None:
            where.append("incident_id = ?")
            params.append(incident_id)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self.begin() as tx:
            rows = tx.execute(
                f"SELECT {COLUMNS} FROM feed_deliveries{clause} ORDER BY position, key", params
            )
        return [row_to_delivery(r) for r in rows]

    def retry(self, keys: Sequence[str], *, now: datetime) -> list[str]:
        """Make these failed, dead or discarded deliveries due now, with fresh attempts."""
        return self._set(keys, Status.PENDING, now=now, reset=True)

    def discard(self, keys: Sequence[str], *, now: datetime) -> list[str]:
        """Give these undelivered deliveries up."""
        return self._set(keys, Status.DISCARDED, now=now, reset=False)

    def _set(self, keys: Sequence[str], status: Status, *, now: datetime, reset: bool) -> list[str]:
        stamp = now.timestamp()
        with self.begin() as tx:
            found: list[str] = []
            for key in keys:
                rows = tx.execute("SELECT status FROM feed_deliveries WHERE key = ?", (key,))
                if not rows:
                    raise InvalidInput(f"no delivery {key!r}; `incidentflow deliveries` lists them")
                if rows[0][0] == Status.DELIVERED.value:
                    raise InvalidInput(f"delivery {key!r} was delivered; nothing to {status.value}")
                if reset:
                    tx.execute(
                        "UPDATE feed_deliveries SET status = ?, attempts = 0, next_attempt_at = ?, "
                        "updated_at = ?, claimed_until = 0 WHERE key = ?",
                        (status.value, stamp, stamp, key),
                    )
                else:
                    tx.execute(
                        "UPDATE feed_deliveries SET status = ?, updated_at = ? WHERE key = ?",
                        (status.value, stamp, key),
                    )
                found.append(key)
        return found
