"""What every benchmark shares: the sizes, the result record and interleaved timing."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark is."""

    replay_events: int
    small_incidents: int
    lifecycles: int
    open_incidents: int
    durable_events: int  # appends of one event, each its own transaction
    batched_events: int  # appended in batches of 100
    stored_incidents: int  # of 50 events each, loaded back
    startup_runs: int  # processes started per command
    repeat: int


FULL = Sizes(
    replay_events=1_000_000,
    small_incidents=100_000,
    lifecycles=2_000,
    open_incidents=10_000,
    durable_events=5_000,
    batched_events=50_000,
    stored_incidents=10_000,
    startup_runs=15,
    repeat=3,
)
QUICK = Sizes(
    replay_events=20_000,
    small_incidents=2_000,
    lifecycles=100,
    open_incidents=500,
    durable_events=100,
    batched_events=2_000,
    stored_incidents=200,
    startup_runs=3,
    repeat=3,
)


@dataclass
class Result:
    """One benchmark's outcome: the ratio to its baseline, the goal, and the figures behind it."""

    name: str
    title: str
    ratio: float
    meaning: str  # what the ratio is, e.g. "incidentflow / json.loads"
    goal: str
    passed: bool
    figures: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    # Further ratios worth reading beside the gated one (e.g. against orjson.loads), not gated.
    reported: dict[str, float] = field(default_factory=dict)

    def report(self) -> str:
        verdict = "PASS" if self.passed else "MISS"
        body = "\n".join(f"  {line}" for line in self.lines)
        return (
            f"{self.title}\n{body}\n"
            f"[{self.name}] ratio {self.ratio:.2f}x {self.meaning} (goal: {self.goal}) {verdict}"
        )


def timings(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Seconds per run of each callable, ``repeat`` rounds, interleaved; results discarded."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            gc.collect()
            begin = time.perf_counter()
            result = run()
            elapsed = time.perf_counter() - begin
            del result
            times[name].append(elapsed)
    return times


def switched_off(
    patches: Callable[[], Sequence[Any]], run: Callable[[], object]
) -> Callable[[], object]:
    """``run`` with ``patches()`` (``unittest.mock`` patchers) applied as it runs: a lever off."""

    def switched() -> object:
        with contextlib.ExitStack() as stack:
            for patch in patches():
                stack.enter_context(patch)
            return run()

    return switched


def seconds(value: float) -> str:
    return f"{value:.3f} s" if value >= 0.1 else f"{value * 1000:.2f} ms"


# -- the summary and --check ---------------------------------------------------------------------


def summary(results: list[Result]) -> str:
    """One table of every benchmark run: name, ratio, goal, met; reported ratios beneath."""
    rows = [("benchmark", "ratio", "goal", "met")]
    rows += [(r.name, f"{r.ratio:.2f}x", r.goal, "yes" if r.passed else "NO") for r in results]
    rows += [
        (f"  {r.name}: {what}", f"{ratio:.2f}x", "(reported, not gated)", "")
        for r in results
        for what, ratio in r.reported.items()
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]])
        for row in rows
    ]
    met = sum(r.passed for r in results)
    return "\n".join(
        ["Summary", *(line.rstrip() for line in lines), f"{met} of {len(results)} goals met."]
    )


def exit_status(results: list[Result], *, check: bool) -> int:
    """0 when every benchmark ran; with ``check``, 1 when any goal was missed."""
    return 1 if check and not all(r.passed for r in results) else 0
