"""The collector paused for one bulk decode, always left as it was found, and a bulk promoted."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings

from incidentflow import DecodeError, Event, Incident, LinkKind, Priority, Role, Verdict, codec
from incidentflow import incident as incident_module
from incidentflow._collector import bulk as bulk_block
from incidentflow._collector import paused, promote
from incidentflow.codec import dump_lines, load_lines
from incidentflow.store import SQLiteStore
from incidentflow.testing import incidents


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


# -- promotion: a bulk of new objects goes to the oldest generation without a pass ------------


def _in_generation(generation: int, *objects: object) -> list[bool]:
    """Whether each object is in the collector's ``generation`` now."""
    there = {id(o) for o in gc.get_objects(generation=generation)}
    return [id(o) in there for o in objects]


def _frozen(thing: object) -> bool:
    """Whether ``thing`` is tracked yet in none of the generations: frozen."""
    return gc.is_tracked(thing) and not any(_in_generation(g, thing)[0] for g in range(3))


@pytest.fixture
def young() -> Iterator[None]:
    """The collector on and its young generations empty, so what a test makes starts young."""
    gc.enable()
    gc.collect()
    yield
    gc.enable()


@pytest.fixture
def bulk(monkeypatch: pytest.MonkeyPatch) -> int:
    """A bulk of four events, so the boundary costs a test nothing to reach."""
    for module in (codec, incident_module):
        monkeypatch.setattr(module, "BULK", 4)
    return 4


def test_promote_moves_every_young_object_to_the_oldest_generation(young: None) -> None:
    made = Incident.declare("INC-1", "Database is down", Priority.P2, actor="ana")
    assert _in_generation(2, made) == [False]
    assert promote() is True
    assert _in_generation(2, made) == [True]
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_promote_inside_a_pause_follows_the_collector_as_it_was_found(young: None) -> None:
    """In a pause the collector is off for the pause's sake only: promotion still pays."""
    with paused():
        made = Incident.declare("INC-1", "Database is down", Priority.P2, actor="ana")
        assert promote() is True
    assert _in_generation(2, made) == [True]
    gc.disable()
    with paused():
        made = Incident.declare("INC-2", "Database is down", Priority.P2, actor="ana")
        assert promote() is False  # the program turned it off: nothing moves
    assert _in_generation(2, made) == [False]
    assert not gc.isenabled()


def test_a_bulk_block_pauses_then_promotes_only_when_it_ends_well(young: None) -> None:
    """``bulk()``: the collector off inside; promotion after a clean end, none after an error."""
    with bulk_block():
        assert not gc.isenabled()
        made = Incident.declare("INC-1", "Database is down", Priority.P2, actor="ana")
    assert _in_generation(2, made) == [True]
    assert gc.isenabled()
    kept: list[Incident] = []

    def failing() -> None:
        with bulk_block():
            kept.append(Incident.declare("INC-2", "Database is down", Priority.P2, actor="ana"))
            raise KeyError("x")

    with pytest.raises(KeyError):
        failing()
    assert _in_generation(2, *kept) == [False]
    assert gc.isenabled()


def test_promote_does_nothing_when_the_collector_is_off(young: None) -> None:
    gc.disable()
    made = Incident.declare("INC-1", "Database is down", Priority.P2, actor="ana")
    assert promote() is False
    assert _in_generation(2, made) == [False]
    assert not gc.isenabled()


def test_promote_never_thaws_what_the_program_froze(young: None) -> None:
    """Unfreezing would put the program's frozen objects back: with any frozen, no promotion."""
    kept = Incident.declare("INC-0", "Database is down", Priority.P2, actor="ana")
    gc.freeze()
    try:
        made = Incident.declare("INC-1", "Database is down", Priority.P2, actor="ana")
        assert promote() is False
        assert _frozen(kept)
        assert _in_generation(2, made) == [False]
    finally:
        gc.unfreeze()


def test_load_lines_promotes_a_bulk_and_only_a_bulk(young: None, bulk: int) -> None:
    """``BULK`` events or more: promoted; one fewer: left young, as any object."""
    history = _history()  # a declaration and three notes: exactly a bulk
    text = dump_lines(history)
    assert len(history) == bulk
    gc.collect()
    below = load_lines(text.split("\n", 1)[1])  # the three notes
    assert _in_generation(2, *below) == [False] * (bulk - 1)
    whole = load_lines(text)
    assert whole == history
    assert _in_generation(2, *whole) == [True] * bulk
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_load_lines_never_promotes_with_the_collector_off_or_objects_frozen(
    young: None, bulk: int
) -> None:
    text = dump_lines(_history())
    gc.disable()
    events = load_lines(text)
    assert _in_generation(2, *events) == [False] * bulk
    assert not gc.isenabled()
    gc.enable()
    kept = Incident.declare("INC-0", "Database is down", Priority.P2, actor="ana")
    gc.freeze()
    try:
        events = load_lines(text)
        assert _frozen(kept)
        assert _in_generation(2, *events) == [False] * bulk
    finally:
        gc.unfreeze()


def test_a_bulk_replay_runs_paused_and_promotes_what_it_built(young: None, bulk: int) -> None:
    """A history of a bulk of events is replayed with the collector off, then promoted."""
    history = _history()
    gc.collect()
    small = Incident.replay(history[:-1])
    assert _in_generation(2, small) == [False]
    watched = _Watched(history)
    replayed = Incident.replay(watched)
    assert list(replayed.history) == history
    assert _in_generation(2, replayed) == [True]
    assert watched.states == [False] * bulk  # every event replayed with the collector off
    assert gc.isenabled()
    events = iter(history)  # an iterator has no length: replayed as any short history is
    assert _in_generation(2, Incident.replay(events)) == [False]


class _Watched(list[Event]):
    """A history noting whether the collector was on as each of its events was read."""

    states: list[bool]

    def __iter__(self) -> Iterator[Event]:
        self.states = []
        for event in super().__iter__():
            self.states.append(gc.isenabled())
            yield event


def test_a_bulk_store_read_promotes_its_events(young: None, bulk: int, tmp_path: Path) -> None:
    """A store reading a long incident's rows reads them as a bulk decode."""
    history = _history()
    with SQLiteStore(tmp_path / "incidents.db") as store:
        store.append("INC-1", history[:-1], expected_version=0)
        gc.collect()
        events = store.events("INC-1")  # one fewer than a bulk
        assert _in_generation(2, *events) == [False] * (bulk - 1)
        store.append("INC-1", history[-1:], expected_version=bulk - 1)
        gc.collect()
        events = store.events("INC-1")
    assert events == history
    assert _in_generation(2, *events) == [True] * bulk
    assert gc.isenabled()


def test_promote_does_nothing_on_a_python_whose_collector_cannot_freeze(
    young: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``gc.freeze`` (not every implementation has it), a bulk is read as any other."""
    from incidentflow import _collector

    monkeypatch.setattr(_collector, "_FREEZING", False)
    made = Incident.declare("INC-1", "Database is down", Priority.P2, actor="ana")
    assert promote() is False
    assert _in_generation(2, made) == [False]
    assert gc.isenabled()


@given(incidents(max_steps=40))
@settings(max_examples=25)
def test_decoding_and_replaying_make_no_reference_cycle(incident: Incident) -> None:
    """What the pause and promotion rest on: a decode and a replay leave no cyclic garbage.

    With the collector off, reference counting alone must free every object the two made once
    they are dropped, so a collection right after finds nothing unreachable.
    """
    text = dump_lines(incident.history)
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        events = load_lines(text)
        replayed = Incident.replay(events, policy=incident.policy)
        assert replayed.history == incident.history
        del events, replayed
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()


def test_bulk_reads_in_many_threads_leave_the_collector_on_and_nothing_frozen(
    young: None, bulk: int
) -> None:
    """Pauses and promotions from four threads at once: each read is whole, and after the last
    one the collector is on and the permanent generation empty, as they were before."""
    text = dump_lines(_history())
    expected = load_lines(text)
    results: list[bool] = []
    lock = threading.Lock()

    def reader() -> None:
        for _ in range(50):
            read = load_lines(text)
            replayed = list(Incident.replay(expected).history)
            with lock:
                results.append(read == expected and replayed == expected)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert results == [True] * 200
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def _worked_history() -> list[Event]:
    """A short incident as many are: staffed, validated, linked, mitigated, one experiment."""
    incident = Incident.declare("INC-2", "Checkout is slow", Priority.P2, actor="ana")
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    incident.validate("p99 at 4 s", actor="bo")
    incident.link(LinkKind.TICKET, "https://jira.example/IM-2", actor="bo")
    incident.mitigate("mitigating", actor="bo")
    incident.note("it started with the 14:02 deploy", actor="bo")
    started = incident.start_experiment(
        hypothesis="the deploy", action="roll back", expected="p99 below 500 ms",
        component="checkout", owner="bo", actor="bo",
    )  # fmt: skip
    incident.post_update("Rolling back.", actor="bo")
    incident.conclude_experiment(
        started.experiment_id, observed="p99 at 300 ms", verdict=Verdict.CONFIRMED, actor="bo"
    )
    incident.verify_recovery("p99 at 300 ms for 15 minutes", actor="bo")
    return list(incident.history)


def _tracked() -> set[int]:
    gc.collect()
    gc.collect()  # a table of tuples is untracked once the tuples in it are
    return {id(o) for o in gc.get_objects()}


def test_a_replayed_incident_leaves_five_objects_for_the_collector_to_walk() -> None:
    """The incident, its log, its links, its experiments and the one experiment: no more.

    Its staffing is a table of tuples of names, which the collector stops tracking, not a
    dict keyed by roles, which it would walk at every full pass for the incident's life.  Six
    such objects an incident instead of five made a full pass of the collector start in the
    middle of a replay of 100,000 small incidents.
    """
    history = _worked_history()
    before = _tracked()
    replayed = [Incident.replay(history) for _ in range(200)]
    now = _tracked()
    added = [o for o in gc.get_objects() if id(o) in now and id(o) not in before]
    assert {Role.INCIDENT_COMMANDER: ("bo",)} == dict(replayed[-1].roles)
    assert len(added) <= 5 * len(replayed) + 20, sorted({type(o).__name__ for o in added})
    assert len(added) >= 5 * len(replayed)  # the count is of what the replays made
    assert not any(type(o) is dict and Role.INCIDENT_COMMANDER in o for o in added)
