"""The entry point: parse, resolve the global options, dispatch, and map errors to exit codes.

Module top-levels import only the standard library's light modules; the core, the store and
the codec are imported when a command runs, so ``incidentflow --help`` stays fast.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ._parser import build_parser

if TYPE_CHECKING:
    from datetime import datetime, tzinfo

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
        incident: str | None = None,
    ) -> None:
        self.code = code
        self.incident = incident
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
        from incidentflow.store import PostgresStore, open_store

        try:
            with open_store(db, read_only=True, chain_key=self.chain_key) as store:
                assert isinstance(store, PostgresStore)  # a postgresql:// URL
                if store.schema_version < 3 or not store.identity_required:
                    return None
                return store.person()
        except StoreUnavailable:
            return None  # no store yet, or unreachable: the command itself will say so

    @functools.cached_property
    def at(self) -> datetime | None:
        """``--at`` as an aware datetime, or None for now."""
        return None if self.args.at is None else parse_time(self.args.at, "--at", self.args)

    @functools.cached_property
    def tz(self) -> tzinfo:
        """The display zone: ``--tz``, else ``$INCIDENTFLOW_TZ``, else UTC."""
        return zone_of(self.args)

    @property
    def indent(self) -> bool:
        """Whether JSON is indented: ``--json-style``, else when stdout is a terminal."""
        style = getattr(self.args, "json_style", None)
        if style is not None:
            return bool(style == "indented")
        return sys.stdout.isatty()

    @functools.cached_property
    def chain_key(self) -> bytes | None:
        """``--chain-key-file``, else ``$INCIDENTFLOW_CHAIN_KEY`` or its file, else None."""
        from incidentflow.store import chain_key_from_environment, read_chain_key

        path = getattr(self.args, "chain_key_file", None)
        return chain_key_from_environment() if path is None else read_chain_key(path)

    @functools.cached_property
    def policy(self) -> Policy:
        """``--policy FILE`` loaded (or a built-in policy by name), else the default policy.

        A name such as ``retrospective`` (see ``incidentflow policy list``) is a built-in
        policy unless a file of that name exists.
        """
        from pathlib import Path

        from incidentflow.policy import DEFAULT_POLICY, NAMED_POLICIES, Policy

        if self.args.policy is None:
            return DEFAULT_POLICY
        if self.args.policy in NAMED_POLICIES and not Path(self.args.policy).exists():
            return Policy.named(self.args.policy)
        return Policy.load(self.args.policy)


def now(options: Options) -> datetime:
    """``--at``, else the current time."""
    from incidentflow.clock import SystemClock

    return options.at or SystemClock().now()


def iso(moment: datetime | None) -> str | None:
    """``moment`` in ISO 8601, in UTC, to the second; None for None (as JSON shows times).

    Recorded events keep their own stamps (see :mod:`incidentflow.codec`).
    """
    from datetime import UTC

    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


def emit(document: Any, options: Options | None = None) -> None:
    """Print ``document`` as JSON on stdout: indented on a terminal, compact when piped.

    ``--json-style indented`` or ``compact`` decides instead (``options`` carries it).
    """
    import json

    indent = options.indent if options is not None else sys.stdout.isatty()
    if indent:
        json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
    else:
        json.dump(document, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")


def plural(count: int, noun: str) -> str:
    """``count`` and ``noun``, in the plural unless the count is one: ``1 event``, ``2 events``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def zone_of(args: argparse.Namespace) -> tzinfo:
    """The display zone ``args`` ask for: ``--tz``, else ``$INCIDENTFLOW_TZ``, else UTC.

    A name the zone database does not know is bad input, with the closest names offered.
    """
    from datetime import UTC

    name = getattr(args, "tz", None) or os.environ.get("INCIDENTFLOW_TZ") or "UTC"
    if name.upper() in ("UTC", "Z"):
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    from incidentflow.errors import InvalidInput

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        known = available_timezones()
        raise InvalidInput(
            f"--tz: {name!r} is not a time zone{did_you_mean(name, known)} "
            "(give a name such as UTC, Europe/Berlin or America/New_York)"
        ) from None


def did_you_mean(given: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str:
    """``; did you mean 'x'?`` for the candidate closest to ``given``, or "" for none close.

    A candidate equal but for case comes first: offered, never applied.  Closeness ignores
    case; ``cutoff`` is :func:`difflib.get_close_matches`'.
    """
    import difflib

    names = list(dict.fromkeys(candidates))
    folded = [name for name in names if name.casefold() == given.casefold() and name != given]
    lowered = {name.casefold(): name for name in names}
    matches = difflib.get_close_matches(given.casefold(), lowered, n=1, cutoff=cutoff)
    close = folded or [lowered[m] for m in matches]
    return f"; did you mean {close[0]!r}?" if close else ""


def shown(moment: datetime, options: Options) -> str:
    """``moment`` as text shows it: in the display zone, to the minute."""
    local = moment.astimezone(options.tz)
    return f"{local:%Y-%m-%d %H:%M} {_zone_name(local)}"


def _zone_name(local: datetime) -> str:
    name = local.tzname() or ""
    return "UTC" if name in ("UTC", "UTC+00:00") else name


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
    from incidentflow.priorities import Priority

    args = options.args
    states = list_states(options)
    state = states[0] if states is not None and len(states) == 1 else None
    priority = None if args.priority is None else Priority.parse(args.priority)
    since = None if args.since is None else parse_time(args.since, "--since", args, day=True)
    until = None if args.until is None else parse_time(args.until, "--until", args, day=True)
    return state, priority, since, until


def list_states(options: Options) -> tuple[State, ...] | None:
    """The states ``--state`` (repeatable, commas split) and ``--active`` ask for; None: all."""
    from incidentflow.lifecycle import State

    args = options.args
    given = [word.strip() for text in args.state or () for word in text.split(",") if word.strip()]
    if any(word.lower() in ("open", "active") for word in given):
        raise Failure(
            EXIT_BAD_INPUT,
            "InvalidInput",
            "--state takes states (declared, mitigating, yellow, ...); for every open "
            "incident, give --active",
        )
    states = {State.parse(word) for word in given}
    if getattr(args, "active", False):
        active = {s for s in State if s.active}
        states = states & active if given else active
        if not states:
            raise Failure(
                EXIT_BAD_INPUT,
                "InvalidInput",
                "--active and --state ask for no state at all: "
                f"the active states are {', '.join(s.value for s in State if s.active)}",
            )
    if not states:
        return None
    return tuple(s for s in State if s in states)


def parse_time(
    text: str, name: str, args: argparse.Namespace | None = None, *, day: bool = False
) -> datetime:
    """An ISO 8601 time with a UTC offset in the supported range; else bad input.

    Where a day is meant (``day``: ``--due``, ``--since``, ``--until``), a plain date
    (``2026-12-13``) is midnight at its start in the display zone (``--tz``, else
    ``$INCIDENTFLOW_TZ``, else UTC).  A leading ``~`` marks the time approximate ("around
    then"; see :func:`~incidentflow.approximately`).
    """
    import re
    from datetime import date, datetime, time

    from incidentflow.clock import approximately, require_aware
    from incidentflow.errors import InvalidInput

    if text.startswith("~"):
        return approximately(parse_time(text[1:].lstrip(), name, args, day=day))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        if not day:
            raise InvalidInput(
                f"{name}: {text!r} is a day, and {name} takes a time: write e.g. "
                f"{text.strip()}T14:02:00+00:00"
            )
        try:
            given = date.fromisoformat(text.strip())
        except ValueError as exc:
            raise InvalidInput(f"{name}: {text!r} is not a date") from exc
        zone = zone_of(args if args is not None else argparse.Namespace())
        return require_aware(datetime.combine(given, time(), tzinfo=zone), name)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {text!r} is not an ISO 8601 time") from exc
    if moment.utcoffset() is None:
        raise InvalidInput(
            f"{name}: {text!r} has no UTC offset; write e.g. 2026-03-01T14:02:00+00:00, "
            "(or, where a day is meant, a plain date such as 2026-03-01)"
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
    if getattr(args, "version", False):
        from importlib.metadata import version

        print(f"incidentflow {version('incidentflow')}")
        return EXIT_OK
    handler = getattr(args, "handler", None)
    if handler is None:
        # A bare `incidentflow` or a group without its subcommand (`incidentflow debt`).
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    options = Options(args)
    _quiet_driver_logs(args, options)
    try:
        return _dispatch(handler, options)
    except BrokenPipeError:  # the reader went away (e.g. piped into `head`): stop quietly
        sys.stderr.close()
        return EXIT_OK
    except Failure as failure:
        return _report(options, failure)
    except Exception as exc:
        translated = _translate(exc, handler)
        if translated is None:
            raise
        from incidentflow.errors import NotFound

        if isinstance(exc, NotFound):
            translated.message += _known_id(options, exc.incident_id)
        return _report(options, translated)


def _quiet_driver_logs(args: argparse.Namespace, options: Options) -> None:
    """Keep psycopg's pool from writing its own lines to stderr when a command uses PostgreSQL.

    The pool logs every connection it drops and every failed reconnect (``psycopg.pool``,
    WARNING), which Python prints when nothing is set up to take them: a server restarting
    under ``dispatch --follow`` would write dozens.  The command line reports a store's
    faults itself (``StoreUnavailable``, and the dispatcher's own outage lines), so those
    records go to a handler that drops them.
    """
    named = [options.db, os.environ.get("INCIDENTFLOW_DB")]
    named += [getattr(args, name, None) for name in ("source", "target")]  # copy's stores
    if any(isinstance(db, str) and db.startswith(("postgresql://", "postgres://")) for db in named):
        import logging

        logging.getLogger("psycopg").addHandler(logging.NullHandler())


def _known_id(options: Options, missing: str) -> str:
    """``; did you mean 'INC-7'?`` when the store holds an id close to ``missing``."""
    from incidentflow.errors import IncidentFlowError
    from incidentflow.store import open_store

    try:
        with open_store(options.db, read_only=True, chain_key=options.chain_key) as store:
            ids = [summary.incident_id for summary in store.incidents()]
    except IncidentFlowError:  # pragma: no cover - the store opened a moment ago
        return ""
    return did_you_mean(missing, ids, cutoff=0.8)


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
    from . import _documents, _impact, _incident, _integrations, _reading

    if handler in _impact.HANDLERS:
        return _impact.HANDLERS[handler](options)
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
    if args.update_message is not None and not args.post:
        raise Failure(
            EXIT_BAD_INPUT,
            "InvalidInput",
            "--message goes with --post: incidentflow update INCIDENT --post --message TEXT",
        )
    if args.post and args.slack:
        raise Failure(EXIT_BAD_INPUT, "InvalidInput", "--slack prints a draft; --post posts it")
    return "update --post" if args.post else "draft-update"


def _translate(exc: Exception, handler: str = "") -> Failure | None:
    """The failure an error of the library (or of a file) stands for; None for a bug."""
    from incidentflow import errors
    from incidentflow.hints import COMMAND_NAMES

    kind = type(exc).__name__
    if isinstance(exc, errors.CommandRefused):
        command = COMMAND_NAMES.get(exc.command, exc.command)
        head = f"{exc.incident_id} ({exc.state}): {command} refused ({kind})"
        unmet = [(u.rule, _in_our_words(u.rule, u.detail)) for u in exc.unmet]
        return Failure(EXIT_REFUSED, kind, head, unmet, incident=exc.incident_id)
    if isinstance(exc, errors.DecodeError):  # a line of a file: its own names, note_added.actor
        return Failure(EXIT_BAD_INPUT, kind, _no_class_names(str(exc), as_in_files=True))
    if isinstance(exc, errors.InvalidInput | errors.PolicyError):
        return Failure(EXIT_BAD_INPUT, kind, _no_class_names(str(exc)))
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
        return Failure(EXIT_STORE, kind, message, unmet, incident=exc.incident_id)
    if isinstance(exc, errors.StoreError | errors.ReplayError):
        return Failure(EXIT_STORE, kind, str(exc))
    if isinstance(exc, OSError):
        return Failure(EXIT_BAD_INPUT, kind, str(exc))
    return None


def _no_class_names(message: str, *, as_in_files: bool = False) -> str:
    """``message`` with an event's class and field (``NoteAdded.text``) said in words.

    ``as_in_files``: as a JSON line names them instead, its type and key (``note_added.text``).

    >>> _no_class_names("NoteAdded.text must be a non-blank string, not ' '")
    "the text of a note must be a non-blank string, not ' '"
    >>> _no_class_names("line 2: NoteAdded.actor is blank", as_in_files=True)
    'line 2: note_added.actor is blank'
    """
    import re

    from incidentflow.events import EVENT_TYPES

    names = {kind.__name__: kind.type for kind in EVENT_TYPES.values()}

    def said(match: re.Match[str]) -> str:
        if as_in_files:
            return f"{names[match.group(1)]}.{match.group(2)}"
        field = match.group(2).replace("_", " ")
        return f"the {field} of {_EVENT_WORDS.get(names[match.group(1)], 'an event')}"

    pattern = r"\b(" + "|".join(names) + r")\.([a-z_]+)\b"
    return re.sub(pattern, said, message)


_EVENT_WORDS = {
    "declared": "a declaration",
    "validated": "a validation (confirm)",
    "linked": "a link",
    "role_assigned": "an assignment",
    "role_handed_off": "a hand-off",
    "role_released": "a release",
    "experiment_started": "an experiment",
    "experiment_concluded": "an experiment's conclusion",
    "note_added": "a note",
    "update_posted": "an update",
    "change_logged": "a manual change",
    "change_reconciled": "a change's reconciliation",
    "why_answered": "a Five Whys answer",
    "factor_added": "a contributing factor",
    "recovery_verified": "a recovery verification",
    "customer_verified": "a customer verification",
    "debt_opened": "a tech-debt item",
    "debt_closed": "a tech-debt closing",
    "report_started": "a report",
    "post_mortem_scheduled": "a post-mortem",
    "action_added": "an action item",
    "action_closed": "an action item's closing",
    "priority_changed": "a priority change",
    "policy_adopted": "a policy adoption",
    "state_changed": "a move",
}
"""What each event is, in words, for messages that name a field of one."""


_WORDED = frozenset({"authorized", "state_allows_command"})
"""The rules whose detail names a library command, said as the command line's."""


def _in_our_words(rule: str, detail: str) -> str:
    """``detail`` with the library's command names replaced by the command line's."""
    if rule not in _WORDED:
        return detail
    import re

    from incidentflow.hints import COMMAND_NAMES

    pattern = r"\b(" + "|".join(sorted(COMMAND_NAMES, key=len, reverse=True)) + r")\b"
    return re.sub(pattern, lambda m: COMMAND_NAMES[m.group(1)], detail)


def hint_line(rule: str, incident: str) -> str | None:
    """What the command line prints under an unmet rule: ``run: ...``, ``hint: ...`` or None."""
    from incidentflow.hints import HINTS

    found = HINTS.get(rule)
    if found is None:
        return None
    text = found.command.format(incident=incident)
    return f"run: {text}" if found.runnable else f"hint: {text}"


def _report(options: Options, failure: Failure) -> int:
    incident = failure.incident
    if options.json:
        import json

        entries: list[dict[str, Any]] = []
        for rule, detail in failure.unmet:
            entry = {"rule": rule, "detail": detail}
            line = None if incident is None else hint_line(rule, incident)
            if line is not None:
                entry["hint"] = line.split(": ", 1)[1]
            entries.append(entry)
        document: dict[str, Any] = {
            "error": failure.kind,
            "message": failure.message,
            "unmet": entries,
        }
        print(json.dumps(document, ensure_ascii=False), file=sys.stderr)
    else:
        from incidentflow.documents._markup import inline  # typed text can't drive the terminal

        print(f"incidentflow: {inline(failure.message)}", file=sys.stderr)
        for rule, detail in failure.unmet if failure.list_unmet else ():
            print(f"  {rule}: {inline(detail)}", file=sys.stderr)
            line = None if incident is None else hint_line(rule, incident)
            if line is not None:
                print(f"    {inline(line)}", file=sys.stderr)
    return failure.code
