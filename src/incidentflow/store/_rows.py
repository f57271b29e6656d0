"""How an incident's summary is kept as a row of the ``incidents`` table, on every SQL store.

SQLite and PostgreSQL write and read the same columns in the same form (times as ISO 8601
text, ``declared_at`` as the UTC key that sorts), and filter them the same way; only the
parameter mark differs (``?`` or ``%s``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from incidentflow.lifecycle import State
from incidentflow.priorities import Priority

from ._base import IncidentSummary
from ._keys import _utc_key

SUMMARY_COLUMNS = "incident_id, title, priority, state, began_at, declared_at, updated_at, version"
"""The ``incidents`` columns a summary is written to and read from, in this order."""

SUMMARY_UPDATE = ", ".join(
    f"{column} = excluded.{column}" for column in (*SUMMARY_COLUMNS.split(", ")[1:], "seal")
)
"""The ``SET`` list of an upsert of an incident's summary row and its seal (by its id)."""

HEAD_HASH = (
    "(SELECT hash FROM events WHERE events.incident_id = incidents.incident_id "
    "ORDER BY version DESC LIMIT 1)"
)
"""A sub-query for the hash of an incident's latest event (to check a summary's seal)."""


def summary_row(summary: IncidentSummary) -> tuple[Any, ...]:
    """``summary`` as the values of :data:`SUMMARY_COLUMNS`."""
    return (
        summary.incident_id,
        summary.title,
        summary.priority.value,
        summary.state.value,
        summary.began_at.isoformat(),
        _utc_key(summary.declared_at),
        summary.updated_at.isoformat(),
        summary.version,
    )


def summary_of(row: Sequence[Any]) -> IncidentSummary:
    """The summary the values of :data:`SUMMARY_COLUMNS` hold."""
    incident_id, title, priority, state, began_at, declared_at, updated_at, version = row
    return IncidentSummary(
        incident_id=incident_id,
        title=title,
        priority=Priority(priority),
        state=State(state),
        began_at=datetime.fromisoformat(began_at),
        declared_at=datetime.fromisoformat(declared_at),
        updated_at=datetime.fromisoformat(updated_at),
        version=int(version),
    )


def summary_filter(
    state: State | None,
    priority: Priority | None,
    since: datetime | None,
    until: datetime | None,
    *,
    mark: str,
) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (empty when nothing is asked) and its values, with ``mark`` each."""
    conditions: list[str] = []
    values: list[Any] = []
    if state is not None:
        conditions.append(f"state = {mark}")
        values.append(state.value)
    if priority is not None:
        conditions.append(f"priority = {mark}")
        values.append(priority.value)
    if since is not None:
        conditions.append(f"declared_at >= {mark}")
        values.append(_utc_key(since))
    if until is not None:
        conditions.append(f"declared_at < {mark}")
        values.append(_utc_key(until))
    return (f" WHERE {' AND '.join(conditions)}" if conditions else ""), values
