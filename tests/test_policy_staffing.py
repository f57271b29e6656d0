"""No takeover: who may change who holds a role, before and after an incident is staffed."""

from __future__ import annotations

import functools

import attrs
import pytest

from incidentflow import (
    DEFAULT_POLICY,
    Incident,
    ManualClock,
    NotAuthorized,
    Policy,
    Priority,
    Role,
    RuleViolated,
)
from refusals import refused

IC, LEAD, RECORDER, COMMUNICATOR = (
    Role.INCIDENT_COMMANDER,
    Role.LEAD,
    Role.RECORDER,
    Role.COMMUNICATOR,
)
OPEN_ASSIGN = Policy.from_toml('open_when_unstaffed = false\n[authorization]\nassign = "anyone"')
STRICT = attrs.evolve(DEFAULT_POLICY, open_when_unstaffed=False)


@pytest.mark.parametrize("policy", [DEFAULT_POLICY, OPEN_ASSIGN, STRICT, Policy.permissive()])
def test_anyone_may_staff_an_incident_nobody_holds_a_role_in(
    clock: ManualClock, policy: Policy
) -> None:
    """Before anyone holds a role, a stranger may assign any role to anyone, whatever the table."""
    incident = Incident.declare("INC-1", "t", Priority.P1, actor="ana", policy=policy, clock=clock)
    assert "assign" in incident.allowed_commands("zed")
    incident.assign(COMMUNICATOR, "cy", actor="zed")
    assert ("cy",) == incident.holders(COMMUNICATOR)


@pytest.mark.parametrize("policy", [DEFAULT_POLICY, OPEN_ASSIGN, STRICT, Policy.permissive()])
def test_once_one_role_is_held_strangers_cannot_assign(clock: ManualClock, policy: Policy) -> None:
    """One holder of any role (here a Recorder, not required at P2) makes the incident staffed."""
    incident = Incident.declare("INC-1", "t", Priority.P2, actor="ana", policy=policy, clock=clock)
    incident.assign(RECORDER, "di", actor="di")
    refusal = refused(incident, lambda: incident.assign(IC, "zed", actor="zed"))
    assert isinstance(refusal, NotAuthorized)
    assert ("authorized",) == refusal.rules
    assert "assign" not in incident.allowed_commands("zed")


def test_staff_assign_as_the_table_allows(clock: ManualClock) -> None:
    """Under the default table a Recorder assigns the first IC (no leader yet), then cannot."""
    incident = Incident.declare("INC-1", "t", Priority.P2, actor="ana", clock=clock)
    incident.assign(RECORDER, "di", actor="di")
    incident.assign(IC, "bo", actor="di")
    refusal = refused(incident, lambda: incident.assign(LEAD, "ana", actor="di"))
    assert "di must hold incident_commander or lead to assign" == refusal.unmet[0].detail
    incident.assign(LEAD, "ana", actor="bo")


def test_strangers_cannot_release_or_hand_off_someone_elses_role(clock: ManualClock) -> None:
    """Even where the table lets anyone release or hand off, a stranger may not take a role."""
    incident = Incident.declare(
        "INC-1", "t", Priority.P2, actor="ana", policy=Policy.permissive(), clock=clock
    )
    incident.assign(IC, "bo", actor="bo")
    incident.assign(IC, "eve", actor="bo")
    for command in (
        lambda: incident.release(IC, "eve", actor="zed"),
        lambda: incident.hand_off(IC, "eve", "zed", actor="zed"),
        lambda: incident.assign(IC, "zed", actor="zed"),
    ):
        assert ("authorized",) == refused(incident, command).rules
    incident.release(IC, "eve", actor="bo")  # staff may, where the table allows
    assert ("bo",) == incident.holders(IC)


def test_a_holder_still_hands_off_and_releases_their_own_role(clock: ManualClock) -> None:
    """Stepping out of one's own role needs no authority beyond holding it."""
    incident = Incident.declare("INC-1", "t", Priority.P2, actor="ana", policy=STRICT, clock=clock)
    incident.assign(IC, "bo", actor="ana")
    incident.assign(COMMUNICATOR, "cy", actor="bo")
    incident.hand_off(COMMUNICATOR, "cy", "fay", actor="cy")
    incident.release(COMMUNICATOR, "fay", actor="fay")
    assert () == incident.holders(COMMUNICATOR)


def test_an_incident_whose_roles_are_all_released_is_open_to_staff_again(
    clock: ManualClock,
) -> None:
    """The rule reads who holds a role now: with nobody left, anyone may assign again."""
    incident = Incident.declare("INC-1", "t", Priority.P2, actor="ana", clock=clock)
    incident.assign(COMMUNICATOR, "cy", actor="ana")
    refused(incident, lambda: incident.assign(IC, "zed", actor="zed"))
    incident.release(COMMUNICATOR, "cy", actor="cy")
    incident.assign(IC, "zed", actor="zed")


def test_the_last_holder_of_a_required_role_is_handed_off_not_released(
    clock: ManualClock,
) -> None:
    """Releasing the only IC of a P2 is refused, by anyone, in any state; a hand-off works."""
    incident = Incident.declare("INC-1", "t", Priority.P2, actor="ana", clock=clock)
    incident.assign(IC, "bo", actor="ana")
    incident.assign(LEAD, "ana", actor="bo")
    for actor in ("bo", "ana"):
        refusal = refused(incident, functools.partial(incident.release, IC, "bo", actor=actor))
        assert isinstance(refusal, RuleViolated)
        assert ("required_role_kept",) == refusal.rules
    incident.hand_off(IC, "bo", "eve", actor="bo")
    assert ("eve",) == incident.holders(IC)


def test_a_strangers_refusal_names_both_rules(clock: ManualClock) -> None:
    """A stranger releasing the last IC is told about authority and about the last holder."""
    incident = Incident.declare("INC-1", "t", Priority.P2, actor="ana", clock=clock)
    incident.assign(IC, "bo", actor="ana")
    refusal = refused(incident, lambda: incident.release(IC, "bo", actor="zed"))
    assert ("authorized", "required_role_kept") == refusal.rules
    assert isinstance(refusal, NotAuthorized)


def test_strict_policies_may_now_restrict_assign(clock: ManualClock) -> None:
    """open_when_unstaffed = false no longer forces assign open to anyone: staffing stays safe."""
    policy = Policy.from_toml("open_when_unstaffed = false")
    assert frozenset({LEAD, IC}) == policy.allowed_roles("assign")
    incident = Incident.declare("INC-1", "t", Priority.P3, actor="ana", policy=policy, clock=clock)
    incident.assign(IC, "bo", actor="zed")  # nobody holds a role yet
    assert ("authorized",) == refused(
        incident, lambda: incident.assign(COMMUNICATOR, "zed", actor="zed")
    ).rules
    incident.assign(COMMUNICATOR, "cy", actor="bo")
