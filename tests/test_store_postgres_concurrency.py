"""PostgresStore under real concurrency, crashes and a server restart: separate OS processes.

Every child opens its own ``PostgresStore`` on the shared database (a store must not cross a
process boundary) and reports back through a queue or a pipe; the parent then checks the
database: versions contiguous, chains intact, the feed read by a consumer equal to the table.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import threading
import time
from typing import Any

import psycopg
import pytest

import incidentflow.events as ev
from incidentflow.errors import Conflict, StoreUnavailable
from incidentflow.store import PostgresStore
from postgres import Cluster
from stores import declared, note
from waiting import wait_for

# spawn: the children start clean (no inherited connections or pool threads).
CONTEXT = multiprocessing.get_context("spawn")
JOIN_TIMEOUT = 180


def _join(processes: list[Any]) -> None:
    for process in processes:
        process.join(JOIN_TIMEOUT)
    for process in processes:
        if process.is_alive():  # pragma: no cover - only when the test is failing anyway
            process.kill()
            process.join()
    assert [0] * len(processes) == [p.exitcode for p in processes]


def _table(url: str) -> list[tuple[int, str, int]]:
    with psycopg.connect(url) as raw:
        rows = raw.execute(
            "SELECT position, incident_id, version FROM events ORDER BY position"
        ).fetchall()
    return [(int(p), i, int(v)) for p, i, v in rows]


# -- children (top-level so that spawn can import them) -----------------------------------


def _race(url: str, name: str, trials: int, barrier: Any, results: Any) -> None:
    """Race the other racer on each trial's incident with the same expected version."""
    try:
        with PostgresStore(url, pool_size=1) as store:
            for trial in range(trials):
                incident_id = f"INC-{trial}"
                expected = store.version(incident_id)
                barrier.wait()
                try:
                    store.append(incident_id, [note(f"{name} {trial}")], expected_version=expected)
                except Conflict as conflict:
                    results.put((trial, "lost", conflict.expected, conflict.actual))
                else:
                    results.put((trial, "won", expected, expected + 1))
    except BaseException as exc:  # report everything, the parent decides
        results.put((-1, "error", type(exc).__name__, str(exc)))
    results.put((-2, "end", name))


def _hammer(url: str, name: str, appends: int, start: Any, results: Any) -> None:
    """Append ``appends`` notes to INC-1, reloading the version and retrying on Conflict."""
    conflicts = 0
    try:
        with PostgresStore(url, pool_size=1) as store:
            start.wait()
            for n in range(appends):
                while True:
                    expected = store.version("INC-1")
                    try:
                        store.append("INC-1", [note(f"{name}/{n}")], expected_version=expected)
                    except Conflict:
                        conflicts += 1
                    else:
                        break
    except BaseException as exc:
        results.put((name, "error", f"{type(exc).__name__}: {exc}"))
    else:
        results.put((name, "done", conflicts))


def _slow_writer(url: str, incident_id: str, appends: int, seed: int, results: Any) -> None:
    """Append to one incident, pausing a random while between taking positions and committing."""
    rng = random.Random(seed)
    try:
        with PostgresStore(url, pool_size=1) as store:
            store._before_commit = lambda: time.sleep(rng.uniform(0.0, 0.02))
            store.append(incident_id, [declared(incident_id)], expected_version=0)
            for n in range(1, appends):
                store.append(incident_id, [note(f"{incident_id}/{n}")], expected_version=n)
    except BaseException as exc:
        results.put((incident_id, "error", f"{type(exc).__name__}: {exc}"))
    else:
        results.put((incident_id, "done", appends))


def _write_until_killed(url: str, incident_ids: list[str], acks: Any, pause: bool) -> None:
    """Declare, then append batches of three notes round-robin; acknowledge each append.

    With ``pause`` every commit waits a little after taking its positions, so a kill is likely
    to land inside a transaction that holds the feed back.
    """
    with PostgresStore(url, pool_size=1) as store:
        if pause:
            store._before_commit = lambda: time.sleep(0.005)
        for incident_id in incident_ids:
            store.append(incident_id, [declared(incident_id)], expected_version=0)
            acks.send((incident_id, 1))
        versions = dict.fromkeys(incident_ids, 1)
        while True:
            for incident_id in incident_ids:
                version = versions[incident_id]
                batch = [note(f"{incident_id}@{version + k}") for k in (1, 2, 3)]
                versions[incident_id] = store.append(incident_id, batch, expected_version=version)
                acks.send((incident_id, versions[incident_id]))


# -- tests ---------------------------------------------------------------------------------


def test_exactly_one_of_two_racing_processes_wins_each_time(postgres_url: str) -> None:
    """30 trials of two processes appending at the same version: one wins, one gets Conflict."""
    trials = 30
    with PostgresStore(postgres_url) as store:
        for trial in range(trials):
            store.append(f"INC-{trial}", [declared(f"INC-{trial}")], expected_version=0)
    barrier = CONTEXT.Barrier(2, timeout=JOIN_TIMEOUT)
    results = CONTEXT.Queue()
    racers = [
        CONTEXT.Process(target=_race, args=(postgres_url, name, trials, barrier, results))
        for name in ("left", "right")
    ]
    for racer in racers:
        racer.start()
    reports: list[Any] = []
    while sum(r[1] == "end" for r in reports) < 2:
        reports.append(results.get(timeout=JOIN_TIMEOUT))
    _join(racers)

    assert [] == [r for r in reports if r[1] == "error"]
    for trial in range(trials):
        outcomes = sorted(r[1:] for r in reports if r[0] == trial)
        assert [("lost", 1, 2), ("won", 1, 2)] == outcomes
    with PostgresStore(postgres_url) as store:
        assert [2] * trials == [store.version(f"INC-{t}") for t in range(trials)]
        assert [] == store.verify()


def test_eight_processes_hammering_one_incident_lose_nothing(postgres_url: str) -> None:
    """8 processes x 200 appends with retry on Conflict: contiguous versions, chain valid."""
    writers, appends = 8, 200
    with PostgresStore(postgres_url) as store:
        store.append("INC-1", [declared("INC-1")], expected_version=0)
    start = CONTEXT.Barrier(writers, timeout=JOIN_TIMEOUT)
    results = CONTEXT.Queue()
    names = [f"w{n}" for n in range(writers)]
    processes = [
        CONTEXT.Process(target=_hammer, args=(postgres_url, name, appends, start, results))
        for name in names
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=JOIN_TIMEOUT) for _ in processes]
    _join(processes)

    assert [] == [r for r in reports if r[1] != "done"]
    total = 1 + writers * appends
    assert [("INC-1", v) for v in range(1, total + 1)] == sorted(
        (i, v) for _, i, v in _table(postgres_url)
    )
    with PostgresStore(postgres_url) as store:
        assert (total, []) == (store.version("INC-1"), store.verify())
        texts = [e.text for e in store.events("INC-1")[1:] if isinstance(e, ev.NoteAdded)]
        assert sorted(f"{w}/{n}" for w in names for n in range(appends)) == sorted(texts)
        for name in names:  # each writer's own appends land in the order it made them
            assert [f"{name}/{n}" for n in range(appends)] == [
                t for t in texts if t.startswith(f"{name}/")
            ]


def test_the_feed_under_eight_slow_committing_writers_never_skips_nor_repeats(
    postgres_url: str,
) -> None:
    """A consumer following the feed while 8 writers commit late sees exactly the final table."""
    writers, appends = 8, 40
    results = CONTEXT.Queue()
    processes = [
        CONTEXT.Process(
            target=_slow_writer, args=(postgres_url, f"INC-{n}", appends, 100 + n, results)
        )
        for n in range(writers)
    ]
    seen: list[tuple[int, str, int]] = []
    done = threading.Event()

    def consume() -> None:
        with PostgresStore(postgres_url, read_only=True) as feed:
            position = 0
            while True:
                finished = done.is_set()  # read once more after the writers are done
                for entry in feed.read_since(position, limit=7):
                    seen.append((entry.position, entry.incident_id, entry.version))
                    position = entry.position
                if finished and not feed.read_since(position, limit=1):
                    return
                feed.wait(position, timeout=0.5)

    with PostgresStore(postgres_url):
        pass  # create the schema before the consumer opens read-only
    consumer = threading.Thread(target=consume)
    consumer.start()
    for process in processes:
        process.start()
    reports = [results.get(timeout=JOIN_TIMEOUT) for _ in processes]
    _join(processes)
    done.set()
    consumer.join(JOIN_TIMEOUT)

    assert [] == [r for r in reports if r[1] != "done"]
    table = _table(postgres_url)
    assert (writers * appends, table) == (len(table), seen)


def _check_killed(url: str, settled: dict[str, int]) -> None:
    """Every acknowledged version is there, batches are whole, chains hold."""
    with PostgresStore(url) as store:
        assert [] == store.verify()
        for incident_id, acknowledged in settled.items():
            version = store.version(incident_id)
            assert version >= acknowledged
            assert 0 == (version - 1) % 3 if version else True
            events = store.events(incident_id) if version else []
            texts = [e.text for e in events[1:] if isinstance(e, ev.NoteAdded)]
            assert [f"{incident_id}@{v}" for v in range(2, version + 1)] == texts


@pytest.mark.parametrize("pause", [False, True], ids=["running", "inside-commit"])
def test_sigkilled_clients_lose_nothing_acknowledged(postgres_url: str, pause: bool) -> None:
    """Writers SIGKILLed at random (also while holding the feed back) lose no acknowledged batch.

    Afterwards the server has rolled back their open transactions: a new writer appends at
    once, and the feed shows every committed event (the horizon moved past the dead ones).
    """
    rounds = 4
    rng = random.Random(20261206)
    settled: dict[str, int] = {}
    with PostgresStore(postgres_url):
        pass
    for round_ in range(rounds):
        shards = [[f"R{round_}-A1", f"R{round_}-A2"], [f"R{round_}-B1", f"R{round_}-B2"]]
        writers = []
        for shard in shards:
            receive, send = CONTEXT.Pipe(duplex=False)
            process = CONTEXT.Process(
                target=_write_until_killed, args=(postgres_url, shard, send, pause)
            )
            process.start()
            send.close()
            writers.append((process, receive, shard))
        for _process, receive, _ in writers:
            assert receive.poll(JOIN_TIMEOUT)
        for process, _receive, _ in writers:
            time.sleep(rng.uniform(0.0, 0.15))
            assert process.pid is not None
            os.kill(process.pid, signal.SIGKILL)
        for process, receive, shard in writers:
            process.join(JOIN_TIMEOUT)
            assert -signal.SIGKILL == process.exitcode
            acknowledged = dict.fromkeys(shard, 0)
            while receive.poll():
                try:
                    incident_id, version = receive.recv()
                except EOFError:
                    break
                acknowledged[incident_id] = version
            settled.update(acknowledged)
        _check_killed(postgres_url, settled)
    with PostgresStore(postgres_url, timeout=10) as store:
        store.append("AFTER", [declared("AFTER")], expected_version=0)
        feed = [(e.position, e.incident_id, e.version) for e in store.read_since(0, limit=100_000)]
    assert _table(postgres_url) == feed


def test_a_server_restart_is_unavailable_then_recovers_losing_nothing(
    postgres_cluster: Cluster, postgres_url: str
) -> None:
    """The server restarted mid-run: appends fail with StoreUnavailable, then go on, losing nothing.

    The server is stopped while a writer appends (so the writer meets it down), then started
    again.  The same store object is used throughout: its pool replaces the dead connections,
    and reads retry on a fresh connection by themselves.
    """
    acknowledged: list[int] = []
    failures: list[StoreUnavailable] = []
    stop = threading.Event()
    with PostgresStore(postgres_url, timeout=10) as store:
        store.append("INC-1", [declared("INC-1")], expected_version=0)
        acknowledged.append(1)

        def write() -> None:
            version = 1
            while not stop.is_set():
                try:
                    version = store.version("INC-1")
                    version = store.append(
                        "INC-1", [note(f"n{version + 1}")], expected_version=version
                    )
                except StoreUnavailable as exc:
                    failures.append(exc)
                    time.sleep(0.02)
                else:
                    acknowledged.append(version)

        writer = threading.Thread(target=write)
        writer.start()
        try:
            wait_for(lambda: len(acknowledged) >= 10, "ten appends", every=0.01)
            postgres_cluster.pg_ctl("stop")
            wait_for(lambda: failures, "an append to fail", every=0.01)
            postgres_cluster.pg_ctl("start")
            after = len(acknowledged)
            wait_for(lambda: len(acknowledged) >= after + 10, "ten appends more", every=0.01)
        finally:
            stop.set()
            writer.join(JOIN_TIMEOUT)
        version = store.version("INC-1")
        assert (acknowledged[-1], []) == (version, store.verify())
    causes = {type(f.__cause__).__name__ for f in failures}
    assert all(isinstance(f.__cause__, psycopg.OperationalError) for f in failures), causes
    with PostgresStore(postgres_url) as again:
        stored = [e.text for e in again.events("INC-1")[1:] if isinstance(e, ev.NoteAdded)]
    # Every acknowledged version is there, once, in order; nothing else was written.
    assert [f"n{v}" for v in range(2, version + 1)] == stored
    assert sorted(set(acknowledged)) == acknowledged


def test_a_stopped_server_is_unavailable_not_busy(
    postgres_cluster: Cluster, postgres_url: str
) -> None:
    """With the server stopped, a read and an append raise StoreUnavailable with the driver's
    error as the cause, instead of waiting the store's whole timeout for the pool (and
    calling the server busy); once it is started again the same store object goes on."""
    with PostgresStore(postgres_url, timeout=60) as store:
        store.append("INC-1", [declared("INC-1")], expected_version=0)
        postgres_cluster.pg_ctl("stop")
        try:
            with pytest.raises(StoreUnavailable) as reading:
                store.version("INC-1")
            with pytest.raises(StoreUnavailable) as appending:
                store.append("INC-1", [note("n2")], expected_version=1)
        finally:
            postgres_cluster.pg_ctl("start")
        causes = [type(caught.value.__cause__) for caught in (reading, appending)]
        assert all(issubclass(cause, psycopg.OperationalError) for cause in causes), causes
        assert 2 == store.append("INC-1", [note("n2")], expected_version=1)
        assert [] == store.verify()
