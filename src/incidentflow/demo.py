"""A scripted P1 incident — the runbook's "database is down" — walked through every state.

At each move the demo prints what the rules require (each guard, met or not) and then what
was recorded, so a newcomer sees the process and the library at once.  It also shows two
refusals: a move tried too early, and a command by someone without the right role.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from .clock import ManualClock
from .errors import CommandRefused
from .events import Event
from .incident import Incident
from .lifecycle import State, edge
from .priorities import triage
from .records import ActionKind, ChangeOutcome, FishboneCategory, LinkKind, Verdict
from .roles import Role

__all__ = ["FIVE_WHYS", "run_demo"]

FIVE_WHYS = (
    "The service is down.",
    "The database connection failed.",
    "The authentication token has expired.",
    "The token was not refreshed.",
    "The scheduled job for token refreshment failed.",
)
"""The runbook's Five Whys example, word for word; the fifth is the root cause."""

_START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


def run_demo(write: Callable[[str], object] = print, *, start: datetime = _START) -> Incident:
    """Walk the demo incident to post_mortem, narrating to ``write``; return the incident."""
    clock = ManualClock(start)
    say = write

    def stamp() -> str:
        return clock.now().strftime("%H:%M")

    def step(minutes: float, text: str, command: Callable[[], Event]) -> Event:
        clock.advance(minutes=minutes)
        event = command()
        say(f"  {stamp()}  {text}  [{event.type} by {event.actor}]")
        return event

    def move(minutes: float, target: State, message: str, actor: str) -> None:
        clock.advance(minutes=minutes)
        say("")
        checklist(target)
        incident.move(target, message=message, actor=actor)
        say(f"  {stamp()}  {message!r}  [state_changed by {actor}] → now {incident.state.value}")

    def checklist(target: State) -> None:
        found = edge(incident.state, target)
        assert found is not None
        unmet = {u.rule: u.detail for u in incident.unmet(target)}
        say(f"  To move {incident.state.value} → {target.value}, the rules require:")
        for guard in found.guards:
            say(f"    {guard:<24} {'✗ ' + unmet[guard] if guard in unmet else '✓'}")

    def refused(text: str, command: Callable[[], object]) -> None:
        try:
            command()
        except CommandRefused as exc:
            say(f"  refused  {text}: {type(exc).__name__}")
            for unmet in exc.unmet:
                say(f"           - {unmet.rule}: {unmet.detail}")
        else:  # pragma: no cover - the script only tries commands the rules refuse
            raise AssertionError(f"expected a refusal: {text}")

    priority = triage(
        all_customers_affected=False,
        customer_visible_outage=True,
        some_functionality_affected=True,
    )
    say("incidentflow demo — the runbook's P1 example: the database is down\n")
    say(f"Triage: a customer-visible outage → {priority.value} ({priority.title})")
    incident = Incident.declare(
        "INC-1042", "Database is down", priority, actor="ana", clock=clock,
        began=start - timedelta(minutes=4),
    )  # fmt: skip
    say(f"  {stamp()}  declared {incident.id} {incident.title!r}, began "
        f"{incident.began_at.strftime('%H:%M')}  [declared by ana]")  # fmt: skip

    say("\nStaffing and linking (steps 1–5)")
    checklist(State.MITIGATING)
    refused("start mitigating at once", lambda: incident.mitigate("go", actor="ana"))
    step(1, "ana takes the Lead", lambda: incident.assign(Role.LEAD, "ana", actor="ana"))
    step(0, "bo is Incident Commander", lambda: incident.assign(
        Role.INCIDENT_COMMANDER, "bo", actor="ana"))  # fmt: skip
    step(0, "cy is Communicator", lambda: incident.assign(Role.COMMUNICATOR, "cy", actor="ana"))
    step(0, "di is Recorder", lambda: incident.assign(Role.RECORDER, "di", actor="ana"))
    step(1, "validated: a P1", lambda: incident.validate(
        "primary refuses connections; checkout and deploys fail", actor="bo",
        impact="every customer: checkout and deploys fail"))  # fmt: skip
    for kind, url in (
        (LinkKind.TICKET, "https://tickets.example.com/IM-1042"),
        (LinkKind.WAR_ROOM, "https://chat.example.com/inc-1042-war-room"),
        (LinkKind.PUBLIC_CHANNEL, "https://chat.example.com/inc-1042"),
        (LinkKind.ANNOUNCEMENT, "https://chat.example.com/tech-outage/1042"),
    ):
        step(1, f"linked the {kind.label.lower()}",
             partial(incident.link, kind, url, actor="ana"))  # fmt: skip
    refused("di (Recorder) posts a stakeholder update",
            lambda: incident.post_update("looking into it", actor="di"))  # fmt: skip
    step(
        1,
        "first stakeholder update",
        lambda: incident.post_update(
            "Database outage; responders assigned; next update in 30 minutes.", actor="cy"
        ),
    )
    move(1, State.MITIGATING, "Mitigation under way", "ana")

    say("\nMitigating: the experimental method (steps 6–11)")
    checklist(State.YELLOW)
    step(
        3,
        "experiment E1 started",
        lambda: incident.start_experiment(
            hypothesis="the primary is out of disk",
            action="check disk usage on db-1",
            expected="disk above 95%",
            component="db-1",
            owner="bo",
            actor="bo",
        ),
    )
    step(
        4,
        "E1 refuted",
        lambda: incident.conclude_experiment(
            "E1", observed="disk at 41%", verdict=Verdict.REFUTED, actor="bo"
        ),
    )
    step(
        2,
        "experiment E2 started",
        lambda: incident.start_experiment(
            hypothesis="the app's database token expired",
            action="inspect auth errors",
            expected="token-expired errors since 13:55",
            component="auth",
            owner="bo",
            actor="bo",
        ),
    )
    step(
        5,
        "E2 confirmed",
        lambda: incident.conclude_experiment(
            "E2", observed="token expired at 13:55", verdict=Verdict.CONFIRMED, actor="bo"
        ),
    )
    step(
        2,
        "manual change logged (back-dated 2 min)",
        lambda: incident.log_change(
            what="issued a token by hand",
            where="auth service",
            revert="revoke token T-77",
            actor="di",
            made_by="bo",
            at=clock.now() - timedelta(minutes=2),
        ),
    )
    step(
        1,
        "timeline note",
        lambda: incident.note("token refresh job last ran 3 days ago", actor="di"),
    )
    step(
        3,
        "no-progress update is an update too",
        lambda: incident.post_update(
            "Cause found; fix being verified. No customer-facing progress yet.",
            actor="cy",
            no_progress=True,
        ),
    )
    for n, answer in enumerate(FIVE_WHYS, start=1):
        step(1, f"why #{n}: {answer}", partial(
            incident.add_why, answer, root_cause=n == len(FIVE_WHYS), actor="di"))  # fmt: skip
    step(
        1,
        "contributing factor",
        lambda: incident.add_factor(
            "no alert on the refresh job's failures",
            category=FishboneCategory.MEASUREMENT,
            actor="di",
        ),
    )
    step(
        1,
        "tech debt opened",
        lambda: incident.open_debt(
            "hand-issued token must be replaced by the refresh job", actor="bo"
        ),
    )
    step(
        4,
        "recovery verified",
        lambda: incident.verify_recovery("error rate back to baseline for 10 minutes", actor="bo"),
    )
    move(1, State.YELLOW, "Resolved (yellow): service restored, watching", "ana")

    say("\nYellow: customer verification and clean-up (steps 12–13)")
    checklist(State.GREEN)
    step(
        20,
        "customer verified",
        lambda: incident.verify_customer("Acme Corp", "deploys succeed again", actor="cy"),
    )
    step(
        30,
        "refresh job fixed, token rotated",
        lambda: incident.close_debt("D1", note="refresh job redeployed", actor="bo"),
    )
    step(
        1,
        "manual change reverted",
        lambda: incident.reconcile_change(
            "C1", ChangeOutcome.REVERTED, actor="bo", note="hand-issued token revoked"
        ),
    )
    move(1, State.GREEN, "Resolved (green): customer verified, tech debt cleaned up", "ana")

    say("\nGreen: report and post-mortem (steps 14–15)")
    checklist(State.REPORTED)
    step(
        60,
        "incident report started",
        lambda: incident.start_report(actor="di", location="https://docs.example.com/rca/INC-1042"),
    )
    step(
        1,
        "action item",
        lambda: incident.add_action(
            "alert when the token refresh job fails",
            owner="bo",
            due_at=clock.now() + timedelta(days=7),
            kind=ActionKind.PREVENTIVE,
            actor="ana",
        ),
    )
    move(1, State.REPORTED, "Report started; root cause: refresh job failure", "ana")
    step(
        5,
        "post-mortem scheduled",
        lambda: incident.schedule_post_mortem(
            clock.now() + timedelta(days=2), ["ana", "bo", "cy", "di", "eng-managers"], actor="cy"
        ),
    )
    move(1, State.POST_MORTEM, "Post-mortem scheduled with every role invited", "ana")

    say(f"\nDone: {incident.id} is {incident.state.value} after {incident.version} events.")
    open_items = incident.due()
    if open_items:
        say("Still owed:")
        for item in open_items:
            due = f" by {item.due_at:%Y-%m-%d %H:%M}" if item.due_at else ""
            say(f"  - {item.description}{due} ({', '.join(item.owners)})")
    return incident
