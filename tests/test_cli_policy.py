"""The command line and the recorded policy: --policy declares and adopts, nothing else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidentflow import DEFAULT_POLICY, Policy, codec
from incidentflow.store import open_store
from incidentflow.testing import policies
from terminal import CLI

OPEN = (
    'name = "open"\n[authorization]\nvalidate = "anyone"\nmitigate = "anyone"\n'
    'assign = "anyone"\nadopt_policy = "anyone"\n'
)
STRICT = (
    'name = "strict"\nwhys_depth = 9\n[priorities.P3]\nrequired_links = ["ticket", "war_room"]\n'
    'required_roles = ["incident_commander", "lead", "recorder", "communicator"]\n'
    '[authorization]\nnote = ["lead"]\n'
)


@pytest.fixture
def cli(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> CLI:
    """A command line bound to a fresh store in tmp_path."""
    return CLI(tmp_path / "incidents.db", capsys, monkeypatch)


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _mitigating_p3(cli: CLI) -> None:
    cli.ok("declare", "INC-1", "--title", "Deploys fail", "--priority", "P3")
    cli.ok("assign", "INC-1", "ic", "bo")
    cli.ok("confirm", "INC-1", "--evidence", "queue stuck", actor="bo")
    cli.ok("link", "INC-1", "ticket", "https://t.example.com/1")
    cli.ok("mitigate", "INC-1", "draining", actor="bo")


def _events(cli: CLI, incident: str = "INC-1") -> list[Any]:
    with open_store(cli.db) as store:
        return store.events(incident)


def test_a_permissive_policy_file_cannot_rewrite_the_rules(cli: CLI, tmp_path: Path) -> None:
    """Regression: --policy open.toml no longer lets a stranger mitigate a pinned incident."""
    cli.ok("declare", "INC-1", "--title", "Deploys fail", "--priority", "P3")
    cli.ok("assign", "INC-1", "ic", "bo")
    open_file = _file(tmp_path, "open.toml", OPEN)
    code, out, err = cli("confirm", "INC-1", "--evidence", "x", "--policy", open_file, actor="zed")
    assert (1, "") == (code, out)
    digest = DEFAULT_POLICY.digest
    assert err.startswith(
        f"incidentflow: note: INC-1 runs under its recorded policy default ({digest}), not "
        f"{open_file}; to change it: incidentflow adopt-policy INC-1 --policy {open_file}\n"
    )
    assert "zed must hold incident_commander or lead to confirm" in err
    assert 2 == len(_events(cli))


def test_changing_the_team_policy_never_makes_an_old_incident_unreadable(
    cli: CLI, tmp_path: Path
) -> None:
    """Regression: after the team's TOML tightens, every command reads old incidents as before."""
    team = _file(tmp_path, "team.toml", "whys_depth = 5\n")
    cli.ok("declare", "INC-1", "--title", "Deploys fail", "--priority", "P3", "--policy", team)
    cli.ok("assign", "INC-1", "ic", "bo", "--policy", team)
    cli.ok("confirm", "INC-1", "--evidence", "queue stuck", "--policy", team, actor="bo")
    cli.ok("link", "INC-1", "ticket", "https://t.example.com/1", "--policy", team)
    cli.ok("mitigate", "INC-1", "draining", "--policy", team, actor="bo")
    before = _events(cli)
    Path(team).write_text(STRICT, encoding="utf-8")  # the team tightens its policy
    for command in (
        ["status", "INC-1"],
        ["timeline", "INC-1"],
        ["due"],
        ["stats"],
        ["report", "INC-1"],
        ["update", "INC-1"],
        ["verify"],
        ["list"],
    ):
        code, _, err = cli(*command, "--policy", team)
        assert 0 == code, (command, err)
    code, _out, err = cli("note", "INC-1", "still draining", "--policy", team, actor="eli")
    assert 0 == code, err
    assert "runs under its recorded policy team" in err
    assert before == _events(cli)[:-1]


def test_many_incidents_get_one_note(cli: CLI, tmp_path: Path) -> None:
    """A command over several pinned incidents says so in one line, not one per incident."""
    cli.ok("declare", "INC-1", "--title", "One", "--priority", "P3")
    cli.ok("declare", "INC-2", "--title", "Two", "--priority", "P3")
    strict = _file(tmp_path, "strict.toml", STRICT)
    code, _, err = cli("due", "--policy", strict)
    assert 0 == code
    assert [
        f"incidentflow: note: 2 incidents run under their recorded policies, not {strict} (see "
        f"status INCIDENT); to change one: incidentflow adopt-policy INCIDENT --policy {strict}"
    ] == err.splitlines()


def test_the_recorded_policy_needs_no_note(cli: CLI, tmp_path: Path) -> None:
    """Giving the very policy an incident records prints nothing extra."""
    strict = _file(tmp_path, "strict.toml", STRICT)
    cli.ok("declare", "INC-1", "--title", "One", "--priority", "P3", "--policy", strict)
    cli.ok("status", "INC-1", "--policy", strict)


def test_status_shows_the_policy(cli: CLI, tmp_path: Path) -> None:
    """`status` names the policy and its digest, in text and JSON."""
    strict = _file(tmp_path, "strict.toml", STRICT)
    cli.ok("declare", "INC-1", "--title", "One", "--priority", "P3", "--policy", strict)
    digest = Policy.load(strict).digest
    assert f"  policy    strict  {digest}\n" in cli.ok("status", "INC-1")
    document = json.loads(cli.ok("status", "INC-1", "--json"))
    assert {"name": "strict", "digest": digest, "recorded": True} == document["policy"]


def test_timeline_shows_a_recorded_policy_by_name_and_digest(cli: CLI) -> None:
    """The timeline names the recorded policy instead of printing its whole text."""
    cli.ok("declare", "INC-1", "--title", "One", "--priority", "P3")
    line = cli.ok("timeline", "INC-1").splitlines()[0]
    assert line.endswith(f'policy="default {DEFAULT_POLICY.digest}"')


def test_adopt_policy_records_the_new_policy(cli: CLI, tmp_path: Path) -> None:
    """`adopt-policy` records policy_adopted when the policy in force allows; then it applies."""
    cli.ok("declare", "INC-1", "--title", "Deploys fail", "--priority", "P3")
    cli.ok("assign", "INC-1", "ic", "bo")
    open_file = _file(tmp_path, "open.toml", OPEN)
    code, out, err = cli("adopt-policy", "INC-1", "--policy", open_file, actor="zed")
    assert (1, "") == (code, out)
    assert "zed must hold incident_commander to adopt-policy" in err
    assert "note:" not in err
    out = cli.ok("adopt-policy", "INC-1", "--policy", open_file, actor="bo")
    assert "INC-1: recorded policy_adopted by bo (version 3, state declared)\n" == out
    cli.ok("confirm", "INC-1", "--evidence", "x", actor="zed")  # the open policy applies now
    code, _, err = cli("adopt-policy", "INC-1", "--policy", open_file, actor="bo")
    assert 1 == code
    assert "policy_differs" in err
    status = json.loads(cli.ok("status", "INC-1", "--json"))
    assert ("open", True) == (status["policy"]["name"], status["policy"]["recorded"])


def test_adopt_policy_needs_a_policy_file(cli: CLI) -> None:
    """`adopt-policy` without --policy is bad input (exit 2) and writes nothing."""
    cli.ok("declare", "INC-1", "--title", "One", "--priority", "P3")
    code, _, err = cli("adopt-policy", "INC-1")
    assert (2, "incidentflow: adopt-policy needs the policy to adopt: --policy FILE\n") == (
        code,
        err,
    )
    assert 1 == len(_events(cli))


def test_a_legacy_incident_runs_under_the_policy_given(cli: CLI, tmp_path: Path) -> None:
    """A stored history that records no policy still loads, under --policy or the default."""
    cli.ok("declare", "INC-1", "--title", "One", "--priority", "P3")
    (declared,) = _events(cli)
    legacy = attrs.evolve(declared, policy=None)
    history = tmp_path / "legacy.jsonl"
    history.write_text(
        codec.dumps(attrs.evolve(legacy, incident_id="OLD-1")) + "\n", encoding="utf-8"
    )
    assert '"policy"' not in history.read_text(encoding="utf-8")
    cli.ok("import", str(history))
    text = cli.ok("status", "OLD-1")
    assert f"  policy    default  {DEFAULT_POLICY.digest}  (not recorded: from --policy)" in text
    open_file = _file(tmp_path, "open.toml", OPEN)
    cli.ok("confirm", "OLD-1", "--evidence", "x", "--policy", open_file, actor="zed")
    document = json.loads(cli.ok("status", "OLD-1", "--json", "--policy", open_file))
    assert {"name": "open", "digest": Policy.load(open_file).digest, "recorded": False} == (
        document["policy"]
    )
    cli.ok("adopt-policy", "OLD-1", "--policy", open_file, actor="zed")
    assert 0 == cli("note", "OLD-1", "pinned now", actor="zed")[0]


def test_import_replays_a_pinned_history_under_its_own_policy(cli: CLI, tmp_path: Path) -> None:
    """Regression: import --policy cannot smuggle in events the recorded policy refuses."""
    cli.ok("declare", "INC-1", "--title", "One", "--priority", "P3")
    cli.ok("assign", "INC-1", "ic", "bo")
    lines = cli.ok("export", "INC-1").splitlines()
    forged = json.loads(lines[-1])
    forged.update(
        type="validated", actor="zed", evidence="forged", impact="", role=None, holder=None
    )
    del forged["role"], forged["holder"]
    history = tmp_path / "forged.jsonl"
    history.write_text("\n".join([*lines, json.dumps(forged)]) + "\n", encoding="utf-8")
    open_file = _file(tmp_path, "open.toml", OPEN)
    for command in ("validate", "import"):
        code, _, err = cli(
            command, str(history), "--policy", open_file, "--db", str(tmp_path / "other.db")
        )
        assert 5 == code
        assert "line 3 (incident INC-1, event 3): authorized:" in err


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(given_policy=policies(), command=st.sampled_from(["note", "confirm", "mitigate", "assign"]))
def test_no_policy_file_changes_an_existing_incident(
    cli: CLI, tmp_path: Path, given_policy: Policy, command: str
) -> None:
    """For any --policy, a command on a pinned incident does exactly what it does without it."""
    path = _file(tmp_path, "given.toml", given_policy.to_toml())
    store = tmp_path / "incidents.db"
    outcomes = []
    for extra in ([], ["--policy", path]):
        store.unlink(missing_ok=True)
        cli.ok(
            "declare",
            "INC-1",
            "--title",
            "One",
            "--priority",
            "P3",
            "--at",
            "2026-03-01T14:00:00+00:00",
        )
        cli.ok("assign", "INC-1", "ic", "bo", "--at", "2026-03-01T14:01:00+00:00")
        arguments = {
            "note": ["note", "INC-1", "a note"],
            "confirm": ["confirm", "INC-1", "--evidence", "seen"],
            "mitigate": ["mitigate", "INC-1", "go"],
            "assign": ["assign", "INC-1", "lead", "zed"],
        }[command]
        code, out, _ = cli(*arguments, *extra, "--at", "2026-03-01T14:02:00+00:00", actor="zed")
        recorded = [codec.to_dict(e) for e in _events(cli)]
        outcomes.append((code, out, [{**e, "recorded_at": None} for e in recorded]))
    assert outcomes[0] == outcomes[1]
