"""Clocks: a manual one for exact time, and a system one that never goes backwards."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

import incidentflow.clock as clock_module
from incidentflow import Clock, InvalidInput, ManualClock, SystemClock
from incidentflow.testing import aware_datetimes

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


# -- ManualClock -------------------------------------------------------------------------


def test_manual_clock_starts_where_told(clock: ManualClock) -> None:
    """now() is the start time until the clock is advanced, however often it is asked."""
    assert [START, START] == [clock.now(), clock.now()]


def test_advance_by_parts(clock: ManualClock) -> None:
    """advance(minutes=5) moves five minutes on and returns the new time."""
    expected = datetime(2026, 3, 1, 14, 5, tzinfo=UTC)
    assert expected == clock.advance(minutes=5)
    assert expected == clock.now()


def test_advance_by_timedelta(clock: ManualClock) -> None:
    """advance(timedelta) moves by that delta."""
    assert START + timedelta(hours=1, seconds=3) == clock.advance(timedelta(hours=1, seconds=3))


def test_advance_mixed_parts(clock: ManualClock) -> None:
    """Keyword parts combine like timedelta's own arguments."""
    assert START + timedelta(days=1, hours=2, minutes=3) == clock.advance(
        days=1, hours=2, minutes=3
    )


def test_advance_by_zero_is_allowed(clock: ManualClock) -> None:
    """A zero step is not going backwards."""
    assert START == clock.advance(timedelta(0))
    assert START == clock.advance()


@pytest.mark.parametrize(
    "step",
    [{"minutes": -1}, {"microseconds": -1}, {"days": 1, "hours": -25}],
    ids=["minus-a-minute", "minus-a-microsecond", "net-negative"],
)
def test_negative_step_is_refused(clock: ManualClock, step: dict[str, float]) -> None:
    """A clock only moves forward; a refused step leaves it where it was."""
    with pytest.raises(InvalidInput, match="forward"):
        clock.advance(**step)
    assert START == clock.now()


def test_negative_timedelta_is_refused(clock: ManualClock) -> None:
    """advance(timedelta(...)) refuses a negative delta too."""
    with pytest.raises(InvalidInput):
        clock.advance(timedelta(seconds=-1))
    assert START == clock.now()


@pytest.mark.parametrize(
    "start",
    [datetime(2026, 3, 1, 14, 0), date(2026, 3, 1), "2026-03-01T14:00:00+00:00", 0, None],
    ids=["naive", "date", "string", "int", "None"],
)
def test_manual_clock_refuses_a_start_that_is_not_aware(start: Any) -> None:
    """A clock starts only at a timezone-aware datetime."""
    with pytest.raises(InvalidInput, match="timezone-aware"):
        ManualClock(start)


def test_manual_clock_keeps_the_start_offset() -> None:
    """A clock started in a non-UTC offset reports times in that offset."""
    tz = timezone(timedelta(hours=-5))
    clock = ManualClock(datetime(2026, 3, 1, 9, 0, tzinfo=tz))
    assert timedelta(hours=-5) == clock.advance(minutes=1).utcoffset()


@given(
    aware_datetimes(max_value=datetime(2090, 1, 1)),
    st.lists(st.integers(min_value=0, max_value=10**9), max_size=20),
)
def test_manual_clock_sums_its_steps(start: datetime, steps: list[int]) -> None:
    """After any non-negative steps, now() is the start plus their sum, never going back."""
    clock = ManualClock(start)
    seen = [clock.now(), *(clock.advance(microseconds=micro) for micro in steps)]
    assert start + timedelta(microseconds=sum(steps)) == clock.now()
    assert sorted(seen) == seen


def test_clocks_satisfy_the_protocol(clock: ManualClock) -> None:
    """Both clocks are Clocks, and so is any object with a now()."""

    class Fixed:
        def now(self) -> datetime:
            return START

    assert isinstance(clock, Clock)
    assert isinstance(SystemClock(), Clock)
    assert isinstance(Fixed(), Clock)
    assert not isinstance(object(), Clock)


# -- SystemClock -------------------------------------------------------------------------


def test_system_clock_is_aware_utc() -> None:
    """SystemClock.now() is timezone-aware UTC, close to the wall clock."""
    before = datetime.now(UTC)
    now = SystemClock().now()
    after = datetime.now(UTC)
    assert UTC is now.tzinfo
    assert before <= now <= after


def test_system_clock_is_monotonic() -> None:
    """Successive readings never decrease."""
    clock = SystemClock()
    readings = [clock.now() for _ in range(1000)]
    assert sorted(readings) == readings


def test_system_clock_holds_when_behind_its_last_reading() -> None:
    """If the wall clock is behind the last time given, now() returns that time."""
    clock = SystemClock()
    future = datetime.now(UTC) + timedelta(hours=1)
    clock._last = future
    assert [future, future] == [clock.now(), clock.now()]


def test_system_clock_resumes_once_the_wall_clock_catches_up() -> None:
    """A last time in the past does not hold the clock back."""
    clock = SystemClock()
    past = datetime.now(UTC) - timedelta(hours=1)
    clock._last = past
    assert past < clock.now()


class _SteppedWall(datetime):
    """A wall clock that reads a scripted sequence of times, as if NTP stepped it."""

    readings: ClassVar[list[datetime]] = []

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return cls.readings.pop(0)


def test_system_clock_survives_the_wall_clock_stepping_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the wall clock steps back, now() holds at the last time until it catches up."""
    t = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    wall = [t, t + timedelta(seconds=10), t + timedelta(seconds=2), t + timedelta(seconds=11)]
    clock = SystemClock()
    monkeypatch.setattr(clock_module, "datetime", _SteppedWall)
    monkeypatch.setattr(_SteppedWall, "readings", list(wall))
    expected = [t, t + timedelta(seconds=10), t + timedelta(seconds=10), t + timedelta(seconds=11)]
    assert expected == [clock.now() for _ in wall]


def test_each_system_clock_keeps_its_own_last_reading() -> None:
    """Two SystemClocks do not share state: no global mutable clock."""
    a, b = SystemClock(), SystemClock()
    a._last = datetime.now(UTC) + timedelta(days=1)
    assert b.now() < a.now()


# -- the supported range -----------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        clock_module.EARLIEST,
        clock_module.LATEST,
        datetime(1970, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1))),  # EARLIEST, in +01:00
        datetime(2199, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_times_from_earliest_to_latest_are_accepted(moment: datetime) -> None:
    """Both ends of the range are in it, whatever the offset they are written in."""
    assert moment == clock_module.require_aware(moment, "at")


@pytest.mark.parametrize(
    "moment",
    [
        clock_module.EARLIEST - timedelta(microseconds=1),
        clock_module.LATEST + timedelta(microseconds=1),
        datetime(1970, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),  # 1969 in UTC
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        datetime.max.replace(tzinfo=timezone(timedelta(hours=-23))),
    ],
)
def test_times_outside_the_range_are_refused_naming_the_field(moment: datetime) -> None:
    """A year 1 or 9999 is a mistake, refused with the name of what was given."""
    with pytest.raises(InvalidInput, match=r"^due_at .* outside the supported range"):
        clock_module.require_aware(moment, "due_at")


def test_the_documented_range_and_skew() -> None:
    """1970-01-01 to 2200-01-01 UTC; five minutes of clock skew."""
    assert (
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2200, 1, 1, tzinfo=UTC),
        timedelta(minutes=5),
    ) == (clock_module.EARLIEST, clock_module.LATEST, clock_module.MAX_SKEW)


def test_a_stamp_up_to_the_skew_ahead_is_not_the_future() -> None:
    """now + MAX_SKEW is accepted; a microsecond more is refused, naming the field."""
    ahead = START + clock_module.MAX_SKEW
    assert ahead == clock_module.require_not_future(ahead, "recorded_at", now=START)
    with pytest.raises(InvalidInput, match=r"^recorded_at .* is in the future"):
        clock_module.require_not_future(ahead + timedelta(microseconds=1), "recorded_at", now=START)


def test_the_future_is_measured_from_the_wall_clock_by_default() -> None:
    """Without now=, a stamp a day ahead of the real time is refused; one an hour ago is not."""
    real = datetime.now(UTC)
    hour_ago = real - timedelta(hours=1)
    assert hour_ago == clock_module.require_not_future(hour_ago, "recorded_at")
    with pytest.raises(InvalidInput, match="future"):
        clock_module.require_not_future(real + timedelta(days=1), "recorded_at")


def test_a_manual_clock_cannot_start_outside_the_range() -> None:
    """The clock's start is checked like every other time."""
    with pytest.raises(InvalidInput, match="outside the supported range"):
        ManualClock(datetime(2500, 1, 1, tzinfo=UTC))
