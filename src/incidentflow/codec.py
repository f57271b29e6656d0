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

import json
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from cattrs.errors import CattrsError

from ._convert import converter, describe
from .errors import DecodeError, InvalidInput
from .events import EVENT_TYPES, Declared, Event

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

# Each event class's structuring hook, looked up once rather than dispatched for every event.
_STRUCTURE: Mapping[type[Event], Callable[[dict[str, Any], type[Event]], Event]] = MappingProxyType(
    {kind: converter.get_structure_hook(kind) for kind in EVENT_TYPES.values()}
)


def to_dict(event: Event) -> dict[str, Any]:
    """The event as a JSON-ready dict with ``schema`` and ``type`` first."""
    if type(event) not in _STRUCTURE:
        raise InvalidInput(f"not an incidentflow event: {event!r}")
    return {"schema": SCHEMA_VERSION, "type": event.type, **converter.unstructure(event)}


def from_dict(data: Mapping[str, Any]) -> Event:
    """Read an event from a dict as :func:`to_dict` writes it."""
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
        return _STRUCTURE[kind](fields, kind)
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
    return _ENCODER.encode(data)


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
    """
    if isinstance(lines, str):
        # Only "\n" ends a JSON Lines record: splitlines() would also split inside strings
        # holding U+2028, U+2029 or U+0085, which JSON leaves unescaped.
        lines = lines.split("\n")
    events: list[Event] = []
    current: str | None = None  # the incident declared (or named) last
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            owner, event = loads_line(line)
        except DecodeError as exc:
            raise DecodeError(f"line {number}: {exc}") from exc
        if isinstance(event, Declared):
            current = owner
        elif owner is not None:
            if current is not None and owner != current:
                raise DecodeError(
                    f"line {number}: the event belongs to {owner!r}, not to {current!r}, "
                    "the incident of the lines before it"
                )
            current = owner
        events.append(event)
    return events
