"""The dispatcher: the outbox filled from the feed, delivered in order, retried, reminded."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from incidentflow import Incident, LinkKind, ManualClock, Priority, Role
from incidentflow.errors import DispatcherRunning, InvalidInput, StoreUnavailable, Tampered
from incidentflow.integrations import (
    Dispatcher,
    Outbox,
    Sent,
    Status,
    Summary,
    delivery_key,
    parse_config,
)
from incidentflow.store import SQLiteStore, Store
from integrations_helpers import START, Recorder, incident, walked
from postgres import Cluster
from stores import STORE_KINDS, insert_undecodable, make_store
from waiting import wait_for

HOOK = '[sinks.hooks]\ntype = "webhook"\nurl = "https://hooks.example/in"\n'
FAST = "[retry]\nbase = 1.0\nmax_delay = 60.0\nmax_attempts = 3\n"


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each kind of store: memory, SQLite, PostgreSQL."""
    with make_store(request.param, tmp_path, request) as made:
        yield made


def save(store: Store, subject: Incident) -> None:
    """Store the incident's events that the store does not hold yet."""
    held = (
        store.version(subject.id) if subject.id in {s.incident_id for s in store.incidents()} else 0
    )
    store.append(subject.id, subject.history[held:], expected_version=held)


def dispatcher(
    store: Store, recorder: Recorder, text: str = HOOK + FAST, clock: ManualClock | None = None
) -> Dispatcher:
    """A dispatcher with no jitter, sending through ``recorder``."""
    return Dispatcher(
        store,
        parse_config(text),
        client=recorder.client,
        clock=clock or ManualClock(START),
        random=lambda: 1.0,
        environ={},
    )


def test_every_event_is_delivered_once_in_order(store: Store) -> None:
    """Each stored event becomes one delivery, sent in feed order; a second pass sends none."""
    save(store, walked())
    recorder = Recorder(lambda r: httpx.Response(200))
    with dispatcher(store, recorder) as running:
        first = running.run_once()
        again = running.run_once()
    count = store.version("INC-7")
    assert Summary(enqueued=count, delivered=count) == first
    assert Summary() == again
    keys = [r.headers["webhook-id"] for r in recorder.requests]
    assert [delivery_key("hooks", "INC-7", v) for v in range(1, count + 1)] == keys
    assert count == store.checkpoint("sink:hooks")


def test_filters_choose_events_states_and_priorities(store: Store) -> None:
    """Only events of the listed types, leaving the incident in a listed state, are taken."""
    save(store, walked())
    p3 = Incident.declare("INC-9", "minor", Priority.P3, actor="ana", clock=ManualClock(START))
    save(store, p3)
    text = (
        HOOK
        + 'events = ["declared", "state_changed"]\n'
        + 'states = ["declared", "mitigating"]\npriorities = ["P1"]\n'
    )
    recorder = Recorder(lambda r: httpx.Response(200))
    with dispatcher(store, recorder, text) as running:
        running.run_once()
    assert [("INC-7", "declared"), ("INC-7", "state_changed")] == [
        (b["incident"]["id"], b["type"]) for b in recorder.bodies()
    ]


def test_a_500_is_retried_after_the_backoff_and_blocks_only_its_incident(store: Store) -> None:
    """INC-7's failed delivery waits (its later events too) while INC-9's go out."""
    save(store, incident())
    save(
        store,
        Incident.declare("INC-9", "other", Priority.P2, actor="ana", clock=ManualClock(START)),
    )
    answers = iter([500])

    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers, 200))

    recorder = Recorder(reply)
    clock = ManualClock(START)
    with dispatcher(store, recorder, clock=clock) as running:
        first = running.run_once()
        waiting = running.outbox.deliveries(statuses=[Status.FAILED])
        clock.advance(timedelta(seconds=1))
        second = running.run_once()
    assert Summary(enqueued=3, delivered=1, failed=1) == first
    assert [("INC-7", 1, 1, START + timedelta(seconds=1))] == [
        (d.incident_id, d.version, d.attempts, d.next_attempt_at) for d in waiting
    ]
    assert "HTTP 500" in waiting[0].last_error
    assert Summary(delivered=2) == second
    sent = [(b["incident"]["id"], b["type"]) for b in recorder.bodies()]
    assert [
        ("INC-7", "declared"),
        ("INC-9", "declared"),
        ("INC-7", "declared"),
        ("INC-7", "role_assigned"),
    ] == sent


def test_retry_after_is_honoured(store: Store) -> None:
    """A 429 with Retry-After: 30 is tried again 30 seconds later, not at the backoff."""
    save(store, Incident.declare("INC-1", "x", Priority.P2, actor="ana", clock=ManualClock(START)))
    answers = iter([httpx.Response(429, headers={"retry-after": "30"})])
    recorder = Recorder(lambda r: next(answers, httpx.Response(200)))
    with dispatcher(store, recorder) as running:
        running.run_once()
        (waiting,) = running.outbox.deliveries(statuses=[Status.FAILED])
    assert START + timedelta(seconds=30) == waiting.next_attempt_at


def test_a_400_is_a_dead_letter_until_retried(store: Store) -> None:
    """A 400 is dead at once; `retry` makes it due again and it is delivered."""
    save(store, Incident.declare("INC-1", "x", Priority.P2, actor="ana", clock=ManualClock(START)))
    answers = iter([400])
    recorder = Recorder(lambda r: httpx.Response(next(answers, 200)))
    with dispatcher(store, recorder) as running:
        assert Summary(enqueued=1, dead=1) == running.run_once()
        (dead,) = running.outbox.deliveries(statuses=[Status.DEAD])
        assert (1, "HTTP 400") == (dead.attempts, dead.last_error[-8:])
        assert [dead.key] == running.outbox.retry([dead.key], now=START)
        assert Summary(delivered=1) == running.run_once()
        (done,) = running.outbox.deliveries()
    assert (Status.DELIVERED, 1, "HTTP 200") == (done.status, done.attempts, done.response)


def test_too_many_attempts_make_a_dead_letter(store: Store) -> None:
    """After max_attempts failures the delivery is dead and the next one goes."""
    subject = Incident.declare("INC-1", "x", Priority.P2, actor="ana", clock=ManualClock(START))
    subject.note("n", actor="ana")
    save(store, subject)
    failures = iter([503, 503, 503])
    recorder = Recorder(lambda r: httpx.Response(next(failures, 200)))
    clock = ManualClock(START)
    with dispatcher(store, recorder, clock=clock) as running:
        running.run_once(max_wait=0)
        for _ in range(2):
            clock.advance(timedelta(seconds=60))
            running.run_once()
        statuses = [(d.version, d.status, d.attempts) for d in running.outbox.deliveries()]
    assert [(1, Status.DEAD, 3), (2, Status.DELIVERED, 1)] == statuses


def test_discard_gives_a_delivery_up_and_delivered_ones_cannot_change(store: Store) -> None:
    """discard marks it discarded; retrying a delivered or unknown key is refused."""
    save(store, Incident.declare("INC-1", "x", Priority.P2, actor="ana", clock=ManualClock(START)))
    recorder = Recorder(lambda r: httpx.Response(400))
    with dispatcher(store, recorder) as running:
        running.run_once()
        (dead,) = running.outbox.deliveries()
        running.outbox.discard([dead.key], now=START)
        assert [Status.DISCARDED] == [d.status for d in running.outbox.deliveries()]
        with pytest.raises(InvalidInput, match="no delivery"):
            running.outbox.retry(["msg_nope"], now=START)
    recorder.reply = lambda r: httpx.Response(200)
    save(store, Incident.declare("INC-2", "y", Priority.P2, actor="ana", clock=ManualClock(START)))
    with dispatcher(store, recorder) as running:
        running.run_once()
        (done,) = running.outbox.deliveries(statuses=[Status.DELIVERED])
        with pytest.raises(InvalidInput, match="was delivered"):
            running.outbox.retry([done.key], now=START)


def test_reminders_are_sent_once_per_obligation_instance_across_restarts(store: Store) -> None:
    """An overdue update is reminded once; a new dispatcher does not remind it again."""
    save(store, walked())
    text = HOOK + 'events = ["declared"]\nreminders = true\n' + FAST
    clock = ManualClock(START + timedelta(hours=2))
    recorder = Recorder(lambda r: httpx.Response(200))
    with dispatcher(store, recorder, text, clock) as running:
        running.run_once()
    with dispatcher(store, recorder, text, clock) as running:
        running.run_once()
    reminders = [b["reminder"] for b in recorder.bodies() if b["type"] == "reminder"]
    assert ["stakeholder_update"] == [r["kind"] for r in reminders]
    assert reminders[0]["text"].startswith("INC-7: stakeholder update overdue by ")
    assert ["cy", "bo"] == reminders[0]["owners"] or ["bo", "cy"] == reminders[0]["owners"]


def test_a_new_update_is_a_new_reminder_instance(store: Store) -> None:
    """After an update the next overdue update is reminded again."""
    subject = walked()
    save(store, subject)
    text = HOOK + 'events = ["declared"]\nreminders = true\n' + FAST
    clock = ManualClock(START + timedelta(hours=2))
    recorder = Recorder(lambda r: httpx.Response(200))
    with dispatcher(store, recorder, text, clock) as running:
        running.run_once()
        subject.post_update("still on it", actor="cy", now=START + timedelta(hours=2))
        save(store, subject)
        clock.advance(timedelta(hours=2))
        running.run_once()
    assert 2 == sum(b["type"] == "reminder" for b in recorder.bodies())


def test_links_back_are_recorded_by_the_sinks_actor(store: Store) -> None:
    """A Slack thread's permalink becomes the incident's announcement link, by slack-bot."""

    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("getPermalink"):
            return httpx.Response(200, json={"ok": True, "permalink": "https://x.slack/p1"})
        return httpx.Response(200, json={"ok": True, "channel": "C1", "ts": "1.1"})

    save(store, incident())
    text = '[sinks.chat]\ntype = "slack"\ntoken_env = "T"\nchannel = "#o"\nactor = "slack-bot"\n'
    recorder = Recorder(reply)
    running = Dispatcher(store, parse_config(text), client=recorder.client, environ={"T": "x"})
    with running:
        running.run_once()
        running.run_once()
    loaded = store.load("INC-7")
    link = loaded.links[LinkKind.ANNOUNCEMENT]
    assert ("https://x.slack/p1", "slack-bot") == (link.url, link.actor)
    posts = [r for r in recorder.requests if r.url.path.endswith("chat.postMessage")]
    assert ["1.1", "1.1"] == [json.loads(p.content).get("thread_ts") for p in posts[1:]]
    assert 1 == sum("thread_ts" not in json.loads(p.content) for p in posts)


def test_a_second_dispatcher_on_one_sqlite_store_is_refused(tmp_path: Path) -> None:
    """While one runs, another raises DispatcherRunning; after it stops, one may start."""
    with SQLiteStore(tmp_path / "i.db") as store:
        first = dispatcher(store, Recorder())
        second = dispatcher(store, Recorder())
        first.start()
        with pytest.raises(DispatcherRunning, match="another dispatcher is already running"):
            second.start()
        first.stop()
        second.start()
        second.stop()


def test_a_delivery_for_a_sink_no_longer_configured_is_dead(store: Store) -> None:
    """Rows of a removed sink become dead letters, saying why."""
    save(store, Incident.declare("INC-1", "x", Priority.P2, actor="ana", clock=ManualClock(START)))
    with dispatcher(store, Recorder()) as running:
        running.enqueue()
    with dispatcher(store, Recorder(), '[sinks.other]\ntype = "webhook"\nurl = "u"\n') as running:
        running.deliver()
        (dead,) = running.outbox.deliveries(statuses=[Status.DEAD])
    assert "sink 'hooks' is not in the configuration" == dead.last_error


def test_claims_left_by_a_killed_dispatcher_are_released_on_start(tmp_path: Path) -> None:
    """On SQLite a new dispatcher frees the claims of one that died mid-delivery."""
    with SQLiteStore(tmp_path / "i.db") as store:
        save(
            store,
            Incident.declare("INC-1", "x", Priority.P2, actor="ana", clock=ManualClock(START)),
        )
        recorder = Recorder(lambda r: httpx.Response(200))
        killed = dispatcher(store, recorder)
        killed.enqueue()
        assert 1 == len(killed._claim()[0])  # claimed, then "killed" before recording
        assert [] == killed._claim()[0]
        with dispatcher(store, recorder) as restarted:
            assert Summary(delivered=1) == restarted.run_once()


def test_python_sink_state_and_links(store: Store) -> None:
    """A python sink's Sent state reaches its next delivery; links are recorded back."""
    save(store, walked())
    text = (
        '[sinks.py]\ntype = "python"\nfunction = "test_integrations_dispatcher:keeper"\n'
        'events = ["declared", "state_changed"]\n'
    )
    SEEN.clear()
    with dispatcher(store, Recorder(), text) as running:
        running.run_once()
    assert [{}, {"n": "1"}] == SEEN
    assert "https://py.example/1" == store.load("INC-7").links[LinkKind.WAR_ROOM].url


SEEN: list[dict[str, str]] = []


def keeper(message: object) -> Sent:
    """Remembers the state it was given and asks to keep a counter and a link."""
    state = dict(message.state)  # type: ignore[attr-defined]
    SEEN.append(state)
    return Sent(state={"n": str(len(SEEN))}, links=((LinkKind.WAR_ROOM, "https://py.example/1"),))


def test_a_store_holding_the_outbox_opens_and_verifies(tmp_path: Path) -> None:
    """The outbox's feed_* tables are the store's consumers': readers and writers accept them."""
    path = tmp_path / "i.db"
    with SQLiteStore(path) as store:
        save(store, incident())
        with dispatcher(store, Recorder()) as running:
            running.run_once()
    with SQLiteStore(path, read_only=True) as reader:
        assert ([], 2) == (reader.verify(), reader.version("INC-7"))
    with SQLiteStore(path) as writer:
        assert 2 == len(Outbox(writer).deliveries())


def test_several_dispatchers_on_postgresql_share_the_work_in_order(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Three dispatchers on one PostgreSQL store: each event delivered once, each incident's
    in order (claims with FOR UPDATE SKIP LOCKED)."""
    import threading

    from stores import reopen

    store = make_store("postgresql", tmp_path, request)
    for n in range(4):
        subject = Incident.declare(
            f"INC-{n}", "x", Priority.P2, actor="ana", clock=ManualClock(START)
        )
        for k in range(7):
            subject.note(f"note {k}", actor="ana")
        save(store, subject)
    seen: list[tuple[str, int]] = []
    lock = threading.Lock()
    keys = {
        delivery_key("hooks", f"INC-{n}", v): (f"INC-{n}", v) for n in range(4) for v in range(1, 9)
    }

    def reply(request: httpx.Request) -> httpx.Response:
        with lock:
            seen.append(keys[request.headers["webhook-id"]])
        return httpx.Response(200)

    recorder = Recorder(reply)
    stores = [store, reopen(store), reopen(store)]
    runners = [
        Dispatcher(s, parse_config(HOOK), client=recorder.client, environ={}, batch=5)
        for s in stores
    ]
    runners[0].enqueue()
    threads = [threading.Thread(target=r.run_once) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for each in stores:
        each.close()
    assert 32 == len(seen)
    assert 32 == len(set(seen))
    for n in range(4):
        assert list(range(1, 9)) == [v for i, v in seen if i == f"INC-{n}"]


def test_outboxes_first_used_at_once_on_postgresql_create_their_tables_once(
    postgres_cluster: Cluster,
) -> None:
    """Dispatchers (and `deliveries` commands) starting together on a new PostgreSQL
    database: each creates the outbox's tables if missing, one after the other, and none
    fails (two concurrent CREATE TABLE IF NOT EXISTS would collide in PostgreSQL's
    catalog)."""
    from incidentflow.store import PostgresStore

    def first_use(each: Store, start: threading.Barrier, failures: list[Exception]) -> None:
        start.wait()
        try:
            Outbox(each).deliveries()
        except Exception as exc:  # kept, to be asserted on
            failures.append(exc)

    for _ in range(5):
        url = postgres_cluster.database()  # a new database each time: no tables yet
        stores = [PostgresStore(url) for _ in range(4)]
        start = threading.Barrier(len(stores))
        failures: list[Exception] = []
        threads = [
            threading.Thread(target=first_use, args=(each, start, failures)) for each in stores
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        for each in stores:
            each.close()
        assert [] == failures


def test_run_once_waits_for_a_retry_within_max_wait(store: Store) -> None:
    """--max-wait: a retry falling due within it is waited for and delivered."""
    save(store, Incident.declare("INC-1", "x", Priority.P2, actor="ana", clock=ManualClock(START)))
    answers = iter([500])
    recorder = Recorder(lambda r: httpx.Response(next(answers, 200)))
    config = parse_config(HOOK + "[retry]\nbase = 0.02\nmax_delay = 0.05\n")
    with Dispatcher(store, config, client=recorder.client, environ={}) as running:
        assert Summary(enqueued=1, delivered=1, failed=1) == running.run_once(max_wait=5)


def test_follow_runs_until_stopped(store: Store) -> None:
    """follow() delivers new events as they come, and returns when stopped."""
    import threading

    save(store, Incident.declare("INC-1", "x", Priority.P2, actor="ana", clock=ManualClock(START)))
    stop = threading.Event()

    def reply(request: httpx.Request) -> httpx.Response:
        stop.set()
        return httpx.Response(200)

    recorder = Recorder(reply)
    config = parse_config(HOOK + "reminders = true\n[retry]\nbase = 0.02\n")
    with Dispatcher(store, config, client=recorder.client, environ={}) as running:
        summary = running.follow(stop, poll=0.01, remind_every=0)
    assert (1, 1) == (summary.enqueued, summary.delivered)


def test_no_sinks_enqueue_nothing_and_a_new_sink_starts_at_the_beginning(store: Store) -> None:
    """Without sinks nothing is read; a sink added later gets the history from the start."""
    save(store, Incident.declare("INC-1", "x", Priority.P2, actor="ana", clock=ManualClock(START)))
    assert Summary() == Dispatcher(store, parse_config(""), sinks=[]).enqueue()
    recorder = Recorder(lambda r: httpx.Response(200))
    with dispatcher(store, recorder) as running:
        running.run_once()
    two = HOOK + '[sinks.late]\ntype = "webhook"\nurl = "https://late.example/"\n'
    with dispatcher(store, recorder, two) as running:
        assert Summary(enqueued=1, delivered=1) == running.run_once()
    assert ["hooks.example", "late.example"] == [r.url.host for r in recorder.requests]


def test_reminders_skip_dismissed_incidents_and_filtered_states(store: Store) -> None:
    """A dismissed incident is not reminded of; nor one in a state the sink does not take."""
    dismissed = Incident.declare("INC-1", "x", Priority.P2, actor="ana", clock=ManualClock(START))
    dismissed.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana")
    dismissed.dismiss("false alarm", actor="ana")
    save(store, dismissed)
    save(store, walked())
    text = HOOK + 'events = ["x"]\nreminders = true\nstates = ["yellow"]\n'
    clock = ManualClock(START + timedelta(hours=5))
    with dispatcher(store, Recorder(), text, clock) as running:
        assert Summary() == running.run_once()


def test_a_sink_misconfigured_at_send_time_is_a_dead_letter(store: Store) -> None:
    """A SinkConfigError while sending makes the delivery dead, saying why."""
    save(store, Incident.declare("INC-1", "x", Priority.P2, actor="ana", clock=ManualClock(START)))
    text = '[sinks.p]\ntype = "pagerduty"\ntoken_env = "R"\nseverity = "loud"\n'
    recorder = Recorder(lambda r: httpx.Response(202))
    running = Dispatcher(store, parse_config(text), client=recorder.client, environ={"R": "k"})
    with running:
        assert Summary(enqueued=1, dead=1) == running.run_once()
        (dead,) = running.outbox.deliveries()
    assert "severity must be a table" in dead.last_error


def test_a_link_the_incident_refuses_is_noted_not_fatal(store: Store) -> None:
    """A dismissed incident takes no link: the delivery is done, its response says so."""
    dismissed = Incident.declare("INC-1", "x", Priority.P2, actor="ana", clock=ManualClock(START))
    dismissed.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana")
    dismissed.dismiss("false alarm", actor="ana")
    save(store, dismissed)
    text = (
        '[sinks.py]\ntype = "python"\nfunction = "test_integrations_dispatcher:keeper"\n'
        'events = ["declared"]\n'
    )
    SEEN.clear()
    with dispatcher(store, Recorder(), text) as running:
        running.run_once()
        (done,) = running.outbox.deliveries()
    assert (Status.DELIVERED, True) == (done.status, "link not recorded" in done.response)


class _Stop(threading.Event):
    """A stop event that keeps every pause the follower waits on it (an outage's pauses),
    and calls ``then`` when it is asked for pause number ``after``."""

    def __init__(self, after: int = 0, then: Callable[[], None] = lambda: None) -> None:
        super().__init__()
        self.pauses: list[float] = []
        self._after = after
        self._then = then

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.pauses.append(timeout)
        if len(self.pauses) == self._after:
            self._then()
        return super().wait(timeout)


class _LostWhileSending:
    """The store goes away while the receiver answers (with ``status``): every transaction of
    the dispatcher's outbox fails from then on, until ``down`` is cleared."""

    def __init__(self, status: int) -> None:
        self.down = threading.Event()
        self.status = status
        self.recorder = Recorder(self._reply)

    def _reply(self, request: httpx.Request) -> httpx.Response:
        self.down.set()
        return httpx.Response(self.status)

    def cut(self, running: Dispatcher, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make ``running``'s outbox fail while the store is down."""
        real = running.outbox.begin

        def begin() -> Any:
            if self.down.is_set():
                raise StoreUnavailable("the database is restarting")
            return real()

        monkeypatch.setattr(running.outbox, "begin", begin)


def _outage_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "incidentflow.integrations" and "the store" in r.getMessage()
    ]


def test_follow_waits_out_an_unavailable_store_then_carries_on(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The store unavailable mid-run: follow() logs it once, tries again after poll, then
    twice as long each time up to outage_pause, sends nothing meanwhile, and when the store
    answers delivers what came in, logging that too."""
    caplog.set_level(logging.WARNING, "incidentflow.integrations")
    subject = Incident.declare("INC-1", "x", Priority.P2, actor="ana", clock=ManualClock(START))
    save(store, subject)
    down = threading.Event()
    real = store.read_since

    def read_since(position: int, *, limit: int = 1000) -> Any:
        if down.is_set():
            raise StoreUnavailable("the database is restarting")
        return real(position, limit=limit)

    monkeypatch.setattr(store, "read_since", read_since)
    recorder = Recorder(lambda r: httpx.Response(200))
    stop = _Stop(6, down.clear)
    summaries: list[Summary] = []
    with Dispatcher(store, parse_config(HOOK), client=recorder.client, environ={}) as running:
        follower = threading.Thread(
            target=lambda: summaries.append(
                running.follow(stop, poll=0.01, remind_every=3600, outage_pause=0.08)
            )
        )
        follower.start()
        try:
            wait_for(lambda: 1 == len(recorder.requests), "the declaration's delivery")
            down.set()
            subject.note("replica promoted", actor="ana")
            save(store, subject)  # written while the dispatcher cannot read the feed
            wait_for(lambda: 2 == len(recorder.requests), "the note's delivery")
        finally:
            stop.set()
            follower.join(10)
    assert not follower.is_alive()
    assert [Summary(enqueued=2, delivered=2)] == summaries
    assert [0.01, 0.02, 0.04, 0.08, 0.08, 0.08] == stop.pauses
    keys = [r.headers["webhook-id"] for r in recorder.requests]
    assert [delivery_key("hooks", "INC-1", v) for v in (1, 2)] == keys
    lines = _outage_lines(caplog)
    assert 2 == len(lines), lines
    assert lines[0].startswith("the store is unavailable: the database is restarting;")
    assert lines[1].startswith("the store answers again after ")


def test_a_long_outage_is_logged_again_while_it_lasts(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An outage is logged when it begins, then again each LOG_EVERY seconds it lasts."""
    from incidentflow.integrations import _dispatcher

    caplog.set_level(logging.WARNING, "incidentflow.integrations")
    monkeypatch.setattr(_dispatcher._Outage, "LOG_EVERY", 0.0)
    store = make_store("memory", Path(), None)  # type: ignore[arg-type]
    calls = iter([False, True, True, True])

    def read_since(position: int, *, limit: int = 1000) -> Any:
        if next(calls, False):
            raise StoreUnavailable("the database is restarting")
        return []

    monkeypatch.setattr(store, "read_since", read_since)
    stop = _Stop(3, lambda: stop.set())
    with Dispatcher(store, parse_config(HOOK), client=Recorder().client, environ={}) as running:
        running.follow(stop, poll=0.01, remind_every=3600)
    lines = _outage_lines(caplog)
    assert 3 == len(lines), lines
    assert all(line.startswith("the store is still unavailable after ") for line in lines[1:])


def test_a_store_unavailable_on_the_first_cycle_ends_follow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before any cycle has run, an unavailable store is more likely a wrong setting than an
    outage: follow() raises it instead of waiting."""
    store = make_store("memory", Path(), None)  # type: ignore[arg-type]

    def read_since(position: int, *, limit: int = 1000) -> Any:
        raise StoreUnavailable("no such database")

    monkeypatch.setattr(store, "read_since", read_since)
    stop = _Stop()
    with (
        Dispatcher(store, parse_config(HOOK), client=Recorder().client, environ={}) as running,
        pytest.raises(StoreUnavailable, match="no such database"),
    ):
        running.follow(stop, poll=0.01)
    assert [] == stop.pauses


def test_a_store_lost_mid_batch_records_what_was_sent_and_lets_the_rest_go(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store fails while a batch is sent: what was sent is recorded, the rest is let go
    at once (claimable again, not held for the lease) and not counted as an attempt; each
    is then sent once."""
    for n in (1, 2, 3):
        save(store, Incident.declare(f"INC-{n}", "x", Priority.P2, actor="ana"))
    recorder = Recorder(lambda r: httpx.Response(200))
    dispatcher(store, recorder).enqueue()
    real = store.events

    def events(incident_id: str) -> Any:
        if incident_id == "INC-2":
            raise StoreUnavailable("the database is restarting")
        return real(incident_id)

    monkeypatch.setattr(store, "events", events)
    with dispatcher(store, recorder) as cut:  # a fresh one: it reads incidents from the store
        with pytest.raises(StoreUnavailable):
            cut.deliver()
        first = [r.headers["webhook-id"] for r in recorder.requests]
        assert [delivery_key("hooks", "INC-1", 1)] == first
        monkeypatch.setattr(store, "events", real)
        assert Summary(delivered=1) == cut._record_unrecorded()  # counted once it answers
        assert Summary(delivered=2) == cut.deliver()  # the same moment: not held for the lease
    sent = [r.headers["webhook-id"] for r in recorder.requests]
    assert [delivery_key("hooks", f"INC-{n}", 1) for n in (1, 2, 3)] == sent
    delivered = Outbox(store).deliveries(statuses=[Status.DELIVERED])
    assert [1, 1, 1] == [d.attempts for d in delivered]


def test_outcomes_the_store_could_not_record_are_recorded_when_it_answers(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent, then the store fails before the outcome is written: the follower keeps the
    outcome and writes it when the store answers again; nothing is sent twice."""
    save(store, Incident.declare("INC-1", "x", Priority.P2, actor="ana"))
    lost = _LostWhileSending(200)
    recorder = lost.recorder
    stop = _Stop(3, lost.down.clear)
    running = dispatcher(store, recorder)
    lost.cut(running, monkeypatch)
    summaries: list[Summary] = []
    with running:
        follower = threading.Thread(
            target=lambda: summaries.append(running.follow(stop, poll=0.01, remind_every=3600))
        )
        follower.start()
        try:
            wait_for(
                lambda: Outbox(store).deliveries(statuses=[Status.DELIVERED]),
                "the outcome recorded",
            )
        finally:
            stop.set()
            follower.join(10)
    assert 3 <= len(stop.pauses)
    assert [Summary(enqueued=1, delivered=1)] == summaries
    assert 1 == len(recorder.requests)
    (delivered,) = Outbox(store).deliveries(statuses=[Status.DELIVERED])
    assert 1 == delivered.attempts


def test_an_outcome_recorded_late_leaves_a_newer_claim_alone(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dispatcher that could not record an outcome until after its lease ran out writes
    nothing over the claim another dispatcher took since: that one is still sending, so no
    third may claim the delivery meanwhile."""
    from incidentflow.integrations._dispatcher import LEASE_SECONDS

    save(store, Incident.declare("INC-1", "x", Priority.P2, actor="ana"))
    clock = ManualClock(START)
    lost = _LostWhileSending(500)
    late = dispatcher(store, lost.recorder, clock=clock)
    lost.cut(late, monkeypatch)
    late.enqueue()
    with pytest.raises(StoreUnavailable):
        late.deliver()  # sent, failed, and the failure not recorded
    clock.advance(timedelta(seconds=LEASE_SECONDS + 1))
    other = dispatcher(store, Recorder(), clock=clock)
    assert 1 == len(other._claim()[0])  # the lease ran out: taken again
    lost.down.clear()
    assert Summary(failed=1) == late._record_unrecorded()
    third = dispatcher(store, Recorder(), clock=clock)
    assert [] == third._claim()[0]  # still the other's


def _tamper(path: str, incident_id: str) -> None:
    """Rewrite an incident's second stored line behind the store's back: still an event, but
    its chain breaks, so loading the incident raises Tampered."""
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("DROP TRIGGER IF EXISTS events_no_update")
        changed = connection.execute(
            "UPDATE events SET line = replace(line, '\"ana\"', '\"eve\"') "
            "WHERE incident_id = ? AND version = 2",
            (incident_id,),
        )
        assert 1 == changed.rowcount
    connection.close()


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "incidentflow.integrations" and r.levelno == logging.ERROR
    ]


def test_an_incident_that_does_not_load_keeps_no_one_elses_reminders(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A tampered incident's reminders are passed over, said once in the log; the other
    incidents' overdue updates are reminded as ever."""
    caplog.set_level(logging.WARNING, "incidentflow.integrations")
    with SQLiteStore(tmp_path / "i.db") as store:
        for incident_id in ("INC-7", "INC-8"):
            save(store, walked(incident_id))
        _tamper(store.path, "INC-8")
        text = HOOK + 'events = ["declared"]\nreminders = true\n' + FAST
        recorder = Recorder(lambda r: httpx.Response(200))
        with dispatcher(store, recorder, text, ManualClock(START + timedelta(hours=2))) as running:
            running.run_once()
            running.run_once()
    reminders = [b["reminder"]["text"] for b in recorder.bodies() if b["type"] == "reminder"]
    assert 1 == len(reminders)
    assert reminders[0].startswith("INC-7: stakeholder update overdue by ")
    (error,) = _errors(caplog)
    assert error.startswith("INC-8 does not load, so no reminder of it is sent: Tampered: ")


def test_an_incident_that_does_not_load_fails_its_own_filtered_deliveries_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A sink filtered by state needs the incident as of each event; one whose history does
    not load is taken, and its deliveries fail with the reason where `deliveries` shows it,
    while the other incidents' are delivered."""
    caplog.set_level(logging.WARNING, "incidentflow.integrations")
    text = HOOK + 'states = ["mitigating"]\n' + FAST
    recorder = Recorder(lambda r: httpx.Response(200))
    with SQLiteStore(tmp_path / "i.db") as store:
        broken = walked("INC-8")
        save(store, broken)
        with dispatcher(store, recorder, text) as first:
            first.run_once()  # its events so far, delivered while it loaded
        sent = len(recorder.requests)
        broken.note("replica promoted", actor="ana")
        save(store, broken)
        save(store, walked("INC-9"))
        _tamper(store.path, "INC-8")
        with dispatcher(store, recorder, text) as second:  # reads INC-8 from the store
            second.run_once()
        owed = Outbox(store).deliveries(statuses=[Status.FAILED, Status.DEAD])
    assert [("INC-8", broken.version)] == [(d.incident_id, d.version) for d in owed]
    assert owed[0].last_error.startswith("Tampered: ")
    later = [b["incident"]["id"] for b in recorder.bodies()[sent:]]
    assert ["INC-9"] == sorted(set(later))
    (error,) = _errors(caplog)
    assert error.startswith("INC-8 does not load, so its events are taken whatever the state")


def test_an_event_that_does_not_decode_is_a_dead_delivery_and_the_feed_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A row written into the events table behind the store's back, which does not decode,
    no longer stops every delivery: each sink gets a dead delivery for it, naming why, the
    events before and after it are delivered in order, and it is logged once."""
    caplog.set_level(logging.WARNING, "incidentflow.integrations")
    text = HOOK + '[sinks.audit]\ntype = "webhook"\nurl = "https://audit.example/in"\n' + FAST
    recorder = Recorder(lambda r: httpx.Response(200))
    with SQLiteStore(tmp_path / "i.db") as store:
        for n in (1, 2):
            save(store, Incident.declare(f"INC-{n}", "x", Priority.P2, actor="ana"))
        insert_undecodable(store.path)
        for n in (3, 4):
            save(store, Incident.declare(f"INC-{n}", "x", Priority.P2, actor="ana"))
        with dispatcher(store, recorder, text) as running:
            first = running.run_once()
            again = running.run_once()
        dead = Outbox(store).deliveries(statuses=[Status.DEAD])
        marks = [store.checkpoint(f"sink:{name}") for name in ("hooks", "audit")]
    assert Summary(enqueued=8, delivered=8, dead=2) == first
    assert Summary() == again
    sent = [(r.url.host, r.headers["webhook-id"]) for r in recorder.requests]
    for host, sink in (("hooks.example", "hooks"), ("audit.example", "audit")):
        keys = [key for where, key in sent if where == host]
        assert [delivery_key(sink, f"INC-{n}", 1) for n in (1, 2, 3, 4)] == keys
    assert [("hooks", "X-1", 1, "unreadable"), ("audit", "X-1", 1, "unreadable")] == sorted(
        ((d.sink, d.incident_id, d.version, d.kind) for d in dead), reverse=True
    )
    assert all("(feed position 3) was tampered with" in d.last_error for d in dead)
    assert [5, 5] == marks
    (error,) = _errors(caplog)
    assert error.startswith("X-1: event 1 (feed position 3) was tampered with: it does not decode")


def test_a_tampered_error_without_a_feed_position_is_not_passed_over(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only an event the feed names by its position can be passed over: any other Tampered
    from reading the feed is raised as it is."""
    save(store, Incident.declare("INC-1", "x", Priority.P2, actor="ana"))

    def read_since(position: int, *, limit: int = 1000) -> Any:
        raise Tampered(incident_id="INC-1", version=1, reason="changed")

    monkeypatch.setattr(store, "read_since", read_since)
    with dispatcher(store, Recorder()) as running, pytest.raises(Tampered, match="changed"):
        running.enqueue()
    assert 0 == store.checkpoint("sink:hooks")


def test_follow_reminds_at_its_pace_and_waits_only_when_a_cycle_sent_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under follow() a cycle that sent something is followed at once by the next; one that
    sent nothing waits for a new event (up to ``poll``); reminders are looked for once per
    ``remind_every`` seconds, the first time at once."""
    subject = Incident.declare("INC-1", "x", Priority.P2, actor="ana")
    save(store, subject)
    steps: list[str] = []
    stop = threading.Event()
    running = dispatcher(store, Recorder(lambda r: httpx.Response(200)))
    deliver, remind = running.deliver, running.remind

    def delivering(**options: Any) -> Summary:
        done = deliver(**options)
        steps.append(f"sent {done.delivered}")
        if len(steps) > 60:
            stop.set()  # a cycle that never waits would spin: stop it, and fail below
        return done

    def waiting(position: int, *, timeout: float) -> bool:
        steps.append(f"wait {timeout}")
        if sum(step.startswith("wait") for step in steps) == 2:
            subject.note("replica promoted", actor="ana")
            save(store, subject)  # something new: the next cycle sends it
        if sum(step.startswith("wait") for step in steps) == 4:
            stop.set()
        return True

    def reminding() -> Summary:
        steps.append("remind")
        return remind()

    monkeypatch.setattr(running, "deliver", delivering)
    monkeypatch.setattr(running, "remind", reminding)
    monkeypatch.setattr(store, "wait", waiting)
    with running:
        running.follow(stop, poll=0.25, remind_every=3600)
    assert [
        "remind", "sent 1",  # the first cycle reminds, sends the declaration, goes on
        "sent 0", "wait 0.25",
        "sent 0", "wait 0.25",
        "sent 1",  # the note
        "sent 0", "wait 0.25",
        "sent 0", "wait 0.25",
    ] == steps  # fmt: skip


def test_a_batch_of_more_than_a_hundred_claims_holds_every_one(store: Store) -> None:
    """Claims are written a hundred at a time: each of 150 deliveries due at once is claimed,
    sent and recorded once; nothing is left to send again."""
    subject = Incident.declare("INC-1", "x", Priority.P2, actor="ana")
    for n in range(149):
        subject.note(f"note {n}", actor="ana")
    save(store, subject)
    recorder = Recorder(lambda r: httpx.Response(200))
    with dispatcher(store, recorder) as running:
        assert Summary(enqueued=150, delivered=150) == running.run_once()
        assert Summary() == running.run_once()
    assert 150 == len(recorder.requests)


def test_the_store_lost_while_keeping_what_a_sink_made_lets_the_delivery_go_to_be_sent_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent, but the sink's state cannot be kept (the store went away): the delivery is let
    go at once, not held for the lease, and sent again when the store answers."""
    save(store, Incident.declare("INC-1", "x", Priority.P2, actor="ana"))
    text = '[sinks.py]\ntype = "python"\nfunction = "test_integrations_dispatcher:keeper"\n'
    SEEN.clear()
    with dispatcher(store, Recorder(), text) as running:
        running.enqueue()
        real = running._save_state
        fails = iter([True])

        def save_state(states: list[tuple[str, str, str, str]]) -> None:
            if next(fails, False):
                raise StoreUnavailable("the database is restarting")
            real(states)

        monkeypatch.setattr(running, "_save_state", save_state)
        with pytest.raises(StoreUnavailable):
            running.deliver()
        assert Summary(delivered=1) == running.deliver()  # the same moment: let go
    assert 2 == len(SEEN)


@pytest.mark.parametrize(("minutes", "overdue"), [(29, None), (31, 1), (100, 70)])
def test_a_reminder_waits_until_its_obligation_is_overdue_and_says_by_how_much(
    minutes: int, overdue: int | None
) -> None:
    """The runbook's stakeholder update falls due 30 minutes after the walk: not reminded at
    29 minutes; at 31 reminded as 1 minute overdue, at 100 as 70 (whole minutes)."""
    store = make_store("memory", Path(), None)  # type: ignore[arg-type]
    save(store, walked())
    text = HOOK + 'events = ["x"]\nreminders = true\n'
    clock = ManualClock(START + timedelta(minutes=minutes))
    with dispatcher(store, Recorder(), text, clock) as running:
        running.remind()
        owed = [json.loads(d.payload) for d in running.outbox.deliveries()]
    expected = [] if overdue is None else [("stakeholder_update", "2026-03-01T14:30:00+00:00")]
    assert expected == [(r["kind"], r["due_at"]) for r in owed]
    assert [overdue] * len(owed) == [r["overdue_by_minutes"] for r in owed]


def test_the_store_unavailable_while_reminding_or_filtering_is_an_outage_not_a_broken_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """StoreUnavailable while loading an incident for its reminders, or for a sink's state
    filter, is raised (follow() waits it out), not taken for a history that does not load."""
    caplog.set_level(logging.WARNING, "incidentflow.integrations")
    text = HOOK + 'states = ["mitigating"]\nreminders = true\n' + FAST
    with SQLiteStore(tmp_path / "i.db") as store:
        subject = walked()
        save(store, subject)
        with dispatcher(store, Recorder(), text) as first:
            first.run_once()
        subject.note("replica promoted", actor="ana")
        save(store, subject)

        def unavailable(*args: object, **options: object) -> Any:
            raise StoreUnavailable("the database is restarting")

        monkeypatch.setattr(store, "load", unavailable)
        monkeypatch.setattr(store, "events", unavailable)
        clock = ManualClock(START + timedelta(hours=2))
        with dispatcher(store, Recorder(), text, clock) as second:
            with pytest.raises(StoreUnavailable):
                second.remind()
            with pytest.raises(StoreUnavailable):
                second.enqueue()  # reads the incident for the note's state
    assert [] == _errors(caplog)
