"""Cloudflare, 2 July 2019: global 502 errors after a WAF managed rule exhausted CPU.

Sources:

- John Graham-Cumming (Cloudflare), "Cloudflare outage caused by bad software deploy
  (updated)", 2 July 2019, https://blog.cloudflare.com/cloudflare-outage/
- John Graham-Cumming (Cloudflare), "Details of the Cloudflare outage on July 2, 2019",
  12 July 2019, https://blog.cloudflare.com/details-of-the-cloudflare-outage-on-july-2-2019/

Recorded after the fact under the ``retrospective`` policy, from the fact sheet
``cloudflare-2019-07-02.toml`` next to this file (facts and times only, in our own words).
Every event is written by "Cloudflare"; the posts name no incident commander, so no role is
assigned. The detailed post's timeline (the first alert at 13:45, the P0 declared then) was
read in a summary of it, not in the post itself; the sheet says which times those are.
The rule change was merged and built before the onset: those are recorded as precursors.

The detailed post's "27 minutes" is reproduced by ``impact_duration`` (13:42 to 14:09);
the same-day post's "about 30 minutes" is a rounded figure, recorded as a discrepancy.

Run it from the repository root: ``python examples/postmortems/cloudflare_2019_07_02.py``.
"""

from __future__ import annotations

from _sheet import Sheet, discrepancy, report

from incidentflow import ChangeOutcome, DetectionMethod, Incident, Policy, Priority

SHEET = Sheet.load("cloudflare-2019-07-02")
CLOUDFLARE = SHEET.organisation


def record() -> Incident:
    """Write the outage down as it happened, and return the incident."""
    t = SHEET.when
    incident = Incident.declare(
        SHEET.id,
        SHEET.title,
        Priority.P0,
        actor=CLOUDFLARE,
        began=t("onset"),
        detected=t("detected"),
        detection=DetectionMethod.ALERT,
        detected_by="PagerDuty: a synthetic test of the WAF",
        at=t("declared"),
        policy=Policy.named("retrospective"),
        clock=SHEET.clock(),
    )
    incident.note(
        "Pull request with the new WAF rules merged after approval.",
        actor=CLOUDFLARE,
        at=t("rule_merged"),
    )
    incident.note(
        "Rules built and tested; the tests passed.", actor=CLOUDFLARE, at=t("rules_built")
    )
    rules = incident.log_change(
        what="new WAF managed rules deployed globally in one go, in simulate mode; one "
        "rule's regular expression backtracked excessively",
        where="WAF managed rules",
        revert="roll back the rules",
        actor=CLOUDFLARE,
        at=t("onset"),
    )
    SHEET.record_impact(incident, actor=CLOUDFLARE)
    incident.validate(
        "CPU exhausted on machines worldwide; 502 errors for visitors of proxied domains",
        impact="traffic fell by 82% at worst",
        actor=CLOUDFLARE,
        at=t("declared"),
    )
    incident.note(
        "The WAF identified as the cause; an attack ruled out.",
        actor=CLOUDFLARE,
        at=t("waf_identified"),
    )
    incident.mitigate(
        "Issue a global kill of the WAF managed rulesets",
        actor=CLOUDFLARE,
        at=t("kill_decided"),
    )
    kill = incident.log_change(
        what="global termination of the WAF managed rulesets",
        where="WAF",
        revert="re-enable the WAF managed rulesets",
        actor=CLOUDFLARE,
        at=t("kill_executed"),
    )
    incident.verify_recovery(
        "Traffic and CPU back to expected levels worldwide",
        actor=CLOUDFLARE,
        at=t("impact_end"),
    )
    incident.reconcile_change(
        rules.change_id,
        ChangeOutcome.REVERTED,
        note="the offending rules rolled back",
        actor=CLOUDFLARE,
        at=t("waf_reenabled"),
    )
    incident.reconcile_change(
        kill.change_id,
        ChangeOutcome.REVERTED,
        note="offending rules rolled back and tested; WAF managed rulesets re-enabled",
        actor=CLOUDFLARE,
        at=t("waf_reenabled"),
    )
    for text in SHEET.discrepancies:
        discrepancy(incident, text, actor=CLOUDFLARE)
    return incident


if __name__ == "__main__":
    print(report(SHEET, record()))
