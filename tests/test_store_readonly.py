"""Reading never writes: no file created, migrated, converted or left behind, by anyone.

The privilege tests run every read command of the command line in a forked child that has
dropped to the ``nobody`` user, against a store it may not write: in a read-only directory,
and owned by another user (with and without that owner's writer active).  They need root to
drop privileges and are skipped, with one line saying so, when the suite does not run as root.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from incidentflow import Incident, ManualClock, Priority, StoreUnavailable
from incidentflow.cli import main
from incidentflow.store import SQLiteStore
from incidentflow.store import sqlite as sqlite_module

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
INC = "INC-1042"  # the demo's incident: every state, post-mortem scheduled

READS = [
    ["status", INC],
    ["timeline", INC],
    ["list"],
    ["due"],
    ["verify"],
    ["verify", INC],
    ["export"],
    ["report", INC],
    ["agenda", INC],
    ["stats"],
    ["update", INC],
    ["anchor"],
]
"""Every read command; `chart` is added with an output file the reader may write."""

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="dropping privileges to another user needs root"
)


def _incident() -> Incident:
    clock = ManualClock(START)
    incident = Incident.declare("INC-1", "Database is down", Priority.P2, actor="ana", clock=clock)
    clock.advance(minutes=1)
    incident.note("restarted", actor="ana")
    return incident


def _files(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file in ``directory``: its owner and size."""
    return {p.name: (p.stat().st_uid, p.stat().st_size) for p in sorted(directory.iterdir())}


def _demo_store(directory: Path) -> Path:
    path = directory / "incidents.db"
    with contextlib.redirect_stdout(io.StringIO()):
        assert 0 == main(["demo", "--db", str(path)])
    return path


def _warm(commands: list[list[str]], db: Path) -> None:
    """Run the commands once as root on a copy, so every module they import is loaded.

    (The interpreter and its packages may live where ``nobody`` cannot read, e.g. under /root
    or a private temporary directory; the child then finds in memory what the commands need.)
    """
    with tempfile.TemporaryDirectory() as directory:
        copy = Path(directory) / "copy.db"
        shutil.copyfile(db, copy)
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            for command in commands:
                output = str(Path(directory) / "output.svg")  # not the child's own file
                command = [output if a.endswith(".svg") else a for a in command]
                main([*command, "--db", str(copy)])


def _as_nobody(commands: list[list[str]], db: Path) -> list[tuple[int, str]]:
    """Run each command in a child that is ``nobody``; the exit codes and stderr."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; coverage follows the parent
        code = 1
        try:
            os.close(read)
            # Warmed in the child itself, still root: libraries that drop their caches at a
            # fork (matplotlib's fonts) then keep open what nobody could not open.
            _warm(commands, db)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            # nobody has no home: matplotlib keeps its cache in a directory of its own
            os.environ["MPLCONFIGDIR"] = tempfile.mkdtemp(prefix="incidentflow-mpl-")
            results = []
            for command in commands:
                err = io.StringIO()
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                    results.append((main([*command, "--db", str(db)]), err.getvalue()))
            shutil.rmtree(os.environ["MPLCONFIGDIR"])
            with os.fdopen(write, "w") as out:
                json.dump(results, out)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert 0 == os.waitstatus_to_exitcode(status), text
    return [(code, err) for code, err in json.loads(text)]


@pytest.fixture
def shared() -> Iterator[Path]:
    """A directory under /tmp that every user may enter (pytest's own is root's alone)."""
    directory = Path(tempfile.mkdtemp(prefix="incidentflow-ro-"))
    directory.chmod(0o755)
    yield directory
    for path in directory.rglob("*"):
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(directory)


@pytest.fixture
def charts(shared: Path) -> Path:
    """A directory anyone may write the chart into."""
    directory = shared / "out"
    directory.mkdir()
    directory.chmod(0o777)
    return directory


def _reads(charts: Path) -> list[list[str]]:
    return [*READS, ["chart", INC, "--output", str(charts / "chart.svg")]]


@needs_root
def test_every_read_command_works_in_a_read_only_directory(shared: Path, charts: Path) -> None:
    """As nobody, in a directory nobody may write: every read command exits 0, no file left."""
    directory = shared / "ro"
    directory.mkdir()
    db = _demo_store(directory)
    os.chown(directory, 65534, 65534)
    os.chown(db, 65534, 65534)
    directory.chmod(0o555)
    before = _files(directory)
    results = _as_nobody(_reads(charts), db)
    assert [(0, "")] * len(results) == results
    assert before == _files(directory)


@needs_root
def test_every_read_command_works_on_another_users_store(shared: Path, charts: Path) -> None:
    """As nobody, on root's store in root's directory: all read commands work, nothing left."""
    directory = shared / "theirs"
    directory.mkdir()
    db = _demo_store(directory)
    before = _files(directory)
    results = _as_nobody(_reads(charts), db)
    assert [(0, "")] * len(results) == results
    assert before == _files(directory)


@needs_root
def test_reading_while_the_owner_writes(shared: Path) -> None:
    """With the owner's writer open (its -wal and -shm present), nobody reads the latest
    events and the owner keeps writing: the shared files stay the owner's."""
    directory = shared / "busy"
    directory.mkdir()
    db = _demo_store(directory)
    with SQLiteStore(db) as writer:
        writer.append("INC-1", _incident().history, expected_version=0)
        before = {name: uid for name, (uid, _) in _files(directory).items()}
        assert {"incidents.db", "incidents.db-wal", "incidents.db-shm"} == set(before)
        results = _as_nobody([["status", "INC-1"], ["verify"], ["list"]], db)
        assert [(0, "")] * 3 == results
        writer.append("INC-1", [_incident().note("more", actor="ana")], expected_version=2)
        assert before == {name: uid for name, (uid, _) in _files(directory).items()}
    assert 3 == SQLiteStore(db, read_only=True).version("INC-1")


def test_a_reader_creates_nothing(tmp_path: Path) -> None:
    """A missing file read-only is StoreUnavailable naming it; no file appears."""
    with pytest.raises(StoreUnavailable, match=r"absent\.db: no incidentflow store here"):
        SQLiteStore(tmp_path / "absent.db", read_only=True)
    assert [] == list(tmp_path.iterdir())


def test_a_reader_leaves_no_file_and_keeps_the_journal_mode(tmp_path: Path) -> None:
    """Reading a closed store adds no -wal or -shm file, and the file's bytes are unchanged."""
    path = tmp_path / "incidents.db"
    with SQLiteStore(path) as store:
        store.append("INC-1", _incident().history, expected_version=0)
    before = (_files(tmp_path), path.read_bytes())
    with SQLiteStore(path, read_only=True) as store:
        assert ([], 2) == (store.verify(), store.version("INC-1"))
        assert 2 == len(list(store.read_all()))
    assert before == (_files(tmp_path), path.read_bytes())


def test_a_reader_sees_what_a_writer_commits_meanwhile(tmp_path: Path) -> None:
    """A reader opened before a writer (no WAL then) reads again when the file changes."""
    path = tmp_path / "incidents.db"
    incident = _incident()
    with SQLiteStore(path) as store:
        store.append("INC-1", incident.history[:1], expected_version=0)
    reader = SQLiteStore(path, read_only=True)
    assert 1 == reader.version("INC-1")
    with SQLiteStore(path) as writer:
        writer.append("INC-1", incident.history[1:], expected_version=1)
        assert 2 == reader.version("INC-1")  # the writer's WAL, read-only
    reader.close()
    with SQLiteStore(path, read_only=True) as again:
        assert 2 == again.version("INC-1")


def test_a_reader_whose_immutable_file_changes_reads_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without its lock, a reader whose main file a writer checkpointed into reads afresh."""
    path = tmp_path / "incidents.db"
    incident = _incident()
    with SQLiteStore(path) as store:
        store.append("INC-1", incident.history[:1], expected_version=0)
    monkeypatch.setattr(SQLiteStore, "_pin", lambda self: None)  # as if the lock were busy
    reader = SQLiteStore(path, read_only=True)
    assert 1 == reader.version("INC-1")
    with SQLiteStore(path) as writer:
        writer.append("INC-1", incident.history[1:], expected_version=1)
    assert not (tmp_path / "incidents.db-wal").exists()  # checkpointed into the main file
    assert 2 == reader.version("INC-1")
    reader.close()


def test_a_reader_that_keeps_seeing_changes_gives_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that changes on every read is StoreBusy after three tries, not a wrong answer."""
    path = tmp_path / "incidents.db"
    with SQLiteStore(path) as store:
        store.append("INC-1", _incident().history, expected_version=0)
    reader = SQLiteStore(path, read_only=True)
    moments = iter(range(1000))
    monkeypatch.setattr(sqlite_module, "_identity", lambda _: (next(moments), 0, 0))
    with pytest.raises(StoreUnavailable, match="kept changing"):
        reader.version("INC-1")
    reader.close()


@pytest.mark.parametrize("read_only", [True, False])
def test_a_foreign_sqlite_file_is_refused_and_left_as_it_is(
    tmp_path: Path, read_only: bool
) -> None:
    """Another program's database (or ours with a table added) is refused, its bytes unchanged."""
    foreign = tmp_path / "other.db"
    raw = sqlite3.connect(foreign)
    with raw:
        raw.execute("CREATE TABLE customers (name TEXT)")
    raw.close()
    ours = tmp_path / "ours.db"
    SQLiteStore(ours).close()
    raw = sqlite3.connect(ours)
    with raw:
        raw.execute("CREATE TABLE extra (x)")
    raw.close()
    for path, shown in ((foreign, "tables: customers"), (ours, "events, extra, incidents")):
        before = _files(tmp_path), path.read_bytes()
        with pytest.raises(StoreUnavailable, match=f"not an incidentflow store.*{shown}"):
            SQLiteStore(path, read_only=read_only)
        assert before == (_files(tmp_path), path.read_bytes())


def test_an_empty_or_text_file_is_not_a_store_to_a_reader(tmp_path: Path) -> None:
    """Readers refuse files that are not SQLite databases, naming what they found."""
    empty, text = tmp_path / "empty.db", tmp_path / "notes.db"
    empty.write_bytes(b"")
    text.write_text("just notes\n")
    with pytest.raises(StoreUnavailable, match="an empty file"):
        SQLiteStore(empty, read_only=True)
    with pytest.raises(StoreUnavailable, match="not a SQLite database"):
        SQLiteStore(text, read_only=True)
    raw = sqlite3.connect(tmp_path / "zero.db")
    raw.execute("CREATE TABLE t (x)")
    raw.execute("DROP TABLE t")
    raw.close()
    with pytest.raises(StoreUnavailable, match="no schema"):
        SQLiteStore(tmp_path / "zero.db", read_only=True)
