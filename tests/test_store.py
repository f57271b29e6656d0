"""The store's behaviour, written once and run against every implementation."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from attrs import evolve
from hypothesis import HealthCheck, given, settings

from incidentflow import (
    AlreadyExists,
    Conflict,
    Declared,
    Event,
    Incident,
    InvalidHistory,
    InvalidInput,
    ManualClock,
    NoteAdded,
    NotFound,
    Policy,
    Priority,
    Role,
    RoleAssigned,
    State,
    StoreError,
    Validated,
    codec,
)
from incidentflow.store import InMemoryStore, SQLiteStore, Store, StoredEvent
from incidentflow.store._base import _Batch, _plan
from incidentflow.testing import incidents
from stores import STORE_KINDS, make_store, reopen

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each store implementation, empty, closed afterwards."""
    made = make_store(request.param, tmp_path, request)
    yield made
    made.close()


def _incident(
    incident_id: str = "INC-1", priority: Priority = Priority.P1, at: datetime = START
) -> Incident:
    clock = ManualClock(at)
    incident = Incident.declare(incident_id, "Database is down", priority, actor="ana", clock=clock)
    incident.assign(Role.LEAD, "ana", actor="ana")
    clock.advance(minutes=1)
    incident.note("restarted db-1", actor="ana")
    return incident


def _saved(store: Store, incident: Incident) -> Incident:
    store.append(incident.id, incident.history, expected_version=0)
    return incident


# -- the recorded policy judges every append -------------------------------------------------


def _stranger_validates(incident: Incident) -> Validated:
    """A validation by someone holding no role: the default policy refuses it."""
    moment = incident.history[-1].recorded_at + timedelta(minutes=1)
    return Validated(actor="zed", occurred_at=moment, recorded_at=moment, evidence="p95 is 4 s")


@pytest.mark.parametrize("batch", ["append", "append_many"])
def test_a_looser_policy_given_to_append_does_not_bend_the_recorded_one(
    store: Store, batch: str
) -> None:
    """An append judged under a permissive policy is still refused by the recorded policy."""
    incident = _saved(store, _incident())
    before = store.events("INC-1")
    event = _stranger_validates(incident)
    permissive = Policy.permissive()
    if batch == "append":
        with pytest.raises(InvalidHistory) as raised:
            store.append("INC-1", [event], expected_version=3, policy=permissive)
    else:
        with pytest.raises(InvalidHistory) as raised:
            store.append_many([("INC-1", [event], 3)], policy=permissive)
    assert (False, 4) == (raised.value.stored, raised.value.version)
    assert "authorized" in raised.value.rules
    assert before == store.events("INC-1")


def test_the_policy_given_to_append_judges_a_history_that_records_none(store: Store) -> None:
    """A legacy history (its declaration records no policy) is judged under ``policy=``."""
    incident = _incident()
    legacy = [evolve(cast("Declared", incident.history[0]), policy=None), *incident.history[1:]]
    store.append("INC-1", legacy, expected_version=0)
    event = _stranger_validates(incident)
    with pytest.raises(InvalidHistory):
        store.append("INC-1", [event], expected_version=3)
    assert 4 == store.append("INC-1", [event], expected_version=3, policy=Policy.permissive())


# -- append and versions -------------------------------------------------------------------


def test_append_returns_the_new_version(store: Store) -> None:
    """Creating an incident with three events makes it version 3."""
    incident = _incident()
    assert 3 == store.append("INC-1", incident.history, expected_version=0)


def test_append_continues_from_the_expected_version(store: Store) -> None:
    """Events appended at the current version extend the incident."""
    incident = _saved(store, _incident())
    event = incident.note("more", actor="ana")
    assert (4, 4) == (store.append("INC-1", [event], expected_version=3), store.version("INC-1"))


def test_version_of_an_unknown_incident_is_zero(store: Store) -> None:
    """An incident never stored has version 0."""
    assert 0 == store.version("INC-404")


@pytest.mark.parametrize("expected", [0, 2, 4])
def test_wrong_expected_version_conflicts_and_writes_nothing(store: Store, expected: int) -> None:
    """A stale or future expected version raises Conflict carrying both versions."""
    incident = _saved(store, _incident())
    event = incident.note("more", actor="ana")
    batch = incident.history if expected == 0 else [event]
    with pytest.raises(Conflict) as caught:
        store.append("INC-1", batch, expected_version=expected)
    error = caught.value
    assert (expected, 3, "INC-1", 3) == (
        error.expected,
        error.actual,
        error.incident_id,
        store.version("INC-1"),
    )
    if expected == 0:
        assert isinstance(error, AlreadyExists)
        assert "INC-1 already exists" in str(error)
    else:
        assert "reload" in str(error)


def test_a_writer_racing_the_rules_check_is_a_conflict_not_a_broken_history(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer appending while the rules are checked is a Conflict, never InvalidHistory.

    Ours is stamped before theirs: judged after their event, it would break stamps_in_order.
    """
    incident = _incident()
    store.append("INC-1", incident.history, expected_version=0)
    other = Incident.replay(incident.history, clock=ManualClock(START + timedelta(minutes=9)))
    ours = incident.note("ours, stamped first", actor="ana")
    theirs = other.note("theirs, stamped later, committed first", actor="ana")
    read = store.events
    raced: list[Event] = []

    def racing(incident_id: str) -> list[Event]:
        if not raced:  # the other writer commits once, between our head read and our replay
            raced.append(theirs)
            store.append(incident_id, [theirs], expected_version=3)
        return read(incident_id)

    monkeypatch.setattr(store, "events", racing)
    store.__dict__.pop("_replayed_cache", None)  # check from the stored history, not a cache
    with pytest.raises(Conflict) as caught:
        store.append("INC-1", [ours], expected_version=3)
    assert (3, 4) == (caught.value.expected, caught.value.actual)
    assert [*incident.history[:3], theirs] == read("INC-1")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_an_append_after_another_store_s_is_a_conflict_though_this_one_appended_last(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A store object's memory of its own last append never hides another writer's since."""
    incident = _incident()
    with make_store(kind, tmp_path, request) as store:
        store.append("INC-1", incident.history, expected_version=0)
        ours = incident.note("ours", actor="ana")
        with reopen(store) as other:
            theirs = other.load("INC-1", clock=ManualClock(START + timedelta(minutes=1))).note(
                "theirs", actor="ana"
            )
            other.append("INC-1", [theirs], expected_version=3)
        with pytest.raises(Conflict) as caught:
            store.append("INC-1", [ours], expected_version=3)
        assert ((3, 4), [*incident.history[:3], theirs]) == (
            (caught.value.expected, caught.value.actual),
            store.events("INC-1"),
        )
        assert 5 == store.append("INC-1", [ours], expected_version=4)


def test_conflict_on_an_unknown_incident_reports_version_zero(store: Store) -> None:
    """Appending at version 2 to an unknown incident conflicts with actual version 0."""
    incident = _incident()
    with pytest.raises(Conflict) as caught:
        store.append("INC-1", incident.history[2:], expected_version=2)
    assert (2, 0) == (caught.value.expected, caught.value.actual)


def test_a_batch_with_a_bad_item_writes_nothing(store: Store) -> None:
    """A batch whose last item is not an event is refused whole."""
    incident = _saved(store, _incident())
    event = incident.note("more", actor="ana")
    with pytest.raises(InvalidInput):
        store.append("INC-1", [event, "not an event"], expected_version=3)  # type: ignore[list-item]
    assert (3, 3) == (store.version("INC-1"), len(list(store.read_all())))


def test_create_needs_a_declaration_first(store: Store) -> None:
    """A new incident must start with its Declared event."""
    incident = _incident()
    with pytest.raises(InvalidInput):
        store.append("INC-1", incident.history[1:], expected_version=0)
    assert 0 == store.version("INC-1")


def test_create_needs_the_declaration_of_the_same_id(store: Store) -> None:
    """A Declared of another incident cannot create this one."""
    incident = _incident("INC-2")
    with pytest.raises(InvalidInput):
        store.append("INC-1", incident.history, expected_version=0)
    assert [] == store.incidents()


def test_declared_is_refused_after_version_one(store: Store) -> None:
    """A second Declared, anywhere after version 1, is refused."""
    incident = _saved(store, _incident())
    with pytest.raises(InvalidInput):
        store.append("INC-1", [incident.history[0]], expected_version=3)
    assert 3 == store.version("INC-1")


@pytest.mark.parametrize(
    ("incident_id", "events", "version"),
    [
        (1, None, 0),
        ("", None, 0),
        ("INC-1", [], 0),
        ("INC-1", "declared", 0),
        ("INC-1", None, -1),
        ("INC-1", None, True),
        ("INC-1", None, 0.0),
        ("INC-1", [object()], 0),
    ],
)
def test_bad_append_arguments_are_invalid_input(
    store: Store, incident_id: Any, events: Any, version: Any
) -> None:
    """Non-str ids, empty or non-event batches, negative, float or bool versions are refused."""
    batch = _incident().history if events is None else events
    with pytest.raises(InvalidInput):
        store.append(incident_id, batch, expected_version=version)
    assert [] == list(store.read_all())


# -- load and events -------------------------------------------------------------------------


def test_load_equals_the_incident_saved(store: Store) -> None:
    """Loading gives back an incident equal to the one the events came from."""
    incident = _saved(store, _incident())
    assert incident == store.load("INC-1")


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(incident=incidents(max_steps=20))
def test_load_equals_any_drawn_incident(tmp_path: Path, incident: Incident) -> None:
    """Any incident the rules allow survives a round trip through each store."""
    for kind in ("memory", "sqlite"):
        path = tmp_path / "drawn.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        with InMemoryStore() if kind == "memory" else SQLiteStore(path) as store:
            store.append(incident.id, incident.history, expected_version=0)
            assert (incident, list(incident.history)) == (
                store.load(incident.id),
                store.events(incident.id),
            )


def test_load_of_an_unknown_incident_is_not_found(store: Store) -> None:
    """Loading an unknown id raises NotFound naming the store, a KeyError and a StoreError."""
    with pytest.raises(NotFound) as caught:
        store.load("INC-404")
    assert ("INC-404", True, True) == (
        caught.value.incident_id,
        isinstance(caught.value, KeyError),
        isinstance(caught.value, StoreError),
    )
    where = getattr(store, "path", getattr(store, "url", "the in-memory store"))
    assert f"no incident 'INC-404' in {where}" == str(caught.value)


def test_events_of_an_unknown_incident_is_not_found(store: Store) -> None:
    """events() of an unknown id raises NotFound."""
    with pytest.raises(NotFound):
        store.events("INC-404")


def test_loaded_incident_can_carry_on(store: Store) -> None:
    """A loaded incident takes new commands whose events append at its version."""
    _saved(store, _incident())
    clock = ManualClock(START + timedelta(minutes=5))
    loaded = store.load("INC-1", clock=clock)
    event = loaded.note("still on it", actor="ana")
    assert 4 == store.append("INC-1", [event], expected_version=3)
    assert loaded == store.load("INC-1")


# -- incidents() -------------------------------------------------------------------------------


def _three(store: Store) -> None:
    _saved(store, _incident("INC-B", Priority.P2, START + timedelta(hours=1)))
    _saved(store, _incident("INC-A", Priority.P1, START + timedelta(hours=1)))
    _saved(store, _incident("INC-C", Priority.P1, START))


def test_incidents_are_ordered_by_declaration_then_id(store: Store) -> None:
    """Summaries come by declared_at, ties broken by id."""
    _three(store)
    assert ["INC-C", "INC-A", "INC-B"] == [s.incident_id for s in store.incidents()]


def test_incidents_filter_by_priority_and_state(store: Store) -> None:
    """priority= and state= keep only the matching incidents."""
    _three(store)
    assert ["INC-C", "INC-A"] == [s.incident_id for s in store.incidents(priority=Priority.P1)]
    assert [] == store.incidents(state=State.MITIGATING)
    assert 3 == len(store.incidents(state=State.DECLARED))


def test_incidents_filter_by_since_and_until(store: Store) -> None:
    """since is inclusive and until exclusive, in any time zone."""
    _three(store)
    later = (START + timedelta(hours=1)).astimezone(datetime.now().astimezone().tzinfo)
    assert ["INC-A", "INC-B"] == [s.incident_id for s in store.incidents(since=later)]
    assert ["INC-C"] == [s.incident_id for s in store.incidents(until=later)]


@pytest.mark.parametrize("name", ["since", "until"])
def test_incidents_refuse_naive_datetimes(store: Store, name: str) -> None:
    """A naive since or until raises InvalidInput."""
    naive: dict[str, Any] = {name: datetime(2026, 3, 1)}
    with pytest.raises(InvalidInput):
        store.incidents(**naive)


def test_incidents_refuse_a_state_that_is_not_a_state(store: Store) -> None:
    """state='declared' (a str) is refused rather than silently matching nothing."""
    with pytest.raises(InvalidInput):
        store.incidents(state="declared")  # type: ignore[arg-type]


def test_summary_follows_state_and_priority(store: Store) -> None:
    """The summary's priority, state, updated_at and version follow appended events."""
    clock = ManualClock(START)
    incident = Incident.declare("INC-1", "Checkout slow", Priority.P3, actor="ana", clock=clock)
    store.append("INC-1", incident.history, expected_version=0)
    clock.advance(minutes=3)
    changed = incident.change_priority(Priority.P2, reason="more customers", actor="ana")
    dismissed = incident.dismiss("not an outage", actor="ana")
    store.append("INC-1", [changed, dismissed], expected_version=1)
    (summary,) = store.incidents()
    expected = ("Checkout slow", Priority.P2, State.DISMISSED, START, START, 3)
    assert expected == (
        summary.title,
        summary.priority,
        summary.state,
        summary.began_at,
        summary.declared_at,
        summary.version,
    )
    assert START + timedelta(minutes=3) == summary.updated_at


# -- read_all ----------------------------------------------------------------------------------


def test_read_all_is_in_global_append_order(store: Store) -> None:
    """read_all yields every event by position, interleaving incidents as appended."""
    one, two = _incident("INC-1"), _incident("INC-2")
    store.append("INC-1", one.history[:1], expected_version=0)
    store.append("INC-2", two.history, expected_version=0)
    store.append("INC-1", one.history[1:], expected_version=1)
    stored = list(store.read_all())
    expected = [("INC-1", 1)] + [("INC-2", v) for v in (1, 2, 3)] + [("INC-1", 2), ("INC-1", 3)]
    assert expected == [(s.incident_id, s.version) for s in stored]
    assert list(range(1, 7)) == [s.position for s in stored]
    assert [*two.history] == [s.event for s in stored[1:4]]


def test_read_all_after_skips_earlier_positions(store: Store) -> None:
    """after=n yields only positions greater than n."""
    _saved(store, _incident())
    assert [3] == [s.position for s in store.read_all(after=2)]
    assert [] == list(store.read_all(after=3))


def test_stored_event_hashes_form_a_chain(store: Store) -> None:
    """Each stored hash is sha256 of the previous hash and the stored line."""
    import hashlib

    from incidentflow import codec

    incident = _saved(store, _incident())
    previous = hashlib.sha256(b"incidentflow:INC-1").hexdigest()
    expected = []
    for event in incident.history:
        previous = hashlib.sha256((previous + codec.dumps(event)).encode()).hexdigest()
        expected.append(previous)
    assert expected == [s.hash for s in store.read_all()]


@pytest.mark.parametrize("after", [-1, True, "0"])
def test_read_all_refuses_a_bad_after(store: Store, after: Any) -> None:
    """after must be a non-negative int."""
    with pytest.raises(InvalidInput):
        store.read_all(after=after)


# -- verify, threads, lifetime -------------------------------------------------------------


def test_verify_finds_nothing_wrong_in_a_good_store(store: Store) -> None:
    """verify() of a store written only through append is empty, per incident and overall."""
    _three(store)
    assert ([], []) == (store.verify(), store.verify("INC-A"))


def test_two_threads_append_to_different_incidents(store: Store) -> None:
    """Appends from two threads to different incidents both land."""
    errors: list[BaseException] = []

    def write(incident_id: str) -> None:
        try:
            incident = _incident(incident_id)
            for index, event in enumerate(incident.history):
                store.append(incident_id, [event], expected_version=index)
        except BaseException as exc:  # pragma: no cover - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"INC-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ([], 3, 3) == (errors, store.version("INC-1"), store.version("INC-2"))


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_context_manager_closes_the_store(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Leaving a with block closes the store; using it afterwards raises a StoreError."""
    with make_store(kind, tmp_path, request) as store:
        _saved(store, _incident())
    with pytest.raises(StoreError):
        store.version("INC-1")


def test_stored_event_is_a_frozen_record() -> None:
    """StoredEvent is immutable."""
    stored = StoredEvent(
        position=1, incident_id="INC-1", version=1, event=_incident().history[0], hash="x"
    )
    with pytest.raises(AttributeError):
        stored.position = 2  # type: ignore[misc]
    assert isinstance(stored.event, Declared)
    assert not isinstance(stored.event, NoteAdded)


def test_append_many_writes_every_batch_in_one_go(store: Store) -> None:
    """Several incidents' batches land together, each at its own new version."""
    first, second = _incident("INC-1"), _incident("INC-2", Priority.P3)
    versions = store.append_many(
        [("INC-1", list(first.history), 0), ("INC-2", list(second.history), 0)]
    )
    assert [first.version, second.version] == versions
    assert list(first.history) == store.events("INC-1")
    assert list(second.history) == store.events("INC-2")
    assert [] == store.append_many([])


def test_append_many_is_all_or_nothing_on_a_conflict(store: Store) -> None:
    """A conflict on the second incident leaves the first unwritten too."""
    first, second = _incident("INC-1"), _incident("INC-2")
    store.append("INC-2", list(second.history), expected_version=0)
    with pytest.raises(Conflict) as info:
        store.append_many([("INC-1", list(first.history), 0), ("INC-2", list(second.history), 0)])
    assert ("INC-2", 0, second.version) == (
        info.value.incident_id,
        info.value.expected,
        info.value.actual,
    )
    assert 0 == store.version("INC-1")
    assert second.version == store.version("INC-2")


@pytest.mark.parametrize(
    "batches",
    [
        "INC-1",
        [("INC-1",)],
        [["INC-1", [], 0]],
        [("INC-1", [], 0)],
        [("INC-1", "events", 0)],
        [("INC-1", [], True)],
    ],
    ids=["text", "short tuple", "list item", "empty batch", "text events", "bool version"],
)
def test_append_many_refuses_malformed_batches(store: Store, batches: Any) -> None:
    """Anything but a sequence of (id, events, version) tuples is InvalidInput; nothing written."""
    with pytest.raises(InvalidInput):
        store.append_many(batches)
    assert [] == store.incidents()


def test_append_many_refuses_one_incident_twice(store: Store) -> None:
    """Naming an incident twice in one call is InvalidInput; nothing is written."""
    incident = _incident("INC-1")
    with pytest.raises(InvalidInput, match="more than once"):
        store.append_many([("INC-1", list(incident.history), 0)] * 2)
    assert 0 == store.version("INC-1")


# -- what append admits ----------------------------------------------------------------------


def _note(**changes: Any) -> NoteAdded:
    fields: dict[str, Any] = {
        "actor": "ana",
        "occurred_at": START + timedelta(minutes=2),
        "recorded_at": START + timedelta(minutes=2),
        "text": "more",
        **changes,
    }
    return NoteAdded(**fields)


BAD_EVENTS = {
    "an actor with a zero-width space": (_note(actor="ana\u200b"), "U+200B"),
    "an actor with surrounding spaces": (_note(actor=" ana "), "white space"),
    "an actor not in NFC": (_note(actor="Jose\u0301"), "NFC"),
    "a year-9999 occurred_at": (
        _note(occurred_at=datetime(9999, 12, 31, tzinfo=UTC)),
        "NoteAdded.occurred_at",
    ),
    "a year-1 recorded_at": (_note(recorded_at=datetime(1, 1, 1, tzinfo=UTC)), "recorded_at"),
    "a recorded_at from the future": (
        _note(recorded_at=datetime.now(UTC) + timedelta(hours=1)),
        "in the future",
    ),
    "a lone surrogate in the text": (_note(text="bad \udcff byte"), "surrogate"),
}


@pytest.mark.parametrize("name", sorted(BAD_EVENTS))
def test_append_refuses_events_no_command_could_make(store: Store, name: str) -> None:
    """Bad names, times out of range or ahead of now, unencodable text: refused, nothing written."""
    _saved(store, _incident())
    event, words = BAD_EVENTS[name]
    with pytest.raises(InvalidInput, match=re.escape(words)) as raised:
        store.append("INC-1", [event], expected_version=3)
    assert str(raised.value).startswith("events[0]: ")
    assert (3, 3) == (store.version("INC-1"), len(list(store.read_all())))


@pytest.mark.parametrize(
    ("incident_id", "expected_version", "words"),
    [
        ("", 3, "incident_id must be a non-blank string"),
        ("   ", 3, "incident_id must be a non-blank string"),
        (7, 3, "incident_id must be a non-blank string"),
        ("INC-1", -1, "expected_version must be a non-negative int"),
        ("INC-1", True, "expected_version must be a non-negative int"),
        ("INC-1", 3.0, "expected_version must be a non-negative int"),
    ],
)
def test_append_refuses_a_blank_id_or_a_negative_version_writing_nothing(
    store: Store, incident_id: object, expected_version: object, words: str
) -> None:
    """The id and the expected version are checked before anything else, for every store."""
    _saved(store, _incident())
    note = _note()
    with pytest.raises(InvalidInput, match=re.escape(words)):
        store.append(incident_id, [note], expected_version=expected_version)  # type: ignore[arg-type]
    assert (3, 3) == (store.version("INC-1"), len(list(store.read_all())))


def test_append_accepts_a_stamp_within_the_skew(store: Store) -> None:
    """A writer whose clock runs a minute fast is not refused."""
    _saved(store, _incident())
    ahead = datetime.now(UTC) + timedelta(minutes=1)
    assert 4 == store.append("INC-1", [_note(recorded_at=ahead)], expected_version=3)


def test_a_declaration_with_a_look_alike_id_is_refused(store: Store) -> None:
    """'INC-1 ' cannot be created beside 'INC-1'."""
    event = Declared(
        actor="ana", occurred_at=START, recorded_at=START, incident_id="INC-1 ", title="t",
        priority=Priority.P1,
    )  # fmt: skip
    with pytest.raises(InvalidInput, match="white space"):
        store.append("INC-1 ", [event], expected_version=0)
    assert [] == store.incidents()


def _written_before_the_rules(store: Store, incident_id: str, events: list[Event]) -> None:
    """Store ``events`` as an earlier release did: without the checks append makes now."""
    batch = _Batch(incident_id, events, [codec.dumps(event) for event in events], 0)
    links = store._links
    store._append_all([(batch, _plan(batch, links.genesis(incident_id), None, links))])


def test_histories_stored_before_the_rules_keep_loading(store: Store) -> None:
    """Old names with spaces or zero-width characters, old far-future stamps: still read."""
    odd = " ana\u200b"
    late = datetime(9999, 1, 1, tzinfo=UTC)
    events: list[Event] = [
        Declared(
            actor=odd, occurred_at=START, recorded_at=START, incident_id="INC-9 ", title="t",
            priority=Priority.P3,
        ),
        RoleAssigned(actor=odd, occurred_at=START, recorded_at=START,
                     role=Role.INCIDENT_COMMANDER, holder=odd),
        NoteAdded(actor=odd, occurred_at=late, recorded_at=late, text="from the future"),
    ]  # fmt: skip
    _written_before_the_rules(store, "INC-9 ", events)
    assert events == store.events("INC-9 ")
    loaded = store.load("INC-9 ")
    assert ((odd,), 3) == (loaded.holders(Role.INCIDENT_COMMANDER), loaded.version)
    assert [] == store.verify()
    assert events == [stored.event for stored in store.read_all()]


# -- save: what the incident recorded since it was loaded ------------------------------------


def test_save_writes_a_new_incident_whole(store: Store) -> None:
    """A declared incident never saved is appended whole, from version 0."""
    incident = _incident()
    assert 3 == store.save(incident)
    assert list(incident.history) == store.events("INC-1")


def test_save_appends_what_was_recorded_since_the_load(store: Store) -> None:
    """Commands issued on a loaded incident are appended at the version it was loaded at."""
    _saved(store, _incident())
    loaded = store.load("INC-1", clock=ManualClock(START + timedelta(minutes=5)))
    loaded.note("still on it", actor="ana")
    loaded.note("and still", actor="ana")
    assert 5 == store.save(loaded)
    assert loaded == store.load("INC-1")


def test_save_with_nothing_new_is_a_no_op(store: Store) -> None:
    """Saving twice, or saving what was just loaded, writes nothing and returns the version."""
    incident = _incident()
    assert (3, 3) == (store.save(incident), store.save(incident))
    assert 3 == store.save(store.load("INC-1"))
    assert 3 == store.version("INC-1")


def test_save_after_another_writer_conflicts_and_writes_nothing(store: Store) -> None:
    """Two loads of one version: the second save conflicts, and the store keeps the first."""
    _saved(store, _incident())
    clock = ManualClock(START + timedelta(minutes=5))
    first, second = store.load("INC-1", clock=clock), store.load("INC-1", clock=clock)
    first.note("first", actor="ana")
    second.note("second", actor="ana")
    store.save(first)
    with pytest.raises(Conflict):
        store.save(second)
    assert first == store.load("INC-1")


def test_save_refuses_what_is_not_an_incident(store: Store) -> None:
    """Anything but an Incident is InvalidInput."""
    with pytest.raises(InvalidInput, match="save takes an Incident"):
        store.save("INC-1")  # type: ignore[arg-type]
