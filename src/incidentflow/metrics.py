"""How incidents go, measured: time to each milestone, time in each state, update cadence.

Over any set of incidents, :func:`stats` gives, per priority (and for all incidents), the
median and 90th percentile of each :class:`Measure`, the time spent in each state, how often
stakeholder updates kept to the policy's cadence, how many post-mortems were scheduled by
their deadline (:func:`post_mortem_deadline`), and how many action items are overdue.

No two tools define MTTA or MTTR alike, so a measure names its two ends explicitly: a
:class:`Measure` runs from one :class:`Milestone` to another, and the defaults
(:data:`DEFAULT_MEASURES`) start when the impact began (all but the time to declare, from
detection).  :func:`measure` takes them on one incident (``Incident.measures()``), flagging the
figures that rest on an approximate time.  Write your own as text:

>>> from incidentflow.demo import run_demo
>>> incident = run_demo(write=lambda line: None)
>>> str(Measure.parse("mtta = began..validated").of(incident))
'0:06:00'
>>> [str(m) for m in DEFAULT_MEASURES][:2]
['time_to_detect=began..detected', 'time_to_declare=detected..declared']

Every function reads the incidents and changes nothing; ``now`` (timezone-aware) is the time
the figures are taken at, for incidents still open.  It may not be before an incident's last
recorded event (:attr:`Incident.last_recorded_at <incidentflow.Incident.last_recorded_at>`):
figures taken then would count events that had not happened yet.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, cast

from attrs import field, frozen

from . import events as ev
from . import obligations as _obligations
from .clock import require_aware, require_not_before
from .errors import InvalidInput
from .incident import Incident
from .lifecycle import State
from .priorities import Priority
from .records import ImpactLevel, LinkKind

__all__ = [
    "DEFAULT_MEASURES",
    "GROUPINGS",
    "MILESTONES",
    "ActionSummary",
    "Compliance",
    "Deadlines",
    "Group",
    "IncidentMeasures",
    "Measure",
    "Milestone",
    "StateInterval",
    "Stats",
    "Summary",
    "UpdateGap",
    "data_loss_window",
    "duration",
    "impact_by_level",
    "measure",
    "post_mortem_deadline",
    "state_intervals",
    "stats",
    "time_in_state",
    "update_gaps",
]

_ZERO = timedelta(0)

# -- milestones ---------------------------------------------------------------------------------

# Milestones read from the first occurrence (the earliest occurred_at) of one kind of event.
_EVENT_MILESTONES: dict[type[ev.Event], str] = {
    ev.Validated: "validated",
    ev.RecoveryVerified: "recovery_verified",
    ev.CustomerVerified: "customer_verified",
    ev.ReportStarted: "report_started",
    ev.PostMortemScheduled: "post_mortem_scheduled",
}


def _first_name(state: State) -> str:
    """The canonical name of the first entry into ``state``.

    Plain ``"<state>"``, except for ``declared``: that name is the declaration's stamp.
    """
    return f"first:{state.value}" if state is State.DECLARED else state.value


def _milestones() -> dict[str, str]:
    names = {
        "began": "When the impact began, the onset: the declaration's began (Incident.began_at).",
        "detected": "When the problem was detected: the declaration's detected_at "
        "(Incident.detected_at).",
        "declared": "When the incident was declared: the declaration's occurred_at "
        "(Incident.declared_at; its recorded_at in histories written before the onset was "
        "told apart); not reached when the declaration time is not known.",
        "validated": "When the problem was validated (step 1).",
        "first_update": "The first stakeholder update (step 8).",
        "first_communication": "The first communication about the incident: the first "
        "stakeholder update or the announcement link, whichever came first (steps 4 and 8).",
        "mitigated": "When the mitigation was verified to work: the first recovery "
        "verification (step 11), the same time as recovery_verified.",
        "impact_ended": "When the impact ended: the start of the impact timeline's final "
        "operational phase (none while the impact lasts or when no impact is recorded).",
        "recovery_verified": "The first verification of recovery (step 11).",
        "customer_verified": "The customer's first verification of the fix (step 13).",
        "report_started": "When the incident report was started (step 14).",
        "post_mortem_scheduled": "When the post-mortem was first scheduled (step 15).",
        "post_mortem_meeting": "The time the post-mortem meeting is scheduled for (its latest "
        "scheduling).",
    }
    for state in State:
        if state is State.DECLARED:
            names[_first_name(state)] = (
                "The start of the declared state: the declaration's occurred_at (when it was "
                "declared; in histories written before the onset was told apart, when it began); "
                "not reached when the declaration time is not known."
            )
            names[f"last:{state.value}"] = "The same as first:declared (never re-entered)."
        else:
            names[_first_name(state)] = (
                f"The first time the incident entered {state.value} (also first:{state.value})."
            )
            names[f"last:{state.value}"] = f"The last time the incident entered {state.value}."
    return names


MILESTONES: Mapping[str, str] = MappingProxyType(_milestones())
"""Every milestone's canonical name, with what it means.

Event milestones are the ``occurred_at`` of the earliest such event.  A state's first and last
entry are the ``occurred_at`` of the first and last move into it in the log: moves are recorded
in order (the ``moves_in_order`` rule), so ``last:<state>`` is
:meth:`Incident.when_entered(state) <incidentflow.Incident.when_entered>`.
``first:<state>`` is accepted for ``<state>``.
"""

_ALIASES: dict[str, str] = {
    **{name: name for name in MILESTONES},
    **{f"first:{s.value}": _first_name(s) for s in State},
}


_ENTRIES = frozenset(_first_name(s) for s in State)


def _canonical(text: Any) -> str:
    if not isinstance(text, str):
        raise InvalidInput(f"a milestone must be a string, not {type(text).__name__}")
    prefix, colon, rest = text.partition(":")
    parts = (prefix, rest) if colon else (prefix,)
    key = ":".join("_".join(p.strip().lower().replace("-", " ").split()) for p in parts)
    found = _ALIASES.get(key)
    if found is None:
        fixed = ", ".join(n for n in MILESTONES if ":" not in n and n not in _ENTRIES)
        raise InvalidInput(
            f"unknown milestone {text!r}; expected one of: {fixed}, or a state as "
            "<state>, first:<state> or last:<state>"
        )
    return found


@frozen
class Milestone:
    """A point in an incident's life, by name (see :data:`MILESTONES`).

    The name is made canonical on construction, so ``Milestone("first:green")`` equals
    ``Milestone("green")``; an unknown name raises
    :class:`~incidentflow.errors.InvalidInput`.

    >>> Milestone.parse("Last:Yellow")
    Milestone(name='last:yellow')
    """

    name: str = field(converter=_canonical)

    @classmethod
    def parse(cls, text: str) -> Milestone:
        """The milestone ``text`` names, ignoring case, spaces, and ``-`` for ``_``."""
        return cls(text)

    def at(self, incident: Incident) -> datetime | None:
        """When ``incident`` reached this milestone, or ``None`` if it has not."""
        return _RESOLVERS[self.name](_digest(_incident(incident)))

    def __str__(self) -> str:
        return self.name


def _to_milestone(value: Milestone | str) -> Milestone:
    return value if isinstance(value, Milestone) else Milestone(value)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _measure_name(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise InvalidInput(
            f"a measure's name is a letter or _ then letters, digits, _ or -, not {value!r}"
        )


@frozen
class Measure:
    """A named duration between two milestones of an incident: ``name=start..end``.

    ``start`` and ``end`` may be given as :class:`Milestone` or as their names.

    >>> Measure("mtta", "began", "validated")
    Measure(name='mtta', start=Milestone(name='began'), end=Milestone(name='validated'))
    """

    name: str = field(validator=_measure_name)
    start: Milestone = field(converter=_to_milestone)
    end: Milestone = field(converter=_to_milestone)

    @classmethod
    def parse(cls, text: str) -> Measure:
        """A measure from ``"name=start..end"``, e.g. ``"mtta=began..validated"``."""
        if not isinstance(text, str):
            raise InvalidInput(f"a measure must be a string, not {type(text).__name__}")
        name, equals, span = text.partition("=")
        start, dots, end = span.partition("..")
        if not (equals and dots) or not name.strip():
            raise InvalidInput(
                f"a measure is written name=start..end, e.g. "
                f"'time_to_mitigate=began..mitigating', not {text!r}"
            )
        return cls(name.strip(), start, end)

    def of(self, incident: Incident) -> timedelta | None:
        """The time from start to end on ``incident``.

        ``None`` when either milestone is not reached, or the end comes before the start.
        """
        return _measure(self, _digest(_incident(incident)))

    def __str__(self) -> str:
        return f"{self.name}={self.start}..{self.end}"


DEFAULT_MEASURES: tuple[Measure, ...] = (
    Measure("time_to_detect", "began", "detected"),
    Measure("time_to_declare", "detected", "declared"),
    Measure("time_to_first_communication", "began", "first_communication"),
    Measure("time_to_mitigate", "began", "mitigated"),
    Measure("time_to_yellow", "began", "yellow"),
    Measure("time_to_green", "began", "green"),
    Measure("impact_duration", "began", "impact_ended"),
    Measure("time_to_report", "began", "reported"),
    Measure("time_to_post_mortem", "began", "post_mortem"),
)
"""The measures :func:`stats` and :func:`measure` take by default.

Each runs from the onset, except ``time_to_declare`` (from detection).  Yellow counts its first
entry: an incident reopened after yellow was first resolved then.  Green is never re-entered.
"""

# -- one walk over an incident's log ------------------------------------------------------------


class _Digest:
    """What the measures need from one incident, read in one walk over its log."""

    __slots__ = (
        "announced",
        "began",
        "changes",
        "declared",
        "declared_known",
        "detected",
        "entered",
        "entered_first",
        "entered_last",
        "firsts",
        "incident",
        "meeting",
        "priorities",
        "updates",
    )

    def __init__(self, incident: Incident) -> None:
        self.incident = incident
        self.began = incident.began_at
        self.declared = incident.declared_at
        self.declared_known = incident.declared_at_known
        self.detected = incident.detected_at
        self.entered = incident.declaration.occurred_at  # the declared state's start
        announcement = incident.links.get(LinkKind.ANNOUNCEMENT)
        self.announced = announcement.occurred_at if announcement is not None else None
        meeting = incident.post_mortem
        self.meeting = meeting.scheduled_for if meeting is not None else None
        self.changes: list[tuple[datetime, State]] = []
        self.priorities: list[tuple[datetime, Priority]] = []
        self.updates: list[datetime] = []
        self.firsts: dict[str, datetime] = {}
        self.entered_first: dict[State, datetime] = {}
        self.entered_last: dict[State, datetime] = {}


# What the walk does with each kind of event it reads: every other kind is skipped after one
# dict lookup.  Event milestones map to their names.
_UPDATE, _MOVE, _PRIORITY = "", ":move", ":priority"
_READ: dict[type[ev.Event], str] = {
    ev.UpdatePosted: _UPDATE,
    ev.StateChanged: _MOVE,
    ev.PriorityChanged: _PRIORITY,
    ev.Declared: _PRIORITY,
    **_EVENT_MILESTONES,
}


def _digest(incident: Incident) -> _Digest:
    d = _Digest(incident)
    changes, priorities, updates = d.changes, d.priorities, d.updates
    firsts, entered_first, entered_last = d.firsts, d.entered_first, d.entered_last
    read = _READ
    for event in incident.corrected_history:
        what = read.get(type(event))
        if what is None:
            continue
        at = event.occurred_at
        if what is _UPDATE:
            updates.append(at)
        elif what is _MOVE:
            target = cast("ev.StateChanged", event).target
            changes.append((at, target))
            entered_first.setdefault(target, at)
            entered_last[target] = at
        elif what is _PRIORITY:
            priorities.append((at, cast("ev.PriorityChanged | ev.Declared", event).priority))
        elif what not in firsts or at < firsts[what]:
            firsts[what] = at
    return d


def _resolvers() -> dict[str, Callable[[_Digest], datetime | None]]:
    table: dict[str, Callable[[_Digest], datetime | None]] = {
        "began": lambda d: d.began,
        "detected": lambda d: d.detected,
        "declared": lambda d: d.declared if d.declared_known else None,
        "first_update": lambda d: min(d.updates, default=None),
        "first_communication": _first_communication,
        "mitigated": lambda d: d.firsts.get("recovery_verified"),
        "impact_ended": lambda d: _impact_ended(d.incident),
        "post_mortem_meeting": lambda d: d.meeting,
        "first:declared": lambda d: d.entered if d.declared_known else None,
        "last:declared": lambda d: d.entered if d.declared_known else None,
    }
    for name in _EVENT_MILESTONES.values():
        table[name] = _first_event(name)
    for state in State:
        if state is not State.DECLARED:
            table[state.value] = _entered(state, last=False)
            table[f"last:{state.value}"] = _entered(state, last=True)
    return table


def _first_communication(d: _Digest) -> datetime | None:
    times = [t for t in (min(d.updates, default=None), d.announced) if t is not None]
    return min(times, default=None)


def _impact_ended(incident: Incident) -> datetime | None:
    timeline = incident.impact_timeline
    if not timeline or timeline[-1].level is not ImpactLevel.OPERATIONAL:
        return None
    ended = timeline[-1].occurred_at
    for change in reversed(timeline):
        if change.level is not ImpactLevel.OPERATIONAL:
            break
        ended = change.occurred_at
    return ended


def _first_event(name: str) -> Callable[[_Digest], datetime | None]:
    return lambda d: d.firsts.get(name)


def _entered(state: State, *, last: bool) -> Callable[[_Digest], datetime | None]:
    if last:
        return lambda d: d.entered_last.get(state)
    return lambda d: d.entered_first.get(state)


_RESOLVERS = _resolvers()


def _measure(measure: Measure, digest: _Digest) -> timedelta | None:
    start = _RESOLVERS[measure.start.name](digest)
    end = _RESOLVERS[measure.end.name](digest)
    if start is None or end is None or end < start:
        return None
    return end - start


def _incident(value: object) -> Incident:
    if not isinstance(value, Incident):
        raise InvalidInput(f"expected an Incident, not {type(value).__name__}")
    return value


def _not_before_record(now: object, incident: Incident) -> datetime:
    """``now``, if aware and not before ``incident``'s last recorded event."""
    return require_not_before(
        now, incident.last_recorded_at, "now", f"{incident.id}'s last recorded event"
    )


def _as_of(incident: object, now: object) -> tuple[_Digest, datetime]:
    """The digest of ``incident`` and ``now``, both checked."""
    checked = _incident(incident)
    return _digest(checked), _not_before_record(now, checked)


# -- one incident's measures ------------------------------------------------------------------


def _is(kind: type[ev.Event]) -> Callable[[ev.Event], bool]:
    return lambda e: isinstance(e, kind)


_MILESTONE_EVENTS: dict[str, Callable[[ev.Event], bool]] = {
    "first_update": lambda e: isinstance(e, ev.UpdatePosted),
    "first_communication": lambda e: (
        isinstance(e, ev.UpdatePosted)
        or (isinstance(e, ev.Linked) and e.kind is LinkKind.ANNOUNCEMENT)
    ),
    "mitigated": lambda e: isinstance(e, ev.RecoveryVerified),
    "impact_ended": lambda e: isinstance(e, ev.ImpactChanged),
    **{name: _is(kind) for kind, name in _EVENT_MILESTONES.items()},
}


def _rough(incident: Incident, name: str, at: datetime) -> bool:
    """Whether the time milestone ``name`` reached at ``at`` was recorded as approximate."""
    declaration = incident.declaration
    if name == "began":
        return declaration.is_approximate("occurred_at" if declaration.began is None else "began")
    if name == "detected":
        return declaration.is_approximate("detected_at")
    if name in ("first:declared", "last:declared"):
        return declaration.is_approximate()
    if name == "declared":
        return declaration.began is not None and declaration.is_approximate()
    if name == "post_mortem_meeting":
        meeting = incident.post_mortem
        return meeting is not None and meeting.is_approximate("scheduled_for")
    found = _MILESTONE_EVENTS.get(name)
    if found is None:  # a state's first or last entry
        state = State(name.partition(":")[2] or name)
        found = lambda e: isinstance(e, ev.StateChanged) and e.target is state  # noqa: E731
    return any(e.occurred_at == at and e.is_approximate() and found(e) for e in incident.history)


@frozen(kw_only=True)
class IncidentMeasures:
    """One incident's measures: each duration by name, ``None`` when not known.

    ``impact_by_level`` is the time spent at each impact level (see :func:`impact_by_level`),
    ``None`` when no impact is recorded.  ``approximate`` names the figures derived from a
    time recorded as approximate.  ``data_losses`` counts the data-loss records and
    ``data_loss_window`` is the time their lost writes span (see :func:`data_loss_window`):
    ``None`` when none is recorded, or when a recorded window is not wholly known.
    """

    values: Mapping[str, timedelta | None]
    impact_by_level: Mapping[ImpactLevel, timedelta] | None
    approximate: frozenset[str]
    data_losses: int = 0
    data_loss_window: timedelta | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: seconds (floats), ``None`` when not known, and the approximate names."""
        levels = self.impact_by_level
        return {
            **{name: _seconds(value) for name, value in self.values.items()},
            "impact_by_level": (
                None
                if levels is None
                else {level.value: value.total_seconds() for level, value in levels.items()}
            ),
            "approximate": sorted(self.approximate),
            "data_losses": self.data_losses,
            "data_loss_window": _seconds(self.data_loss_window),
        }


def impact_by_level(incident: Incident) -> Mapping[ImpactLevel, timedelta] | None:
    """How long the impact stayed at each level, every level a key; ``None`` if none recorded.

    Each phase of the impact timeline counts from its change to the next one; the phase still
    in force has no end yet and is not counted, nor is the stretch from the onset to the
    first recorded change, whose level is not known.  Operational phases between two dips
    count as operational.
    """
    phases = _incident(incident).impact_phases()
    if not phases:
        return None
    spent = dict.fromkeys(ImpactLevel, _ZERO)
    for phase in phases:
        if phase.end is not None:
            spent[phase.level] += phase.end - phase.start
    return MappingProxyType(spent)


def measure(
    incident: Incident, *, measures: Sequence[Measure] = DEFAULT_MEASURES
) -> IncidentMeasures:
    """Take ``measures`` (by default :data:`DEFAULT_MEASURES`) of one incident.

    Every figure uses when things happened (``occurred_at``), never when they were recorded,
    so an incident written down after the fact measures as it went.

    >>> from incidentflow.demo import run_demo
    >>> figures = measure(run_demo(write=lambda line: None))
    >>> str(figures.values["time_to_green"])
    '1:36:00'
    """
    checked = _incident(incident)
    chosen = _check_measures(measures)
    d = _digest(checked)
    values: dict[str, timedelta | None] = {}
    rough: set[str] = set()
    for m in chosen:
        start = _RESOLVERS[m.start.name](d)
        end = _RESOLVERS[m.end.name](d)
        values[m.name] = _measure(m, d)
        if values[m.name] is not None and (
            _rough(checked, m.start.name, cast("datetime", start))
            or _rough(checked, m.end.name, cast("datetime", end))
        ):
            rough.add(m.name)
    levels = impact_by_level(checked)
    if levels is not None and any(p.approximate for p in checked.impact_phases()):
        rough.add("impact_by_level")
    lost = data_loss_window(checked)
    if lost is not None and any(
        isinstance(e, ev.DataLossRecorded)
        and (e.is_approximate("window_start") or e.is_approximate("window_end"))
        for e in checked.history
    ):
        rough.add("data_loss_window")
    return IncidentMeasures(
        values=MappingProxyType(values),
        impact_by_level=levels,
        approximate=frozenset(rough),
        data_losses=len(checked.data_losses),
        data_loss_window=None if lost is None else timedelta(seconds=lost),
    )


# -- time in each state ---------------------------------------------------------------------


@frozen
class StateInterval:
    """A stretch of time an incident spent in one state, ``start`` to ``end``."""

    state: State
    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        """How long the stretch lasted."""
        return self.end - self.start


def _segments(d: _Digest, now: datetime) -> list[tuple[State, datetime, datetime]]:
    """The state intervals as plain tuples (see :func:`state_intervals`).

    Moves are in order (the ``moves_in_order`` rule) and ``now`` is not before the last
    record, so no stretch runs backwards.
    """
    found: list[tuple[State, datetime, datetime]] = []
    state, start = State.DECLARED, d.began
    for at, target in d.changes:
        found.append((state, start, at))
        state, start = target, at
    found.append((state, start, start if state.terminal else now))
    return found


def state_intervals(incident: Incident, *, now: datetime) -> tuple[StateInterval, ...]:
    """The incident's life as contiguous stretches, one per state it was in, in order.

    The first starts at ``began_at`` in ``declared``; each move starts the next at its
    ``occurred_at`` (moves are recorded in order, so stretches never run backwards).  The last
    ends at ``now``, unless the state is terminal (post_mortem, dismissed): the incident's life
    ends when it enters one, and the terminal stretch has zero length.  ``now`` before the
    incident's last recorded event raises :class:`~incidentflow.errors.InvalidInput`.
    """
    d, now = _as_of(incident, now)
    return tuple(StateInterval(state, start, end) for state, start, end in _segments(d, now))


def duration(incident: Incident, *, now: datetime) -> timedelta:
    """The incident's whole life: from ``began_at`` to the end of its last state interval."""
    d, now = _as_of(incident, now)
    return _segments(d, now)[-1][2] - d.began


def _time_in_state(segments: list[tuple[State, datetime, datetime]]) -> dict[State, timedelta]:
    spent = dict.fromkeys(State, _ZERO)
    for state, start, end in segments:
        spent[state] += end - start
    return spent


def time_in_state(incident: Incident, *, now: datetime) -> Mapping[State, timedelta]:
    """How long the incident spent in each state (every state a key; zero if never in it).

    The values add up to :func:`duration` exactly.
    """
    d, now = _as_of(incident, now)
    return MappingProxyType(_time_in_state(_segments(d, now)))


# -- stakeholder-update cadence -----------------------------------------------------------------


@frozen(kw_only=True)
class UpdateGap:
    """A stretch without a stakeholder update while the incident was active.

    ``within`` is false when :meth:`~incidentflow.Incident.due` showed the update overdue at
    some moment during the gap.  ``allowed`` is how long the gap could run before that: the
    priority's ``update_every``, or less when a priority change tightened the cadence during
    the gap (see :func:`update_gaps`); ``within`` is ``end - start <= allowed``.  ``open``
    marks the gap still running at ``now`` on an active incident, listed only once it has
    outrun ``allowed``.
    """

    start: datetime
    end: datetime
    allowed: timedelta
    within: bool
    open: bool


_Gap = tuple[datetime, datetime, timedelta, bool, bool]


def _windows(
    segments: list[tuple[State, datetime, datetime]],
) -> Iterator[tuple[datetime, datetime, bool]]:
    """The maximal runs of active states: (start, end, still open at now)."""
    opened: datetime | None = None
    closed = segments[0][1]
    for state, start, end in segments:
        if state.active:
            if opened is None:
                opened = start
            closed = end
        elif opened is not None:
            yield opened, closed, False
            opened = None
    if opened is not None:
        yield opened, closed, True


def _deadline(
    begin: datetime, end: datetime, froms: list[datetime], everies: list[timedelta]
) -> datetime:
    """The moment a gap from ``begin`` to ``end`` turns overdue, as ``Incident.due()`` shows.

    ``froms[i]`` is when priority segment ``i`` (cadence ``everies[i]``) takes effect.  While
    segment ``i`` is in force, ``due()`` has the update due at ``begin + everies[i]``, so the
    gap is overdue from ``max(segment start, begin + everies[i])`` if that comes before the
    segment ends (or the segment is the last one the gap reaches).  The first segment where it
    does gives the deadline: every later segment starts after it.
    """
    index = bisect_right(froms, begin) - 1  # froms[0] is began_at, never after begin
    while True:
        due = max(froms[index], begin + everies[index])
        following = index + 1
        if following == len(froms) or froms[following] >= end or due < froms[following]:
            return due
        index = following


def _gaps(d: _Digest, segments: list[tuple[State, datetime, datetime]]) -> Iterator[_Gap]:
    policy = d.incident.policy
    froms: list[datetime] = []
    everies: list[timedelta] = []
    for at, priority in d.priorities:
        # A change back-dated before the previous one takes effect at that one's time.
        froms.append(at if not froms or at > froms[-1] else froms[-1])
        everies.append(policy.rules_for(priority).update_every)
    updates = sorted(d.updates)
    for opened, closed, is_open in _windows(segments):
        start = opened if opened > d.declared else d.declared
        if closed <= start:
            continue  # no time passed while active after the declaration: nothing owed
        points = [start, *(u for u in updates if start <= u <= closed), closed]
        last = len(points) - 2
        for index in range(last + 1):
            begin, end = points[index], points[index + 1]
            if end == begin:
                continue  # an update at the stretch's edge, or two at once: no time went by
            due = _deadline(begin, end, froms, everies)
            if index == last and is_open:
                if end > due:
                    yield begin, end, due - begin, False, True
            else:
                yield begin, end, due - begin, end <= due, False


def update_gaps(incident: Incident, *, now: datetime) -> tuple[UpdateGap, ...]:
    """The gaps between stakeholder updates while the incident was active, in order.

    The cadence clock starts at ``declared_at`` (as :meth:`~incidentflow.Incident.due` does)
    and runs only while the incident is declared, mitigating or yellow.  In each such stretch,
    gaps run from its start to the first update, between updates, and from the last update to
    its end; a gap of no time at all (an update at the very start, two at once) is not one.

    A gap is within the cadence unless ``Incident.due()`` would have shown the stakeholder
    update overdue at some moment during it: ``due()`` counts from the gap's start by the
    cadence of the priority in force at that moment, so a raised priority can make a gap late
    at once, and a lowered one relaxes it from then on.  A stretch still running at ``now``
    lists its final gap only once it has been overdue (``open=True``, ``within=False``).
    """
    d, now = _as_of(incident, now)
    return tuple(
        UpdateGap(start=s, end=e, allowed=a, within=w, open=o)
        for s, e, a, w, o in _gaps(d, _segments(d, now))
    )


# -- post-mortem deadline -----------------------------------------------------------------------


def post_mortem_deadline(incident: Incident) -> datetime | None:
    """When the post-mortem meeting must be held by, or ``None`` if the incident was never green.

    The deadline is the last entry into green (``last:green``, as
    :meth:`Incident.when_entered(State.GREEN) <incidentflow.Incident.when_entered>`) plus the
    ``post_mortem_within`` of the incident's *current* priority: the ``due_at``
    :meth:`~incidentflow.Incident.due` gives the ``post_mortem`` and ``post_mortem_meeting``
    duties.  This is :func:`incidentflow.obligations.post_mortem_deadline`, refusing anything
    but an :class:`~incidentflow.Incident` with :class:`~incidentflow.errors.InvalidInput`.

    >>> from incidentflow.demo import run_demo
    >>> post_mortem_deadline(run_demo(write=lambda line: None))
    datetime.datetime(2026, 3, 4, 15, 32, tzinfo=datetime.timezone.utc)
    """
    return _obligations.post_mortem_deadline(_incident(incident))


def _post_mortem_judged(d: _Digest, now: datetime) -> tuple[int, int]:
    """``(due, met)`` for one incident's post-mortem at ``now``: each 0 or 1 (see :func:`stats`)."""
    # The walk already knows whether the incident was ever green: only then scan for the last
    # move into green (backwards, stopping there).
    ever_green = State.GREEN in d.entered_last
    deadline = _obligations.post_mortem_deadline(d.incident) if ever_green else None
    if deadline is None:
        return 0, 0
    if d.meeting is not None:
        return 1, int(d.meeting <= deadline)
    return (1, 0) if now > deadline else (0, 0)


# -- summaries ------------------------------------------------------------------------------


@frozen(kw_only=True)
class Summary:
    """One measure over a group of incidents.

    ``count`` incidents had a value and ``missing`` did not.  ``median`` is the middle value
    (the mean of the middle two for an even count, to the microsecond); ``p90`` is the
    nearest-rank 90th percentile, an observed value: the ``ceil(0.9 * count)``-th smallest.
    All four durations are ``None`` when ``count`` is 0.
    """

    count: int
    missing: int
    median: timedelta | None
    p90: timedelta | None
    minimum: timedelta | None
    maximum: timedelta | None


def _summary(values: list[timedelta], missing: int) -> Summary:
    if not values:
        return Summary(count=0, missing=missing, median=None, p90=None, minimum=None, maximum=None)
    values.sort()
    n = len(values)
    middle = n // 2
    median = values[middle] if n % 2 else (values[middle - 1] + values[middle]) / 2
    return Summary(
        count=n,
        missing=missing,
        median=median,
        p90=values[(9 * n + 9) // 10 - 1],  # ceil(0.9 n) in whole numbers
        minimum=values[0],
        maximum=values[-1],
    )


@frozen(kw_only=True)
class Compliance:
    """How many update gaps kept to the cadence: ``within`` of ``gaps``.

    ``share`` is ``within / gaps``, or ``None`` when there were no gaps to judge.
    """

    gaps: int
    within: int
    share: float | None


@frozen(kw_only=True)
class Deadlines:
    """How many post-mortems were scheduled by their deadline: ``met`` of ``due``.

    ``due`` counts the post-mortems judged so far (see :func:`stats`); ``share`` is
    ``met / due``, or ``None`` when none was.
    """

    due: int
    met: int
    share: float | None


@frozen(kw_only=True)
class ActionSummary:
    """Action items at ``now``: all, still open, open past their due time, closed late."""

    total: int
    open: int
    overdue: int
    closed_late: int


@frozen(kw_only=True)
class Group:
    """The figures for one priority (``None``: every incident).

    ``measures`` holds a :class:`Summary` per measure name, in the order measured.
    ``time_in_state`` holds one per state, over the incidents that were ever in it (the others
    count as missing).  ``impact_by_level`` holds one per impact level, over the incidents
    with an impact timeline (see :func:`impact_by_level`).  ``cadence`` sums every incident's
    update gaps; ``post_mortems`` counts the post-mortems judged against their deadline (see
    :func:`stats`).
    """

    priority: Priority | None
    incidents: int
    measures: Mapping[str, Summary]
    time_in_state: Mapping[State, Summary]
    cadence: Compliance
    post_mortems: Deadlines
    actions: ActionSummary
    impact_by_level: Mapping[ImpactLevel, Summary] = field(factory=lambda: MappingProxyType({}))


class _Bucket:
    """The figures of one group while incidents are added to it."""

    __slots__ = (
        "actions",
        "gaps",
        "incidents",
        "levels",
        "met",
        "missing",
        "post_mortems",
        "spent",
        "values",
        "within",
    )

    def __init__(self, measures: int) -> None:
        self.incidents = 0
        self.values: list[list[timedelta]] = [[] for _ in range(measures)]
        self.missing = [0] * measures
        self.spent: dict[State, list[timedelta]] = {s: [] for s in State}
        self.levels: dict[ImpactLevel, list[timedelta]] = {level: [] for level in ImpactLevel}
        self.gaps = 0
        self.within = 0
        self.post_mortems = 0
        self.met = 0
        self.actions = [0, 0, 0, 0]

    def add(
        self,
        values: list[timedelta | None],
        spent: dict[State, timedelta],
        gaps: int,
        within: int,
        post_mortem: tuple[int, int],
        actions: tuple[int, int, int, int],
        levels: Mapping[ImpactLevel, timedelta] | None,
    ) -> None:
        self.incidents += 1
        if levels is not None:
            for level, length in levels.items():
                self.levels[level].append(length)
        for index, value in enumerate(values):
            if value is None:
                self.missing[index] += 1
            else:
                self.values[index].append(value)
        for state, length in spent.items():
            self.spent[state].append(length)
        self.gaps += gaps
        self.within += within
        self.post_mortems += post_mortem[0]
        self.met += post_mortem[1]
        for index, count in enumerate(actions):
            self.actions[index] += count

    def group(self, priority: Priority | None, measures: Sequence[Measure]) -> Group:
        return Group(
            priority=priority,
            incidents=self.incidents,
            measures=MappingProxyType(
                {
                    m.name: _summary(self.values[index], self.missing[index])
                    for index, m in enumerate(measures)
                }
            ),
            time_in_state=MappingProxyType(
                {s: _summary(v, self.incidents - len(v)) for s, v in self.spent.items()}
            ),
            impact_by_level=MappingProxyType(
                {level: _summary(v, self.incidents - len(v)) for level, v in self.levels.items()}
            ),
            cadence=Compliance(
                gaps=self.gaps,
                within=self.within,
                share=self.within / self.gaps if self.gaps else None,
            ),
            post_mortems=Deadlines(
                due=self.post_mortems,
                met=self.met,
                share=self.met / self.post_mortems if self.post_mortems else None,
            ),
            actions=ActionSummary(
                total=self.actions[0],
                open=self.actions[1],
                overdue=self.actions[2],
                closed_late=self.actions[3],
            ),
        )


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _summary_dict(summary: Summary) -> dict[str, Any]:
    return {
        "count": summary.count,
        "missing": summary.missing,
        "median": _seconds(summary.median),
        "p90": _seconds(summary.p90),
        "minimum": _seconds(summary.minimum),
        "maximum": _seconds(summary.maximum),
    }


def _readable(value: timedelta | None) -> str:
    """A duration in days, hours and minutes (seconds under a minute); ``-`` for none."""
    if value is None:
        return "-"
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{int(seconds)}s"
    minutes = int((seconds + 30) // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


@frozen(kw_only=True)
class Stats:
    """The figures :func:`stats` took at ``now``: one :class:`Group` for all, then P0–P3."""

    now: datetime
    measures: tuple[Measure, ...]
    groups: tuple[Group, ...]
    by: str = "priority"

    def group(self, priority: Priority | None = None) -> Group:
        """The figures for ``priority``, or for every incident when ``None``."""
        if priority is not None and not isinstance(priority, Priority):
            raise InvalidInput(f"priority must be a Priority or None, not {priority!r}")
        for g in self.groups:
            if g.priority is priority:
                return g
        raise InvalidInput(f"these stats have no group for {priority!r}")

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready data: durations in seconds (floats), missing as ``None``."""
        return {
            "now": self.now.isoformat(),
            "by": self.by,
            "measures": [
                {"name": m.name, "start": m.start.name, "end": m.end.name} for m in self.measures
            ],
            "groups": [
                {
                    "priority": g.priority.value if g.priority is not None else None,
                    "incidents": g.incidents,
                    "measures": {
                        **{name: _summary_dict(s) for name, s in g.measures.items()},
                        "impact_by_level": {
                            level.value: _summary_dict(s) for level, s in g.impact_by_level.items()
                        },
                    },
                    "time_in_state": {
                        state.value: _summary_dict(s) for state, s in g.time_in_state.items()
                    },
                    "cadence": {
                        "gaps": g.cadence.gaps,
                        "within": g.cadence.within,
                        "share": g.cadence.share,
                    },
                    "post_mortems": {
                        "due": g.post_mortems.due,
                        "met": g.post_mortems.met,
                        "share": g.post_mortems.share,
                    },
                    "actions": {
                        "total": g.actions.total,
                        "open": g.actions.open,
                        "overdue": g.actions.overdue,
                        "closed_late": g.actions.closed_late,
                    },
                }
                for g in self.groups
            ],
        }

    def table(self) -> str:
        """A plain-text table with a column per group (all, P0 … P3).

        Each duration cell reads ``median / p90 (n)``, where ``n`` counts the incidents with
        a value; durations read as ``45m``, ``3h 05m`` or ``2d 04h``; ``-`` where nothing
        was measured.  Below the measures: time in each state, the share of update gaps
        within the cadence, the share of post-mortems scheduled by their deadline, and action
        items open / overdue / closed late.
        """
        heads = ["all", *(g.priority.value for g in self.groups if g.priority is not None)]
        rows: list[tuple[str, ...]] = [(f"at {self.now:%Y-%m-%d %H:%M %Z}", *heads)]
        rows.append(("incidents", *(str(g.incidents) for g in self.groups)))
        rows.append(("median / p90 (n)",))
        for measure in self.measures:
            label = f"  {measure.name} ({measure.start.name}..{measure.end.name})"
            rows.append((label, *(_cell(g.measures.get(measure.name)) for g in self.groups)))
        level_rows = [
            (f"  {level.value}", *(_cell(g.impact_by_level.get(level)) for g in self.groups))
            for level in ImpactLevel
        ]
        if any(cell != "-" for row in level_rows for cell in row[1:]):
            rows.append(("impact by level",))
            rows.extend(level_rows)
        rows.append(("time in state",))
        for state in State:
            cells = [_cell(g.time_in_state.get(state)) for g in self.groups]
            if any(cell != "-" for cell in cells):
                rows.append((f"  {state.value}", *cells))
        rows.append(("updates within cadence", *(_compliance(g.cadence) for g in self.groups)))
        rows.append(
            ("post-mortems by deadline", *(_deadlines(g.post_mortems) for g in self.groups))
        )
        rows.append(
            (
                "actions open/overdue/late",
                *(
                    f"{g.actions.open}/{g.actions.overdue}/{g.actions.closed_late}"
                    for g in self.groups
                ),
            )
        )
        columns = 1 + len(self.groups)
        widths = [max(len(row[i]) for row in rows if len(row) > i) for i in range(columns)]
        lines = []
        for row in rows:
            cells = [row[0].ljust(widths[0])]
            cells.extend(
                cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=False)
            )
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)


def _cell(summary: Summary | None) -> str:
    if summary is None or not summary.count:
        return "-"
    return f"{_readable(summary.median)} / {_readable(summary.p90)} ({summary.count})"


def _compliance(cadence: Compliance) -> str:
    if cadence.share is None:
        return "-"
    return f"{cadence.within}/{cadence.gaps} ({cadence.share:.0%})"


def _deadlines(post_mortems: Deadlines) -> str:
    if post_mortems.share is None:
        return "-"
    return f"{post_mortems.met}/{post_mortems.due} ({post_mortems.share:.0%})"


def stats(
    incidents: Iterable[Incident],
    *,
    now: datetime,
    measures: Sequence[Measure] = DEFAULT_MEASURES,
    by: str = "priority",
) -> Stats:
    """Measure ``incidents`` at ``now``: summaries, cadence, post-mortems and action items.

    Groups come in a fixed order: all incidents, then P0, P1, P2 and P3 (a group with no
    incidents has ``incidents=0`` and empty summaries).  An incident counts under its
    *current* priority, or with ``by="highest_priority"`` under the most urgent priority it
    ever had (see :data:`GROUPINGS`).  The result never depends on the order the incidents
    come in.

    Post-mortem deadlines: an incident that has entered green has a deadline,
    :func:`post_mortem_deadline` (its last entry into green plus its current priority's
    ``post_mortem_within``).  If a post-mortem is scheduled, it is judged at once: it meets the
    deadline when the time it is scheduled for (its latest scheduling) is not after the
    deadline.  If none is scheduled, it is judged late once ``now`` is past the deadline, and
    not judged before then.  An incident never green is not judged.
    ``now`` before any incident's last recorded event raises
    :class:`~incidentflow.errors.InvalidInput` naming the incident.
    """
    now = require_aware(now, "now")
    if isinstance(incidents, Incident) or not isinstance(incidents, Iterable):
        raise InvalidInput(f"incidents must be an iterable of Incident, not {incidents!r}")
    chosen = _check_measures(measures)
    if by not in GROUPINGS:
        raise InvalidInput(f"stats group by one of: {', '.join(GROUPINGS)}; not {by!r}")
    highest = by == "highest_priority"
    everyone = _Bucket(len(chosen))
    buckets = {p: _Bucket(len(chosen)) for p in Priority}
    for item in incidents:
        if not isinstance(item, Incident):
            raise InvalidInput(f"stats measures Incident objects, not {type(item).__name__}")
        _not_before_record(now, item)
        d = _digest(item)
        values = [_measure(m, d) for m in chosen]
        segments = _segments(d, now)
        spent: dict[State, timedelta] = {}
        for state, start, end in segments:
            spent[state] = spent.get(state, _ZERO) + (end - start)
        gaps = within = 0
        for gap in _gaps(d, segments):
            gaps += 1
            within += gap[3]
        total = still_open = overdue = late = 0
        for action in item.action_items.values():
            total += 1
            if action.closed_at is None:
                still_open += 1
                overdue += action.due_at is not None and action.due_at < now
            else:
                late += action.due_at is not None and action.closed_at > action.due_at
        post_mortem = _post_mortem_judged(d, now)
        figures = (
            values,
            spent,
            gaps,
            within,
            post_mortem,
            (total, still_open, overdue, late),
            impact_by_level(item),
        )
        everyone.add(*figures)
        buckets[item.highest_priority if highest else item.priority].add(*figures)
    return Stats(
        now=now,
        by=by,
        measures=chosen,
        groups=(
            everyone.group(None, chosen),
            *(buckets[p].group(p, chosen) for p in Priority),
        ),
    )


GROUPINGS: Mapping[str, str] = MappingProxyType(
    {
        "priority": "Each incident counts under its current priority.",
        "highest_priority": "Each incident counts under the most urgent priority it ever had.",
    }
)
"""How :func:`stats` may group incidents (its ``by``), with what each means."""


def _check_measures(measures: object) -> tuple[Measure, ...]:
    if isinstance(measures, str | Measure) or not isinstance(measures, Sequence):
        raise InvalidInput(f"measures must be a sequence of Measure, not {measures!r}")
    chosen = tuple(measures)
    wrong = [type(m).__name__ for m in chosen if not isinstance(m, Measure)]
    if wrong:
        raise InvalidInput(f"measures must all be Measure, not {', '.join(wrong)}")
    names = [m.name for m in chosen]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InvalidInput(f"measure names must be unique; repeated: {', '.join(twice)}")
    return chosen


def data_loss_window(incident: Incident) -> float | None:
    """Seconds of writes lost for good: the union of the recorded data-loss windows.

    Overlapping windows count once.  ``None`` when no data loss is recorded (not zero: an
    incident that lost nothing records nothing), and when any recorded window is not wholly
    known: a sum that left it out would not be the whole.
    """
    windows: list[tuple[datetime, datetime]] = []
    for loss in _incident(incident).data_losses.values():
        if loss.window_start is None or loss.window_end is None:
            return None
        windows.append((loss.window_start, loss.window_end))
    windows.sort()
    if not windows:
        return None
    total = _ZERO
    start, end = windows[0]
    for begin, finish in windows[1:]:
        if begin > end:
            total += end - start
            start, end = begin, finish
        else:
            end = max(end, finish)
    return (total + end - start).total_seconds()
