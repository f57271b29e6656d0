"""Subscribers hear of every event after it is applied to its incident.

A subscriber is any callable taking ``(incident, event)``: post to chat, open a ticket, page
someone.  A subscriber that raises never corrupts or rolls back the incident — the event is
already applied — and its failure is reported to the ``on_error`` handler given when it
subscribed (by default, logged on the ``incidentflow`` logger with the traceback).

Events are delivered in the order they were applied, to every subscriber, even when a
subscriber issues a command on the incident while it is being told of an event: that new event
is queued and delivered once the current one has reached everyone.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from attrs import frozen

if TYPE_CHECKING:
    from .events import Event
    from .incident import Incident

__all__ = ["DeliveryFailure", "Subscriber", "Subscribers"]

_LOG = logging.getLogger("incidentflow")

Subscriber = Callable[["Incident", "Event"], object]
"""The shape of a subscriber: called with the incident and the event just applied."""


@frozen
class DeliveryFailure:
    """A subscriber raised while being told of an event."""

    subscriber: Subscriber
    incident_id: str
    event: Event
    error: BaseException


def _log_failure(failure: DeliveryFailure) -> None:
    _LOG.error(
        "subscriber %r failed on %s event of %s",
        failure.subscriber,
        failure.event.type,
        failure.incident_id,
        exc_info=(type(failure.error), failure.error, failure.error.__traceback__),
    )


class Subscribers:
    """A list of subscribers, which one incident or many may share.

    >>> hub = Subscribers()
    >>> seen = []
    >>> unsubscribe = hub.subscribe(lambda incident, event: seen.append(event.type))
    >>> len(hub)
    1
    >>> unsubscribe()
    >>> len(hub)
    0
    """

    __slots__ = ("_delivering", "_entries", "_queue")

    def __init__(self) -> None:
        self._entries: list[tuple[Subscriber, Callable[[DeliveryFailure], object]]] = []
        self._queue: deque[tuple[Incident, Event]] | None = None  # made on first delivery
        self._delivering = False

    def __len__(self) -> int:
        return len(self._entries)

    def subscribe(
        self,
        subscriber: Subscriber,
        *,
        on_error: Callable[[DeliveryFailure], object] | None = None,
    ) -> Callable[[], None]:
        """Add ``subscriber``; return a function that removes it again."""
        if not callable(cast("object", subscriber)):  # for callers without a type checker
            from .errors import InvalidInput

            raise InvalidInput(f"a subscriber must be callable, not {subscriber!r}")
        entry = (subscriber, on_error if on_error is not None else _log_failure)
        self._entries.append(entry)

        def unsubscribe() -> None:
            if entry in self._entries:
                self._entries.remove(entry)

        return unsubscribe

    def publish(self, incident: Incident, event: Event) -> None:
        """Tell every subscriber of ``event``, in order, isolating their failures."""
        if not self._entries:
            return
        queue = self._queue
        if queue is None:
            queue = self._queue = deque()
        queue.append((incident, event))
        if self._delivering:
            return
        self._delivering = True
        try:
            while queue:
                current, item = queue.popleft()
                for subscriber, on_error in tuple(self._entries):
                    try:
                        subscriber(current, item)
                    except Exception as exc:
                        failure = DeliveryFailure(subscriber, current.id, item, exc)
                        try:
                            on_error(failure)
                        except Exception:
                            _log_failure(failure)
        finally:
            self._delivering = False
