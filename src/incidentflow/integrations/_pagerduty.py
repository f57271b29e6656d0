"""The ``pagerduty`` sink: the incident as one PagerDuty alert (Events API v2).

Declaring triggers it, with a severity by priority; mitigating acknowledges it; green (or
a dismissal) resolves it.  The ``dedup_key`` is the incident id, so every event about one
incident lands on one alert however often it is sent.
"""

from __future__ import annotations

from typing import Any

from incidentflow import events as ev
from incidentflow.errors import SinkConfigError
from incidentflow.lifecycle import State
from incidentflow.priorities import Priority

from ._sink import Message, Sent, Sink

__all__ = ["EVENTS_URL", "SEVERITY", "PagerDutySink"]

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
"""Where Events API v2 events go unless the sink's ``url`` says otherwise."""

SEVERITY = {
    Priority.P0: "critical",
    Priority.P1: "error",
    Priority.P2: "warning",
    Priority.P3: "info",
}
"""The alert severity of each priority (a sink's ``severity`` table overrides it)."""

_SEVERITIES = ("critical", "error", "warning", "info")


class PagerDutySink(Sink):
    """Triggers, acknowledges and resolves one alert per incident."""

    handles = frozenset({"declared", "priority_changed", "state_changed"})

    def send(self, message: Message) -> Sent | None:
        """Send the alert action the event calls for, if any."""
        event = message.event
        action = "trigger"
        if isinstance(event, ev.StateChanged):
            if event.target is State.MITIGATING and event.source is State.DECLARED:
                action = "acknowledge"
            elif event.target in (State.GREEN, State.DISMISSED):
                action = "resolve"
            else:
                return None
        incident = message.incident
        body: dict[str, Any] = {
            "routing_key": self._routing_key(),
            "event_action": action,
            "dedup_key": incident.id,
        }
        if action == "trigger":
            body["payload"] = {
                "summary": f"{incident.id}: {incident.title}"[:1024],
                "source": str(self.config.settings.get("source", "incidentflow")),
                "severity": self._severity(incident.priority),
                "custom_details": {
                    "priority": incident.priority.value,
                    "state": incident.state.value,
                    "declared_by": incident.declared_by,
                },
            }
        url = str(self.config.settings.get("url", EVENTS_URL))
        response = self.request("POST", url, json=body, now=message.now)
        return Sent(summary=f"{action} HTTP {response.status_code}")

    def _routing_key(self) -> str:
        token = self._secret("token")
        assert token is not None  # the config requires token_env
        return token.reveal()

    def _severity(self, priority: Priority) -> str:
        table = self.config.settings.get("severity", {})
        if not isinstance(table, dict):
            raise SinkConfigError(f"sink {self.name!r}: severity must be a table")
        severity = table.get(priority.value, SEVERITY[priority])
        if severity not in _SEVERITIES:
            raise SinkConfigError(
                f"sink {self.name!r}: severity {severity!r} is not one of {', '.join(_SEVERITIES)}"
            )
        return str(severity)
