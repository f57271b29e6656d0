"""A chat bot that enforces the runbook: "/incident <verb> ..." messages become Incident calls.

There is no network: the chat is function calls.  ``ChatBot.handle(user, text)`` returns the
bot's reply to ``user``; what the bot announces to the whole channel (state changes and
stakeholder updates, heard as events) collects in ``ChatBot.channel``.  See docs/embedding.md.
Try it with ``python examples/chat_bot.py`` and lines such as ``ana: /incident help``.
"""

from __future__ import annotations

import enum
import sys
from typing import TypeVar

import incidentflow as flow
from incidentflow import CommandRefused, Incident, InvalidInput, codec
from incidentflow.lifecycle import EDGES, edges_from

E = TypeVar("E", bound=enum.Enum)

VERBS = {
    "assign": "assign", "link": "link", "validate": "validate", "update": "post_update",
    "note": "note", "recovered": "verify_recovery", "mitigate": "mitigate", "dismiss": "dismiss",
    "yellow": "announce_yellow", "green": "announce_green", "reopen": "reopen",
}  # fmt: skip
"""Chat verbs, and the Incident command (the policy's authorization key) behind each."""

MOVES = frozenset(e.trigger for e in EDGES.values())
"""The commands that move the incident: the lifecycle's triggers."""

HELP = (
    "/incident declare <P0-P3> <title> | assign <role> <person> | link <kind> <url> | "
    "validate|update|note|recovered <text> | mitigate|yellow|green|dismiss|reopen <message> | "
    "status | due"
)


def parse(kind: type[E], text: str) -> E:
    """The member of ``kind`` whose value is ``text``, or InvalidInput listing the choices."""
    for member in kind:
        if str(member.value).lower() == text.lower():
            return member
    raise InvalidInput(f"{text!r} is not one of: {', '.join(str(m.value) for m in kind)}")


class ChatBot:
    """One channel's incident, driven by chat messages."""

    def __init__(self, *, clock: flow.Clock | None = None) -> None:
        self.clock = clock
        self.incident: Incident | None = None
        self.channel: list[str] = []
        self.subscribers = flow.Subscribers()
        self.subscribers.subscribe(self._announce)

    @classmethod
    def restore(cls, saved: str, *, clock: flow.Clock | None = None) -> ChatBot:
        """A bot whose incident is rebuilt from what ``save()`` returned."""
        bot = cls(clock=clock)
        events = codec.load_lines(saved)
        bot.incident = Incident.replay(events, clock=clock, subscribers=bot.subscribers)
        return bot

    def save(self) -> str:
        """The incident's history as JSON Lines, to store anywhere text goes."""
        return codec.dump_lines(self.incident.history) if self.incident else ""

    def handle(self, user: str, text: str) -> str:
        """Act on one chat message from ``user``; return the reply."""
        words = text.split(maxsplit=2)
        if len(words) < 2 or words[0] != "/incident" or words[1] == "help":
            return HELP
        verb, rest, incident = words[1], words[2] if len(words) > 2 else "", self.incident
        try:
            if verb == "declare":
                return self._declare(user, rest)
            if incident is None:
                return "No incident here yet: /incident declare <P0-P3> <title>"
            if verb == "status":
                return _status(incident, user)
            if verb == "due":
                return _due(incident)
            if VERBS.get(verb) in MOVES:
                return _move(incident, user, VERBS[verb], rest)
            if verb in VERBS:
                return _command(incident, user, verb, rest)
        except CommandRefused as refusal:  # a rule about the arguments, e.g. a second Lead
            return _refused(refusal.command, refusal.unmet)
        except InvalidInput as error:  # e.g. an unknown role or an empty message
            return f"Sorry, {error}"
        return f"Unknown command {verb!r}. {HELP}"

    def _declare(self, user: str, rest: str) -> str:
        if self.incident is not None:
            return f"{self.incident.id} is already open here."
        priority, _, title = rest.partition(" ")
        self.incident = Incident.declare(
            "INC-1", title, parse(flow.Priority, priority), actor=user, clock=self.clock,
            subscribers=self.subscribers,
        )  # fmt: skip
        return f"Declared INC-1 ({self.incident.priority.value}): {title}"

    def _announce(self, incident: Incident, event: flow.Event) -> None:
        """The subscriber: tell the channel of moves and stakeholder updates."""
        if isinstance(event, flow.StateChanged):
            self.channel.append(f"[{incident.id}] now {event.target.value}: {event.message}")
        elif isinstance(event, flow.UpdatePosted):
            self.channel.append(f"[{incident.id}] update from {event.actor}: {event.message}")


def _status(incident: Incident, user: str) -> str:
    allowed = incident.allowed_commands(user)  # moves appear once their guards are met
    verbs = [verb for verb, command in VERBS.items() if command in allowed]
    state = f"{incident.id} {incident.priority.value} {incident.state.value}"
    return f"{state}. You can: {', '.join(verbs) or 'nothing'}."


def _move(incident: Incident, user: str, trigger: str, message: str) -> str:
    edge = next((e for e in edges_from(incident.state) if e.trigger == trigger), None)
    if edge is None:
        return f"Can't {trigger} while {incident.state.value}."
    unmet = incident.unmet(edge.target, actor=user)  # ask before acting
    if unmet:
        return _refused(trigger, unmet)
    incident.move(edge.target, message=message or trigger, actor=user)
    return f"Done: {incident.id} is {incident.state.value}."


def _command(incident: Incident, user: str, verb: str, rest: str) -> str:
    allowed = incident.allowed_commands(user)
    if VERBS[verb] not in allowed:  # ask before acting
        yours = [v for v, c in VERBS.items() if c in allowed and c not in MOVES]
        return f"You can't {verb} now. You can: {', '.join(yours) or 'nothing'}."
    first, _, second = rest.partition(" ")
    if verb == "assign":
        incident.assign(parse(flow.Role, first), second, actor=user)
    elif verb == "link":
        incident.link(parse(flow.LinkKind, first), second, actor=user)
    else:  # the commands that take one text
        getattr(incident, VERBS[verb])(rest, actor=user)
    return "Noted."


def _due(incident: Incident) -> str:
    lines = [
        f"- {o.description}" + (f" by {o.due_at:%H:%M}" if o.due_at else "")
        + (" (OVERDUE)" if o.overdue else "") + f" [{', '.join(o.owners) or 'anyone'}]"
        for o in incident.due()
    ]  # fmt: skip
    return "\n".join(["Owed:", *lines]) if lines else "Nothing owed."


def _refused(what: str, unmet: tuple[flow.Unmet, ...]) -> str:
    return "\n".join([f"Can't {what}:", *(f"- {u.rule}: {u.detail}" for u in unmet)])


if __name__ == "__main__":
    bot = ChatBot()
    for line in sys.stdin:  # e.g. "ana: /incident declare P1 Database is down"
        user, _, text = line.partition(":")
        print(bot.handle(user.strip(), text.strip()))
        while bot.channel:
            print("#", bot.channel.pop(0))
