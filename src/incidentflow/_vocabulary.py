"""The shared base of incidentflow's enumerations: parsing what people type."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Self

__all__ = ["Vocabulary"]


class Vocabulary(enum.Enum):
    """An enumeration whose members can be parsed from user text.

    ``parse`` accepts a member, its value or its name, ignoring case, surrounding space, and
    ``-`` or spaces in place of ``_``; anything else raises
    :class:`~incidentflow.errors.InvalidInput` listing the accepted values.
    """

    # Members are singletons compared by identity, so the identity hash is exact, and it is
    # computed in C: Enum's own __hash__ is Python code, run on every dict and set lookup.
    __hash__ = object.__hash__

    @classmethod
    def parse(cls, text: Any) -> Self:
        """The member ``text`` names."""
        if isinstance(text, cls):
            return text
        if isinstance(text, str):
            key = "_".join(text.strip().lower().replace("-", " ").split())
            for member in cls:
                if key in (str(member.value).lower(), member.name.lower()):
                    return member
            alias = cls._aliases().get(key)
            if alias is not None:
                return alias
        from .errors import InvalidInput

        raise InvalidInput(cls._refusal(text))

    @classmethod
    def _refusal(cls, text: Any) -> str:
        """Why ``text`` names no member: the closest name offered, every accepted one listed."""
        import difflib
        import re

        noun = re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()
        accepted = ", ".join(str(m.value) for m in cls)
        aliases = cls._aliases()
        also = f" (or {', '.join(aliases)})" if aliases else ""
        hint = ""
        if isinstance(text, str):
            names = {str(m.value).lower(): str(m.value) for m in cls} | {a: a for a in aliases}
            key = "_".join(text.strip().lower().replace("-", " ").split())
            close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
            hint = f" — did you mean {names[close[0]]!r}?" if close else ""
        article = "an" if noun[:1] in "aeiou" else "a"
        return f"{text!r} is not {article} {noun}; expected one of: {accepted}{also}{hint}"

    @classmethod
    def _aliases(cls) -> Mapping[str, Self]:
        return {}
