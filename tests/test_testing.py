"""The shipped Hypothesis strategies build only valid values, of every shape."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import incidentflow.events as ev
from incidentflow import Incident, Policy, State
from incidentflow.testing import actors, aware_datetimes, events, incidents, policies, texts

KINDS = list(ev.EVENT_TYPES.values())
ANY_EVENT = events()  # built once: events() reads every class's type hints
# For find(): a fixed seed, and the first example found rather than a shrunk one.
SEARCH = settings(max_examples=2000, database=None, phases=[Phase.generate])


def _snapshot(incident: Incident) -> dict[str, Any]:
    """Everything an incident shows through its read-only views."""
    later = incident.history[-1].recorded_at + timedelta(days=1)
    return {
        "id": incident.id,
        "title": incident.title,
        "state": incident.state,
        "priority": incident.priority,
        "began_at": incident.began_at,
        "declared_at": incident.declared_at,
        "history": list(incident.history),
        "version": incident.version,
        "validation": incident.validation,
        "links": dict(incident.links),
        "roles": dict(incident.roles),
        "experiments": dict(incident.experiments),
        "running_experiments": incident.running_experiments,
        "notes": incident.notes,
        "updates": incident.updates,
        "manual_changes": dict(incident.manual_changes),
        "why_chains": dict(incident.why_chains),
        "factors": incident.factors,
        "recovery": incident.recovery,
        "customer_verification": incident.customer_verification,
        "tech_debt": dict(incident.tech_debt),
        "report": incident.report,
        "post_mortem": incident.post_mortem,
        "action_items": dict(incident.action_items),
        "next_states": incident.next_states(),
        "allowed_commands": incident.allowed_commands(),
        "due": incident.due(later),
    }


# -- incidents() -------------------------------------------------------------------------


@settings(max_examples=60)
@given(incidents())
def test_incidents_replay_equal(incident: Incident) -> None:
    """Replaying a drawn incident's history rebuilds an incident equal in every view."""
    assert _snapshot(incident) == _snapshot(Incident.replay(incident.history))


@settings(max_examples=60)
@given(incidents())
def test_incidents_are_well_formed(incident: Incident) -> None:
    """A drawn incident starts with Declared and its record stamps never go backwards."""
    history = list(incident.history)
    assert ev.Declared is type(history[0])
    assert 1 == sum(isinstance(e, ev.Declared) for e in history)
    stamps = [e.recorded_at for e in history]
    assert sorted(stamps) == stamps
    assert len(history) == incident.version


@settings(max_examples=30)
@given(incidents(policy=Policy.permissive()))
def test_incidents_follow_the_policy_given(incident: Incident) -> None:
    """incidents(policy=...) draws incidents under that policy, which replay under it too."""
    assert Policy.permissive() == incident.policy
    replayed = Incident.replay(incident.history, policy=Policy.permissive())
    assert _snapshot(incident) == _snapshot(replayed)


@pytest.mark.parametrize(
    "state", [s for s in State if s is not State.DISMISSED], ids=lambda s: s.value
)
def test_incidents_reach_every_state_of_the_happy_path(state: State) -> None:
    """The random walk reaches each state of the runbook's path, so tests see them all."""
    found = find(incidents(), lambda i: i.state is state, settings=SEARCH, random=random.Random(0))
    assert state is found.state


# -- events() ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_events_produce_each_type(kind: type[ev.Event]) -> None:
    """events() with no arguments draws every event type."""
    found = find(ANY_EVENT, lambda e: type(e) is kind, settings=SEARCH, random=random.Random(0))
    assert kind is type(found)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
@settings(max_examples=20)
@given(data=st.data())
def test_events_of_a_type(kind: type[ev.Event], data: st.DataObject) -> None:
    """events(kind) draws only that kind."""
    assert kind is type(data.draw(events(kind)))


@given(events(ev.NoteAdded, ev.Declared))
def test_events_of_several_types(event: ev.Event) -> None:
    """events(a, b) draws only those kinds."""
    assert type(event) in (ev.NoteAdded, ev.Declared)


@given(events())
def test_events_are_valid(event: ev.Event) -> None:
    """A drawn event passes validation again when rebuilt field by field."""
    rebuilt = type(event)(**attrs.asdict(event, recurse=False))
    assert event == rebuilt
    assert type(event) is ev.EVENT_TYPES[event.type]


# -- policies() --------------------------------------------------------------------------


@given(policies())
def test_policies_round_trip_toml(policy: Policy) -> None:
    """Every drawn policy writes TOML that reads back equal."""
    assert policy == Policy.from_toml(policy.to_toml())


@given(policies())
def test_policies_round_trip_over_any_base(policy: Policy) -> None:
    """A full policy's TOML reads back equal over any base, since it sets every key."""
    assert policy == Policy.from_toml(policy.to_toml(), base=Policy.permissive())


# -- small strategies --------------------------------------------------------------------


@given(aware_datetimes())
def test_aware_datetimes_are_aware(value: datetime) -> None:
    """Drawn datetimes have a UTC offset between -12h and +14h."""
    offset = value.utcoffset()
    assert offset is not None
    assert timedelta(hours=-12) <= offset <= timedelta(hours=14)


@given(aware_datetimes(min_value=datetime(2030, 1, 1), max_value=datetime(2030, 12, 31)))
def test_aware_datetimes_respect_bounds(value: datetime) -> None:
    """The bounds apply to the local wall time drawn."""
    assert datetime(2030, 1, 1) <= value.replace(tzinfo=None) <= datetime(2030, 12, 31)


@given(texts(max_size=7))
def test_texts_are_non_blank(value: str) -> None:
    """Drawn texts are never blank and respect max_size."""
    assert value.strip() != ""
    assert len(value) <= 7


@given(actors())
def test_actors_are_handles(value: str) -> None:
    """Drawn actors are short, non-blank handles."""
    assert value == value.strip() != ""
    assert value.isalpha()
