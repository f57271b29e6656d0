"""Building each store implementation for the shared behavioural tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from incidentflow import Priority
from incidentflow import events as ev
from incidentflow.store import InMemoryStore, SQLiteStore, Store

STORE_KINDS = ["memory", "sqlite", "postgresql", "pgbouncer"]
"""Every store implementation the behavioural tests run against (``pgbouncer``: PostgreSQL
through PgBouncer in transaction mode, with one server connection every client shares)."""


def make_store(
    kind: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    *,
    chain_key: bytes | None = None,
) -> Store:
    """An empty store of ``kind`` (PostgreSQL: a new database on the session's server)."""
    if kind == "memory":
        return InMemoryStore(chain_key=chain_key)
    if kind == "sqlite":
        return SQLiteStore(tmp_path / "incidents.db", chain_key=chain_key)
    from incidentflow.store import PostgresStore

    if kind == "pgbouncer":
        pooled: str = request.getfixturevalue("pooler").database()
        return PostgresStore(pooled, chain_key=chain_key, transaction_pooler=True)
    url: str = request.getfixturevalue("postgres_url")
    return PostgresStore(url, chain_key=chain_key)


def reopen(store: Store, **options: object) -> Store:
    """A second store object on the same database as ``store`` (not for memory stores)."""
    if isinstance(store, SQLiteStore):
        return SQLiteStore(store.path, **options)  # type: ignore[arg-type]
    from incidentflow.store import PostgresStore

    assert isinstance(store, PostgresStore)
    options.setdefault("transaction_pooler", store._pooled)
    return PostgresStore(store._conninfo, **options)  # type: ignore[arg-type]


AT = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
"""The one stamp of the racing writers' events (see :func:`note`)."""


def declared(incident_id: str) -> ev.Declared:
    """A P2 declaration of ``incident_id``, stamped :data:`AT`."""
    return ev.Declared(
        actor="ana",
        occurred_at=AT,
        recorded_at=AT,
        incident_id=incident_id,
        title=f"{incident_id} is down",
        priority=Priority.P2,
    )


def note(text: str) -> ev.NoteAdded:
    """A note stamped :data:`AT`: whatever order racing writers land in, the history replays."""
    return ev.NoteAdded(actor="rui", occurred_at=AT, recorded_at=AT, text=text)


def insert_undecodable(path: str, incident_id: str = "X-1") -> None:
    """Write into a SQLite store's events, behind its back, a row that does not decode (its
    triggers refuse updates and deletes, not inserts)."""
    import sqlite3

    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "INSERT INTO events (incident_id, version, line, prev_hash, hash) "
            "VALUES (?, 1, 'not json', 'a', 'b')",
            (incident_id,),
        )
    connection.close()
