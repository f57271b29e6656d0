r"""Names that mean one person: actors, role holders, invitees and the ids of records.

The rules compare names character for character: the Incident Commander is whoever holds the
exact string ``"ana"``.  So two names that print alike must be one string, and a name must not
hide characters a reader cannot see.  :func:`require_identity` is the one check every entry
point applies (the commands, :meth:`Store.append <incidentflow.store.Store.append>`, ``import``
and ``validate``, the command line):

- the name is normalized to Unicode NFC, so ``"e\u0301"`` and ``"é"`` are one name;
- it is refused when blank, when it starts or ends with white space (refused, not trimmed:
  ``" ana "`` is a typing mistake to fix, not a second person), or when it holds a control
  character, a format character (zero-width spaces and joiners, bidi overrides such as
  U+202E), a line or paragraph separator, a space other than U+0020, a private-use, surrogate
  or unassigned code point, or another character that prints as nothing (fillers, variation
  selectors, the Braille blank).

Letters that look alike in different scripts (Latin ``a``, Cyrillic ``а``) are different
letters, and so different names; they are not refused.

:data:`IDENTITY_FIELDS` names the event fields that hold identities.  Histories stored before
these rules keep loading: the rules apply to what is written from now on, never to what is read.

Typed free text (titles, notes, messages) may hold any character; documents show the invisible
ones with :func:`show_invisible`.

>>> require_identity("ana", "actor")
'ana'
>>> from incidentflow.errors import InvalidInput
>>> try:
...     require_identity("ana\u200b", "actor")
... except InvalidInput as exc:
...     print(exc)
actor 'ana\u200b' holds an invisible character, U+200B ZERO WIDTH SPACE: names must ...
>>> show_invisible("a\u202eb")
'a<U+202E>b'
"""

from __future__ import annotations

import unicodedata

from .errors import InvalidInput

__all__ = ["IDENTITY_FIELDS", "is_invisible", "require_identity", "show_invisible"]

IDENTITY_FIELDS = frozenset(
    {
        "actor",
        "holder",
        "from_holder",
        "to_holder",
        "owner",
        "made_by",
        "invitees",
        "incident_id",
        "experiment_id",
        "change_id",
        "debt_id",
        "action_id",
        "chain",
    }
)
"""The event fields whose values are identities: people and the ids of incidents and records."""

_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})
"""Control, format, surrogate, private-use, unassigned, separators and spaces."""

_BLANK_MARKS = frozenset(
    {
        0x034F,  # COMBINING GRAPHEME JOINER
        0x115F,  # HANGUL CHOSEONG FILLER
        0x1160,  # HANGUL JUNGSEONG FILLER
        0x17B4,  # KHMER VOWEL INHERENT AQ
        0x17B5,  # KHMER VOWEL INHERENT AA
        0x180B,  # MONGOLIAN FREE VARIATION SELECTOR ONE
        0x180C,  # MONGOLIAN FREE VARIATION SELECTOR TWO
        0x180D,  # MONGOLIAN FREE VARIATION SELECTOR THREE
        0x180F,  # MONGOLIAN FREE VARIATION SELECTOR FOUR
        0x2800,  # BRAILLE PATTERN BLANK
        0x3164,  # HANGUL FILLER
        0xFFA0,  # HALFWIDTH HANGUL FILLER
        *range(0xFE00, 0xFE10),  # VARIATION SELECTOR-1 to -16
        *range(0xE0100, 0xE01F0),  # VARIATION SELECTOR-17 to -256
    }
)
"""Characters of visible categories that nonetheless print as nothing."""


def is_invisible(char: str) -> bool:
    r"""Whether the character ``char`` prints as nothing, moves text or is not a character.

    The plain space U+0020 is not invisible; every other space is.

    >>> [is_invisible(c) for c in ("a", " ", "\u00a0", "\u200d", "\u202e", "\x1b")]
    [False, False, True, True, True, True]
    """
    if char == " ":
        return False
    return unicodedata.category(char) in _HIDDEN_CATEGORIES or ord(char) in _BLANK_MARKS


def show_invisible(text: str) -> str:
    """``text`` with every invisible character written as ``<U+XXXX>`` (see :func:`is_invisible`).

    Plain spaces stay as they are.
    """
    if text.isascii() and text.isprintable():
        return text
    return "".join(f"<U+{ord(c):04X}>" if is_invisible(c) else c for c in text)


def require_identity(value: object, name: str) -> str:
    """``value`` as an identity in NFC; ``InvalidInput`` naming ``name`` when it is not one.

    Refused: anything but a string, a blank name, white space at either end, and any
    invisible character (see the module's description).
    """
    if type(value) is not str:
        raise InvalidInput(f"{name} must be a string, not {value!r}")
    if not value.strip():
        raise InvalidInput(f"{name} must not be blank, not {value!r}")
    # The messages show {value!r}: repr escapes every invisible character but the Braille blank
    if value[0].isspace() or value[-1].isspace():
        raise InvalidInput(
            f"{name} {value!r} starts or ends with white space: give the name without it"
        )
    if value.isascii() and value.isprintable():
        return value  # nothing invisible, and ASCII text is already in NFC
    for char in value:
        if is_invisible(char):
            try:
                label = unicodedata.name(char)
            except ValueError:
                label = unicodedata.category(char)
            raise InvalidInput(
                f"{name} {value!r} holds an invisible character, U+{ord(char):04X} "
                f"{label}: names must print as what they are"
            )
    return unicodedata.normalize("NFC", value)
