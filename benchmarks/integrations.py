"""The integrations' costs: a command beside a dispatcher stuck on a dead sink, and draining.

1. *dead_sink*: the wall time of an `incidentflow note` command while `incidentflow dispatch
   --follow` (default settings) retries a sink nobody listens on, against the same command
   with no dispatcher.  Commands never wait for a delivery: the goal is no difference.
2. *drain*: a dispatcher delivering a backlog of events to a local webhook receiver, against
   raw httpx POSTs of the very bodies it sent, on one kept-alive connection (<= 1.5x).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from statistics import median
from typing import Any

import httpx
from _history import START
from _measure import Result, Sizes, seconds

from incidentflow import Incident, ManualClock, Priority
from incidentflow.integrations import Dispatcher, parse_config
from incidentflow.store import SQLiteStore


class _Receiver:
    """A local webhook receiver (HTTP/1.1, kept alive) that keeps the bodies it gets."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                receiver.bodies.append(self.rfile.read(length))
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _backlog(path: Path, events: int) -> None:
    """A store holding ``events`` events: incidents of 50 events each."""
    per = 50
    with SQLiteStore(path) as store:
        batches = []
        for n in range(max(1, events // per)):
            clock = ManualClock(START)
            incident = Incident.declare(f"INC-{n}", "x", Priority.P2, actor="ana", clock=clock)
            for k in range(per - 1):
                incident.note(f"note {k}", actor="ana")
            batches.append((incident.id, list(incident.history), 0))
        store.append_many(batches)


def bench_drain(sizes: Sizes) -> Result:
    """Draining a backlog to a local webhook receiver against raw httpx POSTs of its bodies."""
    events = sizes.stored_incidents  # 10,000 in the full run
    work = Path(tempfile.mkdtemp(prefix="incidentflow-drain-"))
    receiver = _Receiver()
    try:
        _backlog(work / "backlog.db", events)
        config = parse_config(f'[sinks.hook]\ntype = "webhook"\nurl = "{receiver.url}"\n')
        sent: list[bytes] = []
        ours: list[float] = []
        raw: list[float] = []
        for round_ in range(sizes.repeat):
            db = work / f"round{round_}.db"
            shutil.copy(work / "backlog.db", db)
            receiver.bodies.clear()
            with httpx.Client(timeout=10.0) as client, SQLiteStore(db) as store:
                dispatcher = Dispatcher(store, config, client=client)
                begin = time.perf_counter()
                summary = dispatcher.run_once()
                ours.append(time.perf_counter() - begin)
                dispatcher.stop()
            assert summary.delivered == len(receiver.bodies), summary
            sent = list(receiver.bodies)
            receiver.bodies.clear()
            with httpx.Client(timeout=10.0) as client:
                headers = {"content-type": "application/json"}
                begin = time.perf_counter()
                for body in sent:
                    client.post(receiver.url, content=body, headers=headers).raise_for_status()
                raw.append(time.perf_counter() - begin)
    finally:
        receiver.close()
        shutil.rmtree(work, ignore_errors=True)
    base, full = median(raw), median(ours)
    ratio = full / base
    return Result(
        name="drain",
        title=f"10. Draining {len(sent):,} events to a local webhook receiver",
        ratio=ratio,
        meaning="dispatch --once / raw httpx POSTs of the same bodies",
        goal="<= 1.5x",
        passed=ratio <= 1.5,
        figures={"events": len(sent), "raw_s": raw, "dispatcher_s": ours},
        lines=[
            f"raw httpx POSTs       {seconds(base):>10}  ({base / len(sent) * 1e6:.0f} µs each)",
            f"dispatcher            {seconds(full):>10}  ({full / len(sent) * 1e6:.0f} µs each)",
        ],
    )


def bench_dead_sink(sizes: Sizes) -> Result:
    """A command's wall time on a store whose dispatcher retries a dead sink, against one with
    no sinks and no dispatcher; the two stores' commands alternate, so noise hits both."""
    runs = sizes.startup_runs * (sizes.repeat if sizes.startup_runs >= 5 else 1)
    work = Path(tempfile.mkdtemp(prefix="incidentflow-dead-"))
    with socket_port() as port:
        dead = f"http://127.0.0.1:{port}/nobody"
    (work / "sinks.toml").write_text(
        f'[sinks.dead]\ntype = "webhook"\nurl = "{dead}"\n',  # the default retry policy
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "incidentflow"]

    def environment(name: str) -> dict[str, str]:
        env = {**os.environ, "INCIDENTFLOW_DB": str(work / name), "INCIDENTFLOW_ACTOR": "ana"}
        env["INCIDENTFLOW_CONFIG"] = str(work / "sinks.toml")
        declare = [*command, "declare", "INC-1", "--title", "x", "--priority", "P2"]
        subprocess.run(declare, env=env, check=True, capture_output=True)
        return env

    quiet_env, busy_env = environment("quiet.db"), environment("busy.db")

    def note(env: dict[str, str]) -> float:
        begin = time.perf_counter()
        subprocess.run([*command, "note", "INC-1", "x"], env=env, check=True, capture_output=True)
        return time.perf_counter() - begin

    quiet: list[float] = []
    busy: list[float] = []
    follower = subprocess.Popen(
        [*command, "dispatch", "--follow"],
        env=busy_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.0)  # let it start, and start failing
        for _ in range(runs):
            quiet.append(note(quiet_env))
            busy.append(note(busy_env))
    finally:
        follower.send_signal(signal.SIGTERM)
        follower.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    base, full = median(quiet), median(busy)
    ratio = full / base
    return Result(
        name="dead_sink",
        title=f"9. `incidentflow note` while a dispatcher retries a dead sink ({runs} runs each)",
        ratio=ratio,
        meaning="with the dispatcher / without",
        goal="<= 1.05x",
        passed=ratio <= 1.05,
        figures={"without_s": quiet, "with_s": busy},
        lines=[
            f"no sinks, no dispatcher           {seconds(base):>10}",
            f"dispatcher retrying a dead sink   {seconds(full):>10}",
        ],
    )


class socket_port:
    """A port nothing listens on."""

    def __enter__(self) -> int:
        import socket

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        return int(self._socket.getsockname()[1])

    def __exit__(self, *exc: Any) -> None:
        self._socket.close()
