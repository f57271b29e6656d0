"""The command line's corrections, data loss and what is not known, as transcripts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from incidentflow import LinkKind, NoteKind, Role
from incidentflow.store import open_store
from terminal import CLI

T0 = "2026-03-01T14:00:00+00:00"


@pytest.fixture
def cli(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> CLI:
    """A command line bound to a fresh store in tmp_path, with a P3 declared at T0."""
    cli = CLI(tmp_path / "incidents.db", capsys, monkeypatch)
    cli.ok("declare", "INC-7", "--title", "Databse down", "--priority", "P3", "--at", T0)
    return cli


def _load(cli: CLI) -> Any:
    with open_store(cli.db) as store:
        return store.load("INC-7")


def test_unknown_roles_and_absent_links_are_recorded_with_their_reason(cli: CLI) -> None:
    """`assign --unknown` and `link --none` record what is not known, never a made-up name."""
    out = cli.ok("assign", "INC-7", "ic", "--unknown", "--reason", "the postmortem names none")
    assert "INC-7: recorded role_unknown by ana (version 2, state declared)\n" == out
    cli.ok("link", "INC-7", "ticket", "--none", "--reason", "no ticket was opened")
    incident = _load(cli)
    assert {Role.INCIDENT_COMMANDER} == set(incident.unknown_roles)
    assert "no ticket was opened" == incident.absent_links[LinkKind.TICKET].reason


@pytest.mark.parametrize(
    "args",
    [
        ("assign", "INC-7", "ic"),  # neither a person nor --unknown
        ("assign", "INC-7", "ic", "bo", "--unknown", "--reason", "r"),  # both
        ("link", "INC-7", "ticket"),
        ("link", "INC-7", "ticket", "https://x", "--none", "--reason", "r"),
    ],
)
def test_a_value_or_not_known_but_not_both(cli: CLI, args: tuple[str, ...]) -> None:
    """Exactly one of the value and its not-known option: otherwise bad input, exit 2."""
    code, out, err = cli(*args)
    assert (2, "") == (code, out)
    assert "not both or neither" in err


def test_amend_retract_and_the_numbered_timeline(cli: CLI) -> None:
    """Entries are numbered in `timeline --numbered`; amend and retract address them."""
    cli.ok("note", "INC-7", "restarted db-1")
    cli.ok("note", "INC-7", "status page 14:10, blog 14:20", "--kind", "discrepancy")
    lines = cli.ok("timeline", "INC-7", "--numbered").splitlines()
    assert ["#1", "#2", "#3"] == [line.split()[0] for line in lines]
    cli.ok("amend", "INC-7", "title", "Database down", "--reason", "typo")
    cli.ok("amend", "INC-7", "text", "restarted db-2", "--entry", "2", "--reason", "host")
    cli.ok("retract", "INC-7", "3", "--reason", "the blog was corrected")
    incident = _load(cli)
    assert "Database down" == incident.title
    assert ("restarted db-2",) == tuple(n.text for n in incident.notes)
    assert 3 == len(incident.corrections)
    assert NoteKind.DISCREPANCY == incident.history[2].kind


def test_a_refused_correction_exits_1_naming_the_rule(cli: CLI) -> None:
    """An amendment of a field there is none of is refused (exit 1) with the rule named."""
    code, out, err = cli("amend", "INC-7", "colour", "red", "--reason", "r")
    assert (1, "") == (code, out)
    assert "amendable_field" in err
    code, _, err = cli("retract", "INC-7", "1", "--reason", "r")
    assert 1 == code
    assert "correctable_entry" in err


def test_data_loss_and_an_irreversible_change(cli: CLI) -> None:
    """`data-loss` records the window; `change reconcile ... irreversible` is an outcome."""
    out = cli.ok(
        "data-loss", "INC-7", "orders written to db-1",
        "--from", "2026-03-01T13:40:00+00:00", "--to", "2026-03-01T14:05:00+00:00",
        "--amount", "about 1,200 orders",
    )  # fmt: skip
    assert "INC-7: recorded data_loss_recorded L1 by ana" in out
    cli.ok("change", "log", "INC-7", "--what", "deleted /var/db", "--where", "db-1",
           "--revert", "none possible")  # fmt: skip
    cli.ok("change", "reconcile", "INC-7", "C1", "irreversible")
    incident = _load(cli)
    assert 25 * 60.0 == incident.data_losses["L1"].window
    assert "irreversible" == incident.manual_changes["C1"].outcome.value


def test_a_branching_why_from_the_command_line(cli: CLI) -> None:
    """`why --branches-from CHAIN --after N` starts a branch under answer N of CHAIN."""
    cli.ok("why", "INC-7", "the service is down")
    cli.ok("why", "INC-7", "the database failed")
    cli.ok("why", "INC-7", "its disk filled", "--chain", "disk", "--branches-from", "main",
           "--after", "1")  # fmt: skip
    code, _, err = cli("why", "INC-7", "the root", "--root-cause")
    assert 1 == code
    assert "root_cause_depth" in err
    chain = _load(cli).why_chains["disk"]
    assert ("main", 2) == (chain.parent, chain.start)
