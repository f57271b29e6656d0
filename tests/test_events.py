"""Events: one class per fact, each tagged, named after its command, validated and frozen."""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_type_hints

import attrs
import pytest

import incidentflow.events as ev
from incidentflow import (
    ActionKind,
    ChangeOutcome,
    DetectionMethod,
    FishboneCategory,
    ImpactLevel,
    Incident,
    IncidentFlowError,
    InvalidInput,
    LinkKind,
    NoteKind,
    Priority,
    Role,
    State,
    Verdict,
)
from incidentflow.policy import COMMAND_STATES

AT = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
KINDS = list(ev.EVENT_TYPES.values())
ENUMS: tuple[type[enum.Enum], ...] = (
    Priority,
    Role,
    State,
    LinkKind,
    Verdict,
    ChangeOutcome,
    ActionKind,
    FishboneCategory,
    NoteKind,
    ImpactLevel,
    DetectionMethod,
)
# the only string fields that may be empty
OPTIONAL_TEXT = {
    "note",
    "location",
    "impact",
    "amount",
    "detected_by",
    "ImpactChanged.description",
}


def _hints(kind: type[ev.Event]) -> dict[str, Any]:
    return get_type_hints(kind)


def _sample(name: str, hint: Any) -> Any:
    """A valid value for a field of type ``hint``."""
    if name in ("approximate", "unknown"):
        return ()
    if hint is datetime or hint == datetime | None:
        return AT
    if name == "components":
        return ("api", "web")
    if hint == float | None:
        return 40
    if hint == DetectionMethod | None:
        return DetectionMethod.ALERT
    if hint is bool:
        return False
    if hint == tuple[str, ...]:
        return ("ana", "bo")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return next(iter(hint))
    if hint in (int, int | None):
        return 2
    if hint == FishboneCategory | None:
        return FishboneCategory.PROCESS
    if hint in (ev.RecordedPolicy, ev.RecordedPolicy | None):
        return ev.RecordedPolicy.of("team", 'name = "team"\n')
    return f"some {name}"


def _valid_kwargs(kind: type[ev.Event]) -> dict[str, Any]:
    hints = _hints(kind)
    return {f.name: _sample(f.name, hints[f.name]) for f in attrs.fields(kind)}


def _fields_of(hint_test: Any) -> list[tuple[type[ev.Event], str]]:
    """Every (event class, field name) whose type hint passes ``hint_test``.

    The test sees the field's name qualified by its class where OPTIONAL_TEXT names it so.
    """
    return [
        (kind, f.name)
        for kind in KINDS
        for f in attrs.fields(kind)
        if hint_test(_qualified(kind, f.name), _hints(kind)[f.name])
    ]


def _qualified(kind: type[ev.Event], name: str) -> str:
    full = f"{kind.__name__}.{name}"
    return full if full in OPTIONAL_TEXT else name


def _ids(cases: list[tuple[type[ev.Event], str]]) -> list[str]:
    return [f"{kind.__name__}.{name}" for kind, name in cases]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


DATETIME_FIELDS = _fields_of(lambda _, h: h is datetime)
TEXT_FIELDS = _fields_of(lambda n, h: h is str and n not in OPTIONAL_TEXT)
OPTIONAL_TEXT_FIELDS = _fields_of(lambda n, h: h is str and n in OPTIONAL_TEXT)
ENUM_FIELDS = _fields_of(lambda _, h: isinstance(h, type) and issubclass(h, enum.Enum))
BOOL_FIELDS = _fields_of(lambda _, h: h is bool)


def _refused(kind: type[ev.Event], name: str, value: Any) -> InvalidInput:
    kwargs = _valid_kwargs(kind)
    kwargs[name] = value
    with pytest.raises(InvalidInput) as info:
        kind(**kwargs)
    return info.value


# -- the catalogue -----------------------------------------------------------------------


def test_every_event_class_is_registered() -> None:
    """EVENT_TYPES holds every concrete event class that events.py exports, and nothing else."""
    exported = {
        getattr(ev, name)
        for name in ev.__all__
        if isinstance(getattr(ev, name), type)
        and getattr(ev, name) not in (ev.Event, ev.RecordedPolicy)
    }
    assert exported == set(KINDS)
    assert 31 == len(KINDS)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_type_tag_is_the_snake_case_class_name(kind: type[ev.Event]) -> None:
    """Each class's tag is its name in snake_case, and EVENT_TYPES is keyed by it."""
    assert _snake(kind.__name__) == kind.type
    assert kind is ev.EVENT_TYPES[kind.type]


def test_type_tags_are_unique() -> None:
    """No two event classes share a tag."""
    tags = [kind.type for kind in KINDS]
    assert sorted(set(tags)) == sorted(tags)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_every_event_names_its_command(kind: type[ev.Event]) -> None:
    """Each event names a command the incident offers as a method."""
    assert kind.command != ""
    assert callable(getattr(Incident, kind.command))


def test_commands_are_unique_and_authorizable() -> None:
    """Every event but Declared and StateChanged maps onto a policy command, one-to-one but for
    the records of what is not known, authorized as the command they stand in for."""
    shared: dict[type[ev.Event], str] = {ev.RoleUnknown: "assign", ev.LinkAbsent: "link"}
    ordinary = [k.command for k in KINDS if k not in (ev.Declared, ev.StateChanged, *shared)]
    assert sorted(COMMAND_STATES) == sorted(ordinary)
    assert shared == {k: k.command for k in shared}
    assert ("declare", "move") == (ev.Declared.command, ev.StateChanged.command)


def test_base_event_is_not_registered() -> None:
    """The abstract Event has no tag and is not decodable."""
    assert "" == ev.Event.type
    assert ev.Event not in set(KINDS)


def test_event_types_is_read_only() -> None:
    """EVENT_TYPES cannot be changed by callers."""
    with pytest.raises(TypeError):
        ev.EVENT_TYPES["rogue"] = ev.NoteAdded  # type: ignore[index]


# -- construction ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_valid_fields_build_an_event(kind: type[ev.Event]) -> None:
    """Every event class accepts well-formed values and keeps them."""
    kwargs = _valid_kwargs(kind)
    event = kind(**kwargs)
    assert kwargs == attrs.asdict(event, recurse=False)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_fields_are_keyword_only(kind: type[ev.Event]) -> None:
    """Events are built by keyword only, so fields cannot be swapped by position."""
    with pytest.raises(TypeError):
        kind("ana", AT, AT)  # type: ignore[call-arg]


def test_defaults() -> None:
    """Optional flags default to False and optional notes to the empty string."""
    base: dict[str, Any] = {"actor": "ana", "occurred_at": AT, "recorded_at": AT}
    assert ev.UpdatePosted(**base, message="m").no_progress is False
    assert ev.WhyAnswered(**base, chain="c", answer="a").root_cause is False
    assert "" == ev.ChangeReconciled(**base, change_id="c", outcome=ChangeOutcome.REVERTED).note
    assert "" == ev.DebtClosed(**base, debt_id="d").note
    assert "" == ev.ActionClosed(**base, action_id="a").note
    assert "" == ev.ReportStarted(**base).location


@pytest.mark.parametrize(
    "offset", [timedelta(0), timedelta(hours=-12), timedelta(hours=14), timedelta(minutes=330)]
)
def test_any_utc_offset_is_accepted(offset: timedelta) -> None:
    """Aware datetimes in any fixed offset are valid and kept as given."""
    at = datetime(2026, 3, 1, 14, 0, 0, 123456, tzinfo=timezone(offset))
    event = ev.NoteAdded(actor="ana", occurred_at=at, recorded_at=at, text="t")
    assert offset == event.occurred_at.utcoffset()


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "name"), DATETIME_FIELDS, ids=_ids(DATETIME_FIELDS))
def test_naive_datetime_is_refused(kind: type[ev.Event], name: str) -> None:
    """A naive datetime in any timestamp field raises InvalidInput naming the field."""
    error = _refused(kind, name, datetime(2026, 3, 1, 14, 0))
    assert f"{kind.__name__}.{name}" in str(error)
    assert "naive" in str(error)


@pytest.mark.parametrize(("kind", "name"), DATETIME_FIELDS, ids=_ids(DATETIME_FIELDS))
@pytest.mark.parametrize("value", ["2026-03-01T14:00:00+00:00", 1772373600, None], ids=repr)
def test_non_datetime_timestamp_is_refused(kind: type[ev.Event], name: str, value: Any) -> None:
    """An ISO string, an epoch number or None is not a datetime."""
    _refused(kind, name, value)


@pytest.mark.parametrize(("kind", "name"), TEXT_FIELDS, ids=_ids(TEXT_FIELDS))
@pytest.mark.parametrize("value", ["", " ", "\t\n", "\u3000"], ids=repr)
def test_blank_text_is_refused(kind: type[ev.Event], name: str, value: str) -> None:
    """Required text fields refuse empty and whitespace-only strings."""
    error = _refused(kind, name, value)
    assert f"{kind.__name__}.{name}" in str(error)


@pytest.mark.parametrize(("kind", "name"), TEXT_FIELDS, ids=_ids(TEXT_FIELDS))
@pytest.mark.parametrize("value", [None, 7, b"bytes", ["x"]], ids=repr)
def test_non_string_text_is_refused(kind: type[ev.Event], name: str, value: Any) -> None:
    """Required text fields refuse anything but a str."""
    _refused(kind, name, value)


@pytest.mark.parametrize(("kind", "name"), OPTIONAL_TEXT_FIELDS, ids=_ids(OPTIONAL_TEXT_FIELDS))
def test_optional_text_may_be_empty_but_must_be_text(kind: type[ev.Event], name: str) -> None:
    """note and location accept "" but still refuse non-strings."""
    kwargs = _valid_kwargs(kind)
    kwargs[name] = ""
    assert "" == getattr(kind(**kwargs), name)
    _refused(kind, name, None)
    _refused(kind, name, 0)


def test_a_str_subclass_is_refused() -> None:
    """Text must be exactly str, so an event always serializes as plain JSON strings."""

    class Handle(str):
        pass

    _refused(ev.NoteAdded, "actor", Handle("ana"))


@pytest.mark.parametrize(("kind", "name"), ENUM_FIELDS, ids=_ids(ENUM_FIELDS))
def test_wrong_enum_type_is_refused(kind: type[ev.Event], name: str) -> None:
    """An enum field refuses its member's value as a string and members of other enums."""
    hint = _hints(kind)[name]
    member = next(iter(hint))
    _refused(kind, name, member.value)
    other = next(e for e in ENUMS if e is not hint)
    error = _refused(kind, name, next(iter(other)))
    assert hint.__name__ in str(error)


@pytest.mark.parametrize(("kind", "name"), BOOL_FIELDS, ids=_ids(BOOL_FIELDS))
@pytest.mark.parametrize("value", [0, 1, None, "true", "false"], ids=repr)
def test_non_bool_flag_is_refused(kind: type[ev.Event], name: str, value: Any) -> None:
    """Flags take only True or False, not 0/1, None or strings."""
    _refused(kind, name, value)


@pytest.mark.parametrize(
    "invitees",
    [(), ("ana", "ana"), ("ana", ""), ("ana", " "), ["ana"], "ana", ("ana", 1), None],
    ids=repr,
)
def test_bad_invitees_are_refused(invitees: Any) -> None:
    """Invitees are a non-empty tuple of distinct, non-blank names."""
    _refused(ev.PostMortemScheduled, "invitees", invitees)


def test_validation_errors_are_library_and_value_errors() -> None:
    """A malformed event raises InvalidInput, which is an IncidentFlowError and a ValueError."""
    error = _refused(ev.NoteAdded, "text", "")
    assert isinstance(error, IncidentFlowError)
    assert isinstance(error, ValueError)


def test_valid_field_values_pass_for_every_enum_member() -> None:
    """Every member of an enum field's enum is accepted."""
    for kind, name in ENUM_FIELDS:
        hint = _hints(kind)[name]
        for member in hint:
            kwargs = _valid_kwargs(kind)
            kwargs[name] = member
            assert member is getattr(kind(**kwargs), name)


# -- immutability ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_events_are_frozen(kind: type[ev.Event]) -> None:
    """Assigning to any field of any event raises FrozenInstanceError."""
    event = kind(**_valid_kwargs(kind))
    for f in attrs.fields(kind):
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(event, f.name, getattr(event, f.name))


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_equal_events_hash_equal(kind: type[ev.Event]) -> None:
    """Events compare and hash by value, so they can be deduplicated and used as keys."""
    a, b = kind(**_valid_kwargs(kind)), kind(**_valid_kwargs(kind))
    assert a == b
    assert hash(a) == hash(b)


def test_evolve_revalidates() -> None:
    """attrs.evolve runs the validators again, so a bad copy cannot be made."""
    event = ev.NoteAdded(actor="ana", occurred_at=AT, recorded_at=AT, text="t")
    with pytest.raises(InvalidInput):
        attrs.evolve(event, occurred_at=AT.replace(tzinfo=None))


def test_factor_category_is_optional_but_typed() -> None:
    """A factor's fishbone category may be absent; when given it must be a FishboneCategory."""
    base = _valid_kwargs(ev.FactorAdded)
    assert None is ev.FactorAdded(**{**base, "category": None}).category
    error = _refused(ev.FactorAdded, "category", "process")
    assert "FishboneCategory" in str(error)
    _refused(ev.FactorAdded, "category", Priority.P1)


class _Names(tuple[str, ...]):
    """A tuple of another class, equal to a tuple of the same names."""


def test_approximate_names_only_the_events_own_times_sorted() -> None:
    """approximate is a sorted tuple of distinct time fields of the event, never recorded_at."""
    base = _valid_kwargs(ev.Declared)
    kept = ev.Declared(**{**base, "approximate": ("began", "detected_at", "occurred_at")})
    assert ("began", "detected_at", "occurred_at") == kept.approximate
    assert kept.is_approximate("began")
    assert not ev.Declared(**base).is_approximate("began")
    bad_names: list[Any] = [
        ("recorded_at",),
        ("occurred_at", "began"),
        ("began", "began"),
        ("title",),
        ["began"],
        ("due_at",),
        _Names(),  # empty, but not a tuple: checked, not taken for the usual empty one
    ]
    for bad in bad_names:
        error = _refused(ev.Declared, "approximate", bad)
        assert "Declared.approximate" in str(error)


def test_recorded_late_is_the_stamp_minus_the_occurrence() -> None:
    """recorded_late is how long after it happened the event was written down."""
    event = ev.NoteAdded(actor="ana", occurred_at=AT - timedelta(days=2), recorded_at=AT, text="t")
    assert timedelta(days=2) == event.recorded_late


@pytest.mark.parametrize("share", [0, 100, 0.5, 99.9, None])
def test_share_is_a_percentage(share: Any) -> None:
    """An impact's share may be 0 to 100 (both included), whole or not, or unknown."""
    kwargs = {**_valid_kwargs(ev.ImpactChanged), "share": share}
    assert share == ev.ImpactChanged(**kwargs).share


@pytest.mark.parametrize(
    "share", [-0.01, 100.01, float("nan"), float("inf"), True, "40", [40]], ids=repr
)
def test_share_outside_zero_to_a_hundred_is_refused(share: Any) -> None:
    """A share below 0, above 100, not a number, or a bool is refused."""
    assert "ImpactChanged.share" in str(_refused(ev.ImpactChanged, "share", share))


@pytest.mark.parametrize("components", [("a", "a"), ("a", " "), ["a"], "a", None], ids=repr)
def test_bad_components_are_refused(components: Any) -> None:
    """Components are a tuple (maybe empty) of distinct non-blank names."""
    _refused(ev.ImpactChanged, "components", components)


def test_declaration_without_onset_reads_as_the_older_form() -> None:
    """Without began, occurred_at is the onset and recorded_at the declaration."""
    base = {**_valid_kwargs(ev.Declared), "began": None, "occurred_at": AT - timedelta(hours=1)}
    old = ev.Declared(**base)
    assert (AT - timedelta(hours=1), AT) == (old.onset, old.declared_time)
    new = ev.Declared(**{**base, "began": AT - timedelta(hours=2)})
    assert (AT - timedelta(hours=2), AT - timedelta(hours=1)) == (new.onset, new.declared_time)


def test_action_owner_and_due_may_be_unknown() -> None:
    """An action item's owner and due time may be None, but never blank or naive."""
    base = _valid_kwargs(ev.ActionAdded)
    item = ev.ActionAdded(**{**base, "owner": None, "due_at": None})
    assert (None, None) == (item.owner, item.due_at)
    _refused(ev.ActionAdded, "owner", " ")
    _refused(ev.ActionAdded, "due_at", datetime(2026, 3, 1))


def test_validation_impact_defaults_to_not_assessed() -> None:
    """A validation recorded without an impact keeps an empty impact, not a made-up one."""
    base = {k: v for k, v in _valid_kwargs(ev.Validated).items() if k != "impact"}
    assert "" == ev.Validated(**base).impact


@pytest.mark.parametrize(
    ("kind", "name"), [(ev.Retracted, "entry"), (ev.Amended, "entry"), (ev.WhyAnswered, "depth")]
)
@pytest.mark.parametrize("value", [0, -1, "1", True, 1.0], ids=repr)
def test_entry_numbers_and_depths_are_whole_numbers_from_one(
    kind: type[ev.Event], name: str, value: Any
) -> None:
    """An entry number or a why's depth is an int from 1: 0, a string, a bool are refused."""
    error = _refused(kind, name, value)
    assert f"{kind.__name__}.{name} must be a whole number from 1" in str(error)


def test_fields_added_later_are_written_only_when_set() -> None:
    """A plain note, an answer without a depth and an own-field amendment write no new keys."""
    from incidentflow import codec

    note = ev.NoteAdded(actor="ana", occurred_at=AT, recorded_at=AT, text="t")
    why = ev.WhyAnswered(actor="ana", occurred_at=AT, recorded_at=AT, chain="c", answer="a")
    amended = ev.Amended(
        actor="ana", occurred_at=AT, recorded_at=AT, field_name="title", value="T", reason="r"
    )
    assert "kind" not in codec.to_dict(note)
    assert {"depth", "branches_from"}.isdisjoint(codec.to_dict(why))
    assert "entry" not in codec.to_dict(amended)
    discrepancy = attrs.evolve(note, kind=NoteKind.DISCREPANCY)
    assert "discrepancy" == codec.to_dict(discrepancy)["kind"]
    assert discrepancy == codec.loads(codec.dumps(discrepancy))
