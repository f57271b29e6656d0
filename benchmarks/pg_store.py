"""The PostgreSQL store's benchmarks, as ratios to raw psycopg measured in the same run.

    python benchmarks/pg_store.py --quick              # small sizes, a throwaway server
    python benchmarks/pg_store.py                      # the full sizes (10k x 50, 1M feed)
    python benchmarks/pg_store.py --url postgresql://... --quick   # an empty database of yours
    python benchmarks/pg_store.py --only durable_append load       # some of them
    python benchmarks/pg_store.py --transaction-pooler --only load # the stores set for a pooler

Without ``--url`` it starts a throwaway server (tests/postgres.py: initdb, a Unix socket) with
``fsync`` on, so a commit is as durable as a real server's.  The figures:

- durable append: one-event ``PostgresStore.append`` vs a raw ``INSERT`` + ``COMMIT`` of the
  same row into a table like the store's (goal <= 1.5x);
- load: ``load`` of every incident (50 events each: read, chain and summary checked, decoded,
  replayed under the rules) vs a raw ``SELECT`` + ``json.loads`` of its lines (goal <= 2x),
  and vs a raw ``SELECT`` + ``codec.loads`` (the lines decoded into events, nothing checked);
- writers: 1, 2, 4 and 8 processes appending to distinct incidents, each append a durable
  commit; aggregate throughput of 8 over 1 (goal >= 3x; concurrent commits share WAL
  flushes, and the machine's cores bound the rest), next to the same curve of processes doing
  raw ``INSERT`` + ``COMMIT`` on the same server (what the machine allows);
- feed: ``read_since`` pages of 1,000 over the whole feed vs a raw paged ``SELECT`` (goal
  <= 1.5x), and vs a raw ``SELECT`` + ``codec.loads`` of each line.

``--transaction-pooler`` opens every store with ``transaction_pooler=True`` (still straight to
the server): what leaving nothing on a server connection costs (no statement prepared on the
server, each read planned again).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import psycopg
from _history import stored_incident
from _measure import seconds, timings

from incidentflow import codec
from incidentflow.events import NoteAdded
from incidentflow.store import PostgresStore
from incidentflow.store._keys import _Links
from postgres import Cluster, find_binaries

SIZES = {
    "quick": {"appends": 100, "incidents": 100, "writer_appends": 40, "feed": 20_000},
    "full": {"appends": 2_000, "incidents": 10_000, "writer_appends": 300, "feed": 1_000_000},
}

_RAW_TABLE = """CREATE TABLE raw_events (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id text NOT NULL,
    version integer NOT NULL,
    line text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    UNIQUE (incident_id, version)
)"""


def _note(n: int) -> NoteAdded:
    from datetime import UTC, datetime

    at = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # after every incident's opening
    return NoteAdded(actor="ana", occurred_at=at, recorded_at=at, text=f"note {n}")


def _database(admin: str, name: str) -> str:
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return admin.replace("/postgres?", f"/{name}?", 1)


def bench_append(url: str, appends: int, *, pooled: bool = False) -> dict[str, Any]:
    first = stored_incident(0)[:1]
    with PostgresStore(url, transaction_pooler=pooled) as store, psycopg.connect(url) as raw:
        raw.execute(_RAW_TABLE)
        raw.commit()
        store.append("INC-0", first, expected_version=0)
        line = codec.dumps(_note(0))
        state = {"store": 1, "raw": 1}

        def candidate() -> None:
            for _ in range(appends):
                state["store"] = store.append(
                    "INC-0", [_note(state["store"])], expected_version=state["store"]
                )

        def baseline() -> None:
            for _ in range(appends):
                state["raw"] += 1
                raw.execute(
                    "INSERT INTO raw_events (incident_id, version, line, prev_hash, hash) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    ("INC-0", state["raw"], line, "p" * 64, "h" * 64),
                )
                raw.commit()

        times = timings({"raw": baseline, "store": candidate}, 3)
    base, mine = median(times["raw"]), median(times["store"])
    return {"ratio": mine / base, "raw": base / appends, "store": mine / appends}


def bench_load(url: str, incidents: int, *, pooled: bool = False) -> dict[str, Any]:
    with PostgresStore(url, transaction_pooler=pooled) as store:
        for start in range(0, incidents, 200):
            batch = [
                (f"INC-{n}", stored_incident(n), 0)
                for n in range(start, min(incidents, start + 200))
            ]
            store.append_many(batch)
        ids = [f"INC-{n}" for n in range(incidents)]
        with psycopg.connect(url, autocommit=True) as raw:

            def select(decode: Callable[[str], object]) -> Callable[[], None]:
                def run() -> None:
                    for incident_id in ids:
                        rows = raw.execute(
                            "SELECT line FROM events WHERE incident_id = %s ORDER BY position",
                            (incident_id,),
                        ).fetchall()
                        [decode(line) for (line,) in rows]

                return run

            def candidate() -> None:
                for incident_id in ids:
                    store.load(incident_id)

            times = timings(
                {"raw": select(json.loads), "raw+decode": select(codec.loads), "store": candidate},
                3,
            )
    base, decoded = median(times["raw"]), median(times["raw+decode"])
    mine = median(times["store"])
    return {"ratio": mine / base, "ratio_decoded": mine / decoded, "raw": base, "store": mine}


def _writer(url: str, number: int, appends: int, start: Any, done: Any, pooled: bool) -> None:
    incident_id = f"INC-{number}"
    with PostgresStore(url, pool_size=1, transaction_pooler=pooled) as store:
        store.append(incident_id, stored_incident(number)[:1], expected_version=0)
        start.wait()
        version = 1
        for n in range(appends):
            version = store.append(incident_id, [_note(n)], expected_version=version)
    done.put(incident_id)


def _raw_writer(url: str, number: int, appends: int, start: Any, done: Any, _: bool) -> None:
    line = codec.dumps(_note(0))
    with psycopg.connect(url) as raw:
        start.wait()
        for version in range(1, appends + 1):
            raw.execute(
                "INSERT INTO raw_events (incident_id, version, line, prev_hash, hash) "
                "VALUES (%s, %s, %s, %s, %s)",
                (f"INC-{number}", version, line, "p" * 64, "h" * 64),
            )
            raw.commit()
    done.put(number)


def _rate(target: Callable[..., None], url: str, writers: int, appends: int, pooled: bool) -> float:
    """Appends per second of ``writers`` processes running ``target`` at once."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(writers + 1, timeout=120)
    done = context.Queue()
    processes = [
        context.Process(target=target, args=(url, n, appends, start, done, pooled))
        for n in range(writers)
    ]
    for process in processes:
        process.start()
    start.wait()
    begin = time.perf_counter()
    for _ in processes:
        done.get(timeout=600)
    elapsed = time.perf_counter() - begin
    for process in processes:
        process.join()
    return writers * appends / elapsed


def bench_writers(admin: str, appends: int, *, pooled: bool = False) -> dict[str, Any]:
    """The store's curve, and raw INSERT + COMMIT writers' on the same server (the machine's)."""
    curve, raw_curve = {}, {}
    for writers in (1, 2, 4, 8):
        url = _database(admin, f"bench_writers_{writers}")
        with PostgresStore(url), psycopg.connect(url) as raw:
            raw.execute(_RAW_TABLE)
        raw_curve[writers] = _rate(_raw_writer, url, writers, appends, pooled)
        curve[writers] = _rate(_writer, url, writers, appends, pooled)
    return {
        "ratio": curve[8] / curve[1],
        "curve": curve,
        "raw_ratio": raw_curve[8] / raw_curve[1],
        "raw_curve": raw_curve,
    }


def bench_feed(url: str, events: int, *, pooled: bool = False) -> dict[str, Any]:
    with PostgresStore(url, transaction_pooler=pooled) as store, psycopg.connect(url) as raw:
        links = _Links(None)
        per = 50
        incident_lines = [codec.dumps(event) for event in stored_incident(0)]
        with raw.cursor() as cursor:
            for first in range(0, events, per * 200):
                rows = []
                for n in range(first // per, min(events, first + per * 200) // per):
                    incident_id = f"F-{n}"
                    head = links.genesis(incident_id)
                    for version, line in enumerate(incident_lines, start=1):
                        digest = links.link(head, line)
                        rows.append((incident_id, version, line, head, digest))
                        head = digest
                with cursor.copy(
                    "COPY events (incident_id, version, line, prev_hash, hash) FROM STDIN"
                ) as copy:
                    for row in rows:
                        copy.write_row(row)
        raw.commit()
        page = 1000

        def candidate() -> None:
            position = 0
            while entries := store.read_since(position, limit=page):
                position = entries[-1].position

        def select(decode: bool) -> Callable[[], None]:
            def run() -> None:
                position = 0
                while True:
                    rows = raw.execute(
                        "SELECT position, incident_id, version, line FROM events "
                        "WHERE position > %s ORDER BY position LIMIT %s",
                        (position, page),
                    ).fetchall()
                    raw.commit()
                    if not rows:
                        return
                    if decode:
                        [codec.loads(row[3]) for row in rows]
                    position = rows[-1][0]

            return run

        times = timings({"raw": select(False), "raw+decode": select(True), "store": candidate}, 3)
    base, decoded = median(times["raw"]), median(times["raw+decode"])
    mine = median(times["store"])
    return {"ratio": mine / base, "ratio_decoded": mine / decoded, "raw": base, "store": mine}


_BENCHMARKS: dict[str, tuple[str, Callable[..., dict[str, Any]]]] = {
    "durable_append": ("appends", bench_append),
    "load": ("incidents", bench_load),
    "writers": ("writer_appends", bench_writers),
    "feed": ("feed", bench_feed),
}
"""Each benchmark by name: the size it takes and what runs it (on its own database)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--url", help="an existing server's postgres database (admin URL)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument(
        "--only", nargs="+", choices=list(_BENCHMARKS), metavar="NAME", help="run only these"
    )
    parser.add_argument(
        "--transaction-pooler",
        action="store_true",
        help="open every store with transaction_pooler=True (nothing prepared on the server)",
    )
    args = parser.parse_args(argv)
    chosen = args.only or list(_BENCHMARKS)
    sizes = SIZES["quick" if args.quick else "full"]
    cluster = None
    if args.url is None:
        binaries = find_binaries()
        if binaries is None:
            print("no PostgreSQL server binaries found; give --url", file=sys.stderr)
            return 2
        cluster = Cluster(binaries, fsync=True)
        cluster.start()
        admin = cluster.url()
    else:
        admin = args.url
    try:
        results = {}
        for name in chosen:
            size_key, run = _BENCHMARKS[name]
            target = admin if name == "writers" else _database(admin, f"bench_{name}")
            results[name] = run(target, sizes[size_key], pooled=args.transaction_pooler)
    finally:
        if cluster is not None:
            cluster.stop()
    setting = ", transaction_pooler=True" if args.transaction_pooler else ""
    print(f"PostgreSQL benchmarks ({'quick' if args.quick else 'full'}{setting}): {sizes}")
    if "durable_append" in results:
        append = results["durable_append"]
        print(
            f"[pg_durable_append] ratio {append['ratio']:.2f}x store / raw INSERT+COMMIT "
            f"({seconds(append['store'])} vs {seconds(append['raw'])} per append; goal <= 1.5x)"
        )
    if "load" in results:
        load = results["load"]
        print(
            f"[pg_load] ratio {load['ratio']:.2f}x load / raw SELECT + json.loads "
            f"({seconds(load['store'])} vs {seconds(load['raw'])}; "
            f"{load['ratio_decoded']:.2f}x / raw SELECT + codec.loads; goal <= 2x)"
        )
    if "writers" in results:
        writers = results["writers"]
        shown = ", ".join(f"{n}: {rate:.0f}/s" for n, rate in writers["curve"].items())
        raw_shown = ", ".join(f"{n}: {rate:.0f}/s" for n, rate in writers["raw_curve"].items())
        print(
            f"[pg_writers] ratio {writers['ratio']:.2f}x 8 writers / 1 ({shown}; goal >= 3x; "
            f"raw INSERT+COMMIT writers {writers['raw_ratio']:.2f}x: {raw_shown})"
        )
    if "feed" in results:
        feed = results["feed"]
        print(
            f"[pg_feed] ratio {feed['ratio']:.2f}x read_since / raw paged SELECT "
            f"({feed['ratio_decoded']:.2f}x / raw SELECT + codec.loads; goal <= 1.5x)"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
