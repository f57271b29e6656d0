"""What each lever of the command pipeline buys: the same commands with one lever off at a time.

    python benchmarks/command_levers.py                  # 2,000 lifecycles, 20,000 notes
    python benchmarks/command_levers.py --lifecycles 500 --repeat 3

Runs ``run.py``'s lifecycle (``Incident.declare`` and 22 commands per incident), one command
(``note``) many times on one incident, and ``Incident.declare`` alone, each with every lever
on, then with one lever off at a time:

- ``builders``: every command builds its event with the validated constructor and admits it
  (each value checked twice), as before the builders;
- ``stamp``: the stamp is checked by ``require_aware`` every time, not first by the inline test.

The transitions baseline of the lifecycle runs in the same rounds.  Rounds are interleaved and
the median kept; every figure is also given as a ratio to the same work with every lever on.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from statistics import median
from typing import Any
from unittest import mock

from _history import START
from _measure import timings
from run import lifecycle_incidentflow, lifecycle_transitions

from incidentflow import Incident, ManualClock, Priority, _commands
from incidentflow import incident as incident_module
from incidentflow.clock import require_aware


def _checked_stamp(self: Incident, now: datetime | None) -> datetime:
    """The stamp as it was taken before the inline test."""
    if now is None:
        clock = self._clock if self._clock is not None else self.clock
        return require_aware(clock.now(), "the clock's now()")
    return require_aware(now, "now")


@contextmanager
def _off(lever: str) -> Iterator[None]:
    """Switch one lever off for the duration of the block ("" switches none off)."""
    plans = dict(_commands._PLANS)
    by_lever: dict[str, list[Any]] = {
        "": [],
        "builders": [
            mock.patch.object(_commands, "builder", return_value=None),
            mock.patch.object(incident_module, "builder", return_value=None),
        ],
        "stamp": [mock.patch.object(Incident, "_stamp", _checked_stamp)],
    }
    patches = by_lever[lever]
    _commands._PLANS.clear()
    for patch in patches:
        patch.start()
    try:
        yield
    finally:
        for patch in reversed(patches):
            patch.stop()
        _commands._PLANS.clear()
        _commands._PLANS.update(plans)


def _switched(lever: str, run: Callable[[], object]) -> Callable[[], object]:
    def switched() -> object:
        with _off(lever):
            return run()

    return switched


def _notes(count: int) -> Callable[[], object]:
    def run() -> object:
        clock = ManualClock(START)
        incident = Incident.declare(
            "INC-1", "Checkout is slow", Priority.P2, actor="ana", clock=clock
        )
        for _ in range(count):
            incident.note("the deploy at 13:58", actor="ana")
        return incident

    return run


def _declarations(count: int) -> Callable[[], object]:
    def run() -> object:
        clock = ManualClock(START)
        return [
            Incident.declare(f"INC-{n}", "Checkout is slow", Priority.P2, actor="ana", clock=clock)
            for n in range(count)
        ]

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifecycles", type=int, default=2_000, help="incidents")
    parser.add_argument("--notes", type=int, default=20_000, help="notes on one incident")
    parser.add_argument("--repeat", type=int, default=7, help="rounds (default 7)")
    args = parser.parse_args(argv)

    clock = ManualClock(START)
    count = args.lifecycles
    workloads: dict[str, tuple[int, Callable[[], object]]] = {
        "lifecycle": (count * 23, lambda: [lifecycle_incidentflow(n, clock) for n in range(count)]),
        "note": (args.notes, _notes(args.notes)),
        "declare": (count, _declarations(count)),
    }
    for workload, (commands, run) in workloads.items():
        runs: dict[str, Callable[[], object]] = {}
        if workload == "lifecycle":
            runs["transitions"] = lambda: [lifecycle_transitions(n, clock) for n in range(count)]
        for lever in ("", "builders", "stamp"):
            runs[lever + " off" if lever else "every lever on"] = _switched(lever, run)
        times = timings(runs, args.repeat)
        base = median(times["every lever on"])
        print(f"{workload}: {commands:,} commands")
        for name, rounds in times.items():
            spent = median(rounds)
            per, ratio = spent / commands * 1e6, spent / base
            print(f"  {name:16} {spent:8.3f} s  {per:6.2f} us/command  {ratio:5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
