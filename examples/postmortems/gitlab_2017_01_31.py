"""GitLab.com, 31 January 2017: outage and six hours of database data lost.

Sources:

- GitLab, "GitLab.com Database Incident", 1 February 2017,
  https://about.gitlab.com/blog/2017/02/01/gitlab-dot-com-database-incident/
- GitLab, "Postmortem of database outage of January 31", 10 February 2017,
  https://about.gitlab.com/blog/2017/02/10/postmortem-of-database-outage-of-january-31/

Recorded after the fact under the ``retrospective`` policy, from the fact sheet
``gitlab-2017-01-31.toml`` next to this file (facts and times only, in our own words).
Every event is written by "GitLab"; the engineer is named only as "team-member-1" and
nobody is named as commander, so no role is assigned. The posts give the removal of the
data directory as "11pm-ish": it is recorded as approximate. The declaration time is not
known: it came no later than the first response they time (troubleshooting started on
detection, 18:00).

The one duration published, "six hours" of lost data, is rounded: the same post's window is
6 h 5 min and the postmortem's 6 h 40 min. Both are recorded as discrepancies.

Run it from the repository root: ``python examples/postmortems/gitlab_2017_01_31.py``.
"""

from __future__ import annotations

from _sheet import Sheet, data_loss, discrepancy, irreversible, report

from incidentflow import DetectionMethod, Incident, Policy, Priority

SHEET = Sheet.load("gitlab-2017-01-31")
GITLAB = SHEET.organisation


def record() -> Incident:
    """Write the outage down as it happened, and return the incident."""
    t = SHEET.when
    incident = Incident.declare(
        SHEET.id,
        SHEET.title,
        Priority.P0,
        actor=GITLAB,
        began=t("onset"),
        detected=t("detected"),
        detection=DetectionMethod.OTHER,
        at_latest=t("detected"),
        policy=Policy.named("retrospective"),
        clock=SHEET.clock(),
    )
    SHEET.record_impact(incident, actor=GITLAB)
    incident.validate(
        "Spammers were hammering the database by creating snippets",
        impact="database unstable",
        actor=GITLAB,
        at=t("detected"),
    )
    incident.mitigate("Troubleshoot the spam load", actor=GITLAB, at=t("detected"))
    incident.note(
        "Paged: database replication lagged too far behind and effectively stopped.",
        actor=GITLAB,
        at=t("paged"),
    )
    removal = incident.log_change(
        what="the PostgreSQL data directory removed on the primary instead of the secondary, "
        "to let a re-sync start",
        where="db1.cluster.gitlab.com",
        revert="none: restore from a backup",
        actor=GITLAB,
        at=t("directory_removed"),
    )
    incident.note(
        "The removal was terminated after a second or two, too late.",
        actor=GITLAB,
        at=t("removal_stopped"),
    )
    irreversible(incident, removal.change_id, actor=GITLAB, at=t("removal_stopped"))
    data_loss(incident, SHEET, actor=GITLAB, at=t("impact_end"))
    incident.verify_recovery(
        "GitLab.com back online, restored from a six-hour-old backup",
        actor=GITLAB,
        at=t("impact_end"),
    )
    incident.post_update("GitLab.com is back online.", actor=GITLAB, at=t("impact_end"))
    incident.announce_yellow("GitLab.com is back online", actor=GITLAB, at=t("impact_end"))
    for text in SHEET.discrepancies:
        discrepancy(incident, text, actor=GITLAB)
    return incident


if __name__ == "__main__":
    print(report(SHEET, record()))
