"""Priorities P0–P3 and triage, checked against the runbook's own words."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidentflow import IncidentFlowError, InvalidInput, Priority, triage

# The runbook's "Incident Priorities" section, copied by hand.
RUNBOOK_TITLES = {
    Priority.P0: "Critical Incident",
    Priority.P1: "Major Incident",
    Priority.P2: "Minor Incident",
    Priority.P3: "Low Impact Incident",
}

RUNBOOK_SENTENCES = {
    Priority.P0: "A P0 incident is a complete outage or a severe degradation that affects all "
    "customers and requires immediate attention.",
    Priority.P1: "A P1 incident refers to a customer-visible outage that interrupts the "
    "functionality or behavior of the platform.",
    Priority.P2: "A P2 incident may affect some functionality but doesn't lead to an entire "
    "system failure.",
    Priority.P3: "A P3 incident may have an impact, but it's something that can be dealt with "
    "in a routine manner.",
}

FACTS = ("all_customers_affected", "customer_visible_outage", "some_functionality_affected")


def _expected_priority(all_customers: bool, outage: bool, some: bool) -> Priority:
    """The runbook's reading, written independently of the implementation."""
    if all_customers:
        return Priority.P0
    if outage:
        return Priority.P1
    if some:
        return Priority.P2
    return Priority.P3


def test_priorities_are_p0_to_p3() -> None:
    """There are exactly the runbook's four priorities, P0 to P3."""
    assert ["P0", "P1", "P2", "P3"] == [p.value for p in Priority]


@pytest.mark.parametrize("priority", list(Priority), ids=lambda p: p.value)
def test_title_matches_runbook(priority: Priority) -> None:
    """Each priority's title is the runbook's heading in parentheses."""
    assert RUNBOOK_TITLES[priority] == priority.title


@pytest.mark.parametrize("priority", list(Priority), ids=lambda p: p.value)
def test_definition_matches_runbook(priority: Priority) -> None:
    """Each definition is the runbook's sentence after "A Pn incident is/refers to"."""
    definition = priority.definition
    assert definition[0].isupper()
    assert RUNBOOK_SENTENCES[priority].endswith(" " + definition[0].lower() + definition[1:])


@pytest.mark.parametrize("priority", list(Priority), ids=lambda p: p.value)
def test_rank_is_the_number_in_the_name(priority: Priority) -> None:
    """rank is 0 for P0 up to 3 for P3."""
    assert int(priority.value[1:]) == priority.rank


def test_sorting_puts_the_most_urgent_first() -> None:
    """sorted() orders priorities by rank, P0 first."""
    shuffled = [Priority.P2, Priority.P0, Priority.P3, Priority.P1]
    assert [Priority.P0, Priority.P1, Priority.P2, Priority.P3] == sorted(shuffled)


@pytest.mark.parametrize(
    ("a", "b"), list(itertools.product(Priority, repeat=2)), ids=lambda p: p.value
)
def test_comparisons_follow_rank(a: Priority, b: Priority) -> None:
    """<, <=, > and >= all agree with comparing ranks."""
    expected = (a.rank < b.rank, a.rank <= b.rank, a.rank > b.rank, a.rank >= b.rank)
    assert expected == (a < b, a <= b, a > b, a >= b)


def test_min_is_the_most_urgent() -> None:
    """min() of a set of priorities is the most urgent one."""
    assert Priority.P1 == min({Priority.P3, Priority.P1, Priority.P2})


def test_ordering_against_other_types_is_refused() -> None:
    """Comparing a priority with a non-priority raises TypeError rather than guessing."""
    with pytest.raises(TypeError):
        _ = Priority.P0 < 1


@pytest.mark.parametrize(
    "facts",
    list(itertools.product([False, True], repeat=3)),
    ids=lambda f: "-".join(str(int(x)) for x in f),
)
def test_triage_every_combination(facts: tuple[bool, bool, bool]) -> None:
    """Each of the 8 combinations of impact facts triages to its most severe fact."""
    expected = _expected_priority(*facts)
    assert expected == triage(**dict(zip(FACTS, facts, strict=True)))


@given(st.booleans(), st.booleans(), st.booleans())
def test_triage_most_severe_fact_wins(all_customers: bool, outage: bool, some: bool) -> None:
    """Adding a more severe fact never makes the triaged priority less urgent."""
    base = triage(
        all_customers_affected=all_customers,
        customer_visible_outage=outage,
        some_functionality_affected=some,
    )
    assert _expected_priority(all_customers, outage, some) == base
    worse = triage(
        all_customers_affected=True,
        customer_visible_outage=outage,
        some_functionality_affected=some,
    )
    assert Priority.P0 == worse
    assert worse <= base


def test_triage_all_customers_is_p0() -> None:
    """Every customer affected is P0, whatever else is true."""
    assert Priority.P0 == triage(
        all_customers_affected=True,
        customer_visible_outage=False,
        some_functionality_affected=False,
    )


def test_triage_no_facts_is_p3() -> None:
    """No impact facts at all is P3, dealt with in a routine manner."""
    assert Priority.P3 == triage(
        all_customers_affected=False,
        customer_visible_outage=False,
        some_functionality_affected=False,
    )


# The runbook's "Examples of P1 Incidents", each as the impact facts a responder would give:
# a customer-visible outage that does not affect every customer.
P1_EXAMPLES = {
    "The Customer is unable to deploy": {"some_functionality_affected": True},
    "The account ran out of nodes to launch": {"some_functionality_affected": True},
    "Certificate expires": {"some_functionality_affected": False},
    "Config Management system is down": {"some_functionality_affected": True},
    "Database is down": {"some_functionality_affected": True},
}


@pytest.mark.parametrize("example", list(P1_EXAMPLES), ids=list(P1_EXAMPLES))
def test_runbook_p1_examples_triage_as_p1(example: str) -> None:
    """Each of the runbook's P1 examples, as a customer-visible partial outage, is P1."""
    facts = P1_EXAMPLES[example]
    assert Priority.P1 == triage(
        all_customers_affected=False, customer_visible_outage=True, **facts
    )


@pytest.mark.parametrize("fact", FACTS)
@pytest.mark.parametrize("value", [None, 0, 1, "yes", "", [], 1.0], ids=repr)
def test_triage_refuses_non_bool(fact: str, value: Any) -> None:
    """A fact that is not a real bool (even 0/1 or a truthy string) raises InvalidInput."""
    facts: dict[str, Any] = dict.fromkeys(FACTS, False)
    facts[fact] = value
    with pytest.raises(InvalidInput, match=fact) as info:
        triage(**facts)
    assert isinstance(info.value, IncidentFlowError)
    assert isinstance(info.value, ValueError)


def test_triage_facts_are_keyword_only() -> None:
    """triage takes its facts by name only, so they cannot be swapped by position."""
    with pytest.raises(TypeError):
        triage(True, False, False)  # type: ignore[call-arg]
