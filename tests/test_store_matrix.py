"""The tamper matrix: what `verify` finds in each mode, checked against docs/store.md's table.

An attacker with write access to the SQLite file (but not to the chain key, kept elsewhere)
makes each change of the matrix to a store holding INC-1 (7 events) and INC-2 (5 events).
In each mode (no key, key, each with and without an anchor taken before the change) the
change is either reported at INC-1 and the version written out below, or reported nowhere;
the table in docs/store.md must say exactly which.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import incidentflow.events as ev
from incidentflow import Incident, ManualClock, Priority, codec
from incidentflow.errors import Tampered
from incidentflow.store import Anchor, SQLiteStore

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
KEY = bytes.fromhex("5e" * 32)
DOCS = Path(__file__).parent.parent / "docs" / "store.md"
MODES = ("no key", "key", "no key + anchor", "key + anchor")

# tamper → the version of INC-1 each mode reports it at (None: not detected), written from
# what each change does, not from the implementation.
EXPECTED: dict[str, tuple[int | None, int | None, int | None, int | None]] = {
    # v3's bytes no longer match its hash.
    "flip a byte": (3, 3, 3, 3),
    # v3 rewritten, every hash after it recomputed with sha256: only a key shows v3; an
    # anchor shows its head (v7) is not what it was.
    "rewrite with a recomputed chain": (None, 3, 7, 3),
    # v7 deleted and the summary row made to match six events: only the seal shows it (the
    # head at v6 is not the sealed one), or the anchor (v7 was anchored).
    "delete the newest event": (None, 7, 7, 7),
    "delete a middle event": (3, 3, 3, 3),
    "swap two events": (2, 2, 2, 2),
    "insert an event": (3, 3, 3, 3),
    # state set to post_mortem: the summary disagrees with the events (reported at the head).
    "edit the summary row": (7, 7, 7, 7),
    # the file replaced by a copy from when INC-1 had 4 events: self-consistent, seals and
    # all; only the anchor (7 events) shows the 5th is missing.
    "replace the store with an older copy": (None, None, 5, 5),
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _incident(incident_id: str, notes: int) -> Incident:
    clock = ManualClock(START)
    incident = Incident.declare(incident_id, f"{incident_id} is down", Priority.P3, actor="ana",
                                clock=clock)  # fmt: skip
    for n in range(notes):
        clock.advance(minutes=1)
        incident.note(f"{incident_id} note {n}", actor="rui")
    return incident


@contextmanager
def _attacker(path: Path) -> Iterator[sqlite3.Connection]:
    """A raw connection with the append-only triggers dropped, committing when done."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("DROP TRIGGER events_no_update")
        connection.execute("DROP TRIGGER events_no_delete")
        connection.execute("BEGIN")
        yield connection
        connection.execute("COMMIT")
    finally:
        connection.close()


def _line(connection: sqlite3.Connection, version: int) -> str:
    return str(
        connection.execute(
            "SELECT line FROM events WHERE incident_id = 'INC-1' AND version = ?", (version,)
        ).fetchone()[0]
    )


def _set_line(connection: sqlite3.Connection, version: int, line: str) -> None:
    connection.execute(
        "UPDATE events SET line = ? WHERE incident_id = 'INC-1' AND version = ?", (line, version)
    )


def _flip(connection: sqlite3.Connection, _old: Path) -> None:
    line = _line(connection, 3)
    _set_line(connection, 3, line.replace("note 1", "note 7"))


def _rewrite(connection: sqlite3.Connection, _old: Path) -> None:
    _set_line(connection, 3, _line(connection, 3).replace("note 1", "all fine"))
    rows = connection.execute(
        "SELECT position, version, line, prev_hash FROM events WHERE incident_id = 'INC-1' "
        "AND version >= 3 ORDER BY version"
    ).fetchall()
    previous = rows[0][3]  # v2's hash, as stored: the rows before v3 are left as they are
    for position, _version, line, _prev in rows:
        digest = _sha(previous.encode() + line.encode())
        connection.execute(
            "UPDATE events SET prev_hash = ?, hash = ? WHERE position = ?",
            (previous, digest, position),
        )
        previous = digest


def _truncate(connection: sqlite3.Connection, _old: Path) -> None:
    connection.execute("DELETE FROM events WHERE incident_id = 'INC-1' AND version = 7")
    sixth = codec.loads(_line(connection, 6))
    connection.execute(
        "UPDATE incidents SET version = 6, updated_at = ? WHERE incident_id = 'INC-1'",
        (sixth.recorded_at.isoformat(),),
    )


def _delete_middle(connection: sqlite3.Connection, _old: Path) -> None:
    connection.execute("DELETE FROM events WHERE incident_id = 'INC-1' AND version = 3")


def _swap(connection: sqlite3.Connection, _old: Path) -> None:
    swap = "UPDATE events SET version = ? WHERE incident_id = 'INC-1' AND version = ?"
    connection.execute(swap, (-1, 2))
    connection.execute(swap, (2, 4))
    connection.execute(swap, (4, -1))


def _insert(connection: sqlite3.Connection, _old: Path) -> None:
    connection.execute(
        "UPDATE events SET version = -(version + 1) WHERE incident_id = 'INC-1' AND version >= 3"
    )
    connection.execute("UPDATE events SET version = -version WHERE version < 0")
    previous = str(
        connection.execute(
            "SELECT hash FROM events WHERE incident_id = 'INC-1' AND version = 2"
        ).fetchone()[0]
    )
    at = START + timedelta(minutes=1)
    line = codec.dumps(ev.NoteAdded(actor="eve", occurred_at=at, recorded_at=at, text="forged"))
    connection.execute(
        "INSERT INTO events (incident_id, version, line, prev_hash, hash) "
        "VALUES ('INC-1', 3, ?, ?, ?)",
        (line, previous, _sha(previous.encode() + line.encode())),
    )


def _edit_summary(connection: sqlite3.Connection, _old: Path) -> None:
    connection.execute("UPDATE incidents SET state = 'post_mortem' WHERE incident_id = 'INC-1'")


TAMPERS: dict[str, Callable[[sqlite3.Connection, Path], None]] = {
    "flip a byte": _flip,
    "rewrite with a recomputed chain": _rewrite,
    "delete the newest event": _truncate,
    "delete a middle event": _delete_middle,
    "swap two events": _swap,
    "insert an event": _insert,
    "edit the summary row": _edit_summary,
    "replace the store with an older copy": lambda connection, old: None,  # done on the file
}


def _outcomes(tmp_path: Path, tamper: str, key: bytes | None) -> tuple[int | None, int | None]:
    """The INC-1 version `verify` reports without and with an anchor (None: nothing found)."""
    path, old = tmp_path / "incidents.db", tmp_path / "older.db"
    one, two = _incident("INC-1", 6), _incident("INC-2", 4)
    with SQLiteStore(path, chain_key=key) as store:
        store.append("INC-1", one.history[:4], expected_version=0)
        store.append("INC-2", two.history, expected_version=0)
    shutil.copyfile(path, old)  # closed: every event is in the main file
    with SQLiteStore(path, chain_key=key) as store:
        store.append("INC-1", one.history[4:], expected_version=4)
        assert [] == store.verify()
        anchor = Anchor.loads(store.anchor(at=START).dumps())
    if tamper == "replace the store with an older copy":
        shutil.copyfile(old, path)
    else:
        with _attacker(path) as connection:
            TAMPERS[tamper](connection, old)
    found: list[int | None] = []
    with SQLiteStore(path, chain_key=key, read_only=True) as store:
        for anchored in (None, anchor):
            breaks = [(b.incident_id, b.version) for b in store.verify(anchor=anchored)]
            assert breaks in ([], [("INC-1", breaks[0][1] if breaks else 0)]), breaks
            found.append(breaks[0][1] if breaks else None)
        if found[0] is not None:  # what verify finds, load refuses
            with pytest.raises(Tampered) as raised:
                store.load("INC-1")
            assert found[0] == raised.value.version
        assert 5 == len(store.load("INC-2").history)
    return found[0], found[1]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int | None, ...]]:
    """Every tamper in every mode: the version reported, or None."""
    measured: dict[str, tuple[int | None, ...]] = {}
    for tamper in TAMPERS:
        plain = _outcomes(tmp_path_factory.mktemp("plain"), tamper, None)
        keyed = _outcomes(tmp_path_factory.mktemp("keyed"), tamper, KEY)
        measured[tamper] = (plain[0], keyed[0], plain[1], keyed[1])
    return measured


def test_every_tamper_is_found_where_expected_in_every_mode(
    matrix: dict[str, tuple[int | None, ...]],
) -> None:
    """Each change is reported at INC-1 and the expected version, or nowhere, mode by mode."""
    assert EXPECTED == matrix


def _documented() -> dict[str, tuple[bool, ...]]:
    """The table under "What verify detects" in docs/store.md: tamper → detected per mode."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## What `verify` detects", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert ["change", *MODES] == header
    table: dict[str, tuple[bool, ...]] = {}
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert all(re.fullmatch(r"(detected|not detected)", c) for c in cells[1:]), row
        table[cells[0]] = tuple(cell == "detected" for cell in cells[1:])
    return table


def test_the_documented_table_is_the_measured_matrix(
    matrix: dict[str, tuple[int | None, ...]],
) -> None:
    """docs/store.md's table says "detected" exactly where the matrix found the change."""
    measured = {
        tamper: tuple(version is not None for version in versions)
        for tamper, versions in matrix.items()
    }
    assert measured == _documented()


def test_the_audit_names_what_each_mode_cannot_detect(tmp_path: Path) -> None:
    """Audit.undetectable lists, per mode, the changes the table marks "not detected"."""
    path = tmp_path / "incidents.db"
    with SQLiteStore(path) as store:
        store.append("INC-1", _incident("INC-1", 1).history, expected_version=0)
        anchor = store.anchor()
        plain, anchored = store.audit(), store.audit(anchor=anchor)
    keyed_path = tmp_path / "keyed.db"
    with SQLiteStore(keyed_path, chain_key=KEY) as store:
        store.append("INC-1", _incident("INC-1", 1).history, expected_version=0)
        keyed, both = store.audit(), store.audit(anchor=store.anchor())
    assert (False, False, True, True) == (plain.keyed, plain.anchored, keyed.keyed, both.anchored)
    assert any("recomputed the hashes" in line for line in plain.undetectable)
    assert not any("recomputed the hashes" in line for line in keyed.undetectable)
    assert any("earlier copy" in line for line in keyed.undetectable)
    assert any("newer than the anchor" in line for line in both.undetectable)
    assert any("after the anchor" in line for line in anchored.undetectable)
