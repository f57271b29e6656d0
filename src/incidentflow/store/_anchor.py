"""Anchors (every incident's head, kept outside the database) and what an audit reports."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from attrs import frozen

from incidentflow.clock import require_aware
from incidentflow.errors import InvalidInput

__all__ = ["Anchor", "Audit", "ChainBreak", "Head"]


@frozen(kw_only=True)
class ChainBreak:
    """The first bad event of one incident: its 1-based ``version`` and what is wrong.

    ``reason`` starts with what was found: ``changed``, ``missing``, ``reordered`` or
    ``inserted``.
    """

    incident_id: str
    version: int
    reason: str


@frozen(kw_only=True)
class Head:
    """Where one incident's chain ended when an :class:`Anchor` was taken."""

    incident_id: str
    version: int
    hash: str


_ANCHOR_FORMAT = "incidentflow-anchor"


@frozen(kw_only=True)
class Anchor:
    """A checkpoint of every incident's head, to keep outside the database.

    :meth:`Store.anchor` takes one; :meth:`Store.verify` with ``anchor=`` reports every
    incident whose history no longer extends its anchored head.  ``mac`` authenticates the
    anchor with the store's chain key (None for an unkeyed store).  :meth:`dumps` and
    :meth:`loads` give it a JSON file form.
    """

    created_at: datetime
    keyed: bool
    heads: tuple[Head, ...]
    mac: str | None = None

    def dumps(self) -> str:
        """The anchor as a JSON document (one object, ending with a newline)."""
        document = {**_anchor_payload(self), "mac": self.mac}
        return json.dumps(document, ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def loads(cls, text: str) -> Anchor:
        """The anchor written by :meth:`dumps`; :class:`InvalidInput` for anything else."""
        try:
            document = json.loads(text)
            if document.get("format") != _ANCHOR_FORMAT or document.get("version") != 1:
                raise ValueError("not an incidentflow anchor (format, version)")
            heads = tuple(
                Head(incident_id=_text(h["incident_id"]), version=_count(h["version"]),
                     hash=_text(h["hash"]))
                for h in document["heads"]
            )  # fmt: skip
            keyed = document["keyed"]
            mac = document["mac"]
            if type(keyed) is not bool or not (mac is None or type(mac) is str):
                raise ValueError("keyed must be true or false and mac a string or null")
            created_at = require_aware(datetime.fromisoformat(document["created_at"]), "created")
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            raise InvalidInput(f"not a readable anchor: {exc}") from exc
        return cls(created_at=created_at, keyed=keyed, heads=heads, mac=mac)


def _text(value: object) -> str:
    if type(value) is not str:
        raise ValueError(f"expected a string, not {value!r}")
    return value


def _count(value: object) -> int:
    if type(value) is not int or value < 1:
        raise ValueError(f"expected a positive int, not {value!r}")
    return value


def _anchor_payload(anchor: Anchor) -> dict[str, Any]:
    return {
        "format": _ANCHOR_FORMAT,
        "version": 1,
        "created_at": anchor.created_at.isoformat(),
        "keyed": anchor.keyed,
        "heads": [
            {"incident_id": h.incident_id, "version": h.version, "hash": h.hash}
            for h in anchor.heads
        ],
    }


@frozen(kw_only=True)
class Audit:
    """What :meth:`Store.audit` checked, what it found, and what it could not have found.

    ``breaks`` holds the first bad event of each broken incident (empty when all is well);
    ``undetectable`` says plainly, in this mode (keyed or not, anchored or not), which
    changes no check can see.
    """

    checked: int
    keyed: bool
    anchored: bool
    breaks: tuple[ChainBreak, ...]
    undetectable: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return not self.breaks


_REWRITE = "events rewritten by someone who recomputed the hashes (the chain has no secret key)"
_TRUNCATE = "an incident's newest events deleted together with a matching edit of its summary row"
_ROLLBACK = "the whole store, or one incident's rows and summary row, put back to an earlier copy"
_REMOVED = "an incident removed entirely (all its events and its summary row)"


def _undetectable(*, keyed: bool, anchored: bool) -> tuple[str, ...]:
    """The changes no check can see in a mode; the table in docs/store.md says the same."""
    if anchored and keyed:
        return (
            f"{_ROLLBACK}, as long as the copy is newer than the anchor",
            "an incident declared after the anchor, removed entirely",
        )
    if anchored:
        return (
            f"{_REWRITE}, in events appended after the anchor",
            f"{_TRUNCATE}, down to no fewer events than the anchor holds",
            f"{_ROLLBACK}, as long as the copy is newer than the anchor",
            "an incident declared after the anchor, removed entirely",
        )
    if keyed:
        return (_ROLLBACK, _REMOVED)
    return (_REWRITE, _TRUNCATE, _ROLLBACK, _REMOVED)
