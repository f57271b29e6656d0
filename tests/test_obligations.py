"""Obligations: what is owed on an incident at a given time, by whom, and by when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from incidentflow import (
    DEFAULT_POLICY,
    ActionKind,
    ChangeOutcome,
    Incident,
    InvalidInput,
    LinkKind,
    ManualClock,
    Obligation,
    Policy,
    Priority,
    Role,
    State,
)
from incidentflow.obligations import post_mortem_deadline

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


def at(hour: int, minute: int = 0, *, day: int = 1) -> datetime:
    """A UTC time on March 2026."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def kinds(obligations: tuple[Obligation, ...]) -> list[str]:
    """The kinds of some obligations, in order."""
    return [o.kind for o in obligations]


def only(incident: Incident, kind: str, now: datetime) -> Obligation:
    """The one obligation of ``kind`` at ``now``."""
    [found] = [o for o in incident.due(now) if o.kind == kind]
    return found


def declared_p1(clock: ManualClock, *, policy: Policy = DEFAULT_POLICY) -> Incident:
    """A P1 declared and staffed at 14:00: ana Lead, bo IC, cy Communicator, di Recorder."""
    incident = Incident.declare(
        "INC-1", "Database is down", Priority.P1, actor="ana", clock=clock, policy=policy
    )
    for role, holder in (
        (Role.LEAD, "ana"),
        (Role.INCIDENT_COMMANDER, "bo"),
        (Role.COMMUNICATOR, "cy"),
        (Role.RECORDER, "di"),
    ):
        incident.assign(role, holder, actor="ana")
    return incident


def mitigating_p1(clock: ManualClock, *, policy: Policy = DEFAULT_POLICY) -> Incident:
    """The P1 above, validated and linked, mitigating from 14:05."""
    incident = declared_p1(clock, policy=policy)
    incident.validate("seen", actor="bo")
    for kind in (LinkKind.TICKET, LinkKind.WAR_ROOM, LinkKind.ANNOUNCEMENT):
        incident.link(kind, "https://x", actor="cy")
    clock.advance(minutes=5)
    incident.mitigate("mitigating", actor="ana")
    return incident


def green_p1(clock: ManualClock, *, policy: Policy = DEFAULT_POLICY) -> Incident:
    """The P1 above, yellow at 14:20 and green at 15:00."""
    incident = mitigating_p1(clock, policy=policy)
    clock.advance(minutes=15)
    incident.verify_recovery("fine", actor="bo")
    incident.announce_yellow("yellow", actor="ana")
    clock.advance(minutes=30)
    incident.verify_customer("Acme", "works", actor="cy")
    clock.advance(minutes=10)
    incident.announce_green("green", actor="ana")
    return incident


# -- stakeholder updates ---------------------------------------------------------------------


def test_first_update_is_due_one_cadence_after_declaring(clock: ManualClock) -> None:
    """A P1 declared at 14:00 owes its first update at 14:30, to the Communicator and ICs."""
    incident = declared_p1(clock)
    update = only(incident, "stakeholder_update", at(14, 10))
    assert (
        Obligation(
            kind="stakeholder_update",
            incident_id="INC-1",
            description="update stakeholders every 30 minutes, even with no progress",
            command="post_update",
            roles=frozenset({Role.COMMUNICATOR, Role.INCIDENT_COMMANDER}),
            owners=("cy", "bo"),
            due_at=at(14, 30),
            overdue=False,
        )
        == update
    )


@pytest.mark.parametrize(
    ("priority", "minutes"),
    [(Priority.P0, 15), (Priority.P1, 30), (Priority.P2, 45), (Priority.P3, 45)],
)
def test_update_cadence_follows_the_priority(
    clock: ManualClock, priority: Priority, minutes: int
) -> None:
    """Each priority's first update is due declared_at plus its cadence."""
    incident = Incident.declare("INC-1", "t", priority, actor="ana", clock=clock)
    assert START + timedelta(minutes=minutes) == only(incident, "stakeholder_update", START).due_at


def test_next_update_counts_from_the_last_one(clock: ManualClock) -> None:
    """After an update at 14:10 the next is due at 14:40."""
    incident = declared_p1(clock)
    clock.advance(minutes=10)
    incident.post_update("investigating", actor="cy")
    assert at(14, 40) == only(incident, "stakeholder_update", at(14, 10)).due_at


def test_no_progress_updates_count(clock: ManualClock) -> None:
    """An update reporting no progress is still an update: it resets the cadence."""
    incident = declared_p1(clock)
    clock.advance(minutes=25)
    event = incident.post_update("no news yet", actor="cy", no_progress=True)
    assert event.no_progress
    assert at(14, 55) == only(incident, "stakeholder_update", at(14, 25)).due_at


def test_back_dated_update_counts_from_when_it_was_posted(clock: ManualClock) -> None:
    """An update recorded at 14:20 but posted at 14:12 makes the next due at 14:42."""
    incident = declared_p1(clock)
    clock.advance(minutes=20)
    incident.post_update("posted earlier", actor="cy", at=at(14, 12))
    assert at(14, 42) == only(incident, "stakeholder_update", at(14, 20)).due_at


def test_update_is_overdue_only_once_past_due(clock: ManualClock) -> None:
    """At 14:30 the 14:30 update is due but not overdue; a second later it is."""
    incident = declared_p1(clock)
    assert not only(incident, "stakeholder_update", at(14, 30)).overdue
    assert only(incident, "stakeholder_update", at(14, 30) + timedelta(seconds=1)).overdue


def test_overdue_is_judged_across_time_zones(clock: ManualClock) -> None:
    """15:31 at UTC+1 is 14:31 UTC: past the 14:30 UTC due time."""
    incident = declared_p1(clock)
    plus_one = timezone(timedelta(hours=1))
    assert only(
        incident, "stakeholder_update", datetime(2026, 3, 1, 15, 31, tzinfo=plus_one)
    ).overdue


def test_owners_are_the_current_holders(clock: ManualClock) -> None:
    """After the Communicator hands off, the new holder owes the update."""
    incident = Incident.declare("INC-1", "t", Priority.P1, actor="ana", clock=clock)
    assert only(incident, "stakeholder_update", START).owners == ()
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    incident.assign(Role.COMMUNICATOR, "cy", actor="bo")
    incident.assign(Role.INCIDENT_COMMANDER, "eli", actor="bo")
    assert only(incident, "stakeholder_update", START).owners == ("cy", "bo", "eli")
    incident.hand_off(Role.COMMUNICATOR, "cy", "gus", actor="cy")
    assert only(incident, "stakeholder_update", START).owners == ("gus", "bo", "eli")


def test_no_update_is_owed_once_green(clock: ManualClock) -> None:
    """Green, reported and post-mortem incidents owe no stakeholder updates."""
    incident = green_p1(clock)
    assert "stakeholder_update" not in kinds(incident.due(at(23)))


def test_no_update_is_owed_once_dismissed(clock: ManualClock) -> None:
    """A dismissed false alarm owes nothing."""
    incident = declared_p1(clock)
    incident.dismiss("false alarm", actor="ana")
    assert incident.due(at(23)) == ()


def test_raised_priority_brings_its_cadence(clock: ManualClock) -> None:
    """A P3 raised to P0 owes its next update 15 minutes after the last."""
    incident = Incident.declare("INC-1", "t", Priority.P3, actor="ana", clock=clock)
    clock.advance(minutes=5)
    incident.post_update("looking", actor="ana")
    incident.change_priority(Priority.P0, reason="all customers", actor="ana")
    assert at(14, 20) == only(incident, "stakeholder_update", at(14, 5)).due_at


# -- verification, debt and changes ---------------------------------------------------------


def test_recovery_verification_is_owed_while_mitigating(clock: ManualClock) -> None:
    """Mitigating without verified recovery owes it to the ICs and the Lead, with no deadline."""
    incident = mitigating_p1(clock)
    recovery = only(incident, "recovery_verification", at(14, 10))
    assert (
        recovery.command,
        recovery.owners,
        recovery.due_at,
        recovery.overdue,
    ) == ("verify_recovery", ("bo", "ana"), None, False)
    incident.verify_recovery("fine", actor="bo")
    assert "recovery_verification" not in kinds(incident.due(at(14, 10)))


def test_customer_verification_is_owed_in_yellow_where_required(clock: ManualClock) -> None:
    """A yellow P1 owes the customer's verification; after it, nothing of that kind."""
    incident = mitigating_p1(clock)
    assert "customer_verification" not in kinds(incident.due(at(14, 10)))
    incident.verify_recovery("fine", actor="bo")
    incident.announce_yellow("yellow", actor="ana")
    verification = only(incident, "customer_verification", at(14, 10))
    assert (verification.command, verification.owners) == ("verify_customer", ("cy", "bo", "ana"))
    incident.verify_customer("Acme", "works", actor="cy")
    assert "customer_verification" not in kinds(incident.due(at(14, 10)))


def test_no_customer_verification_is_owed_for_a_p3(clock: ManualClock) -> None:
    """A yellow P3 does not wait for the customer, so owes no verification."""
    incident = Incident.declare("INC-3", "t", Priority.P3, actor="ana", clock=clock)
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    incident.validate("seen", actor="bo")
    incident.link(LinkKind.TICKET, "https://x", actor="bo")
    incident.mitigate("go", actor="bo")
    incident.verify_recovery("fine", actor="bo")
    incident.announce_yellow("yellow", actor="bo")
    assert kinds(incident.due(at(14, 10))) == ["stakeholder_update"]


def test_open_tech_debt_and_unreconciled_changes_are_owed(clock: ManualClock) -> None:
    """Each open debt and unreconciled change is owed until closed or reconciled."""
    incident = mitigating_p1(clock)
    incident.open_debt("hand-issued token", actor="bo")
    incident.log_change(what="restarted db-1", where="db-1", revert="n/a", actor="bo")
    debt = only(incident, "tech_debt", at(14, 10))
    change = only(incident, "manual_change", at(14, 10))
    assert (
        debt.command,
        debt.description,
        debt.owners,
    ) == ("close_debt", "clean up tech debt D1: hand-issued token", ("bo", "ana", "di"))
    assert (
        change.command,
        change.description,
    ) == ("reconcile_change", "revert or make permanent change C1: restarted db-1")
    incident.close_debt("D1", actor="di")
    incident.reconcile_change("C1", ChangeOutcome.PERMANENT, actor="di")
    assert {"tech_debt", "manual_change"}.isdisjoint(kinds(incident.due(at(14, 10))))


# -- report, post-mortem and actions ---------------------------------------------------------


def test_green_owes_the_report_and_the_post_mortem(clock: ManualClock) -> None:
    """Green at 15:00 owes the report (no deadline) and a P1 post-mortem by 15:00 three days on."""
    incident = green_p1(clock)
    assert at(15) == incident.when_entered(State.GREEN)
    owed = incident.due(at(16))
    assert kinds(owed) == ["post_mortem", "report"]
    post_mortem, report = owed
    assert ("schedule_post_mortem", ("cy", "ana"), at(15, day=4), False) == (
        post_mortem.command,
        post_mortem.owners,
        post_mortem.due_at,
        post_mortem.overdue,
    )
    assert (report.command, report.owners, report.due_at) == ("start_report", ("ana", "di"), None)


def test_post_mortem_becomes_overdue_and_is_discharged_by_scheduling(clock: ManualClock) -> None:
    """Reported but unscheduled past the deadline is overdue; scheduling makes it a meeting."""
    incident = green_p1(clock)
    incident.start_report(actor="di")
    for n in range(5):
        incident.add_why(f"why {n}", root_cause=n == 4, actor="di")
    incident.mark_reported("reported", actor="ana")
    late = at(15, 1, day=4)
    assert [(o.kind, o.overdue) for o in incident.due(late)] == [("post_mortem", True)]
    incident.schedule_post_mortem(at(10, day=9), ["ana", "bo", "cy", "di"], actor="cy")
    (meeting,) = incident.due(late)
    assert ("post_mortem_meeting", True, at(15, day=4)) == (
        meeting.kind,
        meeting.overdue,
        meeting.due_at,
    )
    assert meeting.description.endswith("after the deadline")
    assert incident.due(at(10, 1, day=9)) == ()


def test_a_meeting_in_time_is_owed_until_it_is_held(clock: ManualClock) -> None:
    """A post-mortem booked before the deadline is owed, not overdue, until its hour comes."""
    incident = green_p1(clock)
    incident.start_report(actor="di")
    for n in range(5):
        incident.add_why(f"why {n}", root_cause=n == 4, actor="di")
    incident.mark_reported("reported", actor="ana")
    incident.schedule_post_mortem(at(10, day=3), ["ana", "bo", "cy", "di"], actor="cy")
    incident.begin_post_mortem("meeting booked", actor="ana")
    (meeting,) = incident.due(at(9, day=3))
    assert ("post_mortem_meeting", False) == (meeting.kind, meeting.overdue)
    assert "after the deadline" not in meeting.description
    assert incident.due(at(10, day=3)) == ()


def test_post_mortem_deadline_follows_the_policy(clock: ManualClock) -> None:
    """With P1's post_mortem_within 2d, green at 15:00 on the 1st owes it by 15:00 on the 3rd."""
    policy = Policy.from_toml('[priorities.P1]\npost_mortem_within = "2d"')
    incident = green_p1(clock, policy=policy)
    assert at(15, day=3) == only(incident, "post_mortem", at(16)).due_at


def test_post_mortem_deadline_is_none_until_green_then_counts_from_green() -> None:
    """No deadline before green; green at 15:00 on the 1st under a 2d P1 gives 15:00 on the 3rd."""
    policy = Policy.from_toml('[priorities.P1]\npost_mortem_within = "2d"')
    assert None is post_mortem_deadline(mitigating_p1(ManualClock(START), policy=policy))
    assert at(15, day=3) == post_mortem_deadline(green_p1(ManualClock(START), policy=policy))


def test_action_items_are_owed_by_their_owner(clock: ManualClock) -> None:
    """An open action item is owed by its owner by its due time, until closed."""
    incident = green_p1(clock)
    due = at(9, day=8)
    incident.add_action(
        "alert on refresh failures",
        owner="eli",
        due_at=due,
        kind=ActionKind.PREVENTIVE,
        actor="ana",
    )
    action = only(incident, "action_item", at(16))
    assert (
        Obligation(
            kind="action_item",
            incident_id="INC-1",
            description="preventive action A1: alert on refresh failures",
            command="close_action",
            roles=frozenset({Role.INCIDENT_COMMANDER, Role.LEAD, Role.RECORDER}),
            owners=("eli",),
            due_at=due,
            overdue=False,
        )
        == action
    )
    assert only(incident, "action_item", due + timedelta(minutes=1)).overdue
    incident.close_action("A1", actor="ana")
    assert "action_item" not in kinds(incident.due(at(16)))


def test_obligations_are_sorted_overdue_first_then_by_due_time(clock: ManualClock) -> None:
    """Overdue duties come first, then the rest by due time, undated ones last by kind."""
    incident = mitigating_p1(clock)
    incident.open_debt("temporary fix", actor="bo")
    incident.log_change(what="w", where="x", revert="r", actor="bo")
    incident.add_action(
        "later", owner="fay", due_at=at(16), kind=ActionKind.CORRECTIVE, actor="ana"
    )
    incident.add_action(
        "sooner", owner="eli", due_at=at(14, 45), kind=ActionKind.CORRECTIVE, actor="ana"
    )
    owed = incident.due(at(15))
    assert [
        ("stakeholder_update", at(14, 30), True),
        ("action_item", at(14, 45), True),
        ("action_item", at(16), False),
        ("manual_change", None, False),
        ("recovery_verification", None, False),
        ("tech_debt", None, False),
    ] == [(o.kind, o.due_at, o.overdue) for o in owed]
    assert owed[1].owners == ("eli",)


def test_due_defaults_to_the_clock_and_refuses_naive_times(clock: ManualClock) -> None:
    """due() reads the incident's clock; a naive ``now`` is InvalidInput."""
    incident = declared_p1(clock)
    clock.advance(minutes=31)
    assert only(incident, "stakeholder_update", clock.now()).overdue
    assert incident.due() == incident.due(clock.now())
    with pytest.raises(InvalidInput):
        incident.due(datetime(2026, 3, 1, 15, 0))


# -- boundaries pinned one by one ------------------------------------------------------------


def test_open_tech_debt_is_still_owed_while_yellow(clock: ManualClock) -> None:
    """Tech debt is owed in yellow too: green waits for it (step 13)."""
    incident = mitigating_p1(clock)
    incident.open_debt("hand-issued token", actor="bo")
    incident.verify_recovery("fine", actor="bo")
    incident.announce_yellow("yellow", actor="ana")
    debt = only(incident, "tech_debt", at(14, 10))
    assert ("close_debt", "clean up tech debt D1: hand-issued token") == (
        debt.command,
        debt.description,
    )


def test_the_post_mortem_text_names_its_deadline(clock: ManualClock) -> None:
    """Green at 15:00 on the 1st under P1 owes the post-mortem "by 2026-03-04 15:00 UTC"."""
    incident = green_p1(clock)
    owed = only(incident, "post_mortem", at(16))
    assert "schedule the post-mortem (step 15) and hold it by 2026-03-04 15:00 UTC" == (
        owed.description
    )


def test_a_meeting_scheduled_while_green_is_owed_until_held(clock: ManualClock) -> None:
    """A meeting booked before the report (still green) is owed until its hour, not forgotten."""
    incident = green_p1(clock)
    incident.schedule_post_mortem(at(10, day=3), ["ana", "bo", "cy", "di"], actor="cy")
    assert State.GREEN == incident.state
    meeting = only(incident, "post_mortem_meeting", at(16))
    assert (
        "hold the post-mortem meeting by 2026-03-04 15:00 UTC: scheduled for 2026-03-03 10:00 UTC",
        at(15, day=4),
        False,
    ) == (meeting.description, meeting.due_at, meeting.overdue)


def test_a_meeting_at_exactly_the_deadline_is_in_time(clock: ManualClock) -> None:
    """The deadline is the latest time to hold it: a meeting booked for that minute is not late."""
    incident = green_p1(clock)
    incident.schedule_post_mortem(at(15, day=4), ["ana", "bo", "cy", "di"], actor="cy")
    meeting = only(incident, "post_mortem_meeting", at(16))
    assert meeting.description.endswith("scheduled for 2026-03-04 15:00 UTC")
    incident.schedule_post_mortem(at(15, 1, day=4), ["ana", "bo", "cy", "di"], actor="cy")
    late = only(incident, "post_mortem_meeting", at(16))
    assert late.description.endswith("scheduled for 2026-03-04 15:01 UTC, after the deadline")


def test_an_update_exactly_at_its_due_time_is_not_overdue(clock: ManualClock) -> None:
    """Overdue means past due: at the due minute itself the update is owed, not overdue."""
    incident = declared_p1(clock)
    update = only(incident, "stakeholder_update", at(14, 30))
    assert (at(14, 30), False) == (update.due_at, update.overdue)


def test_obligation_takes_keywords_only_and_defaults_to_no_deadline() -> None:
    """Obligation refuses positional arguments; left out, due_at is None and overdue False."""
    with pytest.raises(TypeError):
        Obligation("report", "INC-1", "d", "start_report", frozenset(), ())  # type: ignore[call-arg]
    duty = Obligation(
        kind="report",
        incident_id="INC-1",
        description="d",
        command="start_report",
        roles=frozenset(),
        owners=(),
    )
    assert (None, False) == (duty.due_at, duty.overdue)


def _relaxed(**rules: Any) -> Policy:
    """The default policy with ``rules`` changed for every priority."""
    return attrs.evolve(
        DEFAULT_POLICY,
        name="relaxed",
        priorities={p: attrs.evolve(r, **rules) for p, r in DEFAULT_POLICY.priorities.items()},
    )


def test_no_update_is_owed_where_the_cadence_is_not_enforced(clock: ManualClock) -> None:
    """Without enforce_cadence, nothing owes an update, however long since the last one."""
    incident = mitigating_p1(clock, policy=_relaxed(enforce_cadence=False))
    assert "stakeholder_update" not in kinds(incident.due(at(18)))
    assert "recovery_verification" in kinds(incident.due(at(18)))


def test_an_action_without_an_owner_is_owed_by_whoever_may_close_it(clock: ManualClock) -> None:
    """No owner recorded: the holders of the roles allowed to close it owe it, without due time."""
    incident = green_p1(clock, policy=_relaxed(action_owner_and_due=False))
    incident.add_action("alert on refresh failures", kind=ActionKind.PREVENTIVE, actor="ana")
    action = only(incident, "action_item", at(16))
    assert (("bo", "ana", "di"), None, False) == (action.owners, action.due_at, action.overdue)
