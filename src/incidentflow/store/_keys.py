"""The secret chain key: where it comes from, and how a store hashes, seals and MACs with it."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from incidentflow.errors import InvalidInput

from ._anchor import Anchor, _anchor_payload

if TYPE_CHECKING:
    from ._base import IncidentSummary

__all__ = [
    "CHAIN_KEY_FILE_VARIABLE",
    "CHAIN_KEY_VARIABLE",
    "MIN_KEY_BYTES",
    "chain_key_from_environment",
    "parse_chain_key",
    "read_chain_key",
]

CHAIN_KEY_VARIABLE = "INCIDENTFLOW_CHAIN_KEY"
"""The environment variable holding the secret chain key (hex), read by :func:`open_store`."""

CHAIN_KEY_FILE_VARIABLE = "INCIDENTFLOW_CHAIN_KEY_FILE"
"""The environment variable naming a file that holds the chain key (hex)."""

MIN_KEY_BYTES = 32
"""The shortest chain key accepted, in bytes (64 hex digits)."""


def parse_chain_key(text: str) -> bytes:
    """The chain key written as hex: at least :data:`MIN_KEY_BYTES` bytes, spaces around ignored.

    Make one with ``python -c "import secrets; print(secrets.token_hex(32))"``.
    """
    if type(text) is not str:
        raise InvalidInput(f"a chain key is hex text, not {type(text).__name__}")
    try:
        key = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise InvalidInput("a chain key must be written in hex (0-9, a-f)") from exc
    return _check_key(key)


def read_chain_key(path: str | os.PathLike[str]) -> bytes:
    """The chain key held (as hex) in the file at ``path``."""
    try:
        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the chain key file {os.fspath(path)}: {exc}") from exc
    return parse_chain_key(text)


def chain_key_from_environment(environ: Mapping[str, str] | None = None) -> bytes | None:
    """The key in ``$INCIDENTFLOW_CHAIN_KEY``, else in the key file, else None.

    The file is named by ``$INCIDENTFLOW_CHAIN_KEY_FILE``; setting both is an error.
    """
    environ = os.environ if environ is None else environ
    text, path = environ.get(CHAIN_KEY_VARIABLE), environ.get(CHAIN_KEY_FILE_VARIABLE)
    if text and path:
        raise InvalidInput(f"set {CHAIN_KEY_VARIABLE} or {CHAIN_KEY_FILE_VARIABLE}, not both")
    if text:
        return parse_chain_key(text)
    return read_chain_key(path) if path else None


def _check_key(key: object) -> bytes:
    if not isinstance(key, bytes):
        raise InvalidInput(f"chain_key must be bytes or None, not {type(key).__name__}")
    if len(key) < MIN_KEY_BYTES:
        raise InvalidInput(
            f"a chain key must be at least {MIN_KEY_BYTES} bytes ({2 * MIN_KEY_BYTES} hex "
            f"digits), not {len(key)}"
        )
    return key


class _Links:
    """How a store hashes: plain sha256 without a key, HMAC-SHA256 with one."""

    __slots__ = ("_keyed", "key")

    def __init__(self, key: object) -> None:
        self.key = None if key is None else _check_key(key)
        if self.key is not None:
            # Keyed once here: a link copies this HMAC (its two keyed hashes) instead of keying
            # a new one, which costs a third more per link on OpenSSL 3.  The same MACs.
            self._keyed = hmac.new(self.key, digestmod=hashlib.sha256)

    def _digest(self, data: bytes) -> str:
        if self.key is None:
            return hashlib.sha256(data).hexdigest()
        mac = self._keyed.copy()
        mac.update(data)
        return mac.hexdigest()

    def genesis(self, incident_id: str) -> str:
        return self._digest(b"incidentflow:" + incident_id.encode())

    def link(self, previous: str, line: str) -> str:
        # _digest inlined: a load links every stored event.  The UTF-8 of the joined text is
        # the two UTF-8s joined, made in one step.
        data = (previous + line).encode()
        if self.key is None:
            return hashlib.sha256(data).hexdigest()
        mac = self._keyed.copy()
        mac.update(data)
        return mac.hexdigest()

    def chained(self, incident_id: str, rows: Iterable[tuple[int, str, str, str]]) -> bool:
        """Whether ``rows`` are versions 1, 2, ... each linked to the one before it.

        Each row is (version, line, previous hash, hash): what a load checks of every row, in
        one loop; :func:`~incidentflow.store._base._find_break` says where it breaks.
        """
        previous = self.genesis(incident_id)
        sha256, keyed = hashlib.sha256, None if self.key is None else self._keyed
        for expected, (version, line, prev_hash, digest) in enumerate(rows, start=1):
            if version != expected or prev_hash != previous:
                return False
            # link() inlined: a load checks every stored event.
            if keyed is None:
                previous = sha256((previous + line).encode()).hexdigest()
            else:
                mac = keyed.copy()
                mac.update((previous + line).encode())
                previous = mac.hexdigest()
            if previous != digest:
                return False
        return True

    def seal(self, summary: IncidentSummary, head: str) -> str | None:
        """The MAC of an incident's head and summary row; None without a key."""
        if self.key is None:
            return None
        text = json.dumps(
            [summary.incident_id, summary.version, head, summary.title, summary.priority.value,
             summary.state.value, _utc_key(summary.began_at), _utc_key(summary.declared_at),
             _utc_key(summary.updated_at)],
            ensure_ascii=False,
        )  # fmt: skip
        return self._digest(b"incidentflow-head\0" + text.encode("utf-8", "surrogatepass"))

    def check_value(self) -> str:
        """What a store records to recognise its key (and a wrong one) without revealing it."""
        return self._digest(b"incidentflow-key-check\0")

    def anchor_mac(self, anchor: Anchor) -> str | None:
        if self.key is None:
            return None
        text = json.dumps(_anchor_payload(anchor), ensure_ascii=False, sort_keys=True)
        return self._digest(b"incidentflow-anchor\0" + text.encode("utf-8", "surrogatepass"))


def _utc_key(moment: datetime) -> str:
    """A fixed-width UTC text form of an aware datetime, which sorts as time does."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
