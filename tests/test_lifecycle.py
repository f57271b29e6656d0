"""The lifecycle graph, checked against a hand-written copy of the documented table."""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

import attrs
import pytest
import transitions

from incidentflow import Edge, Incident, ManualClock, Priority, State, TransitionBlocked, lifecycle
from incidentflow.lifecycle import EDGES, edge, edges_from, markdown_table, mermaid
from incidentflow.policy import GUARDS

S = State

# The documented lifecycle, written out by hand: trigger, from, to, guards (in order).
EXPECTED_EDGES = [
    ("mitigate", S.DECLARED, S.MITIGATING, ("validated", "required_links", "required_roles")),
    ("announce_yellow", S.MITIGATING, S.YELLOW, ("recovery_verified", "experiments_concluded")),
    (
        "announce_green",
        S.YELLOW,
        S.GREEN,
        ("customer_verified", "impact_operational", "tech_debt_closed", "changes_reconciled"),
    ),
    ("mark_reported", S.GREEN, S.REPORTED, ("root_cause_found", "report_started")),
    ("begin_post_mortem", S.REPORTED, S.POST_MORTEM, ("post_mortem_scheduled", "roles_invited")),
    ("dismiss", S.DECLARED, S.DISMISSED, ()),
    ("reopen", S.YELLOW, S.MITIGATING, ()),
]

EXPECTED_TABLE_ROWS = [
    "| trigger | from | to | guards |",
    "| --- | --- | --- | --- |",
    "| `mitigate` | declared | mitigating | `validated`, `required_links`, `required_roles` |",
    "| `announce_yellow` | mitigating | yellow | `recovery_verified`, `experiments_concluded` |",
    "| `announce_green` | yellow | green | `customer_verified`, `impact_operational`, "
    "`tech_debt_closed`, "
    "`changes_reconciled` |",
    "| `mark_reported` | green | reported | `root_cause_found`, `report_started` |",
    "| `begin_post_mortem` | reported | post_mortem | `post_mortem_scheduled`, `roles_invited` |",
    "| `dismiss` | declared | dismissed | — |",
    "| `reopen` | yellow | mitigating | — |",
]

PAIRS = list(itertools.product(State, repeat=2))


def _expected_edge(source: State, target: State) -> Edge | None:
    for trigger, a, b, guards in EXPECTED_EDGES:
        if (a, b) == (source, target):
            return Edge(trigger, a, b, guards)
    return None


# -- states ------------------------------------------------------------------------------


def test_states_in_order() -> None:
    """The seven states, in the order an incident meets them."""
    expected = ["declared", "mitigating", "yellow", "green", "reported", "post_mortem", "dismissed"]
    assert expected == [s.value for s in State]


@pytest.mark.parametrize("state", list(State), ids=str)
def test_active_states(state: State) -> None:
    """Declared, mitigating and yellow are active; the rest are not."""
    assert (state in {S.DECLARED, S.MITIGATING, S.YELLOW}) == state.active


@pytest.mark.parametrize("state", list(State), ids=str)
def test_terminal_states(state: State) -> None:
    """Post-mortem and dismissed are terminal, and exactly they have no edge leaving."""
    assert (state in {S.POST_MORTEM, S.DISMISSED}) == state.terminal
    assert state.terminal == (edges_from(state) == ())


@pytest.mark.parametrize("state", list(State), ids=str)
def test_every_state_has_a_meaning(state: State) -> None:
    """Each state explains itself in a sentence."""
    assert state.meaning.endswith(".")
    assert len(state.meaning) > 20


# -- edges -------------------------------------------------------------------------------


def test_edges_are_exactly_the_documented_ones() -> None:
    """EDGES holds the seven documented edges, each with its trigger and guards in order."""
    expected = {(a, b): Edge(trigger, a, b, guards) for trigger, a, b, guards in EXPECTED_EDGES}
    assert expected == dict(EDGES)


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=lambda s: s.value)
def test_edge_lookup(source: State, target: State) -> None:
    """edge(a, b) is the documented edge, or None when there is none."""
    assert _expected_edge(source, target) == edge(source, target)


@pytest.mark.parametrize("state", list(State), ids=str)
def test_no_self_loops(state: State) -> None:
    """No edge leads from a state to itself."""
    assert edge(state, state) is None


@pytest.mark.parametrize(
    ("source", "triggers"),
    [
        (S.DECLARED, ("mitigate", "dismiss")),
        (S.MITIGATING, ("announce_yellow",)),
        (S.YELLOW, ("announce_green", "reopen")),
        (S.GREEN, ("mark_reported",)),
        (S.REPORTED, ("begin_post_mortem",)),
        (S.POST_MORTEM, ()),
        (S.DISMISSED, ()),
    ],
    ids=lambda v: v.value if isinstance(v, State) else "",
)
def test_edges_from(source: State, triggers: tuple[str, ...]) -> None:
    """edges_from lists the edges leaving a state, in definition order."""
    found = edges_from(source)
    assert triggers == tuple(e.trigger for e in found)
    assert all(source is e.source for e in found)


def test_triggers_are_unique() -> None:
    """Each trigger names one edge, so a trigger is an unambiguous authorization key."""
    triggers = [e.trigger for e in EDGES.values()]
    assert sorted(set(triggers)) == sorted(triggers)


def test_every_guard_is_defined_by_the_policy() -> None:
    """Every guard an edge names is a guard the policy can check, and every guard is used."""
    used = {g for e in EDGES.values() for g in e.guards}
    assert set(GUARDS) == used


def test_every_state_is_reachable_from_declared() -> None:
    """A walk along the edges from declared reaches every state."""
    seen, queue = {S.DECLARED}, deque([S.DECLARED])
    while queue:
        for e in edges_from(queue.popleft()):
            if e.target not in seen:
                seen.add(e.target)
                queue.append(e.target)
    assert set(State) == seen


def test_edges_table_is_read_only() -> None:
    """EDGES cannot be changed by callers."""
    with pytest.raises(TypeError):
        EDGES[(S.DECLARED, S.GREEN)] = Edge("skip", S.DECLARED, S.GREEN, ())  # type: ignore[index]


def test_edges_are_frozen() -> None:
    """An Edge cannot be changed after it is made."""
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        edge(S.DECLARED, S.MITIGATING).guards = ()  # type: ignore[union-attr,misc]


# -- generated documentation -------------------------------------------------------------


def test_markdown_table_is_exactly_the_documented_table() -> None:
    """markdown_table() prints the header and one row per edge, as documented."""
    assert EXPECTED_TABLE_ROWS == markdown_table().splitlines()


@pytest.mark.parametrize("row", EXPECTED_TABLE_ROWS[2:], ids=[e[0] for e in EXPECTED_EDGES])
def test_markdown_table_contains_each_row(row: str) -> None:
    """Each edge has its own row in the table."""
    assert row in markdown_table().splitlines()


@pytest.fixture(scope="module")
def diagram() -> list[str]:
    """The Mermaid diagram's lines, stripped."""
    return [line.strip() for line in mermaid().splitlines()]


def test_mermaid_is_a_state_diagram(diagram: list[str]) -> None:
    """mermaid() draws a stateDiagram-v2 with the default title."""
    assert "stateDiagram-v2" in diagram
    assert ["---", "title: Incident lifecycle", "---"] == diagram[:3]
    assert f"[*] --> {S.DECLARED.value}" in diagram


@pytest.mark.parametrize("state", [S.POST_MORTEM, S.DISMISSED], ids=str)
def test_mermaid_ends_at_terminal_states(state: State, diagram: list[str]) -> None:
    """Each terminal state leads to the end marker."""
    assert f"{state.value} --> [*]" in diagram


def test_mermaid_highlights_no_state(diagram: list[str]) -> None:
    """The lifecycle has no current state, so no state is styled as active."""
    assert [] == [line for line in diagram if line.startswith(("Class ", "classDef "))]


@pytest.mark.parametrize("state", list(State), ids=str)
def test_mermaid_contains_every_state(state: State, diagram: list[str]) -> None:
    """Every state is declared in the diagram."""
    assert f'state "{state.value}" as {state.value}' in diagram


@pytest.mark.parametrize(
    ("trigger", "source", "target", "guards"), EXPECTED_EDGES, ids=[e[0] for e in EXPECTED_EDGES]
)
def test_mermaid_contains_every_edge(
    trigger: str, source: State, target: State, guards: tuple[str, ...], diagram: list[str]
) -> None:
    """Every edge is drawn as `a --> b: trigger`, followed by its guards when it has any."""
    expected = f"{source.value} --> {target.value}: {trigger}"
    if guards:
        expected += " [" + " & ".join(guards) + "]"
    assert expected in diagram


def test_mermaid_draws_nothing_else(diagram: list[str]) -> None:
    """The diagram has exactly the documented edges plus the start and end arrows."""
    arrows = [line for line in diagram if "-->" in line and "[*]" not in line]
    assert len(EXPECTED_EDGES) == len(arrows)
    assert 3 == len([line for line in diagram if "[*]" in line])


def test_mermaid_title_and_stability() -> None:
    """The title can be set, and drawing twice gives the same text."""
    text = mermaid(title="Our process")
    assert "title: Our process" in text.splitlines()
    assert text == mermaid(title="Our process")
    assert text.endswith("\n")


# -- the shared machine ------------------------------------------------------------------


def test_machine_has_no_auto_transitions() -> None:
    """The shared machine has only the lifecycle's triggers: no guard-skipping to_<state>."""
    assert {e[0] for e in EXPECTED_EDGES} == set(lifecycle._MACHINE.events)


@pytest.fixture
def machine_inits(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """A list that records every transitions Machine built while the test runs."""
    calls: list[Any] = []
    original = transitions.Machine.__init__

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(transitions.Machine, "__init__", counting_init)
    return calls


def test_machine_inits_sees_a_machine_being_built(machine_inits: list[Any]) -> None:
    """The counting patch sees a Machine (or subclass) being built, so zero means something."""
    transitions.Machine(model=None, states=["a"], initial="a")
    mermaid()
    assert 2 == len(machine_inits)


def test_incidents_share_one_machine(machine_inits: list[Any], clock: ManualClock) -> None:
    """Declaring and moving 1000 incidents builds no transitions Machine and attaches no model."""
    machine = lifecycle._MACHINE
    incidents = []
    for n in range(1000):
        incident = Incident.declare(
            f"INC-{n}", "false alarm?", Priority.P3, actor="ana", clock=clock
        )
        with pytest.raises(TransitionBlocked):
            incident.mitigate("too early", actor="ana")
        incident.dismiss("false alarm", actor="ana")
        incidents.append(incident)
    assert [] == machine_inits
    assert machine is lifecycle._MACHINE
    assert [] == list(machine.models)
    assert {S.DISMISSED} == {i.state for i in incidents}


def test_the_diagram_is_tidied_to_single_blank_lines() -> None:
    """Tidying drops leading blank lines and keeps one blank line of each run, then ends states."""
    drawn = "\n  \n---\nLife\n---\n  \n\n  a\n  \n  \n  b\n"
    expected = "---\ntitle: Life\n---\n\n  a\n\n  b\n  post_mortem --> [*]\n  dismissed --> [*]\n"
    assert expected == lifecycle._tidy(drawn, "Life")
