"""The command line for past incidents: milestones on declare, impact, approximate times,
policy list, status measures and stats by the highest priority."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from incidentflow import ImpactLevel
from incidentflow.store import open_store
from terminal import CLI


@pytest.fixture
def cli(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> CLI:
    """A command line bound to a fresh store in tmp_path."""
    return CLI(tmp_path / "incidents.db", capsys, monkeypatch)


def declare(cli: CLI) -> None:
    """A 2019 outage recorded today under the retrospective policy."""
    cli.ok(
        "declare", "CF-1", "--title", "Proxies return 502", "--priority", "P0",
        "--policy", "retrospective",
        "--at", "2019-07-02T13:52:00+00:00",
        "--began", "~2019-07-02T13:42:00+00:00",
        "--detected", "2019-07-02T13:45:00+00:00",
        "--detection", "alert", "--detected-by", "WAF error-rate alert",
    )  # fmt: skip


def test_declare_takes_onset_detection_and_declaration(cli: CLI) -> None:
    """--began (approximate here), --detected and how; --at is when it was declared."""
    declare(cli)
    status = json.loads(cli.ok("status", "CF-1", "--json"))
    assert {
        "began_at": "2019-07-02T13:42:00+00:00",
        "detected_at": "2019-07-02T13:45:00+00:00",
        "declared_at": "2019-07-02T13:52:00+00:00",
        "detection": "alert",
        "detected_by": "WAF error-rate alert",
        "approximate": ["began_at"],
    } == {key: status[key] for key in (
        "began_at", "detected_at", "declared_at", "detection", "detected_by", "approximate"
    )}  # fmt: skip
    assert "retrospective" == status["policy"]["name"]


def test_status_shows_approximate_times_and_late_recording(cli: CLI) -> None:
    """≈ marks an approximate time; a declaration recorded later says so."""
    declare(cli)
    out = cli.ok("status", "CF-1")
    assert "  began     ≈2019-07-02 13:42 UTC    version 1\n" in out
    assert "  detected  2019-07-02 13:45 UTC  (alert, WAF error-rate alert)\n" in out
    assert "  declared  2019-07-02 13:52 UTC  (recorded late, " in out


def test_declare_at_latest_records_a_declaration_time_not_known(cli: CLI) -> None:
    """--at-latest: the declaration time is not known, no later than the time given; status says
    so, --json has declared_at null, the bound apart, and time_to_declare null."""
    cli.ok(
        "declare", "FY-1", "--title", "Edge errors", "--priority", "P0",
        "--policy", "retrospective",
        "--began", "2021-06-08T09:47:00+00:00", "--detected", "2021-06-08T09:48:00+00:00",
        "--at-latest", "2021-06-08T09:58:00+00:00",
    )  # fmt: skip
    out = cli.ok("status", "FY-1")
    assert "  declared  not known (by 2021-06-08 09:58 UTC)  (recorded late, " in out
    status = json.loads(cli.ok("status", "FY-1", "--json"))
    assert (None, "2021-06-08T09:58:00+00:00", None, 60.0) == (
        status["declared_at"],
        status["declared_at_latest"],
        status["measures"]["time_to_declare"],
        status["measures"]["time_to_detect"],
    )
    assert "by 2021-06-08 09:58 UTC" in cli.ok("timeline", "FY-1")
    declare(cli)
    assert None is json.loads(cli.ok("status", "CF-1", "--json"))["declared_at_latest"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--at", "2021-06-08T09:58:00+00:00"), "not both"),
        ((), "give began"),
    ],
)
def test_declare_at_latest_needs_an_onset_and_no_at(
    cli: CLI, args: tuple[str, ...], message: str
) -> None:
    """--at-latest with --at, or with nothing for the onset to default to: exit 2, no incident."""
    code, out, err = cli(
        "declare", "FY-1", "--title", "Edge errors", "--priority", "P0",
        "--at-latest", "2021-06-08T09:58:00+00:00", *args,
    )  # fmt: skip
    assert (2, "") == (code, out)
    assert message in err
    with open_store(cli.db) as store:
        assert [] == list(store.incidents())


def test_data_loss_without_a_window(cli: CLI) -> None:
    """data-loss without --from and --to: a loss whose window is not known."""
    declare(cli)
    cli.ok("data-loss", "CF-1", "webhook payloads", "--amount", "about 200,000")
    with open_store(cli.db) as store:
        loss = store.load("CF-1").data_losses["L1"]
    assert (None, None, "about 200,000") == (loss.window_start, loss.window_end, loss.amount)


def test_impact_records_the_timeline(cli: CLI) -> None:
    """`impact` with level, description, components, share and an approximate --at."""
    declare(cli)
    out = cli.ok(
        "impact", "CF-1", "major_outage", "502 on every proxied site",
        "--component", "proxy", "--component", "waf", "--share", "80%",
        "--at", "~2019-07-02T13:42:00+00:00",
    )  # fmt: skip
    assert "CF-1: recorded impact_changed by ana (version 2, state declared)\n" == out
    cli.ok("impact", "CF-1", "operational", "--at", "2019-07-02T14:09:00+00:00")
    with open_store(cli.db) as store:
        first = store.load("CF-1").impact_timeline[0]
    assert (ImpactLevel.MAJOR_OUTAGE, ("proxy", "waf"), 80, ("occurred_at",)) == (
        first.level,
        first.components,
        first.share,
        first.approximate,
    )
    text = cli.ok("status", "CF-1")
    assert "Impact:\n  ≈2019-07-02 13:42 UTC  major_outage  80%  proxy, waf  502 on" in text
    status = json.loads(cli.ok("status", "CF-1", "--json"))
    assert ("operational", 1620.0) == (status["impact"], status["measures"]["impact_duration"])
    assert ["major_outage", "operational"] == [p["level"] for p in status["impact_timeline"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("impact", "CF-1", "sideways"), "is not an impact level"),
        (("impact", "CF-1", "degraded", "--share", "101"), "percentage from 0 to 100"),
        (("impact", "CF-1", "degraded", "--share", "lots"), "not a percentage"),
        (("impact", "CF-1", "degraded", "--at", "~2019-07-02T13:42:00"), "no UTC offset"),
    ],
)
def test_bad_impact_input_is_exit_2(cli: CLI, args: tuple[str, ...], message: str) -> None:
    """A bad level, share or time is bad input, exit 2, and nothing is recorded."""
    declare(cli)
    code, out, err = cli(*args)
    assert (2, "") == (code, out)
    assert message in err
    with open_store(cli.db) as store:
        assert 1 == len(store.events("CF-1"))


def test_status_json_has_the_measures(cli: CLI) -> None:
    """status --json: every measure in seconds, null when unknown, and the approximate ones."""
    declare(cli)
    measures = json.loads(cli.ok("status", "CF-1", "--json"))["measures"]
    assert (180.0, 420.0, None, None) == (
        measures["time_to_detect"],
        measures["time_to_declare"],
        measures["time_to_green"],
        measures["impact_by_level"],
    )
    assert ["time_to_detect"] == measures["approximate"]
    assert (0, None) == (measures["data_losses"], measures["data_loss_window"])


def test_policy_list_names_the_built_in_policies(cli: CLI) -> None:
    """`policy list` prints each built-in policy and what it is for; --json gives digests."""
    out = cli.ok("policy", "list")
    assert ["default", "permissive", "retrospective"] == [
        line.split()[0] for line in out.splitlines()
    ]
    listed = json.loads(cli.ok("policy", "list", "--json"))
    assert all(item["digest"].startswith("sha256:") for item in listed)


def test_a_policy_file_wins_over_a_built_in_name(
    cli: CLI, tmp_path: Path, monkeypatch: Any
) -> None:
    """--policy NAME is the built-in policy unless a file of that name exists."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "retrospective").write_text('name = "ours"\n', encoding="utf-8")
    cli.ok("declare", "INC-1", "--title", "t", "--priority", "P3", "--policy", "retrospective")
    assert "ours" == json.loads(cli.ok("status", "INC-1", "--json"))["policy"]["name"]


def test_action_without_owner_or_due_follows_the_policy(cli: CLI) -> None:
    """Retrospective: an action item may lack owner and due; the default policy refuses, exit 1."""
    declare(cli)
    cli.ok("action", "add", "CF-1", "add a canary stage", "--kind", "preventive")
    cli.ok("declare", "INC-2", "--title", "t", "--priority", "P3")
    code, _, err = cli("action", "add", "INC-2", "x", "--kind", "corrective")
    assert 1 == code
    assert "action_owner_and_due" in err


def test_timeline_marks_precursors_and_approximate_times(cli: CLI) -> None:
    """A change before the onset reads "(before impact)"; an approximate time starts with ≈."""
    declare(cli)
    cli.ok("change", "log", "CF-1", "--what", "pushed a WAF rule", "--where", "global",
           "--revert", "roll back", "--at", "~2019-07-02T13:40:00+00:00")  # fmt: skip
    first = cli.ok("timeline", "CF-1").splitlines()[0]
    assert first.startswith("≈2019-07-02 13:40 UTC  ana")
    assert first.endswith("(before impact)")


def test_stats_by_the_highest_priority(cli: CLI) -> None:
    """stats --by highest_priority groups an incident lowered from P0 under P0."""
    declare(cli)
    cli.ok("priority", "CF-1", "P2", "--reason", "EU only", "--at", "2019-07-02T14:00:00+00:00")
    data = json.loads(cli.ok("stats", "--json", "--by", "highest_priority",
                             "--at", "2199-12-06T00:00:00+00:00"))  # fmt: skip
    counts = {g["priority"]: g["incidents"] for g in data["groups"]}
    assert (1, 0) == (counts["P0"], counts["P2"])
