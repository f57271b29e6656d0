"""Identities: one person, one string, nothing hidden; and invisible characters shown."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostile import INVISIBLE, START
from incidentflow import (
    ActionKind,
    ChangeLogged,
    Declared,
    Event,
    FactorAdded,
    Incident,
    InvalidInput,
    ManualClock,
    NoteAdded,
    Priority,
    Role,
    State,
    StateChanged,
    UpdatePosted,
    Validated,
)
from incidentflow.demo import run_demo
from incidentflow.documents import agenda, compose_update, invitation, rca_document
from incidentflow.documents._markup import html, inline, markdown, slack
from incidentflow.identities import (
    IDENTITY_FIELDS,
    is_invisible,
    require_identity,
    show_invisible,
)
from incidentflow.testing import identities, texts

# Written independently of the implementation: what a reader cannot see or tell apart.
HIDDEN = [
    *INVISIBLE,
    "\u00a0",  # NO-BREAK SPACE
    "\u2007",  # FIGURE SPACE
    "\u3000",  # IDEOGRAPHIC SPACE
    "\u2028",  # LINE SEPARATOR
    "\u2029",  # PARAGRAPH SEPARATOR
    "\t",
    "\n",
    "\x00",
    "\x7f",
    "\ue000",  # private use
    "\U0010ffff",  # a noncharacter, unassigned
    "\ud800",  # a lone surrogate
    "\udcff",  # a non-UTF-8 byte as surrogateescape gives it
    "\u034f",  # COMBINING GRAPHEME JOINER
    "\ufe00",  # VARIATION SELECTOR-1
    "\ufff9",  # INTERLINEAR ANNOTATION ANCHOR
]


def test_a_plain_name_is_itself() -> None:
    """Names of any script with plain spaces inside are accepted unchanged."""
    for name in ("ana", "Ana Lima", "José", "李雷", "o'brien", "INC-1042", "E1", "アナ"):
        assert name == require_identity(name, "actor")


def test_a_decomposed_name_is_normalized_to_nfc() -> None:
    """'e' + combining acute and the precomposed 'é' are one name."""
    assert "Jos\u00e9" == require_identity("Jose\u0301", "actor")


@pytest.mark.parametrize("name", ["", " ", "\t", "\u3000", "\n\n"])
def test_a_blank_name_is_refused(name: str) -> None:
    """A blank name names nobody."""
    with pytest.raises(InvalidInput, match="actor must not be blank"):
        require_identity(name, "actor")


@pytest.mark.parametrize("name", [" ana", "ana ", " ana ", "ana\n", "\tana", "ana\u00a0"])
def test_surrounding_white_space_is_refused_not_trimmed(name: str) -> None:
    """' ana ' is a typing mistake to fix, not quietly a second person nor quietly 'ana'."""
    with pytest.raises(InvalidInput, match="white space"):
        require_identity(name, "holder")


@pytest.mark.parametrize("char", HIDDEN, ids=[f"U+{ord(c):04X}" for c in HIDDEN])
def test_an_invisible_character_inside_a_name_is_refused(char: str) -> None:
    """Zero-width, bidi, control, odd spaces, separators, fillers: refused, naming the character."""
    with pytest.raises(InvalidInput, match=f"U\\+{ord(char):04X}") as raised:
        require_identity(f"an{char}a", "RoleAssigned.holder")
    assert str(raised.value).startswith("RoleAssigned.holder ")
    assert str(raised.value).isprintable()


@pytest.mark.parametrize("value", [None, 7, b"ana", ["ana"]])
def test_a_name_must_be_a_string(value: object) -> None:
    """Anything but a string is refused."""
    with pytest.raises(InvalidInput, match="must be a string"):
        require_identity(value, "actor")


@given(identities())
def test_every_drawn_identity_is_accepted_as_it_is(name: str) -> None:
    """The public strategy draws only names the rules accept, already in NFC."""
    assert name == require_identity(name, "actor")


@given(identities(), st.sampled_from(HIDDEN), st.data())
def test_a_hidden_character_anywhere_in_a_name_is_refused(
    name: str, char: str, data: st.DataObject
) -> None:
    """However it is placed, a hidden character makes the name unacceptable."""
    at = data.draw(st.integers(min_value=0, max_value=len(name)))
    with pytest.raises(InvalidInput):
        require_identity(name[:at] + char + name[at:], "actor")


def test_identity_fields_cover_people_and_ids() -> None:
    """The fields that name people or the ids later commands refer to."""
    assert {"actor", "holder", "from_holder", "to_holder", "owner", "made_by", "invitees",
            "incident_id", "experiment_id", "change_id", "debt_id", "action_id",
            "chain"} == IDENTITY_FIELDS  # fmt: skip


# -- the commands --------------------------------------------------------------------------------


def _incident() -> Incident:
    return Incident.declare("INC-1", "Down", Priority.P3, actor="ana", clock=ManualClock(START))


LOOKALIKES: dict[str, Callable[[Incident], object]] = {
    "actor with a zero-width space": lambda i: i.note("x", actor="ana\u200b"),
    "holder with spaces": lambda i: i.assign(Role.INCIDENT_COMMANDER, " ana ", actor="ana"),
    "experiment id with a trailing space": lambda i: i.start_experiment(
        hypothesis="h",
        action="a",
        expected="e",
        component="db",
        owner="ana",
        actor="ana",
        experiment_id="E-1 ",
    ),
    "change author with a bidi override": lambda i: i.log_change(
        what="w", where="x", revert="r", made_by="\u202eana", actor="ana"
    ),
    "debt id with a BOM": lambda i: i.open_debt("d", debt_id="\ufeffD1", actor="ana"),
    "action owner with a trailing space": lambda i: i.add_action(
        "a", owner="bo ", due_at=START + timedelta(days=1), kind=ActionKind.CORRECTIVE, actor="ana"
    ),
    "why chain with a control character": lambda i: i.add_why("w", chain="main\x1b", actor="ana"),
    "invitee with a no-break space": lambda i: i.schedule_post_mortem(
        START + timedelta(days=1), ["ana", "bo\u00a0"], actor="ana"
    ),
    "declared id with a zero-width joiner": lambda i: Incident.declare(
        "INC\u200d1", "t", Priority.P3, actor="ana", clock=ManualClock(START)
    ),
}


@pytest.mark.parametrize("name", sorted(LOOKALIKES))
def test_commands_refuse_look_alike_identities_and_change_nothing(name: str) -> None:
    """Every command checks the names it is given before anything is recorded."""
    incident = _incident()
    before = Incident.replay(list(incident.history))
    with pytest.raises(InvalidInput):
        LOOKALIKES[name](incident)
    assert before == incident


def test_commands_record_names_in_nfc() -> None:
    """A decomposed name given to a command is recorded (and then compared) in NFC."""
    incident = Incident.declare(
        "INC-1", "Down", Priority.P3, actor="Jose\u0301", clock=ManualClock(START)
    )
    event = incident.assign(Role.INCIDENT_COMMANDER, "Jose\u0301", actor="Jose\u0301")
    assert ("Jos\u00e9", "Jos\u00e9") == (event.holder, incident.history[0].actor)
    assert ("Jos\u00e9",) == incident.holders(Role.INCIDENT_COMMANDER)
    assert incident.can_move(State.DISMISSED, actor="Jos\u00e9")


# -- showing what cannot be seen -----------------------------------------------------------------


@given(st.lists(st.one_of(texts(max_size=8), st.sampled_from(HIDDEN))).map("".join))
def test_shown_text_has_nothing_invisible_left(text: str) -> None:
    """After show_invisible, every character but the plain space prints as something."""
    assert not any(map(is_invisible, show_invisible(text)))


@given(identities())
def test_visible_text_is_shown_unchanged(text: str) -> None:
    """Text without invisible characters is left exactly as it is."""
    assert text == show_invisible(text)


def test_invisible_characters_are_spelled_as_code_points() -> None:
    """A bidi override reads as <U+202E>, a zero-width space as <U+200B>."""
    assert "evil<U+202E>txt.exe a<U+200B>b" == show_invisible("evil\u202etxt.exe a\u200bb")


@given(st.lists(st.one_of(texts(max_size=8), st.sampled_from(HIDDEN))).map("".join))
def test_every_format_keeps_invisible_characters_out(text: str) -> None:
    """Plain text, Markdown, HTML and Slack: no invisible character survives (only spaces)."""
    for escape in (inline, markdown, html, slack):
        escaped = escape(text)
        assert not any(map(is_invisible, escaped)), (escape.__name__, escaped)


# -- every rendered document ---------------------------------------------------------------------

DEMO = run_demo(write=lambda line: None)
TYPED_INVISIBLE = [c for c in HIDDEN if c not in "\t\n"]


def _retyped(text: Callable[[], str]) -> Incident:
    """The demo incident with its title, notes, updates and announcements typed as ``text()``."""
    typed: dict[type[Event], str] = {
        Declared: "title", NoteAdded: "text", UpdatePosted: "message", StateChanged: "message",
        Validated: "impact", FactorAdded: "description", ChangeLogged: "what",
    }  # fmt: skip

    def typed_as_text(e: Event) -> Event:
        changed: dict[str, Any] = {typed[type(e)]: text()}
        return attrs.evolve(e, **changed)

    history = [typed_as_text(e) if type(e) in typed else e for e in DEMO.history]
    return Incident.replay(history)


@settings(max_examples=30)
@given(st.data())
def test_no_rendered_document_carries_an_invisible_character(data: st.DataObject) -> None:
    """Terminal-ready text, Markdown, HTML, Slack and .ics: typed invisibles come out spelled."""
    hostile = st.lists(st.one_of(texts(max_size=6), st.sampled_from(TYPED_INVISIBLE)), min_size=1)
    incident = _retyped(lambda: "x" + "".join(data.draw(hostile)))
    now = incident.last_recorded_at
    plan = agenda(incident)
    rca = rca_document(incident, now=now)
    update = compose_update(incident, now=now)
    rendered = {
        "agenda text": plan.text(),
        "agenda markdown": plan.markdown(),
        "agenda html": plan.html(),
        "rca markdown": rca.markdown(),
        "rca html": rca.html(chart=False),  # the chart's own test draws hostile text
        "update text": update.text(),
        "update slack": json.dumps(update.slack_message(), ensure_ascii=False),
        "invitation": invitation(incident, now=now).decode("utf-8"),
    }
    for name, document in rendered.items():
        leaked = sorted({f"U+{ord(c):04X}" for c in document if c in TYPED_INVISIBLE})
        assert [] == leaked, name


def test_two_invitees_that_are_one_name_in_nfc_are_refused() -> None:
    """'José' typed two ways is one person, invited once."""
    incident = _incident()
    with pytest.raises(InvalidInput, match="names someone twice"):
        incident.schedule_post_mortem(
            START + timedelta(days=1), ["Jos\u00e9", "Jose\u0301"], actor="ana"
        )


# Characters of visible categories (letters, marks, symbols) that print as nothing, by their
# Unicode names; and the visible characters next to them, which must stay accepted.
BLANK_BY_NAME = [
    "COMBINING GRAPHEME JOINER",
    "HANGUL CHOSEONG FILLER",
    "HANGUL JUNGSEONG FILLER",
    "KHMER VOWEL INHERENT AQ",
    "KHMER VOWEL INHERENT AA",
    "MONGOLIAN FREE VARIATION SELECTOR ONE",
    "MONGOLIAN FREE VARIATION SELECTOR TWO",
    "MONGOLIAN FREE VARIATION SELECTOR THREE",
    "MONGOLIAN FREE VARIATION SELECTOR FOUR",
    "BRAILLE PATTERN BLANK",
    "HANGUL FILLER",
    "HALFWIDTH HANGUL FILLER",
    *(f"VARIATION SELECTOR-{n}" for n in range(1, 257)),
]
VISIBLE_NEIGHBOURS = [
    "COMBINING UPWARDS ARROW BELOW",
    "COMBINING RIGHT ARROWHEAD ABOVE",
    "HANGUL CHOSEONG TIKEUT-RIEUL",
    "HANGUL JUNGSEONG A",
    "KHMER INDEPENDENT VOWEL QAU",
    "KHMER VOWEL SIGN AA",
    "MONGOLIAN NIRUGU",
    "MONGOLIAN DIGIT ZERO",
    "LONG RIGHTWARDS SQUIGGLE ARROW",
    "BRAILLE PATTERN DOTS-1",
    "HANGUL LETTER I",
    "HANGUL LETTER SSANGNIEUN",
    "HALFWIDTH KATAKANA SEMI-VOICED SOUND MARK",
    "HALFWIDTH HANGUL LETTER KIYEOK",
    "ARABIC LIGATURE AZZA WA JALL",
    "PRESENTATION FORM FOR VERTICAL COMMA",
]


def test_every_blank_letter_mark_and_symbol_is_invisible() -> None:
    """Fillers, inherent vowels, variation selectors and the Braille blank print as nothing."""
    shown = [name for name in BLANK_BY_NAME if not is_invisible(unicodedata.lookup(name))]
    assert [] == shown


def test_the_characters_next_to_the_blank_ones_are_visible() -> None:
    """The neighbours of each blank character print, so a name may hold them."""
    hidden = [name for name in VISIBLE_NEIGHBOURS if is_invisible(unicodedata.lookup(name))]
    assert [] == hidden
    name = "".join(unicodedata.lookup(n) for n in VISIBLE_NEIGHBOURS[:3])
    assert unicodedata.normalize("NFC", "a" + name) == require_identity("a" + name, "actor")
