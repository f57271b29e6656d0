"""The demo: the runbook's P1 example walked to post_mortem, narrated line by line."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from incidentflow import Incident, Priority, State, StateChanged
from incidentflow.demo import FIVE_WHYS, run_demo
from incidentflow.lifecycle import edge

RUNBOOK_WHYS = (
    "The service is down.",
    "The database connection failed.",
    "The authentication token has expired.",
    "The token was not refreshed.",
    "The scheduled job for token refreshment failed.",
)
PATH = [
    State.DECLARED,
    State.MITIGATING,
    State.YELLOW,
    State.GREEN,
    State.REPORTED,
    State.POST_MORTEM,
]


@pytest.fixture(scope="module")
def demo() -> tuple[Incident, list[str]]:
    """One run of the demo: the incident and every line it wrote."""
    lines: list[str] = []
    incident = run_demo(write=lines.append)
    return incident, lines


def test_demo_reaches_post_mortem_along_the_runbooks_path(demo: tuple[Incident, Any]) -> None:
    """The demo incident is a P1 that went through all six states, in order."""
    incident, _ = demo
    moves = [e for e in incident.history if isinstance(e, StateChanged)]
    assert [moves[0].source, *(m.target for m in moves)] == PATH
    assert (incident.state, incident.priority) == (State.POST_MORTEM, Priority.P1)


def test_demo_prints_a_met_checklist_before_every_move(demo: tuple[Incident, Any]) -> None:
    """Right before each move, the demo lists each guard of the edge, all ticked."""
    _, lines = demo
    for source, target in itertools.pairwise(PATH):
        header = f"  To move {source.value} → {target.value}, the rules require:"
        assert header in lines
        last = len(lines) - 1 - lines[::-1].index(header)
        found = edge(source, target)
        assert found is not None
        ticked = [line.split() for line in lines[last + 1 : last + 1 + len(found.guards)]]
        assert [[g, "✓"] for g in found.guards] == ticked
        assert f"→ now {target.value}" in lines[last + 1 + len(found.guards)]


def test_demo_shows_what_was_missing_first(demo: tuple[Incident, Any]) -> None:
    """The first checklist shows every mitigation guard unmet, with the reason."""
    _, lines = demo
    first = lines.index("  To move declared → mitigating, the rules require:")
    assert lines[first + 1 : first + 4] == [
        "    validated                ✗ the problem has not been validated",
        "    required_links           ✗ missing announcement, ticket, war_room",
        "    required_roles           ✗ no communicator, incident_commander, lead, recorder",
    ]


def test_demo_shows_the_two_refusals(demo: tuple[Incident, Any]) -> None:
    """A move tried too early and an update by the Recorder are refused, with their rules."""
    _, lines = demo
    refusals = [line for line in lines if line.startswith("  refused")]
    assert refusals == [
        "  refused  start mitigating at once: TransitionBlocked",
        "  refused  di (Recorder) posts a stakeholder update: NotAuthorized",
    ]
    assert (
        "           - authorized: di must hold communicator or incident_commander to post_update"
        in lines
    )


def test_demo_history_replays_equal(demo: tuple[Incident, Any]) -> None:
    """The demo's history is one the rules accept: replaying it gives an equal incident."""
    incident, _ = demo
    assert incident == Incident.replay(incident.history)


def test_demo_five_whys_are_the_runbooks(demo: tuple[Incident, Any]) -> None:
    """The demo's chain is the runbook's example word for word, the fifth a root cause."""
    incident, _ = demo
    chain = incident.why_chains["main"]
    assert RUNBOOK_WHYS == FIVE_WHYS
    assert chain.answers == FIVE_WHYS
    assert chain.root_cause


def test_demo_narrates_every_event(demo: tuple[Incident, Any]) -> None:
    """Each recorded event is narrated with its type and actor."""
    incident, lines = demo
    text = "\n".join(lines)
    for event in incident.history[1:]:
        assert f"[{event.type} by {event.actor}]" in text
    assert f"\nDone: INC-1042 is post_mortem after {incident.version} events." in lines


def test_demo_is_deterministic_and_starts_when_told() -> None:
    """Two runs from the same start are equal; the incident began four minutes before it."""
    start = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)
    first: list[str] = []
    second: list[str] = []
    one = run_demo(write=first.append, start=start)
    two = run_demo(write=second.append, start=start)
    assert one == two
    assert first == second
    assert (start - timedelta(minutes=4), start) == (one.began_at, one.declared_at)


def test_demo_prints_by_default(capsys: Any) -> None:
    """Without ``write``, the demo prints to standard output."""
    run_demo()
    out = capsys.readouterr().out
    assert out.startswith("incidentflow demo")
    assert "→ now post_mortem" in out
