"""The four focus roles, checked against the runbook's "Roles" section."""

from __future__ import annotations

import pytest

from incidentflow import Role

# The runbook's "Roles" section, copied by hand: "**Title**: duty".
RUNBOOK_ROLES = {
    Role.COMMUNICATOR: (
        "Communicator",
        "Provides updates, including those of no progress, to the stakeholders.",
    ),
    Role.RECORDER: (
        "Recorder",
        "Logs what is tried and did not work, creating an incident document following the "
        "base Jira procedure.",
    ),
    Role.LEAD: (
        "Lead",
        "Works with the communicator and team to coordinate different ICs to determine the "
        "root cause.",
    ),
    Role.INCIDENT_COMMANDER: (
        "IC (Incident Commander)",
        "Coordinates with the lead and other ICs to ensure that experiments do not interfere "
        "with other efforts.",
    ),
}


def test_there_are_four_roles() -> None:
    """The runbook names exactly four focus roles."""
    assert set(RUNBOOK_ROLES) == set(Role)


def test_role_values_are_stable_names() -> None:
    """Role values are the snake_case names used in policies and serialized events."""
    assert ["communicator", "recorder", "lead", "incident_commander"] == [r.value for r in Role]


@pytest.mark.parametrize("role", [Role.COMMUNICATOR, Role.RECORDER, Role.LEAD], ids=str)
def test_single_holder_roles(role: Role) -> None:
    """Communicator, Recorder and Lead have one holder at a time."""
    assert role.single_holder is True


def test_incident_commander_may_have_many_holders() -> None:
    """The Lead coordinates *different ICs*, so the IC role is not single-holder."""
    assert Role.INCIDENT_COMMANDER.single_holder is False


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_title_matches_runbook(role: Role) -> None:
    """Each role's title is written as the runbook writes it."""
    assert RUNBOOK_ROLES[role][0] == role.title


@pytest.mark.parametrize("role", [Role.COMMUNICATOR, Role.LEAD, Role.INCIDENT_COMMANDER], ids=str)
def test_duty_matches_runbook(role: Role) -> None:
    """Each role's duty is the runbook's sentence word for word."""
    assert RUNBOOK_ROLES[role][1] == role.duty


def test_recorder_duty_is_the_runbook_without_the_tool() -> None:
    """The Recorder's duty is the runbook's, minus its Jira-specific clause (tool-agnostic)."""
    runbook = RUNBOOK_ROLES[Role.RECORDER][1]
    assert runbook.startswith(Role.RECORDER.duty.removesuffix("."))
    assert "Jira" not in Role.RECORDER.duty
