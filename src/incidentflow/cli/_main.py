"""The entry point: parse, resolve the global options, dispatch, and map errors to exit codes.

Module top-levels import only the standard library's light modules; the core, the store and
the codec are imported when a command runs, so ``incidentflow --help`` stays fast.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._parser import build_parser

if TYPE_CHECKING:
    from datetime import datetime

    from incidentflow.incident import Incident
    from incidentflow.lifecycle import State
    from incidentflow.policy import Policy
    from incidentflow.priorities import Priority

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_CONFLICT",
    "EXIT_MISSING_EXTRA",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_STORE",
    "Failure",
    "Options",
    "main",
]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_CONFLICT = 3
EXIT_NOT_FOUND = 4
EXIT_STORE = 5
EXIT_MISSING_EXTRA = 6


class Failure(Exception):
    """A command's own failure: an exit code, a kind, a message and the lines that explain it."""

    def __init__(
        self,
        code: int,
        kind: str,
        message: str,
        unmet: Sequence[tuple[str, str]] = (),
        *,
        list_unmet: bool = True,
    ) -> None:
        self.code = code
        self.list_unmet = list_unmet
        self.kind = kind
        self.message = message
        self.unmet = tuple(unmet)
        super().__init__(message)


class Options:
    """The global options, resolved lazily: each is checked only by the commands that need it.

    Each is resolved once (the policy file is read once per command); one that fails is not
    kept, so asking again raises again.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.json: bool = bool(getattr(args, "json", False))
        self.db: str | None = getattr(args, "db", None)

    @functools.cached_property
    def actor(self) -> str:
        """``--actor``, else ``$INCIDENTFLOW_ACTOR``, else ``$USER``; exit 2 when none.

        On a PostgreSQL store that takes identity from the database, the person the database
        login is mapped to comes before ``$USER`` (and the database refuses any other actor).

        The first one given is the actor: an empty ``--actor ''`` is an error, not a reason
        to fall back to ``$USER`` (an empty environment variable counts as unset).  The name
        must be an identity (see :mod:`incidentflow.identities`).
        """
        from incidentflow.identities import require_identity

        for name, source in (
            ("--actor", lambda: self.args.actor),
            ("$INCIDENTFLOW_ACTOR", lambda: os.environ.get("INCIDENTFLOW_ACTOR") or None),
            ("the database login", self._database_person),
            ("$USER", lambda: os.environ.get("USER") or None),
        ):
            actor = source()
            if actor is not None:
                return require_identity(actor, name)
        raise Failure(
            EXIT_BAD_INPUT,
            "InvalidInput",
            "who are you? give --actor NAME or set INCIDENTFLOW_ACTOR",
        )

    def _database_person(self) -> str | None:
        """On a PostgreSQL store that takes identity from the database: the login's person."""
        db = self.db or os.environ.get("INCIDENTFLOW_DB") or ""
        if not db.startswith(("postgresql://", "postgres://")):
            return None
        from incidentflow.errors import StoreUnavailable
        from incidentflow.store import PostgresStore

        try:
            with PostgresStore(db, read_only=True, chain_key=self.chain_key) as store:
                if store.schema_version < 3 or not store.identity_required:
                    return None
                return store.person()
        except StoreUnavailable:
            return None  # no store yet, or unreachable: the command itself will say so

    @functools.cached_property
    def at(self) -> datetime | None:
        """``--at`` as an aware datetime, or None for now."""
        return None if self.args.at is None else parse_time(self.args.at, "--at")

    @functools.cached_property
    def chain_key(self) -> bytes | None:
        """``--chain-key-file``, else ``$INCIDENTFLOW_CHAIN_KEY`` or its file, else None."""
        from incidentflow.store import chain_key_from_environment, read_chain_key

        path = getattr(self.args, "chain_key_file", None)
        return chain_key_from_environment() if path is None else read_chain_key(path)

    @functools.cached_property
    def policy(self) -> Policy:
        """``--policy FILE`` loaded, else the default policy."""
        from incidentflow.policy import DEFAULT_POLICY, Policy

        if self.args.policy is None:
            return DEFAULT_POLICY
        return Policy.load(self.args.policy)


def now(options: Options) -> datetime:
    """``--at``, else the current time."""
    from datetime import UTC, datetime

    return options.at or datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """``moment`` in ISO 8601, or None for None (as JSON documents show times)."""
    return None if moment is None else moment.isoformat()


def emit(document: Any) -> None:
    """Print ``document`` as indented JSON on stdout."""
    import json

    json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def load_incident(options: Options) -> Incident:
    """The incident named by the ``INCIDENT`` argument, under the policy it records.

    ``--policy`` applies only to a history that records none (see :func:`note_policy`).
    """
    from incidentflow.store import open_store

    with open_store(options.db, read_only=True, chain_key=options.chain_key) as store:
        incident = store.load(options.args.incident, policy=options.policy)
    note_policy(options, [incident])
    return incident


def note_policy(options: Options, incidents: Sequence[Incident]) -> None:
    """Say on stderr, in one line, when ``--policy`` is not what these incidents run under.

    An incident that records its policy runs under it whatever ``--policy`` says; the line
    names that policy and how to adopt another.  Nothing is refused for it.
    """
    path = getattr(options.args, "policy", None)
    if path is None:
        return
    given = options.policy.digest
    pinned = [
        i for i in incidents if i.recorded_policy is not None and i.recorded_policy.digest != given
    ]
    if len(pinned) == 1:
        incident = pinned[0]
        recorded = incident.recorded_policy
        assert recorded is not None
        message = (
            f"{incident.id} runs under its recorded policy {recorded.name} ({recorded.digest}), "
            f"not {path}; to change it: incidentflow adopt-policy {incident.id} --policy {path}"
        )
    elif pinned:
        message = (
            f"{len(pinned)} incidents run under their recorded policies, not {path} (see "
            "status INCIDENT); to change one: incidentflow adopt-policy INCIDENT --policy "
            f"{path}"
        )
    else:
        return
    from incidentflow.documents._markup import inline  # typed text can't drive the terminal

    print(f"incidentflow: note: {inline(message)}", file=sys.stderr)


def list_filters(
    options: Options,
) -> tuple[State | None, Priority | None, datetime | None, datetime | None]:
    """``--state``, ``--priority``, ``--since`` and ``--until`` parsed (None when not given)."""
    from incidentflow.lifecycle import State
    from incidentflow.priorities import Priority

    args = options.args
    state = None if args.state is None else State.parse(args.state)
    priority = None if args.priority is None else Priority.parse(args.priority)
    since = None if args.since is None else parse_time(args.since, "--since")
    until = None if args.until is None else parse_time(args.until, "--until")
    return state, priority, since, until


def parse_time(text: str, name: str) -> datetime:
    """An ISO 8601 time with a UTC offset in the supported range; else bad input."""
    from datetime import datetime

    from incidentflow.clock import require_aware
    from incidentflow.errors import InvalidInput

    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {text!r} is not an ISO 8601 time") from exc
    if moment.utcoffset() is None:
        raise InvalidInput(
            f"{name}: {text!r} has no UTC offset; write e.g. 2026-03-01T14:02:00+00:00"
        )
    return require_aware(moment, name)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    unreadable = _not_text(arguments)
    if unreadable is not None:
        print(f"incidentflow: {unreadable}", file=sys.stderr)
        return EXIT_BAD_INPUT
    parser = build_parser()
    args = parser.parse_args(arguments)
    handler = getattr(args, "handler", None)
    if handler is None:
        # A bare `incidentflow` or a group without its subcommand (`incidentflow debt`).
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    options = Options(args)
    try:
        return _dispatch(handler, options)
    except BrokenPipeError:  # the reader went away (e.g. piped into `head`): stop quietly
        sys.stderr.close()
        return EXIT_OK
    except Failure as failure:
        return _report(options, failure)
    except Exception as exc:
        translated = _translate(exc)
        if translated is None:
            raise
        return _report(options, translated)


def _not_text(arguments: Sequence[str]) -> str | None:
    """Why an argument is not text (None when all are): the boundary for every command.

    On POSIX, bytes that are not UTF-8 reach Python as lone surrogates (``surrogateescape``);
    they could be neither stored nor printed, so they are refused here, before anything runs.
    """
    for number, argument in enumerate(arguments, start=1):
        if "\x00" in argument:
            return f"argument {number} holds a NUL character"
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError as exc:
            raw = argument.encode("utf-8", "surrogateescape")
            shown = raw.decode("utf-8", "backslashreplace") if exc.start >= 0 else argument
            return (
                f"argument {number} ({shown!r}) is not UTF-8 text; "
                "give names, text and paths in UTF-8"
            )
    return None


def _dispatch(handler: str, options: Options) -> int:
    from . import _documents, _incident, _integrations, _reading

    if handler in _integrations.HANDLERS:
        return _integrations.HANDLERS[handler](options)
    if handler in ("migrate", "copy"):
        from . import _moving

        return _moving.HANDLERS[handler](options)
    if handler == "update":
        handler = _update_handler(options.args)
    if handler in _reading.HANDLERS:
        return _reading.HANDLERS[handler](options)
    if handler in _documents.HANDLERS:
        return _documents.HANDLERS[handler](options)
    return _incident.run(handler, options)


def _update_handler(args: argparse.Namespace) -> str:
    """``update`` posts MESSAGE, drafts an update, or (``--post``) posts the draft."""
    if args.message is not None and (args.post or args.slack):
        raise Failure(
            EXIT_BAD_INPUT,
            "InvalidInput",
            "give a MESSAGE to post it, or no MESSAGE to draft one (--slack, --post)",
        )
    if args.message is not None:
        return "update"
    if args.post and args.slack:
        raise Failure(EXIT_BAD_INPUT, "InvalidInput", "--slack prints a draft; --post posts it")
    return "update --post" if args.post else "draft-update"


def _translate(exc: Exception) -> Failure | None:
    """The failure an error of the library (or of a file) stands for; None for a bug."""
    from incidentflow import errors

    kind = type(exc).__name__
    if isinstance(exc, errors.CommandRefused):
        head = f"{exc.incident_id} ({exc.state}): {exc.command} refused ({kind})"
        return Failure(EXIT_REFUSED, kind, head, [(u.rule, u.detail) for u in exc.unmet])
    if isinstance(exc, errors.InvalidInput | errors.PolicyError):
        return Failure(EXIT_BAD_INPUT, kind, str(exc))
    if isinstance(exc, errors.Conflict):
        return Failure(EXIT_CONFLICT, kind, str(exc))
    if isinstance(exc, errors.NotFound | errors.NotReady):
        return Failure(EXIT_NOT_FOUND, kind, str(exc))
    if isinstance(exc, errors.MissingExtra):
        return Failure(EXIT_MISSING_EXTRA, kind, str(exc))
    if isinstance(exc, errors.InvalidHistory):
        event = "stored event" if exc.stored else "event"
        message = (
            f"{exc.incident_id}: {event} {exc.version} breaks the rules of its history "
            f"({'the store holds it' if exc.stored else 'nothing was written'})"
        )
        unmet = [(u.rule, u.detail) for u in exc.unmet] or [("rules", exc.detail)]
        return Failure(EXIT_STORE, kind, message, unmet)
    if isinstance(exc, errors.StoreError | errors.ReplayError):
        return Failure(EXIT_STORE, kind, str(exc))
    if isinstance(exc, OSError):
        return Failure(EXIT_BAD_INPUT, kind, str(exc))
    return None


def _report(options: Options, failure: Failure) -> int:
    if options.json:
        import json

        document: dict[str, Any] = {
            "error": failure.kind,
            "message": failure.message,
            "unmet": [{"rule": rule, "detail": detail} for rule, detail in failure.unmet],
        }
        print(json.dumps(document, ensure_ascii=False), file=sys.stderr)
    else:
        from incidentflow.documents._markup import inline  # typed text can't drive the terminal

        print(f"incidentflow: {inline(failure.message)}", file=sys.stderr)
        for rule, detail in failure.unmet if failure.list_unmet else ():
            print(f"  {rule}: {inline(detail)}", file=sys.stderr)
    return failure.code
