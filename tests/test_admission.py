"""Admission of new events: the checks hold whatever form the event classes' annotations take."""

from __future__ import annotations

import json
import subprocess
import sys

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
