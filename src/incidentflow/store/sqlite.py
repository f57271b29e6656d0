"""A store in one SQLite file, on the standard library's ``sqlite3``.

Guarantees:

- **Durable once** :meth:`~SQLiteStore.append` **returns**: the database runs in WAL mode with
  ``synchronous=FULL``, so a committed batch survives a crash or power loss.
- **Atomic, optimistic appends**: each append is one ``BEGIN IMMEDIATE`` transaction that
  inserts the batch after the head the writer expected (read before, or known from this store
  object's own last append); if another writer took that version since, the unique key on
  ``(incident_id, version)`` refuses the insert, and the append raises
  :class:`~incidentflow.errors.Conflict` and writes nothing.
- **Append-only, enforced by the database**: triggers refuse every ``UPDATE`` and ``DELETE`` on
  the events table, whoever issues it.
- **Tamper evidence**: each event's hash covers the one before it; ``verify`` and ``load``
  find changed, removed, reordered and inserted rows and summary rows that disagree with the
  events.  With a secret ``chain_key`` the links are HMACs and each incident's head is sealed.
- **Reading never writes**: a store opened with ``read_only=True`` never creates, migrates or
  converts a file, never changes its journal mode and leaves no file behind.

Limits: one host only, and never on a network filesystem (SQLite's locking is not reliable
there).  A store object keeps one connection per thread and reconnects after a ``fork``, but
the simplest rule is one store object per process.  Writers wait up to ``timeout`` seconds for
each other, then get :class:`~incidentflow.errors.StoreBusy`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from incidentflow.errors import InvalidInput, StoreBusy, StoreError, StoreUnavailable, Tampered
from incidentflow.lifecycle import State
from incidentflow.priorities import Priority

from ._base import (
    DEFAULT_PATH,
    ENVIRONMENT_VARIABLE,
    IncidentSummary,
    Store,
    _Batch,
    _conflict,
    _Plan,
    _rewritten,
    _Stored,
    _unrecorded,
)
from ._feed import Dialect, Transaction, _check_name, _check_position, _check_sql, _moved
from ._keys import _Links, chain_key_from_environment
from ._rows import (
    HEAD_HASH,
    SUMMARY_COLUMNS,
    SUMMARY_UPDATE,
    summary_filter,
    summary_of,
    summary_row,
)

__all__ = ["SCHEMA_VERSION", "SQLiteStore", "open_store"]

SCHEMA_VERSION = 3
"""The database schema this release writes, kept in ``PRAGMA user_version``.

Version 2 added the ``meta`` table (how the chain is hashed, and the key check of a keyed
store) and the summary rows' ``seal``; version 3 the feed consumers' ``checkpoints``.  Older
files are read as they are; the first writer to open one migrates it.
"""

_SCHEMA_V1 = (
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

_TO_V2 = (
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "ALTER TABLE incidents ADD COLUMN seal TEXT",
)

_TO_V3 = ("CREATE TABLE checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL)",)

_TABLES = {
    1: {"events", "incidents"},
    2: {"events", "incidents", "meta"},
    3: {"events", "incidents", "meta", "checkpoints"},
}

_KEYED = "hmac-sha256"
_UNKEYED = "sha256"


_KEY_HELP = (
    "give its key ($INCIDENTFLOW_CHAIN_KEY, $INCIDENTFLOW_CHAIN_KEY_FILE or --chain-key-file)"
)

T = TypeVar("T")


def open_store(
    path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = 30.0,
    read_only: bool = False,
    chain_key: bytes | None = None,
) -> Store:
    """The store at ``path``, else at ``$INCIDENTFLOW_DB``, else ``./incidents.db``.

    A ``postgresql://`` (or ``postgres://``) URL opens a
    :class:`~incidentflow.store.PostgresStore` (libpq's ``PG*`` environment variables fill in
    what the URL leaves out; it needs the ``postgres`` extra); anything else is a SQLite file.
    ``chain_key`` defaults to the key in ``$INCIDENTFLOW_CHAIN_KEY`` (hex) or in the file named
    by ``$INCIDENTFLOW_CHAIN_KEY_FILE``, if either is set.  ``$INCIDENTFLOW_POOLER`` set to
    ``transaction`` opens a PostgreSQL store with ``transaction_pooler=True`` (``session``,
    or unset, without).
    """
    if path is None:
        path = os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_PATH
    if chain_key is None:
        chain_key = chain_key_from_environment()
    if isinstance(path, str) and path.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore, _transaction_pooler_from_environment

        return PostgresStore(
            path,
            timeout=timeout,
            read_only=read_only,
            chain_key=chain_key,
            transaction_pooler=_transaction_pooler_from_environment(),
        )
    return SQLiteStore(path, timeout=timeout, read_only=read_only, chain_key=chain_key)


_FORKS = [0]
"""How many times this process's ancestry forked since the module was imported: a store
made before a fork tells it is in the child without asking the kernel for its pid."""
os.register_at_fork(after_in_child=lambda: _FORKS.__setitem__(0, _FORKS[0] + 1))


class SQLiteStore(Store):
    """A store in one SQLite file, created with its schema by the first writer.

    ``timeout`` is how long (in seconds) to wait for another writer before giving up with
    :class:`~incidentflow.errors.StoreBusy`; ``read_only`` opens an existing store without
    write access (appends then raise ``StoreUnavailable``; nothing is created, migrated or
    left behind); ``chain_key`` (at least 32 secret bytes, kept outside the database) keys the
    chain: a new store records that it is keyed, and a keyed store refuses to open without
    its key or with another.  See the module docstring for the guarantees and the limits.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = DEFAULT_PATH,
        *,
        timeout: float = 30.0,
        read_only: bool = False,
        chain_key: bytes | None = None,
    ) -> None:
        if not isinstance(path, str | os.PathLike):
            raise InvalidInput(f"path must be a str or a path, not {path!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0:
            raise InvalidInput(f"timeout must be a non-negative number, not {timeout!r}")
        if type(read_only) is not bool:
            raise InvalidInput(f"read_only must be a bool, not {read_only!r}")
        self._links = _Links(chain_key)
        self._path = os.fspath(path)
        self._timeout = float(timeout)
        self._read_only = read_only
        self._seal_column = "seal"
        self._checkpoints = True
        self._closed = False
        self._reset()
        self._connection()  # open now, so a bad file is reported here

    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    def __repr__(self) -> str:
        return f"SQLiteStore({self._path!r})"

    def _where(self) -> str:
        return self._path

    # -- connections -----------------------------------------------------------------------

    def _reset(self) -> None:
        self._forks = _FORKS[0]
        self._lock = threading.Lock()
        self._local = threading.local()
        # Each thread's connection and, for an immutable reader, its lock's descriptor.
        self._connections: list[tuple[sqlite3.Connection, int | None]] = []

    def _connection(self) -> sqlite3.Connection:
        """The calling thread's connection, opened (and the schema checked) on first use."""
        if self._closed:
            raise StoreUnavailable(f"{self._path}: the store is closed")
        if _FORKS[0] != self._forks:
            # A forked child must not use its parent's connections (SQLite forbids it); it
            # abandons them unclosed, so closing cannot disturb the parent's locks.
            self._reset()
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            pin: int | None = None
            snapshot: tuple[int, int, int] | None = None
            if self._read_only:
                connection, pin, snapshot = self._open_reader()
            else:
                connection = self._open_writer()
            try:
                self._prepare(connection)
            except BaseException:
                _close(connection, pin)
                raise
            self._local.connection = connection
            self._local.pin = pin
            self._local.snapshot = snapshot
            with self._lock:
                self._connections.append((connection, pin))
        return connection

    def _open_writer(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(
                self._path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"{self._path}: cannot open the database: {exc}") from exc

    def _open_reader(
        self,
    ) -> tuple[sqlite3.Connection, int | None, tuple[int, int, int] | None]:
        """A connection that cannot write, and creates no file, not even -wal or -shm.

        While a writer is active (its ``-wal`` file exists) the reader shares the writer's
        WAL and index read-only.  Otherwise every committed event is in the main file: the
        reader takes SQLite's shared lock on it (so a closing writer cannot checkpoint into
        it), reads it as immutable, and reads again should it change meanwhile.  Returns the
        connection, the lock's descriptor and the file's (inode, size, mtime) when immutable.
        """
        try:
            with open(self._path, "rb") as file:
                header = file.read(16)
        except FileNotFoundError:
            raise StoreUnavailable(
                f"{self._path}: no incidentflow store here (reading never creates one)"
            ) from None
        except OSError as exc:
            raise StoreUnavailable(f"{self._path}: cannot open the database: {exc}") from exc
        if header != b"SQLite format 3\x00":
            what = "an empty file" if not header else "not a SQLite database"
            raise StoreUnavailable(f"{self._path}: not an incidentflow store ({what})")
        uri = "file:" + quote(str(Path(self._path).absolute())) + "?mode=ro"
        pin = self._pin()
        snapshot = None
        if not os.path.exists(self._path + "-wal"):
            uri += "&immutable=1"
            snapshot = _identity(self._path)
        try:
            connection = sqlite3.connect(
                uri, timeout=self._timeout, isolation_level=None, check_same_thread=False, uri=True
            )
        except sqlite3.Error as exc:  # pragma: no cover - the file was just read
            _close(None, pin)
            raise StoreUnavailable(f"{self._path}: cannot open the database: {exc}") from exc
        return connection, pin, snapshot

    def _pin(self) -> int | None:
        """A descriptor holding SQLite's shared lock on the file; None if it cannot be had."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on POSIX: the stat check alone guards
            return None
        try:
            descriptor = os.open(self._path, os.O_RDONLY)
        except OSError:  # pragma: no cover - the file was readable a moment ago
            return None
        try:
            # SQLite's shared lock: a read lock on its 510-byte shared range at 2**30 + 2.
            fcntl.lockf(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB, 510, 2**30 + 2, os.SEEK_SET)
        except OSError:  # pragma: no cover - a writer holds it exclusively, for a moment
            os.close(descriptor)
            return None
        return descriptor

    def _read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read; an immutable reader whose file has moved on reads again afresh."""
        for _ in range(3):
            snapshot = getattr(self._local, "snapshot", None)
            if snapshot is not None and os.path.exists(self._path + "-wal"):
                self._forget()  # a writer has started: read through its WAL from now on
            connection = self._connection()
            with _translated(self._path):
                result = query(connection)
            snapshot = getattr(self._local, "snapshot", None)
            if snapshot is None or snapshot == _identity(self._path):
                return result
            self._forget()
        raise StoreBusy(f"{self._path}: the file kept changing while it was read; try again")

    def _forget(self) -> None:
        """Close the calling thread's connection; its next read opens a fresh one."""
        connection, pin = self._local.connection, self._local.pin
        with self._lock:
            self._connections.remove((connection, pin))
        _close(connection, pin)
        self._local.connection = self._local.pin = self._local.snapshot = None

    def _prepare(self, connection: sqlite3.Connection) -> None:
        with _translated(self._path):
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            self._check_schema(connection, version)
            if self._read_only:
                if version == 0:
                    raise StoreUnavailable(f"{self._path}: not an incidentflow store (no schema)")
                self._seal_column = "seal" if version >= 2 else "NULL"
                self._checkpoints = version >= 3
                self._check_keying(connection, *_meta(connection, version))
                return
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=ON")
            mode, check = _meta(connection, version)
            if version < SCHEMA_VERSION or (self.keyed and mode != _KEYED):
                self._set_up(connection)
            else:
                self._check_keying(connection, mode, check)

    def _set_up(self, connection: sqlite3.Connection) -> None:
        """Create, migrate or key the store, in one transaction; only writers do this."""
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            self._check_schema(connection, version)  # another process may have set it up
            mode, check = _meta(connection, version)
            self._check_keying(connection, mode, check, setting_up=True)
            if version == 0:
                for statement in _SCHEMA_V1:
                    connection.execute(statement)
            if version < 2:
                for statement in _TO_V2:
                    connection.execute(statement)
            if version < 3:
                for statement in _TO_V3:
                    connection.execute(statement)
            wanted = _KEYED if self.keyed else (mode or _UNKEYED)
            connection.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES ('chain', ?)", (wanted,)
            )
            if self.keyed and check is None:
                connection.execute(
                    "INSERT OR REPLACE INTO meta (name, value) VALUES ('key_check', ?)",
                    (self._links.check_value(),),
                )
            if version != SCHEMA_VERSION:
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute("COMMIT")
        except BaseException:
            _rollback(connection)
            raise

    def _check_schema(self, connection: sqlite3.Connection, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreUnavailable(
                f"{self._path}: written by a newer incidentflow (schema {version}; this "
                f"release reads {SCHEMA_VERSION}); upgrade incidentflow"
            )
        tables = {
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        if version == 0 and not tables:
            return
        expected = _TABLES.get(version)
        # From schema 3 on, the feed's consumers keep their own tables, named feed_*, beside
        # the store's (the dispatcher's outbox); any other table is not ours.
        consumers = {t for t in tables if t.startswith("feed_")} if version >= 3 else set()
        if expected is None or tables - consumers != expected:
            shown = ", ".join(sorted(tables)) or "none"
            raise StoreUnavailable(
                f"{self._path}: not an incidentflow store (schema {version}, tables: {shown}); "
                "it was left as it is"
            )

    def _check_keying(
        self,
        connection: sqlite3.Connection,
        mode: str | None,
        check: str | None,
        *,
        setting_up: bool = False,
    ) -> None:
        """Refuse a keyed store without its key, a wrong key, and a key for an unkeyed store."""
        if mode == _KEYED:
            if not self.keyed:
                raise StoreUnavailable(f"{self._path}: this store's chain is keyed; {_KEY_HELP}")
            if check != self._links.check_value():
                raise StoreUnavailable(
                    f"{self._path}: the chain key given is not this store's (its key check differs)"
                )
            return
        if not self.keyed:
            return
        first = None
        if mode is not None or _has_table(connection, "events"):
            first = connection.execute(
                "SELECT incident_id, version, line, prev_hash, hash FROM events "
                "ORDER BY position LIMIT 1"
            ).fetchone()
        if first is None:
            if setting_up or self._read_only:
                return  # an empty store: a writer keys it now
            raise AssertionError("unreachable")  # pragma: no cover - writers key it in _set_up
        incident_id, version, line, prev_hash, digest = first
        if self._links.link(prev_hash, line) == digest:
            raise Tampered(
                incident_id=incident_id,
                version=version,
                reason="changed: the record that this store is keyed was removed (its events "
                "are chained with the key given)",
            )
        raise StoreUnavailable(
            f"{self._path}: this store's chain has no key (a store is keyed when it is "
            "created); open it without one"
        )

    def close(self) -> None:
        """Close every connection this store opened; further use raises StoreUnavailable."""
        self._closed = True
        if _FORKS[0] != self._forks:
            return  # a forked child leaves its parent's connections alone
        self._drop()

    def _drop(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection, pin in connections:
            _close(connection, pin)
        self._local.connection = self._local.pin = self._local.snapshot = None

    # -- the interface -----------------------------------------------------------------------

    def _append_all(self, planned: list[tuple[_Batch, _Plan]]) -> list[int]:
        if self._read_only:
            raise StoreUnavailable(f"{self._path}: the store was opened read-only")
        connection = self._connection()
        with _translated(self._path):
            connection.execute("BEGIN IMMEDIATE")
            current = planned[0][0]
            try:
                for current, plan in planned:
                    # A version another writer took since the rules check breaks the unique
                    # key on (incident_id, version).
                    connection.executemany(
                        "INSERT INTO events (incident_id, version, line, prev_hash, hash) "
                        "VALUES (?, ?, ?, ?, ?)",
                        [(current.incident_id, *row) for row in plan.rows],
                    )
                    summary = plan.summary
                    seal = self._links.seal(summary, plan.head)
                    if plan.before is None:  # a new incident
                        connection.execute(_UPSERT_SUMMARY, (*summary_row(summary), seal))
                        continue
                    # The summary is written only if the batch follows the head its writer
                    # read: the event at the expected version has the hash it chains from.
                    updated = connection.execute(
                        _UPDATE_FOLLOWING,
                        (summary.priority._value_, summary.state._value_,
                         summary.updated_at.isoformat(), summary.version, seal,
                         summary.incident_id, summary.incident_id, current.expected_version,
                         plan.follows),
                    )  # fmt: skip
                    if updated.rowcount != 1:
                        _check_head(connection, current, plan)
                        # Its summary row was removed behind the store's back: as a load says.
                        raise _unrecorded(current.incident_id)
                connection.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                _rollback(connection)
                raise _conflict(
                    current.incident_id,
                    current.expected_version,
                    self._version(current.incident_id),
                ) from exc
            except BaseException:
                _rollback(connection)
                raise
            return [plan.summary.version for _, plan in planned]

    def _rows(self, incident_id: str) -> tuple[list[_Stored], IncidentSummary | None, str | None]:
        def query(
            connection: sqlite3.Connection,
        ) -> tuple[list[_Stored], IncidentSummary | None, str | None]:
            # One read transaction, so the rows and the summary are from the same moment.
            connection.execute("BEGIN")
            try:
                rows: list[_Stored] = connection.execute(
                    "SELECT version, line, prev_hash, hash FROM events "
                    "WHERE incident_id = ? ORDER BY position",
                    (incident_id,),
                ).fetchall()
                found = connection.execute(
                    f"SELECT {SUMMARY_COLUMNS}, {self._seal_column} FROM incidents "
                    "WHERE incident_id = ?",
                    (incident_id,),
                ).fetchone()
            finally:
                connection.execute("COMMIT")
            if found is None:
                return rows, None, None
            return rows, summary_of(found[:-1]), found[-1]

        return self._read(query)

    def _version(self, incident_id: str) -> int:
        row = self._read(
            lambda connection: connection.execute(
                "SELECT max(version) FROM events WHERE incident_id = ?", (incident_id,)
            ).fetchone()
        )
        return 0 if row[0] is None else int(row[0])

    def _head(self, incident_id: str) -> tuple[int, str | None]:
        row = self._read(
            lambda connection: connection.execute(
                "SELECT version, hash FROM events WHERE incident_id = ? "
                "ORDER BY version DESC LIMIT 1",
                (incident_id,),
            ).fetchone()
        )
        return (0, None) if row is None else (int(row[0]), str(row[1]))

    def _ids(self) -> list[str]:
        rows = self._read(
            lambda connection: connection.execute(
                "SELECT incident_id FROM events UNION SELECT incident_id FROM incidents "
                "ORDER BY incident_id"
            ).fetchall()
        )
        return [row[0] for row in rows]

    def _select(
        self,
        state: State | None,
        priority: Priority | None,
        since: datetime | None,
        until: datetime | None,
    ) -> list[tuple[IncidentSummary, str | None, str | None]]:
        where, values = summary_filter(state, priority, since, until, mark="?")
        head = HEAD_HASH if self.keyed else "NULL"
        rows = self._read(
            lambda connection: connection.execute(
                f"SELECT {SUMMARY_COLUMNS}, {self._seal_column}, {head} FROM incidents{where} "
                "ORDER BY declared_at, incident_id",
                values,
            ).fetchall()
        )
        return [(summary_of(row[:-2]), row[-2], row[-1]) for row in rows]

    def _stored(self, after: int) -> Iterator[tuple[int, str, int, str, str]]:
        def page(start: int) -> Callable[[sqlite3.Connection], list[Any]]:
            return lambda connection: connection.execute(
                "SELECT position, incident_id, version, line, hash FROM events "
                "WHERE position > ? ORDER BY position LIMIT 500",
                (start,),
            ).fetchall()

        while True:
            rows = self._read(page(after))
            if not rows:
                return
            yield from rows
            after = rows[-1][0]

    def _feed(self, after: int, limit: int) -> list[tuple[int, str, int, str]]:
        # One writer at a time (BEGIN IMMEDIATE) and AUTOINCREMENT positions: positions are
        # handed out in commit order, so a reader never sees one behind another.
        rows = self._read(
            lambda connection: connection.execute(
                "SELECT position, incident_id, version, line FROM events "
                "WHERE position > ? ORDER BY position LIMIT ?",
                (after, limit),
            ).fetchall()
        )
        return [tuple(row) for row in rows]

    def _checkpoint(self, name: str) -> int:
        if not self._checkpoints:
            return 0  # a read-only store from before checkpoints were kept
        row = self._read(
            lambda connection: connection.execute(
                "SELECT position FROM checkpoints WHERE name = ?", (name,)
            ).fetchone()
        )
        return 0 if row is None else int(row[0])

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One ``BEGIN IMMEDIATE`` transaction on this thread's connection."""
        if self._read_only:
            raise StoreUnavailable(f"{self._path}: the store was opened read-only")
        connection = self._connection()
        with _translated(self._path):
            connection.execute("BEGIN IMMEDIATE")
        try:
            yield _SQLiteTransaction(connection, self._path)
            with _translated(self._path):
                connection.execute("COMMIT")
        except BaseException:
            _rollback(connection)
            raise


class _SQLiteTransaction(Transaction):
    """A transaction on one SQLite connection."""

    dialect: Dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection, path: str) -> None:
        self._connection = connection
        self._path = path

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run ``sql`` with ``?`` placeholders in the transaction; its rows."""
        sql, values = _check_sql(sql, params)
        try:
            with _translated(self._path):
                return [tuple(row) for row in self._connection.execute(sql, values).fetchall()]
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"{self._path}: {exc}") from exc

    def checkpoint(self, name: str) -> int:
        """The position of checkpoint ``name`` in this transaction (0 if none)."""
        row = self._connection.execute(
            "SELECT position FROM checkpoints WHERE name = ?", (_check_name(name),)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def advance(self, name: str, position: int) -> None:
        """Move ``name`` to ``position`` when the transaction commits."""
        name = _check_name(name)
        position = _check_position(position)
        _moved(name, self.checkpoint(name), position)
        self._connection.execute(
            "INSERT OR REPLACE INTO checkpoints (name, position) VALUES (?, ?)", (name, position)
        )


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
            code = getattr(error, "sqlite_errorcode", 0) & 0xFF
            busy = code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            raise (StoreBusy if busy else StoreUnavailable)(f"{self._path}: {error}") from error
        return False


def _close(connection: sqlite3.Connection | None, pin: int | None) -> None:
    """Close a connection, then its lock's descriptor (closing it releases the lock)."""
    if connection is not None:
        connection.close()
    if pin is not None:
        os.close(pin)


def _identity(path: str) -> tuple[int, int, int]:
    """What changes when a file is written: its inode, size and modification time."""
    stat = os.stat(path)
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _meta(connection: sqlite3.Connection, version: int) -> tuple[str | None, str | None]:
    """How the store's chain is hashed and its key check (None, None before schema 2)."""
    if version < 2:
        return None, None
    found = dict(connection.execute("SELECT name, value FROM meta").fetchall())
    return found.get("chain"), found.get("key_check")


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    return (
        connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        is not None
    )


def _rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        # SQLite may already have rolled back (e.g. when the disk is full).
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")


_HEAD_HASH = "SELECT hash FROM events WHERE incident_id = ? AND version = ?"
"""The hash of an incident's event at a version (the head an append follows)."""

_UPDATE_FOLLOWING = (
    "UPDATE incidents SET priority = ?, state = ?, updated_at = ?, version = ?, seal = ? "
    "WHERE incident_id = ? AND EXISTS (SELECT 1 FROM events WHERE incident_id = ? "
    "AND version = ? AND hash = ?)"
)
"""Write over an incident's summary row what events after its declaration can change, if
the head its writer read is still there: the event at a version, with a hash.

Its title, onset and declaration time are its declaration's, written once: left out, the
index by declaration time is not rewritten by every append (one page less per commit).  The
head's check rides on the update (no statement of its own); a row not updated says that the
head or the summary row changed behind the store's back (:func:`_check_head` says which)."""


def _check_head(connection: sqlite3.Connection, batch: _Batch, plan: _Plan) -> None:
    """Refuse a batch whose writer's head is gone (a Conflict) or was rewritten (Tampered)."""
    found = connection.execute(_HEAD_HASH, (batch.incident_id, batch.expected_version)).fetchone()
    if found is None:  # gone: the version says how far the history goes
        raise sqlite3.IntegrityError("the head its writer read is gone")
    if found[0] != plan.follows:
        raise _rewritten(batch.incident_id, batch.expected_version)


_UPSERT_SUMMARY = (
    f"INSERT INTO incidents ({SUMMARY_COLUMNS}, seal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    f"ON CONFLICT (incident_id) DO UPDATE SET {SUMMARY_UPDATE}"
)
"""Write an incident's summary row (and its seal), whether or not it has one yet."""
