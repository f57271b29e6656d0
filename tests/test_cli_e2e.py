"""The command line end to end: a person walks a whole P1 incident from the terminal.

Every command runs ``python -m incidentflow`` in a fresh interpreter, as a person at a shell
would, against a SQLite file in ``tmp_path``.  ``INCIDENTFLOW_ACTOR`` is the lead; the other
responders speak with ``--actor``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from incidentflow import NoteAdded, State, codec
from incidentflow.cli import main
from incidentflow.store import SQLiteStore

INC = "INC-7"
LEAD, IC, COMMUNICATOR, RECORDER = "ana", "bo", "cy", "di"
WHYS = [
    "The service is down.",
    "The database connection failed.",
    "The authentication token has expired.",
    "The token was not refreshed.",
    "The scheduled job for token refreshment failed.",
]
SUBCOMMANDS = [
    ["declare"],
    ["confirm"],
    ["link"],
    ["assign"],
    ["hand-off"],
    ["release"],
    ["update"],
    ["experiment"],
    ["experiment", "start"],
    ["experiment", "conclude"],
    ["change"],
    ["change", "log"],
    ["change", "reconcile"],
    ["note"],
    ["why"],
    ["factor"],
    ["verify-recovery"],
    ["verify-customer"],
    ["debt"],
    ["debt", "open"],
    ["debt", "close"],
    ["start-report"],
    ["report"],
    ["agenda"],
    ["stats"],
    ["chart"],
    ["schedule"],
    ["action"],
    ["action", "add"],
    ["action", "close"],
    ["priority"],
    ["mitigate"],
    ["yellow"],
    ["green"],
    ["mark-reported"],
    ["post-mortem"],
    ["dismiss"],
    ["reopen"],
    ["status"],
    ["timeline"],
    ["list"],
    ["due"],
    ["export"],
    ["import"],
    ["validate"],
    ["verify"],
    ["migrate"],
    ["copy"],
    ["diagram"],
    ["demo"],
]


class Shell:
    """A terminal with INCIDENTFLOW_DB and INCIDENTFLOW_ACTOR set, running the CLI."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "incidents.db"
        self.cwd = tmp_path
        self.env = {
            **os.environ,
            "INCIDENTFLOW_DB": str(self.db),
            "INCIDENTFLOW_ACTOR": LEAD,
            "PYTHONIOENCODING": "utf-8",
        }

    def run(self, *args: str, actor: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``incidentflow ARGS`` (as ``actor`` if given); the finished process."""
        extra = ["--actor", actor] if actor is not None else []
        return subprocess.run(
            [sys.executable, "-m", "incidentflow", *args, *extra],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=self.env,
            cwd=self.cwd,
            check=False,
            timeout=60,
        )

    def ok(self, *args: str, actor: str | None = None) -> str:
        """Run a command that must succeed; its stdout."""
        result = self.run(*args, actor=actor)
        assert (0, "") == (result.returncode, result.stderr), (args, result.stdout)
        return result.stdout

    def fails(self, code: int, *args: str, actor: str | None = None) -> str:
        """Run a command that must exit ``code`` with a clean message; its stderr."""
        result = self.run(*args, actor=actor)
        assert code == result.returncode, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stderr.strip()
        return result.stderr


def iso(moment: datetime) -> str:
    """The moment as ISO 8601 with its UTC offset."""
    return moment.isoformat(timespec="seconds")


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    """A terminal whose store lives in tmp_path."""
    return Shell(tmp_path)


def test_a_p1_walked_from_the_terminal_to_post_mortem(shell: Shell, tmp_path: Path) -> None:
    """Every runbook step of a P1 works from the shell; the store, timeline and export agree."""
    began = datetime.now(UTC) - timedelta(hours=1)
    shell.ok("declare", INC, "--title", "Database is down", "--priority", "P1", "--at", iso(began))
    shell.ok("assign", INC, "lead", LEAD)
    shell.ok("assign", INC, "ic", IC)
    shell.ok("assign", INC, "communicator", COMMUNICATOR)

    # Too early: not validated, no links; the recorder is missing too.
    refused = shell.fails(1, "mitigate", INC, "mitigating now")
    for rule in ("validated", "required_links", "required_roles"):
        assert rule in refused
    assert "recorder" in refused

    shell.ok("assign", INC, "recorder", RECORDER)
    shell.ok("confirm", INC, "--evidence", "primary db refuses connections")
    shell.ok("link", INC, "ticket", "https://jira.example/IM-1")
    shell.ok("link", INC, "war_room", "https://chat.example/war-7")
    refused = shell.fails(1, "mitigate", INC, "mitigating now")
    assert "required_links" in refused
    assert "announcement" in refused
    assert "validated" not in refused
    assert "required_roles" not in refused
    shell.ok("link", INC, "announcement", "https://chat.example/tech-outage/7")
    assert "mitigating" in shell.ok("mitigate", INC, "mitigating now")

    shell.ok(
        "experiment",
        "start",
        INC,
        "--hypothesis",
        "the token expired",
        "--action",
        "refresh the token",
        "--expected",
        "connections succeed",
        "--component",
        "db",
        "--owner",
        IC,
        "--id",
        "E1",
        actor=IC,
    )
    shell.ok(
        "experiment",
        "conclude",
        INC,
        "E1",
        "--observed",
        "connections succeed",
        "--verdict",
        "confirmed",
        actor=IC,
    )
    changed_at = datetime.now(UTC) - timedelta(minutes=30)
    shell.ok(
        "change",
        "log",
        INC,
        "--what",
        "restarted the primary",
        "--where",
        "db-1",
        "--revert",
        "nothing to revert",
        "--id",
        "C1",
        "--at",
        iso(changed_at),
        actor=IC,
    )
    refused = shell.fails(1, "update", INC, "still on it", actor=RECORDER)
    assert "authorized" in refused
    shell.ok("update", INC, "mitigated: connections succeed", actor=COMMUNICATOR)
    for number, answer in enumerate(WHYS, start=1):
        extra = ["--root-cause"] if number == len(WHYS) else []
        shell.ok("why", INC, answer, *extra, actor=RECORDER)
    shell.ok("verify-recovery", INC, "--evidence", "dashboards green", actor=IC)
    assert "yellow" in shell.ok("yellow", INC, "resolved (yellow)")
    shell.ok(
        "verify-customer",
        INC,
        "--customer",
        "acme",
        "--evidence",
        "acme confirms deploys work",
        actor=COMMUNICATOR,
    )
    refused = shell.fails(1, "green", INC, "resolved (green)")
    assert "changes_reconciled" in refused
    shell.ok("change", "reconcile", INC, "C1", "permanent", "--note", "keep it", actor=IC)
    assert "green" in shell.ok("green", INC, "resolved (green)")
    shell.ok("start-report", INC, "--location", "https://docs.example/rca/7", actor=RECORDER)
    assert "reported" in shell.ok("mark-reported", INC, "report started")
    meeting = datetime.now(UTC) + timedelta(days=2)
    invites = [arg for person in (LEAD, IC, COMMUNICATOR, RECORDER) for arg in ("--invite", person)]
    shell.ok("schedule", INC, "--for", iso(meeting), *invites, actor=COMMUNICATOR)
    assert "post_mortem" in shell.ok("post-mortem", INC, "meeting scheduled")

    # What the store holds is the whole incident, and it replays.
    with SQLiteStore(shell.db, read_only=True) as store:
        incident = store.load(INC)
    assert State.POST_MORTEM == incident.state
    assert 28 == incident.version
    events = list(incident.history)

    status = shell.ok("status", INC)
    for text in (INC, "Database is down", "P1", "post_mortem", LEAD, IC, COMMUNICATOR, RECORDER):
        assert text in status

    # The timeline: one line per event, in occurred_at order (the back-dated change sorts
    # before the mitigation although it was recorded after it).
    lines = [line for line in shell.ok("timeline", INC).splitlines() if line.strip()]
    by_time = sorted(events, key=lambda event: event.occurred_at)
    assert len(events) == len(lines)
    for line, event in zip(lines, by_time, strict=True):
        assert event.type in line
        assert event.actor in line
        assert _needle(event) in line
    types = [event.type for event in by_time]
    assert types.index("change_logged") < types.index("state_changed")

    listed = shell.ok("list", "--state", "post_mortem")
    assert INC in listed
    assert INC not in shell.ok("list", "--state", "green")

    # export → validate → verify, and --json documents parse.
    exported = tmp_path / "export.jsonl"
    shell.ok("export", "--output", str(exported))
    assert codec.dump_lines(events, incident_id=INC) == exported.read_text(encoding="utf-8")
    assert "ok" in shell.ok("validate", str(exported))
    assert "chain ok" in shell.ok("verify")
    status_json = json.loads(shell.ok("--json", "status", INC))
    assert isinstance(status_json, dict)
    assert "post_mortem" == status_json["state"]
    listed_json = json.loads(shell.ok("list", "--json"))
    assert [INC] == [_incident_id(item) for item in listed_json]
    due_json = json.loads(shell.ok("due", "--json"))
    assert isinstance(due_json, list | dict)
    recorded = json.loads(shell.ok("note", INC, "post-mortem on Tuesday", "--json"))
    assert isinstance(recorded, list)
    assert ["note_added"] == [item["type"] for item in recorded]
    note = codec.from_dict(recorded[0])
    assert isinstance(note, NoteAdded)
    assert note.text == "post-mortem on Tuesday"


def _needle(event: Any) -> str:
    """A text that the timeline line of ``event`` should show."""
    for name in ("answer", "message", "evidence", "url", "what", "hypothesis", "observed"):
        value = getattr(event, name, None)
        if isinstance(value, str):
            return value
    holder = getattr(event, "holder", None)
    return holder if isinstance(holder, str) else event.type


def _incident_id(item: Any) -> str:
    """The incident id in one --json list entry."""
    return str(item.get("incident_id", item.get("id")))


def test_exit_codes_for_missing_bad_and_conflicting_input(shell: Shell) -> None:
    """Not found exits 4; a naive --at, unknown role or priority, bad --since 2; a re-declare 3."""
    shell.ok("declare", INC, "--title", "Queue backlog", "--priority", "P2")
    assert "INC-404" in shell.fails(4, "status", "INC-404")
    shell.fails(4, "note", "INC-404", "hello")
    assert "offset" in shell.fails(2, "note", INC, "naive", "--at", "2026-03-01T14:02:00").lower()
    shell.fails(2, "assign", INC, "janitor", "zed")
    shell.fails(2, "declare", "INC-8", "--title", "x", "--priority", "P9")
    shell.fails(2, "list", "--since", "yesterday")
    assert INC in shell.fails(3, "declare", INC, "--title", "again", "--priority", "P2")
    err = json.loads(shell.fails(4, "--json", "status", "INC-404"))
    assert "message" in err
    assert "error" in err


def test_no_actor_is_bad_usage(shell: Shell) -> None:
    """Without --actor, INCIDENTFLOW_ACTOR or USER a command exits 2 and says why."""
    for name in ("INCIDENTFLOW_ACTOR", "USER", "LOGNAME"):
        shell.env.pop(name, None)
    assert "actor" in shell.fails(2, "declare", INC, "--title", "x", "--priority", "P1").lower()


def test_top_level_help_documents_exit_codes_without_loading_the_store(shell: Shell) -> None:
    """`incidentflow --help` exits 0, lists the exit codes and imports no store or codec."""
    result = shell.run("--help")
    assert (0, "") == (result.returncode, result.stderr)
    for code in ("0", "1", "2", "3", "4", "5"):
        assert code in result.stdout
    assert "exit" in result.stdout.lower()
    probe = (
        "import sys\n"
        "from incidentflow.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('sqlite3', 'cattrs', 'json', 'incidentflow.store', 'incidentflow.codec')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (0, "[]") == (loaded.returncode, loaded.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("words", SUBCOMMANDS, ids=" ".join)
def test_every_subcommand_help_shows_an_example(words: list[str], capsys: Any) -> None:
    """`incidentflow SUBCOMMAND --help` exits 0 and its epilog shows an example."""
    with pytest.raises(SystemExit) as exited:
        main([*words, "--help"])
    out = capsys.readouterr().out
    assert 0 == exited.value.code
    assert "example" in out.lower() or "e.g." in out
    assert "incidentflow " + " ".join(words) in out
