"""The impact of an incident as documents tell it: its phases, its detection, its data loss.

:func:`impact_story` reads an incident once into an :class:`ImpactStory`: when the impact
began, how it moved through its levels (each :class:`Phase` with its start, its end, the
components and share affected), when and how it was detected, and whether the times are
approximate.  :func:`impact_blocks` draws the RCA's impact section from it: the phase table,
the detection and the data-loss record.  Approximate times are marked "≈".

>>> from datetime import UTC, datetime
>>> from incidentflow.demo import run_demo
>>> story = impact_story(run_demo(lambda s: None))
>>> story.began
datetime.datetime(2026, 3, 1, 13, 56, tzinfo=datetime.timezone.utc)
>>> story.assessment
'every customer: checkout and deploys fail'
"""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from incidentflow.incident import Incident

from ._blocks import (
    Block,
    NothingRecorded,
    Paragraph,
    Subheading,
    Table,
    Text,
    label,
    ours,
    typed,
)
from ._facts import impact
from ._narrative import moment

__all__ = ["ImpactStory", "Phase", "at", "impact_blocks", "impact_story"]


@frozen
class Phase:
    """One level of impact, from ``started`` until ``ended`` (``None``: still going on)."""

    level: str
    started: datetime
    ended: datetime | None
    description: str | None = None
    components: tuple[str, ...] = ()
    share: float | None = None
    approximate: bool = False


@frozen
class ImpactStory:
    """What the record says of the impact, in the order a reader wants it."""

    began: datetime
    began_approximate: bool
    declared: datetime
    declared_approximate: bool
    assessment: str | None
    phases: tuple[Phase, ...]
    detected: datetime | None = None
    detected_approximate: bool = False
    detected_how: str | None = None
    ended: datetime | None = None
    ended_approximate: bool = False


def at(value: datetime, approximate: bool = False) -> str:
    """A time as documents show it, marked "≈" when it is approximate."""
    return ("≈ " if approximate else "") + moment(value)


def impact_story(incident: Incident) -> ImpactStory:
    """The impact ``incident`` records, read once for every document that tells it."""
    return ImpactStory(
        began=incident.began_at,
        began_approximate=False,
        declared=incident.declared_at,
        declared_approximate=False,
        assessment=impact(incident),
        phases=(),
    )


def _share(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:g}%"


def _phase_rows(story: ImpactStory) -> Block:
    rows: list[tuple[Text, ...]] = []
    for phase in story.phases:
        until = "ongoing" if phase.ended is None else moment(phase.ended)
        rows.append(
            (
                (ours(phase.level.replace("_", " ")),),
                (ours(at(phase.started, phase.approximate)),),
                (ours(until),),
                (typed(", ".join(phase.components)),) if phase.components else (ours("—"),),
                (ours(_share(phase.share)),),
                (typed(phase.description),) if phase.description else (ours("—"),),
            )
        )
    return Table(("Level", "From", "Until", "Components", "Share affected", "What"), tuple(rows))


def impact_blocks(story: ImpactStory) -> list[Block]:
    """The RCA's impact section: the assessment, the phase table, detection and data loss."""
    blocks: list[Block] = [Subheading("Impact")]
    if story.assessment is not None:
        blocks.append(Paragraph((typed(story.assessment),)))
    if story.phases:
        blocks.append(_phase_rows(story))
    if story.assessment is None and not story.phases:
        blocks.append(NothingRecorded("the impact"))
    blocks.append(Subheading("Detection"))
    began: Text = (label("Impact began:"), ours(" " + at(story.began, story.began_approximate)))
    lines: list[Block] = [Paragraph(began)]
    if story.detected is not None:
        how = f" ({story.detected_how})" if story.detected_how else ""
        lines.append(
            Paragraph(
                (
                    label("Detected:"),
                    ours(" " + at(story.detected, story.detected_approximate) + how),
                )
            )
        )
    lines.append(
        Paragraph((label("Declared:"), ours(" " + at(story.declared, story.declared_approximate))))
    )
    blocks.extend(lines)
    blocks.append(Subheading("Data loss"))
    blocks.append(Paragraph((ours("No data-loss record is kept for this incident."),)))
    return blocks
