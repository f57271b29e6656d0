"""End to end: the real `incidentflow dispatch` against fake receivers on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import receivers
from incidentflow import Incident, Priority
from incidentflow.integrations import delivery_key
from incidentflow.store import SQLiteStore
from postgres import Cluster
from receivers import Receiver, running
from test_integrations_sinks import verify_standard_webhook
from waiting import wait_for

HOOK_SECRET = "whsec_" + base64.b64encode(b"SECRET-hook-signing-key-0005!!!!").decode()


def free_port() -> int:
    """A port nothing listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Shell:
    """The command line on one store, with the sinks' secrets in the environment."""

    def __init__(self, tmp_path: Path, secrets: dict[str, str]) -> None:
        self.db = tmp_path / "incidents.db"
        self.config = tmp_path / "sinks.toml"
        self.env = {
            **os.environ,
            **secrets,
            "INCIDENTFLOW_DB": str(self.db),
            "INCIDENTFLOW_ACTOR": "ana",
            "INCIDENTFLOW_CONFIG": str(self.config),
            "PYTHONIOENCODING": "utf-8",
        }
        self.outputs: list[str] = []

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "incidentflow", *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``incidentflow ARGS``; its output is kept for the secrets check."""
        done = subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=self.env,
            check=False,
            timeout=120,
        )
        self.outputs += [done.stdout, done.stderr]
        return done

    def ok(self, *args: str) -> str:
        """Run a command that must succeed."""
        done = self.run(*args)
        assert 0 == done.returncode, (args, done.stdout, done.stderr)
        return done.stdout

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start a long-running command."""
        return subprocess.Popen(
            self.command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=self.env,
        )

    def links(self) -> dict[str, tuple[str, str]]:
        """INC-7's links, read from the store: kind → (url, who linked it)."""
        with SQLiteStore(self.db, read_only=True) as store:
            incident = store.load("INC-7")
        return {k.value: (v.url, v.actor) for k, v in incident.links.items()}


def test_a_p1_walk_reaches_every_sink_through_failures_and_a_dead_sink(tmp_path: Path) -> None:
    """Every command succeeds while one sink is down; the others get every call, in order,
    through 500s, a 429 with Retry-After, a timeout and Slack's ok:false; the ticket and
    the announcement the sinks create are linked back and meet the runbook's rules; no
    secret reaches the store, the output or the dispatcher's log."""
    slack, jira, pager, status, hooks = (
        Receiver(receivers.slack),
        Receiver(receivers.Jira()),
        Receiver(receivers.pagerduty),
        Receiver(receivers.statuspage),
        Receiver(receivers.ok),
    )
    secrets = {
        "SLACK_TOKEN": "xoxb-SECRET-slack-0001",
        "JIRA_TOKEN": "SECRET-jira-0002",
        "PD_KEY": "SECRET-pd-0003",
        "SP_KEY": "SECRET-sp-0004",
        "HOOK_SECRET": HOOK_SECRET,
        "HOOK_URL": f"{hooks.url}/in/SECRET-url-0006",
        "DEAD_URL": f"http://127.0.0.1:{free_port()}/SECRET-dead-0007",
    }
    shell = Shell(tmp_path, secrets)
    shell.config.write_text(
        f"""
[retry]
base = 0.05
max_delay = 0.3
max_attempts = 1000

[sinks.chat]
type = "slack"
token_env = "SLACK_TOKEN"
channel = "#tech-outage"
api_url = "{slack.url}/api"
actor = "slack-bot"

[sinks.tickets]
type = "jira"
base_url = "{jira.url}"
email = "bot@acme.test"
token_env = "JIRA_TOKEN"
project = "OPS"
actor = "jira-bot"

[sinks.pager]
type = "pagerduty"
url = "{pager.url}/v2/enqueue"
token_env = "PD_KEY"

[sinks.status]
type = "statuspage"
api_url = "{status.url}/v1"
page_id = "pg1"
token_env = "SP_KEY"
components = ["c1"]
actor = "status-bot"

[sinks.hooks]
type = "webhook"
url_env = "HOOK_URL"
secret_env = "HOOK_SECRET"
timeout = 0.3

[sinks.down]
type = "webhook"
url_env = "DEAD_URL"
timeout = 0.3
""",
        encoding="utf-8",
    )
    hooks.failures["/in/SECRET-url-0006"] = [
        (500, {}, {}),
        (429, {"retry-after": "1"}, {}),
        0.6,  # answered after the client's 0.3 s timeout
    ]
    slack.failures["/api/chat.postMessage"] = [(200, {}, {"ok": False, "error": "ratelimited"})]
    pager.failures["/v2/enqueue"] = [(503, {}, {})]
    jira.failures["/rest/api/3/issue"] = [(500, {}, {"errorMessages": ["down"]})]

    with running(slack, jira, pager, status, hooks):
        shell.ok("declare", "INC-7", "--title", "Database is down", "--priority", "P1")
        for role, person in (
            ("lead", "ana"),
            ("ic", "bo"),
            ("communicator", "cy"),
            ("recorder", "di"),
        ):
            shell.ok("assign", "INC-7", role, person)
        shell.ok("confirm", "INC-7", "--evidence", "primary refuses connections")
        follower = shell.start("dispatch", "--follow", "--poll", "0.2")
        wait_for(lambda: {"ticket", "announcement"} <= set(shell.links()), "the links back")
        shell.ok("link", "INC-7", "war_room", "https://chat.example/war-7")
        shell.ok("mitigate", "INC-7", "failing over")
        shell.ok("update", "INC-7", "failover under way", "--actor", "cy")
        shell.ok("note", "INC-7", "replica promoted")
        shell.ok("verify-recovery", "INC-7", "--evidence", "error rate flat")
        shell.ok("yellow", "INC-7", "fixed, watching")
        shell.ok("verify-customer", "INC-7", "--customer", "acme", "--evidence", "works for them")
        shell.ok("green", "INC-7", "all clear")
        version = SQLiteStore(shell.db, read_only=True).version("INC-7")
        expected = {delivery_key("hooks", "INC-7", v) for v in range(1, version + 1)}
        wait_for(lambda: expected <= set(hooks.delivered), "every event at the webhook")
        wait_for(
            lambda: any(c.json()["event_action"] == "resolve" for c in pager.succeeded()), "resolve"
        )
        wait_for(
            lambda: any(c.json()["incident"]["status"] == "resolved" for c in status.succeeded()),
            "resolved",
        )
        follower.send_signal(signal.SIGTERM)
        out, err = follower.communicate(timeout=30)
        shell.outputs += [out, err]
        shell.ok("dispatch", "--once", "--max-wait", "1")  # what the stop left, drained
        listed = shell.ok("deliveries")
        listed_json = json.loads(shell.ok("deliveries", "--json"))

    assert 0 == follower.returncode, err
    assert "delivered" in out
    # Links back, by the sinks' actors, met the runbook's ticket and announcement rules.
    links = shell.links()
    assert ("http://" + jira.url.split("//")[1] + "/browse/OPS-1", "jira-bot") == links["ticket"]
    assert ("https://acme.slack.example/archives/C1/p1", "slack-bot") == links["announcement"]
    assert ("https://stspg.example/sp1", "status-bot") == links["public_channel"]

    # PagerDuty: one alert, triggered, acknowledged, resolved (after a 503, retried).
    actions = [(c.json()["event_action"], c.json()["dedup_key"]) for c in pager.succeeded()]
    assert [("trigger", "INC-7"), ("acknowledge", "INC-7"), ("resolve", "INC-7")] == actions
    assert 503 == pager.calls[0].status
    # Jira: searched before each try; exactly one issue created.
    assert ["POST /rest/api/3/search/jql", "POST /rest/api/3/issue"] * 2 == jira.paths()
    assert 1 == sum(c.path == "/rest/api/3/issue" for c in jira.succeeded())
    # Slack: the header opens one thread (after ok:false ratelimited), replies go in it.
    # (its first call was answered 200 with ok:false, ratelimited, and tried again)
    assert ("/api/chat.postMessage", 200) == (slack.calls[0].path, slack.calls[0].status)
    posts = [c.json() for c in slack.calls[1:] if c.path == "/api/chat.postMessage"]
    assert ["#tech-outage"] == [p["channel"] for p in posts if "thread_ts" not in p]
    assert "thread_ts" not in posts[0]
    assert {posts[1]["thread_ts"]} == {p["thread_ts"] for p in posts[1:]}
    assert any(c.path == "/api/chat.update" for c in slack.calls)
    # Statuspage: opened investigating, then the lifecycle.
    statuses = [(c.method, c.json()["incident"]["status"]) for c in status.succeeded()]
    assert ("POST", "investigating") == statuses[0]
    assert ["identified", "identified", "monitoring", "resolved"] == [s for _, s in statuses[1:]]
    # The webhook: every event, signed, in order, through a 500, a 429 and a timeout.
    assert [] == hooks.failures["/in/SECRET-url-0006"]  # the 500, the 429, the timeout
    assert {500, 429, 504} <= {c.status for c in hooks.calls}
    assert all(verify_standard_webhook(HOOK_SECRET, c.headers, c.body) for c in hooks.calls)  # type: ignore[arg-type]
    firsts: list[str] = []
    for call in hooks.succeeded():
        if call.headers["webhook-id"] not in firsts:
            firsts.append(call.headers["webhook-id"])
    assert [delivery_key("hooks", "INC-7", v) for v in range(1, version + 1)] == firsts
    # The dead sink's deliveries wait, visible, failed; nothing else does.
    assert {"down"} == {d["sink"] for d in listed_json}
    assert "failed" == listed_json[0]["status"]  # the next wait behind it, in order
    assert {"pending"} == {d["status"] for d in listed_json[1:]}
    assert "ConnectError" in listed
    # No secret anywhere.
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("incidents.db*"))
    for name, value in secrets.items():
        assert value.encode() not in stored, name
        assert all(value not in text for text in shell.outputs), name


def test_a_400_is_a_dead_letter_visible_and_retryable(tmp_path: Path) -> None:
    """A 400 makes a dead letter, which `deliveries` shows and `deliveries retry` resends."""
    hooks = Receiver(receivers.ok)
    hooks.failures["/in"] = [(400, {}, {"error": "bad"})]
    shell = Shell(tmp_path, {})
    shell.config.write_text(
        f'[sinks.hooks]\ntype = "webhook"\nurl = "{hooks.url}/in"\n', encoding="utf-8"
    )
    with running(hooks):
        shell.ok("declare", "INC-7", "--title", "Database is down", "--priority", "P2")
        assert "1 dead" in shell.ok("dispatch", "--once")
        listed = shell.ok("deliveries")
        assert "dead (1 attempt)" in listed
        assert "HTTP 400" in listed
        assert "1 delivery will be retried" in shell.ok("deliveries", "retry", "--dead")
        assert "1 delivered" in shell.ok("dispatch", "--once")
        assert "no deliveries\n" == shell.ok("deliveries")
    assert [400, 200] == [c.status for c in hooks.calls]


def test_connection_refused_is_retried_until_the_receiver_is_up(tmp_path: Path) -> None:
    """Nothing listening: the delivery waits, failed; once the receiver is up it is sent."""
    port = free_port()
    shell = Shell(tmp_path, {})
    shell.config.write_text(
        f'[retry]\nbase = 0.05\nmax_delay = 0.1\n[sinks.hooks]\ntype = "webhook"\nurl = "http://127.0.0.1:{port}/in"\n',
        encoding="utf-8",
    )
    shell.ok("declare", "INC-7", "--title", "Database is down", "--priority", "P2")
    assert "0 delivered" in shell.ok("dispatch", "--once")
    assert "Connection refused" in shell.ok("deliveries", "--status", "failed")
    hooks = Receiver(receivers.ok)
    hooks.server.server_close()
    from http.server import ThreadingHTTPServer

    hooks.server = ThreadingHTTPServer(("127.0.0.1", port), hooks.server.RequestHandlerClass)
    with running(hooks):
        assert "1 delivered" in shell.ok("dispatch", "--once", "--max-wait", "5")
    assert 1 == len(hooks.delivered)


def test_a_dispatcher_killed_mid_delivery_loses_nothing(tmp_path: Path) -> None:
    """SIGKILL mid-delivery, then a restart: every event at least once, each once for a
    receiver that drops repeated webhook-ids, none lost."""
    subject = Incident.declare("INC-7", "Database is down", Priority.P2, actor="ana")
    for n in range(11):
        subject.note(f"note {n}", actor="ana")
    with SQLiteStore(tmp_path / "incidents.db") as store:
        store.append("INC-7", subject.history, expected_version=0)
    hooks = Receiver(receivers.ok)
    hooks.delay = 0.1
    shell = Shell(tmp_path, {})
    shell.config.write_text(
        f'[sinks.hooks]\ntype = "webhook"\nurl = "{hooks.url}/in"\n', encoding="utf-8"
    )
    expected = {delivery_key("hooks", "INC-7", v) for v in range(1, 13)}
    with running(hooks):
        follower = shell.start("dispatch", "--follow")
        wait_for(lambda: len(hooks.calls) >= 3, "some deliveries")
        follower.kill()
        follower.communicate(timeout=30)
        assert 1 < len(hooks.delivered) < 12
        shell.ok("dispatch", "--once", "--max-wait", "5")
    assert expected == set(hooks.delivered)  # at least once: nothing lost
    assert len(hooks.calls) >= 12


def test_one_dispatcher_at_a_time_and_a_graceful_stop(tmp_path: Path) -> None:
    """A second dispatcher on the store exits 5 clearly; SIGINT stops the first with exit 0."""
    shell = Shell(tmp_path, {})
    shell.config.write_text(
        '[sinks.hooks]\ntype = "webhook"\nurl = "http://127.0.0.1:9/in"\n', encoding="utf-8"
    )
    shell.ok("declare", "INC-7", "--title", "Database is down", "--priority", "P2")
    follower = shell.start("dispatch", "--follow", "--poll", "0.1")
    wait_for(lambda: (tmp_path / "incidents.db.dispatch.lock").exists(), "the lock")
    second: subprocess.CompletedProcess[str] | None = None

    def refused() -> bool:
        nonlocal second
        second = shell.run("dispatch", "--once")
        return second.returncode == 5

    wait_for(refused, "the second dispatcher to be refused")
    assert second is not None
    assert "another dispatcher is already running" in second.stderr
    assert "Traceback" not in second.stderr
    follower.send_signal(signal.SIGINT)
    out, err = follower.communicate(timeout=30)
    assert (0, "Traceback" in err) == (follower.returncode, False)
    assert "undelivered" in out


def test_bad_configuration_exits_2(tmp_path: Path) -> None:
    """A secret written in the sinks file, or no file at all, is bad input."""
    shell = Shell(tmp_path, {})
    shell.ok("declare", "INC-7", "--title", "Database is down", "--priority", "P2")
    shell.config.write_text('[sinks.s]\ntype = "slack"\ntoken = "xoxb-1"\n', encoding="utf-8")
    done = shell.run("dispatch", "--once")
    assert (2, True) == (done.returncode, "would write a secret" in done.stderr)
    shell.config.write_text(
        '[sinks.s]\ntype = "slack"\ntoken_env = "UNSET_VARIABLE_X"\n', encoding="utf-8"
    )
    done = shell.run("dispatch", "--once")
    assert (2, True) == (done.returncode, "$UNSET_VARIABLE_X (token_env) is not set" in done.stderr)


def test_dispatch_follow_rides_out_a_postgresql_restart(
    tmp_path: Path, postgres_cluster: Cluster
) -> None:
    """`dispatch --follow` on PostgreSQL while the server is stopped and started again: it
    says once that the store is unavailable and once that it answers again (none of the
    driver's own reconnect lines), keeps running, and delivers what was recorded before and
    after, in order; SIGTERM still stops it with exit 0."""
    hooks = Receiver(receivers.ok)
    shell = Shell(tmp_path, {})
    shell.env["INCIDENTFLOW_DB"] = postgres_cluster.database()
    shell.config.write_text(
        f'[sinks.hooks]\ntype = "webhook"\nurl = "{hooks.url}/in"\n', encoding="utf-8"
    )
    log = tmp_path / "dispatch.log"
    with running(hooks), log.open("w", encoding="utf-8") as written:
        shell.ok("declare", "INC-7", "--title", "Database is down", "--priority", "P2")
        follower = subprocess.Popen(
            shell.command("dispatch", "--follow", "--poll", "0.1"),
            stdout=subprocess.PIPE,
            stderr=written,
            text=True,
            encoding="utf-8",
            env=shell.env,
        )
        try:
            wait_for(lambda: 1 == len(hooks.delivered), "the declaration at the webhook")
            postgres_cluster.pg_ctl("stop")
            try:
                wait_for(lambda: "unavailable" in log.read_text("utf-8"), "the outage logged")
                assert follower.poll() is None  # still running
            finally:
                postgres_cluster.pg_ctl("start")
            shell.ok("note", "INC-7", "replica promoted")
            wait_for(lambda: 2 == len(set(hooks.delivered)), "the note at the webhook")
        finally:
            follower.send_signal(signal.SIGTERM)
            out, _ = follower.communicate(timeout=30)
    err = log.read_text("utf-8")
    assert 0 == follower.returncode, err
    assert "2 delivered" in out
    lines = err.splitlines()
    outage = [line for line in lines if "the store is unavailable" in line]
    back = [line for line in lines if "the store answers again" in line]
    assert (1, 1) == (len(outage), len(back)), err
    assert outage[0].startswith("incidentflow dispatch: the store is unavailable: postgresql://")
    assert [] == [line for line in lines if line not in (outage[0], back[0])], err
    firsts: list[str] = []
    for key in hooks.delivered:
        if key not in firsts:
            firsts.append(key)
    assert [delivery_key("hooks", "INC-7", v) for v in (1, 2)] == firsts
