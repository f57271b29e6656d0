"""What every store shares: the interface, its records, the hash chain and the argument checks."""

from __future__ import annotations

import abc
import contextlib
import hmac
import operator
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import NamedTuple, Self, cast

from attrs import evolve, fields, frozen

from incidentflow import codec
from incidentflow._admission import admit
from incidentflow.clock import Clock, require_aware
from incidentflow.errors import (
    AlreadyExists,
    CommandRefused,
    Conflict,
    DecodeError,
    InvalidHistory,
    InvalidInput,
    NotFound,
    ReplayError,
    Tampered,
)
from incidentflow.events import Declared, Event, PriorityChanged, StateChanged
from incidentflow.incident import Incident
from incidentflow.lifecycle import State
from incidentflow.policy import DEFAULT_POLICY, Policy
from incidentflow.priorities import Priority
from incidentflow.subscribers import Subscribers

from ._anchor import Anchor, Audit, ChainBreak, Head, _undetectable
from ._feed import (
    FeedEntry,
    Transaction,
    _check_limit,
    _check_name,
    _check_position,
    _check_timeout,
)
from ._keys import _Links, _utc_key

__all__ = [
    "DEFAULT_PATH",
    "ENVIRONMENT_VARIABLE",
    "IncidentSummary",
    "Store",
    "StoredEvent",
    "chain_hash",
    "genesis_hash",
]

DEFAULT_PATH = "incidents.db"
"""The SQLite file :func:`~incidentflow.store.open_store` uses when told nothing else."""

ENVIRONMENT_VARIABLE = "INCIDENTFLOW_DB"
"""The environment variable naming the SQLite file, read by :func:`open_store`."""


@frozen(kw_only=True)
class StoredEvent:
    """One stored event: its global ``position`` (1-based), incident, version and chain hash."""

    position: int
    incident_id: str
    version: int
    event: Event
    hash: str


@frozen(kw_only=True)
class IncidentSummary:
    """An incident at a glance, kept up to date on every append without replaying it.

    ``priority`` and ``state`` come from the stored events' own fields (the declaration,
    priority changes and state changes); ``updated_at`` is the last event's ``recorded_at``.
    """

    incident_id: str
    title: str
    priority: Priority
    state: State
    began_at: datetime
    declared_at: datetime
    updated_at: datetime
    version: int


def genesis_hash(incident_id: str, *, chain_key: bytes | None = None) -> str:
    """The hash the chain of ``incident_id`` starts from (the previous hash of version 1)."""
    return _Links(chain_key).genesis(incident_id)


def chain_hash(previous: str, line: str, *, chain_key: bytes | None = None) -> str:
    """The hash of a stored JSON ``line`` following the event whose hash is ``previous``.

    sha256 of the two without a key; HMAC-SHA256 under ``chain_key`` with one.
    """
    return _Links(chain_key).link(previous, line)


_Stored = tuple[int, str, str, str]
"""One stored event as the chain sees it: its version, line, previous hash and hash.

A store reads them as plain tuples (no object per row beyond the one the driver makes).
"""

_LINE = operator.itemgetter(1)
"""A stored row's line."""


class _Plan(NamedTuple):
    """What storing a checked batch writes: its rows, chained on, and the incident's summary.

    ``before`` is the summary the batch follows (None for a new incident).  The rows (each a
    :data:`_Stored`) are chained from ``follows``, the head the rules were checked at, and
    end at ``head``: if another writer appended since, the first row's version is taken, and
    the unique key on ``(incident_id, version)`` makes the write a
    :class:`~incidentflow.errors.Conflict`.
    """

    rows: list[_Stored]
    before: IncidentSummary | None
    summary: IncidentSummary
    follows: str
    head: str


class _Checked(NamedTuple):
    """A batch the rules accepted: its plan, and the incident replayed up to its new head.

    Kept after the write, it is what a later append to that head starts from.
    """

    plan: _Plan
    policy: Policy
    incident: Incident


_CACHED_INCIDENTS = 64
"""How many replayed incidents a store object keeps for its next appends."""

_CACHE_LOCK = threading.Lock()


def _check_id(incident_id: object) -> str:
    if type(incident_id) is not str or not incident_id.strip():
        raise InvalidInput(f"incident_id must be a non-blank string, not {incident_id!r}")
    return incident_id


def _check_count(value: object, name: str) -> int:
    if type(value) is not int or value < 0:
        raise InvalidInput(f"{name} must be a non-negative int, not {value!r}")
    return value


def _check_moment(value: object, name: str) -> datetime | None:
    return None if value is None else require_aware(value, name)


class _Batch(NamedTuple):
    """One incident's checked, encoded batch, ready for an implementation to store."""

    incident_id: str
    events: list[Event]
    lines: list[str]
    expected_version: int


def _prepare(incident_id: object, events: object, expected_version: object) -> _Batch:
    checked_id = _check_id(incident_id)
    version = _check_count(expected_version, "expected_version")
    batch = _check_batch(checked_id, events, version)
    return _Batch(checked_id, batch, list(map(codec.dumps, batch)), version)


def _check_batch(incident_id: str, events: object, expected_version: int) -> list[Event]:
    """The batch as a list, after every check that needs no storage."""
    if type(events) is not list and (
        isinstance(events, str | bytes) or not isinstance(events, Sequence)
    ):
        raise InvalidInput(f"events must be a sequence of events, not {events!r}")
    batch = list(events)
    if not batch:
        raise InvalidInput("events must not be empty")
    now = datetime.now(UTC)
    for index, event in enumerate(batch):
        if not isinstance(event, Event):
            raise InvalidInput(f"events[{index}] is not an event: {event!r}")
        admit(event, now=now, where=f"events[{index}]: ")  # names, times, text; none rewritten
        version = expected_version + index + 1
        if isinstance(event, Declared):
            if version != 1:
                raise InvalidInput(f"a Declared event can only be version 1, not {version}")
            if event.incident_id != incident_id:
                raise InvalidInput(
                    f"the declaration is of {event.incident_id!r}, not {incident_id!r}"
                )
        elif version == 1:
            raise InvalidInput(f"version 1 must be a Declared event, not {type(event).__name__}")
    return batch


def _summarize(
    incident_id: str, before: IncidentSummary | None, events: Sequence[Event], version: int
) -> IncidentSummary:
    """The summary after ``events`` (which end at ``version``) follow ``before``."""
    # Read into locals and built once: a load re-derives the summary from every event, by
    # exact type (event types have no subclasses), the commonest first.
    if before is not None:
        title, priority, state = before.title, before.priority, before.state
        began, declared, updated = before.began_at, before.declared_at, before.updated_at
    elif not events or type(events[0]) is not Declared:
        # events were kept but their summary was removed behind our back
        raise InvalidInput("the first event must be a declaration")
    for event in events:
        kind = type(event)
        if kind is StateChanged:
            state = cast("StateChanged", event).target
        elif kind is PriorityChanged:
            priority = cast("PriorityChanged", event).priority
        elif kind is Declared:
            declaration = cast("Declared", event)
            title, priority, state = declaration.title, declaration.priority, State.DECLARED
            began, declared = declaration.onset, declaration.declared_time
    if events:
        updated = events[-1].recorded_at
    return IncidentSummary(
        incident_id=incident_id,
        title=title,
        priority=priority,
        state=state,
        began_at=began,
        declared_at=declared,
        updated_at=updated,
        version=version,
    )


def _find_break(
    incident_id: str, rows: Sequence[_Stored], recorded: int | None, links: _Links
) -> ChainBreak | None:
    """The first bad event of an incident's stored rows, or None if the chain holds.

    ``rows`` are in stored order; ``recorded`` is the version the store's summary says the
    incident has (None when there is no summary).
    """

    def broken(version: int, reason: str) -> ChainBreak:
        return ChainBreak(incident_id=incident_id, version=version, reason=reason)

    link = links.link
    hashes = [links.genesis(incident_id)]  # hashes[v] is the hash of version v
    for index, (version, line, prev_hash, digest) in enumerate(rows):
        expected = index + 1
        if version != expected:
            if version < expected:
                return broken(expected, f"inserted: a second event claims version {version}")
            if any(later[0] == expected for later in rows[index + 1 :]):
                if recorded is not None and recorded < len(rows):
                    # More rows than the store ever wrote: one was slipped in here.
                    return broken(expected, f"inserted: event {expected} was added later")
                return broken(expected, f"reordered: event {expected} is stored out of order")
            return broken(expected, f"missing: event {expected} was removed")
        previous = hashes[-1]
        actual = link(previous, line)
        if actual == digest:
            if prev_hash != previous:
                return broken(expected, "changed: its stored previous hash was altered")
            hashes.append(actual)
            continue
        if prev_hash == previous or link(prev_hash, line) != digest:
            return broken(expected, "changed: its content does not match its hash")
        # The row is whole but does not follow the event before it.
        if prev_hash in hashes[:-1]:
            first = hashes.index(prev_hash) + 1
            return broken(first, f"inserted: events {first} to {expected - 1} are not in the chain")
        if any(prev_hash == later[3] for later in rows[index + 1 :]):
            return broken(expected, f"reordered: event {expected} is stored out of order")
        if expected == 1:
            return broken(1, "changed: the first event does not start this incident's chain")
        return broken(
            expected - 1,
            f"changed: event {expected - 1} was rewritten (event {expected} does not follow it)",
        )
    if recorded is not None and recorded > len(rows):
        return broken(len(rows) + 1, f"missing: the store recorded {recorded} events")
    if recorded is not None and recorded < len(rows):
        return broken(recorded + 1, f"inserted: the store recorded only {recorded} events")
    if recorded is None and rows:
        return broken(1, "inserted: the incident has no record in the store")
    return None


class Store(abc.ABC):
    """Where incidents' events are kept: append-only, versioned, hash-chained.

    Every implementation behaves the same: :meth:`append` adds a batch atomically if the
    incident is still at the version the writer read (optimistic concurrency, else
    :class:`~incidentflow.errors.Conflict`) and the incident's rules accept it;
    :meth:`load` rebuilds an :class:`Incident` re-checking every rule; each event's hash
    covers the one before it, so changes behind the library's back are found by
    :meth:`verify` and refused by :meth:`load`.  With a secret ``chain_key`` the hashes are
    HMACs and each incident's head and summary are sealed too (see docs/store.md).
    """

    _links: _Links

    @property
    def keyed(self) -> bool:
        """True when the store's chain is keyed (HMAC-SHA256 under a secret chain key)."""
        return self._links.key is not None

    # -- writing -------------------------------------------------------------------------

    def append(
        self,
        incident_id: str,
        events: Sequence[Event],
        *,
        expected_version: int,
        policy: Policy = DEFAULT_POLICY,
    ) -> int:
        """Append ``events`` iff the incident is at ``expected_version``; the new version.

        Creating an incident is appending its ``Declared`` event with ``expected_version=0``.
        The batch is written whole or not at all.  Before anything is written the stored
        history plus the batch is replayed under the incident's rules (``policy`` where the
        history records none).  Raises :class:`~incidentflow.errors.Conflict` if another
        writer got there first (:class:`~incidentflow.errors.AlreadyExists` for a second
        declaration), :class:`~incidentflow.errors.InvalidHistory` when the rules refuse the
        batch and :class:`~incidentflow.errors.InvalidInput` for a malformed batch.
        """
        batch = _prepare(incident_id, events, expected_version)
        checked = self._check_rules(batch, policy)
        version = self._append_all([(batch, checked.plan)])[0]
        self._remember([(batch.incident_id, checked)])
        return version

    def append_many(
        self,
        batches: Sequence[tuple[str, Sequence[Event], int]],
        *,
        policy: Policy = DEFAULT_POLICY,
    ) -> list[int]:
        """Append several incidents' batches in one transaction: all of them, or none.

        Each item is ``(incident_id, events, expected_version)``, as for :meth:`append`; an
        incident may appear once.  A conflict or a refusal on any of them writes nothing.
        Returns the new versions, in order.
        """
        given: object = batches  # checked at run time for callers without a type checker
        if isinstance(given, str | bytes) or not isinstance(given, Sequence):
            raise InvalidInput(
                f"batches must be a sequence of (id, events, version), not {batches!r}"
            )
        prepared: list[_Batch] = []
        for item in batches:
            if not isinstance(item, tuple) or len(item) != 3:
                raise InvalidInput(
                    f"each batch is (incident_id, events, expected_version), not {item!r}"
                )
            prepared.append(_prepare(*item))
        ids = [b.incident_id for b in prepared]
        if len(set(ids)) != len(ids):
            raise InvalidInput("append_many names an incident more than once")
        if not prepared:
            return []
        checked = [self._check_rules(batch, policy) for batch in prepared]
        versions = self._append_all(
            [(batch, one.plan) for batch, one in zip(prepared, checked, strict=True)]
        )
        self._remember([(b.incident_id, one) for b, one in zip(prepared, checked, strict=True)])
        return versions

    def _check_rules(self, batch: _Batch, policy: Policy) -> _Checked:
        """Refuse a batch the incident's rules refuse; nothing written.  Else, its plan.

        The stored prefix of ``expected_version`` events can never change (events are
        append-only), so checking outside the append's transaction is sound: if another
        writer appends meanwhile, the append itself raises Conflict.  The incident replayed
        for the last append through this store object is kept (with the head and summary it
        ended at), so appending again to the same head reads nothing and checks the new
        events only; otherwise the whole history is read, verified and replayed (O(history)).
        """
        incident_id, expected = batch.incident_id, batch.expected_version
        with _CACHE_LOCK:
            cached = self._replayed().pop(incident_id, None)
        if (
            cached is not None
            and cached.plan.summary.version == expected
            and cached.policy is policy
        ):
            # This store object's own last append left the incident at the version the writer
            # expects: no read, since the write's unique key checks the head again, atomically
            # (another writer's append since then makes it a Conflict).
            incident, head = cached.incident, cached.plan.head
            before: IncidentSummary | None = cached.plan.summary
            for offset, event in enumerate(batch.events):
                try:
                    incident._record_admitted(event)  # admitted by _prepare
                except CommandRefused as exc:
                    raise InvalidHistory(
                        incident_id=incident_id,
                        version=expected + offset + 1,
                        unmet=exc.unmet,
                        stored=False,
                    ) from exc
        else:
            actual, known = self._head(incident_id)
            if actual != expected:
                raise _conflict(incident_id, expected, actual)
            head = self._links.genesis(incident_id) if known is None else known
            # Only the prefix the writer read: another writer may have appended since the
            # head was read, which the append itself reports as a Conflict.
            prefix = self.events(incident_id)[:expected] if expected else []
            try:
                incident = Incident.replay([*prefix, *batch.events], policy=policy)
            except ReplayError as exc:
                raise InvalidHistory(
                    incident_id=incident_id,
                    version=exc.index + 1,
                    unmet=exc.unmet,
                    detail=exc.detail,
                    stored=exc.index < len(prefix),
                ) from exc
            before = _summarize(incident_id, None, prefix, expected) if prefix else None
        return _Checked(_plan(batch, head, before, self._links), policy, incident)

    def _remember(self, checked: Sequence[tuple[str, _Checked]]) -> None:
        """Keep the incidents just appended, replayed, for the next append to each."""
        with _CACHE_LOCK:
            replayed = self._replayed()
            for incident_id, one in checked:
                replayed.pop(incident_id, None)
                replayed[incident_id] = one
                while len(replayed) > _CACHED_INCIDENTS:
                    del replayed[next(iter(replayed))]

    def _replayed(self) -> dict[str, _Checked]:
        cache: dict[str, _Checked] | None = self.__dict__.get("_replayed_cache")
        if cache is None:
            cache = self.__dict__.setdefault("_replayed_cache", {})
        return cache

    # -- reading -------------------------------------------------------------------------

    def load(
        self,
        incident_id: str,
        *,
        policy: Policy = DEFAULT_POLICY,
        clock: Clock | None = None,
        subscribers: Subscribers | None = None,
    ) -> Incident:
        """Rebuild the incident from its events, checking the chain and every rule.

        Raises :class:`~incidentflow.errors.NotFound` for an unknown id,
        :class:`~incidentflow.errors.Tampered` when the chain, the summary or the seal is
        broken or an event does not decode, and :class:`~incidentflow.errors.InvalidHistory`
        when a well-chained history breaks the rules (``policy`` where it records none).
        """
        events = self.events(incident_id)
        try:
            incident = Incident.replay(events, policy=policy, clock=clock, subscribers=subscribers)
        except ReplayError as exc:
            raise InvalidHistory(
                incident_id=incident_id, version=exc.index + 1, unmet=exc.unmet, detail=exc.detail
            ) from exc
        incident._saved = incident.version
        return incident

    def save(self, incident: Incident) -> int:
        """Append what ``incident`` recorded since it was loaded or last saved; the version.

        The expected version is the one the incident was loaded (or last saved) at, so a
        writer who got there first makes it raise :class:`~incidentflow.errors.Conflict`
        and nothing is written: load the incident again and repeat the commands.  A newly
        declared incident is saved whole (expected version 0).  Nothing new is a no-op.
        Rules are checked as by :meth:`append`, under the incident's own policy.

        >>> from incidentflow import Incident, Priority
        >>> from incidentflow.store import InMemoryStore
        >>> store = InMemoryStore()
        >>> incident = Incident.declare("INC-7", "Checkout is slow", Priority.P2, actor="ana")
        >>> store.save(incident)
        1
        >>> loaded = store.load("INC-7")
        >>> _ = loaded.note("p95 is 4 s", actor="ana")
        >>> store.save(loaded), store.save(loaded)
        (2, 2)
        """
        if not isinstance(incident, Incident):
            raise InvalidInput(f"save takes an Incident, not {incident!r}")
        saved = incident._saved
        new = list(incident.history[saved:])
        if not new:
            return incident.version
        version = self.append(incident.id, new, expected_version=saved, policy=incident.policy)
        incident._saved = version
        return version

    def events(self, incident_id: str) -> list[Event]:
        """The incident's events, oldest first, after checking the chain, summary and seal."""
        incident_id = _check_id(incident_id)
        rows, summary, seal = self._rows(incident_id)
        if not rows and summary is None:
            raise NotFound(incident_id=incident_id, store=self._where())
        return self._verified(incident_id, rows, summary, seal)

    def _verified(
        self,
        incident_id: str,
        rows: list[_Stored],
        summary: IncidentSummary | None,
        seal: str | None,
    ) -> list[Event]:
        """The decoded events, or Tampered at the first thing that is wrong."""

        def tampered(version: int, reason: str) -> Tampered:
            return Tampered(incident_id=incident_id, version=version, reason=reason)

        recorded = None if summary is None else summary.version
        # The usual case first: every row in order and chained, as many as the summary says;
        # anything else is looked at closely, to say what is wrong.
        if recorded != len(rows) or not self._links.chained(incident_id, rows):
            found = _find_break(incident_id, rows, recorded, self._links)
            if found is not None:
                raise tampered(found.version, found.reason)
        assert summary is not None  # rows without a summary are a break
        if not rows:
            raise tampered(1, f"missing: the store recorded {summary.version} events")
        # The chain holds, so every row is as it was appended, when its event was checked
        # whole: it is read by the trusted path (checks of type only).
        try:
            events = codec._read_verified(list(map(_LINE, rows)))
        except DecodeError:  # say which one
            events = [_decode(incident_id, row[0], row[1], verified=True) for row in rows]
        first = events[0]
        if type(first) is not Declared or first.incident_id != incident_id:
            raise tampered(1, "changed: it is not this incident's declaration")
        expected = _summarize(incident_id, None, events, len(events))
        if summary != expected:
            for field in fields(IncidentSummary):
                stored, actual = getattr(summary, field.name), getattr(expected, field.name)
                if stored != actual:
                    raise tampered(
                        len(events),
                        f"changed: the summary row says {field.name} {_shown(stored)}, "
                        f"the events say {_shown(actual)}",
                    )
        if self.keyed and seal != self._links.seal(summary, rows[-1][3]):
            raise tampered(
                len(events) + 1,
                f"missing: the head at version {len(events)} does not carry the store's seal "
                "(newer events removed, or the incident's rows or summary rewritten)",
            )
        return events

    def version(self, incident_id: str) -> int:
        """The incident's version: how many events it has (0 if unknown)."""
        return self._version(_check_id(incident_id))

    def incidents(
        self,
        *,
        state: State | None = None,
        priority: Priority | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[IncidentSummary]:
        """Summaries of the stored incidents, by declaration time then id.

        Filters: ``state``, ``priority``, and ``since <= declared_at < until`` (aware
        datetimes).  In a keyed store each summary's seal is checked (a summary row edited
        behind the library's back raises :class:`~incidentflow.errors.Tampered`).
        """
        if state is not None and type(state) is not State:
            raise InvalidInput(f"state must be a State or None, not {state!r}")
        if priority is not None and type(priority) is not Priority:
            raise InvalidInput(f"priority must be a Priority or None, not {priority!r}")
        since = _check_moment(since, "since")
        until = _check_moment(until, "until")
        found = self._select(state, priority, since, until)
        if self.keyed:
            for summary, seal, head in found:
                if head is None or seal != self._links.seal(summary, head):
                    raise Tampered(
                        incident_id=summary.incident_id,
                        version=summary.version,
                        reason="changed: its summary row does not carry the store's seal",
                    )
        return [summary for summary, _, _ in found]

    def read_all(self, *, after: int = 0) -> Iterator[StoredEvent]:
        """Every stored event in the order appended, skipping global positions ``<= after``."""
        after = _check_count(after, "after")
        return self._read_all(after)

    def _read_all(self, after: int) -> Iterator[StoredEvent]:
        for position, incident_id, version, line, digest in self._stored(after):
            yield StoredEvent(
                position=position,
                incident_id=incident_id,
                version=version,
                event=_decode(incident_id, version, line, position=position),
                hash=digest,
            )

    # -- the feed ------------------------------------------------------------------------

    def read_since(self, position: int = 0, *, limit: int = 1000) -> list[FeedEntry]:
        """Up to ``limit`` events of every incident after feed ``position``, in commit order.

        Start at 0 and pass the last entry's position to read on.  An event never becomes
        readable behind one already returned, so a consumer that resumes from the last
        position it handled misses nothing and sees nothing twice.
        """
        after = _check_position(position)
        count = _check_limit(limit)
        return [
            FeedEntry(
                position=at,
                incident_id=incident_id,
                version=version,
                event=_decode(incident_id, version, line, position=at),
            )
            for at, incident_id, version, line in self._feed(after, count)
        ]

    def wait(self, position: int, *, timeout: float) -> bool:
        """True as soon as an event after feed ``position`` is readable; False after ``timeout``."""
        after = _check_position(position)
        seconds = _check_timeout(timeout)
        return self._wait(after, seconds)

    def checkpoint(self, name: str) -> int:
        """The feed position consumer ``name`` last advanced to (0 when it never did)."""
        return self._checkpoint(_check_name(name))

    def advance(self, name: str, position: int) -> None:
        """Record durably that consumer ``name`` has handled the feed up to ``position``.

        Moving backwards raises :class:`~incidentflow.errors.CheckpointConflict` and changes
        nothing; advancing to the current position again does nothing.
        """
        with self.transaction() as transaction:
            transaction.advance(name, position)

    @abc.abstractmethod
    def transaction(self) -> contextlib.AbstractContextManager[Transaction]:
        """A database transaction for a consumer's own writes and its checkpoint, together.

        Committed when the ``with`` block ends, rolled back when it raises.  Inside the block
        use only the :class:`~incidentflow.store.Transaction` (not the store's other methods).
        """

    _POLL_SECONDS = 0.05
    """How often a store without notifications looks for new events while waiting."""

    def _wait(self, after: int, timeout: float) -> bool:
        """Poll for an event after ``after`` until ``timeout`` seconds have passed."""
        deadline = time.monotonic() + timeout
        while True:
            if self._feed(after, 1):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(self._POLL_SECONDS, left))

    # -- checking ------------------------------------------------------------------------

    def verify(
        self, incident_id: str | None = None, *, anchor: Anchor | None = None
    ) -> list[ChainBreak]:
        """Check one incident or all; the first bad event of each broken one.

        An empty list means nothing was found wrong; :meth:`audit` also says what could not
        have been found.  An unknown ``incident_id`` raises
        :class:`~incidentflow.errors.NotFound`.
        """
        return list(self.audit(incident_id, anchor=anchor).breaks)

    def audit(self, incident_id: str | None = None, *, anchor: Anchor | None = None) -> Audit:
        """Check chains, summaries, seals (and an ``anchor``); say what this mode cannot see.

        With ``anchor`` (from :meth:`anchor`), an incident whose history no longer extends
        its anchored head (fewer events, another hash at the anchored version, gone) is
        reported too.
        """
        if anchor is not None and not isinstance(anchor, Anchor):
            raise InvalidInput(f"anchor must be an Anchor or None, not {anchor!r}")
        heads = {} if anchor is None else self._anchored(anchor)
        if incident_id is None:
            ids = sorted(set(self._ids()) | heads.keys())
        else:
            ids = [_check_id(incident_id)]
        breaks = []
        for one in ids:
            rows, summary, seal = self._rows(one)
            if not rows and summary is None and one not in heads:
                raise NotFound(incident_id=one, store=self._where())
            found = self._inspect(one, rows, summary, seal, heads.get(one))
            if found is not None:
                breaks.append(found)
        return Audit(
            checked=len(ids),
            keyed=self.keyed,
            anchored=anchor is not None,
            breaks=tuple(breaks),
            undetectable=_undetectable(keyed=self.keyed, anchored=anchor is not None),
        )

    def _inspect(
        self,
        incident_id: str,
        rows: list[_Stored],
        summary: IncidentSummary | None,
        seal: str | None,
        head: Head | None,
    ) -> ChainBreak | None:
        def broken(version: int, reason: str) -> ChainBreak:
            return ChainBreak(incident_id=incident_id, version=version, reason=reason)

        if rows or summary is not None:
            try:
                self._verified(incident_id, rows, summary, seal)
            except Tampered as exc:
                return broken(exc.version, exc.reason)
        if head is None:
            return None
        if not rows:
            return broken(
                1, f"missing: the incident is gone; the anchor holds {head.version} events"
            )
        if len(rows) < head.version:
            return broken(
                len(rows) + 1,
                f"missing: the anchor holds {head.version} events, the store {len(rows)}",
            )
        if rows[head.version - 1][3] != head.hash:
            return broken(
                head.version,
                f"changed: event {head.version} is not the one anchored (it, or an event "
                "before it, was rewritten)",
            )
        return None

    def anchor(self, *, at: datetime | None = None) -> Anchor:
        """A checkpoint of every incident's head, authenticated with the chain key if any.

        The store is verified first: anchoring a store with a break raises
        :class:`~incidentflow.errors.Tampered` (an anchor must not bless a change).
        """
        moment = datetime.now(UTC) if at is None else require_aware(at, "at")
        heads = []
        for one in self._ids():
            rows, summary, seal = self._rows(one)
            self._verified(one, rows, summary, seal)
            heads.append(Head(incident_id=one, version=len(rows), hash=rows[-1][3]))
        anchor = Anchor(created_at=moment, keyed=self.keyed, heads=tuple(heads))
        return evolve(anchor, mac=self._links.anchor_mac(anchor))

    def _anchored(self, anchor: Anchor) -> dict[str, Head]:
        """The anchor's heads by id, after checking it belongs to a store keyed like this one."""
        if anchor.keyed != self.keyed:
            mode = "a keyed store" if anchor.keyed else "a store without a chain key"
            raise InvalidInput(f"the anchor was taken of {mode}; this store is not one")
        expected = self._links.anchor_mac(evolve(anchor, mac=None))
        if expected is not None and not (
            anchor.mac is not None and hmac.compare_digest(anchor.mac, expected)
        ):
            raise InvalidInput(
                "the anchor was not written with this store's chain key, or was changed since"
            )
        return {head.incident_id: head for head in anchor.heads}

    # -- lifetime ------------------------------------------------------------------------

    @abc.abstractmethod
    def close(self) -> None:
        """Release the store's resources; using it afterwards is an error."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- what an implementation provides ---------------------------------------------------

    @abc.abstractmethod
    def _where(self) -> str:
        """Where the store is, as "not found" messages name it."""

    @abc.abstractmethod
    def _append_all(self, planned: list[tuple[_Batch, _Plan]]) -> list[int]:
        """Store every batch's rows and summary, atomically, unless a version is taken.

        A batch whose first version another writer stored since its plan was made raises
        :class:`~incidentflow.errors.Conflict` and nothing is written.
        """

    @abc.abstractmethod
    def _rows(self, incident_id: str) -> tuple[list[_Stored], IncidentSummary | None, str | None]:
        """The incident's rows in stored order, its summary and the summary's seal."""

    @abc.abstractmethod
    def _version(self, incident_id: str) -> int:
        """The incident's head version, 0 if unknown."""

    @abc.abstractmethod
    def _head(self, incident_id: str) -> tuple[int, str | None]:
        """The incident's head version and the hash of its newest event ((0, None) if none)."""

    @abc.abstractmethod
    def _ids(self) -> list[str]:
        """Every incident id with events or a summary, sorted."""

    @abc.abstractmethod
    def _select(
        self,
        state: State | None,
        priority: Priority | None,
        since: datetime | None,
        until: datetime | None,
    ) -> list[tuple[IncidentSummary, str | None, str | None]]:
        """The filtered, ordered summaries, each with its seal and its head's hash."""

    @abc.abstractmethod
    def _feed(self, after: int, limit: int) -> list[tuple[int, str, int, str]]:
        """Up to ``limit`` (position, incident_id, version, line) after ``after``, in order."""

    @abc.abstractmethod
    def _checkpoint(self, name: str) -> int:
        """The stored position of checkpoint ``name``, 0 when there is none."""

    @abc.abstractmethod
    def _stored(self, after: int) -> Iterator[tuple[int, str, int, str, str]]:
        """(position, incident_id, version, line, hash) after ``after``, in position order."""


def _shown(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(getattr(value, "value", value))


def _conflict(incident_id: str, expected: int, actual: int) -> Conflict:
    """The conflict an append at ``expected`` meets at ``actual`` (AlreadyExists for 0)."""
    if expected == 0:
        return AlreadyExists(incident_id=incident_id, actual=actual)
    return Conflict(incident_id=incident_id, expected=expected, actual=actual)


def _rewritten(incident_id: str, version: int) -> Tampered:
    """The event an append follows is there, at its version, with another hash than it had."""
    return Tampered(
        incident_id=incident_id,
        version=version,
        reason="changed: its hash is not the one the append follows (nothing was written)",
    )


def _unrecorded(incident_id: str) -> Tampered:
    """An append to an incident whose summary row was removed behind the store's back."""
    return Tampered(
        incident_id=incident_id,
        version=1,
        reason="inserted: the incident has no record in the store (nothing was written)",
    )


def _decode(
    incident_id: str,
    version: int,
    line: str,
    *,
    verified: bool = False,
    position: int | None = None,
) -> Event:
    try:
        return codec._loads_verified(line) if verified else codec.loads(line)
    except DecodeError as exc:
        raise Tampered(
            incident_id=incident_id,
            version=version,
            reason=f"it does not decode: {exc}",
            position=position,
        ) from exc


def _plan(batch: _Batch, head: str, before: IncidentSummary | None, links: _Links) -> _Plan:
    """What storing ``batch`` after ``head`` (and the summary ``before``) writes."""
    rows: list[_Stored] = []
    link, follows, version = links.link, head, batch.expected_version
    for line in batch.lines:  # numbered and chained
        version += 1
        digest = link(head, line)
        rows.append((version, line, head, digest))
        head = digest
    return _Plan(
        rows, before, _summarize(batch.incident_id, before, batch.events, version), follows, head
    )


def _matches(
    summary: IncidentSummary,
    state: State | None,
    priority: Priority | None,
    since: datetime | None,
    until: datetime | None,
) -> bool:
    return (
        (state is None or summary.state is state)
        and (priority is None or summary.priority is priority)
        and (since is None or summary.declared_at >= since)
        and (until is None or summary.declared_at < until)
    )


def _order(summary: IncidentSummary) -> tuple[str, str]:
    return (_utc_key(summary.declared_at), summary.incident_id)
