"""The dispatch and deliveries commands, run in-process."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pytest

import receivers
from incidentflow.cli import main
from receivers import Receiver, running
from waiting import wait_for


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store holding INC-7, found through INCIDENTFLOW_DB."""
    db = tmp_path / "incidents.db"
    monkeypatch.setenv("INCIDENTFLOW_DB", str(db))
    monkeypatch.setenv("INCIDENTFLOW_ACTOR", "ana")
    monkeypatch.delenv("INCIDENTFLOW_CONFIG", raising=False)
    assert 0 == main(["declare", "INC-7", "--title", "Database is down", "--priority", "P2"])
    return db


def sinks(tmp_path: Path, url: str) -> str:
    """A sinks file with one webhook."""
    path = tmp_path / "sinks.toml"
    path.write_text(f'[sinks.hooks]\ntype = "webhook"\nurl = "{url}"\n', encoding="utf-8")
    return str(path)


def test_dispatch_once_reports_what_it_did_as_json(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--once --json prints the counts of one pass."""
    hooks = Receiver(receivers.ok)
    config = sinks(tmp_path, f"{hooks.url}/in")
    capsys.readouterr()
    with running(hooks):
        assert 0 == main(["dispatch", "--once", "--config", config, "--json"])
    assert {
        "enqueued": 1,
        "reminders": 0,
        "delivered": 1,
        "failed": 0,
        "dead": 0,
        "undelivered": 0,
    } == json.loads(capsys.readouterr().out)


def test_dispatch_follow_stops_gracefully_on_sigterm(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--follow delivers, then SIGTERM ends it with exit 0 and its counts."""
    hooks = Receiver(receivers.ok)
    monkeypatch.setenv("INCIDENTFLOW_CONFIG", sinks(tmp_path, f"{hooks.url}/in"))

    def stop_when_delivered() -> None:
        try:  # then ends the dispatcher either way: the assertions below say what it did
            wait_for(lambda: hooks.delivered, "a delivery", within=60, every=0.02)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    capsys.readouterr()
    stopper = threading.Thread(target=stop_when_delivered)
    with running(hooks):
        stopper.start()
        assert 0 == main(["dispatch", "--follow", "--poll", "0.05"])
        stopper.join()
    assert "1 delivered" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_deliveries_list_retry_and_discard(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dead delivery is listed (text and JSON), retried, discarded; usage errors exit 2."""
    hooks = Receiver(lambda call: (400, {}, {"error": "no"}))
    config = sinks(tmp_path, f"{hooks.url}/in")
    with running(hooks):
        assert 0 == main(["dispatch", "--once", "--config", config])
    capsys.readouterr()
    assert 0 == main(["deliveries", "--json"])
    (dead,) = json.loads(capsys.readouterr().out)
    assert ("hooks", "INC-7", "dead", 1) == (
        dead["sink"],
        dead["incident"],
        dead["status"],
        dead["attempts"],
    )
    assert 0 == main(["deliveries", "--sink", "hooks", "--incident", "INC-7"])
    assert "dead (1 attempt) — POST" in capsys.readouterr().out
    assert 0 == main(["deliveries", "retry", dead["key"], "--json"])
    assert {"retry": [dead["key"]]} == json.loads(capsys.readouterr().out)
    assert 0 == main(["deliveries", "--status", "pending"])
    assert "pending (0 attempts)" in capsys.readouterr().out
    assert 0 == main(["deliveries", "discard", dead["key"]])
    assert "1 delivery discarded\n" == capsys.readouterr().out
    assert 0 == main(["deliveries"])
    assert "no deliveries\n" == capsys.readouterr().out
    assert 2 == main(["deliveries", "retry"])
    assert "name the deliveries to retry" in capsys.readouterr().err
    assert 2 == main(["deliveries", "list", "msg_x"])
    assert "list takes no KEY" in capsys.readouterr().err


def test_bad_dispatch_options_and_a_missing_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A negative --max-wait is bad input; listing deliveries of no store is exit 5."""
    monkeypatch.setenv("INCIDENTFLOW_ACTOR", "ana")
    config = sinks(tmp_path, "http://127.0.0.1:9/in")
    assert 2 == main(["dispatch", "--once", "--config", config, "--max-wait", "-1"])
    assert 5 == main(["deliveries", "--db", str(tmp_path / "none.db")])
    assert not (tmp_path / "none.db").exists()
    assert 2 == main(["dispatch", "--once"])
    assert "INCIDENTFLOW_CONFIG" in capsys.readouterr().err
