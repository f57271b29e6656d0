"""The command line leads a new user: hints under refusals, did-you-mean, dates, zones, JSON."""

from __future__ import annotations

import argparse
import json
import stat
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from incidentflow.cli import main
from incidentflow.cli._incident import _invitees
from incidentflow.cli._main import parse_time
from incidentflow.errors import InvalidInput
from incidentflow.store import open_store
from terminal import CLI

T0 = "2026-03-01T14:00:00+00:00"


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CLI:
    """A command line bound to a store holding INC-7, a P1 declared at 14:00 UTC."""
    runner = CLI(tmp_path / "incidents.db", capsys, monkeypatch)
    runner.ok("declare", "INC-7", "--title", "Database is down", "--priority", "P1", "--at", T0)
    return runner


def staff(cli: CLI) -> None:
    """Give INC-7 its four roles."""
    for role, person in (("lead", "ana"), ("ic", "bo"), ("communicator", "cy"), ("recorder", "di")):
        cli.ok("assign", "INC-7", role, person)


# -- refusals that lead ------------------------------------------------------------------------


def test_a_refusal_prints_the_command_under_each_rule(cli: CLI) -> None:
    """Under each unmet rule the refusal prints `run: incidentflow ...`; the exit code stays 1."""
    code, out, err = cli("mitigate", "INC-7", "go")
    assert (1, "") == (code, out)
    assert [
        "incidentflow: INC-7 (declared): mitigate refused (TransitionBlocked)",
        "  validated: the problem has not been validated",
        '    run: incidentflow confirm INC-7 "<evidence>"',
        "  required_links: missing announcement, ticket, war_room",
        "    run: incidentflow link INC-7 KIND URL",
        "  required_roles: no communicator, incident_commander, lead, recorder",
        "    run: incidentflow assign INC-7 ROLE PERSON",
    ] == err.splitlines()


def test_a_refusal_names_commands_as_the_command_line_does(cli: CLI) -> None:
    """A refused `update` says `update` and `confirm`, not `post_update` or `validate`."""
    staff(cli)
    code, _, err = cli("update", "INC-7", "news", actor="zed")
    assert 1 == code
    assert err.splitlines()[0] == "incidentflow: INC-7 (declared): update refused (NotAuthorized)"
    assert (
        "  authorized: zed must hold communicator or incident_commander to update"
        == err.splitlines()[1]
    )
    code, _, err = cli("confirm", "INC-7", "it is down", actor="zed")
    assert "to confirm" in err.splitlines()[1]


def test_advice_is_a_hint_not_a_command(cli: CLI) -> None:
    """A rule no command meets is followed by `hint:`, not `run:`."""
    staff(cli)
    cli.ok("confirm", "INC-7", "it is down")
    code, _, err = cli("confirm", "INC-7", "again")
    assert 1 == code
    assert "    hint: nothing to do: the problem is validated" in err.splitlines()[2]


def test_a_json_refusal_carries_each_hint(cli: CLI) -> None:
    """With --json each unmet rule has its hint, without the `run:` label."""
    code, _, err = cli("mitigate", "INC-7", "go", "--json")
    assert 1 == code
    unmet = json.loads(err)["unmet"]
    assert 'incidentflow confirm INC-7 "<evidence>"' == unmet[0]["hint"]


def test_status_prints_the_command_that_unblocks_each_move(cli: CLI) -> None:
    """`status` shows, under each rule blocking a move, what to run; --json too."""
    out = cli.ok("status", "INC-7")
    assert '        run: incidentflow confirm INC-7 "<evidence>"' in out.splitlines()
    blocked = json.loads(cli.ok("status", "INC-7", "--json"))["next"]["mitigating"][0]
    assert 'incidentflow confirm INC-7 "<evidence>"' == blocked["hint"]


def test_confirm_takes_the_evidence_as_an_argument_or_an_option(cli: CLI) -> None:
    """EVIDENCE or --evidence, exactly one: none or both is bad input naming the command."""
    staff(cli)
    code, _, err = cli("confirm", "INC-7")
    assert 2 == code
    assert 'incidentflow confirm INC-7 "<evidence>"' in err
    code, _, _ = cli("confirm", "INC-7", "a", "--evidence", "b")
    assert 2 == code
    cli.ok("confirm", "INC-7", "--evidence", "primary refuses connections")
    with open_store(cli.db) as store:
        validation = store.load("INC-7").validation
    assert validation is not None
    assert "primary refuses connections" == validation.evidence


@pytest.mark.parametrize("extra", [[], ["it is down"]])
def test_validate_with_an_incident_id_points_to_confirm(cli: CLI, extra: list[str]) -> None:
    """`validate INC-7 ...` is the runbook's step 1: it points to `confirm`, exit 2."""
    code, out, err = cli("validate", "INC-7", *extra)
    assert (2, "") == (code, out)
    assert err.rstrip().endswith('run: incidentflow confirm INC-7 "<evidence>"')


def test_five_whys_is_why(cli: CLI) -> None:
    """The runbook's name for step 10 runs `why`."""
    staff(cli)
    out = cli.ok("five-whys", "INC-7", "The service is down.", actor="di")
    assert "INC-7: recorded why_answered by di (version 6, state declared)\n" == out


def test_messages_name_no_classes(cli: CLI) -> None:
    """A blank note is refused in words, not as `NoteAdded.text`."""
    code, _, err = cli("note", "INC-7", "")
    assert 2 == code
    assert "incidentflow: the text of a note must be a non-blank string, not ''\n" == err


# -- did you mean ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["mitgate"], "unknown command 'mitgate'; did you mean 'mitigate'?"),
        (["STATUS"], "unknown command 'STATUS'; did you mean 'status'?"),
        (["experiment", "strat"], "unknown command 'strat'; did you mean 'start'?"),
        (["status", "INC-7", "--jsn"], "unrecognized arguments: --jsn; did you mean '--json'?"),
    ],
)
def test_usage_errors_offer_the_closest_command_or_option(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped command or option is exit 2 with the closest one offered."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert 2 == exited.value.code
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["assign", "INC-7", "lede", "bo"],
            "incidentflow: 'lede' is not a role; expected one of: communicator, recorder, lead, "
            "incident_commander (or ic, commander) — did you mean 'lead'?\n",
        ),
        (
            ["priority", "INC-7", "p5", "--reason", "x"],
            "incidentflow: 'p5' is not a priority; expected one of: P0, P1, P2, P3\n",
        ),
        (
            ["link", "INC-7", "warroom", "https://chat.example.com/7"],
            "incidentflow: 'warroom' is not a link kind; expected one of: ticket, war_room, "
            "public_channel, announcement — did you mean 'war_room'?\n",
        ),
    ],
)
def test_a_bad_name_lists_what_is_accepted(cli: CLI, argv: list[str], expected: str) -> None:
    """Roles, priorities and kinds not known list every accepted name, and the closest."""
    assert (2, "", expected) == cli(*argv)


def test_an_id_in_the_wrong_case_is_offered_not_applied(cli: CLI) -> None:
    """`inc-7` is not found (exit 4), and `INC-7` is offered."""
    code, out, err = cli("status", "inc-7")
    assert (4, "") == (code, out)
    assert err.rstrip().endswith("; did you mean 'INC-7'?")


def test_an_id_far_from_any_is_just_not_found(cli: CLI) -> None:
    """No id close enough: nothing is offered."""
    code, _, err = cli("status", "INC-999")
    assert 4 == code
    assert "did you mean" not in err


def test_version_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`incidentflow --version` prints the installed version and exits 0."""
    from importlib.metadata import version

    assert 0 == main(["--version"])
    assert f"incidentflow {version('incidentflow')}\n" == capsys.readouterr().out


# -- dates, zones, filters ---------------------------------------------------------------------


def test_a_plain_date_is_a_day_of_the_declaration(cli: CLI) -> None:
    """`--since DAY` includes what was declared on DAY; `--until DAY` stops at its midnight."""
    declared = datetime.fromisoformat(json.loads(cli.ok("list", "--json"))[0]["declared_at"])
    day = declared.astimezone(UTC).date()
    assert ["INC-7"] == _ids(cli.ok("list", "--since", day.isoformat()))
    assert [] == _ids(cli.ok("list", "--since", (day + timedelta(days=1)).isoformat()))
    assert [] == _ids(cli.ok("list", "--until", day.isoformat()))


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        (None, datetime(2026, 3, 1, tzinfo=UTC)),
        ("UTC", datetime(2026, 3, 1, tzinfo=UTC)),
        ("Europe/Berlin", datetime(2026, 2, 28, 23, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 3, 1, 5, tzinfo=UTC)),
    ],
)
def test_a_plain_date_is_midnight_in_the_display_zone(
    zone: str | None, expected: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2026-03-01 is the start of that day in --tz (UTC when none is given)."""
    monkeypatch.delenv("INCIDENTFLOW_TZ", raising=False)
    assert expected == parse_time("2026-03-01", "--since", argparse.Namespace(tz=zone), day=True)


@pytest.mark.parametrize("option", ["--at", "--for", "--start"])
def test_a_plain_date_is_refused_where_a_time_is_meant(option: str) -> None:
    """`--at 2026-03-01` is bad input: a moment is meant, not a day."""
    with pytest.raises(InvalidInput, match=r"is a day, and .* takes a time"):
        parse_time("2026-03-01", option, argparse.Namespace(tz=None))


def test_validate_with_a_file_and_more_is_bad_input(cli: CLI, tmp_path: Path) -> None:
    """`validate FILE extra` names what was not expected."""
    target = tmp_path / "inc-7.jsonl"
    cli.ok("export", "INC-7", "--output", str(target))
    code, _, err = cli("validate", str(target), "extra")
    assert (2, "incidentflow: validate takes one FILE; unexpected: extra\n") == (code, err)


def test_the_zone_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """$INCIDENTFLOW_TZ is the display zone when --tz is not given."""
    monkeypatch.setenv("INCIDENTFLOW_TZ", "Asia/Tokyo")
    moment = parse_time("2026-03-01", "--due", argparse.Namespace(tz=None), day=True)
    assert datetime(2026, 2, 28, 15, tzinfo=UTC) == moment


def test_a_due_date_is_accepted(cli: CLI) -> None:
    """`action add --due 2026-03-08` is due at midnight UTC that day."""
    staff(cli)
    out = cli.ok(
        "action",
        "add",
        "INC-7",
        "alert",
        "--owner",
        "bo",
        "--due",
        "2026-03-08",
        "--kind",
        "preventive",
        "--json",
    )
    assert "2026-03-08T00:00:00+00:00" == json.loads(out)[0]["due_at"]


def test_a_date_that_is_not_one_is_bad_input(cli: CLI) -> None:
    """`2026-02-30` is exit 2 naming the option."""
    code, _, err = cli("list", "--since", "2026-02-30")
    assert 2 == code
    assert "--since" in err


def test_times_show_to_the_minute_in_the_display_zone(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """UTC by default; --tz or $INCIDENTFLOW_TZ shows another zone, with its abbreviation."""
    assert "  began     2026-03-01 14:00 UTC    version 1" in cli.ok("status", "INC-7").splitlines()
    shown = cli.ok("status", "INC-7", "--tz", "Europe/Berlin").splitlines()
    assert "  began     2026-03-01 15:00 CET    version 1" in shown
    monkeypatch.setenv("INCIDENTFLOW_TZ", "America/New_York")
    line = cli("timeline", "INC-7")[1].splitlines()[0]
    assert line.startswith("2026-03-01 09:00 EST  ana")
    json_line = json.loads(cli.ok("timeline", "INC-7", "--json"))[0]["occurred_at"]
    assert "2026-03-01T14:00:00+00:00" == json_line
    declared = json.loads(cli.ok("list", "--json", "--tz", "Asia/Tokyo"))[0]["declared_at"]
    assert (True, 25) == (declared.endswith("+00:00"), len(declared))  # UTC, to the second


def test_an_unknown_zone_is_bad_input_with_the_closest(cli: CLI) -> None:
    """`--tz Europe/Berln` is exit 2, offering Europe/Berlin."""
    code, _, err = cli("status", "INC-7", "--tz", "Europe/Berln")
    assert 2 == code
    assert "did you mean 'Europe/Berlin'?" in err


def test_list_active_and_several_states(cli: CLI) -> None:
    """--active lists open incidents; --state takes several, repeated or with commas."""
    cli.ok("declare", "INC-8", "--title", "False alarm", "--priority", "P3")
    cli.ok("assign", "INC-8", "ic", "ana")
    cli.ok("dismiss", "INC-8", "not an outage")
    assert ["INC-7"] == _ids(cli.ok("list", "--active"))
    assert ["INC-7", "INC-8"] == _ids(cli.ok("list", "--state", "declared,dismissed"))
    assert ["INC-8"] == _ids(cli.ok("list", "--state", "dismissed", "--state", "green"))
    assert ["INC-7"] == _ids(cli.ok("list", "--active", "--state", "declared,dismissed"))
    code, _, err = cli("list", "--active", "--state", "dismissed")
    assert 2 == code
    code, _, err = cli("list", "--state", "open")
    assert (2, True) == (code, "--active" in err)


def _ids(out: str) -> list[str]:
    return sorted(line.split()[0] for line in out.splitlines() if line != "no incidents")


def test_invite_splits_at_commas() -> None:
    """`--invite 'ana, bo' --invite cy` invites three people; empty names are dropped."""
    assert ["ana", "bo", "cy"] == _invitees(["ana, bo", "cy,"])


def test_the_help_says_invite_repeats(capsys: pytest.CaptureFixture[str]) -> None:
    """`schedule --help` says --invite repeats and takes commas."""
    with pytest.raises(SystemExit):
        main(["schedule", "--help"])
    assert "repeat it (--invite ana --invite bo)" in " ".join(capsys.readouterr().out.split())


# -- one JSON style ----------------------------------------------------------------------------


def test_json_is_compact_when_piped_and_indented_when_asked(cli: CLI) -> None:
    """Reads and writes print JSON alike: compact when not a terminal, or as --json-style says."""
    written = cli.ok("note", "INC-7", "x", "--json")
    read = cli.ok("list", "--json")
    assert ("\n", "\n") == (written[-1], read[-1])
    assert 1 == len(written.splitlines()) == len(read.splitlines())
    indented = cli.ok("list", "--json", "--json-style", "indented")
    assert indented.startswith("[\n  {\n")
    assert json.loads(indented) == json.loads(read)


def test_json_is_indented_on_a_terminal(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal --json indents; --json-style compact still compacts."""
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert cli.ok("list", "--json").startswith("[\n  {")
    assert cli.ok("list", "--json", "--json-style", "compact").startswith('[{"id"')


def test_json_diagram_is_json(cli: CLI) -> None:
    """`--json diagram` wraps the Mermaid text in a JSON document."""
    document = json.loads(cli.ok("diagram", "--json"))
    assert "mermaid" == document["format"]
    assert document["diagram"].startswith("---\ntitle: Incident lifecycle")


def test_counts_agree_with_their_nouns(cli: CLI, tmp_path: Path) -> None:
    """One incident, one event: singular; more: plural."""
    target = tmp_path / "inc-7.jsonl"
    assert f"Wrote 1 event of 1 incident to {target}\n" == cli.ok(
        "export", "INC-7", "--output", str(target)
    )
    assert "ok: 1 event, 1 incident\n" == cli.ok("validate", str(target))


def test_an_unfilled_duty_names_the_role_in_words(cli: CLI) -> None:
    """The first update is owed by a role nobody holds yet: said so, in a sentence."""
    line = next(line for line in cli.ok("status", "INC-7").splitlines() if "update" in line)
    assert "(owed by the communicator or incident_commander, a role no one holds yet)" in line


# -- update --post -----------------------------------------------------------------------------


def test_update_post_sends_the_message_given(cli: CLI) -> None:
    """`update --post --message TEXT` stores TEXT and nothing else."""
    staff(cli)
    cli.ok("update", "INC-7", "--post", "--message", "Still down; next at 15:00", actor="cy")
    with open_store(cli.db) as store:
        (posted,) = store.load("INC-7").updates
    assert "Still down; next at 15:00" == posted.message


def test_message_without_post_is_a_usage_error(cli: CLI) -> None:
    """--message goes with --post."""
    code, out, err = cli("update", "INC-7", "--message", "x")
    assert (2, "") == (code, out)
    assert "--post" in err


def _editor(tmp_path: Path, body: str) -> str:
    """A command that runs as an editor: Python code ``body`` with the file as ``path``."""
    script = tmp_path / "editor.py"
    script.write_text(
        f"import pathlib, sys\npath = pathlib.Path(sys.argv[1])\n{body}\n", encoding="utf-8"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return f"{sys.executable} {script}"


def test_update_post_sends_what_the_editor_saved(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$EDITOR opens on the short update; what it saves, comments dropped, is sent."""
    staff(cli)
    body = "path.write_text(path.read_text().splitlines()[0] + '\\nEdited by hand.\\n# note\\n')"
    monkeypatch.setenv("EDITOR", _editor(tmp_path, body))
    cli.ok("update", "INC-7", "--post", actor="cy")
    with open_store(cli.db) as store:
        (posted,) = store.load("INC-7").updates
    assert "INC-7 Database is down: declared, P1 (Major Incident)\nEdited by hand." == (
        posted.message
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("path.write_text('# only a comment\\n')", "the update is empty"),
        ("path.write_text('x'); sys.exit(3)", "exited with 3"),
    ],
)
def test_an_empty_or_failed_edit_posts_nothing(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, expected: str
) -> None:
    """An empty update or an editor that fails is exit 2, and nothing is posted."""
    staff(cli)
    monkeypatch.setenv("VISUAL", _editor(tmp_path, body))
    code, _, err = cli("update", "INC-7", "--post", actor="cy")
    assert (2, True) == (code, expected in err)
    with open_store(cli.db) as store:
        assert () == tuple(store.load("INC-7").updates)


def test_an_editor_that_cannot_run_is_bad_input(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing editor program is exit 2 naming it."""
    staff(cli)
    monkeypatch.setenv("EDITOR", "/nonexistent/editor")
    code, _, err = cli("update", "INC-7", "--post", actor="cy")
    assert (2, True) == (code, "/nonexistent/editor" in err)


# -- agenda ------------------------------------------------------------------------------------


def test_an_hour_long_agenda_is_shortened_and_says_so(cli: CLI) -> None:
    """`agenda --length 60` fits the parts into an hour and says they were shrunk."""
    lines = cli.ok("agenda", "INC-7", "--length", "60").splitlines()
    assert [
        "1 h, not scheduled yet",
        "Shortened: 1 h is under the runbook's 1 h 20 min, so "
        "every part is shrunk in proportion (none under 3 min).",
    ] == lines[1:3]


# -- the edges of the guidance -----------------------------------------------------------------


def test_a_rule_without_a_hint_prints_no_hint(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    """Were a rule to lack a hint, status and refusals would print the rule alone."""
    from incidentflow import hints

    monkeypatch.setattr(hints, "HINTS", {})
    assert "run:" not in cli.ok("status", "INC-7")
    status = json.loads(cli.ok("status", "INC-7", "--json"))
    assert None is status["next"]["mitigating"][0]["hint"]
    code, _, err = cli("mitigate", "INC-7", "go", "--json")
    assert (1, [{"rule", "detail"}] * 3) == (code, [set(u) for u in json.loads(err)["unmet"]])


def test_a_bad_option_value_offers_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    """`--json-style indent` is exit 2, offering 'indented'."""
    with pytest.raises(SystemExit) as exited:
        main(["list", "--json-style", "indent"])
    assert 2 == exited.value.code
    assert capsys.readouterr().err.rstrip().endswith("; did you mean 'indented'?")


def test_a_duty_of_no_role_is_owed_by_anyone() -> None:
    """An obligation naming neither owners nor roles is owed by anyone."""
    from incidentflow.cli._reading import _owed_by
    from incidentflow.obligations import Obligation

    duty = Obligation(
        incident_id="INC-7",
        kind="note",
        description="d",
        command="note",
        owners=(),
        roles=frozenset(),
        due_at=None,
        overdue=False,
    )
    assert "owed by anyone" == _owed_by(duty)


def test_a_retried_post_sends_the_same_text_without_editing_again(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a conflict the post is issued again with the text settled the first time."""
    from incidentflow.cli._documents import compose_and_post

    staff(cli)
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "path.write_text('first edit')"))
    args = argparse.Namespace(update_message=None, no_progress=False)
    with open_store(cli.db) as store:
        incident = store.load("INC-7")
        first = compose_and_post(incident, args, "cy", None)
        monkeypatch.setenv("EDITOR", _editor(tmp_path, "raise SystemExit(9)"))
        again = compose_and_post(store.load("INC-7"), args, "cy", None)
    assert ("first edit", "first edit") == (first.message, again.message)
