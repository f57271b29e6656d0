"""The argument parser: every subcommand, its options and its ``--help`` example.

Imports nothing but :mod:`argparse` and what it imports itself (:mod:`re`), so
``incidentflow --help`` stays fast; :mod:`difflib` is imported only to suggest a command.
"""

from __future__ import annotations

import argparse
import re
from typing import NoReturn

__all__ = ["EXIT_CODES", "build_parser"]

EXIT_CODES = """\
exit codes:
  0  ok
  1  refused by a rule (NotAuthorized, TransitionBlocked, RuleViolated)
  2  bad input or usage (a malformed value or file, a naive --at, a bad policy)
  3  conflict (other writers kept getting there first for the whole retry budget;
     AlreadyExists: declaring an id the store already holds)
  4  not found (no such incident in the store, or not recorded yet: an invitation
     before the post-mortem is scheduled)
  5  store problem (Tampered: changed behind the library's back; InvalidHistory: a
     well-chained history its rules refuse; StoreUnavailable: no store at --db, not an
     incidentflow store, read-only, a missing or wrong chain key, a database server that
     cannot be reached or dropped the connection; StoreBusy: locked; a second dispatcher
     on one SQLite store)
  6  an optional part is not installed (pip install 'incidentflow[charts]', [calendar],
     [postgres] or [integrations])

environment:
  INCIDENTFLOW_DB     the store (SQLite file or postgresql:// URL) when --db is not given
  INCIDENTFLOW_ACTOR  who you are when --actor is not given (else $USER)
  INCIDENTFLOW_CHAIN_KEY       the store's secret chain key, in hex (64+ digits)
  INCIDENTFLOW_CHAIN_KEY_FILE  a file holding it (or give --chain-key-file)
  INCIDENTFLOW_TZ     the time zone times are shown in when --tz is not given (default UTC)
  INCIDENTFLOW_CONFIG the sinks file of `dispatch` when --config is not given

start here:
  incidentflow declare INC-7 --title "Database is down" --priority P1
  incidentflow status INC-7     # who holds what, what blocks each next move, what is due
  every refusal names each unmet rule and the command that meets it ("run: ...")
"""

_MOVES = {
    "mitigate": ("mitigate", "start mitigating (declared → mitigating)", "Mitigation under way"),
    "yellow": ("announce_yellow", "announce resolved-yellow (mitigating → yellow)", "Resolved"),
    "green": ("announce_green", "announce resolved-green (yellow → green)", "All clear"),
    "mark-reported": ("mark_reported", "the report is started (green → reported)", "Reported"),
    "post-mortem": (
        "begin_post_mortem",
        "the post-mortem is scheduled (reported → post_mortem)",
        "Post-mortem scheduled",
    ),
    "dismiss": ("dismiss", "dismiss a false alarm (declared → dismissed)", "False alarm"),
    "reopen": ("reopen", "the problem is back (yellow → mitigating)", "Errors are back"),
}


def _globals(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Add the global options; on subcommands they default to absent, so either place works."""

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("global options")
    group.add_argument(
        "--db",
        metavar="PATH",
        default=default(None),
        help="the store: a SQLite file or a postgresql:// URL (default: $INCIDENTFLOW_DB, "
        "else ./incidents.db)",
    )
    group.add_argument(
        "--actor",
        metavar="NAME",
        default=default(None),
        help="who issues the command (default: $INCIDENTFLOW_ACTOR, else $USER)",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="machine-readable output: one JSON document (errors as JSON on stderr); times "
        "in ISO 8601 UTC, to the second",
    )
    group.add_argument(
        "--json-style",
        choices=("indented", "compact"),
        default=default(None),
        help="how --json lays its document out (default: indented on a terminal, compact "
        "when piped)",
    )
    group.add_argument(
        "--at",
        metavar="TIME",
        default=default(None),
        help="when it happened, ISO 8601 with a UTC offset, e.g. 2026-03-01T14:02:00+00:00; "
        "~ before it for an approximate time (default: now)",
    )
    group.add_argument(
        "--tz",
        metavar="ZONE",
        default=default(None),
        help="the time zone times are shown in, and a plain date's midnight is in, e.g. "
        "Europe/Berlin (default: $INCIDENTFLOW_TZ, else UTC)",
    )
    group.add_argument(
        "--policy",
        metavar="FILE",
        default=default(None),
        help="a TOML policy file, or a built-in policy's name (incidentflow policy list), for "
        "declare and adopt-policy (an incident runs under the policy it recorded; default: "
        "the default policy)",
    )
    group.add_argument(
        "--chain-key-file",
        metavar="FILE",
        default=default(None),
        help="a file holding the store's secret chain key in hex (default: "
        "$INCIDENTFLOW_CHAIN_KEY, else $INCIDENTFLOW_CHAIN_KEY_FILE, else none)",
    )


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors offer the closest command or option."""

    def error(self, message: str) -> NoReturn:
        """Exit 2 with ``message``, plus "did you mean ...?" where something close exists."""
        choice = re.search(r"invalid choice: '(.*?)' \(choose from (.*)\)", message, re.S)
        if choice is not None and message.startswith("argument COMMAND"):
            given, options = choice.group(1), re.findall(r"'([^']*)'", choice.group(2))
            message = f"unknown command {given!r}{_closest(given, options)}"
            message += f" ({self.prog} --help lists every command)"
        elif choice is not None:
            given, options = choice.group(1), re.findall(r"'([^']*)'", choice.group(2))
            message += _closest(given, options)
        else:
            unknown = re.search(r"unrecognized arguments: (-\S+)", message)
            if unknown is not None:
                given = unknown.group(1).split("=", 1)[0]
                message += _closest(given, sorted(_option_strings(self)))
        self.exit(2, f"{self.prog}: error: {message}\n")


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string of ``parser`` and of its subcommands, at any depth."""
    found: set[str] = set()
    for action in parser._actions:
        found.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _option_strings(sub)
    return found


def _closest(given: str, options: list[str]) -> str:
    """``; did you mean 'x'?`` for the option closest to ``given`` (case ignored), or ""."""
    import difflib

    same = [o for o in options if o.casefold() == given.casefold()]
    close = same or difflib.get_close_matches(given.casefold(), options, n=1, cutoff=0.7)
    return f"; did you mean {close[0]!r}?" if close else ""


class _Commands:
    """Adds subcommands that all carry the global options and a help example."""

    def __init__(self, parser: argparse.ArgumentParser, dest: str) -> None:
        self._group = parser.add_subparsers(dest=dest, metavar="COMMAND", parser_class=_Parser)

    def add(
        self,
        name: str,
        summary: str,
        example: str,
        *,
        handler: str = "",
        aliases: tuple[str, ...] = (),
    ) -> argparse.ArgumentParser:
        parser = self._group.add_parser(
            name,
            aliases=list(aliases),
            help=summary,
            description=summary[:1].upper() + summary[1:] + ".",
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _globals(parser, top=False)
        if handler:
            parser.set_defaults(handler=handler)
        return parser


def build_parser() -> argparse.ArgumentParser:
    """The whole ``incidentflow`` parser; each leaf sets ``handler`` to its command's name."""
    parser = _Parser(
        prog="incidentflow",
        description="An incident-response runbook as executable process rules: declare, staff, "
        "mitigate and close incidents from the terminal, kept in an append-only store.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _globals(parser, top=True)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = _Commands(parser, "command")
    _incident_commands(commands)
    _correction_commands(commands)
    _impact_commands(commands)
    _nested_commands(commands)
    _read_commands(commands)
    from . import _integrations  # argparse only: the commands import their library when run

    _integrations.add_commands(commands)
    return parser


def _incident(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("incident", metavar="INCIDENT", help="the incident id")
    return parser


def _filter_options(parser: argparse.ArgumentParser) -> None:
    """The filters of the commands that read many incidents (``list``, ``stats``)."""
    parser.add_argument(
        "--state",
        action="append",
        metavar="STATE",
        help="only incidents in these states (repeat it, or separate states with commas)",
    )
    parser.add_argument(
        "--active",
        action="store_true",
        help="only active incidents (declared, mitigating or yellow)",
    )
    parser.add_argument("--priority", help="only incidents of this priority")
    parser.add_argument(
        "--since", metavar="TIME", help="declared at or after TIME (a date: its midnight)"
    )
    parser.add_argument(
        "--until", metavar="TIME", help="declared before TIME (a date: its midnight)"
    )


def _incident_commands(commands: _Commands) -> None:
    add = commands.add
    p = _incident(
        add(
            "declare",
            "declare a new incident",
            'incidentflow declare INC-7 --title "Database is down" --priority P1',
            handler="declare",
        )
    )
    p.add_argument("--title", required=True, help="what is wrong, in a few words")
    p.add_argument("--priority", required=True, help="P0, P1, P2 or P3")
    _milestone_options(p)
    p = _incident(
        add(
            "confirm",
            "confirm the problem is real (step 1, validate)",
            'incidentflow confirm INC-7 "primary refuses connections"',
            handler="confirm",
        )
    )
    p.add_argument("evidence", metavar="EVIDENCE", nargs="?", help="what shows the problem is real")
    p.add_argument(
        "--evidence", dest="evidence_option", metavar="EVIDENCE", help="the same, as an option"
    )
    p.add_argument("--impact", default="", help="who or what is affected, and how")
    p = _incident(
        add(
            "link",
            "link the ticket, war room, public channel or announcement",
            "incidentflow link INC-7 ticket https://tickets.example.com/IM-7",
            handler="link",
        )
    )
    p.add_argument("kind", metavar="KIND", help="ticket, war_room, public_channel or announcement")
    p.add_argument("url", metavar="URL", nargs="?", help="the link (not with --none)")
    _not_known(p, "--none", "no such link exists (no ticket was opened); give --reason")
    p = _incident(
        add(
            "assign",
            "give a person a role (lead, ic, communicator, recorder)",
            "incidentflow assign INC-7 lead ana",
            handler="assign",
        )
    )
    p.add_argument("role", metavar="ROLE")
    p.add_argument("person", metavar="PERSON", nargs="?", help="who (not with --unknown)")
    _not_known(p, "--unknown", "nobody can say who held the role; give --reason")
    p = _incident(
        add(
            "hand-off",
            "hand a role from one person to another",
            "incidentflow hand-off INC-7 ic bo eve",
            handler="hand-off",
        )
    )
    p.add_argument("role", metavar="ROLE")
    p.add_argument("from_person", metavar="FROM")
    p.add_argument("to_person", metavar="TO")
    p = _incident(
        add(
            "release",
            "release a person from a role",
            "incidentflow release INC-7 ic eve",
            handler="release",
        )
    )
    p.add_argument("role", metavar="ROLE")
    p.add_argument("person", metavar="PERSON")
    p = _incident(
        add(
            "update",
            "post a stakeholder update, or draft one from the record (no MESSAGE)",
            'incidentflow update INC-7 "Database outage; next update in 30 minutes"\n'
            "  incidentflow update INC-7            # draft: state, impact, what is tried, "
            "what changed\n"
            "  incidentflow update INC-7 --slack    # the draft as Slack Block Kit JSON\n"
            "  incidentflow update INC-7 --post     # post a short update ($EDITOR opens on it)\n"
            '  incidentflow update INC-7 --post --message "Still down; next update 15:00"',
            handler="update",
        )
    )
    p.add_argument(
        "message", metavar="MESSAGE", nargs="?", help="the update; without it, print a draft"
    )
    p.add_argument("--no-progress", action="store_true", help="an update without progress")
    p.add_argument(
        "--post",
        action="store_true",
        help="post a short update composed from the record (state and impact, what changed, "
        "next steps, when the next is due): $VISUAL or $EDITOR opens on it when set, and only "
        "what is sent is stored",
    )
    p.add_argument(
        "--message",
        dest="update_message",
        metavar="TEXT",
        help="with --post: send TEXT instead of the composed update",
    )
    p.add_argument("--slack", action="store_true", help="print the draft as Slack Block Kit JSON")
    p = _incident(
        add(
            "note",
            "add a note to the timeline",
            'incidentflow note INC-7 "refresh job last ran 3 days ago"',
            handler="note",
        )
    )
    p.add_argument("text", metavar="TEXT")
    p.add_argument(
        "--kind",
        default="note",
        help="note (default) or discrepancy (two sources disagree; shown in the RCA)",
    )
    p = _incident(
        add(
            "why",
            "answer the next why of a Five Whys chain (step 10)",
            'incidentflow why INC-7 "The service is down."',
            handler="why",
            aliases=("five-whys",),
        )
    )
    p.add_argument("answer", metavar="ANSWER")
    p.add_argument("--chain", default="main", help="the chain (default: main)")
    p.add_argument("--root-cause", action="store_true", help="this answer is the root cause")
    p.add_argument(
        "--branches-from",
        metavar="CHAIN",
        help="start --chain as a branch of CHAIN: one of several jointly sufficient causes",
    )
    p.add_argument(
        "--after", type=int, metavar="N", help="the answer of CHAIN it explains (default: last)"
    )
    p = _incident(
        add(
            "factor",
            "record a contributing factor",
            'incidentflow factor INC-7 "no alert on the refresh job" --category measurement',
            handler="factor",
        )
    )
    p.add_argument("description", metavar="DESCRIPTION")
    p.add_argument(
        "--category",
        help="its fishbone category: people, process, technology, materials, measurement "
        "or environment",
    )
    p = _incident(
        add(
            "verify-recovery",
            "record that recovery is verified (step 11)",
            'incidentflow verify-recovery INC-7 --evidence "error rate at baseline"',
            handler="verify-recovery",
        )
    )
    p.add_argument("--evidence", required=True)
    p = _incident(
        add(
            "verify-customer",
            "record that a customer verified the fix",
            'incidentflow verify-customer INC-7 --customer Acme --evidence "deploys work"',
            handler="verify-customer",
        )
    )
    p.add_argument("--customer", required=True)
    p.add_argument("--evidence", required=True)
    p = _incident(
        add(
            "start-report",
            "start the incident report (step 14)",
            "incidentflow start-report INC-7 --location https://docs.example.com/rca/INC-7",
            handler="start-report",
        )
    )
    p.add_argument("--location", default="", metavar="URL", help="where the report lives")
    p = _incident(
        add(
            "schedule",
            "schedule the post-mortem (step 15)",
            "incidentflow schedule INC-7 --for 2026-03-03T10:00:00+00:00 --invite ana --invite bo",
            handler="schedule",
        )
    )
    p.add_argument(
        "--for", dest="scheduled_for", required=True, metavar="TIME", help="when it starts"
    )
    p.add_argument(
        "--invite",
        action="append",
        required=True,
        metavar="P",
        help="a person to invite; repeat it (--invite ana --invite bo) or separate names "
        "with commas (--invite ana,bo)",
    )
    p = _incident(
        add(
            "priority",
            "change the priority, with the reason",
            'incidentflow priority INC-7 P2 --reason "only internal tools affected"',
            handler="priority",
        )
    )
    p.add_argument("new_priority", metavar="PRIORITY")
    p.add_argument("--reason", required=True)
    _incident(
        add(
            "adopt-policy",
            "run the incident under the --policy file from now on (recorded; the policy "
            "in force decides who may)",
            "incidentflow adopt-policy INC-7 --policy team.toml",
            handler="adopt-policy",
        )
    )
    for name, (_, summary, message) in _MOVES.items():
        p = _incident(add(name, summary, f'incidentflow {name} INC-7 "{message}"', handler=name))
        p.add_argument("message", metavar="MESSAGE", help="what is announced, or why")


def _not_known(parser: argparse.ArgumentParser, flag: str, summary: str) -> None:
    """The option recording that something is not known (or does not exist), with its reason."""
    parser.add_argument(flag, dest="not_known", action="store_true", help=summary)
    parser.add_argument("--reason", default="", help="why it is not known (with " + flag + ")")


def _correction_commands(commands: _Commands) -> None:
    """Data loss and corrections: ``data-loss``, ``amend`` and ``retract``."""
    p = _incident(
        commands.add(
            "data-loss",
            "record data lost for good: what, the window of lost writes, how much",
            'incidentflow data-loss INC-7 "writes to the orders table" '
            "--from 2026-03-01T13:40:00+00:00 --to 2026-03-01T14:05:00+00:00 "
            '--amount "about 1,200 orders"',
            handler="data-loss",
        )
    )
    p.add_argument("what", metavar="WHAT")
    p.add_argument(
        "--from",
        dest="window_start",
        metavar="TIME",
        help="when the lost writes began (leave out when not known)",
    )
    p.add_argument(
        "--to",
        dest="window_end",
        metavar="TIME",
        help="when the lost writes ended (leave out when not known)",
    )
    p.add_argument("--amount", default="", help="how much, in words")
    p.add_argument("--id", dest="record_id", metavar="ID", help="the id (default: L1, L2, …)")
    p = _incident(
        commands.add(
            "amend",
            "correct the record: the title, when it began or was declared, or an entry's "
            "text, time, priority or invitees (the original stays in the history)",
            'incidentflow amend INC-7 began 2026-03-01T13:42:00+00:00 --reason "the graphs '
            'show the first errors at 13:42"\n'
            '  incidentflow amend INC-7 text "restarted db-2" --entry 12 --reason "typo"',
            handler="amend",
        )
    )
    p.add_argument(
        "field_name",
        metavar="FIELD",
        help="title, began, declared, priority, invitees, text or time",
    )
    p.add_argument("value", metavar="VALUE")
    p.add_argument("--entry", type=int, metavar="N", help="the event number of the entry")
    p.add_argument("--reason", required=True, help="why the record was wrong")
    p = _incident(
        commands.add(
            "retract",
            "withdraw a note, update, factor or data loss recorded by mistake (it stays in the "
            "history)",
            'incidentflow retract INC-7 14 --reason "posted to the wrong incident"',
            handler="retract",
        )
    )
    p.add_argument("entry", metavar="N", type=int, help="the event number of the entry")
    p.add_argument("--reason", required=True, help="why it is withdrawn")


def _milestone_options(parser: argparse.ArgumentParser) -> None:
    """``declare``'s milestones besides ``--at`` (when it was declared)."""
    parser.add_argument(
        "--at-latest",
        metavar="TIME",
        help="when the declaration time is not known: the latest it can have been (instead of "
        "--at; give --began or --detected with it)",
    )
    parser.add_argument(
        "--began", metavar="TIME", help="when the impact began (default: the declaration, --at)"
    )
    parser.add_argument("--detected", metavar="TIME", help="when the problem was detected")
    parser.add_argument(
        "--detection", metavar="HOW", help="how: alert, customer_report, employee or other"
    )
    parser.add_argument("--detected-by", default="", metavar="WHAT", help="by what or whom")


def _impact_commands(commands: _Commands) -> None:
    """``impact`` (the impact timeline) and ``policy list`` (the built-in policies)."""
    p = _incident(
        commands.add(
            "impact",
            "record the impact level (operational, degraded, partial_outage, major_outage)",
            'incidentflow impact INC-7 partial_outage "EU checkouts fail" --component checkout '
            "--share 40",
            handler="impact",
        )
    )
    p.add_argument(
        "level", metavar="LEVEL", help="operational, degraded, partial_outage or major_outage"
    )
    p.add_argument(
        "description", metavar="DESCRIPTION", nargs="?", default="", help="what users see"
    )
    p.add_argument(
        "--component", action="append", default=[], metavar="NAME", help="a part hit (repeatable)"
    )
    p.add_argument("--share", metavar="PERCENT", help="the share affected, 0 to 100")
    group = commands.add("policy", "the built-in policies", "incidentflow policy list")
    sub = _Commands(group, "subcommand")
    sub.add(
        "list",
        "list the built-in policies, for --policy NAME",
        "incidentflow policy list",
        handler="policy list",
    )


def _nested_commands(commands: _Commands) -> None:
    group = commands.add(
        "experiment",
        "start or conclude an experiment (steps 6–10)",
        "incidentflow experiment start INC-7 --hypothesis ... --owner bo",
    )
    sub = _Commands(group, "subcommand")
    p = _incident(
        sub.add(
            "start",
            "start an experiment",
            'incidentflow experiment start INC-7 --hypothesis "token expired" --action "inspect '
            'auth errors" --expected "token-expired errors" --component auth --owner bo',
            handler="experiment start",
        )
    )
    for option in ("hypothesis", "action", "expected", "component"):
        p.add_argument(f"--{option}", required=True)
    p.add_argument("--owner", required=True, metavar="IC", help="the Incident Commander")
    p.add_argument("--id", dest="record_id", metavar="ID", help="the id (default: E1, E2, …)")
    p = _incident(
        sub.add(
            "conclude",
            "conclude an experiment with what was observed",
            'incidentflow experiment conclude INC-7 E1 --observed "disk at 41%%" --verdict refuted',
            handler="experiment conclude",
        )
    )
    p.add_argument("record_id", metavar="ID")
    p.add_argument("--observed", required=True)
    p.add_argument("--verdict", required=True, help="confirmed, refuted or inconclusive")

    group = commands.add(
        "change",
        "log or reconcile a manual change",
        "incidentflow change log INC-7 --what ... --where ... --revert ...",
    )
    sub = _Commands(group, "subcommand")
    p = _incident(
        sub.add(
            "log",
            "log a manual change made during the incident",
            'incidentflow change log INC-7 --what "issued a token by hand" --where auth '
            '--revert "revoke token T-77" --made-by bo',
            handler="change log",
        )
    )
    p.add_argument("--what", required=True)
    p.add_argument("--where", required=True)
    p.add_argument("--revert", required=True, help="how to undo it")
    p.add_argument("--made-by", metavar="P", help="who made it (default: --actor)")
    p.add_argument("--id", dest="record_id", metavar="ID", help="the id (default: C1, C2, …)")
    p = _incident(
        sub.add(
            "reconcile",
            "revert a manual change or make it permanent",
            "incidentflow change reconcile INC-7 C1 reverted --note 'token revoked'",
            handler="change reconcile",
        )
    )
    p.add_argument("record_id", metavar="ID")
    p.add_argument("outcome", metavar="OUTCOME", help="reverted, permanent or irreversible")
    p.add_argument("--note", default="")

    group = commands.add(
        "debt",
        "open or close tech debt",
        'incidentflow debt open INC-7 "replace the hand-issued token"',
    )
    sub = _Commands(group, "subcommand")
    p = _incident(
        sub.add(
            "open",
            "open tech debt to clean up",
            'incidentflow debt open INC-7 "replace the hand-issued token"',
            handler="debt open",
        )
    )
    p.add_argument("description", metavar="DESCRIPTION")
    p.add_argument("--id", dest="record_id", metavar="ID", help="the id (default: D1, D2, …)")
    p = _incident(
        sub.add(
            "close",
            "close tech debt",
            "incidentflow debt close INC-7 D1 --note 'job redeployed'",
            handler="debt close",
        )
    )
    p.add_argument("record_id", metavar="ID")
    p.add_argument("--note", default="")

    group = commands.add(
        "action",
        "add or close an action item",
        "incidentflow action add INC-7 'alert on job failures' --owner bo --due ... "
        "--kind preventive",
    )
    sub = _Commands(group, "subcommand")
    p = _incident(
        sub.add(
            "add",
            "add a corrective or preventive action item",
            "incidentflow action add INC-7 'alert on job failures' --owner bo "
            "--due 2026-03-08T17:00:00+00:00 --kind preventive",
            handler="action add",
        )
    )
    p.add_argument("description", metavar="DESCRIPTION")
    p.add_argument("--owner", metavar="P", help="who owns it (the policy may let it be unknown)")
    p.add_argument("--due", metavar="TIME", help="when it is due (the policy may let it be unset)")
    p.add_argument("--kind", required=True, help="corrective or preventive")
    p.add_argument("--id", dest="record_id", metavar="ID", help="the id (default: A1, A2, …)")
    p = _incident(
        sub.add(
            "close",
            "close an action item",
            "incidentflow action close INC-7 A1 --note done",
            handler="action close",
        )
    )
    p.add_argument("record_id", metavar="ID")
    p.add_argument("--note", default="")


def _read_commands(commands: _Commands) -> None:
    add = commands.add
    _incident(
        add(
            "status",
            "show an incident: roles, links, what blocks each next move, what is due",
            "incidentflow status INC-7",
            handler="status",
        )
    )
    p = _incident(
        add(
            "timeline",
            "every event of an incident, in the order things happened",
            "incidentflow timeline INC-7",
            handler="timeline",
        )
    )
    p.add_argument(
        "--numbered",
        action="store_true",
        help="start each line with the event's number (what amend --entry and retract take)",
    )
    p = add(
        "list", "list the stored incidents", "incidentflow list --state mitigating", handler="list"
    )
    _filter_options(p)
    add(
        "due",
        "what is owed across all open incidents, overdue first (at --at, default now)",
        "incidentflow due",
        handler="due",
    )
    p = add(
        "export",
        "write incidents' events as JSON Lines",
        "incidentflow export INC-7 --output inc-7.jsonl",
        handler="export",
    )
    p.add_argument("incidents", nargs="*", metavar="INCIDENT", help="default: every incident")
    p.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    p = add(
        "import",
        "check a JSON Lines file against the rules, then store it, all or nothing",
        "incidentflow import inc-7.jsonl",
        handler="import",
    )
    p.add_argument("file", metavar="FILE", help="a JSON Lines file, or - for stdin")
    p = add(
        "validate",
        "check a JSON Lines history against the rules; write nothing (to validate the "
        "problem, runbook step 1, use confirm)",
        "incidentflow validate inc-7.jsonl",
        handler="validate",
    )
    p.add_argument("file", metavar="FILE", help="a JSON Lines file, or - for stdin")
    p.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    p = add(
        "verify",
        "check the store's chains, summaries and seals for tampering; say what it cannot see",
        "incidentflow verify INC-7\n  incidentflow verify --anchor anchor.json",
        handler="verify",
    )
    p.add_argument("incident", nargs="?", metavar="INCIDENT", help="default: every incident")
    p.add_argument(
        "--anchor",
        metavar="FILE",
        help="also report incidents whose history no longer extends this anchor's heads",
    )
    p = add(
        "anchor",
        "write every incident's head (id, version, hash) to a checkpoint kept elsewhere",
        "incidentflow anchor --output /safe/place/anchor-2026-03-01.json",
        handler="anchor",
    )
    p.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    _store_commands(commands)
    _document_commands(commands)
    add(
        "diagram",
        "print the lifecycle as a Mermaid state diagram",
        "incidentflow diagram",
        handler="diagram",
    )
    p = add(
        "demo",
        "walk a scripted P1 incident (the database is down) through every state",
        "incidentflow demo --events demo.jsonl",
        handler="demo",
    )
    p.add_argument("--events", metavar="FILE", help="also write the events to FILE as JSON Lines")


def _store_commands(commands: _Commands) -> None:
    add = commands.add
    add(
        "migrate",
        "bring the store at --db to this release's schema (forward only; opening to write "
        "does it too)",
        "incidentflow migrate --db postgresql://owner@db.example/incidents",
        handler="migrate",
    )
    p = add(
        "copy",
        "copy every incident of one store into an empty other, all or nothing (SQLite to "
        "PostgreSQL: the upgrade path)",
        "incidentflow copy --from incidents.db --to postgresql://db.example/incidents",
        handler="copy",
    )
    p.add_argument("--from", dest="source", required=True, metavar="STORE", help="copy from")
    p.add_argument("--to", dest="target", required=True, metavar="STORE", help="copy into")


def _document_commands(commands: _Commands) -> None:
    add = commands.add
    p = _incident(
        add(
            "report",
            "write the RCA document from what the incident recorded (Markdown, or --html)",
            "incidentflow report INC-7 --output rca.md --confidential 'Internal'",
            handler="report",
        )
    )
    p.add_argument("--html", action="store_true", help="a self-contained HTML page")
    p.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--author", help="the author or team (default: the Recorders)")
    p.add_argument("--confidential", metavar="NOTE", help="a confidentiality note")
    p.add_argument("--background", metavar="TEXT", help="the background of the system")
    p.add_argument("--out-of-scope", metavar="TEXT", help="what the analysis leaves out")
    p.add_argument(
        "--gaps", action="store_true", help="only list what reviewers still have to fill in"
    )
    p = _incident(
        add(
            "agenda",
            "the RCA meeting agenda, fitted to --length minutes (30 or more)",
            "incidentflow agenda INC-7 --length 120 --ics post-mortem.ics",
            handler="agenda",
        )
    )
    p.add_argument(
        "--length",
        default="90",
        metavar="MIN",
        help="meeting minutes, 30 or more (default 90); under the runbook's 80 the parts "
        "shrink in proportion",
    )
    layout = p.add_mutually_exclusive_group()
    layout.add_argument("--markdown", action="store_true", help="Markdown instead of plain text")
    layout.add_argument("--html", action="store_true", help="a self-contained HTML page")
    p.add_argument("--start", metavar="TIME", help="default: when the post-mortem is scheduled")
    p.add_argument("--ics", metavar="FILE", help="also write a calendar invitation (.ics)")
    p.add_argument("--organizer", metavar="EMAIL", help="the invitation's organizer")
    p = add(
        "stats",
        "time to mitigate, yellow, green, report and post-mortem; time in state; update "
        "cadence; overdue actions — per priority, median and p90",
        "incidentflow stats --since 2026-01-01T00:00:00+00:00 --measure 'mtta=began..validated'",
        handler="stats",
    )
    _filter_options(p)
    p.add_argument(
        "--measure",
        action="append",
        default=[],
        metavar="NAME=START..END",
        help="a measure between two milestones (repeatable; replaces the default measures)",
    )
    p.add_argument(
        "--by",
        default="priority",
        choices=("priority", "highest_priority"),
        help="group by the current priority (default) or the highest one reached",
    )
    p.add_argument(
        "--chart", metavar="FILE", help="also draw the first measure by priority (.svg or .png)"
    )
    p = _incident(
        add(
            "chart",
            "draw an incident's timeline: states as bands; updates, experiments, changes as marks",
            "incidentflow chart INC-7 --output inc-7.svg",
            handler="chart",
        )
    )
    p.add_argument("--output", required=True, metavar="FILE", help="an .svg or .png file")


MOVES = {name: trigger for name, (trigger, _, _) in _MOVES.items()}
"""CLI move name → the incident's trigger method."""
