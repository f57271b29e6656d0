"""The ``slack`` sink: one thread per incident, its header kept current.

With ``token_env`` (a bot token) and ``channel``: the first delivery posts the incident's
header with ``chat.postMessage`` and keeps its ``ts``; every later event is a reply in that
thread, and events that change the state, priority or roles ``chat.update`` the header.  The
header's permalink is recorded back on the incident (as its ``announcement`` link unless
``link`` says otherwise).  With ``url_env`` (an incoming webhook) each event is one message.

Slack answers most errors with HTTP 200 and ``"ok": false``; those are read, and
rate limits and Slack's own outages retried.  Messages stay within Block Kit's limits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from incidentflow.documents._markup import slack as escape
from incidentflow.documents._narrative import describe
from incidentflow.errors import DeliveryFailed
from incidentflow.records import LinkKind

from ._sink import Message, Sent, Sink

if TYPE_CHECKING:
    from incidentflow.incident import Incident

__all__ = ["MAX_BLOCKS", "MAX_HEADER", "MAX_TEXT", "SlackSink", "blocks"]

MAX_BLOCKS = 50
"""The most blocks Slack accepts in one message."""

MAX_TEXT = 3000
"""The most characters Slack accepts in one section's text."""

MAX_HEADER = 150
"""The most characters Slack accepts in a header block."""

_RETRYABLE = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
_HEADER_EVENTS = frozenset(
    {
        "state_changed",
        "priority_changed",
        "role_assigned",
        "role_handed_off",
        "role_released",
        "linked",
        "validated",
    }
)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def blocks(incident: Incident, *, lines: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The header's Block Kit blocks: title, state, priority, roles; then ``lines``.

    Typed text is escaped; every text fits Slack's limits and there are at most 50 blocks.
    """
    roles = (
        "; ".join(f"{r.value}: {', '.join(h)}" for r, h in incident.roles.items() if h) or "none"
    )
    found: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _clip(f"{incident.id}: {escape(incident.title)}", MAX_HEADER),
            },
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*State*\n{incident.state.value}"},
                {"type": "mrkdwn", "text": f"*Priority*\n{incident.priority.value}"},
                {"type": "mrkdwn", "text": _clip(f"*Roles*\n{escape(roles)}", 2000)},
            ],
        },
    ]
    found.extend(
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(line, MAX_TEXT)}}
        for line in lines[: MAX_BLOCKS - len(found)]
    )
    return found


class SlackSink(Sink):
    """Posts to a Slack channel: a thread per incident (bot token) or one message per event."""

    reminders = True

    def send(self, message: Message) -> Sent | None:
        """Post the event (or reminder) to Slack."""
        line = escape(self._line(message))
        if self._secret("token") is None:
            return self._incoming(message, line)
        state = dict(message.state)
        if "ts" not in state:
            return self._open_thread(message, line if message.kind != "declared" else "")
        if message.event is not None and message.event.type in _HEADER_EVENTS:
            self._update_header(message, state)
        reply = self._call(
            message,
            "chat.postMessage",
            {
                "channel": state["channel"],
                "thread_ts": state["ts"],
                "text": _clip(line, MAX_TEXT),
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": _clip(line, MAX_TEXT)}}
                ],
            },
        )
        return Sent(summary=f"replied in thread {state['ts']} ({reply.get('ts', '')})")

    def _line(self, message: Message) -> str:
        if message.reminder is not None:
            return f"{message.incident.id}: {message.reminder.text}"
        assert message.event is not None
        return describe(message.event)

    def _incoming(self, message: Message, line: str) -> Sent:
        url = self._secret("url")
        assert url is not None  # the config requires url_env or token_env
        text = f"{escape(message.incident.id)}: {line}"
        response = self.request(
            "POST",
            url.reveal(),
            json={"text": _clip(text, MAX_TEXT), "blocks": blocks(message.incident, lines=(line,))},
            now=message.now,
        )
        return Sent(summary=f"HTTP {response.status_code} {response.text[:20]}".rstrip())

    def _open_thread(self, message: Message, line: str) -> Sent:
        incident = message.incident
        posted = self._call(
            message,
            "chat.postMessage",
            {
                "channel": self.config.settings["channel"],
                "text": _clip(f"{incident.id}: {escape(incident.title)}", MAX_TEXT),
                "blocks": blocks(incident, lines=(line,) if line else ()),
            },
        )
        state = {"ts": str(posted["ts"]), "channel": str(posted["channel"])}
        links: tuple[tuple[LinkKind, str], ...] = ()
        kind = self.config.link if self.config.link is not None else LinkKind.ANNOUNCEMENT.value
        if kind:
            try:
                found = self._call(
                    message,
                    "chat.getPermalink",
                    {"channel": state["channel"], "message_ts": state["ts"]},
                    verb="GET",
                )
            except DeliveryFailed:
                pass  # the thread exists; a missing link must not post it twice
            else:
                links = ((LinkKind(kind), str(found["permalink"])),)
        return Sent(summary=f"opened thread {state['ts']}", state=state, links=links)

    def _update_header(self, message: Message, state: dict[str, str]) -> None:
        incident = message.incident
        try:
            self._call(
                message,
                "chat.update",
                {
                    "channel": state["channel"],
                    "ts": state["ts"],
                    "text": _clip(f"{incident.id}: {escape(incident.title)}", MAX_TEXT),
                    "blocks": blocks(incident),
                },
            )
        except DeliveryFailed as failure:
            if failure.retryable:
                raise
            # An old header that can no longer be edited does not stop the thread's news.

    def _call(
        self, message: Message, method: str, data: dict[str, Any], *, verb: str = "POST"
    ) -> dict[str, Any]:
        token = self._secret("token")
        assert token is not None
        api = str(self.config.settings.get("api_url", "https://slack.com/api")).rstrip("/")
        headers = {"authorization": f"Bearer {token.reveal()}"}
        if verb == "GET":
            response = self.request(
                "GET", f"{api}/{method}", params=data, headers=headers, now=message.now
            )
        else:
            headers["content-type"] = "application/json; charset=utf-8"
            response = self.request(
                "POST", f"{api}/{method}", json=data, headers=headers, now=message.now
            )
        try:
            answer = response.json()
        except ValueError:
            raise DeliveryFailed(f"{method}: Slack answered with something not JSON") from None
        if not isinstance(answer, dict) or answer.get("ok") is not True:
            error = str(answer.get("error", "unknown")) if isinstance(answer, dict) else "unknown"
            raise DeliveryFailed(
                f"{method}: Slack answered ok:false ({self.redact(error)})",
                retryable=error in _RETRYABLE,
            )
        return answer
