"""GitHub, 9 January 2024: timed-out requests in one site after a host upgrade.

Source: GitHub, "GitHub Availability Report: January 2024", 14 February 2024,
https://github.blog/2024-02-14-github-availability-report-january-2024/

Recorded after the fact under the ``retrospective`` policy, from the fact sheet
``github-2024-01-09.toml`` next to this file (facts and times only, in our own words).
Every event is written by "GitHub"; the report names nobody and gives only the start and
end of the impact. The declaration time is recorded as not known, no later than the only
later time it gives, the end.

"Lasting 140 minutes" is reproduced by ``impact_duration`` (12:20 to 14:40).

Run it from the repository root: ``python examples/postmortems/github_2024_01_09.py``.
"""

from __future__ import annotations

from _sheet import Sheet, report

from incidentflow import Incident, Policy, Priority

SHEET = Sheet.load("github-2024-01-09")
GITHUB = SHEET.organisation


def record() -> Incident:
    """Write the incident down as it happened, and return it."""
    t = SHEET.when
    incident = Incident.declare(
        SHEET.id,
        SHEET.title,
        Priority.P2,
        actor=GITHUB,
        began=t("onset"),
        at_latest=t("impact_end"),
        policy=Policy.named("retrospective"),
        clock=SHEET.clock(),
    )
    incident.note(
        "The report gives only the start and end of the impact; the declaration came no "
        "later than the end.",
        actor=GITHUB,
    )
    incident.note(
        "A host upgrade temporarily reduced capacity, and the configured connection limit "
        "was lower than it should have been.",
        actor=GITHUB,
        at=t("onset"),
    )
    SHEET.record_impact(incident, actor=GITHUB)
    incident.validate(
        "Elevated connection latency and timed-out requests in one of three sites",
        impact="on average 5%, at most 10% of requests failed or timed out",
        actor=GITHUB,
        at=t("impact_end"),
    )
    incident.mitigate("Raise the connection limit", actor=GITHUB, at=t("impact_end"))
    incident.verify_recovery("Connections back to normal", actor=GITHUB, at=t("impact_end"))
    return incident


if __name__ == "__main__":
    print(report(SHEET, record()))
