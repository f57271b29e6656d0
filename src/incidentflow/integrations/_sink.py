"""What a sink is: told of one delivery at a time, it sends it or raises DeliveryFailed."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from incidentflow.errors import DeliveryFailed
from incidentflow.records import LinkKind

from ._retry import parse_retry_after, retryable_status

if TYPE_CHECKING:
    import httpx

    from incidentflow.events import Event
    from incidentflow.incident import Incident

    from ._config import Secret, SinkConfig

__all__ = ["Message", "Reminder", "Sent", "Sink", "redact"]


@frozen(kw_only=True)
class Reminder:
    """An obligation instance to nudge someone about, as the dispatcher found it due."""

    kind: str
    description: str
    command: str
    owners: tuple[str, ...]
    due_at: datetime | None
    overdue_by_minutes: int

    @property
    def text(self) -> str:
        """One line for a person: ``INC-7: stakeholder update overdue by 12 min``."""
        late = f" overdue by {self.overdue_by_minutes} min" if self.overdue_by_minutes else " due"
        who = f" ({', '.join(self.owners)})" if self.owners else ""
        return f"{self.kind.replace('_', ' ')}{late}: {self.description}{who}"


@frozen(kw_only=True)
class Message:
    """One delivery, as a sink sees it.

    ``key`` is the idempotency key (the same on every attempt); ``incident`` is the incident
    as of ``event`` (or now, for a reminder); ``state`` is what the sink saved for this
    incident on earlier deliveries (a Slack thread's ``ts``, a ticket key).
    """

    key: str
    incident: Incident
    event: Event | None = None
    reminder: Reminder | None = None
    state: Mapping[str, str] = field(factory=dict)
    attempt: int = 1
    now: datetime

    @property
    def kind(self) -> str:
        """The event's type, or ``reminder``."""
        return "reminder" if self.event is None else self.event.type


@frozen(kw_only=True)
class Sent:
    """What a delivery did: a one-line ``summary``, state to keep, links to record back."""

    summary: str = ""
    state: Mapping[str, str] = field(factory=dict)
    links: tuple[tuple[LinkKind, str], ...] = ()


def redact(text: str, secrets: Iterable[Secret | None]) -> str:
    """``text`` with every secret's value replaced by ``[redacted]``.

    >>> from incidentflow.integrations import Secret
    >>> redact("POST https://x/hook/T0K3N failed", [Secret("T0K3N", variable="URL")])
    'POST https://x/hook/[redacted] failed'
    """
    for secret in secrets:
        if secret is not None and secret.reveal():
            text = text.replace(secret.reveal(), "[redacted]")
    return text


class Sink(abc.ABC):
    """A destination for incident events, built from its ``[sinks.NAME]`` table.

    Subclasses say which event types they act on (``handles``; None for all) and implement
    :meth:`send`.  They reach the network only through the injected ``httpx.Client``, with
    the sink's timeout, and never put a secret in what they raise or return.
    """

    handles: frozenset[str] | None = None
    reminders: bool = False
    """Whether the sink type can carry reminders (``reminders = true`` turns them on)."""

    def __init__(
        self,
        config: SinkConfig,
        *,
        client: httpx.Client | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.actor = config.actor
        self._client = client
        self._secrets: dict[str, Secret | None] = {
            role: config.secret(role, environ) for role in config.secrets
        }

    def wants(self, event_type: str) -> bool:
        """Whether this sink type acts on events of ``event_type`` at all."""
        return self.handles is None or event_type in self.handles

    @abc.abstractmethod
    def send(self, message: Message) -> Sent | None:
        """Deliver ``message``; None when there was nothing to send for it.

        Raise :class:`~incidentflow.errors.DeliveryFailed` when it could not be delivered.
        """

    def _secret(self, role: str) -> Secret | None:
        return self._secrets.get(role)

    def redact(self, text: str) -> str:
        """``text`` without any of this sink's secrets in it."""
        return redact(text, self._secrets.values())

    @property
    def client(self) -> httpx.Client:
        """The HTTP client, made on first use when none was injected."""
        if self._client is None:
            from ._http import make_client

            self._client = make_client()
        return self._client

    def request(
        self,
        method: str,
        url: str,
        *,
        now: datetime,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; a network error, a timeout or a non-2xx answer raises.

        Timeouts, network errors, 408/425/429 and 5xx raise a retryable
        :class:`~incidentflow.errors.DeliveryFailed` (with the ``Retry-After`` asked for);
        any other status raises one that is not.
        """
        import httpx

        what = f"{method} {self.redact(url)}"
        try:
            response = self.client.request(
                method,
                url,
                json=json,
                content=content,
                headers=dict(headers or {}),
                params=dict(params) if params else None,
                timeout=self.config.timeout,
            )
        except httpx.TimeoutException as exc:
            raise DeliveryFailed(f"{what}: timed out ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            detail = self.redact(str(exc)) or type(exc).__name__
            raise DeliveryFailed(f"{what}: {type(exc).__name__}: {detail}") from None
        if response.is_success:
            return response
        body = self.redact(response.text[:200])
        raise DeliveryFailed(
            f"{what}: HTTP {response.status_code} {body}".rstrip(),
            retryable=retryable_status(response.status_code),
            retry_after=parse_retry_after(response.headers.get("retry-after"), now=now),
        )
