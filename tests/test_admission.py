"""Admission of new events: the checks hold whatever form the event classes' annotations take."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidentflow import InvalidInput
from incidentflow import events as ev
from incidentflow._admission import _checks, admit
from incidentflow.clock import EARLIEST, LATEST
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
        event = attrs.evolve(event, **{field.name: value})
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
