"""What each lever of the decode path buys: the same reads with one lever switched off at a time.

    python benchmarks/decode_levers.py                   # 100,000 events, 1,000 stored incidents
    python benchmarks/decode_levers.py --events 20000 --incidents 200 --repeat 3

Reads the long history of ``run.py``'s replay with ``codec.load_lines`` (the untrusted path)
and the stored incidents of ``load_many`` with ``store.events`` (read, chain check, trusted
decode), each with every lever on, then with one lever off at a time:

- ``orjson``: the codec reads and writes with the standard library alone (the builders
  still build every event);
- ``trusted``: the store reads its verified rows with ``codec.loads``, as untrusted text;
- ``pause``: ``load_lines`` leaves the cyclic garbage collector running while it decodes
  (measured with the replay that follows too, since that is where the collections it saved
  are made up);
- ``promote``: a bulk read or replay leaves what it made young, for the collector's young
  passes to age (the pauses stay).

What the builders themselves bought is measured against the code before them (see
docs/benchmarks.md): switched off here, every line would be parsed twice.

Rounds are interleaved and the median kept; each figure is also given as a ratio to
``json.loads`` (and, for the store, to ``SELECT line`` + ``json.loads``) of the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any
from unittest import mock

from _history import long_incident
from _measure import switched_off, timings
from _store import _build

from incidentflow import Incident, _collector, codec
from incidentflow.store import SQLiteStore


def _patches(lever: str) -> list[Any]:
    """The patches switching one lever off ("" switches none off), made afresh each time."""
    by_lever: dict[str, list[Any]] = {
        "": [],
        "orjson": [mock.patch.object(codec, "_orjson", None)],
        "trusted": [mock.patch.object(codec, "_loads_verified", codec.loads)],
        "pause": [mock.patch.object(codec, "paused", contextlib.nullcontext)],
        "promote": [mock.patch.object(_collector, "_FREEZING", False)],
    }
    return by_lever[lever]


def _switched(lever: str, run: Callable[[], object]) -> Callable[[], object]:
    return switched_off(lambda: _patches(lever), run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="history length")
    parser.add_argument("--incidents", type=int, default=1_000, help="stored incidents")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    args = parser.parse_args(argv)

    text = codec.dump_lines(long_incident(args.events))
    lines = [line for line in text.split("\n") if line]
    runs: dict[str, Callable[[], object]] = {"json.loads": lambda: [json.loads(x) for x in lines]}
    if codec._orjson is not None:
        parse = codec._orjson.loads
        runs["orjson.loads"] = lambda: [parse(x) for x in lines]
    for lever in ("", "orjson", "pause", "promote"):
        runs[f"load_lines, {lever + ' off' if lever else 'every lever on'}"] = _switched(
            lever, lambda: codec.load_lines(text)
        )
    for lever in ("", "pause", "promote"):
        runs[f"+ replay, {lever + ' off' if lever else 'every lever on'}"] = _switched(
            lever, lambda: Incident.replay(codec.load_lines(text))
        )
    times = timings(runs, args.repeat)
    base = median(times["json.loads"])
    print(f"codec.load_lines of {args.events:,} events ({len(text) / args.events:.0f} bytes each)")
    for name, rounds in times.items():
        print(f"  {name:32} {median(rounds):8.3f} s  {median(rounds) / base:5.2f}x json.loads")

    with tempfile.TemporaryDirectory(prefix="incidentflow-levers-") as directory:
        path = Path(directory) / "incidents.db"
        _build(path, args.incidents)
        ids = [f"INC-{number}" for number in range(args.incidents)]
        raw = sqlite3.connect(path, isolation_level=None)
        query = "SELECT line FROM events WHERE incident_id = ? ORDER BY version"
        with SQLiteStore(path, read_only=True) as store:

            def events() -> None:
                for incident_id in ids:
                    store.events(incident_id)

            runs = {
                "SELECT + json.loads": lambda: [
                    [json.loads(line) for (line,) in raw.execute(query, (i,))] for i in ids
                ],
            }
            for lever in ("", "orjson", "trusted"):
                runs[f"store.events, {lever + ' off' if lever else 'every lever on'}"] = _switched(
                    lever, events
                )
            times = timings(runs, args.repeat)
        raw.close()
    base = median(times["SELECT + json.loads"])
    print(f"store.events of {args.incidents:,} stored incidents of 50 events")
    for name, rounds in times.items():
        ratio = median(rounds) / base
        print(f"  {name:32} {median(rounds):8.3f} s  {ratio:5.2f}x SELECT + json.loads")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
