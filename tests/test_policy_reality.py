"""Rules that fit real incidents: unknown roles and absent links, Five Whys depth and branches,
data loss, irreversible changes, and the commands reality has in later states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

import incidentflow.events as ev
from incidentflow import (
    DEFAULT_POLICY,
    ChangeOutcome,
    Incident,
    LinkKind,
    ManualClock,
    NoteKind,
    Policy,
    Priority,
    Role,
    State,
    WhyAnswered,
    codec,
)
from incidentflow.documents.rca import (
    corrections_section,
    data_loss_section,
    discrepancies_section,
    rca_document,
)
from incidentflow.metrics import data_loss_window
from incidentflow.policy import COMMAND_STATE_REASONS, COMMAND_STATES, GUARDS
from refusals import refused

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


def _policy(**rules: Any) -> Policy:
    """The default policy with ``rules`` changed for every priority."""
    return attrs.evolve(
        DEFAULT_POLICY,
        name="reality",
        priorities={p: attrs.evolve(r, **rules) for p, r in DEFAULT_POLICY.priorities.items()},
    )


def _rules(incident: Incident, command: object) -> list[str]:
    return [u.rule for u in refused(incident, command).unmet]  # type: ignore[arg-type]


# -- unknown roles, absent links --------------------------------------------------------------


def _p3(clock: ManualClock, policy: Policy = DEFAULT_POLICY) -> Incident:
    incident = Incident.declare("INC-1", "t", Priority.P3, actor="ana", clock=clock, policy=policy)
    incident.validate("seen", actor="ana")
    return incident


def test_an_unknown_role_satisfies_only_a_policy_that_accepts_it(clock: ManualClock) -> None:
    """With accept_unknown an unknown IC and an absent ticket meet the guards; without, not."""
    for accept, expected in ((False, ["required_links", "required_roles"]), (True, [])):
        incident = _p3(clock, _policy(accept_unknown=accept))
        incident.record_role_unknown(
            Role.INCIDENT_COMMANDER, reason="no source names one", actor="ana"
        )
        incident.record_link_absent(LinkKind.TICKET, reason="no ticket was opened", actor="ana")
        assert expected == [u.rule for u in incident.unmet(State.MITIGATING)]
        assert {Role.INCIDENT_COMMANDER} == set(incident.unknown_roles)
        assert {LinkKind.TICKET} == set(incident.absent_links)


def test_a_later_assignment_or_link_replaces_the_unknown(clock: ManualClock) -> None:
    """Assigning the role or making the link clears what was recorded as not known."""
    incident = _p3(clock, _policy(accept_unknown=True))
    incident.record_role_unknown(Role.LEAD, reason="r", actor="ana")
    incident.record_link_absent(LinkKind.WAR_ROOM, reason="r", actor="ana")
    incident.assign(Role.LEAD, "ana", actor="ana")
    incident.link(LinkKind.WAR_ROOM, "https://x", actor="ana")
    assert ({}, {}) == (dict(incident.unknown_roles), dict(incident.absent_links))


def test_unknown_is_recorded_only_while_nothing_is_known(clock: ManualClock) -> None:
    """A held role or a made link cannot be recorded as unknown; nor anything twice."""
    incident = _p3(clock)
    incident.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana")
    incident.link(LinkKind.TICKET, "https://x", actor="ana")
    assert ["role_not_held"] == _rules(
        incident,
        lambda: incident.record_role_unknown(Role.INCIDENT_COMMANDER, reason="r", actor="ana"),
    )
    assert ["link_not_made"] == _rules(
        incident, lambda: incident.record_link_absent(LinkKind.TICKET, reason="r", actor="ana")
    )
    incident.record_role_unknown(Role.LEAD, reason="r", actor="ana")
    incident.record_link_absent(LinkKind.WAR_ROOM, reason="r", actor="ana")
    assert ["role_not_held"] == _rules(
        incident, lambda: incident.record_role_unknown(Role.LEAD, reason="r", actor="ana")
    )
    assert ["link_not_made"] == _rules(
        incident, lambda: incident.record_link_absent(LinkKind.WAR_ROOM, reason="r", actor="ana")
    )


def test_unknown_roles_are_authorized_as_assign(clock: ManualClock) -> None:
    """Once staffed, someone without a role cannot record a role as unknown."""
    incident = _p3(clock)
    incident.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana")
    assert ["authorized"] == _rules(
        incident, lambda: incident.record_role_unknown(Role.LEAD, reason="r", actor="eli")
    )


def test_a_raised_priority_accepts_roles_recorded_unknown(clock: ManualClock) -> None:
    """required_roles_filled: P3 → P1 needs all four roles, unknown ones only where accepted."""
    for accept, expected in ((False, ["required_roles_filled"]), (True, [])):
        incident = _p3(clock, _policy(accept_unknown=accept))
        incident.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana")
        incident.link(LinkKind.TICKET, "https://x", actor="ana")
        incident.mitigate("go", actor="ana")
        for role in (Role.LEAD, Role.COMMUNICATOR, Role.RECORDER):
            incident.record_role_unknown(role, reason="nobody can say", actor="ana")

        def raise_it(i: Incident = incident) -> object:
            return i.change_priority(Priority.P1, reason="all customers", actor="ana")

        if expected:
            assert expected == _rules(incident, raise_it)
        else:
            raise_it()
            assert Priority.P1 == incident.priority


# -- Five Whys --------------------------------------------------------------------------------


def test_a_root_cause_below_the_depth_is_refused_naming_it(clock: ManualClock) -> None:
    """Why 4 as root cause is refused at depth 5, naming both; why 5 is accepted."""
    incident = _p3(clock)
    for n in range(1, 4):
        incident.add_why(f"why {n}", actor="ana")
    error = refused(incident, lambda: incident.add_why("why 4", root_cause=True, actor="ana"))
    assert ["root_cause_depth"] == [u.rule for u in error.unmet]
    assert "5 whys deep for P3; this answer is why 4" in error.unmet[0].detail
    incident.add_why("why 4", actor="ana")
    incident.add_why("why 5", root_cause=True, actor="ana")
    assert incident.why_chains["main"].root_cause


def test_a_priority_may_ask_for_its_own_depth(clock: ManualClock) -> None:
    """PriorityRules.whys_depth overrides the policy's depth for that priority only."""
    rules = dict(DEFAULT_POLICY.priorities)
    rules[Priority.P3] = attrs.evolve(rules[Priority.P3], whys_depth=3)
    policy = attrs.evolve(DEFAULT_POLICY, name="p3-three", priorities=rules)
    assert (3, 5) == (policy.whys_depth_for(Priority.P3), policy.whys_depth_for(Priority.P1))
    incident = _p3(clock, policy)
    incident.add_why("a", actor="ana")
    refused(incident, lambda: incident.add_why("b", root_cause=True, actor="ana"))
    incident.add_why("b", actor="ana")
    incident.add_why("c", root_cause=True, actor="ana")
    assert Policy.from_toml(policy.to_toml()) == policy
    assert "whys_depth = 3" in policy.to_toml()
    assert "accept_unknown" not in DEFAULT_POLICY.to_toml()


def test_a_raised_priority_reopens_a_shallow_root_cause(clock: ManualClock) -> None:
    """A root cause found at P3's depth 3 may be asked further once P1 asks for 5 (not stuck)."""
    rules = dict(DEFAULT_POLICY.priorities)
    rules[Priority.P3] = attrs.evolve(rules[Priority.P3], whys_depth=3)
    incident = _p3(clock, attrs.evolve(DEFAULT_POLICY, name="p3-three", priorities=rules))
    for n in range(1, 4):
        incident.add_why(f"why {n}", root_cause=n == 3, actor="ana")
    assert ["chain_open"] == _rules(incident, lambda: incident.add_why("more", actor="ana"))
    incident.change_priority(Priority.P2, reason="more customers", actor="ana")
    incident.add_why("why 4", actor="ana")
    incident.add_why("why 5", root_cause=True, actor="ana")
    assert 5 == incident.why_chains["main"].depth


def test_a_branch_hangs_under_the_answer_it_explains(clock: ManualClock) -> None:
    """Branching after answer 2 starts at why 3 and counts the parent's whys to its depth."""
    incident = _p3(clock)
    for n in range(1, 4):
        incident.add_why(f"main {n}", actor="ana")
    event = incident.add_why(
        "cache cold", chain="cache", branches_from="main", after=2, actor="ana"
    )
    assert (3, "main") == (event.depth, event.branches_from)
    incident.add_why("cache 4", chain="cache", actor="ana")
    incident.add_why("cache 5", chain="cache", root_cause=True, actor="ana")
    chain = incident.why_chains["cache"]
    assert ("main", 3, 5, True) == (chain.parent, chain.start, chain.depth, chain.root_cause)


@pytest.mark.parametrize(("after", "ok"), [(0, False), (1, True), (3, True), (4, False)])
def test_a_branch_explains_an_answer_of_its_parent(
    clock: ManualClock, after: int, ok: bool
) -> None:
    """Boundaries of branch_depth: after the parent's first to its last answer."""
    incident = _p3(clock)
    for n in range(1, 4):
        incident.add_why(f"main {n}", actor="ana")

    def branch() -> object:
        return incident.add_why("b", chain="b", branches_from="main", after=after, actor="ana")

    if ok:
        branch()
        assert after + 1 == incident.why_chains["b"].start
    else:
        assert ["branch_depth"] == _rules(incident, branch)


def test_a_misplaced_branch_is_refused_for_its_place_alone(clock: ManualClock) -> None:
    """A branch off nothing of its parent's, even marked as a root cause: branch_depth only."""
    incident = _p3(clock)
    incident.add_why("main 1", actor="ana")
    assert ["branch_depth"] == _rules(
        incident,
        lambda: incident.add_why(
            "b", chain="b", branches_from="main", after=0, root_cause=True, actor="ana"
        ),
    )


def test_an_answer_recording_its_depth_must_record_the_right_one(clock: ManualClock) -> None:
    """why_depth: a hand-built answer at the wrong depth is refused; the right one goes."""
    incident = _p3(clock)
    now = clock.now()

    def answer(depth: int) -> WhyAnswered:
        return WhyAnswered(
            actor="ana", occurred_at=now, recorded_at=now, chain="main", answer="a", depth=depth
        )

    assert ["why_depth"] == _rules(incident, lambda: incident.record(answer(2)))
    incident.record(answer(1))


def test_old_histories_with_a_shallow_root_cause_keep_loading(clock: ManualClock) -> None:
    """An answer written before depths were recorded reads, replays and writes as it was."""
    incident = _p3(clock)
    line = (
        '{"schema":1,"type":"why_answered","actor":"ana","occurred_at":"2026-03-01T14:00:00+00:00",'
        '"recorded_at":"2026-03-01T14:00:00+00:00","chain":"main","answer":"why","root_cause":true}'
    )
    old = codec.loads(line)
    assert (None, None) == (old.depth, old.branches_from)  # type: ignore[attr-defined]
    assert line == codec.dumps(old)
    incident.record(attrs.evolve(old, occurred_at=clock.now(), recorded_at=clock.now()))
    again = Incident.replay(incident.history)
    assert again.why_chains["main"].root_cause
    assert not GUARDS["root_cause_found"].test(again, again.policy)  # one why is not five
    text = rca_document(again, now=clock.now()).markdown()
    assert "**(root cause marked at why 1, short of the 5 required)**" in text


def test_a_branch_built_without_its_depth_follows_its_parent(clock: ManualClock) -> None:
    """A hand-built branch without a depth answers the why after its parent's last answer."""
    incident = _p3(clock)
    incident.add_why("a", actor="ana")
    now = clock.now()
    incident.record(
        WhyAnswered(
            actor="ana", occurred_at=now, recorded_at=now, chain="b", answer="b",
            branches_from="main",
        )
    )  # fmt: skip
    assert (2, 2) == (incident.why_chains["b"].start, incident.why_chains["b"].depth)
    assert incident == Incident.replay(incident.history)


def test_the_rca_draws_branches_as_nested_lists(clock: ManualClock) -> None:
    """The branch's first answer sits under the answer it explains, beside the next one."""
    incident = _p3(clock)
    incident.add_why("down", actor="ana")
    incident.add_why("db failed", actor="ana")
    incident.add_why("disk full", chain="disk", branches_from="main", after=1, actor="ana")
    text = rca_document(incident, now=clock.now()).markdown()
    assert (
        "- Why 1 (chain main): down\n  - Why 2: db failed\n  - Why 2 (chain disk): disk full\n"
    ) in text


# -- data loss, irreversible changes ----------------------------------------------------------


def test_data_loss_windows_are_checked_and_measured(clock: ManualClock) -> None:
    """An empty window is fine, a reversed one is not; overlaps count once in the measure."""
    incident = _p3(clock)
    clock.advance(minutes=60)
    a = START
    assert data_loss_window(incident) is None
    assert ["window_in_order"] == _rules(
        incident,
        lambda: incident.record_data_loss(
            "rows", window_start=a, window_end=a - timedelta(seconds=1), actor="ana"
        ),
    )
    assert ["not_in_future"] == _rules(
        incident,
        lambda: incident.record_data_loss(
            "rows", window_start=a, window_end=clock.now() + timedelta(seconds=1), actor="ana"
        ),
    )
    incident.record_data_loss("rows", window_start=a, window_end=a, actor="ana")
    assert 0.0 == data_loss_window(incident)
    now = clock.now()
    incident.record_data_loss("now", window_start=now, window_end=now, actor="ana")
    incident.retract(incident.version, reason="ends when recorded: in time", actor="ana")
    incident.record_data_loss(
        "orders", window_start=a, window_end=a + timedelta(minutes=20), amount="1,200", actor="ana"
    )
    incident.record_data_loss(
        "carts",
        window_start=a + timedelta(minutes=10),
        window_end=a + timedelta(minutes=30),
        actor="ana",
    )
    incident.record_data_loss(
        "logs",
        window_start=a + timedelta(minutes=40),
        window_end=a + timedelta(minutes=45),
        loss_id="logs",
        actor="ana",
    )
    assert ["L1", "L2", "L3", "logs"] == list(incident.data_losses)
    assert 35 * 60.0 == data_loss_window(incident)
    assert ["unique_id"] == _rules(
        incident,
        lambda: incident.record_data_loss(
            "x", window_start=a, window_end=a, loss_id="logs", actor="ana"
        ),
    )
    rows = data_loss_section(incident)[1].rows  # type: ignore[union-attr]
    assert "not known" == rows[0][4][0].text
    incident.retract(incident.version, reason="the logs were restored", actor="ana")
    assert 30 * 60.0 == data_loss_window(incident)


def test_an_irreversible_change_counts_as_reconciled(clock: ManualClock) -> None:
    """A change that cannot be undone is reconciled as irreversible, and green may follow."""
    incident = _p3(clock)
    change = incident.log_change(what="deleted /var/db", where="db-1", revert="none", actor="ana")
    incident.reconcile_change(change.change_id, ChangeOutcome.IRREVERSIBLE, actor="ana")
    assert incident.manual_changes[change.change_id].reconciled


def test_discrepancies_are_notes_of_their_own_kind_shown_in_the_rca(clock: ManualClock) -> None:
    """A discrepancy note is a note, listed apart and in the RCA; a plain note is not."""
    incident = _p3(clock)
    incident.note("plain", actor="ana")
    incident.note("status page 14:10, blog 14:20", kind=NoteKind.DISCREPANCY, actor="ana")
    assert 2 == len(incident.notes)
    (found,) = incident.discrepancies
    assert "status page 14:10, blog 14:20" == found.text
    assert "Discrepancies between sources" == discrepancies_section(incident)[0].text  # type: ignore[union-attr]
    assert [] == corrections_section(incident)


# -- commands where reality has them ----------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "allowed", "refused_in"),
    [
        ("log_change", State.GREEN, State.DISMISSED),
        ("post_update", State.REPORTED, State.POST_MORTEM),
        ("start_report", State.MITIGATING, State.DECLARED),
    ],
)
def test_commands_allowed_where_reality_has_them(
    command: str, allowed: State, refused_in: State
) -> None:
    """A change after green, an update after the report, an interim report while mitigating."""
    assert allowed in COMMAND_STATES[command]
    assert refused_in not in COMMAND_STATES[command]


def test_every_restriction_has_its_reason() -> None:
    """Each command allowed in some states only says why, in the runbook's terms."""
    assert list(COMMAND_STATES) == list(COMMAND_STATE_REASONS)
    assert all(reason.strip().endswith(".") for reason in COMMAND_STATE_REASONS.values())


def test_each_command_is_allowed_in_the_states_the_runbook_gives_it() -> None:
    """Step by step: what is done once, while active, while open, or whenever (even dismissed)."""
    d, m, y, g, r = State.DECLARED, State.MITIGATING, State.YELLOW, State.GREEN, State.REPORTED
    open_ = {d, m, y, g, r, State.POST_MORTEM}
    always = open_ | {State.DISMISSED}
    expected = {
        "validate": {d},
        "link": open_,
        "assign": open_,
        "hand_off": open_,
        "release": open_,
        "start_experiment": {d, m},
        "conclude_experiment": {d, m},
        "note": always,
        "post_update": {d, m, y, g, r},
        "log_change": open_,
        "reconcile_change": always,
        "add_why": open_,
        "add_factor": open_,
        "verify_recovery": {m},
        "verify_customer": {y},
        "open_debt": {m, y},
        "close_debt": {m, y},
        "start_report": {m, y, g},
        "schedule_post_mortem": {g, r},
        "add_action": open_,
        "close_action": always,
        "change_priority": {d, m, y},
        "adopt_policy": open_,
        "record_data_loss": open_,
        "amend": always,
        "retract": always,
        "change_impact": open_,
    }
    assert expected == {command: set(states) for command, states in COMMAND_STATES.items()}


def test_a_policy_recorded_before_the_new_commands_authorizes_them_by_default(
    clock: ManualClock,
) -> None:
    """An old recorded policy's text has no amend, retract or data-loss entry: the defaults."""
    old_text = "\n".join(
        line
        for line in DEFAULT_POLICY.to_toml().splitlines()
        if not line.startswith(("amend =", "retract =", "record_data_loss ="))
    )
    recorded = ev.RecordedPolicy.of("default", old_text + "\n")
    policy = Policy.from_recorded(recorded)
    for command in ("amend", "retract", "record_data_loss"):
        assert DEFAULT_POLICY.allowed_roles(command) == policy.allowed_roles(command)
    declared = ev.Declared(
        actor="ana", occurred_at=START, recorded_at=START, incident_id="OLD-1", title="Old",
        priority=Priority.P3, policy=recorded,
    )  # fmt: skip
    incident = Incident.replay([declared], clock=clock)
    incident.amend("title", "Old, corrected", reason="typo", actor="ana")
    assert "Old, corrected" == incident.title
