"""GitHub Codespaces, 21 January 2024: creating and resuming failed in several regions.

Source: GitHub, "GitHub Availability Report: January 2024", 14 February 2024,
https://github.blog/2024-02-14-github-availability-report-january-2024/

Recorded after the fact under the ``retrospective`` policy, from the fact sheet
``github-2024-01-21.toml`` next to this file (facts and times only, in our own words).
Every event is written by "GitHub"; the report names nobody. It times neither detection nor
the declaration: the incident has no detection time, and the declaration time is recorded
as not known, no later than the first response step the report times (every region but West
Europe recovered, 07:30).

The report contradicts itself: its heading says "lasting 7 hours 3 minutes" from 02:01,
its text says resolved at 09:34, 7 h 33 min later. The record keeps the published times, so
``impact_duration`` is 7 h 33 min, and the discrepancy is recorded.

Run it from the repository root: ``python examples/postmortems/github_2024_01_21.py``.
"""

from __future__ import annotations

from _sheet import Sheet, discrepancy, report

from incidentflow import Incident, Policy, Priority

SHEET = Sheet.load("github-2024-01-21")
GITHUB = SHEET.organisation


def record() -> Incident:
    """Write the incident down as it happened, and return it."""
    t = SHEET.when
    incident = Incident.declare(
        SHEET.id,
        SHEET.title,
        Priority.P1,
        actor=GITHUB,
        began=t("onset"),
        at_latest=t("regions_recovered"),
        policy=Policy.named("retrospective"),
        clock=SHEET.clock(),
    )
    incident.note(
        "The report gives no detection or declaration time; the declaration came no later "
        "than the first response step it times.",
        actor=GITHUB,
    )
    SHEET.record_impact(incident, actor=GITHUB)
    incident.validate(
        "Codespaces could not be created or resumed in several regions",
        impact="around 25% of customers, mainly East US and West Europe",
        actor=GITHUB,
        at=t("regions_recovered"),
    )
    incident.mitigate(
        "Route Codespace creations to less impacted regions",
        actor=GITHUB,
        at=t("regions_recovered"),
    )
    incident.verify_recovery(
        "Creations and resumes working normally in all regions",
        actor=GITHUB,
        at=t("impact_end"),
    )
    incident.announce_yellow("Resolved", actor=GITHUB, at=t("impact_end"))
    for text in SHEET.discrepancies:
        discrepancy(incident, text, actor=GITHUB)
    return incident


if __name__ == "__main__":
    print(report(SHEET, record()))
