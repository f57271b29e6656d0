"""The RCA's executive summary paragraph and its impact section: phases, detection, "≈"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from incidentflow import (
    ActionKind,
    DetectionMethod,
    ImpactLevel,
    Incident,
    ManualClock,
    Policy,
    Priority,
    approximately,
)
from incidentflow.documents import rca_document
from incidentflow.documents._impact import impact_story

T0 = datetime(2021, 6, 8, 9, 47, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    """T0 plus ``n`` minutes."""
    return T0 + timedelta(minutes=n)


@pytest.fixture
def clock() -> ManualClock:
    """A clock standing long after the incident, as when a postmortem is written down."""
    return ManualClock(LATER)


def declared(clock: ManualClock, **kwargs: Any) -> Incident:
    """A P0 whose impact began at T0, recorded later under the retrospective policy."""
    options: dict[str, Any] = {"began": T0, "at": minutes(10)}
    options.update(kwargs)
    return Incident.declare(
        "INC-9", "Edge errors", Priority.P0, actor="ana", clock=clock,
        policy=Policy.named("retrospective"), **options,
    )  # fmt: skip


def summary(incident: Incident) -> str:
    """The executive summary's paragraph, as Markdown, on one line."""
    text = rca_document(incident, now=LATER).section("executive_summary").markdown()
    return text.split("\n\n")[1].strip()


def section(incident: Incident) -> str:
    """The problem description section, as Markdown."""
    return rca_document(incident, now=LATER).section("problem_description").markdown()


def test_summary_tells_each_phase_its_length_share_and_components(clock: ManualClock) -> None:
    """Every non-operational phase with its duration, share and components; then the end."""
    incident = declared(clock, detected=minutes(1), detection=DetectionMethod.ALERT)
    incident.change_impact(
        ImpactLevel.MAJOR_OUTAGE, actor="ana", at=T0, share=85, components=["edge"]
    )
    incident.change_impact(ImpactLevel.DEGRADED, actor="ana", at=minutes(49))
    incident.change_impact(ImpactLevel.OPERATIONAL, actor="ana", at=minutes(168))
    assert (
        "Edge errors (INC-9), a P0 (Critical Incident), now in the declared state. "
        "Impact began at 2021-06-08 09:47 UTC: major outage for 49 min (85% affected, edge), "
        "then degraded for 1 h 59 min; it was operational again at 2021-06-08 12:35 UTC, "
        "2 h 48 min after it began. It was detected 1 min after it began (alert) and "
        "declared 9 min later, at 2021-06-08 09:57 UTC. It has not been resolved (yellow) "
        "yet. No root cause has been found yet. No corrective or preventive action is "
        "recorded yet."
    ) == summary(incident)


def test_an_impact_still_going_on_is_said_to_be_not_over(clock: ManualClock) -> None:
    """A last phase without an end: the summary says the impact is not over."""
    incident = declared(clock)
    incident.change_impact(ImpactLevel.PARTIAL_OUTAGE, actor="ana", at=T0)
    text = summary(incident)
    assert "Impact began at 2021-06-08 09:47 UTC: partial outage; the impact is not over." in text
    assert "| partial outage | 2021-06-08 09:47 UTC | ongoing | — | — | — | — |" in section(
        incident
    )


def test_approximate_times_carry_the_mark(clock: ManualClock) -> None:
    """Approximate onset, detection, declaration and phase starts are shown with '≈'."""
    incident = declared(
        clock,
        began=approximately(T0),
        detected=approximately(minutes(5)),
        detection=DetectionMethod.OTHER,
        detected_by="a customer tweet",
        at=approximately(minutes(10)),
    )
    incident.change_impact(ImpactLevel.MAJOR_OUTAGE, actor="ana", at=approximately(T0))
    incident.change_impact(ImpactLevel.OPERATIONAL, actor="ana", at=approximately(minutes(30)))
    text = summary(incident)
    assert "Impact began at ≈ 2021-06-08 09:47 UTC" in text
    assert "operational again at ≈ 2021-06-08 10:17 UTC" in text
    assert "(other: a customer tweet)" in text
    assert "declared 5 min later, at ≈ 2021-06-08 09:57 UTC" in text
    body = section(incident)
    assert "**Impact began:** ≈ 2021-06-08 09:47 UTC" in body
    assert "**Detected:** ≈ 2021-06-08 09:52 UTC (other: a customer tweet)" in body
    assert "**Declared:** ≈ 2021-06-08 09:57 UTC" in body
    assert "**Impact ended:** ≈ 2021-06-08 10:17 UTC" in body
    assert (
        "| major outage | ≈ 2021-06-08 09:47 UTC | ≈ 2021-06-08 10:17 UTC | 30 min | — | — | — |"
    ) in body


def test_impact_section_has_the_phase_table_detection_and_data_loss(clock: ManualClock) -> None:
    """The phase table, the detection milestones and the data-loss place, in that order."""
    incident = declared(clock, detected=minutes(1), detection=DetectionMethod.ALERT)
    incident.validate("graphs", impact="85% of requests failed", actor="ana", at=minutes(10))
    incident.change_impact(
        ImpactLevel.MAJOR_OUTAGE, "errors", actor="ana", at=T0, components=["edge"]
    )
    incident.change_impact(ImpactLevel.OPERATIONAL, "fine", actor="ana", at=minutes(49))
    body = section(incident)
    assert [
        "85% of requests failed",
        "| Level | From | Until | For | Components | Share affected | What |",
        "| major outage | 2021-06-08 09:47 UTC | 2021-06-08 10:36 UTC | 49 min | edge | — "
        "| errors |",
        "| operational | 2021-06-08 10:36 UTC | — | — | — | — | fine |",
        "**Impact began:** 2021-06-08 09:47 UTC",
        "**Detected:** 2021-06-08 09:48 UTC (alert)",
        "**Declared:** 2021-06-08 09:57 UTC",
        "**Impact ended:** 2021-06-08 10:36 UTC",
        "No data-loss record is kept for this incident.",
    ] == [
        line
        for line in body.split("### Impact", 1)[1].split("### Evidence")[0].splitlines()
        if line and not line.startswith(("###", "| ---"))
    ]


def test_assessment_without_phases_is_the_impact(clock: ManualClock) -> None:
    """With no impact timeline, the summary quotes the validation's impact assessment."""
    incident = declared(clock)
    incident.validate("graphs", impact="checkout fails.", actor="ana", at=minutes(10))
    assert "Impact began at 2021-06-08 09:47 UTC: checkout fails. It was declared" in summary(
        incident
    )
    assert impact_story(incident).ended is None


def test_an_operational_first_phase_is_no_end(clock: ManualClock) -> None:
    """A timeline that only says "operational" has not ended an impact."""
    incident = declared(clock)
    incident.change_impact(ImpactLevel.OPERATIONAL, actor="ana", at=T0)
    assert impact_story(incident).ended is None
    assert "Impact began at 2021-06-08 09:47 UTC; no impact assessment is recorded." in summary(
        incident
    )


def test_response_root_causes_and_actions_in_words(clock: ManualClock) -> None:
    """Yellow and green times, several root causes, closed and open actions of both kinds."""
    incident = declared(clock)
    incident.validate("graphs", actor="ana", at=minutes(10))
    incident.mitigate("go", actor="ana", at=minutes(10))
    incident.verify_recovery("graphs", actor="ana", at=minutes(40))
    incident.announce_yellow("ok", actor="ana", at=minutes(40))
    incident.announce_green("ok", actor="ana", at=minutes(70))
    for chain, cause in (("a", "Regex backtracked."), ("b", "No CPU guard")):
        for n in range(4):
            incident.add_why(f"why {n}", chain=chain, actor="ana")
        incident.add_why(cause, chain=chain, root_cause=True, actor="ana")
    incident.add_action("Fix it", kind=ActionKind.CORRECTIVE, actor="ana")
    incident.add_action("Guard it", kind=ActionKind.PREVENTIVE, actor="ana")
    incident.add_action("Test it", kind=ActionKind.PREVENTIVE, actor="ana")
    incident.close_action("A1", actor="ana")
    text = summary(incident)
    assert "It was resolved (yellow) after 40 min and green after 1 h 10 min." in text
    assert "The root causes found: Regex backtracked; No CPU guard." in text
    assert "1 corrective and 2 preventive actions are recorded, 2 open." in text


def test_one_closed_action_and_yellow_without_green(clock: ManualClock) -> None:
    """A single closed action reads "closed"; yellow without green says it is not green yet."""
    incident = declared(clock)
    incident.validate("graphs", actor="ana", at=minutes(10))
    incident.mitigate("go", actor="ana", at=minutes(10))
    incident.verify_recovery("graphs", actor="ana", at=minutes(40))
    incident.announce_yellow("ok", actor="ana", at=minutes(40))
    incident.add_action("Fix it", kind=ActionKind.CORRECTIVE, actor="ana")
    incident.close_action("A1", actor="ana")
    text = summary(incident)
    assert "It was resolved (yellow) after 40 min and is not green yet." in text
    assert "1 corrective action is recorded, closed." in text


def test_detection_without_a_method_says_only_when(clock: ManualClock) -> None:
    """A detection time recorded without how reads as a time alone."""
    incident = declared(clock, detected=minutes(3))
    assert "It was detected 3 min after it began and declared 7 min later" in summary(incident)
    assert "**Detected:** 2021-06-08 09:50 UTC\n" in section(incident)


def test_detection_and_declaration_at_the_onset_read_as_such(clock: ManualClock) -> None:
    """Detected as it began and declared at once: no "0 min after"."""
    incident = declared(clock, detected=T0, at=T0, detection=DetectionMethod.EMPLOYEE)
    assert (
        "It was detected as it began (employee) and declared at once, at 2021-06-08 09:47 UTC."
    ) in summary(incident)
