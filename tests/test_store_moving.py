"""Moving a store forward: migrations from every older schema, and whole-store copies."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from incidentflow import Incident, InvalidInput, ManualClock, Priority, StoreUnavailable
from incidentflow.store import (
    SCHEMA_VERSION,
    Copied,
    InMemoryStore,
    Migrated,
    PostgresStore,
    SQLiteStore,
    Store,
    copy_store,
    migrate,
    open_store,
)
from incidentflow.store import postgres as pg
from terminal import CLI

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
KEY = bytes.fromhex("3c" * 32)


def _incident(incident_id: str, notes: int = 2) -> Incident:
    clock = ManualClock(START)
    incident = Incident.declare(
        incident_id, "Database is down", Priority.P2, actor="ana", clock=clock
    )
    for n in range(notes):
        clock.advance(minutes=1)
        incident.note(f"note {n}", actor="ana")
    return incident


def _fill(store: Store) -> list[Incident]:
    incidents = [_incident("INC-1"), _incident("INC-2", notes=4), _incident("INC-10", notes=0)]
    for incident in incidents:
        store.append(incident.id, incident.history, expected_version=0)
    return incidents


# -- SQLite: every older schema to the newest ----------------------------------------------------

# What each older SQLite schema lacks, from the newest one down (undone newest first).
_SQLITE_DOWN = {
    3: ["DROP TABLE checkpoints"],
    2: [
        "DROP TABLE meta",
        "CREATE TABLE incidents_v1 AS SELECT incident_id, title, priority, state, began_at, "
        "declared_at, updated_at, version FROM incidents",
        "DROP TABLE incidents",
        "ALTER TABLE incidents_v1 RENAME TO incidents",
        "CREATE INDEX incidents_by_declaration ON incidents (declared_at, incident_id)",
    ],
}


def _sqlite_at(path: Path, version: int) -> list[Incident]:
    """A SQLite store holding three incidents, taken back to schema ``version``."""
    with SQLiteStore(path) as store:
        incidents = _fill(store)
    raw = sqlite3.connect(path, isolation_level=None)
    for newer in range(SCHEMA_VERSION, version, -1):
        for statement in _SQLITE_DOWN[newer]:
            raw.execute(statement)
    raw.execute(f"PRAGMA user_version = {version}")
    raw.close()
    return incidents


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_every_older_sqlite_schema_migrates_to_the_newest(tmp_path: Path, version: int) -> None:
    """migrate() moves schema 1 and 2 stores to the newest; every incident loads and verifies."""
    path = tmp_path / "old.db"
    incidents = _sqlite_at(path, version)
    with SQLiteStore(path, read_only=True) as reader:  # readers take old stores as they are
        assert ([i.id for i in incidents], 0) == (
            [e.id for e in (reader.load(i.id) for i in incidents)],
            reader.checkpoint("pager"),
        )
    assert Migrated(where=str(path), before=version, after=SCHEMA_VERSION) == migrate(path)
    with SQLiteStore(path) as store:
        assert (incidents, [], 9) == (
            [store.load(i.id) for i in incidents],
            store.verify(),
            len(store.read_since(0)),
        )
        store.advance("pager", 3)
    assert Migrated(where=str(path), before=SCHEMA_VERSION, after=SCHEMA_VERSION) == migrate(path)


def test_migrate_never_creates_a_sqlite_store(tmp_path: Path) -> None:
    """migrate() of a missing file raises StoreUnavailable and creates nothing."""
    with pytest.raises(StoreUnavailable, match="never creates"):
        migrate(tmp_path / "typo.db")
    assert [] == list(tmp_path.iterdir())


def test_migrate_refuses_a_newer_sqlite_schema(tmp_path: Path) -> None:
    """A file from a newer release is refused and left as it is."""
    path = tmp_path / "newer.db"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StoreUnavailable, match="newer incidentflow"):
        migrate(path)


def test_migrate_reports_an_unreadable_file(tmp_path: Path) -> None:
    """A file that is no database raises StoreUnavailable."""
    path = tmp_path / "notes.db"
    path.write_text("just notes\n" * 200)
    with pytest.raises(StoreUnavailable):
        migrate(path)


# -- PostgreSQL: every older schema to the newest -------------------------------------------------

# What each older PostgreSQL schema lacks, from the newest one down.
_POSTGRES_DOWN = {
    6: [pg._MIGRATIONS[4][-1].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)],
    5: ["DROP FUNCTION incidentflow_append", pg._MIGRATIONS[3][-1]],  # version 4's append
    4: ["DROP FUNCTION incidentflow_append", "ALTER TABLE events DROP COLUMN xid"],
    3: [
        "DROP TRIGGER events_identity ON events",
        "DROP FUNCTION incidentflow_identity()",
        "DROP TABLE people",
        "ALTER TABLE events DROP COLUMN login",
    ],
    2: ["DROP TABLE checkpoints"],
}


def _postgres_at(url: str, version: int) -> list[Incident]:
    with PostgresStore(url) as store:
        incidents = _fill(store)
    with psycopg.connect(url, autocommit=True) as raw:
        for newer in range(pg.SCHEMA_VERSION, version, -1):
            for statement in _POSTGRES_DOWN[newer]:
                raw.execute(statement)
            raw.execute("DELETE FROM schema_migrations WHERE version = %s", (newer,))
    return incidents


@pytest.mark.parametrize("version", range(1, pg.SCHEMA_VERSION))
def test_every_older_postgres_schema_migrates_to_the_newest(
    postgres_url: str, version: int
) -> None:
    """Older databases: readers take them as they are; migrate() brings them up to date."""
    incidents = _postgres_at(postgres_url, version)
    with PostgresStore(postgres_url, read_only=True) as reader:
        assert (version, incidents, 9) == (
            reader.schema_version,
            [reader.load(i.id) for i in incidents],
            len(reader.read_since(0)),  # an older feed is read by position, as it was written
        )
    with pytest.raises(StoreUnavailable, match="incidentflow migrate"):
        PostgresStore(postgres_url, migrate=False)
    done = migrate(postgres_url)
    assert (version, pg.SCHEMA_VERSION) == (done.before, done.after)
    with PostgresStore(postgres_url, migrate=False) as store:
        assert (incidents, []) == ([store.load(i.id) for i in incidents], store.verify())
        store.advance("pager", 2)
        assert 2 == store.checkpoint("pager")
        # The old rows stay readable in the feed, before every row written after migrating.
        late = _incident("INC-11")
        store.append(late.id, late.history, expected_version=0)
        feed = [(e.incident_id, e.version) for e in store.read_since(0)]
    assert [*[(i.id, v) for i in incidents for v in range(1, i.version + 1)],
            *[("INC-11", v) for v in (1, 2, 3)]] == feed  # fmt: skip
    again = migrate(postgres_url)
    assert (pg.SCHEMA_VERSION, pg.SCHEMA_VERSION) == (again.before, again.after)


def test_migrate_creates_an_empty_postgres_schema(postgres_url: str) -> None:
    """migrate() of an empty database creates the newest schema (the owner sets it up)."""
    done = migrate(postgres_url)
    assert (0, pg.SCHEMA_VERSION) == (done.before, done.after)


def test_migrate_reports_an_unreachable_postgres(postgres_url: str) -> None:
    """A database that does not exist: StoreUnavailable with the server's message."""
    missing = postgres_url.replace("/test_", "/missing_")
    with pytest.raises(StoreUnavailable, match="does not exist"):
        migrate(missing)


# -- copying --------------------------------------------------------------------------------------


def _stores(kind: str, tmp_path: Path, url: str, name: str) -> Store:
    if kind == "sqlite":
        return SQLiteStore(tmp_path / f"{name}.db")
    if kind == "memory":
        return InMemoryStore()
    return PostgresStore(url)


@pytest.mark.parametrize(
    ("source_kind", "target_kind"),
    [("sqlite", "postgresql"), ("postgresql", "sqlite"), ("memory", "postgresql")],
)
def test_copy_keeps_every_incident_version_and_chain(
    tmp_path: Path, request: pytest.FixtureRequest, source_kind: str, target_kind: str
) -> None:
    """Every incident arrives whole, at the same versions, with the same hashes."""
    url = request.getfixturevalue("postgres_url")
    with (
        _stores(source_kind, tmp_path, url, "source") as source,
        _stores(target_kind, tmp_path, url, "target") as target,
    ):
        incidents = _fill(source)
        copied = copy_store(source, target)
        assert Copied(incidents=3, events=9, same_chains=True) == copied
        assert (incidents, [], source.incidents()) == (
            [target.load(i.id) for i in incidents],
            target.verify(),
            target.incidents(),
        )
        assert [(e.incident_id, e.version, e.hash) for e in source.read_all()] == sorted(
            ((e.incident_id, e.version, e.hash) for e in target.read_all()),
            key=lambda row: (["INC-1", "INC-2", "INC-10"].index(row[0]), row[1]),
        )


def test_copy_into_a_differently_keyed_store_rechains(tmp_path: Path) -> None:
    """Copying into a keyed store keeps the events and versions; the chains are rekeyed."""
    with SQLiteStore(tmp_path / "a.db") as source, InMemoryStore(chain_key=KEY) as target:
        incidents = _fill(source)
        copied = copy_store(source, target)
        assert (False, incidents) == (copied.same_chains, [target.load(i.id) for i in incidents])


def test_copy_refuses_a_non_empty_target_and_writes_nothing(tmp_path: Path) -> None:
    """A target holding any incident raises InvalidInput; the target is unchanged."""
    with InMemoryStore() as source, InMemoryStore() as target:
        _fill(source)
        target.append("INC-9", _incident("INC-9").history, expected_version=0)
        with pytest.raises(InvalidInput, match="already holds 1 incident"):
            copy_store(source, target)
        assert ["INC-9"] == [s.incident_id for s in target.incidents()]


def test_copy_needs_two_stores() -> None:
    """The same store twice, or something that is not a store, raises InvalidInput."""
    store = InMemoryStore()
    with pytest.raises(InvalidInput, match="two different"):
        copy_store(store, store)
    with pytest.raises(InvalidInput, match="one store to another"):
        copy_store(store, "incidents.db")  # type: ignore[arg-type]


def test_copying_an_empty_store_copies_nothing() -> None:
    """An empty source gives an empty copy."""
    assert Copied(incidents=0, events=0, same_chains=True) == copy_store(
        InMemoryStore(), InMemoryStore()
    )


# -- the command line ---------------------------------------------------------------------------


def test_cli_copies_sqlite_into_postgresql_and_migrates(
    tmp_path: Path, postgres_url: str, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`copy --from FILE --to URL` then `migrate`: the upgrade path from the terminal."""
    monkeypatch.delenv("INCIDENTFLOW_CHAIN_KEY", raising=False)
    monkeypatch.delenv("INCIDENTFLOW_CHAIN_KEY_FILE", raising=False)
    path = tmp_path / "incidents.db"
    with SQLiteStore(path) as store:
        incidents = _fill(store)
    cli = CLI(path, capsys, monkeypatch)
    assert "copied 3 incidents (9 events); every chain identical\n" == cli.ok(
        "copy", "--from", str(path), "--to", postgres_url
    )
    code, _, err = cli("copy", "--from", str(path), "--to", postgres_url)
    assert (2, "already holds 3 incident(s)") == (code, err[err.index("already") :].split(" (")[0])
    with open_store(postgres_url, read_only=True) as copy:
        assert incidents == [copy.load(i.id) for i in incidents]
    out = CLI(postgres_url, capsys, monkeypatch).ok("migrate")  # type: ignore[arg-type]
    assert out.endswith(f"schema {pg.SCHEMA_VERSION}, already current\n")
    assert f"migrated from schema 1 to {SCHEMA_VERSION}" in _cli_migrate_old(
        tmp_path, capsys, monkeypatch
    )


def _cli_migrate_old(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "old.db"
    _sqlite_at(path, 1)
    cli = CLI(path, capsys, monkeypatch)
    return cli.ok("migrate")


def test_cli_migrate_and_copy_speak_json(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--json gives the migration's versions and the copy's counts as JSON."""
    import json

    monkeypatch.delenv("INCIDENTFLOW_CHAIN_KEY", raising=False)
    monkeypatch.delenv("INCIDENTFLOW_CHAIN_KEY_FILE", raising=False)
    path = tmp_path / "incidents.db"
    with SQLiteStore(path) as store:
        _fill(store)
    cli = CLI(path, capsys, monkeypatch)
    migrated = json.loads(cli.ok("migrate", "--json"))
    copied = json.loads(
        cli.ok("copy", "--from", str(path), "--to", str(tmp_path / "b.db"), "--json")
    )
    assert (
        {"store": str(path), "before": SCHEMA_VERSION, "after": SCHEMA_VERSION},
        {"incidents": 3, "events": 9, "same_chains": True},
    ) == (migrated, copied)
