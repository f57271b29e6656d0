"""Facts several documents gather from an incident the same way.

>>> from incidentflow.demo import run_demo
>>> demo = run_demo(lambda line: None)
>>> systems(demo)
['db-1', 'auth', 'auth service']
>>> {role.value: names for role, names in role_holders(demo).items()}["lead"]
['ana']
>>> impact(demo)
'every customer: checkout and deploys fail'
>>> [(category, len(factors)) for category, factors in factors_by_category(demo)]
[(<FishboneCategory.MEASUREMENT: 'measurement'>, 1)]
"""

from __future__ import annotations

from incidentflow import events as ev
from incidentflow.incident import Incident
from incidentflow.records import FishboneCategory
from incidentflow.roles import Role

__all__ = ["factors_by_category", "impact", "role_holders", "systems"]


def impact(incident: Incident) -> str | None:
    """The impact recorded when the problem was validated, or ``None`` if none (or blank)."""
    validation = incident.validation
    if validation is None or not validation.impact.strip():
        return None
    return validation.impact


def factors_by_category(
    incident: Incident,
) -> list[tuple[FishboneCategory | None, list[ev.FactorAdded]]]:
    """The contributing factors by fishbone category, each group in the order recorded.

    Only categories with a factor appear, in :class:`FishboneCategory` order; the
    uncategorized factors (category ``None``) come last.
    """
    grouped: dict[FishboneCategory | None, list[ev.FactorAdded]] = {}
    for factor in incident.factors:
        grouped.setdefault(factor.category, []).append(factor)
    return [
        (category, grouped[category])
        for category in (*FishboneCategory, None)
        if category in grouped
    ]


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
