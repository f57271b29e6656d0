"""The impact timeline and milestones on the command line.

``impact`` and ``policy list``, and what ``declare`` and ``status`` add for them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import Any

from incidentflow.documents._markup import inline
from incidentflow.errors import InvalidInput
from incidentflow.events import Declared, Event, ImpactChanged
from incidentflow.incident import Incident
from incidentflow.records import DetectionMethod, ImpactLevel

from ._main import EXIT_OK, Options, emit, iso, parse_time, shown

__all__ = [
    "HANDLERS",
    "before_impact",
    "began_mark",
    "change_impact",
    "impact_lines",
    "milestones",
    "status_fields",
    "status_lines",
]

APPROXIMATE = "≈"
"""How a time recorded as approximate is marked where times are shown."""


def milestones(args: argparse.Namespace) -> dict[str, Any]:
    """``declare``'s options besides ``--at``: ``--at-latest`` and the other milestones."""
    return {
        "at_latest": (
            None if args.at_latest is None else parse_time(args.at_latest, "--at-latest")
        ),
        "began": None if args.began is None else parse_time(args.began, "--began"),
        "detected": None if args.detected is None else parse_time(args.detected, "--detected"),
        "detection": None if args.detection is None else DetectionMethod.parse(args.detection),
        "detected_by": args.detected_by,
    }


def _share(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        raise InvalidInput(f"--share: {text!r} is not a percentage from 0 to 100") from None
    return int(value) if value.is_integer() else value


def change_impact(
    incident: Incident, args: argparse.Namespace, actor: str, at: datetime | None
) -> Event:
    """``impact INCIDENT LEVEL [DESCRIPTION]``: record the impact level."""
    return incident.change_impact(
        ImpactLevel.parse(args.level),
        args.description,
        components=args.component,
        share=_share(args.share),
        actor=actor,
        at=at,
    )


def _moment(value: datetime, approximate: bool, options: Options) -> str:
    text = shown(value, options)
    return f"{APPROXIMATE}{text}" if approximate else text


def _declared_rough(incident: Incident) -> bool:
    declaration = incident.declaration
    return declaration.began is not None and declaration.is_approximate()


def _began_rough(incident: Incident) -> bool:
    declaration = incident.declaration
    return declaration.is_approximate("occurred_at" if declaration.began is None else "began")


def status_fields(incident: Incident) -> dict[str, Any]:
    """What ``status --json`` adds: the milestones, the impact and the measures."""
    declaration = incident.declaration
    return {
        "declared_at": iso(incident.declared_at) if incident.declared_at_known else None,
        "declared_at_latest": None if incident.declared_at_known else iso(incident.declared_at),
        "detected_at": iso(incident.detected_at),
        "detection": None if incident.detection is None else incident.detection.value,
        "detected_by": incident.detected_by,
        "approximate": sorted(
            name
            for name, rough in (
                ("began_at", _began_rough(incident)),
                ("detected_at", declaration.is_approximate("detected_at")),
                ("declared_at", _declared_rough(incident)),
            )
            if rough
        ),
        "recorded_at": iso(declaration.recorded_at),
        "impact": None if incident.impact is None else incident.impact.value,
        "highest_priority": incident.highest_priority.value,
        "impact_timeline": [_phase(change) for change in incident.impact_timeline],
        "measures": incident.measures().to_dict(),
    }


def _phase(change: ImpactChanged) -> dict[str, Any]:
    return {
        "level": change.level.value,
        "at": iso(change.occurred_at),
        "approximate": change.is_approximate(),
        "description": change.description,
        "components": list(change.components),
        "share": change.share,
    }


def began_mark(incident: Incident) -> str:
    """``≈`` when the onset was recorded as approximate, else nothing."""
    return APPROXIMATE if _began_rough(incident) else ""


def status_lines(incident: Incident, options: Options) -> list[str]:
    """What ``status`` adds in text after ``began``: detection and declaration.

    ``≈`` marks an approximate time; a declaration recorded later than it happened says so.
    """
    declaration = incident.declaration
    lines = []
    if incident.detected_at is not None or incident.detection is not None:
        how = [incident.detection.value] if incident.detection is not None else []
        how += [inline(incident.detected_by)] if incident.detected_by else []
        when = (
            _moment(incident.detected_at, declaration.is_approximate("detected_at"), options)
            if incident.detected_at is not None
            else "time not recorded"
        )
        lines.append(f"  detected  {when}" + (f"  ({', '.join(how)})" if how else ""))
    when = _moment(incident.declared_at, _declared_rough(incident), options)
    declared = f"  declared  {when if incident.declared_at_known else f'not known (by {when})'}"
    if declaration.recorded_at != incident.declared_at:
        declared += f"  (recorded late, {_moment(declaration.recorded_at, False, options)})"
    lines.append(declared)
    return lines


def impact_lines(incident: Incident, options: Options) -> list[str]:
    """The impact timeline for ``status`` in text, one line per change (none when empty)."""
    lines = []
    if incident.impact_timeline:
        lines.append("Impact:")
        for change in incident.impact_timeline:
            detail = [change.level.value]
            if change.share is not None:
                detail.append(f"{change.share:g}%")
            if change.components:
                detail.append(", ".join(inline(c) for c in change.components))
            if change.description:
                detail.append(inline(change.description))
            when = _moment(change.occurred_at, change.is_approximate(), options)
            lines.append(f"  {when}  " + "  ".join(detail))
    return lines


def before_impact(events: list[Event]) -> Callable[[Event], str]:
    """For ``timeline``: the mark of an event dated before the onset (a precursor)."""
    first = events[0] if events else None
    onset = first.onset if isinstance(first, Declared) else None

    def mark(event: Event) -> str:
        return "  (before impact)" if onset is not None and event.occurred_at < onset else ""

    return mark


def policy_list(options: Options) -> int:
    """``policy list``: the built-in policies, by name, for ``--policy NAME``."""
    from incidentflow.policy import NAMED_POLICIES, Policy

    if options.json:
        emit(
            [
                {"name": name, "description": text, "digest": Policy.named(name).digest}
                for name, text in NAMED_POLICIES.items()
            ]
        )
        return EXIT_OK
    width = max(len(name) for name in NAMED_POLICIES)
    for name, text in NAMED_POLICIES.items():
        print(f"{name:<{width}}  {text}")
    return EXIT_OK


HANDLERS: dict[str, Callable[[Options], int]] = {"policy list": policy_list}
"""Handler name → the function that runs it (``impact`` runs as an incident command)."""
