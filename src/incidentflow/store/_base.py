"""What every store shares: the interface, its records, the hash chain and the argument checks."""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import NamedTuple, Self

from attrs import evolve, frozen

from incidentflow import codec
from incidentflow._admission import admit
from incidentflow.clock import Clock, require_aware
from incidentflow.errors import DecodeError, InvalidInput, NotFound, ReplayError, Tampered
from incidentflow.events import Declared, Event, PriorityChanged, StateChanged
from incidentflow.incident import Incident
from incidentflow.lifecycle import State
from incidentflow.policy import DEFAULT_POLICY, Policy
from incidentflow.priorities import Priority
from incidentflow.subscribers import Subscribers

__all__ = [
    "DEFAULT_PATH",
    "ENVIRONMENT_VARIABLE",
    "ChainBreak",
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


@frozen(kw_only=True)
class ChainBreak:
    """The first bad event of one incident: its 1-based ``version`` and what is wrong.

    ``reason`` starts with what was found: ``changed``, ``missing``, ``reordered`` or
    ``inserted``.
    """

    incident_id: str
    version: int
    reason: str


def genesis_hash(incident_id: str) -> str:
    """The hash the chain of ``incident_id`` starts from (the previous hash of version 1)."""
    return hashlib.sha256(b"incidentflow:" + incident_id.encode()).hexdigest()


def chain_hash(previous: str, line: str) -> str:
    """The hash of a stored JSON ``line`` following the event whose hash is ``previous``."""
    return hashlib.sha256(previous.encode() + line.encode()).hexdigest()


class _Row(NamedTuple):
    """One stored event as the chain sees it, in stored (position) order."""

    version: int
    line: str
    prev_hash: str
    hash: str


def _utc_key(moment: datetime) -> str:
    """A fixed-width UTC text form of an aware datetime, which sorts as time does."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


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
    return _Batch(checked_id, batch, [codec.dumps(event) for event in batch], version)


def _check_batch(incident_id: str, events: object, expected_version: int) -> list[Event]:
    """The batch as a list, after every check that needs no storage."""
    if isinstance(events, str | bytes) or not isinstance(events, Sequence):
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
    incident_id: str, before: IncidentSummary | None, events: Iterable[Event], version: int
) -> IncidentSummary:
    """The summary after ``events`` (which end at ``version``) follow ``before``."""
    summary = before
    for event in events:
        if isinstance(event, Declared):
            summary = IncidentSummary(
                incident_id=incident_id,
                title=event.title,
                priority=event.priority,
                state=State.DECLARED,
                began_at=event.occurred_at,
                declared_at=event.recorded_at,
                updated_at=event.recorded_at,
                version=0,
            )
        elif summary is None:  # events were kept but their summary was removed behind our back
            raise InvalidInput("the first event must be a declaration")
        elif isinstance(event, PriorityChanged):
            summary = evolve(summary, priority=event.priority)
        elif isinstance(event, StateChanged):
            summary = evolve(summary, state=event.target)
        assert summary is not None
        summary = evolve(summary, updated_at=event.recorded_at)
    assert summary is not None
    return evolve(summary, version=version)


def _find_break(incident_id: str, rows: Sequence[_Row], recorded: int | None) -> ChainBreak | None:
    """The first bad event of an incident's stored rows, or None if the chain holds.

    ``rows`` are in stored order; ``recorded`` is the version the store's summary says the
    incident has (None when there is no summary).
    """

    def broken(version: int, reason: str) -> ChainBreak:
        return ChainBreak(incident_id=incident_id, version=version, reason=reason)

    hashes = [genesis_hash(incident_id)]  # hashes[v] is the hash of version v
    for index, row in enumerate(rows):
        expected = index + 1
        if row.version != expected:
            if row.version < expected:
                return broken(expected, f"inserted: a second event claims version {row.version}")
            if any(later.version == expected for later in rows[index + 1 :]):
                if recorded is not None and recorded < len(rows):
                    # More rows than the store ever wrote: one was slipped in here.
                    return broken(expected, f"inserted: event {expected} was added later")
                return broken(expected, f"reordered: event {expected} is stored out of order")
            return broken(expected, f"missing: event {expected} was removed")
        previous = hashes[-1]
        actual = chain_hash(previous, row.line)
        if actual == row.hash:
            if row.prev_hash != previous:
                return broken(expected, "changed: its stored previous hash was altered")
            hashes.append(actual)
            continue
        if row.prev_hash == previous or chain_hash(row.prev_hash, row.line) != row.hash:
            return broken(expected, "changed: its content does not match its hash")
        # The row is whole but does not follow the event before it.
        if row.prev_hash in hashes[:-1]:
            first = hashes.index(row.prev_hash) + 1
            return broken(first, f"inserted: events {first} to {expected - 1} are not in the chain")
        if any(row.prev_hash == later.hash for later in rows[index + 1 :]):
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
    :class:`~incidentflow.errors.Conflict`); :meth:`load` rebuilds an :class:`Incident`
    re-checking every rule; each event's hash covers the one before it, so changes behind the
    library's back are found by :meth:`verify` and refused by :meth:`load`.
    """

    # -- writing -------------------------------------------------------------------------

    def append(self, incident_id: str, events: Sequence[Event], *, expected_version: int) -> int:
        """Append ``events`` iff the incident is at ``expected_version``; the new version.

        Creating an incident is appending its ``Declared`` event with ``expected_version=0``.
        The batch is written whole or not at all.  Raises
        :class:`~incidentflow.errors.Conflict` if another writer got there first and
        :class:`~incidentflow.errors.InvalidInput` for a malformed batch; the rules are not
        re-checked here (that is the :class:`Incident`'s job).
        """
        return self._append_all([_prepare(incident_id, events, expected_version)])[0]

    def append_many(self, batches: Sequence[tuple[str, Sequence[Event], int]]) -> list[int]:
        """Append several incidents' batches in one transaction: all of them, or none.

        Each item is ``(incident_id, events, expected_version)``, as for :meth:`append`; an
        incident may appear once.  A conflict on any of them writes nothing.  Returns the new
        versions, in order.
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
        return self._append_all(prepared)

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

        Raises :class:`~incidentflow.errors.NotFound` for an unknown id and
        :class:`~incidentflow.errors.Tampered` when the chain is broken, an event does not
        decode or the history breaks the rules.
        """
        events = self.events(incident_id)
        try:
            return Incident.replay(events, policy=policy, clock=clock, subscribers=subscribers)
        except ReplayError as exc:
            raise Tampered(
                incident_id=incident_id,
                version=exc.index + 1,
                reason=f"the rules reject the history: {exc}",
            ) from exc

    def events(self, incident_id: str) -> list[Event]:
        """The incident's events, oldest first, after checking the chain."""
        incident_id = _check_id(incident_id)
        rows, recorded = self._rows(incident_id)
        if not rows and recorded is None:
            raise NotFound(incident_id=incident_id)
        found = _find_break(incident_id, rows, recorded)
        if found is not None:
            raise Tampered(incident_id=incident_id, version=found.version, reason=found.reason)
        events = [_decode(incident_id, row.version, row.line) for row in rows]
        first = events[0]
        if not isinstance(first, Declared) or first.incident_id != incident_id:
            raise Tampered(
                incident_id=incident_id, version=1, reason="it is not this incident's declaration"
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
        datetimes).
        """
        if state is not None and type(state) is not State:
            raise InvalidInput(f"state must be a State or None, not {state!r}")
        if priority is not None and type(priority) is not Priority:
            raise InvalidInput(f"priority must be a Priority or None, not {priority!r}")
        since = _check_moment(since, "since")
        until = _check_moment(until, "until")
        return self._select(state, priority, since, until)

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
                event=_decode(incident_id, version, line),
                hash=digest,
            )

    def verify(self, incident_id: str | None = None) -> list[ChainBreak]:
        """Check the hash chain of one incident or of all; the first bad event of each.

        An empty list means every chain holds.  An unknown ``incident_id`` has nothing to
        break, so it verifies clean.
        """
        ids = self._ids() if incident_id is None else [_check_id(incident_id)]
        breaks = []
        for one in ids:
            rows, recorded = self._rows(one)
            found = _find_break(one, rows, recorded)
            if found is not None:
                breaks.append(found)
        return breaks

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
    def _append_all(self, batches: list[_Batch]) -> list[int]:
        """Atomically check every version, then store every encoded batch and summary."""

    @abc.abstractmethod
    def _rows(self, incident_id: str) -> tuple[list[_Row], int | None]:
        """The incident's rows in stored order and the version its summary records."""

    @abc.abstractmethod
    def _version(self, incident_id: str) -> int:
        """The incident's head version, 0 if unknown."""

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
    ) -> list[IncidentSummary]:
        """The filtered, ordered summaries."""

    @abc.abstractmethod
    def _stored(self, after: int) -> Iterator[tuple[int, str, int, str, str]]:
        """(position, incident_id, version, line, hash) after ``after``, in position order."""


def _decode(incident_id: str, version: int, line: str) -> Event:
    try:
        return codec.loads(line)
    except DecodeError as exc:
        raise Tampered(
            incident_id=incident_id, version=version, reason=f"it does not decode: {exc}"
        ) from exc


def _chain(head: str, version: int, lines: Iterable[str]) -> list[_Row]:
    """The rows storing ``lines`` after ``version``, whose hash is ``head``: numbered, chained."""
    rows = []
    for line in lines:
        version += 1
        digest = chain_hash(head, line)
        rows.append(_Row(version, line, head, digest))
        head = digest
    return rows


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
