"""The incident: its commands, its lifecycle, its refusals, and its replay."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings

from incidentflow import (
    ActionKind,
    ChangeOutcome,
    CommandRefused,
    Declared,
    Event,
    ImpactLevel,
    Incident,
    IncidentFlowError,
    InvalidInput,
    LinkKind,
    ManualClock,
    NotAuthorized,
    NoteAdded,
    Priority,
    ReplayError,
    Role,
    RoleAssigned,
    RuleViolated,
    State,
    StateChanged,
    Subscribers,
    SystemClock,
    TransitionBlocked,
    Verdict,
    WhyAnswered,
)
from incidentflow.policy import GUARDS
from incidentflow.testing import events, incidents
from refusals import refused

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)

RUNBOOK_WHYS = (
    "The service is down.",
    "The database connection failed.",
    "The authentication token has expired.",
    "The token was not refreshed.",
    "The scheduled job for token refreshment failed.",
)


# -- helpers ---------------------------------------------------------------------------------


def rules(unmet: tuple[Any, ...]) -> tuple[str, ...]:
    """The rule names of a tuple of Unmet."""
    return tuple(u.rule for u in unmet)


def invalid(incident: Incident, command: Callable[[], object]) -> InvalidInput:
    """Run a command with malformed input; check that it left no trace; return the error."""
    before = Incident.replay(list(incident.history), policy=incident.policy)
    version = incident.version
    with pytest.raises(InvalidInput) as info:
        command()
    assert before == incident
    assert version == incident.version
    return info.value


def staff_p1(incident: Incident, clock: ManualClock) -> None:
    """Give a declared P1 all four roles: ana Lead, bo IC, cy Communicator, di Recorder."""
    for role, holder in (
        (Role.LEAD, "ana"),
        (Role.INCIDENT_COMMANDER, "bo"),
        (Role.COMMUNICATOR, "cy"),
        (Role.RECORDER, "di"),
    ):
        clock.advance(minutes=1)
        incident.assign(role, holder, actor="ana")


def mitigating_p1(clock: ManualClock) -> Incident:
    """A P1, staffed, validated, linked, and mitigating."""
    incident = Incident.declare("INC-1", "Database is down", Priority.P1, actor="ana", clock=clock)
    staff_p1(incident, clock)
    incident.validate("primary refuses connections", actor="bo")
    for kind in (LinkKind.TICKET, LinkKind.WAR_ROOM, LinkKind.ANNOUNCEMENT):
        incident.link(kind, f"https://example.com/{kind.value}", actor="cy")
    clock.advance(minutes=1)
    incident.mitigate("mitigating", actor="ana")
    return incident


def yellow_p1(clock: ManualClock) -> Incident:
    """A P1 announced yellow."""
    incident = mitigating_p1(clock)
    clock.advance(minutes=5)
    incident.verify_recovery("error rate at baseline", actor="bo")
    incident.announce_yellow("resolved (yellow)", actor="ana")
    return incident


def mitigating_p3(clock: ManualClock, *, priority: Priority = Priority.P3) -> Incident:
    """A P2/P3 with only an IC (bo) and a ticket, mitigating; two notes at 14:03 and 14:04."""
    incident = Incident.declare("INC-3", "Slow reports", priority, actor="ana", clock=clock)
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    clock.advance(minutes=1)
    incident.validate("report page takes 20s", actor="bo")
    clock.advance(minutes=1)
    incident.link(LinkKind.TICKET, "https://example.com/IM-3", actor="bo")
    clock.advance(minutes=1)
    incident.note("first note", actor="bo")
    clock.advance(minutes=1)
    incident.note("second note", actor="bo")
    clock.advance(minutes=1)
    incident.mitigate("mitigating", actor="bo")
    return incident


# -- the Five Whys ---------------------------------------------------------------------------


def test_runbook_five_whys_reach_a_root_cause(clock: ManualClock) -> None:
    """The runbook's five answers, the fifth marked root cause, meet root_cause_found."""
    incident = mitigating_p1(clock)
    for n, answer in enumerate(RUNBOOK_WHYS, start=1):
        incident.add_why(answer, root_cause=n == 5, actor="di")
    chain = incident.why_chains["main"]
    assert chain.answers == RUNBOOK_WHYS
    assert chain.depth == 5
    assert chain.root_cause
    assert GUARDS["root_cause_found"].test(incident, incident.policy)
    refusal = refused(incident, lambda: incident.add_why("a sixth why", actor="di"))
    assert refusal.rules == ("chain_open",)


def _legacy_why(
    clock: ManualClock, answer: str, *, chain: str = "main", root_cause: bool = False
) -> WhyAnswered:
    """An answer as written before answers recorded their depth (which any depth accepted)."""
    now = clock.now()
    return WhyAnswered(
        actor="di", occurred_at=now, recorded_at=now, chain=chain, answer=answer,
        root_cause=root_cause,
    )  # fmt: skip


def test_four_whys_are_not_a_root_cause_at_the_default_depth(clock: ManualClock) -> None:
    """A chain marked root cause at depth 4 (as histories written before answers recorded their
    depth could) does not meet root_cause_found (depth 5)."""
    incident = mitigating_p1(clock)
    for n, answer in enumerate(RUNBOOK_WHYS[:4], start=1):
        incident.record(_legacy_why(clock, answer, root_cause=n == 4))
    assert incident.why_chains["main"].depth == 4
    assert not GUARDS["root_cause_found"].test(incident, incident.policy)
    assert (
        GUARDS["root_cause_found"].explain(incident, incident.policy)
        == "no Five Whys chain reached a root cause at depth 5"
    )


def test_whys_in_separate_chains_do_not_add_up(clock: ManualClock) -> None:
    """Two chains of depth 3 are not one root cause; each chain is counted on its own."""
    incident = mitigating_p1(clock)
    for chain in ("a", "b"):
        for n in range(1, 4):
            incident.record(_legacy_why(clock, f"{chain} why {n}", chain=chain, root_cause=n == 3))
    assert {k: c.depth for k, c in incident.why_chains.items()} == {"a": 3, "b": 3}
    assert not GUARDS["root_cause_found"].test(incident, incident.policy)


# -- the whole lifecycle ---------------------------------------------------------------------


def test_p1_walks_through_all_six_states(clock: ManualClock) -> None:
    """Each move is blocked by exactly its missing guards until they are met, then goes."""
    incident = Incident.declare("INC-1", "Database is down", Priority.P1, actor="ana", clock=clock)
    visited = [incident.state]

    def moved(target: State, move: Callable[..., StateChanged], message: str) -> None:
        assert incident.unmet(target) == ()
        assert incident.unmet(target, actor="ana") == ()
        assert incident.unmet(target, actor="eli")[0].rule == "authorized"
        clock.advance(minutes=1)
        event = move(message, actor="ana")
        assert (incident.state, target) == (target, event.target)
        visited.append(incident.state)

    # declared → mitigating
    target = State.MITIGATING
    assert rules(incident.unmet(target)) == ("validated", "required_links", "required_roles")
    assert incident.unmet(target)[2].detail == "no communicator, incident_commander, lead, recorder"
    staff_p1(incident, clock)
    assert rules(incident.unmet(target)) == ("validated", "required_links")
    incident.validate("primary refuses connections", actor="bo")
    assert rules(incident.unmet(target)) == ("required_links",)
    assert incident.unmet(target)[0].detail == "missing announcement, ticket, war_room"
    incident.link(LinkKind.TICKET, "https://example.com/IM-1", actor="cy")
    incident.link(LinkKind.WAR_ROOM, "https://example.com/war-room", actor="cy")
    assert incident.unmet(target)[0].detail == "missing announcement"
    incident.link(LinkKind.ANNOUNCEMENT, "https://example.com/tech-outage", actor="cy")
    moved(target, incident.mitigate, "mitigating")

    # mitigating → yellow
    target = State.YELLOW
    assert rules(incident.unmet(target)) == ("recovery_verified",)
    incident.start_experiment(
        hypothesis="token expired",
        action="inspect auth errors",
        expected="expiry errors",
        component="auth",
        owner="bo",
        actor="bo",
    )
    change = incident.log_change(what="issued a token", where="auth", revert="revoke", actor="bo")
    debt = incident.open_debt("hand-issued token", actor="bo")
    assert rules(incident.unmet(target)) == ("recovery_verified", "experiments_concluded")
    assert incident.unmet(target)[1].detail == "still running: E1"
    incident.conclude_experiment(
        "E1", observed="expiry errors", verdict=Verdict.CONFIRMED, actor="bo"
    )
    assert rules(incident.unmet(target)) == ("recovery_verified",)
    incident.verify_recovery("error rate at baseline", actor="bo")
    moved(target, incident.announce_yellow, "resolved (yellow)")

    # yellow → green
    target = State.GREEN
    assert rules(incident.unmet(target)) == (
        "customer_verified",
        "tech_debt_closed",
        "changes_reconciled",
    )
    incident.verify_customer("Acme", "deploys work", actor="cy")
    assert rules(incident.unmet(target)) == ("tech_debt_closed", "changes_reconciled")
    incident.close_debt(debt.debt_id, actor="bo")
    assert rules(incident.unmet(target)) == ("changes_reconciled",)
    assert incident.unmet(target)[0].detail == "not reconciled: C1"
    incident.reconcile_change(change.change_id, ChangeOutcome.REVERTED, actor="bo")
    moved(target, incident.announce_green, "resolved (green)")

    # green → reported
    target = State.REPORTED
    assert rules(incident.unmet(target)) == ("root_cause_found", "report_started")
    for n, answer in enumerate(RUNBOOK_WHYS, start=1):
        incident.add_why(answer, root_cause=n == 5, actor="di")
    assert rules(incident.unmet(target)) == ("report_started",)
    incident.start_report(actor="di", location="https://docs.example.com/rca")
    moved(target, incident.mark_reported, "report started")

    # reported → post_mortem
    target = State.POST_MORTEM
    assert rules(incident.unmet(target)) == ("post_mortem_scheduled", "roles_invited")
    meeting = clock.now() + timedelta(days=2)
    incident.schedule_post_mortem(meeting, ["ana", "bo"], actor="cy")
    assert rules(incident.unmet(target)) == ("roles_invited",)
    assert incident.unmet(target)[0].detail == "not invited: cy, di"
    incident.schedule_post_mortem(meeting, ["ana", "bo", "cy", "di", "vp"], actor="cy")
    moved(target, incident.begin_post_mortem, "post-mortem scheduled")

    expected = [
        State.DECLARED,
        State.MITIGATING,
        State.YELLOW,
        State.GREEN,
        State.REPORTED,
        State.POST_MORTEM,
    ]
    assert expected == visited
    assert expected[1:] == [e.target for e in incident.history if isinstance(e, StateChanged)]
    assert incident.next_states() == ()
    assert incident == Incident.replay(list(incident.history))


def test_p3_takes_the_lighter_path(clock: ManualClock) -> None:
    """A P3 needs only a ticket and an IC to mitigate, and no customer verification for green."""
    incident = Incident.declare("INC-3", "Slow reports", Priority.P3, actor="ana", clock=clock)
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    incident.validate("report page takes 20s", actor="bo")
    incident.link(LinkKind.TICKET, "https://example.com/IM-3", actor="bo")
    assert incident.unmet(State.MITIGATING) == ()
    incident.mitigate("mitigating", actor="bo")
    incident.verify_recovery("page loads in 1s", actor="bo")
    incident.announce_yellow("resolved (yellow)", actor="bo")
    assert incident.unmet(State.GREEN) == ()
    incident.announce_green("resolved (green)", actor="bo")
    assert incident.state == State.GREEN
    assert None is incident.customer_verification


def test_p2_green_waits_for_the_customer(clock: ManualClock) -> None:
    """Unlike a P3, a P2 needs the customer's verification before green."""
    incident = mitigating_p3(clock, priority=Priority.P2)
    incident.verify_recovery("page loads in 1s", actor="bo")
    incident.announce_yellow("resolved (yellow)", actor="bo")
    assert rules(incident.unmet(State.GREEN)) == ("customer_verified",)
    refusal = refused(incident, lambda: incident.announce_green("green", actor="bo"))
    assert isinstance(refusal, TransitionBlocked)
    assert refusal.target == "green"


def test_dismissed_false_alarm_is_terminal(clock: ManualClock) -> None:
    """A false alarm dismissed from declared can move nowhere again (lifecycle_edge)."""
    incident = Incident.declare("INC-9", "Alert storm", Priority.P2, actor="ana", clock=clock)
    incident.dismiss("false alarm: a monitoring glitch", actor="ana")
    assert incident.state == State.DISMISSED
    assert incident.state.terminal
    assert incident.next_states() == ()
    for target in State:
        refusal = refused(
            incident, functools.partial(incident.move, target, message="again", actor="ana")
        )
        assert isinstance(refusal, TransitionBlocked)
        assert refusal.rules == ("lifecycle_edge",)
    refusal = refused(incident, lambda: incident.assign(Role.LEAD, "ana", actor="ana"))
    assert refusal.rules == ("state_allows_command",)


def test_dismiss_is_only_from_declared(clock: ManualClock) -> None:
    """Once mitigation began, an incident cannot be dismissed."""
    incident = mitigating_p1(clock)
    refusal = refused(incident, lambda: incident.dismiss("never mind", actor="ana"))
    assert refusal.rules == ("lifecycle_edge",)
    assert refusal.unmet[0].detail == "dismiss leads from declared, not from mitigating"


def test_only_reopening_clears_recovery(clock: ManualClock) -> None:
    """Recovery verified while mitigating stays in yellow and green; only a reopen clears it."""
    incident = yellow_p1(clock)
    verified = incident.recovery
    assert verified is not None
    incident.verify_customer("acme", "works", actor="cy")
    incident.announce_green("green", actor="ana")
    assert (State.GREEN, verified) == (incident.state, incident.recovery)
    assert verified == Incident.replay(list(incident.history)).recovery


def test_notes_updates_and_factors_are_kept_in_order(clock: ManualClock) -> None:
    """Each note, stakeholder update and contributing factor is kept, in the order recorded."""
    incident = mitigating_p1(clock)
    notes = [incident.note(text, actor="di") for text in ("restarted db-1", "errors down")]
    updates = [incident.post_update(text, actor="cy") for text in ("mitigating", "still")]
    factors = [incident.add_factor(text, actor="di") for text in ("no alert", "expired token")]
    assert (tuple(notes), tuple(updates), tuple(factors)) == (
        incident.notes,
        incident.updates,
        incident.factors,
    )


def test_reopen_clears_recovery(clock: ManualClock) -> None:
    """Reopening yellow → mitigating clears recovery; yellow needs a new verify_recovery."""
    incident = yellow_p1(clock)
    clock.advance(minutes=10)
    incident.reopen("errors are back", actor="ana")
    # Read into names: mypy would keep incident.state and .recovery narrowed past the commands.
    state, recovery = incident.state, incident.recovery
    assert state == State.MITIGATING
    assert None is recovery
    assert rules(incident.unmet(State.YELLOW)) == ("recovery_verified",)
    refused(incident, lambda: incident.announce_yellow("yellow again", actor="ana"))
    evidence = incident.verify_recovery("error rate at baseline for 30 minutes", actor="bo")
    assert evidence == incident.recovery
    incident.announce_yellow("yellow again", actor="ana")
    assert incident.state == State.YELLOW


# -- priorities and roles --------------------------------------------------------------------


def test_raising_priority_while_mitigating_needs_every_role(clock: ManualClock) -> None:
    """P2 → P1 while mitigating is refused until all four roles are filled; then P1 applies."""
    incident = mitigating_p3(clock, priority=Priority.P2)
    declared_at = incident.declared_at
    [update] = [o for o in incident.due() if o.kind == "stakeholder_update"]
    assert declared_at + timedelta(minutes=45) == update.due_at
    refusal = refused(
        incident, lambda: incident.change_priority(Priority.P1, reason="customers", actor="bo")
    )
    assert isinstance(refusal, RuleViolated)
    assert refusal.rules == ("required_roles_filled",)
    assert (
        refusal.unmet[0].detail
    ) == "P1 needs communicator, lead, recorder filled once mitigation has begun"
    incident.assign(Role.LEAD, "ana", actor="bo")
    incident.assign(Role.COMMUNICATOR, "cy", actor="bo")
    refused(incident, lambda: incident.change_priority(Priority.P1, reason="customers", actor="bo"))
    incident.assign(Role.RECORDER, "di", actor="bo")
    incident.change_priority(Priority.P1, reason="customer-visible now", actor="bo")
    assert incident.priority == Priority.P1
    [update] = [o for o in incident.due() if o.kind == "stakeholder_update"]
    assert declared_at + timedelta(minutes=30) == update.due_at
    refusal = refused(incident, lambda: incident.release(Role.RECORDER, "di", actor="di"))
    assert refusal.rules == ("required_role_kept",)


def test_raising_priority_while_declared_needs_no_roles(clock: ManualClock) -> None:
    """Before mitigation the roles are checked by the mitigate guard, not by the change."""
    incident = Incident.declare("INC-2", "Slow", Priority.P3, actor="ana", clock=clock)
    incident.change_priority(Priority.P0, reason="all customers affected", actor="ana")
    assert incident.priority == Priority.P0
    assert "required_roles" in rules(incident.unmet(State.MITIGATING))


def test_lowering_priority_is_allowed(clock: ManualClock) -> None:
    """P1 → P3 while mitigating is accepted; only the P3 roles must stay filled from then on."""
    incident = mitigating_p1(clock)
    incident.change_priority(Priority.P3, reason="only one customer", actor="ana")
    assert incident.priority == Priority.P3
    incident.release(Role.RECORDER, "di", actor="ana")
    assert incident.holders(Role.RECORDER) == ()
    refusal = refused(
        incident, lambda: incident.change_priority(Priority.P3, reason="again", actor="ana")
    )
    assert refusal.rules == ("priority_differs",)


def test_change_priority_only_while_active(clock: ManualClock) -> None:
    """A green incident's priority is history: change_priority is refused by state."""
    incident = yellow_p1(clock)
    incident.verify_customer("Acme", "works", actor="cy")
    incident.announce_green("green", actor="ana")
    refusal = refused(
        incident, lambda: incident.change_priority(Priority.P2, reason="late", actor="ana")
    )
    assert refusal.rules == ("state_allows_command",)


def test_hand_off_leaves_no_gap_and_moves_running_experiments(clock: ManualClock) -> None:
    """An IC hand-off replaces the holder in one event and passes on running experiments."""
    incident = mitigating_p1(clock)
    seen: list[tuple[str, ...]] = []
    incident.subscribers.subscribe(lambda i, e: seen.append(i.holders(Role.INCIDENT_COMMANDER)))
    common: dict[str, Any] = {"action": "a", "expected": "e", "owner": "bo", "actor": "bo"}
    incident.start_experiment(hypothesis="disk full", component="db", **common)
    incident.conclude_experiment("E1", observed="41%", verdict=Verdict.REFUTED, actor="bo")
    incident.start_experiment(hypothesis="token expired", component="auth", **common)
    seen.clear()
    event = incident.hand_off(Role.INCIDENT_COMMANDER, "bo", "eli", actor="ana")
    assert (event.from_holder, event.to_holder) == ("bo", "eli")
    assert seen == [("eli",)]
    assert incident.holders(Role.INCIDENT_COMMANDER) == ("eli",)
    assert {k: e.owner for k, e in incident.experiments.items()} == {"E1": "bo", "E2": "eli"}
    assert frozenset() == incident.roles_of("bo")
    assert frozenset({Role.INCIDENT_COMMANDER}) == incident.roles_of("eli")


def test_hand_off_keeps_the_order_of_several_commanders(clock: ManualClock) -> None:
    """Handing off one of several ICs replaces that one in place."""
    incident = mitigating_p1(clock)
    incident.assign(Role.INCIDENT_COMMANDER, "eli", actor="ana")
    incident.hand_off(Role.INCIDENT_COMMANDER, "bo", "fay", actor="ana")
    assert incident.holders(Role.INCIDENT_COMMANDER) == ("fay", "eli")


def test_a_holder_may_hand_off_their_own_role(clock: ManualClock) -> None:
    """The Communicator, not otherwise allowed to hand off, may pass on their own role."""
    incident = mitigating_p1(clock)
    incident.hand_off(Role.COMMUNICATOR, "cy", "gus", actor="cy")
    assert incident.holders(Role.COMMUNICATOR) == ("gus",)
    refusal = refused(incident, lambda: incident.hand_off(Role.RECORDER, "di", "hal", actor="gus"))
    assert isinstance(refusal, NotAuthorized)
    assert refusal.rules == ("authorized",)


def test_hand_off_checks_the_holders(clock: ManualClock) -> None:
    """Handing off from a non-holder, or to a current holder, is refused with both rules."""
    incident = mitigating_p1(clock)
    incident.assign(Role.INCIDENT_COMMANDER, "eli", actor="ana")
    refusal = refused(
        incident, lambda: incident.hand_off(Role.INCIDENT_COMMANDER, "cy", "eli", actor="ana")
    )
    assert refusal.rules == ("holds_role", "not_already_holder")


def test_second_lead_is_refused(clock: ManualClock) -> None:
    """Lead has one holder; assigning another is single_holder, re-assigning is a no-op rule."""
    incident = mitigating_p1(clock)
    assert refused(incident, lambda: incident.assign(Role.LEAD, "zed", actor="ana")).rules == (
        "single_holder",
    )
    assert refused(incident, lambda: incident.assign(Role.LEAD, "ana", actor="ana")).rules == (
        "not_already_holder",
    )


def test_releasing_the_last_lead_of_a_p1_is_refused(clock: ManualClock) -> None:
    """A P1 keeps its Lead, mitigating or only declared: the Lead hands the role off instead."""
    incident = mitigating_p1(clock)
    refusal = refused(incident, lambda: incident.release(Role.LEAD, "ana", actor="ana"))
    assert refusal.rules == ("required_role_kept",)
    assert "ana is the last lead, whom P1 requires; hand the role off instead" == (
        refusal.unmet[0].detail
    )
    fresh = Incident.declare("INC-2", "t", Priority.P1, actor="ana", clock=clock)
    fresh.assign(Role.LEAD, "ana", actor="ana")
    assert ("required_role_kept",) == refused(
        fresh, lambda: fresh.release(Role.LEAD, "ana", actor="ana")
    ).rules
    fresh.hand_off(Role.LEAD, "ana", "bo", actor="ana")
    assert ("bo",) == fresh.holders(Role.LEAD)


def test_a_role_the_priority_does_not_require_may_be_released(clock: ManualClock) -> None:
    """A P3 needs only an IC: its Lead may step out, and so may one of two ICs, but not the last."""
    incident = Incident.declare("INC-3", "t", Priority.P3, actor="ana", clock=clock)
    incident.assign(Role.LEAD, "ana", actor="ana")
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    incident.assign(Role.INCIDENT_COMMANDER, "cy", actor="ana")
    incident.release(Role.INCIDENT_COMMANDER, "cy", actor="ana")
    assert ("required_role_kept",) == refused(
        incident, lambda: incident.release(Role.INCIDENT_COMMANDER, "bo", actor="bo")
    ).rules
    incident.release(Role.LEAD, "ana", actor="ana")
    assert {Role.INCIDENT_COMMANDER: ("bo",)} == dict(incident.roles)


def test_an_ic_with_running_experiments_hands_off_instead_of_releasing(
    clock: ManualClock,
) -> None:
    """Releasing an IC who owns a running experiment is refused (experiments_owned)."""
    incident = mitigating_p1(clock)
    incident.assign(Role.INCIDENT_COMMANDER, "eli", actor="ana")
    incident.start_experiment(
        hypothesis="h", action="a", expected="e", component="db", owner="eli", actor="eli"
    )
    refusal = refused(
        incident, lambda: incident.release(Role.INCIDENT_COMMANDER, "eli", actor="ana")
    )
    assert refusal.rules == ("experiments_owned",)


def test_experiments_need_a_commander_owner_and_a_free_component(clock: ManualClock) -> None:
    """Two running experiments never share a component; the owner must be an IC."""
    incident = mitigating_p1(clock)
    incident.start_experiment(
        hypothesis="h", action="a", expected="e", component="db", owner="bo", actor="bo"
    )
    refusal = refused(
        incident,
        lambda: incident.start_experiment(
            hypothesis="h2", action="a", expected="e", component="db", owner="cy", actor="bo"
        ),
    )
    assert refusal.rules == ("owner_is_commander", "component_free")
    refusal = refused(
        incident,
        lambda: incident.start_experiment(
            experiment_id="E1",
            hypothesis="h2",
            action="a",
            expected="e",
            component="api",
            owner="bo",
            actor="bo",
        ),
    )
    assert refusal.rules == ("unique_id",)


def test_items_are_closed_once_and_by_known_id(clock: ManualClock) -> None:
    """Concluding, reconciling or closing an unknown or closed item is refused."""
    incident = mitigating_p1(clock)
    incident.open_debt("temporary fix", actor="bo")
    incident.close_debt("D1", actor="bo")
    assert refused(incident, lambda: incident.close_debt("D1", actor="bo")).rules == ("still_open",)
    assert refused(incident, lambda: incident.close_debt("D9", actor="bo")).rules == ("known_id",)
    assert refused(
        incident,
        lambda: incident.conclude_experiment(
            "E9", observed="o", verdict=Verdict.REFUTED, actor="bo"
        ),
    ).rules == ("known_id",)


# -- time ------------------------------------------------------------------------------------


def test_back_dated_event_is_accepted(clock: ManualClock) -> None:
    """An event may have happened before it was recorded, if not before the incident began."""
    began = START - timedelta(minutes=10)
    incident = Incident.declare("INC-1", "t", Priority.P2, actor="ana", began=began, clock=clock)
    assert (began, START) == (incident.began_at, incident.declared_at)
    clock.advance(minutes=5)
    event = incident.note("restarted db-1 a while ago", actor="di", at=began)
    assert (began, START + timedelta(minutes=5)) == (event.occurred_at, event.recorded_at)


def test_event_before_the_incident_began_is_refused(clock: ManualClock) -> None:
    """An ``at`` before began_at breaks not_before_start (for anything but a precursor)."""
    began = START - timedelta(minutes=10)
    incident = Incident.declare("INC-1", "t", Priority.P2, actor="ana", began=began, clock=clock)
    refusal = refused(
        incident,
        lambda: incident.post_update("too early", actor="di", at=began - timedelta(seconds=1)),
    )
    assert isinstance(refusal, RuleViolated)
    assert refusal.rules == ("not_before_start",)


def test_event_in_the_future_is_refused(clock: ManualClock) -> None:
    """An ``at`` after the stamp ``now`` breaks not_in_future."""
    incident = Incident.declare("INC-1", "t", Priority.P2, actor="ana", clock=clock)
    refusal = refused(
        incident, lambda: incident.note("later", actor="di", at=START + timedelta(minutes=1))
    )
    assert refusal.rules == ("not_in_future",)


def test_stamp_before_the_last_stamp_is_refused(clock: ManualClock) -> None:
    """A ``now`` earlier than the last event's stamp breaks stamps_in_order."""
    incident = Incident.declare("INC-1", "t", Priority.P2, actor="ana", clock=clock)
    incident.note("at 14:10", actor="di", now=START + timedelta(minutes=10))
    refusal = refused(
        incident, lambda: incident.note("at 14:05", actor="di", now=START + timedelta(minutes=5))
    )
    assert refusal.rules == ("stamps_in_order",)
    incident.note("same stamp is fine", actor="di", now=START + timedelta(minutes=10))


def test_every_timing_rule_is_reported_together(clock: ManualClock) -> None:
    """A stamp going backwards with an ``at`` after it reports both rules."""
    incident = Incident.declare("INC-1", "t", Priority.P2, actor="ana", clock=clock)
    incident.note("at 14:10", actor="di", now=START + timedelta(minutes=10))
    refusal = refused(
        incident,
        lambda: incident.note(
            "muddled", actor="di", now=START + timedelta(minutes=5), at=START + timedelta(hours=1)
        ),
    )
    assert refusal.rules == ("stamps_in_order", "not_in_future")


def reopened_p1(clock: ManualClock) -> Incident:
    """A P1 yellow at 14:10, reopened at 14:20, its recovery verified again at 14:25."""
    incident = yellow_p1(clock)
    clock.advance(minutes=10)
    incident.reopen("errors are back", actor="ana")
    clock.advance(minutes=5)
    incident.verify_recovery("error rate at baseline again", actor="bo")
    return incident


def at(hour: int, minute: int) -> datetime:
    """That time on the test day, in UTC."""
    return START.replace(hour=hour, minute=minute)


def test_a_move_back_dated_before_the_previous_move_is_refused(clock: ManualClock) -> None:
    """A move dated before the previous move breaks moves_in_order and changes nothing."""
    incident = reopened_p1(clock)
    assert at(14, 20) == incident.when_entered(State.MITIGATING)
    refusal = refused(
        incident, lambda: incident.announce_yellow("yellow again", actor="ana", at=at(14, 15))
    )
    assert isinstance(refusal, TransitionBlocked)
    assert ("moves_in_order",) == refusal.rules
    assert (
        "occurred at 2026-03-01T14:15:00+00:00, before the previous move at "
        "2026-03-01T14:20:00+00:00"
    ) == refusal.unmet[0].detail
    assert (State.MITIGATING, at(14, 10)) == (incident.state, incident.when_entered(State.YELLOW))


def test_a_move_at_the_time_of_the_previous_move_is_accepted(clock: ManualClock) -> None:
    """Equal times are in order: a move may be dated at the very moment of the previous one."""
    incident = reopened_p1(clock)
    event = incident.announce_yellow("yellow again", actor="ana", at=at(14, 20))
    assert (at(14, 20), at(14, 25)) == (event.occurred_at, event.recorded_at)
    assert at(14, 20) == incident.when_entered(State.YELLOW)


def test_a_move_back_dated_after_the_previous_move_is_accepted(clock: ManualClock) -> None:
    """A move may be back-dated to any time between the previous move and its stamp."""
    incident = reopened_p1(clock)
    incident.announce_yellow("yellow again", actor="ana", at=at(14, 22))
    assert (State.YELLOW, at(14, 22)) == (incident.state, incident.when_entered(State.YELLOW))
    assert incident == Incident.replay(incident.history)


def test_other_events_may_be_back_dated_before_the_last_move(clock: ManualClock) -> None:
    """moves_in_order binds moves only: a note may be dated before the previous move."""
    incident = reopened_p1(clock)
    note = incident.note("the alert fired first at 14:15", actor="di", at=at(14, 15))
    assert at(14, 15) == note.occurred_at


def test_the_declaration_counts_as_the_first_move(clock: ManualClock) -> None:
    """The first move is in order from the incident's start: at it is fine, before is not."""
    began = at(13, 50)
    early = Incident.declare("INC-1", "t", Priority.P2, actor="ana", at=began, clock=clock)
    refusal = refused(
        early, lambda: early.dismiss("too early", actor="ana", at=began - timedelta(seconds=1))
    )
    assert ("not_before_start", "moves_in_order") == refusal.rules
    assert refusal.unmet[1].detail.endswith("before the previous move at 2026-03-01T13:50:00+00:00")
    early.dismiss("a false alarm from the start", actor="ana", at=began)
    assert began == early.when_entered(State.DISMISSED)


def test_declare_with_at_after_now_is_refused(clock: ManualClock) -> None:
    """An incident cannot have begun after it was declared."""
    with pytest.raises(RuleViolated) as info:
        Incident.declare(
            "INC-1", "t", Priority.P2, actor="ana", clock=clock, at=START + timedelta(minutes=1)
        )
    assert info.value.rules == ("not_in_future",)
    assert info.value.incident_id == "INC-1"


def test_a_declaration_in_the_future_names_the_late_time() -> None:
    """The older form (no onset) began late, after it was declared; the newer was declared late."""
    late = START + timedelta(minutes=1)
    older = Declared(
        actor="ana", occurred_at=late, recorded_at=START, incident_id="INC-1", title="t",
        priority=Priority.P2,
    )  # fmt: skip
    newer = attrs.evolve(older, began=START - timedelta(minutes=5))
    details = []
    for event in (older, newer):
        with pytest.raises(ReplayError) as caught:
            Incident.replay([event])
        details.append(caught.value.unmet[0].detail)
    assert [
        f"began at {late.isoformat()}, after it was declared ({START.isoformat()})",
        f"declared at {late.isoformat()}, after it was recorded ({START.isoformat()})",
    ] == details


NAIVE = datetime(2026, 3, 1, 14, 30)  # deliberately naive

NAIVE_COMMANDS: dict[str, Callable[[Incident], object]] = {
    "at": lambda i: i.note("n", actor="di", at=NAIVE),
    "now": lambda i: i.note("n", actor="di", now=NAIVE),
    "scheduled_for": lambda i: i.schedule_post_mortem(NAIVE, ["ana"], actor="cy"),
    "due_at": lambda i: i.add_action(
        "fix", owner="bo", due_at=NAIVE, kind=ActionKind.CORRECTIVE, actor="ana"
    ),
    "move_at": lambda i: i.move(State.DISMISSED, message="m", actor="ana", at=NAIVE),
}


@pytest.mark.parametrize("name", sorted(NAIVE_COMMANDS))
def test_naive_datetimes_are_invalid_input(clock: ManualClock, name: str) -> None:
    """A naive datetime anywhere in a command is InvalidInput, and nothing changes."""
    incident = mitigating_p1(clock)
    clock.advance(minutes=40)
    invalid(incident, lambda: NAIVE_COMMANDS[name](incident))


@pytest.mark.parametrize("field", ["at", "now"])
def test_declare_with_naive_datetime_is_invalid_input(clock: ManualClock, field: str) -> None:
    """Declaring with a naive ``at`` or ``now`` is InvalidInput."""
    naive: dict[str, Any] = {field: NAIVE}
    with pytest.raises(InvalidInput):
        Incident.declare("INC-1", "t", Priority.P2, actor="ana", clock=clock, **naive)


def test_a_clock_giving_naive_time_is_invalid_input() -> None:
    """A clock whose now() is naive is caught, not silently stamped."""

    class NaiveClock:
        def now(self) -> datetime:
            return NAIVE

    with pytest.raises(InvalidInput, match="clock"):
        Incident.declare("INC-1", "t", Priority.P2, actor="ana", clock=NaiveClock())


# -- malformed input -------------------------------------------------------------------------

WRONG_TYPES: dict[str, Callable[[Incident], object]] = {
    "role as str": lambda i: i.assign("lead", "eli", actor="ana"),  # type: ignore[arg-type]
    "link kind as str": lambda i: i.link("ticket", "https://x", actor="ana"),  # type: ignore[arg-type]
    "priority as str": lambda i: i.change_priority("P3", reason="r", actor="ana"),  # type: ignore[arg-type]
    "target as str": lambda i: i.move("yellow", message="m", actor="ana"),  # type: ignore[arg-type]
    "actor as int": lambda i: i.note("n", actor=7),  # type: ignore[arg-type]
    "empty actor": lambda i: i.note("n", actor=""),
    "blank actor": lambda i: i.note("n", actor="   "),
    "blank note": lambda i: i.note(" ", actor="di"),
    "no_progress as str": lambda i: i.post_update("u", no_progress="yes", actor="cy"),  # type: ignore[arg-type]
    "invitees as one str": lambda i: i.schedule_post_mortem(
        START + timedelta(days=1), "ana", actor="cy"
    ),
    "unmet target as str": lambda i: i.unmet("yellow"),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("name", sorted(WRONG_TYPES))
def test_wrong_types_are_invalid_input(clock: ManualClock, name: str) -> None:
    """Wrongly typed arguments raise InvalidInput (a ValueError) and change nothing."""
    incident = mitigating_p1(clock)
    error = invalid(incident, lambda: WRONG_TYPES[name](incident))
    assert isinstance(error, ValueError)
    assert isinstance(error, IncidentFlowError)


def test_declare_with_priority_as_string_is_invalid_input(clock: ManualClock) -> None:
    """Priority "P1" (a string) is not Priority.P1."""
    with pytest.raises(InvalidInput, match="priority"):
        Incident.declare("INC-1", "t", "P1", actor="ana", clock=clock)  # type: ignore[arg-type]


@pytest.mark.parametrize("actor", [0, "", None])
def test_declare_with_a_bad_actor_is_invalid_input(clock: ManualClock, actor: Any) -> None:
    """The declarer must be named."""
    with pytest.raises(InvalidInput, match="actor"):
        Incident.declare("INC-1", "t", Priority.P1, actor=actor, clock=clock)


def test_declare_with_a_bad_policy_is_invalid_input(clock: ManualClock) -> None:
    """The policy must be a Policy."""
    with pytest.raises(InvalidInput, match="policy"):
        Incident.declare("INC-1", "t", Priority.P1, actor="ana", policy="strict")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "thing",
    [
        "note",
        object(),
        Event(actor="ana", occurred_at=START, recorded_at=START),
    ],
    ids=["str", "object", "bare-Event"],
)
def test_record_refuses_what_is_not_an_event(clock: ManualClock, thing: Any) -> None:
    """record() of anything but a known event type is InvalidInput."""
    incident = mitigating_p1(clock)
    invalid(incident, lambda: incident.record(thing))


def test_record_applies_an_event_built_elsewhere(clock: ManualClock) -> None:
    """record() checks and applies a well-formed event, returning it."""
    incident = mitigating_p1(clock)
    event = NoteAdded(actor="di", occurred_at=clock.now(), recorded_at=clock.now(), text="n")
    assert event is incident.record(event)
    assert event == incident.history[-1]
    again = Declared(
        actor="ana",
        occurred_at=clock.now(),
        recorded_at=clock.now(),
        incident_id="INC-1",
        title="t",
        priority=Priority.P1,
    )
    refusal = refused(incident, lambda: incident.record(again))
    assert refusal.rules == ("declared_once",)
    assert refusal.command == "declare"


# -- refusals --------------------------------------------------------------------------------


def test_refusal_carries_every_unmet_rule(clock: ManualClock) -> None:
    """An outsider verifying recovery while declared is refused for both state and role."""
    incident = Incident.declare("INC-1", "Database is down", Priority.P1, actor="ana", clock=clock)
    staff_p1(incident, clock)
    refusal = refused(incident, lambda: incident.verify_recovery("looks fine", actor="eli"))
    assert isinstance(refusal, NotAuthorized)
    assert (
        refusal.incident_id,
        refusal.state,
        refusal.command,
    ) == ("INC-1", "declared", "verify_recovery")
    assert refusal.rules == ("state_allows_command", "authorized")
    assert refusal.rules == tuple(u.rule for u in refusal.unmet)
    assert (
        refusal.unmet[1].detail
    ) == "eli must hold incident_commander or lead to verify_recovery"
    message = str(refusal)
    assert message.startswith("INC-1 (declared): verify_recovery refused")
    assert all(u.rule in message and u.detail in message for u in refusal.unmet)
    assert not isinstance(refusal, ValueError)


def test_blocked_move_names_its_trigger_and_target(clock: ManualClock) -> None:
    """A blocked move is a TransitionBlocked with the edge's trigger as its command."""
    incident = Incident.declare("INC-1", "t", Priority.P1, actor="ana", clock=clock)
    refusal = refused(incident, lambda: incident.mitigate("go", actor="ana"))
    assert isinstance(refusal, TransitionBlocked)
    assert (
        refusal.command,
        refusal.target,
        refusal.state,
    ) == ("mitigate", "mitigating", "declared")
    assert refusal.rules == ("validated", "required_links", "required_roles")


def test_unauthorized_blocked_move_reports_authorization_and_guards(clock: ManualClock) -> None:
    """An outsider's premature move reports authorized and every unmet guard."""
    incident = Incident.declare("INC-1", "t", Priority.P3, actor="ana", clock=clock)
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    refusal = refused(incident, lambda: incident.mitigate("go", actor="eli"))
    assert isinstance(refusal, NotAuthorized)
    assert refusal.rules == ("authorized", "validated", "required_links")
    assert rules(incident.unmet(State.MITIGATING, actor="eli")) == (
        "authorized",
        "validated",
        "required_links",
    )


@settings(max_examples=50)
@given(incident=incidents(max_steps=20), event=events())
def test_a_recorded_event_is_applied_whole_or_not_at_all(incident: Incident, event: Event) -> None:
    """Any event either extends the history by itself or is refused leaving no trace."""
    before = Incident.replay(list(incident.history), policy=incident.policy)
    try:
        incident.record(event)
    except CommandRefused:
        assert before == incident
    else:
        assert [*before.history, event] == list(incident.history)


# -- asking ----------------------------------------------------------------------------------

DECLARED_COMMANDS = {
    "adopt_policy",
    "validate",
    "link",
    "assign",
    "hand_off",
    "release",
    "start_experiment",
    "conclude_experiment",
    "note",
    "post_update",
    "log_change",
    "reconcile_change",
    "add_why",
    "add_factor",
    "add_action",
    "close_action",
    "change_priority",
    "change_impact",
    "dismiss",
    "record_data_loss",
    "amend",
    "retract",
}
ANYONE = {"link", "note", "log_change"}


def test_allowed_commands_of_a_fresh_incident(clock: ManualClock) -> None:
    """Declared and unstaffed: every declared-state command, to anyone; mitigate is blocked."""
    incident = Incident.declare("INC-1", "t", Priority.P1, actor="ana", clock=clock)
    assert incident.allowed_commands() == DECLARED_COMMANDS
    assert incident.allowed_commands("eli") == DECLARED_COMMANDS


def test_allowed_commands_follow_the_roles(clock: ManualClock) -> None:
    """Once staffed, each person may issue what their role allows."""
    incident = Incident.declare("INC-1", "t", Priority.P1, actor="ana", clock=clock)
    staff_p1(incident, clock)
    assert incident.allowed_commands("eli") == ANYONE
    assert ANYONE | {"post_update", "change_impact"} == incident.allowed_commands("cy")
    recorder = {
        "reconcile_change",
        "add_why",
        "add_factor",
        "add_action",
        "close_action",
        "record_data_loss",
        "amend",
        "retract",
        "change_impact",
    }
    assert ANYONE | recorder == incident.allowed_commands("di")
    assert DECLARED_COMMANDS - {"post_update", "start_experiment", "adopt_policy"} == (
        incident.allowed_commands("ana")
    )
    assert incident.allowed_commands("bo") == DECLARED_COMMANDS


def test_allowed_commands_include_a_move_once_its_guards_are_met(clock: ManualClock) -> None:
    """Mitigate appears when its guards are met, for those who may issue it."""
    incident = Incident.declare("INC-1", "t", Priority.P1, actor="ana", clock=clock)
    staff_p1(incident, clock)
    incident.validate("seen", actor="bo")
    for kind in (LinkKind.TICKET, LinkKind.WAR_ROOM, LinkKind.ANNOUNCEMENT):
        incident.link(kind, "https://x", actor="cy")
    assert "mitigate" in incident.allowed_commands("ana")
    assert "mitigate" not in incident.allowed_commands("cy")
    assert incident.can_move(State.MITIGATING, actor="ana")
    assert not incident.can_move(State.MITIGATING, actor="cy")
    assert incident.next_states() == (State.MITIGATING, State.DISMISSED)


def test_allowed_commands_when_dismissed_and_in_yellow(clock: ManualClock) -> None:
    """A dismissed incident takes only notes and corrections; yellow allows the customer's
    verification."""
    incident = Incident.declare("INC-9", "t", Priority.P3, actor="ana", clock=clock)
    incident.dismiss("false alarm", actor="ana")
    assert {
        "note",
        "reconcile_change",
        "close_action",
        "amend",
        "retract",
    } == incident.allowed_commands()
    yellow = yellow_p1(ManualClock(START))
    assert "verify_customer" in yellow.allowed_commands("cy")
    assert {"reopen", "verify_recovery"}.isdisjoint(yellow.allowed_commands("cy"))
    assert "reopen" in yellow.allowed_commands("ana")


# -- replay ----------------------------------------------------------------------------------


def test_replay_rebuilds_an_equal_incident(clock: ManualClock) -> None:
    """Replaying a history gives an incident equal in state, records and log."""
    incident = yellow_p1(clock)
    again = Incident.replay(incident.history)
    assert incident == again
    assert incident.history == again.history
    assert (State.YELLOW, Priority.P1, incident.roles) == (again.state, again.priority, again.roles)


@given(incidents())
def test_replay_of_any_reachable_incident_is_equal(incident: Incident) -> None:
    """Every incident the rules allow replays to an equal one."""
    assert incident == Incident.replay(list(incident.history), policy=incident.policy)


def _replay_error(history: list[Any]) -> ReplayError:
    with pytest.raises(ReplayError) as info:
        Incident.replay(history)
    assert isinstance(info.value, IncidentFlowError)
    return info.value


def test_replay_of_reordered_stamps_fails_at_the_second(clock: ManualClock) -> None:
    """Swapping two events puts a stamp before its predecessor's: stamps_in_order."""
    history = list(mitigating_p3(clock).history)
    first = next(i for i, e in enumerate(history) if isinstance(e, NoteAdded))
    history[first], history[first + 1] = history[first + 1], history[first]
    error = _replay_error(history)
    assert (first + 1, ("stamps_in_order",)) == (error.index, error.rules)


def test_replay_of_a_move_before_the_previous_move_fails_at_it(clock: ManualClock) -> None:
    """A history holding a move dated before the previous move fails replay at that move."""
    incident = reopened_p1(clock)
    history = list(incident.history)
    forged = StateChanged(
        actor="ana",
        occurred_at=at(14, 15),
        recorded_at=at(14, 26),
        source=State.MITIGATING,
        target=State.YELLOW,
        message="yellow again",
    )
    error = _replay_error([*history, forged])
    assert (len(history), ("moves_in_order",)) == (error.index, error.rules)
    assert "before the previous move at 2026-03-01T14:20:00+00:00" in str(error)
    refusal = refused(incident, lambda: incident.record(forged))
    assert isinstance(refusal, TransitionBlocked)
    assert ("moves_in_order",) == refusal.rules


def test_replay_with_a_deleted_event_fails_where_it_was_needed(clock: ManualClock) -> None:
    """Without the validation, the later mitigate breaks the validated guard."""
    history = list(mitigating_p3(clock).history)
    tampered = [e for e in history if e.type != "validated"]
    error = _replay_error(tampered)
    assert (len(tampered) - 1, ("validated",)) == (error.index, error.rules)
    assert "validated" in str(error)


def test_replay_of_a_duplicated_declaration_fails(clock: ManualClock) -> None:
    """A second Declared breaks declared_once at index 1."""
    history = list(mitigating_p3(clock).history)
    error = _replay_error([history[0], *history])
    assert (error.index, error.rules) == (1, ("declared_once",))


def test_replay_of_an_empty_history_fails() -> None:
    """An empty history is no incident: declared_first at index 0."""
    error = _replay_error([])
    assert (error.index, error.rules) == (0, ("declared_first",))


def test_replay_without_the_declaration_fails(clock: ManualClock) -> None:
    """A history not starting with Declared breaks declared_first at index 0."""
    error = _replay_error(list(mitigating_p3(clock).history)[1:])
    assert (error.index, error.rules) == (0, ("declared_first",))


def test_replay_of_a_non_event_fails(clock: ManualClock) -> None:
    """Something that is not an event breaks event_type at its index."""
    history = list(mitigating_p3(clock).history)
    error = _replay_error([*history[:3], {"type": "note_added"}, *history[3:]])
    assert (error.index, error.rules) == (3, ("event_type",))


def test_replay_does_not_notify_subscribers(clock: ManualClock) -> None:
    """Replayed events are not published; later commands on the replayed incident are."""
    hub = Subscribers()
    seen: list[str] = []
    hub.subscribe(lambda incident, event: seen.append(event.type))
    history = list(mitigating_p3(clock).history)
    replayed = Incident.replay(history, subscribers=hub, clock=clock)
    assert seen == []
    replayed.note("after replay", actor="bo")
    assert seen == ["note_added"]


# -- equality and repr -----------------------------------------------------------------------


def test_equality_compares_what_was_recorded() -> None:
    """Incidents built by the same commands are equal; one more event makes them differ."""
    one = mitigating_p3(ManualClock(START))
    two = mitigating_p3(ManualClock(START))
    assert one == two
    two.note("one more", actor="bo")
    assert one != two
    assert one != "INC-3"
    with pytest.raises(TypeError):
        hash(one)


def test_repr_names_id_priority_state_and_size(clock: ManualClock) -> None:
    """The repr shows the id, the priority, the state and how many events."""
    incident = Incident.declare("INC-7", "t", Priority.P2, actor="ana", clock=clock)
    assert repr(incident) == "<Incident INC-7 P2 declared, 1 event>"


def test_history_is_a_read_only_view(clock: ManualClock) -> None:
    """The history cannot be changed through the view."""
    incident = mitigating_p3(clock)
    view = incident.history
    assert not hasattr(view, "append")
    assert isinstance(view[0:2], tuple)
    assert incident.version == len(view)
    assert type(view[0]).__name__ == "Declared"


def test_a_shortcut_names_its_edge_not_just_its_target(clock: ManualClock) -> None:
    """mitigate() from yellow is refused; reaching mitigating from yellow is reopen()."""
    incident = mitigating_p1(clock)
    incident.verify_recovery("graphs are flat", actor="ana")
    incident.announce_yellow("resolved (yellow)", actor="ana")
    refusal = refused(incident, lambda: incident.mitigate("again", actor="ana"))
    assert isinstance(refusal, TransitionBlocked)
    assert ("lifecycle_edge",) == refusal.rules
    assert "mitigate leads from declared, not from yellow" == refusal.unmet[0].detail
    assert State.MITIGATING == incident.reopen("it came back", actor="ana").target


def test_trigger_by_unknown_name_is_bad_input(clock: ManualClock) -> None:
    """An edge name that the lifecycle does not have is an InvalidInput, naming the real ones."""
    incident = mitigating_p1(clock)
    with pytest.raises(InvalidInput, match="announce_yellow"):
        incident.trigger("launch", "go", actor="ana")


def test_an_action_items_owner_may_close_it_without_a_role(clock: ManualClock) -> None:
    """Whoever owns an action item may close it; anyone else still needs a role."""
    incident = mitigating_p1(clock)
    item = incident.add_action(
        "alert on refresh-job failures",
        owner="zed",
        due_at=clock.now() + timedelta(days=7),
        kind=ActionKind.PREVENTIVE,
        actor="ana",
    )
    refusal = refused(incident, lambda: incident.close_action(item.action_id, actor="yan"))
    assert isinstance(refusal, NotAuthorized)
    incident.close_action(item.action_id, actor="zed")
    assert incident.action_items[item.action_id].closed_at is not None


def test_a_dismissed_false_alarm_can_still_settle_its_changes_and_actions(
    clock: ManualClock,
) -> None:
    """A change logged while validating can be reverted after the alarm is dismissed."""
    incident = Incident.declare("INC-9", "Alert storm", Priority.P2, actor="ana", clock=clock)
    incident.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana")
    change = incident.log_change(
        what="silenced the alert", where="pager", revert="unsilence", actor="ana"
    )
    incident.dismiss("false alarm", actor="ana")
    assert ["manual_change"] == [o.kind for o in incident.due()]
    incident.reconcile_change(change.change_id, ChangeOutcome.REVERTED, actor="ana")
    assert () == incident.due()


def test_declaration_facts_and_when_states_were_entered(clock: ManualClock) -> None:
    """declared_by, began_at and when_entered read the recorded history."""
    incident = mitigating_p1(clock)
    assert "ana" == incident.declared_by
    assert incident.began_at == incident.when_entered(State.DECLARED)
    assert incident.history[-1].occurred_at == incident.when_entered(State.MITIGATING)
    assert None is incident.when_entered(State.GREEN)


def test_history_is_a_read_only_sequence_view(clock: ManualClock) -> None:
    """history compares equal to a list of the same events, slices to tuples, and says its size."""
    incident = mitigating_p1(clock)
    # A list, typed as a Sequence: mypy would take == with a list to make history a list.
    events_now: Sequence[Event] = list(incident.history)
    assert events_now == incident.history
    assert tuple(events_now[:2]) == incident.history[:2]
    assert f"<history of {len(events_now)} events>" == repr(incident.history)
    assert not hasattr(incident.history, "append")


def test_generated_ids_skip_ids_already_taken(clock: ManualClock) -> None:
    """An automatic id never collides with one given explicitly."""
    incident = mitigating_p1(clock)
    incident.log_change(what="a", where="b", revert="c", actor="ana", change_id="C2")
    assert "C3" == incident.log_change(what="d", where="e", revert="f", actor="ana").change_id


def test_replay_error_carries_every_unmet_rule_with_its_detail(clock: ManualClock) -> None:
    """A detail containing '; ' stays whole: the rules travel as Unmet records, not text."""
    incident = mitigating_p1(clock)
    forged = RoleAssigned(
        actor="zed",
        occurred_at=clock.now(),
        recorded_at=clock.now(),
        role=Role.LEAD,
        holder="zed",
    )
    with pytest.raises(ReplayError) as info:
        Incident.replay([*incident.history, forged])
    assert ("authorized", "single_holder") == info.value.rules
    assert info.value.unmet[1].detail.endswith("; hand it off instead")


def test_history_iterates_in_order_both_ways(clock: ManualClock) -> None:
    """The history view iterates its events in recorded order, and reversed in reverse."""
    incident = Incident.declare("INC-9", "Slow", Priority.P3, actor="ana", clock=clock)
    incident.note("first", actor="ana")
    incident.note("second", actor="ana")
    events = [incident.history[i] for i in range(len(incident.history))]
    assert events == list(incident.history)
    assert events[::-1] == list(reversed(incident.history))


def test_incidents_never_share_what_they_record(clock: ManualClock) -> None:
    """Two incidents start empty alike; what one records never shows in the other."""
    busy = mitigating_p1(clock)
    idle = Incident.declare("INC-2", "Cache is cold", Priority.P3, actor="ana", clock=clock)
    common: dict[str, Any] = {"action": "a", "expected": "e", "owner": "bo", "actor": "bo"}
    busy.start_experiment(hypothesis="disk full", component="db", **common)
    busy.note("primary restarted", actor="bo")
    busy.post_update("Restarting the primary.", actor="cy")
    busy.log_change(what="restarted db", where="db", revert="none", actor="bo")
    busy.add_why(RUNBOOK_WHYS[0], actor="bo")
    busy.add_factor("no alert on disk usage", actor="bo")
    busy.add_action("alert on disk", kind=ActionKind.PREVENTIVE, owner="bo", due_at=START,
                    actor="bo")  # fmt: skip
    busy.open_debt("temporary firewall rule", actor="bo")
    views = (
        "links", "roles", "experiments", "running_experiments", "notes", "updates",
        "manual_changes", "why_chains", "factors", "tech_debt", "action_items",
        "unknown_roles", "absent_links", "data_losses", "corrections", "impact_timeline",
    )  # fmt: skip
    assert all(getattr(busy, name) for name in views[:11])
    assert dict.fromkeys(views, 0) == {name: len(getattr(idle, name)) for name in views}
    assert Incident.replay(idle.history, clock=clock) == idle


def test_a_concluded_experiment_keeps_everything_it_started_with(clock: ManualClock) -> None:
    """Concluding, reconciling, closing and handing off change only what they record."""
    incident = mitigating_p1(clock)
    common: dict[str, Any] = {"action": "a", "expected": "e", "owner": "bo", "actor": "bo"}
    incident.start_experiment(hypothesis="disk full", component="db", **common)
    incident.start_experiment(hypothesis="token", component="auth", **common)
    incident.log_change(what="restarted db", where="db", revert="none", actor="bo")
    incident.open_debt("temporary firewall rule", actor="bo")
    incident.add_action("alert", kind=ActionKind.PREVENTIVE, owner="bo", due_at=START, actor="bo")
    incident.add_why(RUNBOOK_WHYS[0], actor="bo")
    incident.add_why("a second cause", actor="bo", chain="side", branches_from="main")
    before = (
        dict(incident.experiments), dict(incident.manual_changes), dict(incident.tech_debt),
        dict(incident.action_items), dict(incident.why_chains),
    )  # fmt: skip
    clock.advance(minutes=1)
    at = clock.now()
    incident.conclude_experiment("E1", observed="41%", verdict=Verdict.REFUTED, actor="bo")
    incident.hand_off(Role.INCIDENT_COMMANDER, "bo", "eli", actor="ana")
    incident.reconcile_change("C1", ChangeOutcome.REVERTED, actor="ana")
    incident.close_debt("D1", actor="ana")
    incident.close_action("A1", actor="ana")
    incident.add_why(RUNBOOK_WHYS[1], actor="ana")
    incident.add_why("its cause", actor="ana", chain="side")
    experiments, changes, debts, actions, chains = before
    assert {
        "E1": attrs.evolve(experiments["E1"], observed="41%", verdict=Verdict.REFUTED,
                           concluded_at=at),
        "E2": attrs.evolve(experiments["E2"], owner="eli"),
    } == incident.experiments  # fmt: skip
    assert {
        "C1": attrs.evolve(changes["C1"], outcome=ChangeOutcome.REVERTED, reconciled_at=at)
    } == incident.manual_changes
    assert {"D1": attrs.evolve(debts["D1"], closed_at=at)} == incident.tech_debt
    assert {"A1": attrs.evolve(actions["A1"], closed_at=at)} == incident.action_items
    assert {
        "main": attrs.evolve(chains["main"], answers=RUNBOOK_WHYS[:2]),
        "side": attrs.evolve(chains["side"], answers=("a second cause", "its cause")),
    } == incident.why_chains
    assert ("main", 2) == (incident.why_chains["side"].parent, incident.why_chains["side"].start)


def test_a_clock_and_subscribers_are_made_once_on_first_use() -> None:
    """An incident given neither reads the system clock and keeps one hub of subscribers."""
    incident = Incident()
    assert incident.clock is incident.clock
    assert isinstance(incident.clock, SystemClock)
    hub = incident.subscribers
    assert hub is incident.subscribers
    assert 0 == len(hub)


def test_a_view_read_before_anything_was_recorded_shows_what_comes_later(
    clock: ManualClock,
) -> None:
    """The mappings an incident shows are live views, even when read while still empty."""
    incident = Incident.declare("INC-1", "Database is down", Priority.P3, actor="ana", clock=clock)
    links, roles = incident.links, incident.roles
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    incident.link(LinkKind.TICKET, "https://example.com/t", actor="bo")
    assert [LinkKind.TICKET] == list(links)
    assert {Role.INCIDENT_COMMANDER: ("bo",)} == roles
    assert Incident.replay(incident.history, clock=clock) == incident


def test_roles_come_in_the_order_role_declares_them(clock: ManualClock) -> None:
    """Not in the order they were filled; a role emptied again leaves the view."""
    incident = Incident.declare("INC-1", "Database is down", Priority.P3, actor="ana", clock=clock)
    roles = incident.roles
    assert 0 == len(roles)
    assert [] == list(roles)
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    incident.assign(Role.LEAD, "cy", actor="bo")
    incident.assign(Role.COMMUNICATOR, "di", actor="bo")
    incident.assign(Role.INCIDENT_COMMANDER, "ed", actor="bo")
    assert [Role.COMMUNICATOR, Role.LEAD, Role.INCIDENT_COMMANDER] == list(roles)
    assert 3 == len(roles)
    assert ("bo", "ed") == roles[Role.INCIDENT_COMMANDER]
    assert Role.RECORDER not in roles
    with pytest.raises(KeyError):
        roles[Role.RECORDER]
    assert () == incident.holders(Role.RECORDER)
    assert () == incident.holders("nobody")  # type: ignore[arg-type]  # not a role: none
    incident.release(Role.LEAD, "cy", actor="cy")
    assert [Role.COMMUNICATOR, Role.INCIDENT_COMMANDER] == list(roles)
    assert "_Staffing({<Role.COMMUNICATOR: 'communicator'>: ('di',), " in repr(roles)
    assert frozenset({Role.INCIDENT_COMMANDER}) == incident.roles_of("ed")
    assert Incident.replay(incident.history, clock=clock).roles == roles


def test_the_second_record_of_each_kind_joins_the_first(clock: ManualClock) -> None:
    """Every collection an incident keeps grows: a second item never replaces the first."""
    incident = mitigating_p1(clock)
    for n in (1, 2):
        common: dict[str, Any] = {"action": "a", "expected": "e", "owner": "bo", "actor": "bo"}
        incident.start_experiment(hypothesis=f"h{n}", component=f"c{n}", **common)
        incident.note(f"note {n}", actor="bo")
        incident.post_update(f"update {n}", actor="cy")
        incident.log_change(what=f"change {n}", where="db", revert="none", actor="bo")
        incident.add_why(RUNBOOK_WHYS[0], chain=f"chain {n}", actor="bo")
        incident.add_factor(f"factor {n}", actor="bo")
        incident.add_action(f"action {n}", kind=ActionKind.PREVENTIVE, owner="bo", due_at=START,
                            actor="bo")  # fmt: skip
        incident.open_debt(f"debt {n}", actor="bo")
        incident.record_data_loss(f"loss {n}", window_start=START, window_end=START, actor="bo")
        level = ImpactLevel.DEGRADED if n == 1 else ImpactLevel.MAJOR_OUTAGE
        incident.change_impact(level, actor="bo")
        incident.amend("title", f"Database is down ({n})", reason="clearer", actor="bo")
    for name in ("experiments", "running_experiments", "notes", "updates", "manual_changes",
                 "why_chains", "factors", "action_items", "tech_debt", "data_losses",
                 "impact_timeline", "corrections"):  # fmt: skip
        assert (name, 2) == (name, len(getattr(incident, name)))
    assert Incident.replay(incident.history, clock=clock) == incident
