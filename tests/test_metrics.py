"""Metrics: milestones, measures, time in state, update cadence, post-mortems, summaries."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidentflow import (
    ActionKind,
    CommandRefused,
    ImpactLevel,
    Incident,
    InvalidInput,
    LinkKind,
    ManualClock,
    Policy,
    Priority,
    Role,
    State,
)
from incidentflow import events as ev
from incidentflow.metrics import (
    DEFAULT_MEASURES,
    MILESTONES,
    ActionSummary,
    Compliance,
    Deadlines,
    Group,
    Measure,
    Milestone,
    StateInterval,
    Stats,
    Summary,
    UpdateGap,
    duration,
    post_mortem_deadline,
    state_intervals,
    stats,
    time_in_state,
    update_gaps,
)
from incidentflow.obligations import Obligation
from incidentflow.testing import incidents

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
STAFF = (
    (Role.LEAD, "ana"),
    (Role.INCIDENT_COMMANDER, "bo"),
    (Role.COMMUNICATOR, "cy"),
    (Role.RECORDER, "di"),
)
WHYS = (
    "The service is down.",
    "The db failed.",
    "A token expired.",
    "No refresh.",
    "A job failed.",
)


RESPONSE = (
    Measure("time_to_mitigate", "began", "mitigating"),
    Measure("time_to_yellow", "began", "last:yellow"),
    Measure("time_to_green", "began", "last:green"),
    Measure("time_to_report", "began", "reported"),
    Measure("time_to_post_mortem", "began", "post_mortem"),
)
"""Measures of the response alone (the defaults before impact and detection were recorded)."""


def at(hour: int, minute: int = 0, *, day: int = 1) -> datetime:
    """A UTC time in March 2026."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def minutes(value: float) -> timedelta:
    """A duration in minutes."""
    return timedelta(minutes=value)


def staffed(
    incident_id: str, priority: Priority, clock: ManualClock, *, began: datetime | None = None
) -> Incident:
    """An incident declared at the clock's time, staffed, validated and linked at once."""
    incident = Incident.declare(
        incident_id, "Database is down", priority, actor="ana", began=began, clock=clock
    )
    for role, holder in STAFF:
        incident.assign(role, holder, actor="ana")
    incident.validate("primary refuses connections", actor="ana")
    for kind in (LinkKind.TICKET, LinkKind.WAR_ROOM, LinkKind.ANNOUNCEMENT):
        incident.link(kind, "https://x.test", actor="ana")
    return incident


def incident_a() -> Incident:
    """P1 from 14:00: mitigating 14:10, updates 14:20 and 14:40, yellow 14:45, green 15:30.

    One action item, due on March 5, still open.
    """
    clock = ManualClock(START)
    a = staffed("INC-A", Priority.P1, clock)
    clock.advance(minutes=10)
    a.mitigate("mitigating", actor="ana")
    clock.advance(minutes=10)
    a.post_update("investigating", actor="cy")
    clock.advance(minutes=20)
    a.post_update("still investigating", actor="cy")
    clock.advance(minutes=5)
    a.verify_recovery("error rate normal", actor="bo")
    a.announce_yellow("resolved (yellow)", actor="ana")
    a.add_action(
        "add an alert", owner="bo", due_at=at(14, day=5), kind=ActionKind.PREVENTIVE, actor="ana"
    )
    clock.advance(minutes=45)
    a.verify_customer("Acme", "deploys work", actor="cy")
    a.announce_green("resolved (green)", actor="ana")
    return a


def incident_b() -> Incident:
    """P1 that began at 13:30, declared 14:00, reopened once, closed to post-mortem at 16:40.

    Mitigating 14:30, updates 14:25, 14:55 and 15:20, yellow 15:30, reopened 15:40, yellow
    again 16:00, green 16:10, reported 16:30, post-mortem 16:40 (meeting on March 3, 10:00).
    An action due 16:20 is closed at 16:50.
    """
    clock = ManualClock(START)
    b = staffed("INC-B", Priority.P1, clock, began=at(13, 30))
    b.add_action(
        "fix the job", owner="bo", due_at=at(16, 20), kind=ActionKind.CORRECTIVE, actor="ana"
    )
    clock.advance(minutes=25)
    b.post_update("investigating", actor="cy")  # 14:25
    clock.advance(minutes=5)
    b.mitigate("mitigating", actor="ana")  # 14:30
    clock.advance(minutes=25)
    b.post_update("testing a fix", actor="cy")  # 14:55
    clock.advance(minutes=25)
    b.post_update("fix deployed", actor="cy")  # 15:20
    for why, answer in enumerate(WHYS, start=1):
        b.add_why(answer, root_cause=why == len(WHYS), actor="ana")
    clock.advance(minutes=10)
    b.verify_recovery("error rate normal", actor="bo")
    b.announce_yellow("resolved (yellow)", actor="ana")  # 15:30
    clock.advance(minutes=10)
    b.reopen("errors are back", actor="ana")  # 15:40
    clock.advance(minutes=20)
    b.verify_recovery("error rate normal again", actor="bo")
    b.announce_yellow("resolved again (yellow)", actor="ana")  # 16:00
    clock.advance(minutes=10)
    b.verify_customer("Acme", "deploys work", actor="cy")
    b.announce_green("resolved (green)", actor="ana")  # 16:10
    clock.advance(minutes=20)
    b.start_report(actor="di")
    b.mark_reported("report started", actor="ana")  # 16:30
    clock.advance(minutes=10)
    b.schedule_post_mortem(at(10, day=3), ["ana", "bo", "cy", "di"], actor="ana")
    b.begin_post_mortem("post-mortem scheduled", actor="ana")  # 16:40
    clock.advance(minutes=10)
    b.close_action("A1", actor="bo")  # 16:50, 30 minutes late
    return b


def incident_c() -> Incident:
    """P2 declared at 14:00, one update at 14:10, dismissed at 14:20."""
    clock = ManualClock(START)
    c = staffed("INC-C", Priority.P2, clock)
    clock.advance(minutes=10)
    c.post_update("looking into it", actor="cy")
    clock.advance(minutes=10)
    c.dismiss("a false alarm", actor="ana")
    return c


def incident_d() -> Incident:
    """P2 declared at 14:00, raised to P0 at 14:50, still declared; updates 14:30 and 15:00.

    One action item, due 15:30, still open.
    """
    clock = ManualClock(START)
    d = staffed("INC-D", Priority.P2, clock)
    d.add_action(
        "page the vendor", owner="bo", due_at=at(15, 30), kind=ActionKind.CORRECTIVE, actor="ana"
    )
    clock.advance(minutes=30)
    d.post_update("investigating", actor="cy")  # 14:30
    clock.advance(minutes=20)
    d.change_priority(Priority.P0, reason="every customer is affected", actor="ana")  # 14:50
    clock.advance(minutes=10)
    d.post_update("still investigating", actor="cy")  # 15:00
    return d


NOW = at(17)


@pytest.fixture(scope="module")
def four() -> list[Incident]:
    """The four hand-computed incidents, A to D."""
    return [incident_a(), incident_b(), incident_c(), incident_d()]


def summ(count: int, missing: int, median: float, p90: float, low: float, high: float) -> Summary:
    """A Summary from minutes."""
    return Summary(
        count=count,
        missing=missing,
        median=minutes(median),
        p90=minutes(p90),
        minimum=minutes(low),
        maximum=minutes(high),
    )


def empty(missing: int) -> Summary:
    """A Summary with no values."""
    return Summary(count=0, missing=missing, median=None, p90=None, minimum=None, maximum=None)


# -- milestones -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("began", "began"),
        ("  Began ", "began"),
        ("declared", "declared"),
        ("first:declared", "first:declared"),
        ("last:declared", "last:declared"),
        ("mitigating", "mitigating"),
        ("first:mitigating", "mitigating"),
        ("First: Post-Mortem", "post_mortem"),
        ("LAST:post mortem", "last:post_mortem"),
        ("first-update", "first_update"),
        ("post_mortem_meeting", "post_mortem_meeting"),
    ],
)
def test_milestone_names_are_made_canonical(text: str, name: str) -> None:
    """Milestone.parse ignores case, spaces and - for _, and reads first:<state> as <state>."""
    assert name == Milestone.parse(text).name
    assert Milestone(name) == Milestone(text)


@pytest.mark.parametrize(
    "text", ["", "ended", "last:", "first:foo", "last:began", "began:x", "a:b"]
)
def test_unknown_milestone_is_refused(text: str) -> None:
    """An unknown milestone name raises InvalidInput naming it."""
    with pytest.raises(InvalidInput, match="unknown milestone"):
        Milestone.parse(text)


def test_milestone_must_be_text() -> None:
    """A milestone built from something that is not a string raises InvalidInput."""
    with pytest.raises(InvalidInput, match="must be a string, not int"):
        Milestone(3)


def test_every_documented_milestone_is_canonical() -> None:
    """MILESTONES names 13 fixed milestones and a first and last entry for every state."""
    assert 13 + 2 * len(State) == len(MILESTONES)
    assert list(MILESTONES) == [Milestone(name).name for name in MILESTONES]
    assert all(MILESTONES.values())


def test_milestones_of_a_reopened_incident(four: list[Incident]) -> None:
    """Each milestone of incident B is the time the hand-computed history says."""
    b = four[1]
    expected = {
        "began": at(13, 30),
        "detected": None,
        "declared": at(14),
        "validated": at(14),
        "first_update": at(14, 25),
        "first_communication": at(14),  # the announcement link, before the first update
        "mitigated": at(15, 30),
        "impact_ended": None,
        "recovery_verified": at(15, 30),
        "customer_verified": at(16, 10),
        "report_started": at(16, 30),
        "post_mortem_scheduled": at(16, 40),
        "post_mortem_meeting": at(10, day=3),
        "first:declared": at(14),
        "last:declared": at(14),
        "mitigating": at(14, 30),
        "last:mitigating": at(15, 40),
        "yellow": at(15, 30),
        "last:yellow": at(16),
        "green": at(16, 10),
        "last:green": at(16, 10),
        "reported": at(16, 30),
        "last:reported": at(16, 30),
        "post_mortem": at(16, 40),
        "last:post_mortem": at(16, 40),
        "dismissed": None,
        "last:dismissed": None,
    }
    assert expected == {name: Milestone(name).at(b) for name in MILESTONES}


def test_unreached_milestones_are_none(four: list[Incident]) -> None:
    """An incident still declared has reached none of the later milestones."""
    d = four[3]
    reached = {name for name in MILESTONES if Milestone(name).at(d) is not None}
    assert {
        "began",
        "declared",
        "validated",
        "first_update",
        "first_communication",
        "first:declared",
        "last:declared",
    } == reached


# -- measures ---------------------------------------------------------------------------------


def test_default_measures_are_the_documented_ones() -> None:
    """DEFAULT_MEASURES: detection, declaration, communication, mitigation, yellow, green, the
    impact's length, the report and the post-mortem."""
    assert [
        "time_to_detect=began..detected",
        "time_to_declare=detected..declared",
        "time_to_first_communication=began..first_communication",
        "time_to_mitigate=began..mitigated",
        "time_to_yellow=began..yellow",
        "time_to_green=began..green",
        "impact_duration=began..impact_ended",
        "time_to_report=began..reported",
        "time_to_post_mortem=began..post_mortem",
    ] == [str(m) for m in DEFAULT_MEASURES]


def test_measure_parses_and_prints_back() -> None:
    """Measure.parse reads name=start..end, spaces allowed, and str() gives the canonical text."""
    measure = Measure.parse(" mtta = Began .. Validated ")
    assert Measure("mtta", Milestone("began"), Milestone("validated")) == measure
    assert "mtta=began..validated" == str(measure)
    assert measure == Measure.parse(str(measure))


@pytest.mark.parametrize(
    "text",
    [
        "mtta",
        "mtta=began",
        "mtta=began-validated",
        "=began..validated",
        "  =began..validated",
        "mtta=began..nowhere",
        "mtta=..validated",
        "two words=began..validated",
        "9lives=began..validated",
    ],
)
def test_bad_measure_text_is_refused(text: str) -> None:
    """Text that is not name=start..end with known milestones raises InvalidInput."""
    with pytest.raises(InvalidInput):
        Measure.parse(text)


def test_measure_parse_needs_text() -> None:
    """Measure.parse of something other than a string raises InvalidInput."""
    with pytest.raises(InvalidInput, match="must be a string, not NoneType"):
        Measure.parse(None)  # type: ignore[arg-type]


def test_measure_needs_a_name_like_an_identifier() -> None:
    """A measure's name may hold letters, digits, _ and -, starting with a letter or _."""
    assert "time-to-ack_2" == Measure("time-to-ack_2", "began", "validated").name
    with pytest.raises(InvalidInput, match="name"):
        Measure(3, "began", "validated")  # type: ignore[arg-type]


def test_custom_measure_mtta(four: list[Incident]) -> None:
    """A custom MTTA (began..validated) is 0 for A and 30 minutes for B, which began early."""
    mtta = Measure.parse("mtta=began..validated")
    assert [minutes(0), minutes(30), minutes(0), minutes(0)] == [mtta.of(i) for i in four]


def test_measure_is_none_when_a_milestone_is_missing_or_reversed(four: list[Incident]) -> None:
    """A measure is None when a milestone is unreached or the end precedes the start."""
    a, b = four[0], four[1]
    assert None is Measure.parse("x=began..reported").of(a)
    assert None is Measure.parse("x=reported..began").of(b)
    assert minutes(30) == Measure.parse("x=began..declared").of(b)
    assert None is Measure.parse("x=declared..began").of(b)


def test_measures_on_hand_computed_incidents(four: list[Incident]) -> None:
    """The default measures of A and B are the hand-computed durations; C and D have none."""
    expected = [
        [minutes(10), minutes(45), minutes(90), None, None],
        [minutes(60), minutes(150), minutes(160), minutes(180), minutes(190)],
        [None] * 5,
        [None] * 5,
    ]
    assert expected == [[m.of(i) for m in RESPONSE] for i in four]


# -- time in state ----------------------------------------------------------------------------


def test_state_intervals_of_a_reopened_incident(four: list[Incident]) -> None:
    """B's intervals follow each move and end with a zero-length post-mortem interval."""
    expected = (
        StateInterval(State.DECLARED, at(13, 30), at(14, 30)),
        StateInterval(State.MITIGATING, at(14, 30), at(15, 30)),
        StateInterval(State.YELLOW, at(15, 30), at(15, 40)),
        StateInterval(State.MITIGATING, at(15, 40), at(16)),
        StateInterval(State.YELLOW, at(16), at(16, 10)),
        StateInterval(State.GREEN, at(16, 10), at(16, 30)),
        StateInterval(State.REPORTED, at(16, 30), at(16, 40)),
        StateInterval(State.POST_MORTEM, at(16, 40), at(16, 40)),
    )
    assert expected == state_intervals(four[1], now=NOW)
    assert [minutes(60), minutes(0)] == [expected[0].length, expected[-1].length]


def test_time_in_state_and_duration(four: list[Incident]) -> None:
    """Time in each state: open incidents run to now, closed ones stop at their terminal state."""
    expected = [
        ({State.DECLARED: 10, State.MITIGATING: 35, State.YELLOW: 45, State.GREEN: 90}, 180),
        (
            {
                State.DECLARED: 60,
                State.MITIGATING: 80,
                State.YELLOW: 20,
                State.GREEN: 20,
                State.REPORTED: 10,
            },
            190,
        ),
        ({State.DECLARED: 20}, 20),
        ({State.DECLARED: 180}, 180),
    ]
    for incident, (spent, total) in zip(four, expected, strict=True):
        assert {s: minutes(spent.get(s, 0)) for s in State} == dict(
            time_in_state(incident, now=NOW)
        )
        assert minutes(total) == duration(incident, now=NOW)


def test_back_dated_move_starts_its_stretch() -> None:
    """A move back-dated (after the previous move) starts its stretch when it happened."""
    clock = ManualClock(START)
    incident = staffed("INC-E", Priority.P1, clock)
    clock.advance(minutes=30)
    incident.mitigate("mitigating", actor="ana")  # 14:30
    incident.verify_recovery("fine", actor="bo")
    clock.advance(minutes=30)
    incident.announce_yellow("resolved (yellow)", actor="ana", at=at(14, 40))  # recorded 15:00
    assert (
        StateInterval(State.DECLARED, at(14), at(14, 30)),
        StateInterval(State.MITIGATING, at(14, 30), at(14, 40)),
        StateInterval(State.YELLOW, at(14, 40), at(15, 30)),
    ) == state_intervals(incident, now=at(15, 30))
    assert minutes(40) == RESPONSE[1].of(incident)


def test_first_and_last_entry_go_by_log_order() -> None:
    """first:/last: are the first and last moves into the state in the log, back-dated or not."""
    clock = ManualClock(START)
    incident = staffed("INC-E", Priority.P1, clock)
    clock.advance(minutes=30)
    incident.mitigate("mitigating", actor="ana")  # 14:30
    incident.verify_recovery("fine", actor="bo")
    clock.advance(minutes=30)
    incident.announce_yellow("resolved (yellow)", actor="ana")  # 15:00
    clock.advance(minutes=10)
    incident.reopen("it never worked", actor="ana", at=at(15, 5))  # recorded 15:10
    assert (at(14, 30), at(15, 5)) == (
        Milestone("first:mitigating").at(incident),
        Milestone("last:mitigating").at(incident),
    )
    assert incident.when_entered(State.MITIGATING) == Milestone("last:mitigating").at(incident)
    assert (
        StateInterval(State.YELLOW, at(15), at(15, 5)),
        StateInterval(State.MITIGATING, at(15, 5), at(16)),
    ) == state_intervals(incident, now=at(16))[-2:]


@pytest.mark.parametrize(
    "call",
    [
        lambda i, now: stats([i], now=now),
        lambda i, now: state_intervals(i, now=now),
        lambda i, now: duration(i, now=now),
        lambda i, now: time_in_state(i, now=now),
        lambda i, now: update_gaps(i, now=now),
    ],
    ids=["stats", "state_intervals", "duration", "time_in_state", "update_gaps"],
)
def test_now_before_the_last_record_is_refused(
    four: list[Incident], call: Callable[[Incident, datetime], Any]
) -> None:
    """now before the last recorded event raises InvalidInput naming the incident; equal is fine."""
    a = four[0]
    assert at(15, 30) == a.last_recorded_at
    with pytest.raises(InvalidInput, match=r"now \(2026-03-01T15:29:00\+00:00\) is before INC-A's"):
        call(a, at(15, 29))
    call(a, at(15, 30))


def test_stats_checks_every_incident(four: list[Incident]) -> None:
    """stats refuses a now before any one incident's last record, naming that incident."""
    d = four[3]
    early = d.last_recorded_at + timedelta(seconds=1)
    with pytest.raises(InvalidInput, match="before INC-B's last recorded event"):
        stats([d, four[1]], now=early)
    assert 1 == stats([d], now=early).group().incidents


def test_figures_at_the_last_record(four: list[Incident]) -> None:
    """At now equal to the last record, A's green stretch has just begun and lasts no time."""
    a = four[0]
    assert (
        StateInterval(State.GREEN, at(15, 30), at(15, 30)) == state_intervals(a, now=at(15, 30))[-1]
    )
    assert minutes(90) == duration(a, now=at(15, 30))


def test_time_in_state_uses_any_timezone(four: list[Incident]) -> None:
    """now may be in any timezone: the same instant gives the same figures."""
    tokyo = NOW.astimezone(timezone(timedelta(hours=9)))
    assert time_in_state(four[3], now=NOW) == time_in_state(four[3], now=tokyo)


# -- update cadence ---------------------------------------------------------------------------


def gap(
    start: datetime, end: datetime, every: int, *, within: bool, open: bool = False
) -> UpdateGap:
    """An UpdateGap with its cadence in minutes."""
    return UpdateGap(start=start, end=end, allowed=minutes(every), within=within, open=open)


def test_update_gaps_of_a_closed_window(four: list[Incident]) -> None:
    """A's gaps run from declaration to each update and from the last one to green."""
    assert (
        gap(at(14), at(14, 20), 30, within=True),
        gap(at(14, 20), at(14, 40), 30, within=True),
        gap(at(14, 40), at(15, 30), 30, within=False),
    ) == update_gaps(four[0], now=NOW)


def test_update_gaps_start_at_declaration_and_span_a_reopening(four: list[Incident]) -> None:
    """B's cadence starts at 14:00 (not 13:30) and runs through the reopening to green."""
    assert (
        gap(at(14), at(14, 25), 30, within=True),
        gap(at(14, 25), at(14, 55), 30, within=True),  # exactly the cadence: within
        gap(at(14, 55), at(15, 20), 30, within=True),
        gap(at(15, 20), at(16, 10), 30, within=False),
    ) == update_gaps(four[1], now=NOW)


def test_update_gaps_of_a_dismissed_incident(four: list[Incident]) -> None:
    """A dismissed incident's cadence stops at the dismissal."""
    assert (
        gap(at(14), at(14, 10), 45, within=True),
        gap(at(14, 10), at(14, 20), 45, within=True),
    ) == update_gaps(four[2], now=NOW)


def test_update_gaps_follow_the_priority_in_force(four: list[Incident]) -> None:
    """D, raised to P0 at 14:50, 20 minutes after an update, is late from then until 15:00."""
    d = four[3]
    assert (
        gap(at(14), at(14, 30), 45, within=True),
        gap(at(14, 30), at(15), 20, within=False),  # P0's 14:45 had passed when it came in
        gap(at(15), NOW, 15, within=False, open=True),
    ) == update_gaps(d, now=NOW)


def priority_changed(first: Priority, then: Priority, change: int, update: int) -> Incident:
    """Declared at 14:00 with ``first``, changed to ``then`` at 14:``change``, then updated."""
    clock = ManualClock(START)
    incident = staffed("INC-P", first, clock)
    clock.advance(minutes=change)
    incident.change_priority(then, reason="impact changed", actor="ana")
    clock.advance(minutes=update - change)
    incident.post_update("news", actor="cy")
    return incident


def update_overdue(incident: Incident, when: datetime) -> bool:
    """Whether due() shows the stakeholder update overdue at ``when``."""
    return any(o.kind == "stakeholder_update" and o.overdue for o in incident.due(when))


def test_raised_priority_tightens_the_running_gap() -> None:
    """P2 (45m) raised to P0 (15m) at 14:10, update at 14:40: allowed 15m, so the gap is late."""
    incident = priority_changed(Priority.P2, Priority.P0, change=10, update=40)
    assert (gap(at(14), at(14, 40), 15, within=False),) == update_gaps(incident, now=at(14, 40))
    before_update = Incident.replay(incident.history[:-1])
    assert update_overdue(before_update, at(14, 16))  # due() agrees: overdue since 14:15


def test_lowered_priority_relaxes_the_running_gap() -> None:
    """P0 (15m) lowered to P3 (45m) at 14:10, update at 14:40: due() never showed it late."""
    incident = priority_changed(Priority.P0, Priority.P3, change=10, update=40)
    assert (gap(at(14), at(14, 40), 45, within=True),) == update_gaps(incident, now=at(14, 40))
    before_update = Incident.replay(incident.history[:-1])
    assert not update_overdue(before_update, at(14, 39))


def test_lowered_priority_does_not_undo_a_late_gap() -> None:
    """P0 lowered to P3 at 14:20, already 5 minutes late, stays late though due() relaxes."""
    incident = priority_changed(Priority.P0, Priority.P3, change=20, update=30)
    assert (gap(at(14), at(14, 30), 15, within=False),) == update_gaps(incident, now=at(14, 30))
    still_open = Incident.replay(incident.history[:-1])
    assert (gap(at(14), at(14, 25), 15, within=False, open=True),) == update_gaps(
        still_open, now=at(14, 25)
    )
    assert not update_overdue(still_open, at(14, 25))


def test_raised_priority_after_its_deadline_makes_the_gap_late_at_once() -> None:
    """P3 raised to P0 at 14:20, past 14:00 + 15m: due() is late at once; allowed is 20m."""
    incident = priority_changed(Priority.P3, Priority.P0, change=20, update=21)
    assert (gap(at(14), at(14, 21), 20, within=False),) == update_gaps(incident, now=at(14, 21))
    raised = Incident.replay(incident.history[:-1])
    assert (gap(at(14), at(14, 21), 20, within=False, open=True),) == update_gaps(
        raised, now=at(14, 21)
    )
    assert update_overdue(raised, at(14, 20) + timedelta(seconds=30))


@pytest.mark.parametrize(
    ("now", "counted"),
    [(at(15, 10), 2), (at(15, 15), 2), (at(15, 15) + timedelta(seconds=1), 3)],
)
def test_open_gap_counts_only_once_it_outruns_the_cadence(
    four: list[Incident], now: datetime, counted: int
) -> None:
    """The still-open gap of an active incident is listed only once longer than allowed."""
    assert counted == len(update_gaps(four[3], now=now))


def test_updates_outside_the_active_stretch_are_ignored() -> None:
    """Updates back-dated before the declaration or posted while green split no gap."""
    clock = ManualClock(START)
    incident = staffed("INC-F", Priority.P3, clock, began=at(13))
    incident.post_update("seen since 13:00", actor="cy", at=at(13, 30))
    clock.advance(minutes=20)
    incident.dismiss("a false alarm", actor="ana")
    assert (gap(at(14), at(14, 20), 45, within=True),) == update_gaps(incident, now=NOW)
    green = incident_a()
    before = update_gaps(green, now=NOW)
    green.post_update("all good", actor="cy", now=at(15, 45))
    assert before == update_gaps(green, now=NOW)


def test_updates_at_the_edges_make_no_empty_gaps() -> None:
    """Updates at the declaration, at the same instant, or at the dismissal add no 0-length gap."""
    clock = ManualClock(START)
    incident = staffed("INC-F", Priority.P3, clock)
    incident.post_update("declared: looking into it", actor="cy")
    clock.advance(minutes=20)
    incident.post_update("found it", actor="cy")
    incident.post_update("found it, really", actor="cy")
    incident.dismiss("a false alarm", actor="ana")
    assert (gap(at(14), at(14, 20), 45, within=True),) == update_gaps(incident, now=NOW)


def test_dismissal_back_dated_before_declaration_owes_nothing() -> None:
    """An incident dismissed as of its declaration (after its onset) has no update gaps at all."""
    clock = ManualClock(START)
    incident = staffed("INC-G", Priority.P3, clock, began=at(13))
    incident.dismiss("a false alarm", actor="ana", at=at(14))
    assert () == update_gaps(incident, now=NOW)


def test_open_window_at_declaration_time() -> None:
    """With now at the declaration stamp, an active incident has no gap yet."""
    clock = ManualClock(START)
    incident = staffed("INC-H", Priority.P3, clock, began=at(13))
    assert () == update_gaps(incident, now=at(14))


# -- post-mortem deadlines --------------------------------------------------------------------

DEADLINE_DAYS = {Priority.P0: 2, Priority.P1: 3, Priority.P2: 5, Priority.P3: 10}
"""The default policy's post_mortem_within per priority, in days."""
NOT_JUDGED = Deadlines(due=0, met=0, share=None)
MET = Deadlines(due=1, met=1, share=1.0)
LATE = Deadlines(due=1, met=0, share=0.0)


def greened(incident_id: str, priority: Priority) -> Incident:
    """Declared 14:00 on March 1, mitigating 14:10, yellow 14:20, green 14:30 (the clock's now)."""
    clock = ManualClock(START)
    incident = staffed(incident_id, priority, clock)
    clock.advance(minutes=10)
    incident.mitigate("mitigating", actor="ana")
    clock.advance(minutes=10)
    incident.verify_recovery("error rate normal", actor="bo")
    incident.announce_yellow("resolved (yellow)", actor="ana")
    clock.advance(minutes=10)
    incident.verify_customer("Acme", "deploys work", actor="cy")
    incident.announce_green("resolved (green)", actor="ana")
    return incident


def schedule(incident: Incident, when: datetime) -> None:
    """Schedule the post-mortem meeting for ``when``, inviting the whole team."""
    incident.schedule_post_mortem(when, ["ana", "bo", "cy", "di"], actor="ana")


def judged(incidents: list[Incident], now: datetime) -> Deadlines:
    """The 'all' group's post-mortem deadlines at ``now``."""
    return stats(incidents, now=now, measures=()).group().post_mortems


def post_mortem_duty(incident: Incident, when: datetime) -> Obligation | None:
    """The post_mortem or post_mortem_meeting duty due() lists at ``when``, if any."""
    for owed in incident.due(when):
        if owed.kind in ("post_mortem", "post_mortem_meeting"):
            return owed
    return None


@pytest.mark.parametrize("priority", list(Priority))
def test_post_mortem_deadline_counts_from_green_by_priority(priority: Priority) -> None:
    """The deadline is green (14:30) plus P0 2, P1 3, P2 5 or P3 10 days, as due() shows it."""
    incident = greened("INC-G", priority)
    expected = at(14, 30, day=1 + DEADLINE_DAYS[priority])
    assert expected == post_mortem_deadline(incident)
    duty = post_mortem_duty(incident, at(15))
    assert duty is not None
    assert ("post_mortem", expected) == (duty.kind, duty.due_at)


def test_never_green_has_no_deadline_and_is_not_judged(four: list[Incident]) -> None:
    """An incident still declared or dismissed has no deadline and is never judged."""
    c, d = four[2], four[3]
    assert (None, None) == (post_mortem_deadline(c), post_mortem_deadline(d))
    assert NOT_JUDGED == judged([c, d], at(17, day=28))


def test_post_mortem_held_in_time() -> None:
    """A P1 green at 14:30 whose post-mortem was held March 3 met its March 4 deadline."""
    incident = greened("INC-H", Priority.P1)
    for number, answer in enumerate(WHYS, start=1):
        incident.add_why(answer, root_cause=number == len(WHYS), actor="ana")
    incident.start_report(actor="di")
    incident.mark_reported("report started", actor="ana")
    schedule(incident, at(10, day=3))
    incident.begin_post_mortem("post-mortem scheduled", actor="ana")
    assert State.POST_MORTEM == incident.state
    assert MET == judged([incident], at(15)) == judged([incident], at(12, day=10))


@pytest.mark.parametrize(
    ("meeting", "expected"),
    [
        (at(9, day=2), MET),
        (at(14, 30, day=4), MET),  # exactly at the deadline: in time
        (at(14, 31, day=4), LATE),
        (at(10, day=9), LATE),
    ],
)
def test_scheduled_post_mortem_is_judged_at_once(meeting: datetime, expected: Deadlines) -> None:
    """A P1 (deadline March 4 14:30) meets it iff scheduled for no later, judged when scheduled."""
    incident = greened("INC-S", Priority.P1)
    schedule(incident, meeting)
    assert expected == judged([incident], at(14, 30))
    assert expected == judged([incident], at(9, day=20))


def test_post_mortem_scheduled_after_the_deadline_is_late() -> None:
    """A P0 meeting set for March 4 misses the March 3 14:30 deadline, as due() says."""
    incident = greened("INC-L", Priority.P0)
    schedule(incident, at(10, day=4))
    assert LATE == judged([incident], at(15))
    duty = post_mortem_duty(incident, at(14, 31, day=3))
    assert duty is not None
    assert ("post_mortem_meeting", True) == (duty.kind, duty.overdue)
    assert duty.description.endswith("after the deadline")


def test_rescheduling_counts_the_latest_meeting() -> None:
    """Only the latest scheduling counts: moving a late meeting into time makes it met."""
    incident = greened("INC-R", Priority.P0)
    schedule(incident, at(10, day=4))
    assert LATE == judged([incident], at(15))
    schedule(incident, at(10, day=3))
    assert MET == judged([incident], at(15))
    schedule(incident, at(10, day=5))
    assert LATE == judged([incident], at(15))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(14, 30), NOT_JUDGED),
        (at(9, day=2), NOT_JUDGED),
        (at(14, 30, day=3), NOT_JUDGED),  # at the deadline: not past it yet
        (at(14, 30, day=3) + timedelta(seconds=1), LATE),
        (at(9, day=20), LATE),
    ],
)
def test_unscheduled_post_mortem_is_late_once_past_the_deadline(
    now: datetime, expected: Deadlines
) -> None:
    """A P0 green at 14:30 with nothing scheduled is late after March 3 14:30, as due() says."""
    incident = greened("INC-U", Priority.P0)
    assert expected == judged([incident], now)
    duty = post_mortem_duty(incident, now)
    assert duty is not None
    assert ("post_mortem", expected == LATE) == (duty.kind, duty.overdue)


def test_unscheduled_hand_computed_incident_turns_late(four: list[Incident]) -> None:
    """A (P1, green 15:30, nothing scheduled) is judged late after March 4 15:30; B met."""
    assert MET == judged(four, at(15, 30, day=4))
    assert Deadlines(due=2, met=1, share=0.5) == judged(four, at(15, 31, day=4))


def test_priority_sets_the_deadline() -> None:
    """The same meeting, four days after green, is late for a P0 (2 days), in time for a P3."""
    urgent, minor = greened("INC-0", Priority.P0), greened("INC-3", Priority.P3)
    for incident in (urgent, minor):
        schedule(incident, at(14, 30, day=5))
    result = stats([urgent, minor], now=at(15), measures=())
    assert [Deadlines(due=2, met=1, share=0.5), LATE, NOT_JUDGED, NOT_JUDGED, MET] == [
        g.post_mortems for g in result.groups
    ]
    (row,) = [line for line in result.table().splitlines() if line.startswith("post-mortems")]
    assert ["post-mortems by deadline", "1/2 (50%)", "0/1 (0%)", "-", "-", "1/1 (100%)"] == (
        re.split(r"\s{2,}", row.strip())
    )


# -- stats ------------------------------------------------------------------------------------


def test_stats_of_the_hand_computed_incidents(four: list[Incident]) -> None:
    """Every figure of the 'all' group matches the hand computation."""
    everyone = stats(four, now=NOW, measures=RESPONSE).group()
    assert (
        Group(
            priority=None,
            incidents=4,
            measures={
                "time_to_mitigate": summ(2, 2, 35, 60, 10, 60),
                "time_to_yellow": summ(2, 2, 97.5, 150, 45, 150),
                "time_to_green": summ(2, 2, 125, 160, 90, 160),
                "time_to_report": summ(1, 3, 180, 180, 180, 180),
                "time_to_post_mortem": summ(1, 3, 190, 190, 190, 190),
            },
            time_in_state={
                State.DECLARED: summ(4, 0, 40, 180, 10, 180),
                State.MITIGATING: summ(2, 2, 57.5, 80, 35, 80),
                State.YELLOW: summ(2, 2, 32.5, 45, 20, 45),
                State.GREEN: summ(2, 2, 55, 90, 20, 90),
                State.REPORTED: summ(1, 3, 10, 10, 10, 10),
                State.POST_MORTEM: summ(1, 3, 0, 0, 0, 0),
                State.DISMISSED: summ(1, 3, 0, 0, 0, 0),
            },
            cadence=Compliance(gaps=12, within=8, share=8 / 12),
            post_mortems=Deadlines(due=1, met=1, share=1.0),
            actions=ActionSummary(total=3, open=2, overdue=1, closed_late=1),
            impact_by_level={level: empty(4) for level in ImpactLevel},  # none recorded
        )
        == everyone
    )


def test_stats_groups_by_current_priority(four: list[Incident]) -> None:
    """Groups come as all, P0..P3; D counts as P0, its priority now, and P3 is empty."""
    result = stats(four, now=NOW, measures=RESPONSE)
    assert [None, *Priority] == [g.priority for g in result.groups]
    assert [4, 1, 2, 1, 0] == [g.incidents for g in result.groups]
    p0, p1, p3 = result.group(Priority.P0), result.group(Priority.P1), result.group(Priority.P3)
    assert Compliance(gaps=3, within=1, share=1 / 3) == p0.cadence
    assert ActionSummary(total=1, open=1, overdue=1, closed_late=0) == p0.actions
    assert summ(2, 0, 35, 60, 10, 60) == p1.measures["time_to_mitigate"]
    assert Compliance(gaps=7, within=5, share=5 / 7) == p1.cadence
    assert 0 == p3.incidents
    assert {m.name: empty(0) for m in RESPONSE} == dict(p3.measures)
    assert {s: empty(0) for s in State} == dict(p3.time_in_state)
    assert Compliance(gaps=0, within=0, share=None) == p3.cadence
    assert Deadlines(due=1, met=1, share=1.0) == p1.post_mortems
    assert Deadlines(due=0, met=0, share=None) == p0.post_mortems == p3.post_mortems
    assert ActionSummary(total=0, open=0, overdue=0, closed_late=0) == p3.actions


def test_median_and_nearest_rank_p90_of_ten() -> None:
    """Of 1..10 minutes the median is 5m30s and the p90 the 9th value; of 11, the 10th."""
    clock = ManualClock(START)
    made = []
    for n in range(1, 12):
        incident = staffed(f"INC-{n}", Priority.P3, clock)
        clock.advance(minutes=n)
        incident.mitigate("mitigating", actor="ana", at=incident.began_at + minutes(n))
        made.append(incident)
    ten = stats(made[:10], now=NOW, measures=RESPONSE[:1]).group()
    eleven = stats(made, now=NOW, measures=RESPONSE[:1]).group()
    assert summ(10, 0, 5.5, 9, 1, 10) == ten.measures["time_to_mitigate"]
    assert summ(11, 0, 6, 10, 1, 11) == eleven.measures["time_to_mitigate"]


def test_stats_with_custom_measures(four: list[Incident]) -> None:
    """stats takes any measures and summarizes each under its own name, in the order given."""
    chosen = [Measure.parse("mtta=began..validated"), Measure.parse("ttd=began..declared")]
    everyone = stats(four, now=NOW, measures=chosen).group()
    assert ["mtta", "ttd"] == list(everyone.measures)
    assert summ(4, 0, 0, 30, 0, 30) == everyone.measures["mtta"]
    assert tuple(chosen) == stats(four, now=NOW, measures=chosen).measures


def test_stats_of_nothing() -> None:
    """No incidents give every group empty, with no cadence share."""
    result = stats([], now=NOW, measures=())
    assert [0] * 5 == [g.incidents for g in result.groups]
    assert {} == dict(result.group().measures)
    assert None is result.group().cadence.share
    assert Deadlines(due=0, met=0, share=None) == result.group().post_mortems


def test_stats_reads_any_iterable_once(four: list[Incident]) -> None:
    """A generator of incidents gives the same stats as a list."""
    assert stats(four, now=NOW) == stats(iter(four), now=NOW)


def test_stats_change_nothing(four: list[Incident]) -> None:
    """Measuring leaves every incident exactly as it was."""
    before = [list(i.history) for i in four]
    stats(four, now=NOW, measures=RESPONSE)
    state_intervals(four[0], now=NOW)
    update_gaps(four[3], now=NOW)
    assert before == [list(i.history) for i in four]


def test_to_dict_is_json_with_seconds(four: list[Incident]) -> None:
    """to_dict gives JSON-ready data: durations in seconds, None as null, states by value."""
    data = stats(four, now=NOW, measures=RESPONSE).to_dict()
    assert data == json.loads(json.dumps(data))
    assert "2026-03-01T17:00:00+00:00" == data["now"]
    assert {"name": "time_to_yellow", "start": "began", "end": "last:yellow"} == data["measures"][1]
    everyone, p0, p3 = data["groups"][0], data["groups"][1], data["groups"][4]
    assert (None, "P0", "P3") == (everyone["priority"], p0["priority"], p3["priority"])
    assert {
        "count": 2,
        "missing": 2,
        "median": 5850.0,
        "p90": 9000.0,
        "minimum": 2700.0,
        "maximum": 9000.0,
    } == everyone["measures"]["time_to_yellow"]
    assert 2400.0 == everyone["time_in_state"]["declared"]["median"]
    assert {"gaps": 12, "within": 8, "share": 8 / 12} == everyone["cadence"]
    assert {"total": 3, "open": 2, "overdue": 1, "closed_late": 1} == everyone["actions"]
    assert {"gaps": 0, "within": 0, "share": None} == p3["cadence"]
    assert {"due": 1, "met": 1, "share": 1.0} == everyone["post_mortems"]
    assert {"due": 0, "met": 0, "share": None} == p3["post_mortems"]
    assert None is p3["measures"]["time_to_mitigate"]["median"]


def test_table_has_a_column_per_group(four: list[Incident]) -> None:
    """table() gives median / p90 (n) per measure and state, cadence, post-mortems, actions."""
    chosen = [RESPONSE[0], RESPONSE[2]]
    lines = stats(four, now=NOW, measures=chosen).table().splitlines()
    cells = {row[0]: row[1:] for row in (re.split(r"\s{2,}", line.strip()) for line in lines)}
    assert ["all", "P0", "P1", "P2", "P3"] == cells["at 2026-03-01 17:00 UTC"]
    assert ["4", "1", "2", "1", "0"] == cells["incidents"]
    assert ["35m / 1h 00m (2)", "-", "35m / 1h 00m (2)", "-", "-"] == cells[
        "time_to_mitigate (began..mitigating)"
    ]
    assert ["2h 05m / 2h 40m (2)", "-", "2h 05m / 2h 40m (2)", "-", "-"] == cells[
        "time_to_green (began..last:green)"
    ]
    assert ["0s / 0s (1)", "-", "-", "0s / 0s (1)", "-"] == cells["dismissed"]
    assert ["8/12 (67%)", "1/3 (33%)", "5/7 (71%)", "2/2 (100%)", "-"] == cells[
        "updates within cadence"
    ]
    assert ["1/1 (100%)", "-", "1/1 (100%)", "-", "-"] == cells["post-mortems by deadline"]
    assert ["2/1/1", "1/1/0", "1/0/1", "0/0/0", "0/0/0"] == cells["actions open/overdue/late"]
    assert "time in state" in cells
    assert "mitigating" in cells


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "-"),
        (timedelta(0), "0s"),
        (timedelta(seconds=59.9), "59s"),
        (timedelta(seconds=89), "1m"),
        (timedelta(seconds=90), "2m"),
        (minutes(59), "59m"),
        (minutes(59.6), "1h 00m"),
        (minutes(65), "1h 05m"),
        (timedelta(hours=23, minutes=59), "23h 59m"),
        (timedelta(days=2, hours=4, minutes=10), "2d 04h"),
    ],
)
def test_table_durations_read_in_days_hours_minutes(value: timedelta | None, text: str) -> None:
    """Durations in the table read as seconds under a minute, then minutes, hours and days."""
    count = 0 if value is None else 1
    single = Summary(
        count=count, missing=1 - count, median=value, p90=value, minimum=value, maximum=value
    )
    group = Group(
        priority=None,
        incidents=1,
        measures={"m": single},
        time_in_state={},
        cadence=Compliance(gaps=0, within=0, share=None),
        post_mortems=Deadlines(due=0, met=0, share=None),
        actions=ActionSummary(total=0, open=0, overdue=0, closed_late=0),
    )
    measure = Measure.parse("m=began..green")
    table = Stats(now=NOW, measures=(measure,), groups=(group,)).table()
    (row,) = [line for line in table.splitlines() if line.startswith("  m ")]
    expected = "-" if value is None else f"{text} / {text} (1)"
    assert ["m (began..green)", expected] == re.split(r"\s{2,}", row.strip())


# -- bad input --------------------------------------------------------------------------------


def naive() -> datetime:
    """A naive datetime."""
    return datetime(2026, 3, 1, 17, 0)


@pytest.mark.parametrize(
    "call",
    [
        lambda i: stats([i], now=naive()),
        lambda i: state_intervals(i, now=naive()),
        lambda i: duration(i, now=naive()),
        lambda i: time_in_state(i, now=naive()),
        lambda i: update_gaps(i, now=naive()),
        lambda i: stats([i], now="2026-03-01T17:00:00+00:00"),  # type: ignore[arg-type]
    ],
    ids=["stats", "state_intervals", "duration", "time_in_state", "update_gaps", "text"],
)
def test_now_must_be_aware(four: list[Incident], call: Callable[[Incident], Any]) -> None:
    """Every function taking now refuses a naive datetime (or a non-datetime) with InvalidInput."""
    with pytest.raises(InvalidInput, match="now must be a timezone-aware datetime"):
        call(four[0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda i: stats([i, "INC-1"], now=NOW), "not str"),  # type: ignore[list-item]
        (lambda i: stats([i, i.history[0]], now=NOW), "not Declared"),
        (lambda i: stats(i, now=NOW), "iterable of Incident"),
        (lambda i: stats(42, now=NOW), "iterable of Incident"),  # type: ignore[arg-type]
        (lambda i: state_intervals("INC-1", now=NOW), "not str"),  # type: ignore[arg-type]
        (lambda i: duration(None, now=NOW), "not NoneType"),  # type: ignore[arg-type]
        (lambda i: time_in_state([i], now=NOW), "not list"),  # type: ignore[arg-type]
        (lambda i: update_gaps(i.history, now=NOW), "not _View"),
        (lambda i: Milestone("began").at("INC-1"), "not str"),  # type: ignore[arg-type]
        (lambda i: RESPONSE[0].of(None), "not NoneType"),  # type: ignore[arg-type]
        (lambda i: post_mortem_deadline(i.id), "not str"),
    ],
)
def test_non_incidents_are_refused(
    four: list[Incident], call: Callable[[Incident], Any], message: str
) -> None:
    """Anything but an Incident where one is expected raises InvalidInput naming its type."""
    with pytest.raises(InvalidInput, match=message):
        call(four[0])


@pytest.mark.parametrize(
    ("measures", "message"),
    [
        ("mtta=began..validated", "sequence of Measure"),
        (RESPONSE[0], "sequence of Measure"),
        ({RESPONSE[0]}, "sequence of Measure"),
        (["mtta=began..validated"], "must all be Measure, not str"),
        ([RESPONSE[0], RESPONSE[0]], "repeated: time_to_mitigate"),
    ],
)
def test_bad_measures_are_refused(four: list[Incident], measures: Any, message: str) -> None:
    """stats takes a sequence of distinct Measure objects; anything else raises InvalidInput."""
    with pytest.raises(InvalidInput, match=message):
        stats(four, now=NOW, measures=measures)


def test_group_needs_a_priority(four: list[Incident]) -> None:
    """Stats.group takes a Priority or None; a name or a missing group raises InvalidInput."""
    with pytest.raises(InvalidInput, match="Priority or None"):
        stats(four, now=NOW, measures=RESPONSE).group("P1")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="no group"):
        Stats(now=NOW, measures=(), groups=()).group(Priority.P1)


# -- properties -------------------------------------------------------------------------------

PERMISSIVE = Policy.permissive()


@st.composite
def backdated_incidents(draw: st.DrawFn, *, priority_changes: bool = True) -> Incident:
    """Incidents walked through the runbook with back-dated commands, reopenings and updates.

    Every command happens some minutes after the last and is back-dated up to an hour (never
    before the incident began, and a move never before the previous move), so updates,
    priority changes and other events arrive out of order.
    """
    clock = ManualClock(START)
    began = START - minutes(draw(st.integers(min_value=0, max_value=90)))
    priority = draw(st.sampled_from(list(Priority)))
    incident = Incident.declare(
        "INC-9",
        "a drawn incident",
        priority,
        actor="ana",
        began=began,
        clock=clock,
        policy=PERMISSIVE,
    )

    def when() -> datetime:
        clock.advance(minutes=draw(st.integers(min_value=0, max_value=40)))
        back = minutes(draw(st.integers(min_value=0, max_value=60)))
        return max(began, clock.now() - back)

    def in_order(t: datetime) -> datetime:
        """``t``, or the previous move's time if ``t`` is before it (moves_in_order)."""
        return max(t, incident.when_entered(incident.state) or began)

    path: list[Callable[[datetime], object]] = [
        lambda t: incident.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana", at=t),
        lambda t: incident.validate("seen", actor="ana", at=t),
        lambda t: incident.link(LinkKind.TICKET, "https://x.test", actor="ana", at=t),
        lambda t: incident.mitigate("mitigating", actor="ana", at=in_order(t)),
        lambda t: incident.verify_recovery("fine", actor="ana", at=t),
        lambda t: incident.announce_yellow("yellow", actor="ana", at=in_order(t)),
        lambda t: incident.verify_customer("Acme", "works", actor="ana", at=t),
        lambda t: incident.announce_green("green", actor="ana", at=in_order(t)),
        *(
            lambda t, n=n: incident.add_why(WHYS[n], root_cause=n == 4, actor="ana", at=t)
            for n in range(5)
        ),
        lambda t: incident.start_report(actor="ana", at=t),
        lambda t: incident.mark_reported("reported", actor="ana", at=in_order(t)),
        lambda t: incident.schedule_post_mortem(
            clock.now() + timedelta(days=1), ["ana"], actor="ana", at=t
        ),
        lambda t: incident.begin_post_mortem("post-mortem", actor="ana", at=in_order(t)),
    ]
    detours: dict[str, Callable[[datetime], object]] = {
        "update": lambda t: incident.post_update("an update", actor="ana", at=t),
        "reopen": lambda t: incident.reopen("errors are back", actor="ana", at=in_order(t)),
        "action": lambda t: incident.add_action(
            "fix",
            owner="ana",
            due_at=clock.now() + minutes(draw(st.integers(-60, 600))),
            kind=ActionKind.CORRECTIVE,
            actor="ana",
            at=t,
        ),
        "close": lambda t: incident.close_action(
            draw(st.sampled_from(sorted(incident.action_items) or ["none"])), actor="ana", at=t
        ),
    }
    if draw(st.integers(min_value=0, max_value=4)) == 0:  # a false alarm, now and then
        detours["dismiss"] = lambda t: incident.dismiss(
            "a false alarm", actor="ana", at=in_order(t)
        )
    if priority_changes:
        detours["priority"] = lambda t: incident.change_priority(
            draw(st.sampled_from(list(Priority))), reason="impact changed", actor="ana", at=t
        )
    progress = draw(st.integers(min_value=0, max_value=len(path)))
    for step in path[:progress]:
        for detour in draw(st.lists(st.sampled_from(sorted(detours)), max_size=3)):
            with contextlib.suppress(CommandRefused):
                detours[detour](when())
        with contextlib.suppress(CommandRefused):
            step(when())
    return incident


any_incident = st.one_of(incidents(max_steps=20), backdated_incidents())


def later(incident: Incident, extra: int) -> datetime:
    """``extra`` minutes after the incident's last stamp."""
    return incident.last_recorded_at + minutes(extra)


@settings(max_examples=50)
@given(
    st.lists(any_incident, max_size=5).flatmap(
        lambda xs: st.tuples(st.just(xs), st.permutations(xs))
    ),
    st.integers(min_value=0, max_value=24 * 60),
)
def test_stats_do_not_depend_on_order(
    pair: tuple[list[Incident], list[Incident]], extra: int
) -> None:
    """stats of a permutation of the incidents equals stats of the original order."""
    given_order, shuffled = pair
    now = max((later(i, 0) for i in given_order), default=START) + minutes(extra)
    assert stats(given_order, now=now) == stats(shuffled, now=now)


@given(any_incident, st.integers(min_value=0, max_value=24 * 60))
def test_time_in_state_sums_to_duration(incident: Incident, extra: int) -> None:
    """Intervals are contiguous and non-negative, from began_at, and add up to the duration."""
    now = later(incident, extra)
    intervals = state_intervals(incident, now=now)
    moves = [e for e in incident.corrected_history if isinstance(e, ev.StateChanged)]
    assert len(moves) + 1 == len(intervals)
    assert incident.began_at == intervals[0].start
    assert [State.DECLARED, *(m.target for m in moves)] == [i.state for i in intervals]
    assert all(i.start <= i.end for i in intervals)
    assert all(x.end == y.start for x, y in itertools.pairwise(intervals))
    assert sum(time_in_state(incident, now=now).values(), timedelta(0)) == duration(
        incident, now=now
    )
    assert intervals[-1].end - incident.began_at == duration(incident, now=now)
    if not incident.state.terminal:
        assert now == intervals[-1].end


@settings(max_examples=100)
@given(st.lists(any_incident, max_size=4), st.integers(min_value=0, max_value=24 * 60))
def test_summaries_are_ordered_and_non_negative(incidents: list[Incident], extra: int) -> None:
    """Every value is >= 0; min <= median, p90 <= max; counts add up across groups."""
    now = max((later(i, 0) for i in incidents), default=START) + minutes(extra)
    for incident in incidents:
        assert all(
            value is None or value >= timedelta(0) for value in (m.of(incident) for m in RESPONSE)
        )
    result = stats(incidents, now=now, measures=RESPONSE)
    assert len(incidents) == result.group().incidents == sum(g.incidents for g in result.groups[1:])
    for group in result.groups:
        for s in [*group.measures.values(), *group.time_in_state.values()]:
            assert group.incidents == s.count + s.missing
            if s.count:
                low, mid, p90, high = s.minimum, s.median, s.p90, s.maximum
                assert None not in (low, mid, p90, high)
                assert timedelta(0) <= low <= mid <= high  # type: ignore[operator]
                assert low <= p90 <= high  # type: ignore[operator]
            else:
                assert (None, None, None, None) == (s.median, s.p90, s.minimum, s.maximum)
        assert 0 <= group.cadence.within <= group.cadence.gaps
        assert 0 <= group.post_mortems.met <= group.post_mortems.due <= group.incidents
        actions = group.actions
        assert actions.overdue <= actions.open <= actions.total
        assert actions.closed_late <= actions.total - actions.open


@settings(max_examples=100)
@given(st.lists(any_incident, min_size=1, max_size=4))
def test_entry_milestones_recomputed_from_the_raw_events(incidents: list[Incident]) -> None:
    """time_to_mitigate (and its median) and last:yellow agree with the moves of the record."""
    expected = []
    for incident in incidents:
        declared, *rest = incident.corrected_history  # measures read the corrected record
        moves = [e for e in rest if isinstance(e, ev.StateChanged)]
        mitigating = [m.occurred_at for m in moves if m.target is State.MITIGATING]
        yellow = [m.occurred_at for m in moves if m.target is State.YELLOW]
        assert isinstance(declared, ev.Declared)
        value = mitigating[0] - declared.onset if mitigating else None
        assert value == RESPONSE[0].of(incident)
        assert (yellow[-1] if yellow else None) == Milestone("last:yellow").at(incident)
        if value is not None:
            expected.append(value.total_seconds())
    now = max(i.last_recorded_at for i in incidents)
    found = stats(incidents, now=now, measures=RESPONSE).group().measures["time_to_mitigate"]
    assert len(expected) == found.count
    if expected:
        assert found.median is not None
        assert statistics.median(expected) == pytest.approx(found.median.total_seconds(), abs=1e-6)


@given(backdated_incidents(priority_changes=False), st.integers(min_value=0, max_value=6 * 60))
def test_open_gap_agrees_with_the_overdue_update_obligation(incident: Incident, extra: int) -> None:
    """Without priority changes, an open gap is listed exactly when due() says an update is late."""
    now = later(incident, extra)
    gaps = update_gaps(incident, now=now)
    overdue = any(o.kind == "stakeholder_update" and o.overdue for o in incident.due(now))
    assert overdue == any(g.open for g in gaps)
    assert all(not g.open for g in gaps[:-1])
    assert all(g.within == (g.end - g.start <= g.allowed) for g in gaps)


@given(any_incident)
def test_entries_follow_the_log(incident: Incident) -> None:
    """first:/last:<state> are the first and last moves into it; last: is when_entered()."""
    moves = [e for e in incident.corrected_history if isinstance(e, ev.StateChanged)]
    for state in State:
        assert incident.when_entered(state) == Milestone(f"last:{state.value}").at(incident)
        if state is not State.DECLARED:
            into = [m.occurred_at for m in moves if m.target is state]
            assert (into[0] if into else None) == Milestone(f"first:{state.value}").at(incident)


def ready_to_mitigate(incident_id: str, priority: Priority, clock: ManualClock) -> Incident:
    """A drawn incident under the permissive policy, staffed, validated and linked by ana."""
    incident = Incident.declare(
        incident_id, "a drawn incident", priority, actor="ana", clock=clock, policy=PERMISSIVE
    )
    incident.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana")
    incident.validate("seen", actor="ana")
    incident.link(LinkKind.TICKET, "https://x.test", actor="ana")
    return incident


@st.composite
def cadence_incidents(draw: st.DrawFn) -> Incident:
    """Small incidents at whole minutes, nothing back-dated: updates, priority changes, moves."""
    clock = ManualClock(START)
    incident = ready_to_mitigate("INC-8", draw(st.sampled_from(list(Priority))), clock)

    def yellow() -> None:
        incident.verify_recovery("fine", actor="ana")
        incident.announce_yellow("yellow", actor="ana")

    def green() -> None:
        incident.verify_customer("Acme", "works", actor="ana")
        incident.announce_green("green", actor="ana")

    steps: dict[str, Callable[[], object]] = {
        "update": lambda: incident.post_update("an update", actor="ana"),
        "priority": lambda: incident.change_priority(
            draw(st.sampled_from(list(Priority))), reason="impact changed", actor="ana"
        ),
        "mitigate": lambda: incident.mitigate("mitigating", actor="ana"),
        "yellow": yellow,
        "reopen": lambda: incident.reopen("errors are back", actor="ana"),
        "green": green,
        "dismiss": lambda: incident.dismiss("a false alarm", actor="ana"),
    }
    weighted = ["update", "update", "priority", "priority", *steps]
    for step in draw(st.lists(st.sampled_from(weighted), max_size=10)):
        clock.advance(minutes=draw(st.integers(min_value=0, max_value=25)))
        with contextlib.suppress(CommandRefused):
            steps[step]()
    return incident


def update_owed(incident: Incident, when: datetime) -> tuple[bool, datetime | None]:
    """Whether due() shows the stakeholder update overdue at ``when``, and its due time."""
    for owed in incident.due(when):
        if owed.kind == "stakeholder_update":
            return owed.overdue, owed.due_at
    return False, None


@settings(max_examples=100)
@given(cadence_incidents(), st.integers(min_value=0, max_value=60))
def test_update_gaps_agree_with_due_at_every_moment(incident: Incident, extra: int) -> None:
    """A gap is late exactly when due(), on the record as it stood, showed the update overdue.

    The oracle replays the log as known at every half minute (events fall on whole minutes)
    and asks due() then.  A late gap's allowed time ends at the first overdue moment (to the
    sampling step); a gap within the cadence is allowed up to the due time due() showed last.
    """
    now = later(incident, extra)
    step = timedelta(seconds=30)
    moments = [incident.declared_at + step * n for n in range((now - incident.declared_at) // step)]
    known: dict[int, Incident] = {}
    owed = {}
    for moment in moments:
        count = sum(1 for e in incident.history if e.recorded_at <= moment)
        if count not in known:
            known[count] = Incident.replay(incident.history[:count], policy=PERMISSIVE)
        owed[moment] = update_owed(known[count], moment)
    gaps = update_gaps(incident, now=now)
    for g in gaps:
        inside = [t for t in moments if g.start <= t < g.end]
        late = [t for t in inside if owed[t][0]]
        assert g.within == (not late)
        if late:
            assert g.start + g.allowed <= late[0] <= g.start + g.allowed + step
        else:
            assert g.start + g.allowed == owed[inside[-1]][1]
    for moment in moments:
        if owed[moment][0]:
            assert any(g.start <= moment < g.end and not g.within for g in gaps)


def around_days(draw: st.DrawFn) -> timedelta:
    """0 to 12 whole days, give or take up to an hour: near, or at, every priority's deadline."""
    days = draw(st.one_of(st.sampled_from(sorted(DEADLINE_DAYS.values())), st.integers(0, 12)))
    off = draw(st.one_of(st.sampled_from([-1, 0, 1]), st.integers(min_value=-60, max_value=60)))
    return timedelta(days=days) + minutes(off)


@st.composite
def post_mortem_incidents(draw: st.DrawFn) -> tuple[Incident, datetime]:
    """An incident at whole minutes walked part-way to green, then scheduled 0-2 times, and a now.

    Meetings and now fall within an hour of a whole number of days after green (now after
    the start when never green): on either side of, and exactly at, every priority's
    deadline.  The priority may change before green.
    """
    clock = ManualClock(START)
    incident = ready_to_mitigate("INC-7", draw(st.sampled_from(list(Priority))), clock)
    path: list[Callable[[], object]] = [
        lambda: incident.mitigate("mitigating", actor="ana"),
        lambda: incident.verify_recovery("fine", actor="ana"),
        lambda: incident.announce_yellow("yellow", actor="ana"),
        lambda: incident.verify_customer("Acme", "works", actor="ana"),
        lambda: incident.announce_green("green", actor="ana"),
    ]
    progress = draw(st.one_of(st.just(len(path)), st.integers(min_value=0, max_value=len(path))))
    for step in path[:progress]:
        clock.advance(minutes=draw(st.integers(min_value=0, max_value=600)))
        if draw(st.integers(min_value=0, max_value=3)) == 0:
            others = [p for p in Priority if p is not incident.priority]
            incident.change_priority(draw(st.sampled_from(others)), reason="impact", actor="ana")
        step()
    green = incident.when_entered(State.GREEN)
    if green is not None:
        for _ in range(draw(st.integers(min_value=0, max_value=2))):
            clock.advance(minutes=draw(st.integers(min_value=0, max_value=3 * 24 * 60)))
            incident.schedule_post_mortem(green + around_days(draw), ["ana"], actor="ana")
        if draw(st.booleans()):
            for number, answer in enumerate(WHYS, start=1):
                incident.add_why(answer, root_cause=number == len(WHYS), actor="ana")
            incident.start_report(actor="ana")
            incident.mark_reported("reported", actor="ana")
            with contextlib.suppress(CommandRefused):  # refused while nothing is scheduled
                incident.begin_post_mortem("post-mortem", actor="ana")
    return incident, max(later(incident, 0), (green or START) + around_days(draw))


@settings(max_examples=100)
@given(post_mortem_incidents())
def test_post_mortem_deadlines_agree_with_due(drawn: tuple[Incident, datetime]) -> None:
    """Judged against due(): met iff the meeting duty is never overdue before the meeting.

    The oracle asks the incident's due() (its final record: from green on, neither the
    priority nor the green entry can change).  Events, deadlines and meetings fall on whole
    minutes and a duty's overdue flag only turns on, so the moments asked (every six hours
    from green, and every half minute of the last half hour before the meeting) include the
    decisive one, half a minute before the meeting.  With nothing scheduled, the post-mortem
    is judged (late) exactly when due() shows the post_mortem duty overdue at now.
    """
    incident, now = drawn
    found = judged([incident], now)
    green = incident.when_entered(State.GREEN)
    meeting = incident.post_mortem
    if green is None:
        assert NOT_JUDGED == found
        assert None is post_mortem_deadline(incident)
        assert None is post_mortem_duty(incident, now)
        return
    deadline = post_mortem_deadline(incident)
    if meeting is None:
        duty = post_mortem_duty(incident, now)  # green or reported: the duty is owed
        assert duty is not None
        assert ("post_mortem", deadline) == (duty.kind, duty.due_at)
        assert (LATE if duty.overdue else NOT_JUDGED) == found
        return
    held = meeting.scheduled_for
    half = timedelta(seconds=30)
    moments = sorted(
        {
            *(held - half * n for n in range(1, 61)),
            *itertools.takewhile(
                lambda t: t < held, (green + timedelta(hours=6) * n for n in itertools.count())
            ),
        }
    )
    duties = [post_mortem_duty(incident, t) for t in moments]
    assert all(
        d is not None and ("post_mortem_meeting", deadline) == (d.kind, d.due_at) for d in duties
    )
    never_overdue = not any(d is not None and d.overdue for d in duties)
    assert (MET if never_overdue else LATE) == found


@given(any_incident, st.integers(min_value=0, max_value=24 * 60))
def test_post_mortem_deadline_is_the_duty_due_time(incident: Incident, extra: int) -> None:
    """Whenever due() owes a post-mortem, its due time is post_mortem_deadline()."""
    now = later(incident, extra)
    duty = post_mortem_duty(incident, now)
    if duty is not None:
        assert post_mortem_deadline(incident) == duty.due_at
    if incident.when_entered(State.GREEN) is None:
        assert NOT_JUDGED == judged([incident], now)
