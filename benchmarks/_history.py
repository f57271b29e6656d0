"""Synthetic but realistic histories for the benchmarks and the profiler.

Every history here is valid under the default policy: replaying it raises nothing.  The
events are built directly (not through the commands), so building a million of them is quick
and what is measured is only what the benchmark names.
"""

from __future__ import annotations

import random
from collections import deque
from datetime import UTC, datetime, timedelta

from incidentflow import events as ev
from incidentflow.lifecycle import State
from incidentflow.priorities import Priority
from incidentflow.records import ActionKind, ChangeOutcome, LinkKind, Verdict
from incidentflow.roles import Role

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)

_COMPONENTS = ("db-1", "db-2", "cache", "api-gw", "queue", "dns", "auth", "search")
_NOTES = (
    "restarted {c}; latency back under 200 ms for now",
    "error rate on {c} climbing again, 4% of requests failing",
    "paged the on-call owner of {c}",
    "customer support reports login failures in the EU region",
    "rolled back the 14:02 deploy on {c}",
    "disk usage on {c} at 91%, growing 1%/h",
    "connection pool on {c} exhausted; raised the limit from 50 to 80",
    "graphs show the spike started before the deploy",
)
_UPDATES = (
    "Still investigating; the database is degraded and logins may fail.",
    "No progress since the last update; next update in 30 minutes.",
    "Mitigation in progress on {c}; error rate down to 1%.",
    "We identified a likely cause and are testing a fix on {c}.",
)
_WHYS = (
    "The service is down.",
    "The database connection failed.",
    "The authentication token has expired.",
    "The token was not refreshed.",
    "The scheduled job for token refreshment failed.",
)


class _Writer:
    """Builds events one second apart, sometimes back-dated by a Recorder catching up."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.events: list[ev.Event] = []
        self.seconds = 0

    def stamp(self, *, backdate: bool = False) -> dict[str, object]:
        self.seconds += 1
        recorded = START + timedelta(seconds=self.seconds)
        if backdate and self.seconds > 120:
            occurred = recorded - timedelta(seconds=self.rng.randrange(5, 120))
        else:
            occurred = recorded
        return {"occurred_at": occurred, "recorded_at": recorded}

    def add(self, kind: type[ev.Event], /, *, backdate: bool = False, **fields: object) -> None:
        self.events.append(kind(**fields, **self.stamp(backdate=backdate)))  # type: ignore[arg-type]


def _open(w: _Writer, incident_id: str, priority: Priority) -> None:
    """Steps 1-5 and the move to mitigating, for any priority."""
    w.add(
        ev.Declared,
        actor="ana",
        incident_id=incident_id,
        title="Database is down",
        priority=priority,
    )
    w.add(ev.RoleAssigned, actor="ana", role=Role.LEAD, holder="ana")
    w.add(ev.RoleAssigned, actor="ana", role=Role.INCIDENT_COMMANDER, holder="bo")
    w.add(ev.Validated, actor="ana", evidence="primary db refuses connections")
    w.add(
        ev.Linked, actor="ana", kind=LinkKind.TICKET, url=f"https://jira.example/IM-{incident_id}"
    )
    w.add(ev.Linked, actor="ana", kind=LinkKind.WAR_ROOM, url="https://chat.example/war-room")
    w.add(ev.Linked, actor="ana", kind=LinkKind.ANNOUNCEMENT, url="https://chat.example/outage/1")
    w.add(ev.RoleAssigned, actor="ana", role=Role.COMMUNICATOR, holder="cy")
    w.add(ev.RoleAssigned, actor="ana", role=Role.RECORDER, holder="di")
    w.add(
        ev.StateChanged,
        actor="ana",
        source=State.DECLARED,
        target=State.MITIGATING,
        message="mitigating",
    )


def long_incident(size: int, *, seed: int = 1) -> list[ev.Event]:
    """One long-running P1 incident of exactly ``size`` events (at least 60).

    A full lifecycle opens and closes it; in between is a realistic mix of timeline notes,
    stakeholder updates, experiments started and concluded, Five Whys answers, manual changes
    logged and reconciled, tech debt, action items, a reopen, and shift hand-offs.
    """
    if size < 60:
        raise ValueError("a long incident has at least 60 events")
    rng = random.Random(seed)
    w = _Writer(rng)
    _open(w, "INC-1", Priority.P1)
    ics = ["bo"]
    staff = {Role.COMMUNICATOR: "cy", Role.RECORDER: "di"}
    running: deque[tuple[str, str]] = deque()  # (experiment id, component), oldest first
    changes: deque[str] = deque()
    debts: deque[str] = deque()
    actions: deque[str] = deque()
    counters = {"E": 0, "C": 0, "D": 0, "A": 0, "chain": 0, "why": 0, "shift": 0}
    reopened = False
    closing = 30  # events kept for the end of the lifecycle

    def conclude(experiment_id: str) -> None:
        verdict = rng.choice((Verdict.CONFIRMED, Verdict.REFUTED, Verdict.INCONCLUSIVE))
        w.add(
            ev.ExperimentConcluded,
            actor="ana",
            experiment_id=experiment_id,
            observed="error rate unchanged after the action",
            verdict=verdict,
        )

    while len(w.events) < size - closing:
        n = len(w.events)
        if not reopened and n >= size // 2:
            # The recovery does not hold: yellow, then reopened.
            while running:
                conclude(running.popleft()[0])
            w.add(ev.RecoveryVerified, actor="ana", evidence="dashboards green for 15 minutes")
            w.add(
                ev.StateChanged,
                actor="ana",
                source=State.MITIGATING,
                target=State.YELLOW,
                message="resolved (yellow)",
            )
            w.add(ev.NoteAdded, actor="di", text="errors are back on db-1")
            w.add(
                ev.StateChanged,
                actor="ana",
                source=State.YELLOW,
                target=State.MITIGATING,
                message="the recovery did not hold",
            )
            reopened = True
            continue
        if n % 50_000 == 0:
            # Shift change: the IC and the Communicator hand off, experiments follow the IC.
            counters["shift"] += 1
            shift = counters["shift"]
            w.add(
                ev.RoleHandedOff,
                actor="ana",
                role=Role.INCIDENT_COMMANDER,
                from_holder=ics[0],
                to_holder=f"ic-{shift}",
            )
            ics[0] = f"ic-{shift}"
            w.add(
                ev.RoleHandedOff,
                actor=staff[Role.COMMUNICATOR],
                role=Role.COMMUNICATOR,
                from_holder=staff[Role.COMMUNICATOR],
                to_holder=f"comms-{shift}",
            )
            staff[Role.COMMUNICATOR] = f"comms-{shift}"
            continue
        roll = rng.random()
        component = rng.choice(_COMPONENTS)
        if roll < 0.40:
            w.add(
                ev.NoteAdded,
                backdate=rng.random() < 0.1,
                actor=rng.choice(("ana", ics[0], staff[Role.RECORDER])),
                text=rng.choice(_NOTES).format(c=component),
            )
        elif roll < 0.52:
            w.add(
                ev.UpdatePosted,
                actor=staff[Role.COMMUNICATOR],
                message=rng.choice(_UPDATES).format(c=component),
                no_progress=rng.random() < 0.2,
            )
        elif roll < 0.68:
            busy = {c for _, c in running}
            if len(running) < 3 and component not in busy:
                counters["E"] += 1
                experiment_id = f"E{counters['E']}"
                w.add(
                    ev.ExperimentStarted,
                    actor=ics[0],
                    experiment_id=experiment_id,
                    hypothesis=f"the connection pool of {component} is too small",
                    action=f"raise the pool size of {component} to 80",
                    expected="error rate below 0.1% within 5 minutes",
                    component=component,
                    owner=ics[0],
                )
                running.append((experiment_id, component))
            elif running:
                conclude(running.popleft()[0])
        elif roll < 0.76:
            depth = counters["why"]
            w.add(
                ev.WhyAnswered,
                actor=staff[Role.RECORDER],
                chain=f"chain-{counters['chain']}",
                answer=_WHYS[depth],
                root_cause=depth == len(_WHYS) - 1,
            )
            counters["why"] = (depth + 1) % len(_WHYS)
            if counters["why"] == 0:
                counters["chain"] += 1
        elif roll < 0.88:
            if len(changes) < 4:
                counters["C"] += 1
                change_id = f"C{counters['C']}"
                w.add(
                    ev.ChangeLogged,
                    actor=ics[0],
                    change_id=change_id,
                    made_by=ics[0],
                    what=f"raised max_connections on {component}",
                    where=component,
                    revert="set max_connections back to 50",
                )
                changes.append(change_id)
            else:
                w.add(
                    ev.ChangeReconciled,
                    actor=staff[Role.RECORDER],
                    change_id=changes.popleft(),
                    outcome=rng.choice((ChangeOutcome.REVERTED, ChangeOutcome.PERMANENT)),
                    note="",
                )
        elif roll < 0.91:
            w.add(
                ev.FactorAdded,
                actor=staff[Role.RECORDER],
                description=f"no alert on the token refresh job of {component}",
            )
        elif roll < 0.95:
            if len(debts) < 3:
                counters["D"] += 1
                debts.append(f"D{counters['D']}")
                w.add(
                    ev.DebtOpened,
                    actor="ana",
                    debt_id=debts[-1],
                    description=f"temporary firewall rule on {component}",
                )
            else:
                w.add(ev.DebtClosed, actor="ana", debt_id=debts.popleft(), note="rule removed")
        elif roll < 0.99:
            if len(actions) < 5:
                counters["A"] += 1
                actions.append(f"A{counters['A']}")
                w.add(
                    ev.ActionAdded,
                    actor="ana",
                    action_id=actions[-1],
                    description=f"alert when the token refresh job of {component} fails",
                    owner=staff[Role.RECORDER],
                    due_at=START + timedelta(days=30),
                    kind=rng.choice((ActionKind.CORRECTIVE, ActionKind.PREVENTIVE)),
                )
            else:
                w.add(ev.ActionClosed, actor="ana", action_id=actions.popleft(), note="")
        else:
            w.add(
                ev.Linked,
                actor="ana",
                kind=LinkKind.PUBLIC_CHANNEL,
                url=f"https://chat.example/public/{n}",
            )
    # Close: settle everything, then walk the rest of the lifecycle.
    while running:
        conclude(running.popleft()[0])
    while changes:
        w.add(
            ev.ChangeReconciled,
            actor="ana",
            change_id=changes.popleft(),
            outcome=ChangeOutcome.PERMANENT,
            note="",
        )
    while debts:
        w.add(ev.DebtClosed, actor="ana", debt_id=debts.popleft(), note="")
    if counters["why"]:  # finish the open chain so a root cause is on record
        for answer in _WHYS[counters["why"] :]:
            w.add(
                ev.WhyAnswered,
                actor="di",
                chain=f"chain-{counters['chain']}",
                answer=answer,
                root_cause=answer == _WHYS[-1],
            )
    elif counters["chain"] == 0:  # pragma: no cover - every size >= 60 answers some whys
        raise AssertionError("no Five Whys chain was answered")
    w.add(ev.RecoveryVerified, actor="ana", evidence="dashboards green for an hour")
    _move(w, State.MITIGATING, State.YELLOW, "resolved (yellow)")
    w.add(ev.CustomerVerified, actor="ana", customer="acme", evidence="deploys work again")
    _move(w, State.YELLOW, State.GREEN, "resolved (green)")
    w.add(ev.ReportStarted, actor="di", location="docs/rca/INC-1.md")
    _move(w, State.GREEN, State.REPORTED, "report started")
    invitees = ("ana", *ics, staff[Role.COMMUNICATOR], staff[Role.RECORDER])
    w.add(
        ev.PostMortemScheduled,
        actor="ana",
        scheduled_for=START + timedelta(days=30),
        invitees=invitees,
    )
    _move(w, State.REPORTED, State.POST_MORTEM, "post-mortem scheduled")
    while len(w.events) < size:
        w.add(ev.NoteAdded, actor="di", text="post-mortem notes shared")
    if len(w.events) != size:  # pragma: no cover - the closing budget is large enough
        raise AssertionError(f"built {len(w.events)} events, wanted {size}")
    return w.events


def _move(w: _Writer, source: State, target: State, message: str, *, actor: str = "ana") -> None:
    w.add(ev.StateChanged, actor=actor, source=source, target=target, message=message)


def small_incident(number: int) -> list[ev.Event]:
    """A short P2 incident of 10 events: opened, one experiment, a note and an update."""
    w = _Writer(random.Random(number))
    incident_id = f"INC-{number}"
    w.add(
        ev.Declared,
        actor="ana",
        incident_id=incident_id,
        title="Checkout is slow",
        priority=Priority.P2,
    )
    w.add(ev.RoleAssigned, actor="ana", role=Role.INCIDENT_COMMANDER, holder="bo")
    w.add(ev.Validated, actor="bo", evidence="p99 latency of checkout at 4 s")
    w.add(ev.Linked, actor="bo", kind=LinkKind.TICKET, url=f"https://jira.example/IM-{number}")
    _move(w, State.DECLARED, State.MITIGATING, "mitigating", actor="bo")
    w.add(ev.NoteAdded, actor="bo", text="the slowness started with the 14:02 deploy")
    w.add(
        ev.ExperimentStarted,
        actor="bo",
        experiment_id="E1",
        hypothesis="the 14:02 deploy slowed checkout",
        action="roll back the 14:02 deploy",
        expected="p99 below 500 ms within 5 minutes",
        component="checkout",
        owner="bo",
    )
    w.add(ev.UpdatePosted, actor="bo", message="Rolling back the 14:02 deploy.", no_progress=False)
    w.add(
        ev.ExperimentConcluded,
        actor="bo",
        experiment_id="E1",
        observed="p99 at 300 ms",
        verdict=Verdict.CONFIRMED,
    )
    w.add(ev.RecoveryVerified, actor="bo", evidence="p99 at 300 ms for 15 minutes")
    return w.events


def stored_incident(number: int) -> list[ev.Event]:
    """A whole P1 incident of 50 events, as a store keeps many: opened, worked, closed.

    The opening (10 events), 23 timeline notes and stakeholder updates (some back-dated), an
    experiment, a manual change logged and reconciled, a chain of Five Whys, and the close
    through yellow, green and the report to the post-mortem (8 events).
    """
    rng = random.Random(number)
    w = _Writer(rng)
    incident_id = f"INC-{number}"
    _open(w, incident_id, Priority.P1)
    component = rng.choice(_COMPONENTS)
    w.add(
        ev.ExperimentStarted,
        actor="bo",
        experiment_id="E1",
        hypothesis=f"the connection pool of {component} is too small",
        action=f"raise the pool size of {component} to 80",
        expected="error rate below 0.1% within 5 minutes",
        component=component,
        owner="bo",
    )
    w.add(
        ev.ChangeLogged,
        actor="bo",
        change_id="C1",
        made_by="bo",
        what=f"raised max_connections on {component}",
        where=component,
        revert="set max_connections back to 50",
    )
    for n in range(23):
        c = rng.choice(_COMPONENTS)
        if n % 4 == 3:
            w.add(
                ev.UpdatePosted,
                actor="cy",
                message=rng.choice(_UPDATES).format(c=c),
                no_progress=rng.random() < 0.2,
            )
        else:
            w.add(
                ev.NoteAdded,
                backdate=rng.random() < 0.1,
                actor=rng.choice(("ana", "bo", "di")),
                text=rng.choice(_NOTES).format(c=c),
            )
    w.add(
        ev.ExperimentConcluded,
        actor="bo",
        experiment_id="E1",
        observed="error rate below 0.1% after 3 minutes",
        verdict=Verdict.CONFIRMED,
    )
    w.add(
        ev.ChangeReconciled,
        actor="di",
        change_id="C1",
        outcome=ChangeOutcome.PERMANENT,
        note="",
    )
    for answer in _WHYS:
        w.add(
            ev.WhyAnswered, actor="di", chain="main", answer=answer, root_cause=answer == _WHYS[-1]
        )
    w.add(ev.RecoveryVerified, actor="ana", evidence="dashboards green for an hour")
    _move(w, State.MITIGATING, State.YELLOW, "resolved (yellow)")
    w.add(ev.CustomerVerified, actor="ana", customer="acme", evidence="logins work again")
    _move(w, State.YELLOW, State.GREEN, "resolved (green)")
    w.add(ev.ReportStarted, actor="di", location=f"docs/rca/{incident_id}.md")
    _move(w, State.GREEN, State.REPORTED, "report started")
    w.add(
        ev.PostMortemScheduled,
        actor="ana",
        scheduled_for=START + timedelta(days=30),
        invitees=("ana", "bo", "cy", "di"),
    )
    _move(w, State.REPORTED, State.POST_MORTEM, "post-mortem scheduled")
    if len(w.events) != 50:  # pragma: no cover - the script above is fixed
        raise AssertionError(f"built {len(w.events)} events, wanted 50")
    return w.events
