"""SQLiteStore and InMemoryStore side by side under random appends, conflicts, reads, reopens.

A Hypothesis ``RuleBasedStateMachine`` plays a caller that keeps its own ``Incident`` objects
(built with the Incident API, so every batch is valid) and writes each batch to both stores.
The two stores must agree on every answer and every refusal, and both must hold exactly the
histories the caller wrote — an expectation that owes nothing to either store.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import incidentflow.events as ev
from incidentflow import CommandRefused, Incident, InvalidInput, ManualClock, Priority, State
from incidentflow.errors import Conflict, NotFound
from incidentflow.store import InMemoryStore, SQLiteStore, Store

pytestmark = pytest.mark.slow  # started first (conftest.py)

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
IDS = ("INC-1", "INC-2", "INC-3", "INC-4")
TEXTS = st.text(alphabet="abc xyz-é🚒", min_size=1, max_size=12).filter(str.strip)
PEOPLE = st.sampled_from(["ana", "bo", "cy"])
MOMENTS = st.integers(min_value=-5, max_value=120).map(lambda m: START + timedelta(minutes=m))


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    """What a store call did: its result, or its error's type and telling attributes."""
    try:
        return ("ok", call())
    except Conflict as exc:
        return ("Conflict", (exc.incident_id, exc.expected, exc.actual))
    except NotFound as exc:
        return ("NotFound", exc.incident_id)
    except InvalidInput as exc:
        return ("InvalidInput", type(exc).__name__)


class StoresAgree(RuleBasedStateMachine):
    """The two stores against each other and against the caller's own incidents."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="incidentflow-stateful-"))
        self.path = self.directory / "incidents.db"
        self.sqlite = SQLiteStore(self.path)
        self.memory = InMemoryStore()
        self.clock = ManualClock(START)
        self.incidents: dict[str, Incident] = {}

    def teardown(self) -> None:
        """Close both stores and remove the database."""
        self.sqlite.close()
        self.memory.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    @property
    def stores(self) -> tuple[Store, Store]:
        return (self.sqlite, self.memory)

    def both(self, call: Callable[[Store], Any]) -> tuple[str, Any]:
        """Call both stores the same way; they must do the same thing."""
        sqlite, memory = (_outcome(functools.partial(call, s)) for s in self.stores)
        assert sqlite == memory
        return sqlite

    def write(self, incident: Incident, start: int) -> None:
        """Append the incident's events after ``start`` to both stores."""
        batch = list(incident.history[start:])
        expected = ("ok", len(incident.history))
        assert expected == self.both(lambda s: s.append(incident.id, batch, expected_version=start))

    # -- writing --------------------------------------------------------------------------

    @rule(
        incident_id=st.sampled_from(IDS),
        priority=st.sampled_from(list(Priority)),
        notes=st.integers(min_value=0, max_value=2),
        actor=PEOPLE,
    )
    def declare(self, incident_id: str, priority: Priority, notes: int, actor: str) -> None:
        """Declare an incident (maybe with notes in the same batch); a known id conflicts."""
        self.clock.advance(minutes=1)
        incident = Incident.declare(incident_id, f"{incident_id} down", priority, actor=actor,
                                    clock=self.clock)  # fmt: skip
        for n in range(notes):
            incident.note(f"note {n}", actor=actor)
        known = self.incidents.get(incident_id)
        if known is None:
            self.incidents[incident_id] = incident
            self.write(incident, 0)
        else:
            batch = list(incident.history)
            conflict = ("Conflict", (incident_id, 0, known.version))
            assert conflict == self.both(lambda s: s.append(incident_id, batch, expected_version=0))

    @precondition(lambda self: self.incidents)
    @rule(data=st.data(), count=st.integers(min_value=1, max_value=3), text=TEXTS, actor=PEOPLE)
    def add_notes(self, data: st.DataObject, count: int, text: str, actor: str) -> None:
        """Append a batch of one to three notes at the current version."""
        incident = self.incidents[data.draw(st.sampled_from(sorted(self.incidents)))]
        start = incident.version
        for n in range(count):
            self.clock.advance(minutes=data.draw(st.integers(min_value=0, max_value=3)))
            incident.note(f"{text} {n}", actor=actor)
        self.write(incident, start)

    @precondition(lambda self: self.incidents)
    @rule(data=st.data(), actor=PEOPLE)
    def change_something(self, data: st.DataObject, actor: str) -> None:
        """Append a priority change, a dismissal or an update, when the rules allow it."""
        incident = self.incidents[data.draw(st.sampled_from(sorted(self.incidents)))]
        start = incident.version
        self.clock.advance(minutes=1)
        command = data.draw(st.sampled_from(["priority", "dismiss", "reopen", "update"]))
        try:
            if command == "priority":
                priority = data.draw(st.sampled_from(list(Priority)))
                incident.change_priority(priority, reason="reassessed", actor=actor)
            elif command == "dismiss":
                incident.dismiss("duplicate", actor=actor)
            elif command == "reopen":
                incident.reopen("not a duplicate", actor=actor)
            else:
                incident.post_update("still looking", actor=actor)
        except CommandRefused:
            return
        self.write(incident, start)

    @precondition(lambda self: self.incidents)
    @rule(data=st.data(), shift=st.integers(min_value=-3, max_value=3).filter(bool))
    def stale_append(self, data: st.DataObject, shift: int) -> None:
        """An append at a wrong version: both raise Conflict with the same versions; no change."""
        incident = self.incidents[data.draw(st.sampled_from(sorted(self.incidents)))]
        version = incident.version
        expected = max(1, version + shift)
        if expected == version:
            expected = version + 1
        moment = self.clock.now()
        note = ev.NoteAdded(actor="eve", occurred_at=moment, recorded_at=moment, text="late")
        conflict = ("Conflict", (incident.id, expected, version))
        assert conflict == self.both(
            lambda s: s.append(incident.id, [note], expected_version=expected)
        )

    @rule(incident_id=st.sampled_from(IDS), kind=st.sampled_from(["empty", "note", "declared"]))
    def invalid_append(self, incident_id: str, kind: str) -> None:
        """Malformed batches are InvalidInput in both, and write nothing."""
        moment = self.clock.now()
        version = self.incidents[incident_id].version if incident_id in self.incidents else 0
        if kind == "empty":
            batch: list[ev.Event] = []
        elif kind == "note":  # a note as version 1, or a note batch on top of a stray object
            batch = [ev.NoteAdded(actor="eve", occurred_at=moment, recorded_at=moment, text="x")]
            if version:
                batch.append("not an event")  # type: ignore[arg-type]
        else:  # a declaration anywhere but version 1
            declared = Incident.declare(incident_id, "again", Priority.P3, actor="eve",
                                        now=moment).history[0]  # fmt: skip
            moment_note = ev.NoteAdded(actor="e", occurred_at=moment, recorded_at=moment, text="x")
            batch = [declared] if version else [declared, moment_note, declared]
        outcome = self.both(lambda s: s.append(incident_id, batch, expected_version=version))
        assert ("InvalidInput", "InvalidInput") == outcome

    @rule()
    def reopen_sqlite(self) -> None:
        """Close the SQLite store and open a new one on the same file."""
        self.sqlite.close()
        self.sqlite = SQLiteStore(self.path)

    # -- reading --------------------------------------------------------------------------

    @rule(incident_id=st.sampled_from(IDS))
    def read_one(self, incident_id: str) -> None:
        """events/version/load agree with each other and with what the caller wrote."""
        incident = self.incidents.get(incident_id)
        assert ("ok", 0 if incident is None else incident.version) == self.both(
            lambda s: s.version(incident_id)
        )
        events = self.both(lambda s: s.events(incident_id))
        loaded = self.both(lambda s: list(s.load(incident_id).history))
        if incident is None:
            assert ("NotFound", incident_id) == events == loaded
        else:
            assert ("ok", list(incident.history)) == events == loaded

    @rule(
        state=st.none() | st.sampled_from(list(State)),
        priority=st.none() | st.sampled_from(list(Priority)),
        since=st.none() | MOMENTS,
        until=st.none() | MOMENTS,
    )
    def list_incidents(
        self,
        state: State | None,
        priority: Priority | None,
        since: datetime | None,
        until: datetime | None,
    ) -> None:
        """incidents() with any filter: the same summaries as the caller's incidents say."""
        found = self.both(
            lambda s: s.incidents(state=state, priority=priority, since=since, until=until)
        )
        expected = sorted(
            (
                i
                for i in self.incidents.values()
                if (state is None or i.state is state)
                and (priority is None or i.priority is priority)
                and (since is None or i.declared_at >= since)
                and (until is None or i.declared_at < until)
            ),
            key=lambda i: (i.declared_at, i.id),
        )
        assert "ok" == found[0]
        assert [
            (i.id, i.title, i.priority, i.state, i.began_at, i.declared_at, i.version)
            for i in expected
        ] == [
            (s.incident_id, s.title, s.priority, s.state, s.began_at, s.declared_at, s.version)
            for s in found[1]
        ]
        assert [i.history[-1].recorded_at for i in expected] == [s.updated_at for s in found[1]]

    @rule(after=st.integers(min_value=0, max_value=40))
    def read_everything(self, after: int) -> None:
        """read_all(after=...) is the same in both; positions are 1.. in append order."""
        outcome = self.both(lambda s: list(s.read_all(after=after)))
        assert "ok" == outcome[0]
        assert list(range(after + 1, after + 1 + len(outcome[1]))) == [
            e.position for e in outcome[1]
        ]

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def same_histories_and_versions(self) -> None:
        """Every incident has the caller's events and version in both stores."""
        for incident_id in IDS:
            incident = self.incidents.get(incident_id)
            version = 0 if incident is None else incident.version
            assert [version, version] == [s.version(incident_id) for s in self.stores]
            if incident is not None:
                history = list(incident.history)
                assert [history, history] == [s.events(incident_id) for s in self.stores]
        total = sum(i.version for i in self.incidents.values())
        assert [total, total] == [len(list(s.read_all())) for s in self.stores]

    @invariant()
    def chains_hold(self) -> None:
        """verify() finds nothing wrong in either store."""
        assert [[], []] == [s.verify() for s in self.stores]


StoresAgree.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestStoresAgree = StoresAgree.TestCase
