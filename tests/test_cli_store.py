"""The store-facing command line: verify, anchor, chain keys, read-only opens, exit codes."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from incidentflow import codec
from terminal import CLI

KEY = "7a" * 32


@pytest.fixture
def cli(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> CLI:
    """The command line against tmp_path/incidents.db, with no chain key in the environment."""
    monkeypatch.delenv("INCIDENTFLOW_CHAIN_KEY", raising=False)
    monkeypatch.delenv("INCIDENTFLOW_CHAIN_KEY_FILE", raising=False)
    return CLI(tmp_path / "incidents.db", capsys, monkeypatch)


def _notes(cli: CLI, *extra: str) -> None:
    cli.ok("declare", "INC-7", "--title", "Down", "--priority", "P1", *extra)
    for n in range(3):
        cli.ok("note", "INC-7", f"note {n}", *extra)


def _raw(cli: CLI, *statements: str) -> None:
    connection = sqlite3.connect(cli.db)
    with connection:
        connection.execute("DROP TRIGGER IF EXISTS events_no_update")
        connection.execute("DROP TRIGGER IF EXISTS events_no_delete")
        for statement in statements:
            connection.execute(statement)
    connection.close()


def test_reading_a_store_that_is_not_there_creates_nothing(cli: CLI, tmp_path: Path) -> None:
    """`list --db typo.db` exits 5 naming the path; no file appears."""
    for command in (["list"], ["verify"], ["status", "INC-7"], ["due"], ["export"]):
        code, _, err = cli(*command)
        assert (5, f"incidentflow: {cli.db}: no incidentflow store here (reading never creates "
                "one)\n") == (code, err)  # fmt: skip
    assert [] == list(tmp_path.iterdir())


def test_a_foreign_database_is_refused_by_readers_and_writers(cli: CLI, tmp_path: Path) -> None:
    """Another program's SQLite file: list and declare exit 5, the file and directory unchanged."""
    connection = sqlite3.connect(cli.db)
    with connection:
        connection.execute("CREATE TABLE customers (name TEXT)")
    connection.close()
    before = (cli.db.read_bytes(), sorted(p.name for p in tmp_path.iterdir()))
    for command in (["list"], ["declare", "INC-7", "--title", "Down", "--priority", "P1"]):
        code, _, err = cli(*command)
        assert 5 == code
        assert "not an incidentflow store (schema 0, tables: customers)" in err
    assert before == (cli.db.read_bytes(), sorted(p.name for p in tmp_path.iterdir()))


def test_verify_of_an_unknown_incident_exits_4_naming_the_store(cli: CLI) -> None:
    """`verify INC-999` is not found (exit 4), not "chain ok"."""
    _notes(cli)
    code, out, err = cli("verify", "INC-999")
    assert (4, "", f"incidentflow: no incident 'INC-999' in {cli.db}\n") == (code, out, err)


def test_verify_says_what_it_cannot_detect(cli: CLI) -> None:
    """Without a key, verify's output lists the changes it cannot see."""
    _notes(cli)
    out = cli.ok("verify")
    assert out.startswith("chain ok: 1 incident checked (unkeyed chain)\n")
    assert "not detectable in this mode:\n  - events rewritten by someone who recomputed" in out
    document = json.loads(cli.ok("verify", "--json"))
    assert (True, False, False) == (document["ok"], document["keyed"], document["anchored"])
    assert 4 == len(document["undetectable"])


def test_an_edited_summary_row_is_reported_by_verify(cli: CLI) -> None:
    """`UPDATE incidents SET state=...` no longer passes verify (exit 5, the incident named)."""
    _notes(cli)
    _raw(cli, "UPDATE incidents SET state = 'post_mortem'")
    code, _, err = cli("verify", "--json")
    assert 5 == code
    document = json.loads(err)
    assert (False, [("INC-7", 4)]) == (
        document["ok"],
        [(b["incident"], b["version"]) for b in document["breaks"]],
    )
    code, _, err = cli("verify")
    assert 5 == code
    assert "  INC-7 event 4: changed: the summary row says state 'post_mortem'" in err


def test_anchor_then_verify_finds_a_truncation(cli: CLI, tmp_path: Path) -> None:
    """An anchor written to a file shows the newest event deleted with its summary fixed."""
    _notes(cli)
    anchor = tmp_path / "anchor.json"
    assert f"Anchored 1 incident to {anchor}\n" == cli.ok("anchor", "--output", str(anchor))
    assert json.loads(cli.ok("anchor"))["heads"][0]["version"] == 4
    cli.ok("note", "INC-7", "after the anchor")
    assert "against the anchor" in cli.ok("verify", "--anchor", str(anchor))
    _raw(
        cli,
        "DELETE FROM events WHERE version >= 4",
        "UPDATE incidents SET version = 3, updated_at = (SELECT json_extract(line, "
        "'$.recorded_at') FROM events WHERE version = 3)",
    )
    assert cli.ok("verify").startswith("chain ok")  # without a key or an anchor: unseen
    code, _, err = cli("verify", "--anchor", str(anchor))
    assert 5 == code
    assert "  INC-7 event 4: missing: the anchor holds 4 events, the store 3" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read the anchor"), ("{}", "not a readable anchor")],
)
def test_a_bad_anchor_file_is_bad_input(
    cli: CLI, tmp_path: Path, content: str | None, message: str
) -> None:
    """A missing or malformed anchor file exits 2."""
    _notes(cli)
    path = tmp_path / "anchor.json"
    if content is not None:
        path.write_text(content)
    code, _, err = cli("verify", "--anchor", str(path))
    assert 2 == code
    assert message in err


def test_an_anchor_that_cannot_be_written_is_bad_input(cli: CLI, tmp_path: Path) -> None:
    """`anchor --output` into a missing directory exits 2."""
    _notes(cli)
    code, _, err = cli("anchor", "--output", str(tmp_path / "no" / "anchor.json"))
    assert 2 == code
    assert "cannot write" in err


def test_a_keyed_store_from_a_key_file(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--chain-key-file keys a new store; without the key every command says so (exit 5)."""
    key_file = tmp_path / "chain.key"
    key_file.write_text(KEY + "\n")
    _notes(cli, "--chain-key-file", str(key_file))
    out = cli.ok("verify", "--chain-key-file", str(key_file))
    assert out.startswith("chain ok: 1 incident checked (keyed chain)\n")
    for command in (["list"], ["note", "INC-7", "x"], ["verify"]):
        code, _, err = cli(*command)
        assert 5 == code
        assert "this store's chain is keyed; give its key" in err
    monkeypatch.setenv("INCIDENTFLOW_CHAIN_KEY", KEY)
    assert "INC-7" in cli.ok("list")
    monkeypatch.setenv("INCIDENTFLOW_CHAIN_KEY", "7b" * 32)
    code, _, err = cli("list")
    assert 5 == code
    assert "the chain key given is not this store's" in err


def test_a_short_chain_key_is_bad_input(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key shorter than 32 bytes is refused with exit 2, before any store is touched."""
    monkeypatch.setenv("INCIDENTFLOW_CHAIN_KEY", "ab" * 16)
    code, _, err = cli("declare", "INC-7", "--title", "Down", "--priority", "P1")
    assert 2 == code
    assert "at least 32 bytes" in err
    assert not cli.db.exists()


def test_a_well_chained_history_the_rules_refuse_is_not_tampering(cli: CLI) -> None:
    """A rechained rule-breaking row: verify passes, status says InvalidHistory (exit 5)."""
    _notes(cli)
    connection = sqlite3.connect(cli.db)
    first = connection.execute("SELECT line FROM events WHERE version = 1").fetchone()[0]
    rows = connection.execute("SELECT version, line FROM events ORDER BY version").fetchall()
    connection.close()
    early = json.loads(rows[2][1])
    early["recorded_at"] = json.loads(first)["recorded_at"][:-6] + "+01:00"  # an hour earlier
    lines = [line for _, line in rows]
    lines[2] = codec.dumps(codec.from_dict(early))
    previous = hashlib.sha256(b"incidentflow:INC-7").hexdigest()
    statements = []
    for version, line in enumerate(lines, start=1):
        digest = hashlib.sha256(previous.encode() + line.encode()).hexdigest()
        statements.append(
            f"UPDATE events SET line = '{line}', prev_hash = '{previous}', hash = '{digest}' "
            f"WHERE version = {version}"
        )
        previous = digest
    _raw(cli, *statements)
    assert cli.ok("verify").startswith("chain ok")
    code, _, err = cli("status", "INC-7")
    assert 5 == code
    assert err.startswith(
        "incidentflow: INC-7: stored event 3 breaks the rules of its history (the store holds it)"
    )
    assert "  stamps_in_order: " in err
    code, _, err = cli("status", "INC-7", "--json")
    assert "InvalidHistory" == json.loads(err)["error"]
