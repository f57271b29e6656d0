"""A store in PostgreSQL, for a team (or a bot's workers) sharing one record.

Needs the ``postgres`` extra (``pip install 'incidentflow[postgres]'``: psycopg 3 and
psycopg_pool).  It behaves exactly as :class:`~incidentflow.store.SQLiteStore` does, and:

- **Optimistic appends**: an append reads the incident's head (or knows it from its own last
  append), compares it with the writer's expectation, and stores the batch and its summary in
  one statement (``incidentflow_append``) and one round trip, which checks the head again;
  the unique key on ``(incident_id, version)`` turns a racing writer's insert into
  :class:`~incidentflow.errors.Conflict`.
- **Append-only in the database**: triggers refuse every ``UPDATE``, ``DELETE`` and
  ``TRUNCATE`` of events whoever issues them, and the application role is granted no such
  privilege (see docs/store.md).
- **A gap-free feed**: each event row keeps its transaction's id; positions are taken with
  the transaction id under a lock released at once, and the feed returns only events of
  transactions older than every one still running, so a reader never sees an event behind
  one it has read, and writers' commits are not serialized (see docs/store.md).
- **Versioned schema**: migrations apply forward, in one transaction, on the first write-open
  (or ``incidentflow migrate``); a schema newer than this release is refused.
- **Connection faults** raise :class:`~incidentflow.errors.StoreUnavailable` naming the cause;
  reads retry on a fresh connection; a write whose commit was cut off is resolved by reading
  the incident's head again (committed: its version is returned; not: StoreUnavailable saying
  nothing was written), never written twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from incidentflow import codec
from incidentflow.errors import (
    InvalidInput,
    MissingExtra,
    NotAuthorized,
    StoreBusy,
    StoreError,
    StoreUnavailable,
    Tampered,
)
from incidentflow.lifecycle import State
from incidentflow.priorities import Priority
from incidentflow.records import Unmet

from ._base import (
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
from ._keys import _Links
from ._rows import (
    HEAD_HASH,
    SUMMARY_COLUMNS,
    SUMMARY_UPDATE,
    summary_filter,
    summary_of,
    summary_row,
)

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg.conninfo import conninfo_to_dict
    from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout
except ImportError as exc:  # pragma: no cover - the test extra installs them
    raise MissingExtra(
        extra="postgres", package="psycopg and psycopg_pool", feature="the PostgreSQL store"
    ) from exc

__all__ = ["SCHEMA_VERSION", "PostgresStore", "is_postgres_url"]

T = TypeVar("T")

_FEED_LOCK = 0x1CF_FEED
"""The advisory lock an append holds while it takes its transaction id and positions."""

_CHANNEL = "incidentflow_feed"
"""The LISTEN/NOTIFY channel an append notifies when it commits."""


def _append_function(create: str, summaries: str, declare: str = "") -> str:
    """The ``incidentflow_append`` function (schema 5 on), ending with ``summaries``.

    ``declare`` is its ``DECLARE`` section, if it has one.
    """
    return f"""{create} FUNCTION incidentflow_append(batch_events jsonb, batch_summaries jsonb)
RETURNS void LANGUAGE plpgsql AS $$
{declare}BEGIN
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'incidentflow: events must be the first write of their transaction'
            USING ERRCODE = 'invalid_transaction_state';
    END IF;
    -- Each summary is [id, title, priority, state, began, declared, updated, version, seal,
    -- expected version, hash at the expected version]; each event [id, version, line,
    -- previous hash, hash].  Each batch follows the head its writer read.
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(batch_summaries) AS b
               WHERE (b ->> 9)::integer > 0 AND NOT EXISTS (SELECT 1 FROM events AS e
                   WHERE e.incident_id = b ->> 0 AND e.version = (b ->> 9)::integer
                   AND e.hash = b ->> 10)) THEN
        RAISE EXCEPTION 'incidentflow: an incident''s head is not the one its writer read'
            USING ERRCODE = 'unique_violation';
    END IF;
    -- The transaction id and the positions are taken together under this lock, so positions
    -- grow with transaction ids; it is released at once, not held until the commit.
    PERFORM pg_advisory_lock({_FEED_LOCK});
    BEGIN
        INSERT INTO events (incident_id, version, line, prev_hash, hash, xid)
        SELECT e ->> 0, (e ->> 1)::integer, e ->> 2, e ->> 3, e ->> 4, pg_current_xact_id()
        FROM jsonb_array_elements(batch_events) AS e;
    EXCEPTION WHEN OTHERS THEN
        PERFORM pg_advisory_unlock({_FEED_LOCK});
        RAISE;
    END;
    PERFORM pg_advisory_unlock({_FEED_LOCK});
{summaries}END $$"""


_UPSERT_SUMMARIES = f"""    INSERT INTO incidents ({SUMMARY_COLUMNS}, seal)
    SELECT b ->> 0, b ->> 1, b ->> 2, b ->> 3, b ->> 4, b ->> 5, b ->> 6, (b ->> 7)::integer,
        b ->> 8
    FROM jsonb_array_elements(batch_summaries) AS b
    ON CONFLICT (incident_id) DO UPDATE SET {SUMMARY_UPDATE};
"""
"""Schema 5's summaries: each upserted whole."""

_NO_SUMMARY = "incidentflow: an incident appended to has no summary row"
"""How the append function (schema 6 on) starts its refusal of such an incident."""

_WRITE_SUMMARIES = f"""    -- An incident appended to (expected version above 0) has
    -- its summary row: one removed behind the store's back is not written again (a load
    -- reports it).
    SELECT b ->> 0 INTO missing FROM jsonb_array_elements(batch_summaries) AS b
    WHERE (b ->> 9)::integer > 0
        AND NOT EXISTS (SELECT 1 FROM incidents AS i WHERE i.incident_id = b ->> 0)
    LIMIT 1;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '{_NO_SUMMARY}' USING ERRCODE = 'data_corrupted', DETAIL = missing;
    END IF;
    -- A new incident's summary is written whole; an existing one's, only what events after
    -- the declaration can change (its title, onset and declaration time are written once).
    INSERT INTO incidents ({SUMMARY_COLUMNS}, seal)
    SELECT b ->> 0, b ->> 1, b ->> 2, b ->> 3, b ->> 4, b ->> 5, b ->> 6, (b ->> 7)::integer,
        b ->> 8
    FROM jsonb_array_elements(batch_summaries) AS b
    WHERE (b ->> 9)::integer = 0
    ON CONFLICT (incident_id) DO UPDATE SET {SUMMARY_UPDATE};
    UPDATE incidents AS i SET priority = b ->> 2, state = b ->> 3, updated_at = b ->> 6,
        version = (b ->> 7)::integer, seal = b ->> 8
    FROM jsonb_array_elements(batch_summaries) AS b
    WHERE (b ->> 9)::integer > 0 AND i.incident_id = b ->> 0;
"""
"""Schema 6's summaries: a new incident's upserted whole, an existing one's updated in part."""


_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: events, summaries, how the chain is hashed; events are append-only.
    (
        """CREATE TABLE events (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id text NOT NULL,
    version integer NOT NULL,
    line text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    UNIQUE (incident_id, version)
)""",
        """CREATE TABLE incidents (
    incident_id text PRIMARY KEY,
    title text NOT NULL,
    priority text NOT NULL,
    state text NOT NULL,
    began_at text NOT NULL,
    declared_at text NOT NULL,
    updated_at text NOT NULL,
    version integer NOT NULL,
    seal text
)""",
        "CREATE INDEX incidents_by_declaration ON incidents (declared_at, incident_id)",
        "CREATE TABLE meta (name text PRIMARY KEY, value text NOT NULL)",
        """CREATE FUNCTION incidentflow_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'insufficient_privilege';
END $$""",
        """CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION incidentflow_append_only()""",
        """CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
FOR EACH STATEMENT EXECUTE FUNCTION incidentflow_append_only()""",
    ),
    # 2: the feed consumers' checkpoints.
    ("CREATE TABLE checkpoints (name text PRIMARY KEY, position bigint NOT NULL)",),
    # 3: identity from the database: who wrote each event, and logins mapped to people.
    (
        "ALTER TABLE events ADD COLUMN login text",
        """CREATE TABLE people (
    login text PRIMARY KEY,
    person text NOT NULL,
    acts_for_others boolean NOT NULL DEFAULT false
)""",
        """CREATE FUNCTION incidentflow_identity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mapped text;
    proxy boolean;
    actor text;
BEGIN
    NEW.login := session_user;
    IF NOT EXISTS (SELECT 1 FROM meta WHERE name = 'identity' AND value = 'session_user') THEN
        RETURN NEW;
    END IF;
    SELECT person, acts_for_others INTO mapped, proxy FROM people WHERE login = session_user;
    IF mapped IS NULL THEN
        RAISE EXCEPTION 'incidentflow identity: the database login % is not mapped to a person',
            session_user USING ERRCODE = 'insufficient_privilege';
    END IF;
    actor := NEW.line::json ->> 'actor';
    IF NOT proxy AND actor IS DISTINCT FROM mapped THEN
        RAISE EXCEPTION 'incidentflow identity: the database login % acts as %, not as %',
            session_user, mapped, actor USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$""",
        """CREATE TRIGGER events_identity BEFORE INSERT ON events
FOR EACH ROW EXECUTE FUNCTION incidentflow_identity()""",
    ),
    # 4: the feed's transaction-id horizon: each event row keeps the id of the transaction
    # that wrote it (rows written before are 0, older than every transaction); one function
    # stores a whole append in a single statement.
    (
        "ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT '0'",
        "ALTER TABLE events ALTER COLUMN xid SET DEFAULT pg_current_xact_id()",
        f"""CREATE FUNCTION incidentflow_append(
    ids text[], versions integer[], lines text[], prev_hashes text[], hashes text[],
    summaries text[], titles text[], priorities text[], states text[], began text[],
    declared text[], updated text[], heads integer[], seals text[], expected integer[],
    previous text[]
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'incidentflow: events must be the first write of their transaction'
            USING ERRCODE = 'invalid_transaction_state';
    END IF;
    -- Each batch follows the head its writer read: the event at the expected version has the
    -- hash the batch chains from (a later event is refused by the unique key).
    IF EXISTS (SELECT 1 FROM unnest(summaries, expected, previous) AS b(id, version, hash)
               WHERE b.version > 0 AND NOT EXISTS (SELECT 1 FROM events AS e
                   WHERE e.incident_id = b.id AND e.version = b.version AND e.hash = b.hash)) THEN
        RAISE EXCEPTION 'incidentflow: an incident''s head is not the one its writer read'
            USING ERRCODE = 'unique_violation';
    END IF;
    -- The transaction id and the positions are taken together under this lock, so positions
    -- grow with transaction ids; it is released at once, not held until the commit.
    PERFORM pg_advisory_lock({_FEED_LOCK});
    BEGIN
        INSERT INTO events (incident_id, version, line, prev_hash, hash, xid)
        SELECT e.*, pg_current_xact_id()
        FROM unnest(ids, versions, lines, prev_hashes, hashes) AS e;
    EXCEPTION WHEN OTHERS THEN
        PERFORM pg_advisory_unlock({_FEED_LOCK});
        RAISE;
    END;
    PERFORM pg_advisory_unlock({_FEED_LOCK});
    INSERT INTO incidents ({SUMMARY_COLUMNS}, seal)
    SELECT * FROM unnest(summaries, titles, priorities, states, began, declared, updated, heads,
        seals)
    ON CONFLICT (incident_id) DO UPDATE SET title = excluded.title,
        priority = excluded.priority, state = excluded.state, began_at = excluded.began_at,
        declared_at = excluded.declared_at, updated_at = excluded.updated_at,
        version = excluded.version, seal = excluded.seal;
END $$""",
    ),
    # 5: an append's events and summaries travel as two JSON documents instead of sixteen
    # arrays (building those arrays was most of a client's cost of an append); the checks,
    # the lock and the rows written are those of version 4.
    (
        "DROP FUNCTION incidentflow_append",
        _append_function("CREATE", _UPSERT_SUMMARIES),
    ),
    # 6: an append writes over an incident's summary row only what events after its
    # declaration can change (its title, onset and declaration time are written once), and
    # refuses an incident whose summary row is gone, as the SQLite store does: a summary
    # rewritten or removed behind the store's back stays so for a load to report, rather
    # than being written over by the next append.
    (_append_function("CREATE OR REPLACE", _WRITE_SUMMARIES, "DECLARE\n    missing text;\n"),),
)

SCHEMA_VERSION = len(_MIGRATIONS)
"""The PostgreSQL schema this release writes (rows of the ``schema_migrations`` table)."""

_SCHEMA_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""

_SCHEMA_LOCK = 0x1CF_5C4E
"""The advisory lock a migration holds, so two writers never migrate at once."""

_KEYED = "hmac-sha256"
_UNKEYED = "sha256"
_KEY_HELP = (
    "give its key ($INCIDENTFLOW_CHAIN_KEY, $INCIDENTFLOW_CHAIN_KEY_FILE or --chain-key-file)"
)


_APPEND = "SELECT incidentflow_append(%s::jsonb, %s::jsonb)"
"""One append: its events and its summaries, each a JSON array of rows."""

_NOTIFY = f"SELECT set_config('synchronous_commit', 'off', true), pg_notify('{_CHANNEL}', '')"
"""Wake the feed's listeners, in a transaction that need not wait for its WAL flush."""

_APPEND_AND_NOTIFY = f"BEGIN; {_APPEND}; COMMIT; {_NOTIFY}"
"""An append and the wake-up after its commit, as one query (bound by the client)."""

_HEAD = "SELECT version, hash FROM events WHERE incident_id = %s ORDER BY version DESC LIMIT 1"
"""An incident's head version and hash (no row when it has no events)."""

_FEED = (
    "SELECT position, incident_id, version, line FROM events WHERE position > %s "
    "AND xid < (SELECT pg_snapshot_xmin(pg_current_snapshot())) ORDER BY position LIMIT %s"
)
"""The feed after a position: events of transactions that ended before the oldest running one."""

_SUMMARY_JSON = (
    "SELECT json_build_array(title, priority, state, began_at, declared_at, updated_at, "
    "version, seal)::text FROM incidents WHERE incident_id = %s"
)
"""An incident's summary row (its :data:`SUMMARY_COLUMNS` after the id, then its seal)."""

_ROWS = (
    f"SELECT version, line, prev_hash, hash, CASE WHEN version = 1 THEN ({_SUMMARY_JSON}) END "
    "FROM events WHERE incident_id = %s ORDER BY position"
)
"""An incident's event rows in stored order, its declaration's with the summary, in one
snapshot."""

_PROBE_AFTER = 0.5
"""Seconds a read or write waits for a pooled connection before asking the server directly
whether it can be reached (see ``PostgresStore._connection``)."""

_NEVER_BY_COUNT = 2**62
"""psycopg's ``prepare_threshold`` for the store's connections: no statement is prepared for
how often it runs, only those executed with ``prepare=True``."""

_NO_ROW: Any = object()
"""No row of version 1 was read (so none carried the summary)."""

_FEED_IN_ORDER = (
    "SELECT position, incident_id, version, line FROM events WHERE position > %s "
    "ORDER BY position LIMIT %s"
)
"""The feed of an older schema (read as it is), whose appends took positions in commit order."""

_HORIZON = 4
"""The schema version from which event rows carry their transaction's id."""

_IDENTITY = "incidentflow identity:"
"""How the database's identity trigger starts its refusals."""

_LOOK_EVERY = 0.2
"""Seconds between two looks for new events when :meth:`PostgresStore.wait` cannot listen."""

_READ_TRIES = 3
"""How many times an idempotent read is tried on a fresh connection before giving up."""


_POOLER_VARIABLE = "INCIDENTFLOW_POOLER"
"""The environment variable saying how PostgreSQL is reached: ``transaction`` behind a
connection pooler in transaction mode, ``session`` (the default) otherwise."""


def _transaction_pooler_from_environment() -> bool:
    """Whether ``$INCIDENTFLOW_POOLER`` says ``transaction`` (``session``, or unset: False)."""
    mode = os.environ.get(_POOLER_VARIABLE) or "session"
    if mode not in ("session", "transaction"):
        raise InvalidInput(
            f"${_POOLER_VARIABLE} is 'transaction' or 'session' (the mode of the connection "
            f"pooler in front of PostgreSQL), not {mode!r}"
        )
    return mode == "transaction"


def is_postgres_url(text: str) -> bool:
    """True for a ``postgresql://`` or ``postgres://`` URL (libpq fills in what it leaves out)."""
    return text.startswith(("postgresql://", "postgres://"))


def _describe(conninfo: str) -> str:
    """The database a connection string names, for messages: never its password."""
    try:
        parts = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "postgresql (an unreadable connection string)"
    user = parts.get("user")
    host = parts.get("host")
    port = parts.get("port")
    where = f"{user}@" if user else ""
    where += str(host) if host else ""
    where += f":{port}" if port else ""
    return f"postgresql://{where}/{parts.get('dbname', '')}"


class PostgresStore(Store):
    """A store in a PostgreSQL database, shared by every writer that can reach it.

    ``conninfo`` is a libpq URL or connection string (``"postgresql://"`` alone takes
    everything from libpq's ``PG*`` environment variables).  ``timeout`` bounds connecting and
    waiting for a pooled connection; ``pool_size`` is the most connections this object opens;
    ``read_only`` opens an existing store without writing (no schema is created or migrated,
    every session is read-only); ``chain_key`` keys the chain as in
    :class:`~incidentflow.store.SQLiteStore`.  ``migrate=False`` refuses an old schema instead
    of migrating it.

    ``transaction_pooler=True`` is for a server reached through a connection pooler in
    transaction mode (PgBouncer before 1.21, or without ``max_prepared_statements``), which
    hands each transaction to whichever server connection is free: the store then leaves no
    state on a server connection (nothing prepared on the server, no session setting, no
    ``LISTEN``), so ``read_only`` is enforced by the store alone and :meth:`wait` looks for
    new events a few times a second instead of being woken.
    """

    def __init__(
        self,
        conninfo: str = "postgresql://",
        *,
        timeout: float = 30.0,
        read_only: bool = False,
        chain_key: bytes | None = None,
        pool_size: int = 4,
        migrate: bool = True,
        transaction_pooler: bool = False,
    ) -> None:
        if type(conninfo) is not str:
            raise InvalidInput(f"conninfo must be a connection string, not {conninfo!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise InvalidInput(f"timeout must be a positive number, not {timeout!r}")
        if type(read_only) is not bool:
            raise InvalidInput(f"read_only must be a bool, not {read_only!r}")
        if type(pool_size) is not int or pool_size < 1:
            raise InvalidInput(f"pool_size must be a positive int, not {pool_size!r}")
        if type(transaction_pooler) is not bool:
            raise InvalidInput(f"transaction_pooler must be a bool, not {transaction_pooler!r}")
        self._pooled = transaction_pooler
        self._links = _Links(chain_key)
        self._conninfo = conninfo
        self._where_text = _describe(conninfo)
        self._timeout = float(timeout)
        self._read_only = read_only
        self._closed = False
        self._listeners = threading.local()
        self._listener_lock = threading.Lock()
        self._all_listeners: list[psycopg.Connection[Any]] = []
        with self._direct() as connection:
            self._schema = self._prepare(connection, migrate=migrate)
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            # Server-side prepared statements only for the hot reads, which ask for it
            # (``prepare=True``): the rest run once or rarely.  (A threshold of None turns
            # ``prepare=True`` off too: each read is planned again, which costs as much as
            # the read of an incident's rows itself; only behind a transaction pooler.)
            kwargs={
                "autocommit": True,
                "connect_timeout": max(1, round(self._timeout)),
                "prepare_threshold": None if self._pooled else _NEVER_BY_COUNT,
            },
            configure=self._configure,
            timeout=self._timeout,
            open=False,
            name="incidentflow",
        )
        self._pool.open(wait=False)

    _before_commit: Callable[[], None] | None = None
    """Called (in tests) after an append took its positions, before it commits."""

    def __repr__(self) -> str:
        return f"PostgresStore({self._where_text!r})"

    @property
    def url(self) -> str:
        """The database, as ``postgresql://user@host:port/dbname`` (never a password)."""
        return self._where_text

    @property
    def schema_version(self) -> int:
        """The schema version the database was at when this store opened it (after migrating)."""
        return self._schema

    def _where(self) -> str:
        return self._where_text

    # -- connections -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _direct(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection of its own (not pooled), with errors translated."""
        with self._translated():
            connection = psycopg.connect(
                self._conninfo, autocommit=True, connect_timeout=max(1, round(self._timeout))
            )
        if self._pooled:
            connection.prepare_threshold = None
        try:
            self._configure(connection)
            yield connection
        finally:
            connection.close()

    def _configure(self, connection: psycopg.Connection[Any]) -> None:
        # Behind a transaction pooler a session setting would stay on a server connection
        # that other clients then use: their writes would fail as read-only.
        if self._read_only and not self._pooled:
            connection.execute("SET default_transaction_read_only = on")

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._closed:
            raise StoreUnavailable(f"{self._where_text}: the store is closed")
        with self._translated():
            # A pooled connection the server closed while it sat idle is closed here and
            # another taken: the pool replaces a closed connection at once (its own check
            # would wait a second or more before each retry).
            tries = self._pool.max_size + 1  # more than the pool can hold dead
            for attempt in range(tries):
                with contextlib.ExitStack() as stack:
                    try:
                        connection = stack.enter_context(
                            self._pool.connection(timeout=min(self._timeout, _PROBE_AFTER))
                        )
                    except PoolTimeout:
                        # No connection yet: the pool is busy, or cannot reach the server
                        # (stopped, restarting): a connection of its own tells which, so a
                        # server that is down is StoreUnavailable now, not StoreBusy later.
                        with self._direct():
                            pass
                        connection = stack.enter_context(
                            self._pool.connection(timeout=max(self._timeout - _PROBE_AFTER, 0))
                        )
                    if attempt < tries - 1 and _closed_while_idle(connection):
                        connection.close()
                        continue
                    yield connection
                    return

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        """Turn psycopg's errors into the library's, chained from the original."""
        try:
            yield
        except pg_errors.IntegrityError:
            raise  # the caller decides what a constraint failure means
        except (PoolTimeout, pg_errors.QueryCanceled, pg_errors.LockNotAvailable) as exc:
            raise StoreBusy(f"{self._where_text}: {_first_line(exc)}") from exc
        except PoolClosed as exc:
            raise StoreUnavailable(f"{self._where_text}: the store is closed") from exc
        except pg_errors.InsufficientPrivilege as exc:
            raise StoreUnavailable(
                f"{self._where_text}: permission denied: {_first_line(exc)}"
            ) from exc
        except psycopg.Error as exc:
            raise StoreUnavailable(f"{self._where_text}: {_first_line(exc)}") from exc

    def _read(self, query: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run an idempotent read, again on a fresh connection if the connection failed."""
        for attempt in range(_READ_TRIES):
            try:
                with self._connection() as connection:
                    return query(connection)
            except StoreUnavailable as exc:
                lost = isinstance(exc.__cause__, psycopg.OperationalError)
                if not lost or self._closed or attempt == _READ_TRIES - 1:
                    raise
                self._pool.check()  # drop the pool's other dead connections
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    # -- schema --------------------------------------------------------------------------------

    def _prepare(self, connection: psycopg.Connection[Any], *, migrate: bool) -> int:
        """Check (and for a writer, create or migrate) the schema and the keying; the version."""
        with self._translated():
            version = _schema_version(connection)
            self._check_newer(version)
            if self._read_only:
                if version == 0:
                    raise StoreUnavailable(
                        f"{self._where_text}: not an incidentflow store (no schema; reading "
                        "never creates one)"
                    )
                self._check_keying(connection, *_meta(connection))
                return version
            mode, _ = _meta(connection) if version else (None, None)
            if version < SCHEMA_VERSION or (self.keyed and mode != _KEYED):
                if version and version < SCHEMA_VERSION and not migrate:
                    raise StoreUnavailable(
                        f"{self._where_text}: schema {version} is older than this release's "
                        f"{SCHEMA_VERSION}; run `incidentflow migrate`"
                    )
                return self._set_up(connection)
            self._check_keying(connection, *_meta(connection))
            return version

    def _check_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreUnavailable(
                f"{self._where_text}: written by a newer incidentflow (schema {version}; this "
                f"release reads {SCHEMA_VERSION}); upgrade incidentflow"
            )

    def _set_up(self, connection: psycopg.Connection[Any]) -> int:
        """Create, migrate or key the store in one transaction, holding the schema lock."""
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            connection.execute(_SCHEMA_TABLE)
            version = _schema_version(connection)
            self._check_newer(version)
            mode, check = _meta(connection) if version else (None, None)
            self._check_keying(connection, mode, check)
            for number in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[number - 1]:
                    connection.execute(statement)
                connection.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (number,))
            wanted = _KEYED if self.keyed else (mode or _UNKEYED)
            connection.execute(
                "INSERT INTO meta (name, value) VALUES ('chain', %s) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (wanted,),
            )
            if self.keyed and check is None:
                connection.execute(
                    "INSERT INTO meta (name, value) VALUES ('key_check', %s) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (self._links.check_value(),),
                )
        return SCHEMA_VERSION

    def _check_keying(
        self,
        connection: psycopg.Connection[Any],
        mode: str | None,
        check: str | None,
    ) -> None:
        """Refuse a keyed store without its key, a wrong key, and a key for an unkeyed store."""
        if mode == _KEYED:
            if not self.keyed:
                raise StoreUnavailable(
                    f"{self._where_text}: this store's chain is keyed; {_KEY_HELP}"
                )
            if check != self._links.check_value():
                raise StoreUnavailable(
                    f"{self._where_text}: the chain key given is not this store's "
                    "(its key check differs)"
                )
            return
        if not self.keyed:
            return
        first = None
        exists = connection.execute("SELECT to_regclass('events') IS NOT NULL").fetchone()
        if exists is not None and exists[0]:
            first = connection.execute(
                "SELECT incident_id, version, line, prev_hash, hash FROM events "
                "ORDER BY position LIMIT 1"
            ).fetchone()
        if first is None:
            return  # an empty store: a writer keys it now
        incident_id, version, line, prev_hash, digest = first
        if self._links.link(prev_hash, line) == digest:
            raise Tampered(
                incident_id=incident_id,
                version=version,
                reason="changed: the record that this store is keyed was removed (its events "
                "are chained with the key given)",
            )
        raise StoreUnavailable(
            f"{self._where_text}: this store's chain has no key (a store is keyed when it is "
            "created); open it without one"
        )

    def grant(self, role: str) -> None:
        """Let ``role`` (an application login) use the store: read and append, never rewrite.

        It may read every table, insert events, and write summaries and checkpoints (whose
        rows are sealed or harmless); it gets no ``UPDATE``, ``DELETE`` or ``TRUNCATE`` on
        events (and the triggers refuse those to everyone).  Run it as the tables' owner.
        """
        if type(role) is not str or not role.strip():
            raise InvalidInput(f"role must be a role name, not {role!r}")
        if self._read_only:
            raise StoreUnavailable(f"{self._where_text}: the store was opened read-only")
        from psycopg import sql

        name = sql.Identifier(role)
        statements = [
            "GRANT SELECT, INSERT ON events TO {}",
            "GRANT SELECT, INSERT, UPDATE ON incidents, checkpoints TO {}",
            "GRANT SELECT ON meta, schema_migrations, people TO {}",
        ]
        with self._connection() as connection, connection.transaction():
            for statement in statements:
                connection.execute(sql.SQL(statement).format(name))

    # -- identity ------------------------------------------------------------------------------

    def map_login(self, login: str, person: str, *, acts_for_others: bool = False) -> None:
        """Record that database ``login`` is ``person`` (run as the tables' owner).

        ``acts_for_others`` marks a bot's login that appends for the people it authenticated
        itself (a chat bot): its events may name any actor, and each event row records the
        login that wrote it.  Mapping a login again replaces its mapping.
        """
        from incidentflow.identities import require_identity

        if type(login) is not str or not login.strip():
            raise InvalidInput(f"login must be a database login name, not {login!r}")
        person = require_identity(person, "person")
        if type(acts_for_others) is not bool:
            raise InvalidInput(f"acts_for_others must be a bool, not {acts_for_others!r}")
        self._writable()
        with self._connection() as connection:
            connection.execute(
                "INSERT INTO people (login, person, acts_for_others) VALUES (%s, %s, %s) "
                "ON CONFLICT (login) DO UPDATE SET person = excluded.person, "
                "acts_for_others = excluded.acts_for_others",
                (login, person, acts_for_others),
            )

    def require_identity(self, required: bool = True) -> None:
        """Turn on (or off) identity from the database, for every writer (run as the owner).

        When on, the database itself refuses an event whose ``actor`` is not the person the
        writing login is mapped to (:meth:`map_login`); a login mapped to nobody can append
        nothing.  The store raises :class:`~incidentflow.errors.NotAuthorized` (rule
        ``database_identity``) and writes nothing.
        """
        if type(required) is not bool:
            raise InvalidInput(f"required must be a bool, not {required!r}")
        self._writable()
        with self._connection() as connection:
            if required:
                connection.execute(
                    "INSERT INTO meta (name, value) VALUES ('identity', 'session_user') "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
                )
            else:
                connection.execute("DELETE FROM meta WHERE name = 'identity'")

    @property
    def identity_required(self) -> bool:
        """True when the database takes every event's actor from the writing login."""
        row = self._read(
            lambda connection: connection.execute(
                "SELECT 1 FROM meta WHERE name = 'identity' AND value = 'session_user'"
            ).fetchone()
        )
        return row is not None

    def person(self) -> str | None:
        """The person this store's database login is mapped to (None when it is not)."""
        row = self._read(
            lambda connection: connection.execute(
                "SELECT person FROM people WHERE login = session_user"
            ).fetchone()
        )
        return None if row is None else str(row[0])

    def _writable(self) -> None:
        if self._read_only:
            raise StoreUnavailable(f"{self._where_text}: the store was opened read-only")

    # -- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the pool and every listening connection; further use raises StoreUnavailable."""
        self._closed = True
        self._pool.close()
        with self._listener_lock:
            listeners, self._all_listeners = self._all_listeners, []
        for listener in listeners:
            listener.close()

    # -- writing ---------------------------------------------------------------------------------

    def _append_all(self, planned: list[tuple[_Batch, _Plan]]) -> list[int]:
        if self._read_only:
            raise StoreUnavailable(f"{self._where_text}: the store was opened read-only")
        for attempt in range(_READ_TRIES):
            sent = False
            try:
                with self._connection() as connection:
                    sent = True
                    return self._write(connection, planned)
            except StoreUnavailable as exc:
                if not isinstance(exc.__cause__, psycopg.OperationalError) or self._closed:
                    raise
                if sent:  # the connection failed mid-write: did the commit happen?
                    return self._resolve(planned, exc)
                if attempt == _READ_TRIES - 1:
                    raise
                self._pool.check()  # nothing was sent yet: again, on a fresh connection
        raise AssertionError("unreachable")  # pragma: no cover

    def _write(
        self, connection: psycopg.Connection[Any], planned: list[tuple[_Batch, _Plan]]
    ) -> list[int]:
        """Store every batch and its summary in one round trip.

        The heads were read (or known from this store object's own last append) by the rules
        check; the server checks each again (the event at the expected version has the hash
        the batch chains from), and a writer that appended since makes the insert break the
        unique key on ``(incident_id, version)``: :class:`~incidentflow.errors.Conflict`.
        """
        try:
            payload = _append_arguments(planned, self._links)
            if self._before_commit is None:
                # One round trip: the append's own transaction, then the listeners' wake-up in
                # a transaction of its own, after the commit (a NOTIFY in the append's
                # transaction would serialise every writer's commit: PostgreSQL queues
                # notifications in commit order under one lock held until the commit is
                # flushed); the wake-up need not wait for its flush.
                with psycopg.ClientCursor(connection) as cursor:
                    cursor.execute(_APPEND_AND_NOTIFY, payload)
            else:  # a test delays the commit after the positions are taken
                connection.execute("BEGIN")
                connection.execute(_APPEND, payload)
                self._before_commit()
                connection.execute("COMMIT")
                connection.execute(_NOTIFY)
            return [plan.summary.version for _, plan in planned]
        except pg_errors.InsufficientPrivilege as exc:
            _rollback(connection)
            message = exc.diag.message_primary or str(exc)
            if not message.startswith(_IDENTITY):
                raise
            first, plan = planned[0]
            raise NotAuthorized(
                incident_id=first.incident_id,
                state="new" if plan.before is None else plan.before.state.value,
                command="append",
                unmet=(Unmet("database_identity", message.removeprefix(_IDENTITY).strip()),),
            ) from exc
        except pg_errors.DataCorrupted as exc:
            _rollback(connection)
            missing = exc.diag.message_detail
            if not (exc.diag.message_primary or "").startswith(_NO_SUMMARY) or missing is None:
                raise
            raise _unrecorded(missing) from exc
        except pg_errors.UniqueViolation as exc:
            _rollback(connection)
            # Which batch met the other writer: the first whose head moved (on this
            # connection: the pool may have no other to give).
            for batch, _ in planned:
                row = connection.execute(
                    "SELECT max(version) FROM events WHERE incident_id = %s", (batch.incident_id,)
                ).fetchone()
                actual = 0 if row is None or row[0] is None else int(row[0])
                if actual != batch.expected_version:
                    raise _conflict(batch.incident_id, batch.expected_version, actual) from exc
            # Every head is where its writer read it: one of them has another hash than the
            # batch follows, rewritten behind the store's back (the server refused it).
            for batch, plan in planned:
                row = connection.execute(
                    "SELECT hash FROM events WHERE incident_id = %s AND version = %s",
                    (batch.incident_id, batch.expected_version),
                ).fetchone()
                if batch.expected_version and (row is None or row[0] != plan.follows):
                    raise _rewritten(batch.incident_id, batch.expected_version) from exc
            last = planned[-1][0]
            raise _conflict(last.incident_id, last.expected_version, last.expected_version) from exc
        except BaseException:
            _rollback(connection)
            raise

    def _resolve(self, planned: list[tuple[_Batch, _Plan]], lost: StoreUnavailable) -> list[int]:
        """After the connection failed mid-write: did the write commit?  Read the heads again."""
        try:
            committed = [
                self._hash_at(batch.incident_id, plan.summary.version) == plan.head
                for batch, plan in planned
            ]
        except StoreUnavailable as exc:
            raise StoreUnavailable(
                f"{lost}; whether the write was committed is unknown (reading it back failed: "
                f"{exc}); load the incident to see"
            ) from (lost.__cause__ or lost)
        if all(committed):
            return [plan.summary.version for _, plan in planned]
        raise StoreUnavailable(f"{lost}; the write was not committed: nothing was written") from (
            lost.__cause__
        )

    def _hash_at(self, incident_id: str, version: int) -> str | None:
        row = self._read(
            lambda connection: connection.execute(
                "SELECT hash FROM events WHERE incident_id = %s AND version = %s",
                (incident_id, version),
            ).fetchone()
        )
        return None if row is None else str(row[0])

    # -- reading ---------------------------------------------------------------------------------

    def _rows(self, incident_id: str) -> tuple[list[_Stored], IncidentSummary | None, str | None]:
        # One statement, so the rows and the summary are from the same snapshot: the row of
        # version 1, first unless the rows were tampered with, carries the summary (read once
        # by the server), as one JSON text.
        found = self._read(
            lambda connection: connection.execute(
                _ROWS, (incident_id, incident_id), prepare=True
            ).fetchall()
        )
        text = next((row[4] for row in found if row[0] == 1), _NO_ROW)
        if text is _NO_ROW:  # no declaration's row: a break, or the incident is not there
            row = self._read(
                lambda connection: connection.execute(_SUMMARY_JSON, (incident_id,)).fetchone()
            )
            text = None if row is None else row[0]
        summary = seal = None
        if text is not None:
            *columns, seal = json.loads(text)
            summary = summary_of((incident_id, *columns))
        rows: list[_Stored] = [row[:4] for row in found]
        return rows, summary, seal

    def _version(self, incident_id: str) -> int:
        row = self._read(
            lambda connection: connection.execute(
                "SELECT max(version) FROM events WHERE incident_id = %s", (incident_id,)
            ).fetchone()
        )
        return 0 if row is None or row[0] is None else int(row[0])

    def _head(self, incident_id: str) -> tuple[int, str | None]:
        row = self._read(
            lambda connection: connection.execute(_HEAD, (incident_id,), prepare=True).fetchone()
        )
        return (0, None) if row is None else (int(row[0]), str(row[1]))

    def _ids(self) -> list[str]:
        rows = self._read(
            lambda connection: connection.execute(
                "SELECT incident_id FROM (SELECT incident_id FROM events "
                'UNION SELECT incident_id FROM incidents) AS ids ORDER BY incident_id COLLATE "C"'
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
        where, values = summary_filter(state, priority, since, until, mark="%s")
        head = HEAD_HASH if self.keyed else "NULL"
        rows = self._read(
            lambda connection: connection.execute(
                f"SELECT {SUMMARY_COLUMNS}, seal, {head} FROM incidents{where} "
                'ORDER BY declared_at COLLATE "C", incident_id COLLATE "C"',
                values,
            ).fetchall()
        )
        return [(summary_of(row[:-2]), row[-2], row[-1]) for row in rows]

    def _stored(self, after: int) -> Iterator[tuple[int, str, int, str, str]]:
        def page(start: int) -> Callable[[psycopg.Connection[Any]], list[Any]]:
            return lambda connection: connection.execute(
                "SELECT position, incident_id, version, line, hash FROM events "
                "WHERE position > %s ORDER BY position LIMIT 500",
                (start,),
            ).fetchall()

        while True:
            rows = self._read(page(after))
            if not rows:
                return
            for position, incident_id, version, line, digest in rows:
                yield int(position), incident_id, int(version), line, digest
            after = int(rows[-1][0])

    # -- the feed --------------------------------------------------------------------------------

    def _feed(self, after: int, limit: int) -> list[tuple[int, str, int, str]]:
        # Only events of transactions older than every one still running: their positions
        # were all taken before any running (or later) transaction took its own.
        query = _FEED if self._schema >= _HORIZON else _FEED_IN_ORDER
        return self._read(
            lambda connection: connection.execute(query, (after, limit), prepare=True).fetchall()
        )

    def _listener(self) -> psycopg.Connection[Any]:
        """The calling thread's connection listening on the feed's channel."""
        listener: psycopg.Connection[Any] | None = getattr(self._listeners, "connection", None)
        if listener is None or listener.closed:
            with self._translated():
                listener = psycopg.connect(
                    self._conninfo, autocommit=True, connect_timeout=max(1, round(self._timeout))
                )
                listener.execute(f"LISTEN {_CHANNEL}")
            self._listeners.connection = listener
            with self._listener_lock:
                self._all_listeners.append(listener)
        return listener

    def _wait(self, after: int, timeout: float) -> bool:
        if self._closed:
            raise StoreUnavailable(f"{self._where_text}: the store is closed")
        deadline = time.monotonic() + timeout
        if self._pooled:  # no LISTEN behind a transaction pooler: look again and again
            while not self._feed(after, 1):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                time.sleep(min(left, _LOOK_EVERY))
            return True
        listener = self._listener()  # listening before looking: no notification is missed
        while True:
            if self._feed(after, 1):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                with self._translated():
                    for _ in listener.notifies(timeout=min(left, 1.0), stop_after=1):
                        pass
            except StoreUnavailable:
                listener.close()  # the next look reconnects
                listener = self._listener()

    def _checkpoint(self, name: str) -> int:
        row = self._read(
            lambda connection: connection.execute(
                "SELECT position FROM checkpoints WHERE name = %s", (name,)
            ).fetchone()
        )
        return 0 if row is None else int(row[0])

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One READ COMMITTED transaction on one pooled connection."""
        if self._read_only:
            raise StoreUnavailable(f"{self._where_text}: the store was opened read-only")
        with self._connection() as connection:
            connection.execute("BEGIN")
            try:
                yield _PostgresTransaction(connection, self)
                connection.execute("COMMIT")
            except BaseException:
                _rollback(connection)
                raise


class _PostgresTransaction(Transaction):
    """A transaction on one PostgreSQL connection; ``?`` placeholders become psycopg's."""

    dialect: Dialect = "postgresql"

    def __init__(self, connection: psycopg.Connection[Any], store: PostgresStore) -> None:
        self._connection = connection
        self._store = store

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run ``sql`` with ``?`` placeholders in the transaction; its rows."""
        sql, values = _check_sql(sql, params)
        try:
            with self._store._translated():
                if values:
                    cursor = self._connection.execute(_placeholders(sql), values)
                else:
                    cursor = self._connection.execute(sql)
                return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
        except pg_errors.IntegrityError as exc:
            raise StoreError(f"{self._store.url}: {_first_line(exc)}") from exc

    def checkpoint(self, name: str) -> int:
        """The position of checkpoint ``name`` in this transaction (0 if none)."""
        with self._store._translated():
            row = self._connection.execute(
                "SELECT position FROM checkpoints WHERE name = %s", (_check_name(name),)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def advance(self, name: str, position: int) -> None:
        """Move ``name`` to ``position`` when the transaction commits (never backwards)."""
        name = _check_name(name)
        position = _check_position(position)
        with self._store._translated():
            moved = self._connection.execute(
                "INSERT INTO checkpoints (name, position) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position "
                "WHERE checkpoints.position <= excluded.position RETURNING position",
                (name, position),
            ).fetchone()
        if moved is None:
            _moved(name, self.checkpoint(name), position)


def _append_arguments(planned: list[tuple[_Batch, _Plan]], links: _Links) -> tuple[str, str]:
    """The arguments of :data:`_APPEND`: every event's row, then every summary's, as JSON."""
    events = [(batch.incident_id, *row) for batch, plan in planned for row in plan.rows]
    summaries = [
        (
            *summary_row(plan.summary),
            links.seal(plan.summary, plan.head),
            batch.expected_version,
            plan.follows,
        )
        for batch, plan in planned
    ]
    return codec._encode(events, False), codec._encode(summaries, False)


def _closed_while_idle(connection: psycopg.Connection[Any]) -> bool:
    """Whether a pooled connection has something to read while idle: the server closed it.

    No round trip: an idle connection (pooled ones do not listen) has nothing to read unless
    the server ended it (a restart, ``pg_terminate_backend``), so it is replaced before an
    append sends its write on it.
    """
    return bool(select.select([connection.fileno()], [], [], 0)[0])


def _placeholders(sql: str) -> str:
    """Qmark SQL as psycopg's: ``?`` outside quotes becomes ``%s`` and ``%`` becomes ``%%``."""
    out = []
    quote: str | None = None
    for char in sql:
        if quote is None and char in "'\"":
            quote = char
        elif char == quote:
            quote = None
        if char == "%":
            out.append("%%")
        elif char == "?" and quote is None:
            out.append("%s")
        else:
            out.append(char)
    return "".join(out)


def _found_version(conninfo: str) -> int:
    """The schema version of the database at ``conninfo`` as it is now (0 for none)."""
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=30) as connection:
            return _schema_version(connection)
    except psycopg.Error as exc:
        raise StoreUnavailable(f"{_describe(conninfo)}: {_first_line(exc)}") from exc


def _schema_version(connection: psycopg.Connection[Any]) -> int:
    """The newest migration applied to the database, 0 for none."""
    exists = connection.execute("SELECT to_regclass('schema_migrations')").fetchone()
    if exists is None or exists[0] is None:
        return 0
    row = connection.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


def _meta(connection: psycopg.Connection[Any]) -> tuple[str | None, str | None]:
    found = dict(connection.execute("SELECT name, value FROM meta").fetchall())
    return found.get("chain"), found.get("key_check")


def _rollback(connection: psycopg.Connection[Any]) -> None:
    with contextlib.suppress(psycopg.Error):
        if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            connection.execute("ROLLBACK")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
