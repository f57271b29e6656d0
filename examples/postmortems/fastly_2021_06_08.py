"""Fastly, 8 June 2021: global edge errors after a customer configuration change hit a latent bug.

Source: Nick Rockwell (Fastly), "Summary of June 8 outage", 8 June 2021,
https://www.fastly.com/blog/summary-of-june-8-outage

Recorded after the fact under the ``retrospective`` policy, from the fact sheet
``fastly-2021-06-08.toml`` next to this file (facts and times only, in our own words). Every
event is written by "Fastly", the author of the record; the summary names no responder, so
no role is assigned. It publishes no declaration time: it is recorded as not known, no later
than the first response the summary times (the status post at 09:58).

The summary publishes two durations; both are reproduced by the measures:

- "detected the disruption within one minute": ``time_to_detect`` is 1 min;
- "within 49 minutes, 95% of our network was operating as normal": the major outage
  (``impact_by_level["major_outage"]``) lasted 49 min.

Run it from the repository root: ``python examples/postmortems/fastly_2021_06_08.py``.
"""

from __future__ import annotations

from _sheet import Sheet, discrepancy, report

from incidentflow import DetectionMethod, Incident, Policy, Priority

SHEET = Sheet.load("fastly-2021-06-08")
FASTLY = SHEET.organisation


def record() -> Incident:
    """Write the outage down as it happened, and return the incident."""
    t = SHEET.when
    incident = Incident.declare(
        SHEET.id,
        SHEET.title,
        Priority.P0,
        actor=FASTLY,
        began=t("onset"),
        detected=t("detected"),
        detection=DetectionMethod.ALERT,
        detected_by="Fastly monitoring",
        at_latest=t("first_communication"),
        policy=Policy.named("retrospective"),
        clock=SHEET.clock(),
    )
    incident.note(
        "The summary gives no declaration time; it came no later than the first response "
        "the summary times, the status post.",
        actor=FASTLY,
    )
    incident.log_change(
        what="software deployment that introduced a bug triggered by one specific "
        "customer configuration",
        where="edge software",
        revert="deploy the fixed software",
        actor=FASTLY,
        at=t("precursor"),
    )
    SHEET.record_impact(incident, actor=FASTLY)
    incident.post_update(
        "Status post published: global disruption under investigation.",
        actor=FASTLY,
        at=t("first_communication"),
    )
    incident.validate(
        "Fastly monitoring identified a global disruption",
        impact="85% of the network returned errors",
        actor=FASTLY,
        at=t("first_communication"),
    )
    incident.mitigate(
        "Identify and disable the configuration that triggers the bug",
        actor=FASTLY,
        at=t("first_communication"),
    )
    incident.note(
        "Engineering identified the customer configuration that triggered the bug.",
        actor=FASTLY,
        at=t("cause_identified"),
    )
    incident.verify_recovery("Incident mitigated", actor=FASTLY, at=t("mitigated"))
    incident.announce_yellow("Status post resolved", actor=FASTLY, at=t("status_resolved"))
    incident.log_change(
        what="permanent bug fix deployment began",
        where="edge software",
        revert="redeploy the previous software",
        actor=FASTLY,
        at=t("fix_deploy_began"),
    )
    for text in SHEET.discrepancies:
        discrepancy(incident, text, actor=FASTLY)
    return incident


if __name__ == "__main__":
    print(report(SHEET, record()))
