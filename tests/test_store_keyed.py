"""Chain keys, sealed heads, anchors, rules on append, and the schema-1 stores still read."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import incidentflow.events as ev
from incidentflow import (
    DEFAULT_POLICY,
    Incident,
    InvalidHistory,
    InvalidInput,
    ManualClock,
    NotFound,
    Priority,
    ReplayError,
    State,
    StoreUnavailable,
    Tampered,
    codec,
)
from incidentflow.store import (
    Anchor,
    InMemoryStore,
    SQLiteStore,
    Store,
    chain_key_from_environment,
    parse_chain_key,
    read_chain_key,
)
from incidentflow.testing import events, incidents
from stores import STORE_KINDS, make_store

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
KEY = bytes(range(32))
OTHER = bytes(range(1, 33))


def _incident(incident_id: str = "INC-1", notes: int = 2) -> Incident:
    clock = ManualClock(START)
    incident = Incident.declare(incident_id, "Database is down", Priority.P2, actor="ana",
                                clock=clock)  # fmt: skip
    for n in range(notes):
        clock.advance(minutes=1)
        incident.note(f"note {n}", actor="ana")
    return incident


@pytest.fixture(params=STORE_KINDS)
def keyed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each store implementation, keyed, empty."""
    made = make_store(request.param, tmp_path, request, chain_key=KEY)
    yield made
    made.close()


# -- keys -------------------------------------------------------------------------------------


def test_a_chain_key_is_hex_of_at_least_32_bytes() -> None:
    """64 hex digits (spaces around ignored) make a key; shorter or non-hex text is refused."""
    assert KEY == parse_chain_key(" " + KEY.hex() + "\n")
    with pytest.raises(InvalidInput, match="at least 32 bytes"):
        parse_chain_key("ab" * 31)
    with pytest.raises(InvalidInput, match="hex"):
        parse_chain_key("zz" * 32)
    with pytest.raises(InvalidInput, match="hex text"):
        parse_chain_key(KEY)  # type: ignore[arg-type]


def test_a_key_file_and_the_environment(tmp_path: Path) -> None:
    """The key comes from $INCIDENTFLOW_CHAIN_KEY or the file its _FILE sibling names."""
    path = tmp_path / "chain.key"
    path.write_text(KEY.hex() + "\n", encoding="ascii")
    assert KEY == read_chain_key(path)
    assert None is chain_key_from_environment({})
    assert KEY == chain_key_from_environment({"INCIDENTFLOW_CHAIN_KEY": KEY.hex()})
    assert KEY == chain_key_from_environment({"INCIDENTFLOW_CHAIN_KEY_FILE": str(path)})
    with pytest.raises(InvalidInput, match="not both"):
        chain_key_from_environment(
            {"INCIDENTFLOW_CHAIN_KEY": KEY.hex(), "INCIDENTFLOW_CHAIN_KEY_FILE": str(path)}
        )
    with pytest.raises(InvalidInput, match="cannot read the chain key file"):
        read_chain_key(tmp_path / "absent.key")


@pytest.mark.parametrize("key", ["ab" * 32, b"short", 42])
def test_a_bad_chain_key_argument_is_refused(tmp_path: Path, key: object) -> None:
    """chain_key must be bytes of 32 or more; nothing is created otherwise."""
    with pytest.raises(InvalidInput, match="chain"):
        SQLiteStore(tmp_path / "x.db", chain_key=key)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="chain"):
        InMemoryStore(chain_key=key)  # type: ignore[arg-type]
    assert [] == list(tmp_path.iterdir())


# -- the keyed chain -----------------------------------------------------------------------


def test_keyed_links_are_hmacs_and_heads_are_sealed(keyed: Store) -> None:
    """Each stored hash is HMAC-SHA256(key, prev + line) from HMAC(key, "incidentflow:" + id)."""
    incident = _incident()
    keyed.append("INC-1", incident.history, expected_version=0)
    previous = hmac.new(KEY, b"incidentflow:INC-1", hashlib.sha256).hexdigest()
    for stored, event in zip(keyed.read_all(), incident.history, strict=True):
        line = codec.dumps(event).encode()
        previous = hmac.new(KEY, previous.encode() + line, hashlib.sha256).hexdigest()
        assert previous == stored.hash
    assert (True, [], incident) == (keyed.keyed, keyed.verify(), keyed.load("INC-1"))


def test_a_keyed_store_needs_its_key(tmp_path: Path) -> None:
    """Without the key, or with another, a keyed store is refused, saying which."""
    path = tmp_path / "keyed.db"
    with SQLiteStore(path, chain_key=KEY) as store:
        store.append("INC-1", _incident().history, expected_version=0)
    for read_only in (False, True):
        with pytest.raises(StoreUnavailable, match="keyed; give its key"):
            SQLiteStore(path, read_only=read_only)
        with pytest.raises(StoreUnavailable, match="not this store's"):
            SQLiteStore(path, chain_key=OTHER, read_only=read_only)


def test_a_key_for_an_unkeyed_store_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    """A store created without a key stays so: opening it with one is refused."""
    path = tmp_path / "plain.db"
    with SQLiteStore(path) as store:
        store.append("INC-1", _incident().history, expected_version=0)
    before = path.read_bytes()
    with pytest.raises(StoreUnavailable, match="has no key"):
        SQLiteStore(path, chain_key=KEY)
    assert before == path.read_bytes()


def test_an_empty_store_is_keyed_by_its_first_keyed_writer(tmp_path: Path) -> None:
    """A store with no events yet takes the key of the first writer that gives one."""
    path = tmp_path / "empty.db"
    SQLiteStore(path).close()
    with SQLiteStore(path, chain_key=KEY) as store:
        store.append("INC-1", _incident().history, expected_version=0)
    with pytest.raises(StoreUnavailable, match="keyed"):
        SQLiteStore(path)


def test_removing_the_keyed_marker_is_detected(tmp_path: Path) -> None:
    """Deleting the record that a store is keyed: with the key, Tampered; without, v1 breaks."""
    path = tmp_path / "keyed.db"
    with SQLiteStore(path, chain_key=KEY) as store:
        store.append("INC-1", _incident().history, expected_version=0)
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("DELETE FROM meta")
    raw.close()
    with pytest.raises(Tampered, match="keyed was removed") as raised:
        SQLiteStore(path, chain_key=KEY, read_only=True)
    assert ("INC-1", 1) == (raised.value.incident_id, raised.value.version)
    with SQLiteStore(path, read_only=True) as store:
        assert [("INC-1", 1)] == [(b.incident_id, b.version) for b in store.verify()]


def test_a_keyed_listing_refuses_an_edited_summary(tmp_path: Path) -> None:
    """In a keyed store `incidents()` checks each summary's seal; unkeyed, only verify can."""
    for key in (KEY, None):
        path = tmp_path / f"{key is None}.db"
        with SQLiteStore(path, chain_key=key) as store:
            store.append("INC-1", _incident().history, expected_version=0)
        raw = sqlite3.connect(path)
        with raw:
            raw.execute("UPDATE incidents SET state = 'post_mortem'")
        raw.close()
        with SQLiteStore(path, chain_key=key, read_only=True) as store:
            if key is None:
                assert [State.POST_MORTEM] == [s.state for s in store.incidents()]
            else:
                with pytest.raises(Tampered, match="seal"):
                    store.incidents()
            (broken,) = store.verify()
            assert "the summary row says state 'post_mortem', the events say 'declared'" in (
                broken.reason
            )


# -- anchors --------------------------------------------------------------------------------


def test_an_anchor_round_trips_and_extends(keyed: Store) -> None:
    """An anchor read back from its file verifies clean, also after more events are added."""
    incident = _incident()
    keyed.append("INC-1", incident.history, expected_version=0)
    anchor = keyed.anchor(at=START)
    assert anchor == Anchor.loads(anchor.dumps())
    assert (START, True, 1) == (anchor.created_at, anchor.keyed, len(anchor.heads))
    keyed.append("INC-1", [incident.note("later", actor="ana")], expected_version=3)
    assert [] == keyed.verify(anchor=anchor)
    assert [] == keyed.verify("INC-1", anchor=anchor)


def test_an_anchored_incident_that_is_gone_is_reported(tmp_path: Path) -> None:
    """An incident removed entirely (events and summary) is found only through an anchor."""
    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        store.append("INC-1", _incident().history, expected_version=0)
        store.append("INC-2", _incident("INC-2").history, expected_version=0)
        anchor = store.anchor()
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("DROP TRIGGER events_no_delete")
        raw.execute("DELETE FROM events WHERE incident_id = 'INC-2'")
        raw.execute("DELETE FROM incidents WHERE incident_id = 'INC-2'")
    raw.close()
    with SQLiteStore(path, read_only=True) as store:
        assert [] == store.verify()
        (gone,) = store.verify(anchor=anchor)
        assert ("INC-2", 1) == (gone.incident_id, gone.version)
        assert gone.reason.startswith("missing: the incident is gone")
        assert [gone] == store.verify("INC-2", anchor=anchor)
        with pytest.raises(NotFound):
            store.verify("INC-2")


def test_a_forged_or_foreign_anchor_is_refused(tmp_path: Path) -> None:
    """An anchor edited, keyed with another key, or of another mode is bad input."""
    keyed_store = InMemoryStore(chain_key=KEY)
    keyed_store.append("INC-1", _incident().history, expected_version=0)
    anchor = keyed_store.anchor()
    forged = Anchor.loads(anchor.dumps().replace('"version": 3', '"version": 2'))
    with pytest.raises(InvalidInput, match="not written with this store's chain key"):
        keyed_store.verify(anchor=forged)
    other = InMemoryStore(chain_key=OTHER)
    other.append("INC-1", _incident().history, expected_version=0)
    with pytest.raises(InvalidInput, match="not written with this store's chain key"):
        other.verify(anchor=anchor)
    plain = InMemoryStore()
    with pytest.raises(InvalidInput, match="taken of a keyed store"):
        plain.verify(anchor=anchor)
    with pytest.raises(InvalidInput, match="taken of a store without a chain key"):
        keyed_store.verify(anchor=plain.anchor())
    with pytest.raises(InvalidInput, match="anchor must be an Anchor"):
        plain.verify(anchor="anchor.json")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"format": "other"}',
        '{"format": "incidentflow-anchor", "version": 1}',
        '{"format": "incidentflow-anchor", "version": 1, "created_at": "2026-03-01T14:00:00",'
        ' "keyed": false, "heads": [], "mac": null}',
        '{"format": "incidentflow-anchor", "version": 1, "created_at": "2026-03-01T14:00:00Z",'
        ' "keyed": 1, "heads": [], "mac": null}',
        '{"format": "incidentflow-anchor", "version": 1, "created_at": "2026-03-01T14:00:00Z",'
        ' "keyed": false, "heads": [{"incident_id": "I", "version": 0, "hash": "h"}],'
        ' "mac": null}',
        '{"format": "incidentflow-anchor", "version": 1, "created_at": "2026-03-01T14:00:00Z",'
        ' "keyed": false, "heads": [{"incident_id": 1, "version": 1, "hash": "h"}],'
        ' "mac": null}',
    ],
)
def test_an_unreadable_anchor_is_bad_input(text: str) -> None:
    """Anything but an anchor's own JSON raises InvalidInput."""
    with pytest.raises(InvalidInput, match="not a readable anchor"):
        Anchor.loads(text)


def test_a_broken_store_cannot_be_anchored(tmp_path: Path) -> None:
    """anchor() verifies first: it never blesses a change."""
    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        store.append("INC-1", _incident().history, expected_version=0)
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("UPDATE incidents SET title = 'All good'")
    raw.close()
    with SQLiteStore(path, read_only=True) as store, pytest.raises(Tampered, match="title"):
        store.anchor()


# -- the rules on append --------------------------------------------------------------------


def test_append_refuses_a_batch_the_rules_refuse(keyed: Store) -> None:
    """A note stamped before the last event is refused with InvalidHistory; nothing written."""
    incident = _incident()
    keyed.append("INC-1", incident.history, expected_version=0)
    early = ev.NoteAdded(actor="eve", occurred_at=START, recorded_at=START, text="backdated")
    with pytest.raises(InvalidHistory) as raised:
        keyed.append("INC-1", [early], expected_version=3)
    assert ("INC-1", 4, False, ("stamps_in_order",)) == (
        raised.value.incident_id,
        raised.value.version,
        raised.value.stored,
        raised.value.rules,
    )
    assert "nothing written" in str(raised.value)
    assert (3, []) == (keyed.version("INC-1"), keyed.verify())
    with pytest.raises(InvalidHistory):
        keyed.append_many([("INC-1", [early], 3)])
    assert 3 == keyed.version("INC-1")


def test_append_checks_the_version_before_the_rules(keyed: Store) -> None:
    """A stale writer gets Conflict (not a rules error), an unknown incident too."""
    incident = _incident()
    keyed.append("INC-1", incident.history, expected_version=0)
    note = incident.note("more", actor="ana")
    with pytest.raises(Exception, match="expected version 2") as raised:
        keyed.append("INC-1", [note], expected_version=2)
    assert "Conflict" == type(raised.value).__name__
    with pytest.raises(Exception, match="expected version 1 but the store holds version 0"):
        keyed.append("INC-9", [note], expected_version=1)


def test_append_to_a_history_the_rules_refuse_says_so(tmp_path: Path) -> None:
    """A stored history broken by a rechained row: append raises InvalidHistory(stored=True)."""
    path = tmp_path / "s.db"
    incident = _incident()
    with SQLiteStore(path) as store:
        store.append("INC-1", incident.history, expected_version=0)
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("DROP TRIGGER events_no_update")
        row = raw.execute("SELECT line, prev_hash FROM events WHERE version = 3").fetchone()
        line = row[0].replace(
            (START + timedelta(minutes=2)).isoformat(), (START - timedelta(minutes=5)).isoformat()
        )
        digest = hashlib.sha256(row[1].encode() + line.encode()).hexdigest()
        raw.execute("UPDATE events SET line = ?, hash = ? WHERE version = 3", (line, digest))
        raw.execute(
            "UPDATE incidents SET updated_at = ?", (codec.loads(line).recorded_at.isoformat(),)
        )
    raw.close()
    with SQLiteStore(path) as store:
        assert [] == store.verify()
        with pytest.raises(InvalidHistory) as raised:
            store.append("INC-1", [incident.note("more", actor="ana")], expected_version=3)
        assert (3, True) == (raised.value.version, raised.value.stored)
        assert 3 == store.version("INC-1")


# -- schema 1 -------------------------------------------------------------------------------


def _schema_one(path: Path) -> None:
    """A store as release 1 wrote it: schema 1, no meta table, no seals."""
    from incidentflow.store.sqlite import _SCHEMA_V1

    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    for statement in _SCHEMA_V1:
        raw.execute(statement)
    previous = hashlib.sha256(b"incidentflow:INC-1").hexdigest()
    incident = _incident()
    for version, event in enumerate(incident.history, start=1):
        line = codec.dumps(event)
        digest = hashlib.sha256(previous.encode() + line.encode()).hexdigest()
        raw.execute(
            "INSERT INTO events (incident_id, version, line, prev_hash, hash) "
            "VALUES ('INC-1', ?, ?, ?, ?)",
            (version, line, previous, digest),
        )
        previous = digest
    last = incident.history[-1].recorded_at.isoformat()
    raw.execute(
        "INSERT INTO incidents VALUES ('INC-1', 'Database is down', 'P2', 'declared', ?, ?, ?, 3)",
        (START.isoformat(), START.isoformat(timespec="microseconds"), last),
    )
    raw.execute("PRAGMA user_version = 1")
    raw.close()


def _user_version(path: Path) -> int:
    raw = sqlite3.connect(path)
    try:
        return int(raw.execute("PRAGMA user_version").fetchone()[0])
    finally:
        raw.close()


def test_a_schema_one_store_is_read_as_it_is(tmp_path: Path) -> None:
    """Readers load and verify a schema-1 store without migrating it."""
    path = tmp_path / "old.db"
    _schema_one(path)
    before = path.read_bytes()
    with SQLiteStore(path, read_only=True) as store:
        assert (3, [], ["INC-1"]) == (
            store.version("INC-1"),
            store.verify(),
            [s.incident_id for s in store.incidents()],
        )
        assert _incident() == store.load("INC-1")
    assert (1, before) == (_user_version(path), path.read_bytes())


def test_a_writer_migrates_a_schema_one_store(tmp_path: Path) -> None:
    """The first writer moves a schema-1 store to the newest schema; its events still verify."""
    path = tmp_path / "old.db"
    _schema_one(path)
    incident = _incident()
    with SQLiteStore(path) as store:
        store.append("INC-1", [incident.note("after", actor="ana")], expected_version=3)
        assert [] == store.verify()
    assert 3 == _user_version(path)


def test_a_keyed_writer_leaves_a_schema_one_store_as_it_is(tmp_path: Path) -> None:
    """A key given to a schema-1 store with events is refused before anything is migrated."""
    path = tmp_path / "old.db"
    _schema_one(path)
    with pytest.raises(StoreUnavailable, match="has no key"):
        SQLiteStore(path, chain_key=KEY)
    assert 1 == _user_version(path)


# -- the rest of the checks --------------------------------------------------------------------


def test_the_hash_functions_take_the_key() -> None:
    """genesis_hash and chain_hash are sha256 without a key and HMAC-SHA256 with one."""
    from incidentflow.store._base import chain_hash, genesis_hash

    assert hashlib.sha256(b"incidentflow:INC-1").hexdigest() == genesis_hash("INC-1")
    assert hmac.new(KEY, b"incidentflow:INC-1", hashlib.sha256).hexdigest() == genesis_hash(
        "INC-1", chain_key=KEY
    )
    assert hmac.new(KEY, b"ab" + b"{}", hashlib.sha256).hexdigest() == chain_hash(
        "ab", "{}", chain_key=KEY
    )


# Typed here: mypy reads ("Cs",) as tuple[str], not as the Literal the parameter wants.
_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
_TEXT = st.text(st.characters(blacklist_categories=_SURROGATES), max_size=300)


@given(st.binary(min_size=32, max_size=200), _TEXT, _TEXT)
def test_keyed_links_are_the_standard_librarys_hmacs(key: bytes, previous: str, line: str) -> None:
    """Keyed links and MACs are hmac.digest's, keys past SHA-256's 64-byte block included."""
    from incidentflow.store._base import chain_hash, genesis_hash
    from incidentflow.store._keys import _Links

    def mac(data: bytes) -> str:
        return hmac.digest(key, data, "sha256").hex()

    data = previous.encode() + line.encode()
    assert mac(data) == chain_hash(previous, line, chain_key=key)
    assert mac(b"incidentflow:" + line.encode()) == genesis_hash(line, chain_key=key)
    assert mac(b"incidentflow-key-check\0") == _Links(key).check_value()
    assert hashlib.sha256(data).hexdigest() == chain_hash(previous, line)


def test_the_append_rechecks_the_version_inside_its_transaction(keyed: Store) -> None:
    """A writer that raced past the rules check still meets Conflict when it writes."""
    from incidentflow.errors import Conflict
    from incidentflow.store._base import _prepare

    incident = _incident()
    history = list(incident.history)  # before the note below is recorded
    keyed.append("INC-1", history[:2], expected_version=0)
    stale = _prepare("INC-1", [incident.note("late", actor="ana")], 2)
    checked = keyed._check_rules(stale, DEFAULT_POLICY)  # the head is at 2 ...
    keyed.append("INC-1", history[2:], expected_version=2)  # ... and then it is not
    with pytest.raises(Conflict):
        keyed._append_all([(stale, checked.plan)])
    assert (3, history) == (keyed.version("INC-1"), keyed.events("INC-1"))


def test_a_store_keeps_only_so_many_replayed_incidents(keyed: Store) -> None:
    """After appends to 65 incidents, the first one's next append replays it afresh."""
    incidents = [_incident(f"INC-{n}", 1) for n in range(65)]
    for incident in incidents:
        keyed.append(incident.id, incident.history, expected_version=0)
    first = incidents[0]
    assert 3 == keyed.append(first.id, [first.note("again", actor="ana")], expected_version=2)
    assert [] == keyed.verify()


def test_a_summary_without_events_or_with_another_time_is_tampering(tmp_path: Path) -> None:
    """A summary row at version 0 with no events, or a changed updated_at, is reported."""
    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        store.append("INC-1", _incident().history, expected_version=0)
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("UPDATE incidents SET updated_at = '2026-03-01T15:00:00+00:00'")
        raw.execute(
            "INSERT INTO incidents SELECT 'INC-0', title, priority, state, began_at, "
            "declared_at, updated_at, 0, NULL FROM incidents"
        )
    raw.close()
    with SQLiteStore(path, read_only=True) as store:
        reasons = {b.incident_id: (b.version, b.reason) for b in store.verify()}
    assert {
        "INC-0": (1, "missing: the store recorded 0 events"),
        "INC-1": (
            3,
            "changed: the summary row says updated_at 2026-03-01T15:00:00+00:00, the events "
            "say 2026-03-01T14:02:00+00:00",
        ),
    } == reasons


def test_a_directory_is_not_a_store(tmp_path: Path) -> None:
    """Reading a directory as a store is StoreUnavailable naming it."""
    with pytest.raises(StoreUnavailable, match="cannot open the database"):
        SQLiteStore(tmp_path, read_only=True)


# -- properties ----------------------------------------------------------------------------------


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(incident=incidents(max_steps=15), data=st.data())
def test_a_keyed_store_finds_any_rewritten_event_at_its_version(
    tmp_path: Path, incident: Incident, data: st.DataObject
) -> None:
    """Any event of any incident rewritten with recomputed (unkeyed) hashes: found at it."""
    path = tmp_path / "drawn.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with SQLiteStore(path, chain_key=KEY) as store:
        store.append(incident.id, incident.history, expected_version=0)
    version = data.draw(st.integers(1, incident.version), label="version")
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("DROP TRIGGER events_no_update")
        rows = raw.execute(
            "SELECT version, line, prev_hash FROM events ORDER BY version"
        ).fetchall()
        previous = rows[version - 1][2]
        for number, line, _ in rows[version - 1 :]:
            if number == version:
                line = line.replace('"actor":"', '"actor":"x', 1)
            digest = hashlib.sha256(previous.encode() + line.encode()).hexdigest()
            raw.execute(
                "UPDATE events SET line = ?, prev_hash = ?, hash = ? WHERE version = ?",
                (line, previous, digest, number),
            )
            previous = digest
    raw.close()
    with SQLiteStore(path, chain_key=KEY, read_only=True) as store:
        assert [(incident.id, version)] == [(b.incident_id, b.version) for b in store.verify()]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(incident=incidents(max_steps=15), event=events(), data=st.data())
def test_append_accepts_exactly_what_replay_accepts(
    incident: Incident, event: ev.Event, data: st.DataObject
) -> None:
    """An event appended after any prefix is stored iff Incident.replay accepts the result."""
    cut = data.draw(st.integers(1, incident.version), label="cut")
    prefix = list(incident.history)[:cut]
    try:
        Incident.replay([*prefix, event])
    except ReplayError:
        accepted = False
    else:
        accepted = True
    for warm in (False, True):  # a fresh store object, and one that just appended the prefix
        store = InMemoryStore()
        store.append(incident.id, prefix, expected_version=0)
        if not warm:
            store = _reopened(store)
        try:
            store.append(incident.id, [event], expected_version=cut)
        except (InvalidHistory, InvalidInput):
            stored = False
        else:
            stored = True
        assert (accepted, cut + stored) == (stored, store.version(incident.id))


def _reopened(store: InMemoryStore) -> InMemoryStore:
    """The same stored events behind a store object that has appended nothing."""
    fresh = InMemoryStore()
    for one in store.read_all():
        fresh.append(one.incident_id, [one.event], expected_version=one.version - 1)
    fresh.__dict__.pop("_replayed_cache", None)
    return fresh
