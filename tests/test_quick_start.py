"""The README's Quick start: two commands, the second CI's own, the first run from a fresh clone.

The first command is run as a new user runs it: in a fresh clone of the committed tree, with a
``python3`` that refuses system-wide installs (PEP 668) and with the ``python3`` running these
tests. It installs incidentflow's dependencies into a new virtual environment from the package
index pip is configured with, so it takes a while. Where no distribution Python exists the test
skips; in CI (``CI=true``) it is required.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CI_RUN = ROOT / ".ci" / "run"
# Debian's and Ubuntu's own interpreter: it refuses `pip install` outside a virtual environment.
DISTRIBUTION_PYTHONS = (Path("/usr/bin/python3"),)
# What the interpreter says about itself: its stdlib directory (where PEP 668's marker lives),
# whether it runs inside a virtual environment (where the marker does not apply), its version.
ABOUT = (
    "import sys, sysconfig; print(sysconfig.get_path('stdlib')); "
    "print(sys.prefix != sys.base_prefix); print(sys.version_info >= (3, 11))"
)


def quick_start(readme: Path) -> list[str]:
    """Every non-blank line of the Quick start's console block(s) in ``readme``."""
    text = readme.read_text(encoding="utf-8")
    section = text.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```console\n(.*?)```", section, re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def refuses_system_installs(python: Path) -> bool:
    """Whether ``python`` is a 3.11+ interpreter outside any venv with PEP 668's marker."""
    if not python.is_file():
        return False
    about = subprocess.run(
        [str(python), "-c", ABOUT], capture_output=True, text=True, check=False
    ).stdout.split("\n")
    if len(about) < 3:
        return False
    stdlib, in_venv, recent = about[:3]
    return (Path(stdlib) / "EXTERNALLY-MANAGED").is_file() and (in_venv, recent) == (
        "False",
        "True",
    )


def distribution_python(candidates: tuple[Path, ...] = DISTRIBUTION_PYTHONS) -> Path | None:
    """The first of ``candidates`` that refuses system-wide installs, if any does."""
    return next((python for python in candidates if refuses_system_installs(python)), None)


def unavailable(reason: str) -> None:
    """Skip with ``reason``, or fail with it when CI is set: CI must prove the Quick start."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def fresh_clone(into: Path) -> Path:
    """A clone of this repository's committed HEAD, as a new user gets it."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        unavailable(f"cannot clone {ROOT}: git or a git checkout is missing")
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    clone = into / "incidentflow"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", "--detach", head], check=True)
    return clone


def shell_with_python3(python: Path) -> dict[str, str]:
    """The environment a user's shell has, with ``python`` first on PATH as ``python3``."""
    assert "python3" == python.name
    dropped = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("COV_")}
    env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", "")])
    return env


def _fake_python(tmp_path: Path, *, marker: bool, in_venv: bool, recent: bool) -> Path:
    """A stand-in interpreter that answers ABOUT as told, with or without PEP 668's marker."""
    stdlib = tmp_path / "lib" / "python3"
    stdlib.mkdir(parents=True)
    if marker:
        (stdlib / "EXTERNALLY-MANAGED").write_text("[externally-managed]\n", encoding="utf-8")
    python = tmp_path / "bin" / "python3"
    python.parent.mkdir()
    python.write_text(f"#!/bin/sh\nprintf '%s\\n' '{stdlib}' {in_venv} {recent}\n")
    python.chmod(0o755)
    return python


# -- the README's text -----------------------------------------------------------------------


def test_quick_start_is_exactly_two_one_line_commands() -> None:
    """The Quick start is one console block: install and run the demo, then run the suite."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## Quick start\n")[1]
    fences = re.findall(r"^```", section.split("\n## ", 1)[0], re.MULTILINE)
    expected = [
        "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/incidentflow demo",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest"
        " -n auto",
    ]
    assert (2, expected) == (len(fences), quick_start(ROOT / "README.md"))


def test_quick_start_reads_every_line_of_the_console_block(tmp_path: Path) -> None:
    """Each non-blank line of the block is a command; prose and other sections are not."""
    readme = tmp_path / "README.md"
    readme.write_text(
        "# x\n\n## Quick start\n\nRun:\n\n```console\none\n\ntwo\nthree\n```\n\n"
        "## Next\n\n```console\nfour\n```\n",
        encoding="utf-8",
    )
    assert ["one", "two", "three"] == quick_start(readme)


# -- CI runs the README's second command -----------------------------------------------------


def _ci_run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``.ci/run`` as CI does, from a copy of it under ``root``."""
    script = root / ".ci" / "run"
    if root != ROOT:
        script.parent.mkdir(parents=True)
        shutil.copy(CI_RUN, script)
    return subprocess.run(["bash", str(script), *args], capture_output=True, text=True, check=False)


def test_ci_runs_the_readmes_second_command_as_written() -> None:
    """`.ci/run --print` shows the README's second Quick start command, character for character."""
    done = _ci_run(ROOT, "--print")
    assert (0, quick_start(ROOT / "README.md")[1] + "\n", "") == (
        done.returncode,
        done.stdout,
        done.stderr,
    )


@pytest.mark.parametrize("status", [0, 1, 5])
def test_ci_fails_exactly_when_the_command_fails(tmp_path: Path, status: int) -> None:
    """CI runs the command in the repository root and exits with its status, pytest's 5 too."""
    (tmp_path / "README.md").write_text(
        f"## Quick start\n\n```console\nfirst\necho 'as written' > ran.txt && exit {status}\n```\n",
        encoding="utf-8",
    )
    done = _ci_run(tmp_path)
    assert (status, "as written\n") == (
        done.returncode,
        (tmp_path / "ran.txt").read_text(encoding="utf-8"),
    )


@pytest.mark.parametrize("commands", ["only\n", "one\ntwo\nthree\n", ""])
def test_ci_refuses_a_quick_start_that_is_not_two_commands(tmp_path: Path, commands: str) -> None:
    """With other than two commands in the Quick start, CI fails at once and runs nothing."""
    (tmp_path / "README.md").write_text(
        f"## Quick start\n\n```console\n{commands}```\n", encoding="utf-8"
    )
    done = _ci_run(tmp_path, "--print")
    found = len(commands.splitlines())
    expected = f".ci/run: README.md's Quick start must hold exactly two commands; found {found}\n"
    assert (1, "", expected) == (done.returncode, done.stdout, done.stderr)


# -- which interpreters refuse system-wide installs ------------------------------------------


@pytest.mark.parametrize(
    ("marker", "in_venv", "recent", "expected"),
    [
        (True, False, True, True),
        (False, False, True, False),
        (True, True, True, False),
        (True, False, False, False),
    ],
    ids=["distribution", "hand-installed", "venv-of-distribution", "too-old"],
)
def test_refuses_system_installs_reads_pep_668s_marker_outside_venvs(
    tmp_path: Path, marker: bool, in_venv: bool, recent: bool, expected: bool
) -> None:
    """Only a 3.11+ interpreter outside a venv, with the marker in its stdlib, counts."""
    python = _fake_python(tmp_path, marker=marker, in_venv=in_venv, recent=recent)
    assert (expected, python if expected else None) == (
        refuses_system_installs(python),
        distribution_python((tmp_path / "missing" / "python3", python)),
    )


def test_a_missing_interpreter_does_not_refuse(tmp_path: Path) -> None:
    """A candidate that does not exist is no distribution Python."""
    assert None is distribution_python((tmp_path / "python3",))


@pytest.mark.parametrize(
    ("ci", "outcome"),
    [
        ("true", pytest.fail.Exception),
        ("", pytest.skip.Exception),
        ("false", pytest.skip.Exception),
    ],
)
def test_an_unavailable_python_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    """Without a distribution Python the test skips with its reason, but fails in CI."""
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome) as raised:
        unavailable("no python3 here")
    assert str(raised.value).endswith("no python3 here")


# -- the first command, from a fresh clone ---------------------------------------------------


def _python(kind: str) -> Path:
    """The ``python3`` to run the first command with, or skip (fail in CI) without one."""
    if kind == "running":
        return Path(sys.base_prefix) / "bin" / "python3"
    found = distribution_python()
    if found is None:
        names = ", ".join(map(str, DISTRIBUTION_PYTHONS))
        unavailable(f"no python3 that refuses system-wide installs (PEP 668) at {names}")
    assert found is not None
    return found


@pytest.mark.parametrize("kind", ["distribution", "running"])
def test_first_command_installs_and_runs_the_demo_from_a_fresh_clone(
    tmp_path: Path, kind: str
) -> None:
    """The README's first command makes .venv with that python3 and runs the whole demo."""
    python = _python(kind)
    clone = fresh_clone(tmp_path)
    first = quick_start(clone / "README.md")[0]
    done = subprocess.run(
        ["bash", "-c", first],
        cwd=clone,
        env=shell_with_python3(python),
        capture_output=True,
        text=True,
        check=False,
    )
    assert 0 == done.returncode, done.stdout + done.stderr
    home = (clone / ".venv" / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    assert f"home = {python.parent}" in home
    lines = done.stdout.splitlines()
    moves = [line.rsplit("→ now ", 1)[1] for line in lines if "→ now " in line]
    assert ["mitigating", "yellow", "green", "reported", "post_mortem"] == moves
    assert any(line.startswith("Done: INC-1042 is post_mortem after ") for line in lines)
