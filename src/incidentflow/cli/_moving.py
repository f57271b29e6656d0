"""The commands that move a store forward: ``migrate`` and ``copy``."""

from __future__ import annotations

from incidentflow.store import copy_store, migrate, open_store

from ._main import EXIT_OK, Options, emit

__all__ = ["HANDLERS"]


def migrate_store(options: Options) -> int:
    """Bring the store at ``--db`` to this release's schema (forward only)."""
    done = migrate(options.db, chain_key=options.chain_key)
    if options.json:
        emit({"store": done.where, "before": done.before, "after": done.after})
    elif done.before == done.after:
        print(f"{done.where}: schema {done.after}, already current")
    else:
        print(f"{done.where}: migrated from schema {done.before} to {done.after}")
    return EXIT_OK


def copy(options: Options) -> int:
    """Copy every incident of ``--from`` into the empty store ``--to``, all or nothing."""
    args = options.args
    with (
        open_store(args.source, read_only=True, chain_key=options.chain_key) as source,
        open_store(args.target, chain_key=options.chain_key) as target,
    ):
        copied = copy_store(source, target, policy=options.policy)
    if options.json:
        emit({"incidents": copied.incidents, "events": copied.events,
              "same_chains": copied.same_chains})  # fmt: skip
    else:
        chains = "every chain identical" if copied.same_chains else "chains rekeyed"
        print(f"copied {copied.incidents} incidents ({copied.events} events); {chains}")
    return EXIT_OK


HANDLERS = {"migrate": migrate_store, "copy": copy}
"""Handler name → the function that runs it."""
