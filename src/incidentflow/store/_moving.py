"""Moving a store forward: schema migrations, and copying a whole store into another."""

from __future__ import annotations

import os
import sqlite3

from attrs import frozen

from incidentflow.errors import InvalidInput, StoreUnavailable
from incidentflow.policy import DEFAULT_POLICY, Policy

from ._base import DEFAULT_PATH, ENVIRONMENT_VARIABLE, Store
from ._keys import chain_key_from_environment

__all__ = ["Copied", "Migrated", "copy_store", "migrate"]


@frozen(kw_only=True)
class Migrated:
    """What :func:`migrate` did: the schema version found and the one the store is at now."""

    where: str
    before: int
    after: int


@frozen(kw_only=True)
class Copied:
    """What :func:`copy_store` copied: incidents, events, and whether every chain is identical.

    ``same_chains`` is True when every incident's head hash in the target is the source's
    (both unkeyed, or keyed with the same key); a copy into a store keyed differently
    rechains every event under the target's key.
    """

    incidents: int
    events: int
    same_chains: bool


def migrate(
    path: str | os.PathLike[str] | None = None, *, chain_key: bytes | None = None
) -> Migrated:
    """Bring the store at ``path`` (as :func:`open_store` finds it) to this release's schema.

    Migrations only go forward, each in one transaction; a store written by a newer release
    is refused with :class:`~incidentflow.errors.StoreUnavailable`.  Opening a store to write
    migrates it too; this does it explicitly (e.g. as the database owner, before the
    application's role, which may not alter tables, opens it).
    """
    if path is None:
        path = os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_PATH
    if chain_key is None:
        chain_key = chain_key_from_environment()
    if isinstance(path, str) and path.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore, _found_version
        from .sqlite import open_store

        before = _found_version(path)
        with open_store(path, chain_key=chain_key) as store:
            assert isinstance(store, PostgresStore)  # a postgresql:// URL
            return Migrated(where=store.url, before=before, after=store.schema_version)
    from .sqlite import SCHEMA_VERSION, SQLiteStore

    where = os.fspath(path)
    if not os.path.exists(where):
        raise StoreUnavailable(f"{where}: no incidentflow store here (migrate never creates one)")
    before = _sqlite_version(where)
    with SQLiteStore(where, chain_key=chain_key):
        pass
    return Migrated(where=where, before=before, after=SCHEMA_VERSION)


def _sqlite_version(path: str) -> int:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return int(connection.execute("PRAGMA user_version").fetchone()[0])
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"{path}: cannot open the database: {exc}") from exc


def copy_store(source: Store, target: Store, *, policy: Policy = DEFAULT_POLICY) -> Copied:
    """Copy every incident of ``source`` into the empty ``target``, in one transaction.

    Each incident's events are read and verified (chain, summary, seal) from the source and
    appended to the target at the same versions, so the target replays every rule again;
    ``policy`` judges histories that record none.  The target must hold no incident
    (:class:`~incidentflow.errors.InvalidInput` otherwise); nothing is written unless
    everything is.  Feed positions and consumers' checkpoints are not copied (the target
    numbers its own feed).
    """
    if not isinstance(source, Store) or not isinstance(target, Store):
        raise InvalidInput("copy_store copies from one store to another")
    if source is target:
        raise InvalidInput("copy_store needs two different stores")
    held = target._ids()
    if held:
        raise InvalidInput(
            f"the target already holds {len(held)} incident(s) (e.g. {held[0]!r}); copy into "
            "an empty store"
        )
    ids = source._ids()
    batches = [(incident_id, source.events(incident_id), 0) for incident_id in ids]
    if batches:
        target.append_many(batches, policy=policy)
    same = all(source._head(i)[1] == target._head(i)[1] for i in ids)
    return Copied(
        incidents=len(ids), events=sum(len(events) for _, events, _ in batches), same_chains=same
    )
