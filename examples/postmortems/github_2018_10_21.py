"""GitHub, 21-22 October 2018: 24 hours of degraded service after a 43-second partition.

Source: GitHub, "October 21 post-incident analysis", 30 October 2018,
https://github.blog/2018-10-30-oct21-post-incident-analysis/

Recorded after the fact under the ``retrospective`` policy, from the fact sheet
``github-2018-10-21.toml`` next to this file (facts and times only, in our own words).
Every event is written by "GitHub". The analysis mentions an incident coordinator but names
nobody, so no role is assigned. It gives no declaration time: the declaration is dated at
the first response it times (deployment tooling locked, 23:07) and marked approximate, an
upper bound.

"Degraded service for 24 hours and 11 minutes" is reproduced by ``impact_duration``
(22:52 on 21 October to 23:03 on 22 October). The 43-second partition and the "nearly 40
minutes" of writes to the wrong primaries are facts about the trigger and the data, not
spans between milestones; the docs table says so.

Run it from the repository root: ``python examples/postmortems/github_2018_10_21.py``.
"""

from __future__ import annotations

from _sheet import Sheet, report

from incidentflow import (
    ChangeOutcome,
    DetectionMethod,
    Incident,
    Policy,
    Priority,
    approximately,
)

SHEET = Sheet.load("github-2018-10-21")
GITHUB = SHEET.organisation


def record() -> Incident:
    """Write the incident down as it happened, and return it."""
    t = SHEET.when
    incident = Incident.declare(
        SHEET.id,
        SHEET.title,
        Priority.P0,
        actor=GITHUB,
        began=t("onset"),
        detected=t("detected"),
        detection=DetectionMethod.ALERT,
        detected_by="internal monitoring",
        at=approximately(t("tooling_locked")),
        policy=Policy.named("retrospective"),
        clock=SHEET.clock(),
    )
    incident.note(
        "The analysis gives no declaration time; the declaration is dated at the first "
        "response it times, locking the deployment tooling, as an upper bound.",
        actor=GITHUB,
    )
    incident.note(
        "Maintenance to replace failing 100G optical equipment cut the US East Coast hub off "
        "from the primary US East data center for 43 seconds.",
        actor=GITHUB,
        at=t("onset"),
    )
    incident.note(
        "Orchestrator failed the MySQL primaries over to US West during the partition.",
        actor=GITHUB,
        at=t("onset"),
    )
    SHEET.record_impact(incident, actor=GITHUB)
    incident.note(
        "Engineers found many database clusters in an unexpected topology.",
        actor=GITHUB,
        at=t("topology_found"),
    )
    incident.validate(
        "Orchestrator showed replication topologies holding only US West servers",
        impact="out-of-date and inconsistent data; webhooks and Pages builds stopped",
        actor=GITHUB,
        at=t("tooling_locked"),
    )
    incident.mitigate(
        "Lock deployment tooling; rebuild the East Coast primaries from backups",
        actor=GITHUB,
        at=t("tooling_locked"),
    )
    lock = incident.log_change(
        what="deployment tooling locked",
        where="deployment tooling",
        revert="unlock deployment tooling",
        actor=GITHUB,
        at=t("tooling_locked"),
    )
    incident.post_update("Site status set to yellow.", actor=GITHUB, at=t("first_communication"))
    incident.post_update("Site status set to red.", actor=GITHUB, at=t("status_red"))
    incident.note(
        "Database engineers engaged; data integrity put before a quick recovery.",
        actor=GITHUB,
        at=t("db_engineers"),
    )
    paused = incident.log_change(
        what="webhook delivery and GitHub Pages builds paused",
        where="background jobs",
        revert="resume webhook delivery and Pages builds",
        actor=GITHUB,
        at=t("jobs_paused"),
    )
    incident.note(
        "All primaries back in US East; replicas still hours behind.",
        actor=GITHUB,
        at=t("primaries_restored"),
    )
    incident.verify_recovery(
        "Pending webhooks and Pages builds processed; all systems confirmed",
        actor=GITHUB,
        at=t("impact_end"),
    )
    for change in (lock, paused):
        incident.reconcile_change(
            change.change_id, ChangeOutcome.REVERTED, actor=GITHUB, at=t("impact_end")
        )
    incident.announce_yellow("Status green", actor=GITHUB, at=t("impact_end"))
    incident.announce_green("Status green", actor=GITHUB, at=t("impact_end"))
    return incident


if __name__ == "__main__":
    print(report(SHEET, record()))
