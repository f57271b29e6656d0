"""Helpers for the integration tests: recording transports and messages to send."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from incidentflow import Incident, LinkKind, ManualClock, Priority, Role
from incidentflow.integrations import Message, SinkConfig, build_sink, parse_config
from incidentflow.integrations._sink import Sink

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)

Reply = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport that keeps every request and answers with ``reply``."""

    def __init__(self, reply: Reply | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.reply = reply or (lambda request: httpx.Response(200, json={"ok": True}))
        self.client = httpx.Client(transport=httpx.MockTransport(self._handle))

    def _handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.reply(request)

    def bodies(self) -> list[Any]:
        """The JSON body of each request."""
        return [json.loads(r.content) if r.content else None for r in self.requests]


def sink_config(text: str) -> SinkConfig:
    """The one sink of a sinks file."""
    (config,) = parse_config(text).sinks
    return config


def make_sink(text: str, recorder: Recorder, environ: dict[str, str] | None = None) -> Sink:
    """The sink of a one-sink file, sending through ``recorder``."""
    return build_sink(sink_config(text), client=recorder.client, environ=environ or {})


def incident(priority: Priority = Priority.P1, incident_id: str = "INC-7") -> Incident:
    """INC-7 (or ``incident_id``), declared by ana, who leads it."""
    clock = ManualClock(START)
    declared = Incident.declare(incident_id, "Database is down", priority, actor="ana", clock=clock)
    declared.assign(Role.LEAD, "ana", actor="ana")
    return declared


def message(
    subject: Incident, *, state: dict[str, str] | None = None, key: str = "msg_1", index: int = -1
) -> Message:
    """A message about one of the incident's events (the newest by default)."""
    return Message(
        key=key, incident=subject, event=subject.history[index], state=state or {}, now=START
    )


def walked(incident_id: str = "INC-7") -> Incident:
    """INC-7 (or ``incident_id``) staffed, validated, linked and moved to mitigating."""
    subject = incident(incident_id=incident_id)
    subject.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    subject.assign(Role.COMMUNICATOR, "cy", actor="ana")
    subject.assign(Role.RECORDER, "di", actor="ana")
    subject.validate("db refuses connections", actor="ana")
    for kind in LinkKind:
        subject.link(kind, f"https://x.example/{kind.value}", actor="ana")
    subject.mitigate("on it", actor="ana")
    return subject
