"""The ``jira`` sink: the incident's ticket and its action items, in Jira Cloud (REST v3).

When the policy wants a ticket for the incident's priority and none is linked, the sink
looks for an issue carrying the incident's label (a JQL search) and creates one (its
description in the Atlassian Document Format) only if none is found, so a retried or
repeated delivery never opens a second ticket.  The ticket's address is recorded back on
the incident as its ``ticket`` link, which meets the runbook's "ticket" rule.  Each action
item becomes an issue the same way.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from incidentflow import events as ev
from incidentflow.errors import DeliveryFailed
from incidentflow.records import LinkKind

from ._sink import Message, Sent, Sink

__all__ = ["JiraSink", "adf"]

_LABEL = re.compile(r"[^A-Za-z0-9_.-]")


def adf(*paragraphs: str) -> dict[str, Any]:
    """A document in the Atlassian Document Format, one paragraph per non-blank text.

    >>> adf("Database is down", " ")["content"]
    [{'type': 'paragraph', 'content': [{'type': 'text', 'text': 'Database is down'}]}]
    """
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": text}]}
            for text in paragraphs
            if text.strip()
        ],
    }


class JiraSink(Sink):
    """Opens the incident's ticket (and one issue per action item), once each."""

    handles = frozenset({"declared", "priority_changed", "validated", "action_added"})

    def send(self, message: Message) -> Sent | None:
        """Open the ticket or the action item's issue, if it is owed and not there yet."""
        incident = message.incident
        event = message.event
        if isinstance(event, ev.ActionAdded):
            label = self._label(f"{incident.id}-{event.action_id}")
            key, created = self._ensure(
                message,
                label,
                f"{incident.id} action {event.action_id}: {event.description}",
                adf(event.description, f"Owner: {event.owner}", f"Due: {event.due_at:%Y-%m-%d}"),
            )
            return Sent(summary=f"{'created' if created else 'found'} {key}")
        wanted = LinkKind.TICKET in incident.policy.rules_for(incident.priority).required_links
        if not wanted or LinkKind.TICKET in incident.links or "ticket" in message.state:
            return None  # (the state: opened by an earlier delivery, not linked yet then)
        key, created = self._ensure(
            message,
            self._label(incident.id),
            f"{incident.id}: {incident.title}",
            adf(
                f"{incident.priority.value} incident declared by {incident.declared_by}.",
                incident.title,
            ),
        )
        links: tuple[tuple[LinkKind, str], ...] = ()
        kind = self.config.link if self.config.link is not None else LinkKind.TICKET.value
        if kind:
            links = ((LinkKind(kind), f"{self._base}/browse/{key}"),)
        return Sent(
            summary=f"{'created' if created else 'found'} {key}",
            state={"ticket": key},
            links=links,
        )

    @property
    def _base(self) -> str:
        return str(self.config.settings["base_url"]).rstrip("/")

    def _label(self, suffix: str) -> str:
        prefix = str(self.config.settings.get("label", "incidentflow"))
        return _LABEL.sub("_", f"{prefix}-{suffix}")

    def _headers(self) -> dict[str, str]:
        token = self._secret("token")
        assert token is not None  # the config requires token_env
        pair = f"{self.config.settings['email']}:{token.reveal()}".encode()
        return {
            "authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
            "accept": "application/json",
            "content-type": "application/json",
        }

    def _ensure(
        self, message: Message, label: str, summary: str, description: dict[str, Any]
    ) -> tuple[str, bool]:
        """The key of the issue labelled ``label``, created if there is none; and if created."""
        project = str(self.config.settings["project"])
        found = self.request(
            "POST",
            f"{self._base}/rest/api/3/search/jql",
            json={
                "jql": f'project = "{project}" AND labels = "{label}"',
                "fields": ["key"],
                "maxResults": 1,
            },
            headers=self._headers(),
            now=message.now,
        ).json()
        issues = found.get("issues") if isinstance(found, dict) else None
        if issues:
            return str(issues[0]["key"]), False
        created = self.request(
            "POST",
            f"{self._base}/rest/api/3/issue",
            json={
                "fields": {
                    "project": {"key": project},
                    "issuetype": {"name": str(self.config.settings.get("issue_type", "Task"))},
                    "summary": summary[:255],
                    "description": description,
                    "labels": [str(self.config.settings.get("label", "incidentflow")), label],
                }
            },
            headers=self._headers(),
            now=message.now,
        ).json()
        if not isinstance(created, dict) or "key" not in created:
            raise DeliveryFailed("Jira created an issue but did not say its key")
        return str(created["key"]), True
