"""The RCA document: the runbook's format filled from the record, escaped, with its gaps."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from hostile import Structure, as_name
from incidentflow import (
    ActionKind,
    ChangeOutcome,
    FishboneCategory,
    Incident,
    InvalidInput,
    LinkKind,
    ManualClock,
    MissingExtra,
    Policy,
    Priority,
    Role,
    Verdict,
)
from incidentflow import events as ev
from incidentflow.demo import run_demo
from incidentflow.documents._markup import inline
from incidentflow.documents._markup import markdown as escape
from incidentflow.documents._narrative import describe
from incidentflow.documents.rca import (
    SECTION_KEYS,
    Figure,
    Gap,
    NothingRecorded,
    RcaDocument,
    Section,
    Span,
    Subheading,
    Table,
    rca_document,
)
from incidentflow.testing import incidents, texts

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = "INCIDENTFLOW_UPDATE_GOLDEN"
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
CONFIDENTIAL = "Internal — do not forward"

HEADINGS = [
    "Executive Summary",
    "Table of Contents",
    "1. Introduction",
    "2. Scope",
    "3. Problem Description",
    "4. Methodology",
    "5. Analysis",
    "6. Recommendations",
    "7. Conclusion",
    "Summary and Final Thoughts",
    "Appendices",
    "Acknowledgments",
    "Revision History",
]


# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> RcaDocument:
    """The RCA document of the demo incident, as the golden files hold it."""
    return rca_document(run_demo(lambda s: None), now=NOW, confidentiality=CONFIDENTIAL)


def parts(markdown: str) -> dict[tuple[str, str], list[str]]:
    """The Markdown's lines under each (section heading, sub-heading), blank lines dropped."""
    found: dict[tuple[str, str], list[str]] = {}
    section = sub = ""
    for line in markdown.splitlines():
        if line.startswith(("# ", "## ")):
            section, sub = line.split(" ", 1)[1], ""
            found.setdefault((section, sub), [])
        elif line.startswith("### "):
            sub = line[4:]
            found.setdefault((section, sub), [])
        elif line:
            found[(section, sub)].append(line)
    return found


def rows(lines: list[str]) -> list[list[str]]:
    """The body rows of the one Markdown table among ``lines``, split into cells."""
    table = [line for line in lines if line.startswith("| ")]
    return [line[2:-2].split(" | ") for line in table[2:]]


def role_people(incident: Incident) -> dict[Role, set[str]]:
    """Everyone who ever held each role, read from the history."""
    people: dict[Role, set[str]] = {}
    for event in incident.history:
        if isinstance(event, ev.RoleAssigned):
            people.setdefault(event.role, set()).add(event.holder)
        elif isinstance(event, ev.RoleHandedOff):
            people.setdefault(event.role, set()).update({event.from_holder, event.to_holder})
    return people


def staffed(clock: ManualClock, *, policy: Policy | None = None) -> Incident:
    """A P2 declared at 14:00 by ana and staffed: ana Lead, bo IC, cy Communicator, di Recorder."""
    incident = Incident.declare(
        "INC-7", "Search is slow", Priority.P2, actor="ana", clock=clock,
        policy=policy or Policy.permissive(),
    )  # fmt: skip
    for role, holder in (
        (Role.LEAD, "ana"),
        (Role.INCIDENT_COMMANDER, "bo"),
        (Role.COMMUNICATOR, "cy"),
        (Role.RECORDER, "di"),
    ):
        incident.assign(role, holder, actor="ana")
    return incident


# -- golden files ----------------------------------------------------------------------------


def check_golden(name: str, actual: str, *, directory: Path = GOLDEN) -> None:
    """Compare ``actual`` with a golden file; with INCIDENTFLOW_UPDATE_GOLDEN set, rewrite it."""
    path = directory / name
    if os.environ.get(UPDATE):
        path.write_bytes(actual.encode("utf-8"))
        pytest.fail(f"rewrote {path}; unset {UPDATE} and run the tests again")
    expected = path.read_bytes().decode("utf-8")
    assert expected == actual, f"{name} differs; rerun with {UPDATE}=1 if the change is intended"


def test_demo_markdown_matches_the_golden_file(demo: RcaDocument) -> None:
    """The demo incident's Markdown RCA is exactly tests/golden/demo-rca.md."""
    check_golden("demo-rca.md", demo.markdown())


def test_demo_html_matches_the_golden_file(demo: RcaDocument) -> None:
    """The demo incident's HTML RCA is exactly tests/golden/demo-rca.html."""
    check_golden("demo-rca.html", demo.html(chart=False))


def test_golden_update_rewrites_and_then_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the update variable set, the golden check writes the file and fails saying so."""
    monkeypatch.setenv(UPDATE, "1")
    with pytest.raises(pytest.fail.Exception, match="rewrote"):
        check_golden("x.md", "new text\n", directory=tmp_path)
    assert "new text\n" == (tmp_path / "x.md").read_text(encoding="utf-8")


# -- the document's shape --------------------------------------------------------------------


def test_sections_follow_the_runbook_order_and_words(demo: RcaDocument) -> None:
    """Sections come in the spec's order, headed in the runbook's words."""
    assert list(SECTION_KEYS) == [s.key for s in demo.sections]
    assert ["Root Cause Analysis for Database is down", *HEADINGS] == [
        s.heading for s in demo.sections
    ]
    headings = [line for line in demo.markdown().splitlines() if re.match(r"#{1,2} ", line)]
    assert ["# Root Cause Analysis for Database is down", *(f"## {h}" for h in HEADINGS)] == (
        headings
    )


def test_document_identifies_incident_version_and_time(demo: RcaDocument) -> None:
    """The document says which incident, at which version, generated when."""
    assert ("INC-1042", "Root Cause Analysis for Database is down", NOW, 37) == (
        demo.incident_id,
        demo.title,
        demo.generated_at,
        demo.version,
    )


def test_section_looks_up_by_key(demo: RcaDocument) -> None:
    """section() finds a section by key and refuses an unknown key."""
    assert "5. Analysis" == demo.section("analysis").heading
    with pytest.raises(InvalidInput, match="no section 'nope'"):
        demo.section("nope")


def test_reviewers_fill_the_background_and_out_of_scope() -> None:
    """Given background and out-of-scope text, those gaps close and the text is in its place."""
    incident = run_demo(lambda line: None)
    doc = rca_document(
        incident, now=NOW, background="The *auth* service issues tokens.", out_of_scope="DNS"
    )
    assert [Gap("recommendations", "corrective actions")] == list(doc.gaps)
    text = doc.markdown()
    intro = text.index("## 1. Introduction")
    assert text.index("The \\*auth\\* service issues tokens.", intro) < text.index("## 2. Scope")
    assert text.index("DNS", text.index("### Out of scope")) < text.index("## 3. Problem")
    with pytest.raises(InvalidInput, match="background"):
        rca_document(incident, now=NOW, background="  ")


def test_a_document_before_the_last_record_is_refused() -> None:
    """A document as of a moment before the incident's last record is refused."""
    incident = run_demo(lambda line: None)
    with pytest.raises(InvalidInput, match="last recorded event"):
        rca_document(incident, now=incident.last_recorded_at - timedelta(seconds=1))
    assert incident.version == rca_document(incident, now=incident.last_recorded_at).version


def test_demo_gaps_are_what_the_record_leaves_empty(demo: RcaDocument) -> None:
    """The demo's completeness check: no background, no out-of-scope, no corrective action."""
    assert (
        Gap("introduction", "the background of the system"),
        Gap("scope", "what is out of scope"),
        Gap("recommendations", "corrective actions"),
    ) == demo.gaps


def test_just_declared_incident_says_nothing_recorded_everywhere(clock: ManualClock) -> None:
    """A bare declaration renders every part, most saying nothing is recorded, all as gaps."""
    incident = Incident.declare("INC-1", "Disk full", Priority.P3, actor="ana", clock=clock)
    doc = rca_document(incident, now=START)
    assert [
        ("executive_summary", "root causes (no Five Whys chain has reached one)"),
        ("introduction", "the background of the system"),
        ("scope", "the systems examined"),
        ("scope", "what is out of scope"),
        ("problem_description", "the impact"),
        ("problem_description", "the evidence"),
        ("problem_description", "links to the ticket, war room, channel and announcement"),
        ("methodology", "Five Whys chains"),
        ("methodology", "fishbone categories (no contributing factor is recorded)"),
        ("methodology", "the teams and roles involved"),
        ("analysis", "Five Whys answers"),
        ("analysis", "contributing factors"),
        ("analysis", "experiments that did not work"),
        ("analysis", "confirmed experiments"),
        ("analysis", "manual changes"),
        ("recommendations", "corrective actions"),
        ("recommendations", "preventive actions"),
        ("conclusion", "root causes to conclude on"),
        ("appendices", "stakeholder updates"),
        ("acknowledgments", "the people who took part"),
        ("revision_history", "changes to the analysis or the recommendations"),
    ] == [(g.section, g.what) for g in doc.gaps]
    assert list(SECTION_KEYS) == [s.key for s in doc.sections]
    assert "*Nothing recorded: the impact.*" in doc.markdown().splitlines()


# -- title page and summary ------------------------------------------------------------------


def test_title_page_names_recorder_date_and_note(demo: RcaDocument) -> None:
    """The title page shows the incident, now's date, the Recorder as author and the note."""
    assert [
        "- **Incident:** INC-1042",
        "- **Date:** 2026-03-10",
        "- **Author/Team:** di",
        "- **Confidentiality:** Internal — do not forward",
    ] == parts(demo.markdown())[("Root Cause Analysis for Database is down", "")]


def test_author_falls_back_to_the_declarer(clock: ManualClock) -> None:
    """With no Recorder, the declarer is the author; an explicit author wins; no note by default."""
    incident = Incident.declare("INC-1", "Disk full", Priority.P3, actor="ana", clock=clock)
    page = parts(rca_document(incident, now=START).markdown())[
        ("Root Cause Analysis for Disk full", "")
    ]
    assert ["- **Incident:** INC-1", "- **Date:** 2026-03-01", "- **Author/Team:** ana"] == page
    named = rca_document(incident, now=START, author="SRE team").section("title_page")
    assert "- **Author/Team:** SRE team" in named.markdown()


def test_date_is_nows_own_date_and_times_are_utc(clock: ManualClock) -> None:
    """The title date is now's calendar date; every time shown is converted to UTC."""
    tokyo = timezone(timedelta(hours=9))
    incident = Incident.declare(
        "INC-1", "Disk full", Priority.P3, actor="ana", clock=clock,
        at=datetime(2026, 3, 1, 22, 30, tzinfo=tokyo),
    )  # fmt: skip
    doc = rca_document(incident, now=datetime(2026, 3, 2, 8, 0, tzinfo=tokyo))
    text = doc.markdown()
    assert "- **Date:** 2026-03-02" in text
    assert "**Impact began:** 2026-03-01 13:30 UTC" in text
    assert "generated from version 1 at 2026-03-01 23:00 UTC;" in text


def test_executive_summary_is_one_paragraph_of_prose(demo: RcaDocument) -> None:
    """The summary says what failed, the impact, detection, response, root cause and actions."""
    assert [
        "Database is down (INC-1042), a P1 (Major Incident), now in the post_mortem state. "
        "Impact began at 2026-03-01 13:56 UTC: every customer: checkout and deploys fail. "
        "It was declared 4 min after it began, at 2026-03-01 14:00 UTC. "
        "It was resolved (yellow) after 44 min and green after 1 h 36 min. "
        "The root cause found: The scheduled job for token refreshment failed. "
        "1 preventive action is recorded, still open."
    ] == parts(demo.markdown())[("Executive Summary", "")]


def test_executive_summary_says_what_is_not_there_yet(clock: ManualClock) -> None:
    """A bare declaration: no assessment, not resolved, no root cause, no action, said plainly."""
    incident = Incident.declare("INC-1", "Disk full", Priority.P3, actor="ana", clock=clock)
    doc = rca_document(incident, now=START)
    assert [
        "Disk full (INC-1), a P3 (Low Impact Incident), now in the declared state. "
        "Impact began at 2026-03-01 14:00 UTC; no impact assessment is recorded. "
        "It was declared as it began, at 2026-03-01 14:00 UTC. "
        "It has not been resolved (yellow) yet. No root cause has been found yet. "
        "No corrective or preventive action is recorded yet.",
        "*Nothing recorded: root causes (no Five Whys chain has reached one).*",
    ] == parts(doc.markdown())[("Executive Summary", "")]


def test_durations_count_days_and_hours(clock: ManualClock) -> None:
    """A long response shows days, hours and minutes to yellow."""
    incident = staffed(clock)
    incident.validate("graphs", actor="ana")
    incident.link(LinkKind.TICKET, "T-1", actor="ana")
    incident.mitigate("go", actor="ana")
    incident.verify_recovery("graphs", actor="bo")
    clock.advance(days=2, hours=3, minutes=5)
    incident.announce_yellow("resolved", actor="ana")
    text = rca_document(incident, now=clock.now()).markdown()
    assert "It was resolved (yellow) after 2 d 3 h 5 min and is not green yet." in text


def test_root_causes_appear_in_summary_and_conclusion(demo: RcaDocument) -> None:
    """The root cause is a key finding and part of the conclusion."""
    found = parts(demo.markdown())
    line = "- The scheduled job for token refreshment failed. (chain main)"
    summary = "The root cause found: The scheduled job for token refreshment failed."
    assert summary in found[("Executive Summary", "")][0]
    assert line in found[("7. Conclusion", "")]


def test_summary_counts_what_was_recorded(demo: RcaDocument) -> None:
    """The summary counts events, experiments, changes, whys, factors, updates, debt, actions."""
    assert [
        "- 37 events recorded by 4 people, from 2026-03-01 14:00 UTC to 2026-03-01 16:40 UTC",
        "- 2 experiments: 1 confirmed, 1 refuted, 0 inconclusive, 0 running",
        "- 1 manual change, 1 reconciled",
        "- 1 Five Whys chain, 1 with a root cause",
        "- 1 contributing factor",
        "- 2 stakeholder updates, 1 reporting no progress",
        "- 1 tech-debt item, 0 open",
        "- 1 action item (0 corrective, 1 preventive), 1 open",
    ] == parts(demo.markdown())[("Summary and Final Thoughts", "")]


# -- where each fact goes --------------------------------------------------------------------


def test_problem_description_takes_impact_evidence_and_links(demo: RcaDocument) -> None:
    """Impact, the three kinds of evidence and every link are under the problem description."""
    found = parts(demo.markdown())
    assert ["every customer: checkout and deploys fail"] == found[
        ("3. Problem Description", "Impact")
    ]
    assert [
        "- **Validated** (bo, 2026-03-01 14:02 UTC): primary refuses connections; checkout "
        "and deploys fail",
        "- **Recovery verified** (bo, 2026-03-01 14:39 UTC): error rate back to baseline for "
        "10 minutes",
        "- **Customer verification** (cy, 2026-03-01 15:00 UTC): Acme Corp: deploys succeed again",
    ] == found[("3. Problem Description", "Evidence")]
    links = found[("3. Problem Description", "Links")]
    assert "- **Ticket:** <https://tickets.example.com/IM-1042>" == links[0]
    assert 4 == len(links)


def test_blank_impact_is_a_gap(clock: ManualClock) -> None:
    """A validation without an impact assessment leaves the impact as a gap."""
    incident = staffed(clock)
    incident.validate("graphs", impact="   ", actor="ana")
    doc = rca_document(incident, now=clock.now())
    assert Gap("problem_description", "the impact") in doc.gaps
    assert Gap("problem_description", "the evidence") not in doc.gaps


def test_roles_involved_include_former_holders(clock: ManualClock) -> None:
    """Methodology and acknowledgments name current and former holders (once), and others."""
    incident = staffed(clock)
    incident.hand_off(Role.COMMUNICATOR, "cy", "eli", actor="ana")
    incident.assign(Role.INCIDENT_COMMANDER, "fay", actor="ana")
    incident.release(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    incident.release(Role.RECORDER, "di", actor="ana")
    incident.assign(Role.RECORDER, "di", actor="ana")
    incident.note("watching", actor="gus")
    found = parts(rca_document(incident, now=clock.now()).markdown())
    assert [
        ["Communicator", "eli", "cy"],
        ["Recorder", "di", "—"],
        ["Lead", "ana", "—"],
        ["IC (Incident Commander)", "fay", "bo"],
    ] == rows(found[("4. Methodology", "Teams and roles involved")])
    assert [
        "- **Communicator:** cy, eli",
        "- **Recorder:** di",
        "- **Lead:** ana",
        "- **IC (Incident Commander):** bo, fay",
        "- **Also took part:** gus",
    ] == found[("Acknowledgments", "")][1:]


def test_factors_are_grouped_and_counted_by_category(clock: ManualClock) -> None:
    """Factors group under their fishbone category, uncategorized last, and are counted."""
    incident = staffed(clock)
    incident.add_factor("no alert", category=FishboneCategory.MEASUREMENT, actor="di")
    incident.add_factor("tired on-call", category=FishboneCategory.PEOPLE, actor="di")
    incident.add_factor("unknown", actor="di")
    incident.add_factor("no dashboard", category=FishboneCategory.MEASUREMENT, actor="di")
    found = parts(rca_document(incident, now=clock.now()).markdown())
    assert [
        "**People**",
        "- tired on-call",
        "**Measurement**",
        "- no alert",
        "- no dashboard",
        "**Uncategorized**",
        "- unknown",
    ] == found[("5. Analysis", "Contributing factors")]
    fishbone = found[("4. Methodology", "Fishbone categories")]
    assert ["- people: 1 factor", "- measurement: 2 factors", "- uncategorized: 1 factor"] == (
        fishbone[:3]
    )
    assert [
        "```mermaid",
        "flowchart LR",
        '    effect["Search is slow"]',
        '    c1["people"] --> effect',
        '    f1_1["tired on-call"] --> c1',
        '    c2["measurement"] --> effect',
        '    f2_1["no alert"] --> c2',
        '    f2_2["no dashboard"] --> c2',
        '    c3["uncategorized"] --> effect',
        '    f3_1["unknown"] --> c3',
        "```",
    ] == fishbone[3:-1]


def test_experiments_are_placed_by_verdict(clock: ManualClock) -> None:
    """Refuted and inconclusive under did-not-work, confirmed apart, running ones apart."""
    incident = staffed(clock)

    def experiment(component: str) -> str:
        return incident.start_experiment(
            hypothesis=f"{component} is broken", action="look", expected="errors",
            component=component, owner="bo", actor="bo",
        ).experiment_id  # fmt: skip

    for component, verdict in (
        ("db", Verdict.REFUTED),
        ("dns", Verdict.CONFIRMED),
        ("api", Verdict.INCONCLUSIVE),
    ):
        incident.conclude_experiment(
            experiment(component), observed="seen", verdict=verdict, actor="bo"
        )
    experiment("cdn")
    found = parts(rca_document(incident, now=clock.now()).markdown())
    failed = rows(found[("5. Analysis", "What was tried and did not work")])
    assert [["E1", "db", "refuted"], ["E3", "api", "inconclusive"]] == [
        [r[0], r[1], r[-1]] for r in failed
    ]
    assert [["E2", "confirmed"]] == [
        [r[0], r[-1]] for r in rows(found[("5. Analysis", "Confirmed experiments")])
    ]
    assert [["E4", "cdn", "bo", "cdn is broken", "look", "errors", "—", "running"]] == rows(
        found[("5. Analysis", "Experiments still running")]
    )
    assert ["- db", "- dns", "- api", "- cdn"] == found[("2. Scope", "In scope")][1:]


def test_manual_changes_show_their_outcome(clock: ManualClock) -> None:
    """Each manual change is a row with what, where, by, when, revert and how it ended."""
    incident = staffed(clock)
    incident.log_change(what="restart", where="db-1", revert="none", actor="di", made_by="bo")
    clock.advance(minutes=5)
    incident.log_change(what="flag off", where="api", revert="flag on", actor="di")
    clock.advance(minutes=5)
    incident.reconcile_change("C1", ChangeOutcome.PERMANENT, actor="bo")
    found = parts(rca_document(incident, now=clock.now()).markdown())
    assert [
        ["C1", "restart", "db-1", "bo", "2026-03-01 14:00 UTC", "none",
         "permanent 2026-03-01 14:10 UTC"],
        ["C2", "flag off", "api", "di", "2026-03-01 14:05 UTC", "flag on", "not reconciled"],
    ] == rows(found[("5. Analysis", "Manual changes")])  # fmt: skip


def test_actions_are_split_by_kind_with_status(clock: ManualClock) -> None:
    """Actions go under corrective or preventive, with owner, due time and status at now."""
    incident = staffed(clock)
    soon, later = START + timedelta(days=1), START + timedelta(days=9)
    incident.add_action("fix", owner="bo", due_at=soon, kind=ActionKind.CORRECTIVE, actor="ana")
    incident.add_action("alert", owner="cy", due_at=later, kind=ActionKind.PREVENTIVE, actor="ana")
    incident.add_action("docs", owner="di", due_at=soon, kind=ActionKind.PREVENTIVE, actor="ana")
    clock.advance(hours=1)
    incident.close_action("A3", actor="di")
    doc = rca_document(incident, now=START + timedelta(days=2))
    found = parts(doc.markdown())
    assert [["A1", "fix", "bo", "2026-03-02 14:00 UTC", "open, overdue"]] == rows(
        found[("6. Recommendations", "Corrective actions")]
    )
    assert [
        ["A2", "alert", "cy", "2026-03-10 14:00 UTC", "open"],
        ["A3", "docs", "di", "2026-03-02 14:00 UTC", "closed 2026-03-01 15:00 UTC"],
    ] == rows(found[("6. Recommendations", "Preventive actions")])
    assert (
        "2 of 3 action items remain open, 1 overdue. No post-mortem is scheduled yet."
        == found[("7. Conclusion", "")][-1]
    )


def test_conclusion_counts_closed_and_missing_actions(clock: ManualClock) -> None:
    """The conclusion says when every action is closed, or that none was added."""
    incident = staffed(clock)
    last: Callable[[], str] = lambda: parts(rca_document(incident, now=clock.now()).markdown())[  # noqa: E731
        ("7. Conclusion", "")
    ][-1]
    assert last().startswith("No action item has been added.")
    incident.add_action("fix", owner="bo", due_at=START, kind=ActionKind.CORRECTIVE, actor="ana")
    incident.close_action("A1", actor="bo")
    assert last().startswith("Every action item is closed.")


def test_revision_history_explains_versions_and_groups_changes_by_state(
    demo: RcaDocument,
) -> None:
    """It says what a version is, then the analysis changes made in each state, counted."""
    found = parts(demo.markdown())[("Revision History", "")]
    assert found[0].startswith(
        "A version counts the events an incident has recorded: each event adds one, so "
        "version 37 is the record after its 37th event. This document was generated from "
        "version 37 at 2026-03-10 09:00 UTC;"
    )
    assert [
        [
            "14–25",
            "14:15–14:34",
            "mitigating",
            "2 experiments concluded, 5 whys answered, 1 contributing factor added",
        ],
        ["33–34", "16:32–16:33", "green", "the report started, 1 action added"],
        ["36", "16:39", "reported", "the post-mortem scheduled"],
    ] == rows(found)


def test_revision_history_names_other_days_and_repeated_changes(clock: ManualClock) -> None:
    """A change on a later day says its day; a kind of change made twice is counted."""
    incident = staffed(clock)
    incident.add_action("a", owner="bo", due_at=START, kind=ActionKind.CORRECTIVE, actor="ana")
    incident.add_action("b", owner="bo", due_at=START, kind=ActionKind.CORRECTIVE, actor="ana")
    clock.advance(days=1)
    incident.close_action("A1", actor="bo")
    incident.add_factor("no alert", actor="di")
    found = rows(
        parts(rca_document(incident, now=clock.now()).markdown())[("Revision History", "")]
    )
    assert [
        [
            "6–9",
            "14:00–14:00+1",
            "declared",
            "2 actions added, 1 action closed, 1 contributing factor added",
        ]
    ] == found


def test_time_zones_of_typed_moments_do_not_leak_into_our_times(clock: ManualClock) -> None:
    """Events stamped in another offset are shown in UTC in the timeline's time column."""
    incident = staffed(clock)
    incident.note(
        "late", actor="di", at=datetime(2026, 3, 1, 9, 0, tzinfo=timezone(-timedelta(hours=5)))
    )
    timeline = rows(
        parts(rca_document(incident, now=clock.now()).markdown())[("Appendices", "Timeline")]
    )
    assert ["14:00", "di noted: late"] == timeline[-1]


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"now": datetime(2026, 3, 1, 14, 0)}, "now must be a timezone-aware datetime"),
        ({"now": "2026-03-01"}, "now must be a timezone-aware datetime"),
        ({"now": NOW, "author": "  "}, "author must be a non-blank string"),
        ({"now": NOW, "author": 3}, "author must be a non-blank string"),
        ({"now": NOW, "confidentiality": ""}, "confidentiality must be a non-blank string"),
    ],
    ids=["naive-now", "text-now", "blank-author", "number-author", "empty-note"],
)
def test_bad_arguments_are_invalid_input(
    clock: ManualClock, kwargs: dict[str, Any], message: str
) -> None:
    """A naive or non-datetime now, or a blank author or note, raises InvalidInput."""
    incident = Incident.declare("INC-1", "Disk full", Priority.P3, actor="ana", clock=clock)
    with pytest.raises(InvalidInput, match=message):
        rca_document(incident, **kwargs)


@pytest.mark.parametrize("thing", [None, "INC-1", [ev.NoteAdded]], ids=["none", "id", "list"])
def test_not_an_incident_is_invalid_input(thing: Any) -> None:
    """Anything but an Incident raises InvalidInput."""
    with pytest.raises(InvalidInput, match="incident must be an Incident"):
        rca_document(thing, now=NOW)


def test_our_own_text_may_not_hold_markup() -> None:
    """A span of the library's own words refuses markup characters; typed spans take anything."""
    with pytest.raises(InvalidInput, match="markup characters"):
        Span("<b>", typed=False)
    for build in (
        lambda: Subheading("a | b"),
        lambda: Table(("ok", "<th>"), ()),
        lambda: NothingRecorded("`code`"),
    ):
        with pytest.raises(InvalidInput, match="markup characters"):
            build()
    assert "\\<b>" == Span("<b>").markdown()


# -- property: every recorded fact appears where the format puts it --------------------------


def nothing_lines(markdown: str) -> list[tuple[str, str]]:
    """(section heading, what) of every "Nothing recorded" line in the Markdown."""
    found = []
    for (section, _sub), lines in parts(markdown).items():
        for line in lines:
            match = re.fullmatch(r"\*Nothing recorded: (.*)\.\*", line)
            if match:
                found.append((section, match.group(1)))
    return found


def cell(text: str) -> str:
    """Typed text as a table cell holds it."""
    return escape(text, before=" ", after=" ", cell=True)


def under_labels(lines: list[str]) -> dict[str, list[str]]:
    """Bullet lines grouped under the bold label line before them."""
    groups: dict[str, list[str]] = {}
    label = ""
    for line in lines:
        if line.startswith("**"):
            label = line.strip("*")
            groups[label] = []
        elif line.startswith("- "):
            groups[label].append(line[2:])
    return groups


@given(
    incident=incidents(), later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))
)
def test_every_recorded_fact_appears_where_the_format_puts_it(
    incident: Incident, later: timedelta
) -> None:
    """Whys, factors, experiments, changes, actions, updates, events and people are in place."""
    now = incident.last_recorded_at + later
    doc = rca_document(incident, now=now)
    text = doc.markdown()
    found = parts(text)
    heading = f"Root Cause Analysis for {escape(incident.title, before=' ', heading=True)}"
    assert [heading, *HEADINGS] == list(dict.fromkeys(section for section, _ in found))

    whys = found[("5. Analysis", "Five Whys")]
    required = incident.policy.whys_depth_for(incident.priority)
    for chain in incident.why_chains.values():
        # A nested list: the n-th why indented n - 1 levels, a chain's lines one after another.
        last = len(chain.answers) - 1
        expected = [
            "  " * (d - 1)
            + f"- Why {d}"
            + (f" (chain {escape(chain.id, before=' ', after=')')})" if n == 0 else "")
            + f": {escape(a, before=' ', after=' ' if n == last and chain.root_cause else '')}"
            for n, (d, a) in enumerate(enumerate(chain.answers, start=chain.start))
        ]
        if chain.root_cause:
            deep = chain.start - 1 + len(chain.answers)
            expected[-1] += (
                " **(root cause found)**"
                if deep >= required
                else f" **(root cause marked at why {deep}, short of the {required} required)**"
            )
        start = whys.index(expected[0])
        assert expected == whys[start : start + len(expected)]

    groups = under_labels(found[("5. Analysis", "Contributing factors")])
    for category in [*FishboneCategory, None]:
        label = category.value.capitalize() if category else "Uncategorized"
        expected = [
            escape(f.description, start=True) for f in incident.factors if f.category is category
        ]
        assert expected == groups.get(label, [])

    def ids(sub: tuple[str, str]) -> list[str]:
        return [r[0] for r in rows(found.get(sub, []))]

    experiments = incident.experiments.values()
    for sub, verdicts in (
        ("What was tried and did not work", {Verdict.REFUTED, Verdict.INCONCLUSIVE}),
        ("Confirmed experiments", {Verdict.CONFIRMED}),
        ("Experiments still running", {None}),
    ):
        expected = [cell(e.id) for e in experiments if e.verdict in verdicts]
        assert expected == ids(("5. Analysis", sub))
    assert [cell(c) for c in incident.manual_changes] == ids(("5. Analysis", "Manual changes"))
    for kind in ActionKind:
        expected = [cell(a.id) for a in incident.action_items.values() if a.kind is kind]
        assert expected == ids(("6. Recommendations", f"{kind.value.capitalize()} actions"))

    updates = rows(found[("Appendices", "Stakeholder updates")])
    assert [cell(u.message) for u in incident.updates] == [r[-1] for r in updates]
    # The corrected record: amended entries as corrected, retracted ones and corrections left
    # out (the revision history lists the corrections); bookkeeping is under Who and what.
    timeline = sorted(incident.corrected_history, key=lambda e: e.occurred_at)
    bookkeeping = (ev.RoleAssigned, ev.RoleHandedOff, ev.RoleReleased, ev.Linked, ev.PolicyAdopted)
    began = incident.began_at
    assert [
        ("Before impact: " if e.occurred_at < began else "") + cell(describe(e))
        for e in timeline
        if not isinstance(e, bookkeeping)
    ] == [r[-1] for r in rows(found[("Appendices", "Timeline")])]
    who = found[("Appendices", "Who and what")]
    links = [e for e in timeline if isinstance(e, ev.Linked)]
    assert (
        [f"- **{e.kind.label}:** " for e in links]
        == [
            line[: len(f"- **{e.kind.label}:** ")]
            for line, e in zip(who[-len(links) :], links, strict=True)
        ]
        if links
        else True
    )

    thanks = {line.split(":** ")[0][4:]: line for line in found[("Acknowledgments", "")]}
    for role, people in role_people(incident).items():
        named = thanks[role.title].split(":** ")[1].split(", ")
        assert all(escape(p, before=" ", after=",") in named or escape(p, before=" ") in named
                   for p in people)  # fmt: skip

    headings = {s.key: s.heading for s in doc.sections}
    assert [(headings[g.section], g.what) for g in doc.gaps] == nothing_lines(text)
    always = {
        ("1. Introduction", "the background of the system"),
        ("2. Scope", "what is out of scope"),
    }
    assert always <= set(nothing_lines(text))
    blocks = [b for s in doc.sections for b in s.blocks if isinstance(b, NothingRecorded)]
    assert len(blocks) == len(doc.gaps)


# -- property: typed text cannot change the document's structure -----------------------------

NASTY = [
    "**bold**", "_em_", "`code`", "```", "~~gone~~", "[link](https://evil.example)",
    "![img](https://evil.example/x.png)", "<script>alert(1)</script>", "<a href='x'>x</a>",
    "<img src=x onerror=alert(1)>", '" onmouseover="alert(1)', "javascript:alert(1)",
    "@here", "@channel", "<!here>", "<@U123>", "<#C123>", "https://evil.example/path",
    "www.evil.example", "evil@example.com", "# heading", "## heading", "- item", "* item",
    "+ item", "1. item", "2) item", "> quote", "| a | b |", "|---|", "---", "===",
    "&amp;", "&#x3C;", "&lt;b&gt;", "\\", "\\*", "a\\", "[ ] task", "[x] done", "<http://x>",
    "</td></tr></table>", "</section>", "\u202eevil", "zero\u200bwidth", "line\nbreak",
    "a\r\nb", "\x00nul", "\x1b[31mred", "    indented", "{{template}}", "${x}", "[^1]",
    "[ref]: https://evil.example", "<!-- comment -->", "<?php ?>", "<![CDATA[x]]>",
    "Setext\n---", "term\n: definition", "a  \nb", "\u00a0nbsp", "ｆｕｌｌ＜ｗｉｄｔｈ＞",
]  # fmt: skip

hostile = st.one_of(
    st.sampled_from(NASTY),
    texts(),
    st.lists(st.one_of(st.sampled_from(NASTY), texts(max_size=8)), min_size=2, max_size=4).map(
        " ".join
    ),
).filter(lambda s: s.strip() != "")


@st.composite
def hostile_texts(draw: Any) -> dict[str, Any]:
    """Typed text for every slot of a scripted incident, nasty strings mixed with any text."""
    slots = {
        name: draw(hostile)
        for name in (
            "id", "title", "impact", "evidence", "url", "hypothesis", "action", "expected",
            "observed", "note", "update1", "update2", "what", "revert", "factor1", "factor2",
            "corrective", "preventive", "debt", "recovery", "customer", "verified", "author",
            "confidentiality", "why1", "why2", "why3",
        )
    }  # fmt: skip
    places = draw(st.lists(hostile, min_size=4, max_size=4, unique=True))
    chains = draw(st.lists(hostile.map(as_name), min_size=2, max_size=2, unique=True))
    return {**slots, "id": as_name(slots["id"]), "places": places, "chains": chains}


def plain_texts(slots: dict[str, Any]) -> dict[str, Any]:
    """The same slots with every typed text replaced by a distinct plain word."""
    words = (f"word{chr(ord('a') + n // 26)}{chr(ord('a') + n % 26)}" for n in range(1000))
    return {
        k: [next(words) for _ in v] if isinstance(v, list) else next(words)
        for k, v in slots.items()
    }


def scripted(t: dict[str, Any], cats: list[FishboneCategory | None]) -> Incident:
    """An incident with typed text in every slot: staffed, experimented, yellow, recommended."""
    clock = ManualClock(START)
    incident = Incident.declare(t["id"], t["title"], Priority.P2, actor="ana", clock=clock,
                                policy=Policy.permissive())  # fmt: skip
    for role, holder in ((Role.LEAD, "ana"), (Role.INCIDENT_COMMANDER, "bo"),
                         (Role.RECORDER, "di"), (Role.COMMUNICATOR, "cy")):  # fmt: skip
        incident.assign(role, holder, actor="ana")
    incident.hand_off(Role.COMMUNICATOR, "cy", "eli", actor="ana")
    incident.validate(t["evidence"], impact=t["impact"], actor="bo")
    incident.link(LinkKind.TICKET, t["url"], actor="ana")
    incident.post_update(t["update1"], actor="eli")
    clock.advance(minutes=5)
    incident.mitigate("go", actor="ana")

    def experiment(place: str) -> str:
        return incident.start_experiment(
            hypothesis=t["hypothesis"], action=t["action"], expected=t["expected"],
            component=place, owner="bo", actor="bo",
        ).experiment_id  # fmt: skip

    for place, verdict in zip(t["places"], Verdict, strict=False):
        incident.conclude_experiment(
            experiment(place), observed=t["observed"], verdict=verdict, actor="bo"
        )
    change = incident.log_change(what=t["what"], where=t["places"][0], revert=t["revert"],
                                 actor="di", made_by="bo")  # fmt: skip
    incident.log_change(what=t["what"], where=t["places"][3], revert=t["revert"], actor="di")
    incident.reconcile_change(change.change_id, ChangeOutcome.REVERTED, note=t["note"], actor="bo")
    incident.note(t["note"], actor="di")
    incident.post_update(t["update2"], no_progress=True, actor="eli")
    for _ in range(incident.policy.whys_depth_for(incident.priority) - 1):
        incident.add_why(t["why1"], chain=t["chains"][0], actor="di")
    incident.add_why(t["why2"], chain=t["chains"][0], root_cause=True, actor="di")
    incident.add_why(t["why3"], chain=t["chains"][1], actor="di")
    for factor, category in zip(("factor1", "factor2"), cats, strict=True):
        incident.add_factor(t[factor], category=category, actor="di")
    incident.open_debt(t["debt"], actor="bo")
    incident.verify_recovery("graphs", actor="bo")
    clock.advance(minutes=30)
    incident.announce_yellow("resolved", actor="ana")
    incident.verify_customer(t["customer"], t["verified"], actor="eli")
    incident.reopen("it came back", actor="ana")
    experiment(t["places"][3])
    incident.verify_recovery(t["recovery"], actor="bo")
    due = START + timedelta(days=3)
    incident.add_action(t["corrective"], owner="bo", due_at=due, kind=ActionKind.CORRECTIVE,
                        actor="ana")  # fmt: skip
    incident.add_action(t["preventive"], owner="cy", due_at=due, kind=ActionKind.PREVENTIVE,
                        actor="ana")  # fmt: skip
    incident.close_action("A1", note=t["note"], actor="bo")
    return incident


def typed_in(t: dict[str, Any]) -> Iterator[str]:
    """Every typed text of a slot dictionary."""
    for value in t.values():
        yield from value if isinstance(value, list) else [value]


RENDER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
two_categories = st.lists(
    st.one_of(st.none(), st.sampled_from(list(FishboneCategory))), min_size=2, max_size=2
)


def documents(t: dict[str, Any], cats: list[FishboneCategory | None]) -> RcaDocument:
    """The RCA document of the scripted incident with texts ``t``."""
    return rca_document(
        scripted(t, cats), now=NOW, author=t["author"], confidentiality=t["confidentiality"]
    )


def unlinked(page: Structure) -> list[tuple[str, ...]]:
    """The page's tags without its links (``a``), a drawing's only the <svg> and </svg>.

    A drawing's shapes depend on the length of the text in it; its elements may only be the
    shapes and text a fishbone is drawn with.
    """
    tags: list[tuple[str, ...]] = []
    inside = False
    for tag in page.tags:
        if tag[0] in ("svg", "/svg"):
            inside = tag[0] == "svg"
            tags.append(tag[:1])
        elif inside:
            assert tag[0].strip("/") in ("title", "line", "rect", "text", "g"), tag
        elif tag[0] not in ("a", "/a"):
            tags.append(tag)
    return tags


def check_links(page: Structure, t: dict[str, Any]) -> None:
    """Every link is an http(s) URL that appears in what was typed."""
    for tag in page.tags:
        if tag[0] == "a":
            href = dict(a.split("=", 1) for a in tag[1:])["href"]
            assert href.startswith(("http://", "https://"))
            assert any(href in inline(text) or href in RENDER.normalizeLink(inline(text))
                       for text in typed_in(t))  # fmt: skip


@settings(max_examples=100)
@given(t=hostile_texts(), cats=two_categories)
def test_typed_text_cannot_change_the_markdown_structure(
    t: dict[str, Any], cats: list[FishboneCategory | None]
) -> None:
    """Rendered Markdown has the plain incident's tags but links, and shows the typed text."""
    rendered = Structure(RENDER.render(documents(t, cats).markdown()))
    plain = Structure(RENDER.render(documents(plain_texts(t), cats).markdown()))
    assert unlinked(plain) == unlinked(rendered)
    assert not any(tag[0] in ("img", "script") for tag in rendered.tags)
    check_links(rendered, t)
    content = "".join(rendered.text)
    for text in typed_in(t):
        for piece in inline(text).split("http"):  # markdown-it shows a link's URL decoded
            assert piece in content


@settings(max_examples=100)
@given(t=hostile_texts(), cats=two_categories)
def test_typed_text_cannot_change_the_html_structure(
    t: dict[str, Any], cats: list[FishboneCategory | None]
) -> None:
    """The HTML has the plain incident's tags but links, no script or handler, the typed text."""
    rendered = Structure(documents(t, cats).html(chart=False))
    plain = Structure(documents(plain_texts(t), cats).html(chart=False))
    assert unlinked(plain) == unlinked(rendered)
    assert not any(tag[0] in ("img", "script", "link", "iframe") for tag in rendered.tags)
    assert not any(name.startswith("on") for name, _ in rendered.attrs)
    check_links(rendered, t)
    assert all(
        ("rel", "noopener noreferrer") in [tuple(a.split("=", 1)) for a in tag[1:]]
        for tag in rendered.tags
        if tag[0] == "a"
    )
    content = "".join(rendered.text)
    for text in typed_in(t):
        assert inline(text) in content


def test_html_is_self_contained(demo: RcaDocument) -> None:
    """One file: a doctype, one inline style, a no-load CSP, no script or loaded resource."""
    page = Structure(demo.html())
    names = [tag[0] for tag in page.tags]
    assert "!DOCTYPE html" == names[0]
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(names)
    assert not any(name in ("src", "action") for name, _ in page.attrs)
    hrefs = [value for name, value in page.attrs if name in ("href", "xlink:href")]
    assert all(h.startswith(("https://", "#")) for h in hrefs if h), hrefs
    assert ("http-equiv", "Content-Security-Policy") in page.attrs
    assert [f"section id={key}" for key in SECTION_KEYS] == [
        " ".join(tag) for tag in page.tags if tag[0] == "section"
    ]


def test_links_open_without_a_referrer(demo: RcaDocument) -> None:
    """The recorded URLs are links, in HTML opened with rel="noopener noreferrer"."""
    page = demo.html(chart=False)
    assert (
        '<li><strong>Ticket:</strong> <a href="https://tickets.example.com/IM-1042" '
        'rel="noopener noreferrer">https://tickets.example.com/IM-1042</a></li>' in page
    )
    assert "- **Ticket:** <https://tickets.example.com/IM-1042>" in demo.markdown()


def test_html_embeds_the_timeline_chart_and_the_fishbone(demo: RcaDocument) -> None:
    """With the charts extra, the appendices open with the timeline chart, inline."""
    page = demo.html()
    appendices = page[page.index('<section id="appendices">') :]
    chart = appendices[appendices.index("<figure>") : appendices.index("</figure>")]
    assert 'id="update-0"' in chart
    assert 'id="experiment-E2"' in chart
    assert "<?xml" not in page
    assert 2 == page.count("<svg")
    assert 1 == demo.html(chart=False).count("<svg")
    assert 'id="fishbone-measurement"' in page


def test_without_matplotlib_the_html_has_no_chart(
    demo: RcaDocument, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the charts extra, the HTML page is the same as without a chart."""
    import incidentflow.charts

    def missing() -> None:
        raise MissingExtra(extra="charts", package="matplotlib", feature="charts")

    monkeypatch.setattr(incidentflow.charts, "_require_matplotlib", missing)
    assert demo.html(chart=False) == demo.html()


def test_a_document_of_an_incident_that_moved_on_charts_it_as_it_was() -> None:
    """The chart shows the incident at the document's version, even if it recorded more since."""
    incident = run_demo(lambda s: None)
    doc = rca_document(incident, now=NOW)
    before = doc.html()
    incident.note("later", actor="di", now=NOW)
    assert before == doc.html()


def test_markdown_and_html_say_the_same_words(demo: RcaDocument) -> None:
    """Both renderings come from one structure: their words are the same, drawings aside."""
    words = attrs.evolve(
        demo,
        sections=tuple(
            attrs.evolve(s, blocks=tuple(b for b in s.blocks if not isinstance(b, Figure)))
            for s in demo.sections
        ),
    )
    body = words.html(chart=False).split("<main>")[1]
    html_words = " ".join(Structure(body).text).split()
    markdown_words = " ".join(Structure(RENDER.render(words.markdown())).text).split()
    assert markdown_words == html_words
    assert 1 == demo.markdown().count("```mermaid")
    assert 1 == demo.html(chart=False).count("<figure>")


# -- who and what, figures -------------------------------------------------------------------


def test_who_and_what_gives_each_stint_links_and_policies(clock: ManualClock) -> None:
    """Each role lists its holders' stints; each link and adopted policy is a line; no rows."""
    incident = staffed(clock)
    incident.assign(Role.INCIDENT_COMMANDER, "fay", actor="ana")
    clock.advance(minutes=5)
    incident.release(Role.INCIDENT_COMMANDER, "fay", actor="ana")
    incident.hand_off(Role.COMMUNICATOR, "cy", "eli", actor="ana")
    incident.link(LinkKind.TICKET, "https://t.example/1", actor="ana")
    incident.adopt_policy(attrs.evolve(Policy.permissive(), name="night shift"), actor="ana")
    found = parts(rca_document(incident, now=clock.now()).markdown())
    assert [
        "- **Communicator:** cy 14:00–14:05, eli from 14:05",
        "- **Recorder:** di from 14:00",
        "- **Lead:** ana from 14:00",
        "- **IC (Incident Commander):** bo from 14:00, fay 14:00–14:05",
        "- **Ticket:** <https://t.example/1> (linked by ana, 14:05)",
        "- **Policy:** night shift (adopted by ana, 14:05)",
    ] == found[("Appendices", "Who and what")]
    assert ["14:00"] == [r[0] for r in rows(found[("Appendices", "Timeline")])]


def test_who_and_what_says_when_there_is_nothing(clock: ManualClock) -> None:
    """An incident with no role and no link says so under Who and what."""
    incident = Incident.declare("INC-1", "Disk full", Priority.P3, actor="ana", clock=clock)
    found = parts(rca_document(incident, now=clock.now()).markdown())
    assert ["No role was assigned and no link was recorded."] == found[
        ("Appendices", "Who and what")
    ]


def test_a_figure_shows_what_each_format_can() -> None:
    """Mermaid only: a code block, shown as text in HTML; SVG only: HTML alone draws it."""
    mermaid = Section("f", (Span("F", typed=False),), (Figure("A flow.", mermaid="flowchart LR"),))
    assert "## F\n\n```mermaid\nflowchart LR\n```\n\n*A flow.*\n" == mermaid.markdown()
    assert '<pre><code class="language-mermaid">flowchart LR</code></pre>' in mermaid.html()
    drawn = Section("f", (Span("F", typed=False),), (Figure("A picture.", svg="<svg></svg>"),))
    assert "## F\n" == drawn.markdown()
    assert "<figure>\n<svg></svg>\n<figcaption>A picture.</figcaption>\n</figure>" in drawn.html()


def test_a_long_factor_is_cut_in_the_fishbone(clock: ManualClock) -> None:
    """A factor is wrapped on at most four lines in the SVG, then cut with an ellipsis."""
    incident = staffed(clock)
    incident.add_factor("word " * 40, category=FishboneCategory.PEOPLE, actor="di")
    page = rca_document(incident, now=clock.now()).html(chart=False)
    drawn = page[page.index('<g id="fishbone-people">') : page.index("</g>")]
    lines = re.findall(r"<text [^>]*>([^<]*)</text>", drawn)[1:]
    assert 4 == len(lines)
    assert lines[-1].endswith("…")
    assert ("word " * 40).strip() in page  # the whole factor is in the analysis


def test_a_document_built_by_hand_has_no_chart(demo: RcaDocument) -> None:
    """A document not made by rca_document has no incident to chart: its page has no chart."""
    by_hand = RcaDocument(
        demo.incident_id, demo.title, demo.generated_at, demo.version, demo.sections, demo.gaps
    )
    assert demo.html(chart=False) == by_hand.html()
