"""The command line run in-process against one store, for the CLI tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from incidentflow.cli import main


class CLI:
    """Runs ``main`` against one store and captures the exit code, stdout and stderr."""

    def __init__(self, db: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.db = db
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        for name in ("VISUAL", "EDITOR", "INCIDENTFLOW_TZ"):  # the tester's own settings
            monkeypatch.delenv(name, raising=False)

    def __call__(self, *args: str, actor: str = "ana") -> tuple[int, str, str]:
        """Run ``incidentflow ARGS --db DB`` as ``actor``."""
        self.monkeypatch.setenv("INCIDENTFLOW_ACTOR", actor)
        code = main([*args, "--db", str(self.db)])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def ok(self, *args: str, actor: str = "ana") -> str:
        """Run a command that must succeed; its stdout."""
        code, out, err = self(*args, actor=actor)
        assert (0, "") == (code, err), args
        return out
