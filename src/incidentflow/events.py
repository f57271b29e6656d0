"""Every change to an incident is one of these events.

An event is the fact as it was recorded: who (``actor``), when it happened (``occurred_at``,
which a Recorder catching up may back-date) and when it was written down (``recorded_at``, the
stamp that never goes backwards within an incident).  Events are frozen attrs classes; their
fields are validated on construction, so a malformed event cannot exist.

Each event class names the command that produces it (``command``, the key used by the policy's
authorization table) and its serialized ``type`` tag.

>>> sorted(EVENT_TYPES)[:3]
['action_added', 'action_closed', 'amended']
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, ClassVar

from attrs import field, frozen

from .errors import InvalidInput
from .lifecycle import State
from .priorities import Priority
from .records import (
    ActionKind,
    ChangeOutcome,
    DetectionMethod,
    FishboneCategory,
    ImpactLevel,
    LinkKind,
    NoteKind,
    Verdict,
)
from .roles import Role

__all__ = [
    "EVENT_TYPES",
    "ActionAdded",
    "ActionClosed",
    "Amended",
    "ChangeLogged",
    "ChangeReconciled",
    "CustomerVerified",
    "DataLossRecorded",
    "DebtClosed",
    "DebtOpened",
    "Declared",
    "Event",
    "ExperimentConcluded",
    "ExperimentStarted",
    "FactorAdded",
    "ImpactChanged",
    "LinkAbsent",
    "Linked",
    "NoteAdded",
    "PolicyAdopted",
    "PostMortemScheduled",
    "PriorityChanged",
    "RecordedPolicy",
    "RecoveryVerified",
    "ReportStarted",
    "Retracted",
    "RoleAssigned",
    "RoleHandedOff",
    "RoleReleased",
    "RoleUnknown",
    "StateChanged",
    "UpdatePosted",
    "Validated",
    "WhyAnswered",
]


def _text(instance: Any, attribute: Any, value: Any) -> None:
    """Validate a non-blank string."""
    if type(value) is not str or not value.strip():
        raise InvalidInput(
            f"{type(instance).__name__}.{attribute.name} must be a non-blank string, not {value!r}"
        )


def _optional_text(instance: Any, attribute: Any, value: Any) -> None:
    """Validate a string, which may be empty."""
    if type(value) is not str:
        raise InvalidInput(
            f"{type(instance).__name__}.{attribute.name} must be a string, not {value!r}"
        )


def _aware(instance: Any, attribute: Any, value: Any) -> None:
    """Validate a timezone-aware datetime."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        kind = "naive datetime" if isinstance(value, datetime) else type(value).__name__
        raise InvalidInput(
            f"{type(instance).__name__}.{attribute.name} must be a timezone-aware datetime, "
            f"not a {kind}: {value!r}"
        )


_MEMBER_CHECKS: dict[Callable[[Any, Any, Any], None], tuple[type[Any], bool]] = {}
"""Each validator made by :func:`_member` or :func:`_optional_member`: the class it checks,
and whether ``None`` passes too (read by the commands' builders, see ``_admission``)."""


def _member(kind: type[Any]) -> Callable[[Any, Any, Any], None]:
    """Validate an instance of ``kind`` (an enum or bool), with the library's error."""

    def check(instance: Any, attribute: Any, value: Any) -> None:
        if type(value) is not kind:
            raise InvalidInput(
                f"{type(instance).__name__}.{attribute.name} must be a {kind.__name__}, "
                f"not {value!r}"
            )

    _MEMBER_CHECKS[check] = (kind, False)
    return check


def _optional_member(kind: type[Any]) -> Callable[[Any, Any, Any], None]:
    """Validate ``None`` or an instance of ``kind``, with the library's error."""
    check = _member(kind)

    def optional(instance: Any, attribute: Any, value: Any) -> None:
        if value is not None:
            check(instance, attribute, value)

    _MEMBER_CHECKS[optional] = (kind, True)
    return optional


def _names(instance: Any, attribute: Any, value: Any) -> None:
    """Validate a non-empty tuple of distinct non-blank strings."""
    ok = (
        type(value) is tuple
        and value
        and all(type(v) is str and v.strip() for v in value)
        and len(set(value)) == len(value)
    )
    if not ok:
        raise InvalidInput(
            f"{type(instance).__name__}.{attribute.name} must be a non-empty tuple of "
            f"distinct names, not {value!r}"
        )


def _count(instance: Any, attribute: Any, value: Any) -> None:
    """Validate a whole number from 1."""
    if type(value) is not int or value < 1:
        raise InvalidInput(
            f"{type(instance).__name__}.{attribute.name} must be a whole number from 1, "
            f"not {value!r}"
        )


def _optional_count(instance: Any, attribute: Any, value: Any) -> None:
    """Validate ``None`` or a whole number from 1."""
    if value is not None and (type(value) is not int or value < 1):
        raise InvalidInput(
            f"{type(instance).__name__}.{attribute.name} must be a whole number from 1, "
            f"not {value!r}"
        )


def _optional_name(instance: Any, attribute: Any, value: Any) -> None:
    """Validate ``None`` or a non-blank string."""
    if value is not None:
        _text(instance, attribute, value)


def _approximate(instance: Any, attribute: Any, value: Any) -> None:
    """Validate the names of the event's time fields recorded as approximate: sorted, distinct."""
    if value == () and type(value) is tuple:  # the usual: every time exact
        return
    times = _time_fields(type(instance))
    ok = (
        type(value) is tuple
        and all(type(v) is str and v in times for v in value)
        and list(value) == sorted(set(value))
    )
    if not ok:
        raise InvalidInput(
            f"{type(instance).__name__}.approximate must be a sorted tuple of distinct time "
            f"fields ({', '.join(sorted(times))}), not {value!r}"
        )


_TIME_FIELDS: dict[type[Any], frozenset[str]] = {}
_TIME_HINTS = (datetime, "datetime", datetime | None, "datetime | None")  # resolved or not


def _time_fields(kind: type[Any]) -> frozenset[str]:
    """The names of ``kind``'s fields that hold when something happened (may be approximate)."""
    found = _TIME_FIELDS.get(kind)
    if found is None:
        import attrs

        found = _TIME_FIELDS[kind] = frozenset(
            f.name for f in attrs.fields(kind) if f.type in _TIME_HINTS and f.name != "recorded_at"
        )
    return found


_EVENT_TYPES: dict[str, type[Event]] = {}

EVENT_TYPES: Mapping[str, type[Event]] = MappingProxyType(_EVENT_TYPES)
"""Every event class, keyed by its serialized ``type`` tag."""


@frozen(kw_only=True)
class Event:
    """What every event has: the actor, when it happened and when it was recorded.

    ``approximate`` names the event's times known only roughly ("around 13:40"), e.g.
    ``("occurred_at",)``: sorted, each a time field of the event other than ``recorded_at``
    (the stamp is always exact).  Empty, and left out of the JSON, when every time is exact.
    """

    type: ClassVar[str] = ""
    command: ClassVar[str] = ""

    actor: str = field(validator=_text)
    occurred_at: datetime = field(validator=_aware)
    recorded_at: datetime = field(validator=_aware)
    approximate: tuple[str, ...] = field(default=(), validator=_approximate)

    def is_approximate(self, name: str = "occurred_at") -> bool:
        """Whether the time field ``name`` was recorded as approximate."""
        return name in self.approximate

    @property
    def recorded_late(self) -> timedelta:
        """How long after it happened the event was recorded (zero when recorded at once)."""
        return self.recorded_at - self.occurred_at

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.type:
            _EVENT_TYPES[cls.type] = cls


_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _digest(instance: Any, attribute: Any, value: Any) -> None:
    """Validate a digest written ``sha256:`` and 64 lowercase hex digits."""
    if type(value) is not str or not _DIGEST.fullmatch(value):
        raise InvalidInput(
            f"{type(instance).__name__}.{attribute.name} must be 'sha256:' and 64 lowercase hex "
            f"digits, not {value!r}"
        )


def _document(instance: Any, attribute: Any, value: Any) -> None:
    """Validate a non-blank text of many lines (a policy's TOML), checked apart from ``_text``."""
    if type(value) is not str or not value.strip():
        raise InvalidInput(
            f"{type(instance).__name__}.{attribute.name} must be a non-blank string, not {value!r}"
        )


@frozen(kw_only=True)
class RecordedPolicy:
    """A policy as an incident's history records it: its name, its whole text and a digest.

    ``content`` is the policy's TOML as :meth:`~incidentflow.Policy.to_toml` writes it, and
    ``digest`` is ``"sha256:"`` and the SHA-256 of that text (UTF-8), which :meth:`of` computes.
    Replaying a history rebuilds the policy from ``content``, after checking ``digest`` against
    it (see :meth:`~incidentflow.Policy.from_recorded`).

    >>> RecordedPolicy.of("team", "whys_depth = 3").digest[:15]
    'sha256:347a95d9'
    """

    name: str = field(validator=_text)
    digest: str = field(validator=_digest)
    content: str = field(validator=_document)

    @classmethod
    def of(cls, name: str, content: str) -> RecordedPolicy:
        """The record of ``content`` under ``name``, with its digest computed."""
        if type(content) is not str:
            raise InvalidInput(f"RecordedPolicy.content must be a string, not {content!r}")
        return cls(name=name, digest=_sha256(content), content=content)

    @property
    def intact(self) -> bool:
        """Whether ``digest`` is the digest of ``content``."""
        return self.digest == _sha256(self.content)


def _sha256(content: str) -> str:
    """The digest a :class:`RecordedPolicy` gives ``content``: ``"sha256:"`` and its hex."""
    return "sha256:" + hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()


def _optional_aware(instance: Any, attribute: Any, value: Any) -> None:
    """Validate ``None`` or a timezone-aware datetime."""
    if value is not None:
        _aware(instance, attribute, value)


def _unknown(instance: Any, attribute: Any, value: Any) -> None:
    """Validate the declaration's times not known: none, or its ``occurred_at`` with a ``began``."""
    if value == () and type(value) is tuple:
        return
    if type(value) is not tuple or value != ("occurred_at",):
        raise InvalidInput(
            f"Declared.unknown must be () or ('occurred_at',) (only the declaration time may be "
            f"not known), not {value!r}"
        )
    if instance.began is None:
        raise InvalidInput(
            "Declared.unknown: a declaration whose time is not known must give began (the onset)"
        )


@frozen(kw_only=True)
class Declared(Event):
    """The incident is declared: its id, title and first priority.  Always the first event.

    ``occurred_at`` is when the incident was declared and ``began`` when its impact began
    (the onset).  A declaration without ``began`` (``None``) reads as histories written before
    the two were told apart did: ``occurred_at`` is the onset and ``recorded_at`` the
    declaration.  ``detected_at`` is when the problem was detected, ``detection`` how and
    ``detected_by`` by what or whom (free text); all three are optional.

    ``policy`` is the policy the incident runs under from now on (see :class:`PolicyAdopted`
    for a later change); ``None`` only in histories written before incidents recorded their
    policy, which replay under the policy the caller passes.

    ``unknown`` names the times nobody knows: ``("occurred_at",)`` when the declaration time
    is not known, and ``occurred_at`` is then the latest it can have been (it still places the
    declaration in the order of things).  Only the declaration time may be unknown, and only
    with ``began`` given.  Empty, and left out of the JSON, when every time is known.
    """

    type: ClassVar[str] = "declared"
    command: ClassVar[str] = "declare"

    incident_id: str = field(validator=_text)
    title: str = field(validator=_text)
    priority: Priority = field(validator=_member(Priority))
    policy: RecordedPolicy | None = field(default=None, validator=_optional_member(RecordedPolicy))
    began: datetime | None = field(default=None, validator=_optional_aware)
    detected_at: datetime | None = field(default=None, validator=_optional_aware)
    detection: DetectionMethod | None = field(
        default=None, validator=_optional_member(DetectionMethod)
    )
    detected_by: str = field(default="", validator=_optional_text)
    unknown: tuple[str, ...] = field(default=(), validator=_unknown)

    def is_unknown(self, name: str = "occurred_at") -> bool:
        """Whether the time field ``name`` was recorded as not known."""
        return name in self.unknown

    @property
    def onset(self) -> datetime:
        """When the impact began: ``began``, or ``occurred_at`` in the older form."""
        return self.occurred_at if self.began is None else self.began

    @property
    def declared_time(self) -> datetime:
        """When the incident was declared: ``occurred_at``, or ``recorded_at`` in the older form."""
        return self.recorded_at if self.began is None else self.occurred_at


@frozen(kw_only=True)
class Validated(Event):
    """Step 1: the problem is real and its priority confirmed, with the evidence.

    ``impact`` says who or what is affected and how (empty when not assessed yet).
    """

    type: ClassVar[str] = "validated"
    command: ClassVar[str] = "validate"

    evidence: str = field(validator=_text)
    impact: str = field(default="", validator=_optional_text)


@frozen(kw_only=True)
class Linked(Event):
    """Steps 2–4: the ticket, war room, public channel or announcement is linked."""

    type: ClassVar[str] = "linked"
    command: ClassVar[str] = "link"

    kind: LinkKind = field(validator=_member(LinkKind))
    url: str = field(validator=_text)


@frozen(kw_only=True)
class LinkAbsent(Event):
    """Steps 2–4, as they happened: no such link exists (no ticket was opened), and why.

    Whether it satisfies a policy that requires the link is the policy's choice
    (``accept_unknown``); a later link of the kind replaces it.  Authorized as ``link``.
    """

    type: ClassVar[str] = "link_absent"
    command: ClassVar[str] = "link"

    kind: LinkKind = field(validator=_member(LinkKind))
    reason: str = field(validator=_text)


@frozen(kw_only=True)
class RoleAssigned(Event):
    """Step 5: someone takes a role."""

    type: ClassVar[str] = "role_assigned"
    command: ClassVar[str] = "assign"

    role: Role = field(validator=_member(Role))
    holder: str = field(validator=_text)


@frozen(kw_only=True)
class RoleUnknown(Event):
    """Step 5, as far as anyone knows: nobody can say who held the role.

    The honest record for an incident whose sources name no one (a past postmortem that
    names no incident commander).  Whether it satisfies a policy that requires the role is
    the policy's choice (``accept_unknown``); a later assignment replaces it.  Authorized as
    ``assign``.
    """

    type: ClassVar[str] = "role_unknown"
    command: ClassVar[str] = "assign"

    role: Role = field(validator=_member(Role))
    reason: str = field(validator=_text)


@frozen(kw_only=True)
class RoleHandedOff(Event):
    """A role passes from one holder to another in one step, leaving no gap."""

    type: ClassVar[str] = "role_handed_off"
    command: ClassVar[str] = "hand_off"

    role: Role = field(validator=_member(Role))
    from_holder: str = field(validator=_text)
    to_holder: str = field(validator=_text)


@frozen(kw_only=True)
class RoleReleased(Event):
    """Someone steps out of a role without a successor."""

    type: ClassVar[str] = "role_released"
    command: ClassVar[str] = "release"

    role: Role = field(validator=_member(Role))
    holder: str = field(validator=_text)


@frozen(kw_only=True)
class ExperimentStarted(Event):
    """Step 6: an IC starts an experiment against one component."""

    type: ClassVar[str] = "experiment_started"
    command: ClassVar[str] = "start_experiment"

    experiment_id: str = field(validator=_text)
    hypothesis: str = field(validator=_text)
    action: str = field(validator=_text)
    expected: str = field(validator=_text)
    component: str = field(validator=_text)
    owner: str = field(validator=_text)


@frozen(kw_only=True)
class ExperimentConcluded(Event):
    """Step 6: what was observed, and whether it confirmed the hypothesis."""

    type: ClassVar[str] = "experiment_concluded"
    command: ClassVar[str] = "conclude_experiment"

    experiment_id: str = field(validator=_text)
    observed: str = field(validator=_text)
    verdict: Verdict = field(validator=_member(Verdict))


@frozen(kw_only=True)
class NoteAdded(Event):
    """Step 7: a timeline note for the post-mortem.

    ``kind`` is :attr:`~incidentflow.records.NoteKind.DISCREPANCY` for a note that records
    two sources disagreeing (written only when not a plain note, so older lines read as
    they were written).
    """

    type: ClassVar[str] = "note_added"
    command: ClassVar[str] = "note"

    text: str = field(validator=_text)
    kind: NoteKind = field(default=NoteKind.NOTE, validator=_member(NoteKind))


@frozen(kw_only=True)
class UpdatePosted(Event):
    """Step 8: a stakeholder update; ``no_progress`` marks an update that reports none."""

    type: ClassVar[str] = "update_posted"
    command: ClassVar[str] = "post_update"

    message: str = field(validator=_text)
    no_progress: bool = field(default=False, validator=_member(bool))


@frozen(kw_only=True)
class ChangeLogged(Event):
    """Step 9: a manual change — who made it, what, where, and how to revert it."""

    type: ClassVar[str] = "change_logged"
    command: ClassVar[str] = "log_change"

    change_id: str = field(validator=_text)
    made_by: str = field(validator=_text)
    what: str = field(validator=_text)
    where: str = field(validator=_text)
    revert: str = field(validator=_text)


@frozen(kw_only=True)
class ChangeReconciled(Event):
    """A manual change is reverted or made permanent."""

    type: ClassVar[str] = "change_reconciled"
    command: ClassVar[str] = "reconcile_change"

    change_id: str = field(validator=_text)
    outcome: ChangeOutcome = field(validator=_member(ChangeOutcome))
    note: str = field(default="", validator=_optional_text)


@frozen(kw_only=True)
class DataLossRecorded(Event):
    """Data lost for good: what, how much, and the window in which it was written.

    ``window_start`` and ``window_end`` bound the lost writes (``window_start`` never after
    ``window_end``); either is ``None`` when nobody knows it.  ``amount`` says how much in
    words (``"about 6 hours of writes"``, empty when not known).
    """

    type: ClassVar[str] = "data_loss_recorded"
    command: ClassVar[str] = "record_data_loss"

    loss_id: str = field(validator=_text)
    what: str = field(validator=_text)
    window_start: datetime | None = field(validator=_optional_aware)
    window_end: datetime | None = field(validator=_optional_aware)
    amount: str = field(default="", validator=_optional_text)


@frozen(kw_only=True)
class WhyAnswered(Event):
    """Step 10: one more "why?" answered in a Five Whys chain.

    ``root_cause`` marks the answer as the chain's root cause, which closes the chain.
    ``depth`` is the why it answers (1 for the first), counted through the chains it branches
    off; ``branches_from``, on a chain's first answer, names the chain it branches off: the
    answer is one of several jointly sufficient causes of that chain's answer ``depth - 1``.
    Histories written before answers recorded their depth have ``depth`` ``None``; their
    root causes were accepted at any depth and replay as recorded.
    """

    type: ClassVar[str] = "why_answered"
    command: ClassVar[str] = "add_why"

    chain: str = field(validator=_text)
    answer: str = field(validator=_text)
    root_cause: bool = field(default=False, validator=_member(bool))
    depth: int | None = field(default=None, validator=_optional_count)
    branches_from: str | None = field(default=None, validator=_optional_name)


@frozen(kw_only=True)
class FactorAdded(Event):
    """A contributing factor: each necessary, but only jointly sufficient.

    ``category`` places it on the fishbone diagram (``None`` when not categorized).
    """

    type: ClassVar[str] = "factor_added"
    command: ClassVar[str] = "add_factor"

    description: str = field(validator=_text)
    category: FishboneCategory | None = field(
        default=None, validator=_optional_member(FishboneCategory)
    )


@frozen(kw_only=True)
class RecoveryVerified(Event):
    """Step 11: recovery is verified, with the evidence."""

    type: ClassVar[str] = "recovery_verified"
    command: ClassVar[str] = "verify_recovery"

    evidence: str = field(validator=_text)


@frozen(kw_only=True)
class CustomerVerified(Event):
    """Step 13: the customer verified the fix."""

    type: ClassVar[str] = "customer_verified"
    command: ClassVar[str] = "verify_customer"

    customer: str = field(validator=_text)
    evidence: str = field(validator=_text)


@frozen(kw_only=True)
class DebtOpened(Event):
    """Tech debt the response left behind, to clean up before green."""

    type: ClassVar[str] = "debt_opened"
    command: ClassVar[str] = "open_debt"

    debt_id: str = field(validator=_text)
    description: str = field(validator=_text)


@frozen(kw_only=True)
class DebtClosed(Event):
    """A tech-debt item is cleaned up."""

    type: ClassVar[str] = "debt_closed"
    command: ClassVar[str] = "close_debt"

    debt_id: str = field(validator=_text)
    note: str = field(default="", validator=_optional_text)


@frozen(kw_only=True)
class ReportStarted(Event):
    """Step 14: the incident report is started; ``location`` says where it lives."""

    type: ClassVar[str] = "report_started"
    command: ClassVar[str] = "start_report"

    location: str = field(default="", validator=_optional_text)


@frozen(kw_only=True)
class PostMortemScheduled(Event):
    """Step 15: the post-mortem meeting is scheduled and people are invited."""

    type: ClassVar[str] = "post_mortem_scheduled"
    command: ClassVar[str] = "schedule_post_mortem"

    scheduled_for: datetime = field(validator=_aware)
    invitees: tuple[str, ...] = field(validator=_names)


@frozen(kw_only=True)
class ActionAdded(Event):
    """An action item with an owner, a due time and a kind (corrective or preventive).

    ``owner`` and ``due_at`` are ``None`` when not known, where the policy allows it
    (``action_owner_and_due``).
    """

    type: ClassVar[str] = "action_added"
    command: ClassVar[str] = "add_action"

    action_id: str = field(validator=_text)
    description: str = field(validator=_text)
    owner: str | None = field(validator=_optional_name)
    due_at: datetime | None = field(validator=_optional_aware)
    kind: ActionKind = field(validator=_member(ActionKind))


@frozen(kw_only=True)
class ActionClosed(Event):
    """An action item is done."""

    type: ClassVar[str] = "action_closed"
    command: ClassVar[str] = "close_action"

    action_id: str = field(validator=_text)
    note: str = field(default="", validator=_optional_text)


@frozen(kw_only=True)
class PriorityChanged(Event):
    """The priority is raised or lowered; the new priority's rules apply from then on."""

    type: ClassVar[str] = "priority_changed"
    command: ClassVar[str] = "change_priority"

    priority: Priority = field(validator=_member(Priority))
    reason: str = field(validator=_text)


def _share(instance: Any, attribute: Any, value: Any) -> None:
    """Validate ``None`` or a percentage from 0 to 100 (an int or a finite float)."""
    if value is None:
        return
    if type(value) not in (int, float) or not 0 <= value <= 100:
        raise InvalidInput(
            f"{type(instance).__name__}.{attribute.name} must be a percentage from 0 to 100, "
            f"not {value!r}"
        )


def _components(instance: Any, attribute: Any, value: Any) -> None:
    """Validate a tuple (possibly empty) of distinct non-blank strings."""
    if value == ():
        return
    _names(instance, attribute, value)


@frozen(kw_only=True)
class ImpactChanged(Event):
    """The impact moved to another level: the impact timeline, apart from the response.

    ``level`` is Statuspage's vocabulary; ``description`` says what users saw, ``components``
    which parts were hit and ``share`` which share of users or requests (0–100%), when known.
    """

    type: ClassVar[str] = "impact_changed"
    command: ClassVar[str] = "change_impact"

    level: ImpactLevel = field(validator=_member(ImpactLevel))
    description: str = field(default="", validator=_optional_text)
    components: tuple[str, ...] = field(default=(), validator=_components)
    share: float | None = field(default=None, validator=_share)


@frozen(kw_only=True)
class StateChanged(Event):
    """The incident moves along an edge of the lifecycle.

    The announcements of steps 12 and 13 are the moves to yellow and green; ``message`` is
    what was announced (or why the incident was dismissed or reopened).  Its authorization key
    is the edge's trigger, e.g. ``announce_yellow``.
    """

    type: ClassVar[str] = "state_changed"
    command: ClassVar[str] = "move"

    source: State = field(validator=_member(State))
    target: State = field(validator=_member(State))
    message: str = field(validator=_text)


@frozen(kw_only=True)
class PolicyAdopted(Event):
    """The incident runs under another policy from this event on.

    Whether it may be adopted is decided by the policy in force before it (its
    ``adopt_policy`` authorization), so a policy cannot authorize its own adoption.
    """

    type: ClassVar[str] = "policy_adopted"
    command: ClassVar[str] = "adopt_policy"

    policy: RecordedPolicy = field(validator=_member(RecordedPolicy))


@frozen(kw_only=True)
class Amended(Event):
    """A correction: the field ``field_name`` now reads ``value``.

    The amendable fields are those of :data:`~incidentflow.corrections.AMENDABLE`.

    ``entry`` is the number of the event corrected (its version, counting from 1), for the
    fields of an entry (its text, its time, a priority, the invitees); ``None`` for the
    incident's own fields (title, when it began or was declared).  The original stays in
    the history; the incident's views, measures and documents read the corrected record.
    """

    type: ClassVar[str] = "amended"
    command: ClassVar[str] = "amend"

    field_name: str = field(validator=_text)
    value: str = field(validator=_text)
    entry: int | None = field(default=None, validator=_optional_count)
    reason: str = field(validator=_text)


@frozen(kw_only=True)
class Retracted(Event):
    """An entry (its event number, counting from 1) is withdrawn as wrong, with the reason.

    The entry stays in the history; the incident's views, measures and documents leave it out.
    """

    type: ClassVar[str] = "retracted"
    command: ClassVar[str] = "retract"

    entry: int = field(validator=_count)
    reason: str = field(validator=_text)
