"""Facts several documents gather from an incident the same way.

>>> from incidentflow.demo import run_demo
>>> demo = run_demo(lambda line: None)
>>> systems(demo)
['db-1', 'auth', 'auth service']
>>> {role.value: names for role, names in role_holders(demo).items()}["lead"]
['ana']
"""

from __future__ import annotations

from incidentflow import events as ev
from incidentflow.incident import Incident
from incidentflow.roles import Role

__all__ = ["role_holders", "systems"]


def systems(incident: Incident) -> list[str]:
    """The systems examined: experiments' components, then where manual changes were made."""
    return list(
        dict.fromkeys(
            [e.component for e in incident.experiments.values()]
            + [c.where for c in incident.manual_changes.values()]
        )
    )


def role_holders(incident: Incident) -> dict[Role, list[str]]:
    """Everyone who held each role at some point, in the order they took it, roles in order."""
    people: dict[Role, list[str]] = {}
    for event in incident.history:
        if isinstance(event, ev.RoleAssigned):
            holder = event.holder
        elif isinstance(event, ev.RoleHandedOff):
            holder = event.to_holder
        else:
            continue
        held = people.setdefault(event.role, [])
        if holder not in held:
            held.append(holder)
    return {role: people[role] for role in Role if role in people}
