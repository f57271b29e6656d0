"""The incident: a guarded fold of its events, and the commands that add to it.

Data flows one way.  A command method builds an event; the policy checks it against every
guard, record rule and authorization rule; only when nothing is unmet is the event folded into
the incident and appended to its log; then subscribers hear of it.  A refused command raises
a :class:`~incidentflow.errors.CommandRefused` naming every unmet rule and changes nothing.

>>> from datetime import UTC, datetime
>>> from incidentflow import ManualClock, Priority, Role, State
>>> clock = ManualClock(datetime(2026, 3, 1, 14, 0, tzinfo=UTC))
>>> incident = Incident.declare("INC-7", "Database is down", Priority.P2,
...                             actor="ana", clock=clock)
>>> incident.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana").type
'role_assigned'
>>> [u.rule for u in incident.unmet(State.MITIGATING)]
['validated', 'required_links']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from . import events as ev
from ._admission import admit, builder
from ._collector import BULK, bulk
from ._commands import Commands
from ._fold import FOLD
from ._fold import NO_ENTRIES as _NO_ENTRIES
from ._fold import NO_ITEMS as _NO_ITEMS
from .clock import (
    EARLIEST,
    LATEST,
    ApproximateTime,
    Clock,
    SystemClock,
    approximate_names,
    exact,
    marked_approximate,
    require_aware,
)
from .corrections import corrected
from .errors import (
    CommandRefused,
    InvalidInput,
    NotAuthorized,
    ReplayError,
    RuleViolated,
    TransitionBlocked,
)
from .lifecycle import State, edge, edges_from
from .policy import COMMAND_STATES, DEFAULT_POLICY, Policy, _quick_check
from .priorities import Priority
from .records import (
    ActionItem,
    Correction,
    DataLoss,
    DetectionMethod,
    Experiment,
    ImpactLevel,
    ImpactPhase,
    LinkKind,
    ManualChange,
    NoteKind,
    TechDebt,
    Unmet,
    WhyChain,
)
from .roles import SLOT, STAFFING_ORDER, UNSTAFFED, Role
from .subscribers import Subscribers

if TYPE_CHECKING:
    from .metrics import IncidentMeasures
    from .obligations import Obligation

__all__ = ["Incident"]

E = TypeVar("E", bound=ev.Event)

_UNDECLARED = datetime.min.replace(tzinfo=UTC)  # replaced by the declaration's occurred_at


class Incident(Commands):
    """One incident: its state, what was recorded, and the commands that move it on.

    Build one with :meth:`declare` or rebuild one with :meth:`replay`; never by hand.  Every
    attribute is read-only; only commands change an incident.  Each command takes the
    ``actor`` issuing it, ``at`` (when it happened, which may be back-dated but never before
    the incident began, nor for a move before the previous move) and ``now`` (the stamp; by
    default the incident's clock), and returns the event it recorded.
    """

    __slots__ = (
        "_absent_links",
        "_action_items",
        "_began",
        "_clock",
        "_corrected",
        "_corrections",
        "_customer_verification",
        "_data_losses",
        "_declared",
        "_events",
        "_experiments",
        "_factors",
        "_impact",
        "_links",
        "_manual_changes",
        "_moved_at",
        "_policy",
        "_post_mortem",
        "_priority",
        "_recorded",
        "_recovery",
        "_report",
        "_roles",
        "_running",
        "_saved",
        "_state",
        "_subscribers",
        "_tech_debt",
        "_unknown_roles",
        "_validation",
        "_why_chains",
    )

    def __init__(
        self,
        *,
        policy: Policy = DEFAULT_POLICY,
        clock: Clock | None = None,
        subscribers: Subscribers | None = None,
    ) -> None:
        if not isinstance(policy, Policy):
            raise InvalidInput(f"policy must be a Policy, not {policy!r}")
        self._policy = policy
        # The policy as the history records it (None until declared, and in histories
        # written before incidents recorded their policy).
        self._recorded: ev.RecordedPolicy | None = None
        # Made on first use (a replayed incident may never read its clock nor gain a subscriber).
        self._clock: Clock | None = clock
        self._subscribers: Subscribers | None = subscribers
        self._events: list[ev.Event] = []
        # Entry number -> the entry as corrected (None once retracted), and every correction.
        self._corrected: dict[int, ev.Event | None] = _NO_ENTRIES
        self._corrections: list[Correction] = _NO_ITEMS
        # How many of the events a store is known to hold (set by Store.load and Store.save):
        # what Store.save appends is the rest, at this expected version.
        self._saved = 0
        self._clear()

    def _clear(self) -> None:
        """Forget everything folded from the log (not the log, nor its corrections)."""
        self._declared: ev.Declared | None = None
        # The declaration's onset, kept by the fold for the timing rules every event meets.
        self._began = _UNDECLARED
        self._state = State.DECLARED
        # When the latest move happened (the declaration's occurred_at until the first move),
        # kept by the fold so the ``moves_in_order`` rule need not search the log.
        self._moved_at = _UNDECLARED
        self._priority = Priority.P3
        self._validation: ev.Validated | None = None
        # Every collection starts as the shared empty one (_NO_ENTRIES, _NO_ITEMS); the fold
        # makes an incident its own on the first write, so a new incident allocates none.
        self._links: dict[LinkKind, ev.Linked] = _NO_ENTRIES
        # The staffing table: each role's holders, in the order of STAFFING_ORDER.
        self._roles: tuple[tuple[str, ...], ...] = UNSTAFFED
        self._experiments: dict[str, Experiment] = _NO_ENTRIES
        # The running experiments, by id, in the order started: an index over _experiments
        # kept by the fold, so rules about running experiments do not scan every experiment.
        self._running: dict[str, Experiment] = _NO_ENTRIES
        self._manual_changes: dict[str, ManualChange] = _NO_ENTRIES
        self._why_chains: dict[str, WhyChain] = _NO_ENTRIES
        self._factors: list[ev.FactorAdded] = _NO_ITEMS
        self._recovery: ev.RecoveryVerified | None = None
        self._customer_verification: ev.CustomerVerified | None = None
        self._tech_debt: dict[str, TechDebt] = _NO_ENTRIES
        self._report: ev.ReportStarted | None = None
        self._post_mortem: ev.PostMortemScheduled | None = None
        self._action_items: dict[str, ActionItem] = _NO_ENTRIES
        self._unknown_roles: dict[Role, ev.RoleUnknown] = _NO_ENTRIES
        self._absent_links: dict[LinkKind, ev.LinkAbsent] = _NO_ENTRIES
        self._data_losses: dict[str, DataLoss] = _NO_ENTRIES
        # The impact timeline in the order recorded (a change may be back-dated).
        self._impact: list[ev.ImpactChanged] = _NO_ITEMS

    def _refold(self) -> None:
        """Fold the corrected record again, after a correction (which checked every rule)."""
        self._clear()
        for event in corrected(self._events, self._corrected):
            FOLD[type(event)](self, event)

    # -- building ------------------------------------------------------------------------

    @classmethod
    def declare(
        cls,
        incident_id: str,
        title: str,
        priority: Priority,
        *,
        actor: str,
        at: datetime | None = None,
        at_latest: datetime | None = None,
        began: datetime | None = None,
        detected: datetime | None = None,
        approximate: bool | Iterable[str] = False,
        detection: DetectionMethod | None = None,
        detected_by: str = "",
        now: datetime | None = None,
        policy: Policy = DEFAULT_POLICY,
        clock: Clock | None = None,
        subscribers: Subscribers | None = None,
    ) -> Incident:
        """Declare a new incident; ``at`` is when it was declared (default: ``now``).

        ``began`` is when the impact began (the onset; default: the detection if given, else
        the declaration: nothing shows an earlier onset), ``detected``
        when the problem was detected, ``detection`` how (see
        :class:`~incidentflow.DetectionMethod`) and ``detected_by`` by what or whom.  The
        times must come in that order: began, detected, declared.  Any of them may be marked
        approximate with :func:`~incidentflow.approximately`, or by naming them in
        ``approximate`` (``{"began", "detected"}``; ``True`` marks ``at`` alone).

        When nobody knows when the incident was declared (a postmortem that does not say),
        give ``at_latest`` instead of ``at``: the latest it can have been (the first response
        the sources time).  The declaration records its time as not known
        (:attr:`~incidentflow.events.Declared.unknown`), ``at_latest`` standing in as its
        place in the order; measures that need it are ``None`` and documents say "not known
        (by ...)".  The onset cannot default to an unknown time: give ``began`` or
        ``detected`` with it.

        The declaration records ``policy`` (its name, whole text and digest): the incident runs
        under it from then on, whatever policy it is later loaded or replayed with, until
        another is adopted (see :meth:`adopt_policy`).
        """
        given = marked_approximate(
            approximate, at=at, at_latest=at_latest, began=began, detected=detected
        )
        at, at_latest = given["at"], given["at_latest"]
        began, detected = given["began"], given["detected"]
        if at_latest is not None and at is not None:
            raise InvalidInput(
                "at is when the incident was declared and at_latest the latest it can have "
                "been when that is not known: give one of them, not both"
            )
        if at_latest is not None and began is None and detected is None:
            raise InvalidInput(
                "the declaration time is not known (at_latest), so the onset cannot default to "
                "it: give began (or detected) as well"
            )
        incident = cls(policy=policy, clock=clock, subscribers=subscribers)
        stamp = incident._stamp(now)
        when = at if at_latest is None else at_latest
        declared = (
            stamp if when is None else require_aware(when, "at_latest" if at is None else "at")
        )
        found = None if detected is None else require_aware(detected, "detected")
        default = declared if found is None else found
        onset = default if began is None else require_aware(began, "began")
        rough: tuple[str, ...] = ()
        if when is not None or began is not None or detected is not None:
            rough = approximate_names(occurred_at=when, began=began, detected_at=detected)
        if began is None and isinstance(default, ApproximateTime):
            rough = tuple(sorted({"began", *rough}))  # the onset defaults to a rough time
        exact_now = began is None and when is None and found is None and not rough
        fields: dict[str, Any] = {
            "actor": actor,
            "unknown": () if at_latest is None else ("occurred_at",),
            "incident_id": incident_id,
            "title": title,
            "priority": priority,
            "policy": policy.recorded(),
            # Declared now, begun now: the older form says just that, so write it so.
            "began": None if exact_now else exact(onset),
            "detected_at": None if found is None else exact(found),
            "detection": detection,
            "detected_by": detected_by,
        }
        occurred = exact(declared)
        # Each value checked once when the builder can vouch for them all (see _issue).
        build = None if rough else builder(ev.Declared)
        event = None if build is None else build(occurred, stamp, fields)
        if event is not None:
            incident._apply(event)
        else:
            incident._commit(
                ev.Declared(occurred_at=occurred, recorded_at=stamp, approximate=rough, **fields)
            )
        return incident

    @classmethod
    def replay(
        cls,
        events: Iterable[ev.Event],
        *,
        policy: Policy = DEFAULT_POLICY,
        clock: Clock | None = None,
        subscribers: Subscribers | None = None,
    ) -> Incident:
        """Rebuild an incident from its events, checking every rule on the way.

        Each event is checked under the policy the history records: the declaration's, then
        each adopted one from its :class:`~incidentflow.events.PolicyAdopted` event on.
        ``policy`` applies only to a history whose declaration records none (written before
        incidents recorded their policy).  Subscribers are not told of replayed events.  A
        history that breaks a rule raises :class:`~incidentflow.errors.ReplayError` naming the
        first bad event (``version``, counting from 1); a recorded policy whose digest does
        not match its content, or whose content is not a policy, breaks ``policy_intact``.

        A list or tuple of 10,000 events or more is replayed as
        :func:`~incidentflow.codec.load_lines` reads one: the cyclic garbage collector paused,
        and what the replay built promoted to its oldest generation at the end (the records of
        a long incident, thousands of them, hold no reference cycle and live as long as it).
        """
        if isinstance(events, (list, tuple)) and len(events) >= BULK:
            with bulk():
                return cls._replay(events, policy, clock, subscribers)
        return cls._replay(events, policy, clock, subscribers)

    @classmethod
    def _replay(
        cls,
        events: Iterable[ev.Event],
        policy: Policy,
        clock: Clock | None,
        subscribers: Subscribers | None,
    ) -> Incident:
        incident = cls(policy=policy, clock=clock, subscribers=subscribers)
        fold = FOLD
        log = incident._events
        # Each event class gets, once per policy, a step that checks an event quickly and,
        # when it breaks no rule, folds it in and appends it (see Policy.unmet).  Any event
        # the step cannot vouch for is checked in full, which explains a refusal; after it the
        # policy in force is read again (a declaration or an adoption may change it).  Every
        # event accepted is appended, so an event's index is the log's length.
        in_force = incident._policy
        steps = in_force._replay_steps
        for event in events:
            kind = type(event)
            step = steps.get(kind)
            if step is not None and step(incident, event):
                continue
            apply = fold.get(kind)
            if apply is None:
                raise ReplayError(
                    index=len(log), rules=("event_type",), detail=f"not an event: {event!r}"
                )
            unmet = in_force.unmet(incident, event)
            if unmet:
                raise ReplayError(
                    index=len(log),
                    rules=tuple(u.rule for u in unmet),
                    detail="; ".join(u.detail for u in unmet),
                    unmet=unmet,
                )
            apply(incident, event)
            log.append(event)
            if kind not in steps:
                steps[kind] = _quick_check(in_force, kind, fold=apply)
            if incident._policy is not in_force:
                in_force = incident._policy
                steps = in_force._replay_steps
        if not log:
            raise ReplayError(index=0, rules=("declared_first",), detail="the history is empty")
        return incident

    # -- reading -------------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The incident's id, as declared."""
        return self._declaration.incident_id

    @property
    def title(self) -> str:
        """The incident's title, as declared."""
        return self._declaration.title

    @property
    def declared_by(self) -> str:
        """Who declared the incident."""
        return self._declaration.actor

    @property
    def began_at(self) -> datetime:
        """When the impact began (the onset): the declaration's ``began``.

        In a declaration written before the onset was told apart from the declaration, its
        ``occurred_at``.
        """
        return self._declaration.onset

    @property
    def declared_at(self) -> datetime:
        """When the incident was declared: the declaration's ``occurred_at``.

        In a declaration written before the onset was told apart from the declaration, its
        ``recorded_at``.  When the declaration time is not known (see
        :attr:`declared_at_known`), the latest it can have been.
        """
        return self._declaration.declared_time

    @property
    def declared_at_known(self) -> bool:
        """Whether the declaration time is known (see ``at_latest`` in :meth:`declare`)."""
        return not self._declaration.is_unknown()

    @property
    def detected_at(self) -> datetime | None:
        """When the problem was detected, if recorded."""
        return self._declaration.detected_at

    @property
    def detection(self) -> DetectionMethod | None:
        """How the problem was detected, if recorded."""
        return self._declaration.detection

    @property
    def detected_by(self) -> str:
        """By what or whom the problem was detected (empty when not recorded)."""
        return self._declaration.detected_by

    @property
    def declaration(self) -> ev.Declared:
        """The declaration: the first event."""
        return self._declaration

    @property
    def impact(self) -> ImpactLevel | None:
        """The impact level now: the latest change by when it happened; ``None`` if none."""
        timeline = self.impact_timeline
        return timeline[-1].level if timeline else None

    @property
    def impact_timeline(self) -> tuple[ev.ImpactChanged, ...]:
        """The impact changes in the order they happened (a tie keeps the order recorded)."""
        return tuple(sorted(self._impact, key=_occurred))

    def impact_phases(self) -> tuple[ImpactPhase, ...]:
        """The impact timeline as phases: each level from its change until the next.

        The last phase has no ``end``.  Each phase carries the highest priority in force
        during it.
        """
        timeline = self.impact_timeline
        history = self.priority_history
        phases = []
        for index, change in enumerate(timeline):
            end = timeline[index + 1].occurred_at if index + 1 < len(timeline) else None
            phases.append(
                ImpactPhase(
                    level=change.level,
                    start=change.occurred_at,
                    end=end,
                    description=change.description,
                    components=change.components,
                    share=change.share,
                    approximate=change.is_approximate(),
                    priority=_highest_during(history, change.occurred_at, end),
                )
            )
        return tuple(phases)

    @property
    def priority_history(self) -> tuple[tuple[datetime, Priority], ...]:
        """Each priority the incident had, from when: the declaration's, then every change.

        The declaration's priority counts from the onset, a change from when it happened (one
        back-dated before the previous change takes effect at that change's time).
        """
        found: list[tuple[datetime, Priority]] = [(self.began_at, self._declaration.priority)]
        for e in self._events:
            if isinstance(e, ev.PriorityChanged):
                found.append((max(e.occurred_at, found[-1][0]), e.priority))
        return tuple(found)

    @property
    def highest_priority(self) -> Priority:
        """The most urgent priority the incident ever had (P0 is the highest)."""
        return min(p for _, p in self.priority_history)

    @property
    def _declaration(self) -> ev.Declared:
        if self._declared is None:
            raise InvalidInput("the incident has not been declared")
        return self._declared

    @property
    def last_recorded_at(self) -> datetime:
        """When the latest event was recorded: no document or measure is taken before it."""
        return self._events[-1].recorded_at

    @property
    def state(self) -> State:
        """Where the incident is in its lifecycle."""
        return self._state

    @property
    def priority(self) -> Priority:
        """The current priority."""
        return self._priority

    @property
    def policy(self) -> Policy:
        """The policy whose rules this incident follows now (the recorded one, if any)."""
        return self._policy

    @property
    def recorded_policy(self) -> ev.RecordedPolicy | None:
        """The policy as the history records it: at declaration or latest adoption.

        ``None`` for a history written before incidents recorded their policy; such an
        incident follows the policy it was loaded or replayed with.
        """
        return self._recorded

    @property
    def clock(self) -> Clock:
        """The clock commands read when no ``now`` is given."""
        clock = self._clock
        if clock is None:
            clock = self._clock = SystemClock()
        return clock

    @property
    def subscribers(self) -> Subscribers:
        """Who hears of this incident's events."""
        subscribers = self._subscribers
        if subscribers is None:
            subscribers = self._subscribers = Subscribers()
        return subscribers

    @property
    def history(self) -> Sequence[ev.Event]:
        """Every event, in the order recorded (a read-only view)."""
        return _View(self._events)

    @property
    def version(self) -> int:
        """How many events the incident has."""
        return len(self._events)

    @property
    def validation(self) -> ev.Validated | None:
        """The validation of step 1, once recorded."""
        return self._validation

    @property
    def links(self) -> Mapping[LinkKind, ev.Linked]:
        """The latest link of each kind."""
        if self._links is _NO_ENTRIES:  # a live view needs the incident's own
            self._links = {}
        return MappingProxyType(self._links)

    @property
    def roles(self) -> Mapping[Role, tuple[str, ...]]:
        """The holders of each role (a live view); unfilled roles are absent.

        Roles come in the runbook's order, which :class:`~incidentflow.Role` declares;
        holders in the order they took the role, a hand-off putting the new holder in the old
        one's place.
        """
        return _Staffing(self)

    def holders(self, role: Role) -> tuple[str, ...]:
        """Who holds ``role`` now."""
        slot = SLOT.get(role)
        return () if slot is None else self._roles[slot]

    def roles_of(self, person: str) -> frozenset[Role]:
        """The roles ``person`` holds now."""
        return frozenset(
            r for r, hs in zip(STAFFING_ORDER, self._roles, strict=True) if person in hs
        )

    @property
    def experiments(self) -> Mapping[str, Experiment]:
        """Every experiment, by id, in the order started."""
        if self._experiments is _NO_ENTRIES:  # a live view needs the incident's own
            self._experiments = {}
        return MappingProxyType(self._experiments)

    @property
    def running_experiments(self) -> tuple[Experiment, ...]:
        """The experiments not yet concluded."""
        return tuple(self._running.values())

    @property
    def notes(self) -> tuple[ev.NoteAdded, ...]:
        """The timeline notes of step 7 (as corrected; the retracted left out)."""
        return tuple(e for e in self._corrected_record() if type(e) is ev.NoteAdded)

    @property
    def updates(self) -> tuple[ev.UpdatePosted, ...]:
        """The stakeholder updates of step 8 (as corrected; the retracted left out)."""
        return tuple(e for e in self._corrected_record() if type(e) is ev.UpdatePosted)

    def _corrected_record(self) -> Sequence[ev.Event]:
        """The history as corrected, or the log itself when nothing was corrected.

        Notes, updates, ``corrected_history`` and ``when_entered`` read it (a correction always
        records the entry it corrects, so an empty ``_corrected`` means no correction event).
        """
        return corrected(self._events, self._corrected) if self._corrected else self._events

    @property
    def manual_changes(self) -> Mapping[str, ManualChange]:
        """The manual changes of step 9, by id."""
        if self._manual_changes is _NO_ENTRIES:  # a live view needs the incident's own
            self._manual_changes = {}
        return MappingProxyType(self._manual_changes)

    @property
    def why_chains(self) -> Mapping[str, WhyChain]:
        """The Five Whys chains of step 10, by chain id."""
        if self._why_chains is _NO_ENTRIES:  # a live view needs the incident's own
            self._why_chains = {}
        return MappingProxyType(self._why_chains)

    @property
    def factors(self) -> tuple[ev.FactorAdded, ...]:
        """The contributing factors."""
        return tuple(self._factors)

    @property
    def recovery(self) -> ev.RecoveryVerified | None:
        """The recovery verification of step 11, cleared when the incident is reopened."""
        return self._recovery

    @property
    def customer_verification(self) -> ev.CustomerVerified | None:
        """The customer's verification of the fix (step 13)."""
        return self._customer_verification

    @property
    def tech_debt(self) -> Mapping[str, TechDebt]:
        """The tech-debt items, by id."""
        if self._tech_debt is _NO_ENTRIES:  # a live view needs the incident's own
            self._tech_debt = {}
        return MappingProxyType(self._tech_debt)

    @property
    def report(self) -> ev.ReportStarted | None:
        """The start of the incident report (step 14)."""
        return self._report

    @property
    def post_mortem(self) -> ev.PostMortemScheduled | None:
        """The latest scheduling of the post-mortem meeting (step 15)."""
        return self._post_mortem

    @property
    def action_items(self) -> Mapping[str, ActionItem]:
        """The action items, by id."""
        if self._action_items is _NO_ENTRIES:  # a live view needs the incident's own
            self._action_items = {}
        return MappingProxyType(self._action_items)

    @property
    def unknown_roles(self) -> Mapping[Role, ev.RoleUnknown]:
        """The roles recorded as held by nobody anyone can name (see ``role_unknown``)."""
        if self._unknown_roles is _NO_ENTRIES:  # a live view needs the incident's own
            self._unknown_roles = {}
        return MappingProxyType(self._unknown_roles)

    @property
    def absent_links(self) -> Mapping[LinkKind, ev.LinkAbsent]:
        """The links recorded as never made (no ticket was opened), with the reason."""
        if self._absent_links is _NO_ENTRIES:  # a live view needs the incident's own
            self._absent_links = {}
        return MappingProxyType(self._absent_links)

    @property
    def discrepancies(self) -> tuple[ev.NoteAdded, ...]:
        """The notes recording that two sources disagree."""
        return tuple(n for n in self.notes if n.kind is NoteKind.DISCREPANCY)

    @property
    def data_losses(self) -> Mapping[str, DataLoss]:
        """The data lost for good, by id, in the order recorded."""
        if self._data_losses is _NO_ENTRIES:  # a live view needs the incident's own
            self._data_losses = {}
        return MappingProxyType(self._data_losses)

    @property
    def corrections(self) -> tuple[Correction, ...]:
        """Every amendment and retraction, in the order made, with who, why and what it replaced."""
        return tuple(self._corrections)

    @property
    def corrected_history(self) -> tuple[ev.Event, ...]:
        """The corrected record: every entry as amended, without the retracted ones.

        Corrections themselves are left out (see :attr:`corrections`); the views, measures
        and documents read this, while :attr:`history` keeps every event as recorded.
        """
        return tuple(self._corrected_record())

    def measures(self) -> IncidentMeasures:
        """How the incident went, measured (see :func:`incidentflow.metrics.measure`)."""
        from .metrics import measure

        return measure(self)

    def when_entered(self, state: State) -> datetime | None:
        """When the incident last entered ``state``, or ``None``.

        For declared, the declaration's ``occurred_at``: when it was declared (in a
        declaration written before the onset was told apart, when it began).
        """
        if state is State.DECLARED:
            return self._declaration.occurred_at
        for event in reversed(self._corrected_record()):
            if isinstance(event, ev.StateChanged) and event.target is state:
                return event.occurred_at
        return None

    # -- asking before acting ------------------------------------------------------------

    def unmet(self, target: State, *, actor: str | None = None) -> tuple[Unmet, ...]:
        """Every rule that blocks a move to ``target`` now; empty when the move may go.

        With ``actor``, whether that person may issue the move is checked too.  Never raises
        for an unreachable target: the missing edge is reported as the ``lifecycle_edge`` rule.
        """
        if not isinstance(target, State):
            raise InvalidInput(f"target must be a State, not {target!r}")
        found = list(self._policy.guards_unmet(self, target))
        if actor is not None:
            move = edge(self._state, target)
            if move is not None and not self._policy.authorized(self, actor, move.trigger):
                found.insert(0, self._policy.refusal_for(actor, move.trigger))
        return tuple(found)

    def can_move(self, target: State, *, actor: str | None = None) -> bool:
        """Whether a move to ``target`` would be accepted now."""
        return not self.unmet(target, actor=actor)

    def next_states(self) -> tuple[State, ...]:
        """The states reachable in one move from here, guards or not."""
        return tuple(e.target for e in edges_from(self._state))

    def allowed_commands(self, actor: str | None = None) -> frozenset[str]:
        """The commands the state allows now (and, with ``actor``, that they may issue).

        Moves are included by trigger name when their guards are met.  Rules about a
        command's own arguments (an unknown id, a role already held) are not considered.
        """
        policy = self._policy
        names = {c for c, states in COMMAND_STATES.items() if self._state in states}
        names.update(
            e.trigger for e in edges_from(self._state) if not policy.guards_unmet(self, e.target)
        )
        if actor is not None:
            names = {n for n in names if policy.authorized(self, actor, n)}
        return frozenset(names)

    def due(self, now: datetime | None = None) -> tuple[Obligation, ...]:
        """What is owed on this incident at ``now``, soonest first (see :mod:`.obligations`)."""
        from .obligations import obligations

        return obligations(self, self._stamp(now))

    # -- the pipeline ----------------------------------------------------------------------

    def record(self, event: E) -> E:
        """Check ``event`` against every rule, apply it, tell subscribers, and return it.

        The command methods end in the same checks (each of their values checked once, see
        :mod:`incidentflow._commands`); use it to apply an event built elsewhere.
        Names are put in Unicode NFC first (see :mod:`incidentflow.identities`), so the event
        returned may differ from the one given in just that.
        """
        if type(event) not in FOLD:
            raise InvalidInput(f"not an incidentflow event: {event!r}")
        return self._commit(event)

    def _record_admitted(self, event: E) -> E:
        """:meth:`record` of an event that was admitted as it is (names already in NFC)."""
        if type(event) not in FOLD:
            raise InvalidInput(f"not an incidentflow event: {event!r}")
        return self._apply(event)

    def _commit(self, event: E) -> E:
        # Names in NFC, times in range, text that can be stored: before any rule is read.
        return self._apply(cast("E", admit(event, normalize=True)))

    def _apply(self, event: E) -> E:
        """Check the admitted ``event`` against every rule, fold it in, log it and publish it."""
        unmet = self._policy.unmet(self, event)
        if unmet:
            raise self._refusal(event, unmet)
        FOLD[type(event)](self, event)
        self._events.append(event)
        if self._subscribers is not None:  # none is made until someone asks for them
            self._subscribers.publish(self, event)
        return event

    def _refusal(self, event: ev.Event, unmet: tuple[Unmet, ...]) -> CommandRefused:
        identity = self._declared.incident_id if self._declared else _declared_id(event)
        command = self._policy.command_of(self, event)
        common: dict[str, Any] = {
            "incident_id": identity,
            "state": self._state.value,
            "command": command,
            "unmet": unmet,
        }
        if any(u.rule == "authorized" for u in unmet):
            return NotAuthorized(**common)
        if isinstance(event, ev.StateChanged):
            return TransitionBlocked(target=event.target.value, **common)
        return RuleViolated(**common)

    def _blocked(self, command: str, target: State, unmet: tuple[Unmet, ...]) -> TransitionBlocked:
        return TransitionBlocked(
            incident_id=self.id,
            state=self._state.value,
            command=command,
            target=target.value,
            unmet=unmet,
        )

    def _stamp(self, now: datetime | None) -> datetime:
        if now is None:
            clock = self._clock if self._clock is not None else self.clock
            stamp, name = clock.now(), "the clock's now()"
        else:
            stamp, name = now, "now"
        if type(stamp) is datetime and stamp.tzinfo is UTC and EARLIEST <= stamp <= LATEST:
            return stamp  # what require_aware returns as it is, tested in a few steps
        return require_aware(stamp, name)

    # -- equality --------------------------------------------------------------------------

    def _snapshot(self) -> tuple[object, ...]:
        return (
            self._declared,
            self._recorded,
            self._state,
            self._moved_at,
            self._priority,
            self._validation,
            self._links,
            self._roles,
            self._experiments,
            self._manual_changes,
            self._why_chains,
            self._factors,
            self._recovery,
            self._customer_verification,
            self._tech_debt,
            self._report,
            self._post_mortem,
            self._action_items,
            self._unknown_roles,
            self._absent_links,
            self._data_losses,
            self._corrections,
            self._impact,
            self._events,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Incident):
            return NotImplemented
        return self._snapshot() == other._snapshot()

    __hash__ = None  # type: ignore[assignment]  # mutable: commands change it

    def __repr__(self) -> str:
        name = self._declared.incident_id if self._declared else "(undeclared)"
        return (
            f"<Incident {name} {self._priority.value} {self._state.value}, "
            f"{len(self._events)} event{'' if len(self._events) == 1 else 's'}>"
        )


def _occurred(event: ev.Event) -> datetime:
    return event.occurred_at


def _highest_during(
    history: tuple[tuple[datetime, Priority], ...], start: datetime, end: datetime | None
) -> Priority:
    """The most urgent priority in force at some moment from ``start`` to ``end``."""
    in_force = history[0][1]
    chosen = []
    for at, priority in history:
        if at <= start:
            in_force = priority
        elif end is None or at < end:
            chosen.append(priority)
    return min((in_force, *chosen))


def _declared_id(event: ev.Event) -> str:
    return event.incident_id if isinstance(event, ev.Declared) else "(undeclared)"


class _Staffing(Mapping[Role, tuple[str, ...]]):
    """A read-only, live view of an incident's staffing table: each filled role's holders."""

    __slots__ = ("_incident",)

    def __init__(self, incident: Incident) -> None:
        self._incident = incident

    def __getitem__(self, role: Role) -> tuple[str, ...]:
        slot = SLOT.get(role)
        holders = () if slot is None else self._incident._roles[slot]
        if not holders:
            raise KeyError(role)
        return holders

    def __iter__(self) -> Iterator[Role]:
        table = self._incident._roles
        return (role for role, holders in zip(STAFFING_ORDER, table, strict=True) if holders)

    def __len__(self) -> int:
        return sum(1 for holders in self._incident._roles if holders)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self)!r})"


class _View(Sequence[ev.Event]):
    """A read-only window on an incident's event log."""

    __slots__ = ("_items",)

    def __init__(self, items: list[ev.Event]) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: Any) -> Any:
        item = self._items[index]
        return tuple(item) if isinstance(index, slice) else item

    def __iter__(self) -> Iterator[ev.Event]:
        return iter(self._items)

    def __reversed__(self) -> Iterator[ev.Event]:
        return reversed(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _View):
            return self._items == other._items
        if isinstance(other, Sequence):
            return list(self._items) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<history of {len(self._items)} events>"
