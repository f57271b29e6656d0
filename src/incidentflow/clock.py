"""Where "now" comes from: the caller, or an injectable clock.

The library never reads the wall clock behind your back: every command takes ``now=`` and falls
back to the incident's clock.  :class:`SystemClock` is the default; :class:`ManualClock` is for
tests, demos and replays where time must be exact.

Every time the library is given is checked by :func:`require_aware`: it must carry a UTC
offset and fall between :data:`EARLIEST` (1970-01-01 UTC) and :data:`LATEST` (2200-01-01 UTC),
both included.  Times outside that range are typing mistakes (a year 1 or 9999), and the
documents and measures that add durations to them could not be written.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_SKEW",
    "ApproximateTime",
    "Clock",
    "ManualClock",
    "SystemClock",
    "approximate_names",
    "approximately",
    "exact",
    "marked_approximate",
    "require_aware",
    "require_not_before",
    "require_not_future",
]

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""The earliest time the library accepts (1970-01-01 00:00 UTC)."""

LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""The latest time the library accepts (2200-01-01 00:00 UTC)."""

MAX_SKEW = timedelta(minutes=5)
"""How far past the current time a recorded stamp may be: another machine's clock may run fast
by this much, and no more."""


class ApproximateTime(datetime):
    """A time known only roughly ("around 13:40"): a datetime marked approximate.

    Pass one as ``at`` (or ``began``, ``detected``) to any command: the event records that
    time as approximate (see :attr:`Event.approximate <incidentflow.events.Event.approximate>`)
    and documents and measures show it so.  Build one with :func:`approximately`.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"approximately({exact(self)!r})"


def approximately(value: datetime) -> ApproximateTime:
    """``value`` marked approximate (an aware datetime, as :func:`require_aware` checks).

    >>> t = approximately(datetime(2019, 7, 2, 13, 42, tzinfo=UTC))
    >>> t.isoformat(), isinstance(t, ApproximateTime)
    ('2019-07-02T13:42:00+00:00', True)
    """
    value = require_aware(value, "approximately()")
    return ApproximateTime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        value.tzinfo,
        fold=value.fold,
    )


def exact(value: datetime) -> datetime:
    """``value`` as a plain datetime (the same moment, without the approximate mark)."""
    if type(value) is datetime:
        return value
    return datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        value.tzinfo,
        fold=value.fold,
    )


def approximate_names(**times: datetime | None) -> tuple[str, ...]:
    """The names of ``times`` marked approximate, sorted (as an event's ``approximate``)."""
    return tuple(sorted(name for name, t in times.items() if isinstance(t, ApproximateTime)))


def marked_approximate(
    approximate: bool | Iterable[str], **times: datetime | None
) -> dict[str, datetime | None]:
    """``times`` with those ``approximate`` names wrapped in :func:`approximately`.

    This is what a command's ``approximate=`` flag does: ``True`` marks ``at``, ``False``
    marks nothing, and a collection of names marks those times (``{"began", "detected"}``).
    Marking a time that is not given (``None``), or a name that is not one of ``times``, is
    nonsense, refused with :class:`~incidentflow.errors.InvalidInput`.

    >>> t = datetime(2019, 7, 2, 13, 42, tzinfo=UTC)
    >>> marked_approximate(True, at=t) == {"at": approximately(t)}
    True
    >>> marked_approximate(True, at=None)
    Traceback (most recent call last):
    ...
    incidentflow.errors.InvalidInput: approximate=True marks at as approximate, and no at is given
    """
    if approximate is False:
        return times
    if approximate is True:
        names: tuple[str, ...] = ("at",)
    elif isinstance(approximate, str) or not isinstance(approximate, Iterable):
        from .errors import InvalidInput

        raise InvalidInput(
            f"approximate must be True, False or a collection of the names of times "
            f"({', '.join(times)}), not {approximate!r}"
        )
    else:
        names = tuple(approximate)
    marked = dict(times)
    for name in names:
        if name not in times:
            from .errors import InvalidInput

            raise InvalidInput(
                f"approximate names {name!r}, which is not one of the times ({', '.join(times)})"
            )
        value = times[name]
        if value is None:
            from .errors import InvalidInput

            raise InvalidInput(
                f"approximate={approximate!r} marks {name} as approximate, and no {name} is given"
            )
        marked[name] = approximately(require_aware(value, name))
    return marked


@runtime_checkable
class Clock(Protocol):
    """Anything with a ``now()`` that returns a timezone-aware datetime."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


def require_aware(value: object, name: str) -> datetime:
    """Return ``value`` if it is an aware datetime from EARLIEST to LATEST; else ``InvalidInput``.

    >>> require_aware(datetime(2026, 3, 1, tzinfo=UTC), "at").year
    2026
    >>> require_aware(datetime(9999, 12, 31, tzinfo=UTC), "--at")
    Traceback (most recent call last):
    ...
    incidentflow.errors.InvalidInput: --at (9999-12-31T00:00:00+00:00) is outside the ...
    """
    if not isinstance(value, datetime) or value.utcoffset() is None:
        from .errors import InvalidInput

        raise InvalidInput(f"{name} must be a timezone-aware datetime, not {value!r}")
    if not EARLIEST <= value <= LATEST:
        from .errors import InvalidInput

        raise InvalidInput(
            f"{name} ({value.isoformat()}) is outside the supported range, "
            f"{EARLIEST.isoformat()} to {LATEST.isoformat()}"
        )
    return value


def require_not_future(value: datetime, name: str, *, now: datetime | None = None) -> datetime:
    """Return the aware ``value`` unless it is later than ``now`` plus :data:`MAX_SKEW`.

    ``now`` is the wall clock's time by default; a later ``value`` raises ``InvalidInput``.

    A stamp from the future would freeze its incident: stamps never go backwards, so every
    later command would be refused until the wall clock caught up.

    >>> now = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    >>> require_not_future(now + MAX_SKEW, "recorded_at", now=now).minute
    5
    """
    current = datetime.now(UTC) if now is None else now
    if value > current + MAX_SKEW:
        from .errors import InvalidInput

        raise InvalidInput(
            f"{name} ({value.isoformat()}) is in the future: more than "
            f"{int(MAX_SKEW.total_seconds()) // 60} minutes after now ({current.isoformat()})"
        )
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
