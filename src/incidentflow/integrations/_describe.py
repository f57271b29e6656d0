"""One line of plain text per event, for chat threads, ticket comments and status pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from incidentflow import events as ev

if TYPE_CHECKING:
    from incidentflow.events import Event

__all__ = ["describe"]


def describe(event: Event) -> str:
    """What ``event`` says, in a few words, by whom (typed text left as typed).

    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    >>> describe(ev.NoteAdded(actor="ana", occurred_at=at, recorded_at=at, text="db-1 restarted"))
    'ana noted: db-1 restarted'
    """
    who = event.actor
    match event:
        case ev.Declared():
            return f"{who} declared {event.priority.value}: {event.title}"
        case ev.StateChanged():
            return f"{who}: {event.source.value} → {event.target.value}: {event.message}"
        case ev.UpdatePosted():
            return f"{who} posted an update: {event.message}"
        case ev.NoteAdded():
            return f"{who} noted: {event.text}"
        case ev.RoleAssigned():
            return f"{who} made {event.holder} {event.role.value}"
        case ev.RoleHandedOff():
            return f"{who} handed {event.role.value} from {event.from_holder} to {event.to_holder}"
        case ev.RoleReleased():
            return f"{who} released {event.holder} from {event.role.value}"
        case ev.PriorityChanged():
            return f"{who} changed the priority to {event.priority.value}"
        case ev.Linked():
            return f"{who} linked the {event.kind.value.replace('_', ' ')}: {event.url}"
        case ev.Validated():
            return f"{who} confirmed the problem: {event.evidence}"
        case ev.ActionAdded():
            return f"{who} added action {event.action_id} for {event.owner}: {event.description}"
        case _:
            return f"{who}: {event.type.replace('_', ' ')}"
