"""When to try a delivery again: exponential backoff with jitter, and what counts as retryable."""

from __future__ import annotations

import email.utils
import random as _random
from collections.abc import Callable
from datetime import datetime

from attrs import field, frozen

from incidentflow.errors import SinkConfigError

__all__ = ["RetryPolicy", "parse_retry_after", "retryable_status"]


def _positive(instance: object, attribute: object, value: object) -> None:
    name = getattr(attribute, "name", "value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise SinkConfigError(f"retry.{name} must be a positive number, not {value!r}")


def _count(instance: object, attribute: object, value: object) -> None:
    name = getattr(attribute, "name", "value")
    if type(value) is not int or value < 1:
        raise SinkConfigError(f"retry.{name} must be a whole number of at least 1, not {value!r}")


@frozen(kw_only=True)
class RetryPolicy:
    """How long to wait before each new attempt, and how many attempts a delivery gets.

    The pause before attempt ``n + 1`` is drawn between half and all of
    ``min(max_delay, base × factor^(n - 1))`` seconds ("equal jitter"), so dispatchers that
    failed together do not retry together.  A receiver's ``Retry-After`` is honoured instead,
    up to ``max_delay``.  After ``max_attempts`` failed attempts a delivery is dead.

    >>> policy = RetryPolicy(base=1.0, factor=2.0, max_delay=60.0)
    >>> [policy.delay(n, random=lambda: 1.0) for n in (1, 2, 3, 8)]
    [1.0, 2.0, 4.0, 60.0]
    >>> policy.delay(1, retry_after=30.0)
    30.0
    """

    base: float = field(default=1.0, validator=_positive)
    factor: float = field(default=2.0, validator=_positive)
    max_delay: float = field(default=300.0, validator=_positive)
    max_attempts: int = field(default=10, validator=_count)

    def delay(
        self,
        attempts: int,
        *,
        retry_after: float | None = None,
        random: Callable[[], float] = _random.random,
    ) -> float:
        """The pause in seconds after ``attempts`` failed attempts (1 after the first)."""
        if retry_after is not None:
            return min(self.max_delay, max(0.0, retry_after))
        ceiling = min(self.max_delay, self.base * self.factor ** max(0, attempts - 1))
        return ceiling / 2 + random() * ceiling / 2

    def exhausted(self, attempts: int) -> bool:
        """Whether a delivery that failed ``attempts`` times gets no more."""
        return attempts >= self.max_attempts


def retryable_status(status: int) -> bool:
    """Whether an HTTP status is worth retrying: 408, 425, 429 and every 5xx.

    >>> [retryable_status(s) for s in (400, 404, 408, 429, 500, 503)]
    [False, False, True, True, True, True]
    """
    return status in (408, 425, 429) or 500 <= status <= 599


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date); None if absent.

    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    >>> parse_retry_after("120", now=now), parse_retry_after(None, now=now)
    (120.0, None)
    >>> parse_retry_after("Sun, 01 Mar 2026 14:00:30 GMT", now=now)
    30.0
    >>> parse_retry_after("soon", now=now) is None
    True
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - now).total_seconds())
