"""The ``incidentflow`` command line.

Only wires the library together; every rule lives in the core.  Exit codes: 0 ok, 1 refused
by a rule, 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incidentflow",
        description="An incident-response runbook as executable process rules.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="walk a scripted P1 incident (the database is down) through every state",
        description="Walk the runbook's P1 example through every state, showing what the "
        "rules required at each move and what was recorded.",
        epilog="example: incidentflow demo --events demo.jsonl",
    )
    demo.add_argument(
        "--events",
        metavar="FILE",
        type=Path,
        help="also write the incident's events to FILE as JSON Lines",
    )
    commands.add_parser(
        "diagram",
        help="print the lifecycle as a Mermaid state diagram",
        description="Print the lifecycle as a Mermaid state diagram.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    try:
        return _run(_parser().parse_args(argv))
    except BrokenPipeError:  # the reader went away (e.g. piped into `head`): stop quietly
        sys.stderr.close()
        return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from .codec import dump_lines
        from .demo import run_demo

        incident = run_demo()
        if args.events is not None:
            try:
                args.events.write_text(dump_lines(incident.history), encoding="utf-8")
            except OSError as exc:
                print(f"incidentflow: cannot write {args.events}: {exc}", file=sys.stderr)
                return EXIT_BAD_INPUT
            print(f"Wrote {incident.version} events to {args.events}")
        return EXIT_OK
    if args.command == "diagram":
        from .lifecycle import mermaid

        sys.stdout.write(mermaid())
        return EXIT_OK
    _parser().print_help(sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
