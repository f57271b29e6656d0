"""PostgresStore behind a connection pooler in transaction mode (PgBouncer, tests/postgres.py).

The pooler has one server connection per database, so every client's transactions share it:
whatever one store left on that connection (a prepared statement, a session setting, a
``LISTEN``) would meet the next.
"""

from __future__ import annotations

import threading

import psycopg
import pytest

from incidentflow.cli import main
from incidentflow.errors import InvalidInput, StoreUnavailable
from incidentflow.store import PostgresStore, open_store
from postgres import Pooler
from stores import declared, note
from terminal import CLI


def _server_state(url: str) -> tuple[str, list[str], list[str]]:
    """What the pooler's shared server connection holds: its read-only default, its prepared
    statements and the channels it listens on (asked through the pooler, preparing nothing)."""
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as connection:
        read_only = connection.execute("SHOW default_transaction_read_only").fetchone()
        prepared = connection.execute("SELECT name FROM pg_prepared_statements").fetchall()
        channels = connection.execute("SELECT pg_listening_channels()").fetchall()
    assert read_only is not None
    return str(read_only[0]), [str(n) for (n,) in prepared], [str(c) for (c,) in channels]


def test_writers_and_readers_share_the_pooled_connection_leaving_nothing_on_it(
    pooler: Pooler,
) -> None:
    """Two writers and a read-only reader take turns on the pooler's one server connection:
    every append, load, list and feed read works, and the connection is left as it was found:
    not read-only, nothing prepared, nothing listened to."""
    url = pooler.database()
    with (
        PostgresStore(url, transaction_pooler=True) as first,
        PostgresStore(url, transaction_pooler=True) as second,
    ):
        first.append("INC-1", [declared("INC-1")], expected_version=0)
        with PostgresStore(url, read_only=True, transaction_pooler=True) as reader:
            for version in range(1, 7):
                writer = first if version % 2 else second
                assert version + 1 == writer.append(
                    "INC-1", [note(f"n{version}")], expected_version=version
                )
                # The same hot reads, by each store in turn, on the one server connection.
                for store in (reader, first, second):
                    assert version + 1 == store.load("INC-1").version
                    assert version + 1 == store.version("INC-1")
                    assert version + 1 == len(store.read_since(0, limit=100))
                assert ["INC-1"] == [s.incident_id for s in reader.incidents()]
                assert not reader.wait(version + 1, timeout=0.01)
        assert [] == first.verify()
        assert ("off", [], []) == _server_state(url)


def test_wait_behind_a_transaction_pooler_wakes_on_a_new_event(pooler: Pooler) -> None:
    """``wait`` cannot be woken by a notification behind the pooler: it looks for new events
    itself, and returns as soon as one is there (False when none comes in time)."""
    url = pooler.database()
    with (
        PostgresStore(url, transaction_pooler=True) as writer,
        PostgresStore(url, transaction_pooler=True) as waiter,
    ):
        writer.append("INC-1", [declared("INC-1")], expected_version=0)
        assert not waiter.wait(1, timeout=0.3)
        woken: list[bool] = []
        thread = threading.Thread(target=lambda: woken.append(waiter.wait(1, timeout=30)))
        thread.start()
        writer.append("INC-1", [note("n2")], expected_version=1)
        thread.join(30)
        assert [True] == woken
    assert ("off", [], []) == _server_state(url)


def test_transaction_pooler_must_be_a_bool(pooler: Pooler) -> None:
    """A setting of the wrong type is refused before anything is opened."""
    with pytest.raises(InvalidInput, match="transaction_pooler must be a bool"):
        PostgresStore(pooler.database(), transaction_pooler="yes")  # type: ignore[arg-type]


def test_open_store_takes_the_pooler_mode_from_the_environment(
    pooler: Pooler, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``$INCIDENTFLOW_POOLER=transaction`` opens the store for a transaction pooler;
    ``session`` (or unset) does not; anything else is refused, naming the variable."""
    url = pooler.database()
    monkeypatch.setenv("INCIDENTFLOW_POOLER", "transaction")
    with open_store(url) as store:
        store.append("INC-1", [declared("INC-1")], expected_version=0)
        assert store._pooled  # type: ignore[attr-defined]
    monkeypatch.setenv("INCIDENTFLOW_POOLER", "session")
    with open_store(url) as store:
        assert not store._pooled  # type: ignore[attr-defined]
    monkeypatch.setenv("INCIDENTFLOW_POOLER", "statement")
    with pytest.raises(InvalidInput, match=r"\$INCIDENTFLOW_POOLER is 'transaction' or"):
        open_store(url)


def test_the_command_line_works_through_a_transaction_pooler(
    pooler: Pooler, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commands that write and commands that only read, one after the other through the
    pooler's one server connection, with ``$INCIDENTFLOW_POOLER=transaction``; a mode the
    store does not know is bad input (exit 2)."""
    url = pooler.database()
    monkeypatch.setenv("INCIDENTFLOW_POOLER", "transaction")
    cli = CLI(url, capsys, monkeypatch)  # type: ignore[arg-type]
    code, out, err = cli("migrate")  # creates the schema on the shared connection
    assert (0, "") == (code, err), out
    assert ("off", [], []) == _server_state(url)
    for args in (
        ("declare", "INC-7", "--title", "Checkout is down", "--priority", "P2"),
        ("status", "INC-7"),
        ("note", "INC-7", "p95 is 4 s"),
        ("list",),
        ("note", "INC-7", "rolled back"),
        ("verify",),
    ):
        code, out, err = cli(*args, actor="ana")
        assert (0, "") == (code, err), (args, out)
    code, out, _ = cli("list", actor="ana")
    assert "INC-7" in out
    # No actor given: the command asks the database who the login is, read-only, first.
    monkeypatch.delenv("INCIDENTFLOW_ACTOR")
    monkeypatch.setenv("USER", "bo")
    assert 0 == main(["note", "INC-7", "paged the dba", "--db", url])
    assert ("off", [], []) == _server_state(url)
    monkeypatch.setenv("INCIDENTFLOW_POOLER", "sometimes")
    code, _, err = cli("list", actor="ana")
    assert 2 == code
    assert "INCIDENTFLOW_POOLER" in err


def test_a_read_only_store_unaware_of_the_pooler_leaves_the_connection_read_only(
    pooler: Pooler,
) -> None:
    """Why the setting exists: a read-only store that does not know it is behind a
    transaction pooler makes its session read-only, and that session is the server
    connection every client shares: another client's append is then refused by the server."""
    url = pooler.database()
    with PostgresStore(url, transaction_pooler=True) as writer:
        writer.append("INC-1", [declared("INC-1")], expected_version=0)
        with PostgresStore(url, read_only=True) as unaware:
            assert 1 == unaware.version("INC-1")
        try:
            assert "on" == _server_state(url)[0]
            with pytest.raises(StoreUnavailable, match="read-only transaction"):
                writer.append("INC-1", [note("n2")], expected_version=1)
        finally:
            with psycopg.connect(url, autocommit=True, prepare_threshold=None) as connection:
                connection.execute("SET default_transaction_read_only = off")
        assert 2 == writer.append("INC-1", [note("n2")], expected_version=1)
