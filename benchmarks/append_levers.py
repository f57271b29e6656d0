"""Where a durable append's time goes: the store's SQL, its Python, and the commit's wait.

    python benchmarks/append_levers.py                   # 5,000 appends, 5 rounds
    python benchmarks/append_levers.py --events 2000 --repeat 3

Each row is a loop of one-event appends (or raw inserts) into a fresh file, measured by the
wall clock and by the process's user and system CPU time, per append, the median of rounds
run in turn (so drift on a shared machine hits every row):

- ``raw``: ``run.py``'s ``durable_append`` baseline, ``BEGIN IMMEDIATE`` + ``INSERT`` +
  ``COMMIT`` of precomputed rows into a table of the same shape as the store's;
- ``store SQL``: the store's own statements on the store's own file (the insert, the
  summary row's update with the head check riding on it), the rows precomputed: no Python of
  the store's at all;
- ``store``: ``SQLiteStore.append``, every check made;
- ``raw + arithmetic`` and ``raw + reads``: the raw loop with about 10 µs of arithmetic, or
  reads of the same hundred objects spread over the heap, added inside each transaction:
  whether simple work costs more after each commit's wait than it does warm (compare with
  what the wait does to the store's own, far more varied, Python).

Every row runs with ``synchronous=FULL`` (each commit waits for the disk) and ``OFF`` (no
wait: the warm cost of the same work).  The figures are the machine's: only the ratios to
the raw row of the same mode mean anything elsewhere.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

from _history import long_incident
from _store import _RAW_INSERT, _raw_connection, _raw_rows

from incidentflow.events import Event
from incidentflow.store import SQLiteStore
from incidentflow.store.sqlite import _UPDATE_FOLLOWING

Row = tuple[str, int, str, str, str]
Loop = Callable[[Path, str], tuple[float, float, float]]


def _clocks() -> tuple[float, float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), usage.ru_utime, usage.ru_stime


def _timed(count: int, body: Callable[[], None]) -> tuple[float, float, float]:
    """Wall, user and system seconds of ``body``, per item of ``count``, in µs."""
    begin = _clocks()
    body()
    end = _clocks()
    wall, user, system = (after - before for before, after in zip(begin, end, strict=True))
    return wall / count * 1e6, user / count * 1e6, system / count * 1e6


def _raw(rows: list[Row], extra: Callable[[], object] | None = None) -> Loop:
    def loop(directory: Path, synchronous: str) -> tuple[float, float, float]:
        connection = _raw_connection(directory / "raw.db")
        connection.execute(f"PRAGMA synchronous={synchronous}")

        def body() -> None:
            for row in rows:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute(_RAW_INSERT, row)
                if extra is not None:
                    extra()
                connection.execute("COMMIT")

        try:
            return _timed(len(rows), body)
        finally:
            connection.close()

    return loop


def _store_sql(events: list[Event], rows: list[Row]) -> Loop:
    def loop(directory: Path, synchronous: str) -> tuple[float, float, float]:
        with SQLiteStore(directory / "incidents.db") as store:
            store.append("INC-1", events[:1], expected_version=0)
            connection = store._connection()
            connection.execute(f"PRAGMA synchronous={synchronous}")
            (summary,) = store.incidents()
            fixed = (summary.priority.value, summary.state.value)

            def body() -> None:
                for row in rows[1:]:
                    connection.execute("BEGIN IMMEDIATE")
                    connection.execute(_RAW_INSERT, row)
                    version = row[1]
                    connection.execute(
                        _UPDATE_FOLLOWING,
                        (*fixed, "2026-03-01T14:00:00+00:00", version, None, "INC-1", "INC-1",
                         version - 1, row[3]),
                    )  # fmt: skip
                    connection.execute("COMMIT")

            return _timed(len(rows) - 1, body)

    return loop


def _store(events: list[Event]) -> Loop:
    def loop(directory: Path, synchronous: str) -> tuple[float, float, float]:
        with SQLiteStore(directory / "incidents.db") as store:
            store._connection().execute(f"PRAGMA synchronous={synchronous}")
            store.append("INC-1", events[:1], expected_version=0)

            def body() -> None:
                for version, event in enumerate(events[1:], start=1):
                    store.append("INC-1", [event], expected_version=version)

            return _timed(len(events) - 1, body)

    return loop


def _arithmetic(steps: int) -> Callable[[], object]:
    def work() -> object:
        total = 0
        for step in range(steps):
            total += step
        return total

    return work


def _reads(count: int) -> Callable[[], object]:
    """Reads of ``count`` objects spread over some 20 MB of heap (a cache line each)."""
    spread = [bytearray(64) for _ in range(200_000)]
    picked = spread[:: len(spread) // count]

    def work() -> object:
        total = 0
        for item in picked:
            total += item[0]
        return total

    return work


def _calibrated(micros: float) -> int:
    """How many steps of :func:`_arithmetic` take about ``micros`` µs here, warm."""
    steps = 100_000
    begin = time.perf_counter()
    _arithmetic(steps)()
    return max(1, round(micros / ((time.perf_counter() - begin) / steps * 1e6)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000, help="appends per loop")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    args = parser.parse_args(argv)
    events = long_incident(max(args.events, 60))[: args.events]
    rows = _raw_rows("INC-1", events)
    loops: dict[str, Loop] = {
        "raw": _raw(rows),
        "store SQL": _store_sql(events, rows),
        "store": _store(events),
        "raw + arithmetic": _raw(rows, _arithmetic(_calibrated(10.0))),
        "raw + reads": _raw(rows, _reads(100)),
    }
    print(f"{args.events:,} one-event appends per loop, median of {args.repeat} rounds")
    for synchronous in ("FULL", "OFF"):
        measured: dict[str, list[tuple[float, float, float]]] = {name: [] for name in loops}
        for _ in range(args.repeat):
            for name, loop in loops.items():
                with tempfile.TemporaryDirectory(prefix="incidentflow-bench-") as directory:
                    measured[name].append(loop(Path(directory), synchronous))
        figures = {
            name: tuple(median(run[part] for run in runs) for part in range(3))
            for name, runs in measured.items()
        }
        raw_wall = figures["raw"][0]
        print(f"\nsynchronous={synchronous}: µs per append (wall, user CPU, system CPU)")
        for name, (wall, user, system) in figures.items():
            print(
                f"  {name:17} {wall:7.1f} {user:7.1f} {system:7.1f}   "
                f"{wall / raw_wall:5.2f}x raw, {wall - raw_wall:+6.1f} µs"
            )
    print(f"\n(sqlite {sqlite3.sqlite_version}; files in {tempfile.gettempdir()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
