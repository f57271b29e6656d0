"""Fuzzing the command line's loaders: `validate FILE` and `import FILE`.

Thousands of damaged histories -- flipped, inserted and deleted characters, cut lines,
duplicate keys, NaN, naive timestamps, unknown event types, missing, swapped and repeated
lines, random bytes and random JSON -- each fed to both commands in-process.  Whatever the
input, the CLI answers with a documented exit code and a message, never a traceback, and a
failed import leaves the store exactly as it was.
"""

from __future__ import annotations

import functools
import json
import random
import re
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from incidentflow import Incident, ManualClock, Priority, Role, codec
from incidentflow.cli import _main as cli_main
from incidentflow.cli import main
from incidentflow.demo import run_demo
from incidentflow.store import SQLiteStore

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
    monkeypatch.setattr(cli_main, "build_parser", functools.cache(cli_main.build_parser))
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


BAD_INPUTS = {
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
