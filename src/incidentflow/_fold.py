"""The fold: how each event changes an incident, applied only after every rule passed.

Each function is a pure update of the incident's private fields that cannot fail; the policy
has already checked the event.  Replaying a log through these functions gives the identical
incident.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from . import events as ev
from .lifecycle import State
from .policy import Policy
from .records import ActionItem, Experiment, ManualChange, TechDebt, WhyChain
from .roles import Role

if TYPE_CHECKING:
    from .incident import Incident

__all__ = ["FOLD"]


def _declared(i: Incident, e: ev.Declared) -> None:
    i._declared = e
    i._priority = e.priority
    i._moved_at = e.occurred_at  # the declaration counts as the first move
    if e.policy is not None:
        _run_under(i, e.policy)


def _run_under(i: Incident, recorded: ev.RecordedPolicy) -> None:
    """Follow the recorded policy from now on (its content was checked by the rules)."""
    if i._policy.recorded() != recorded:  # the policy given is often the one recorded
        i._policy = Policy.from_recorded(recorded)
    i._recorded = recorded


def _policy_adopted(i: Incident, e: ev.PolicyAdopted) -> None:
    _run_under(i, e.policy)


def _validated(i: Incident, e: ev.Validated) -> None:
    i._validation = e


def _linked(i: Incident, e: ev.Linked) -> None:
    i._links[e.kind] = e


def _assigned(i: Incident, e: ev.RoleAssigned) -> None:
    i._roles[e.role] = (*i._roles.get(e.role, ()), e.holder)


def _handed_off(i: Incident, e: ev.RoleHandedOff) -> None:
    i._roles[e.role] = tuple(e.to_holder if h == e.from_holder else h for h in i._roles[e.role])
    if e.role is Role.INCIDENT_COMMANDER:
        for key, experiment in i._running.items():
            if experiment.owner == e.from_holder:
                i._experiments[key] = i._running[key] = attrs.evolve(experiment, owner=e.to_holder)


def _released(i: Incident, e: ev.RoleReleased) -> None:
    remaining = tuple(h for h in i._roles[e.role] if h != e.holder)
    if remaining:
        i._roles[e.role] = remaining
    else:
        del i._roles[e.role]


def _experiment_started(i: Incident, e: ev.ExperimentStarted) -> None:
    i._experiments[e.experiment_id] = i._running[e.experiment_id] = Experiment(
        id=e.experiment_id,
        hypothesis=e.hypothesis,
        action=e.action,
        expected=e.expected,
        component=e.component,
        owner=e.owner,
        started_at=e.occurred_at,
    )


def _experiment_concluded(i: Incident, e: ev.ExperimentConcluded) -> None:
    del i._running[e.experiment_id]
    i._experiments[e.experiment_id] = attrs.evolve(
        i._experiments[e.experiment_id],
        observed=e.observed,
        verdict=e.verdict,
        concluded_at=e.occurred_at,
    )


def _noted(i: Incident, e: ev.NoteAdded) -> None:
    i._notes.append(e)


def _updated(i: Incident, e: ev.UpdatePosted) -> None:
    i._updates.append(e)


def _change_logged(i: Incident, e: ev.ChangeLogged) -> None:
    i._manual_changes[e.change_id] = ManualChange(
        id=e.change_id,
        by=e.made_by,
        what=e.what,
        where=e.where,
        revert=e.revert,
        at=e.occurred_at,
    )


def _change_reconciled(i: Incident, e: ev.ChangeReconciled) -> None:
    i._manual_changes[e.change_id] = attrs.evolve(
        i._manual_changes[e.change_id], outcome=e.outcome, reconciled_at=e.occurred_at
    )


def _why_answered(i: Incident, e: ev.WhyAnswered) -> None:
    chain = i._why_chains.get(e.chain)
    answers = (*chain.answers, e.answer) if chain is not None else (e.answer,)
    i._why_chains[e.chain] = WhyChain(id=e.chain, answers=answers, root_cause=e.root_cause)


def _factor_added(i: Incident, e: ev.FactorAdded) -> None:
    i._factors.append(e)


def _recovery_verified(i: Incident, e: ev.RecoveryVerified) -> None:
    i._recovery = e


def _customer_verified(i: Incident, e: ev.CustomerVerified) -> None:
    i._customer_verification = e


def _debt_opened(i: Incident, e: ev.DebtOpened) -> None:
    i._tech_debt[e.debt_id] = TechDebt(
        id=e.debt_id, description=e.description, opened_at=e.occurred_at
    )


def _debt_closed(i: Incident, e: ev.DebtClosed) -> None:
    i._tech_debt[e.debt_id] = attrs.evolve(i._tech_debt[e.debt_id], closed_at=e.occurred_at)


def _report_started(i: Incident, e: ev.ReportStarted) -> None:
    i._report = e


def _post_mortem_scheduled(i: Incident, e: ev.PostMortemScheduled) -> None:
    i._post_mortem = e


def _action_added(i: Incident, e: ev.ActionAdded) -> None:
    i._action_items[e.action_id] = ActionItem(
        id=e.action_id, description=e.description, owner=e.owner, due_at=e.due_at, kind=e.kind
    )


def _action_closed(i: Incident, e: ev.ActionClosed) -> None:
    i._action_items[e.action_id] = attrs.evolve(
        i._action_items[e.action_id], closed_at=e.occurred_at
    )


def _priority_changed(i: Incident, e: ev.PriorityChanged) -> None:
    i._priority = e.priority


def _impact_changed(i: Incident, e: ev.ImpactChanged) -> None:
    i._impact.append(e)


def _state_changed(i: Incident, e: ev.StateChanged) -> None:
    if e.source is State.YELLOW and e.target is State.MITIGATING:
        i._recovery = None
    i._state = e.target
    i._moved_at = e.occurred_at


FOLD: dict[type[ev.Event], Any] = {
    ev.Declared: _declared,
    ev.Validated: _validated,
    ev.Linked: _linked,
    ev.RoleAssigned: _assigned,
    ev.RoleHandedOff: _handed_off,
    ev.RoleReleased: _released,
    ev.ExperimentStarted: _experiment_started,
    ev.ExperimentConcluded: _experiment_concluded,
    ev.NoteAdded: _noted,
    ev.UpdatePosted: _updated,
    ev.ChangeLogged: _change_logged,
    ev.ChangeReconciled: _change_reconciled,
    ev.WhyAnswered: _why_answered,
    ev.FactorAdded: _factor_added,
    ev.RecoveryVerified: _recovery_verified,
    ev.CustomerVerified: _customer_verified,
    ev.DebtOpened: _debt_opened,
    ev.DebtClosed: _debt_closed,
    ev.ReportStarted: _report_started,
    ev.PostMortemScheduled: _post_mortem_scheduled,
    ev.ActionAdded: _action_added,
    ev.ActionClosed: _action_closed,
    ev.PriorityChanged: _priority_changed,
    ev.PolicyAdopted: _policy_adopted,
    ev.ImpactChanged: _impact_changed,
    ev.StateChanged: _state_changed,
}
