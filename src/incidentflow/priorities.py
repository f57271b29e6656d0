"""Incident priorities P0–P3, as the runbook defines them, and a triage helper."""

from __future__ import annotations

import functools

from ._vocabulary import Vocabulary

__all__ = ["Priority", "triage"]


@functools.total_ordering
class Priority(Vocabulary):
    """How bad an incident is, from P0 (critical) to P3 (low impact).

    >>> Priority.P1.title
    'Major Incident'
    >>> Priority.P0 < Priority.P2  # lower number, more urgent
    True
    """

    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"

    @property
    def rank(self) -> int:
        """0 for P0 up to 3 for P3; lower is more urgent."""
        return int(self.value[1])

    @property
    def title(self) -> str:
        """The runbook's name for the priority."""
        return _TITLES[self]

    @property
    def definition(self) -> str:
        """The runbook's definition of the priority."""
        return _DEFINITIONS[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Priority):
            return NotImplemented
        return self.rank < other.rank


_TITLES = {
    Priority.P0: "Critical Incident",
    Priority.P1: "Major Incident",
    Priority.P2: "Minor Incident",
    Priority.P3: "Low Impact Incident",
}

_DEFINITIONS = {
    Priority.P0: "A complete outage or a severe degradation that affects all customers and "
    "requires immediate attention.",
    Priority.P1: "A customer-visible outage that interrupts the functionality or behavior of "
    "the platform.",
    Priority.P2: "May affect some functionality but doesn't lead to an entire system failure.",
    Priority.P3: "May have an impact, but it's something that can be dealt with in a routine "
    "manner.",
}


def triage(
    *,
    all_customers_affected: bool,
    customer_visible_outage: bool,
    some_functionality_affected: bool,
) -> Priority:
    """Suggest a priority from impact facts, following the runbook's definitions.

    The most severe fact wins: every customer affected is P0; a customer-visible outage is P1
    (the runbook's examples: a customer unable to deploy, a database down); some functionality
    affected is P2; anything else is P3.

    >>> triage(all_customers_affected=False, customer_visible_outage=True,
    ...        some_functionality_affected=True)
    <Priority.P1: 'P1'>
    """
    from .errors import InvalidInput

    facts = {
        "all_customers_affected": all_customers_affected,
        "customer_visible_outage": customer_visible_outage,
        "some_functionality_affected": some_functionality_affected,
    }
    for name, value in facts.items():
        if not isinstance(value, bool):
            raise InvalidInput(f"{name} must be a bool, not {type(value).__name__}")
    if all_customers_affected:
        return Priority.P0
    if customer_visible_outage:
        return Priority.P1
    if some_functionality_affected:
        return Priority.P2
    return Priority.P3
