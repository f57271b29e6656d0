"""Admission of new events: the checks hold whatever form the event classes' annotations take."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidentflow import ActionKind, ImpactLevel, InvalidInput, NoteKind, Priority
from incidentflow import events as ev
from incidentflow._admission import _checks, admit, builder
from incidentflow.clock import EARLIEST, LATEST, approximately
from incidentflow.testing import aware_datetimes, events

# Run in a fresh interpreter: there the event classes' annotations are still strings (nothing
# has resolved them yet, as structuring through cattrs does), so admission must read both forms.
FRESH = """
import json
from datetime import UTC, datetime

import attrs

from incidentflow import InvalidInput
from incidentflow import events as ev
from incidentflow._admission import admit

found = {"annotation": attrs.fields(ev.PostMortemScheduled).invitees.type}
start = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
meeting = {"actor": "ana", "occurred_at": start, "recorded_at": start, "scheduled_for": start}
found["invitees"] = list(admit(ev.PostMortemScheduled(**meeting, invitees=("ana", "bo"))).invitees)
for name, event in {
    "long ago": ev.NoteAdded(
        actor="ana", text="x", occurred_at=datetime(1900, 1, 1, tzinfo=UTC), recorded_at=start
    ),
    "twice": ev.PostMortemScheduled(**meeting, invitees=("\\u00e9", "e\\u0301")),
}.items():
    try:
        admit(event)
    except InvalidInput as exc:
        found[name] = str(exc)
print(json.dumps(found))
"""


def test_admission_reads_annotations_not_yet_resolved() -> None:
    """In a fresh process, invitees are checked as names and times as supported times."""
    done = subprocess.run(
        [sys.executable, "-c", FRESH], capture_output=True, text=True, check=True, timeout=120
    )
    found = json.loads(done.stdout)
    assert {
        "annotation": "tuple[str, ...]",
        "invitees": ["ana", "bo"],
        "long ago": found.get("long ago", "accepted"),
        "twice": found.get("twice", "accepted"),
    } == found
    assert "NoteAdded.occurred_at (1900-01-01" in found["long ago"]
    assert "names someone twice" in found["twice"]


# The same checks whichever form the annotations take: run in a fresh interpreter, with the
# annotations left as strings or resolved to types first (as cattrs does when it structures).
PROBE = """
import json
import sys
from datetime import UTC, datetime

import attrs

from incidentflow import ActionKind, InvalidInput
from incidentflow import events as ev
from incidentflow._admission import admit

if sys.argv[1] == "resolved":
    for kind in ev.EVENT_TYPES.values():
        attrs.resolve_types(kind)
start = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
long_ago = datetime(1900, 1, 1, tzinfo=UTC)
common = {"actor": "ana", "occurred_at": start, "recorded_at": start}
action = {**common, "action_id": "A1", "description": "d", "kind": ActionKind.CORRECTIVE}
found = {"form": str(attrs.fields(ev.ActionAdded).due_at.type)}
for name, event in {
    "a time out of range": ev.NoteAdded(**{**common, "occurred_at": long_ago}, text="x"),
    "an optional time out of range": ev.ActionAdded(**action, owner="bo", due_at=long_ago),
    "no optional time nor name": ev.ActionAdded(**action, owner=None, due_at=None),
    "an optional name hiding a character": ev.ActionAdded(**action, owner="b\u200bo", due_at=start),
    "names": ev.PostMortemScheduled(**common, scheduled_for=start, invitees=("ana", "bo")),
}.items():
    try:
        admit(event)
    except InvalidInput as exc:
        found[name] = str(exc).split(" ")[0]
    else:
        found[name] = "admitted"
print(json.dumps(found))
"""


@pytest.mark.parametrize("form", ["strings", "resolved"])
def test_admission_checks_every_kind_of_field_in_either_annotation_form(form: str) -> None:
    """Times, optional times, names and optional names are checked, resolved or not."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, form], capture_output=True, text=True, check=True, timeout=120
    )
    found = json.loads(done.stdout)
    assert form == ("strings" if found.pop("form") == "datetime | None" else "resolved")
    assert {
        "a time out of range": "NoteAdded.occurred_at",
        "an optional time out of range": "ActionAdded.due_at",
        "no optional time nor name": "admitted",
        "an optional name hiding a character": "ActionAdded.owner",
        "names": "admitted",
    } == found


# -- the compiled admission against the plain loop over the fields -----------------------------

_ANY_TEXT = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["ana", " ana", "ana ", "   ", "", "a\u200bb", "e\u0301", "\u00e9", "\ud800"]),
)
_ANY_TIME = st.one_of(
    aware_datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.datetimes(),
    st.sampled_from([EARLIEST, LATEST, EARLIEST - timedelta(microseconds=1)]),
)


def _by_the_loop(event: ev.Event, normalize: bool, where: str) -> ev.Event:
    """Admission as the plain loop over the fields does it: each field's own check, in order."""
    changes = {}
    for name, check, label in _checks(type(event)):
        value = getattr(event, name)
        kept = check(value, where + label)
        if kept != value:
            if not normalize:
                raise InvalidInput(f"{where}{label} {value!r} is not in Unicode NFC form")
            changes[name] = kept
    return attrs.evolve(event, **changes) if changes else event


def _outcome(admission: Callable[[], ev.Event]) -> object:
    try:
        return admission()
    except InvalidInput as exc:
        return ("refused", str(exc))


@given(
    events(),
    st.data(),
    st.booleans(),
    st.sampled_from(["", "line 3: "]),
)
def test_compiled_admission_decides_as_the_checks_of_each_field(
    event: ev.Event, data: st.DataObject, normalize: bool, where: str
) -> None:
    """Any value in any field, even one the event class lets through: the same result or error."""
    field = data.draw(st.sampled_from(attrs.fields(type(event))))
    value = data.draw(_ANY_TIME if "datetime" in str(field.type) else _ANY_TEXT)
    with contextlib.suppress(InvalidInput, TypeError, ValueError):  # else admit it as drawn
        changed: dict[str, Any] = {field.name: value}
        event = attrs.evolve(event, **changed)
    expected = _outcome(lambda: _by_the_loop(event, normalize, where))
    actual = _outcome(lambda: admit(event, normalize=normalize, where=where))
    assert expected == actual


def test_a_name_not_in_nfc_is_refused_unless_normalized() -> None:
    """Without ``normalize`` a name in another form is refused; with it, put in NFC."""
    start = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    note = ev.NoteAdded(actor="e\u0301", text="x", occurred_at=start, recorded_at=start)
    with pytest.raises(InvalidInput) as refused:
        admit(note, where="line 3: ")
    assert "line 3: NoteAdded.actor 'e\u0301' is not in Unicode NFC form" == str(refused.value)
    assert "\u00e9" == admit(note, normalize=True).actor


def test_text_that_cannot_be_stored_is_refused() -> None:
    """A lone surrogate in free text is refused, naming the field."""
    start = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    note = ev.NoteAdded(actor="ana", text="a\ud800", occurred_at=start, recorded_at=start)
    with pytest.raises(InvalidInput, match=r"^NoteAdded\.text holds U\+D800, a lone surrogate"):
        admit(note)


def test_a_stamp_up_to_five_minutes_after_now_is_admitted_and_no_later() -> None:
    """``now`` plus five minutes exactly passes; a microsecond more is refused, saying where."""
    now = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    edge = now + timedelta(minutes=5)

    def note(recorded: datetime) -> ev.NoteAdded:
        return ev.NoteAdded(actor="ana", text="x", occurred_at=now, recorded_at=recorded)

    assert note(edge) == admit(note(edge), now=now)
    late = note(edge + timedelta(microseconds=1))
    assert late == admit(late)  # no ``now``: no check of the future
    with pytest.raises(
        InvalidInput, match=r"^events\[2\]: NoteAdded\.recorded_at .* in the future"
    ):
        admit(late, now=now, where="events[2]: ")


# -- the commands' builders: each value checked once -----------------------------------------

_START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)

_HOSTILE = st.sampled_from(
    [
        "",
        " ",
        " ana",
        "ana ",
        "a\tb",
        "a\x7fb",
        "a\u200bb",
        "e\u0301",
        "\u00e9",
        "\ud800",
        "ana",
        None,
        0,
        1,
        -1,
        True,
        1.5,
        float("nan"),
        (),
        ("ana",),
        ("ana", "ana"),
        ("ana", " bo"),
        ("e\u0301",),
        ["ana"],
        ("occurred_at",),
        EARLIEST - timedelta(microseconds=1),
        LATEST + timedelta(microseconds=1),
        datetime(2026, 3, 1, 14, 0),
        datetime(2026, 3, 1, 15, 0, tzinfo=timezone(timedelta(hours=1))),
        approximately(_START),
    ]
)
"""Values any field may be given, most of them wrong for some field or in some way."""


def _full_path(
    kind: type[ev.Event], occurred: Any, recorded: Any, fields: dict[str, Any]
) -> object:
    """The event the validated constructor builds and admission returns, or the refusal."""
    try:
        built = kind(occurred_at=occurred, recorded_at=recorded, **fields)
        return admit(built, normalize=True)
    except (InvalidInput, TypeError) as exc:
        return ("refused", str(exc))


def _same(expected: object, actual: ev.Event) -> bool:
    """Equal, and every field's value of the same type (``1 == True``, ``1 == 1.0``)."""
    return expected == actual and all(
        type(getattr(expected, f.name)) is type(getattr(actual, f.name))
        for f in attrs.fields(type(actual))
    )


@given(events(), st.data())
def test_a_builder_gives_the_full_path_s_event_or_leaves_it_to_the_full_path(
    event: ev.Event, data: st.DataObject
) -> None:
    """Any value in any field, good or bad: the builder's event is the full path's, or None."""
    kind = type(event)
    fields = {
        f.name: getattr(event, f.name)
        for f in attrs.fields(kind)
        if f.name not in ("occurred_at", "recorded_at", "approximate")
    }
    for name in data.draw(st.lists(st.sampled_from(sorted(fields)), max_size=3)):
        fields[name] = data.draw(_HOSTILE)
    # Any value, a hostile one too: passed as drawn to the builder and to the constructor.
    occurred: Any = data.draw(st.one_of(st.just(event.recorded_at), _HOSTILE, _ANY_TIME))
    recorded: Any = data.draw(st.one_of(st.just(event.recorded_at), _HOSTILE, _ANY_TIME))
    build = builder(kind)
    assert build is not None
    actual = build(occurred, recorded, dict(fields))
    if actual is not None:
        assert _same(_full_path(kind, occurred, recorded, fields), actual)


def test_every_event_class_has_a_builder() -> None:
    """The commands of every event class, the declaration's too, check each value once."""
    assert [] == [k.__name__ for k in ev.EVENT_TYPES.values() if builder(k) is None]


def test_a_builder_is_generated_once_per_class() -> None:
    """Asking again gives the same function: none is generated per command."""
    assert builder(ev.NoteAdded) is builder(ev.NoteAdded)


def _note(**changed: object) -> dict[str, object]:
    return {"actor": "ana", "text": "checkout is slow", "kind": NoteKind.NOTE, **changed}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("actor", 7),  # not a string
        ("actor", "Jos\u00e9"),  # valid, but not ASCII: the full path decides
        ("actor", "ana\tbo"),  # not printable
        ("actor", ""),
        ("actor", " ana"),  # white space at either end
        ("actor", "ana "),
        ("text", 7),
        ("text", "caf\u00e9"),  # not ASCII: admission checks it can be stored
        ("text", "   "),  # blank
        ("kind", "note"),  # not the enum
        ("kind", None),  # a member is required: None is for optional ones
    ],
)
def test_a_builder_leaves_each_doubtful_value_to_the_full_path(name: str, value: object) -> None:
    """Each part of a field's test is needed: a value failing just that one builds nothing."""
    build = builder(ev.NoteAdded)
    assert build is not None
    assert None is build(_START, _START, _note(**{name: value}))
    assert isinstance(build(_START, _START, _note()), ev.NoteAdded)


@pytest.mark.parametrize(
    ("occurred", "recorded"),
    [
        (_START, datetime(2026, 3, 1, 14, 0)),  # naive
        (_START, datetime(2026, 3, 1, 15, 0, tzinfo=timezone(timedelta(hours=1)))),  # not UTC
        (_START, EARLIEST - timedelta(microseconds=1)),  # out of range
        (_START, LATEST + timedelta(microseconds=1)),
        (_START, approximately(_START)),  # marked: the full path records it so
        (datetime(2026, 3, 1, 14, 0), _START),
        (datetime(2026, 3, 1, 15, 0, tzinfo=timezone(timedelta(hours=1))), _START),
        (EARLIEST - timedelta(microseconds=1), _START),
        (approximately(_START), _START),
    ],
)
def test_a_builder_leaves_doubtful_times_to_the_full_path(
    occurred: datetime, recorded: datetime
) -> None:
    """Times: UTC datetimes (not marked approximate) within the supported range, or nothing."""
    build = builder(ev.NoteAdded)
    assert build is not None
    assert None is build(occurred, recorded, _note())


def test_a_builder_fills_the_times_and_nothing_approximate() -> None:
    """``occurred_at`` and ``recorded_at`` as given, ``approximate`` empty, each value kept."""
    build = builder(ev.NoteAdded)
    assert build is not None
    earlier = _START - timedelta(minutes=5)
    expected = ev.NoteAdded(
        actor="ana", occurred_at=earlier, recorded_at=_START, text="checkout is slow"
    )
    assert expected == build(earlier, _START, _note())
    assert (EARLIEST, LATEST) == (
        build(EARLIEST, LATEST, _note()).occurred_at,  # type: ignore[union-attr]
        build(EARLIEST, LATEST, _note()).recorded_at,  # type: ignore[union-attr]
    )


_MEETING = {"actor": "ana", "scheduled_for": _START, "invitees": ("ana", "bo")}
_ACTION = {
    "actor": "ana",
    "action_id": "A1",
    "description": "add a test",
    "owner": "bo",
    "due_at": _START,
    "kind": ActionKind.CORRECTIVE,
}


@pytest.mark.parametrize(
    ("kind", "fields", "built"),
    [
        (ev.PostMortemScheduled, _MEETING, True),
        (ev.PostMortemScheduled, {**_MEETING, "invitees": ("ana", "ana")}, False),
        (ev.PostMortemScheduled, {**_MEETING, "invitees": ()}, False),
        (ev.PostMortemScheduled, {**_MEETING, "invitees": ["ana"]}, False),
        (ev.PostMortemScheduled, {**_MEETING, "invitees": ("ana", "bo ")}, False),
        (ev.PostMortemScheduled, {**_MEETING, "scheduled_for": approximately(_START)}, False),
        (ev.ActionAdded, _ACTION, True),
        (ev.ActionAdded, {**_ACTION, "owner": None, "due_at": None}, True),
        (ev.ActionAdded, {**_ACTION, "owner": " bo"}, False),
        (ev.ActionAdded, {**_ACTION, "due_at": datetime(2026, 3, 1)}, False),
        (ev.ActionAdded, {**_ACTION, "kind": "corrective"}, False),
        (ev.FactorAdded, {"actor": "ana", "description": "d", "category": None}, True),
        (ev.FactorAdded, {"actor": "ana", "description": "d", "category": "people"}, False),
        (ev.ReportStarted, {"actor": "ana", "location": ""}, True),
        (ev.ReportStarted, {"actor": "ana", "location": "caf\u00e9"}, False),
        (ev.ReportStarted, {"actor": "ana", "location": None}, False),
        (ev.WhyAnswered, {"actor": "ana", "chain": "main", "answer": "a", "depth": 1}, True),
        (ev.WhyAnswered, {"actor": "ana", "chain": "main", "answer": "a", "depth": 0}, False),
        (ev.WhyAnswered, {"actor": "ana", "chain": "main", "answer": "a", "depth": True}, False),
        (ev.WhyAnswered, {"actor": "ana", "chain": "b", "answer": "a", "branches_from": "m"}, True),
        (
            ev.WhyAnswered,
            {"actor": "ana", "chain": "b", "answer": "a", "branches_from": " "},
            False,
        ),
        (ev.WhyAnswered, {"actor": "ana", "chain": "main", "answer": "a", "root_cause": 1}, False),
        (ev.Retracted, {"actor": "ana", "entry": 1, "reason": "wrong"}, True),
        (ev.Retracted, {"actor": "ana", "entry": 0, "reason": "wrong"}, False),
        (ev.Retracted, {"actor": "ana", "entry": 1.0, "reason": "wrong"}, False),
        (ev.ImpactChanged, {"actor": "ana", "level": ImpactLevel.MAJOR_OUTAGE, "share": 100}, True),
        (ev.ImpactChanged, {"actor": "ana", "level": ImpactLevel.MAJOR_OUTAGE, "share": 0.5}, True),
        (
            ev.ImpactChanged,
            {"actor": "ana", "level": ImpactLevel.MAJOR_OUTAGE, "share": 101},
            False,
        ),
        (ev.ImpactChanged, {"actor": "ana", "level": ImpactLevel.MAJOR_OUTAGE, "share": -1}, False),
        (
            ev.ImpactChanged,
            {"actor": "ana", "level": ImpactLevel.MAJOR_OUTAGE, "share": True},
            False,
        ),
        (
            ev.ImpactChanged,
            {"actor": "ana", "level": ImpactLevel.MAJOR_OUTAGE, "components": ("a",)},
            True,
        ),
        (
            ev.ImpactChanged,
            {"actor": "ana", "level": ImpactLevel.MAJOR_OUTAGE, "components": ["a"]},
            False,
        ),
        (
            ev.ImpactChanged,
            {"actor": "ana", "level": ImpactLevel.MAJOR_OUTAGE, "components": ("a", "a")},
            False,
        ),
        (
            ev.ImpactChanged,
            {"actor": "ana", "level": ImpactLevel.MAJOR_OUTAGE, "components": (" ",)},
            False,
        ),
        (
            ev.Declared,
            {"actor": "ana", "incident_id": "I", "title": "t", "priority": Priority.P2},
            True,
        ),
        (
            ev.Declared,
            {
                "actor": "ana",
                "incident_id": "I",
                "title": "t",
                "priority": Priority.P2,
                "unknown": ("occurred_at",),
            },
            False,
        ),
        (ev.ChangeLogged, {"actor": "ana", "change_id": "C1", "what": "w", "where": "x"}, False),
    ],
)
def test_a_builder_tests_each_kind_of_field(
    kind: type[ev.Event], fields: dict[str, object], built: bool
) -> None:
    """Names, times, counts, shares, tuples and enums: accepted as they are, or left alone."""
    build = builder(kind)
    assert build is not None
    actual = build(_START, _START, fields)
    assert built == (actual is not None)
    if actual is not None:
        assert _same(_full_path(kind, _START, _START, fields), actual)


@attrs.frozen(kw_only=True)
class _Converted(ev.Event):
    """An event class whose constructor converts a value: it gets no builder."""

    text: str = attrs.field(converter=str, validator=ev._text)


@attrs.frozen(kw_only=True)
class _Finished(ev.Event):
    """An event class whose constructor does more after the fields: it gets no builder."""

    def __attrs_post_init__(self) -> None:
        """Nothing, but the builder cannot know that."""


@attrs.frozen(kw_only=True)
class _Made(ev.Event):
    """An event class with a default made per instance: it gets no builder."""

    text: str = attrs.field(factory=str, validator=ev._optional_text)


@attrs.frozen(kw_only=True)
class _Unchecked(ev.Event):
    """An event class with a field no builder's test covers: it gets no builder."""

    text: str = attrs.field(validator=ev._document)


@attrs.frozen(kw_only=True)
class _Owned(ev.Event):
    """A name checked as an enum member: no builder's test covers both checks."""

    owner: Priority = attrs.field(validator=ev._member(Priority))


@pytest.mark.parametrize("kind", [_Converted, _Finished, _Made, _Unchecked, _Owned])
def test_a_constructor_that_does_more_than_validate_gets_no_builder(kind: type[ev.Event]) -> None:
    """Converters, post-init steps, factories and fields without a test: the full path."""
    assert None is builder(kind)
