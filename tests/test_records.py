"""The frozen records an incident keeps, and their derived properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from incidentflow import (
    ActionItem,
    ActionKind,
    ChangeOutcome,
    DataLoss,
    Experiment,
    LinkKind,
    ManualChange,
    NoteKind,
    TechDebt,
    Unmet,
    Verdict,
    WhyChain,
)

T0 = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=10)


def _experiment(**changes: Any) -> Experiment:
    base = Experiment(
        id="exp-1",
        hypothesis="token expired",
        action="refresh token",
        expected="connections succeed",
        component="db",
        owner="bo",
        started_at=T0,
    )
    return attrs.evolve(base, **changes)


def _change(**changes: Any) -> ManualChange:
    base = ManualChange(
        id="chg-1", by="bo", what="restarted primary", where="db-1", revert="n/a", at=T0
    )
    return attrs.evolve(base, **changes)


def _debt(**changes: Any) -> TechDebt:
    return attrs.evolve(TechDebt(id="debt-1", description="temporary fix", opened_at=T0), **changes)


def _action(**changes: Any) -> ActionItem:
    base = ActionItem(
        id="act-1",
        description="alert on token expiry",
        owner="bo",
        due_at=T0 + timedelta(days=7),
        kind=ActionKind.PREVENTIVE,
    )
    return attrs.evolve(base, **changes)


def test_experiment_running_until_a_verdict() -> None:
    """A new experiment is running; one with a verdict is not."""
    assert _experiment().running is True
    concluded = _experiment(observed="they do", verdict=Verdict.CONFIRMED, concluded_at=T1)
    assert concluded.running is False


@pytest.mark.parametrize("verdict", list(Verdict), ids=str)
def test_any_verdict_ends_the_experiment(verdict: Verdict) -> None:
    """Confirmed, refuted and inconclusive all conclude an experiment."""
    assert _experiment(verdict=verdict).running is False


def test_manual_change_reconciled_once_it_has_an_outcome() -> None:
    """A logged change is unreconciled until reverted or made permanent."""
    assert _change().reconciled is False
    for outcome in ChangeOutcome:
        assert _change(outcome=outcome, reconciled_at=T1).reconciled is True


def test_tech_debt_open_until_closed() -> None:
    """Tech debt is open until it has a closing time."""
    assert _debt().open is True
    assert _debt(closed_at=T1).open is False


def test_action_item_open_until_closed() -> None:
    """An action item is open until it has a closing time."""
    assert _action().open is True
    assert _action(closed_at=T1).open is False


@pytest.mark.parametrize("depth", [0, 1, 5, 7])
def test_why_chain_depth_counts_answers(depth: int) -> None:
    """A chain's depth is the number of whys answered."""
    chain = WhyChain(id="why-1", answers=tuple(f"why {n}" for n in range(depth)))
    assert depth == chain.depth


def test_why_chain_is_not_a_root_cause_by_default() -> None:
    """A chain is open (no root cause) unless marked."""
    assert WhyChain(id="why-1", answers=("the service is down",)).root_cause is False


def test_unmet_holds_rule_and_detail() -> None:
    """Unmet pairs a rule name with its explanation and compares by value."""
    assert Unmet("validated", "step 1") == Unmet(rule="validated", detail="step 1")
    assert ("validated", "step 1") == attrs.astuple(Unmet("validated", "step 1"))


RECORDS = [
    (Unmet("validated", "not yet"), "rule", "other"),
    (_experiment(), "owner", "cy"),
    (_change(), "outcome", ChangeOutcome.REVERTED),
    (WhyChain(id="why-1", answers=("a",)), "answers", ("b",)),
    (_debt(), "closed_at", T1),
    (_action(), "closed_at", T1),
]


@pytest.mark.parametrize(
    ("record", "name", "value"), RECORDS, ids=[type(r[0]).__name__ for r in RECORDS]
)
def test_records_are_frozen(record: Any, name: str, value: Any) -> None:
    """Assigning to a record's field raises FrozenInstanceError and leaves it unchanged."""
    before = attrs.asdict(record, recurse=False)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(record, name, value)
    assert before == attrs.asdict(record, recurse=False)


@pytest.mark.parametrize(
    ("record", "name", "value"), RECORDS, ids=[type(r[0]).__name__ for r in RECORDS]
)
def test_records_change_through_evolve(record: Any, name: str, value: Any) -> None:
    """attrs.evolve makes a changed copy and leaves the original as it was."""
    changed = attrs.evolve(record, **{name: value})
    assert value == getattr(changed, name)
    assert value != getattr(record, name)


@pytest.mark.parametrize(
    "kind", [Experiment, ManualChange, WhyChain, TechDebt, ActionItem], ids=lambda k: k.__name__
)
def test_records_take_keywords_only(kind: type[Any]) -> None:
    """Records with many fields are built by keyword, so fields cannot be swapped."""
    with pytest.raises(TypeError):
        kind("id-1", "x")


def test_vocabulary_values() -> None:
    """The vocabularies' serialized values are stable snake_case names."""
    assert ["ticket", "war_room", "public_channel", "announcement"] == [k.value for k in LinkKind]
    assert ["confirmed", "refuted", "inconclusive"] == [v.value for v in Verdict]
    assert ["reverted", "permanent", "irreversible"] == [o.value for o in ChangeOutcome]
    assert ["note", "discrepancy"] == [k.value for k in NoteKind]
    assert ["corrective", "preventive"] == [k.value for k in ActionKind]


def test_a_branch_counts_the_whys_of_the_chain_it_branches_off() -> None:
    """A branch starting at why 3 with two answers is four whys deep; a plain chain, its answers."""
    assert 4 == WhyChain(id="b", answers=("x", "y"), parent="main", start=3).depth
    assert 2 == WhyChain(id="main", answers=("x", "y")).depth


def test_a_data_loss_window_is_its_length_in_seconds() -> None:
    """DataLoss.window is the seconds from window_start to window_end."""
    start = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    loss = DataLoss(
        id="L1",
        what="writes to db-1",
        window_start=start,
        window_end=start + timedelta(minutes=90),
        amount="",
        recorded_by="ana",
        at=start,
    )
    assert 5400.0 == loss.window
