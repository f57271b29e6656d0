"""The benchmarks: a quick run of benchmarks/run.py works and reports every ratio.

Timings are never asserted: the figures belong in docs/benchmarks.md, not in a test on a
shared machine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = [
    "replay",
    "per_incident",
    "lifecycle",
    "memory",
    "durable_append",
    "load_many",
    "help_startup",
    "stats",
    "dead_sink",
    "drain",
]
RATIO_LINE = re.compile(r"^\[(\w+)\] ratio \d+\.\d+x .+ \(goal: .+\) (?:PASS|MISS)$", re.MULTILINE)


def _ran(script: str, *arguments: str) -> str:
    """What ``benchmarks/SCRIPT ARGUMENTS...`` prints, after checking it exited 0, silently."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=300,
    )
    assert (0, "") == (result.returncode, result.stderr), result.stdout
    return result.stdout


def test_quick_run_prints_every_ratio(tmp_path: Path) -> None:
    """`run.py --quick --json FILE` exits 0, prints a ratio line per benchmark and saves them."""
    saved = tmp_path / "results.json"
    printed = _ran("run.py", "--quick", "--json", str(saved))
    assert BENCHMARKS == RATIO_LINE.findall(printed)
    assert "\nSummary\nbenchmark " in printed
    assert BENCHMARKS == [r["name"] for r in json.loads(saved.read_text("utf-8"))["results"]]


def _measure() -> Any:
    """benchmarks/_measure.py, imported as the runner imports it."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import _measure
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return _measure


def _result(name: str, ratio: float, passed: bool, **reported: float) -> Any:
    return _measure().Result(
        name=name, title=name, ratio=ratio, meaning="a / b", goal="<= 1.5x", passed=passed,
        reported=reported,
    )  # fmt: skip


def test_the_summary_has_a_row_per_benchmark_and_the_reported_ratios() -> None:
    """The summary table lists name, ratio, goal and met, then the ratios that are not gated."""
    results = [
        _result("replay", 1.234, True, **{"vs orjson.loads": 2.5}),
        _result("load_many", 2.5, False),
    ]
    expected = [
        "Summary",
        "benchmark                  ratio  goal                   met",
        "replay                     1.23x  <= 1.5x                yes",
        "load_many                  2.50x  <= 1.5x                NO",
        "  replay: vs orjson.loads  2.50x  (reported, not gated)",
        "1 of 2 goals met.",
    ]
    assert expected == _measure().summary(results).splitlines()


@pytest.mark.parametrize(
    ("passed", "check", "status"),
    [
        ((True, True), False, 0),
        ((True, False), False, 0),
        ((True, True), True, 0),
        ((True, False), True, 1),
        ((), True, 0),
    ],
)
def test_check_exits_1_only_when_a_goal_is_missed(
    passed: tuple[bool, ...], check: bool, status: int
) -> None:
    """Without --check the status is 0; with it, 1 as soon as one goal is missed."""
    results = [_result(f"b{n}", 1.0, ok) for n, ok in enumerate(passed)]
    assert status == _measure().exit_status(results, check=check)


def test_check_is_a_documented_option() -> None:
    """`run.py --help` offers --check."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "--check" in result.stdout


LEVERS = {
    # script: (small arguments, a line each of its sections starts with)
    "append_levers.py": (
        ["--events", "60", "--repeat", "1"],
        ["synchronous=FULL:", "synchronous=OFF:", "  raw ", "  store SQL ", "  store ",
         "  raw + arithmetic ", "  raw + reads "],
    ),
    "command_levers.py": (
        ["--lifecycles", "5", "--notes", "50", "--repeat", "1"],
        ["lifecycle: ", "note: ", "declare: ", "  builders off ", "  stamp off "],
    ),
    "decode_levers.py": (
        ["--events", "200", "--incidents", "5", "--repeat", "1"],
        ["codec.load_lines of 200 events", "store.events of 5 stored incidents",
         "  load_lines, orjson off ", "  store.events, trusted off "],
    ),
    "fold_levers.py": (
        ["--events", "200", "--incidents", "20", "--repeat", "1"],
        ["200 events; json.loads", "every lever on ", "quick off ", "builders off "],
    ),
}  # fmt: skip


@pytest.mark.parametrize("script", sorted(LEVERS))
def test_each_lever_script_runs_at_small_sizes(script: str) -> None:
    """The scripts docs/benchmarks.md cites run and print each of their sections."""
    arguments, starts = LEVERS[script]
    printed = _ran(script, *arguments)
    lines = printed.splitlines()
    assert len(lines) > 3
    for start in starts:
        assert any(line.startswith(start) for line in lines), (start, printed)
