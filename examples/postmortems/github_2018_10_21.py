"""GitHub, 21-22 October 2018: 24 hours of degraded service after a 43-second partition.

Source: GitHub, "October 21 post-incident analysis", 30 October 2018,
https://github.blog/2018-10-30-oct21-post-incident-analysis/

Recorded after the fact under the ``retrospective`` policy, from the fact sheet
``github-2018-10-21.toml`` next to this file (facts and times only, in our own words).
Every event is written by "GitHub". The analysis mentions an incident coordinator who
joined at 23:11 but names nobody, so no role is assigned. Setting the site to yellow at
23:09 escalated the situation into an active incident: that is the declaration.

"Degraded service for 24 hours and 11 minutes" is reproduced by ``impact_duration``
(22:52 on 21 October to 23:03 on 22 October). The 43-second partition and the "nearly 40
minutes" of writes to the West Coast primaries are facts about the trigger and the data,
not spans between milestones; the docs table says so. Those writes were reconciled, not
lost, so they are no data-loss record.

The about 200,000 webhook payloads dropped while the backlog was processed are a data-loss
record: what and how much as the analysis gives them, the window left unknown (it does not
say when the payloads were written), dated when the backlog was done.

Run it from the repository root: ``python examples/postmortems/github_2018_10_21.py``.
"""

from __future__ import annotations

from _sheet import Sheet, data_loss, discrepancy, report

from incidentflow import ChangeOutcome, DetectionMethod, Incident, Policy, Priority

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
        at=t("declared"),
        policy=Policy.named("retrospective"),
        clock=SHEET.clock(),
    )
    incident.note(
        "Maintenance to replace failing 100G optical equipment cut the US East Coast hub off "
        "from the primary US East data center for 43 seconds; Orchestrator failed the MySQL "
        "primaries over to US West, and writes went there once connectivity came back.",
        actor=GITHUB,
        at=t("onset"),
    )
    SHEET.record_impact(incident, actor=GITHUB)
    incident.note(
        "First responders found many database clusters in an unexpected topology, holding "
        "only US West servers.",
        actor=GITHUB,
        at=t("topology_found"),
    )
    incident.note(
        "The responding team locked the internal deployment tooling.",
        actor=GITHUB,
        at=t("tooling_locked"),
    )
    incident.post_update("Site status set to yellow.", actor=GITHUB, at=t("declared"))
    incident.validate(
        "Orchestrator showed replication topologies holding only US West servers",
        impact="out-of-date and inconsistent data",
        actor=GITHUB,
        at=t("declared"),
    )
    incident.note("The incident coordinator joined.", actor=GITHUB, at=t("coordinator_joined"))
    incident.post_update("Site status set to red.", actor=GITHUB, at=t("status_red"))
    incident.mitigate(
        "Fail forward: restore US East primaries from backups, resync, fall back",
        actor=GITHUB,
        at=t("status_red"),
    )
    paused = incident.log_change(
        what="webhook delivery and GitHub Pages builds paused, to keep data integrity",
        where="background jobs",
        revert="resume webhook delivery and Pages builds",
        actor=GITHUB,
        at=t("jobs_paused"),
    )
    incident.post_update(
        "Status: a controlled failover of an internal data storage system is under way.",
        actor=GITHUB,
        at=t("plan_posted"),
    )
    incident.note(
        "Restores from backup under way for every affected MySQL cluster.",
        actor=GITHUB,
        at=t("restores_started"),
    )
    incident.post_update(
        "Status: estimated recovery in two hours.", actor=GITHUB, at=t("eta_posted")
    )
    incident.post_update(
        "Blog post published with more context.", actor=GITHUB, at=t("blog_posted")
    )
    incident.note(
        "All primaries back in US East; dozens of read replicas still hours behind.",
        actor=GITHUB,
        at=t("primaries_restored"),
    )
    incident.note(
        "Replicas in sync; failed over to the original topology; status kept red while "
        "the backlog is processed.",
        actor=GITHUB,
        at=t("topology_restored"),
    )
    incident.reconcile_change(
        paused.change_id,
        ChangeOutcome.REVERTED,
        note="backlog processing re-enabled: over five million hook events, 80,000 Pages builds",
        actor=GITHUB,
        at=t("backlog_resumed"),
    )
    data_loss(incident, SHEET, actor=GITHUB, at=t("impact_end"))
    incident.verify_recovery(
        "Pending webhooks and Pages builds processed; integrity of all systems confirmed",
        actor=GITHUB,
        at=t("impact_end"),
    )
    incident.announce_yellow("Status green", actor=GITHUB, at=t("impact_end"))
    incident.announce_green("Status green", actor=GITHUB, at=t("impact_end"))
    for text in SHEET.discrepancies:
        discrepancy(incident, text, actor=GITHUB)
    return incident


if __name__ == "__main__":
    print(report(SHEET, record()))
