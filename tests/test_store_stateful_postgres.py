"""PostgresStore and InMemoryStore side by side, with reopens and dropped connections.

The state machine of test_store_stateful.py, with PostgreSQL in SQLite's place: every answer
and refusal must match the memory store's, and both must hold what the caller wrote, while the
rules also close and reopen the PostgreSQL store and make the server drop its connections.
"""

from __future__ import annotations

import psycopg
from hypothesis import settings
from hypothesis.stateful import rule, run_state_machine_as_test

from incidentflow.store import PostgresStore
from postgres import Cluster, Pooler
from test_store_stateful import StoresAgree


class PostgresAgrees(StoresAgree):
    """StoresAgree on a new PostgreSQL database per run."""

    cluster: Cluster

    def __init__(self) -> None:
        super().__init__()
        self.sqlite.close()  # the SQLite store of the parent is replaced by PostgreSQL
        self.url = self.direct = self.cluster.database()
        self.sqlite = self.open()  # type: ignore[assignment]

    def open(self) -> PostgresStore:
        """A new store object on the run's database."""
        return PostgresStore(self.url)

    @rule()
    def reopen_sqlite(self) -> None:
        """Close the PostgreSQL store and open a new one on the same database."""
        self.sqlite.close()
        self.sqlite = self.open()  # type: ignore[assignment]

    @rule()
    def drop_connections(self) -> None:
        """The server drops every connection of the store (as a restart or a proxy would)."""
        with psycopg.connect(self.direct, autocommit=True) as raw:
            raw.execute(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


def test_postgres_and_memory_agree_through_reconnects(postgres_cluster: Cluster) -> None:
    """Random appends, conflicts, reads, reopens and dropped connections: the stores agree."""
    PostgresAgrees.cluster = postgres_cluster
    run_state_machine_as_test(
        PostgresAgrees,
        settings=settings(max_examples=25, stateful_step_count=25, deadline=None),
    )


class PooledAgrees(PostgresAgrees):
    """PostgresAgrees through PgBouncer in transaction mode (one server connection shared by
    every client); dropping connections drops the pooler's (it makes a new one)."""

    pooler: Pooler

    def __init__(self) -> None:
        StoresAgree.__init__(self)
        self.sqlite.close()
        self.url = self.pooler.database()
        self.direct = self.cluster.url(self.url.rsplit("/", 1)[1])
        self.sqlite = self.open()  # type: ignore[assignment]

    def open(self) -> PostgresStore:
        """A new store object on the run's database, through the pooler."""
        return PostgresStore(self.url, transaction_pooler=True)


def test_postgres_through_a_transaction_pooler_and_memory_agree(
    postgres_cluster: Cluster, pooler: Pooler
) -> None:
    """The same through PgBouncer in transaction mode: the stores agree."""
    PooledAgrees.cluster = postgres_cluster
    PooledAgrees.pooler = pooler
    run_state_machine_as_test(
        PooledAgrees,
        settings=settings(max_examples=25, stateful_step_count=25, deadline=None),
    )
