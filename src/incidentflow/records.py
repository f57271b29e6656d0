"""Frozen records an incident keeps, and the small vocabularies they use.

Events (see :mod:`incidentflow.events`) are the facts as they were recorded; the records here
are what those facts add up to for things with a life of their own — an experiment that runs
and is concluded, a manual change that is later reverted or made permanent, a Five Whys chain,
a tech-debt item, an action item.  All are frozen: the incident replaces a record with
``attrs.evolve`` when a later event changes it.
"""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from ._vocabulary import Vocabulary
from .priorities import Priority

__all__ = [
    "ActionItem",
    "ActionKind",
    "ChangeOutcome",
    "Correction",
    "DataLoss",
    "DetectionMethod",
    "Experiment",
    "FishboneCategory",
    "ImpactLevel",
    "ImpactPhase",
    "LinkKind",
    "ManualChange",
    "NoteKind",
    "TechDebt",
    "Unmet",
    "Verdict",
    "WhyChain",
]


class LinkKind(Vocabulary):
    """Where the response lives (runbook steps 2–4)."""

    TICKET = "ticket"
    """The ticket on the incident-management board (step 2)."""
    WAR_ROOM = "war_room"
    """The chat war room for the responders (step 3)."""
    PUBLIC_CHANNEL = "public_channel"
    """The public channel stakeholders follow (step 3)."""
    ANNOUNCEMENT = "announcement"
    """The announcement in the outage channel (step 4)."""

    @property
    def label(self) -> str:
        """How documents name the link: ``"Ticket"``, ``"War room"``, ``"Public channel"``, ...

        >>> LinkKind.WAR_ROOM.label
        'War room'
        """
        return self.value.replace("_", " ").capitalize()


class Verdict(Vocabulary):
    """How an experiment's observed result compares with its expectation (step 6)."""

    CONFIRMED = "confirmed"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"


class ChangeOutcome(Vocabulary):
    """How a manual change (step 9) is reconciled once the incident settles."""

    REVERTED = "reverted"
    PERMANENT = "permanent"
    IRREVERSIBLE = "irreversible"
    """It can be neither reverted nor kept as a fix: it cannot be undone (a deleted database
    directory, a purged queue)."""


class NoteKind(Vocabulary):
    """What a timeline note (step 7) is."""

    NOTE = "note"
    """An ordinary note for the post-mortem."""
    DISCREPANCY = "discrepancy"
    """Two sources disagree (a time, a figure, an order of events): shown in the RCA."""


class FishboneCategory(Vocabulary):
    """The bone of the fishbone (Ishikawa) diagram a contributing factor belongs to.

    The classic six categories, in the words a software team uses for them.
    """

    PEOPLE = "people"
    """Who was involved: skills, staffing, hand-offs, fatigue."""
    PROCESS = "process"
    """How the work is done: procedures, reviews, runbooks."""
    TECHNOLOGY = "technology"
    """The machines: software, hardware, configuration, tools."""
    MATERIALS = "materials"
    """What goes in: data, dependencies, third-party inputs."""
    MEASUREMENT = "measurement"
    """How we know: monitoring, alerts, metrics, tests."""
    ENVIRONMENT = "environment"
    """Where it runs: load, network, region, time of day."""


class ActionKind(Vocabulary):
    """The two kinds of RCA recommendation."""

    CORRECTIVE = "corrective"
    PREVENTIVE = "preventive"


class ImpactLevel(Vocabulary):
    """How badly the service is hit, in Statuspage's words so integrations can map it.

    Members are ordered from no impact to the worst (``rank`` 0 to 3).
    """

    OPERATIONAL = "operational"
    """Working normally: no impact (or no longer any)."""
    DEGRADED = "degraded"
    """Working, but slower or with errors (Statuspage's "degraded performance")."""
    PARTIAL_OUTAGE = "partial_outage"
    """Down for some customers or some functionality."""
    MAJOR_OUTAGE = "major_outage"
    """Down for (nearly) everyone."""

    @property
    def rank(self) -> int:
        """0 for operational up to 3 for a major outage; higher is worse."""
        return _IMPACT_RANKS[self]

    @property
    def label(self) -> str:
        """How documents name the level: ``"Operational"``, ``"Partial outage"``, ...

        >>> ImpactLevel.PARTIAL_OUTAGE.label
        'Partial outage'
        """
        return self.value.replace("_", " ").capitalize()


_IMPACT_RANKS = {level: rank for rank, level in enumerate(ImpactLevel)}


class DetectionMethod(Vocabulary):
    """How the problem came to light."""

    ALERT = "alert"
    """A monitor or alert fired."""
    CUSTOMER_REPORT = "customer_report"
    """A customer told us."""
    EMPLOYEE = "employee"
    """Someone on the staff noticed."""
    OTHER = "other"
    """Anything else (say what in ``detected_by``)."""


@frozen(kw_only=True)
class ImpactPhase:
    """One stretch of the impact timeline: a level from ``start`` until ``end``.

    ``end`` is ``None`` for the phase still in force.  ``approximate`` says the start was
    recorded as approximate; ``priority`` is the highest priority in force during the phase.
    """

    level: ImpactLevel
    start: datetime
    end: datetime | None
    description: str = ""
    components: tuple[str, ...] = ()
    share: float | None = None
    approximate: bool = False
    priority: Priority | None = None


@frozen
class Unmet:
    """A rule that a command or a transition did not meet, with a human explanation.

    :attr:`hint` names what meets it (see :mod:`incidentflow.hints`).
    """

    rule: str
    detail: str

    @property
    def hint(self) -> str:
        """The library method that meets the rule, or advice where none does ("" if unknown)."""
        from .hints import HINTS

        found = HINTS.get(self.rule)
        return "" if found is None else found.method


@frozen(kw_only=True)
class Experiment:
    """One turn of the experimental method: hypothesis, action, expected and observed result.

    ``verdict`` is ``None`` while the experiment is running.
    """

    id: str
    hypothesis: str
    action: str
    expected: str
    component: str
    owner: str
    started_at: datetime
    observed: str | None = None
    verdict: Verdict | None = None
    concluded_at: datetime | None = None

    @property
    def running(self) -> bool:
        """Whether the experiment has not been concluded yet."""
        return self.verdict is None


@frozen(kw_only=True)
class ManualChange:
    """A manual change to a system (step 9): who did what, where, and how to revert it."""

    id: str
    by: str
    what: str
    where: str
    revert: str
    at: datetime
    outcome: ChangeOutcome | None = None
    reconciled_at: datetime | None = None

    @property
    def reconciled(self) -> bool:
        """Whether the change has been reverted or made permanent."""
        return self.outcome is not None


@frozen(kw_only=True)
class WhyChain:
    """One Five Whys chain (step 10); ``answers[i]`` answers the (i+1)-th "why?".

    An incident may hold several chains: causes are each necessary but only jointly
    sufficient.  A chain is closed once its last answer is marked the root cause.

    A chain may branch off another one (``parent``): its first answer is one of several
    jointly sufficient causes of the parent's answer ``start - 1``, and its ``answers[i]``
    answers the (``start`` + i)-th "why?".
    """

    id: str
    answers: tuple[str, ...]
    root_cause: bool = False
    parent: str | None = None
    start: int = 1

    @property
    def depth(self) -> int:
        """How many whys the chain has asked, counting those of the chains it branches off."""
        return self.start - 1 + len(self.answers)


@frozen(kw_only=True)
class TechDebt:
    """Tech debt left by the response, to clean up before green (step 13)."""

    id: str
    description: str
    opened_at: datetime
    closed_at: datetime | None = None

    @property
    def open(self) -> bool:
        """Whether the item still needs cleaning up."""
        return self.closed_at is None


@frozen(kw_only=True)
class ActionItem:
    """A corrective or preventive action with an owner and a due time.

    ``owner`` and ``due_at`` are ``None`` when not known (a policy may allow that, e.g. for
    an incident recorded after the fact).
    """

    id: str
    description: str
    owner: str | None
    due_at: datetime | None
    kind: ActionKind
    closed_at: datetime | None = None

    @property
    def open(self) -> bool:
        """Whether the action is still to be done."""
        return self.closed_at is None


@frozen(kw_only=True)
class DataLoss:
    """Data lost for good: the window of the loss, what was lost and how much.

    ``window_start`` to ``window_end`` is when the lost data was written (or would have been),
    either ``None`` when not known; ``amount`` says how much in the words of whoever measured
    it (empty when not known).
    """

    id: str
    what: str
    window_start: datetime | None
    window_end: datetime | None
    amount: str
    recorded_by: str
    at: datetime

    @property
    def window(self) -> float | None:
        """The length of the window, in seconds; ``None`` when either end is not known."""
        if self.window_start is None or self.window_end is None:
            return None
        return (self.window_end - self.window_start).total_seconds()


@frozen(kw_only=True)
class Correction:
    """One correction of the record: an amendment or a retraction, with who and why.

    ``entry`` is the number (version, counting from 1) of the event it corrects, ``None``
    for an amendment of the incident itself (its title, when it began, ...).  ``field`` is
    ``"retracted"`` for a retraction; ``value`` the corrected value as text (empty for a
    retraction) and ``before`` the value it replaced.
    """

    number: int
    field: str
    entry: int | None
    value: str
    before: str
    reason: str
    by: str
    at: datetime
