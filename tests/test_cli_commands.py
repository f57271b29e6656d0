"""The incident commands of the command line, run in-process against a SQLite store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from incidentflow import codec
from incidentflow.cli import _incident, main
from incidentflow.errors import Conflict, StoreBusy
from incidentflow.store import SQLiteStore, open_store
from terminal import CLI

T0 = "2026-03-01T14:00:00+00:00"


@pytest.fixture
def cli(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> CLI:
    """A command line bound to a fresh store in tmp_path."""
    return CLI(tmp_path / "incidents.db", capsys, monkeypatch)


def staffed(cli: CLI, incident: str = "INC-7") -> None:
    """Declare a P1, staff it, confirm it, link it and post the first update."""
    cli.ok("declare", incident, "--title", "Database is down", "--priority", "P1")
    cli.ok("assign", incident, "lead", "ana")
    cli.ok("assign", incident, "ic", "bo")
    cli.ok("assign", incident, "communicator", "cy")
    cli.ok("assign", incident, "recorder", "di")
    cli.ok("confirm", incident, "--evidence", "primary refuses connections", actor="bo")
    for kind in ("ticket", "war_room", "public_channel", "announcement"):
        cli.ok("link", incident, kind, f"https://example.com/{kind}")
    cli.ok("update", incident, "Database outage; next update in 30 minutes", actor="cy")


def test_declare_prints_a_summary_and_stores_the_incident(cli: CLI) -> None:
    """`declare` records the declaration, says so in one line, and the store holds it."""
    out = cli.ok("declare", "INC-7", "--title", "Database is down", "--priority", "p1")
    assert "INC-7: recorded declared by ana (version 1, state declared)\n" == out
    with open_store(cli.db) as store:
        assert ["INC-7"] == [s.incident_id for s in store.incidents()]


def test_json_output_is_the_recorded_events(cli: CLI) -> None:
    """With --json an incident command prints a list of the recorded events as codec dicts."""
    out = cli.ok("--json", "declare", "INC-7", "--title", "Down", "--priority", "P2")
    (event,) = json.loads(out)
    assert ("declared", "INC-7", "P2") == (event["type"], event["incident_id"], event["priority"])
    out = cli.ok("note", "INC-7", "looking", "--json")
    with open_store(cli.db) as store:
        assert [codec.to_dict(store.events("INC-7")[1])] == json.loads(out)


def test_a_whole_p1_walk_uses_every_incident_command(cli: CLI) -> None:
    """A P1 goes declared → post_mortem through the CLI, issuing each incident command."""
    staffed(cli)
    assert "state mitigating" in cli.ok("mitigate", "INC-7", "Mitigation under way")
    out = cli.ok(
        "experiment", "start", "INC-7", "--hypothesis", "token expired", "--action", "look",
        "--expected", "errors", "--component", "auth", "--owner", "bo", actor="bo",
    )  # fmt: skip
    assert "experiment_started E1" in out
    cli.ok("experiment", "conclude", "INC-7", "E1", "--observed", "yes", "--verdict", "confirmed",
           actor="bo")  # fmt: skip
    out = cli.ok("change", "log", "INC-7", "--what", "token by hand", "--where", "auth",
                 "--revert", "revoke it", "--made-by", "bo", actor="di")  # fmt: skip
    assert "change_logged C1" in out
    cli.ok("note", "INC-7", "refresh job last ran 3 days ago", actor="di")
    for n in range(1, 6):
        extra = ["--root-cause"] if n == 5 else []
        cli.ok("why", "INC-7", f"why number {n}", "--chain", "main", *extra, actor="di")
    cli.ok("factor", "INC-7", "no alert on the refresh job", actor="di")
    assert "debt_opened D1" in cli.ok("debt", "open", "INC-7", "replace the token", actor="bo")
    cli.ok("verify-recovery", "INC-7", "--evidence", "error rate at baseline", actor="bo")
    assert "state yellow" in cli.ok("yellow", "INC-7", "Resolved (yellow)")
    cli.ok("verify-customer", "INC-7", "--customer", "Acme", "--evidence", "works", actor="cy")
    cli.ok("debt", "close", "INC-7", "D1", "--note", "job redeployed", actor="bo")
    cli.ok("change", "reconcile", "INC-7", "C1", "reverted", "--note", "revoked", actor="bo")
    assert "state green" in cli.ok("green", "INC-7", "Resolved (green)")
    cli.ok("start-report", "INC-7", "--location", "https://docs.example.com/rca", actor="di")
    out = cli.ok("action", "add", "INC-7", "alert on job failures", "--owner", "bo",
                 "--due", "2030-03-08T17:00:00+00:00", "--kind", "preventive")  # fmt: skip
    assert "action_added A1" in out
    assert "state reported" in cli.ok("mark-reported", "INC-7", "Report started")
    cli.ok("schedule", "INC-7", "--for", "2030-03-03T10:00:00+00:00", "--invite", "ana",
           "--invite", "bo", "--invite", "cy", "--invite", "di", actor="cy")  # fmt: skip
    assert "state post_mortem" in cli.ok("post-mortem", "INC-7", "Post-mortem scheduled")
    cli.ok("action", "close", "INC-7", "A1", "--note", "alert added", actor="bo")
    with open_store(cli.db) as store:
        incident = store.load("INC-7")
    assert ("post_mortem", True) == (incident.state.value, incident.why_chains["main"].root_cause)


def test_roles_priority_reopen_and_dismiss(cli: CLI) -> None:
    """hand-off, release, priority, reopen and dismiss each record their event."""
    staffed(cli)
    cli.ok("assign", "INC-7", "ic", "eve")
    assert "role_handed_off" in cli.ok("hand-off", "INC-7", "ic", "eve", "fay")
    assert "role_released" in cli.ok("release", "INC-7", "ic", "fay")
    out = cli.ok("priority", "INC-7", "P2", "--reason", "internal only", "--json")
    assert "P2" == json.loads(out)[0]["priority"]
    cli.ok("mitigate", "INC-7", "go")
    cli.ok("verify-recovery", "INC-7", "--evidence", "ok", actor="bo")
    cli.ok("yellow", "INC-7", "Resolved")
    assert "state mitigating" in cli.ok("reopen", "INC-7", "errors are back")
    cli.ok("declare", "INC-8", "--title", "Flaky alert", "--priority", "P3")
    assert "state dismissed" in cli.ok("dismiss", "INC-8", "false alarm")


def test_refusal_exits_1_naming_every_unmet_rule(cli: CLI) -> None:
    """A blocked move exits 1; stderr lists each unmet rule as `rule: detail`, no traceback."""
    cli.ok("declare", "INC-7", "--title", "Down", "--priority", "P1")
    code, out, err = cli("mitigate", "INC-7", "go")
    assert (1, "") == (code, out)
    assert err.startswith("incidentflow: INC-7 (declared): mitigate refused (TransitionBlocked)")
    for rule in ("validated", "required_links", "required_roles"):
        assert f"\n  {rule}: " in err
    assert "Traceback" not in err
    with open_store(cli.db) as store:
        assert 1 == store.version("INC-7")


def test_refusal_as_json_is_an_object_on_stderr(cli: CLI) -> None:
    """With --json a refusal is one JSON object on stderr with the kind and every unmet rule."""
    staffed(cli)
    code, out, err = cli("--json", "update", "INC-7", "hello", actor="di")
    assert (1, "") == (code, out)
    error = json.loads(err)
    assert "NotAuthorized" == error["error"]
    assert ["authorized"] == [u["rule"] for u in error["unmet"]]


def test_bad_input_exits_2(cli: CLI) -> None:
    """A naive --at, an unknown role and a malformed time are bad input, exit 2."""
    cli.ok("declare", "INC-7", "--title", "Down", "--priority", "P1")
    code, _, err = cli("note", "INC-7", "x", "--at", "2026-03-01T14:00:00")
    assert 2 == code
    assert "has no UTC offset" in err
    assert 2 == cli("assign", "INC-7", "captain", "ana")[0]
    assert 2 == cli("note", "INC-7", "x", "--at", "yesterday")[0]
    assert 2 == cli("declare", "INC-8", "--title", "x", "--priority", "P9")[0]
    with open_store(cli.db) as store:
        assert 1 == store.version("INC-7")


def test_no_actor_is_bad_input(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --actor, $INCIDENTFLOW_ACTOR or $USER, an incident command exits 2."""
    monkeypatch.delenv("USER", raising=False)
    code = main(["--db", str(cli.db), "--actor", "", "declare", "I", "--title", "t",
                 "--priority", "P1"])  # fmt: skip
    monkeypatch.delenv("INCIDENTFLOW_ACTOR", raising=False)
    code2 = main(["--db", str(cli.db), "declare", "I", "--title", "t", "--priority", "P1"])
    assert (2, 2) == (code, code2)
    assert "--actor" in cli.capsys.readouterr().err


def test_actor_falls_back_to_user(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    """$USER names the actor when neither --actor nor $INCIDENTFLOW_ACTOR does."""
    monkeypatch.delenv("INCIDENTFLOW_ACTOR", raising=False)
    monkeypatch.setenv("USER", "uma")
    assert 0 == main(["declare", "I", "--title", "t", "--priority", "P1", "--db", str(cli.db)])
    assert "by uma" in cli.capsys.readouterr().out


def test_global_options_go_before_or_after_the_subcommand(cli: CLI) -> None:
    """--db, --actor and --json are accepted on either side of the subcommand."""
    db = str(cli.db)
    assert 0 == main(["--db", db, "--actor", "zed", "declare", "I", "--title", "t",
                      "--priority", "P1"])  # fmt: skip
    assert 0 == main(["note", "I", "hi", "--actor", "zed", "--json", "--db", db])
    out = cli.capsys.readouterr().out
    assert "zed" == json.loads(out.splitlines()[-1])[0]["actor"]


def test_declaring_twice_is_a_conflict(cli: CLI) -> None:
    """Declaring an id that is already stored exits 3."""
    cli.ok("declare", "INC-7", "--title", "Down", "--priority", "P1")
    code, _, err = cli("declare", "INC-7", "--title", "Again", "--priority", "P1")
    assert 3 == code
    assert "INC-7" in err


def test_unknown_incident_exits_4(cli: CLI) -> None:
    """A command on an incident the store does not hold exits 4."""
    code, _, err = cli("note", "INC-404", "hello")
    assert 4 == code
    assert "INC-404" in err
    assert 4 == cli("status", "INC-404")[0]


def test_a_conflict_is_retried_after_reloading(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    """When another writer gets there first once, the command reloads, retries and succeeds."""
    cli.ok("declare", "INC-7", "--title", "Down", "--priority", "P1")
    real = SQLiteStore.append
    calls: list[int] = []

    def flaky(
        self: SQLiteStore, incident_id: str, events: Any, *, expected_version: int, **kw: Any
    ) -> int:
        calls.append(expected_version)
        if len(calls) == 1:
            raise Conflict(incident_id=incident_id, expected=expected_version, actual=2)
        return real(self, incident_id, events, expected_version=expected_version, **kw)

    monkeypatch.setattr(SQLiteStore, "append", flaky)
    cli.ok("note", "INC-7", "hello")
    assert [1, 1] == calls
    with open_store(cli.db) as store:
        assert 2 == store.version("INC-7")


class _FakeTime:
    """A clock that only moves when the command sleeps, recording every pause."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("error", ["conflict", "busy"])
def test_endless_conflicts_give_up_when_the_retry_budget_is_spent(
    cli: CLI, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    """Conflicts (exit 3) and a locked store (exit 5) are retried with growing, jittered
    pauses, within RETRY_BUDGET seconds, then the last error stands."""
    cli.ok("declare", "INC-7", "--title", "Down", "--priority", "P1")
    calls: list[int] = []

    def always(self: SQLiteStore, incident_id: str, events: Any, **kw: Any) -> int:
        calls.append(kw["expected_version"])
        if error == "busy":
            raise StoreBusy("database is locked")
        raise Conflict(incident_id=incident_id, expected=kw["expected_version"], actual=9)

    fake = _FakeTime()
    monkeypatch.setattr(SQLiteStore, "append", always)
    monkeypatch.setattr(_incident, "_now", fake.monotonic)
    monkeypatch.setattr(_incident, "_sleep", fake.sleep)
    code, _, err = cli("note", "INC-7", "hello", "--json")
    expected_code, kind = (3, "Conflict") if error == "conflict" else (5, "StoreBusy")
    assert (expected_code, kind) == (code, json.loads(err)["error"])
    assert len(fake.pauses) + 1 == len(calls)
    assert sum(fake.pauses) <= _incident.RETRY_BUDGET
    bounds = [min(_incident.RETRY_CAP, _incident.RETRY_FIRST * 2**n) for n in range(len(calls))]
    assert all(0 <= p <= b for p, b in zip(fake.pauses, bounds, strict=False))
    assert len(calls) > 10  # many retries, not five immediate ones


def test_declaring_an_existing_id_is_not_retried(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    """AlreadyExists stands at once: exit 3 saying the incident already exists."""
    cli.ok("declare", "INC-7", "--title", "Down", "--priority", "P1")
    fake = _FakeTime()
    monkeypatch.setattr(_incident, "_sleep", fake.sleep)
    code, _, err = cli("declare", "INC-7", "--title", "Again", "--priority", "P1")
    assert (3, [], "incidentflow: INC-7 already exists (version 1); choose another id\n") == (
        code,
        fake.pauses,
        err,
    )


def test_at_back_dates_and_the_timeline_sorts_by_occurrence(cli: CLI) -> None:
    """--at records when it happened; `timeline` lists events where they happened."""
    cli.ok("declare", "INC-7", "--title", "Down", "--priority", "P1", "--at", T0)
    cli.ok("note", "INC-7", "second", "--at", "2026-03-01T14:10:00+00:00")
    out = cli.ok("note", "INC-7", "first", "--at", "2026-03-01T16:05:00+02:00", "--json")
    assert "2026-03-01T16:05:00+02:00" == json.loads(out)[0]["occurred_at"]
    lines = cli.ok("timeline", "INC-7").splitlines()
    assert [
        ("2026-03-01", "14:00", "UTC", "declared"),
        ("2026-03-01", "14:05", "UTC", "note_added"),
        ("2026-03-01", "14:10", "UTC", "note_added"),
    ] == [(*line.split()[:3], line.split()[4]) for line in lines]
    assert "text=first" in lines[1]
    assert "(recorded " in lines[1]
    assert 3 == len(json.loads(cli.ok("timeline", "INC-7", "--json")))


def test_policy_file_changes_the_rules(cli: CLI, tmp_path: Path) -> None:
    """--policy loads a TOML policy the declaration records; a broken one exits 2."""
    policy = tmp_path / "policy.toml"
    policy.write_text('[priorities.P1]\nrequired_links = ["ticket"]\n', encoding="utf-8")
    cli.ok("declare", "INC-7", "--title", "Down", "--priority", "P1", "--policy", str(policy))
    status = json.loads(cli.ok("status", "INC-7", "--json"))
    blocked = {u["rule"]: u["detail"] for u in status["next"]["mitigating"]}
    assert "missing ticket" == blocked["required_links"]
    policy.write_text("whys_depth = 'deep'\n", encoding="utf-8")
    assert 2 == cli("note", "INC-7", "x", "--policy", str(policy))[0]
    assert 2 == cli("note", "INC-7", "x", "--policy", str(tmp_path / "missing.toml"))[0]


def test_status_shows_what_blocks_each_next_move(cli: CLI) -> None:
    """`status` shows roles, links, each next move with its unmet rules, and what is due."""
    cli.ok("declare", "INC-7", "--title", "Database is down", "--priority", "P1")
    cli.ok("assign", "INC-7", "lead", "ana")
    cli.ok("link", "INC-7", "ticket", "https://t/1")
    out = cli.ok("status", "INC-7")
    assert out.startswith("INC-7  Database is down\n")
    assert "  lead                 ana" in out
    assert "  ticket               https://t/1" in out
    assert "  → mitigating: blocked by\n      validated: the problem has not been validated" in out
    assert "required_roles: no communicator, incident_commander, recorder" in out
    assert "  → dismissed: ready" in out
    assert "update stakeholders every 30 minutes" in out
    document = json.loads(cli.ok("status", "INC-7", "--json"))
    assert ("P1", "declared", {"lead": ["ana"]}) == (
        document["priority"],
        document["state"],
        document["roles"],
    )
    assert [] == document["next"]["dismissed"]


def test_due_lists_overdue_updates_first(cli: CLI) -> None:
    """`due --at` lists each open incident's duties, overdue ones first and marked."""
    staffed(cli, "INC-7")
    cli.ok("declare", "INC-8", "--title", "Slow search", "--priority", "P2")
    cli.ok("declare", "INC-9", "--title", "False alarm", "--priority", "P3")
    cli.ok("dismiss", "INC-9", "nothing wrong")
    code, out, _ = cli("due", "--at", "2099-01-01T00:00:00+00:00")
    lines = out.splitlines()
    assert 0 == code
    assert lines[0].startswith("OVERDUE ")
    assert all(line.startswith("OVERDUE ") for line in lines if "update stakeholders" in line)
    assert {"INC-7", "INC-8"} == {line.split()[1] for line in lines}
    assert "owed by cy, bo" in out
    items = json.loads(cli.ok("due", "--json", "--at", T0))
    assert not any(item["overdue"] for item in items)
    assert "INC-9" not in {item["incident"] for item in items}


def test_list_filters_the_stored_incidents(cli: CLI) -> None:
    """`list` shows the stored incidents; --state and --priority filter them."""
    cli.ok("declare", "INC-7", "--title", "Down", "--priority", "P1")
    assert [] == json.loads(cli.ok("list", "--json", "--state", "green"))
    cli.ok("declare", "INC-8", "--title", "Slow", "--priority", "P2")
    assert ["INC-7", "INC-8"] == [line.split()[0] for line in cli.ok("list").splitlines()]
    found = json.loads(cli.ok("list", "--priority", "p2", "--state", "declared", "--json"))
    assert ["INC-8"] == [item["id"] for item in found]
    assert [] == json.loads(cli.ok("list", "--json", "--until", "2000-01-01T00:00:00+00:00"))
    assert [] == json.loads(cli.ok("list", "--json", "--since", "2199-01-01T00:00:00Z"))


def test_export_then_import_into_a_fresh_store(cli: CLI, tmp_path: Path) -> None:
    """Events exported from one store import into a fresh one and load equal."""
    staffed(cli, "INC-7")
    cli.ok("declare", "INC-8", "--title", "Slow", "--priority", "P2")
    exported = tmp_path / "all.jsonl"
    assert "to " + str(exported) in cli.ok("export", "--output", str(exported))
    assert exported.read_text(encoding="utf-8") == cli.ok("export")
    fresh = CLI(tmp_path / "fresh.db", cli.capsys, cli.monkeypatch)
    out = fresh.ok("import", str(exported))
    assert "imported 12 events of 2 incidents: INC-7, INC-8\n" == out
    with open_store(cli.db) as old, open_store(fresh.db) as new:
        assert old.load("INC-7") == new.load("INC-7")
        assert old.events("INC-8") == new.events("INC-8")
    one = fresh.ok("export", "INC-8")
    assert 1 == len(one.splitlines())


def test_import_reads_stdin(cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`import -` reads the history from standard input."""
    cli.ok("declare", "INC-7", "--title", "Down", "--priority", "P1")
    text = cli.ok("export", "INC-7")
    fresh = CLI(tmp_path / "fresh.db", cli.capsys, cli.monkeypatch)
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(text))
    assert '{"imported":["INC-7"],"events":1}\n' == fresh.ok("import", "-", "--json")


def test_import_is_all_or_nothing(cli: CLI, tmp_path: Path) -> None:
    """When the second incident of a file breaks a rule, nothing at all is written (exit 5)."""
    staffed(cli, "INC-7")
    cli.ok("declare", "INC-8", "--title", "Slow", "--priority", "P1")
    lines = cli.ok("export").splitlines()
    broken_move = {**json.loads(lines[1]), "type": "state_changed"}
    broken_move = {
        k: v for k, v in broken_move.items() if k in ("schema", "type", "actor", "occurred_at",
                                                     "recorded_at")
    } | {"incident_id": "INC-8", "source": "declared", "target": "mitigating",
         "message": "go"}  # fmt: skip
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([*lines, json.dumps(broken_move)]) + "\n", encoding="utf-8")
    fresh = CLI(tmp_path / "fresh.db", cli.capsys, cli.monkeypatch)
    code, _, err = fresh("import", str(path))
    assert 5 == code
    assert f"line {len(lines) + 1} (incident INC-8, event 2): " in err
    assert "required_roles: " in err
    with open_store(fresh.db) as store:
        assert [] == store.incidents()


def test_import_of_an_existing_incident_is_a_conflict(cli: CLI, tmp_path: Path) -> None:
    """Importing an incident the store already holds exits 3 and writes none of the file."""
    cli.ok("declare", "INC-7", "--title", "Down", "--priority", "P1")
    path = tmp_path / "one.jsonl"
    cli.ok("export", "--output", str(path))
    other = CLI(tmp_path / "other.db", cli.capsys, cli.monkeypatch)
    other.ok("declare", "INC-6", "--title", "Earlier", "--priority", "P3")
    path.write_text(other.ok("export") + path.read_text(encoding="utf-8"), encoding="utf-8")
    code, _, err = cli("import", str(path))
    assert 3 == code
    assert "INC-7" in err
    with open_store(cli.db) as store:
        assert ["INC-7"] == [s.incident_id for s in store.incidents()]


def test_validate_ok_broken_and_malformed(cli: CLI, tmp_path: Path) -> None:
    """`validate` says ok (0), names the line and rule a history breaks (5), or the bad line (2)."""
    staffed(cli, "INC-7")
    lines = cli.ok("export").splitlines()
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert f"ok: {len(lines)} events, 1 incident\n" == cli.ok("validate", str(path))
    doubled = [lines[0], lines[1], lines[1]]  # the same Lead assigned twice
    path.write_text("\n".join(doubled) + "\n", encoding="utf-8")
    code, out, err = cli("validate", str(path))
    assert (5, "") == (code, out)
    assert err.startswith("incidentflow: line 3 (incident INC-7, event 3): ")
    path.write_text(lines[0] + "\n{not json\n", encoding="utf-8")
    code, _, err = cli("validate", str(path), "--json")
    assert 2 == code
    assert "line 2" in json.loads(err)["message"]
    assert 2 == cli("validate", str(tmp_path / "missing.jsonl"))[0]
    with open_store(cli.db) as store:
        assert 1 == len(store.incidents())


def test_validate_refuses_an_incident_declared_twice(cli: CLI, tmp_path: Path) -> None:
    """Two declarations of one id in a file break the history (exit 5)."""
    cli.ok("declare", "INC-7", "--title", "Down", "--priority", "P1")
    line = cli.ok("export")
    path = tmp_path / "twice.jsonl"
    path.write_text(line + line, encoding="utf-8")
    code, _, err = cli("validate", str(path))
    assert 5 == code
    assert "line 2 (incident INC-7, event 1): declared_once" in err


def test_verify_ok_then_tampered(cli: CLI) -> None:
    """`verify` says the chain is ok, then exits 5 naming a row changed behind its back."""
    staffed(cli, "INC-7")
    assert cli.ok("verify").startswith("chain ok: 1 incident checked (unkeyed chain)\n")
    document = json.loads(cli.ok("verify", "INC-7", "--json"))
    assert (True, [], 1, False) == (
        document["ok"],
        document["breaks"],
        document["checked"],
        document["keyed"],
    )
    connection = sqlite3.connect(cli.db)
    with connection:
        connection.execute("DROP TRIGGER events_no_update")
        connection.execute(
            "UPDATE events SET line = replace(line, 'ana', 'eve') "
            "WHERE incident_id = 'INC-7' AND version = 2"
        )
    connection.close()
    code, _, err = cli("verify")
    assert 5 == code
    assert "  INC-7 event 2: changed" in err
    assert 5 == cli("status", "INC-7")[0]


def test_diagram_and_help_of_every_subcommand(capsys: Any) -> None:
    """`diagram` prints Mermaid; every subcommand's --help ends with an example."""
    assert 0 == main(["diagram"])
    assert "stateDiagram" in capsys.readouterr().out
    for args in (["declare"], ["experiment", "start"], ["action", "add"], ["import"], ["due"]):
        with pytest.raises(SystemExit) as info:
            main([*args, "--help"])
        assert 0 == info.value.code
        assert "example:\n  incidentflow " + args[0] in capsys.readouterr().out


def test_a_group_without_its_subcommand_is_usage(capsys: Any) -> None:
    """`incidentflow debt` without open/close prints usage and exits 2."""
    assert 2 == main(["debt"])
    assert "usage: incidentflow" in capsys.readouterr().err


def test_demo_without_db_writes_no_incidents_db(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo saves to a throwaway store unless --db is given; ./incidents.db is untouched."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INCIDENTFLOW_DB", raising=False)
    assert 0 == main(["demo"])
    assert "throwaway store" in capsys.readouterr().out
    assert [] == list(tmp_path.iterdir())


def test_demo_with_db_saves_the_incident(cli: CLI) -> None:
    """`demo --db` saves the demo incident; a second run into the same store is a conflict."""
    code, out, _ = cli("demo")
    assert 0 == code
    assert f"Saved INC-1042 to {cli.db}" in out
    with open_store(cli.db) as store:
        assert "post_mortem" == store.load("INC-1042").state.value
    assert 3 == cli("demo")[0]


def test_help_imports_no_store_sqlite_or_cattrs() -> None:
    """`incidentflow --help` loads neither the store, sqlite3, cattrs nor json."""
    script = (
        "import sys\n"
        "sys.argv = ['incidentflow', '--help']\n"
        "from incidentflow.cli import main\n"
        "try:\n    main()\n"
        "except SystemExit:\n    pass\n"
        "heavy = ['incidentflow.store', 'sqlite3', 'cattrs', 'json', 'incidentflow.codec']\n"
        "print([m for m in heavy if m in sys.modules], file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert "usage: incidentflow" in result.stdout
    assert "[]\n" == result.stderr


def test_due_includes_action_items_of_closed_incidents(cli: CLI) -> None:
    """A dismissed (or post-mortem) incident still owes its open action items."""
    cli.ok("declare", "INC-3", "--title", "Alert storm", "--priority", "P3")
    cli.ok(
        "action", "add", "INC-3", "tune the alert", "--owner", "bo",
        "--due", "2026-12-31T17:00:00+00:00", "--kind", "preventive",
    )  # fmt: skip
    cli.ok("dismiss", "INC-3", "false alarm")
    out = cli.ok("due", "--at", "2026-12-01T00:00:00+00:00")
    assert "INC-3  preventive action A1: tune the alert (owed by bo)" in out
