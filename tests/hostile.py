"""Incidents whose every piece of typed text comes from a strategy meant to break a format.

The document tests draw text that looks like Markdown, HTML or Slack markup and check that it
comes out as the words it is.  :func:`typed_incident` records one of each kind of fact with
such text, so a test sees every field a document places.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from incidentflow import (
    ActionKind,
    FishboneCategory,
    Incident,
    LinkKind,
    ManualClock,
    Policy,
    Priority,
    Role,
    State,
    Verdict,
)

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


def typed_incident(
    text: Callable[[], str],
    *,
    experiments: int = 1,
    concluded: int = 1,
    notes: int = 1,
    update_before: bool = False,
    update_after: bool = False,
) -> Incident:
    """A P3 in mitigating (permissive policy) where every typed field is ``text()``.

    It records a validation with impact, a ticket, ``experiments`` experiments (the first
    ``concluded`` of them concluded), a manual change, ``notes`` notes, a why, a factor, tech
    debt and an action item; stakeholder updates before and after mitigation began on request.
    """
    t = text
    incident = Incident.declare(
        t(), t(), Priority.P3, actor=t(), clock=ManualClock(START), policy=Policy.permissive()
    )
    commander = t()
    incident.assign(Role.INCIDENT_COMMANDER, commander, actor=t())
    incident.validate(t(), impact=t(), actor=t())
    incident.link(LinkKind.TICKET, t(), actor=t())
    if update_before:
        incident.post_update(t(), actor=t())
    incident.move(State.MITIGATING, message=t(), actor=t())
    for n in range(experiments):
        started = incident.start_experiment(
            hypothesis=t(), action=t(), expected=t(), component=f"{t()} #{n}", owner=commander,
            actor=t(),
        )  # fmt: skip
        if n < concluded:
            incident.conclude_experiment(
                started.experiment_id, observed=t(), verdict=Verdict.CONFIRMED, actor=t()
            )
    incident.log_change(what=t(), where=t(), revert=t(), made_by=t(), actor=t())
    for _ in range(notes):
        incident.note(t(), actor=t())
    incident.add_why(t(), chain=t(), actor=t())
    incident.add_factor(t(), category=FishboneCategory.PROCESS, actor=t())
    incident.open_debt(t(), actor=t())
    incident.add_action(
        t(), owner=t(), due_at=START + timedelta(days=1), kind=ActionKind.CORRECTIVE, actor=t()
    )
    if update_after:
        incident.post_update(t(), actor=t())
    return incident
