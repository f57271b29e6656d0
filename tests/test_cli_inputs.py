"""The command line's boundary: exported lines that say where events go, sane times, names.

Every bad input is exit 2 with a message naming what is wrong (the line, the option, the
field), never a traceback, and the store is left exactly as it was.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from incidentflow import Incident, ManualClock, Priority, Role, codec
from incidentflow.store import SQLiteStore
from terminal import CLI

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


@pytest.fixture
def cli(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> CLI:
    """The CLI against a fresh store in a scratch directory."""
    return CLI(tmp_path / "incidents.db", capsys, monkeypatch)


def _interleaved(db: Path) -> list[str]:
    """Two incidents written turn by turn into ``db``; their ids."""
    clock = ManualClock(START)
    one = Incident.declare("INC-1", "Database down", Priority.P1, actor="ana", clock=clock)
    two = Incident.declare("INC-2", "Search slow", Priority.P3, actor="eve", clock=clock)
    with SQLiteStore(db) as store:
        store.append("INC-1", [one.history[0]], expected_version=0)
        store.append("INC-2", [two.history[0]], expected_version=0)
        for n in range(3):
            clock.advance(minutes=1)
            for incident, actor in ((one, "ana"), (two, "eve")):
                event = incident.note(f"{incident.id} note {n}", actor=actor)
                store.append(incident.id, [event], expected_version=incident.version - 1)
        clock.advance(minutes=1)
        store.append("INC-2", [two.assign(Role.LEAD, "eve", actor="eve")], expected_version=4)
    return ["INC-1", "INC-2"]


def _histories(db: Path) -> dict[str, list[Any]]:
    with SQLiteStore(db, read_only=True) as store:
        return {s.incident_id: store.events(s.incident_id) for s in store.incidents()}


def _rows(db: Path) -> int:
    with SQLiteStore(db, read_only=True) as store:
        return len(list(store.read_all()))


# -- exported lines: where each event goes ------------------------------------------------------


def test_a_global_order_dump_imports_back_exactly(cli: CLI, tmp_path: Path) -> None:
    """read_all interleaves incidents; with ids on every line, each event goes home."""
    source = tmp_path / "source.db"
    _interleaved(source)
    with SQLiteStore(source, read_only=True) as store:
        dump = "".join(
            codec.dumps(s.event, incident_id=s.incident_id) + "\n" for s in store.read_all()
        )
    path = tmp_path / "dump.jsonl"
    path.write_text(dump, encoding="utf-8")
    assert "ok: 9 events, 2 incidents\n" == cli.ok("validate", str(path))
    cli.ok("import", str(path))
    assert _histories(source) == _histories(cli.db)


def test_export_names_the_incident_on_every_line_and_imports_back(cli: CLI, tmp_path: Path) -> None:
    """`export` writes incident_id on each line; the file imports into an empty store equal."""
    source = tmp_path / "source.db"
    _interleaved(source)
    exported = CLI(source, cli.capsys, cli.monkeypatch).ok("export")
    for line in exported.splitlines():
        assert json.loads(line)["incident_id"] in {"INC-1", "INC-2"}
    path = tmp_path / "export.jsonl"
    path.write_text(exported, encoding="utf-8")
    cli.ok("import", str(path))
    assert _histories(source) == _histories(cli.db)


def test_an_export_without_ids_still_imports(cli: CLI, tmp_path: Path) -> None:
    """Lines as earlier releases wrote them go to the incident declared last before them."""
    source = tmp_path / "source.db"
    _interleaved(source)
    histories = _histories(source)
    old = "".join(codec.dump_lines(events) for events in histories.values())
    path = tmp_path / "old.jsonl"
    path.write_text(old, encoding="utf-8")
    assert "ok: 9 events, 2 incidents\n" == cli.ok("validate", str(path))
    cli.ok("import", str(path))
    assert histories == _histories(cli.db)


def _lines_of(tmp_path: Path) -> list[str]:
    source = tmp_path / "source.db"
    _interleaved(source)
    with SQLiteStore(source, read_only=True) as store:
        return [codec.dumps(s.event, incident_id=s.incident_id) for s in store.read_all()]


def _refused(cli: CLI, tmp_path: Path, lines: list[str], *words: str) -> str:
    """Both commands exit 2 naming ``words``; nothing is imported."""
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for command in ("validate", "import"):
        code, out, err = cli(command, str(path))
        assert (2, "") == (code, out), (command, err)
        assert "Traceback" not in err
        for word in words:
            assert word in err, (command, err)
    assert not cli.db.exists() or 0 == _rows(cli.db)
    return err


def test_a_line_naming_another_incident_is_refused(cli: CLI, tmp_path: Path) -> None:
    """INC-1's note relabelled as INC-3's (declared nowhere): exit 2 naming line and incident."""
    lines = _lines_of(tmp_path)
    lines[2] = lines[2].replace('"incident_id":"INC-1"', '"incident_id":"INC-3"')
    _refused(cli, tmp_path, lines, "line 3", "'INC-3'", "no line before it declares")


def test_a_line_naming_an_incident_declared_only_later_is_refused(cli: CLI, tmp_path: Path) -> None:
    """An event must follow its incident's declaration in the file."""
    lines = _lines_of(tmp_path)
    lines[0], lines[2] = lines[2], lines[0]
    _refused(cli, tmp_path, lines, "line 1", "'INC-1'")


def test_lines_with_and_without_ids_do_not_mix(cli: CLI, tmp_path: Path) -> None:
    """A file names the incident on every line or on none: a mix is refused."""
    lines = _lines_of(tmp_path)
    lines[3] = lines[3].replace('"incident_id":"INC-2",', "")
    _refused(cli, tmp_path, lines, "line 4", "names no incident", "unlike line 3")


# -- time ---------------------------------------------------------------------------------------


def _note_line(**changes: Any) -> str:
    note = {
        "schema": 1, "type": "note_added", "incident_id": "INC-1", "actor": "ana",
        "occurred_at": "2026-03-01T14:05:00+00:00", "recorded_at": "2026-03-01T14:05:00+00:00",
        "text": "restarted db-1", **changes,
    }  # fmt: skip
    return json.dumps(note, ensure_ascii=True)


BAD_LINES = {
    "a recorded_at from the future": (
        {"recorded_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
        "note_added.recorded_at",
        "in the future",
    ),
    "a year-9999 recorded_at": (
        {"recorded_at": "9999-12-31T23:59:00+00:00"},
        "note_added.recorded_at",
        "outside the supported range",
    ),
    "a year-1 occurred_at": (
        {"occurred_at": "0001-01-01T00:00:00+00:00"},
        "note_added.occurred_at",
        "outside the supported range",
    ),
    "a lone surrogate in the text": ({"text": "bad \ud800 text"}, "note_added.text", "surrogate"),
    "a lone surrogate in the actor": ({"actor": "ana\udcff"}, "note_added.actor", "U+DCFF"),
    "a zero-width space in the actor": ({"actor": "ana\u200b"}, "note_added.actor", "U+200B"),
    "a bidi override in the actor": ({"actor": "\u202eana"}, "note_added.actor", "U+202E"),
    "an actor with a trailing space": ({"actor": "ana "}, "note_added.actor", "white space"),
    "an actor not in NFC": ({"actor": "Jose\u0301"}, "note_added.actor", "NFC"),
}


@pytest.mark.parametrize("name", sorted(BAD_LINES))
def test_a_line_no_command_could_write_is_refused_naming_line_and_field(
    cli: CLI, tmp_path: Path, name: str
) -> None:
    """validate never says ok to what import would refuse: both exit 2, naming line and field."""
    lines = _lines_of(tmp_path)[:1]
    changes, field, words = BAD_LINES[name]
    _refused(cli, tmp_path, [*lines, _note_line(**changes)], "line 2", field, words)


def test_a_future_stamp_cannot_freeze_an_incident_by_import(cli: CLI, tmp_path: Path) -> None:
    """The 9999-12-31 stamp of the report is refused, so later commands still work."""
    lines = _lines_of(tmp_path)[:1]
    _refused(cli, tmp_path, [*lines, _note_line(recorded_at="9999-12-31T00:00:00+00:00")])
    path = tmp_path / "good.jsonl"
    path.write_text(lines[0] + "\n", encoding="utf-8")
    cli.ok("import", str(path))
    cli.ok("note", "INC-1", "still writable")


TIME_OPTIONS = {
    "--at": ["--at", "{}", "note", "INC-1", "x"],
    "--since": ["list", "--since", "{}"],
    "--until": ["list", "--until", "{}"],
    "--due": ["action", "add", "INC-1", "fix", "--owner", "ana", "--due", "{}", "--kind",
              "corrective"],
    "--for": ["schedule", "INC-1", "--for", "{}", "--invite", "ana"],
    "--start": ["agenda", "INC-1", "--start", "{}"],
}  # fmt: skip


@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T00:00:00+00:00",
        "1969-12-31T23:59:59+00:00",
        "2200-01-01T00:00:01+00:00",
    ],
)
@pytest.mark.parametrize("option", sorted(TIME_OPTIONS))
def test_every_time_option_refuses_times_outside_the_range(
    cli: CLI, option: str, moment: str
) -> None:
    """--at, --since, --until, --due, --for and --start: exit 2 naming the option."""  # fmt: skip
    cli.ok("declare", "INC-1", "--title", "Down", "--priority", "P3")
    args = [a.format(moment) for a in TIME_OPTIONS[option]]
    code, _, err = cli(*args)
    assert 2 == code, err
    assert f"incidentflow: {option} ({moment}) is outside the supported range" in err
    assert 1 == _rows(cli.db)


def test_a_time_option_at_the_ends_of_the_range_is_accepted(cli: CLI) -> None:
    """1970-01-01 and 2200-01-01 are in the range: --until and --since take them."""
    cli.ok("declare", "INC-1", "--title", "Down", "--priority", "P3")
    assert "no incidents\n" == cli.ok("list", "--until", "1970-01-01T00:00:00+00:00")
    assert "no incidents\n" == cli.ok("list", "--since", "2200-01-01T00:00:00+00:00")


# -- who is acting ------------------------------------------------------------------------------


def test_an_empty_actor_is_an_error_not_the_user(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--actor ''` exits 2; it does not fall back to $INCIDENTFLOW_ACTOR or $USER."""
    cli.ok("declare", "INC-1", "--title", "Down", "--priority", "P3")
    monkeypatch.setenv("USER", "root")
    code, out, err = cli("--actor", "", "note", "INC-1", "x")
    assert (2, "") == (code, out)
    assert "--actor must not be blank" in err
    assert 1 == _rows(cli.db)


def test_an_empty_environment_variable_counts_as_unset(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """INCIDENTFLOW_ACTOR= (empty) falls back to $USER, as an unset variable does."""
    cli.ok("declare", "INC-1", "--title", "Down", "--priority", "P3")
    monkeypatch.setenv("USER", "zoe")
    assert "by zoe" in cli.ok("note", "INC-1", "x", actor="")


@pytest.mark.parametrize(
    "args",
    [
        ["--actor", "ana\u200b", "note", "INC-1", "x"],
        ["--actor", " ana", "note", "INC-1", "x"],
        ["assign", "INC-1", "ic", "ana\u202e"],
        ["declare", "INC-1 ", "--title", "Down", "--priority", "P3"],
        ["action", "add", "INC-1", "fix", "--owner", "bo\u00a0", "--due",
         "2026-03-08T00:00:00+00:00", "--kind", "corrective"],
        ["schedule", "INC-1", "--for", "2026-03-08T00:00:00+00:00", "--invite", "ana",
         "--invite", "\u2060bo"],
        ["debt", "open", "INC-1", "x", "--id", "D 1 "],
    ],
)  # fmt: skip
def test_look_alike_names_are_refused_at_the_command_line(cli: CLI, args: list[str]) -> None:
    """Actors, holders, owners, invitees and ids with hidden characters: exit 2, nothing kept."""
    cli.ok("declare", "INC-1", "--title", "Down", "--priority", "P3", "--at",
           "2026-03-01T14:00:00+00:00")  # fmt: skip
    code, out, err = cli(*args)
    assert (2, "") == (code, out), err
    assert "Traceback" not in err
    assert 1 == _rows(cli.db)


# -- argv that is not text ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"ana\xff", b"\xed\xa0\x80", b"\x80", b"caf\xe9"],
)
def test_non_utf8_arguments_are_refused_before_anything_runs(cli: CLI, raw: bytes) -> None:
    """Bytes that are not UTF-8 (argv decoded with surrogateescape): exit 2 naming the argument."""
    cli.ok("declare", "INC-1", "--title", "Down", "--priority", "P3")
    argument = os.fsdecode(raw)
    for args in (["note", "INC-1", argument], ["--actor", argument, "note", "INC-1", "x"],
                 ["status", argument], ["--json", "list", "--state", argument]):  # fmt: skip
        code, out, err = cli(*args)
        assert (2, "") == (code, out), (args, err)
        assert "is not UTF-8 text" in err
        assert "Traceback" not in err
    assert 1 == _rows(cli.db)


# -- typed text on the terminal -----------------------------------------------------------------


def test_the_terminal_shows_invisible_characters_in_typed_text(cli: CLI) -> None:
    """A bidi override and a zero-width space in a title print as <U+202E> and <U+200B>."""
    cli.ok("declare", "INC-1", "--title", "evil\u202etxt.exe a\u200bb", "--priority", "P3")
    for args in (["status", "INC-1"], ["list"], ["timeline", "INC-1"]):
        out = cli.ok(*args)
        assert "\u202e" not in out
        assert "\u200b" not in out
    assert "evil<U+202E>txt.exe a<U+200B>b" in cli.ok("status", "INC-1")


def test_a_nul_character_in_an_argument_is_refused(cli: CLI) -> None:
    """No OS passes a NUL in argv, but a caller of main() can: exit 2, not a crash in SQLite."""
    code, out, err = cli("--db", "a\x00b.db", "list")
    assert (2, "") == (code, out)
    assert "argument 2 holds a NUL character" in err
