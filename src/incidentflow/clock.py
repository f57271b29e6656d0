"""Where "now" comes from: the caller, or an injectable clock.

The library never reads the wall clock behind your back: every command takes ``now=`` and falls
back to the incident's clock.  :class:`SystemClock` is the default; :class:`ManualClock` is for
tests, demos and replays where time must be exact.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock", "require_aware", "require_not_before"]


@runtime_checkable
class Clock(Protocol):
    """Anything with a ``now()`` that returns a timezone-aware datetime."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


def require_aware(value: object, name: str) -> datetime:
    """Return ``value`` if it is a timezone-aware datetime; else raise ``InvalidInput``.

    >>> require_aware(datetime(2026, 3, 1, tzinfo=UTC), "at").year
    2026
    """
    if not isinstance(value, datetime) or value.utcoffset() is None:
        from .errors import InvalidInput

        raise InvalidInput(f"{name} must be a timezone-aware datetime, not {value!r}")
    return value


def require_not_before(value: object, earliest: datetime, name: str, what: str) -> datetime:
    """Return ``value`` if it is aware and not before ``earliest``; else raise ``InvalidInput``.

    Documents and measures are taken as of a moment; one before the record they read would
    describe events that had not happened yet, so it is refused.  ``what`` names ``earliest``.

    >>> last = datetime(2026, 3, 1, 16, 40, tzinfo=UTC)
    >>> require_not_before(datetime(2026, 3, 2, tzinfo=UTC), last, "now", "the last record").day
    2
    """
    moment = require_aware(value, name)
    if moment < earliest:
        from .errors import InvalidInput

        raise InvalidInput(
            f"{name} ({moment.isoformat()}) is before {what} ({earliest.isoformat()}); "
            "ask as of a moment after it"
        )
    return moment


_EARLIEST = datetime.min.replace(tzinfo=UTC)


class SystemClock:
    """The system's UTC time, never going backwards even if the wall clock is stepped back.

    Event stamps must never go backwards within an incident; if NTP steps the wall clock back,
    this clock holds at the last time it gave until the wall clock catches up.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = _EARLIEST

    def now(self) -> datetime:
        """The current UTC time, at least the last time given."""
        current = datetime.now(UTC)
        if current < self._last:
            return self._last
        self._last = current
        return current


class ManualClock:
    """A clock that moves only when told to.

    >>> clock = ManualClock(datetime(2026, 3, 1, 14, 0, tzinfo=UTC))
    >>> clock.advance(minutes=5).isoformat()
    '2026-03-01T14:05:00+00:00'
    """

    __slots__ = ("_now",)

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start, "a clock's start")

    def now(self) -> datetime:
        """The time the clock was last set or advanced to."""
        return self._now

    def advance(self, delta: timedelta | None = None, /, **parts: float) -> datetime:
        """Move forward by ``delta`` or by ``timedelta(**parts)``; return the new time."""
        step = delta if delta is not None else timedelta(**parts)
        if step < timedelta(0):
            from .errors import InvalidInput

            raise InvalidInput(f"a clock only moves forward, not by {step}")
        self._now += step
        return self._now
