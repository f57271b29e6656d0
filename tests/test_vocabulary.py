"""parse() on every vocabulary: what people type becomes a member, or a clear error."""

from __future__ import annotations

import pytest

from incidentflow import (
    ActionKind,
    ChangeOutcome,
    InvalidInput,
    LinkKind,
    Priority,
    Role,
    State,
    Verdict,
)
from incidentflow._vocabulary import Vocabulary

VOCABULARIES: list[type[Vocabulary]] = [
    ActionKind,
    ChangeOutcome,
    LinkKind,
    Priority,
    Role,
    State,
    Verdict,
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P1", Priority.P1),
        ("p0", Priority.P0),
        (" P3 ", Priority.P3),
        ("lead", Role.LEAD),
        ("LEAD", Role.LEAD),
        ("incident-commander", Role.INCIDENT_COMMANDER),
        ("Incident Commander", Role.INCIDENT_COMMANDER),
        ("IC", Role.INCIDENT_COMMANDER),
        ("commander", Role.INCIDENT_COMMANDER),
        ("post mortem", State.POST_MORTEM),
        ("war-room", LinkKind.WAR_ROOM),
        ("Refuted", Verdict.REFUTED),
        ("permanent", ChangeOutcome.PERMANENT),
        ("PREVENTIVE", ActionKind.PREVENTIVE),
    ],
)
def test_parse_reads_values_names_and_aliases(text: str, expected: Vocabulary) -> None:
    """Values, names, any case, hyphens or spaces for underscores, and Role's IC alias."""
    assert expected is type(expected).parse(text)


@pytest.mark.parametrize("kind", VOCABULARIES, ids=lambda k: k.__name__)
def test_every_member_parses_from_its_value_and_name(kind: type[Vocabulary]) -> None:
    """parse() is the inverse of .value and .name for every member, and keeps members."""
    for member in kind:
        assert member is kind.parse(str(member.value))
        assert member is kind.parse(member.name)
        assert member is kind.parse(member)


@pytest.mark.parametrize("text", ["boss", "", "  ", "P4", "ic!", 1, None, Priority.P1])
def test_parse_refuses_anything_else_naming_the_choices(text: object) -> None:
    """Unknown text, other types and other vocabularies' members raise InvalidInput."""
    with pytest.raises(InvalidInput) as info:
        Role.parse(text)
    assert "expected one of: communicator, recorder, lead, incident_commander" in str(info.value)


def test_aliases_are_only_roles() -> None:
    """Only Role has aliases: "ic" is not a priority or a state."""
    with pytest.raises(InvalidInput):
        State.parse("ic")


@pytest.mark.parametrize("kind", VOCABULARIES, ids=lambda k: k.__name__)
def test_members_hash_and_compare_by_identity(kind: type[Vocabulary]) -> None:
    """Members work as dict keys and equal only themselves."""
    table = {member: member.value for member in kind}
    assert [m.value for m in kind] == [table[m] for m in kind]
    assert len(set(kind)) == len(list(kind))
