"""What only the SQLite store does: its file, schema, pragmas, triggers and settings."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest

from incidentflow import (
    Conflict,
    ImpactLevel,
    Incident,
    ManualClock,
    Priority,
    Role,
    StoreBusy,
    StoreUnavailable,
    Tampered,
    codec,
)
from incidentflow.events import Event
from incidentflow.store import DEFAULT_PATH, ENVIRONMENT_VARIABLE, SQLiteStore, open_store

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


def _incident(incident_id: str = "INC-1") -> Incident:
    clock = ManualClock(START)
    incident = Incident.declare(
        incident_id, "Database is down", Priority.P1, actor="ana", clock=clock
    )
    incident.assign(Role.LEAD, "ana", actor="ana")
    return incident


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _behind_its_back(path: Path, *statements: str) -> None:
    """Run ``statements`` on the file with a plain connection, as someone else would."""
    raw = _raw(path)
    for statement in statements:
        raw.execute(statement)
    raw.close()


def _counts(path: Path) -> list[int]:
    """How many rows the events and incidents tables hold."""
    raw = _raw(path)
    counts = [
        raw.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("events", "incidents")
    ]
    raw.close()
    return counts


def test_file_is_created_with_schema_and_user_version(tmp_path: Path) -> None:
    """A new store creates its file with its four tables and user_version 3."""
    path = tmp_path / "new.db"
    SQLiteStore(path).close()
    raw = _raw(path)
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert ({"checkpoints", "events", "incidents", "meta"}, 3) == (
        tables - {"sqlite_sequence"},
        raw.execute("PRAGMA user_version").fetchone()[0],
    )
    raw.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    """A database with a newer user_version raises StoreUnavailable naming the cause."""
    path = tmp_path / "newer.db"
    raw = _raw(path)
    raw.execute("PRAGMA user_version = 4")
    raw.close()
    with pytest.raises(StoreUnavailable, match="newer incidentflow"):
        SQLiteStore(path)


def test_a_file_that_is_not_a_database_is_unavailable(tmp_path: Path) -> None:
    """A text file is refused with StoreUnavailable chained from sqlite3's error."""
    path = tmp_path / "notes.db"
    path.write_text("this is not a database, just some notes\n" * 100)
    with pytest.raises(StoreUnavailable) as caught:
        SQLiteStore(path)
    assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)


def test_a_read_only_store_refuses_appends_and_loses_nothing(tmp_path: Path) -> None:
    """Appending through a read-only store raises StoreUnavailable; the data stays."""
    path = tmp_path / "ro.db"
    incident = _incident()
    with SQLiteStore(path) as store:
        store.append("INC-1", incident.history[:1], expected_version=0)
    with SQLiteStore(path, read_only=True) as store:
        with pytest.raises(StoreUnavailable, match="read-only"):
            store.append("INC-1", incident.history[1:], expected_version=1)
        assert (1, []) == (store.version("INC-1"), store.verify())


@pytest.mark.parametrize(
    "statement", ["UPDATE events SET line = 'x'", "DELETE FROM events WHERE version = 1"]
)
def test_triggers_refuse_update_and_delete(tmp_path: Path, statement: str) -> None:
    """The database itself refuses to change or remove a stored event."""
    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        store.append("INC-1", _incident().history, expected_version=0)
    raw = _raw(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute(statement)
    raw.close()
    with SQLiteStore(path) as store:
        assert (2, []) == (store.version("INC-1"), store.verify())


def test_pragmas_are_in_effect(tmp_path: Path) -> None:
    """The store's connection runs in WAL mode with synchronous=FULL and foreign keys on."""
    with SQLiteStore(tmp_path / "p.db") as store:
        connection = store._connection()
        pragmas = [
            connection.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys")
        ]
    assert ["wal", 2, 1] == pragmas


def test_open_store_uses_the_path_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An explicit path wins over the environment variable."""
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, str(tmp_path / "env.db"))
    with open_store(tmp_path / "given.db") as store:
        assert isinstance(store, SQLiteStore)
        assert str(tmp_path / "given.db") == store.path
    assert (True, False) == ((tmp_path / "given.db").exists(), (tmp_path / "env.db").exists())


def test_open_store_uses_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a path, INCIDENTFLOW_DB names the file."""
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, str(tmp_path / "env.db"))
    with open_store() as store:
        assert isinstance(store, SQLiteStore)
        assert str(tmp_path / "env.db") == store.path
    assert (tmp_path / "env.db").exists()


def test_open_store_defaults_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With neither, the store is ./incidents.db."""
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    with open_store() as store:
        assert isinstance(store, SQLiteStore)
        assert "incidents.db" == store.path == DEFAULT_PATH
    assert (tmp_path / "incidents.db").exists()


def test_reopening_sees_everything(tmp_path: Path) -> None:
    """A second store object on the same file loads what the first wrote."""
    incident = _incident()
    with SQLiteStore(tmp_path / "r.db") as first:
        first.append("INC-1", incident.history, expected_version=0)
    with SQLiteStore(tmp_path / "r.db") as second:
        assert (incident, 2, 1) == (
            second.load("INC-1"),
            second.version("INC-1"),
            len(second.incidents()),
        )


def test_each_thread_gets_its_own_connection(tmp_path: Path) -> None:
    """Two threads use two different connections, and both appends land."""
    store = SQLiteStore(tmp_path / "t.db")
    seen: dict[str, sqlite3.Connection] = {}

    def write(incident_id: str) -> None:
        store.append(incident_id, _incident(incident_id).history, expected_version=0)
        seen[incident_id] = store._connection()

    threads = [threading.Thread(target=write, args=(f"INC-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen["INC-1"] is not seen["INC-2"]
    assert (2, 2) == (store.version("INC-1"), store.version("INC-2"))
    store.close()


def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_alone(
    tmp_path: Path,
) -> None:
    """A store made before a fork: the child appends through a connection of its own (never
    the parent's, which SQLite forbids sharing), closes, and the parent's connection goes on."""
    store = SQLiteStore(tmp_path / "f.db")
    store.append("INC-1", _incident("INC-1").history, expected_version=0)
    parents = store._connection()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports by its exit status
        status = 1
        try:
            ours = store._connection()
            store.append("INC-2", _incident("INC-2").history, expected_version=0)
            store.close()
            status = 0 if ours is not parents else 2
        finally:
            os._exit(status)
    _, status = os.waitpid(child, 0)
    assert 0 == os.waitstatus_to_exitcode(status)
    assert store._connection() is parents
    assert (2, 2) == (store.version("INC-1"), store.version("INC-2"))
    store.close()


def test_a_closed_store_is_unavailable(tmp_path: Path) -> None:
    """After close(), calls raise StoreUnavailable."""
    store = SQLiteStore(tmp_path / "c.db")
    store.close()
    with pytest.raises(StoreUnavailable, match="closed"):
        store.incidents()


def test_a_missing_read_only_file_is_unavailable(tmp_path: Path) -> None:
    """Opening a file that does not exist read-only raises StoreUnavailable."""
    with pytest.raises(StoreUnavailable):
        SQLiteStore(tmp_path / "absent.db", read_only=True)


def test_a_full_disk_is_a_clear_error_and_loses_nothing(tmp_path: Path) -> None:
    """When the database cannot grow, append raises StoreUnavailable and keeps what it had."""
    store = SQLiteStore(tmp_path / "full.db")
    incident = _incident()
    store.append("INC-1", list(incident.history), expected_version=0)
    before = store.events("INC-1")
    # Cap the database at its current size on the store's own connection: the next write that
    # needs a new page fails exactly as a full disk does (SQLITE_FULL).
    connection = store._connection()
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")
    big = [
        incident.note("x" * 4000, actor="ana") for _ in range(20)
    ]  # each note needs pages of its own
    with pytest.raises(StoreUnavailable, match="full"):
        store.append("INC-1", big, expected_version=len(before))
    assert len(before) == store.version("INC-1")
    assert before == store.events("INC-1")
    assert [] == store.verify()
    store.close()


def test_an_append_while_another_writer_holds_the_file_is_busy_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """Another connection's write transaction outlasting the timeout: StoreBusy, then on."""
    path = tmp_path / "busy.db"
    incident = _incident()
    history = list(incident.history)
    store = SQLiteStore(path, timeout=0.05)
    store.append("INC-1", history[:1], expected_version=0)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    try:
        with pytest.raises(StoreBusy, match="locked") as caught:
            store.append("INC-1", history[1:], expected_version=1)
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert 1 == store.version("INC-1")
    assert len(history) == store.append("INC-1", history[1:], expected_version=1)
    assert history == store.events("INC-1")
    store.close()


@contextlib.contextmanager
def _changed_after_its_append(
    path: Path, *statements: str
) -> Iterator[tuple[SQLiteStore, Incident, Event]]:
    """A store object that appended an incident's first two events, then ``statements`` run
    behind its back: the store, the incident and the note to append next (version 3)."""
    incident = _incident()
    note = incident.note("still down", actor="ana")
    with SQLiteStore(path) as store:
        store.append("INC-1", list(incident.history)[:2], expected_version=0)
        _behind_its_back(path, *statements)
        yield store, incident, note


def test_appending_to_an_incident_whose_summary_was_removed_is_refused(tmp_path: Path) -> None:
    """With its summary row deleted behind the store's back, an append writes nothing."""
    path = tmp_path / "s.db"
    incident = _incident()
    with SQLiteStore(path) as store:
        store.append("INC-1", list(incident.history), expected_version=0)
    _behind_its_back(path, "DELETE FROM incidents WHERE incident_id = 'INC-1'")
    note = incident.note("still down", actor="ana")
    with SQLiteStore(path) as store:
        with pytest.raises(Tampered, match="inserted: the incident has no record"):
            store.append("INC-1", [note], expected_version=2)
        version = store.version("INC-1")
    assert (2, [2, 0]) == (version, _counts(path))


def test_the_store_that_appended_last_refuses_too_once_the_summary_is_removed(
    tmp_path: Path,
) -> None:
    """The store object whose own append came last, and so reads nothing before the next,
    refuses it as a fresh one does: the summary row is not written again from its events."""
    path = tmp_path / "s.db"
    removal = "DELETE FROM incidents WHERE incident_id = 'INC-1'"
    with _changed_after_its_append(path, removal) as (store, _, note):
        with pytest.raises(Tampered, match="inserted: the incident has no record") as caught:
            store.append("INC-1", [note], expected_version=2)
        assert (1, 2) == (caught.value.version, store.version("INC-1"))
    assert [2, 0] == _counts(path)


def test_an_append_does_not_write_over_a_rewritten_declaration_in_the_summary(
    tmp_path: Path,
) -> None:
    """A summary's title, onset and declaration time are its declaration's, written once: the
    store object that appended last (and so reads nothing first) appends without writing them
    again, and a title rewritten behind the store's back stays there for a load to report."""
    path = tmp_path / "s.db"
    rewrite = "UPDATE incidents SET title = 'nothing to see' WHERE incident_id = 'INC-1'"
    with _changed_after_its_append(path, rewrite) as (store, incident, note):
        assert 3 == store.append("INC-1", [note], expected_version=2)
    with SQLiteStore(path) as fresh, pytest.raises(Tampered) as caught:
        fresh.load("INC-1")
    assert (3, "changed: the summary row says title 'nothing to see', the events say "
            f"{incident.title!r}") == (caught.value.version, caught.value.reason)  # fmt: skip


def _varied_incident() -> Incident:
    """An incident whose lines hold non-ASCII text, control characters and a share."""
    incident = _incident()
    incident.note("p99 at 4 s — naïve retry storm \u2028 on db-1 😀", actor="ana")
    incident.note('quotes " and \\ and a tab\there', actor="ana")
    incident.change_impact(
        ImpactLevel.PARTIAL_OUTAGE, actor="ana", share=1e-05, components=["db-1"]
    )
    return incident


@pytest.mark.parametrize("key", [None, bytes(range(32))], ids=["unkeyed", "keyed"])
@pytest.mark.parametrize("fast_writer", [True, False], ids=["orjson-writes", "stdlib-writes"])
def test_a_chain_written_by_one_codec_verifies_with_the_other(
    tmp_path: Path, key: bytes | None, fast_writer: bool
) -> None:
    """A store written with orjson reads and verifies with the standard library alone, and back."""
    incident = _varied_incident()
    plain = mock.patch.object(codec, "_orjson", None)
    writer, reader = (
        (contextlib.nullcontext(), plain) if fast_writer else (plain, contextlib.nullcontext())
    )
    with writer, SQLiteStore(tmp_path / "a.db", chain_key=key) as store:
        store.append("INC-1", incident.history, expected_version=0)
    with reader, SQLiteStore(tmp_path / "a.db", chain_key=key) as store:
        assert ([], incident.history) == (store.verify(), store.load("INC-1").history)
    with reader, SQLiteStore(tmp_path / "b.db", chain_key=key) as store:
        store.append("INC-1", incident.history, expected_version=0)
    lines = "SELECT line, hash FROM events ORDER BY position"
    assert _raw(tmp_path / "a.db").execute(lines).fetchall() == (
        _raw(tmp_path / "b.db").execute(lines).fetchall()
    )


@pytest.mark.parametrize(
    ("tampering", "refusal"),
    [
        ("DELETE FROM events WHERE version = 2", Conflict),  # the history ends at 1 now
        ("UPDATE events SET hash = 'f' || substr(hash, 2) WHERE version = 2", Tampered),
    ],
)
def test_an_append_does_not_chain_onto_a_head_changed_behind_its_back(
    tmp_path: Path, tampering: str, refusal: type[Exception]
) -> None:
    """The store object that made the last append checks, as it writes, that the head it kept
    is still there with its hash: a head removed since is a Conflict, one rewritten is
    Tampered, nothing is written either way, and the chain still reports the change."""
    path = tmp_path / "s.db"
    triggers_off = ("DROP TRIGGER events_no_update", "DROP TRIGGER events_no_delete")
    with _changed_after_its_append(path, *triggers_off, tampering) as (store, _, note):
        with pytest.raises(refusal):
            store.append("INC-1", [note], expected_version=2)
        breaks = store.verify()
    raw = _raw(path)
    written = raw.execute("SELECT COUNT(*) FROM events WHERE version > 2").fetchone()
    raw.close()
    assert (0,) == written
    assert ["INC-1"] == [found.incident_id for found in breaks]


def test_append_many_with_one_head_rewritten_writes_none_of_the_batches(tmp_path: Path) -> None:
    """Several incidents in one transaction: one whose head was rewritten makes it Tampered,
    and the other incident's batch, checked first, is not written either."""
    path = tmp_path / "s.db"
    first, second = _incident("INC-1"), _incident("INC-2")
    notes = [first.note("one", actor="ana"), second.note("two", actor="ana")]
    with SQLiteStore(path) as store:
        store.append_many([("INC-1", first.history[:2], 0), ("INC-2", second.history[:2], 0)])
        _behind_its_back(
            path,
            "DROP TRIGGER events_no_update",
            "UPDATE events SET hash = 'f' || substr(hash, 2) WHERE incident_id = 'INC-2'",
        )
        with pytest.raises(Tampered) as caught:
            store.append_many([("INC-1", notes[:1], 2), ("INC-2", notes[1:], 2)])
        versions = (store.version("INC-1"), store.version("INC-2"))
    assert ("INC-2", (2, 2)) == (caught.value.incident_id, versions)
