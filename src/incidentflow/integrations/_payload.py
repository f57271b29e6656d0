"""The JSON a delivery carries: the event and the incident it left behind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from incidentflow.codec import to_dict

if TYPE_CHECKING:
    from ._sink import Message

__all__ = ["body"]


def body(message: Message) -> dict[str, Any]:
    """The event (or reminder) and the incident's summary, as a webhook sends them."""
    incident = message.incident
    document: dict[str, Any] = {
        "type": message.kind,
        "id": message.key,
        "timestamp": message.now.isoformat(),
        "incident": {
            "id": incident.id,
            "title": incident.title,
            "priority": incident.priority.value,
            "state": incident.state.value,
            "version": incident.version,
            "roles": {r.value: list(h) for r, h in incident.roles.items() if h},
            "links": {k.value: link.url for k, link in incident.links.items()},
        },
    }
    if message.event is not None:
        document["event"] = to_dict(message.event)
    if message.reminder is not None:
        reminder = message.reminder
        document["reminder"] = {
            "kind": reminder.kind,
            "description": reminder.description,
            "command": reminder.command,
            "owners": list(reminder.owners),
            "due_at": None if reminder.due_at is None else reminder.due_at.isoformat(),
            "text": f"{incident.id}: {reminder.text}",
        }
    return document
