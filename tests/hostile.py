"""Typed text meant to break a format: incidents full of it, and a reader of the HTML made.

The document tests draw text that looks like Markdown, HTML or Slack markup and check that it
comes out as the words it is.  :func:`typed_incident` records one of each kind of fact with
such text, so a test sees every field a document places.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

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


class Structure(HTMLParser):
    """The tags (with their attributes) and the text content of an HTML document."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, ...]] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.headings: list[tuple[str, str]] = []
        self.title = ""
        self._open: str | None = None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, *(f"{k}={v}" for k, v in attrs)))
        self.attrs.extend(attrs)
        if tag in ("title", "h1", "h2", "h3"):
            self._open = tag
            if tag != "title":
                self.headings.append((tag, ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.tags.append((f"/{tag}",))
        self._open = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._open == "title":
            self.title += data
        elif self._open is not None:
            tag, text = self.headings[-1]
            self.headings[-1] = (tag, text + data)

    def handle_comment(self, data: str) -> None:
        self.tags.append(("!--",))

    def handle_decl(self, decl: str) -> None:
        self.tags.append((f"!{decl}",))

    def handle_pi(self, data: str) -> None:
        self.tags.append(("?",))

    def unknown_decl(self, data: str) -> None:
        self.tags.append(("![",))
