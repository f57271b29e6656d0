"""What each lever of the replay buys: the same replays with one lever switched off at a time.

    python benchmarks/fold_levers.py                      # 200,000 events, 20,000 small incidents
    python benchmarks/fold_levers.py --events 50000 --incidents 5000 --repeat 3

Replays, already decoded, the long history of ``run.py``'s replay and the small incidents of
``per_incident`` (with one long incident of as many events beside them), with every lever on,
then with one lever off at a time:

- ``quick``: no quick checks; every event is checked in full by ``Policy.unmet``, then folded;
- ``builders``: the fold builds the records it keeps with the classes' own ``__init__``.

Every run replays under a policy object of its own, so it builds its quick checks itself.
Rounds are interleaved and the median kept; each figure is given as a ratio to ``json.loads``
of the history's lines, and ``per_incident`` as small incidents / one incident.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from statistics import median
from typing import Any
from unittest import mock

import attrs
from _history import long_incident, small_incident
from _measure import switched_off, timings

from incidentflow import DEFAULT_POLICY, Incident, codec
from incidentflow import _fold as fold
from incidentflow import incident as incident_module
from incidentflow import policy as policy_module
from incidentflow.records import ActionItem, DataLoss, Experiment, ManualChange, TechDebt, WhyChain

LEVERS = ("", "quick", "builders")


def _patches(lever: str) -> list[Any]:
    """The patches switching one lever off ("" switches none off), made afresh each time."""

    def none(*args: object, **kwargs: object) -> None:
        return None

    by_lever: dict[str, list[Any]] = {
        "": [],
        "quick": [
            mock.patch.object(policy_module, "_quick_check", none),
            mock.patch.object(incident_module, "_quick_check", none),
        ],
        "builders": [
            mock.patch.object(fold, name, kind)
            for name, kind in (
                ("_new_experiment", Experiment),
                ("_new_manual_change", ManualChange),
                ("_new_why_chain", WhyChain),
                ("_new_data_loss", DataLoss),
                ("_new_tech_debt", TechDebt),
                ("_new_action_item", ActionItem),
            )
        ],
    }
    return by_lever[lever]


def _switched(lever: str, run: Callable[[], object]) -> Callable[[], object]:
    return switched_off(lambda: _patches(lever), run)


def _name(lever: str) -> str:
    return f"{lever} off" if lever else "every lever on"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="history length")
    parser.add_argument("--incidents", type=int, default=20_000, help="small incidents")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    args = parser.parse_args(argv)

    text = codec.dump_lines(long_incident(args.events))
    lines = [line for line in text.split("\n") if line]
    history = list(codec.load_lines(text))
    smalls = [small_incident(n) for n in range(args.incidents)]
    big = long_incident(sum(len(events) for events in smalls))

    def replay(events: list[Any]) -> Callable[[], object]:
        return lambda: Incident.replay(events, policy=attrs.evolve(DEFAULT_POLICY))

    def replay_each(incidents: list[list[Any]]) -> Callable[[], object]:
        def run() -> object:
            policy = attrs.evolve(DEFAULT_POLICY)
            return [Incident.replay(events, policy=policy) for events in incidents]

        return run

    runs: dict[str, Callable[[], object]] = {"json.loads": lambda: [json.loads(x) for x in lines]}
    for lever in LEVERS:
        runs[f"replay, {_name(lever)}"] = _switched(lever, replay(history))
        runs[f"one incident, {_name(lever)}"] = _switched(lever, replay(big))
        runs[f"small incidents, {_name(lever)}"] = _switched(lever, replay_each(smalls))
    times = {name: median(values) for name, values in timings(runs, args.repeat).items()}
    base = times["json.loads"]
    print(f"{len(lines):,} events; json.loads {base / len(lines) * 1e6:.2f} us per line")
    print(f"{'lever':<18} {'replay / json.loads':>20} {'per_incident':>13}")
    for lever in LEVERS:
        name = _name(lever)
        replayed = times[f"replay, {name}"] / base
        per = times[f"small incidents, {name}"] / times[f"one incident, {name}"]
        print(f"{name:<18} {replayed:>19.3f}x {per:>12.3f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
