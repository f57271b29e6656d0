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

        accepted = ", ".join(str(m.value) for m in cls)
        raise InvalidInput(f"{text!r} is not a {cls.__name__}; expected one of: {accepted}")

    @classmethod
    def _aliases(cls) -> Mapping[str, Self]:
        return {}
