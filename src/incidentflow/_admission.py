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

from . import events as ev
from .clock import EARLIEST, LATEST, require_aware, require_not_future
from .errors import InvalidInput
from .events import Event
from .identities import IDENTITY_FIELDS, require_identity

__all__ = ["admit", "builder", "require_text"]

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


# -- the commands' builders: each field checked once ------------------------------------------
#
# A command's values would be checked twice: by the event class's validators, then by admission.
# A builder makes both checks in one pass: for each field, a test that holds only of values the
# field's validator accepts *and* its admission check returns as they are (a name already in
# NFC, a time in range, encodable text).  When every field passes, it fills the frozen slots
# directly; when any does not, it returns None and the command takes the full path (the
# validated constructor, then ``admit``), so every refusal and every normalization still comes
# from the checks themselves, with the same message.  A builder never raises.

_TESTS: dict[tuple[Any, Any], str] = {
    # (the field's validator, its admission check): a test of ``v`` that implies both pass
    (ev._text, require_identity): _IDENTITY,
    (ev._text, require_text): "(type(v) is str and v.isascii() and v.strip() != '')",
    (ev._optional_text, require_text): "(type(v) is str and v.isascii())",
    (ev._optional_name, require_identity): f"(v is None or {_IDENTITY})",
    (ev._optional_name, require_text): (
        "(v is None or (type(v) is str and v.isascii() and v.strip() != ''))"
    ),
    (ev._aware, _moment): _MOMENT,
    (ev._optional_aware, _moment): f"(v is None or {_MOMENT})",
    (ev._names, _identities): (
        "(type(v) is tuple and v != () and len(set(v)) == len(v) and all("
        + _IDENTITY.replace("v", "s")  # each name, as s (the test's only "v" is the value)
        + " for s in v))"
    ),
    (ev._components, require_text): (
        "(type(v) is tuple and (v == () or (len(set(v)) == len(v) and "
        "all(type(s) is str and s.strip() != '' for s in v))))"
    ),
    (ev._unknown, require_text): "(type(v) is tuple and v == ())",
    (ev._count, require_text): "(type(v) is int and v >= 1)",
    (ev._optional_count, require_text): "(v is None or (type(v) is int and v >= 1))",
    (ev._share, require_text): (
        "(v is None or ((type(v) is int or type(v) is float) and 0 <= v <= 100))"
    ),
}
"""What a builder tests of each field's value (see above)."""

_STAMPED = frozenset({"occurred_at", "recorded_at", "approximate"})
"""The fields a builder fills itself: the stamp twice, and no time marked approximate."""

_MISSING: Any = object()

_Builder = Callable[[datetime, datetime, "dict[str, Any]"], "Event | None"]
_BUILDERS: dict[type[Event], _Builder | None] = {}


def builder(kind: type[Event]) -> _Builder | None:
    """The builder of ``kind`` for the commands, generated once per class; None when there is none.

    ``builder(kind)(occurred, recorded, fields)`` is the event of ``fields`` (every field of
    ``kind`` but the three it fills: ``occurred_at`` and ``recorded_at``, and ``approximate``,
    empty) exactly as the validated constructor builds it and :func:`admit` (normalizing)
    returns it -- or None when a value needs either to look closer.  A class whose constructor
    does more than validate (a converter, a post-init step), or with a field no test above
    covers, has no builder.
    """
    if kind in _BUILDERS:
        return _BUILDERS[kind]
    made = _BUILDERS[kind] = _builder(kind)
    return made


def _builder(kind: type[Event]) -> _Builder | None:
    if hasattr(kind, "__attrs_post_init__"):
        return None
    names: dict[str, Any] = {
        "UTC": UTC,
        "EARLIEST": EARLIEST,
        "LATEST": LATEST,
        "datetime": datetime,
        "kind": kind,
        "new": object.__new__,
        "missing": _MISSING,
    }
    checks = {name: check for name, check, _ in _checks(kind)}
    lines = [
        "def build(occurred, recorded, fields):",
        "    v = recorded",
        f"    if not {_MOMENT}: return None",
        "    v = occurred",
        f"    if v is not recorded and not {_MOMENT}: return None",
    ]
    sets = []
    for number, field in enumerate(attrs.fields(kind)):
        names[f"set_{number}"] = getattr(kind, field.name).__set__
        if field.name in _STAMPED:
            filled = "()" if field.name == "approximate" else field.name.partition("_")[0]
            sets.append(f"    set_{number}(e, {filled})")
            continue
        if field.converter is not None:
            return None
        check = checks[field.name]
        check = _WRAPPED.get(check, check)
        member = ev._MEMBER_CHECKS.get(field.validator)
        if member is not None:
            names[f"kind_{number}"] = member[0]
            test = f"type(v) is kind_{number}"
            test = f"(v is None or {test})" if member[1] else test
            if check is not require_text:
                return None
        else:
            found = _TESTS.get((field.validator, check))
            if found is None:
                return None
            test = found
        if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            return None
        default = "missing" if field.default is attrs.NOTHING else f"default_{number}"
        names[f"default_{number}"] = field.default
        lines.append(f"    v = v_{number} = fields.get({field.name!r}, {default})")
        lines.append(f"    if not {test}: return None")
        sets.append(f"    set_{number}(e, v_{number})")
    lines += ["    e = new(kind)", *sets, "    return e"]
    exec(compile("\n".join(lines), f"<builder of {kind.__name__}>", "exec"), names)
    made: _Builder = names["build"]
    return made
