"""Fake Slack, Jira, PagerDuty, Statuspage and webhook receivers on 127.0.0.1, in threads."""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, dict[str, str], Any]
"""A status, headers and a body (JSON-ready data, or str)."""

_ORDER = itertools.count()


class Call:
    """One request a receiver got."""

    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.seq = next(_ORDER)
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.status = 0

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body) if self.body else None


class Receiver:
    """An HTTP server answering with ``answer(call)``; a script of failures goes first.

    ``failures`` maps a path suffix to answers given, in turn, before ``answer`` is asked;
    ``delay`` sleeps before answering (to time a client out, or to be killed mid-request).
    """

    def __init__(self, answer: Callable[[Call], Answer]) -> None:
        self.answer = answer
        self.calls: list[Call] = []
        self.failures: dict[str, list[Answer | float]] = {}
        self.delay = 0.0
        self.delivered: dict[str, int] = {}  # webhook-id -> times seen, for deduping receivers
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                call = Call(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                status, headers, body = receiver._handle(call)
                data = body if isinstance(body, str) else json.dumps(body)
                payload = data.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError):  # the client gave up (a timeout)
                    self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handle(self, call: Call) -> Answer:
        with self._lock:
            script = next(
                (v for k, v in self.failures.items() if call.path.split("?")[0].endswith(k) and v),
                None,
            )
            scripted = script.pop(0) if script else None
        if isinstance(scripted, float):
            time.sleep(scripted)  # too slow: the client has given up; answer anyway
            scripted = (504, {}, {})
        elif self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.calls.append(call)
            answer = scripted if scripted is not None else self.answer(call)
            call.status = answer[0]
            if answer[0] < 300 and "webhook-id" in call.headers:
                key = call.headers["webhook-id"]
                self.delivered[key] = self.delivered.get(key, 0) + 1
            return answer

    def succeeded(self) -> list[Call]:
        """The calls answered with success."""
        with self._lock:
            return [c for c in self.calls if c.status < 300]

    def paths(self) -> list[str]:
        """The method and path of each call, in order."""
        return [f"{c.method} {c.path.split('?')[0]}" for c in self.calls]


@contextmanager
def running(*receivers: Receiver) -> Iterator[None]:
    """Serve the receivers for the duration of the block."""
    threads = [threading.Thread(target=r.server.serve_forever, daemon=True) for r in receivers]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for receiver in receivers:
            receiver.server.shutdown()
            receiver.server.server_close()


def ok(call: Call) -> Answer:
    """A plain 200."""
    return 200, {}, {}


def slack(call: Call) -> Answer:
    """Slack's Web API."""
    if call.path.startswith("/api/chat.getPermalink"):
        return 200, {}, {"ok": True, "permalink": "https://acme.slack.example/archives/C1/p1"}
    return 200, {}, {"ok": True, "channel": "C1", "ts": f"1700000000.{len(call.body):06d}"}


class Jira:
    """Jira Cloud: a JQL search by label finds the issues created with that label."""

    def __init__(self) -> None:
        self.issues: dict[str, str] = {}

    def __call__(self, call: Call) -> Answer:
        if call.path.endswith("/search/jql"):
            label = call.json()["jql"].rsplit('"', 2)[1]
            found = [{"key": k} for k, labels in self.issues.items() if label in labels]
            return 200, {}, {"issues": found, "isLast": True}
        key = f"OPS-{len(self.issues) + 1}"
        self.issues[key] = " ".join(call.json()["fields"]["labels"])
        return 201, {}, {"id": str(len(self.issues)), "key": key, "self": "x"}


def pagerduty(call: Call) -> Answer:
    """The Events API v2."""
    return 202, {}, {"status": "success", "dedup_key": call.json()["dedup_key"]}


def statuspage(call: Call) -> Answer:
    """Statuspage's incidents."""
    return 200, {}, {"id": "sp1", "shortlink": "https://stspg.example/sp1"}
