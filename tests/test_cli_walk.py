"""docs/cli.md's walk of INC-7, run command by command on a fixed clock, prints what it shows.

The clock stands at 2026-03-01 14:00 UTC when the walk begins and moves one minute before
each command, so every time the page shows is the one the suite sees.
"""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from incidentflow import clock as clock_module
from incidentflow.cli import _files, main
from incidentflow.store import _base

PAGE = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
WALK = re.compile(r"<!-- walk -->\n```console\n(.*?)```", re.DOTALL)
START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


class _AnyDatetime(type):
    """A metaclass under which every datetime is an instance, as under ``datetime`` itself."""

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, datetime)


class FixedClock:
    """Stands in for ``datetime`` where the library reads the wall clock."""

    moment = START

    def __init__(self) -> None:
        outer = self

        class Frozen(datetime, metaclass=_AnyDatetime):
            @classmethod
            def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
                return outer.moment

        self.datetime = Frozen

    def tick(self) -> None:
        self.moment += timedelta(minutes=1)


@pytest.fixture
def fixed(monkeypatch: pytest.MonkeyPatch) -> FixedClock:
    """Every wall-clock read of the library answers the fixed clock's time."""
    fixed = FixedClock()
    for module in (clock_module, _base, _files):
        monkeypatch.setattr(module, "datetime", fixed.datetime)
    return fixed


def steps() -> list[tuple[str, list[str]]]:
    """Each ``$ command`` of the walk's blocks, in order, with the lines shown after it."""
    found: list[tuple[str, list[str]]] = []
    for block in WALK.findall(PAGE.read_text(encoding="utf-8")):
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append((line[2:], []))
            else:
                found[-1][1].append(line)
    return found


def test_the_walk_is_marked() -> None:
    """The page marks its walk: a P1 from declaration to post-mortem, then a look around."""
    commands = [command.split()[1] for command, _ in steps() if command.startswith("incident")]
    assert {"declare", "mitigate", "yellow", "green", "post-mortem", "list", "due"} <= set(commands)


def test_the_walk_prints_what_the_page_shows(
    fixed: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """Every command of the walk prints exactly the lines shown, and the exit code shown."""
    monkeypatch.chdir(tmp_path)
    for name in ("VISUAL", "EDITOR", "INCIDENTFLOW_TZ"):
        monkeypatch.delenv(name, raising=False)
    for command, shown in steps():
        if command.startswith("export "):
            name, _, value = command[len("export ") :].partition("=")
            monkeypatch.setenv(name, value.replace("$HOME", str(tmp_path)))
            continue
        fixed.tick()
        words, _, head = command.partition(" | head -")
        argv = shlex.split(words)
        code = main(argv[1:])
        captured = capsys.readouterr()
        printed = captured.out.splitlines()
        if head:
            printed = printed[: int(head)]
        printed += captured.err.splitlines()
        if code:
            printed.append(f"[exit {code}]")
        assert shown == printed, command
