"""The incident lifecycle: states, the edges between them, and the guards on each edge.

The graph is defined once, as a :mod:`transitions` machine shared by every incident (never one
machine per incident, and never its auto ``to_<state>`` methods, which bypass guards).  At import
the machine's own transitions are read into a plain lookup table of :class:`Edge` records, so
checking a move costs a dict lookup.  The Mermaid diagram is drawn by transitions' mermaid engine
from the same definition, so the picture cannot drift from the rules.

>>> [s.value for s in State]
['declared', 'mitigating', 'yellow', 'green', 'reported', 'post_mortem', 'dismissed']
>>> edge(State.MITIGATING, State.YELLOW).guards
('recovery_verified', 'experiments_concluded')
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from attrs import frozen
from transitions import Machine

from ._vocabulary import Vocabulary

__all__ = ["EDGES", "Edge", "State", "edge", "edges_from", "markdown_table", "mermaid"]


class State(Vocabulary):
    """Where an incident is in its life."""

    DECLARED = "declared"
    MITIGATING = "mitigating"
    YELLOW = "yellow"
    GREEN = "green"
    REPORTED = "reported"
    POST_MORTEM = "post_mortem"
    DISMISSED = "dismissed"

    @property
    def meaning(self) -> str:
        """What being in this state means, in the runbook's terms."""
        return _MEANINGS[self]

    @property
    def active(self) -> bool:
        """Whether the incident is still being responded to (declared, mitigating, yellow).

        Stakeholder updates are owed and the priority may change only while it is active.
        """
        return self in _ACTIVE

    @property
    def terminal(self) -> bool:
        """Whether no edge leaves this state."""
        return not _FROM[self]


_ACTIVE = frozenset({State.DECLARED, State.MITIGATING, State.YELLOW})

_MEANINGS = {
    State.DECLARED: "Declared; being validated, linked and staffed (steps 1–5).",
    State.MITIGATING: "Responders run experiments to mitigate and find the cause (steps 6–11).",
    State.YELLOW: "Resolved and announced yellow; waiting for the customer and tech-debt "
    "clean-up (step 12).",
    State.GREEN: "Announced green: the customer verified the fix and tech debt is cleaned up "
    "(step 13).",
    State.REPORTED: "The root cause is found and the incident report is started (step 14).",
    State.POST_MORTEM: "The post-mortem is scheduled with the roles invited (step 15).",
    State.DISMISSED: "A false alarm, dismissed before mitigation began.",
}


@frozen
class Edge:
    """One allowed move: its trigger name, the two states, and the guards it must pass."""

    trigger: str
    source: State
    target: State
    guards: tuple[str, ...]


# The single definition of the lifecycle, in transitions' own vocabulary.  Conditions name the
# guards of `incidentflow.policy`; they are never called by the machine itself.
_DEFINITION: tuple[dict[str, Any], ...] = (
    {
        "trigger": "mitigate",
        "source": State.DECLARED,
        "dest": State.MITIGATING,
        "conditions": ["validated", "required_links", "required_roles"],
    },
    {
        "trigger": "announce_yellow",
        "source": State.MITIGATING,
        "dest": State.YELLOW,
        "conditions": ["recovery_verified", "experiments_concluded"],
    },
    {
        "trigger": "announce_green",
        "source": State.YELLOW,
        "dest": State.GREEN,
        "conditions": [
            "customer_verified",
            "impact_operational",
            "tech_debt_closed",
            "changes_reconciled",
        ],
    },
    {
        "trigger": "mark_reported",
        "source": State.GREEN,
        "dest": State.REPORTED,
        "conditions": ["root_cause_found", "report_started"],
    },
    {
        "trigger": "begin_post_mortem",
        "source": State.REPORTED,
        "dest": State.POST_MORTEM,
        "conditions": ["post_mortem_scheduled", "roles_invited"],
    },
    {"trigger": "dismiss", "source": State.DECLARED, "dest": State.DISMISSED},
    {"trigger": "reopen", "source": State.YELLOW, "dest": State.MITIGATING},
)


def _machine_arguments() -> dict[str, Any]:
    """The definition in the form transitions takes, with states named by their values."""
    transitions = [{**d, "source": d["source"].value, "dest": d["dest"].value} for d in _DEFINITION]
    return {
        "states": [s.value for s in State],
        "initial": State.DECLARED.value,
        "transitions": transitions,
        "auto_transitions": False,
    }


_MACHINE = Machine(model=None, **_machine_arguments())


def _read_edges(machine: Machine) -> dict[tuple[State, State], Edge]:
    table: dict[tuple[State, State], Edge] = {}
    for trigger, event in machine.events.items():
        for source_name, transitions in event.transitions.items():
            for t in transitions:
                source, target = State(source_name), State(t.dest)
                guards = tuple(str(c.func) for c in t.conditions)
                table[(source, target)] = Edge(trigger, source, target, guards)
    return table


EDGES: Mapping[tuple[State, State], Edge] = MappingProxyType(_read_edges(_MACHINE))
"""Every edge of the lifecycle, keyed by ``(source, target)``."""

_FROM: dict[State, tuple[Edge, ...]] = {
    s: tuple(e for e in EDGES.values() if e.source is s) for s in State
}


def edge(source: State, target: State) -> Edge | None:
    """The edge from ``source`` to ``target``, or ``None`` when the lifecycle has none."""
    return EDGES.get((source, target))


def edges_from(source: State) -> tuple[Edge, ...]:
    """The edges leaving ``source``, in definition order."""
    return _FROM[source]


def markdown_table() -> str:
    """The lifecycle as a Markdown table: trigger, source, target and guards."""
    rows = ["| trigger | from | to | guards |", "| --- | --- | --- | --- |"]
    for e in EDGES.values():
        guards = ", ".join(f"`{g}`" for g in e.guards) or "—"
        rows.append(f"| `{e.trigger}` | {e.source.value} | {e.target.value} | {guards} |")
    return "\n".join(rows)


def mermaid(*, title: str = "Incident lifecycle") -> str:
    """The lifecycle as a Mermaid state diagram, drawn by transitions' mermaid engine."""
    from transitions.extensions.diagrams import GraphMachine

    class _Canvas:
        """A throwaway model: transitions draws the graph of a model it holds."""

    canvas = _Canvas()
    GraphMachine(
        model=canvas,
        **_machine_arguments(),
        graph_engine="mermaid",
        show_conditions=True,
        title=title,
    )
    drawn: str = canvas.get_graph().draw(None)  # type: ignore[attr-defined]
    return _tidy(drawn, title)


def _tidy(drawn: str, title: str) -> str:
    """Make transitions' output a clean, static diagram.

    transitions draws one *model's* graph, so it highlights the model's current state; a
    lifecycle has none.  Its front matter also lacks the ``title:`` key Mermaid expects.
    """
    lines: list[str] = []
    for line in drawn.splitlines():
        stripped = line.strip()
        if stripped == title:
            line = f"title: {title}"
        elif stripped.startswith(("classDef ", "Class ")):
            continue
        if stripped or (lines and lines[-1]):
            lines.append(line.rstrip())
    lines.extend(f"  {s.value} --> [*]" for s in State if s.terminal)
    return "\n".join(lines).rstrip() + "\n"
