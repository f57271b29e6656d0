"""The RCA meeting: the runbook's six-part agenda, fitted and pre-filled, and its invitation.

The runbook gives the post-mortem ("RCA follow-up") meeting six parts, each with a time box.
:func:`fit` shares a meeting's length among them: every part starts at the short end of its
box and the minutes left over are shared in proportion to how far each box stretches.
:func:`agenda` fits the parts, times them from the scheduled start, lists who should come (the
invitees and everyone who held a role) and pre-fills each part with the facts the incident
recorded: the timeline, the findings, the candidate root causes, the proposed actions.
An :class:`Agenda` is laid out in the blocks of :mod:`._blocks`, the same as the RCA document,
so its Markdown (:meth:`Agenda.markdown`) and its HTML page (:meth:`Agenda.html`) are two
renderings of one structure, with typed text escaped the one way each format needs.
:func:`invitation` writes the scheduled meeting as an iCalendar (``.ics``) file; it needs the
``calendar`` extra (``pip install 'incidentflow[calendar]'``).

>>> [(p.title, p.minimum.seconds // 60, p.maximum.seconds // 60) for p in AGENDA][3]
('Root Cause Analysis', 30, 60)
>>> fit(timedelta(minutes=90))
(6, 11, 16, 34, 17, 6)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from attrs import frozen

from incidentflow import events as ev
from incidentflow.clock import require_aware
from incidentflow.errors import InvalidInput, MissingExtra, NotReady
from incidentflow.incident import Incident
from incidentflow.lifecycle import State
from incidentflow.records import LinkKind
from incidentflow.roles import Role

from ._blocks import BulletList, Paragraph, Section, Subheading, Text, markdown, ours, page, typed
from ._facts import factors_by_category, impact, role_holders, systems
from ._impact import at, impact_story
from ._markup import inline
from ._narrative import describe, elapsed, moment

if TYPE_CHECKING:
    from icalendar import vCalAddress

__all__ = [
    "AGENDA",
    "LONGEST",
    "LONGEST_ALLOWED",
    "PART_FLOOR",
    "SHORTEST",
    "SHORTEST_ALLOWED",
    "Agenda",
    "AgendaPart",
    "Attendee",
    "PartTemplate",
    "agenda",
    "fit",
    "invitation",
]

_MINUTE = timedelta(minutes=1)


@frozen(kw_only=True)
class PartTemplate:
    """One part of the runbook's meeting format: its title, time box and topics.

    ``topics`` are the runbook's bullet lines for the part, word for word.
    """

    number: int
    title: str
    minimum: timedelta
    maximum: timedelta
    topics: tuple[str, ...]


def _part(number: int, title: str, low: int, high: int, *topics: str) -> PartTemplate:
    return PartTemplate(
        number=number,
        title=title,
        minimum=timedelta(minutes=low),
        maximum=timedelta(minutes=high),
        topics=topics,
    )


AGENDA: tuple[PartTemplate, ...] = (
    _part(1, "Introduction", 5, 10,
          "Welcome and introductions",
          "Purpose and objective of the meeting",
          "Ground rules"),
    _part(2, "Background and Problem Description", 10, 15,
          "Brief description of the complex system",
          "Details of the failure",
          "Impact on organization, customers, etc."),
    _part(3, "Initial Analysis", 15, 20,
          "Timeline of events leading to failure",
          "Initial findings and observations",
          "Overview of data and evidence collected"),
    _part(4, "Root Cause Analysis", 30, 60,
          "Identification of potential root causes (use techniques like Fishbone Diagram, "
          "5 Whys, etc.)",
          "Discussion and deep dive into potential root causes",
          "Validation of root causes"),
    _part(5, "Action Planning", 15, 30,
          "Proposed solutions or corrective actions",
          "Timeline for implementation",
          "Assignment of responsibilities"),
    _part(6, "Conclusion and Follow-Up", 5, 10,
          "Summary of key findings and decisions",
          "Schedule follow-up meetings or status updates",
          "Closing remarks"),
)  # fmt: skip
"""The runbook's six-part RCA meeting format, with its time boxes and topics."""

SHORTEST: timedelta = sum((p.minimum for p in AGENDA), timedelta())
"""The shortest meeting the time boxes allow: every part at its minimum (80 minutes)."""

LONGEST: timedelta = sum((p.maximum for p in AGENDA), timedelta())
"""The longest meeting the time boxes allow: every part at its maximum (145 minutes)."""


def _whole_minutes(value: timedelta) -> int:
    return value // _MINUTE


SHORTEST_ALLOWED = timedelta(minutes=30)
"""The shortest meeting :func:`fit` accepts; under :data:`SHORTEST` the parts shrink."""

LONGEST_ALLOWED = timedelta(hours=8)
"""The longest meeting :func:`fit` accepts (a working day); over :data:`LONGEST` parts stretch."""

PART_FLOOR = 3
"""The fewest minutes a part gets when a short meeting shrinks the time boxes."""


def fit(length: timedelta) -> tuple[int, ...]:
    """The minutes of each part of :data:`AGENDA` for a meeting of ``length``.

    From :data:`SHORTEST` to :data:`LONGEST`, every part gets its minimum and the minutes
    left over are shared in proportion to each part's slack (maximum minus minimum).  A
    shorter meeting, down to :data:`SHORTEST_ALLOWED`, shares its length in proportion to
    the minima, so the order and the weight of the parts stay but no part gets fewer than
    :data:`PART_FLOOR` minutes; a longer one shares it in proportion to the maxima.  Shares
    are whole minutes first, then one more minute to each of the parts with the largest
    remainders (earlier parts first on a tie); the result sums to ``length``.  ``length``
    must be a whole number of minutes from :data:`SHORTEST_ALLOWED` to
    :data:`LONGEST_ALLOWED`, else
    :class:`~incidentflow.errors.InvalidInput` is raised.

    >>> fit(timedelta(minutes=80))
    (5, 10, 15, 30, 15, 5)
    >>> fit(timedelta(hours=2))
    (8, 13, 18, 49, 24, 8)
    >>> fit(timedelta(hours=1)), fit(timedelta(minutes=30))
    ((4, 8, 11, 22, 11, 4), (3, 4, 5, 10, 5, 3))
    """
    allowed = (
        f"a whole number of minutes from {elapsed(SHORTEST_ALLOWED)} to {elapsed(LONGEST_ALLOWED)}"
    )
    if not isinstance(length, timedelta):
        raise InvalidInput(f"the meeting length must be a timedelta, {allowed}; not {length!r}")
    if length % _MINUTE or not SHORTEST_ALLOWED <= length <= LONGEST_ALLOWED:
        raise InvalidInput(f"the meeting length must be {allowed}, not {elapsed_or(length)}")
    total = _whole_minutes(length)
    minima = [_whole_minutes(p.minimum) for p in AGENDA]
    if length < SHORTEST:
        return _apportion(total, minima, floor=PART_FLOOR)
    if length > LONGEST:
        return _apportion(total, [_whole_minutes(p.maximum) for p in AGENDA], floor=0)
    slack = [_whole_minutes(p.maximum - p.minimum) for p in AGENDA]
    extra = _apportion(total - sum(minima), slack, floor=0)
    return tuple(m + e for m, e in zip(minima, extra, strict=True))


def elapsed_or(length: timedelta) -> str:
    """``length`` as "1 h 20 min" when it is whole minutes and not negative, else as is."""
    if length % _MINUTE or length < timedelta(0):
        return str(length)
    return elapsed(length)


def _apportion(total: int, weights: list[int], *, floor: int) -> tuple[int, ...]:
    """``total`` minutes shared by ``weights`` (largest remainders), none under ``floor``.

    A part whose share falls under ``floor`` gets ``floor``; the rest is shared again among
    the others, until every share is at least ``floor``.
    """
    fixed: set[int] = set()
    while True:
        free = [i for i in range(len(weights)) if i not in fixed]
        left = total - floor * len(fixed)
        weight = sum(weights[i] for i in free)
        under = {i for i in free if left * weights[i] < floor * weight}
        if not under:
            break
        fixed |= under
    shares = {i: divmod(left * weights[i], weight) for i in free}
    minutes = [floor if i in fixed else shares[i][0] for i in range(len(weights))]
    spare = total - sum(minutes)
    for index in sorted(free, key=lambda i: (-shares[i][1], i))[:spare]:
        minutes[index] += 1
    return tuple(minutes)


@frozen(kw_only=True)
class Attendee:
    """Someone the meeting should have, with the roles they held on the incident.

    ``roles`` are the roles held now or at any time before; empty for an invitee who held
    none.
    """

    name: str
    roles: tuple[Role, ...]


@frozen(kw_only=True)
class AgendaPart:
    """One part of a fitted agenda: its minutes, start, topics and pre-filled facts.

    ``minimum`` and ``maximum`` are the part's time box in minutes; ``starts_at`` is ``None``
    when the meeting has no start time.  ``facts`` are plain text as recorded (escape them
    for the format they go into, as :meth:`Agenda.markdown`, :meth:`Agenda.html` and
    :meth:`Agenda.text` do).
    """

    number: int
    title: str
    minutes: int
    minimum: int
    maximum: int
    starts_at: datetime | None
    topics: tuple[str, ...]
    facts: tuple[str, ...]


@frozen(kw_only=True)
class Agenda:
    """The RCA meeting agenda for one incident: length, start, attendees and six parts."""

    incident_id: str
    title: str
    length: timedelta
    starts_at: datetime | None
    attendees: tuple[Attendee, ...]
    parts: tuple[AgendaPart, ...]

    @property
    def _when(self) -> str:
        length = elapsed(self.length)
        if self.starts_at is None:
            return f"{length}, not scheduled yet"
        ends = self.starts_at + self.length
        return f"{length}, from {moment(self.starts_at)} to {moment(ends)}"

    @property
    def fitting(self) -> str:
        """How the time boxes were fitted, when not within the runbook's; "" when they were.

        A meeting shorter than :data:`SHORTEST` shrinks every part in proportion (none
        under :data:`PART_FLOOR` minutes); one longer than :data:`LONGEST` stretches them.
        """
        if self.length < SHORTEST:
            return (
                f"Shortened: {elapsed(self.length)} is under the runbook's "
                f"{elapsed(SHORTEST)}, so every part is shrunk in proportion "
                f"(none under {PART_FLOOR} min)."
            )
        if self.length > LONGEST:
            return (
                f"Lengthened: {elapsed(self.length)} is over the runbook's "
                f"{elapsed(LONGEST)}, so every part is stretched in proportion."
            )
        return ""

    def _slot(self, part: AgendaPart) -> str:
        box = f"time box {_span(part.minimum)}–{_span(part.maximum)}"
        if part.starts_at is None:
            return f"{_span(part.minutes)}; {box}"
        ends = part.starts_at + timedelta(minutes=part.minutes)
        start, end = moment(part.starts_at), moment(ends)
        return f"{_span(part.minutes)}, {start[11:16]}–{end[11:]}; {box}"

    @property
    def sections(self) -> tuple[Section, ...]:
        """The agenda as document blocks: title and time, attendees, then one per part.

        The id, the title, the attendees' names and the facts are typed spans; the runbook's
        topics, the times and the labels are the library's own words.
        """
        title = Section(
            "title",
            (
                ours("RCA meeting agenda: "),
                typed(self.incident_id),
                ours(" "),
                typed(self.title),
            ),
            (Paragraph((ours(f"{self._when}. {self.fitting}".rstrip()),)),),
            level=1,
        )
        people: tuple[Text, ...] = tuple(
            (typed(a.name), ours(f": {_roles(a)}")) for a in self.attendees
        ) or ((ours("nobody recorded yet"),),)
        attendees = Section("attendees", (ours("Attendees"),), (BulletList(people),))
        parts = tuple(
            Section(
                f"part-{part.number}",
                (ours(f"{part.number}. {part.title}"),),
                (
                    Paragraph((ours(f"{self._slot(part)}."),)),
                    Subheading("Topics"),
                    BulletList(tuple((ours(topic),) for topic in part.topics)),
                    Subheading("From the incident record"),
                    BulletList(tuple((typed(fact),) for fact in part.facts)),
                ),
            )
            for part in self.parts
        )
        return (title, attendees, *parts)

    def markdown(self) -> str:
        """The agenda as CommonMark; typed text is escaped so it reads as the words it is."""
        return markdown(self.sections)

    def html(self) -> str:
        """The agenda as one self-contained HTML page, the same blocks as :meth:`markdown`.

        Styles are inline; there are no scripts, no links and no external resources, and a
        content security policy forbids loading any.
        """
        return page(f"RCA meeting agenda: {self.incident_id} {self.title}", self.sections)

    def text(self) -> str:
        """The agenda as plain text, typed text on one line each (the invitation's body)."""
        lines = [
            f"RCA meeting agenda: {inline(self.incident_id)} {inline(self.title)}",
            self._when,
            *([self.fitting] if self.fitting else []),
            "",
            "Attendees:",
            *(f"- {inline(a.name)}: {_roles(a)}" for a in self.attendees),
        ]
        if not self.attendees:
            lines.append("- nobody recorded yet")
        for part in self.parts:
            lines += [
                "",
                f"{part.number}. {part.title} ({self._slot(part)})",
                "Topics:",
                *(f"- {topic}" for topic in part.topics),
                "From the incident record:",
                *(f"- {inline(fact)}" for fact in part.facts),
            ]
        return "\n".join(lines) + "\n"


def _span(minutes: int) -> str:
    return elapsed(timedelta(minutes=minutes))


def _roles(attendee: Attendee) -> str:
    return ", ".join(r.title for r in attendee.roles) or "invited"


def agenda(
    incident: Incident,
    *,
    length: timedelta = timedelta(minutes=90),
    starts_at: datetime | None = None,
) -> Agenda:
    """The RCA meeting agenda for ``incident``, fitted to ``length`` and pre-filled.

    ``starts_at`` defaults to the time the post-mortem is scheduled for, if it is; each part
    starts when the one before ends.  Attendees are the post-mortem's invitees and everyone
    who held a role on the incident, sorted by name.  A fact the incident has not recorded
    yet is shown as such, so the meeting knows what is missing.
    """
    if not isinstance(incident, Incident):
        raise InvalidInput(f"incident must be an Incident, not {incident!r}")
    minutes = fit(length)
    if starts_at is None and incident.post_mortem is not None:
        starts_at = incident.post_mortem.scheduled_for
    elif starts_at is not None:
        starts_at = require_aware(starts_at, "starts_at")
    facts = _facts(incident)
    parts: list[AgendaPart] = []
    start = starts_at
    for template, given, found in zip(AGENDA, minutes, facts, strict=True):
        parts.append(
            AgendaPart(
                number=template.number,
                title=template.title,
                minutes=given,
                minimum=_whole_minutes(template.minimum),
                maximum=_whole_minutes(template.maximum),
                starts_at=start,
                topics=template.topics,
                facts=found,
            )
        )
        if start is not None:
            start += timedelta(minutes=given)
    return Agenda(
        incident_id=incident.id,
        title=incident.title,
        length=length,
        starts_at=starts_at,
        attendees=_attendees(incident),
        parts=tuple(parts),
    )


def _attendees(incident: Incident) -> tuple[Attendee, ...]:
    held: dict[str, set[Role]] = {}
    if incident.post_mortem is not None:
        for name in incident.post_mortem.invitees:
            held.setdefault(name, set())
    for role, names in role_holders(incident).items():
        for name in names:
            held.setdefault(name, set()).add(role)
    return tuple(
        Attendee(name=name, roles=tuple(r for r in Role if r in roles))
        for name, roles in sorted(held.items(), key=lambda item: (item[0].casefold(), item[0]))
    )


def _or_nothing(found: Iterable[str], what: str) -> list[str]:
    lines = list(found)
    return lines or [f"{what}: nothing recorded"]


def _facts(incident: Incident) -> tuple[tuple[str, ...], ...]:
    return (
        tuple(_introduction(incident)),
        tuple(_background(incident)),
        tuple(_initial_analysis(incident)),
        tuple(_root_cause_analysis(incident)),
        tuple(_action_planning(incident)),
        tuple(_conclusion(incident)),
    )


def _introduction(incident: Incident) -> list[str]:
    priority = incident.priority
    return [
        f"Incident {incident.id}: {incident.title}",
        f"Priority: {priority.value} ({priority.title}); state: {incident.state.value}",
        f"Purpose: agree on what caused {incident.id}, without blame, and on the actions "
        "that keep it from happening again",
    ]


def _background(incident: Incident) -> list[str]:
    recorded = impact(incident)
    validation = incident.validation
    lines = [
        f"Impact: {recorded}" if recorded is not None else "Impact: nothing recorded",
        f"Evidence: {validation.evidence}"
        if validation is not None
        else "Evidence: nothing recorded",
    ]
    links = incident.links
    lines += _or_nothing(
        (f"{kind.label}: {links[kind].url}" for kind in LinkKind if kind in links),
        "Links",
    )
    components = systems(incident)
    if components:
        lines.append(f"Components involved: {', '.join(components)}")
    began = incident.began_at
    story = impact_story(incident)
    lines.append(f"Began {at(began, story.began_approximate)}; declared {story.declared_text}")
    lines += [
        f"Moved from {e.source.value} to {e.target.value} at {_at(e)}, "
        f"{elapsed(e.occurred_at - began)} after it began"
        for e in incident.corrected_history
        if isinstance(e, ev.StateChanged)
    ]
    return lines


def _at(event: ev.Event) -> str:
    """When ``event`` happened, "≈" before it when approximate.

    A declaration whose time is not known shows "by" the latest it can have been.
    """
    shown = at(event.occurred_at, event.is_approximate())
    return f"by {shown}" if isinstance(event, ev.Declared) and event.is_unknown() else shown


_TIMELINE = (
    ev.Declared,
    ev.StateChanged,
    ev.ExperimentStarted,
    ev.ExperimentConcluded,
    ev.ChangeLogged,
    ev.ChangeReconciled,
    ev.NoteAdded,
)


def _initial_analysis(incident: Incident) -> list[str]:
    key = [e for e in incident.corrected_history if isinstance(e, _TIMELINE)]
    key.sort(key=lambda e: e.occurred_at)  # stable: ties keep the order recorded
    lines = [f"{_at(e)} — {describe(e)}" for e in key]
    lines += _or_nothing(
        (
            f"Finding: experiment {x.id} on {x.component} {x.verdict.value} — if {x.hypothesis}, "
            f"then {x.action} should show {x.expected}; observed {x.observed}"
            for x in incident.experiments.values()
            if x.verdict is not None
        ),
        "Findings",
    )
    evidence = []
    if incident.recovery is not None:
        evidence.append(f"Recovery evidence: {incident.recovery.evidence}")
    if incident.customer_verification is not None:
        verified = incident.customer_verification
        evidence.append(f"Customer verification by {verified.customer}: {verified.evidence}")
    lines += _or_nothing(evidence, "Evidence collected")
    return lines


def _root_cause_analysis(incident: Incident) -> list[str]:
    chains = [c for c in incident.why_chains.values() if c.answers]
    candidates = [f"Root cause (chain {c.id}): {c.answers[-1]}" for c in chains if c.root_cause]
    candidates += [
        f"Candidate cause (chain {c.id}, open after {c.depth} whys): {c.answers[-1]}"
        for c in chains
        if not c.root_cause
    ]
    lines = _or_nothing(candidates, "Candidate root causes")
    lines += [f"Five Whys, chain {c.id}: {' → '.join(c.answers)}" for c in chains]
    lines += _or_nothing(
        (
            f"Contributing factor ({category.value if category else 'uncategorized'}): "
            f"{f.description}"
            for category, factors in factors_by_category(incident)
            for f in factors
        ),
        "Contributing factors",
    )
    return lines


def _due(value: datetime | None) -> str:
    return "not set" if value is None else moment(value)


def _action_planning(incident: Incident) -> list[str]:
    return _or_nothing(
        (
            f"Action {a.id} ({a.kind.value}, {'open' if a.open else 'closed'}): {a.description} "
            f"— owner {a.owner or 'not known'}, due {_due(a.due_at)}"
            for a in incident.action_items.values()
        ),
        "Proposed actions",
    )


def _conclusion(incident: Incident) -> list[str]:
    lines = _or_nothing(
        [
            *(
                f"Open action {a.id}: {a.description} — owner {a.owner or 'not known'}, "
                f"due {_due(a.due_at)}"
                for a in incident.action_items.values()
                if a.open
            ),
            *(
                f"Unreconciled change {c.id} on {c.where}: {c.what} (revert: {c.revert})"
                for c in incident.manual_changes.values()
                if not c.reconciled
            ),
            *(
                f"Open tech debt {d.id}: {d.description}"
                for d in incident.tech_debt.values()
                if d.open
            ),
        ],
        "Open follow-ups",
    )
    report = incident.report
    if report is None:
        lines.append("Incident report: not started")
    else:
        lines.append(
            f"Incident report: {report.location or 'started ' + moment(report.occurred_at)}"
        )
    lines.append("Schedule follow-up meetings or status updates for whatever is still open")
    return lines


_EMAIL = re.compile(r"[^\s@<>()\[\]\\,;:\"\x00-\x1f\x7f]+@[^\s@<>()\[\]\\,;:\"\x00-\x1f\x7f]+")


def _is_email(name: str) -> bool:
    match = _EMAIL.fullmatch(name)
    return match is not None and "." in name.rpartition("@")[2].strip(".")


def invitation(
    incident: Incident,
    *,
    now: datetime,
    length: timedelta = timedelta(minutes=90),
    organizer: str | None = None,
) -> bytes:
    """The scheduled post-mortem as an iCalendar file (``.ics`` bytes) with its agenda.

    One event, whose UID is stable for the incident so that a new invitation after a
    reschedule updates the same calendar entry (its SEQUENCE counts the reschedules).  Times
    are written in UTC.  Invitees whose names are e-mail addresses become ATTENDEEs; the
    others are listed in the description, which holds the whole agenda.  ``organizer`` must
    be an e-mail address.  Raises :class:`~incidentflow.errors.NotReady` when no post-mortem is
    scheduled and :class:`~incidentflow.errors.MissingExtra` without the ``calendar`` extra.
    """
    stamp = require_aware(now, "now")
    if organizer is not None and (not isinstance(organizer, str) or not _is_email(organizer)):
        raise InvalidInput(f"organizer must be an e-mail address, not {organizer!r}")
    plan = agenda(incident, length=length)
    meeting = incident.post_mortem
    if meeting is None:
        raise NotReady(
            f"{incident.id} has no post-mortem scheduled yet: schedule it "
            f"(schedule_post_mortem, in {State.GREEN.value} or {State.REPORTED.value}) first"
        )
    try:
        import icalendar
    except ImportError as exc:
        raise MissingExtra(
            extra="calendar", package="icalendar", feature="calendar invitations"
        ) from exc

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//incidentflow//incidentflow//EN")
    calendar.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", f"{inline(incident.id)}-post-mortem@incidentflow")
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", meeting.scheduled_for.astimezone(UTC))
    event.add("duration", length)
    event.add("sequence", sum(isinstance(e, ev.PostMortemScheduled) for e in incident.history) - 1)
    event.add("summary", f"Post-mortem: {inline(incident.id)} {inline(incident.title)}")
    event.add("description", plan.text())
    if organizer is not None:
        event.add("organizer", _address(organizer))
    for name in meeting.invitees:
        if _is_email(name):
            event.add("attendee", _address(name))
    calendar.add_component(event)
    ics: bytes = calendar.to_ical()
    return ics


def _address(email: str) -> vCalAddress:
    from icalendar import vCalAddress

    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = email
    return address
