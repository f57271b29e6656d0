"""The static checks run as part of the suite, so one command proves everything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "command",
    [
        ("mypy", "--strict", "src", "tests", "benchmarks"),
        ("ruff", "check", "."),
        ("ruff", "format", "--check", "."),
    ],
    ids=["mypy-strict", "ruff-check", "ruff-format"],
)
def test_static_check_is_clean(command: tuple[str, ...]) -> None:
    """mypy --strict and ruff report nothing."""
    result = _run(*command)
    assert result.returncode == 0, result.stdout + result.stderr
