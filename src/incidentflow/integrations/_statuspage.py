"""The ``statuspage`` sink: the incident on an Atlassian Statuspage page.

The page's incident follows the lifecycle (:data:`PAGE_STATUS`: declared is
*investigating*, mitigating *identified*, yellow *monitoring*, green *resolved*); each
stakeholder update is posted as its body.  The listed ``components`` take the status of
the incident's impact level when it has one (:data:`COMPONENT_STATUS`), and are
operational again once it is resolved.  The page incident's short link is recorded back
on the incident (as its ``public_channel`` link unless ``link`` says otherwise).
"""

from __future__ import annotations

from typing import Any

from incidentflow import events as ev
from incidentflow.errors import DeliveryFailed
from incidentflow.lifecycle import State
from incidentflow.records import LinkKind

from ._sink import Message, Sent, Sink

__all__ = ["COMPONENT_STATUS", "PAGE_STATUS", "StatuspageSink"]

PAGE_STATUS = {
    State.DECLARED: "investigating",
    State.MITIGATING: "identified",
    State.YELLOW: "monitoring",
    State.GREEN: "resolved",
    State.REPORTED: "resolved",
    State.POST_MORTEM: "resolved",
    State.DISMISSED: "resolved",
}
"""The page incident's status for each state of the incident."""

COMPONENT_STATUS = {
    "operational": "operational",
    "degraded": "degraded_performance",
    "partial_outage": "partial_outage",
    "major_outage": "major_outage",
}
"""The component status for each impact level an incident records."""


def _impact(message: Message) -> str | None:
    """The incident's impact level, when it records one (an ``impact_changed`` event)."""
    level = getattr(message.event, "level", None)
    if level is None:
        level = getattr(message.incident, "impact", None)
    value = getattr(level, "value", level)
    return value if isinstance(value, str) and value in COMPONENT_STATUS else None


class StatuspageSink(Sink):
    """Opens, updates and resolves the incident on a status page."""

    handles = frozenset({"declared", "state_changed", "update_posted", "impact_changed"})

    def send(self, message: Message) -> Sent | None:
        """Open the page incident, or move it along."""
        incident = message.incident
        status = PAGE_STATUS[incident.state]
        fields: dict[str, Any] = {"status": status}
        event = message.event
        if isinstance(event, ev.UpdatePosted | ev.StateChanged):
            fields["body"] = event.message
        components = [str(c) for c in self.config.settings.get("components", [])]
        level = "operational" if status == "resolved" else _impact(message)
        if components and level is not None:
            fields["components"] = dict.fromkeys(components, COMPONENT_STATUS[level])
            fields["component_ids"] = components
        page_incident = message.state.get("incident")
        if page_incident is None:
            fields["name"] = incident.title
            fields.setdefault("body", f"We are investigating: {incident.title}")
            created = self._call(message, "POST", "incidents", fields)
            state = {"incident": str(created["id"])}
            kind = self.config.link if self.config.link is not None else "public_channel"
            shortlink = created.get("shortlink")
            links = ((LinkKind(kind), str(shortlink)),) if kind and shortlink else ()
            return Sent(summary=f"opened {state['incident']} ({status})", state=state, links=links)
        self._call(message, "PATCH", f"incidents/{page_incident}", fields)
        return Sent(summary=f"{page_incident} {status}")

    def _call(
        self, message: Message, verb: str, path: str, fields: dict[str, Any]
    ) -> dict[str, Any]:
        token = self._secret("token")
        assert token is not None  # the config requires token_env
        api = str(self.config.settings.get("api_url", "https://api.statuspage.io/v1")).rstrip("/")
        page = self.config.settings["page_id"]
        answer = self.request(
            verb,
            f"{api}/pages/{page}/{path}",
            json={"incident": fields},
            headers={"authorization": f"OAuth {token.reveal()}"},
            now=message.now,
        ).json()
        if not isinstance(answer, dict) or "id" not in answer:
            raise DeliveryFailed(f"Statuspage answered {verb} {path} without an incident id")
        return answer
