"""What a new event must be before it is written: sane names, sane times, encodable text.

Every way into the record runs :func:`admit` on each event it is given — the incident's
commands (which normalize names to NFC), :meth:`Store.append <incidentflow.store.Store.append>`
and ``import``/``validate`` (which refuse names that are not already NFC, since they must store
what they were given).  Stored events are never admitted again: a history written before these
checks keeps loading.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import attrs
from attrs import evolve

from .clock import EARLIEST, LATEST, require_aware, require_not_future
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


_WRAPPED: dict[_Check, _Check] = {}
"""Each check made by :func:`_unless_none`, with the check it wraps."""


def _unless_none(check: _Check) -> _Check:
    """``check`` for a field that may also be ``None`` (not known)."""

    def optional(value: Any, name: str) -> Any:
        return None if value is None else check(value, name)

    _WRAPPED[optional] = check
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


# A value these tests pass is one its check returns as it is, raising nothing: so the
# compiled admission below calls a check only for the values the tests cannot vouch for, and
# every refusal (and every name put in NFC) still comes from the check itself.
_IDENTITY = (  # printable ASCII: nothing invisible, already NFC; no space at either end
    "(type(v) is str and v.isascii() and v.isprintable() and v != '' "
    "and v[0] != ' ' and v[-1] != ' ')"
)
_MOMENT = "(type(v) is datetime and v.tzinfo is UTC and EARLIEST <= v <= LATEST)"
_PASSES: dict[Any, str] = {
    require_identity: _IDENTITY,
    _moment: _MOMENT,
    require_text: "(type(v) is not str or v.isascii())",
}

_Admission = Callable[[Event, bool, str], "dict[str, Any] | None"]
_COMPILED: dict[type[Event], _Admission] = {}


def _compiled(kind: type[Event]) -> _Admission:
    """The checks of ``kind``'s fields as one function, generated once per class.

    It checks each field in turn, exactly as :func:`admit` describes, and returns the changed
    values (names put in NFC) or ``None``.  Generated, like the attrs ``__init__`` it mirrors,
    since a loop over the fields costs several times as much on the path of every command.
    """
    found = _COMPILED.get(kind)
    if found is not None:
        return found
    names: dict[str, Any] = {
        "UTC": UTC,
        "EARLIEST": EARLIEST,
        "LATEST": LATEST,
        "datetime": datetime,
        "InvalidInput": InvalidInput,
    }
    lines = ["def admission(event, normalize, where):", "    changes = None"]
    for number, (name, check, label) in enumerate(_checks(kind)):
        wrapped = _WRAPPED.get(check)
        passes = _PASSES.get(wrapped if wrapped is not None else check)
        if passes is not None and wrapped is not None:
            passes = f"(v is None or {passes})"
        names[f"check_{number}"] = check
        lines.append(f"    v = event.{name}")
        lines.append(f"    if not {passes or 'False'}:")
        lines += [
            f"        label = where + {label!r}",
            f"        kept = check_{number}(v, label)",
            "        if kept is not v and kept != v:",
            "            if not normalize:",
            "                raise InvalidInput(f'{label} {v!r} is not in Unicode NFC form')",
            "            if changes is None:",
            "                changes = {}",
            f"            changes[{name!r}] = kept",
        ]
    lines.append("    return changes")
    exec(compile("\n".join(lines), f"<admission of {kind.__name__}>", "exec"), names)
    made: _Admission = names["admission"]
    _COMPILED[kind] = made
    return made


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
    changes = _compiled(kind)(event, normalize, where)
    if now is not None:
        require_not_future(event.recorded_at, f"{where}{kind.__name__}.recorded_at", now=now)
    return evolve(event, **changes) if changes else event
