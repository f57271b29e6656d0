"""The collector paused for one bulk decode, and always left as it was found."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from incidentflow import DecodeError, Event, Incident, Priority, codec
from incidentflow._collector import paused
from incidentflow.codec import dump_lines, load_lines


def _history() -> list[Event]:
    incident = Incident.declare("INC-1", "Database is down", Priority.P2, actor="ana")
    for number in range(3):
        incident.note(f"note {number}", actor="ana")
    return list(incident.history)


@pytest.fixture(params=[True, False], ids=["collector on", "collector off"])
def collector(request: pytest.FixtureRequest) -> Iterator[bool]:
    """The collector switched on or off for the test, and back on after it."""
    if request.param:
        gc.enable()
    else:
        gc.disable()
    try:
        yield request.param
    finally:
        gc.enable()


def test_a_pause_turns_the_collector_off_and_back_as_it_was(collector: bool) -> None:
    """Inside, no automatic collection; after, the collector as it was before."""
    with paused():
        assert not gc.isenabled()
    assert collector == gc.isenabled()


def test_a_pause_ended_by_an_error_leaves_the_collector_as_it_was(collector: bool) -> None:
    """An exception out of the block still ends the pause."""
    with pytest.raises(KeyError), paused():
        raise KeyError("x")
    assert collector == gc.isenabled()


def test_a_nested_pause_does_not_end_the_outer_one(collector: bool) -> None:
    """Only the outermost pause turns the collector back on."""
    with paused():
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert collector == gc.isenabled()


def test_overlapping_pauses_in_two_threads_end_with_the_last(collector: bool) -> None:
    """A pause that began first and ends first leaves the collector off for the other."""
    entered, first_done, second_done = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def second() -> None:
        with paused():
            entered.set()
            first_done.wait(timeout=10)
            seen.append(gc.isenabled())  # the first pause is over, this one is not
        second_done.set()

    thread = threading.Thread(target=second)
    with paused():
        thread.start()
        assert entered.wait(timeout=10)
    first_done.set()
    assert second_done.wait(timeout=10)
    thread.join(timeout=10)
    assert ([False], collector) == (seen, gc.isenabled())


def test_load_lines_decodes_with_the_collector_paused(collector: bool) -> None:
    """The lines are read while the collector is off, and it is as it was after."""
    history = _history()
    states: list[bool] = []

    def lines() -> Iterator[str]:
        for line in dump_lines(history).split("\n"):
            states.append(gc.isenabled())
            yield line

    assert history == load_lines(lines())
    assert ({False}, collector) == (set(states), gc.isenabled())


def test_load_lines_failing_half_way_leaves_the_collector_as_it_was(collector: bool) -> None:
    """A bad line, or an error from the lines given, ends the pause as a good history does."""
    text = dump_lines(_history())
    with pytest.raises(DecodeError, match="line 2"):
        load_lines(text.replace("\n", "\n{\n", 1))
    assert collector == gc.isenabled()

    def failing() -> Iterator[str]:
        yield text.split("\n")[0]
        raise OSError("the disk went away")

    with pytest.raises(OSError, match="went away"):
        codec.load_lines(failing())
    assert collector == gc.isenabled()
