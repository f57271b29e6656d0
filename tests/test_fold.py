"""The fold's record builders: the same records the classes' own constructors make."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from incidentflow import Incident, ManualClock, Priority, Role
from incidentflow._fold import (
    NO_ENTRIES,
    _builder,
    _new_action_item,
    _new_data_loss,
    _new_experiment,
    _new_manual_change,
    _new_tech_debt,
    _new_why_chain,
)
from incidentflow.records import (
    ActionItem,
    ActionKind,
    ChangeOutcome,
    DataLoss,
    Experiment,
    ManualChange,
    TechDebt,
    Verdict,
    WhyChain,
)

AT = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)

CASES: list[tuple[Any, type[Any], dict[str, Any]]] = [
    (
        _new_experiment,
        Experiment,
        {
            "id": "E1",
            "hypothesis": "h",
            "action": "a",
            "expected": "x",
            "component": "c",
            "owner": "bo",
            "started_at": AT,
        },
    ),
    (
        _new_experiment,
        Experiment,
        {
            "id": "E1",
            "hypothesis": "h",
            "action": "a",
            "expected": "x",
            "component": "c",
            "owner": "bo",
            "started_at": AT,
            "observed": "o",
            "verdict": Verdict.REFUTED,
            "concluded_at": LATER,
        },
    ),
    (
        _new_manual_change,
        ManualChange,
        {"id": "C1", "by": "bo", "what": "w", "where": "db", "revert": "r", "at": AT},
    ),
    (
        _new_manual_change,
        ManualChange,
        {
            "id": "C1",
            "by": "bo",
            "what": "w",
            "where": "db",
            "revert": "r",
            "at": AT,
            "outcome": ChangeOutcome.REVERTED,
            "reconciled_at": LATER,
        },
    ),
    (_new_why_chain, WhyChain, {"id": "chain-1", "answers": ("a",)}),
    (
        _new_why_chain,
        WhyChain,
        {"id": "b", "answers": ("a", "b"), "root_cause": True, "parent": "c", "start": 3},
    ),
    (_new_tech_debt, TechDebt, {"id": "D1", "description": "d", "opened_at": AT}),
    (
        _new_tech_debt,
        TechDebt,
        {"id": "D1", "description": "d", "opened_at": AT, "closed_at": LATER},
    ),
    (
        _new_action_item,
        ActionItem,
        {
            "id": "A1",
            "description": "d",
            "owner": None,
            "due_at": None,
            "kind": ActionKind.CORRECTIVE,
        },
    ),
    (
        _new_action_item,
        ActionItem,
        {
            "id": "A1",
            "description": "d",
            "owner": "di",
            "due_at": AT,
            "kind": ActionKind.PREVENTIVE,
            "closed_at": LATER,
        },
    ),
    (
        _new_data_loss,
        DataLoss,
        {
            "id": "L1",
            "what": "w",
            "window_start": None,
            "window_end": AT,
            "amount": "",
            "recorded_by": "di",
            "at": AT,
        },
    ),
]


@pytest.mark.parametrize(("build", "kind", "values"), CASES)
def test_a_built_record_is_the_record_its_class_makes(
    build: Any, kind: type[Any], values: dict[str, Any]
) -> None:
    """Equal field by field (defaults included), of the same class, with the same repr."""
    expected, actual = kind(**values), build(**values)
    assert kind is type(actual)
    assert attrs.asdict(expected, recurse=False) == attrs.asdict(actual, recurse=False)
    assert (expected, repr(expected), hash(expected)) == (actual, repr(actual), hash(actual))


def test_a_builder_takes_the_keywords_of_the_constructor() -> None:
    """A missing or unknown keyword is refused, as by the constructor."""
    with pytest.raises(TypeError):
        _new_tech_debt(id="D1", description="d")
    with pytest.raises(TypeError):
        _new_tech_debt(id="D1", description="d", opened_at=AT, shut_at=AT)


@attrs.frozen
class _Checked:
    size: int = attrs.field(validator=attrs.validators.ge(0))


@attrs.frozen
class _Converted:
    size: int = attrs.field(converter=int)


@attrs.frozen
class _Finished:
    size: int

    def __attrs_post_init__(self) -> None:
        pass


@attrs.frozen
class _Derived:
    size: int
    double: int = attrs.field(init=False, default=0)


@attrs.frozen
class _Collected:
    sizes: list[int] = attrs.field(factory=list)


@pytest.mark.parametrize("kind", [_Checked, _Converted, _Finished, _Derived, _Collected])
def test_a_class_that_does_more_than_store_is_its_own_builder(kind: type[Any]) -> None:
    """A validator, converter, factory, post-init step or field outside __init__: the class."""
    assert kind is _builder(kind)


@attrs.frozen
class _Private:
    _size: int
    kind: str = "plain"


def test_a_private_field_is_taken_by_its_public_name() -> None:
    """A field ``_size`` is the keyword ``size``; the names of the namespace never clash."""
    build = _builder(_Private)
    assert build is not _Private  # a class that only stores gets a builder of its own
    assert _Private(size=3) == build(size=3)
    assert _Private(size=3, kind="k") == build(size=3, kind="k")


def test_the_running_index_is_given_back_when_the_last_experiment_concludes() -> None:
    """No running experiment: the shared empty mapping again; one more starts as before."""
    clock = ManualClock(AT)
    incident = Incident.declare("INC-1", "t", Priority.P3, actor="ana", clock=clock)
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    for number in (1, 2):
        incident.start_experiment(
            hypothesis="h",
            action="a",
            expected="x",
            component=f"c{number}",
            owner="bo",
            actor="bo",
            experiment_id=f"E{number}",
        )
    incident.conclude_experiment("E1", observed="o", verdict=Verdict.REFUTED, actor="bo")
    assert ("E2",) == tuple(e.id for e in incident.running_experiments)
    incident.conclude_experiment("E2", observed="o", verdict=Verdict.REFUTED, actor="bo")
    assert incident._running is NO_ENTRIES
    incident.start_experiment(
        hypothesis="h",
        action="a",
        expected="x",
        component="c1",
        owner="bo",
        actor="bo",
        experiment_id="E3",
    )
    assert ("E3",) == tuple(e.id for e in incident.running_experiments)
    assert ["E1", "E2", "E3"] == list(incident.experiments)
