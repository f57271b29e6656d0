"""The impact of an incident as documents tell it: its phases, its detection, its data loss.

:func:`impact_story` reads an incident once into an :class:`ImpactStory`: when the impact
began, how it moved through its levels (each phase with its start, its end, the components
and share affected), when and how it was detected, and whether the times are approximate.
:func:`impact_blocks` draws the RCA's impact section from it: the phase table, the detection
and the data-loss record.  Approximate times are marked "≈".

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
from incidentflow.records import ImpactLevel, ImpactPhase

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
from ._narrative import elapsed, moment

__all__ = ["ImpactStory", "at", "impact_blocks", "impact_story"]


@frozen
class ImpactStory:
    """What the record says of the impact, in the order a reader wants it.

    ``ended`` is when the final operational phase began (``None`` while the impact lasts or
    when no impact timeline is recorded); ``phases`` are the impact timeline's phases.  When
    the declaration time is not known (``declared_known`` false), ``declared`` is the latest
    it can have been.
    """

    began: datetime
    began_approximate: bool
    declared: datetime
    declared_approximate: bool
    assessment: str | None
    phases: tuple[ImpactPhase, ...]
    detected: datetime | None = None
    detected_approximate: bool = False
    detected_how: str | None = None
    ended: datetime | None = None
    ended_approximate: bool = False
    declared_known: bool = True

    @property
    def declared_text(self) -> str:
        """When it was declared, as documents show it: ``not known (by ...)`` when unknown."""
        shown = at(self.declared, self.declared_approximate)
        return shown if self.declared_known else f"not known (by {shown})"


def at(value: datetime, approximate: bool = False) -> str:
    """A time as documents show it, marked "≈" when it is approximate.

    >>> from datetime import UTC, datetime
    >>> at(datetime(2017, 1, 31, 23, 0, tzinfo=UTC), approximate=True)
    '≈ 2017-01-31 23:00 UTC'
    """
    return ("≈ " if approximate else "") + moment(value)


def _how(incident: Incident) -> str | None:
    method = incident.detection
    words = [] if method is None else [method.value.replace("_", " ")]
    if incident.detected_by:
        words.append(incident.detected_by)
    return ": ".join(words) or None


def impact_story(incident: Incident) -> ImpactStory:
    """The impact ``incident`` records, read once for every document that tells it."""
    declaration = incident.declaration
    old_form = declaration.began is None
    phases = incident.impact_phases()
    final = phases[-1] if phases else None
    ended = final is not None and final.level is ImpactLevel.OPERATIONAL and len(phases) > 1
    return ImpactStory(
        began=incident.began_at,
        began_approximate=declaration.is_approximate("occurred_at" if old_form else "began"),
        declared=incident.declared_at,
        declared_approximate=not old_form and declaration.is_approximate("occurred_at"),
        assessment=impact(incident),
        phases=phases,
        detected=incident.detected_at,
        detected_approximate=declaration.is_approximate("detected_at"),
        detected_how=_how(incident),
        ended=final.start if ended and final is not None else None,
        ended_approximate=ended and final is not None and final.approximate,
        declared_known=incident.declared_at_known,
    )


def level_name(level: ImpactLevel) -> str:
    """An impact level in words: ``partial outage``."""
    return level.value.replace("_", " ")


def share(value: float | None) -> str:
    """A share affected as a percentage, ``—`` when not recorded."""
    return "—" if value is None else f"{value:g}%"


def _phase_table(phases: tuple[ImpactPhase, ...]) -> Table:
    rows: list[tuple[Text, ...]] = []
    for n, phase in enumerate(phases):
        following = phases[n + 1] if n + 1 < len(phases) else None
        if phase.end is None:
            until = "—" if phase.level is ImpactLevel.OPERATIONAL else "ongoing"
            lasted = "—"
        else:
            until = at(phase.end, following is not None and following.approximate)
            lasted = elapsed(phase.end - phase.start)
        rows.append(
            (
                (ours(level_name(phase.level)),),
                (ours(at(phase.start, phase.approximate)),),
                (ours(until),),
                (ours(lasted),),
                (typed(", ".join(phase.components)),) if phase.components else (ours("—"),),
                (ours(share(phase.share)),),
                (typed(phase.description),) if phase.description else (ours("—"),),
            )
        )
    return Table(
        ("Level", "From", "Until", "For", "Components", "Share affected", "What"), tuple(rows)
    )


def impact_blocks(story: ImpactStory) -> list[Block]:
    """The RCA's impact section: the assessment, the phase table, detection and data loss."""
    blocks: list[Block] = [Subheading("Impact")]
    if story.assessment is not None:
        blocks.append(Paragraph((typed(story.assessment),)))
    if story.phases:
        blocks.append(_phase_table(story.phases))
    if story.assessment is None and not story.phases:
        blocks.append(NothingRecorded("the impact"))
    blocks.append(Subheading("Detection"))
    lines: list[Text] = [
        (label("Impact began:"), ours(" " + at(story.began, story.began_approximate))),
    ]
    if story.detected is not None:
        how = story.detected_how
        lines.append(
            (label("Detected:"), ours(" " + at(story.detected, story.detected_approximate)))
            + ((ours(" ("), typed(how), ours(")")) if how else ())
        )
    lines.append((label("Declared:"), ours(" " + story.declared_text)))
    if story.ended is not None:
        lines.append((label("Impact ended:"), ours(" " + at(story.ended, story.ended_approximate))))
    blocks.extend(Paragraph(line) for line in lines)
    return blocks
