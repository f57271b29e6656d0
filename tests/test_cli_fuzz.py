"""Fuzzing the command line's loaders: `validate FILE` and `import FILE`.

Thousands of damaged histories -- flipped, inserted and deleted characters, cut lines,
duplicate keys, NaN, naive timestamps, unknown event types, missing, swapped and repeated
lines, random bytes and random JSON -- each fed to both commands in-process.  Whatever the
input, the CLI answers with a documented exit code and a message, never a traceback, and a
failed import leaves the store exactly as it was.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import re
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidentflow import Incident, ManualClock, Priority, Role, codec
from incidentflow.cli import _main as cli_main
from incidentflow.cli import main
from incidentflow.cli._parser import build_parser
from incidentflow.demo import run_demo
from incidentflow.store import SQLiteStore

pytestmark = pytest.mark.slow  # started first (conftest.py)

FUZZ_INPUTS = 10_000
VALIDATE_CODES = {0, 2, 5}
IMPORT_CODES = {0, 2, 3, 5}
START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


def _small_incident() -> Incident:
    """A second, short incident: a P3 with a lead, a note and a why."""
    clock = ManualClock(START)
    incident = Incident.declare("INC-2", "Slow search", Priority.P3, actor="eve", clock=clock)
    clock.advance(minutes=1)
    incident.assign(Role.LEAD, "eve", actor="eve")
    clock.advance(minutes=1)
    incident.note("search p99 is 4 s", actor="eve")
    incident.add_why("The index is cold.", actor="eve")
    return incident


DEMO = run_demo(write=lambda line: None)
SMALL = _small_incident()
DEMO_TEXT = codec.dump_lines(DEMO.history)
SMALL_TEXT = codec.dump_lines(SMALL.history)
HISTORY = DEMO_TEXT + SMALL_TEXT
HISTORY_LINES = HISTORY.splitlines()


class Cli:
    """The CLI run in-process against one store, with files written to a scratch directory."""

    def __init__(self, tmp_path: Path, capsys: Any) -> None:
        self.db = tmp_path / "fuzz.db"
        self.input = tmp_path / "input.jsonl"
        self.capsys = capsys
        self.calls = 0

    def __call__(self, *args: str) -> tuple[int, str, str]:
        """Run ``incidentflow ARGS``: exit code, stdout, stderr."""
        self.calls += 1
        try:
            code = main(["--db", str(self.db), "--actor", "fuzzer", *args])
        except SystemExit as exc:  # argparse's own exits
            code = exc.code if isinstance(exc.code, int) else 2
        out, err = self.capsys.readouterr()
        return code, out, err

    def feed(self, command: str, data: str | bytes) -> tuple[int, str, str]:
        """Write ``data`` to the input file and run ``COMMAND FILE``."""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        self.input.write_bytes(data)
        return self(command, str(self.input))

    def snapshot(self) -> tuple[Any, ...]:
        """Everything an import could change: the summaries, versions and event rows."""
        with SQLiteStore(self.db, read_only=True) as store:
            summaries = store.incidents()
            versions = {s.incident_id: store.version(s.incident_id) for s in summaries}
        connection = sqlite3.connect(self.db)
        try:
            rows = connection.execute("SELECT count(*), max(position) FROM events").fetchone()
        finally:
            connection.close()
        return summaries, versions, rows


@pytest.fixture
def cli(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The CLI with a store already holding the small incident.

    The parser is built once and reused (building it takes ~10 ms, which would dominate
    twenty thousand in-process runs); parsing itself is unchanged.
    """
    monkeypatch.setattr(cli_main, "build_parser", functools.cache(build_parser))
    runner = Cli(tmp_path, capsys)
    assert (0, "") == runner.feed("import", SMALL_TEXT)[::2]
    return runner


# -- mutations ---------------------------------------------------------------------------------

_ODD = ['"', "{", "}", "[", "]", ",", ":", "\\", "\x00", "\n", "\u2028", "é", "\ud800", "0", " "]
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)")
_TYPE = re.compile(r'"type":"[a-z_]+"')


def _char(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(_ODD)
    return chr(rng.randrange(0x20, 0x7F))


def _lines(text: str) -> list[str]:
    return text.split("\n")


def flip(rng: random.Random, text: str) -> str:
    """Replace one character."""
    i = rng.randrange(len(text))
    return text[:i] + _char(rng) + text[i + 1 :]


def insert(rng: random.Random, text: str) -> str:
    """Insert one character."""
    i = rng.randrange(len(text) + 1)
    return text[:i] + _char(rng) + text[i:]


def delete(rng: random.Random, text: str) -> str:
    """Delete a few characters."""
    i = rng.randrange(len(text))
    return text[:i] + text[i + rng.randint(1, 3) :]


def truncate_line(rng: random.Random, text: str) -> str:
    """Cut one line short."""
    lines = _lines(text)
    n = rng.randrange(len(lines))
    lines[n] = lines[n][: rng.randrange(len(lines[n]) + 1)]
    return "\n".join(lines)


def truncate(rng: random.Random, text: str) -> str:
    """Cut the whole text short (a half-written file)."""
    return text[: rng.randrange(len(text) + 1)]


def duplicate_key(rng: random.Random, text: str) -> str:
    """Repeat one key of one line with another value."""
    lines = _lines(text)
    n = rng.randrange(len(lines))
    if not lines[n].endswith("}"):
        return text
    key = rng.choice(re.findall(r'"([a-z_]+)":', lines[n]) or ["schema"])
    value = json.dumps(rng.choice([1, "x", None, True, [], {}]))
    lines[n] = lines[n][:-1] + f',"{key}":{value}}}'
    return "\n".join(lines)


def nan(rng: random.Random, text: str) -> str:
    """Put NaN or an infinity where a value was."""
    lines = _lines(text)
    n = rng.randrange(len(lines))
    constant = rng.choice(["NaN", "Infinity", "-Infinity"])
    lines[n] = re.sub(r':("[^"]*"|\d+|true|false|null)', f":{constant}", lines[n], count=1)
    return "\n".join(lines)


def naive(rng: random.Random, text: str) -> str:
    """Drop the UTC offset of one timestamp."""
    found = list(_TIMESTAMP.finditer(text))
    if not found:
        return text
    match = rng.choice(found)
    return text[: match.start(2)] + text[match.end(2) :]


def unknown_type(rng: random.Random, text: str) -> str:
    """Give one event a type nobody knows."""
    found = list(_TYPE.finditer(text))
    if not found:
        return text
    match = rng.choice(found)
    bogus = rng.choice(["bogus", "Declared", "state-changed", "", "__class__", "declared "])
    return text[: match.start()] + f'"type":"{bogus}"' + text[match.end() :]


def drop_line(rng: random.Random, text: str) -> str:
    """Delete one line (a gap in an incident's versions)."""
    lines = _lines(text)
    del lines[rng.randrange(len(lines))]
    return "\n".join(lines)


def swap_lines(rng: random.Random, text: str) -> str:
    """Swap two lines."""
    lines = _lines(text)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def repeat_line(rng: random.Random, text: str) -> str:
    """Repeat one line somewhere."""
    lines = _lines(text)
    lines.insert(rng.randrange(len(lines) + 1), rng.choice(lines))
    return "\n".join(lines)


def set_field(rng: random.Random, text: str) -> str:
    """Give one field of one event a random JSON value."""
    lines = _lines(text)
    n = rng.randrange(len(lines))
    try:
        data = json.loads(lines[n])
    except ValueError:
        return text
    if not isinstance(data, dict) or not data:
        return text
    data[rng.choice(sorted(data))] = random_json(rng, 2)
    lines[n] = json.dumps(data)
    return "\n".join(lines)


def random_json(rng: random.Random, depth: int = 3) -> Any:
    """A random JSON value."""
    kind = rng.randrange(8 if depth > 0 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.randint(-(2**70), 2**70)
    if kind == 3:
        return rng.uniform(-1e9, 1e9)
    if kind == 4:
        return "".join(_char(rng) for _ in range(rng.randrange(6))).replace("\ud800", "")
    if kind == 5:
        return rng.choice(["2026-03-01T14:00:00+00:00", "P1", "lead", "INC-1042", "declared"])
    if kind == 6:
        return [random_json(rng, depth - 1) for _ in range(rng.randrange(4))]
    keys = ["schema", "type", "actor", "occurred_at", "incident_id", "x"]
    return {rng.choice(keys): random_json(rng, depth - 1) for _ in range(rng.randrange(4))}


def random_json_lines(rng: random.Random, text: str) -> str:
    """Lines of random JSON values, sometimes after a valid prefix."""
    keep = _lines(text)[: rng.randrange(3)]
    extra = [json.dumps(random_json(rng)) for _ in range(rng.randint(1, 4))]
    return "\n".join(keep + extra)


MUTATIONS: list[Callable[[random.Random, str], str]] = [
    flip,
    insert,
    delete,
    truncate_line,
    truncate,
    duplicate_key,
    nan,
    naive,
    unknown_type,
    drop_line,
    swap_lines,
    repeat_line,
    set_field,
    random_json_lines,
]


def fuzz_inputs(seed: int, count: int) -> Iterator[str | bytes]:
    """``count`` damaged histories: mostly 1-3 mutations of the valid one, some pure noise."""
    rng = random.Random(seed)
    for _ in range(count):
        roll = rng.random()
        if roll < 0.05:
            yield rng.randbytes(rng.randrange(200))
        elif roll < 0.08:
            yield HISTORY.encode()[: rng.randrange(len(HISTORY))] + rng.randbytes(4)
        else:
            text = rng.choice([HISTORY, DEMO_TEXT, SMALL_TEXT])
            for _ in range(rng.choice([1, 1, 1, 2, 3])):
                text = rng.choice(MUTATIONS)(rng, text) if text else text
            yield text


# -- the fuzz run ------------------------------------------------------------------------------


def _clean(code: int, out: str, err: str, codes: set[int], data: str | bytes) -> None:
    """A documented exit code, a message when it failed, and no traceback anywhere."""
    assert code in codes, (code, err, data[:300])
    assert "Traceback" not in out + err, (err, data[:300])
    if code:
        assert err.strip(), (code, data[:300])


def test_fuzzed_histories_get_documented_exit_codes_and_atomic_imports(cli: Cli) -> None:
    """10,000 damaged histories: no crash, a documented exit code, failed imports write nothing."""
    before = cli.snapshot()
    seen: dict[str, set[int]] = {"validate": set(), "import": set()}
    count = 0
    for data in fuzz_inputs(seed=20260301, count=FUZZ_INPUTS):
        count += 1
        code, out, err = cli.feed("validate", data)
        _clean(code, out, err, VALIDATE_CODES, data)
        seen["validate"].add(code)
        imported, out, err = cli.feed("import", data)
        _clean(imported, out, err, IMPORT_CODES, data)
        seen["import"].add(imported)
        after = cli.snapshot()
        if imported:
            assert before == after, (imported, err, data[:300])
        if code:  # a history validate rejects can never be imported
            assert imported != 0, (code, data[:300])
        before = after
    assert FUZZ_INPUTS == count
    assert {0, 2, 5} == seen["validate"]
    assert {2, 3, 5} <= seen["import"]


# -- explicit cases ----------------------------------------------------------------------------


def _without(text: str, line_number: int) -> str:
    lines = text.splitlines(keepends=True)
    del lines[line_number - 1]
    return "".join(lines)


def _replace_line(text: str, line_number: int, new: str) -> str:
    lines = text.splitlines()
    lines[line_number - 1] = new
    return "\n".join(lines) + "\n"


def _line(number: int) -> str:
    return HISTORY_LINES[number - 1]


BAD_INPUTS: dict[str, tuple[str | bytes, int, str]] = {
    "malformed JSON": (_replace_line(HISTORY, 3, _line(3)[:40] + "}"), 3, "JSON"),
    "truncated last line": (HISTORY[: len(HISTORY) - 30], len(HISTORY_LINES), ""),
    "duplicate keys": (_replace_line(HISTORY, 7, _line(7)[:-1] + ',"actor":"zed"}'), 7, "actor"),
    "NaN": (_replace_line(HISTORY, 2, _line(2).replace('"schema":1', '"schema":NaN')), 2, "NaN"),
    "naive timestamp": (_replace_line(HISTORY, 5, _line(5).replace("+00:00", "")), 5, "offset"),
    "unknown event type": (
        _replace_line(HISTORY, 9, re.sub(r'"type":"\w+"', '"type":"coffee_break"', _line(9))),
        9,
        "coffee_break",
    ),
    "not UTF-8": (HISTORY.encode()[:100] + b"\xff\xfe" + HISTORY.encode()[100:], 0, "utf-8"),
    "random JSON value": (HISTORY + "[1, 2, 3]\n", len(HISTORY_LINES) + 1, ""),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_undecodable_histories_exit_2_naming_the_line(cli: Cli, name: str) -> None:
    """A history that does not decode is bad input (2) for both commands; nothing is imported."""
    data, line, word = BAD_INPUTS[name]
    before = cli.snapshot()
    for command in ("validate", "import"):
        code, out, err = cli.feed(command, data)
        assert 2 == code, (command, err)
        assert "Traceback" not in out + err
        if line:  # undecodable bytes are named by position, not line
            assert f"line {line}" in err, err
        assert word.lower() in err.lower()
    assert before == cli.snapshot()


def test_a_gap_in_an_incidents_events_breaks_a_rule(cli: Cli) -> None:
    """Removing the validation line makes the later mitigation break `validated`: exit 5."""
    validated = next(n for n, line in enumerate(HISTORY_LINES, 1) if '"type":"validated"' in line)
    data = _without(DEMO_TEXT, validated)
    lines = data.splitlines()
    mitigated = next(n for n, line in enumerate(lines, 1) if '"target":"mitigating"' in line)
    before = cli.snapshot()
    code, out, err = cli.feed("validate", data)
    assert 5 == code
    assert "Traceback" not in out + err
    expected = f"line {mitigated} (incident {DEMO.id}, event {mitigated}): validated"
    assert expected in err
    code, out, err = cli.feed("import", data)
    assert 5 == code
    for text in (DEMO.id, str(mitigated - 1), "validated"):
        assert text in err
    assert before == cli.snapshot()


def test_json_errors_are_one_object_on_stderr(cli: Cli) -> None:
    """With --json, a rejected history's error is a JSON object naming its kind and rules."""
    validated = next(n for n, line in enumerate(HISTORY_LINES, 1) if '"type":"validated"' in line)
    code, out, err = cli("--json", "validate", str(_write(cli, _without(DEMO_TEXT, validated))))
    assert 5 == code
    document = json.loads(err)
    assert ["validated"] == [item["rule"] for item in document["unmet"]]
    assert DEMO.id in document["message"]
    code, out, err = cli("--json", "import", str(_write(cli, HISTORY[:-30])))
    assert 2 == code
    assert "DecodeError" == json.loads(err)["error"]
    assert "" == out


def _write(cli: Cli, text: str) -> Path:
    cli.input.write_text(text, encoding="utf-8")
    return cli.input


def test_events_before_any_declaration_are_refused(cli: Cli) -> None:
    """A history that does not start with a declaration is refused, naming the problem."""
    data = _without(DEMO_TEXT, 1)
    before = cli.snapshot()
    for command in ("validate", "import"):
        code, out, err = cli.feed(command, data)
        assert code in {2, 5}, (command, err)
        assert "Traceback" not in out + err
        assert "declar" in err.lower()
    assert before == cli.snapshot()


def test_valid_history_validates_and_imports_once(cli: Cli) -> None:
    """A valid history: validate reports the counts, import writes it, a second import conflicts."""
    code, out, err = cli.feed("validate", HISTORY)
    assert (0, "") == (code, err)
    assert f"ok: {len(HISTORY_LINES)} events, 2 incidents" in out
    # The small incident is already stored: importing both conflicts and writes neither.
    before = cli.snapshot()
    code, out, err = cli.feed("import", HISTORY)
    assert 3 == code
    assert SMALL.id in err
    assert "Traceback" not in out + err
    assert before == cli.snapshot()
    code, out, err = cli.feed("import", DEMO_TEXT)
    assert (0, "") == (code, err)
    with SQLiteStore(cli.db, read_only=True) as store:
        assert DEMO == store.load(DEMO.id)
        assert [DEMO.id, SMALL.id] == sorted(s.incident_id for s in store.incidents())
    before = cli.snapshot()
    code, out, err = cli.feed("import", DEMO_TEXT)
    assert 3 == code
    assert DEMO.id in err
    assert before == cli.snapshot()


def test_one_bad_incident_keeps_the_whole_file_out(cli: Cli) -> None:
    """A file whose second incident breaks a rule imports neither (validate all, then write)."""
    validated = next(n for n, line in enumerate(HISTORY_LINES, 1) if '"type":"validated"' in line)
    broken = _without(_renamed(DEMO_TEXT, DEMO.id, "INC-3"), validated)
    before = cli.snapshot()
    code, out, err = cli.feed("import", DEMO_TEXT + broken)
    assert 5 == code, err
    assert "Traceback" not in out + err
    assert "INC-3" in err
    assert "validated" in err
    assert before == cli.snapshot()


def test_a_new_incident_beside_an_existing_one_is_not_imported(cli: Cli) -> None:
    """A file holding a new incident and a stored one exits 3 and imports neither."""
    before = cli.snapshot()
    code, out, err = cli.feed("import", DEMO_TEXT + SMALL_TEXT)
    assert 3 == code, err
    assert "Traceback" not in out + err
    assert SMALL.id in err
    assert before == cli.snapshot()


def test_import_reads_stdin(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """`import -` and `validate -` read the history from standard input."""
    import io

    for command, expected in (("validate", 0), ("import", 0), ("import", 3)):
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(DEMO_TEXT.encode())))
        code, out, err = cli(command, "-")
        assert expected == code, (command, err)
        assert "Traceback" not in out + err


def test_import_into_a_read_only_store_is_a_store_problem(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Importing into a store opened read-only exits 5 with a message and writes nothing.

    (Running as root, a read-only file or directory would still be writable, so the store
    itself is opened read-only.)
    """
    from incidentflow.cli import _files

    def read_only(path: Any = None, **_: Any) -> SQLiteStore:
        return SQLiteStore(cli.db if path is None else path, read_only=True)

    monkeypatch.setattr(_files, "open_store", read_only)
    before = cli.snapshot()
    code, out, err = cli.feed("import", DEMO_TEXT)
    assert 5 == code, err
    assert "Traceback" not in out + err
    assert str(cli.db) in err
    assert "readonly" in err.replace("-", "").replace(" ", "").lower()
    assert before == cli.snapshot()


def test_a_file_that_is_no_store_is_a_store_problem(cli: Cli, tmp_path: Path) -> None:
    """`--db` naming a file that is not a SQLite database: import exits 5, the file untouched."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    cli.input.write_text(DEMO_TEXT, encoding="utf-8")
    code, out, err = cli("--db", str(junk), "import", str(cli.input))
    assert 5 == code, err
    assert "Traceback" not in out + err
    assert str(junk) in err
    assert b"this is not a database" * 100 == junk.read_bytes()


def _renamed(text: str, old: str, new: str) -> str:
    """The history with its declaration's incident id changed."""
    return text.replace(f'"incident_id":"{old}"', f'"incident_id":"{new}"', 1)


# -- arbitrary argv bytes ----------------------------------------------------------------------
#
# What the OS hands over: each argument is bytes without NUL, decoded as Python decodes argv
# on POSIX (UTF-8 with surrogateescape, so bytes that are not UTF-8 become lone surrogates).
# Vectors are commands with arbitrary bytes in their places, and arbitrary bytes alone.

ARGV_INPUTS = 10_000
TOML_INPUTS = 1_000
DOCUMENTED_CODES = {0, 1, 2, 3, 4, 5, 6}

_TOKENS = [
    "INC-2", "INC-1042", "P1", "P9", "lead", "ic", "ticket", "corrective", "confirmed",
    "2026-03-01T14:00:00+00:00", "2026-03-01T14:00:00", "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59+00:00", "1969-12-31T23:59:59+00:00", "2200-01-01T00:00:01+00:00",
    "9" * 5000, "99999999999999", "99999999999999999999", "-1", "0", "1e999", "NaN", "", " ",
    " ana ", "ana\u200b", "\u202eana",
    "\u3164", "a\u00a0b", "Jose\u0301", "\x1b[2J", "--json", "--at", "--actor", "-",
    "x" * 3000, "time_to_mitigate=declared..green", "x=a..b",
]  # fmt: skip
_TEMPLATES = [
    ["note", "INC-2", "{}"], ["--actor", "{}", "note", "INC-2", "text"],
    ["declare", "{}", "--title", "{}", "--priority", "{}"], ["assign", "INC-2", "{}", "{}"],
    ["release", "INC-2", "{}", "{}"], ["hand-off", "INC-2", "{}", "{}", "{}"],
    ["--at", "{}", "note", "INC-2", "text"], ["list", "--since", "{}", "--until", "{}"],
    ["list", "--state", "{}", "--priority", "{}"], ["status", "{}"], ["timeline", "{}"],
    ["--json", "status", "{}"], ["due", "--at", "{}"], ["verify", "{}"], ["export", "{}"],
    ["why", "INC-2", "{}", "--chain", "{}"], ["factor", "INC-2", "{}", "--category", "{}"],
    ["action", "add", "INC-2", "{}", "--owner", "{}", "--due", "{}", "--kind", "{}"],
    ["schedule", "INC-2", "--for", "{}", "--invite", "{}"], ["stats", "--measure", "{}"],
    ["agenda", "INC-2", "--length", "{}", "--start", "{}"], ["report", "{}"],
    ["experiment", "start", "INC-2", "--hypothesis", "{}", "--action", "{}", "--expected",
     "{}", "--component", "{}", "--owner", "{}", "--id", "{}"],
    ["debt", "open", "INC-2", "{}", "--id", "{}"], ["priority", "INC-2", "{}", "--reason", "{}"],
    ["update", "INC-2", "{}"], ["update", "INC-2", "--slack"], ["mitigate", "INC-2", "{}"],
    ["{}"], ["{}", "{}"], ["{}", "{}", "{}"], ["{}", "INC-2", "{}"],
]  # fmt: skip


def _argument(rng: random.Random) -> str:
    """One argument as the OS would give it: hostile text, or arbitrary bytes without NUL."""
    roll = rng.random()
    if roll < 0.35:
        token = rng.choice(_TOKENS)
        raw = token.encode("utf-8")
        if rng.random() < 0.3:  # damage it: a byte that is not UTF-8, or a cut
            i = rng.randrange(len(raw) + 1)
            raw = raw[:i] + bytes([rng.randrange(0x80, 0x100)]) + raw[i:]
    else:
        raw = rng.randbytes(rng.randrange(16))
    return os.fsdecode(raw.replace(b"\x00", b""))


def argv_vectors(seed: int, count: int) -> Iterator[list[str]]:
    """``count`` argument vectors: commands with hostile arguments, some pure noise."""
    rng = random.Random(seed)
    for _ in range(count):
        if rng.random() < 0.15:
            yield [_argument(rng) for _ in range(rng.randrange(1, 6))]
        else:
            yield [part if part != "{}" else _argument(rng) for part in rng.choice(_TEMPLATES)]


def _no_traceback(code: int, out: str, err: str, argv: Any) -> None:
    assert code in DOCUMENTED_CODES, (code, err, argv)
    assert "Traceback" not in out + err, (err, argv)
    if code not in (0,):
        assert err.strip(), (code, argv)


@pytest.fixture
def shell(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The fuzzing CLI run from a scratch directory, as an actor from the environment.

    argparse takes abbreviations (``--o`` for ``--output``), so a vector may name a file: it
    lands in the scratch directory.
    """
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("INCIDENTFLOW_ACTOR", "fuzzer")
    return cli


def _run_argv(shell: Cli, argv: list[str]) -> tuple[int, str, str]:
    shell.calls += 1
    try:
        code = main(["--db", str(shell.db), *argv])
    except SystemExit as exc:  # argparse's own exits: usage errors (2) and --help (0)
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = shell.capsys.readouterr()
    return code, out, err


def test_arbitrary_argv_bytes_never_crash_and_failures_change_nothing(shell: Cli) -> None:
    """10,000 argument vectors of arbitrary bytes: documented codes, no traceback, no trace."""
    before = shell.snapshot()
    codes: dict[int, int] = {}
    count = 0
    for argv in argv_vectors(seed=20261206, count=ARGV_INPUTS):
        count += 1
        code, out, err = _run_argv(shell, argv)
        _no_traceback(code, out, err, argv)
        codes[code] = codes.get(code, 0) + 1
        after = shell.snapshot()
        if code:
            assert before == after, (code, err, argv)
        before = after
    assert ARGV_INPUTS == count
    assert {0, 1, 2, 4} <= set(codes), codes  # commands ran, were refused, failed, not found


ARGV_EXAMPLES: list[int] = []
"""How many argument vectors the Hypothesis property below ran (the profile sets the number)."""


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=20).map(lambda b: os.fsdecode(b.replace(b"\x00", b""))),
            st.sampled_from(_TOKENS),
            st.sampled_from(["note", "INC-2", "status", "--at", "declare", "--title", "list"]),
        ),
        max_size=8,
    )
)
def test_any_argv_is_answered_with_a_documented_code(shell: Cli, argv: list[str]) -> None:
    """Whatever Hypothesis draws for argv: a documented code, no traceback, no trace on failure."""
    ARGV_EXAMPLES.append(1)
    before = shell.snapshot()
    code, out, err = _run_argv(shell, argv)
    _no_traceback(code, out, err, argv)
    if code:
        assert before == shell.snapshot(), (code, err, argv)


# -- hostile policy files ------------------------------------------------------------------------


_GOOD_POLICY = (
    'whys_depth = 3\n[priorities.P1]\nupdate_every = "20m"\n[authorization]\nnote = "anyone"\n'
)


def _nested(rng: random.Random) -> str:
    depth = rng.choice([2, 9, 50, 500, 2000, 20_000])
    kind = rng.randrange(3)
    if kind == 0:
        return "x = " + "[" * depth + "]" * depth
    if kind == 1:
        return "x = " + "{a=" * depth + "1" + "}" * depth
    return "a." * depth + "b = 1"


_VALUES = [
    '"999999999d"', '"9999999999999999999999999d"', '"1" * 3', '"0s"', '"-5m"', '"59s"',
    '"7d1s"', '"1d" ', '"' + "1d" * 100 + '"', '"' + "9" * 5000 + 's"', "inf", "nan", "-inf",
    "9" * 5000, "99999999999999999999", "-1", "0", "1e308", "true", "[]", "{}", '"\\uD800"',
    '"\\u0000"', "1979-05-27T07:32:00Z", "07:32:00", '"anyone"', '["lead", "boss"]',
    '["lead"]', "[[[[[[[[[[1]]]]]]]]]]", '"' + "x" * 100_000 + '"',
]  # fmt: skip
_GOOD_LINES = [
    "whys_depth = 1", "whys_depth = 50", "open_when_unstaffed = true",
    'priorities.P1.update_every = "1m"', 'priorities.P0.update_every = "7d"',
    'priorities.P2.post_mortem_within = "1h"', 'priorities.P3.post_mortem_within = "365d"',
    'priorities.P1.required_roles = ["lead"]', 'priorities.P3.required_links = []',
    'authorization.note = "anyone"', 'authorization.mitigate = ["lead", "ic"]',
]  # fmt: skip
_KEYS = [
    "whys_depth", "open_when_unstaffed", "priorities", "authorization", "colour",
    "priorities.P1.update_every", "priorities.P0.post_mortem_within",
    "priorities.P2.required_roles", "priorities.P3.invite_roles", "priorities.P9.x",
    "authorization.mitigate", "authorization.assign", "authorization.fly", '"\\u202e"',
]  # fmt: skip


def hostile_policies(seed: int, count: int) -> Iterator[bytes]:
    """``count`` policy files: absurd values, deep nesting, huge numbers, broken bytes."""
    rng = random.Random(seed)
    for _ in range(count):
        roll = rng.random()
        if roll < 0.1:
            yield rng.randbytes(rng.randrange(300))
        elif roll < 0.25:
            yield _nested(rng).encode()
        elif roll < 0.45:  # a policy that loads, with values at and near their bounds
            yield "\n".join(rng.sample(_GOOD_LINES, rng.randint(1, 4))).encode()
        elif roll < 0.55:  # the good policy, damaged like a history is
            text = _GOOD_POLICY
            for _ in range(rng.choice([1, 2, 3])):
                text = rng.choice([flip, insert, delete, truncate])(rng, text) if text else text
            yield text.encode("utf-8", "surrogatepass")
        else:
            lines = [
                f"{rng.choice(_KEYS)} = {rng.choice(_VALUES)}" for _ in range(rng.randint(1, 4))
            ]
            if rng.random() < 0.3:
                lines.insert(0, rng.choice(["[priorities.P1]", "[authorization]", "[x.y.z]"]))
            yield "\n".join(lines).encode("utf-8", "surrogatepass")


_POLICY_COMMANDS = [
    ["declare", "F-{n}", "--title", "t", "--priority", "P1"],
    ["status", "INC-2"],
    ["due"],
    ["stats"],
    ["note", "INC-2", "x"],
]


def test_hostile_policy_files_are_policy_errors_never_crashes(shell: Cli, tmp_path: Path) -> None:
    """1,000 hostile policy files: a PolicyError at load (exit 2) or a policy that works."""
    from incidentflow import Policy, PolicyError

    path = tmp_path / "policy.toml"
    before = shell.snapshot()
    loaded = refused = 0
    for n, data in enumerate(hostile_policies(seed=20261206, count=TOML_INPUTS)):
        path.write_bytes(data)
        try:
            Policy.load(path)
        except PolicyError:
            refused += 1
            good = False
        else:
            loaded += 1
            good = True
        argv = [a.format(n=n) for a in _POLICY_COMMANDS[n % len(_POLICY_COMMANDS)]]
        code, out, err = _run_argv(shell, ["--json", "--policy", str(path), *argv])
        _no_traceback(code, out, err, data[:200])
        if not good:
            assert 2 == code, (err, data[:200])
            assert "PolicyError" == json.loads(err)["error"], (err, data[:200])
        after = shell.snapshot()
        if code:
            assert before == after, (code, err, data[:200])
        before = after
    assert TOML_INPUTS == loaded + refused
    assert loaded > 100, (loaded, refused)  # enough policies load to run the commands under
    assert refused > 500, (loaded, refused)


_TOML_PIECES = st.sampled_from(
    ["[", "]", "{", "}", "=", ".", '"', "'", ",", "\n", "a", "P1", "priorities",
     "update_every", '"9999999999d"', "9" * 30, "inf", "whys_depth", "authorization"]
)  # fmt: skip


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.text(max_size=200),
        st.lists(_TOML_PIECES, max_size=60).map("".join),
        st.binary(max_size=200).map(lambda b: b.decode("utf-8", "surrogateescape")),
    )
)
def test_any_policy_text_loads_or_is_a_policy_error(text: str) -> None:
    """Policy.from_toml of any text: a policy or a PolicyError, never another exception."""
    from incidentflow import Policy, PolicyError

    with contextlib.suppress(PolicyError):
        Policy.from_toml(text)
