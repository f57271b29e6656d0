"""An independent expectation of the default policy, for the property tests to check against.

Written from the specification of the runbook's rules, not from the implementation: nothing
here imports or calls ``incidentflow.policy`` (its guards, rules, command states or checks) or
``incidentflow.lifecycle``'s edge table.  It uses only the public vocabulary — the enums, the
event classes (plain frozen data) and the exception classes — and keeps its own plain-Python
picture of an incident.  (The invariants also replay histories and run them through the codec,
and :func:`issue` builds a ``Policy`` to adopt through the command API; that is what they check
or how they drive the library, not how they decide.)  A policy an event records is judged from
its text alone, with ``hashlib`` and ``tomllib``.

:class:`Model` predicts, for any event offered to an incident, every rule it breaks and the
exception the library must raise; :func:`observe` projects a real incident onto the same
picture so the two can be compared; :func:`check_invariants` states the rules that must hold
of any incident the library ever lets exist.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import attrs

import incidentflow.events as ev
from incidentflow import (
    CommandRefused,
    ImpactLevel,
    Incident,
    IncidentFlowError,
    LinkKind,
    NotAuthorized,
    Policy,
    Priority,
    Role,
    RuleViolated,
    State,
    TransitionBlocked,
    approximately,
    codec,
)
from incidentflow.metrics import Milestone

# -- the specification, as plain data -------------------------------------------------------

IC, LEAD, COMMUNICATOR, RECORDER = (
    Role.INCIDENT_COMMANDER,
    Role.LEAD,
    Role.COMMUNICATOR,
    Role.RECORDER,
)
S = State
WHYS_DEPTH = 5
MAJOR = frozenset({Priority.P0, Priority.P1})
SINGLE_HOLDER = frozenset({COMMUNICATOR, RECORDER, LEAD})
PAST_DECLARED = frozenset({S.MITIGATING, S.YELLOW, S.GREEN, S.REPORTED, S.POST_MORTEM})

# (source, target) -> (trigger, guards)
EDGES: dict[tuple[State, State], tuple[str, tuple[str, ...]]] = {
    (S.DECLARED, S.MITIGATING): ("mitigate", ("validated", "required_links", "required_roles")),
    (S.MITIGATING, S.YELLOW): ("announce_yellow", ("recovery_verified", "experiments_concluded")),
    (S.YELLOW, S.GREEN): (
        "announce_green",
        ("customer_verified", "impact_operational", "tech_debt_closed", "changes_reconciled"),
    ),
    (S.GREEN, S.REPORTED): ("mark_reported", ("root_cause_found", "report_started")),
    (S.REPORTED, S.POST_MORTEM): (
        "begin_post_mortem",
        ("post_mortem_scheduled", "roles_invited"),
    ),
    (S.DECLARED, S.DISMISSED): ("dismiss", ()),
    (S.YELLOW, S.MITIGATING): ("reopen", ()),
}
GUARD_NAMES = frozenset(g for _, guards in EDGES.values() for g in guards)

_LEADERS = frozenset({IC, LEAD})
_KEEPERS = _LEADERS | {RECORDER}
ANYONE = None
AUTHORIZED: dict[str, frozenset[Role] | None] = {
    "validate": _LEADERS,
    "link": ANYONE,
    "assign": _LEADERS,
    "hand_off": _LEADERS,
    "release": _LEADERS,
    "start_experiment": frozenset({IC}),
    "conclude_experiment": _LEADERS,
    "note": ANYONE,
    "post_update": frozenset({COMMUNICATOR, IC}),
    "log_change": ANYONE,
    "reconcile_change": _KEEPERS,
    "add_why": _KEEPERS,
    "add_factor": _KEEPERS,
    "open_debt": _KEEPERS,
    "close_debt": _KEEPERS,
    "add_action": _KEEPERS,
    "close_action": _KEEPERS,
    "verify_recovery": _LEADERS,
    "verify_customer": frozenset({COMMUNICATOR, IC, LEAD}),
    "start_report": frozenset({LEAD, RECORDER}),
    "schedule_post_mortem": frozenset({LEAD, COMMUNICATOR}),
    "change_priority": _LEADERS,
    "adopt_policy": frozenset({IC}),
    # Data loss and corrections are kept by who keeps the record: the leaders and the Recorder.
    "record_data_loss": _KEEPERS,
    "amend": _KEEPERS,
    "retract": _KEEPERS,
    # Issue 9: the impact is recorded by whoever speaks for the incident or keeps its record.
    "change_impact": _LEADERS | {COMMUNICATOR, RECORDER},
    **{trigger: _LEADERS for trigger, _ in EDGES.values()},
}
# Who holds a role may be changed, once anyone holds one, only by someone who holds one.
STAFFING = frozenset({"assign", "hand_off", "release"})

_EVERYWHERE = frozenset(State)
_LIVE = _EVERYWHERE - {S.DISMISSED}
WHERE: dict[str, frozenset[State]] = {
    "validate": frozenset({S.DECLARED}),
    "link": _LIVE,
    "assign": _LIVE,
    "hand_off": _LIVE,
    "release": _LIVE,
    "reconcile_change": _EVERYWHERE,
    "add_why": _LIVE,
    "add_factor": _LIVE,
    "add_action": _LIVE,
    "close_action": _EVERYWHERE,
    "start_experiment": frozenset({S.DECLARED, S.MITIGATING}),
    "conclude_experiment": frozenset({S.DECLARED, S.MITIGATING}),
    "note": _EVERYWHERE,
    # Reality: updates go on until the post-mortem (after the report started too); a permanent
    # fix is logged after green; an interim report is started while mitigating.
    "post_update": frozenset({S.DECLARED, S.MITIGATING, S.YELLOW, S.GREEN, S.REPORTED}),
    "log_change": _LIVE,
    "verify_recovery": frozenset({S.MITIGATING}),
    "verify_customer": frozenset({S.YELLOW}),
    "open_debt": frozenset({S.MITIGATING, S.YELLOW}),
    "close_debt": frozenset({S.MITIGATING, S.YELLOW}),
    "start_report": frozenset({S.MITIGATING, S.YELLOW, S.GREEN}),
    "schedule_post_mortem": frozenset({S.GREEN, S.REPORTED}),
    "change_priority": frozenset({S.DECLARED, S.MITIGATING, S.YELLOW}),
    "adopt_policy": _LIVE,
    "record_data_loss": _LIVE,
    "amend": _EVERYWHERE,  # corrections, never deletions: the record is corrected any time
    "retract": _EVERYWHERE,
    # Issue 9: "at any time while the incident is open", and after green for what came before.
    "change_impact": _LIVE,
}
AFTER_GREEN = frozenset({S.GREEN, S.REPORTED, S.POST_MORTEM})
# Issue 9: changes, notes and contributing factors may come before the onset, down to 30 days.
PRECURSORS = (ev.ChangeLogged, ev.NoteAdded, ev.FactorAdded)
PRECURSOR_DAYS = 30

COMMAND_OF: dict[type[ev.Event], str] = {
    ev.Validated: "validate",
    ev.Linked: "link",
    ev.RoleAssigned: "assign",
    ev.RoleHandedOff: "hand_off",
    ev.RoleReleased: "release",
    ev.ExperimentStarted: "start_experiment",
    ev.ExperimentConcluded: "conclude_experiment",
    ev.NoteAdded: "note",
    ev.UpdatePosted: "post_update",
    ev.ChangeLogged: "log_change",
    ev.ChangeReconciled: "reconcile_change",
    ev.WhyAnswered: "add_why",
    ev.FactorAdded: "add_factor",
    ev.RecoveryVerified: "verify_recovery",
    ev.CustomerVerified: "verify_customer",
    ev.DebtOpened: "open_debt",
    ev.DebtClosed: "close_debt",
    ev.ReportStarted: "start_report",
    ev.PostMortemScheduled: "schedule_post_mortem",
    ev.ActionAdded: "add_action",
    ev.ActionClosed: "close_action",
    ev.PriorityChanged: "change_priority",
    ev.PolicyAdopted: "adopt_policy",
    # What nobody knows is recorded under the command it stands in for.
    ev.RoleUnknown: "assign",
    ev.LinkAbsent: "link",
    ev.DataLossRecorded: "record_data_loss",
    ev.Amended: "amend",
    ev.Retracted: "retract",
    ev.ImpactChanged: "change_impact",
}
METHOD_OF: dict[type[ev.Event], str] = {
    **COMMAND_OF,
    ev.RoleUnknown: "record_role_unknown",
    ev.LinkAbsent: "record_link_absent",
}

# -- corrections, as the issue states them -----------------------------------------------------
# Amendable: the incident's own title and times (no entry named), and of an entry: a priority
# (declared or changed), invitees (a scheduling), its text, its time.  Retractable: notes,
# updates, factors and data losses.  Corrections themselves are not entries one corrects.
OWN_FIELDS = {"title", "began", "detected", "declared"}
TEXT_OF: dict[type[ev.Event], str] = {
    ev.Validated: "evidence",
    ev.NoteAdded: "text",
    ev.UpdatePosted: "message",
    ev.ChangeLogged: "what",
    ev.WhyAnswered: "answer",
    ev.FactorAdded: "description",
    ev.RecoveryVerified: "evidence",
    ev.CustomerVerified: "evidence",
    ev.DebtOpened: "description",
    ev.ActionAdded: "description",
    ev.ExperimentConcluded: "observed",
    ev.PriorityChanged: "reason",
    ev.StateChanged: "message",
    ev.DataLossRecorded: "what",
    ev.LinkAbsent: "reason",
    ev.ImpactChanged: "description",
}
RETRACTABLE = (ev.NoteAdded, ev.UpdatePosted, ev.FactorAdded, ev.DataLossRecorded)
CORRECTIONS = (ev.Amended, ev.Retracted)
# Any entry has a time one may correct, but the declaration (its time is when it began).
TIMED = (*(k for k in COMMAND_OF if k not in CORRECTIONS), ev.StateChanged)


def required_links(priority: Priority) -> frozenset[LinkKind]:
    """Ticket, war room and announcement for P0/P1; a ticket for P2/P3."""
    if priority in MAJOR:
        return frozenset({LinkKind.TICKET, LinkKind.WAR_ROOM, LinkKind.ANNOUNCEMENT})
    return frozenset({LinkKind.TICKET})


def required_roles(priority: Priority) -> frozenset[Role]:
    """All four roles for P0/P1; an Incident Commander for P2/P3."""
    return frozenset(Role) if priority in MAJOR else frozenset({IC})


def intact(recorded: ev.RecordedPolicy) -> bool:
    """Whether a recorded policy's digest is its text's and its text names it as recorded."""
    digest = "sha256:" + hashlib.sha256(recorded.content.encode()).hexdigest()
    try:
        named = tomllib.loads(recorded.content).get("name", "default")
    except tomllib.TOMLDecodeError:
        return False
    return digest == recorded.digest and named == recorded.name


def roles_required_by(recorded: ev.RecordedPolicy, priority: Priority) -> frozenset[Role]:
    """The roles a recorded policy's text requires of ``priority`` (the default's if unsaid)."""
    table = tomllib.loads(recorded.content).get("priorities", {}).get(priority.value, {})
    if "required_roles" not in table:
        return required_roles(priority)
    return frozenset(Role(name) for name in table["required_roles"])


def invited_roles(priority: Priority) -> frozenset[Role]:
    """The roles whose holders the post-mortem must invite."""
    return frozenset(Role) if priority in MAJOR else frozenset({IC})


def operational_first(priority: Priority) -> bool:
    """Issue 9: green waits for a recorded impact to be operational, for P0/P1."""
    return priority in MAJOR


def needs_customer(priority: Priority) -> bool:
    """Green waits for the customer's verification except at P3."""
    return priority is not Priority.P3


# -- the model -------------------------------------------------------------------------------


@dataclass
class Experiment:
    """What the model remembers of an experiment."""

    component: str
    owner: str
    running: bool = True


@dataclass
class Model:
    """The expected state of one incident and what any next event would do to it."""

    incident_id: str
    priority: Priority
    began_at: datetime
    last_stamp: datetime
    entered_at: datetime  # when the current state was entered (declared: when it began)
    state: State = S.DECLARED
    roles: dict[Role, list[str]] = field(default_factory=dict)
    links: set[LinkKind] = field(default_factory=set)
    validated: bool = False
    experiments: dict[str, Experiment] = field(default_factory=dict)
    changes: dict[str, bool] = field(default_factory=dict)  # id -> reconciled
    whys: dict[str, tuple[int, bool]] = field(default_factory=dict)  # chain -> (depth, root)
    debts: dict[str, bool] = field(default_factory=dict)  # id -> open
    actions: dict[str, bool] = field(default_factory=dict)  # id -> open
    action_owners: dict[str, str | None] = field(default_factory=dict)  # id -> owner
    report: bool = False
    invitees: frozenset[str] | None = None
    customer_verified: bool = False
    recovery_verified: bool = False
    policy_digest: str | None = None  # the digest of the policy recorded, if any
    why_starts: dict[str, int] = field(default_factory=dict)  # chain -> depth of its first
    unknown_roles: set[Role] = field(default_factory=set)
    absent_links: set[LinkKind] = field(default_factory=set)
    losses: set[str] = field(default_factory=set)
    log: list[ev.Event] = field(default_factory=list)  # every accepted event, as recorded
    fixed: dict[int, ev.Event | None] = field(default_factory=dict)  # entry -> corrected
    impact: list[tuple[datetime, ImpactLevel]] = field(default_factory=list)  # as recorded
    green_at: datetime | None = None  # when green was entered

    # -- building -------------------------------------------------------------------------

    @classmethod
    def declare(cls, event: ev.Declared) -> Model:
        """The model of an incident just declared by ``event``."""
        # Issue 9: ``began`` is the onset; a declaration without it is the older form, whose
        # occurred_at was the onset.  Either way the declaration is the first move.
        return cls(
            incident_id=event.incident_id,
            priority=event.priority,
            began_at=event.occurred_at if event.began is None else event.began,
            last_stamp=event.recorded_at,
            entered_at=event.occurred_at,
            policy_digest=None if event.policy is None else event.policy.digest,
            log=[event],
        )

    # -- reading ----------------------------------------------------------------------------

    def holders(self, role: Role) -> list[str]:
        """Who holds ``role``."""
        return self.roles.get(role, [])

    def may(self, actor: str, command: str) -> bool:
        """Whether ``actor`` may issue ``command`` (open when nobody holds an allowed role).

        Staffing is special: anyone may assign while nobody holds a role; once someone does,
        only people holding a role may assign, hand off or release.
        """
        if command in STAFFING:
            staff = {h for holders in self.roles.values() for h in holders}
            if not staff and command == "assign":
                return True
            if staff and actor not in staff:
                return False
        allowed = AUTHORIZED[command]
        if allowed is None:
            return True
        if any(actor in self.holders(r) for r in allowed):
            return True
        return not any(self.holders(r) for r in allowed)

    def guard_met(self, name: str) -> bool:
        """Whether the guard called ``name`` holds now."""
        p = self.priority
        if name == "validated":
            return self.validated
        if name == "required_links":
            return required_links(p) <= self.links
        if name == "required_roles":
            return all(self.holders(r) for r in required_roles(p))
        if name == "recovery_verified":
            return self.recovery_verified
        if name == "experiments_concluded":
            return not any(x.running for x in self.experiments.values())
        if name == "customer_verified":
            return self.customer_verified or not needs_customer(p)
        if name == "impact_operational":
            return self.impact_ends_operational(self.impact)
        if name == "tech_debt_closed":
            return not any(self.debts.values())
        if name == "changes_reconciled":
            return all(self.changes.values())
        if name == "root_cause_found":
            return any(root and depth >= WHYS_DEPTH for depth, root in self.whys.values())
        if name == "report_started":
            return self.report
        if name == "post_mortem_scheduled":
            return self.invitees is not None
        if name == "roles_invited":
            if self.invitees is None:
                return False
            wanted = {h for r in invited_roles(p) for h in self.holders(r)}
            return wanted <= self.invitees
        raise AssertionError(f"unknown guard {name}")

    def impact_ends_operational(self, impact: list[tuple[datetime, ImpactLevel]]) -> bool:
        """Whether the impact, by when each change happened, ends operational (if it must)."""
        if not impact or not operational_first(self.priority):
            return True
        latest = max(range(len(impact)), key=lambda i: (impact[i][0], i))
        return impact[latest][1] is ImpactLevel.OPERATIONAL

    def unmet_guards(self, target: State) -> list[str]:
        """The guards a move to ``target`` fails, or ``lifecycle_edge`` when there is no edge."""
        found = EDGES.get((self.state, target))
        if found is None:
            return ["lifecycle_edge"]
        return [g for g in found[1] if not self.guard_met(g)]

    def _required_filled(self, priority: Priority, roles: dict[Role, list[str]]) -> list[str]:
        if self.state not in PAST_DECLARED:
            return []
        if all(roles.get(r) for r in required_roles(priority)):
            return []
        return ["required_roles_filled"]

    def _own_role(self, event: ev.Event) -> bool:
        if isinstance(event, ev.RoleHandedOff):
            return event.actor == event.from_holder and event.actor in self.holders(event.role)
        if isinstance(event, ev.RoleReleased):
            return event.actor == event.holder and event.actor in self.holders(event.role)
        if isinstance(event, ev.ActionClosed):  # an action item's owner may close it
            return self.action_owners.get(event.action_id) == event.actor
        return False

    def _timing(self, event: ev.Event) -> list[str]:
        found = []
        if event.recorded_at < self.last_stamp:
            found.append("stamps_in_order")
        if event.occurred_at > event.recorded_at:
            found.append("not_in_future")
        earliest = self.began_at
        if isinstance(event, PRECURSORS):
            earliest -= timedelta(days=PRECURSOR_DAYS)
        if event.occurred_at < earliest:
            found.append("not_before_start")
        # States are entered in the order of time: no move leaves a state before it was entered.
        if isinstance(event, ev.StateChanged) and event.occurred_at < self.entered_at:
            found.append("moves_in_order")
        return found

    def unmet(self, event: ev.Event) -> list[str]:
        """Every rule ``event`` would break if offered now; empty when it would be accepted."""
        if isinstance(event, ev.Declared):
            found = ["declared_once", *declaration_unmet(event)]
            if event.policy is not None and not intact(event.policy):
                found.append("policy_intact")
            return found
        if isinstance(event, ev.StateChanged):
            return self._move_unmet(event)
        command = COMMAND_OF[type(event)]
        found = []
        if self.state not in WHERE[command]:
            found.append("state_allows_command")
        if not self.may(event.actor, command) and not self._own_role(event):
            found.append("authorized")
        found += self._timing(event)
        found += self._record_rules(event)
        return found

    def _move_unmet(self, event: ev.StateChanged) -> list[str]:
        # Where the specification is silent, the library's documented reading: a move that is
        # no edge names no command, so there is nobody to authorize (only ``lifecycle_edge``);
        # a move from a state the incident is not in is refused for that alone, its guards
        # (which read the current state) unasked.
        found = []
        edge = EDGES.get((event.source, event.target))
        if edge is not None and not self.may(event.actor, edge[0]):
            found.append("authorized")
        found += self._timing(event)
        if event.source is not self.state:
            found.append("from_current_state")
        else:
            found += self.unmet_guards(event.target)
        return found

    def _record_rules(self, e: ev.Event) -> list[str]:
        found: list[str] = []
        if isinstance(e, ev.Validated):
            if self.validated:
                found.append("validated_once")
        elif isinstance(e, ev.RoleAssigned):
            holders = self.holders(e.role)
            if e.holder in holders:
                found.append("not_already_holder")
            elif e.role in SINGLE_HOLDER and holders:
                found.append("single_holder")
        elif isinstance(e, ev.RoleHandedOff):
            holders = self.holders(e.role)
            if e.from_holder not in holders:
                found.append("holds_role")
            if e.to_holder in holders:
                found.append("not_already_holder")
        elif isinstance(e, ev.RoleReleased):
            holders = self.holders(e.role)
            if e.holder not in holders:
                return ["holds_role"]  # releasing nothing can empty no role nor orphan work
            if e.role is IC and any(
                x.running and x.owner == e.holder for x in self.experiments.values()
            ):
                found.append("experiments_owned")
            if holders == [e.holder] and e.role in required_roles(self.priority):
                found.append("required_role_kept")  # the last holder: hand it off instead
        elif isinstance(e, ev.ExperimentStarted):
            if e.experiment_id in self.experiments:
                found.append("unique_id")
            if e.owner not in self.holders(IC):
                found.append("owner_is_commander")
            if any(x.running and x.component == e.component for x in self.experiments.values()):
                found.append("component_free")
        elif isinstance(e, ev.ExperimentConcluded):
            found += _known_open(
                self.experiments.get(e.experiment_id),
                lambda x: x.running,
            )
        elif isinstance(e, ev.ChangeLogged):
            if e.change_id in self.changes:
                found.append("unique_id")
        elif isinstance(e, ev.ChangeReconciled):
            found += _known_open(self.changes.get(e.change_id), lambda done: not done)
        elif isinstance(e, ev.WhyAnswered):
            found += self._why_rules(e)
        elif isinstance(e, ev.RoleUnknown):
            if self.holders(e.role) or e.role in self.unknown_roles:
                found.append("role_not_held")
        elif isinstance(e, ev.LinkAbsent):
            if e.kind in self.links or e.kind in self.absent_links:
                found.append("link_not_made")
        elif isinstance(e, ev.DataLossRecorded):
            if e.loss_id in self.losses:
                found.append("unique_id")
            # Issue 9: a window as far as the sources give it; an end not known is no bound.
            start, end = e.window_start, e.window_end
            if start is not None and end is not None and start > end:
                found.append("window_in_order")
            if end is not None and end > e.recorded_at:
                found.append("not_in_future")
        elif isinstance(e, ev.Amended):
            found += self._amend_rules(e)
        elif isinstance(e, ev.Retracted):
            found += self._entry_rules(e.entry, RETRACTABLE)
        elif isinstance(e, ev.DebtOpened):
            if e.debt_id in self.debts:
                found.append("unique_id")
        elif isinstance(e, ev.DebtClosed):
            found += _known_open(self.debts.get(e.debt_id), lambda still: still)
        elif isinstance(e, ev.ReportStarted):
            if self.report:
                found.append("report_once")
        elif isinstance(e, ev.ActionAdded):
            if e.action_id in self.actions:
                found.append("unique_id")
            if e.owner is None or e.due_at is None:  # the default policy asks for both
                found.append("action_owner_and_due")
        elif isinstance(e, ev.ImpactChanged):
            if self.state in AFTER_GREEN:
                assert self.green_at is not None
                if e.occurred_at > self.green_at:
                    found.append("impact_before_green")
                elif not self.impact_ends_operational([*self.impact, (e.occurred_at, e.level)]):
                    found.append("impact_operational")
        elif isinstance(e, ev.ActionClosed):
            found += _known_open(self.actions.get(e.action_id), lambda still: still)
        elif isinstance(e, ev.PriorityChanged):
            if e.priority is self.priority:
                found.append("priority_differs")  # and so nothing else changes
            else:
                found += self._required_filled(e.priority, self.roles)
        elif isinstance(e, ev.PolicyAdopted):
            if not intact(e.policy):
                found.append("policy_intact")
            elif e.policy.digest == self.policy_digest:
                found.append("policy_differs")
            elif self.state in PAST_DECLARED and not all(
                self.holders(r) for r in roles_required_by(e.policy, self.priority)
            ):
                found.append("required_roles_filled")
        return found

    def _why_rules(self, e: ev.WhyAnswered) -> list[str]:
        # A chain closes at its root cause; a root cause is as deep as the policy asks
        # (answers written before depths were recorded keep the old reading: any depth).
        found = []
        if e.chain in self.whys:
            depth, root = self.whys[e.chain]
            if root and depth >= WHYS_DEPTH:
                found.append("chain_open")
            if e.branches_from is not None:
                found.append("branch_first")
            expected = depth + 1
        elif e.branches_from is None:
            expected = 1
        elif e.branches_from not in self.whys:
            return ["known_chain"]
        else:
            parent_depth = self.whys[e.branches_from][0]
            parent_start = self.why_starts[e.branches_from]
            expected = parent_depth + 1 if e.depth is None else e.depth
            if not parent_start + 1 <= expected <= parent_depth + 1:
                return [*found, "branch_depth"]
        if e.depth is None:
            return found
        if e.depth != expected:
            found.append("why_depth")
        elif e.root_cause and expected < WHYS_DEPTH:
            found.append("root_cause_depth")
        return found

    def corrected(self, fixed: dict[int, ev.Event | None] | None = None) -> list[ev.Event]:
        """The record as corrected: entries amended, the retracted and corrections left out."""
        fixes = self.fixed if fixed is None else fixed
        out = []
        for number, e in enumerate(self.log, start=1):
            if isinstance(e, CORRECTIONS):
                continue
            now = fixes.get(number, e)
            if now is not None:
                out.append(now)
        return out

    def _entry_rules(self, entry: int, kinds: tuple[type[ev.Event], ...]) -> list[str]:
        if entry > len(self.log):
            return ["known_entry"]
        if entry in self.fixed and self.fixed[entry] is None:
            return ["not_retracted"]
        if not isinstance(self.log[entry - 1], kinds) or isinstance(
            self.log[entry - 1], CORRECTIONS
        ):
            return ["correctable_entry"]
        return []

    def _amend_rules(self, e: ev.Amended) -> list[str]:
        name = e.field_name
        kinds: tuple[type[ev.Event], ...] = {
            "title": (ev.Declared,),
            "began": (ev.Declared,),
            "detected": (ev.Declared,),
            "declared": (ev.Declared,),
            "priority": (ev.Declared, ev.PriorityChanged),
            "invitees": (ev.PostMortemScheduled,),
            "text": tuple(TEXT_OF),
            "time": TIMED,
        }.get(name, ())
        if not kinds or (name in OWN_FIELDS) != (e.entry is None):
            return ["amendable_field"]
        entry = e.entry or 1
        found = self._entry_rules(entry, kinds)
        if found:
            return found
        current = self.fixed.get(entry) or self.log[entry - 1]
        fixed = _amended(current, name, e.value)
        if fixed is None:
            return ["amended_value"]
        if fixed == current:
            return ["amendment_changes"]
        record = self.corrected({**self.fixed, entry: fixed})
        head = record[0]
        assert isinstance(head, ev.Declared)
        began = head.occurred_at if head.began is None else head.began
        if fixed.occurred_at > fixed.recorded_at or fixed.recorded_at > e.recorded_at:
            found.append("not_in_future")
        if isinstance(fixed, ev.Declared):
            found += [
                r for r in declaration_unmet(fixed) if r not in found and r != "policy_intact"
            ]
        if any(
            x.occurred_at < began - timedelta(days=PRECURSOR_DAYS * isinstance(x, PRECURSORS))
            for x in record[1:]
        ):
            found.append("not_before_start")
        moves = [
            head.occurred_at,
            *(x.occurred_at for x in record if isinstance(x, ev.StateChanged)),
        ]
        if any(b < a for a, b in itertools.pairwise(moves)):
            found.append("moves_in_order")
        if not found and name == "priority":
            last = [x for x in record if isinstance(x, ev.Declared | ev.PriorityChanged)][-1]
            found += self._required_filled(last.priority, self.roles)
        return found

    def refusal(self, event: ev.Event) -> type[CommandRefused] | None:
        """The exception the library must raise for ``event``, or ``None`` to accept it."""
        return refusal_for(event, self.unmet(event))

    # -- changing -------------------------------------------------------------------------

    def apply(self, e: ev.Event) -> None:
        """Fold an accepted event into the model."""
        self.log.append(e)
        self._fold(e)

    def _fold(self, e: ev.Event) -> None:
        self.last_stamp = e.recorded_at
        if isinstance(e, ev.Amended | ev.Retracted):
            entry = e.entry or 1
            if isinstance(e, ev.Retracted):
                self.fixed[entry] = None
            else:
                current = self.fixed.get(entry) or self.log[entry - 1]
                self.fixed[entry] = _amended(current, e.field_name, e.value)
            self._rebuild(e.recorded_at)
            return
        if isinstance(e, ev.Validated):
            self.validated = True
        elif isinstance(e, ev.Linked):
            self.links.add(e.kind)
            self.absent_links.discard(e.kind)
        elif isinstance(e, ev.RoleAssigned):
            self.roles[e.role] = [*self.holders(e.role), e.holder]
            self.unknown_roles.discard(e.role)
        elif isinstance(e, ev.RoleHandedOff):
            self.roles[e.role] = [
                e.to_holder if h == e.from_holder else h for h in self.roles[e.role]
            ]
            if e.role is IC:
                for x in self.experiments.values():
                    if x.running and x.owner == e.from_holder:
                        x.owner = e.to_holder
        elif isinstance(e, ev.RoleReleased):
            self.roles[e.role] = [h for h in self.roles[e.role] if h != e.holder]
            if not self.roles[e.role]:
                del self.roles[e.role]
        elif isinstance(e, ev.ExperimentStarted):
            self.experiments[e.experiment_id] = Experiment(e.component, e.owner)
        elif isinstance(e, ev.ExperimentConcluded):
            self.experiments[e.experiment_id].running = False
        elif isinstance(e, ev.ChangeLogged):
            self.changes[e.change_id] = False
        elif isinstance(e, ev.ChangeReconciled):
            self.changes[e.change_id] = True
        elif isinstance(e, ev.WhyAnswered):
            if e.chain in self.whys:
                depth = self.whys[e.chain][0] + 1
            elif e.branches_from is None:
                depth = 1
            else:
                depth = e.depth or self.whys[e.branches_from][0] + 1
            self.why_starts.setdefault(e.chain, depth)
            self.whys[e.chain] = (depth, e.root_cause)
        elif isinstance(e, ev.RoleUnknown):
            self.unknown_roles.add(e.role)
        elif isinstance(e, ev.LinkAbsent):
            self.absent_links.add(e.kind)
        elif isinstance(e, ev.DataLossRecorded):
            self.losses.add(e.loss_id)
        elif isinstance(e, ev.RecoveryVerified):
            self.recovery_verified = True
        elif isinstance(e, ev.CustomerVerified):
            self.customer_verified = True
        elif isinstance(e, ev.DebtOpened):
            self.debts[e.debt_id] = True
        elif isinstance(e, ev.DebtClosed):
            self.debts[e.debt_id] = False
        elif isinstance(e, ev.ReportStarted):
            self.report = True
        elif isinstance(e, ev.PostMortemScheduled):
            self.invitees = frozenset(e.invitees)
        elif isinstance(e, ev.ActionAdded):
            self.actions[e.action_id] = True
            self.action_owners[e.action_id] = e.owner
        elif isinstance(e, ev.ActionClosed):
            self.actions[e.action_id] = False
        elif isinstance(e, ev.PriorityChanged):
            self.priority = e.priority
        elif isinstance(e, ev.PolicyAdopted):
            self.policy_digest = e.policy.digest
        elif isinstance(e, ev.ImpactChanged):
            self.impact.append((e.occurred_at, e.level))
        elif isinstance(e, ev.StateChanged):
            if e.target is S.GREEN:
                self.green_at = e.occurred_at
            if (e.source, e.target) == (S.YELLOW, S.MITIGATING):
                self.recovery_verified = False
            self.state = e.target
            self.entered_at = e.occurred_at

    def _rebuild(self, stamp: datetime) -> None:
        """Read the corrected record afresh, as if it had been recorded so."""
        record = self.corrected()
        fresh = Model.declare(record[0])  # type: ignore[arg-type]
        for e in record[1:]:
            fresh._fold(e)
        for name in (
            "priority", "began_at", "entered_at", "state", "roles", "links", "validated",
            "experiments", "changes", "whys", "debts", "actions", "action_owners", "report",
            "invitees", "customer_verified", "recovery_verified", "policy_digest",
            "why_starts", "unknown_roles", "absent_links", "losses", "impact", "green_at",
        ):  # fmt: skip
            setattr(self, name, getattr(fresh, name))
        self.last_stamp = stamp

    def copy(self) -> Model:
        """An independent copy: containers copied, their plain values shared."""
        return Model(
            incident_id=self.incident_id,
            priority=self.priority,
            began_at=self.began_at,
            last_stamp=self.last_stamp,
            entered_at=self.entered_at,
            state=self.state,
            roles={r: list(hs) for r, hs in self.roles.items()},
            links=set(self.links),
            validated=self.validated,
            experiments={
                k: Experiment(x.component, x.owner, x.running) for k, x in self.experiments.items()
            },
            changes=dict(self.changes),
            whys=dict(self.whys),
            debts=dict(self.debts),
            actions=dict(self.actions),
            action_owners=dict(self.action_owners),
            report=self.report,
            invitees=self.invitees,
            customer_verified=self.customer_verified,
            recovery_verified=self.recovery_verified,
            policy_digest=self.policy_digest,
            why_starts=dict(self.why_starts),
            unknown_roles=set(self.unknown_roles),
            absent_links=set(self.absent_links),
            losses=set(self.losses),
            log=list(self.log),
            fixed=dict(self.fixed),
            impact=list(self.impact),
            green_at=self.green_at,
        )

    # -- comparing --------------------------------------------------------------------------

    def observe(self) -> Picture:
        """The model's picture of the incident, comparable with :func:`observe`."""
        return Picture(
            state=self.state,
            priority=self.priority,
            validated=self.validated,
            links=frozenset(self.links),
            roles=tuple((r, frozenset(self.holders(r))) for r in Role),
            experiments=frozenset(
                (k, x.component, x.owner, x.running) for k, x in self.experiments.items()
            ),
            changes=frozenset(self.changes.items()),
            whys=frozenset((k, d, root) for k, (d, root) in self.whys.items()),
            debts=frozenset(self.debts.items()),
            actions=frozenset(
                (k, self.action_owners[k], still) for k, still in self.actions.items()
            ),
            report=self.report,
            invitees=self.invitees,
            customer_verified=self.customer_verified,
            recovery_verified=self.recovery_verified,
            unknown_roles=frozenset(self.unknown_roles),
            absent_links=frozenset(self.absent_links),
            losses=frozenset(self.losses),
            impact=self.latest_impact(),
        )

    def latest_impact(self) -> ImpactLevel | None:
        """The impact level of the change that happened last (a tie: the one recorded last)."""
        if not self.impact:
            return None
        latest = max(range(len(self.impact)), key=lambda i: (self.impact[i][0], i))
        return self.impact[latest][1]


def declaration_unmet(event: ev.Declared) -> list[str]:
    """Issue 9: the onset, then detection, then the declaration, none after the stamp."""
    found = []
    onset = event.occurred_at if event.began is None else event.began
    declared = event.recorded_at if event.began is None else event.occurred_at
    times = [onset, *([event.detected_at] if event.detected_at is not None else []), declared]
    if event.occurred_at > event.recorded_at or (
        event.detected_at is not None and event.detected_at > event.recorded_at
    ):
        found.append("not_in_future")
    if any(later < earlier for earlier, later in itertools.pairwise(times)):
        found.append("milestones_in_order")
    if event.policy is not None and not intact(event.policy):
        found.append("policy_intact")
    return found


def refusal_for(event: ev.Event, rules: Sequence[str]) -> type[CommandRefused] | None:
    """The exception refusing ``event`` for unmet ``rules`` must be (``None`` when none)."""
    if not rules:
        return None
    if "authorized" in rules:
        return NotAuthorized
    if isinstance(event, ev.StateChanged):
        return TransitionBlocked
    return RuleViolated


def _amended(event: ev.Event, name: str, value: str) -> ev.Event | None:
    """``event`` with ``name`` read as ``value``; ``None`` when the value does not read.

    ``event`` is of a kind ``name`` may be amended on (:meth:`Model._amend_rules` checked).
    """
    try:
        if name in ("began", "detected", "time", "declared"):
            when = datetime.fromisoformat(value)
            if when.utcoffset() is None:
                return None
            if name == "detected":
                return attrs.evolve(cast("ev.Declared", event), detected_at=when)
            # A declaration written since the onset is told apart keeps it in ``began`` and
            # its declaration time in ``occurred_at``; an older one, in occurred_at/recorded_at.
            newer = isinstance(event, ev.Declared) and event.began is not None
            if name == "began" and newer:
                return attrs.evolve(cast("ev.Declared", event), began=when)
            if name == "declared" and newer:  # a declaration time given is a time known
                return attrs.evolve(cast("ev.Declared", event), occurred_at=when, unknown=())
            key = "recorded_at" if name == "declared" and not newer else "occurred_at"
            stamp: dict[str, Any] = {key: when}
            return attrs.evolve(event, **stamp)
        if name == "priority":
            prioritized = cast("ev.Declared | ev.PriorityChanged", event)
            return attrs.evolve(prioritized, priority=Priority(value))
        if name == "invitees":
            names = tuple(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
            scheduled = cast("ev.PostMortemScheduled", event)
            return attrs.evolve(scheduled, invitees=names) if names else None
        if name == "title":
            return attrs.evolve(cast("ev.Declared", event), title=value)
        text: dict[str, Any] = {TEXT_OF[type(event)]: value}
        return attrs.evolve(event, **text)
    except (ValueError, IncidentFlowError):
        return None


def _known_open(item: Any, is_open: Any) -> list[str]:
    if item is None:
        return ["known_id"]
    if not is_open(item):
        return ["still_open"]
    return []


@dataclass(frozen=True)
class Picture:
    """Everything about an incident that any rule can read, in plain hashable values."""

    state: State
    priority: Priority
    validated: bool
    links: frozenset[LinkKind]
    roles: tuple[tuple[Role, frozenset[str]], ...]
    experiments: frozenset[tuple[str, str, str, bool]]
    changes: frozenset[tuple[str, bool]]
    whys: frozenset[tuple[str, int, bool]]
    debts: frozenset[tuple[str, bool]]
    actions: frozenset[tuple[str, str | None, bool]]
    report: bool
    invitees: frozenset[str] | None
    customer_verified: bool
    recovery_verified: bool
    impact: ImpactLevel | None
    unknown_roles: frozenset[Role] = frozenset()
    absent_links: frozenset[LinkKind] = frozenset()
    losses: frozenset[str] = frozenset()


def observe(incident: Incident) -> Picture:
    """The library incident's picture, read through its public views only."""
    meeting = incident.post_mortem
    return Picture(
        state=incident.state,
        priority=incident.priority,
        validated=incident.validation is not None,
        links=frozenset(incident.links),
        roles=tuple((r, frozenset(incident.holders(r))) for r in Role),
        experiments=frozenset(
            (k, x.component, x.owner, x.verdict is None) for k, x in incident.experiments.items()
        ),
        changes=frozenset((k, c.outcome is not None) for k, c in incident.manual_changes.items()),
        whys=frozenset((k, c.depth, c.root_cause) for k, c in incident.why_chains.items()),
        debts=frozenset((k, d.closed_at is None) for k, d in incident.tech_debt.items()),
        actions=frozenset(
            (k, a.owner, a.closed_at is None) for k, a in incident.action_items.items()
        ),
        report=incident.report is not None,
        invitees=frozenset(meeting.invitees) if meeting is not None else None,
        customer_verified=incident.customer_verification is not None,
        recovery_verified=incident.recovery is not None,
        unknown_roles=frozenset(incident.unknown_roles),
        absent_links=frozenset(incident.absent_links),
        losses=frozenset(incident.data_losses),
        impact=incident.impact,
    )


def replay_expectation(events: Sequence[ev.Event]) -> tuple[Model | None, int | None, list[str]]:
    """What replaying ``events`` should do: the model, or the first bad index and its rules."""
    if not events:
        return None, 0, ["declared_first"]
    first = events[0]
    if not isinstance(first, ev.Declared):
        return None, 0, ["declared_first"]
    broken = declaration_unmet(first)
    if broken:
        return None, 0, broken
    model = Model.declare(first)
    for index, event in enumerate(events[1:], start=1):
        rules = model.unmet(event)
        if rules:
            return model, index, rules
        model.apply(event)
    return model, None, []


# -- invariants ------------------------------------------------------------------------------


@functools.cache
def _field_names(kind: type[ev.Event]) -> tuple[str, ...]:
    return tuple(f.name for f in attrs.fields(kind))


def _datetimes(event: ev.Event) -> Iterable[datetime]:
    # mypy takes a class with __hash__ for unhashable here (python/mypy#11470).
    values = (getattr(event, name) for name in _field_names(type(event)))  # type: ignore[arg-type]
    return (v for v in values if isinstance(v, datetime))


def check_invariants(
    incident: Incident,
    *,
    previous: Sequence[ev.Event] | None = None,
    replay: bool = True,
    round_trip: bool = True,
) -> None:
    """Assert every rule that must hold of any incident the library lets exist.

    ``previous`` is an earlier copy of the history, which must be a prefix of the current one.
    ``replay`` also replays the history and compares; ``round_trip`` does the same with the
    history written and read back through the codec.
    """
    history = list(incident.history)
    assert history, "an incident always has its declaration"
    assert isinstance(history[0], ev.Declared), "the first event declares the incident"
    assert not any(isinstance(e, ev.Declared) for e in history[1:]), "declared once"
    assert len(history) == incident.version

    # The log is append-only.
    if previous is not None:
        assert list(previous) == history[: len(previous)], "the history was rewritten"

    # Roles: single-holder roles have at most one holder; nobody holds a role twice.
    for role in Role:
        holders = incident.holders(role)
        assert len(holders) == len(set(holders)), f"{role} held twice by one person"
        if role in SINGLE_HOLDER:
            assert len(holders) <= 1, f"{role} has holders {holders}"
    if incident.state in PAST_DECLARED:
        for role in required_roles(incident.priority):
            assert incident.holders(role), f"{incident.priority} past declared without {role}"

    # The state only ever moved along edges, starting from declared, and each state was
    # entered no earlier than the one before it (declared when the incident began).
    record = incident.corrected_history  # what the views read: the corrections applied
    state, entered = S.DECLARED, record[0].occurred_at
    for event in record:
        if isinstance(event, ev.StateChanged):
            assert event.source is state, f"a move from {event.source} while {state}"
            assert (event.source, event.target) in EDGES, f"no edge {event.source}->{event.target}"
            assert entered <= event.occurred_at, f"{event} happened before the previous move"
            state, entered = event.target, event.occurred_at
    assert incident.state is state
    assert incident.when_entered(state) == entered

    # Issue 9: a declaration time not known (the corrected record says so) is not a milestone:
    # nothing measured from or to it; the time stands only as the latest it can have been.
    assert incident.declared_at_known == ("occurred_at" not in record[0].unknown)  # type: ignore[attr-defined]
    if not incident.declared_at_known:
        assert incident.measures().values["time_to_declare"] is None
        assert Milestone("declared").at(incident) is None
        assert Milestone("first:declared").at(incident) is None
        assert record[0].began is not None  # type: ignore[attr-defined]

    # Time: stamps never go backwards; nothing happens before the start or after its stamp,
    # except precursors, down to 30 days before the onset.  The start is when the corrected
    # record says it began (an amended onset included).
    declared = record[0]
    assert isinstance(declared, ev.Declared)
    began = declared.occurred_at if declared.began is None else declared.began
    assert incident.began_at == began
    for before, after in itertools.pairwise(history):
        assert before.recorded_at <= after.recorded_at, "stamps went backwards"
    for event in history:
        assert event.occurred_at <= event.recorded_at, f"bad times on {event}"
        for value in _datetimes(event):
            assert value.utcoffset() is not None, f"naive datetime in {event}"
    for event in record:
        earliest = began - timedelta(days=PRECURSOR_DAYS * isinstance(event, PRECURSORS))
        assert earliest <= event.occurred_at <= event.recorded_at, f"bad times on {event}"

    # Experiments: running ones target distinct components and are owned by current ICs.
    running = [x for x in incident.experiments.values() if x.verdict is None]
    assert len({x.component for x in running}) == len(running), "two experiments share a component"
    for x in running:
        assert x.owner in incident.holders(IC), f"{x.id} is owned by {x.owner}, not an IC"

    # What a guard required once stays true while the incident stays past that edge.
    if incident.state in PAST_DECLARED:
        assert incident.validation is not None
    if incident.state in {S.YELLOW, S.GREEN, S.REPORTED, S.POST_MORTEM}:
        assert incident.recovery is not None
        assert not running
    if incident.state in {S.GREEN, S.REPORTED, S.POST_MORTEM}:
        assert incident.customer_verification is not None or not needs_customer(incident.priority)
        assert not any(d.closed_at is None for d in incident.tech_debt.values())
        # Changes logged before green were reconciled then (a fix logged after green need not
        # be yet: reality logs permanent fixes late).
        green = next(
            n
            for n, e in enumerate(record)
            if isinstance(e, ev.StateChanged) and e.target is S.GREEN
        )
        before_green = {e.change_id for e in record[:green] if isinstance(e, ev.ChangeLogged)}
        assert all(incident.manual_changes[c].outcome is not None for c in before_green)
        timeline = incident.impact_timeline
        if timeline and operational_first(incident.priority):
            assert timeline[-1].level is ImpactLevel.OPERATIONAL, "green while impact lasts"
    if incident.state in {S.REPORTED, S.POST_MORTEM}:
        assert incident.report is not None
        assert any(c.root_cause and c.depth >= WHYS_DEPTH for c in incident.why_chains.values())
    if incident.state is S.POST_MORTEM:
        assert incident.post_mortem is not None

    if replay:
        assert Incident.replay(history) == incident, "replaying the history differs"
    if round_trip:
        text = codec.dump_lines(history)
        assert Incident.replay(codec.load_lines(text)) == incident, "the codec round trip differs"


# -- driving the library ---------------------------------------------------------------------

_SHORTCUTS = {
    (S.DECLARED, S.MITIGATING): "mitigate",
    (S.MITIGATING, S.YELLOW): "announce_yellow",
    (S.YELLOW, S.GREEN): "announce_green",
    (S.GREEN, S.REPORTED): "mark_reported",
    (S.REPORTED, S.POST_MORTEM): "begin_post_mortem",
    (S.DECLARED, S.DISMISSED): "dismiss",
    (S.YELLOW, S.MITIGATING): "reopen",
}
_AS_EVENT = object()
_BASE_FIELDS = frozenset({"actor", "occurred_at", "recorded_at", "approximate"})


@functools.lru_cache(maxsize=64)
def _policy_read_from(content: str) -> Policy | None:
    """The policy ``content`` reads as, or ``None`` where it reads as none.

    Read once per text: a search offers the same adoptions in every state it reaches, and a
    ``Policy`` is frozen, so every offer of a text can share its one reading.
    """
    try:
        return Policy.from_toml(content)
    except IncidentFlowError:
        return None


def issue(incident: Incident, event: ev.Event, *, at: Any = _AS_EVENT, now: Any = _AS_EVENT) -> Any:
    """Issue, through the command API, the command that should record ``event``; return its result.

    A move whose ``source`` is not the incident's state is offered with ``record()``, the only
    way to build one.  ``at`` defaults to ``None`` when the event happened when recorded (the
    command's own default) and to its ``occurred_at`` otherwise; ``now`` defaults to its
    ``recorded_at``.  Either may be overridden, e.g. with a naive datetime.
    """
    if at is _AS_EVENT:
        at = None if event.occurred_at == event.recorded_at else event.occurred_at
    flag: dict[str, Any] = {}
    if event.is_approximate():  # the command is told the time is approximate
        if at is None:
            at = event.occurred_at
        if isinstance(at, datetime) and at.utcoffset() is not None:
            # Issue 9: "--at ~TIME or an approximate=True flag" -- both, by turns.
            if event.occurred_at.minute % 2:
                flag = {"approximate": True}
            else:
                at = approximately(at)
    if now is _AS_EVENT:
        now = event.recorded_at
    times = {"actor": event.actor, "at": at, "now": now, **flag}
    if isinstance(event, ev.PolicyAdopted):  # the command takes a Policy; a forged record can't
        policy = _policy_read_from(event.policy.content)
        if policy is None or policy.recorded() != event.policy:
            return incident.record(event)
        return incident.adopt_policy(policy, **times)
    if isinstance(event, ev.StateChanged):
        if event.source is not incident.state:  # a stale move: only record() can offer it
            return incident.record(event)
        shortcut = _SHORTCUTS.get((event.source, event.target))
        if shortcut is not None:
            return getattr(incident, shortcut)(event.message, **times)
        return incident.move(event.target, message=event.message, **times)
    if isinstance(event, ev.WhyAnswered):  # the command works out the depth itself
        if event.depth is None:  # as written before depths were recorded: only record() can
            return incident.record(event)
        after = event.depth - 1 if event.branches_from is not None else None
        return incident.add_why(
            event.answer, chain=event.chain, root_cause=event.root_cause,
            branches_from=event.branches_from, after=after, **times,
        )  # fmt: skip
    if isinstance(event, ev.Amended) and event.entry is None and event.field_name == "invitees":
        return incident.record(event)  # the command would name the latest scheduling
    names = _field_names(type(event))  # type: ignore[arg-type]  # python/mypy#11470, as above
    fields = {n: getattr(event, n) for n in names if n not in _BASE_FIELDS}
    for name in event.approximate:  # a meeting's time, a due date, a window: approximately()
        value = fields.get(name)
        if isinstance(value, datetime) and value.utcoffset() is not None:
            fields[name] = approximately(value)
    return getattr(incident, METHOD_OF[type(event)])(**fields, **times)
