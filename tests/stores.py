"""Building each store implementation for the shared behavioural tests."""

from __future__ import annotations

from pathlib import Path

from incidentflow.store import InMemoryStore, SQLiteStore, Store

STORE_KINDS = ["memory", "sqlite"]
"""Every store implementation the behavioural tests run against."""


def make_store(kind: str, tmp_path: Path, *, chain_key: bytes | None = None) -> Store:
    """An empty store of ``kind``."""
    if kind == "memory":
        return InMemoryStore(chain_key=chain_key)
    return SQLiteStore(tmp_path / "incidents.db", chain_key=chain_key)
