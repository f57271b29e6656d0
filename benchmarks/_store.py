"""The store and command-line benchmarks: durable appends, loading many incidents, startup.

Each compares incidentflow with the plainest code that does the same job on the same machine
in the same run: raw ``sqlite3`` with the store's own table and pragmas, ``json.loads`` of the
stored lines, and a Python process importing only incidentflow's dependencies.
"""

from __future__ import annotations

import gc
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import median
from typing import Any

from _history import long_incident, stored_incident
from _measure import Result, Sizes, seconds, timings

from incidentflow import State, codec
from incidentflow.events import Event
from incidentflow.store import SQLiteStore
from incidentflow.store._base import chain_hash, genesis_hash

BATCH = 100  # events per append in the batched figure

# The store's events table, column for column, without the triggers (they fire only on
# UPDATE and DELETE, never on the INSERTs measured here).
_RAW_TABLE = """CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    line TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (incident_id, version)
)"""
_RAW_INSERT = (
    "INSERT INTO events (incident_id, version, line, prev_hash, hash) VALUES (?, ?, ?, ?, ?)"
)

Row = tuple[str, int, str, str, str]


@contextmanager
def _directory() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="incidentflow-bench-") as name:
        yield Path(name)


def _raw_connection(path: Path) -> sqlite3.Connection:
    """A plain connection with the store's pragmas: WAL, synchronous=FULL, autocommit off."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute(_RAW_TABLE)
    return connection


def _raw_rows(incident_id: str, events: list[Event]) -> list[Row]:
    """The rows the store would write for ``events``: JSON line and chain hashes, precomputed."""
    rows = []
    previous = genesis_hash(incident_id)
    for version, event in enumerate(events, start=1):
        line = codec.dumps(event)
        digest = chain_hash(previous, line)
        rows.append((incident_id, version, line, previous, digest))
        previous = digest
    return rows


def fresh_timings(runs: dict[str, Callable[[Path], object]], repeat: int) -> dict[str, list[float]]:
    """Like :func:`timings`, but each run gets a new empty directory, made outside the clock."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            with _directory() as directory:
                gc.collect()
                begin = time.perf_counter()
                run(directory)
                times[name].append(time.perf_counter() - begin)
    return times


# -- 5. durable appends -------------------------------------------------------------------------


def bench_durable_append(sizes: Sizes) -> Result:
    """One event per transaction through SQLiteStore.append, against raw INSERT + COMMIT."""
    size = sizes.durable_events
    events = long_incident(max(size, 60))[:size]
    rows = _raw_rows("INC-1", events)
    batched = long_incident(max(sizes.batched_events, 60))[: sizes.batched_events]
    batched_rows = _raw_rows("INC-1", batched)

    def store_single(directory: Path) -> None:
        with SQLiteStore(directory / "incidents.db") as store:
            for version, event in enumerate(events):
                store.append("INC-1", [event], expected_version=version)
            if store.version("INC-1") != size:
                raise AssertionError("the store lost an append")

    def raw_single(directory: Path) -> None:
        connection = _raw_connection(directory / "raw.db")
        try:
            for row in rows:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute(_RAW_INSERT, row)
                connection.execute("COMMIT")
        finally:
            connection.close()

    def store_batched(directory: Path) -> None:
        with SQLiteStore(directory / "incidents.db") as store:
            for start in range(0, len(batched), BATCH):
                store.append("INC-1", batched[start : start + BATCH], expected_version=start)

    def raw_batched(directory: Path) -> None:
        connection = _raw_connection(directory / "raw.db")
        try:
            for start in range(0, len(batched_rows), BATCH):
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(_RAW_INSERT, batched_rows[start : start + BATCH])
                connection.execute("COMMIT")
        finally:
            connection.close()

    times = fresh_timings(
        {
            "raw sqlite3": raw_single,
            "SQLiteStore.append": store_single,
            "raw sqlite3, batched": raw_batched,
            "SQLiteStore.append, batched": store_batched,
        },
        max(sizes.repeat, 5),  # each round is short and fsync times vary: take more
    )
    base, ours = median(times["raw sqlite3"]), median(times["SQLiteStore.append"])
    raw_b, ours_b = (
        median(times["raw sqlite3, batched"]),
        median(times["SQLiteStore.append, batched"]),
    )
    n_b = len(batched)
    return Result(
        name="durable_append",
        title=f"5. Durable appends to SQLite (WAL, synchronous=FULL): {size:,} events, "
        "one transaction each",
        ratio=ours / base,
        meaning="SQLiteStore.append / raw sqlite3 INSERT + COMMIT",
        goal="<= 1.5x",
        passed=ours / base <= 1.5,
        figures={
            "events": size,
            "raw_s": base,
            "store_s": ours,
            "batch": BATCH,
            "batched_events": n_b,
            "raw_batched_s": raw_b,
            "store_batched_s": ours_b,
            "store_batched_events_per_s": n_b / ours_b,
            "raw_batched_events_per_s": n_b / raw_b,
            "temp_dir": tempfile.gettempdir(),
            "runs": times,
        },
        lines=[
            f"raw INSERT + COMMIT        {seconds(base):>10}  ({base / size * 1e6:.0f} us/event, "
            f"{size / base:,.0f} events/s)",
            f"SQLiteStore.append         {seconds(ours):>10}  ({ours / size * 1e6:.0f} us/event, "
            f"{size / ours:,.0f} events/s)",
            f"batches of {BATCH}, {n_b:,} events: SQLiteStore {n_b / ours_b:,.0f} events/s, "
            f"raw sqlite3 {n_b / raw_b:,.0f} events/s ({ours_b / raw_b:.2f}x)",
            f"(files in {tempfile.gettempdir()})",
        ],
    )


# -- 6. loading many incidents ------------------------------------------------------------------


def _build(path: Path, count: int) -> None:
    """``count`` incidents of 50 events, each appended whole; not timed."""
    with SQLiteStore(path) as store:
        # Building is not measured: let SQLite skip the fsyncs while it fills the file.
        store._connection().execute("PRAGMA synchronous=OFF")
        for number in range(count):
            store.append(f"INC-{number}", stored_incident(number), expected_version=0)


def bench_load_many(sizes: Sizes) -> Result:
    """SQLiteStore.load of every incident, against SELECT + json.loads of its lines."""
    count = sizes.stored_incidents
    ids = [f"INC-{number}" for number in range(count)]
    with _directory() as directory:
        path = directory / "incidents.db"
        begin = time.perf_counter()
        _build(path, count)
        built = time.perf_counter() - begin
        with SQLiteStore(path) as store:
            check = store.load(ids[-1])
            if (check.version, check.state) != (50, State.POST_MORTEM):
                raise AssertionError("the stored incidents do not replay whole")
            total = sum(s.version for s in store.incidents())
            raw = sqlite3.connect(path, isolation_level=None)
            try:

                def baseline() -> None:
                    for incident_id in ids:
                        [
                            json.loads(line)
                            for (line,) in raw.execute(
                                "SELECT line FROM events WHERE incident_id = ? ORDER BY version",
                                (incident_id,),
                            )
                        ]

                def events() -> None:
                    for incident_id in ids:
                        store.events(incident_id)

                def load() -> None:
                    for incident_id in ids:
                        store.load(incident_id)

                times = timings(
                    {"SELECT + json.loads": baseline, "store.events": events, "store.load": load},
                    sizes.repeat,
                )
            finally:
                raw.close()
    base, ours = median(times["SELECT + json.loads"]), median(times["store.load"])
    read = median(times["store.events"])
    per = 1e6 / total
    return Result(
        name="load_many",
        title=f"6. Loading {count:,} incidents of {total // count} events from SQLite "
        f"({total:,} events)",
        ratio=ours / base,
        meaning="store.load / SELECT + json.loads",
        goal="<= 2x",
        passed=ours / base <= 2,
        figures={
            "incidents": count,
            "events": total,
            "build_s": built,
            "select_json_loads_s": base,
            "store_events_s": read,
            "store_load_s": ours,
            "runs": times,
        },
        lines=[
            f"SELECT + json.loads        {seconds(base):>10}  ({base * per:.2f} us/event, "
            f"{base / count * 1e6:.0f} us/incident)",
            f"store.load                 {seconds(ours):>10}  ({ours * per:.2f} us/event, "
            f"{ours / count * 1e6:.0f} us/incident)",
            f"  split: store.events      {seconds(read):>10}  (read, check the chain, decode: "
            f"{read / base:.2f}x the baseline)",
            f"         replay            {seconds(ours - read):>10}  "
            f"({(ours - read) / base:.2f}x the baseline)",
            f"(database built, untimed, in {built:.1f} s)",
        ],
    )


# -- 7. command-line startup ---------------------------------------------------------------------


def _process(command: list[str]) -> Callable[[], Any]:
    """A callable starting ``command`` and waiting for it, after checking once that it works."""
    check = subprocess.run(command, capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise AssertionError(f"{command} failed ({check.returncode}):\n{check.stderr}")

    def run() -> Any:
        return subprocess.run(command, stdout=subprocess.DEVNULL, check=True)

    return run


def bench_help_startup(sizes: Sizes) -> Result:
    """Wall time of ``incidentflow --help`` against importing incidentflow's dependencies."""
    runs = sizes.startup_runs
    times = timings(
        {
            "python -c pass": _process([sys.executable, "-c", "pass"]),
            "import transitions, attrs, cattrs": _process(
                [sys.executable, "-c", "import transitions, attrs, cattrs"]
            ),
            "incidentflow --help": _process([sys.executable, "-m", "incidentflow", "--help"]),
        },
        runs,
    )
    bare = median(times["python -c pass"])
    base = median(times["import transitions, attrs, cattrs"])
    ours = median(times["incidentflow --help"])
    return Result(
        name="help_startup",
        title=f"7. Command-line startup: `incidentflow --help`, median of {runs} processes",
        ratio=ours / base,
        meaning="incidentflow --help / python -c 'import transitions, attrs, cattrs'",
        goal="<= 1.3x",
        passed=ours / base <= 1.3,
        figures={
            "runs_per_command": runs,
            "python_pass_s": bare,
            "import_dependencies_s": base,
            "help_s": ours,
            "runs": times,
        },
        lines=[
            f"python -c pass                    {seconds(bare):>10}",
            f"import transitions, attrs, cattrs {seconds(base):>10}",
            f"incidentflow --help               {seconds(ours):>10}  "
            f"({(ours - base) * 1000:+.1f} ms beyond the dependencies)",
        ],
    )
