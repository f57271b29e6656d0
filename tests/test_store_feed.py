"""The global feed, its waits, checkpoints and transactions, on every store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from incidentflow import (
    CheckpointConflict,
    Conflict,
    Incident,
    InvalidInput,
    ManualClock,
    Priority,
    StoreError,
    StoreUnavailable,
)
from incidentflow.store import FeedEntry, SQLiteStore, Store
from stores import STORE_KINDS, declared, insert_undecodable, make_store

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each store implementation, empty, closed afterwards."""
    made = make_store(request.param, tmp_path, request)
    yield made
    made.close()


def _declared(incident_id: str, clock: ManualClock) -> Incident:
    return Incident.declare(incident_id, "Database is down", Priority.P2, actor="ana", clock=clock)


def _fill(store: Store) -> list[tuple[str, int]]:
    """Two incidents appended in an interleaved order; their (id, version) in that order."""
    clock = ManualClock(START)
    one, two = _declared("INC-1", clock), _declared("INC-2", clock)
    store.append("INC-1", one.history, expected_version=0)
    store.append("INC-2", two.history, expected_version=0)
    store.append("INC-1", [one.note("a", actor="ana"), one.note("b", actor="ana")],
                 expected_version=1)  # fmt: skip
    store.append("INC-2", [two.note("c", actor="ana")], expected_version=1)
    return [("INC-1", 1), ("INC-2", 1), ("INC-1", 2), ("INC-1", 3), ("INC-2", 2)]


def test_the_feed_lists_every_incident_in_commit_order(store: Store) -> None:
    """read_since(0) returns each appended event once, in the order appended."""
    order = _fill(store)
    feed = store.read_since(0)
    assert order == [(entry.incident_id, entry.version) for entry in feed]
    assert [store.events(i)[v - 1] for i, v in order] == [entry.event for entry in feed]


def test_positions_grow_and_reading_on_resumes_exactly(store: Store) -> None:
    """Paging by the last position read gives the whole feed, with no repeat and no gap."""
    _fill(store)
    whole = store.read_since()
    pages: list[FeedEntry] = []
    position = 0
    while page := store.read_since(position, limit=2):
        assert len(page) <= 2
        pages.extend(page)
        position = page[-1].position
    positions = [entry.position for entry in whole]
    assert (whole, sorted(set(positions))) == (pages, positions)
    assert [] == store.read_since(positions[-1])


def test_read_since_matches_read_all(store: Store) -> None:
    """The feed and read_all agree on every position, incident, version and event."""
    _fill(store)
    expected = [(e.position, e.incident_id, e.version, e.event) for e in store.read_all()]
    actual = [(e.position, e.incident_id, e.version, e.event) for e in store.read_since(0)]
    assert expected == actual


@pytest.mark.parametrize(
    ("position", "limit"),
    [(-1, 10), (True, 10), ("0", 10), (None, 10), (0, 0), (0, -1), (0, 100_001), (0, 1.5)],
)
def test_bad_feed_arguments_are_refused(store: Store, position: object, limit: object) -> None:
    """A negative or non-int position, and a limit outside 1..100000, raise InvalidInput."""
    with pytest.raises(InvalidInput):
        store.read_since(position, limit=limit)  # type: ignore[arg-type]


def test_the_limit_boundaries_are_accepted(store: Store) -> None:
    """Limits of 1 and 100000 are accepted."""
    _fill(store)
    assert (1, 5) == (len(store.read_since(0, limit=1)), len(store.read_since(0, limit=100_000)))


def test_wait_is_true_at_once_when_an_event_is_there(store: Store) -> None:
    """wait returns True without waiting when the feed already holds a later event."""
    _fill(store)
    last = store.read_since(0)[-1].position
    assert (True, False) == (store.wait(0, timeout=0), store.wait(last, timeout=0))


def test_wait_wakes_when_another_thread_appends(store: Store) -> None:
    """A waiter blocked on the head wakes with True once another thread appends."""
    clock = ManualClock(START)
    started = threading.Event()
    woke: list[bool] = []

    def waiter() -> None:
        started.set()
        woke.append(store.wait(0, timeout=60))

    thread = threading.Thread(target=waiter)
    thread.start()
    started.wait()
    store.append("INC-1", _declared("INC-1", clock).history, expected_version=0)
    thread.join()
    assert [True] == woke


@pytest.mark.parametrize("timeout", [-1, "1", None, True, float("nan")])
def test_bad_timeouts_are_refused(store: Store, timeout: object) -> None:
    """A negative, non-number or NaN timeout raises InvalidInput."""
    with pytest.raises(InvalidInput):
        store.wait(0, timeout=timeout)  # type: ignore[arg-type]


def test_checkpoints_start_at_zero_and_advance(store: Store) -> None:
    """A new checkpoint is 0; advance moves it, staying put is allowed, others are separate."""
    assert 0 == store.checkpoint("pager")
    store.advance("pager", 3)
    store.advance("pager", 3)
    store.advance("chat", 1)
    assert (3, 1) == (store.checkpoint("pager"), store.checkpoint("chat"))


def test_a_checkpoint_never_moves_back(store: Store) -> None:
    """Advancing to an earlier position raises CheckpointConflict (a Conflict), changing nothing."""
    store.advance("pager", 5)
    with pytest.raises(CheckpointConflict) as caught:
        store.advance("pager", 4)
    assert isinstance(caught.value, Conflict)
    assert ("pager", 4, 5, 5) == (
        caught.value.name,
        caught.value.position,
        caught.value.current,
        store.checkpoint("pager"),
    )
    assert "checkpoint 'pager' is at position 5; it cannot move back to 4" == str(caught.value)


@pytest.mark.parametrize("name", ["", "  ", None, 3])
def test_bad_checkpoint_names_are_refused(store: Store, name: object) -> None:
    """A blank or non-string checkpoint name raises InvalidInput."""
    with pytest.raises(InvalidInput):
        store.checkpoint(name)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        store.advance(name, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("position", [-1, True, "2"])
def test_bad_checkpoint_positions_are_refused(store: Store, position: object) -> None:
    """A negative or non-int position raises InvalidInput and moves nothing."""
    with pytest.raises(InvalidInput):
        store.advance("pager", position)  # type: ignore[arg-type]
    assert 0 == store.checkpoint("pager")


def test_a_transaction_that_raises_keeps_no_checkpoint(store: Store) -> None:
    """Advancing inside a transaction that raises leaves the checkpoint where it was."""
    store.advance("pager", 2)
    seen: list[int] = []

    def fail() -> None:
        with store.transaction() as transaction:
            transaction.advance("pager", 9)
            seen.append(transaction.checkpoint("pager"))
            raise RuntimeError("the consumer failed")

    with pytest.raises(RuntimeError):
        fail()
    assert ([9], 2) == (seen, store.checkpoint("pager"))


def test_a_transaction_commits_its_checkpoint(store: Store) -> None:
    """Advancing inside a transaction that ends normally keeps the new position."""
    with store.transaction() as transaction:
        assert store_dialect(store) == transaction.dialect
        transaction.advance("pager", 4)
    assert 4 == store.checkpoint("pager")


def store_dialect(store: Store) -> str:
    return {"InMemoryStore": "memory", "SQLiteStore": "sqlite"}.get(
        type(store).__name__, "postgresql"
    )


def test_sql_rows_and_checkpoint_commit_together(store: Store) -> None:
    """A consumer's own row and its checkpoint are both kept, or (after a raise) neither."""
    if store_dialect(store) == "memory":
        with store.transaction() as transaction, pytest.raises(StoreUnavailable, match="no SQL"):
            transaction.execute("SELECT 1")
        return
    with store.transaction() as transaction:
        transaction.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    with store.transaction() as transaction:
        transaction.execute("INSERT INTO outbox (id, body) VALUES (?, ?)", [1, "paged"])
        transaction.advance("pager", 1)

    def crash() -> None:
        with store.transaction() as transaction:
            transaction.execute("INSERT INTO outbox (id, body) VALUES (?, ?)", (2, "lost"))
            transaction.advance("pager", 2)
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        crash()
    with store.transaction() as transaction:
        rows = transaction.execute("SELECT id, body FROM outbox ORDER BY id")
        with pytest.raises(StoreError):
            transaction.execute("INSERT INTO outbox (id, body) VALUES (?, ?)", (1, "twice"))
    assert ([(1, "paged")], 1) == (rows, store.checkpoint("pager"))


@pytest.mark.parametrize(("sql", "params"), [("", ()), ("  ", ()), (3, ()), ("SELECT ?", "a")])
def test_bad_sql_arguments_are_refused(store: Store, sql: object, params: object) -> None:
    """Blank SQL, or params given as a string, raise InvalidInput."""
    if store_dialect(store) == "memory":
        return
    with store.transaction() as transaction, pytest.raises(InvalidInput):
        transaction.execute(sql, params)  # type: ignore[arg-type]


def test_a_closed_store_refuses_the_feed(store: Store) -> None:
    """After close, read_since, wait, checkpoint and transaction raise StoreUnavailable."""
    store.close()
    with pytest.raises(StoreUnavailable):
        store.read_since(0)
    with pytest.raises(StoreUnavailable):
        store.wait(0, timeout=0)
    with pytest.raises(StoreUnavailable):
        store.checkpoint("pager")
    with pytest.raises(StoreUnavailable), store.transaction():
        pass


def test_a_read_only_sqlite_store_reads_but_never_advances(tmp_path: Path) -> None:
    """Read-only, the feed and checkpoints are readable; advancing raises StoreUnavailable."""
    path = tmp_path / "incidents.db"
    with SQLiteStore(path) as writer:
        order = _fill(writer)
        writer.advance("pager", 2)
    with SQLiteStore(path, read_only=True) as reader:
        assert (order, 2) == (
            [(e.incident_id, e.version) for e in reader.read_since(0)],
            reader.checkpoint("pager"),
        )
        with pytest.raises(StoreUnavailable, match="read-only"):
            reader.advance("pager", 3)


def test_an_event_that_does_not_decode_is_named_by_its_feed_position(tmp_path: Path) -> None:
    """A row written behind the store's back that does not decode: reading the feed (or every
    stored event) over it raises Tampered naming its incident, version and feed position, so
    a consumer can pass over it; the events before and after it read as ever."""
    from incidentflow.errors import Tampered

    with SQLiteStore(tmp_path / "incidents.db") as store:
        store.append("INC-1", [declared("INC-1")], expected_version=0)
        insert_undecodable(store.path)
        store.append("INC-2", [declared("INC-2")], expected_version=0)
        with pytest.raises(Tampered) as reading:
            store.read_since(0, limit=10)
        with pytest.raises(Tampered) as walking:
            list(store.read_all())
        caught = (reading.value, walking.value)
        assert {("X-1", 1, 2)} == {(e.incident_id, e.version, e.position) for e in caught}
        assert str(reading.value).startswith("X-1: event 1 (feed position 2) was tampered with")
        assert ["INC-1"] == [e.incident_id for e in store.read_since(0, limit=1)]
        assert ["INC-2"] == [e.incident_id for e in store.read_since(2, limit=10)]
