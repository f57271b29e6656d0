"""The runbook's commands, one method each, shared by :class:`~incidentflow.Incident`.

Every command builds one event, admits it (names, times, text: see :mod:`._admission`) and
checks it against every rule of the policy before anything changes, as ``record`` does with an
event built elsewhere.  The usual command -- no ``at``, nothing marked approximate -- builds its
event with the class's builder, which checks each value once for both the event's validators
and admission; a value the builder cannot vouch for sends the command down the full path (the
validated constructor, then ``record``), which refuses it, or normalizes it, exactly as before.
``at`` is when the thing happened (it may be back-dated, never before
the incident began), ``now`` is the stamp (by default the incident's clock).  ``approximate=True``
marks ``at`` as approximate, exactly as ``at=approximately(t)`` does; it needs an ``at``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from . import events as ev
from ._admission import builder
from .clock import approximate_names, exact, marked_approximate, require_aware
from .errors import InvalidInput, TransitionBlocked
from .lifecycle import EDGES, Edge, State
from .policy import Policy
from .priorities import Priority
from .records import (
    ActionItem,
    ActionKind,
    ChangeOutcome,
    DataLoss,
    Experiment,
    FishboneCategory,
    ImpactLevel,
    LinkKind,
    ManualChange,
    NoteKind,
    TechDebt,
    Unmet,
    Verdict,
    WhyChain,
)
from .roles import Role

__all__ = ["Commands"]

E = TypeVar("E", bound=ev.Event)


class Commands:
    """The commands of the runbook; each returns the event it recorded."""

    __slots__ = ()

    if TYPE_CHECKING:
        _state: State
        _experiments: dict[str, Experiment]
        _manual_changes: dict[str, ManualChange]
        _tech_debt: dict[str, TechDebt]
        _action_items: dict[str, ActionItem]
        _why_chains: dict[str, WhyChain]
        _data_losses: dict[str, DataLoss]
        _events: list[ev.Event]

        def record(self, event: E) -> E: ...

        def _apply(self, event: E) -> E: ...

        def _stamp(self, now: datetime | None) -> datetime: ...

        def _blocked(
            self, command: str, target: State, unmet: tuple[Unmet, ...]
        ) -> TransitionBlocked: ...

    def _issue(
        self,
        kind: type[E],
        at: datetime | None,
        now: datetime | None,
        approximate: bool | Iterable[str],
        /,
        **fields: Any,
    ) -> E:
        """Record the ``kind`` event of ``fields`` (its times among them), each value checked once.

        The usual command -- no ``at``, nothing marked approximate -- goes through the class's
        builder (see :func:`~incidentflow._admission.builder`): one test per value for both the
        event's validators and admission.  Any value the builder doubts sends the command down
        the full path (the times worked out, each marked time made exact and named in
        ``approximate``, then the validated constructor and ``record``, which admits the
        event), which refuses it with the same message as always, or normalizes it.
        Either way the event then meets every rule of the policy before it is folded in.
        """
        build, extra = _PLANS.get(kind) or _plan(kind)
        if at is None and approximate is False:
            stamp = self._stamp(now)
            event = None if build is None else build(stamp, stamp, fields)
            if event is not None:
                return self._apply(cast("E", event))
            given: dict[str, datetime | None] = {"at": None}
            given.update((name, fields.pop(name)) for name in extra)
        else:
            given = marked_approximate(
                approximate, at=at, **{name: fields.pop(name) for name in extra}
            )
            stamp = self._stamp(now)
        return self.record(kind(**fields, **_timed(stamp, given)))

    @staticmethod
    def _next_id(prefix: str, taken: Mapping[str, object]) -> str:
        n = len(taken) + 1
        while f"{prefix}{n}" in taken:
            n += 1
        return f"{prefix}{n}"

    def validate(
        self,
        evidence: str,
        *,
        impact: str = "",
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.Validated:
        """Step 1: record that the problem is real, with the evidence and its impact."""
        return self._issue(
            ev.Validated, at, now, approximate, actor=actor, evidence=evidence, impact=impact
        )

    def link(
        self,
        kind: LinkKind,
        url: str,
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.Linked:
        """Steps 2–4: link the ticket, war room, public channel or announcement."""
        return self._issue(ev.Linked, at, now, approximate, actor=actor, kind=kind, url=url)

    def assign(
        self,
        role: Role,
        holder: str,
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.RoleAssigned:
        """Step 5: give ``holder`` a role (a single-holder role must be free)."""
        return self._issue(
            ev.RoleAssigned, at, now, approximate, actor=actor, role=role, holder=holder
        )

    def hand_off(
        self,
        role: Role,
        from_holder: str,
        to_holder: str,
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.RoleHandedOff:
        """Pass a role from one holder to another in one step, leaving no gap.

        An IC's running experiments pass to the new holder.
        """
        return self._issue(
            ev.RoleHandedOff,
            at,
            now,
            approximate,
            actor=actor,
            role=role,
            from_holder=from_holder,
            to_holder=to_holder,
        )

    def record_role_unknown(
        self,
        role: Role,
        *,
        reason: str,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.RoleUnknown:
        """Step 5 as it was: nobody can say who held ``role`` (authorized as ``assign``)."""
        return self._issue(
            ev.RoleUnknown, at, now, approximate, actor=actor, role=role, reason=reason
        )

    def record_link_absent(
        self,
        kind: LinkKind,
        *,
        reason: str,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.LinkAbsent:
        """Steps 2–4 as they were: no link of ``kind`` was made (authorized as ``link``)."""
        return self._issue(
            ev.LinkAbsent, at, now, approximate, actor=actor, kind=kind, reason=reason
        )

    def release(
        self,
        role: Role,
        holder: str,
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.RoleReleased:
        """Take ``holder`` out of a role, where that leaves no required role empty."""
        return self._issue(
            ev.RoleReleased, at, now, approximate, actor=actor, role=role, holder=holder
        )

    def start_experiment(
        self,
        *,
        hypothesis: str,
        action: str,
        expected: str,
        component: str,
        owner: str,
        actor: str,
        experiment_id: str | None = None,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.ExperimentStarted:
        """Step 6: an IC starts an experiment against one component."""
        return self._issue(
            ev.ExperimentStarted,
            at,
            now,
            approximate,
            actor=actor,
            experiment_id=experiment_id or self._next_id("E", self._experiments),
            hypothesis=hypothesis,
            action=action,
            expected=expected,
            component=component,
            owner=owner,
        )

    def conclude_experiment(
        self,
        experiment_id: str,
        *,
        observed: str,
        verdict: Verdict,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.ExperimentConcluded:
        """Step 6: record what was observed and whether it confirmed the hypothesis."""
        return self._issue(
            ev.ExperimentConcluded,
            at,
            now,
            approximate,
            actor=actor,
            experiment_id=experiment_id,
            observed=observed,
            verdict=verdict,
        )

    def note(
        self,
        text: str,
        *,
        actor: str,
        kind: NoteKind = NoteKind.NOTE,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.NoteAdded:
        """Step 7: add a timeline note; ``kind=NoteKind.DISCREPANCY`` when sources disagree."""
        return self._issue(ev.NoteAdded, at, now, approximate, actor=actor, text=text, kind=kind)

    def post_update(
        self,
        message: str,
        *,
        actor: str,
        no_progress: bool = False,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.UpdatePosted:
        """Step 8: post a stakeholder update; ``no_progress`` for one that reports none."""
        return self._issue(
            ev.UpdatePosted,
            at,
            now,
            approximate,
            actor=actor,
            message=message,
            no_progress=no_progress,
        )

    def log_change(
        self,
        *,
        what: str,
        where: str,
        revert: str,
        actor: str,
        made_by: str | None = None,
        change_id: str | None = None,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.ChangeLogged:
        """Step 9: log a manual change, who made it (default: the actor) and how to revert."""
        return self._issue(
            ev.ChangeLogged,
            at,
            now,
            approximate,
            actor=actor,
            change_id=change_id or self._next_id("C", self._manual_changes),
            made_by=actor if made_by is None else made_by,
            what=what,
            where=where,
            revert=revert,
        )

    def reconcile_change(
        self,
        change_id: str,
        outcome: ChangeOutcome,
        *,
        actor: str,
        note: str = "",
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.ChangeReconciled:
        """Mark a manual change as reverted or made permanent."""
        return self._issue(
            ev.ChangeReconciled,
            at,
            now,
            approximate,
            actor=actor,
            change_id=change_id,
            outcome=outcome,
            note=note,
        )

    def add_why(
        self,
        answer: str,
        *,
        actor: str,
        chain: str = "main",
        root_cause: bool = False,
        branches_from: str | None = None,
        after: int | None = None,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.WhyAnswered:
        """Step 10: answer the next "why?" of a Five Whys chain.

        A root cause is refused below the depth the policy asks for the incident's priority.
        To branch (one of several jointly sufficient causes), start a new ``chain`` with
        ``branches_from`` naming the chain whose answer it explains: its answer ``after``
        (a depth, default its last).
        """
        depth: int | None
        existing = self._why_chains.get(chain)
        parent = self._why_chains.get(branches_from) if branches_from is not None else None
        if existing is not None:
            depth = existing.depth + 1
        elif branches_from is None:
            depth = 1
        elif parent is None:
            depth = None  # refused: no such chain to branch off
        else:
            depth = (parent.depth if after is None else after) + 1
        return self._issue(
            ev.WhyAnswered,
            at,
            now,
            approximate,
            actor=actor,
            chain=chain,
            answer=answer,
            root_cause=root_cause,
            depth=depth,
            branches_from=branches_from,
        )

    def add_factor(
        self,
        description: str,
        *,
        category: FishboneCategory | None = None,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.FactorAdded:
        """Add a contributing factor (each necessary, only jointly sufficient).

        ``category`` places it on the fishbone diagram.
        """
        return self._issue(
            ev.FactorAdded,
            at,
            now,
            approximate,
            actor=actor,
            description=description,
            category=category,
        )

    def verify_recovery(
        self,
        evidence: str,
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.RecoveryVerified:
        """Step 11: record that recovery is verified, with the evidence."""
        return self._issue(
            ev.RecoveryVerified, at, now, approximate, actor=actor, evidence=evidence
        )

    def verify_customer(
        self,
        customer: str,
        evidence: str,
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.CustomerVerified:
        """Step 13: record that the customer verified the fix."""
        return self._issue(
            ev.CustomerVerified,
            at,
            now,
            approximate,
            actor=actor,
            customer=customer,
            evidence=evidence,
        )

    def open_debt(
        self,
        description: str,
        *,
        actor: str,
        debt_id: str | None = None,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.DebtOpened:
        """Open a tech-debt item left by the response."""
        return self._issue(
            ev.DebtOpened,
            at,
            now,
            approximate,
            actor=actor,
            debt_id=debt_id or self._next_id("D", self._tech_debt),
            description=description,
        )

    def close_debt(
        self,
        debt_id: str,
        *,
        actor: str,
        note: str = "",
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.DebtClosed:
        """Close a tech-debt item once it is cleaned up."""
        return self._issue(
            ev.DebtClosed, at, now, approximate, actor=actor, debt_id=debt_id, note=note
        )

    def start_report(
        self,
        *,
        actor: str,
        location: str = "",
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.ReportStarted:
        """Step 14: record that the incident report is started, and where."""
        return self._issue(ev.ReportStarted, at, now, approximate, actor=actor, location=location)

    def schedule_post_mortem(
        self,
        scheduled_for: datetime,
        invitees: Iterable[str],
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool | Iterable[str] = False,
        now: datetime | None = None,
    ) -> ev.PostMortemScheduled:
        """Step 15: schedule the post-mortem meeting and invite people.

        ``approximate`` may name ``scheduled_for`` as well as ``at`` (``True`` is ``at``).
        """
        if isinstance(invitees, str):
            raise InvalidInput("invitees must be a collection of names, not one string")
        return self._issue(
            ev.PostMortemScheduled,
            at,
            now,
            approximate,
            actor=actor,
            invitees=tuple(invitees),
            scheduled_for=scheduled_for,
        )

    def add_action(
        self,
        description: str,
        *,
        kind: ActionKind,
        actor: str,
        owner: str | None = None,
        due_at: datetime | None = None,
        action_id: str | None = None,
        at: datetime | None = None,
        approximate: bool | Iterable[str] = False,
        now: datetime | None = None,
    ) -> ev.ActionAdded:
        """Add a corrective or preventive action item.

        ``owner`` and ``due_at`` may be left out only where the policy allows it
        (``action_owner_and_due``).  ``approximate`` may name ``due_at`` as well as ``at``
        (``True`` is ``at``).
        """
        return self._issue(
            ev.ActionAdded,
            at,
            now,
            approximate,
            actor=actor,
            action_id=action_id or self._next_id("A", self._action_items),
            description=description,
            owner=owner,
            kind=kind,
            due_at=due_at,
        )

    def close_action(
        self,
        action_id: str,
        *,
        actor: str,
        note: str = "",
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.ActionClosed:
        """Close a done action item."""
        return self._issue(
            ev.ActionClosed, at, now, approximate, actor=actor, action_id=action_id, note=note
        )

    def change_priority(
        self,
        priority: Priority,
        *,
        reason: str,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.PriorityChanged:
        """Raise or lower the priority; the new priority's rules apply from then on."""
        return self._issue(
            ev.PriorityChanged, at, now, approximate, actor=actor, priority=priority, reason=reason
        )

    def change_impact(
        self,
        level: ImpactLevel,
        description: str = "",
        *,
        actor: str,
        components: Iterable[str] = (),
        share: float | None = None,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.ImpactChanged:
        """Record that the impact moved to ``level`` (the impact timeline, apart from the moves).

        ``description`` says what users saw, ``components`` which parts were hit, ``share``
        which share was affected (0–100%), when known.
        """
        if isinstance(components, str):
            raise InvalidInput("components must be a collection of names, not one string")
        return self._issue(
            ev.ImpactChanged,
            at,
            now,
            approximate,
            actor=actor,
            level=level,
            description=description,
            components=tuple(components),
            share=share,
        )

    def adopt_policy(
        self,
        policy: Policy,
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.PolicyAdopted:
        """Run the incident under ``policy`` from now on, recording its name and whole text.

        Whether ``actor`` may is decided by the policy in force until now (its
        ``adopt_policy`` authorization), never by the one adopted.
        """
        if not isinstance(policy, Policy):
            raise InvalidInput(f"policy must be a Policy, not {policy!r}")
        return self._issue(
            ev.PolicyAdopted, at, now, approximate, actor=actor, policy=policy.recorded()
        )

    def move(
        self,
        target: State,
        *,
        message: str,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.StateChanged:
        """Move along an edge of the lifecycle, if every guard is met.

        ``message`` is what is announced (for yellow and green) or why (dismiss, reopen).
        ``at`` may not come before the previous move (``moves_in_order``).
        """
        return self._issue(
            ev.StateChanged,
            at,
            now,
            approximate,
            actor=actor,
            source=self._state,
            target=target,
            message=message,
        )

    def trigger(
        self,
        name: str,
        message: str,
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.StateChanged:
        """Move along the edge called ``name`` (e.g. ``"announce_yellow"``) from the current state.

        Unlike :meth:`move`, which names the target, this names the edge: ``mitigate`` from
        yellow is refused (that move is ``reopen``) rather than taken.
        """
        found = _BY_TRIGGER.get((self._state, name))
        if found is None:
            sources = sorted({e.source.value for e in EDGES.values() if e.trigger == name})
            if not sources:
                triggers = ", ".join(dict.fromkeys(e.trigger for e in EDGES.values()))
                raise InvalidInput(f"no lifecycle edge is called {name!r}; one of: {triggers}")
            detail = f"{name} leads from {' or '.join(sources)}, not from {self._state.value}"
            raise self._blocked(name, _TARGETS[name], (Unmet("lifecycle_edge", detail),))
        return self._issue(
            ev.StateChanged,
            at,
            now,
            approximate,
            actor=actor,
            source=self._state,
            target=found.target,
            message=message,
        )

    def mitigate(
        self,
        message: str,
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.StateChanged:
        """Start mitigating: declared → mitigating."""
        return self.trigger(
            "mitigate", message, actor=actor, at=at, approximate=approximate, now=now
        )

    def announce_yellow(
        self,
        message: str,
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.StateChanged:
        """Step 12, announce resolved (yellow): mitigating → yellow."""
        return self.trigger(
            "announce_yellow", message, actor=actor, at=at, approximate=approximate, now=now
        )

    def announce_green(
        self,
        message: str,
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.StateChanged:
        """Step 13, announce resolved (green): yellow → green."""
        return self.trigger(
            "announce_green", message, actor=actor, at=at, approximate=approximate, now=now
        )

    def mark_reported(
        self,
        message: str,
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.StateChanged:
        """Green → reported, once the root cause is found and the report started."""
        return self.trigger(
            "mark_reported", message, actor=actor, at=at, approximate=approximate, now=now
        )

    def begin_post_mortem(
        self,
        message: str,
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.StateChanged:
        """Reported → post_mortem, once the meeting is scheduled with the roles invited."""
        return self.trigger(
            "begin_post_mortem", message, actor=actor, at=at, approximate=approximate, now=now
        )

    def dismiss(
        self,
        reason: str,
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.StateChanged:
        """A false alarm: declared → dismissed."""
        return self.trigger("dismiss", reason, actor=actor, at=at, approximate=approximate, now=now)

    def reopen(
        self,
        reason: str,
        *,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.StateChanged:
        """The recovery did not hold: yellow → mitigating; recovery must be verified again."""
        return self.trigger("reopen", reason, actor=actor, at=at, approximate=approximate, now=now)

    # -- data loss and corrections ---------------------------------------------------------

    def record_data_loss(
        self,
        what: str,
        *,
        window_start: datetime | None = None,
        window_end: datetime | None = None,
        amount: str = "",
        loss_id: str | None = None,
        actor: str,
        at: datetime | None = None,
        approximate: bool | Iterable[str] = False,
        now: datetime | None = None,
    ) -> ev.DataLossRecorded:
        """Record data lost for good: what, the window of lost writes, and how much.

        Either end of the window may be left out (``None``) when nobody knows it.

        ``approximate`` may name ``window_start`` and ``window_end`` as well as ``at``
        (``True`` is ``at``).
        """
        return self._issue(
            ev.DataLossRecorded,
            at,
            now,
            approximate,
            actor=actor,
            loss_id=loss_id or self._next_id("L", self._data_losses),
            what=what,
            amount=amount,
            window_start=_optional_time(window_start, "window_start"),
            window_end=_optional_time(window_end, "window_end"),
        )

    def amend(
        self,
        field_name: str,
        value: str,
        *,
        reason: str,
        entry: int | None = None,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.Amended:
        """Correct ``field_name`` (see :data:`~incidentflow.corrections.AMENDABLE`) to ``value``.

        ``entry`` is the number of the event corrected, for an entry's field; ``invitees``
        without it corrects the latest scheduling of the post-mortem.  The original stays in
        the history; views, measures and documents read the corrected record.
        """
        if entry is None and field_name == "invitees":
            scheduled = [
                n
                for n, e in enumerate(self._events, start=1)
                if isinstance(e, ev.PostMortemScheduled)
            ]
            entry = scheduled[-1] if scheduled else None
        return self._issue(
            ev.Amended,
            at,
            now,
            approximate,
            actor=actor,
            field_name=field_name,
            value=value,
            entry=entry,
            reason=reason,
        )

    def retract(
        self,
        entry: int,
        *,
        reason: str,
        actor: str,
        at: datetime | None = None,
        approximate: bool = False,
        now: datetime | None = None,
    ) -> ev.Retracted:
        """Withdraw entry number ``entry`` (a note, update, factor or data loss) as wrong."""
        return self._issue(
            ev.Retracted, at, now, approximate, actor=actor, entry=entry, reason=reason
        )


_TARGETS = {e.trigger: e.target for e in EDGES.values()}

# The edge each trigger names from each state, worked out once: the first in definition order,
# as a search of the state's edges would find it.
_BY_TRIGGER: dict[tuple[State, str], Edge] = {
    (e.source, e.trigger): e for e in reversed(tuple(EDGES.values()))
}


def _optional_time(value: datetime | None, name: str) -> datetime | None:
    """``value`` checked as :func:`~incidentflow.clock.require_aware` does, or ``None``."""
    return None if value is None else require_aware(value, name)


def _timed(stamp: datetime, given: dict[str, datetime | None]) -> dict[str, Any]:
    """The times of an event stamped ``stamp``, from ``given`` (``at`` and the command's others).

    ``occurred_at`` is ``at`` (else the stamp), each time marked approximate is recorded exact
    and named in ``approximate``.
    """
    when = given.pop("at")
    occurred = stamp if when is None else require_aware(when, "at")
    times: dict[str, Any] = {"occurred_at": occurred, "recorded_at": stamp}
    times.update(given)
    rough = approximate_names(occurred_at=occurred, **given)  # the stamp is always exact
    if rough:  # "around then": recorded as approximate
        times.update({name: exact(times[name]) for name in rough})
        times["approximate"] = rough
    return times


_Plan = tuple[
    Callable[[datetime, datetime, dict[str, Any]], "ev.Event | None"] | None, tuple[str, ...]
]
_PLANS: dict[type[ev.Event], _Plan] = {}


def _plan(kind: type[ev.Event]) -> _Plan:
    """``kind``'s builder, and its times other than ``occurred_at`` and the stamp (in order)."""
    names = ev._time_fields(kind) - {"occurred_at"}
    extra = tuple(f.name for f in attrs.fields(kind) if f.name in names)
    found = _PLANS[kind] = (builder(kind), extra)
    return found
