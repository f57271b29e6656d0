"""The dispatcher: follows the store's feed, fills the outbox, and delivers it.

Nothing here runs inside a command: commands only append events.  The dispatcher reads
them afterwards (``incidentflow dispatch``), so a slow or dead receiver delays its own
deliveries and nothing else.  Each cycle:

1. *enqueue*: for each sink, read the feed past the sink's checkpoint and write a delivery
   row for every event the sink takes, moving the checkpoint in the same transaction;
2. *remind*: for sinks with ``reminders = true``, one delivery per overdue obligation
   instance of each open incident (keyed by the instance, so it is sent once);
3. *deliver*: claim the deliveries that are due, send them in feed order (one incident's
   deliveries to one sink never overtake each other), and record how each went: delivered,
   failed (tried again after a backoff) or dead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random as _random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
from attrs import frozen

from incidentflow.errors import (
    CommandRefused,
    Conflict,
    DeliveryFailed,
    DispatcherRunning,
    IncidentFlowError,
    SinkConfigError,
    StoreUnavailable,
    Tampered,
)
from incidentflow.lifecycle import State

from ._outbox import COLUMNS, Outbox, Status, delivery_key, reminder_key, row_to_delivery
from ._sink import Message, Reminder, Sent, Sink

if TYPE_CHECKING:
    import httpx

    from incidentflow.clock import Clock
    from incidentflow.events import Event
    from incidentflow.incident import Incident
    from incidentflow.records import LinkKind
    from incidentflow.store import FeedEntry, Store

    from ._config import Config, SinkConfig

__all__ = ["SINKS", "Dispatcher", "Summary", "build_sink"]

_LOG = logging.getLogger("incidentflow.integrations")

LEASE_SECONDS = 120.0
"""How long a claimed delivery stays another dispatcher's before it may be claimed again."""


def _sink_classes() -> dict[str, type[Sink]]:
    """The sink class of each sink type."""
    from ._jira import JiraSink
    from ._pagerduty import PagerDutySink
    from ._python import PythonSink
    from ._slack import SlackSink
    from ._statuspage import StatuspageSink
    from ._webhook import WebhookSink

    return {
        "jira": JiraSink,
        "pagerduty": PagerDutySink,
        "python": PythonSink,
        "slack": SlackSink,
        "statuspage": StatuspageSink,
        "webhook": WebhookSink,
    }


SINKS: Callable[[], dict[str, type[Sink]]] = _sink_classes
"""The sink class of each sink type (a function, so the sink modules load only when used)."""


def build_sink(
    config: SinkConfig,
    *,
    client: httpx.Client | None = None,
    environ: Mapping[str, str] | None = None,
) -> Sink:
    """The sink a ``[sinks.NAME]`` table describes, its secrets read from ``environ``."""
    return SINKS()[config.type](config, client=client, environ=environ)


@frozen(kw_only=True)
class Summary:
    """What one pass of the dispatcher did."""

    enqueued: int = 0
    reminders: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0

    def __add__(self, other: Summary) -> Summary:
        return Summary(
            enqueued=self.enqueued + other.enqueued,
            reminders=self.reminders + other.reminders,
            delivered=self.delivered + other.delivered,
            failed=self.failed + other.failed,
            dead=self.dead + other.dead,
        )


class _Incidents:
    """Incidents as of a given version, folded forward from the store's events."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._events: dict[str, list[Event]] = {}
        self._folded: dict[str, Incident] = {}

    _MOST = 2000
    """Incidents kept at once; past it the cache starts again (a long backlog stays bounded)."""

    def forget(self, incident_id: str) -> None:
        self._events.pop(incident_id, None)
        self._folded.pop(incident_id, None)

    def remember(self, entry: FeedEntry) -> None:
        """Keep an event read from the feed, when it extends what is kept of its incident."""
        events = self._events.get(entry.incident_id)
        if events is None and entry.version == 1:
            if len(self._events) >= self._MOST:
                self._events.clear()
                self._folded.clear()
            events = self._events[entry.incident_id] = []
        if events is not None and len(events) == entry.version - 1:
            events.append(entry.event)

    def at(self, incident_id: str, version: int) -> Incident:
        from incidentflow.incident import Incident

        events = self._events.get(incident_id)
        if events is None or len(events) < version:
            events = self._events[incident_id] = self._store.events(incident_id)
        folded = self._folded.get(incident_id)
        if folded is None or folded.version > version:
            folded = Incident.replay(events[:version])
            self._folded[incident_id] = folded
        for event in events[folded.version : version]:
            folded.record(event)
        return folded


class Dispatcher:
    """Delivers a store's events to the configured sinks.

    ``client`` is the ``httpx.Client`` every sink uses (made when not given); ``clock``
    and ``random`` are injectable so tests control time and jitter.  On a SQLite store
    only one dispatcher may run: a second raises
    :class:`~incidentflow.errors.DispatcherRunning` when started.
    """

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        client: httpx.Client | None = None,
        clock: Clock | None = None,
        random: Callable[[], float] = _random.random,
        environ: Mapping[str, str] | None = None,
        batch: int = 500,
        sinks: Sequence[Sink] | None = None,
    ) -> None:
        from incidentflow.clock import SystemClock

        self.store = store
        self.config = config
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._random = random
        self._batch = batch
        if sinks is None:
            if client is None:
                from ._http import make_client

                client = make_client()
            sinks = [build_sink(c, client=client, environ=environ) for c in config.sinks]
        self.sinks: dict[str, Sink] = {s.name: s for s in sinks}
        self.outbox = Outbox(store)
        self._incidents = _Incidents(store)
        self._lock: Any = None
        self._states: dict[tuple[str, str], dict[str, str]] = {}
        self._unrecorded: tuple[list[tuple[str, tuple[object, ...]]], Summary] | None = None
        self._unreadable: dict[str, str] = {}  # incident id -> why it was last skipped

    # -- one at a time on SQLite ---------------------------------------------------------

    def start(self) -> None:
        """Take the store's dispatcher lock (SQLite) and release claims a dead run left."""
        path = getattr(self.store, "path", None)
        if isinstance(path, str) and self._lock is None:
            import fcntl

            handle = open(f"{path}.dispatch.lock", "a+")  # noqa: SIM115 - held while running
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                raise DispatcherRunning(
                    f"another dispatcher is already running on {path}; a SQLite store "
                    "takes one at a time (stop it, or wait for it to finish)"
                ) from None
            self._lock = handle
            with self.outbox.begin() as tx:  # only we run: every claim is a dead run's
                tx.execute("UPDATE feed_deliveries SET claimed_until = 0 WHERE claimed_until > 0")

    def stop(self) -> None:
        """Release the dispatcher lock."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> Dispatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the cycle -------------------------------------------------------------------------

    def run_once(self, *, max_wait: float = 0.0, stop: threading.Event | None = None) -> Summary:
        """Enqueue, remind and deliver what is due; then exit.

        Retries falling due are waited for while ``max_wait`` seconds (from the start) allow;
        a delivery that is still failing then stays in the outbox for the next run.
        """
        self.start()
        deadline = time.monotonic() + max_wait
        total = self.enqueue() + self.remind()
        while stop is None or not stop.is_set():
            done = self.deliver()
            total += done + self.enqueue()
            if done.delivered or done.failed or done.dead:
                continue
            next_due = self.next_due()
            if next_due is None:
                break
            pause = (next_due - self.clock.now()).total_seconds()
            if time.monotonic() + pause > deadline:
                break
            time.sleep(max(0.0, min(pause, 1.0)))
        return total

    def follow(
        self,
        stop: threading.Event,
        *,
        poll: float = 1.0,
        remind_every: float = 60.0,
        outage_pause: float = 30.0,
    ) -> Summary:
        """Run until ``stop`` is set, waking on new events and when a retry falls due.

        Once the store has answered (the feed read and the outbox filled once), the store
        becoming unavailable (a database restarting or unreachable, a lock held past the
        store's timeout) does not end the run: the dispatcher logs it, tries again after
        ``poll`` seconds, then twice as long each time up to ``outage_pause``, and carries
        on when the store answers, logging that too.  A store that fails before it has
        answered raises :class:`~incidentflow.errors.StoreUnavailable` (a setting is wrong
        more often than not).
        """
        self.start()
        total = Summary()
        last_reminders = float("-inf")
        outage: _Outage | None = None
        answered = False
        while not stop.is_set():
            try:
                total += self._record_unrecorded()
                total += self.enqueue()
                answered = True
                if time.monotonic() - last_reminders >= remind_every:
                    total += self.remind()
                    last_reminders = time.monotonic()
                done = self.deliver(stop=stop)
                total += done
                if not (done.delivered or done.failed or done.dead):
                    self._idle(poll)
            except StoreUnavailable as exc:
                if not answered:
                    raise
                outage = _Outage.next(outage, exc, poll=poll, longest=outage_pause)
                stop.wait(outage.pause)
                continue
            if outage is not None:
                _LOG.warning("the store answers again after %.1f s; carrying on", outage.lasted())
                outage = None
        return total

    def _idle(self, poll: float) -> None:
        """Wait up to ``poll`` seconds, or until the next retry falls due, for a new event."""
        pause = poll
        next_due = self.next_due()
        if next_due is not None:
            pause = max(0.0, min(poll, (next_due - self.clock.now()).total_seconds()))
        if pause > 0:
            head = min((self._checkpoint_of(name) for name in self.sinks), default=0)
            self.store.wait(head, timeout=pause)  # any new event wakes us

    def _checkpoint_of(self, name: str) -> int:
        return self.store.checkpoint(f"sink:{name}")

    def next_due(self) -> datetime | None:
        """When the next waiting delivery may be claimed (now, or later); None when none waits.

        Only the first undelivered delivery of each incident and sink counts: the ones behind
        it wait for it, so their own times do not matter yet.
        """
        with self.outbox.begin() as tx:
            rows = tx.execute(
                "SELECT MIN(CASE WHEN d.next_attempt_at > d.claimed_until "
                "THEN d.next_attempt_at ELSE d.claimed_until END) FROM feed_deliveries d "
                "WHERE d.status IN ('pending', 'failed') AND (d.kind = 'reminder' OR NOT EXISTS "
                "(SELECT 1 FROM feed_deliveries e WHERE e.sink = d.sink "
                "AND e.incident_id = d.incident_id AND e.position < d.position "
                "AND e.kind <> 'reminder' AND e.status IN ('pending', 'failed')))"
            )
        value = rows[0][0] if rows else None
        return None if value is None else datetime.fromtimestamp(float(value), UTC)

    # -- enqueue -----------------------------------------------------------------------------

    def enqueue(self) -> Summary:
        """Write a delivery row for every new event each sink takes; move the checkpoints."""
        if not self.sinks:
            return Summary()
        count = dead = 0
        while True:
            marks = {name: self._checkpoint_of(name) for name in self.sinks}
            start = min(marks.values())
            entries, unreadable = self._read_feed(start)
            if not entries and unreadable is None:
                return Summary(enqueued=count, dead=dead)
            stamp = self.clock.now().timestamp()
            rows: list[tuple[object, ...]] = []
            for entry in entries:
                self._incidents.remember(entry)
                for name, sink in self.sinks.items():
                    if entry.position <= marks[name] or not sink.wants(entry.event.type):
                        continue
                    if not self._accepts(sink.config, entry):
                        continue
                    rows.append(
                        _new_delivery(
                            delivery_key(name, entry.incident_id, entry.version),
                            name,
                            entry.incident_id,
                            entry.position,
                            entry.version,
                            entry.event.type,
                            stamp,
                        )
                    )
            last = entries[-1].position if entries else start
            passed: list[tuple[object, ...]] = []
            if unreadable is not None:
                position, exc = unreadable
                passed = self._unreadable_rows(exc, position, marks, stamp)
                last = max(last, position)
            with self.outbox.begin() as tx:
                if any(tx.checkpoint(f"sink:{n}") != marks[n] for n in self.sinks):
                    continue  # another dispatcher moved first: read again
                for row in rows + passed:
                    tx.execute(_INSERT, row)
                for name in self.sinks:
                    if last > marks[name]:
                        tx.advance(f"sink:{name}", last)
            count += len(rows)
            dead += len(passed)

    def _read_feed(self, start: int) -> tuple[list[FeedEntry], tuple[int, Tampered] | None]:
        """The feed's next page after ``start``; the position and error of an event ending it.

        A page holding an event that does not decode (a row written behind the store's back)
        is read again one entry at a time, up to that event, so that what comes before it is
        delivered and the event itself is passed over instead of stopping every delivery.
        """
        try:
            return self.store.read_since(start, limit=1000), None
        except Tampered:
            pass  # read again, one at a time
        entries: list[FeedEntry] = []
        while True:
            at = entries[-1].position if entries else start
            try:
                page = self.store.read_since(at, limit=1)
            except Tampered as exc:
                if exc.position is None:
                    raise
                return entries, (exc.position, exc)
            if not page:
                return entries, None
            entries += page

    def _unreadable_rows(
        self, exc: Tampered, position: int, marks: Mapping[str, int], stamp: float
    ) -> list[tuple[object, ...]]:
        """A dead delivery of the undecodable event at ``position`` for each sink not past it.

        ``incidentflow deliveries`` shows it with the reason.
        """
        _LOG.error("%s; passed over, a dead delivery for each sink", exc)
        return [
            _new_delivery(
                delivery_key(name, exc.incident_id, exc.version),
                name,
                exc.incident_id,
                position,
                exc.version,
                "unreadable",
                stamp,
                status=Status.DEAD,
                last_error=str(exc)[:500],
            )
            for name in self.sinks
            if position > marks[name]
        ]

    def _accepts(self, config: SinkConfig, entry: FeedEntry) -> bool:
        chosen = config.filter
        if chosen.events is not None and entry.event.type not in chosen.events:
            return False
        if chosen.states is None and chosen.priorities is None:
            return True
        try:
            incident = self._incidents.at(entry.incident_id, entry.version)
        except StoreUnavailable:
            raise
        except IncidentFlowError as exc:
            # Its history does not load (tampered, or refused by its rules): taken, so that
            # the delivery fails with the reason where `deliveries` shows it, instead of
            # stopping every other incident's deliveries here.
            self._skipping(
                entry.incident_id,
                exc,
                "its events are taken whatever the state and priority filters say (their "
                "deliveries fail with this reason)",
            )
            return True
        return chosen.accepts(entry.event.type, incident.state, incident.priority)

    def _skipping(self, incident_id: str, exc: IncidentFlowError, consequence: str) -> None:
        """Log, once per reason, what an incident whose history does not load costs it."""
        reason = f"{type(exc).__name__}: {exc}"
        if self._unreadable.get(incident_id) != reason:
            self._unreadable[incident_id] = reason
            _LOG.error("%s does not load, so %s: %s", incident_id, consequence, reason)

    # -- reminders ---------------------------------------------------------------------------

    def remind(self) -> Summary:
        """Enqueue a reminder of each overdue obligation instance of every open incident.

        Each sink with ``reminders = true`` gets one per instance (an obligation and the time
        it fell due); an instance already enqueued is not enqueued again, across restarts.
        """
        sinks = [s for s in self.sinks.values() if s.config.reminders and s.reminders]
        if not sinks:
            return Summary()
        now = self.clock.now()
        rows: list[tuple[object, ...]] = []
        for summary in self.store.incidents():
            if summary.state is State.DISMISSED:
                continue
            try:
                incident = self.store.load(summary.incident_id)
            except StoreUnavailable:
                raise
            except IncidentFlowError as exc:  # one broken history keeps no one else's reminders
                self._skipping(summary.incident_id, exc, "no reminder of it is sent")
                continue
            for obligation in incident.due(now):
                if not obligation.overdue or obligation.due_at is None:
                    continue
                late = int((now - obligation.due_at).total_seconds() // 60)
                reminder = {
                    "kind": obligation.kind,
                    "description": obligation.description,
                    "command": obligation.command,
                    "owners": list(obligation.owners),
                    "due_at": obligation.due_at.isoformat(),
                    "overdue_by_minutes": late,
                }
                instance = f"{obligation.description}\x00{obligation.due_at.isoformat()}"
                for sink in sinks:
                    # A sink asked for reminders: its event filter does not apply to them.
                    chosen = attrs.evolve(sink.config.filter, events=None)
                    if not chosen.accepts("reminder", incident.state, incident.priority):
                        continue
                    stamp = now.timestamp()
                    rows.append(
                        _new_delivery(
                            reminder_key(sink.name, incident.id, obligation.kind, instance),
                            sink.name,
                            incident.id,
                            0,
                            incident.version,
                            "reminder",
                            stamp,
                            payload=json.dumps(reminder, ensure_ascii=False),
                        )
                    )
        if not rows:
            return Summary()
        with self.outbox.begin() as tx:
            before = tx.execute("SELECT COUNT(*) FROM feed_deliveries WHERE kind = 'reminder'")[0][
                0
            ]
            for row in rows:
                tx.execute(_INSERT, row)
            after = tx.execute("SELECT COUNT(*) FROM feed_deliveries WHERE kind = 'reminder'")[0][0]
        return Summary(reminders=int(after) - int(before))

    # -- delivery ----------------------------------------------------------------------------

    def _claim(self) -> tuple[list[tuple[Any, ...]], float]:
        """Claim a batch of due deliveries, in feed order, for ``LEASE_SECONDS``.

        A delivery is held back while an earlier one of its incident and sink waits.  Alone
        on a store (SQLite, memory), a dispatcher claims a run of one incident's deliveries
        at once and sends them in order, stopping at the first failure.  Where several may
        run (PostgreSQL), each claims only the first undelivered one of an incident and sink,
        with ``FOR UPDATE SKIP LOCKED``, so two dispatchers never send one incident's
        deliveries to one sink side by side.  Returns the rows and the end of their lease.
        """
        now = self.clock.now().timestamp()
        with self.outbox.begin() as tx:
            shared = tx.dialect == "postgresql"
            waiting = "" if shared else "AND (e.next_attempt_at > ? OR e.claimed_until > ?)"
            params: list[object] = [now, now]
            params += [] if shared else [now, now]
            # The statuses are literals so the partial indexes of what is owed serve.
            rows = tx.execute(
                f"SELECT {COLUMNS} FROM feed_deliveries d "
                "WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= ? "
                "AND d.claimed_until <= ? "
                "AND (d.kind = 'reminder' OR NOT EXISTS (SELECT 1 FROM feed_deliveries e "
                "WHERE e.sink = d.sink AND e.incident_id = d.incident_id "
                "AND e.position < d.position AND e.kind <> 'reminder' "
                f"AND e.status IN ('pending', 'failed') {waiting})) "
                "ORDER BY d.position, d.key LIMIT ?"
                + (" FOR UPDATE SKIP LOCKED" if shared else ""),
                [*params, self._batch],
            )
            until = now + LEASE_SECONDS
            for start in range(0, len(rows), 100):
                keys = [row[0] for row in rows[start : start + 100]]
                tx.execute(
                    "UPDATE feed_deliveries SET claimed_until = ? "
                    f"WHERE key IN ({', '.join('?' for _ in keys)})",
                    [until, *keys],
                )
        return rows, until

    def deliver(self, *, stop: threading.Event | None = None) -> Summary:
        """Claim the deliveries due now, send them in order, and record each outcome.

        The store becoming unavailable midway ends the batch: what was not sent yet is let
        go, and :class:`~incidentflow.errors.StoreUnavailable` is raised once what was sent is
        recorded, or kept to be recorded when the store answers again (see :meth:`follow`).
        A delivery sent but not recorded is sent again: at least once.
        """
        rows, until = self._claim()
        if not rows:
            return Summary()
        blocked: set[tuple[str, str]] = set()
        outcomes: list[tuple[str, tuple[object, ...]]] = []
        self._states = {}  # each incident's sink state, read once per batch
        delivered = failed = dead = 0
        fault: StoreUnavailable | None = None
        for row in rows:
            delivery = row_to_delivery(row)
            group = (delivery.sink, delivery.incident_id)
            if (
                fault is not None
                or (stop is not None and stop.is_set())
                or (delivery.kind != "reminder" and group in blocked)
            ):
                outcomes.append(("release", (delivery.key, until)))
                continue
            sink = self.sinks.get(delivery.sink)
            now = self.clock.now()
            attempts = delivery.attempts + 1
            try:
                if sink is None:
                    raise DeliveryFailed(
                        f"sink {delivery.sink!r} is not in the configuration", retryable=False
                    )
                sent = self._send(sink, delivery, attempts, now)
            except StoreUnavailable as exc:  # the store, not the sink: not an attempt
                fault = exc
                outcomes.append(("release", (delivery.key, until)))
                continue
            except DeliveryFailed as failure:
                error = failure.message if sink is None else sink.redact(failure.message)
                give_up = not failure.retryable or self.config.retry.exhausted(attempts)
                status = Status.DEAD if give_up else Status.FAILED
                pause = self.config.retry.delay(
                    attempts, retry_after=failure.retry_after, random=self._random
                )
                next_at = now + timedelta(seconds=0 if give_up else pause)
                params = (status.value, attempts, next_at.timestamp(), error[:500])
                outcomes.append(("fail", (*params, now.timestamp(), delivery.key, until)))
                _LOG.warning(
                    "delivery %s to %s (%s %s) %s after %d attempt(s): %s",
                    delivery.key,
                    delivery.sink,
                    delivery.incident_id,
                    delivery.kind,
                    status.value,
                    attempts,
                    error,
                )
                if delivery.kind != "reminder":
                    blocked.add(group)
                if give_up:
                    dead += 1
                else:
                    failed += 1
                continue
            assert sink is not None
            summary = sink.redact(sent.summary if sent is not None else "nothing to send")
            try:
                if sent is not None and sent.state:
                    # Kept at once: a restart must not open a second thread or ticket.
                    self._save_state(
                        [(delivery.sink, delivery.incident_id, k, v) for k, v in sent.state.items()]
                    )
                    self._states.setdefault(group, {}).update(sent.state)
                if sent is not None and sent.links:
                    summary += self._link_back(sink, delivery.incident_id, sent.links)
            except StoreUnavailable as exc:  # sent, but what it made is not kept: send again
                fault = exc
                outcomes.append(("release", (delivery.key, until)))
                continue
            done = (attempts, summary[:500], now.timestamp(), delivery.key, until)
            outcomes.append(("done", done))
            delivered += 1
        self._unrecorded = (outcomes, Summary(delivered=delivered, failed=failed, dead=dead))
        if fault is None:
            return self._record_unrecorded()
        with contextlib.suppress(StoreUnavailable):  # else kept for when the store answers
            self._record(outcomes)
            self._unrecorded = ([], self._unrecorded[1])  # recorded; counted when it answers
        raise fault

    def _record_unrecorded(self) -> Summary:
        """Record the outcomes of the last batch, if they are not yet; what they count."""
        if self._unrecorded is None:
            return Summary()
        outcomes, summary = self._unrecorded
        if outcomes:
            self._record(outcomes)
        self._unrecorded = None
        return summary

    def _send(self, sink: Sink, delivery: Any, attempts: int, now: datetime) -> Sent | None:
        try:
            if delivery.kind == "reminder":
                incident = self.store.load(delivery.incident_id)
                data = json.loads(delivery.payload)
                reminder = Reminder(
                    kind=data["kind"],
                    description=data["description"],
                    command=data["command"],
                    owners=tuple(data["owners"]),
                    due_at=datetime.fromisoformat(data["due_at"]) if data["due_at"] else None,
                    overdue_by_minutes=int(data["overdue_by_minutes"]),
                )
                event = None
            else:
                incident = self._incidents.at(delivery.incident_id, delivery.version)
                event = incident.history[delivery.version - 1]
                reminder = None
            message = Message(
                key=delivery.key,
                incident=incident,
                event=event,
                reminder=reminder,
                state=self._state(delivery.sink, delivery.incident_id),
                attempt=attempts,
                now=now,
            )
            return sink.send(message)
        except (DeliveryFailed, StoreUnavailable):
            raise
        except SinkConfigError as exc:
            raise DeliveryFailed(str(exc), retryable=False) from None
        except IncidentFlowError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None

    def _state(self, sink: str, incident_id: str) -> dict[str, str]:
        kept = self._states.get((sink, incident_id))
        if kept is not None:
            return dict(kept)
        with self.outbox.begin() as tx:
            rows = tx.execute(
                "SELECT name, value FROM feed_sink_state WHERE sink = ? AND incident_id = ?",
                (sink, incident_id),
            )
        found = {str(n): str(v) for n, v in rows}
        self._states[(sink, incident_id)] = found
        return dict(found)

    def _save_state(self, states: list[tuple[str, str, str, str]]) -> None:
        with self.outbox.begin() as tx:
            for row in states:
                tx.execute(_UPSERT_STATE, row)

    def _record(self, outcomes: list[tuple[str, tuple[object, ...]]]) -> None:
        """Write each outcome over its delivery, while the claim it was sent under holds.

        A lease that ran out (a long outage) may have been claimed again since, by another
        dispatcher: that claim's outcome is the one kept.
        """
        with self.outbox.begin() as tx:
            for what, params in outcomes:
                if what == "done":
                    tx.execute(
                        "UPDATE feed_deliveries SET status = 'delivered', attempts = ?, "
                        "response = ?, last_error = '', updated_at = ?, claimed_until = 0 "
                        "WHERE key = ? AND claimed_until = ?",
                        params,
                    )
                elif what == "fail":
                    tx.execute(
                        "UPDATE feed_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, "
                        "last_error = ?, updated_at = ?, claimed_until = 0 "
                        "WHERE key = ? AND claimed_until = ?",
                        params,
                    )
                else:
                    tx.execute(
                        "UPDATE feed_deliveries SET claimed_until = 0 "
                        "WHERE key = ? AND claimed_until = ?",
                        params,
                    )

    def _link_back(
        self, sink: Sink, incident_id: str, links: tuple[tuple[LinkKind, str], ...]
    ) -> str:
        """Record what the sink created on the incident, by the sink's actor."""
        for _ in range(5):
            try:
                incident = self.store.load(incident_id)
                recorded = []
                for kind, url in links:
                    current = incident.links.get(kind)
                    if current is not None and current.url == url:
                        continue
                    recorded.append(incident.link(kind, url, actor=sink.actor))
                if recorded:
                    self.store.append(
                        incident_id, recorded, expected_version=incident.version - len(recorded)
                    )
                    self._incidents.forget(incident_id)
                return ""
            except Conflict:
                continue
            except CommandRefused as refused:
                return f"; link not recorded: {refused}"
        return "; link not recorded: the incident kept changing"


def _new_delivery(
    key: str,
    sink: str,
    incident_id: str,
    position: int,
    version: int,
    kind: str,
    stamp: float,
    *,
    status: Status = Status.PENDING,
    last_error: str = "",
    payload: str = "",
) -> tuple[object, ...]:
    """The row :data:`_INSERT` writes for a new delivery: not tried, due at ``stamp``, unclaimed."""
    return (
        key, sink, incident_id, position, version, kind, status.value, 0, stamp, last_error, "",
        stamp, stamp, payload, 0,
    )  # fmt: skip


@frozen
class _Outage:
    """The store unavailable since ``began`` (monotonic seconds), as the follower waits it out."""

    began: float
    pause: float
    """Seconds to wait before the next try."""
    logged: float
    """When the outage was last logged."""

    LOG_EVERY = 60.0
    """Seconds between two log lines of one outage."""

    @classmethod
    def next(
        cls, outage: _Outage | None, exc: StoreUnavailable, *, poll: float, longest: float
    ) -> _Outage:
        """The outage after one more failed try: logged when it begins, then once a minute."""
        now = time.monotonic()
        cause = " ".join(str(exc).split())
        if outage is None:
            pause = max(poll, 0.01)
            _LOG.warning("the store is unavailable: %s; trying again in %g s", cause, pause)
            return cls(began=now, pause=pause, logged=now)
        pause = min(max(longest, poll), outage.pause * 2)
        if now - outage.logged < cls.LOG_EVERY:
            return attrs.evolve(outage, pause=pause)
        _LOG.warning(
            "the store is still unavailable after %.0f s: %s; trying again in %g s",
            now - outage.began,
            cause,
            pause,
        )
        return attrs.evolve(outage, pause=pause, logged=now)

    def lasted(self) -> float:
        """Seconds since the outage began."""
        return time.monotonic() - self.began


_INSERT = (
    f"INSERT INTO feed_deliveries ({COLUMNS}, claimed_until) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING"
)
_UPSERT_STATE = (
    "INSERT INTO feed_sink_state (sink, incident_id, name, value) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (sink, incident_id, name) DO UPDATE SET value = excluded.value"
)
