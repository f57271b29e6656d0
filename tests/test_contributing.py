"""Contributors can run part of the suite: the coverage gate holds the whole run only."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _root_conftest() -> Any:
    """The repository root's conftest.py (``conftest`` names this directory's too)."""
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


partial_run = _root_conftest().partial_run


def _config(source: Any, keyword: str = "", markexpr: str = "") -> Any:
    options = {"keyword": keyword, "markexpr": markexpr}
    return SimpleNamespace(args_source=source, getoption=lambda name, default=None: options[name])


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (_config(pytest.Config.ArgsSource.TESTPATHS), False),
        (_config(pytest.Config.ArgsSource.ARGS), True),
        (_config(pytest.Config.ArgsSource.TESTPATHS, keyword="policy"), True),
        (_config(pytest.Config.ArgsSource.TESTPATHS, markexpr="slow"), True),
    ],
    ids=["whole", "paths", "-k", "-m"],
)
def test_only_the_whole_run_is_whole(config: Any, expected: bool) -> None:
    """A run with no paths and no selection is the whole suite; anything less is partial."""
    assert expected == partial_run(config)


def test_one_test_file_passes_on_its_own() -> None:
    """`python -m pytest tests/test_priorities.py` measures coverage and still exits 0."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/test_priorities.py",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert (0, True) == (result.returncode, "TOTAL" in result.stdout), result.stdout[-2000:]
