"""Admission of new events: the checks hold whatever form the event classes' annotations take."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

# Run in a fresh interpreter: there the event classes' annotations are still strings (nothing
# has resolved them yet, as structuring through cattrs does), so admission must read both forms.
FRESH = """
import json
from datetime import UTC, datetime

import attrs

from incidentflow import ActionKind, InvalidInput
from incidentflow import _admission
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

action = {
    "actor": "ana", "occurred_at": start, "recorded_at": start, "action_id": "A1",
    "description": "alert", "kind": ActionKind.PREVENTIVE, "owner": None, "due_at": None,
}
for form in ("unresolved", "resolved"):
    if form == "resolved":
        attrs.resolve_types(ev.ActionAdded)
        _admission._CHECKS.clear()
    found[form] = {"annotation": str(attrs.fields(ev.ActionAdded).owner.type)}
    for name, changes in {
        "unknown": {},
        "known": {"owner": "eli", "due_at": datetime(2026, 3, 8, 9, 0, tzinfo=UTC)},
        "invisible owner": {"owner": "a\\u200bb"},
        "due long ago": {"due_at": datetime(1900, 1, 1, tzinfo=UTC)},
    }.items():
        try:
            admit(ev.ActionAdded(**{**action, **changes}))
            found[form][name] = "accepted"
        except InvalidInput as exc:
            found[form][name] = str(exc)
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def fresh() -> dict[str, Any]:
    """What the script above found, in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", FRESH], capture_output=True, text=True, check=True, timeout=120
    )
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_admission_reads_annotations_not_yet_resolved(fresh: dict[str, Any]) -> None:
    """In a fresh process, invitees are checked as names and times as supported times."""
    assert ("tuple[str, ...]", ["ana", "bo"]) == (fresh["annotation"], fresh["invitees"])
    assert "NoteAdded.occurred_at (1900-01-01" in fresh["long ago"]
    assert "names someone twice" in fresh["twice"]


def test_a_field_that_may_be_unknown_is_checked_only_when_known(fresh: dict[str, Any]) -> None:
    """An action's owner and due time may be None; given, they are a name and a supported time,
    whether the event classes' annotations are still strings or resolved to types."""
    for form in ("unresolved", "resolved"):
        found = fresh[form]
        assert ("str | None", "accepted", "accepted") == (
            found["annotation"],
            found["unknown"],
            found["known"],
        )
        owner, due = found["invisible owner"], found["due long ago"]
        assert "ActionAdded.owner 'a\\u200bb' holds an invisible character" in owner
        assert "ActionAdded.due_at (1900-01-01T00:00:00+00:00) is outside the supported" in due
