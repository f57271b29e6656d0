"""The RCA meeting: fitting the runbook's time boxes, the pre-filled agenda, the invitation."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import attrs
import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from hostile import Structure, typed_incident
from incidentflow import (
    DEFAULT_POLICY,
    ActionKind,
    FishboneCategory,
    Incident,
    InvalidInput,
    LinkKind,
    ManualClock,
    MissingExtra,
    NotReady,
    Policy,
    Priority,
    Role,
    State,
)
from incidentflow.demo import run_demo
from incidentflow.documents._blocks import Span
from incidentflow.documents._markup import inline
from incidentflow.documents.meeting import (
    AGENDA,
    LONGEST,
    PART_FLOOR,
    SHORTEST,
    Agenda,
    Attendee,
    agenda,
    fit,
    invitation,
)
from incidentflow.testing import incidents

GOLDEN = Path(__file__).parent / "golden" / "demo-agenda.md"
UPDATE_GOLDEN = "INCIDENTFLOW_UPDATE_GOLDEN"
START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)

# The runbook's "Meeting Format", copied by hand: (title, shortest, longest) in minutes.
RUNBOOK_BOXES = [
    ("Introduction", 5, 10),
    ("Background and Problem Description", 10, 15),
    ("Initial Analysis", 15, 20),
    ("Root Cause Analysis", 30, 60),
    ("Action Planning", 15, 30),
    ("Conclusion and Follow-Up", 5, 10),
]


def demo() -> Incident:
    return run_demo(lambda s: None)


def reported(clock: ManualClock) -> Incident:
    """The demo incident just before its post-mortem was scheduled, on ``clock``."""
    history = demo().history
    incident = Incident.replay(history[:-2], clock=clock)
    clock.advance(history[-3].recorded_at - clock.now())
    return incident


# -- the runbook's format and the fitting rule ----------------------------------------------


def test_agenda_is_the_runbooks_meeting_format() -> None:
    """AGENDA holds the runbook's six parts in order, with their time boxes and three topics."""
    actual = [
        (p.number, p.title, p.minimum // timedelta(minutes=1), p.maximum // timedelta(minutes=1))
        for p in AGENDA
    ]
    assert [(n, *box) for n, box in enumerate(RUNBOOK_BOXES, start=1)] == actual
    assert [3] * 6 == [len(p.topics) for p in AGENDA]
    assert "Ground rules" == AGENDA[0].topics[2]
    assert "Timeline of events leading to failure" == AGENDA[2].topics[0]


def test_shortest_and_longest_are_the_sums_of_the_boxes() -> None:
    """The runbook's boxes add up to 80 to 145 minutes."""
    assert (timedelta(minutes=80), timedelta(minutes=145)) == (SHORTEST, LONGEST)


@pytest.mark.parametrize("minutes", range(80, 146))
def test_fit_fills_the_length_within_every_box(minutes: int) -> None:
    """For every whole-minute length allowed, the parts sum to it and each stays in its box."""
    parts = fit(timedelta(minutes=minutes))
    assert minutes == sum(parts)
    assert all(
        low <= allotted <= high
        for allotted, (_, low, high) in zip(parts, RUNBOOK_BOXES, strict=True)
    )


@given(st.integers(min_value=80, max_value=145))
def test_fit_gives_each_part_its_fair_share_within_a_minute(minutes: int) -> None:
    """Each part gets its minimum plus its proportional share of the extra, rounded up or down."""
    extra = minutes - 80
    slack = [high - low for _, low, high in RUNBOOK_BOXES]
    for allotted, (_, low, _), part_slack in zip(
        fit(timedelta(minutes=minutes)), RUNBOOK_BOXES, slack, strict=True
    ):
        quota = low + Fraction(extra * part_slack, sum(slack))
        assert abs(allotted - quota) < 1


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (80, (5, 10, 15, 30, 15, 5)),  # every part at its minimum
        (145, (10, 15, 20, 60, 30, 10)),  # every part at its maximum
        # 10 extra minutes over slacks 5,5,5,30,15,5 (of 65): whole shares 0,0,0,4,2,0 and
        # remainders 50,50,50,40,20,50 (/65); the 4 minutes left go to the four 50s.
        (90, (6, 11, 16, 34, 17, 6)),
        # 5 extra: whole shares 0,0,0,2,1,0, remainders 25,25,25,20,10,25; 2 minutes left go to
        # the first two of the four tied 25s: ties go to the earlier part.
        (85, (6, 11, 15, 32, 16, 5)),
        # 13 extra: every share is whole (13/65 = 1/5 of each slack), nothing left to round.
        (93, (6, 11, 16, 36, 18, 6)),
        (120, (8, 13, 18, 49, 24, 8)),
    ],
)
def test_fit_shares_the_extra_by_largest_remainder(minutes: int, expected: tuple[int, ...]) -> None:
    """The extra minutes go by proportional shares, largest remainders first, ties by order."""
    assert expected == fit(timedelta(minutes=minutes))


@pytest.mark.parametrize(
    "length",
    [
        timedelta(minutes=29),
        timedelta(hours=8, minutes=1),
        timedelta(minutes=90, seconds=30),
        timedelta(0),
        timedelta(minutes=-90),
        90,
        "90",
        None,
    ],
)
def test_fit_refuses_a_length_the_boxes_cannot_fill(length: Any) -> None:
    """A length outside 30 min–8 h, not whole minutes or not a timedelta is InvalidInput."""
    with pytest.raises(InvalidInput, match="from 30 min to 8 h"):
        fit(length)


def test_agenda_refuses_a_bad_length_too() -> None:
    """agenda() checks the length with the same rule."""
    with pytest.raises(InvalidInput, match="from 30 min to 8 h"):
        agenda(demo(), length=timedelta(minutes=29))


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        # 60 of the minima's 80: 3.75, 7.5, 11.25, 22.5, 11.25, 3.75; whole 3,7,11,22,11,3
        # leave 3 minutes for the remainders .75, .75 and the first .5.
        (60, (4, 8, 11, 22, 11, 4)),
        # 30: the first and last parts' shares (1.875) fall under the floor and get 3; the 24
        # minutes left go by 10:15:30:15 (3.43, 5.14, 10.29, 5.14), the spare one to 3.43.
        (30, (3, 4, 5, 10, 5, 3)),
        (79, (5, 10, 15, 29, 15, 5)),
        # over 145 the length is shared by the maxima 10,15,20,60,30,10 (of 145)
        (290, (20, 30, 40, 120, 60, 20)),
    ],
)
def test_fit_shrinks_or_stretches_outside_the_runbook(
    minutes: int, expected: tuple[int, ...]
) -> None:
    """Under 80 minutes parts shrink by their minima (none under 3); over 145 by maxima."""
    assert expected == fit(timedelta(minutes=minutes))


@given(st.integers(min_value=30, max_value=79))
def test_a_short_meeting_keeps_order_weight_and_floor(minutes: int) -> None:
    """A short meeting sums to its length, no part under the floor, none above its minimum."""
    parts = fit(timedelta(minutes=minutes))
    assert minutes == sum(parts)
    assert all(PART_FLOOR <= p <= low for p, (_, low, _) in zip(parts, RUNBOOK_BOXES, strict=True))
    assert parts[3] == max(parts)  # the root cause analysis stays the longest part


def test_a_short_agenda_says_it_was_shortened() -> None:
    """An agenda under the runbook's 80 minutes says its parts shrink, lengths as h and min."""
    plan = agenda(demo(), length=timedelta(hours=1))
    assert [
        "RCA meeting agenda: INC-1042 Database is down",
        "1 h, from 2026-03-03 16:39 UTC to 2026-03-03 17:39 UTC",
        "Shortened: 1 h is under the runbook's 1 h 20 min, so every part is shrunk in "
        "proportion (none under 3 min).",
    ] == plan.text().splitlines()[:3]
    assert "1. Introduction (4 min, 16:39–16:43 UTC; time box 5 min–10 min)" in plan.text()
    assert "Shortened:" in plan.markdown()


def test_a_long_agenda_says_it_was_lengthened() -> None:
    """An agenda over the runbook's 145 minutes says its parts stretch; in time, none."""
    assert plan_fitting(timedelta(hours=3)).startswith("Lengthened: 3 h is over")
    assert "" == plan_fitting(timedelta(minutes=90))


def plan_fitting(length: timedelta) -> str:
    return agenda(demo(), length=length).fitting


# -- the agenda of the demo incident -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "render"), [("demo-agenda.md", "markdown"), ("demo-agenda.html", "html")]
)
def test_demo_agenda_matches_the_golden_file(name: str, render: str) -> None:
    """The 90-minute agenda of the demo incident is exactly tests/golden/demo-agenda.*."""
    golden = GOLDEN.with_name(name)
    actual: str = getattr(agenda(demo()), render)()
    if os.environ.get(UPDATE_GOLDEN):
        golden.write_bytes(actual.encode("utf-8"))
        pytest.fail(f"rewrote {golden}; unset {UPDATE_GOLDEN} and run the tests again")
    expected = golden.read_bytes().decode("utf-8")
    assert expected == actual, f"rerun with {UPDATE_GOLDEN}=1 if the change is intended"


def test_agenda_starts_when_the_post_mortem_is_scheduled_and_parts_follow_on() -> None:
    """Parts start at the scheduled time and each starts when the one before ends."""
    incident = demo()
    plan = agenda(incident)
    scheduled = datetime(2026, 3, 3, 16, 39, tzinfo=UTC)
    assert incident.post_mortem is not None
    assert scheduled == incident.post_mortem.scheduled_for == plan.starts_at
    starts = [p.starts_at for p in plan.parts]
    offsets = [0, 6, 17, 33, 67, 84]  # running sums of (6, 11, 16, 34, 17, 6)
    assert [scheduled + timedelta(minutes=m) for m in offsets] == starts
    assert timedelta(minutes=90) == plan.length
    assert ("INC-1042", "Database is down") == (plan.incident_id, plan.title)


def test_an_explicit_start_overrides_the_schedule() -> None:
    """starts_at= moves the whole agenda; like every document time, it is shown in UTC."""
    tz = timezone(timedelta(hours=2))
    start = datetime(2026, 3, 4, 10, 0, tzinfo=tz)
    plan = agenda(demo(), length=timedelta(minutes=80), starts_at=start)
    assert start == plan.starts_at
    assert start + timedelta(minutes=75) == plan.parts[-1].starts_at
    assert "08:00–08:05 UTC" in plan.markdown()


def test_a_naive_start_is_invalid_input() -> None:
    """starts_at must be timezone-aware."""
    with pytest.raises(InvalidInput, match="starts_at"):
        agenda(demo(), starts_at=datetime(2026, 3, 4, 10, 0))


def test_agenda_needs_an_incident() -> None:
    """Anything but an Incident is InvalidInput."""
    with pytest.raises(InvalidInput, match="Incident"):
        agenda("INC-1042")  # type: ignore[arg-type]


def test_an_unscheduled_meeting_has_no_times(clock: ManualClock) -> None:
    """Before the post-mortem is scheduled, the agenda has no start and says so."""
    plan = agenda(reported(clock))
    assert [None] * 6 == [p.starts_at for p in plan.parts]
    assert plan.starts_at is None
    assert "1 h 30 min, not scheduled yet." in plan.markdown()
    assert "1. Introduction (6 min; time box 5 min–10 min)" in plan.text()


def test_attendees_are_invitees_and_everyone_who_held_a_role(clock: ManualClock) -> None:
    """Role holders past and present come with every role they held; invitees with none."""
    incident = Incident.declare("INC-9", "Cert expired", Priority.P2, actor="zed", clock=clock)
    incident.assign(Role.LEAD, "Ana", actor="zed")
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="Ana")
    incident.assign(Role.COMMUNICATOR, "cy", actor="Ana")
    incident.hand_off(Role.COMMUNICATOR, "cy", "bo", actor="Ana")
    incident.assign(Role.RECORDER, "eve", actor="Ana")
    incident.release(Role.RECORDER, "eve", actor="Ana")
    expected = (
        Attendee(name="Ana", roles=(Role.LEAD,)),
        Attendee(name="bo", roles=(Role.COMMUNICATOR, Role.INCIDENT_COMMANDER)),
        Attendee(name="cy", roles=(Role.COMMUNICATOR,)),
        Attendee(name="eve", roles=(Role.RECORDER,)),
    )
    assert expected == agenda(incident).attendees


def test_invitees_without_a_role_attend_as_invited() -> None:
    """The demo's eng-managers were invited without holding a role."""
    plan = agenda(demo())
    assert ["ana", "bo", "cy", "di", "eng-managers"] == [a.name for a in plan.attendees]
    assert () == plan.attendees[-1].roles
    assert "- eng-managers: invited" in plan.text()


def test_nothing_recorded_is_said_explicitly(clock: ManualClock) -> None:
    """A fresh incident's agenda names every kind of fact that is still missing."""
    plan = agenda(Incident.declare("INC-2", "Slow pages", Priority.P3, actor="ana", clock=clock))
    facts = {fact for part in plan.parts for fact in part.facts}
    for missing in [
        "Impact: nothing recorded",
        "Evidence: nothing recorded",
        "Links: nothing recorded",
        "Findings: nothing recorded",
        "Evidence collected: nothing recorded",
        "Candidate root causes: nothing recorded",
        "Contributing factors: nothing recorded",
        "Proposed actions: nothing recorded",
        "Open follow-ups: nothing recorded",
        "Incident report: not started",
    ]:
        assert missing in facts
    assert "Incident INC-2: Slow pages" == plan.parts[0].facts[0]
    assert "- nobody recorded yet" in plan.text().splitlines()
    assert "- nobody recorded yet" in plan.markdown().splitlines()
    assert "2026-03-01 14:00 UTC — ana declared P3 incident INC-2: Slow pages" in facts


def test_background_says_when_the_incident_entered_each_state(clock: ManualClock) -> None:
    """Each move is listed with its time and how long after the start it came."""
    incident = Incident.declare(
        "INC-3", "Disk full", Priority.P3, actor="ana", clock=clock, policy=Policy.permissive()
    )
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    incident.validate("df says 100%", actor="bo")
    incident.link(LinkKind.TICKET, "https://t", actor="bo")
    clock.advance(days=1, hours=3, minutes=59)
    incident.move(State.MITIGATING, message="cleaning up", actor="bo")
    clock.advance(minutes=1)
    incident.verify_recovery("df says 60%", actor="bo")
    incident.move(State.YELLOW, message="recovered", actor="bo")
    assert (
        "Began 2026-03-01 14:00 UTC; declared 2026-03-01 14:00 UTC",
        "Moved from declared to mitigating at 2026-03-02 17:59 UTC, 1 d 3 h 59 min after it began",
        "Moved from mitigating to yellow at 2026-03-02 18:00 UTC, 1 d 4 h after it began",
    ) == agenda(incident).parts[1].facts[-3:]


def test_the_timeline_is_in_the_order_things_happened(clock: ManualClock) -> None:
    """A back-dated note sits in the timeline where it happened, not where it was recorded."""
    incident = Incident.declare("INC-3", "Disk full", Priority.P3, actor="ana", clock=clock)
    clock.advance(minutes=10)
    incident.note("later", actor="ana")
    incident.note("earlier", actor="ana", at=START + timedelta(minutes=5))
    lines = agenda(incident).parts[2].facts[:3]
    assert [
        "2026-03-01 14:00 UTC — ana declared P3 incident INC-3: Disk full",
        "2026-03-01 14:05 UTC — ana noted: earlier",
        "2026-03-01 14:10 UTC — ana noted: later",
    ] == list(lines)


def test_root_causes_come_first_then_open_chains_then_factors_by_category(
    clock: ManualClock,
) -> None:
    """Candidate causes list closed chains' root causes, then open chains' latest answers."""
    shallow = attrs.evolve(DEFAULT_POLICY, name="shallow", whys_depth=2)
    incident = Incident.declare(
        "INC-4", "Deploys fail", Priority.P3, actor="ana", clock=clock, policy=shallow
    )
    incident.add_why("pipeline red", chain="ci", actor="ana")
    incident.add_why("runner out of disk", chain="disk", actor="ana")
    incident.add_why("logs never rotated", chain="disk", root_cause=True, actor="ana")
    incident.add_factor("weekend", actor="ana")
    incident.add_factor("no disk alert", category=FishboneCategory.MEASUREMENT, actor="ana")
    incident.add_factor("on-call was new", category=FishboneCategory.PEOPLE, actor="ana")
    facts = agenda(incident).parts[3].facts
    assert (
        "Root cause (chain disk): logs never rotated",
        "Candidate cause (chain ci, open after 1 whys): pipeline red",
        "Five Whys, chain ci: pipeline red",
        "Five Whys, chain disk: runner out of disk → logs never rotated",
        "Contributing factor (people): on-call was new",
        "Contributing factor (measurement): no disk alert",
        "Contributing factor (uncategorized): weekend",
    ) == facts


def test_actions_and_follow_ups_list_what_is_open(clock: ManualClock) -> None:
    """Part 5 proposes every action; part 6 lists open actions, changes and tech debt."""
    incident = Incident.declare("INC-5", "Queue stuck", Priority.P3, actor="ana", clock=clock)
    due = START + timedelta(days=7)
    incident.add_action("add alert", owner="bo", due_at=due, kind=ActionKind.PREVENTIVE, actor="a")
    incident.add_action("fix job", owner="cy", due_at=due, kind=ActionKind.CORRECTIVE, actor="a")
    incident.close_action("A2", actor="cy")
    incident.log_change(what="drained queue", where="mq-1", revert="refill", actor="bo")
    plan = agenda(incident)
    assert (
        "Action A1 (preventive, open): add alert — owner bo, due 2026-03-08 14:00 UTC",
        "Action A2 (corrective, closed): fix job — owner cy, due 2026-03-08 14:00 UTC",
    ) == plan.parts[4].facts
    assert (
        "Open action A1: add alert — owner bo, due 2026-03-08 14:00 UTC",
        "Unreconciled change C1 on mq-1: drained queue (revert: refill)",
        "Incident report: not started",
        "Schedule follow-up meetings or status updates for whatever is still open",
    ) == plan.parts[5].facts


def test_text_keeps_typed_text_on_one_line(clock: ManualClock) -> None:
    """A note typed over several lines is one line of the plain-text agenda."""
    incident = Incident.declare("INC-6", "Two\nlines", Priority.P3, actor="ana", clock=clock)
    incident.note("first\nsecond\x1b[2J", actor="ana")
    text = agenda(incident).text()
    assert text.startswith("RCA meeting agenda: INC-6 Two lines\n")
    assert "- 2026-03-01 14:00 UTC — ana noted: first second\ufffd[2J\n" in text


# -- escaping: typed text can never become markup ------------------------------------------

HOSTILE = [
    "# heading",
    "**bold** _it_ ~~gone~~ `code`",
    "[link](https://evil.example) ![img](x.png)",
    "<script>alert(1)</script> <b>",
    '<img src=x onerror="alert(1)"> " onmouseover="alert(1)',
    '</li></ul></section><a href="https://evil.example">x</a><!-- c -->',
    "https://evil.example www.evil.example a@b.example",
    "| a | b |\n|---|---|",
    "1. list\n- item\n> quote",
    "&amp; &#60; \\* trailing\\",
    "    indented code",
    "---",
]
typed = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=30)).filter(
    lambda s: s.strip() != ""
)


@st.composite
def hostile_incidents(draw: st.DrawFn) -> Incident:
    """An incident where every piece of typed text is drawn to look like Markdown."""
    return typed_incident(lambda: draw(typed))


def _plain(token: Any) -> str:
    return "".join(child.content for child in token.children or ())


def benign(plan: Agenda) -> Agenda:
    """``plan`` with every piece of typed text replaced by a harmless word, shape kept."""
    return attrs.evolve(
        plan,
        incident_id="INC",
        title="title",
        attendees=tuple(attrs.evolve(a, name="name") for a in plan.attendees),
        parts=tuple(attrs.evolve(p, facts=("fact",) * len(p.facts)) for p in plan.parts),
    )


def expected_headings(plan: Agenda) -> list[tuple[str, str]]:
    """The agenda's headings, (tag, text): title, attendees, then each part and its two."""
    headings = [
        ("h1", f"RCA meeting agenda: {inline(plan.incident_id)} {inline(plan.title)}"),
        ("h2", "Attendees"),
    ]
    for part in plan.parts:
        headings += [
            ("h2", f"{part.number}. {part.title}"),
            ("h3", "Topics"),
            ("h3", "From the incident record"),
        ]
    return headings


COMMONMARK = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def unlinked(page: Structure) -> list[tuple[str, ...]]:
    """The tags of a page with its links (a typed http or https URL each) taken out."""
    return [tag for tag in page.tags if tag[0] not in ("a", "/a")]


def headings_of(tokens: list[Any]) -> list[tuple[str, str]]:
    """The (tag, text) of every heading among markdown-it's block tokens."""
    return [
        (opening.tag, _plain(content))
        for opening, content in itertools.pairwise(tokens)
        if opening.type == "heading_open"
    ]


@settings(max_examples=100)
@given(hostile_incidents())
def test_typed_text_renders_as_its_own_words_in_markdown(incident: Incident) -> None:
    """Typed text makes no HTML, emphasis, code or table; its only links are http(s) URLs."""
    plan = agenda(incident)
    markdown = plan.markdown()
    tokens = COMMONMARK.parse(markdown)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or ()}
    hrefs = [c.attrs["href"] for t in tokens for c in t.children or () if c.type == "link_open"]
    assert all(str(h).startswith(("http://", "https://")) for h in hrefs)
    forbidden = {
        "image", "html_inline", "html_block", "em_open", "strong_open", "s_open",
        "code_inline", "code_block", "fence", "table_open", "blockquote_open", "hr",
        "softbreak", "hardbreak", "ordered_list_open",
    }  # fmt: skip
    assert set() == kinds & forbidden
    assert expected_headings(plan) == headings_of(tokens)
    inlines = [_plain(t) for t in tokens if t.type == "inline"]
    names = [f"{inline(a.name)}: {', '.join(r.title for r in a.roles) or 'invited'}"
             for a in plan.attendees]  # fmt: skip
    assert names == inlines[3 : 3 + len(names)]
    for part in plan.parts:
        heading = inlines.index(f"{part.number}. {part.title}")
        start = inlines.index("From the incident record", heading) + 1
        assert [inline(f) for f in part.facts] == inlines[start : start + len(part.facts)]
    rendered = Structure(COMMONMARK.render(markdown))
    assert unlinked(Structure(COMMONMARK.render(benign(plan).markdown()))) == unlinked(rendered)


@settings(max_examples=100)
@given(hostile_incidents())
def test_typed_text_renders_as_its_own_words_in_html(incident: Incident) -> None:
    """The HTML page has the tags of a benign agenda but http(s) links; no script or handler."""
    plan = agenda(incident)
    page = Structure(plan.html())
    assert unlinked(Structure(benign(plan).html())) == unlinked(page)
    names = {tag[0] for tag in page.tags}
    assert set() == names & {"img", "script", "link", "iframe", "object", "embed", "!--"}
    assert not any(name.startswith("on") or name == "src" for name, _ in page.attrs)
    hrefs = [value or "" for name, value in page.attrs if name == "href"]
    assert all(h.startswith(("http://", "https://")) for h in hrefs)
    assert expected_headings(plan) == page.headings
    content = "".join(page.text)
    for part in plan.parts:
        assert all(inline(fact) in content for fact in part.facts)
    assert all(f"{inline(a.name)}: {', '.join(r.title for r in a.roles) or 'invited'}"
               in content for a in plan.attendees)  # fmt: skip


def test_markdown_and_html_are_one_structure() -> None:
    """Both renderings come from the same sections: the same headings, in the same order."""
    plan = agenda(demo())
    tokens = MarkdownIt("gfm-like").parse(plan.markdown())
    page = Structure(plan.html())
    assert expected_headings(plan) == headings_of(tokens) == page.headings
    keys = ["title", "attendees", *(f"part-{n}" for n in range(1, 7))]
    assert keys == [section.key for section in plan.sections]
    assert [f"section id={key}" for key in keys] == [
        " ".join(tag) for tag in page.tags if tag[0] == "section"
    ]


def test_html_is_a_self_contained_page() -> None:
    """One file: a doctype, one inline style, a no-load CSP, the agenda's title; links only."""
    page = Structure(agenda(demo()).html())
    names = [tag[0] for tag in page.tags]
    assert "!DOCTYPE html" == names[0]
    assert 1 == names.count("style")
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(names)
    assert ("http-equiv", "Content-Security-Policy") in page.attrs
    assert not any(name in ("src", "action") for name, _ in page.attrs)
    assert 5 == names.count("a")  # the four links and the report
    assert ("rel", "noopener noreferrer") in page.attrs
    assert "RCA meeting agenda: INC-1042 Database is down" == page.title


def test_the_runbooks_topics_are_the_librarys_own_words() -> None:
    """Every topic is written as it is: none holds a character either format reads as markup."""
    for part in AGENDA:
        for topic in part.topics:
            assert topic == Span(topic, typed=False).markdown() == Span(topic, typed=False).html()


def test_an_agenda_without_attendees_says_so_in_html(clock: ManualClock) -> None:
    """With nobody recorded, the attendee list has one item saying so, in both formats."""
    plan = agenda(Incident.declare("INC-2", "Slow pages", Priority.P3, actor="ana", clock=clock))
    assert () == plan.attendees
    assert "<li>nobody recorded yet</li>" in plan.html()
    assert "- nobody recorded yet" in plan.markdown().splitlines()


@given(incidents(), st.integers(min_value=30, max_value=480))
def test_any_incident_gets_a_full_agenda(incident: Incident, minutes: int) -> None:
    """Whatever state an incident is in, its agenda has six fitted parts and renders."""
    plan = agenda(incident, length=timedelta(minutes=minutes))
    assert minutes == sum(p.minutes for p in plan.parts)
    if 80 <= minutes <= 145:
        assert all(p.minimum <= p.minutes <= p.maximum for p in plan.parts)
    assert all(p.facts for p in plan.parts)
    if plan.starts_at is not None:
        ends = [p.starts_at + timedelta(minutes=p.minutes) for p in plan.parts if p.starts_at]
        assert plan.starts_at + timedelta(minutes=minutes) == ends[-1]
    assert plan.markdown().startswith("# RCA meeting agenda: INC-1")
    assert all("\n" not in fact for p in plan.parts for fact in map(inline, p.facts))


# -- the invitation ------------------------------------------------------------------------

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=1)))


def scheduled(clock: ManualClock, *extra: str) -> Incident:
    """The demo incident with its post-mortem scheduled in a +02:00 zone, inviting ``extra``."""
    incident = reported(clock)
    incident.schedule_post_mortem(
        datetime(2026, 3, 3, 11, 0, tzinfo=timezone(timedelta(hours=2))),
        ["ana", "bo", "cy", "di", *extra],
        actor="cy",
    )
    return incident


def parse(ics: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(ics)
    (event,) = [c for c in calendar.walk() if c.name == "VEVENT"]
    assert isinstance(event, icalendar.Event)
    return calendar, event


def test_invitation_holds_the_meeting_and_its_agenda(clock: ManualClock) -> None:
    """Every field of the .ics: ids, stamp, start, duration, summary, agenda, people."""
    incident = scheduled(clock, "vp@example.com", "eng-managers", "ops.lead@example.org")
    ics = invitation(incident, now=NOW, length=timedelta(minutes=120), organizer="cy@example.com")
    calendar, event = parse(ics)
    assert "-//incidentflow//incidentflow//EN" == str(calendar["PRODID"])
    assert "2.0" == str(calendar["VERSION"])
    assert "INC-1042-post-mortem@incidentflow" == str(event["UID"])
    assert NOW == event.decoded("DTSTAMP")
    assert datetime(2026, 3, 3, 9, 0, tzinfo=UTC) == event.decoded("DTSTART")
    assert timedelta(minutes=120) == event.decoded("DURATION")
    assert 0 == event.decoded("SEQUENCE")
    assert "Post-mortem: INC-1042 Database is down" == str(event["SUMMARY"])
    described = str(event["DESCRIPTION"])
    assert agenda(incident, length=timedelta(minutes=120)).text() == described
    assert "- eng-managers: invited" in described
    organizer = event["ORGANIZER"]
    assert ("mailto:cy@example.com", "cy@example.com") == (str(organizer), organizer.params["CN"])
    # A repeated property reads as a list, which icalendar's annotation of [] leaves out.
    attendees = [
        (str(a), a.params["CN"]) for a in cast("list[icalendar.vCalAddress]", event["ATTENDEE"])
    ]
    assert [
        ("mailto:vp@example.com", "vp@example.com"),
        ("mailto:ops.lead@example.org", "ops.lead@example.org"),
    ] == attendees
    assert b"\r\nDTSTAMP:20260302T083000Z\r\n" in ics
    assert b"\r\nDTSTART:20260303T090000Z\r\n" in ics


def test_invitation_without_e_mail_addresses_or_organizer_has_no_people_fields(
    clock: ManualClock,
) -> None:
    """Names that are not addresses stay in the description; no organizer, no ORGANIZER."""
    _, event = parse(invitation(scheduled(clock), now=NOW))
    assert event.get("ATTENDEE") is None
    assert event.get("ORGANIZER") is None
    assert timedelta(minutes=90) == event.decoded("DURATION")


def test_rescheduling_updates_the_same_event(clock: ManualClock) -> None:
    """The UID is stable and SEQUENCE counts the reschedules, so calendars update in place."""
    incident = scheduled(clock)
    first = parse(invitation(incident, now=NOW))[1]
    incident.schedule_post_mortem(
        datetime(2026, 3, 4, 9, 0, tzinfo=UTC), ["ana", "bo", "cy", "di"], actor="cy"
    )
    second = parse(invitation(incident, now=NOW))[1]
    assert str(first["UID"]) == str(second["UID"])
    assert (0, 1) == (first.decoded("SEQUENCE"), second.decoded("SEQUENCE"))
    assert datetime(2026, 3, 4, 9, 0, tzinfo=UTC) == second.decoded("DTSTART")


def test_invitation_before_the_post_mortem_is_scheduled_is_not_ready(clock: ManualClock) -> None:
    """No post-mortem scheduled yet: NotReady, saying what to do."""
    with pytest.raises(NotReady, match="schedule"):
        invitation(reported(clock), now=NOW)


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"now": datetime(2026, 3, 2, 9, 30)}, "now"),
        ({"now": NOW, "organizer": "Ana"}, "organizer"),
        ({"now": NOW, "organizer": "ana@example"}, "organizer"),
        ({"now": NOW, "organizer": "ana@example.com\nX-INJECTED:1"}, "organizer"),
        ({"now": NOW, "length": timedelta(minutes=20)}, "from 30 min to 8 h"),
    ],
)
def test_invitation_refuses_bad_arguments(arguments: dict[str, Any], match: str) -> None:
    """A naive now, an organizer that is not an e-mail address or a bad length: InvalidInput."""
    with pytest.raises(InvalidInput, match=match):
        invitation(demo(), **arguments)


def test_invitation_without_icalendar_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without icalendar installed, MissingExtra says to install incidentflow[calendar]."""
    monkeypatch.setitem(sys.modules, "icalendar", None)
    with pytest.raises(MissingExtra, match=r"incidentflow\[calendar\]") as raised:
        invitation(demo(), now=NOW)
    assert ("calendar", "icalendar") == (raised.value.extra, raised.value.package)


def test_typed_text_in_the_invitation_cannot_add_fields(clock: ManualClock) -> None:
    """A title with line breaks and iCalendar syntax stays inside SUMMARY and DESCRIPTION."""
    incident = Incident.declare(
        "INC-7", "x\r\nATTENDEE:mailto:evil@example.com;", Priority.P3, actor="ana", clock=clock
    )
    ic = "bo"
    incident.assign(Role.INCIDENT_COMMANDER, ic, actor="ana")
    incident.validate("seen", actor=ic)
    incident.link(LinkKind.TICKET, "https://t", actor=ic)
    incident.move(State.MITIGATING, message="go", actor=ic)
    incident.verify_recovery("ok", actor=ic)
    incident.move(State.YELLOW, message="yellow", actor=ic)
    incident.move(State.GREEN, message="green", actor=ic)
    incident.schedule_post_mortem(START + timedelta(days=1), ["bo"], actor=ic)
    _, event = parse(invitation(incident, now=NOW))
    assert event.get("ATTENDEE") is None
    assert "Post-mortem: INC-7 x ATTENDEE:mailto:evil@example.com;" == str(event["SUMMARY"])


def test_importing_the_module_does_not_import_icalendar() -> None:
    """icalendar is imported when an invitation is written, not when the module loads."""
    code = "import sys, incidentflow.documents.meeting\nprint('icalendar' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "False" == result.stdout.strip()


def test_agenda_records_are_frozen() -> None:
    """An Agenda is a frozen record: change it with attrs.evolve, never in place."""
    plan = agenda(demo())
    assert isinstance(plan, Agenda)
    with pytest.raises(AttributeError):
        plan.title = "changed"  # type: ignore[misc]
