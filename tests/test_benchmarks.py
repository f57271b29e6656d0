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


def test_quick_run_prints_every_ratio(tmp_path: Path) -> None:
    """`run.py --quick --json FILE` exits 0, prints a ratio line per benchmark and saves them."""
    saved = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--json", str(saved)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=300,
    )
    assert (0, "") == (result.returncode, result.stderr), result.stdout
    assert BENCHMARKS == RATIO_LINE.findall(result.stdout)
    assert BENCHMARKS == [r["name"] for r in json.loads(saved.read_text("utf-8"))["results"]]
