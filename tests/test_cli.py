"""The command line: demo, diagram, usage and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from incidentflow import Incident, State, codec
from incidentflow.cli import main
from incidentflow.demo import run_demo
from incidentflow.lifecycle import EDGES

PATH_STATES = ["declared", "mitigating", "yellow", "green", "reported", "post_mortem"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m incidentflow ARGS`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "incidentflow", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=60,
    )


def test_demo_in_a_subprocess_shows_every_state() -> None:
    """`incidentflow demo` exits 0 and narrates the incident through every state of its path."""
    result = run("demo")
    assert (result.returncode, result.stderr) == (0, "")
    for state in PATH_STATES[1:]:
        assert f"→ now {state}" in result.stdout
    for state in PATH_STATES:
        assert state in result.stdout
    assert "Done: INC-1042 is post_mortem" in result.stdout


def test_demo_writes_events_that_replay(tmp_path: Path, capsys: Any) -> None:
    """--events FILE writes JSON Lines that load and replay to the demo's incident."""
    path = tmp_path / "demo.jsonl"
    assert main(["demo", "--events", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    events = codec.load_lines(text)
    replayed = Incident.replay(events)
    assert replayed.state == State.POST_MORTEM
    assert run_demo(write=lambda line: None) == replayed
    assert len(events) == len(text.splitlines())
    out = capsys.readouterr().out
    assert f"Wrote {len(events)} events to {path}" in out


def test_demo_events_from_a_subprocess_replay(tmp_path: Path) -> None:
    """The installed entry point writes the same history as the library."""
    path = tmp_path / "demo.jsonl"
    result = run("demo", "--events", str(path))
    assert result.returncode == 0
    history = codec.load_lines(path.read_text(encoding="utf-8"))
    assert list(run_demo(write=lambda line: None).history) == history


def test_unwritable_events_path_is_bad_input(tmp_path: Path) -> None:
    """An --events path that cannot be written exits 2 with a message and no traceback."""
    path = tmp_path / "no-such-dir" / "demo.jsonl"
    result = run("demo", "--events", str(path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"incidentflow: cannot write {path}")
    assert "Traceback" not in result.stderr
    assert not path.exists()


def test_events_path_that_is_a_directory_is_bad_input(tmp_path: Path, capsys: Any) -> None:
    """Writing events onto a directory exits 2 with a message."""
    assert main(["demo", "--events", str(tmp_path)]) == 2
    assert f"cannot write {tmp_path}" in capsys.readouterr().err


def test_diagram_prints_a_mermaid_state_diagram(capsys: Any) -> None:
    """`incidentflow diagram` prints a Mermaid stateDiagram with every state and trigger."""
    assert main(["diagram"]) == 0
    out = capsys.readouterr().out
    assert "stateDiagram" in out
    for state in State:
        assert f'state "{state.value}" as {state.value}' in out
    for edge in EDGES.values():
        assert f"{edge.source.value} --> {edge.target.value}: {edge.trigger}" in out


def test_no_command_prints_usage_and_exits_2() -> None:
    """Without a command, the usage is shown and the exit code is 2."""
    result = run()
    assert result.returncode == 2
    assert "usage: incidentflow" in result.stdout + result.stderr
    assert "demo" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_command_is_a_usage_error(capsys: Any) -> None:
    """An unknown command is argparse's usage error, exit 2."""
    with pytest.raises(SystemExit) as info:
        main(["launch"])
    assert info.value.code == 2
    expected = (
        "incidentflow: error: unknown command 'launch' (incidentflow --help lists every command)\n"
    )
    assert expected == capsys.readouterr().err


def test_help_exits_0(capsys: Any) -> None:
    """--help describes the commands and exits 0."""
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "demo" in out
    assert "diagram" in out
