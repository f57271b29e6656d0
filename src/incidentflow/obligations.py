"""What is owed on an incident at a given time: updates, verifications, reports, actions.

``obligations(incident, now)`` (or ``incident.due(now)``) lists each open duty with who owes
it — the holders of the roles the policy allows to discharge it — and, where the runbook sets
a pace, when it falls due.  The stakeholder-update cadence comes from the priority's
``update_every`` and counts from the last update (or the declaration when none was posted yet).
The post-mortem meeting must be held within the priority's ``post_mortem_within`` of green
(:func:`post_mortem_deadline`): it is owed, with that deadline, from green until it is
scheduled, and then until the time it is scheduled for.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from attrs import frozen

from .lifecycle import State
from .policy import GUARDS
from .roles import Role

if TYPE_CHECKING:
    from .incident import Incident

__all__ = ["Obligation", "obligations", "post_mortem_deadline"]


@frozen(kw_only=True)
class Obligation:
    """One duty owed on an incident.

    ``due_at`` is ``None`` for a duty without a deadline; ``overdue`` is whether ``due_at``
    had passed at the time asked.  ``owners`` are the people holding ``roles``.
    """

    kind: str
    incident_id: str
    description: str
    command: str
    roles: frozenset[Role]
    owners: tuple[str, ...]
    due_at: datetime | None = None
    overdue: bool = False


def post_mortem_deadline(incident: Incident) -> datetime | None:
    """When the post-mortem meeting must be held by, or ``None`` if the incident was never green.

    The last entry into green plus the ``post_mortem_within`` of the incident's *current*
    priority.
    """
    green_at = incident.when_entered(State.GREEN)  # scans the log backwards to the last green
    if green_at is None:
        return None
    return green_at + incident.policy.rules_for(incident.priority).post_mortem_within


def obligations(incident: Incident, now: datetime) -> tuple[Obligation, ...]:
    """Every duty open on ``incident`` at ``now``: overdue first, then by due time."""
    policy = incident.policy
    found: list[Obligation] = []

    def owe(
        kind: str,
        command: str,
        description: str,
        due_at: datetime | None = None,
        owners: tuple[str, ...] | None = None,
    ) -> None:
        roles = policy.allowed_roles(command) or frozenset()
        if owners is None:
            owners = tuple(
                dict.fromkeys(
                    h for r in sorted(roles, key=lambda r: r.value) for h in incident.holders(r)
                )
            )
        found.append(
            Obligation(
                kind=kind,
                incident_id=incident.id,
                description=description,
                command=command,
                roles=roles,
                owners=owners,
                due_at=due_at,
                overdue=due_at is not None and due_at < now,
            )
        )

    state = incident.state
    rules = policy.rules_for(incident.priority)
    if state.active and rules.enforce_cadence:
        since = max([incident.declared_at, *(u.occurred_at for u in incident.updates)])
        owe(
            "stakeholder_update",
            "post_update",
            f"update stakeholders every {int(rules.update_every.total_seconds() // 60)} "
            "minutes, even with no progress",
            since + rules.update_every,
        )
    if state is State.MITIGATING and incident.recovery is None:
        owe("recovery_verification", "verify_recovery", "verify recovery (step 11)")
    if state is State.YELLOW and not GUARDS["customer_verified"].test(incident, policy):
        owe("customer_verification", "verify_customer", "get the customer to verify the fix")
    if state in (State.MITIGATING, State.YELLOW):
        for debt in incident.tech_debt.values():
            if debt.open:
                owe("tech_debt", "close_debt", f"clean up tech debt {debt.id}: {debt.description}")
    for change in incident.manual_changes.values():
        if not change.reconciled:
            owe(
                "manual_change",
                "reconcile_change",
                f"revert or make permanent change {change.id}: {change.what}",
            )
    if state is State.GREEN and incident.report is None:
        owe("report", "start_report", "start the incident report (step 14)")
    meeting = incident.post_mortem
    owed = state in (State.GREEN, State.REPORTED) and meeting is None
    pending = (
        state in (State.GREEN, State.REPORTED, State.POST_MORTEM)
        and meeting is not None
        and meeting.scheduled_for > now
    )
    if owed or pending:
        deadline = post_mortem_deadline(incident)  # scans the log: only when needed
        by = f" by {deadline:%Y-%m-%d %H:%M %Z}" if deadline is not None else ""
        if meeting is None:
            owe(
                "post_mortem",
                "schedule_post_mortem",
                f"schedule the post-mortem (step 15) and hold it{by}",
                deadline,
            )
        else:
            late = deadline is not None and meeting.scheduled_for > deadline
            owe(
                "post_mortem_meeting",
                "schedule_post_mortem",
                f"hold the post-mortem meeting{by}: scheduled for "
                f"{meeting.scheduled_for:%Y-%m-%d %H:%M %Z}"
                + (", after the deadline" if late else ""),
                deadline,
            )
    for item in incident.action_items.values():
        if item.open:
            owe(
                "action_item",
                "close_action",
                f"{item.kind.value} action {item.id}: {item.description}",
                item.due_at,
                None if item.owner is None else (item.owner,),
            )
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return tuple(sorted(found, key=lambda o: (not o.overdue, o.due_at or far, o.kind)))
