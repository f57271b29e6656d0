"""The commands: each value checked once, with the very event or refusal of the full path."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidentflow import (
    ActionKind,
    ChangeOutcome,
    DetectionMethod,
    FishboneCategory,
    ImpactLevel,
    Incident,
    InvalidInput,
    LinkKind,
    ManualClock,
    NoteAdded,
    NoteKind,
    Policy,
    Priority,
    Role,
    State,
    Verdict,
    _commands,
    approximately,
)
from incidentflow import incident as incident_module
from incidentflow.clock import EARLIEST, LATEST

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
LATER = START + timedelta(hours=1)


@contextlib.contextmanager
def full_path() -> Iterator[None]:
    """Every command as before the builders: the validated constructor, then admission."""
    plans = dict(_commands._PLANS)
    _commands._PLANS.clear()
    try:
        with (
            mock.patch.object(_commands, "builder", _no_builder),
            mock.patch.object(incident_module, "builder", _no_builder),
        ):
            yield
    finally:
        _commands._PLANS.clear()
        _commands._PLANS.update(plans)


def _no_builder(kind: type[Any]) -> None:
    return None


def _histories() -> dict[str, tuple[Any, ...]]:
    """Incidents at three points of the lifecycle, with something of each kind open."""
    clock = ManualClock(START)
    i = Incident.declare("INC-1", "Checkout is slow", Priority.P2, actor="ana", clock=clock)
    found = {"declared": tuple(i.history)}
    i.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana")
    i.assign(Role.RECORDER, "cy", actor="ana")
    i.validate("p99 at 4 s", actor="ana")
    i.link(LinkKind.TICKET, "https://jira.example/IM-1", actor="ana")
    clock.advance(minutes=5)
    i.mitigate("mitigating", actor="ana")
    i.start_experiment(
        hypothesis="h", action="a", expected="e", component="checkout", owner="ana", actor="ana"
    )
    i.log_change(what="w", where="checkout", revert="r", actor="ana")
    i.add_why("Checkout is slow.", actor="ana")
    i.open_debt("a flag to remove", actor="ana")
    i.add_action("add a test", kind=ActionKind.PREVENTIVE, owner="bo", due_at=LATER, actor="ana")
    i.note("the deploy at 13:58", actor="cy")
    found["mitigating"] = tuple(i.history)
    clock.advance(minutes=5)
    i.conclude_experiment("E1", observed="o", verdict=Verdict.CONFIRMED, actor="ana")
    i.verify_recovery("p99 at 300 ms", actor="ana")
    i.announce_yellow("resolved (yellow)", actor="ana")
    found["yellow"] = tuple(i.history)
    return found


HISTORIES = _histories()

_WRONG = st.sampled_from(
    [
        None,
        "",
        "   ",
        " ana",
        "ana ",
        "a\tb",
        "a\u200bb",
        "e\u0301",
        "Jos\u00e9",
        "\ud800",
        7,
        -1,
        0,
        True,
        1.5,
        float("nan"),
        (),
        ("ana", "ana"),
        ["ana", "bo"],
        datetime(2026, 3, 1, 14, 30),
    ]
)
"""Values that are wrong, or that only the full path's checks can settle, for most arguments."""

_TIMES = st.sampled_from(
    [
        START,
        START + timedelta(minutes=30),
        LATER,
        LATER + timedelta(minutes=4),
        LATER + timedelta(days=1),
        START - timedelta(days=2),
        START - timedelta(days=40),
        datetime(2026, 3, 1, 15, 30, tzinfo=timezone(timedelta(hours=1))),
        approximately(START + timedelta(minutes=20)),
        EARLIEST,
        LATEST,
        EARLIEST - timedelta(microseconds=1),
    ]
)


_NAMES = st.sampled_from(["ana", "bo", "cy", "\u00e9lise"])
_TEXTS = st.sampled_from(["checkout is slow", "x", "caf\u00e9"])
_IDS = st.sampled_from(["E1", "C1", "D1", "A1", "L1", "main", "other", None])

_ARGUMENTS: dict[str, st.SearchStrategy[Any]] = {
    **dict.fromkeys(
        ["actor", "holder", "from_holder", "to_holder", "owner", "made_by", "customer"], _NAMES
    ),
    **dict.fromkeys(
        [
            "evidence",
            "impact",
            "url",
            "reason",
            "hypothesis",
            "action",
            "expected",
            "component",
            "observed",
            "message",
            "what",
            "where",
            "revert",
            "note",
            "answer",
            "description",
            "location",
            "amount",
            "text",
            "value",
        ],
        _TEXTS,
    ),
    **dict.fromkeys(
        ["experiment_id", "change_id", "debt_id", "action_id", "loss_id", "chain", "branches_from"],
        _IDS,
    ),
    "role": st.sampled_from(Role),
    "verdict": st.sampled_from(Verdict),
    "outcome": st.sampled_from(ChangeOutcome),
    "category": st.sampled_from([None, *FishboneCategory]),
    "priority": st.sampled_from(Priority),
    "level": st.sampled_from(ImpactLevel),
    "target": st.sampled_from(State),
    "name": st.sampled_from(["mitigate", "announce_yellow", "reopen", "dismiss", "nowhere"]),
    "no_progress": st.booleans(),
    "root_cause": st.booleans(),
    "after": st.sampled_from([None, 1, 2]),
    "entry": st.sampled_from([None, 1, 2, 12, 99]),
    "field_name": st.sampled_from(["text", "title", "time", "invitees", "priority", "colour"]),
    **dict.fromkeys(["scheduled_for", "due_at", "window_start", "window_end", "at"], st.none()),
    "now": st.sampled_from([None, LATER]),
    "approximate": st.just(False),
    "invitees": st.sampled_from([["ana", "bo"], ("ana",)]),
    "components": st.sampled_from([(), ["checkout"]]),
    "share": st.sampled_from([None, 0, 50.5, 100]),
    "policy": st.sampled_from([Policy(), Policy.permissive()]),
}
"""Arguments of the usual kind, which the builders take."""

_OTHERS: dict[str, st.SearchStrategy[Any]] = {
    **dict.fromkeys(["scheduled_for", "due_at", "window_start", "window_end", "at"], _TIMES),
    "now": _TIMES,
    "approximate": st.sampled_from(
        [True, ("at",), "at", ("due_at",), ("scheduled_for", "at"), ["window_end"]]
    ),
    "invitees": st.sampled_from(["ana", ["ana", " bo"], ["e\u0301"], ["ana", "ana"]]),
    "components": st.sampled_from(["checkout", ("a", "a")]),
    "share": st.sampled_from([101, -1, True, float("nan")]),
}
"""Arguments of other kinds, for the full path: times given or marked, odd collections."""


_KINDS = {
    "link": LinkKind,
    "record_link_absent": LinkKind,
    "note": NoteKind,
    "add_action": ActionKind,
}

COMMANDS = sorted(
    name
    for name, member in vars(_commands.Commands).items()
    if not name.startswith("_") and callable(member)
)


def _strategy(command: str, odd: frozenset[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments for ``command``: every one it needs, some of the others; ``odd`` any value."""
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for parameter in list(inspect.signature(getattr(Incident, command)).parameters.values())[1:]:
        name = parameter.name
        strategy = st.sampled_from(_KINDS[command]) if name == "kind" else _ARGUMENTS[name]
        if name in odd:
            strategy = st.one_of(strategy, _OTHERS.get(name, strategy), _WRONG, st.text(max_size=3))
        chosen = required if parameter.default is inspect.Parameter.empty else optional
        chosen[name] = strategy
    return st.fixed_dictionaries(required, optional=optional)


def _odd(command: str) -> st.SearchStrategy[frozenset[str]]:
    """None of ``command``'s arguments (half the time), or some of them."""
    names = sorted(inspect.signature(getattr(Incident, command)).parameters.keys() - {"self"})
    return st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(names), max_size=3))


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return ("recorded", call())
    except Exception as exc:  # every refusal, whatever its class: the two paths must agree
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("command", COMMANDS)
@settings(max_examples=25)  # per command: 36 commands
@given(st.sampled_from(sorted(HISTORIES)), st.data())
def test_a_command_records_what_the_full_path_records(
    command: str, stage: str, data: st.DataObject
) -> None:
    """Any arguments, good or bad: the same event or the same error, the incident the same."""
    arguments = data.draw(_strategy(command, data.draw(_odd(command))), label="arguments")
    ours = Incident.replay(HISTORIES[stage], clock=ManualClock(LATER))
    theirs = Incident.replay(HISTORIES[stage], clock=ManualClock(LATER))
    expected_outcome = None
    with full_path():
        expected_outcome = _outcome(lambda: getattr(theirs, command)(**arguments))
    actual = _outcome(lambda: getattr(ours, command)(**arguments))
    assert expected_outcome == actual
    assert theirs == ours


_DECLARATIONS: dict[str, st.SearchStrategy[Any]] = {
    "incident_id": st.sampled_from(["INC-1", "INC-\u00e9"]),
    "title": _TEXTS,
    "priority": st.sampled_from(Priority),
    "actor": _NAMES,
    **dict.fromkeys(["at", "at_latest", "began", "detected"], st.none()),
    "approximate": st.just(False),
    "detection": st.sampled_from([None, *DetectionMethod]),
    "detected_by": st.sampled_from(["", "the pager"]),
    "now": st.sampled_from([None, LATER]),
}


@given(st.data(), st.frozensets(st.sampled_from(sorted(_DECLARATIONS)), max_size=3))
def test_a_declaration_records_what_the_full_path_records(
    data: st.DataObject, odd: frozenset[str]
) -> None:
    """Any declaration, good or bad: the same incident or the same error."""
    arguments = data.draw(
        st.fixed_dictionaries(
            {
                name: st.one_of(
                    strategy,
                    _TIMES,
                    _WRONG,
                    st.sampled_from([True, ("began",), ("detected", "at_latest"), "at"]),
                )
                if name in odd
                else strategy
                for name, strategy in _DECLARATIONS.items()
            }
        )
    )
    with full_path():
        expected = _outcome(lambda: Incident.declare(**arguments, clock=ManualClock(LATER)))
    actual = _outcome(lambda: Incident.declare(**arguments, clock=ManualClock(LATER)))
    assert expected == actual


def test_the_usual_command_takes_the_builder_and_the_rest_the_full_path() -> None:
    """No ``at`` nor ``approximate`` and clean values: built once; anything else: validated."""
    incident = Incident.replay(HISTORIES["mitigating"], clock=ManualClock(LATER))
    with mock.patch.object(NoteAdded, "__init__") as constructor:
        incident.note("x", actor="ana")
    assert [] == constructor.call_args_list
    with pytest.raises(InvalidInput, match=r"^NoteAdded\.text must be a non-blank string"):
        incident.note(" ", actor="ana")
    assert "\u00e9lise" == incident.note("x", actor="e\u0301lise").actor  # put in NFC
    at = START + timedelta(minutes=30)
    assert (at, ("occurred_at",)) == (
        incident.note("y", actor="ana", at=at, approximate=True).occurred_at,
        incident.note("z", actor="ana", at=approximately(at)).approximate,
    )


def test_a_time_marked_approximate_by_its_type_takes_the_full_path() -> None:
    """A meeting time given as ``approximately(t)`` is recorded exact, and named approximate."""
    incident = Incident.replay(HISTORIES["mitigating"], clock=ManualClock(LATER))
    meeting = LATER + timedelta(days=2)
    event = incident.add_action(
        "d", kind=ActionKind.CORRECTIVE, owner="bo", due_at=approximately(meeting), actor="ana"
    )
    assert (meeting, datetime, ("due_at",)) == (
        event.due_at,
        type(event.due_at),
        event.approximate,
    )


def test_a_stamp_the_builder_doubts_is_checked_as_before() -> None:
    """A naive or out-of-range ``now`` is refused by name; another offset is kept as given."""
    incident = Incident.replay(HISTORIES["mitigating"], clock=ManualClock(LATER))
    with pytest.raises(InvalidInput, match=r"^now must be a timezone-aware datetime"):
        incident.note("x", actor="ana", now=datetime(2026, 3, 1, 16, 0))
    with pytest.raises(
        InvalidInput, match=r"^now \(2200-01-01T00:00:00.000001\+00:00\) is outside"
    ):
        incident.note("x", actor="ana", now=LATEST + timedelta(microseconds=1))
    offset = LATER.astimezone(timezone(timedelta(hours=2)))
    assert offset.tzinfo == incident.note("x", actor="ana", now=offset).recorded_at.tzinfo
    clock = ManualClock(LATER)
    clock._now = datetime(2026, 3, 1, 16, 0)  # a clock gone wrong
    incident = Incident.replay(HISTORIES["mitigating"], clock=clock)
    with pytest.raises(InvalidInput, match=r"^the clock's now\(\) must be a timezone-aware"):
        incident.note("x", actor="ana")
