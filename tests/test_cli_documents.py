"""The commands for reviewers and stakeholders: report, agenda, update drafts, stats, chart."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import icalendar
import pytest

from incidentflow.store import open_store
from terminal import CLI

DEMO = "INC-1042"
LATER = "2026-03-10T09:00:00+00:00"


@pytest.fixture
def cli(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> CLI:
    """A command line bound to a store holding the demo incident (INC-1042, in post_mortem)."""
    runner = CLI(tmp_path / "incidents.db", capsys, monkeypatch)
    runner.ok("demo")
    return runner


def declare_p2(cli: CLI) -> None:
    """Declare INC-8, a P2 that began at 14:00 on 1 March 2026."""
    cli.ok(
        "declare",
        "INC-8",
        "--title",
        "Cert expired",
        "--priority",
        "P2",
        "--at",
        "2026-03-01T14:00:00+00:00",
    )


def test_report_writes_the_rca_document_in_markdown(cli: CLI) -> None:
    """`report` prints the RCA document, title first, with the runbook's sections in order."""
    out = cli.ok("report", DEMO, "--at", LATER, "--confidential", "Internal")
    assert out.startswith("# Root Cause Analysis for Database is down")
    headings = [line for line in out.splitlines() if line.startswith("## ")]
    positions = [
        next(i for i, h in enumerate(headings) if name in h)
        for name in (
            "Executive Summary",
            "Introduction",
            "Scope",
            "Problem Description",
            "Methodology",
            "Analysis",
            "Recommendations",
            "Conclusion",
            "Appendices",
            "Acknowledgments",
            "Revision History",
        )
    ]
    assert sorted(positions) == positions
    assert "Internal" in out


def test_report_writes_html_to_a_file(cli: CLI, tmp_path: Path) -> None:
    """`report --html --output FILE` writes one self-contained HTML page and prints nothing."""
    target = tmp_path / "rca.html"
    assert "" == cli.ok("report", DEMO, "--html", "--output", str(target), "--at", LATER)
    page = target.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert "<script" not in page
    assert "Root Cause Analysis for Database is down" in page


def test_report_gaps_list_what_reviewers_must_fill_in(cli: CLI) -> None:
    """`report --gaps` lists each gap as 'section: what'; --json gives the same as objects."""
    lines = cli.ok("report", DEMO, "--gaps", "--at", LATER).splitlines()
    listed = json.loads(cli.ok("report", DEMO, "--gaps", "--json", "--at", LATER))
    assert [f"{g['section']}: {g['what']}" for g in listed] == lines
    assert lines


def test_report_gaps_close_when_reviewers_write_them(cli: CLI) -> None:
    """With the background, the out of scope and a corrective action, nothing is left."""
    cli.ok(
        "action", "add", DEMO, "page on refresh job failures", "--owner", "bo",
        "--due", "2026-03-20T17:00:00+00:00", "--kind", "corrective",
    )  # fmt: skip
    filled = ["--background", "auth issues tokens", "--out-of-scope", "DNS"]
    assert "nothing left to fill in\n" == cli.ok("report", DEMO, "--gaps", *filled)
    assert [] == json.loads(cli.ok("report", DEMO, "--gaps", "--json", *filled))
    assert "auth issues tokens" in cli.ok("report", DEMO, *filled)


def test_agenda_fits_the_requested_length(cli: CLI) -> None:
    """`agenda --length 120 --json` gives six parts summing to 120 minutes, within their boxes."""
    plan = json.loads(cli.ok("agenda", DEMO, "--length", "120", "--json"))
    parts = plan["parts"]
    assert [1, 2, 3, 4, 5, 6] == [p["number"] for p in parts]
    assert 120 == sum(p["minutes"] for p in parts)
    assert all(low <= p["minutes"] <= high for p in parts for low, high in [p["box"]])
    assert "1. Introduction" in cli.ok("agenda", DEMO)
    assert "## 1. Introduction" in cli.ok("agenda", DEMO, "--markdown")


def test_agenda_writes_a_self_contained_html_page(cli: CLI) -> None:
    """`agenda --html` prints the agenda as one HTML page, with the same parts as --markdown."""
    page = cli.ok("agenda", DEMO, "--html")
    assert page.startswith("<!DOCTYPE html>\n")
    assert page.endswith("</html>\n")
    assert "<title>RCA meeting agenda: INC-1042 Database is down</title>" in page
    assert "<script" not in page
    markdown = cli.ok("agenda", DEMO, "--markdown")
    parts = [line[3:] for line in markdown.splitlines() if line.startswith("## ")]
    assert [f"<h2>{part}</h2>" for part in parts] == [
        line for line in page.splitlines() if line.startswith("<h2>")
    ]


def test_agenda_markdown_and_html_do_not_mix(cli: CLI) -> None:
    """`agenda --markdown --html` is argparse's usage error, exit 2, and prints no agenda."""
    with pytest.raises(SystemExit) as exited:
        cli("agenda", DEMO, "--markdown", "--html")
    assert 2 == exited.value.code
    captured = cli.capsys.readouterr()
    assert "" == captured.out
    assert "not allowed with argument" in captured.err


@pytest.mark.parametrize("length", ["29", "481", "ninety", "99999999999999", "9" * 5000])
def test_agenda_refuses_a_length_the_boxes_cannot_fill(cli: CLI, length: str) -> None:
    """A meeting shorter than 30 minutes or longer than 8 hours, or not a number, is bad input."""
    code, out, err = cli("agenda", DEMO, "--length", length)
    assert (2, "") == (code, out)
    assert err.startswith("incidentflow: ")


def test_agenda_writes_the_calendar_invitation(cli: CLI, tmp_path: Path) -> None:
    """`agenda --ics FILE` writes an invitation for the scheduled post-mortem."""
    target = tmp_path / "pm.ics"
    cli.ok("agenda", DEMO, "--ics", str(target), "--at", LATER)
    calendar = icalendar.Calendar.from_ical(target.read_bytes())
    (event,) = [c for c in calendar.walk() if c.name == "VEVENT"]
    with open_store(cli.db) as store:
        scheduled = store.load(DEMO).post_mortem
    assert scheduled is not None
    assert scheduled.scheduled_for == event.decoded("DTSTART")


def test_agenda_start_and_an_invitation_do_not_mix(cli: CLI, tmp_path: Path) -> None:
    """The invitation is for the meeting as scheduled, so --start with --ics is bad usage."""
    target = tmp_path / "pm.ics"
    code, out, err = cli(
        "agenda", DEMO, "--start", "2026-03-04T10:00:00+00:00", "--ics", str(target)
    )
    assert (2, "") == (code, out)
    assert "schedule" in err
    assert not target.exists()
    starts = cli.ok("agenda", DEMO, "--start", "2026-03-04T10:00:00+00:00")
    assert "from 2026-03-04 10:00 UTC" in starts


def test_an_invitation_before_the_post_mortem_is_scheduled_is_not_ready(
    cli: CLI, tmp_path: Path
) -> None:
    """Asking for an invitation when no post-mortem is scheduled exits 4 and writes nothing."""
    declare_p2(cli)
    target = tmp_path / "pm.ics"
    code, _, err = cli("agenda", "INC-8", "--ics", str(target))
    assert 4 == code
    assert "NotReady" not in err  # the message, not the class name, for people
    assert not target.exists()


def test_update_without_a_message_prints_a_draft_and_records_nothing(cli: CLI) -> None:
    """`update INCIDENT` drafts an update from the record and leaves the store as it was."""
    declare_p2(cli)
    before = cli.ok("export", "INC-8")
    draft = cli.ok("update", "INC-8")
    assert "INC-8" in draft
    assert "Cert expired" in draft
    assert before == cli.ok("export", "INC-8")


def test_update_slack_prints_block_kit_json(cli: CLI) -> None:
    """`update --slack` prints a Slack message with a text fallback and blocks."""
    declare_p2(cli)
    message = json.loads(cli.ok("update", "INC-8", "--slack"))
    assert {"text", "blocks"} <= set(message)
    assert message["blocks"]


def test_update_post_records_the_short_update(cli: CLI) -> None:
    """`update --post` records the short update; right after, the next draft has no progress."""
    declare_p2(cli)
    cli.ok("update", "INC-8", "--post", "--at", "2026-03-01T14:05:00+00:00")
    with open_store(cli.db) as store:
        (posted,) = store.load("INC-8").updates
    lines = posted.message.splitlines()
    assert "INC-8 Cert expired: declared, P2 (Minor Incident)" == lines[0]
    assert "Next: confirming the problem and staffing the response." == lines[-2]
    assert lines[-1].startswith("Next update by ")
    assert posted.no_progress is False
    following = json.loads(cli.ok("update", "INC-8", "--json"))
    assert following["no_progress"] is True


@pytest.mark.parametrize(
    "args", [["a message", "--post"], ["a message", "--slack"], ["--post", "--slack"]]
)
def test_update_refuses_contradictory_options(cli: CLI, args: list[str]) -> None:
    """A message with --post or --slack, or --post with --slack, is a usage error."""
    code, out, _ = cli("update", DEMO, *args)
    assert (2, "") == (code, out)


def test_confirm_records_impact_and_factor_its_category(cli: CLI) -> None:
    """`confirm --impact` and `factor --category` record what the RCA document needs."""
    declare_p2(cli)
    cli.ok("assign", "INC-8", "ic", "bo")
    cli.ok("confirm", "INC-8", "--evidence", "TLS errors", "--impact", "EU logins", actor="bo")
    cli.ok("factor", "INC-8", "no expiry alert", "--category", "measurement", actor="bo")
    with open_store(cli.db) as store:
        incident = store.load("INC-8")
    assert incident.validation is not None
    assert "EU logins" == incident.validation.impact
    assert ["measurement"] == [f.category.value for f in incident.factors if f.category]
    code, _, _ = cli("factor", "INC-8", "x", "--category", "weather", actor="bo")
    assert 2 == code


def test_stats_table_and_json(cli: CLI) -> None:
    """`stats` summarizes the stored incidents; --json has a group for all and for each priority."""
    table = cli.ok("stats", "--at", LATER)
    assert "time_to_green" in table
    document = json.loads(cli.ok("stats", "--json", "--at", LATER))
    assert document


def test_stats_takes_custom_measures_and_refuses_bad_ones(cli: CLI) -> None:
    """`--measure NAME=START..END` replaces the defaults; a malformed one is bad input."""
    table = cli.ok("stats", "--measure", "mtta=began..validated", "--at", LATER)
    assert "mtta" in table
    assert "time_to_green" not in table
    code, out, _ = cli("stats", "--measure", "mtta=began..lunch")
    assert (2, "") == (code, out)


def test_stats_chart_and_timeline_chart_are_written(cli: CLI, tmp_path: Path) -> None:
    """`stats --chart` and `chart --output` write SVG files that parse."""
    resolution = tmp_path / "resolution.svg"
    timeline = tmp_path / "timeline.svg"
    cli.ok("stats", "--chart", str(resolution), "--at", LATER)
    cli.ok("chart", DEMO, "--output", str(timeline), "--at", LATER)
    for path in (resolution, timeline):
        assert ET.parse(path).getroot().tag.endswith("svg")


def test_chart_refuses_an_unknown_picture_format(cli: CLI, tmp_path: Path) -> None:
    """A chart file must end in .svg or .png."""
    code, _, err = cli("chart", DEMO, "--output", str(tmp_path / "t.gif"))
    assert 2 == code
    assert ".svg or .png" in err


def test_a_missing_extra_exits_6_and_says_what_to_install(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without matplotlib, `chart` exits 6 naming the extra to install."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = cli("chart", DEMO, "--output", str(tmp_path / "t.svg"))
    assert 6 == code
    assert "incidentflow[charts]" in err


def test_typed_control_characters_never_reach_the_terminal(cli: CLI) -> None:
    """A title or note with terminal escape sequences prints them as visible U+FFFD."""
    cli.ok(
        "declare", "INC-8", "--title", "evil\x1b[2J\x1b]0;pwned\x07", "--priority", "P3",
        "--at", "2026-03-01T14:00:00+00:00",
    )  # fmt: skip
    cli.ok("note", "INC-8", "line one\r\nline two\x1b[31m")
    outputs = [
        cli.ok("status", "INC-8"),
        cli.ok("timeline", "INC-8"),
        cli.ok("list"),
        cli.ok("update", "INC-8"),
        cli.ok("agenda", "INC-8"),
    ]
    for out in outputs:
        assert "\x1b" not in out
        assert "\x07" not in out
        assert "\r" not in out
    assert "evil\ufffd[2J" in outputs[0]
