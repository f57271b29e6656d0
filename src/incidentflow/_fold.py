"""The fold: how each event changes an incident, applied only after every rule passed.

Each function is a pure update of the incident's private fields that cannot fail; the policy
has already checked the event.  Replaying a log through these functions gives the identical
incident.  An incident's collections start as the shared, read-only :data:`NO_ENTRIES` and
:data:`NO_ITEMS`: a function makes the incident its own before its first write to one (and a
view asked for makes its own too, so views stay live).  The records kept are
built whole rather than through ``attrs.evolve``, which costs several times more on a path
every conclusion, reconciliation and answer takes, and by a builder of their own that fills
their slots directly (see :func:`_builder`).
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from . import events as ev
from .corrections import AMENDABLE, TEXT_FIELDS
from .lifecycle import State
from .policy import Policy
from .records import ActionItem, Correction, DataLoss, Experiment, ManualChange, TechDebt, WhyChain
from .roles import SLOT, UNSTAFFED, Role

if TYPE_CHECKING:
    from .incident import Incident

__all__ = ["FOLD", "NO_ENTRIES", "NO_ITEMS"]

NO_ENTRIES: Any = MappingProxyType({})
"""The empty mapping every incident's dicts start as, shared: read-only, so nothing fills it."""

NO_ITEMS: Any = ()
"""The empty sequence every incident's lists start as, shared."""

R = TypeVar("R")


def _builder(kind: type[R]) -> Callable[..., R]:
    """A function building a ``kind`` record from the keywords its ``__init__`` takes.

    It fills each slot through the slot's own descriptor, as the attrs ``__init__`` does
    through ``object.__setattr__`` at twice the cost; the fold builds one record for most of
    the events of a long history.  Only for a record class with no validator, converter,
    default factory nor post-init step (the records kept hold values of events already
    checked); any other class is its own builder.
    """
    fields = attrs.fields(cast("Any", kind))
    if hasattr(kind, "__attrs_post_init__") or any(
        f.validator is not None
        or f.converter is not None
        or not f.init
        or isinstance(f.default, attrs.Factory)  # type: ignore[arg-type]
        for f in fields
    ):
        return kind
    # Every name of the namespace starts with "_", which no parameter does (attrs strips it).
    names: dict[str, Any] = {"_new": object.__new__, "_kind": kind}
    parameters, body = [], []
    for f in fields:
        names[f"_set_{f.name}"] = getattr(kind, f.name).__set__
        if f.default is attrs.NOTHING:
            parameters.append(f.alias)
        else:
            names[f"_default_{f.name}"] = f.default
            parameters.append(f"{f.alias}=_default_{f.name}")
        body.append(f"    _set_{f.name}(_record, {f.alias})")
    source = "\n".join(
        [
            f"def build(*, {', '.join(parameters)}):",
            "    _record = _new(_kind)",
            *body,
            "    return _record",
        ]
    )
    exec(compile(source, f"<build {kind.__name__}>", "exec"), names)
    built: Callable[..., R] = names["build"]
    return built


_new_experiment = _builder(Experiment)
_new_manual_change = _builder(ManualChange)
_new_why_chain = _builder(WhyChain)
_new_data_loss = _builder(DataLoss)
_new_tech_debt = _builder(TechDebt)
_new_action_item = _builder(ActionItem)


def _declared(i: Incident, e: ev.Declared) -> None:
    i._declared = e
    i._began = e.onset
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
    if i._links is NO_ENTRIES:
        i._links = {}
    i._links[e.kind] = e
    if i._absent_links:
        i._absent_links.pop(e.kind, None)


def _link_absent(i: Incident, e: ev.LinkAbsent) -> None:
    if i._absent_links is NO_ENTRIES:
        i._absent_links = {}
    i._absent_links[e.kind] = e


def _staff(i: Incident, slot: int, holders: tuple[str, ...]) -> None:
    """Give the role at ``slot`` of the staffing table these holders (see roles.STAFFING_ORDER).

    The table is a tuple of tuples, made anew each time.  With nobody left in any role it is
    the shared UNSTAFFED table again, by which the rules tell an unstaffed incident.
    """
    table = list(i._roles)
    table[slot] = holders
    i._roles = tuple(table) if any(table) else UNSTAFFED


def _assigned(i: Incident, e: ev.RoleAssigned) -> None:
    slot = SLOT[e.role]
    _staff(i, slot, (*i._roles[slot], e.holder))
    if i._unknown_roles:
        i._unknown_roles.pop(e.role, None)


def _role_unknown(i: Incident, e: ev.RoleUnknown) -> None:
    if i._unknown_roles is NO_ENTRIES:
        i._unknown_roles = {}
    i._unknown_roles[e.role] = e


def _handed_off(i: Incident, e: ev.RoleHandedOff) -> None:
    slot = SLOT[e.role]
    _staff(i, slot, tuple(e.to_holder if h == e.from_holder else h for h in i._roles[slot]))
    if e.role is Role.INCIDENT_COMMANDER:
        for key, experiment in i._running.items():
            if experiment.owner == e.from_holder:
                i._experiments[key] = i._running[key] = _new_experiment(
                    id=experiment.id,
                    hypothesis=experiment.hypothesis,
                    action=experiment.action,
                    expected=experiment.expected,
                    component=experiment.component,
                    owner=e.to_holder,
                    started_at=experiment.started_at,
                )


def _released(i: Incident, e: ev.RoleReleased) -> None:
    slot = SLOT[e.role]
    _staff(i, slot, tuple(h for h in i._roles[slot] if h != e.holder))


def _experiment_started(i: Incident, e: ev.ExperimentStarted) -> None:
    if i._experiments is NO_ENTRIES:
        i._experiments = {}
    if i._running is NO_ENTRIES:
        i._running = {}
    i._experiments[e.experiment_id] = i._running[e.experiment_id] = _new_experiment(
        id=e.experiment_id,
        hypothesis=e.hypothesis,
        action=e.action,
        expected=e.expected,
        component=e.component,
        owner=e.owner,
        started_at=e.occurred_at,
    )


def _experiment_concluded(i: Incident, e: ev.ExperimentConcluded) -> None:
    running = i._running
    started = running.pop(e.experiment_id)
    if not running:  # the last one: one object fewer for the garbage collector to walk
        i._running = NO_ENTRIES
    i._experiments[e.experiment_id] = _new_experiment(
        id=started.id,
        hypothesis=started.hypothesis,
        action=started.action,
        expected=started.expected,
        component=started.component,
        owner=started.owner,
        started_at=started.started_at,
        observed=e.observed,
        verdict=e.verdict,
        concluded_at=e.occurred_at,
    )


def _kept(i: Incident, e: ev.NoteAdded | ev.UpdatePosted) -> None:
    """Notes and updates are read from the history itself (one list fewer per incident)."""


def _change_logged(i: Incident, e: ev.ChangeLogged) -> None:
    if i._manual_changes is NO_ENTRIES:
        i._manual_changes = {}
    i._manual_changes[e.change_id] = _new_manual_change(
        id=e.change_id,
        by=e.made_by,
        what=e.what,
        where=e.where,
        revert=e.revert,
        at=e.occurred_at,
    )


def _change_reconciled(i: Incident, e: ev.ChangeReconciled) -> None:
    logged = i._manual_changes[e.change_id]
    i._manual_changes[e.change_id] = _new_manual_change(
        id=logged.id,
        by=logged.by,
        what=logged.what,
        where=logged.where,
        revert=logged.revert,
        at=logged.at,
        outcome=e.outcome,
        reconciled_at=e.occurred_at,
    )


def _why_answered(i: Incident, e: ev.WhyAnswered) -> None:
    chain = i._why_chains.get(e.chain)
    if chain is not None:
        i._why_chains[e.chain] = _new_why_chain(
            id=chain.id,
            answers=(*chain.answers, e.answer),
            root_cause=e.root_cause,
            parent=chain.parent,
            start=chain.start,
        )
        return
    if e.branches_from is None:
        start = 1
    elif e.depth is not None:
        start = e.depth
    else:  # a branch built without its depth: the why after its parent's last
        start = i._why_chains[e.branches_from].depth + 1
    if i._why_chains is NO_ENTRIES:
        i._why_chains = {}
    i._why_chains[e.chain] = _new_why_chain(
        id=e.chain,
        answers=(e.answer,),
        root_cause=e.root_cause,
        parent=e.branches_from,
        start=start,
    )


def _data_loss_recorded(i: Incident, e: ev.DataLossRecorded) -> None:
    if i._data_losses is NO_ENTRIES:
        i._data_losses = {}
    i._data_losses[e.loss_id] = _new_data_loss(
        id=e.loss_id,
        what=e.what,
        window_start=e.window_start,
        window_end=e.window_end,
        amount=e.amount,
        recorded_by=e.actor,
        at=e.occurred_at,
    )


def _amended(i: Incident, e: ev.Amended) -> None:
    entry = 1 if e.entry is None else e.entry
    amendable = AMENDABLE[e.field_name]
    current = i._corrected.get(entry) or i._events[entry - 1]
    fixed = amendable.apply(current, amendable.read(e.value))
    _correct(i, entry, fixed)
    _corrections(i).append(
        Correction(
            number=len(i._events) + 1,
            field=e.field_name,
            entry=e.entry,
            value=amendable.current(fixed),
            before=amendable.current(current),
            reason=e.reason,
            by=e.actor,
            at=e.occurred_at,
        )
    )
    i._refold()


def _summary(entry: ev.Event) -> str:
    """What a retracted entry said (every retractable entry has a text)."""
    return str(getattr(entry, TEXT_FIELDS[type(entry)]))


def _retracted(i: Incident, e: ev.Retracted) -> None:
    _correct(i, e.entry, None)
    _corrections(i).append(
        Correction(
            number=len(i._events) + 1,
            field="retracted",
            entry=e.entry,
            value="",
            before=_summary(i._corrected.get(e.entry) or i._events[e.entry - 1]),
            reason=e.reason,
            by=e.actor,
            at=e.occurred_at,
        )
    )
    i._refold()


def _correct(i: Incident, entry: int, fixed: ev.Event | None) -> None:
    if i._corrected is NO_ENTRIES:
        i._corrected = {}
    i._corrected[entry] = fixed


def _corrections(i: Incident) -> list[Correction]:
    if i._corrections is NO_ITEMS:
        i._corrections = []
    return i._corrections


def _factor_added(i: Incident, e: ev.FactorAdded) -> None:
    if i._factors:
        i._factors.append(e)
    else:
        i._factors = [e]


def _recovery_verified(i: Incident, e: ev.RecoveryVerified) -> None:
    i._recovery = e


def _customer_verified(i: Incident, e: ev.CustomerVerified) -> None:
    i._customer_verification = e


def _debt_opened(i: Incident, e: ev.DebtOpened) -> None:
    if i._tech_debt is NO_ENTRIES:
        i._tech_debt = {}
    i._tech_debt[e.debt_id] = _new_tech_debt(
        id=e.debt_id, description=e.description, opened_at=e.occurred_at
    )


def _debt_closed(i: Incident, e: ev.DebtClosed) -> None:
    opened = i._tech_debt[e.debt_id]
    i._tech_debt[e.debt_id] = _new_tech_debt(
        id=opened.id,
        description=opened.description,
        opened_at=opened.opened_at,
        closed_at=e.occurred_at,
    )


def _report_started(i: Incident, e: ev.ReportStarted) -> None:
    i._report = e


def _post_mortem_scheduled(i: Incident, e: ev.PostMortemScheduled) -> None:
    i._post_mortem = e


def _action_added(i: Incident, e: ev.ActionAdded) -> None:
    if i._action_items is NO_ENTRIES:
        i._action_items = {}
    i._action_items[e.action_id] = _new_action_item(
        id=e.action_id, description=e.description, owner=e.owner, due_at=e.due_at, kind=e.kind
    )


def _action_closed(i: Incident, e: ev.ActionClosed) -> None:
    added = i._action_items[e.action_id]
    i._action_items[e.action_id] = _new_action_item(
        id=added.id,
        description=added.description,
        owner=added.owner,
        due_at=added.due_at,
        kind=added.kind,
        closed_at=e.occurred_at,
    )


def _priority_changed(i: Incident, e: ev.PriorityChanged) -> None:
    i._priority = e.priority


def _impact_changed(i: Incident, e: ev.ImpactChanged) -> None:
    if i._impact:
        i._impact.append(e)
    else:
        i._impact = [e]


def _state_changed(i: Incident, e: ev.StateChanged) -> None:
    if e.source is State.YELLOW and e.target is State.MITIGATING:
        i._recovery = None
    i._state = e.target
    i._moved_at = e.occurred_at


FOLD: dict[type[ev.Event], Any] = {
    ev.Declared: _declared,
    ev.Validated: _validated,
    ev.Linked: _linked,
    ev.LinkAbsent: _link_absent,
    ev.RoleAssigned: _assigned,
    ev.RoleUnknown: _role_unknown,
    ev.RoleHandedOff: _handed_off,
    ev.RoleReleased: _released,
    ev.ExperimentStarted: _experiment_started,
    ev.ExperimentConcluded: _experiment_concluded,
    ev.NoteAdded: _kept,
    ev.UpdatePosted: _kept,
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
    ev.DataLossRecorded: _data_loss_recorded,
    ev.Amended: _amended,
    ev.Retracted: _retracted,
}
