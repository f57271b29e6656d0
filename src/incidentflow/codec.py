r"""Events to JSON and back, losslessly, with a schema version.

Each event becomes one JSON object: ``schema`` (the format version), ``type`` (the event's tag)
and its fields, timestamps as ISO 8601 with their UTC offset.  A history is JSON Lines: one
event per line.  Reading is strict: malformed JSON, duplicate keys, ``NaN``, unknown event
types or fields, naive timestamps and newer schema versions all raise
:class:`~incidentflow.errors.DecodeError`, naming the line where there is one.

>>> from datetime import UTC, datetime
>>> from incidentflow.events import NoteAdded
>>> t = datetime(2026, 3, 1, 14, 2, tzinfo=UTC)
>>> line = dumps(NoteAdded(actor="rui", occurred_at=t, recorded_at=t, text="restarted db-1"))
>>> print(line.replace(',"', ',\n "'))
{"schema":1,
 "type":"note_added",
 "actor":"rui",
 "occurred_at":"2026-03-01T14:02:00+00:00",
 "recorded_at":"2026-03-01T14:02:00+00:00",
 "text":"restarted db-1"}
>>> loads(line).text
'restarted db-1'

An exported line also names the incident the event belongs to, right after its type (a
declaration names it already, in its own ``incident_id`` field), so a
file holding several incidents -- even interleaved, as :meth:`Store.read_all
<incidentflow.store.Store.read_all>` returns them -- says where each event goes.  Lines
without it (as earlier releases wrote them) are still read: each belongs to the incident
declared last before it.

>>> exported = dumps(NoteAdded(actor="rui", occurred_at=t, recorded_at=t, text="ok"),
...                  incident_id="INC-7")
>>> exported[:61]
'{"schema":1,"type":"note_added","incident_id":"INC-7","actor"'
>>> loads_line(exported)[0]
'INC-7'
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any

import attrs
from cattrs.errors import CattrsError

from ._collector import BULK, bulk, paused, promote
from ._convert import converter, describe, event_builders
from .errors import DecodeError, InvalidInput
from .events import EVENT_TYPES, Declared, Event


def _fast_json() -> ModuleType | None:
    """The ``orjson`` module (the ``speed`` extra: JSON in Rust), if it is installed."""
    try:
        return importlib.import_module("orjson")
    except ImportError:  # pragma: no cover - the test extra installs it; tests force the fallback
        return None


_orjson = _fast_json()
"""The fast JSON codec, or None for the standard library's alone (the same text either way)."""

__all__ = [
    "INCIDENT_KEY",
    "SCHEMA_VERSION",
    "dump_lines",
    "dumps",
    "from_dict",
    "load_lines",
    "loads",
    "loads_line",
    "to_dict",
]

SCHEMA_VERSION = 1
"""The version of the serialized event format this release writes and reads."""

INCIDENT_KEY = "incident_id"
"""The key naming, on an exported line, the incident the event belongs to."""

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)

_KINDS = frozenset(EVENT_TYPES.values())
"""Every event class (what :func:`to_dict` writes)."""


# Each event type's builder (see ``_convert``): ``_CHECKED`` makes every check the event's
# constructor makes, ``_TRUSTED`` only those of type, for rows whose chain was verified.
_CHECKED = event_builders(trusted=False)
_TRUSTED = event_builders(trusted=True)

# Events with a float field: orjson writes some floats differently from the standard library
# (``0.00001`` for ``1e-05``), so they are always written by the standard library's encoder.
_FLOATS = frozenset(
    kind for kind in EVENT_TYPES.values() if any("float" in str(f.type) for f in attrs.fields(kind))
)


def to_dict(event: Event) -> dict[str, Any]:
    """The event as a JSON-ready dict with ``schema`` and ``type`` first."""
    if type(event) not in _KINDS:
        raise InvalidInput(f"not an incidentflow event: {event!r}")
    return {"schema": SCHEMA_VERSION, "type": event.type, **converter.unstructure(event)}


def from_dict(data: Mapping[str, Any]) -> Event:
    """Read an event from a dict as :func:`to_dict` writes it."""
    if type(data) is dict:
        schema, tag = data.get("schema"), data.get("type")
        if schema == 1 and type(schema) is int and type(tag) is str:  # the one schema there is
            build = _CHECKED[tag]
            if build is not None:
                event: Event | None = build(data)
                if event is not None:
                    return event
    return _from_mapping(data)


def _from_mapping(data: Mapping[str, Any]) -> Event:
    """:func:`from_dict` by the full path, which says exactly what is wrong."""
    if not isinstance(data, Mapping):
        raise DecodeError(f"an event is a JSON object, not {type(data).__name__}")
    fields = dict(data)
    schema = fields.pop("schema", None)
    if type(schema) is not int:
        raise DecodeError(f"event has no integer schema version: {schema!r}")
    if schema > SCHEMA_VERSION:
        raise DecodeError(
            f"event schema {schema} is newer than this incidentflow reads ({SCHEMA_VERSION}); "
            "upgrade incidentflow"
        )
    if schema < 1:
        raise DecodeError(f"unknown event schema {schema}")
    tag = fields.pop("type", None)
    if tag is None:
        raise DecodeError("event has no type")
    kind = EVENT_TYPES.get(tag) if type(tag) is str else None
    if kind is None:
        raise DecodeError(f"unknown event type {tag!r}")
    try:
        # The hook cattrs generates, made on first use and kept by the converter.
        structure = converter.get_structure_hook(kind)
        event: Event = structure(fields, kind)
        return event
    except (CattrsError, InvalidInput, KeyError, TypeError, ValueError) as exc:
        raise DecodeError(f"bad {tag} event: {describe(exc)}") from exc


def _reject_constant(name: str) -> Any:
    raise DecodeError(f"{name} is not valid JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        dupes = sorted({k for k, _ in pairs if k in seen or seen.add(k)})  # type: ignore[func-returns-value]
        raise DecodeError(f"duplicate keys: {', '.join(dupes)}")
    return result


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def _decode(text: str) -> Any:
    """JSON text to Python, as ``_DECODER.decode`` reads it.

    The usual line is one bare object: scanning it directly skips the decoder's Python wrapper
    (two whitespace matches and a call).  Anything else -- surrounding whitespace, trailing data,
    malformed input -- goes to ``decode`` itself, so results and errors are the same.
    """
    if text[:1] == "{":
        try:
            data, end = _SCAN(text, 0)
        except StopIteration:
            pass  # ``decode`` says where the value is missing
        else:
            if end == len(text):
                return data
    return _DECODER.decode(text)


def dumps(event: Event, *, incident_id: str | None = None) -> str:
    """One event as one line of compact JSON; with ``incident_id``, an exported line.

    A declaration names its own incident: ``incident_id`` must then be the same.
    """
    data = to_dict(event)
    if incident_id is None:
        pass
    elif type(incident_id) is not str:
        raise InvalidInput(f"incident_id must be a string, not {incident_id!r}")
    elif isinstance(event, Declared):  # its own field names it: the line is as stored
        if event.incident_id != incident_id:
            raise InvalidInput(f"the declaration is of {event.incident_id!r}, not {incident_id!r}")
    else:
        data = {"schema": data["schema"], "type": data["type"], INCIDENT_KEY: incident_id, **data}
    return _encode(data, type(event) in _FLOATS)


def _encode(data: dict[str, Any] | list[Any], floats: bool) -> str:
    """``data`` as compact JSON: the same text whichever encoder writes it."""
    if _orjson is not None and not floats:
        try:
            text: str = _orjson.dumps(data).decode("utf-8")
            return text
        except TypeError:  # a lone surrogate, an integer beyond 64 bits: the standard library's
            pass
    return _ENCODER.encode(data)


def _loads_verified(line: str) -> Event:
    """Read one stored line whose hash chain was verified: it was checked when appended.

    Only checks of type are made (see ``_convert``); anything unexpected, such as a line
    written by an older release or one that does not decode, goes through :func:`loads`.
    """
    if _orjson is not None:
        try:
            data = _orjson.loads(line)
        except ValueError:
            return loads(line)
    else:
        data = _parse(line)
    if type(data) is dict:
        tag = data.get("type")
        build = _TRUSTED[tag] if type(tag) is str else None
        if build is not None and data.get("schema") == 1 and type(data["schema"]) is int:
            event: Event | None = build(data)
            if event is not None:
                return event
    try:
        return from_dict(data)
    except DecodeError:  # read again as untrusted text, for the error (or a big integer) to be
        return loads(line)  # read exactly as loads reads it


def _read_verified(lines: list[str]) -> list[Event]:
    """:func:`_loads_verified` of each line, its usual case inlined.

    Raises DecodeError at the first line that does not decode (the caller says which).  A
    bulk of lines is read as :func:`load_lines` reads one: collector paused, events promoted.
    """
    if len(lines) < BULK:
        return _read_trusted(lines)
    with bulk():
        return _read_trusted(lines)


def _read_trusted(lines: list[str]) -> list[Event]:
    fast, trusted = _orjson, _TRUSTED
    if fast is None:
        return [_loads_verified(line) for line in lines]
    events: list[Event] = []
    for line in lines:
        try:
            data = fast.loads(line)
        except ValueError:
            data = None
        if type(data) is dict:
            tag, schema = data.get("type"), data.get("schema")
            if type(tag) is str and schema == 1 and type(schema) is int:
                build = trusted[tag]
                if build is not None:
                    event: Event | None = build(data)
                    if event is not None:
                        events.append(event)
                        continue
        events.append(_loads_verified(line))
    return events


def loads(text: str | bytes) -> Event:
    """Read one event from JSON text."""
    return from_dict(_parse(text))


def loads_line(text: str | bytes) -> tuple[str | None, Event]:
    """Read one exported line: the incident it names (None on a line without one), its event.

    A declaration names its own incident, whether or not the line repeats it.
    """
    data = _parse(text)
    owner: str | None = None
    if isinstance(data, dict) and INCIDENT_KEY in data and data.get("type") != Declared.type:
        data = dict(data)
        named = data.pop(INCIDENT_KEY)
        if type(named) is not str:
            raise DecodeError(f"{INCIDENT_KEY} must be a string, not {named!r}")
        owner = named
    event = from_dict(data)
    if isinstance(event, Declared):
        return event.incident_id, event
    return owner, event


def _parse(text: str | bytes) -> Any:
    """JSON text (or UTF-8 bytes) to Python, every failure a :class:`DecodeError`."""
    if _orjson is not None and (type(text) is str or type(text) is bytes):
        # orjson reads duplicate keys as the last one: its result is taken only when writing it
        # again gives back the very text, which no text with a duplicate key can do.  Anything
        # else -- other spacing or escapes, a duplicate, malformed input -- is read as before.
        try:
            data = _orjson.loads(text)
            if type(data) is dict and _orjson.dumps(data) == (
                text if isinstance(text, bytes) else text.encode("utf-8")
            ):
                return data
        except (ValueError, TypeError):
            pass
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"event is not UTF-8: {exc}") from exc
    if type(text) is not str:
        raise DecodeError(f"an event is JSON text, not {type(text).__name__}")
    try:
        data = _decode(text)
    except json.JSONDecodeError as exc:
        raise DecodeError(f"malformed JSON: {exc}") from exc
    except RecursionError as exc:
        raise DecodeError("JSON nested too deeply") from exc
    except DecodeError:
        raise
    except ValueError as exc:  # e.g. an integer literal longer than sys.get_int_max_str_digits()
        raise DecodeError(f"malformed JSON: {exc}") from exc
    return data


def dump_lines(events: Iterable[Event], *, incident_id: str | None = None) -> str:
    """A history as JSON Lines, one event per line, ending with a newline.

    With ``incident_id``, every line names the incident (an export, see :func:`dumps`).
    """
    return "".join(dumps(e, incident_id=incident_id) + "\n" for e in events)


def load_lines(lines: str | Iterable[str]) -> list[Event]:
    """Read a JSON Lines history of one incident; blank lines are skipped.

    Exported lines are read too; a line naming another incident than the one declared (or
    named) last before it is refused.  Errors name the line number.

    While it reads, the cyclic garbage collector makes no automatic pass (the events it makes
    hold no reference cycle, and a long history would be walked again and again); it is turned
    back on as it was found when the last such read in the process ends, even on an error.  A
    history of 10,000 events or more then goes to the collector's oldest generation at once,
    instead of being walked twice more to get there (``_collector`` says when it does not).
    """
    if isinstance(lines, str):
        # Only "\n" ends a JSON Lines record: splitlines() would also split inside strings
        # holding U+2028, U+2029 or U+0085, which JSON leaves unescaped.
        lines = lines.split("\n")
    # The collector is paused while the events pile up (see ``_collector``): none of what a
    # decode makes holds a reference cycle; a bulk of them is then promoted, never walked young.
    with paused():
        events = _read_lines(lines)
        if len(events) >= BULK:
            promote()
        return events


def _read_lines(lines: Iterable[str]) -> list[Event]:
    events: list[Event] = []
    current: str | None = None  # the incident declared (or named) last
    fast = _orjson
    for number, line in enumerate(lines, start=1):
        if fast is not None and type(line) is str:
            # loads_line's usual case inlined: a line as written, of an event with a builder
            # (one naming its incident fails the builder's key count; a declaration names its
            # own, in its own field, and the lines after it belong to that one).
            try:
                data = fast.loads(line)
                if type(data) is dict and fast.dumps(data) == line.encode("utf-8"):
                    tag, schema = data.get("type"), data.get("schema")
                    build = _CHECKED[tag] if type(tag) is str else None
                    if build is not None and schema == 1 and type(schema) is int:
                        event: Event | None = build(data)
                        if event is not None:
                            if type(event) is Declared:
                                current = event.incident_id
                            events.append(event)
                            continue
            except ValueError:
                pass  # read again below, for the error to name what is wrong
        if not line.strip():
            continue
        try:
            owner, found = loads_line(line)
        except DecodeError as exc:
            raise DecodeError(f"line {number}: {exc}") from exc
        if isinstance(found, Declared):
            current = owner
        elif owner is not None:
            if current is not None and owner != current:
                raise DecodeError(
                    f"line {number}: the event belongs to {owner!r}, not to {current!r}, "
                    "the incident of the lines before it"
                )
            current = owner
        events.append(found)
    return events
