"""What a new event must be before it is written: sane names, sane times, encodable text.

Every way into the record runs :func:`admit` on each event it is given — the incident's
commands (which normalize names to NFC), :meth:`Store.append <incidentflow.store.Store.append>`
and ``import``/``validate`` (which refuse names that are not already NFC, since they must store
what they were given).  Stored events are never admitted again: a history written before these
checks keeps loading.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs
from attrs import evolve

from .clock import require_aware, require_not_future
from .errors import InvalidInput
from .events import Event
from .identities import IDENTITY_FIELDS, require_identity

__all__ = ["admit", "require_text"]

_Check = Callable[[Any, str], Any]
"""A field's check: returns the value to keep (normalized) or raises ``InvalidInput``."""


def require_text(value: object, name: str) -> object:
    r"""``value`` if it is not a string or a string that can be written as UTF-8.

    A lone surrogate (``"\ud800"``, which JSON can spell and a non-UTF-8 command line argument
    becomes) can be held in memory but never stored nor printed.
    """
    if type(value) is str and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = value[exc.start]
            raise InvalidInput(
                f"{name} holds U+{ord(bad):04X}, a lone surrogate, which is not text "
                "(was the input UTF-8?)"
            ) from None
    return value


def _identities(value: Any, name: str) -> tuple[str, ...]:
    names = tuple(require_identity(v, f"{name}[{i}]") for i, v in enumerate(value))
    if len(set(names)) != len(names):
        raise InvalidInput(f"{name} names someone twice: {list(names)!r}")
    return names


def _moment(value: Any, name: str) -> datetime:
    return require_aware(value, name)


def _unless_none(check: _Check) -> _Check:
    """``check`` for a field that may also be ``None`` (not known)."""

    def optional(value: Any, name: str) -> Any:
        return None if value is None else check(value, name)

    return optional


_CHECKS: dict[type[Event], tuple[tuple[str, _Check, str], ...]] = {}


def _checks(kind: type[Event]) -> tuple[tuple[str, _Check, str], ...]:
    """Each field of ``kind``, the check its value gets and its label, worked out once per class."""
    found = _CHECKS.get(kind)
    if found is None:
        chosen: list[tuple[str, _Check, str]] = []
        for field in attrs.fields(kind):
            label = f"{kind.__name__}.{field.name}"
            if field.name in IDENTITY_FIELDS:
                tupled = field.type in (tuple[str, ...], "tuple[str, ...]")
                check = _identities if tupled else require_identity
                optional = field.type in ("str | None", str | None)
                chosen.append((field.name, _unless_none(check) if optional else check, label))
            elif field.type in (datetime, "datetime"):
                chosen.append((field.name, _moment, label))
            elif field.type in ("datetime | None", datetime | None):
                chosen.append((field.name, _unless_none(_moment), label))
            else:
                chosen.append((field.name, require_text, label))
        found = _CHECKS[kind] = tuple(chosen)
    return found


def admit(
    event: Event, *, normalize: bool = False, now: datetime | None = None, where: str = ""
) -> Event:
    """``event`` after checking every field; ``InvalidInput`` naming the first bad one.

    Names must be identities (see :mod:`incidentflow.identities`); with ``normalize`` they
    are put in NFC, else a name not in NFC is refused.  Times must be in the supported range
    (see :mod:`incidentflow.clock`); with ``now``, ``recorded_at`` may not be later than
    ``now`` plus the allowed skew.  Text must be encodable.  ``where`` prefixes every message.
    """
    kind = type(event)
    changes: dict[str, Any] = {}
    for name, check, label in _checks(kind):
        value = getattr(event, name)
        if where:
            label = where + label
        kept = check(value, label)
        if kept is not value and kept != value:  # a check returns the value itself when kept
            if not normalize:
                raise InvalidInput(f"{label} {value!r} is not in Unicode NFC form")
            changes[name] = kept
    if now is not None:
        require_not_future(event.recorded_at, f"{where}{kind.__name__}.recorded_at", now=now)
    return evolve(event, **changes) if changes else event
