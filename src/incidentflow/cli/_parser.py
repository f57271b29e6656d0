"""The argument parser: every subcommand, its options and its ``--help`` example.

Imports nothing but :mod:`argparse`, so ``incidentflow --help`` stays fast.
"""

from __future__ import annotations

import argparse

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
  INCIDENTFLOW_CONFIG the sinks file of `dispatch` when --config is not given
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
        help="machine-readable output: one JSON document (errors as JSON on stderr)",
    )
    group.add_argument(
        "--at",
        metavar="TIME",
        default=default(None),
        help="when it happened, ISO 8601 with a UTC offset, e.g. 2026-03-01T14:02:00+00:00 "
        "(default: now)",
    )
    group.add_argument(
        "--policy",
        metavar="FILE",
        default=default(None),
        help="a TOML policy file for declare and adopt-policy (an incident runs under the "
        "policy it recorded; default: the default policy)",
    )
    group.add_argument(
        "--chain-key-file",
        metavar="FILE",
        default=default(None),
        help="a file holding the store's secret chain key in hex (default: "
        "$INCIDENTFLOW_CHAIN_KEY, else $INCIDENTFLOW_CHAIN_KEY_FILE, else none)",
    )


class _Commands:
    """Adds subcommands that all carry the global options and a help example."""

    def __init__(self, parser: argparse.ArgumentParser, dest: str) -> None:
        self._group = parser.add_subparsers(dest=dest, metavar="COMMAND")

    def add(
        self, name: str, summary: str, example: str, *, handler: str = ""
    ) -> argparse.ArgumentParser:
        parser = self._group.add_parser(
            name,
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
    parser = argparse.ArgumentParser(
        prog="incidentflow",
        description="An incident-response runbook as executable process rules: declare, staff, "
        "mitigate and close incidents from the terminal, kept in an append-only store.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _globals(parser, top=True)
    commands = _Commands(parser, "command")
    _incident_commands(commands)
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
    parser.add_argument("--state", help="only incidents in this state")
    parser.add_argument("--priority", help="only incidents of this priority")
    parser.add_argument("--since", metavar="TIME", help="declared at or after TIME")
    parser.add_argument("--until", metavar="TIME", help="declared before TIME")


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
    p = _incident(
        add(
            "confirm",
            "confirm the problem is real (step 1, validate)",
            'incidentflow confirm INC-7 --evidence "primary refuses connections"',
            handler="confirm",
        )
    )
    p.add_argument("--evidence", required=True, help="what shows the problem is real")
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
    p.add_argument("url", metavar="URL")
    p = _incident(
        add(
            "assign",
            "give a person a role (lead, ic, communicator, recorder)",
            "incidentflow assign INC-7 lead ana",
            handler="assign",
        )
    )
    p.add_argument("role", metavar="ROLE")
    p.add_argument("person", metavar="PERSON")
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
            "  incidentflow update INC-7 --post     # post the draft as the update",
            handler="update",
        )
    )
    p.add_argument(
        "message", metavar="MESSAGE", nargs="?", help="the update; without it, print a draft"
    )
    p.add_argument("--no-progress", action="store_true", help="an update without progress")
    p.add_argument("--post", action="store_true", help="post the drafted update")
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
    p = _incident(
        add(
            "why",
            "answer the next why of a Five Whys chain",
            'incidentflow why INC-7 "The service is down."',
            handler="why",
        )
    )
    p.add_argument("answer", metavar="ANSWER")
    p.add_argument("--chain", default="main", help="the chain (default: main)")
    p.add_argument("--root-cause", action="store_true", help="this answer is the root cause")
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
    p.add_argument("--for", dest="scheduled_for", required=True, metavar="TIME")
    p.add_argument("--invite", action="append", required=True, metavar="P")
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
    p.add_argument("outcome", metavar="OUTCOME", help="reverted or permanent")
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
    p.add_argument("--owner", required=True, metavar="P")
    p.add_argument("--due", required=True, metavar="TIME")
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
    _incident(
        add(
            "timeline",
            "every event of an incident, in the order things happened",
            "incidentflow timeline INC-7",
            handler="timeline",
        )
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
        "check a JSON Lines history against the rules; write nothing",
        "incidentflow validate inc-7.jsonl",
        handler="validate",
    )
    p.add_argument("file", metavar="FILE", help="a JSON Lines file, or - for stdin")
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
            "the RCA meeting agenda, fitted to --length minutes (80 to 145)",
            "incidentflow agenda INC-7 --length 120 --ics post-mortem.ics",
            handler="agenda",
        )
    )
    p.add_argument("--length", default="90", metavar="MIN", help="meeting minutes (default 90)")
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
