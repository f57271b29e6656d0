"""SQLiteStore under real concurrency and real crashes: separate OS processes, one database file.

Every child process opens its own ``SQLiteStore`` on the shared file (a store must not cross a
process boundary) and reports what it saw back to the parent through a queue or a pipe; the
parent then checks the database: versions contiguous, the hash chain intact, SQLite's own
``integrity_check`` clean.  The crash tests kill writers with SIGKILL at random moments and
check that every append acknowledged before the kill survived and no batch was half-written.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import random
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

import incidentflow.events as ev
from incidentflow.cli import main
from incidentflow.errors import Conflict
from incidentflow.store import SQLiteStore
from stores import declared, note

pytestmark = pytest.mark.slow  # started first (conftest.py)

# spawn: the children start clean (no inherited connections or locks), as separate programs do.
CONTEXT = multiprocessing.get_context("spawn")
JOIN_TIMEOUT = 120


def _integrity(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def _stored_versions(path: Path, incident_id: str) -> list[int]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT version FROM events WHERE incident_id = ? ORDER BY version", (incident_id,)
        ).fetchall()
    finally:
        connection.close()
    return [version for (version,) in rows]


def _join(processes: list[Any]) -> None:
    for process in processes:
        process.join(JOIN_TIMEOUT)
    for process in processes:
        if process.is_alive():  # pragma: no cover - only when the test is failing anyway
            process.kill()
            process.join()
    assert [0] * len(processes) == [p.exitcode for p in processes]


# -- children (top-level so that spawn can import them) -----------------------------------


def _race(path: str, name: str, trials: int, barrier: Any, results: Any) -> None:
    """Race the other racer on each trial's incident with the same expected version."""
    try:
        with SQLiteStore(path) as store:
            for trial in range(trials):
                incident_id = f"INC-{trial}"
                expected = store.version(incident_id)
                barrier.wait()
                try:
                    won = store.append(
                        incident_id, [note(f"{name} {trial}")], expected_version=expected
                    )
                except Conflict as conflict:
                    again = store.version(incident_id)
                    retried = store.append(
                        incident_id, [note(f"{name} {trial} retry")], expected_version=again
                    )
                    results.put(
                        (trial, "lost", conflict.incident_id, conflict.expected, conflict.actual,
                         again, retried)
                    )  # fmt: skip
                else:
                    results.put((trial, "won", incident_id, expected, won))
    except BaseException as exc:  # report everything, the parent decides
        results.put((-1, "error", name, type(exc).__name__, str(exc)))


def _hammer(path: str, name: str, appends: int, start: Any, results: Any) -> None:
    """Append ``appends`` notes to INC-1, reloading the version and retrying on Conflict."""
    conflicts = 0
    try:
        with SQLiteStore(path) as store:
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


def _batch(incident_id: str, version: int) -> list[ev.NoteAdded]:
    """The three notes written after ``version``: their text says where they belong."""
    return [note(f"{incident_id}@{version + k}") for k in (1, 2, 3)]


def _write_until_killed(path: str, incident_ids: list[str], acks: Any) -> None:
    """Declare, then append batches of three notes round-robin; acknowledge each append.

    An acknowledgement is sent only after ``append`` returned: the parent holds the store to it.
    """
    with SQLiteStore(path) as store:
        for incident_id in incident_ids:
            store.append(incident_id, [declared(incident_id)], expected_version=0)
            acks.send((incident_id, 1))
        versions = dict.fromkeys(incident_ids, 1)
        while True:
            for incident_id in incident_ids:
                version = versions[incident_id]
                versions[incident_id] = store.append(
                    incident_id, _batch(incident_id, version), expected_version=version
                )
                acks.send((incident_id, versions[incident_id]))


# -- tests ---------------------------------------------------------------------------------


def test_exactly_one_of_two_racing_processes_wins_each_time(tmp_path: Path) -> None:
    """Two processes appending at the same version: one wins, one gets Conflict and can retry."""
    trials = 30
    path = tmp_path / "incidents.db"
    with SQLiteStore(path) as store:
        for trial in range(trials):
            store.append(f"INC-{trial}", [declared(f"INC-{trial}")], expected_version=0)
    barrier = CONTEXT.Barrier(2, timeout=JOIN_TIMEOUT)
    results = CONTEXT.Queue()
    racers = [
        CONTEXT.Process(target=_race, args=(str(path), name, trials, barrier, results))
        for name in ("left", "right")
    ]
    for racer in racers:
        racer.start()
    reports = [results.get(timeout=JOIN_TIMEOUT) for _ in range(2 * trials)]
    _join(racers)

    assert [] == [r for r in reports if r[1] == "error"]
    for trial in range(trials):
        outcomes = sorted(r[1:] for r in reports if r[0] == trial)
        incident_id = f"INC-{trial}"
        assert [
            ("lost", incident_id, 1, 2, 2, 3),
            ("won", incident_id, 1, 2),
        ] == outcomes
    with SQLiteStore(path) as store:
        assert [3] * trials == [store.version(f"INC-{t}") for t in range(trials)]
        assert [] == store.verify()
    assert "ok" == _integrity(path)


def test_eight_processes_hammering_one_incident_lose_nothing(tmp_path: Path) -> None:
    """8 processes x 200 appends with retry on Conflict: contiguous versions, nothing lost."""
    writers, appends = 8, 200
    path = tmp_path / "incidents.db"
    with SQLiteStore(path) as store:
        store.append("INC-1", [declared("INC-1")], expected_version=0)
    start = CONTEXT.Barrier(writers, timeout=JOIN_TIMEOUT)
    results = CONTEXT.Queue()
    names = [f"w{n}" for n in range(writers)]
    processes = [
        CONTEXT.Process(target=_hammer, args=(str(path), name, appends, start, results))
        for name in names
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=JOIN_TIMEOUT) for _ in processes]
    _join(processes)

    assert [] == [r for r in reports if r[1] != "done"]
    total = 1 + writers * appends
    assert list(range(1, total + 1)) == _stored_versions(path, "INC-1")
    with SQLiteStore(path) as store:
        assert total == store.version("INC-1")
        assert [] == store.verify()
        texts = [e.text for e in store.events("INC-1")[1:] if isinstance(e, ev.NoteAdded)]
        assert sorted(f"{w}/{n}" for w in names for n in range(appends)) == sorted(texts)
        for name in names:  # each writer's own appends land in the order it made them
            mine = [t for t in texts if t.startswith(f"{name}/")]
            assert [f"{name}/{n}" for n in range(appends)] == mine
        assert total == store.load("INC-1").version
        assert list(range(1, total + 1)) == [s.position for s in store.read_all()]
    assert "ok" == _integrity(path)


def test_sigkilled_writers_never_lose_an_acknowledged_batch_nor_leave_half_of_one(
    tmp_path: Path,
) -> None:
    """Writers SIGKILLed at random: acknowledged batches survive, batches are all-or-nothing.

    Each round two writers, each with its own two new incidents, are killed at random moments
    (the first one may be killed before it declares its second incident).  Then the database
    must hold at least every acknowledged version, only whole batches (the declaration, then
    three notes at a time), an intact chain, and earlier rounds' incidents untouched.
    """
    rounds = 15
    rng = random.Random(20260301)
    path = tmp_path / "incidents.db"
    SQLiteStore(path).close()
    settled: dict[str, int] = {}
    kills = 0
    for round_ in range(rounds):
        shards = [[f"R{round_}-A1", f"R{round_}-A2"], [f"R{round_}-B1", f"R{round_}-B2"]]
        acknowledged = {i: 0 for shard in shards for i in shard}
        writers = []
        for shard in shards:
            receive, send = CONTEXT.Pipe(duplex=False)
            process = CONTEXT.Process(target=_write_until_killed, args=(str(path), shard, send))
            process.start()
            send.close()
            writers.append((process, receive))
        # Wait for a first acknowledgement, so that every kill lands mid-writing.
        for _process, receive in writers:
            assert receive.poll(JOIN_TIMEOUT)
        for process, _receive in sorted(writers, key=lambda _: rng.random()):
            time.sleep(rng.uniform(0.0, 0.1))
            assert process.pid is not None
            os.kill(process.pid, signal.SIGKILL)
        for process, receive in writers:
            process.join(JOIN_TIMEOUT)
            assert -signal.SIGKILL == process.exitcode
            kills += 1
            while receive.poll():
                try:
                    incident_id, version = receive.recv()
                except EOFError:
                    break
                assert version > acknowledged[incident_id]
                acknowledged[incident_id] = version
            receive.close()

        assert "ok" == _integrity(path)
        with SQLiteStore(path) as store:
            for incident_id, acked in acknowledged.items():
                version = store.version(incident_id)
                assert version >= acked, incident_id
                assert 0 == version or 0 == (version - 1) % 3, (incident_id, version)
                if version:
                    assert [] == store.verify(incident_id)
                    notes = store.events(incident_id)[1:]
                    assert [f"{incident_id}@{v}" for v in range(2, version + 1)] == [
                        n.text for n in notes if isinstance(n, ev.NoteAdded)
                    ]
                    assert version == store.load(incident_id).version
                settled[incident_id] = version
            assert settled == {i: store.version(i) for i in settled}
    assert 2 * rounds == kills
    assert sum(v > 1 for v in settled.values()) >= rounds  # the writers did get going
    with SQLiteStore(path) as store:
        assert [] == store.verify()


# -- the command line under contention: forked children calling main() -----------------------

FORK = multiprocessing.get_context("fork")  # the children run the CLI already imported


def _cli(argv: list[str], errors: list[str] | None = None) -> int:
    """Run the command line quietly in this process; its exit code (stderr into ``errors``)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    if errors is not None and err.getvalue():
        errors.append(err.getvalue())
    return code


def _one_note(db: str, number: int, start: Any, results: Any) -> None:
    start.wait()
    errors: list[str] = []
    code = _cli(["note", "INC-1", f"note {number}", "--db", db, "--actor", f"p{number}"], errors)
    results.put((number, code, errors))


def _mixed(db: str, process: int, commands: int, start: Any, results: Any) -> None:
    """``commands`` commands: declarations, notes on shared and own incidents, and reads."""
    start.wait()
    codes: dict[str, list[int]] = {}
    errors: list[str] = []
    own: list[str] = []
    notes: dict[str, int] = {}
    reads = (["list"], ["verify"], ["due"], ["status", "INC-1"], ["timeline", "INC-2"])
    for n in range(commands):
        kind = n % 5
        if kind == 0:
            own.append(f"P{process}-{len(own) + 1}")
            argv = ["declare", own[-1], "--title", "Slow", "--priority", "P3"]
        elif kind in (1, 2):
            shared = f"INC-{1 + (process + n) % 4}"
            notes[shared] = notes.get(shared, 0) + 1
            argv = ["note", shared, f"{process}/{n}"]
        elif kind == 3:
            notes[own[-1]] = notes.get(own[-1], 0) + 1
            argv = ["note", own[-1], f"{process}/{n}"]
        else:
            argv = reads[(n // 5) % len(reads)]
        code = _cli([*argv, "--db", db, "--actor", f"p{process}"], errors)
        codes.setdefault(argv[0], []).append(code)
    results.put((process, codes, notes, errors))


def _declare_shared(db: str, count: int) -> None:
    for number in range(1, count + 1):
        code = _cli(["declare", f"INC-{number}", "--title", "Down", "--priority", "P2", "--db",
                     db, "--actor", "ana"])  # fmt: skip
        assert 0 == code


def _contiguous(db: str) -> dict[str, int]:
    """Each incident's version, after checking its versions are 1..n and the chain holds."""
    connection = sqlite3.connect(db)
    try:
        rows = connection.execute(
            "SELECT incident_id, group_concat(version) FROM "
            "(SELECT incident_id, version FROM events ORDER BY incident_id, version) "
            "GROUP BY incident_id"
        ).fetchall()
    finally:
        connection.close()
    versions = {i: [int(v) for v in joined.split(",")] for i, joined in rows}
    assert {i: list(range(1, len(v) + 1)) for i, v in versions.items()} == versions
    with SQLiteStore(db, read_only=True) as store:
        assert [] == store.verify()
    return {i: len(v) for i, v in versions.items()}


def test_forty_concurrent_notes_all_succeed(tmp_path: Path) -> None:
    """40 processes each add one note to one incident at once: all exit 0, none lost."""
    db = str(tmp_path / "incidents.db")
    _declare_shared(db, 1)
    start = FORK.Barrier(40, timeout=JOIN_TIMEOUT)
    results = FORK.Queue()
    processes = [FORK.Process(target=_one_note, args=(db, n, start, results)) for n in range(40)]
    for process in processes:
        process.start()
    outcomes = sorted(results.get(timeout=JOIN_TIMEOUT) for _ in processes)
    _join(processes)
    assert [(n, 0, []) for n in range(40)] == outcomes
    assert {"INC-1": 41} == _contiguous(db)
    with SQLiteStore(db, read_only=True) as store:
        texts = {getattr(e, "text", None) for e in store.events("INC-1")}
    assert {f"note {n}" for n in range(40)} <= texts


def test_eight_processes_of_two_hundred_mixed_commands_all_succeed(tmp_path: Path) -> None:
    """8 processes × 200 commands (declare, note, list, verify, due, status, timeline) at once:
    every command exits 0, every incident's versions are contiguous, the chains hold."""
    db = str(tmp_path / "incidents.db")
    _declare_shared(db, 4)
    start = FORK.Barrier(8, timeout=JOIN_TIMEOUT)
    results = FORK.Queue()
    processes = [FORK.Process(target=_mixed, args=(db, p, 200, start, results)) for p in range(8)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=JOIN_TIMEOUT * 5) for _ in processes]
    _join(processes)
    expected_notes: dict[str, int] = {}
    for _process, codes, notes, errors in outcomes:
        assert ({name: [0] * len(c) for name, c in codes.items()}, []) == (codes, errors)
        assert 200 == sum(len(c) for c in codes.values())
        for incident_id, count in notes.items():
            expected_notes[incident_id] = expected_notes.get(incident_id, 0) + count
    versions = _contiguous(db)
    assert 4 + 8 * 40 == len(versions)
    assert {i: expected_notes.get(i, 0) + 1 for i in versions} == versions
