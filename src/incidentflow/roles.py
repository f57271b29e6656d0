"""The four focus roles of an incident response."""

from __future__ import annotations

from collections.abc import Mapping

from ._vocabulary import Vocabulary

__all__ = ["Role"]


class Role(Vocabulary):
    """A focus role from the runbook.

    Communicator, Recorder and Lead each have one holder at a time; the Lead coordinates
    *several* Incident Commanders, so that role may have many holders.

    >>> Role.LEAD.single_holder, Role.INCIDENT_COMMANDER.single_holder
    (True, False)
    >>> Role.parse("IC")
    <Role.INCIDENT_COMMANDER: 'incident_commander'>
    """

    COMMUNICATOR = "communicator"
    RECORDER = "recorder"
    LEAD = "lead"
    INCIDENT_COMMANDER = "incident_commander"

    @classmethod
    def _aliases(cls) -> Mapping[str, Role]:
        return {"ic": cls.INCIDENT_COMMANDER, "commander": cls.INCIDENT_COMMANDER}

    @property
    def single_holder(self) -> bool:
        """Whether at most one person may hold the role at a time."""
        return self is not Role.INCIDENT_COMMANDER

    @property
    def title(self) -> str:
        """The role's name as the runbook writes it."""
        return _TITLES[self]

    @property
    def duty(self) -> str:
        """What the runbook asks of the role."""
        return _DUTIES[self]


# An incident keeps its staffing as a table: one tuple of holders per role, in this order (the
# order Role declares them).  A tuple of strings holds no other object, so the collector stops
# tracking it, where a dict keyed by the Role members is tracked for the incident's life.
STAFFING_ORDER: tuple[Role, ...] = tuple(Role)
"""The roles in the order of an incident's staffing table (the order Role declares them)."""

SLOT: Mapping[Role, int] = {role: number for number, role in enumerate(STAFFING_ORDER)}
"""Each role's place in an incident's staffing table."""

UNSTAFFED: tuple[tuple[str, ...], ...] = ((),) * len(STAFFING_ORDER)
"""The staffing table of an incident where nobody holds a role (the one shared table)."""


_TITLES = {
    Role.COMMUNICATOR: "Communicator",
    Role.RECORDER: "Recorder",
    Role.LEAD: "Lead",
    Role.INCIDENT_COMMANDER: "IC (Incident Commander)",
}

_DUTIES = {
    Role.COMMUNICATOR: "Provides updates, including those of no progress, to the stakeholders.",
    Role.RECORDER: "Logs what is tried and did not work, creating an incident document.",
    Role.LEAD: "Works with the communicator and team to coordinate different ICs to determine "
    "the root cause.",
    Role.INCIDENT_COMMANDER: "Coordinates with the lead and other ICs to ensure that "
    "experiments do not interfere with other efforts.",
}
