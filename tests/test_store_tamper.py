"""SQLiteStore against an attacker with write access to the database file.

The attacker opens the file with plain ``sqlite3``, drops the append-only triggers and edits
rows.  Each crude edit (changed content, a removed row, reordered rows, an inserted row, a
changed hash) must be reported by ``verify()`` at the version of the *first* bad event, and
``load()`` of that incident must raise ``Tampered``; the other incidents stay readable.  An
attacker who knows the hash scheme can write a consistent chain, so ``load()`` re-validates
every stored event through the codec and the rules; a fuzz test feeds mutated lines through
that path and allows only incidentflow's own errors out.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import incidentflow.events as ev
from incidentflow import (
    ChangeOutcome,
    DecodeError,
    Incident,
    IncidentFlowError,
    LinkKind,
    ManualClock,
    Priority,
    ReplayError,
    Role,
    Verdict,
    codec,
)
from incidentflow.errors import InvalidHistory, Tampered
from incidentflow.store import SQLiteStore
from incidentflow.store._base import _find_break
from incidentflow.store._keys import _Links

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
IDS = ("INC-1", "INC-2", "INC-3")


def _genesis(incident_id: str) -> str:
    return hashlib.sha256(b"incidentflow:" + incident_id.encode()).hexdigest()


def _link(prev_hash: str, line: str | bytes) -> str:
    data = line if isinstance(line, bytes) else line.encode()
    return hashlib.sha256(prev_hash.encode() + data).hexdigest()


def _small(incident_id: str, notes: int) -> Incident:
    clock = ManualClock(START)
    incident = Incident.declare(incident_id, f"{incident_id} is down", Priority.P3, actor="ana",
                                clock=clock)  # fmt: skip
    for n in range(notes):
        clock.advance(minutes=1)
        incident.note(f"{incident_id} note {n}", actor="rui")
    return incident


def _p1(incident_id: str) -> Incident:
    """A P1 incident taken through most of the runbook: many kinds of events."""
    clock = ManualClock(START)
    inc = Incident.declare(incident_id, "Database is down", Priority.P1, actor="ana", clock=clock)
    inc.assign(Role.LEAD, "ana", actor="ana")
    inc.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    inc.validate("primary db refuses connections", actor="ana")
    inc.link(LinkKind.TICKET, "https://jira/IM-1", actor="ana")
    inc.link(LinkKind.WAR_ROOM, "https://slack/war", actor="ana")
    inc.link(LinkKind.ANNOUNCEMENT, "https://slack/tech-outage/1", actor="ana")
    inc.assign(Role.COMMUNICATOR, "cy", actor="ana")
    inc.assign(Role.RECORDER, "di", actor="ana")
    inc.mitigate("mitigating", actor="ana")
    clock.advance(minutes=1)
    experiment = inc.start_experiment(
        hypothesis="token expired",
        action="refresh token",
        expected="connections succeed",
        component="db",
        owner="bo",
        actor="bo",
    )
    inc.conclude_experiment(
        experiment.experiment_id, observed="ok", verdict=Verdict.CONFIRMED, actor="bo"
    )
    change = inc.log_change(what="restarted primary", where="db-1", revert="n/a", actor="bo")
    inc.post_update("mitigated", actor="cy")
    inc.note("db-1 back", actor="di")
    for depth in range(5):
        inc.add_why(f"because {depth}", actor="di", root_cause=depth == 4)
    inc.add_factor("no alert on token expiry", actor="di")
    inc.open_debt("manual restart script", actor="bo")
    inc.verify_recovery("dashboards green", actor="bo")
    inc.announce_yellow("resolved (yellow)", actor="ana")
    inc.verify_customer("acme", "deploys work", actor="cy")
    inc.reconcile_change(change.change_id, ChangeOutcome.PERMANENT, actor="bo")
    for debt in list(inc.tech_debt):
        inc.close_debt(debt, actor="bo")
    inc.announce_green("resolved (green)", actor="ana")
    inc.start_report(actor="di", location="docs/rca")
    inc.mark_reported("report started", actor="ana")
    inc.schedule_post_mortem(clock.now() + timedelta(days=2), ("ana", "bo"), actor="cy")
    return inc


def _fill(store: SQLiteStore, incidents: list[Incident], batch: int = 3) -> None:
    """Append the incidents' histories in interleaved batches (positions interleave too)."""
    cursors = dict.fromkeys(range(len(incidents)), 0)
    while cursors:
        for index in list(cursors):
            history = list(incidents[index].history)
            done = cursors[index]
            chunk = history[done : done + batch]
            store.append(incidents[index].id, chunk, expected_version=done)
            if done + len(chunk) == len(history):
                del cursors[index]
            else:
                cursors[index] = done + len(chunk)


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, dict[str, Incident]]:
    """A store with three incidents of 7, 6 and 4 events, appended interleaved."""
    incidents = [_small("INC-1", 6), _small("INC-2", 5), _small("INC-3", 3)]
    path = tmp_path / "incidents.db"
    with SQLiteStore(path) as store:
        _fill(store, incidents)
    return path, {i.id: i for i in incidents}


@contextmanager
def _attacker(path: Path) -> Iterator[sqlite3.Connection]:
    """A raw connection with the append-only triggers dropped, as an attacker would."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        triggers = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"
        ).fetchall()
        for (name,) in triggers:
            connection.execute(f'DROP TRIGGER "{name}"')
        yield connection
    finally:
        connection.close()


def _rows(connection: sqlite3.Connection, incident_id: str) -> list[tuple[Any, ...]]:
    return connection.execute(
        "SELECT position, version, line, prev_hash, hash FROM events "
        "WHERE incident_id = ? ORDER BY version",
        (incident_id,),
    ).fetchall()


def _rechain(connection: sqlite3.Connection, incident_id: str) -> None:
    """Recompute every hash of an incident, as an attacker who knows the scheme would."""
    prev = _genesis(incident_id)
    for position, _version, line, _prev, _hash in _rows(connection, incident_id):
        digest = _link(prev, line)
        connection.execute(
            "UPDATE events SET prev_hash = ?, hash = ? WHERE position = ?",
            (prev, digest, position),
        )
        prev = digest


def _set_line(connection: sqlite3.Connection, incident_id: str, version: int, line: str) -> None:
    connection.execute(
        "UPDATE events SET line = ? WHERE incident_id = ? AND version = ?",
        (line, incident_id, version),
    )


def _line_of(connection: sqlite3.Connection, incident_id: str, version: int) -> str:
    row = connection.execute(
        "SELECT line FROM events WHERE incident_id = ? AND version = ?", (incident_id, version)
    ).fetchone()
    return str(row[0])


def _assert_only_broken(
    path: Path, incidents: dict[str, Incident], broken: str, version: int, kind: str = ""
) -> Tampered:
    """verify() names exactly ``broken`` at ``version``; load raises; the others are clean.

    ``kind`` is a word the break's reason must contain (changed, missing, reordered, inserted).
    """
    with SQLiteStore(path) as store:
        breaks = store.verify()
        assert [(broken, version)] == [(b.incident_id, b.version) for b in breaks]
        assert kind in breaks[0].reason
        assert [(broken, version)] == [(b.incident_id, b.version) for b in store.verify(broken)]
        with pytest.raises(Tampered) as raised:
            store.load(broken)
        assert (broken, version) == (raised.value.incident_id, raised.value.version)
        with pytest.raises(Tampered):
            store.events(broken)
        for incident_id, incident in incidents.items():
            if incident_id != broken:
                assert [] == store.verify(incident_id)
                assert list(incident.history) == list(store.load(incident_id).history)
    return raised.value


# -- the scheme ----------------------------------------------------------------------------


def test_stored_hashes_follow_the_documented_chain(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """Each row's hash is sha256(prev_hash + line) from sha256("incidentflow:" + id)."""
    path, incidents = built
    with _attacker(path) as connection:
        for incident_id, incident in incidents.items():
            prev = _genesis(incident_id)
            rows = _rows(connection, incident_id)
            assert [codec.dumps(e) for e in incident.history] == [r[2] for r in rows]
            for _position, _version, line, prev_hash, digest in rows:
                assert (prev, _link(prev, line)) == (prev_hash, digest)
                prev = digest
    with SQLiteStore(path) as store:
        assert [] == store.verify()


def test_the_triggers_keep_events_append_only(built: tuple[Path, dict[str, Incident]]) -> None:
    """Without dropping the triggers, neither UPDATE nor DELETE of an event row goes through."""
    path, _incidents = built
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            connection.execute("UPDATE events SET line = 'x' WHERE version = 2")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            connection.execute("DELETE FROM events WHERE version = 2")
    finally:
        connection.close()


# -- crude edits: the chain shows them ----------------------------------------------------


def test_a_flipped_byte_is_reported_at_its_own_version(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """A changed character in v3's line: v3 no longer hashes to its stored hash, so v3."""
    path, incidents = built
    with _attacker(path) as connection:
        line = _line_of(connection, "INC-2", 3)
        at = line.index("note 1") + len("note ")
        _set_line(connection, "INC-2", 3, line[:at] + "7" + line[at + 1 :])
    tampered = _assert_only_broken(path, incidents, "INC-2", 3, "changed")
    assert "INC-2" in str(tampered)


def test_a_deleted_row_is_reported_at_the_missing_version(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """Deleting v3 leaves 1, 2, 4, ...: the first bad event is the missing v3."""
    path, incidents = built
    with _attacker(path) as connection:
        connection.execute("DELETE FROM events WHERE incident_id = 'INC-2' AND version = 3")
    _assert_only_broken(path, incidents, "INC-2", 3, "missing")


def test_a_deleted_first_row_is_reported_at_version_one(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """Deleting the declaration: the history starts at 2, so the first bad event is v1."""
    path, incidents = built
    with _attacker(path) as connection:
        connection.execute("DELETE FROM events WHERE incident_id = 'INC-3' AND version = 1")
    _assert_only_broken(path, incidents, "INC-3", 1, "missing")


def test_a_deleted_last_row_is_reported_from_the_summary(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """Truncating the newest event leaves a valid chain; the summary's version still shows it."""
    path, incidents = built
    with _attacker(path) as connection:
        connection.execute("DELETE FROM events WHERE incident_id = 'INC-1' AND version = 7")
    _assert_only_broken(path, incidents, "INC-1", 7, "missing")


def test_swapped_lines_are_reported_at_the_earlier_version(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """Lines of v2 and v4 swapped, hashes left: v2's line no longer matches its hash, so v2."""
    path, incidents = built
    with _attacker(path) as connection:
        two, four = _line_of(connection, "INC-1", 2), _line_of(connection, "INC-1", 4)
        _set_line(connection, "INC-1", 2, four)
        _set_line(connection, "INC-1", 4, two)
    _assert_only_broken(path, incidents, "INC-1", 2, "changed")


def test_swapped_versions_are_reported_at_the_earlier_version(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """Rows v2 and v4 renumbered into each other's place: the new v2 doesn't follow v1."""
    path, incidents = built
    with _attacker(path) as connection:
        swap = "UPDATE events SET version = ? WHERE incident_id = 'INC-1' AND version = ?"
        connection.execute(swap, (-1, 2))
        connection.execute(swap, (2, 4))
        connection.execute(swap, (4, -1))
    _assert_only_broken(path, incidents, "INC-1", 2, "reordered")


def _insert_at(connection: sqlite3.Connection, incident_id: str, version: int, line: str) -> str:
    """Shift versions >= ``version`` up by one and insert ``line`` there; its prev_hash."""
    connection.execute(
        "UPDATE events SET version = -(version + 1) WHERE incident_id = ? AND version >= ?",
        (incident_id, version),
    )
    connection.execute(
        "UPDATE events SET version = -version WHERE incident_id = ? AND version < 0",
        (incident_id,),
    )
    prev = str(
        connection.execute(
            "SELECT hash FROM events WHERE incident_id = ? AND version = ?",
            (incident_id, version - 1),
        ).fetchone()[0]
    )
    connection.execute(
        "INSERT INTO events (incident_id, version, line, prev_hash, hash) VALUES (?, ?, ?, ?, ?)",
        (incident_id, version, line, prev, "0" * 64),
    )
    return prev


def _forged_note(at: datetime) -> str:
    return codec.dumps(ev.NoteAdded(actor="eve", occurred_at=at, recorded_at=at, text="forged"))


def test_an_inserted_row_is_reported_at_its_version(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """A forged row at v3 (later rows renumbered) whose hash is not its line's: v3."""
    path, incidents = built
    with _attacker(path) as connection:
        _insert_at(connection, "INC-1", 3, _forged_note(START + timedelta(minutes=1)))
    _assert_only_broken(path, incidents, "INC-1", 3, "inserted")


def test_an_inserted_row_with_its_own_hash_right_is_still_reported_at_its_version(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """A forged v3 hashed right, later rows renumbered, not rehashed: still v3, not v4.

    The forged row links correctly to v2, but the old v3 (now v4) still names v2's hash as its
    predecessor, so the chain shows that v3 is the odd one in: the first bad event is v3.
    """
    path, incidents = built
    with _attacker(path) as connection:
        line = _forged_note(START + timedelta(minutes=1))
        prev = _insert_at(connection, "INC-1", 3, line)
        connection.execute(
            "UPDATE events SET hash = ? WHERE incident_id = 'INC-1' AND version = 3",
            (_link(prev, line),),
        )
    _assert_only_broken(path, incidents, "INC-1", 3, "inserted")


def test_a_changed_hash_is_reported_at_its_version(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """v3's stored hash replaced: it no longer matches sha256(prev + line), so v3."""
    path, incidents = built
    with _attacker(path) as connection:
        connection.execute(
            "UPDATE events SET hash = ? WHERE incident_id = 'INC-3' AND version = 3",
            (hashlib.sha256(b"forged").hexdigest(),),
        )
    _assert_only_broken(path, incidents, "INC-3", 3, "changed")


def test_a_changed_prev_hash_is_reported_at_its_version(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """v2's stored prev_hash replaced: it no longer equals v1's hash, so v2."""
    path, incidents = built
    with _attacker(path) as connection:
        connection.execute(
            "UPDATE events SET prev_hash = ? WHERE incident_id = 'INC-1' AND version = 2",
            (hashlib.sha256(b"forged").hexdigest(),),
        )
    _assert_only_broken(path, incidents, "INC-1", 2, "changed")


def test_a_changed_last_hash_is_reported_at_the_last_version(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """The newest event's hash replaced: nothing follows it, yet v4 itself is caught."""
    path, incidents = built
    with _attacker(path) as connection:
        connection.execute(
            "UPDATE events SET hash = ? WHERE incident_id = 'INC-3' AND version = 4",
            ("f" * 64,),
        )
    _assert_only_broken(path, incidents, "INC-3", 4, "changed")


# -- an attacker who knows the scheme: the rules still show it ----------------------------


def test_a_rechained_rule_breaking_row_is_an_invalid_history(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """v4 rewritten as a note stamped before v3, chain recomputed: InvalidHistory at v4."""
    path, _incidents = built
    with _attacker(path) as connection:
        _set_line(connection, "INC-2", 4, _forged_note(START))  # v3 was recorded at 14:02
        _rechain(connection, "INC-2")
    with SQLiteStore(path) as store:
        assert [] == store.verify("INC-2")  # the chain is consistent; only replay can tell
        with pytest.raises(InvalidHistory) as raised:
            store.load("INC-2")
        assert ("INC-2", 4, ("stamps_in_order",)) == (
            raised.value.incident_id,
            raised.value.version,
            raised.value.rules,
        )
        assert "INC-2: stored event 4 breaks the rules: stamps_in_order" in str(raised.value)
        cause = raised.value.__cause__
        assert isinstance(cause, ReplayError)
        assert 3 == cause.index
        assert 4 == len(store.load("INC-3").history)


def test_a_rechained_second_declaration_is_an_invalid_history(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """A Declared at v2 with a consistent chain and summary: load raises InvalidHistory at v2."""
    path, incidents = built
    with _attacker(path) as connection:
        _set_line(connection, "INC-1", 2, codec.dumps(incidents["INC-1"].history[0]))
        _rechain(connection, "INC-1")
    with SQLiteStore(path) as store:
        with pytest.raises(InvalidHistory) as raised:
            store.load("INC-1")
        assert (2, ("declared_once",)) == (raised.value.version, raised.value.rules)
        assert isinstance(raised.value.__cause__, ReplayError)


def test_a_rechained_undecodable_row_is_refused_with_a_decode_error(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """v3 rewritten as valid JSON of no event, chain recomputed: Tampered from DecodeError."""
    path, _incidents = built
    with _attacker(path) as connection:
        _set_line(connection, "INC-3", 3, '{"schema":1,"type":"coffee_made","actor":"eve"}')
        _rechain(connection, "INC-3")
    with SQLiteStore(path) as store:
        with pytest.raises(Tampered) as raised:
            store.load("INC-3")
        assert ("INC-3", 3) == (raised.value.incident_id, raised.value.version)
        assert isinstance(raised.value.__cause__, DecodeError)


def test_a_rechained_declaration_of_another_incident_is_refused(
    built: tuple[Path, dict[str, Incident]],
) -> None:
    """INC-3's declaration replaced by INC-1's, chain recomputed: load of INC-3 refuses it."""
    path, incidents = built
    with _attacker(path) as connection:
        _set_line(connection, "INC-3", 1, codec.dumps(incidents["INC-1"].history[0]))
        _rechain(connection, "INC-3")
    with SQLiteStore(path) as store, pytest.raises(Tampered) as raised:
        store.load("INC-3")
    assert ("INC-3", 1) == (raised.value.incident_id, raised.value.version)


# -- fuzz: only incidentflow's own errors come out of the load path -----------------------

_TOKENS = (
    '"', "{", "}", "[", "]", ",", ":", "\\", "null", "true", "false", "0", "-0", "1e999",
    "NaN", "Infinity", '"\\ud800"', '"\\u0000"', "9" * 5000, '"schema":2', '"schema":0',
    '"type":"declared"', '"x":1', "\u2028", "\x00", " ", "\n", "é", "🚒",
)  # fmt: skip


def _json_value(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(11 if depth < 3 else 7)
    if choice == 0:
        return None
    if choice == 1:
        return rng.random() < 0.5
    if choice == 2:
        return rng.choice([0, -1, 1, 2, 10**30, -(10**30), 2**63])
    if choice == 3:
        return rng.choice([0.5, -1e308, 1e-308, 3.0])
    if choice == 4:
        return rng.choice(["", " ", "x", "P1", "p9", "lead", "declared", "é", "\u2028"])
    if choice == 5:
        return rng.choice(
            ["2026-03-01T14:00:00+00:00", "2026-03-01T14:00:00", "2026-02-30T25:61:00Z",
             "1900-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999-23:59", "now"]
        )  # fmt: skip
    if choice == 6:
        return rng.choice(sorted(ev.EVENT_TYPES))
    if choice in (7, 8):
        return [_json_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["a", "type", "schema", "actor"]): _json_value(rng, depth + 1)}


def _mutate(rng: random.Random, line: str, seeds: list[str]) -> str | bytes:
    """One random mutation of ``line``: textual, structural, or invalid UTF-8 bytes."""
    kind = rng.randrange(12)
    n = len(line)
    i, j = sorted((rng.randrange(n + 1), rng.randrange(n + 1)))
    if kind == 0:
        return line[:i] + chr(rng.randrange(32, 0x2FFF)) + line[i + 1 :]
    if kind == 1:
        return line[:i] + line[j:]
    if kind == 2:
        return line[:i] + rng.choice(_TOKENS) + line[i:]
    if kind == 3:
        return line[:j] + line[i:]
    if kind == 4:
        return line[:i]
    if kind == 5:
        return rng.choice(["[" * 50_000, '{"a":' * 50_000, "", " ", "null", "[]", "{}", '""'])
    if kind == 6:
        encoded = bytearray(line.encode())
        for _ in range(rng.randrange(1, 4)):
            encoded[rng.randrange(len(encoded))] = rng.choice([0x80, 0xC3, 0xFF, 0xED, 0x00])
        return bytes(encoded)
    if kind == 7:
        return rng.choice(seeds)  # a real event, out of place
    data = json.loads(line)
    keys = list(data)
    if kind == 8:
        data[rng.choice(keys)] = _json_value(rng)
    elif kind == 9:
        del data[rng.choice(keys)]
    elif kind == 10:
        data[rng.choice([*keys, "extra", "incident_id", "priority"])] = _json_value(rng)
        data["type"] = rng.choice(sorted(ev.EVENT_TYPES))
    else:
        return json.dumps(_json_value(rng))
    return json.dumps(data, ensure_ascii=rng.random() < 0.5)


def test_ten_thousand_mutated_rows_raise_only_incidentflow_errors(tmp_path: Path) -> None:
    """Mutated lines with a recomputed chain: load() succeeds or raises an IncidentFlowError."""
    rich = _p1("INC-P1")
    path = tmp_path / "incidents.db"
    with SQLiteStore(path) as store:
        store.append(rich.id, list(rich.history), expected_version=0)
    seeds = [codec.dumps(e) for e in rich.history]
    rng = random.Random(1403)
    outcomes: dict[str, int] = {}
    misplaced: list[tuple[int, Tampered | InvalidHistory]] = []
    with _attacker(path) as connection, SQLiteStore(path) as store:
        connection.execute("PRAGMA synchronous = OFF")
        positions = [r[0] for r in _rows(connection, rich.id)]
        for _ in range(10_000):
            version = rng.randrange(1, len(seeds) + 1)
            lines: list[str | bytes] = list(seeds)
            lines[version - 1] = _mutate(rng, seeds[version - 1], seeds)
            updates = []
            prev = _genesis(rich.id)
            for position, line in zip(positions, lines, strict=True):
                digest = _link(prev, line)
                updates.append((line, prev, digest, position))
                prev = digest
            connection.execute("BEGIN")
            connection.executemany(
                "UPDATE events SET line = CAST(? AS TEXT), prev_hash = ?, hash = ? "
                "WHERE position = ?",
                updates,
            )
            connection.execute("COMMIT")
            try:
                store.load(rich.id)
            except IncidentFlowError as exc:
                outcome = type(exc).__name__
                if isinstance(exc, InvalidHistory):
                    outcome = "Tampered from ReplayError"  # well chained, refused by the rules
                    if exc.version < version:
                        misplaced.append((version, exc))
                elif isinstance(exc, Tampered):
                    outcome += f" from {type(exc.__cause__).__name__}"
                    # A bad row may only show when a later event relies on it.
                    early = exc.version < version
                    if early or (exc.version > version and outcome.endswith("DecodeError")):
                        misplaced.append((version, exc))
            else:
                outcome = "loaded"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert 10_000 == sum(outcomes.values())
    assert [] == misplaced  # Tampered names the mutated row, or a later one it broke
    # The fuzz reached every stage: decoding, replaying and loading.
    assert {"Tampered from DecodeError", "Tampered from ReplayError", "loaded"} <= set(outcomes)


# -- the load's quick check of the chain agrees with the diagnosis ------------------------

_ROW_EDITS = st.sampled_from(["version", "line", "prev_hash", "hash", "swap", "drop", "copy"])


@settings(max_examples=300, deadline=None)
@given(
    length=st.integers(0, 6),
    keyed=st.booleans(),
    edits=st.lists(st.tuples(_ROW_EDITS, st.integers(0, 5), st.integers(0, 5)), max_size=3),
)
def test_the_quick_chain_check_holds_exactly_when_no_break_is_found(
    length: int, keyed: bool, edits: list[tuple[str, int, int]]
) -> None:
    """A load checks the rows in one loop (``_Links.chained``) and asks ``_find_break`` what
    is wrong only when that fails: the two agree on every edit of a well-chained history, so
    a load refuses exactly what verify() reports."""
    links = _Links(b"k" * 32 if keyed else None)
    rows: list[tuple[int, str, str, str]] = []
    previous = links.genesis("INC-9")
    for version in range(1, length + 1):
        line = f'{{"n":{version}}}'
        digest = links.link(previous, line)
        rows.append((version, line, previous, digest))
        previous = digest
    for edit, first, second in edits:
        if not rows:
            break
        i, j = first % len(rows), second % len(rows)
        version, line, prev_hash, digest = rows[i]
        if edit == "version":
            rows[i] = (version + 1 + second, line, prev_hash, digest)
        elif edit == "line":
            rows[i] = (version, line + " ", prev_hash, digest)
        elif edit == "prev_hash":
            rows[i] = (version, line, rows[j][3], digest)
        elif edit == "hash":
            rows[i] = (version, line, prev_hash, rows[j][2])
        elif edit == "swap":
            rows[i], rows[j] = rows[j], rows[i]
        elif edit == "drop":
            del rows[i]
        else:
            rows.insert(i, rows[j])
    found = _find_break("INC-9", rows, len(rows), links)
    assert links.chained("INC-9", rows) is (found is None)


def test_the_quick_chain_check_refuses_each_kind_of_break() -> None:
    """Pinned examples: a whole chain passes; each single change of a row fails it."""
    links = _Links(None)
    genesis = links.genesis("INC-9")
    one = links.link(genesis, "a")
    two = links.link(one, "b")
    whole = [(1, "a", genesis, one), (2, "b", one, two)]
    assert links.chained("INC-9", whole)
    assert links.chained("INC-9", [])
    assert not links.chained("INC-8", whole)  # another incident's genesis
    assert not links.chained("INC-9", [(2, "a", genesis, one), (2, "b", one, two)])
    assert not links.chained("INC-9", [(1, "a", genesis, one), (3, "b", one, two)])
    assert not links.chained("INC-9", [(1, "a", genesis, one), (2, "c", one, two)])
    assert not links.chained("INC-9", [(1, "a", genesis, one), (2, "b", genesis, two)])
    assert not links.chained("INC-9", [(1, "a", genesis, one), (2, "b", one, one)])
    assert not links.chained("INC-9", whole[::-1])
