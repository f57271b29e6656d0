"""Corrections, never deletions: what may be amended or retracted, and how the record reads after.

A wrong title, start time, invitee list or note is not rewritten: an
:class:`~incidentflow.events.Amended` or :class:`~incidentflow.events.Retracted` event records
the correction, who made it and why, and the original stays in the history.  The incident's
views, measures and documents read the *corrected record*: every entry with its amendments
applied, the retracted ones and the corrections themselves left out.

Each amendable field is one entry of :data:`AMENDABLE`: the entries it applies to, how its
value is read from text, and how an entry reads once corrected.

>>> sorted(AMENDABLE)
['began', 'declared', 'detected', 'invitees', 'priority', 'text', 'time', 'title']
>>> AMENDABLE["title"].entry_types
(<class 'incidentflow.events.Declared'>,)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import attrs
from attrs import frozen

from . import events as ev
from .errors import InvalidInput
from .priorities import Priority
from .records import Unmet

__all__ = [
    "AMENDABLE",
    "RETRACTABLE",
    "TEXT_FIELDS",
    "Amendable",
    "corrected",
]


def _time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"not an ISO 8601 time: {text!r}") from None
    if value.utcoffset() is None:
        raise InvalidInput(f"the time {text!r} has no UTC offset")
    return value


def _names(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if not names:
        raise InvalidInput(f"not a comma-separated list of names: {text!r}")
    return names


def _text(text: str) -> str:
    return text  # never blank: an amendment's value is refused blank when it is built


TEXT_FIELDS: Mapping[type[ev.Event], str] = MappingProxyType(
    {
        ev.Validated: "evidence",
        ev.NoteAdded: "text",
        ev.UpdatePosted: "message",
        ev.ChangeLogged: "what",
        ev.WhyAnswered: "answer",
        ev.FactorAdded: "description",
        ev.RecoveryVerified: "evidence",
        ev.CustomerVerified: "evidence",
        ev.DebtOpened: "description",
        ev.ActionAdded: "description",
        ev.ExperimentConcluded: "observed",
        ev.PriorityChanged: "reason",
        ev.StateChanged: "message",
        ev.DataLossRecorded: "what",
        ev.LinkAbsent: "reason",
        ev.ImpactChanged: "description",
    }
)
"""The text an ``amend ... text`` corrects, for each kind of entry that has one."""

_CORRECTIONS = (ev.Amended, ev.Retracted)
_TIMED = tuple(kind for kind in ev.EVENT_TYPES.values() if kind not in (ev.Declared, *_CORRECTIONS))


@frozen
class Amendable:
    """One amendable field: the entries it applies to, how to read it, how it corrects.

    ``own`` marks a field of the incident itself, kept on its declaration (the first entry),
    which the amendment does not name.  ``read`` turns the text value into the field's value
    (raising :class:`~incidentflow.errors.InvalidInput`), ``current`` reads the field of an
    entry as text, and ``apply`` returns the entry corrected.
    """

    name: str
    description: str
    entry_types: tuple[type[ev.Event], ...]
    read: Callable[[str], Any]
    current: Callable[[ev.Event], str]
    apply: Callable[[ev.Event, Any], ev.Event]
    own: bool = False


def _evolve(event: ev.Event, **changes: Any) -> ev.Event:
    """``event`` with ``changes``: its validators check them once more."""
    fixed: ev.Event = attrs.evolve(event, **changes)
    return fixed


def _text_of(event: ev.Event) -> str:
    value: str = getattr(event, TEXT_FIELDS[type(event)])
    return value


def _with_text(event: ev.Event, value: str) -> ev.Event:
    return _evolve(event, **{TEXT_FIELDS[type(event)]: value})


def _priority_of(event: Any) -> str:
    return str(event.priority.value)


def _shown_time(value: datetime | None) -> str:
    return "" if value is None else value.isoformat()


def _with_onset(event: ev.Event, value: datetime) -> ev.Event:
    """The declaration with its onset corrected, in the form it was written in."""
    assert isinstance(event, ev.Declared)
    if event.began is None:
        return attrs.evolve(event, occurred_at=value)
    return attrs.evolve(event, began=value)


def _declared_time(event: ev.Event) -> str:
    """The declaration time as text; a time not known reads as such, with its bound."""
    assert isinstance(event, ev.Declared)
    shown = event.declared_time.isoformat()
    return f"not known (by {shown})" if event.is_unknown() else shown


def _with_declared_time(event: ev.Event, value: datetime) -> ev.Event:
    """The declaration with its declaration time corrected, in the form it was written in.

    A time not known until now is known once corrected.
    """
    assert isinstance(event, ev.Declared)
    if event.began is None:
        return attrs.evolve(event, recorded_at=value)
    return attrs.evolve(event, occurred_at=value, unknown=())


AMENDABLE: Mapping[str, Amendable] = MappingProxyType(
    {
        a.name: a
        for a in (
            Amendable(
                "title",
                "The incident's title.",
                (ev.Declared,),
                _text,
                lambda e: e.title,  # type: ignore[attr-defined]
                lambda e, v: _evolve(e, title=v),
                own=True,
            ),
            Amendable(
                "began",
                "When the impact began (the onset; in declarations written before the onset "
                "was told apart, the declaration's occurred_at).",
                (ev.Declared,),
                _time,
                lambda e: e.onset.isoformat(),  # type: ignore[attr-defined]
                _with_onset,
                own=True,
            ),
            Amendable(
                "detected",
                "When the problem was detected.",
                (ev.Declared,),
                _time,
                lambda e: _shown_time(e.detected_at),  # type: ignore[attr-defined]
                lambda e, v: _evolve(e, detected_at=v),
                own=True,
            ),
            Amendable(
                "declared",
                "When the incident was declared (in declarations written before the onset was "
                "told apart, the declaration's recorded_at).",
                (ev.Declared,),
                _time,
                _declared_time,
                _with_declared_time,
                own=True,
            ),
            Amendable(
                "priority",
                "The priority a declaration or a priority change set (the priority history).",
                (ev.Declared, ev.PriorityChanged),
                Priority.parse,
                _priority_of,
                lambda e, v: _evolve(e, priority=v),
            ),
            Amendable(
                "invitees",
                "Who a post-mortem scheduling invited (comma-separated names).",
                (ev.PostMortemScheduled,),
                _names,
                lambda e: ", ".join(e.invitees),  # type: ignore[attr-defined]
                lambda e, v: _evolve(e, invitees=v),
            ),
            Amendable(
                "text",
                "An entry's text: a note, an update, an answer, a description (see TEXT_FIELDS).",
                tuple(TEXT_FIELDS),
                _text,
                _text_of,
                _with_text,
            ),
            Amendable(
                "time",
                "When an entry happened (its occurred_at); for the incident's start, 'began'.",
                _TIMED,
                _time,
                lambda e: e.occurred_at.isoformat(),
                lambda e, v: attrs.evolve(e, occurred_at=v),
            ),
        )
    }
)
"""Every amendable field, by the name ``amend`` takes."""

RETRACTABLE: tuple[type[ev.Event], ...] = (
    ev.NoteAdded,
    ev.UpdatePosted,
    ev.FactorAdded,
    ev.DataLossRecorded,
)
"""The entries a retraction may withdraw: those no later entry or rule builds on."""


def corrected(
    events: Sequence[ev.Event], corrections: Mapping[int, ev.Event | None]
) -> list[ev.Event]:
    """The corrected record: ``events`` with corrections applied, the withdrawn left out.

    ``corrections`` maps an entry's number (from 1) to its corrected event, or ``None`` when
    it was retracted.  Corrections themselves are not part of the corrected record.
    """
    out: list[ev.Event] = []
    for number, event in enumerate(events, start=1):
        if isinstance(event, _CORRECTIONS):
            continue
        if number in corrections:
            fixed = corrections[number]
            if fixed is not None:
                out.append(fixed)
        else:
            out.append(event)
    return out


# -- rules ------------------------------------------------------------------------------------


def _entry_unmet(
    events: Sequence[ev.Event],
    corrections: Mapping[int, ev.Event | None],
    entry: int,
    kinds: tuple[type[ev.Event], ...],
) -> list[Unmet]:
    if entry > len(events):
        return [Unmet("known_entry", f"there is no entry {entry} (the last is {len(events)})")]
    original = events[entry - 1]
    if entry in corrections and corrections[entry] is None:
        return [Unmet("not_retracted", f"entry {entry} is retracted")]
    if not isinstance(original, kinds):
        return [
            Unmet("correctable_entry", f"entry {entry} ({original.type}) cannot be corrected so")
        ]
    return []


def amendment_unmet(
    events: Sequence[ev.Event],
    corrections: Mapping[int, ev.Event | None],
    event: ev.Amended,
) -> list[Unmet]:
    """Every rule the amendment ``event`` breaks on an incident's ``events``."""
    amendable = AMENDABLE.get(event.field_name)
    if amendable is None:
        return [
            Unmet(
                "amendable_field",
                f"{event.field_name!r} cannot be amended "
                f"(amendable: {', '.join(sorted(AMENDABLE))})",
            )
        ]
    if amendable.own != (event.entry is None):
        want = "names no entry" if amendable.own else "names the entry it corrects"
        return [Unmet("amendable_field", f"an amendment of {event.field_name} {want}")]
    entry = 1 if event.entry is None else event.entry
    found = _entry_unmet(events, corrections, entry, amendable.entry_types)
    if found:
        return found
    current = corrections.get(entry) or events[entry - 1]
    try:
        value = amendable.read(event.value)
    except InvalidInput as exc:
        return [Unmet("amended_value", f"{event.field_name}: {exc}")]
    if amendable.current(current) == amendable.current(amendable.apply(current, value)):
        return [Unmet("amendment_changes", f"{event.field_name} already reads {event.value!r}")]
    fixed = amendable.apply(current, value)
    return _times_unmet(events, corrections, entry, fixed, event.recorded_at)


_ZERO = timedelta(0)


def _times_unmet(
    events: Sequence[ev.Event],
    corrections: Mapping[int, ev.Event | None],
    entry: int,
    fixed: ev.Event,
    now: datetime,
) -> list[Unmet]:
    """The timing rules the corrected record breaks once ``entry`` reads ``fixed``."""
    from .policy import PRECURSOR_WINDOW, PRECURSORS

    record = corrected(events, {**corrections, entry: fixed})
    declaration = record[0]
    assert isinstance(declaration, ev.Declared)
    began = declaration.onset
    found: list[Unmet] = []
    detected = getattr(fixed, "detected_at", None)
    if fixed.occurred_at > fixed.recorded_at or fixed.recorded_at > now:
        found.append(Unmet("not_in_future", f"entry {entry} would happen after it was recorded"))
    elif detected is not None and detected > now:
        found.append(Unmet("not_in_future", "the detection would come after it was recorded"))
    early = [
        e
        for e in record[1:]
        if e.occurred_at < began - (PRECURSOR_WINDOW if isinstance(e, PRECURSORS) else _ZERO)
    ]
    if early:
        found.append(
            Unmet(
                "not_before_start",
                f"{len(early)} {'entry' if len(early) == 1 else 'entries'} would happen before "
                "the incident began",
            )
        )
    moves = [
        declaration.occurred_at,
        *(e.occurred_at for e in record if isinstance(e, ev.StateChanged)),
    ]
    if any(b < a for a, b in itertools.pairwise(moves)):
        found.append(Unmet("moves_in_order", "the moves would no longer be in order"))
    return found


def retraction_unmet(
    events: Sequence[ev.Event],
    corrections: Mapping[int, ev.Event | None],
    event: ev.Retracted,
) -> list[Unmet]:
    """Every rule the retraction ``event`` breaks on an incident's ``events``."""
    return _entry_unmet(events, corrections, event.entry, RETRACTABLE)
