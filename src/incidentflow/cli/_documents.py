"""What reviewers and stakeholders read: report, agenda, update drafts, stats and charts.

These commands only read the store; ``update --post`` is the one that records (through the
same load-issue-append path as every incident command).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from incidentflow.errors import InvalidInput
from incidentflow.incident import Incident
from incidentflow.store import open_store

from ._main import (
    EXIT_OK,
    Options,
    emit,
    iso,
    list_filters,
    load_incident,
    note_policy,
    now,
    parse_time,
)

__all__ = ["HANDLERS", "compose_and_post", "draft_update"]


def _write(path: str | None, content: str | bytes) -> None:
    """Write ``content`` to ``path``, or to stdout when no path is given."""
    if path is None:
        if isinstance(content, bytes):
            sys.stdout.buffer.write(content)
        else:
            sys.stdout.write(content)
        return
    target = Path(path)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8")


def _picture_format(path: str) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in ("svg", "png"):
        raise InvalidInput(f"{path}: a chart is written as .svg or .png, not {suffix or 'nothing'}")
    return suffix


def _minutes(text: str, name: str) -> timedelta:
    try:
        return timedelta(minutes=int(text))
    except ValueError:
        shown = repr(text) if len(text) <= 40 else f"{text[:40]!r}..."
        raise InvalidInput(f"{name}: {shown} is not a whole number of minutes") from None
    except OverflowError:
        raise InvalidInput(f"{name}: {text} minutes is far too long") from None


def report(options: Options) -> int:
    """The RCA document (Markdown or HTML), or only what reviewers still have to fill in."""
    from incidentflow.documents import rca_document

    args = options.args
    document = rca_document(
        load_incident(options),
        now=now(options),
        author=args.author,
        confidentiality=args.confidential,
        background=args.background,
        out_of_scope=args.out_of_scope,
    )
    gaps = [{"section": gap.section, "what": gap.what} for gap in document.gaps]
    if args.gaps:
        if options.json:
            emit(gaps)
        else:
            for gap in document.gaps:
                print(f"{gap.section}: {gap.what}")
            if not gaps:
                print("nothing left to fill in")
        return EXIT_OK
    text = document.html() if args.html else document.markdown()
    if options.json:
        emit({"incident": document.incident_id, "document": text, "gaps": gaps})
        return EXIT_OK
    _write(args.output, text)
    return EXIT_OK


def agenda(options: Options) -> int:
    """The RCA meeting agenda (text, --markdown or --html); --ics also writes the invitation."""
    from incidentflow.documents import agenda as build_agenda
    from incidentflow.documents import invitation

    args = options.args
    if args.ics is not None and args.start is not None:
        raise InvalidInput(
            "--ics invites to the post-mortem as scheduled; to move it, schedule it again "
            "(incidentflow schedule) instead of giving --start"
        )
    incident = load_incident(options)
    length = _minutes(args.length, "--length")
    starts_at = None if args.start is None else parse_time(args.start, "--start")
    plan = build_agenda(incident, length=length, starts_at=starts_at)
    if args.ics is not None:
        ics = invitation(incident, now=now(options), length=length, organizer=args.organizer)
        _write(args.ics, ics)
    if options.json:
        emit(
            {
                "incident": plan.incident_id,
                "length_minutes": int(plan.length.total_seconds() // 60),
                "starts_at": iso(plan.starts_at),
                "attendees": [
                    {"name": a.name, "roles": [r.value for r in a.roles]} for a in plan.attendees
                ],
                "parts": [
                    {
                        "number": p.number,
                        "title": p.title,
                        "minutes": p.minutes,
                        "box": [p.minimum, p.maximum],
                        "starts_at": iso(p.starts_at),
                        "topics": list(p.topics),
                        "facts": list(p.facts),
                    }
                    for p in plan.parts
                ],
            }
        )
        return EXIT_OK
    text = plan.html() if args.html else plan.markdown() if args.markdown else plan.text()
    _write(None, text.rstrip("\n") + "\n")
    return EXIT_OK


def draft_update(options: Options) -> int:
    """Compose the next stakeholder update and print it (plain text, or Slack with --slack)."""
    from incidentflow.documents import compose_update

    update = compose_update(load_incident(options), now=now(options))
    if options.args.slack:
        emit(update.slack_message())
    elif options.json:
        emit(
            {
                "incident": update.incident_id,
                "no_progress": update.no_progress,
                "next_update_due": iso(update.next_update_due),
                "text": update.text(),
                "slack": update.slack_message(),
            }
        )
    else:
        _write(None, update.text().rstrip("\n") + "\n")
    return EXIT_OK


def compose_and_post(incident: Incident, args: Any, actor: str, at: datetime | None) -> Any:
    """The ``update --post`` command: post the composed update as the incident's update."""
    from incidentflow.documents import compose_update

    update = compose_update(incident, now=incident.clock.now())  # drafted now, even if back-dated
    return incident.post_update(
        update.text(), no_progress=args.no_progress or update.no_progress, actor=actor, at=at
    )


def stats(options: Options) -> int:
    """Measures over the stored incidents, per priority: a table, JSON, or a chart."""
    from incidentflow.metrics import DEFAULT_MEASURES, Measure
    from incidentflow.metrics import stats as compute

    args = options.args
    measures = tuple(Measure.parse(text) for text in args.measure) or DEFAULT_MEASURES
    state, priority, since, until = list_filters(options)
    moment = now(options)
    policy = options.policy
    with open_store(options.db, read_only=True, chain_key=options.chain_key) as store:
        found = store.incidents(state=state, priority=priority, since=since, until=until)
        incidents = [store.load(s.incident_id, policy=policy) for s in found]
    note_policy(options, incidents)
    if args.chart is not None:
        from incidentflow.charts import resolution_chart

        picture = resolution_chart(
            incidents, now=moment, measure=measures[0], format=_picture_format(args.chart)
        )
        _write(args.chart, picture)
    result = compute(incidents, now=moment, measures=measures, by=args.by)
    if options.json:
        emit(result.to_dict())
    else:
        _write(None, result.table().rstrip("\n") + "\n")
    return EXIT_OK


def chart(options: Options) -> int:
    """A timeline chart of one incident, written as SVG or PNG."""
    from incidentflow.charts import timeline_chart

    args = options.args
    picture = timeline_chart(
        load_incident(options), now=now(options), format=_picture_format(args.output)
    )
    _write(args.output, picture)
    if not options.json:
        print(f"{options.args.incident}: timeline written to {args.output}")
    else:
        emit({"incident": args.incident, "output": args.output})
    return EXIT_OK


HANDLERS: dict[str, Callable[[Options], int]] = {
    "report": report,
    "agenda": agenda,
    "draft-update": draft_update,
    "stats": stats,
    "chart": chart,
}
"""Handler name → the function that runs it."""
