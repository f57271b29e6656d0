"""The one cattrs converter: every (un)structuring hook of incidentflow is written here.

Strict by design: a string field takes only a string, a boolean only a boolean, a datetime
only an ISO 8601 string with a UTC offset; unknown keys are refused.
"""

from __future__ import annotations

import enum
import functools
import operator
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, get_type_hints

import attrs
from cattrs import Converter, transform_error
from cattrs.errors import BaseValidationError, CattrsError, ForbiddenExtraKeysError
from cattrs.gen import make_dict_unstructure_fn, override
from cattrs.v import format_exception

from ._vocabulary import Vocabulary
from .errors import InvalidInput, PolicyError
from .events import EVENT_TYPES, Amended, Declared, NoteAdded, RecordedPolicy, WhyAnswered
from .roles import Role

__all__ = ["converter", "describe", "event_builders", "format_duration", "parse_duration"]

converter = Converter(forbid_extra_keys=True, detailed_validation=False)


def _strict(kind: type[Any]) -> Any:
    def structure(value: Any, _: Any) -> Any:
        if type(value) is not kind:
            raise InvalidInput(f"expected {kind.__name__}, got {value!r}")
        return value

    return structure


for _kind in (str, bool, int):
    converter.register_structure_hook(_kind, _strict(_kind))


def _structure_datetime(value: Any, _: Any) -> datetime:
    if type(value) is not str:
        raise InvalidInput(f"expected an ISO 8601 timestamp string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"not an ISO 8601 timestamp: {value!r}") from exc
    if parsed.utcoffset() is None:
        raise InvalidInput(f"timestamp {value!r} has no UTC offset (naive datetimes are refused)")
    return parsed


converter.register_structure_hook(datetime, _structure_datetime)
converter.register_unstructure_hook(datetime, datetime.isoformat)

_DURATION = re.compile(r"([0-9]+)([dhms])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_LONGEST = timedelta(days=3650)
"""No duration read is longer (each field of a policy has tighter bounds of its own)."""


def parse_duration(text: str) -> timedelta:
    """Read a duration such as ``"30m"``, ``"1h30m"`` or ``"5d"``, of at most ten years."""
    if type(text) is not str or not text or len(text) > 40 or _DURATION.sub("", text):
        shown = repr(text) if type(text) is not str or len(text) <= 40 else f"{text[:40]!r}..."
        raise InvalidInput(f"not a duration like '30m', '1h30m' or '5d': {shown}")
    total = timedelta(0)
    for number, unit in _DURATION.findall(text):
        if len(number) > 9:  # more than ten years in any unit
            total = _LONGEST * 2
            break
        total += timedelta(**{_UNITS[unit]: int(number)})
    if total > _LONGEST:
        raise InvalidInput(f"{text!r} is longer than ten years, the longest duration read")
    return total


def format_duration(value: timedelta) -> str:
    """Write a duration the way :func:`parse_duration` reads it."""
    seconds = int(value.total_seconds())
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out) or "0s"


converter.register_structure_hook(timedelta, lambda v, _: parse_duration(v))
converter.register_unstructure_hook(timedelta, format_duration)


def _structure_roles(value: Any, _: Any) -> frozenset[Role] | None:
    if value == "anyone":
        return None
    if type(value) is not list:
        raise InvalidInput(f"expected a list of roles or 'anyone', got {value!r}")
    return frozenset(_enum_member(Role, v) for v in value)


def _enum_member(kind: type[enum.Enum], value: Any) -> Any:
    try:
        return kind(value)
    except ValueError:
        names = ", ".join(repr(m.value) for m in kind)
        raise InvalidInput(f"{value!r} is not one of {names}") from None


def _unstructure_roles(value: frozenset[Role] | None) -> Any:
    if value is None:
        return "anyone"
    return sorted(r.value for r in value)


_OPTIONAL_ROLES = frozenset[Role] | None
converter.register_structure_hook_func(lambda t: t == _OPTIONAL_ROLES, _structure_roles)
converter.register_unstructure_hook_func(lambda t: t == _OPTIONAL_ROLES, _unstructure_roles)
converter.register_structure_hook_func(
    lambda t: isinstance(t, type) and issubclass(t, enum.Enum),
    lambda v, t: _enum_member(t, v),
)


def _structure_frozenset(value: Any, kind: Any) -> frozenset[Any]:
    if type(value) is not list:
        raise InvalidInput(f"expected a list, got {value!r}")
    (member,) = kind.__args__
    return frozenset(converter.structure(v, member) for v in value)


converter.register_structure_hook_func(
    lambda t: getattr(t, "__origin__", None) is frozenset, _structure_frozenset
)
converter.register_unstructure_hook_func(
    lambda t: getattr(t, "__origin__", None) is frozenset,
    lambda v: sorted(converter.unstructure(m) for m in v),
)


def _structure_tuple_of_str(value: Any, _: Any) -> tuple[str, ...]:
    if type(value) is not list or not all(type(v) is str for v in value):
        raise InvalidInput(f"expected a list of strings, got {value!r}")
    return tuple(value)


converter.register_structure_hook_func(lambda t: t == tuple[str, ...], _structure_tuple_of_str)


def _optional_enum(hint: Any) -> type[enum.Enum] | None:
    """The enum of an ``Enum | None`` hint, else ``None``."""
    members = [a for a in getattr(hint, "__args__", ()) if a is not type(None)]
    if len(members) == 1 and len(hint.__args__) == 2:
        (member,) = members
        if isinstance(member, type) and issubclass(member, enum.Enum):
            return member
    return None


# -- events: builders for reading, which bypass the constructor -------------------------------
#
# Reading a history builds one event per line, and the validated frozen constructor (one
# validator call per field, one ``object.__setattr__`` per field) costs as much as parsing the
# line.  A builder reads a parsed line (``schema`` and ``type`` included) and makes the same
# checks inline -- cheaper sufficient conditions are fine, since a builder that returns None
# hands the line to the full path -- then sets the slots directly.  Its ``trusted`` variant,
# for rows whose hash chain was verified on read (they were validated when appended), keeps
# the checks of type (every field holds its declared type, every timestamp an offset) and
# drops those of value (non-blank, sorted, distinct, in range).  A builder never raises.

_MISSING: Any = object()


def _member_of(check: Any, *, optional: bool = False) -> Any:
    """The class an ``events._member`` (or ``_optional_member``) validator checks, else None."""
    expected = "_optional_member.<locals>.optional" if optional else "_member.<locals>.check"
    if getattr(check, "__qualname__", "") != expected:
        return None
    cells = dict(zip(check.__code__.co_freevars, check.__closure__ or (), strict=True))
    if optional:
        return _member_of(cells["check"].cell_contents)
    return cells["kind"].cell_contents


def _builder_lines(
    kind: type[Any], namespace: dict[str, Any], *, trusted: bool
) -> list[str] | None:
    """The body of ``kind``'s builder; None when one of its fields is not covered."""
    from . import events as ev

    if hasattr(kind, "__attrs_post_init__") or any(
        f.converter is not None for f in attrs.fields(kind)
    ):
        return None  # the constructor does more than validate: let it run
    hints = get_type_hints(kind)
    lines = ["n = 2"]
    checks: list[str] = []
    stamps: list[tuple[str, str]] = []  # (raw, value) of the timestamps read so far
    required = 2  # schema and type
    for number, f in enumerate(attrs.fields(kind)):
        hint, value, raw = hints[f.name], f"v{number}", f"r{number}"
        namespace[f"set{number}"] = getattr(kind, f.name).__set__
        check = f.validator
        converted: list[str]  # turns ``raw`` into ``value``, or raises
        condition: str  # holds of ``value`` when the validator would accept it
        if hint is datetime and check is ev._aware:
            # An event's times are often the same instant (occurred_at is recorded_at): one
            # datetime serves both (they are immutable).
            # Each parsed one is checked as it is parsed; one reused was checked already.
            converted = [f"if type({raw}) is not str: return None"]
            for before, parsed in stamps:
                converted.append(f"elif {raw} == {before}: {value} = {parsed}")
            converted += [
                "else:",
                f"    {value} = iso({raw})",
                f"    if {value}.tzinfo is None: return None",
            ]
            condition = ""
            if f.default is attrs.NOTHING:
                stamps.append((raw, value))
        elif hint == datetime | None and check is ev._optional_aware:
            converted = [
                f"if {raw} is None: {value} = None",
                f"elif type({raw}) is not str: return None",
                f"else: {value} = iso({raw})",
            ]
            condition = f"({value} is None or {value}.tzinfo is not None)"
        elif hint is str and check in (ev._text, ev._optional_text):
            converted = [f"{value} = {raw}"]
            condition = f"type({value}) is str"
            if check is ev._text and not trusted:
                condition += f" and {value}.strip()"  # not blank
        elif hint == str | None and check is ev._optional_name:
            converted = [f"{value} = {raw}"]
            condition = (
                f"({value} is None or type({value}) is str)"
                if trusted
                else f"({value} is None or (type({value}) is str and {value}.strip()))"
            )
        elif hint is bool and _member_of(check) is bool:
            converted = [f"{value} = {raw}"]
            condition = f"type({value}) is bool"
        elif isinstance(hint, type) and issubclass(hint, enum.Enum) and _member_of(check) is hint:
            namespace[f"members{number}"] = {m.value: m for m in hint}
            converted = [f"{value} = members{number}[{raw}]"]
            condition = ""
        elif (member := _optional_enum(hint)) is not None and _member_of(check, optional=True) is (
            member
        ):
            namespace[f"members{number}"] = {m.value: m for m in member}
            converted = [f"{value} = None if {raw} is None else members{number}[{raw}]"]
            condition = ""
        elif hint == tuple[str, ...] and check in (ev._names, ev._components, ev._approximate):
            converted = [f"if type({raw}) is not list: return None", f"{value} = tuple({raw})"]
            strings = f"all(type(s) is str for s in {value})"
            if check is ev._approximate:
                namespace[f"times{number}"] = ev._time_fields(kind)
                condition = (
                    f"({value} == () or ({strings} and "
                    f"all(s in times{number} for s in {value}) and "
                    f"list({value}) == sorted(set({value}))))"
                )
                if trusted:
                    condition = f"({value} == () or {strings})"
            else:
                if trusted:
                    names = strings
                else:
                    nonblank = f"all(type(s) is str and s.strip() != '' for s in {value})"
                    names = f"{nonblank} and len(set({value})) == len({value})"
                empty = "==" if check is ev._components else "!="
                joint = "or" if check is ev._components else "and"
                condition = f"({value} {empty} () {joint} ({names}))"
        elif hint is int and check is ev._count:
            converted = [f"{value} = {raw}"]
            condition = f"type({value}) is int" + ("" if trusted else f" and {value} >= 1")
        elif hint == int | None and check is ev._optional_count:
            converted = [f"{value} = {raw}"]
            condition = (
                f"({value} is None or type({value}) is int"
                + ("" if trusted else f" and {value} >= 1")
                + ")"
            )
        elif hint == float | None and check is ev._share:
            converted = [f"{value} = {raw}"]
            number_ = f"(type({value}) is int or type({value}) is float)"
            if not trusted:
                number_ = f"({number_} and 0 <= {value} <= 100)"
            condition = f"({value} is None or {number_})"
        elif hint == ev.RecordedPolicy | None and _member_of(check, optional=True) is (
            ev.RecordedPolicy
        ):
            # A declaration's policy: read by its own hook, whose every check it keeps.
            namespace["recorded"] = _read_recorded
            converted = [f"{value} = None if {raw} is None else recorded({raw})"]
            condition = ""
        elif hint is ev.RecordedPolicy and _member_of(check) is ev.RecordedPolicy:
            namespace["recorded"] = _read_recorded  # an adopted policy, the same way
            converted = [f"{value} = recorded({raw})"]
            condition = ""
        elif hint == tuple[str, ...] and check is ev._unknown:
            # A declaration's times not known: none, or its time with the onset given (the
            # onset is read before: ``began`` comes first among the fields).
            began = next(n for n, g in enumerate(attrs.fields(kind)) if g.name == "began")
            converted = [f"if type({raw}) is not list: return None", f"{value} = tuple({raw})"]
            condition = f"({value} == () or ({value} == ('occurred_at',) and v{began} is not None))"
        else:  # a field no builder knows: the full path reads it
            return None
        if f.default is attrs.NOTHING:
            required += 1
            lines.append(f"{raw} = o[{f.name!r}]")
            lines.extend(converted)
        else:
            namespace[f"default{number}"] = f.default
            lines.append(f"{raw} = o.get({f.name!r}, missing)")
            lines.append(f"if {raw} is missing: {value} = default{number}")
            lines.append("else:")
            lines.append("    n += 1")
            lines.extend(f"    {line}" for line in converted)
            if condition and eval(condition, {**namespace, value: f.default}):
                # The default passes: only a value read from the line needs the check.
                lines.append(f"    if not ({condition}): return None")
                condition = ""
        if condition:
            checks.append(condition)
    lines[0] = f"n = {required}"
    lines.append(f"if len(o) != n or not ({' and '.join(checks) or 'True'}): return None")
    lines.append("e = new(kind)")
    lines.extend(f"set{number}(e, v{number})" for number in range(len(attrs.fields(kind))))
    lines.append("return e")
    return lines


def _event_builder(kind: type[Any], *, trusted: bool) -> Callable[[dict[str, Any]], Any] | None:
    """A builder of ``kind`` from a parsed line (see above), or None for the full path."""
    namespace: dict[str, Any] = {
        "kind": kind,
        "new": object.__new__,
        "iso": datetime.fromisoformat,
        "missing": _MISSING,
    }
    body = _builder_lines(kind, namespace, trusted=trusted)
    if body is None:
        return None
    lines = [
        "def build(o):",
        "    try:",
        *(f"        {line}" for line in body),
        "    except (KeyError, TypeError, ValueError):",
        "        return None",
    ]
    variant = "trusted" if trusted else "checked"
    exec(
        compile("\n".join(lines), f"<incidentflow {variant} builder {kind.__name__}>", "exec"),
        namespace,
    )
    build: Callable[[dict[str, Any]], Any] = namespace["build"]
    return build


class _Builders(dict[str, Callable[[dict[str, Any]], Any] | None]):
    """Each event type's builder by type tag, generated on first use (None: no builder)."""

    def __init__(self, *, trusted: bool) -> None:
        super().__init__()
        self.trusted = trusted

    def __missing__(self, tag: str) -> Callable[[dict[str, Any]], Any] | None:
        kind = EVENT_TYPES.get(tag)
        if kind is None:
            return None  # not an event type: nothing is kept
        build = self[tag] = _event_builder(kind, trusted=self.trusted)
        return build


def event_builders(*, trusted: bool) -> Mapping[str, Callable[[dict[str, Any]], Any] | None]:
    """Every event type's builder, by type tag; None for unknown tags.

    Each is generated when first asked for, so importing the codec costs none of them.
    """
    return _Builders(trusted=trusted)


_recorded_policy = converter.get_structure_hook(RecordedPolicy)


def _read_recorded(value: Any) -> RecordedPolicy:
    """A declaration's recorded policy for a builder, any failure a ValueError (see above)."""
    try:
        return _structure_recorded_policy(value, RecordedPolicy)
    except Exception as exc:  # the full path reads the line again and says what is wrong
        raise ValueError("not a recorded policy") from exc


def _structure_recorded_policy(value: Any, kind: Any) -> RecordedPolicy:
    if type(value) is not dict:
        raise InvalidInput(f"expected a recorded policy (an object), got {value!r}")
    recorded: RecordedPolicy = _recorded_policy(value, kind)
    return recorded


converter.register_structure_hook(RecordedPolicy, _structure_recorded_policy)


def _structure_share(value: Any, _: Any) -> float:
    if type(value) not in (int, float):
        raise InvalidInput(f"expected a number, got {value!r}")
    number: float = value
    return number


converter.register_structure_hook(float, _structure_share)

# Keys added after events were first written are left out while they hold their default, so
# an event that does not use them is written exactly as it was written then: ``approximate``
# (every event); on a declaration ``policy`` (before incidents recorded their policy) and the
# onset and detection (before they were told apart from the declaration); a note's kind, a
# why's depth and branch, an amendment's entry.
_ADDED_LATER: dict[type[Any], tuple[str, ...]] = {
    Declared: ("policy", "began", "detected_at", "detection", "detected_by", "unknown"),
    NoteAdded: ("kind",),
    WhyAnswered: ("depth", "branches_from"),
    Amended: ("entry",),
}
# A member of incidentflow's vocabularies is written as its value, read straight from the
# member (``Enum.value`` is a Python property; this getter runs in C).
converter.register_unstructure_hook_func(
    lambda t: isinstance(t, type) and issubclass(t, Vocabulary), operator.attrgetter("_value_")
)
for _event in EVENT_TYPES.values():
    _later = ("approximate", *_ADDED_LATER.get(_event, ()))
    converter.register_unstructure_hook(
        _event,
        make_dict_unstructure_fn(
            _event,
            converter,
            **dict.fromkeys(_later, override(omit_if_default=True)),  # type: ignore[arg-type]
        ),
    )


def describe(exc: BaseException) -> str:
    """A one-line account of a structuring failure, without cattrs' internals."""
    if isinstance(exc, ForbiddenExtraKeysError):
        return f"unknown keys: {', '.join(sorted(exc.extra_fields))} in {exc.cl.__name__}"
    if isinstance(exc, BaseValidationError):
        return "; ".join(describe(e) for e in exc.exceptions)
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r}"
    return str(exc)


# -- policies as TOML -------------------------------------------------------------------------


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


_MAX_DEPTH = 8
_MAX_DOTS = 64
"""How deeply a policy's tables and arrays may nest (the policy itself needs three levels)."""


def _depth(value: Any, level: int = 0) -> int:
    """How deeply ``value`` nests, counting no further than one past the limit."""
    if level > _MAX_DEPTH or not isinstance(value, dict | list):
        return level
    items = value.values() if isinstance(value, dict) else value
    return max((_depth(v, level + 1) for v in items), default=level)


def policy_from_toml(text: str, base: Any) -> Any:
    """Read a policy from TOML, changing only the keys given over ``base``."""
    from .policy import Policy

    if type(text) is not str:
        raise PolicyError(f"policy TOML must be text, not {type(text).__name__}")
    for number, line in enumerate(text.splitlines(), start=1):
        # A dotted key thousands of parts long takes the TOML reader seconds: refuse it first.
        if line.partition("=")[0].count(".") > _MAX_DOTS:
            raise PolicyError(f"policy TOML is nested too deeply (line {number})")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy TOML is malformed: {exc}") from exc
    except RecursionError as exc:
        raise PolicyError("policy TOML is nested too deeply") from exc
    except ValueError as exc:  # e.g. an integer longer than sys.get_int_max_str_digits()
        raise PolicyError(f"policy TOML is malformed: {exc}") from exc
    if _depth(data) > _MAX_DEPTH:
        raise PolicyError(f"policy TOML is nested too deeply (more than {_MAX_DEPTH} levels)")
    unknown = set(data) - {f.name for f in attrs.fields(Policy)}
    if unknown:
        raise PolicyError(f"unknown policy keys: {', '.join(sorted(unknown))}")
    for section in ("priorities", "authorization"):
        table = data.get(section, {})
        if not isinstance(table, Mapping):
            raise PolicyError(f"[{section}] must be a table, not {table!r}")
        if section == "priorities":
            for name, rules in table.items():
                if not isinstance(rules, Mapping):
                    raise PolicyError(f"[priorities.{name}] must be a table, not {rules!r}")
    _priority_rules_hook()
    merged = _merge(converter.unstructure(base), data)
    try:
        policy: Policy = _located.structure(merged, Policy)
    except BaseValidationError as exc:
        where = "; ".join(
            m.removesuffix(" @ $") for m in transform_error(exc, format_exception=_explain)
        )
        raise PolicyError(f"invalid policy: {where}") from exc
    except PolicyError:
        raise
    except (CattrsError, InvalidInput, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise PolicyError(f"invalid policy: {describe(exc)}") from exc
    return policy


# The same hooks, reporting where in the document a bad value is (``$.priorities['P1']...``).
_located = converter.copy(detailed_validation=True)


def _explain(exc: BaseException, kind: Any) -> str:
    if isinstance(exc, (InvalidInput, PolicyError)):
        return str(exc)
    return format_exception(exc, kind)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")  # pragma: no cover - closed shape


@functools.cache
def _priority_rules_hook() -> None:
    """Write the per-priority keys added later only when set, so older policies read the same."""
    from .policy import PriorityRules

    converter.register_unstructure_hook(
        PriorityRules,
        make_dict_unstructure_fn(
            PriorityRules,
            converter,
            accept_unknown=override(omit_if_default=True),
            whys_depth=override(omit_if_default=True),
        ),
    )


def policy_to_toml(policy: Any) -> str:
    """Write a whole policy as TOML."""
    _priority_rules_hook()
    data = converter.unstructure(policy)
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            if all(isinstance(v, dict) for v in value.values()):
                tables.extend((f"{key}.{k}", v) for k, v in value.items())
            else:
                tables.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for name, table in tables:
        lines.append("")
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"
