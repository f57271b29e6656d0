"""Every command of the command line, unchanged, against a PostgreSQL store (--db URL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from incidentflow import State
from incidentflow.store import PostgresStore
from terminal import CLI

INC = "INC-7"


@pytest.fixture
def cli(postgres_url: str, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> CLI:
    """The command line with --db set to a new PostgreSQL database."""
    monkeypatch.delenv("INCIDENTFLOW_CHAIN_KEY", raising=False)
    monkeypatch.delenv("INCIDENTFLOW_CHAIN_KEY_FILE", raising=False)
    return CLI(postgres_url, capsys, monkeypatch)  # type: ignore[arg-type]


def ok(cli: CLI, *args: str, actor: str = "ana") -> str:
    """Run a command that must succeed (its stderr shown if not); its stdout."""
    code, out, err = cli(*args, actor=actor)
    assert (0, "") == (code, err), args
    return out


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def test_every_command_walks_a_p1_on_postgresql(cli: CLI, tmp_path: Path) -> None:
    """A P1 from declaration to post-mortem, reports, exports and checks, all on PostgreSQL."""
    began = datetime.now(UTC) - timedelta(hours=1)
    ok(cli, "declare", INC, "--title", "Database is down", "--priority", "P1", "--at", _iso(began))
    for role, person in (("lead", "ana"), ("ic", "bo"), ("communicator", "cy"), ("recorder", "di")):
        ok(cli, "assign", INC, role, person)
    ok(cli, "assign", INC, "ic", "eve")
    ok(cli, "release", INC, "ic", "eve")
    ok(cli, "hand-off", INC, "recorder", "di", "fay")
    ok(cli, "hand-off", INC, "recorder", "fay", "di")
    assert 1 == cli("mitigate", INC, "too early")[0]
    ok(cli, "confirm", INC, "--evidence", "primary db refuses connections")
    for kind, url in (
        ("ticket", "https://jira.example/IM-1"),
        ("war_room", "https://chat.example/war-7"),
        ("announcement", "https://chat.example/tech-outage/7"),
    ):
        ok(cli, "link", INC, kind, url)
    ok(cli, "priority", INC, "P2", "--reason", "internal tools only")
    ok(cli, "priority", INC, "P1", "--reason", "customers hit after all")
    assert "mitigating" in ok(cli, "mitigate", INC, "mitigating now")
    ok(cli,
        "experiment", "start", INC, "--hypothesis", "the token expired", "--action",
        "refresh the token", "--expected", "connections succeed", "--component", "db",
        "--owner", "bo", "--id", "E1", actor="bo",
    )  # fmt: skip
    ok(cli, "experiment", "conclude", INC, "E1", "--observed", "connections succeed",
           "--verdict", "confirmed", actor="bo")  # fmt: skip
    ok(cli,
        "change", "log", INC, "--what", "restarted the primary", "--where", "db-1",
        "--revert", "nothing", "--id", "C1", "--at", _iso(began + timedelta(minutes=30)),
        actor="bo",
    )  # fmt: skip
    ok(cli, "update", INC, "mitigated: connections succeed", actor="cy")
    ok(cli, "note", INC, "watching the graphs")
    for number, answer in enumerate(
        ["down", "db failed", "token expired", "no refresh", "job failed"], 1
    ):
        ok(cli, "why", INC, answer, *(["--root-cause"] if number == 5 else []), actor="di")
    ok(cli, "factor", INC, "no alert on the refresh job", "--category", "measurement", actor="di")
    ok(cli, "debt", "open", INC, "replace the hand-issued token", "--id", "D1")
    ok(cli, "verify-recovery", INC, "--evidence", "dashboards green", actor="bo")
    assert "yellow" in ok(cli, "yellow", INC, "resolved (yellow)")
    assert "mitigating" in ok(cli, "reopen", INC, "errors are back")
    ok(cli, "verify-recovery", INC, "--evidence", "dashboards green again", actor="bo")
    assert "yellow" in ok(cli, "yellow", INC, "resolved again (yellow)")
    ok(cli, "verify-customer", INC, "--customer", "acme", "--evidence", "deploys work", actor="cy")
    ok(cli, "change", "reconcile", INC, "C1", "permanent", "--note", "keep it", actor="bo")
    ok(cli, "debt", "close", INC, "D1", "--note", "rotated")
    assert "green" in ok(cli, "green", INC, "resolved (green)")
    ok(cli, "start-report", INC, "--location", "https://docs.example/rca/7", actor="di")
    assert "reported" in ok(cli, "mark-reported", INC, "report started")
    meeting = datetime.now(UTC) + timedelta(days=2)
    ok(
        cli,
        "schedule",
        INC,
        "--for",
        _iso(meeting),
        *[a for p in ("ana", "bo", "cy", "di") for a in ("--invite", p)],
        actor="cy",
    )
    assert "post_mortem" in ok(cli, "post-mortem", INC, "meeting scheduled")
    ok(cli, "action", "add", INC, "alert on job failures", "--owner", "bo", "--due",
           _iso(meeting + timedelta(days=7)), "--id", "A1", "--kind", "corrective")  # fmt: skip
    ok(cli, "action", "close", INC, "A1", "--note", "done")

    # A second incident, dismissed.
    ok(cli, "declare", "INC-8", "--title", "Flaky alert", "--priority", "P3")
    ok(cli, "dismiss", "INC-8", "false alarm")

    # Reading, documents, files and checks.
    assert "post_mortem" in ok(cli, "status", INC)
    assert "change_logged" in ok(cli, "timeline", INC)
    assert [INC, "INC-8"] == [i["id"] for i in json.loads(ok(cli, "list", "--json"))]
    ok(cli, "due")
    assert "Root cause" in ok(cli, "report", INC) or ok(cli, "report", INC)
    ok(cli, "agenda", INC)
    ok(cli, "update", INC, "--slack")
    ok(cli, "stats")
    ok(cli, "chart", INC, "--output", str(tmp_path / "inc-7.svg"))
    exported = tmp_path / "export.jsonl"
    ok(cli, "export", "--output", str(exported))
    assert "ok" in ok(cli, "validate", str(exported))
    assert "chain ok" in ok(cli, "verify")
    anchor = tmp_path / "anchor.json"
    ok(cli, "anchor", "--output", str(anchor))
    assert "chain ok" in ok(cli, "verify", "--anchor", str(anchor))
    ok(cli, "diagram")
    ok(cli, "demo")
    ok(cli, "migrate")

    # The store holds the walk, in the feed too (the demo saved INC-1042 to --db).
    with PostgresStore(cli.db) as store:  # type: ignore[arg-type]
        incident = store.load(INC)
        feed = store.read_since(0, limit=100_000)
    assert (State.POST_MORTEM, list(incident.history), {INC, "INC-8", "INC-1042"}) == (
        incident.state,
        [entry.event for entry in feed if entry.incident_id == INC],
        {entry.incident_id for entry in feed},
    )


def test_cli_imports_into_postgresql(cli: CLI, tmp_path: Path) -> None:
    """`import FILE --db URL` stores the file's incidents; a second import is a conflict (3)."""
    ok(cli, "declare", INC, "--title", "Database is down", "--priority", "P1")
    exported = tmp_path / "export.jsonl"
    ok(cli, "export", "--output", str(exported))
    cli_code, _, err = cli("import", str(exported))
    assert (3, True) == (cli_code, "already in the store" in err)


def test_an_unreachable_database_exits_5_with_its_cause(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    """A URL naming a database that does not exist: exit 5, the server's reason, no traceback."""
    missing = postgres_url.replace("/test_", "/missing_")
    cli = CLI(missing, capsys, monkeypatch)  # type: ignore[arg-type]
    for command in (["list"], ["declare", INC, "--title", "x", "--priority", "P1"]):
        code, _, err = cli(*command)
        assert (5, True, False) == (code, "does not exist" in err, "Traceback" in err)


@pytest.mark.parametrize("where", ["--db", "--to", "--from", "none"])
def test_psycopg_pool_lines_are_kept_out_of_a_command_using_postgresql(
    where: str,
    tmp_path: Path,
    postgres_url: str,
    capsys: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A command that opens a PostgreSQL store (--db, or either side of copy) gives psycopg's
    records a handler that drops them, so the pool's own reconnect lines never reach
    stderr; a command on SQLite alone leaves logging as it found it."""
    import logging

    from incidentflow.cli import main

    monkeypatch.delenv("INCIDENTFLOW_DB", raising=False)
    monkeypatch.setenv("INCIDENTFLOW_ACTOR", "ana")
    monkeypatch.setattr(logging.getLogger("psycopg"), "handlers", [])
    sqlite = str(tmp_path / "incidents.db")
    assert 0 == main(["declare", INC, "--title", "Down", "--priority", "P2", "--db", sqlite])
    assert [] == logging.getLogger("psycopg").handlers
    args = {
        "--db": ["declare", "INC-8", "--title", "Down", "--priority", "P2", "--db", postgres_url],
        "--to": ["copy", "--from", sqlite, "--to", postgres_url],
        "--from": ["copy", "--from", postgres_url, "--to", str(tmp_path / "back.db")],
        "none": ["copy", "--from", sqlite, "--to", str(tmp_path / "other.db")],
    }[where]
    if where == "--from":  # something to copy back
        assert 0 == main(["copy", "--from", sqlite, "--to", postgres_url])
        monkeypatch.setattr(logging.getLogger("psycopg"), "handlers", [])
    assert 0 == main(args)
    capsys.readouterr()
    handlers = logging.getLogger("psycopg").handlers
    if where == "none":
        assert [] == handlers
    else:
        assert [logging.NullHandler] == [type(h) for h in handlers]
