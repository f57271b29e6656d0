"""The RCA's executive summary: one short paragraph of prose, generated from the record.

It says, in this order, what failed, the impact and its phases, how long it lasted, how and
when it was detected and declared, the root cause found and what is being done about it.
Each sentence is drawn from the record as it stands; what the record does not hold is said
plainly ("No root cause has been found yet.") rather than left out.  Approximate times are
marked "≈".

>>> from incidentflow.demo import run_demo
>>> paragraph = executive_summary(run_demo(lambda s: None))
>>> print("".join(span.text for span in paragraph.spans))  # doctest: +NORMALIZE_WHITESPACE
Database is down (INC-1042), a P1 (Major Incident), now in the post_mortem state. Impact began at
2026-03-01 13:56 UTC: every customer: checkout and deploys fail. It was declared 4 min after
it began, at 2026-03-01 14:00 UTC. It was resolved (yellow) after 44 min and green after
1 h 36 min. The root cause found: The scheduled job for token refreshment failed. 1
preventive action is recorded, still open.
"""

from __future__ import annotations

from incidentflow.incident import Incident
from incidentflow.lifecycle import State
from incidentflow.records import ActionKind, ImpactLevel, ImpactPhase

from ._blocks import Paragraph, Span, ours, typed
from ._impact import ImpactStory, at, impact_story, level_name, share
from ._narrative import elapsed

__all__ = ["executive_summary"]


def _phase(phase: ImpactPhase) -> list[Span]:
    text = level_name(phase.level)
    if phase.end is not None:
        text += f" for {elapsed(phase.end - phase.start)}"
    spans = [ours(text)]
    details: list[Span] = []
    if phase.share is not None:
        details.append(ours(f"{share(phase.share)} affected"))
    if phase.components:
        if details:
            details.append(ours(", "))
        details.append(typed(", ".join(phase.components)))
    if details:
        spans += [ours(" ("), *details, ours(")")]
    return spans


def _impact(story: ImpactStory) -> list[Span]:
    began = at(story.began, story.began_approximate)
    spans: list[Span] = [ours(f" Impact began at {began}")]
    phases = [p for p in story.phases if p.level is not ImpactLevel.OPERATIONAL]
    if phases:
        spans.append(ours(": "))
        for n, phase in enumerate(phases):
            if n:
                spans.append(ours(", then "))
            spans += _phase(phase)
    elif story.assessment is not None:
        assessment = story.assessment.rstrip(".")
        spans += [ours(": "), typed(assessment)]
    else:
        spans.append(ours("; no impact assessment is recorded"))
    if story.ended is not None:
        ended = at(story.ended, story.ended_approximate)
        spans.append(
            ours(
                f"; it was operational again at {ended}, "
                f"{elapsed(story.ended - story.began)} after it began."
            )
        )
    elif phases and phases[-1].end is None:
        spans.append(ours("; the impact is not over."))
    else:
        spans.append(ours("."))
    return spans


def _detection(story: ImpactStory) -> list[Span]:
    declared = at(story.declared, story.declared_approximate)
    if not story.declared_known:
        unknown = f" When it was declared is not known (by {declared})."
        if story.detected is None:
            return [ours(unknown)]
        return [ours(_detected(story)), *_how(story), ours("."), ours(unknown)]
    if story.detected is None:
        if story.declared == story.began:
            return [ours(f" It was declared as it began, at {declared}.")]
        return [
            ours(
                f" It was declared {elapsed(story.declared - story.began)} after it began, "
                f"at {declared}."
            )
        ]
    declared_when = (
        f" and declared at once, at {declared}."
        if story.declared == story.detected
        else f" and declared {elapsed(story.declared - story.detected)} later, at {declared}."
    )
    return [ours(_detected(story)), *_how(story), ours(declared_when)]


def _detected(story: ImpactStory) -> str:
    assert story.detected is not None
    if story.detected == story.began:
        return " It was detected as it began"
    return f" It was detected {elapsed(story.detected - story.began)} after it began"


def _how(story: ImpactStory) -> list[Span]:
    if story.detected_how:
        return [ours(" ("), typed(story.detected_how), ours(")")]
    return []


def _response(incident: Incident, story: ImpactStory) -> list[Span]:
    yellow = incident.when_entered(State.YELLOW)
    green = incident.when_entered(State.GREEN)
    if yellow is None:
        return [ours(" It has not been resolved (yellow) yet.")]
    text = f" It was resolved (yellow) after {elapsed(yellow - story.began)}"
    text += (
        f" and green after {elapsed(green - story.began)}."
        if green is not None
        else " and is not green yet."
    )
    return [ours(text)]


def _root_causes(incident: Incident) -> list[Span]:
    causes = [chain.answers[-1] for chain in incident.why_chains.values() if chain.root_cause]
    if not causes:
        return [ours(" No root cause has been found yet.")]
    spans: list[Span] = [
        ours(" The root cause found: " if len(causes) == 1 else " The root causes found: ")
    ]
    for n, cause in enumerate(causes):
        if n:
            spans.append(ours("; "))
        spans.append(typed(cause.rstrip(".")))
    spans.append(ours("."))
    return spans


def _actions(incident: Incident) -> list[Span]:
    actions = list(incident.action_items.values())
    if not actions:
        return [ours(" No corrective or preventive action is recorded yet.")]
    kinds = [
        f"{count} {kind.value}"
        for kind in ActionKind
        if (count := sum(a.kind is kind for a in actions))
    ]
    still_open = sum(a.open for a in actions)
    noun, verb = ("action", "is") if len(actions) == 1 else ("actions", "are")
    status = "none open" if not still_open else f"{still_open} open"
    if len(actions) == 1:
        status = "still open" if still_open else "closed"
    return [ours(f" {' and '.join(kinds)} {noun} {verb} recorded, {status}.")]


def executive_summary(incident: Incident) -> Paragraph:
    """The executive summary of ``incident``: one paragraph of prose."""
    story = impact_story(incident)
    priority = incident.priority
    spans: list[Span] = [
        typed(incident.title),
        ours(" ("),
        typed(incident.id),
        ours(f"), a {priority.value} ({priority.title}), now in the {incident.state.value} state."),
        *_impact(story),
        *_detection(story),
        *_response(incident, story),
        *_root_causes(incident),
        *_actions(incident),
    ]
    return Paragraph(tuple(spans))
