"""Building each store implementation for the shared behavioural tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentflow.store import InMemoryStore, SQLiteStore, Store

STORE_KINDS = ["memory", "sqlite", "postgresql"]
"""Every store implementation the behavioural tests run against."""


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

    url: str = request.getfixturevalue("postgres_url")
    return PostgresStore(url, chain_key=chain_key)


def reopen(store: Store, **options: object) -> Store:
    """A second store object on the same database as ``store`` (not for memory stores)."""
    if isinstance(store, SQLiteStore):
        return SQLiteStore(store.path, **options)  # type: ignore[arg-type]
    from incidentflow.store import PostgresStore

    assert isinstance(store, PostgresStore)
    return PostgresStore(store._conninfo, **options)  # type: ignore[arg-type]
