"""What only the PostgreSQL store does: the database's own guards, roles, URLs and faults."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from incidentflow import (
    Conflict,
    Incident,
    InvalidInput,
    ManualClock,
    Priority,
    StoreError,
    StoreUnavailable,
    Tampered,
)
from incidentflow.store import PostgresStore, open_store
from incidentflow.store.postgres import SCHEMA_VERSION, _describe, _placeholders, is_postgres_url
from postgres import Cluster

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
KEY = bytes.fromhex("7a" * 32)


def _incident(incident_id: str = "INC-1") -> Incident:
    clock = ManualClock(START)
    incident = Incident.declare(
        incident_id, "Database is down", Priority.P1, actor="ana", clock=clock
    )
    clock.advance(minutes=1)
    incident.note("restarted db-1", actor="ana")
    return incident


@pytest.fixture
def store(postgres_url: str) -> Iterator[PostgresStore]:
    """A PostgreSQL store in a new database."""
    with PostgresStore(postgres_url) as made:
        yield made


def _raw(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True)


# -- append-only in the database ---------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET line = line || ' ' WHERE version = 1",
        "DELETE FROM events WHERE version = 2",
        "TRUNCATE events",
    ],
)
def test_triggers_refuse_rewriting_events_even_to_the_owner(
    store: PostgresStore, postgres_url: str, statement: str
) -> None:
    """UPDATE, DELETE and TRUNCATE of events fail for the owner too; the history still loads."""
    incident = _incident()
    store.append("INC-1", incident.history, expected_version=0)
    with _raw(postgres_url) as raw, pytest.raises(psycopg.errors.InsufficientPrivilege) as caught:
        raw.execute(statement)  # type: ignore[arg-type]
    assert "events are append-only" in str(caught.value)
    assert incident == store.load("INC-1")


def test_an_application_role_appends_but_cannot_rewrite(
    store: PostgresStore, postgres_cluster: Cluster, postgres_url: str
) -> None:
    """A role given grant() appends, reads and advances; UPDATE/DELETE are denied it."""
    with _raw(postgres_url) as raw:
        raw.execute("DROP ROLE IF EXISTS responder_app")
        raw.execute("CREATE ROLE responder_app LOGIN")
    store.grant("responder_app")
    database = postgres_url.split("?")[0].rsplit("/", 1)[1]
    app_url = postgres_cluster.url(database, user="responder_app")
    incident = _incident()
    with PostgresStore(app_url) as app:
        app.append("INC-1", incident.history, expected_version=0)
        app.advance("pager", 1)
        assert (incident, 1, 2) == (
            app.load("INC-1"),
            app.checkpoint("pager"),
            app.version("INC-1"),
        )
    with _raw(app_url) as raw:
        for statement in ("UPDATE events SET line = ''", "DELETE FROM events", "TRUNCATE events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                raw.execute(statement)  # type: ignore[arg-type]


def test_grant_refuses_a_blank_role(store: PostgresStore) -> None:
    """grant() of a blank role raises InvalidInput."""
    with pytest.raises(InvalidInput):
        store.grant(" ")


# -- optimistic concurrency ---------------------------------------------------------------------


def test_a_racing_insert_becomes_a_conflict(store: PostgresStore, postgres_url: str) -> None:
    """A writer whose insert meets another's uncommitted row of that version gets Conflict."""
    incident = _incident()
    store.append("INC-1", incident.history[:1], expected_version=0)
    raw = psycopg.connect(postgres_url)  # a transaction holding version 2, not yet committed
    raw.execute(
        "INSERT INTO events (incident_id, version, line, prev_hash, hash) "
        "VALUES ('INC-1', 2, 'x', 'y', 'z')"
    )
    outcome: list[BaseException | int] = []

    def append() -> None:
        try:
            outcome.append(store.append("INC-1", incident.history[1:], expected_version=1))
        except Conflict as exc:
            outcome.append(exc)

    writer = threading.Thread(target=append)
    writer.start()
    with _raw(postgres_url) as watcher:
        while not watcher.execute(
            "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE 'INSERT INTO events%%'"
        ).fetchone():
            time.sleep(0.01)  # the writer now waits on the raw transaction's row
    raw.commit()
    raw.close()
    writer.join()
    (conflict,) = outcome
    assert isinstance(conflict, Conflict)
    assert (1, 2) == (conflict.expected, conflict.actual)


# -- opening ----------------------------------------------------------------------------------


def test_open_store_takes_a_postgresql_url(postgres_url: str) -> None:
    """open_store(postgresql://...) opens a PostgresStore; the URL never shows a password."""
    with open_store(postgres_url) as store:
        assert isinstance(store, PostgresStore)
        assert store.url.startswith("postgresql://postgres@/")
    assert "postgresql://ana@db.example:6432/incidents" == _describe(
        "postgresql://ana:s3cret@db.example:6432/incidents"
    )


def test_open_store_reads_libpq_environment(
    postgres_cluster: Cluster, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bare postgresql:// in $INCIDENTFLOW_DB takes host, port, user and db from PG* variables."""
    database = postgres_url.split("?")[0].rsplit("/", 1)[1]
    monkeypatch.setenv("INCIDENTFLOW_DB", "postgresql://")
    monkeypatch.setenv("PGHOST", str(postgres_cluster.socket_dir))
    monkeypatch.setenv("PGPORT", str(postgres_cluster.port))
    monkeypatch.setenv("PGUSER", "postgres")
    monkeypatch.setenv("PGDATABASE", database)
    with open_store() as store:
        store.append("INC-1", _incident().history, expected_version=0)
    with PostgresStore(postgres_url) as again:
        assert 2 == again.version("INC-1")


def test_urls_are_recognised() -> None:
    """postgresql:// and postgres:// are PostgreSQL URLs; paths are not."""
    assert (True, True, False, False) == (
        is_postgres_url("postgresql://"),
        is_postgres_url("postgres://h/db"),
        is_postgres_url("incidents.db"),
        is_postgres_url("postgresql.db"),
    )


def test_an_unreachable_server_is_unavailable_with_its_cause(postgres_cluster: Cluster) -> None:
    """No server on the port: StoreUnavailable naming the database, chained from psycopg."""
    url = postgres_cluster.url("nothere").replace(f"port={postgres_cluster.port}", "port=1")
    with pytest.raises(StoreUnavailable) as caught:
        PostgresStore(url, timeout=2)
    assert isinstance(caught.value.__cause__, psycopg.OperationalError)
    assert str(caught.value).startswith("postgresql://postgres@/")


def test_a_read_only_store_reads_and_refuses_writes(
    store: PostgresStore, postgres_url: str
) -> None:
    """read_only: loads, lists and the feed work; append, advance and transaction refuse."""
    incident = _incident()
    store.append("INC-1", incident.history, expected_version=0)
    with PostgresStore(postgres_url, read_only=True) as reader:
        assert (incident, 1, 2) == (
            reader.load("INC-1"),
            len(reader.incidents()),
            len(reader.read_since(0)),
        )
        with pytest.raises(StoreUnavailable, match="read-only"):
            reader.append("INC-1", [incident.note("x", actor="ana")], expected_version=2)
        with pytest.raises(StoreUnavailable, match="read-only"):
            reader.advance("pager", 1)
        with pytest.raises(StoreUnavailable, match="read-only"):
            reader.grant("someone")


def test_a_reader_never_creates_a_schema(postgres_url: str) -> None:
    """read_only on an empty database: StoreUnavailable, and no table is created."""
    with pytest.raises(StoreUnavailable, match="not an incidentflow store"):
        PostgresStore(postgres_url, read_only=True)
    with _raw(postgres_url) as raw:
        assert (
            []
            == raw.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
        )


def test_a_newer_schema_is_refused(store: PostgresStore, postgres_url: str) -> None:
    """A database migrated by a newer release is refused by writers and readers alike."""
    with _raw(postgres_url) as raw:
        raw.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    for read_only in (False, True):
        with pytest.raises(StoreUnavailable, match="newer incidentflow"):
            PostgresStore(postgres_url, read_only=read_only)


def test_keying_is_checked_as_on_sqlite(postgres_url: str) -> None:
    """A keyed store refuses no key and another key; an unkeyed one with events refuses a key."""
    other = bytes.fromhex("11" * 32)
    with PostgresStore(postgres_url, chain_key=KEY) as keyed:
        keyed.append("INC-1", _incident().history, expected_version=0)
    for key, message in ((None, "is keyed"), (other, "not this store's")):
        with pytest.raises(StoreUnavailable, match=message):
            PostgresStore(postgres_url, chain_key=key)
    with _raw(postgres_url) as raw:
        raw.execute("DELETE FROM meta")
    with pytest.raises(Tampered, match="keyed was removed"):
        PostgresStore(postgres_url, chain_key=KEY)


def test_an_unkeyed_store_with_events_refuses_a_key(
    store: PostgresStore, postgres_url: str
) -> None:
    """Giving a key to an unkeyed store that holds events raises StoreUnavailable."""
    store.append("INC-1", _incident().history, expected_version=0)
    with pytest.raises(StoreUnavailable, match="has no key"):
        PostgresStore(postgres_url, chain_key=KEY)


@pytest.mark.parametrize(
    "options",
    [{"timeout": 0}, {"timeout": True}, {"read_only": 1}, {"pool_size": 0}, {"pool_size": "2"}],
)
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    """A non-positive timeout, a non-bool read_only or a bad pool size raise InvalidInput."""
    with pytest.raises(InvalidInput):
        PostgresStore("postgresql://", **options)


def test_a_connection_string_must_be_text() -> None:
    """A conninfo that is not a str raises InvalidInput."""
    with pytest.raises(InvalidInput):
        PostgresStore(b"postgresql://")  # type: ignore[arg-type]


# -- the consumer's SQL --------------------------------------------------------------------------


def test_qmark_placeholders_become_psycopg_ones() -> None:
    """? outside quotes becomes %s, every % is doubled, quoted ? stay."""
    assert "SELECT %s, '?', \"a?\", 5 %% 2 WHERE x LIKE 'a%%' AND y = %s" == _placeholders(
        "SELECT ?, '?', \"a?\", 5 % 2 WHERE x LIKE 'a%' AND y = ?"
    )


def test_execute_runs_qmark_sql_on_postgresql(store: PostgresStore) -> None:
    """A consumer's qmark SQL with % and quoted ? runs; a constraint failure is a StoreError."""
    with store.transaction() as transaction:
        transaction.execute("CREATE TABLE outbox (id integer PRIMARY KEY, body text NOT NULL)")
        transaction.execute("INSERT INTO outbox VALUES (?, ?)", (1, "50% done?"))
        rows = transaction.execute("SELECT body, '?' FROM outbox WHERE body LIKE ?", ("50%",))
    assert [("50% done?", "?")] == rows
    with pytest.raises(StoreError, match="duplicate key"), store.transaction() as transaction:
        transaction.execute("INSERT INTO outbox VALUES (?, ?)", (1, "again"))


def test_a_sql_error_in_a_transaction_is_unavailable_and_rolls_back(store: PostgresStore) -> None:
    """Bad SQL raises StoreUnavailable naming the cause; the checkpoint is not moved."""

    def bad() -> None:
        with store.transaction() as transaction:
            transaction.advance("pager", 3)
            transaction.execute("SELECT * FROM no_such_table")

    with pytest.raises(StoreUnavailable, match="no_such_table"):
        bad()
    assert 0 == store.checkpoint("pager")


# -- the feed's order ----------------------------------------------------------------------------


def test_a_late_commit_holds_back_later_positions(store: PostgresStore, postgres_url: str) -> None:
    """While one append has taken positions but not committed, no later append can show up.

    The second writer waits for the feed lock; the reader sees neither until the first
    commits, then both, in commit order: never the later one alone (the gap bug).
    """
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        taken.set()
        release.wait(60)

    store._before_commit = hold
    first = threading.Thread(
        target=store.append,
        args=("INC-1", _incident("INC-1").history),
        kwargs={"expected_version": 0},
    )
    first.start()
    taken.wait(60)
    with PostgresStore(postgres_url) as other:
        second = threading.Thread(
            target=other.append,
            args=("INC-2", _incident("INC-2").history),
            kwargs={"expected_version": 0},
        )
        second.start()
        with _raw(postgres_url) as watcher:
            while not watcher.execute(
                "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'advisory'"
            ).fetchone():
                time.sleep(0.01)  # the second writer now waits for the first to commit
        seen_while_held = store.read_since(0)
        release.set()
        first.join()
        second.join()
    feed = [(entry.incident_id, entry.version) for entry in store.read_since(0)]
    assert ([], [("INC-1", 1), ("INC-1", 2), ("INC-2", 1), ("INC-2", 2)]) == (seen_while_held, feed)


def test_wait_wakes_on_a_notification_from_another_process_like_store(
    store: PostgresStore, postgres_url: str
) -> None:
    """A waiter on one store object wakes when another object (another connection) appends."""
    woke: list[bool] = []
    waiter = threading.Thread(target=lambda: woke.append(store.wait(0, timeout=60)))
    waiter.start()
    with PostgresStore(postgres_url) as other:
        other.append("INC-1", _incident().history, expected_version=0)
    waiter.join()
    assert [True] == woke
