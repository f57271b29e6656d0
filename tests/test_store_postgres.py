"""What only the PostgreSQL store does: the database's own guards, roles, URLs and faults."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from incidentflow import (
    DEFAULT_POLICY,
    Conflict,
    Incident,
    InvalidInput,
    ManualClock,
    NotAuthorized,
    Priority,
    StoreError,
    StoreUnavailable,
    Tampered,
)
from incidentflow.store import PostgresStore, open_store
from incidentflow.store._base import _prepare
from incidentflow.store.postgres import SCHEMA_VERSION, _describe, _placeholders, is_postgres_url
from postgres import Cluster
from waiting import wait_for

pytestmark = pytest.mark.slow  # started first (conftest.py)

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


def _behind_its_back(url: str, statement: str) -> None:
    """Run ``statement`` with the events' append-only trigger off for it, as the owner can."""
    with _raw(url) as raw:
        raw.execute("ALTER TABLE events DISABLE TRIGGER events_no_change")
        raw.execute(statement)
        raw.execute("ALTER TABLE events ENABLE TRIGGER events_no_change")


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
        raw.execute(statement)
    assert "events are append-only" in str(caught.value)
    assert incident == store.load("INC-1")


@pytest.mark.parametrize(
    ("tampering", "refusal"),
    [
        ("DELETE FROM events WHERE version = 2", Conflict),  # the history ends at 1 now
        ("UPDATE events SET hash = 'f' || substr(hash, 2) WHERE version = 2", Tampered),
    ],
)
def test_an_append_does_not_chain_onto_a_head_changed_behind_its_back(
    store: PostgresStore, postgres_url: str, tampering: str, refusal: type[Exception]
) -> None:
    """A head removed or rewritten with the triggers off, after this store object's own last
    append: the next append is a Conflict or Tampered (the server checks the head's hash),
    nothing is written, and the chain still reports the change."""
    incident = _incident()
    history = list(incident.history)
    store.append("INC-1", history, expected_version=0)
    _behind_its_back(postgres_url, tampering)
    with pytest.raises(refusal):
        store.append("INC-1", [incident.note("late", actor="ana")], expected_version=2)
    with _raw(postgres_url) as raw:
        written = raw.execute("SELECT count(*) FROM events WHERE version > 2").fetchone()
    assert (0,) == written
    assert ["INC-1"] == [found.incident_id for found in store.verify()]


def test_an_append_does_not_write_over_a_rewritten_declaration_in_the_summary(
    store: PostgresStore, postgres_url: str
) -> None:
    """As on SQLite: a summary's title, onset and declaration time are its declaration's,
    written once; a title rewritten behind the store's back stays for a load to report."""
    incident = _incident()
    store.append("INC-1", list(incident.history), expected_version=0)
    _behind_its_back(postgres_url, "UPDATE incidents SET title = 'nothing to see'")
    assert 3 == store.append("INC-1", [incident.note("late", actor="ana")], expected_version=2)
    with PostgresStore(postgres_url) as fresh, pytest.raises(Tampered) as caught:
        fresh.load("INC-1")
    assert (3, "changed: the summary row says title 'nothing to see', the events say "
            f"{incident.title!r}") == (caught.value.version, caught.value.reason)  # fmt: skip


def test_the_hot_reads_are_prepared_on_the_server_once(postgres_url: str) -> None:
    """An incident's rows, its head and the feed are read by statements the server prepared
    (planned once per connection), and nothing else is: the statements that run once or
    rarely are not left behind on the server."""
    with PostgresStore(postgres_url, pool_size=1) as store:
        store.append("INC-1", list(_incident().history), expected_version=0)
        for _ in range(3):
            store.load("INC-1")
            store.read_since(0, limit=10)
        store.append("INC-1", [_incident().note("more", actor="ana")], expected_version=2)
        prepared = store._read(
            lambda connection: connection.execute(
                "SELECT statement FROM pg_prepared_statements"
            ).fetchall()
        )
    texts = sorted(text for (text,) in prepared)
    assert 2 <= len(texts) <= 3  # the rows, the feed (and the head, when a check read it)
    assert any("ORDER BY position" in text and "json_build_array" in text for text in texts)
    assert any("WHERE position > " in text for text in texts)
    assert not any("INSERT" in text or "pg_prepared_statements" in text for text in texts)


@pytest.mark.parametrize(
    ("tampering", "versions", "reason"),
    [
        # The declaration's row stored after the note's: the summary rides on it all the same.
        (
            "UPDATE events SET position = DEFAULT WHERE version = 1",
            [2, 1],
            "reordered: event 1 is stored out of order",
        ),
        # No declaration's row: the summary is read on its own.
        ("DELETE FROM events WHERE version = 1", [2], "missing: event 1 was removed"),
    ],
)
def test_the_summary_is_read_whatever_happened_to_the_declarations_row(
    store: PostgresStore, postgres_url: str, tampering: str, versions: list[int], reason: str
) -> None:
    """The rows' read carries the summary on the row of version 1: moved or removed behind
    the store's back, the summary is still read, and the load names the break."""
    incident = _incident()
    store.append("INC-1", list(incident.history), expected_version=0)
    _behind_its_back(postgres_url, tampering)
    rows, summary, _ = store._rows("INC-1")
    assert summary is not None
    assert (versions, "INC-1", 2) == ([row[0] for row in rows], summary.incident_id,
                                      summary.version)  # fmt: skip
    with pytest.raises(Tampered) as caught:
        store.load("INC-1")
    assert (1, reason) == (caught.value.version, caught.value.reason)


def test_the_store_that_appended_last_refuses_too_once_the_summary_is_removed(
    store: PostgresStore, postgres_url: str
) -> None:
    """As on SQLite: with an incident's summary row deleted behind the store's back, the store
    object whose own append came last (and so reads nothing first) refuses the next append,
    as a fresh one does; nothing is written, in a batch of several incidents either."""
    first, second = _incident("INC-1"), _incident("INC-2")
    store.append_many([("INC-1", list(first.history), 0), ("INC-2", list(second.history), 0)])
    _behind_its_back(postgres_url, "DELETE FROM incidents WHERE incident_id = 'INC-2'")
    notes = [first.note("one", actor="ana"), second.note("two", actor="ana")]
    with pytest.raises(Tampered) as caught:
        store.append_many([("INC-1", notes[:1], 2), ("INC-2", notes[1:], 2)])
    with _raw(postgres_url) as raw:
        counts = raw.execute(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM incidents)"
        ).fetchone()
    assert ("INC-2", 1, "inserted: the incident has no record in the store (nothing was "
            "written)", (4, 1)) == (caught.value.incident_id, caught.value.version,
                                    caught.value.reason, counts)  # fmt: skip


def test_append_many_with_one_head_rewritten_writes_none_of_the_batches(
    store: PostgresStore, postgres_url: str
) -> None:
    """Several incidents in one statement: one whose head was rewritten makes it Tampered,
    and the other incident's batch is not written either."""
    first, second = _incident("INC-1"), _incident("INC-2")
    store.append_many([("INC-1", list(first.history), 0), ("INC-2", list(second.history), 0)])
    notes = [first.note("one", actor="ana"), second.note("two", actor="ana")]
    _behind_its_back(
        postgres_url, "UPDATE events SET hash = 'f' || substr(hash, 2) WHERE incident_id = 'INC-2'"
    )
    with pytest.raises(Tampered) as caught:
        store.append_many([("INC-1", notes[:1], 2), ("INC-2", notes[1:], 2)])
    versions = (store.version("INC-1"), store.version("INC-2"))
    assert ("INC-2", (2, 2)) == (caught.value.incident_id, versions)


def test_an_application_role_appends_but_cannot_rewrite(
    store: PostgresStore, postgres_cluster: Cluster, postgres_url: str
) -> None:
    """A role given grant() appends, reads and advances; UPDATE/DELETE are denied it."""
    app_url = _login(postgres_url, postgres_cluster, "responder_app")
    store.grant(_name(postgres_url, "responder_app"))
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
                raw.execute(statement)


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
        waiting = (
            "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE '%%SELECT incidentflow_append(%%' AND pid <> pg_backend_pid()"
        )
        wait_for(
            lambda: watcher.execute(waiting).fetchone(),
            "the writer to wait on the raw transaction's row",
            every=0.01,
        )
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
    """While one append has taken positions but not committed, a later one commits unseen.

    The second writer does not wait for the first: it commits, but the feed holds it back
    behind the first's transaction; the reader sees neither until the first commits, then
    both, in position order: never the later one alone (the gap bug).
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
        other.append("INC-2", _incident("INC-2").history, expected_version=0)
        with _raw(postgres_url) as watcher:
            committed = watcher.execute("SELECT incident_id, version FROM events").fetchall()
        seen_while_held = (store.read_since(0), other.wait(0, timeout=0))
        release.set()
        first.join()
    feed = [(entry.incident_id, entry.version) for entry in store.read_since(0)]
    assert ([("INC-2", 1), ("INC-2", 2)], ([], False)) == (sorted(committed), seen_while_held)
    assert [("INC-1", 1), ("INC-1", 2), ("INC-2", 1), ("INC-2", 2)] == feed


def test_any_running_transaction_holds_the_feed_back(
    store: PostgresStore, postgres_url: str
) -> None:
    """An open transaction that has written anything holds back events committed after it."""
    store.append("INC-1", _incident("INC-1").history, expected_version=0)
    with _raw(postgres_url) as idle:
        idle.execute("BEGIN")
        idle.execute("SELECT pg_current_xact_id()")  # takes a transaction id, writes nothing
        store.append("INC-2", _incident("INC-2").history, expected_version=0)
        while_open = [(e.incident_id, e.version) for e in store.read_since(0)]
        idle.execute("ROLLBACK")
    after = [(e.incident_id, e.version) for e in store.read_since(2)]
    assert ([("INC-1", 1), ("INC-1", 2)], [("INC-2", 1), ("INC-2", 2)]) == (while_open, after)


def test_an_append_must_be_the_first_write_of_its_transaction(
    store: PostgresStore, postgres_url: str
) -> None:
    """The database refuses events from a transaction that already has an id (and keeps none)."""
    with _raw(postgres_url) as raw:
        raw.execute("BEGIN")
        raw.execute("SELECT pg_current_xact_id()")
        with pytest.raises(psycopg.errors.InvalidTransactionState, match="first write"):
            raw.execute(
                "SELECT incidentflow_append(%s::jsonb, %s::jsonb)",
                (
                    '[["INC-9", 1, "{}", "p", "h"]]',
                    '[["INC-9", "t", "P1", "declared", "b", "d", "u", 1, null, 0, "p"]]',
                ),
            )
        raw.execute("ROLLBACK")
        count = raw.execute("SELECT count(*) FROM events").fetchone()
    assert (0, []) == (count[0] if count else None, store.read_since(0))


def test_a_refused_insert_releases_the_position_lock(
    store: PostgresStore, postgres_url: str
) -> None:
    """A conflicting append leaves no lock behind: the next appends on any connection go on."""
    store.append("INC-1", _incident("INC-1").history[:1], expected_version=0)
    stale = _prepare("INC-1", _incident("INC-1").history[1:], 1)
    checked = store._check_rules(stale, DEFAULT_POLICY)  # the rules pass at version 1 ...
    with PostgresStore(postgres_url) as other:
        other.append("INC-1", _incident("INC-1").history[1:], expected_version=1)  # ... not now
        with pytest.raises(Conflict):
            store._append_all([(stale, checked.plan)])
        store.append("INC-2", _incident("INC-2").history, expected_version=0)
        other.append("INC-3", _incident("INC-3").history, expected_version=0)
        with _raw(postgres_url) as watcher:
            held = watcher.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
            ).fetchone()
    assert (0, 6) == (held[0] if held else None, len(store.read_since(0)))


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


def test_text_that_means_something_in_sql_is_stored_as_written(store: PostgresStore) -> None:
    """The client binds an append's JSON into its query: quotes, backslashes, placeholders,
    dollar quotes and non-ASCII text are stored, hashed and read back exactly."""
    incident = _incident()
    for text in (
        "it's \\'; DROP TABLE events; --",
        'quotes " and \\ and a tab\there',
        "%s %(name)s %% $$ $1 {}",
        "p99 at 4 s — naïve retry \u2028 storm 😀",
    ):
        incident.note(text, actor="ana")
    store.append("INC-1", incident.history, expected_version=0)
    assert (incident, []) == (store.load("INC-1"), store.verify())


def test_an_append_notifies_the_feeds_channel_after_its_commit(
    store: PostgresStore, postgres_url: str
) -> None:
    """Each append wakes the channel's listeners once it has committed: a listener woken by
    it already reads the new events."""
    with _raw(postgres_url) as listener:
        listener.execute("LISTEN incidentflow_feed")
        store.append("INC-1", _incident().history, expected_version=0)
        woken = [note.channel for note in listener.notifies(timeout=30, stop_after=1)]
        with PostgresStore(postgres_url, read_only=True) as reader:
            seen = [(entry.incident_id, entry.version) for entry in reader.read_since(0)]
    assert (["incidentflow_feed"], [("INC-1", 1), ("INC-1", 2)]) == (woken, seen)


# -- identity from the database ---------------------------------------------------------------


def _name(url: str, role: str) -> str:
    """``role`` made unique to the test's database (roles belong to the whole cluster)."""
    return f"{role}_{url.split('?')[0].rsplit('/', 1)[1]}"


def _login(url: str, cluster: Cluster, role: str) -> str:
    """The URL of the same database as a new login, ``role`` plus the database's name."""
    name = _name(url, role)
    with _raw(url) as raw:
        raw.execute(f'CREATE ROLE "{name}" LOGIN')
    database = url.split("?")[0].rsplit("/", 1)[1]
    return cluster.url(database, user=name)


def _identity_store(url: str, cluster: Cluster) -> tuple[str, str]:
    """Identity from the database: ana's login is ana; the chat bot's acts for anyone."""
    with PostgresStore(url) as owner:
        ana = _login(url, cluster, "ana")
        bot = _login(url, cluster, "chatbot")
        for role in ("ana", "chatbot"):
            owner.grant(_name(url, role))
        owner.map_login(_name(url, "ana"), "ana")
        owner.map_login(_name(url, "chatbot"), "chat-bot", acts_for_others=True)
        owner.require_identity()
    return ana, bot


def test_database_identity_refuses_a_spoofed_actor(
    postgres_url: str, postgres_cluster: Cluster
) -> None:
    """Under database identity, ana's login cannot write as bo: NotAuthorized, nothing written."""
    ana_url, _ = _identity_store(postgres_url, postgres_cluster)
    honest = _incident()
    clock = ManualClock(START)
    spoofed = Incident.declare("INC-2", "Spoofed", Priority.P2, actor="bo", clock=clock)
    with PostgresStore(ana_url) as ana:
        assert (True, "ana") == (ana.identity_required, ana.person())
        ana.append("INC-1", honest.history, expected_version=0)
        with pytest.raises(NotAuthorized) as caught:
            ana.append("INC-2", spoofed.history, expected_version=0)
        assert (0, ("database_identity",), "new") == (
            ana.version("INC-2"),
            caught.value.rules,
            caught.value.state,
        )
        assert f"{_name(postgres_url, 'ana')} acts as ana, not as bo" in str(caught.value)
    with _raw(postgres_url) as raw:
        logins = raw.execute("SELECT DISTINCT login FROM events").fetchall()
    assert [(_name(postgres_url, "ana"),)] == logins


def test_a_login_mapped_to_nobody_appends_nothing(
    postgres_url: str, postgres_cluster: Cluster
) -> None:
    """A login without a person is refused under database identity; without it, it may write."""
    _identity_store(postgres_url, postgres_cluster)
    stranger = _login(postgres_url, postgres_cluster, "stranger")
    with PostgresStore(postgres_url) as owner:
        owner.grant(_name(postgres_url, "stranger"))
    with PostgresStore(stranger) as store, pytest.raises(NotAuthorized, match="not mapped"):
        store.append("INC-1", _incident().history, expected_version=0)
    with PostgresStore(postgres_url) as owner:
        owner.require_identity(False)
        assert False is owner.identity_required
    with PostgresStore(stranger) as store:
        assert (2, None) == (store.append("INC-1", _incident().history, expected_version=0),
                             store.person())  # fmt: skip


def test_a_bot_login_acts_for_others_and_is_recorded(
    postgres_url: str, postgres_cluster: Cluster
) -> None:
    """The chat bot's login may write as the people it authenticated; each row names the bot."""
    _, bot_url = _identity_store(postgres_url, postgres_cluster)
    with PostgresStore(bot_url) as bot:
        bot.append("INC-1", _incident().history, expected_version=0)
    with _raw(postgres_url) as raw:
        rows = raw.execute("SELECT login, line::json ->> 'actor' FROM events").fetchall()
    assert [(_name(postgres_url, "chatbot"), "ana")] * 2 == rows


def test_identity_settings_refuse_bad_values(store: PostgresStore) -> None:
    """A blank login, a non-identity person or non-bool flags raise InvalidInput."""
    call: Callable[[], object]
    for call in (
        lambda: store.map_login(" ", "ana"),
        lambda: store.map_login("ana_login", " ana"),
        lambda: store.map_login("ana_login", "ana", acts_for_others=1),  # type: ignore[arg-type]
        lambda: store.require_identity("yes"),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidInput):
            call()


def test_the_cli_takes_the_actor_from_the_database_login(
    postgres_url: str, postgres_cluster: Cluster, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With database identity, no --actor needed (the login's person); a spoofed one exits 1."""
    from incidentflow.cli import main

    ana_url, _ = _identity_store(postgres_url, postgres_cluster)
    monkeypatch.delenv("INCIDENTFLOW_ACTOR", raising=False)
    monkeypatch.setenv("USER", "root")
    declared = main(["declare", "INC-1", "--title", "Down", "--priority", "P1", "--db", ana_url])
    spoofed = main(["note", "INC-1", "it was bo", "--actor", "bo", "--db", ana_url])
    err = capsys.readouterr().err
    with PostgresStore(ana_url) as store:
        actors = [event.actor for event in store.events("INC-1")]
    assert (0, 1, ["ana"]) == (declared, spoofed, actors)
    login = _name(postgres_url, "ana")
    assert f"database_identity: the database login {login} acts as ana, not as bo" in err


# -- connection faults -----------------------------------------------------------------------------


def _terminate_others(url: str) -> int:
    """Kill every other connection to the store's database, waiting (up to 10 s) until each
    has ended; how many there were."""
    with _raw(url) as raw:
        rows = raw.execute(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def test_reads_and_appends_survive_dropped_connections(
    store: PostgresStore, postgres_url: str
) -> None:
    """After the server drops the pool's connections, reads retry and appends go on."""
    incident = _incident()
    store.append("INC-1", incident.history[:1], expected_version=0)
    assert 1 <= _terminate_others(postgres_url)
    assert list(incident.history[:1]) == store.events("INC-1")
    _terminate_others(postgres_url)
    assert 2 == store.append("INC-1", incident.history[1:], expected_version=1)
    assert incident == store.load("INC-1")


def _cut_after_commit(monkeypatch: pytest.MonkeyPatch, *, committed: bool) -> list[bool]:
    """The next append's connection fails right after its commit (or instead of it).

    The list returned gets an item when the connection has been cut.
    """
    original = psycopg.Cursor.execute
    cut: list[bool] = []

    def execute(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        if "SELECT incidentflow_append(" not in str(query):
            return original(self, query, *args, **kwargs)
        monkeypatch.setattr(psycopg.Cursor, "execute", original)
        cut.append(committed)
        if not committed:
            self.connection.close()  # the statement never reaches the server
        original(self, query, *args, **kwargs)  # committed (or refused: the connection is closed)
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    return cut


def test_a_commit_whose_answer_is_lost_is_resolved_by_reading_again(
    store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit happened but its answer was lost: append returns the version, written once."""
    incident = _incident()
    store.append("INC-1", incident.history[:1], expected_version=0)
    cut = _cut_after_commit(monkeypatch, committed=True)
    assert 2 == store.append("INC-1", incident.history[1:], expected_version=1)
    assert ([True], incident, 2) == (cut, store.load("INC-1"), len(store.read_since(0)))


def test_a_commit_that_never_happened_says_nothing_was_written(
    store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection died before the commit: StoreUnavailable saying nothing was written."""
    incident = _incident()
    store.append("INC-1", incident.history[:1], expected_version=0)
    cut = _cut_after_commit(monkeypatch, committed=False)
    with pytest.raises(StoreUnavailable, match="nothing was written") as caught:
        store.append("INC-1", incident.history[1:], expected_version=1)
    assert [False] == cut
    assert isinstance(caught.value.__cause__, psycopg.OperationalError)
    assert 1 == store.version("INC-1")
