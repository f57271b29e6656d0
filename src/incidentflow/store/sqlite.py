"""A store in one SQLite file, on the standard library's ``sqlite3``.

Guarantees:

- **Durable once** :meth:`~SQLiteStore.append` **returns**: the database runs in WAL mode with
  ``synchronous=FULL``, so a committed batch survives a crash or power loss.
- **Atomic, optimistic appends**: each append is one ``BEGIN IMMEDIATE`` transaction that
  reads the incident's head version, compares it with the writer's expectation and inserts the
  batch, or raises :class:`~incidentflow.errors.Conflict` and writes nothing.
- **Append-only, enforced by the database**: triggers refuse every ``UPDATE`` and ``DELETE`` on
  the events table, whoever issues it.
- **Tamper evidence**: each event's hash covers the one before it; ``verify`` and ``load``
  find changed, removed, reordered and inserted rows.

Limits: one host only, and never on a network filesystem (SQLite's locking is not reliable
there).  A store object keeps one connection per thread and reconnects after a ``fork``, but
the simplest rule is one store object per process.  Writers wait up to ``timeout`` seconds for
each other, then get :class:`~incidentflow.errors.StoreUnavailable`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from incidentflow.errors import Conflict, InvalidInput, StoreUnavailable
from incidentflow.events import Event
from incidentflow.lifecycle import State
from incidentflow.priorities import Priority

from ._base import (
    DEFAULT_PATH,
    ENVIRONMENT_VARIABLE,
    IncidentSummary,
    Store,
    _Batch,
    _chain,
    _Row,
    _summarize,
    _utc_key,
    genesis_hash,
)

__all__ = ["SCHEMA_VERSION", "SQLiteStore", "open_store"]

SCHEMA_VERSION = 1
"""The database schema this release writes, kept in ``PRAGMA user_version``."""

_SCHEMA = (
    """CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    line TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (incident_id, version)
)""",
    """CREATE TABLE incidents (
    incident_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    priority TEXT NOT NULL,
    state TEXT NOT NULL,
    began_at TEXT NOT NULL,
    declared_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL
)""",
    "CREATE INDEX incidents_by_declaration ON incidents (declared_at, incident_id)",
    """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
    """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
)

_SUMMARY_COLUMNS = "incident_id, title, priority, state, began_at, declared_at, updated_at, version"


def open_store(path: str | os.PathLike[str] | None = None, *, timeout: float = 30.0) -> SQLiteStore:
    """The SQLite store at ``path``, else at ``$INCIDENTFLOW_DB``, else ``./incidents.db``."""
    if path is None:
        path = os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_PATH
    return SQLiteStore(path, timeout=timeout)


class SQLiteStore(Store):
    """A store in one SQLite file, created with its schema on first use.

    ``timeout`` is how long (in seconds) to wait for another writer before giving up with
    :class:`~incidentflow.errors.StoreUnavailable`; ``read_only`` opens the file without
    write access (appends then raise ``StoreUnavailable``).  See the module docstring for
    the guarantees and the limits (one host, no network filesystem).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = DEFAULT_PATH,
        *,
        timeout: float = 30.0,
        read_only: bool = False,
    ) -> None:
        if not isinstance(path, str | os.PathLike):
            raise InvalidInput(f"path must be a str or a path, not {path!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0:
            raise InvalidInput(f"timeout must be a non-negative number, not {timeout!r}")
        if type(read_only) is not bool:
            raise InvalidInput(f"read_only must be a bool, not {read_only!r}")
        self._path = os.fspath(path)
        self._timeout = float(timeout)
        self._read_only = read_only
        self._closed = False
        self._reset()
        self._connection()  # open now, so a bad file is reported here

    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    def __repr__(self) -> str:
        return f"SQLiteStore({self._path!r})"

    # -- connections -----------------------------------------------------------------------

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []

    def _connection(self) -> sqlite3.Connection:
        """The calling thread's connection, opened (and the schema checked) on first use."""
        if self._closed:
            raise StoreUnavailable(f"{self._path}: the store is closed")
        if os.getpid() != self._pid:
            # A forked child must not use its parent's connections (SQLite forbids it); it
            # abandons them unclosed, so closing cannot disturb the parent's locks.
            self._reset()
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._open()
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def _open(self) -> sqlite3.Connection:
        try:
            if self._read_only:
                uri = "file:" + quote(str(Path(self._path).absolute())) + "?mode=ro"
                connection = sqlite3.connect(
                    uri,
                    timeout=self._timeout,
                    isolation_level=None,
                    check_same_thread=False,
                    uri=True,
                )
            else:
                connection = sqlite3.connect(
                    self._path,
                    timeout=self._timeout,
                    isolation_level=None,
                    check_same_thread=False,
                )
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"{self._path}: cannot open the database: {exc}") from exc
        try:
            self._prepare(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _prepare(self, connection: sqlite3.Connection) -> None:
        with _translated(self._path):
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            self._check_schema(version)
            if not self._read_only:
                connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=ON")
            if version == 0 and not self._read_only:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    version = connection.execute("PRAGMA user_version").fetchone()[0]
                    self._check_schema(version)
                    if version == 0:  # no other process created it meanwhile
                        for statement in _SCHEMA:
                            connection.execute(statement)
                        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    connection.execute("COMMIT")
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
            elif version == 0:
                raise StoreUnavailable(f"{self._path}: not an incidentflow store (no schema)")

    def _check_schema(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreUnavailable(
                f"{self._path}: written by a newer incidentflow (schema {version}; this "
                f"release reads {SCHEMA_VERSION}); upgrade incidentflow"
            )

    def close(self) -> None:
        """Close every connection this store opened; further use raises StoreUnavailable."""
        self._closed = True
        if os.getpid() != self._pid:
            return  # a forked child leaves its parent's connections alone
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()

    # -- the interface -----------------------------------------------------------------------

    def _append_all(self, batches: list[_Batch]) -> list[int]:
        connection = self._connection()
        with _translated(self._path):
            connection.execute("BEGIN IMMEDIATE")
            current = batches[0]
            try:
                versions = []
                for current in batches:
                    versions.append(self._insert(connection, *current))
                connection.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                _rollback(connection)
                # A racing writer got past the version check; BEGIN IMMEDIATE should prevent it.
                raise Conflict(
                    incident_id=current.incident_id,
                    expected=current.expected_version,
                    actual=self._version(current.incident_id),
                ) from exc
            except BaseException:
                _rollback(connection)
                raise
            return versions

    def _insert(
        self,
        connection: sqlite3.Connection,
        incident_id: str,
        events: list[Event],
        lines: list[str],
        expected_version: int,
    ) -> int:
        """Check one batch's version and insert it, inside the caller's transaction."""
        head = connection.execute(
            "SELECT version, hash FROM events WHERE incident_id = ? ORDER BY version DESC LIMIT 1",
            (incident_id,),
        ).fetchone()
        actual, previous = (0, genesis_hash(incident_id)) if head is None else head
        if actual != expected_version:
            raise Conflict(incident_id=incident_id, expected=expected_version, actual=actual)
        before = _one_summary(connection, incident_id)
        version = actual + len(lines)
        summary = _summarize(incident_id, before, events, version)
        connection.executemany(
            "INSERT INTO events (incident_id, version, line, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?)",
            [(incident_id, *row) for row in _chain(previous, actual, lines)],
        )
        connection.execute(
            f"INSERT OR REPLACE INTO incidents ({_SUMMARY_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            _summary_row(summary),
        )
        return version

    def _rows(self, incident_id: str) -> tuple[list[_Row], int | None]:
        connection = self._connection()
        with _translated(self._path):
            # One read transaction, so the rows and the summary are from the same moment.
            connection.execute("BEGIN")
            try:
                rows = [
                    _Row(*row)
                    for row in connection.execute(
                        "SELECT version, line, prev_hash, hash FROM events "
                        "WHERE incident_id = ? ORDER BY position",
                        (incident_id,),
                    )
                ]
                recorded = connection.execute(
                    "SELECT version FROM incidents WHERE incident_id = ?", (incident_id,)
                ).fetchone()
            finally:
                connection.execute("COMMIT")
        return rows, None if recorded is None else recorded[0]

    def _version(self, incident_id: str) -> int:
        connection = self._connection()
        with _translated(self._path):
            row = connection.execute(
                "SELECT max(version) FROM events WHERE incident_id = ?", (incident_id,)
            ).fetchone()
        return 0 if row[0] is None else int(row[0])

    def _ids(self) -> list[str]:
        connection = self._connection()
        with _translated(self._path):
            rows = connection.execute(
                "SELECT incident_id FROM events UNION SELECT incident_id FROM incidents "
                "ORDER BY incident_id"
            ).fetchall()
        return [row[0] for row in rows]

    def _select(
        self,
        state: State | None,
        priority: Priority | None,
        since: datetime | None,
        until: datetime | None,
    ) -> list[IncidentSummary]:
        conditions: list[str] = []
        values: list[Any] = []
        if state is not None:
            conditions.append("state = ?")
            values.append(state.value)
        if priority is not None:
            conditions.append("priority = ?")
            values.append(priority.value)
        if since is not None:
            conditions.append("declared_at >= ?")
            values.append(_utc_key(since))
        if until is not None:
            conditions.append("declared_at < ?")
            values.append(_utc_key(until))
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        connection = self._connection()
        with _translated(self._path):
            rows = connection.execute(
                f"SELECT {_SUMMARY_COLUMNS} FROM incidents{where} "
                "ORDER BY declared_at, incident_id",
                values,
            ).fetchall()
        return [_summary(row) for row in rows]

    def _stored(self, after: int) -> Iterator[tuple[int, str, int, str, str]]:
        connection = self._connection()
        while True:
            with _translated(self._path):
                rows = connection.execute(
                    "SELECT position, incident_id, version, line, hash FROM events "
                    "WHERE position > ? ORDER BY position LIMIT 500",
                    (after,),
                ).fetchall()
            if not rows:
                return
            yield from rows
            after = rows[-1][0]


class _translated:
    """Turn ``sqlite3`` errors into :class:`StoreUnavailable`, chained from the original."""

    def __init__(self, path: str) -> None:
        self._path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: Any
    ) -> Literal[False]:
        if isinstance(error, sqlite3.IntegrityError):
            return False  # the caller decides what a constraint failure means
        if isinstance(error, sqlite3.Error):
            raise StoreUnavailable(f"{self._path}: {error}") from error
        return False


def _rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        # SQLite may already have rolled back (e.g. when the disk is full).
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")


def _one_summary(connection: sqlite3.Connection, incident_id: str) -> IncidentSummary | None:
    row = connection.execute(
        f"SELECT {_SUMMARY_COLUMNS} FROM incidents WHERE incident_id = ?", (incident_id,)
    ).fetchone()
    return None if row is None else _summary(row)


def _summary_row(summary: IncidentSummary) -> tuple[Any, ...]:
    return (
        summary.incident_id,
        summary.title,
        summary.priority.value,
        summary.state.value,
        summary.began_at.isoformat(),
        _utc_key(summary.declared_at),
        summary.updated_at.isoformat(),
        summary.version,
    )


def _summary(row: tuple[Any, ...]) -> IncidentSummary:
    incident_id, title, priority, state, began_at, declared_at, updated_at, version = row
    return IncidentSummary(
        incident_id=incident_id,
        title=title,
        priority=Priority(priority),
        state=State(state),
        began_at=datetime.fromisoformat(began_at),
        declared_at=datetime.fromisoformat(declared_at),
        updated_at=datetime.fromisoformat(updated_at),
        version=version,
    )
