"""The codec: events to JSON and back, losslessly, and strict about everything else."""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest import mock

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import incidentflow.events as ev
from incidentflow import DecodeError, Event, Incident, IncidentFlowError, InvalidInput, codec
from incidentflow.codec import (
    SCHEMA_VERSION,
    dump_lines,
    dumps,
    from_dict,
    load_lines,
    loads,
    loads_line,
    to_dict,
)
from incidentflow.priorities import Priority
from incidentflow.records import FishboneCategory, ImpactLevel
from incidentflow.testing import events, incidents

AT = datetime(2026, 3, 1, 14, 2, tzinfo=UTC)
NOTE = ev.NoteAdded(actor="rui", occurred_at=AT, recorded_at=AT, text="restarted db-1")
LINE = dumps(NOTE)


def _stamps(event: Event) -> dict[str, str]:
    """Every timestamp field written out in full: offset and microseconds included."""
    return {
        f.name: getattr(event, f.name).isoformat()
        for f in attrs.fields(type(event))
        if isinstance(getattr(event, f.name), datetime)
    }


def _note_dict(**changes: Any) -> dict[str, Any]:
    data = to_dict(NOTE)
    data.update(changes)
    return data


def _without(key: str) -> dict[str, Any]:
    data = to_dict(NOTE)
    del data[key]
    return data


def _line(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


# -- round trips -------------------------------------------------------------------------


@given(events())
def test_dict_round_trip(event: Event) -> None:
    """from_dict(to_dict(e)) == e for every event."""
    decoded = from_dict(to_dict(event))
    assert event == decoded
    assert type(event) is type(decoded)


@given(events())
def test_text_round_trip_is_lossless(event: Event) -> None:
    """loads(dumps(e)) == e, with every UTC offset and microsecond kept as written."""
    line = dumps(event)
    decoded = loads(line)
    assert event == decoded
    assert _stamps(event) == _stamps(decoded)
    assert line == dumps(decoded)


@given(events())
def test_bytes_round_trip(event: Event) -> None:
    """loads also reads the UTF-8 bytes of a line."""
    assert event == loads(dumps(event).encode("utf-8"))


@given(events())
def test_dumps_is_one_line(event: Event) -> None:
    """A dumped event never contains a line break, whatever its text holds."""
    assert "\n" not in dumps(event)
    assert "\r" not in dumps(event)


@pytest.mark.parametrize(
    "offset",
    [timedelta(0), timedelta(hours=-12), timedelta(hours=14), timedelta(hours=5, minutes=45)],
)
def test_offsets_and_microseconds_survive(offset: timedelta) -> None:
    """A timestamp in any offset, with microseconds, is written and read back exactly."""
    at = datetime(2026, 3, 1, 14, 2, 3, 456789, tzinfo=timezone(offset))
    event = attrs.evolve(NOTE, occurred_at=at)
    decoded = loads(dumps(event))
    assert offset == decoded.occurred_at.utcoffset()
    assert 456789 == decoded.occurred_at.microsecond
    assert at.isoformat() == to_dict(event)["occurred_at"]


def test_documented_line_format() -> None:
    """A line is compact JSON: schema, type, then the fields, timestamps in ISO 8601."""
    expected = (
        '{"schema":1,"type":"note_added","actor":"rui",'
        '"occurred_at":"2026-03-01T14:02:00+00:00",'
        '"recorded_at":"2026-03-01T14:02:00+00:00","text":"restarted db-1"}'
    )
    assert expected == LINE


def test_non_ascii_is_written_as_is() -> None:
    """Non-ASCII text is written as UTF-8 characters, not \\u escapes."""
    event = attrs.evolve(NOTE, text="café ☕ 東京")
    assert '"text":"café ☕ 東京"' in dumps(event)


@given(events())
def test_schema_version_and_type_come_first(event: Event) -> None:
    """Every dict starts with the schema version and the event's type tag."""
    data = to_dict(event)
    assert ["schema", "type"] == list(data)[:2]
    assert (SCHEMA_VERSION, event.type) == (data["schema"], data["type"])


def test_schema_version_is_one() -> None:
    """This release writes schema 1."""
    assert 1 == SCHEMA_VERSION


@given(events())
def test_to_dict_is_json_ready(event: Event) -> None:
    """to_dict returns only JSON types, so any JSON library can write it."""
    data = to_dict(event)
    assert data == json.loads(json.dumps(data))


def test_from_dict_leaves_its_input_alone() -> None:
    """from_dict does not consume or change the dict it is given."""
    data = to_dict(NOTE)
    before = dict(data)
    from_dict(data)
    assert before == data


@pytest.mark.parametrize(
    "value", [None, "note", 3, to_dict(NOTE)], ids=["None", "str", "int", "dict"]
)
def test_to_dict_refuses_non_events(value: Any) -> None:
    """to_dict of something that is not an event raises InvalidInput (not DecodeError)."""
    with pytest.raises(InvalidInput) as info:
        to_dict(value)
    assert not isinstance(info.value, DecodeError)


def test_to_dict_refuses_the_abstract_event() -> None:
    """The untagged base Event cannot be written, since it could not be read back."""
    with pytest.raises(InvalidInput):
        to_dict(Event(actor="ana", occurred_at=AT, recorded_at=AT))


# -- histories ---------------------------------------------------------------------------


@settings(max_examples=50)
@given(incidents())
def test_history_round_trip(incident: Incident) -> None:
    """A whole history survives dump_lines/load_lines, one line per event, and replays."""
    text = dump_lines(incident.history)
    assert text.endswith("\n")
    assert len(incident.history) == text.count("\n")
    loaded = load_lines(text)
    assert list(incident.history) == loaded
    assert [_stamps(e) for e in incident.history] == [_stamps(e) for e in loaded]
    assert list(incident.history) == list(Incident.replay(loaded).history)


@given(st.lists(events(), max_size=8))
def test_event_list_round_trip(history: list[Event]) -> None:
    """Any list of events, whatever Unicode their text holds, survives JSON Lines."""
    assert history == load_lines(dump_lines(history))


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c"])
def test_unicode_line_separators_inside_text_do_not_split_lines(separator: str) -> None:
    """Only "\\n" ends a record: Unicode line separators inside a string are just text."""
    event = attrs.evolve(NOTE, text=f"before{separator}after")
    assert [event, NOTE] == load_lines(dump_lines([event, NOTE]))


def test_empty_history() -> None:
    """No events dump to the empty string, which loads as no events."""
    assert "" == dump_lines([])
    assert [] == load_lines("")


def test_blank_lines_are_skipped() -> None:
    """Blank and whitespace-only lines between events are ignored."""
    text = f"\n{LINE}\n\n   \n\t\n{LINE}\n\n"
    assert [NOTE, NOTE] == load_lines(text)


def test_crlf_line_endings_are_read() -> None:
    """A history written with Windows line endings reads the same."""
    assert [NOTE, NOTE] == load_lines(f"{LINE}\r\n{LINE}\r\n")


def test_load_lines_reads_a_file_like_iterable() -> None:
    """load_lines takes any iterable of lines, such as an open file."""
    stream = io.StringIO(dump_lines([NOTE, NOTE]))
    assert [NOTE, NOTE] == load_lines(stream)


def test_load_lines_reads_a_list_of_lines() -> None:
    """load_lines takes a list of lines without newlines."""
    assert [NOTE] == load_lines(["", LINE, "  "])


# -- strict decoding ---------------------------------------------------------------------

BAD_LINES: dict[str, tuple[str | bytes, str]] = {
    "malformed JSON": ("{not json}", "malformed JSON"),
    "truncated line": (LINE[:-7], "malformed JSON"),
    "empty text": ("", "malformed JSON"),
    "trailing garbage": (LINE + "x", "malformed JSON"),
    "two objects on a line": (LINE + LINE, "malformed JSON"),
    "duplicate keys": (LINE[:-1] + ',"text":"again"}', "duplicate keys: text"),
    "duplicate schema": ('{"schema":1,"schema":1}', "duplicate keys: schema"),
    "NaN": (LINE.replace('"restarted db-1"', "NaN"), "NaN"),
    "Infinity": (LINE.replace('"restarted db-1"', "Infinity"), "Infinity"),
    "-Infinity": (LINE.replace('"restarted db-1"', "-Infinity"), "-Infinity"),
    "unknown type": (_line(_note_dict(type="note_deleted")), "unknown event type 'note_deleted'"),
    "missing type": (_line(_without("type")), "event has no type"),
    "non-string type": (_line(_note_dict(type=["note_added"])), "event type"),
    "newer schema": (_line(_note_dict(schema=SCHEMA_VERSION + 1)), "upgrade"),
    "newer schema, unknown type": (_line(_note_dict(schema=99, type="future")), "upgrade"),
    "schema 0": (_line(_note_dict(schema=0)), "schema"),
    "negative schema": (_line(_note_dict(schema=-1)), "schema"),
    "string schema": (_line(_note_dict(schema="1")), "schema"),
    "float schema": (_line(_note_dict(schema=1.0)), "schema"),
    "bool schema": (_line(_note_dict(schema=True)), "schema"),
    "missing schema": (_line(_without("schema")), "schema"),
    "unknown extra field": (_line(_note_dict(colour="red")), "unknown keys: colour"),
    "missing field": (_line(_without("text")), "missing key 'text'"),
    "missing actor": (_line(_without("actor")), "missing key 'actor'"),
    "int for string": (_line(_note_dict(text=5)), "expected str"),
    "list for string": (_line(_note_dict(text=["restarted"])), "expected str"),
    "null for string": (_line(_note_dict(actor=None)), "expected str"),
    "blank string": (_line(_note_dict(text="  ")), "non-blank"),
    "naive timestamp": (_line(_note_dict(occurred_at="2026-03-01T14:02:00")), "no UTC offset"),
    "non-ISO timestamp": (_line(_note_dict(occurred_at="1 March 2026, 2pm")), "ISO 8601"),
    "epoch timestamp": (_line(_note_dict(recorded_at=1772373720)), "ISO 8601"),
    "list": ("[1, 2]", "JSON object"),
    "number": ("42", "JSON object"),
    "string": ('"note_added"', "JSON object"),
    "null": ("null", "JSON object"),
    "deeply nested list": ("[" * 100_000 + "]" * 100_000, "nested"),
    "deeply nested object": ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested"),
    "deeply nested field": (
        LINE.replace('"restarted db-1"', "[" * 100_000 + "]" * 100_000),
        "nested",
    ),
    "huge integer": ('{"schema":' + "9" * 5000 + "}", "malformed JSON"),
    "bytes not UTF-8": (b'{"schema":1,"text":"\xff\xfe"}', "UTF-8"),
    "bytes in Latin-1": (LINE.replace("db-1", "café").encode("latin-1"), "UTF-8"),
}

# Field-type errors for the other field kinds, each on an event that has such a field.
UPDATE = ev.UpdatePosted(actor="cy", occurred_at=AT, recorded_at=AT, message="mitigated")
DECLARED = ev.Declared(
    actor="ana",
    occurred_at=AT,
    recorded_at=AT,
    incident_id="INC-1",
    title="Database is down",
    priority=Priority.P1,
)
SCHEDULED = ev.PostMortemScheduled(
    actor="cy",
    occurred_at=AT,
    recorded_at=AT,
    scheduled_for=AT + timedelta(days=2),
    invitees=("ana", "bo"),
)


def _changed(event: Event, **changes: Any) -> str:
    data = to_dict(event)
    data.update(changes)
    return _line(data)


BAD_LINES.update(
    {
        "string for bool": (_changed(UPDATE, no_progress="true"), "expected bool"),
        "int for bool": (_changed(UPDATE, no_progress=1), "expected bool"),
        "null for bool": (_changed(UPDATE, no_progress=None), "expected bool"),
        "unknown enum value": (_changed(DECLARED, priority="P9"), "'P9' is not one of"),
        "enum by name": (_changed(DECLARED, priority="Priority.P1"), "is not one of"),
        "int for enum": (_changed(DECLARED, priority=1), "is not one of"),
        "list for enum": (_changed(DECLARED, priority=["P1"]), "is not one of"),
        "string for list": (_changed(SCHEDULED, invitees="ana"), "list of strings"),
        "ints in list": (_changed(SCHEDULED, invitees=[1, 2]), "list of strings"),
        "empty invitees": (_changed(SCHEDULED, invitees=[]), "non-empty tuple"),
        "duplicate invitees": (_changed(SCHEDULED, invitees=["ana", "ana"]), "distinct"),
    }
)


@pytest.mark.parametrize(("text", "message"), BAD_LINES.values(), ids=list(BAD_LINES))
def test_loads_refuses(text: str | bytes, message: str) -> None:
    """Each malformed line raises DecodeError saying what is wrong."""
    with pytest.raises(DecodeError) as info:
        loads(text)
    assert message in str(info.value)


# Every bad line that is text and not blank (blank lines are skipped by load_lines).
BAD_TEXT_LINES = {k: t for k, (t, _) in BAD_LINES.items() if isinstance(t, str) and t.strip()}


@pytest.mark.parametrize("text", BAD_TEXT_LINES.values(), ids=list(BAD_TEXT_LINES))
def test_load_lines_names_the_line(text: str) -> None:
    """In a history, a bad line raises DecodeError naming its 1-based line number."""
    history = f"{LINE}\n\n{LINE}\n{text}\n{LINE}\n"
    with pytest.raises(DecodeError) as info:
        load_lines(history)
    assert str(info.value).startswith("line 4: ")
    assert isinstance(info.value.__cause__, DecodeError)


def test_load_lines_counts_lines_of_a_list() -> None:
    """Line numbers count every item of an iterable, blank ones included."""
    with pytest.raises(DecodeError, match=r"^line 3: "):
        load_lines([LINE, "", "{}"])


@pytest.mark.parametrize("text", [42, bytearray(LINE.encode()), memoryview(LINE.encode())])
def test_loads_refuses_non_text(text: object) -> None:
    """loads takes str or bytes only (orjson would read a bytearray: it is not asked to)."""
    with pytest.raises(DecodeError, match="JSON text"):
        loads(text)  # type: ignore[arg-type]


def test_from_dict_refuses_non_mappings() -> None:
    """from_dict of a list raises DecodeError, not a TypeError from inside."""
    with pytest.raises(DecodeError, match="JSON object"):
        from_dict([("schema", 1)])  # type: ignore[arg-type]


def test_decode_errors_are_input_errors() -> None:
    """DecodeError is InvalidInput, an IncidentFlowError and a ValueError, chained to its cause."""
    with pytest.raises(DecodeError) as info:
        loads(LINE[:-1])
    assert isinstance(info.value, InvalidInput)
    assert isinstance(info.value, IncidentFlowError)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value.__cause__, json.JSONDecodeError)


# -- fuzzing -----------------------------------------------------------------------------

_EVENTS = events()  # built once: events() reads every class's type hints
_JSON_CHARS = st.sampled_from(list('{}[]":,.-+0123456789eEtrufalsn \\/T'))


@st.composite
def mutated_lines(draw: st.DrawFn) -> str:
    """A valid dumps() line with a few characters flipped, inserted or deleted."""
    chars = list(dumps(draw(_EVENTS)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        op = draw(st.sampled_from(["flip", "insert", "delete"]))
        char = draw(st.one_of(_JSON_CHARS, st.characters()))
        if op == "insert":
            chars.insert(draw(st.integers(min_value=0, max_value=len(chars))), char)
        elif chars:
            at = draw(st.integers(min_value=0, max_value=len(chars) - 1))
            if op == "delete":
                del chars[at]
            else:
                chars[at] = char
    return "".join(chars)


def _decode_or_refuse(text: str | bytes) -> Event | None:
    """Decode, allowing only DecodeError; a decoded event must round-trip again."""
    try:
        event = loads(text)
    except DecodeError:
        return None
    assert isinstance(event, Event)
    assert event == loads(dumps(event))
    return event


@given(mutated_lines())
def test_mutated_lines_decode_or_raise_decode_error(text: str) -> None:
    """A corrupted line never raises anything but DecodeError."""
    _decode_or_refuse(text)


@given(events(), st.data())
def test_every_truncation_is_refused(event: Event, data: st.DataObject) -> None:
    """Any proper prefix of a line is refused with DecodeError."""
    line = dumps(event)
    cut = data.draw(st.integers(min_value=0, max_value=len(line) - 1))
    with pytest.raises(DecodeError):
        loads(line[:cut])


@given(st.text())
def test_arbitrary_text_decodes_or_raises_decode_error(text: str) -> None:
    """Arbitrary text never raises anything but DecodeError."""
    _decode_or_refuse(text)


@given(st.binary())
def test_arbitrary_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    """Arbitrary bytes never raise anything but DecodeError."""
    _decode_or_refuse(data)


@given(st.lists(st.one_of(mutated_lines(), st.text()), max_size=5))
def test_arbitrary_histories_load_or_raise_decode_error(lines: list[str]) -> None:
    """load_lines on corrupted histories raises only DecodeError."""
    try:
        loaded = load_lines("\n".join(lines))
    except DecodeError as exc:
        message = str(exc)
        loaded = []
    else:
        message = "line "
    assert message.startswith("line ")
    assert all(isinstance(e, Event) for e in loaded)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(events(), st.data())
def test_any_field_value_decodes_or_raises_decode_error(event: Event, data: st.DataObject) -> None:
    """Replacing any key's value with any JSON-like value raises only DecodeError."""
    fields = to_dict(event)
    key = data.draw(st.sampled_from(sorted(fields)))
    fields[key] = data.draw(_JSON_VALUES)
    try:
        decoded = from_dict(fields)
    except DecodeError:
        return
    assert isinstance(decoded, Event)


def test_lines_written_before_impact_and_category_still_read() -> None:
    """A validation without impact and a factor without category (older lines) decode."""
    stamp = "2026-03-01T14:00:00+00:00"
    validated = loads(
        json.dumps(
            {
                "schema": 1,
                "type": "validated",
                "actor": "bo",
                "occurred_at": stamp,
                "recorded_at": stamp,
                "evidence": "errors",
            }
        )
    )
    factor = loads(
        json.dumps(
            {
                "schema": 1,
                "type": "factor_added",
                "actor": "di",
                "occurred_at": stamp,
                "recorded_at": stamp,
                "description": "no alert",
            }
        )
    )
    assert isinstance(validated, ev.Validated)
    assert "" == validated.impact
    assert isinstance(factor, ev.FactorAdded)
    assert None is factor.category


@pytest.mark.parametrize("category", [None, "measurement"])
def test_factor_category_round_trips(category: str | None) -> None:
    """A factor's category is written as its value (or null) and read back the same."""
    stamp = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    member = None if category is None else FishboneCategory(category)
    factor = ev.FactorAdded(
        actor="di", occurred_at=stamp, recorded_at=stamp, description="x", category=member
    )
    assert category == json.loads(dumps(factor))["category"]
    assert factor == loads(dumps(factor))


# -- exported lines name their incident ---------------------------------------------------


DECLARED = ev.Declared(
    actor="ana", occurred_at=AT, recorded_at=AT, incident_id="INC-7", title="t",
    priority=Priority.P1,
)  # fmt: skip


def test_an_exported_line_names_its_incident_after_the_type() -> None:
    """incident_id comes third; the rest of the line is the event as stored."""
    exported = dumps(NOTE, incident_id="INC-7")
    assert '{"schema":1,"type":"note_added","incident_id":"INC-7",' + LINE[32:] == exported
    assert ("INC-7", NOTE) == loads_line(exported)


def test_a_declaration_line_is_the_same_exported_or_not() -> None:
    """A declaration names its incident in its own field: the exported line is the stored one."""
    assert dumps(DECLARED) == dumps(DECLARED, incident_id="INC-7")
    assert ("INC-7", DECLARED) == loads_line(dumps(DECLARED))


def test_a_declaration_cannot_be_exported_under_another_id() -> None:
    """Exporting INC-7's declaration as INC-8's is refused."""
    with pytest.raises(InvalidInput, match="'INC-7', not 'INC-8'"):
        dumps(DECLARED, incident_id="INC-8")


@pytest.mark.parametrize("incident_id", [7, 1.5, ["INC-7"]])
def test_an_exported_line_needs_a_string_id(incident_id: Any) -> None:
    """Writing refuses an id that is not a string; reading does too."""
    with pytest.raises(InvalidInput, match="incident_id must be a string"):
        dumps(NOTE, incident_id=incident_id)
    line = _line({**to_dict(NOTE), "incident_id": incident_id})
    with pytest.raises(DecodeError, match="incident_id must be a string"):
        loads_line(line)


def test_a_line_without_an_id_reads_as_before() -> None:
    """Lines written by earlier releases name no incident: None, and the same event."""
    assert (None, NOTE) == loads_line(LINE)


def test_loads_still_refuses_an_id_on_a_stored_line() -> None:
    """The stored format is unchanged: loads reads events, not exported lines."""
    with pytest.raises(DecodeError, match="unknown keys: incident_id"):
        loads(dumps(NOTE, incident_id="INC-7"))


@given(incidents(max_steps=15))
@settings(max_examples=20)
def test_an_exported_history_reads_back_equal(incident: Incident) -> None:
    """dump_lines(incident_id=) then load_lines gives the same events."""
    text = dump_lines(incident.history, incident_id=incident.id)
    assert list(incident.history) == load_lines(text)
    assert {incident.id} == {loads_line(line)[0] for line in text.splitlines()}


def test_load_lines_refuses_a_line_of_another_incident() -> None:
    """A history is one incident's: a line naming another is refused, naming the line."""
    text = dump_lines([DECLARED, NOTE], incident_id="INC-7") + dumps(NOTE, incident_id="INC-8")
    with pytest.raises(DecodeError, match=r"^line 3: the event belongs to 'INC-8', not to 'INC-7'"):
        load_lines(text)


def test_load_lines_takes_a_declaration_as_naming_its_incident() -> None:
    """The lines after a declaration belong to it, whichever path read it: a line naming
    another is refused, and the next declaration moves on to its own incident."""
    assert DECLARED.incident_id == "INC-7"
    with pytest.raises(DecodeError, match=r"^line 2: the event belongs to 'INC-8', not to 'INC-7'"):
        load_lines(dumps(DECLARED) + "\n" + dumps(NOTE, incident_id="INC-8"))
    other = attrs.evolve(DECLARED, incident_id="INC-8")
    text = dump_lines([DECLARED, NOTE], incident_id="INC-7") + dump_lines(
        [other, NOTE], incident_id="INC-8"
    )
    assert [DECLARED, NOTE, other, NOTE] == load_lines(text)


# -- the fast codec, the builders and the trusted path ----------------------------------------

_BAD_VALUES = st.sampled_from(
    [
        "", " ", "\t", "x", "not a time", "2026-03-01T14:02:00", "2026-03-01T14:02:00+00:00",
        0, -1, 1, 2**70, 101, -0.5, 1.5, True, False, None, [], ["x"], ["x", "x"], [" "],
        ["occurred_at"], ["recorded_at"], ["occurred_at", "occurred_at"], [1], {}, {"a": 1},
    ]
)  # fmt: skip


def _standard_library() -> Any:
    """Within it the codec reads and writes with the standard library's json alone."""
    return mock.patch.object(codec, "_orjson", None)


def _outcome(read: Any, value: Any) -> Any:
    """What ``read(value)`` gives: an event, or the DecodeError's message."""
    try:
        return read(value)
    except DecodeError as exc:
        return f"DecodeError: {exc}"


def test_the_test_extra_installs_the_fast_codec() -> None:
    """The suite runs with orjson, so the comparisons below compare two codecs."""
    assert codec._orjson is not None


@given(events())
def test_both_codecs_write_the_same_line(event: Event) -> None:
    """dumps writes byte-identical lines with orjson and with the standard library alone."""
    fast = dumps(event, incident_id=getattr(event, "incident_id", "INC-1"))
    with _standard_library():
        plain = dumps(event, incident_id=getattr(event, "incident_id", "INC-1"))
    assert plain == fast


@pytest.mark.parametrize(
    "text",
    ["\ud800 lone surrogate", "control \x00\x1f\x7f", "separators \u2028\u2029\x85", "😀 é"],
)
def test_both_codecs_write_the_same_awkward_text(text: str) -> None:
    """Control characters, separators and lone surrogates are written alike by both codecs."""
    note = attrs.evolve(NOTE, text=text)
    with _standard_library():
        plain = dumps(note)
    assert (plain, note) == (dumps(note), loads(plain))


@given(st.floats(min_value=0, max_value=100) | st.integers(min_value=0, max_value=100))
def test_shares_are_written_by_the_standard_library(share: float) -> None:
    """A float is written as the standard library writes it (``1e-05``), whichever is installed."""
    impact = ev.ImpactChanged(
        actor="ana", occurred_at=AT, recorded_at=AT, level=ImpactLevel.DEGRADED, share=share
    )
    with _standard_library():
        plain = dumps(impact)
    assert plain == dumps(impact)
    assert json.dumps(share) in plain


@given(events())
def test_both_codecs_read_a_line_alike(event: Event) -> None:
    """loads, the trusted path and the full path read every event's line to the same event."""
    line = dumps(event)
    with _standard_library():
        plain = (loads(line), codec._loads_verified(line))
    full = codec._from_mapping(json.loads(line))
    assert [event] * 5 == [loads(line), codec._loads_verified(line), *plain, full]


@given(events(), st.data())
def test_the_builders_accept_and_refuse_what_the_constructors_do(
    event: Event, data: st.DataObject
) -> None:
    """With any field's value replaced, from_dict's builder path and the full path agree."""
    fields = to_dict(event)
    key = data.draw(st.sampled_from(sorted(fields)))
    fields[key] = data.draw(_BAD_VALUES)
    assert _outcome(codec._from_mapping, fields) == _outcome(from_dict, fields)


@given(events(), st.data())
def test_the_trusted_path_keeps_every_check_of_type(event: Event, data: st.DataObject) -> None:
    """The trusted path reads a changed line as the full path does, or with a value it let by.

    It skips only the checks of value (non-blank, sorted, distinct, in range): what it builds
    has every field of the declared type, as an event the full path read from another line.
    """
    fields = to_dict(event)
    key = data.draw(st.sampled_from(sorted(fields)))
    fields[key] = data.draw(_BAD_VALUES)
    line = json.dumps(fields, separators=(",", ":"))
    full, trusted = _outcome(loads, line), _outcome(codec._loads_verified, line)
    if isinstance(full, Event) or isinstance(trusted, str):
        assert full == trusted
        return
    assert type(event) is type(trusted)
    for f in attrs.fields(type(event)):
        value, valid = getattr(trusted, f.name), getattr(event, f.name)
        assert type(value) is type(valid) or None in (value, valid), f.name


def test_orjson_is_given_a_line_only_as_written() -> None:
    """With orjson, a duplicate key is still refused, and other spacing still read."""
    spaced = json.dumps(to_dict(NOTE))
    assert NOTE == loads(spaced)
    with pytest.raises(DecodeError, match="duplicate keys: text"):
        loads(LINE[:-1] + ',"text":"again"}')
    with pytest.raises(DecodeError, match="duplicate keys: text"):
        loads((LINE[:-1] + ',"text":"again"}').encode())


class _Object(list[tuple[str, Any]]):
    """A JSON object as the pairs written, so a key can be written twice."""


_SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=5)


def _nested(depth: int = 2) -> st.SearchStrategy[Any]:
    """A JSON value, objects as pairs (some with a key written twice)."""
    if depth == 0:
        return _SCALARS
    keys = st.sampled_from(["a", "b", "text", "type", "\u00e9", ""])
    pairs = st.lists(st.tuples(keys, _nested(depth - 1)), max_size=3)
    return _SCALARS | st.lists(_nested(depth - 1), max_size=2) | pairs.map(_Object)


def _written(rng: random.Random, value: Any, *, plain: bool) -> str:
    """``value`` as JSON text: unless ``plain``, with random spacing and characters escaped."""

    def space() -> str:
        return "" if plain else rng.choice(["", "", " ", "\t", "\r", " \t "])  # no line break

    def write(value: Any) -> str:
        if isinstance(value, _Object):
            pairs = [f"{space()}{write(k)}{space()}:{write(v)}" for k, v in value]
            return "{" + ",".join(pairs) + space() + "}"
        if isinstance(value, list):
            return "[" + ",".join(space() + write(v) for v in value) + space() + "]"
        if isinstance(value, str):
            out = []
            for char in value:
                if not plain and char < "\uffff" and rng.random() < 0.2:
                    out.append(f"\\u{ord(char):04x}")
                else:
                    out.append(json.dumps(char, ensure_ascii=False)[1:-1])
            return '"' + "".join(out) + '"'
        return json.dumps(value)

    return write(value)


def _read_three_ways(line: str) -> list[Any]:
    """What load_lines, loads (of text and of bytes) and loads_line make of ``line``."""
    encoded = line.encode("utf-8", "surrogatepass")
    return [_outcome(load_lines, line), _outcome(loads, line), _outcome(loads_line, line),
            _outcome(loads, encoded)]  # fmt: skip


@given(events(), st.data())
def test_a_line_with_a_duplicate_key_anywhere_is_refused_as_the_strict_reader_refuses_it(
    event: Event, data: st.DataObject
) -> None:
    """A key written twice, at the top or nested, spaced or escaped: the strict reader's error."""
    pairs = _Object(to_dict(event).items())
    where = data.draw(st.integers(0, len(pairs)))
    key = data.draw(st.sampled_from([k for k, _ in pairs]))
    nested = _Object([("a", 1), ("a", data.draw(_nested()))])
    value = data.draw(st.sampled_from([dict(pairs)[key], nested]) | _nested())
    if data.draw(st.booleans()):  # the duplicate is at the top level
        pairs.insert(where, (key, value))
    else:  # inside a value: an object whose key is written twice, possibly in a list
        at = data.draw(st.integers(0, len(pairs) - 1))
        pairs[at] = (pairs[at][0], data.draw(st.sampled_from([nested, [1, nested]])))
    line = _written(data.draw(st.randoms()), pairs, plain=data.draw(st.booleans()))
    fast = _read_three_ways(line)
    with _standard_library():
        strict = _read_three_ways(line)
    assert strict == fast
    assert all(type(o) is str and "duplicate keys" in o for o in fast)


@given(events(), st.data())
def test_a_line_spaced_or_escaped_otherwise_is_read_as_the_strict_reader_reads_it(
    event: Event, data: st.DataObject
) -> None:
    """Other spacing, escapes and key order: the event, as the standard library reads it."""
    pairs = _Object(data.draw(st.permutations(list(to_dict(event).items()))))
    line = _written(data.draw(st.randoms()), pairs, plain=False)
    fast = _read_three_ways(line)
    with _standard_library():
        strict = _read_three_ways(line)
    assert strict == fast
    assert [[event], event, (getattr(event, "incident_id", None), event), event] == fast


def test_the_trusted_path_reads_what_it_cannot_build_by_the_full_path() -> None:
    """A declaration, a line of other spacing or a broken line take the full path's way."""
    declared = ev.Declared(
        actor="ana", occurred_at=AT, recorded_at=AT, incident_id="INC-1", title="t",
        priority=Priority.P1,
    )  # fmt: skip
    assert declared == codec._loads_verified(dumps(declared))
    assert NOTE == codec._loads_verified(json.dumps(to_dict(NOTE)))
    with pytest.raises(DecodeError, match="malformed JSON"):
        codec._loads_verified(LINE[:-1])
    with pytest.raises(DecodeError, match="newer"):
        codec._loads_verified(LINE.replace('"schema":1', '"schema":2'))


@given(st.lists(events(), max_size=5), st.booleans())
def test_a_verified_history_is_read_as_each_of_its_lines(history: list[Event], fast: bool) -> None:
    """_read_verified reads every line as _loads_verified does, with orjson or without."""
    declared = ev.Declared(
        actor="ana", occurred_at=AT, recorded_at=AT, incident_id="INC-1", title="t",
        priority=Priority.P1,
    )  # fmt: skip
    lines = [dumps(e) for e in history] + [json.dumps(to_dict(NOTE)), dumps(declared)]
    with mock.patch.object(codec, "_orjson", codec._orjson if fast else None):
        assert [*history, NOTE, declared] == codec._read_verified(lines)
        with pytest.raises(DecodeError, match="malformed JSON"):
            codec._read_verified([*lines, LINE[:-1]])
        with pytest.raises(DecodeError, match="newer"):
            codec._read_verified([*lines, LINE.replace('"schema":1', '"schema":2')])
        with pytest.raises(DecodeError, match="unknown keys: mood"):
            codec._read_verified([*lines, LINE[:-1] + ',"mood":"calm"}'])


def test_events_read_by_a_builder_share_equal_stamps() -> None:
    """occurred_at and recorded_at written alike are read into one datetime."""
    for read in (loads, codec._loads_verified):
        note = read(LINE)
        assert note.occurred_at is note.recorded_at
        later = read(dumps(attrs.evolve(NOTE, recorded_at=AT + timedelta(seconds=1))))
        assert AT + timedelta(seconds=1) == later.recorded_at


def test_every_event_type_has_builders() -> None:
    """Declarations and policy adoptions too: their recorded policy is read by its own hook."""
    expected = sorted(ev.EVENT_TYPES)
    for builders in (codec._CHECKED, codec._TRUSTED):
        assert expected == sorted(tag for tag in ev.EVENT_TYPES if builders[tag] is not None)
        assert builders["coffee_made"] is None
        assert "coffee_made" not in builders  # an unknown tag is not kept


_DECLARED = ev.Declared(
    actor="ana", occurred_at=AT, recorded_at=AT, incident_id="INC-1", title="Database is down",
    priority=Priority.P2, began=AT - timedelta(hours=1), unknown=("occurred_at",),
    policy=ev.RecordedPolicy.of("team", "whys_depth = 3"),
)  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        ({}, None),
        ({"unknown": []}, None),
        ({"policy": None}, None),
        ({"began": None}, "a declaration whose time is not known must give began"),
        ({"unknown": ["recorded_at"]}, "only the declaration time may be"),
        ({"unknown": ["occurred_at", "occurred_at"]}, "only the declaration time may be"),
        ({"unknown": "occurred_at"}, "expected a list of strings"),
        ({"policy": {"name": "team", "digest": "sha256:00", "content": ""}}, "digest"),
        ({"policy": {"name": "team"}}, "missing key .digest."),
        ({"policy": "team"}, "policy"),
    ],
)
@pytest.mark.parametrize("read", [loads, codec._loads_verified], ids=["checked", "trusted"])
def test_a_declaration_is_read_by_its_builder_as_by_its_constructor(
    changes: dict[str, Any], refused: str | None, read: Any
) -> None:
    """A time not known needs the onset, and only the declaration time may be unknown; the
    recorded policy is checked whole -- by the builder as by the constructor behind it."""
    fields = {**to_dict(_DECLARED), **changes}
    line = json.dumps(fields, separators=(",", ":"))
    build = (codec._CHECKED if read is loads else codec._TRUSTED)["declared"]
    assert build is not None
    if refused is None:
        read_as: dict[str, Any] = {k: tuple(v) if k == "unknown" else v for k, v in changes.items()}
        expected = attrs.evolve(_DECLARED, **read_as)
        assert (build(json.loads(line)), read(line)) == (expected, expected)
        return
    assert build(json.loads(line)) is None  # handed to the full path, which says why
    with pytest.raises(DecodeError, match=refused):
        read(line)


def test_a_builder_is_made_only_for_an_event_whose_constructor_only_validates() -> None:
    """An event type with a converter, a post-init step or an unknown check gets no builder."""
    from incidentflow._convert import _event_builder

    @attrs.frozen(kw_only=True)
    class Converted(ev.Event):
        text: str = attrs.field(converter=str.strip)  # type: ignore[misc]

    @attrs.frozen(kw_only=True)
    class PostInit(ev.Event):
        text: str = attrs.field()

        def __attrs_post_init__(self) -> None:
            pass

    @attrs.frozen(kw_only=True)
    class Unknown(ev.Event):
        flag: bool = attrs.field(validator=ev._text)  # no builder knows this pair

    @attrs.frozen(kw_only=True)
    class Plain(ev.Event):
        text: str = attrs.field(validator=ev._text)

    kinds = (Converted, PostInit, Unknown, Plain)
    built = [_event_builder(kind, trusted=trusted) for kind in kinds for trusted in (False, True)]
    assert [None] * 6 == built[:6]
    assert all(callable(build) for build in built[6:])
