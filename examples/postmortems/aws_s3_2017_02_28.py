"""Amazon S3, 28 February 2017: US-EAST-1 unavailable after a mistyped capacity-removal command.

Source: Amazon Web Services, "Summary of the Amazon S3 Service Disruption in the Northern
Virginia (US-EAST-1) Region", March 2017, https://aws.amazon.com/message/41926/

Recorded after the fact under the ``retrospective`` policy, from the fact sheet
``aws-s3-2017-02-28.toml`` next to this file (facts and times only, in our own words; the
summary's PST times are converted to UTC). Every event is written by "Amazon Web Services";
the summary names nobody, so no role is assigned. It times neither detection nor the
declaration: the incident has no detection time, and the declaration time is recorded as
not known, no later than the first response the summary times (the Service Health Dashboard
updated again, 11:37 PST). Earlier status went out on Twitter and in the
dashboard's banner at times not given, so ``time_to_first_communication`` (2 h) is an upper
bound too.

The summary publishes clock times, not durations. From them the record measures 4 h 17 min
of impact, of which 2 h 49 min with no request served (``impact_by_level``).

Run it from the repository root: ``python examples/postmortems/aws_s3_2017_02_28.py``.
"""

from __future__ import annotations

from _sheet import Sheet, report

from incidentflow import Incident, Policy, Priority

SHEET = Sheet.load("aws-s3-2017-02-28")
AWS = SHEET.organisation


def record() -> Incident:
    """Write the disruption down as it happened, and return the incident."""
    t = SHEET.when
    incident = Incident.declare(
        SHEET.id,
        SHEET.title,
        Priority.P0,
        actor=AWS,
        began=t("onset"),
        at_latest=t("dashboard_updated"),
        policy=Policy.named("retrospective"),
        clock=SHEET.clock(),
    )
    incident.note(
        "The summary gives no detection or declaration time; the declaration came no later "
        "than the first response it times, the dashboard update. Status went out earlier on "
        "Twitter and in the dashboard banner, at times not given.",
        actor=AWS,
    )
    incident.note(
        "While debugging a slow S3 billing system, an authorized team member ran an "
        "established playbook's command to remove a few servers of a billing subsystem; "
        "one input was mistyped and far more servers were removed, among them servers of "
        "the index and placement subsystems, which then needed a full restart.",
        actor=AWS,
        at=t("onset"),
    )
    SHEET.record_impact(incident, actor=AWS)
    incident.post_update(
        "Individual service status updated on the Service Health Dashboard.",
        actor=AWS,
        at=t("dashboard_updated"),
    )
    incident.validate(
        "S3 in US-EAST-1 could not serve requests while its index and placement subsystems "
        "restarted",
        impact="S3 APIs, the S3 console, EC2 launches, EBS restores from snapshots and Lambda",
        actor=AWS,
        at=t("dashboard_updated"),
    )
    incident.mitigate(
        "Restart the index subsystem, then the placement subsystem",
        actor=AWS,
        at=t("dashboard_updated"),
    )
    incident.verify_recovery(
        "Placement subsystem recovered; S3 operating normally",
        actor=AWS,
        at=t("impact_end"),
    )
    return incident


if __name__ == "__main__":
    print(report(SHEET, record()))
