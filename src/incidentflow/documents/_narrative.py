"""One plain-English line for each kind of event, and the one way documents show times.

The line holds what people typed as it was typed: a document escapes the whole line for its
format (see :mod:`._markup`) before placing it.

>>> from datetime import UTC, datetime
>>> from incidentflow.events import UpdatePosted
>>> t = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
>>> describe(UpdatePosted(actor="cy", occurred_at=t, recorded_at=t, message="Still down."))
'cy updated stakeholders: Still down.'
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from incidentflow import events as ev

__all__ = ["describe", "elapsed", "moment"]


def moment(value: datetime) -> str:
    """A time as every document shows it: in UTC, to the minute, e.g. ``2026-03-01 14:05 UTC``.

    >>> from datetime import timezone, timedelta
    >>> moment(datetime(2026, 3, 1, 16, 5, tzinfo=timezone(timedelta(hours=2))))
    '2026-03-01 14:05 UTC'
    """
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def elapsed(delta: timedelta) -> str:
    """A span of time in whole minutes, e.g. ``1 d 2 h 5 min``, ``44 min``; never negative.

    >>> elapsed(timedelta(days=1, hours=2, minutes=5, seconds=59)), elapsed(timedelta(hours=2))
    ('1 d 2 h 5 min', '2 h')
    >>> elapsed(timedelta(0))
    '0 min'
    """
    minutes = max(0, int(delta.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else ""]
    parts.append(f"{minutes} min" if minutes or not any(parts) else "")
    return " ".join(p for p in parts if p)


def window(start: datetime | None, end: datetime | None) -> str:
    """A data-loss window in words, as much of it as is known.

    >>> from datetime import UTC, datetime
    >>> window(datetime(2017, 1, 31, 17, 20, tzinfo=UTC), None)
    '2017-01-31 17:20 UTC to a time not known'
    >>> window(None, datetime(2017, 1, 31, 23, 25, tzinfo=UTC))
    'a time not known to 2017-01-31 23:25 UTC'
    >>> window(None, None)
    'at times not known'
    """
    if start is None and end is None:
        return "at times not known"
    since = "a time not known" if start is None else moment(start)
    until = "a time not known" if end is None else moment(end)
    return f"{since} to {until}"


_LINES: dict[type[ev.Event], Callable[[Any], str]] = {
    ev.Declared: lambda e: (
        f"{e.actor} declared {e.priority.value} incident {e.incident_id}: {e.title}"
    ),
    ev.Validated: lambda e: (
        f"{e.actor} validated the problem: {e.evidence}"
        + (f" (impact: {e.impact})" if e.impact else "")
    ),
    ev.Linked: lambda e: f"{e.actor} linked the {e.kind.label.lower()}: {e.url}",
    ev.RoleAssigned: lambda e: f"{e.actor} assigned {e.holder} as {e.role.title}",
    ev.RoleHandedOff: lambda e: (
        f"{e.actor} handed {e.role.title} from {e.from_holder} to {e.to_holder}"
    ),
    ev.RoleReleased: lambda e: f"{e.actor} released {e.holder} from {e.role.title}",
    ev.ExperimentStarted: lambda e: (
        f"{e.actor} started experiment {e.experiment_id} on "
        f"{e.component} (owner {e.owner}): if {e.hypothesis}, then {e.action} should show "
        f"{e.expected}"
    ),
    ev.ExperimentConcluded: lambda e: (
        f"{e.actor} concluded experiment {e.experiment_id}, {e.verdict.value}: {e.observed}"
    ),
    ev.NoteAdded: lambda e: (
        f"{e.actor} noted a discrepancy between sources: {e.text}"
        if e.kind.value == "discrepancy"
        else f"{e.actor} noted: {e.text}"
    ),
    ev.UpdatePosted: lambda e: (
        f"{e.actor} updated stakeholders"
        + (" (no progress)" if e.no_progress else "")
        + f": {e.message}"
    ),
    ev.ChangeLogged: lambda e: (
        f"{e.actor} logged manual change {e.change_id} by {e.made_by} "
        f"on {e.where}: {e.what} (revert: {e.revert})"
    ),
    ev.ChangeReconciled: lambda e: (
        f"{e.actor} marked change {e.change_id} {e.outcome.value}"
        + (f": {e.note}" if e.note else "")
    ),
    ev.WhyAnswered: lambda e: (
        f"{e.actor} answered a why in chain {e.chain}: {e.answer}"
        + (" (root cause)" if e.root_cause else "")
    ),
    ev.FactorAdded: lambda e: (
        f"{e.actor} added a contributing factor"
        + (f" ({e.category.value})" if e.category else "")
        + f": {e.description}"
    ),
    ev.RecoveryVerified: lambda e: f"{e.actor} verified recovery: {e.evidence}",
    ev.CustomerVerified: lambda e: (
        f"{e.actor} recorded that {e.customer} verified the fix: {e.evidence}"
    ),
    ev.DebtOpened: lambda e: f"{e.actor} opened tech debt {e.debt_id}: {e.description}",
    ev.DebtClosed: lambda e: (
        f"{e.actor} closed tech debt {e.debt_id}" + (f": {e.note}" if e.note else "")
    ),
    ev.ReportStarted: lambda e: (
        f"{e.actor} started the incident report" + (f" at {e.location}" if e.location else "")
    ),
    ev.PostMortemScheduled: lambda e: (
        f"{e.actor} scheduled the post-mortem for "
        f"{moment(e.scheduled_for)}, inviting {', '.join(e.invitees)}"
    ),
    ev.ActionAdded: lambda e: (
        f"{e.actor} added {e.kind.value} action {e.action_id} for "
        f"{e.owner or 'an owner not known'}, "
        f"{'no due time' if e.due_at is None else 'due ' + moment(e.due_at)}: {e.description}"
    ),
    ev.ActionClosed: lambda e: (
        f"{e.actor} closed action {e.action_id}" + (f": {e.note}" if e.note else "")
    ),
    ev.PriorityChanged: lambda e: (
        f"{e.actor} changed the priority to {e.priority.value}: {e.reason}"
    ),
    ev.ImpactChanged: lambda e: (
        f"{e.actor} recorded the impact as {e.level.label.lower()}"
        + (f" ({e.share:g}% affected)" if e.share is not None else "")
        + (f" on {', '.join(e.components)}" if e.components else "")
        + (f": {e.description}" if e.description else "")
    ),
    ev.PolicyAdopted: lambda e: f"{e.actor} adopted the policy {e.policy.name} ({e.policy.digest})",
    ev.StateChanged: lambda e: (
        f"{e.actor} moved the incident from {e.source.value} to {e.target.value}: {e.message}"
    ),
    ev.LinkAbsent: lambda e: (
        f"{e.actor} recorded that no {e.kind.label.lower()} exists: {e.reason}"
    ),
    ev.RoleUnknown: lambda e: (
        f"{e.actor} recorded that no one knows who was {e.role.title}: {e.reason}"
    ),
    ev.DataLossRecorded: lambda e: (
        f"{e.actor} recorded data loss {e.loss_id}: {e.what}, written "
        f"{window(e.window_start, e.window_end)}" + (f" ({e.amount})" if e.amount else "")
    ),
    ev.Amended: lambda e: (
        f"{e.actor} amended {e.field_name}"
        + (f" of entry {e.entry}" if e.entry is not None else "")
        + f" to {e.value}: {e.reason}"
    ),
    ev.Retracted: lambda e: f"{e.actor} retracted entry {e.entry}: {e.reason}",
}


def describe(event: ev.Event) -> str:
    """What ``event`` recorded, as one line of plain English (typed text unescaped)."""
    return _LINES[type(event)](event)
