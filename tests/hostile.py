"""Typed text meant to break a format: incidents full of it, and a reader of the HTML made.

The document tests draw text that looks like Markdown, HTML or Slack markup and check that it
comes out as the words it is.  :func:`typed_incident` records one of each kind of fact with
such text, so a test sees every field a document places.
"""

from __future__ import annotations

import unicodedata
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
from incidentflow.identities import show_invisible

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

    Names (the id, actors, holders, owners, the why chain) are ``text()`` made an identity
    the rules accept (:func:`as_name`), hostile but for invisible characters and surrounding
    space.  It records a validation with impact, a ticket, ``experiments`` experiments (the
    first ``concluded`` of them concluded), a manual change, ``notes`` notes, a why, a factor,
    tech debt and an action item; stakeholder updates before and after mitigation began on
    request.
    """
    t = text

    def n() -> str:
        return as_name(t())

    incident = Incident.declare(
        n(), t(), Priority.P3, actor=n(), clock=ManualClock(START), policy=Policy.permissive()
    )
    commander = n()
    incident.assign(Role.INCIDENT_COMMANDER, commander, actor=n())
    incident.validate(t(), impact=t(), actor=n())
    incident.link(LinkKind.TICKET, t(), actor=n())
    if update_before:
        incident.post_update(t(), actor=n())
    incident.move(State.MITIGATING, message=t(), actor=n())
    for number in range(experiments):
        started = incident.start_experiment(
            hypothesis=t(), action=t(), expected=t(), component=f"{t()} #{number}",
            owner=commander, actor=n(),
        )  # fmt: skip
        if number < concluded:
            incident.conclude_experiment(
                started.experiment_id, observed=t(), verdict=Verdict.CONFIRMED, actor=n()
            )
    incident.log_change(what=t(), where=t(), revert=t(), made_by=n(), actor=n())
    for _ in range(notes):
        incident.note(t(), actor=n())
    incident.add_why(t(), chain=n(), actor=n())
    incident.add_factor(t(), category=FishboneCategory.PROCESS, actor=n())
    incident.open_debt(t(), actor=n())
    incident.add_action(
        t(), owner=n(), due_at=START + timedelta(days=1), kind=ActionKind.CORRECTIVE, actor=n()
    )
    if update_after:
        incident.post_update(t(), actor=n())
    return incident


def as_name(text: str) -> str:
    """``text`` as a name the rules accept: spaces collapsed, invisible characters spelled out.

    What is left of the text is as hostile as it was: Markdown, HTML and Slack markup stay.
    """
    name = unicodedata.normalize("NFC", show_invisible(" ".join(text.split())))
    return name or "someone"


INVISIBLE = (
    "\u200b",  # ZERO WIDTH SPACE
    "\u200c",  # ZERO WIDTH NON-JOINER
    "\u200d",  # ZERO WIDTH JOINER
    "\u2060",  # WORD JOINER
    "\ufeff",  # ZERO WIDTH NO-BREAK SPACE (BOM)
    "\u00ad",  # SOFT HYPHEN
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u202d",  # LEFT-TO-RIGHT OVERRIDE
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u2069",  # POP DIRECTIONAL ISOLATE
    "\u061c",  # ARABIC LETTER MARK
    "\u180e",  # MONGOLIAN VOWEL SEPARATOR
    "\u3164",  # HANGUL FILLER
    "\u2800",  # BRAILLE PATTERN BLANK
    "\ufe0f",  # VARIATION SELECTOR-16
    "\U000e0041",  # TAG LATIN CAPITAL LETTER A
    "\x1b",  # ESCAPE
    "\x07",  # BELL
    "\x9b",  # CONTROL SEQUENCE INTRODUCER
)
"""Characters that print as nothing, move the text around or drive a terminal."""


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
        if tag == self._open:  # a link inside a heading does not end it
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
