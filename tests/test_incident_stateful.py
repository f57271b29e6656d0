"""The incident as a state machine, checked command by command against an independent model.

A Hypothesis ``RuleBasedStateMachine`` issues random commands — valid and invalid, by people with
and without roles, back-dated, in the future, before the start, moves before the previous move,
with stamps going backwards, naive times, at every priority — and after each one compares the
library with the model of ``tests/model.py`` (written from the specification, not from the
implementation): the same acceptance, the same unmet rules, the same exception; a refusal leaves
the incident exactly as it was.  Invariants, written independently too, are checked after every
step.  Further properties cover refusals of arbitrary events, reachability of every state and
tampered histories.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

import incidentflow.events as ev
from incidentflow import (
    DEFAULT_POLICY,
    ActionKind,
    ChangeOutcome,
    CommandRefused,
    ImpactLevel,
    Incident,
    InvalidInput,
    LinkKind,
    ManualClock,
    NotAuthorized,
    NoteKind,
    Priority,
    ReplayError,
    Role,
    RuleViolated,
    State,
    TransitionBlocked,
    Verdict,
    codec,
)
from incidentflow.testing import events, incidents
from model import (
    EDGES,
    IC,
    WHYS_DEPTH,
    Model,
    check_invariants,
    issue,
    needs_customer,
    observe,
    replay_expectation,
    required_links,
    required_roles,
)

pytestmark = pytest.mark.slow  # started first (conftest.py)

PEOPLE = ("ana", "bo", "cy", "di", "eli")
people = st.sampled_from(PEOPLE)
roles = st.sampled_from(list(Role))
priorities = st.sampled_from(list(Priority))
states = st.sampled_from(list(State))
MINUTE = timedelta(minutes=1)
ZONES = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)))

# When a command is issued: minutes after the last stamp (negative goes back), how ``at``
# relates to it, and the UTC offset ``now`` is written in.
times = st.tuples(
    st.sampled_from([1, 1, 1, 1, 1, 0, 2, 20, 90, -1, -45]),
    st.sampled_from(
        [
            "default",
            "default",
            "default",
            "default",
            "default",
            "default",
            "now",
            "back",
            "far_back",
            "future",
            "start",
            "before_start",
            "entered",
            "since_entered",
            "before_entered",
            "elsewhere",
            "precursor",
            "before_window",
        ]
    ),
    st.sampled_from(ZONES),
)
Times = tuple[int, str, timezone]
Build = Callable[[dict[str, Any]], ev.Event]

# Who takes each role when the walk towards post-mortem needs it filled.
DEFAULT_HOLDER = {Role.LEAD: "ana", IC: "bo", Role.COMMUNICATOR: "cy", Role.RECORDER: "di"}


def someone_who_may(model: Model, command: str) -> str:
    """A person the model says may issue ``command`` now."""
    holders = [h for r in Role for h in model.holders(r)]
    return next(p for p in [*PEOPLE, *holders] if model.may(p, command))


DETOURS = ("reopen", "hand over", "shallow root cause", "partial invite")
ONWARDS = {
    State.DECLARED: State.MITIGATING,
    State.MITIGATING: State.YELLOW,
    State.YELLOW: State.GREEN,
    State.GREEN: State.REPORTED,
    State.REPORTED: State.POST_MORTEM,
}


def trigger(model: Model, target: State) -> str:
    """The command that moves the model's incident to ``target`` (by the model's edges)."""
    return EDGES[(model.state, target)][0]


def towards_post_mortem(model: Model) -> Build:
    """The next command of the runbook's path from where the model is (a note when done)."""

    def by(command: str) -> str:
        return someone_who_may(model, command)

    def move(target: State) -> Build:
        return lambda t: ev.StateChanged(
            actor=by(trigger(model, target)),
            source=model.state,
            target=target,
            message="onwards",
            **t,
        )

    p, state = model.priority, model.state
    if state is State.DECLARED:
        if not model.validated:
            return lambda t: ev.Validated(actor=by("validate"), evidence="real", **t)
        empty = [
            r for r in sorted(required_roles(p), key=lambda r: r.value) if not model.holders(r)
        ]
        if empty:
            role = empty[0]
            return lambda t: ev.RoleAssigned(
                actor=by("assign"), role=role, holder=DEFAULT_HOLDER[role], **t
            )
        missing = sorted(required_links(p) - model.links, key=lambda k: k.value)
        if missing:
            return lambda t: ev.Linked(actor="eli", kind=missing[0], url="https://x.test", **t)
        return move(State.MITIGATING)
    if state is State.MITIGATING:
        commander = model.holders(IC)[0]
        running = [k for k, x in model.experiments.items() if x.running]
        if not model.impact:
            return lambda t: ev.ImpactChanged(
                actor=by("change_impact"), level=ImpactLevel.MAJOR_OUTAGE, **t
            )
        if not model.experiments:
            return lambda t: ev.ExperimentStarted(
                actor=commander,
                experiment_id="walk-E",
                hypothesis="the token expired",
                action="refresh it",
                expected="connections succeed",
                component="db",
                owner=commander,
                **t,
            )
        if "walk-C" not in model.changes:
            return lambda t: ev.ChangeLogged(
                actor=commander,
                change_id="walk-C",
                made_by=commander,
                what="restarted the primary",
                where="db-1",
                revert="restart again",
                **t,
            )
        if "walk-D" not in model.debts:
            return lambda t: ev.DebtOpened(
                actor=by("open_debt"), debt_id="walk-D", description="pinned a version", **t
            )
        if not model.recovery_verified:
            return lambda t: ev.RecoveryVerified(actor=by("verify_recovery"), evidence="ok", **t)
        if running:
            return lambda t: ev.ExperimentConcluded(
                actor=by("conclude_experiment"),
                experiment_id=running[0],
                observed="as expected",
                verdict=Verdict.CONFIRMED,
                **t,
            )
        return move(State.YELLOW)
    if state is State.YELLOW:
        if needs_customer(p) and not model.customer_verified:
            return lambda t: ev.CustomerVerified(
                actor=by("verify_customer"), customer="acme", evidence="ok", **t
            )
        debts = [k for k, still_open in model.debts.items() if still_open]
        if debts:
            return lambda t: ev.DebtClosed(actor=by("close_debt"), debt_id=debts[0], **t)
        if not model.guard_met("impact_operational"):
            return lambda t: ev.ImpactChanged(
                actor=by("change_impact"), level=ImpactLevel.OPERATIONAL, **t
            )
        changes = [k for k, reconciled in model.changes.items() if not reconciled]
        if changes:
            return lambda t: ev.ChangeReconciled(
                actor=by("reconcile_change"),
                change_id=changes[0],
                outcome=ChangeOutcome.REVERTED,
                **t,
            )
        return move(State.GREEN)
    if state is State.GREEN:
        if not model.guard_met("root_cause_found"):
            chain = next(
                (c for c, (_, root) in model.whys.items() if not root), f"chain{len(model.whys)}"
            )
            deep_enough = model.whys.get(chain, (0, False))[0] + 1 >= WHYS_DEPTH
            return lambda t: ev.WhyAnswered(
                actor=by("add_why"), chain=chain, answer="because", root_cause=deep_enough, **t
            )
        if not model.report:
            return lambda t: ev.ReportStarted(actor=by("start_report"), **t)
        return move(State.REPORTED)
    if state is State.REPORTED:
        if not model.guard_met("roles_invited"):
            invitees = tuple(sorted({"ana", *(h for r in Role for h in model.holders(r))}))
            return lambda t: ev.PostMortemScheduled(
                actor=by("schedule_post_mortem"),
                scheduled_for=model.last_stamp + timedelta(days=2),
                invitees=invitees,
                **t,
            )
        return move(State.POST_MORTEM)
    return lambda t: ev.NoteAdded(actor="eli", text="after the fact", **t)


class IncidentMachine(RuleBasedStateMachine):
    """Random commands on one incident, each compared with the model."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__()
        self.clock = clock
        self.model: Model | None = None
        self.heard: list[ev.Event] = []
        self.previous: list[ev.Event] = []
        self.detoured: set[str] = set()

    # -- plumbing -------------------------------------------------------------------------

    @property
    def incident_model(self) -> Model:
        assert self.model is not None
        return self.model

    def when(self, timing: Times) -> tuple[dict[str, Any], Any, datetime]:
        """The event's times for ``timing``, the ``at`` to pass, and ``now``."""
        minutes, at_kind, zone = timing
        model = self.incident_model
        now = (model.last_stamp + minutes * MINUTE).astimezone(zone)
        began = model.began_at
        occurred = {
            "default": now,
            "now": now,
            "back": now - 3 * MINUTE,
            "far_back": now - timedelta(hours=3),
            "future": now + 2 * MINUTE,
            "start": began,
            "before_start": began - timedelta(seconds=1),
            # When the current state was entered (a move may happen then), halfway from then to
            # now, and a second before it (a move may not happen then).
            "entered": model.entered_at,
            "since_entered": model.entered_at + (now - model.entered_at) / 2,
            "before_entered": model.entered_at - timedelta(seconds=1),
            "elsewhere": now.astimezone(ZONES[1]),
            # Issue 9: up to 30 days before the onset for a precursor, and just past that.
            "precursor": began - timedelta(days=30),
            "before_window": began - timedelta(days=30, seconds=1),
        }[at_kind]
        at = None if at_kind == "default" else occurred
        return {"occurred_at": occurred, "recorded_at": now}, at, now

    def attempt(self, build: Build, timing: Times = (1, "default", UTC)) -> None:
        """Build the event the command should record, issue the command, compare."""
        stamps, at, now = self.when(timing)
        self.offer(build(stamps), at=at, now=now)

    def offer(self, event: ev.Event, *, at: Any = None, now: Any = None, raw: bool = False) -> None:
        """Issue ``event``'s command (or ``record`` it when ``raw``); assert the model agrees."""
        model = self.incident_model
        incident = self.incident
        before = list(incident.history)
        heard = len(self.heard)
        expected = model.unmet(event)
        error = model.refusal(event)
        refusal: CommandRefused | None = None
        try:
            recorded = incident.record(event) if raw else issue(incident, event, at=at, now=now)
        except CommandRefused as exc:
            refusal = exc
        if refusal is not None:
            assert expected, f"refused, the model expected acceptance: {refusal}"
            assert error is type(refusal), f"{type(refusal).__name__}, expected {error}"
            assert sorted(expected) == sorted(refusal.rules), str(refusal)
            assert refusal.incident_id == "INC-1"
            assert refusal.state == model.state.value
            if isinstance(refusal, TransitionBlocked):
                assert isinstance(event, ev.StateChanged)
                assert refusal.target == event.target.value
            self.assert_unchanged(before, heard)
            return
        assert not expected, f"accepted, the model expected {expected}"
        assert recorded == event, f"{recorded!r} != {event!r}"
        assert list(incident.history) == [*before, event]
        assert self.heard[heard:] == [event], "subscribers hear each accepted event once"
        model.apply(event)

    def assert_unchanged(self, before: list[ev.Event], heard: int) -> None:
        """The incident is exactly as it was: same history, version, state; nobody told."""
        incident = self.incident
        assert list(incident.history) == before
        assert len(before) == incident.version
        assert Incident.replay(before) == incident
        assert heard == len(self.heard), "subscribers heard of a refused command"

    # -- declaring ------------------------------------------------------------------------

    @initialize(
        priority=priorities,
        declarer=people,
        began=st.sampled_from([0, 0, 5, 90]),
        detected=st.sampled_from([None, None, 0, 3, 95]),
        head_start=st.sampled_from([0, 0, 0, 3, 8, 15, 25, 40]),
        eager=st.booleans(),
        detours=st.frozensets(st.sampled_from(DETOURS)),
        unknown=st.booleans(),
    )
    def declare(
        self,
        priority: Priority,
        declarer: str,
        began: int,
        detected: int | None,
        head_start: int,
        eager: bool,
        detours: frozenset[str],
        unknown: bool,
    ) -> None:
        """Declare, then follow the runbook ``head_start`` steps, so runs start all along it.

        An ``eager`` walk tries to move on before each step, probing every guard on the way;
        ``detours`` are setbacks the walk takes once each (see :meth:`walk`).  An ``unknown``
        declaration time is recorded as not known, now at the latest (issue 9), where an onset
        or a detection is given for the onset to rest on.
        """
        now = self.clock.now()
        onset = now - began * MINUTE
        found = None if detected is None else now - detected * MINUTE
        if found is not None and found < onset:  # detected before the onset given: refused
            with pytest.raises(RuleViolated) as info:
                Incident.declare(
                    "INC-1", "t", priority, actor=declarer, began=onset, detected=found, now=now
                )
            assert ("milestones_in_order",) == info.value.rules
            found = None
        # Issue 9: the onset given, else the detection, else the declaration (then written as
        # the older form: nothing tells the two apart).  A declaration time not known needs an
        # onset given or a detection to fall back on; without either it is refused.
        if unknown and not began and found is None:
            with pytest.raises(InvalidInput, match="give began"):
                Incident.declare("INC-1", "t", priority, actor=declarer, at_latest=now, now=now)
            unknown = False
        first = onset if began else found
        expected = ev.Declared(
            actor=declarer,
            occurred_at=now,
            recorded_at=now,
            incident_id="INC-1",
            title="Database is down",
            priority=priority,
            policy=ev.RecordedPolicy.of("default", DEFAULT_POLICY.to_toml()),
            began=first,
            detected_at=found,
            unknown=("occurred_at",) if unknown else (),
        )
        at_latest: dict[str, Any] = {"at_latest": now} if unknown else {}
        make = functools.partial(
            Incident.declare,
            "INC-1",
            "Database is down",
            priority,
            actor=declarer,
            began=onset if began else None,
            detected=found,
            now=now,
            clock=self.clock,
            **at_latest,
        )
        self.incident = make()
        assert [expected] == list(self.incident.history)
        self.model = Model.declare(expected)
        self.incident.subscribers.subscribe(lambda incident, event: self.heard.append(event))
        self.walk(head_start, eager=eager, detours=detours)

    # -- commands -------------------------------------------------------------------------
    # Each draws its actor (and any person it names) half the time from those for whom the
    # command makes sense — people the model says may issue it, current holders — so that
    # accepted commands are common; the other half from everyone.

    def pick(self, data: Any, likely: list[str]) -> str:
        """Someone from ``likely`` half the time (when there is anyone), else anyone."""
        if likely and data.draw(st.booleans()):
            return cast("str", data.draw(st.sampled_from(likely)))
        return cast("str", data.draw(people))

    def actor(self, data: Any, command: str) -> str:
        """Who issues ``command``: often someone the model says may, else anyone."""
        model = self.incident_model
        holders = [h for r in Role for h in model.holders(r)]
        return self.pick(
            data, [p for p in dict.fromkeys([*PEOPLE, *holders]) if model.may(p, command)]
        )

    @rule(data=st.data(), timing=times)
    def validate(self, data: Any, timing: Times) -> None:
        actor = self.actor(data, "validate")
        self.attempt(lambda t: ev.Validated(actor=actor, evidence="errors on graphs", **t), timing)

    @rule(data=st.data(), kind=st.sampled_from(list(LinkKind)), timing=times)
    def link(self, data: Any, kind: LinkKind, timing: Times) -> None:
        actor = self.actor(data, "link")
        self.attempt(lambda t: ev.Linked(actor=actor, kind=kind, url="https://x.test", **t), timing)

    @rule(data=st.data(), role=roles, holder=people, timing=times)
    def assign(self, data: Any, role: Role, holder: str, timing: Times) -> None:
        actor = self.actor(data, "assign")
        self.attempt(lambda t: ev.RoleAssigned(actor=actor, role=role, holder=holder, **t), timing)

    @rule(data=st.data(), role=roles, taker=people, timing=times)
    def hand_off(self, data: Any, role: Role, taker: str, timing: Times) -> None:
        giver = self.pick(data, list(self.incident_model.holders(role)))
        actor = giver if data.draw(st.booleans()) else self.actor(data, "hand_off")
        self.attempt(
            lambda t: ev.RoleHandedOff(
                actor=actor, role=role, from_holder=giver, to_holder=taker, **t
            ),
            timing,
        )

    @rule(data=st.data(), role=roles, timing=times)
    def release(self, data: Any, role: Role, timing: Times) -> None:
        holder = self.pick(data, list(self.incident_model.holders(role)))
        actor = holder if data.draw(st.booleans()) else self.actor(data, "release")
        self.attempt(lambda t: ev.RoleReleased(actor=actor, role=role, holder=holder, **t), timing)

    @rule(
        data=st.data(),
        key=st.sampled_from(["E1", "E2", "E3"]),
        component=st.sampled_from(["db", "api"]),
        timing=times,
    )
    def start_experiment(self, data: Any, key: str, component: str, timing: Times) -> None:
        actor = self.actor(data, "start_experiment")
        owner = self.pick(data, list(self.incident_model.holders(IC)))
        self.attempt(
            lambda t: ev.ExperimentStarted(
                actor=actor,
                experiment_id=key,
                hypothesis="the token expired",
                action="refresh it",
                expected="connections succeed",
                component=component,
                owner=owner,
                **t,
            ),
            timing,
        )

    @rule(
        data=st.data(),
        key=st.sampled_from(["E1", "E2", "E3", "E9"]),
        verdict=st.sampled_from(list(Verdict)),
        timing=times,
    )
    def conclude_experiment(self, data: Any, key: str, verdict: Verdict, timing: Times) -> None:
        actor = self.actor(data, "conclude_experiment")
        self.attempt(
            lambda t: ev.ExperimentConcluded(
                actor=actor, experiment_id=key, observed="it did", verdict=verdict, **t
            ),
            timing,
        )

    @rule(data=st.data(), timing=times)
    def note(self, data: Any, timing: Times) -> None:
        actor = self.actor(data, "note")
        self.attempt(lambda t: ev.NoteAdded(actor=actor, text="tried a restart", **t), timing)

    @rule(data=st.data(), no_progress=st.booleans(), timing=times)
    def post_update(self, data: Any, no_progress: bool, timing: Times) -> None:
        actor = self.actor(data, "post_update")
        self.attempt(
            lambda t: ev.UpdatePosted(
                actor=actor, message="still on it", no_progress=no_progress, **t
            ),
            timing,
        )

    @rule(data=st.data(), maker=people, key=st.sampled_from(["C1", "C2"]), timing=times)
    def log_change(self, data: Any, maker: str, key: str, timing: Times) -> None:
        actor = self.actor(data, "log_change")
        self.attempt(
            lambda t: ev.ChangeLogged(
                actor=actor,
                change_id=key,
                made_by=maker,
                what="restarted the primary",
                where="db-1",
                revert="restart again",
                **t,
            ),
            timing,
        )

    @rule(
        data=st.data(),
        key=st.sampled_from(["C1", "C2", "C9"]),
        outcome=st.sampled_from(list(ChangeOutcome)),
        timing=times,
    )
    def reconcile_change(self, data: Any, key: str, outcome: ChangeOutcome, timing: Times) -> None:
        actor = self.actor(data, "reconcile_change")
        self.attempt(
            lambda t: ev.ChangeReconciled(actor=actor, change_id=key, outcome=outcome, **t),
            timing,
        )

    @rule(
        data=st.data(),
        chain=st.sampled_from(["main", "main", "other"]),
        root_cause=st.booleans(),
        timing=times,
    )
    def add_why(self, data: Any, chain: str, root_cause: bool, timing: Times) -> None:
        actor = self.actor(data, "add_why")
        self.attempt(
            lambda t: ev.WhyAnswered(
                actor=actor, chain=chain, answer="because", root_cause=root_cause, **t
            ),
            timing,
        )

    @rule(
        data=st.data(),
        chain=st.sampled_from(["main", "main", "other", "branch"]),
        parent=st.sampled_from([None, None, "main", "other"]),
        back=st.integers(0, 2),
        root_cause=st.booleans(),
        timing=times,
    )
    def add_why_at_depth(
        self,
        data: Any,
        chain: str,
        parent: str | None,
        back: int,
        root_cause: bool,
        timing: Times,
    ) -> None:
        """An answer recording its depth, sometimes a branch, sometimes at a wrong depth."""
        model = self.incident_model
        actor = self.actor(data, "add_why")
        if chain in model.whys:
            depth, parent = model.whys[chain][0] + 1, None
        elif parent is None or parent not in model.whys:
            depth = 1 if parent is None else 2
        else:
            depth = max(1, model.whys[parent][0] + 1 - back)
        if parent is not None and back == 2 and chain in model.whys:
            depth += 1  # now and then a depth the chain is not at: why_depth
            self.offer(
                ev.WhyAnswered(
                    actor=actor, chain=chain, answer="b", root_cause=root_cause, depth=depth,
                    **self.when(timing)[0],
                ),
                raw=True,
            )  # fmt: skip
            return
        self.attempt(
            lambda t: ev.WhyAnswered(
                actor=actor, chain=chain, answer="because", root_cause=root_cause,
                depth=depth, branches_from=parent, **t,
            ),
            timing,
        )  # fmt: skip

    @rule(data=st.data(), role=roles, timing=times)
    def record_role_unknown(self, data: Any, role: Role, timing: Times) -> None:
        actor = self.actor(data, "assign")
        self.attempt(
            lambda t: ev.RoleUnknown(actor=actor, role=role, reason="unnamed", **t), timing
        )

    @rule(data=st.data(), kind=st.sampled_from(list(LinkKind)), timing=times)
    def record_link_absent(self, data: Any, kind: LinkKind, timing: Times) -> None:
        actor = self.actor(data, "link")
        self.attempt(lambda t: ev.LinkAbsent(actor=actor, kind=kind, reason="none", **t), timing)

    @rule(data=st.data(), timing=times)
    def note_discrepancy(self, data: Any, timing: Times) -> None:
        actor = self.actor(data, "note")
        self.attempt(
            lambda t: ev.NoteAdded(
                actor=actor, text="sources differ", kind=NoteKind.DISCREPANCY, **t
            ),
            timing,
        )

    @rule(
        data=st.data(),
        key=st.sampled_from(["L1", "L1", "L2"]),
        start=st.sampled_from([-30, 0, 0, 5]),
        length=st.sampled_from([0, 10, -1]),
        timing=times,
    )
    def record_data_loss(self, data: Any, key: str, start: int, length: int, timing: Times) -> None:
        """A loss window, empty, ordinary, reversed, or ending after it is recorded."""
        actor = self.actor(data, "record_data_loss")
        began = self.incident_model.began_at
        self.attempt(
            lambda t: ev.DataLossRecorded(
                actor=actor, loss_id=key, what="rows",
                window_start=began + start * MINUTE,
                window_end=began + (start + length) * MINUTE, **t,
            ),
            timing,
        )  # fmt: skip

    @rule(
        data=st.data(),
        name=st.sampled_from(
            ["title", "began", "declared", "priority", "invitees", "text", "time"]
        ),
        entry=st.integers(-3, 2),
        shift=st.sampled_from([-90, -1, 0, 1, 5]),
        timing=times,
    )
    def amend(self, data: Any, name: str, entry: int, shift: int, timing: Times) -> None:
        """A correction of a field, mostly of an entry near the end, good or bad."""
        model = self.incident_model
        actor = self.actor(data, "amend")
        number = None if name in ("title", "began", "declared") else max(1, len(model.log) + entry)
        target = model.log[(number or 1) - 1] if (number or 1) <= len(model.log) else None
        if name in ("began", "declared", "time"):
            base = target.occurred_at if target is not None else model.began_at
            value = (base + shift * MINUTE).isoformat()
        elif name == "priority":
            value = data.draw(st.sampled_from([p.value for p in Priority] + ["P9"]))
        elif name == "invitees":
            value = data.draw(st.sampled_from(["ana, bo", "eli", " , "]))
        else:
            value = data.draw(st.sampled_from(["corrected", "because"]))
        self.attempt(
            lambda t: ev.Amended(
                actor=actor, field_name=name, value=value, entry=number, reason="the source", **t
            ),
            timing,
        )

    @rule(data=st.data(), entry=st.integers(-4, 1), timing=times)
    def retract(self, data: Any, entry: int, timing: Times) -> None:
        model = self.incident_model
        actor = self.actor(data, "retract")
        number = max(1, len(model.log) + entry)
        self.attempt(
            lambda t: ev.Retracted(actor=actor, entry=number, reason="a mistake", **t), timing
        )

    @rule(data=st.data(), timing=times)
    def add_factor(self, data: Any, timing: Times) -> None:
        actor = self.actor(data, "add_factor")
        self.attempt(lambda t: ev.FactorAdded(actor=actor, description="no alert", **t), timing)

    @rule(data=st.data(), timing=times)
    def verify_recovery(self, data: Any, timing: Times) -> None:
        actor = self.actor(data, "verify_recovery")
        self.attempt(lambda t: ev.RecoveryVerified(actor=actor, evidence="graphs", **t), timing)

    @rule(data=st.data(), timing=times)
    def verify_customer(self, data: Any, timing: Times) -> None:
        actor = self.actor(data, "verify_customer")
        self.attempt(
            lambda t: ev.CustomerVerified(actor=actor, customer="acme", evidence="ok", **t),
            timing,
        )

    @rule(data=st.data(), key=st.sampled_from(["D1", "D2"]), timing=times)
    def open_debt(self, data: Any, key: str, timing: Times) -> None:
        actor = self.actor(data, "open_debt")
        self.attempt(
            lambda t: ev.DebtOpened(actor=actor, debt_id=key, description="pinned", **t), timing
        )

    @rule(data=st.data(), key=st.sampled_from(["D1", "D2", "D9"]), timing=times)
    def close_debt(self, data: Any, key: str, timing: Times) -> None:
        actor = self.actor(data, "close_debt")
        self.attempt(lambda t: ev.DebtClosed(actor=actor, debt_id=key, **t), timing)

    @rule(data=st.data(), timing=times)
    def start_report(self, data: Any, timing: Times) -> None:
        actor = self.actor(data, "start_report")
        self.attempt(lambda t: ev.ReportStarted(actor=actor, location="docs/rca", **t), timing)

    @rule(
        data=st.data(),
        invitees=st.lists(people, min_size=1, unique=True).map(tuple),
        timing=times,
    )
    def schedule_post_mortem(self, data: Any, invitees: tuple[str, ...], timing: Times) -> None:
        actor = self.actor(data, "schedule_post_mortem")
        meeting = self.incident_model.last_stamp + timedelta(days=2)
        self.attempt(
            lambda t: ev.PostMortemScheduled(
                actor=actor, scheduled_for=meeting, invitees=invitees, **t
            ),
            timing,
        )

    @rule(
        data=st.data(),
        owner=people,
        key=st.sampled_from(["A1", "A2"]),
        kind=st.sampled_from(list(ActionKind)),
        timing=times,
    )
    def add_action(self, data: Any, owner: str, key: str, kind: ActionKind, timing: Times) -> None:
        actor = self.actor(data, "add_action")
        due = self.incident_model.last_stamp + timedelta(days=14)
        vague = data.draw(st.sampled_from(["", "", "", "owner", "due"]))  # not known
        owner = None if vague == "owner" else owner  # type: ignore[assignment]
        due = None if vague == "due" else due  # type: ignore[assignment]
        self.attempt(
            lambda t: ev.ActionAdded(
                actor=actor,
                action_id=key,
                description="add an alert",
                owner=owner,
                due_at=due,
                kind=kind,
                **t,
            ),
            timing,
        )

    @rule(data=st.data(), key=st.sampled_from(["A1", "A2", "A9"]), timing=times)
    def close_action(self, data: Any, key: str, timing: Times) -> None:
        actor = self.actor(data, "close_action")
        self.attempt(lambda t: ev.ActionClosed(actor=actor, action_id=key, **t), timing)

    @rule(
        data=st.data(),
        level=st.sampled_from(list(ImpactLevel)),
        share=st.sampled_from([None, 0, 40, 100]),
        rough=st.booleans(),
        timing=times,
    )
    def change_impact(
        self, data: Any, level: ImpactLevel, share: int | None, rough: bool, timing: Times
    ) -> None:
        actor = self.actor(data, "change_impact")
        self.attempt(
            lambda t: ev.ImpactChanged(
                actor=actor,
                level=level,
                description="what users see",
                components=("api",),
                share=share,
                approximate=("occurred_at",) if rough else (),
                **t,
            ),
            timing,
        )

    @rule(data=st.data(), priority=priorities, timing=times)
    def change_priority(self, data: Any, priority: Priority, timing: Times) -> None:
        actor = self.actor(data, "change_priority")
        self.attempt(
            lambda t: ev.PriorityChanged(actor=actor, priority=priority, reason="impact", **t),
            timing,
        )

    @rule(data=st.data(), goal=states, timing=times)
    def move(self, data: Any, goal: State, timing: Times) -> None:
        model = self.incident_model
        source = model.state
        edge = EDGES.get((source, goal))
        actor = self.actor(data, edge[0]) if edge is not None else data.draw(people)
        self.attempt(
            lambda t: ev.StateChanged(
                actor=actor, source=source, target=goal, message="moving", **t
            ),
            timing,
        )

    @rule(actor=people, source=states, goal=states, timing=times)
    def record_a_move(self, actor: str, source: State, goal: State, timing: Times) -> None:
        """A hand-built move, possibly from a state the incident is not in."""
        stamps, _, _ = self.when(timing)
        event = ev.StateChanged(actor=actor, source=source, target=goal, message="x", **stamps)
        self.offer(event, raw=True)

    @rule(data=st.data(), which=st.sampled_from(["renamed", "renamed", "current", "forged"]))
    def adopt_policy(self, data: Any, which: str) -> None:
        """Adopt the default rules under another name, the policy in force, or a forged record.

        Only policies with the default rules are adopted, so the model's rules stay the ones
        in force; a forged record (a digest of other text) is offered with ``record()``.
        """
        actor = self.actor(data, "adopt_policy")
        name = data.draw(st.sampled_from(["team", "night shift", "default"]))
        renamed = attrs.evolve(DEFAULT_POLICY, name=name).recorded()
        current = self.incident.recorded_policy
        assert current is not None
        recorded = {
            "renamed": renamed,
            "current": current,
            "forged": attrs.evolve(renamed, content=renamed.content + "# edited\n"),
        }[which]
        self.attempt(lambda t: ev.PolicyAdopted(actor=actor, policy=recorded, **t))

    @rule(event=events(*(k for k in ev.EVENT_TYPES.values() if k is not ev.PolicyAdopted)))
    def record_any_event(self, event: ev.Event) -> None:
        """Any well-formed event at all (but an adoption, which would change the rules)."""
        self.offer(event, raw=True)

    @rule(
        which=st.sampled_from(["at", "now"]),
        command=st.sampled_from(["validate", "note", "assign", "move"]),
    )
    def naive_time(self, which: str, command: str) -> None:
        """A naive ``at`` or ``now`` is bad input, refused before any rule is checked."""
        model = self.incident_model
        stamps: dict[str, Any] = {"occurred_at": model.last_stamp, "recorded_at": model.last_stamp}
        make: Callable[[], ev.Event] = {
            "validate": lambda: ev.Validated(actor="ana", evidence="e", **stamps),
            "note": lambda: ev.NoteAdded(actor="ana", text="n", **stamps),
            "assign": lambda: ev.RoleAssigned(actor="ana", role=IC, holder="bo", **stamps),
            "move": lambda: ev.StateChanged(
                actor="ana",
                source=model.state,
                target=State.MITIGATING,
                message="m",
                **stamps,
            ),
        }[command]
        event = make()
        naive = model.last_stamp.replace(tzinfo=None)
        times_given = {"at": naive} if which == "at" else {"now": naive}
        before, heard = list(self.incident.history), len(self.heard)
        with pytest.raises(InvalidInput):
            issue(self.incident, event, **times_given)
        self.assert_unchanged(before, heard)

    def walk(
        self,
        steps: int,
        *,
        eager: bool,
        detours: frozenset[str] = frozenset(),
        dated: str = "default",
    ) -> None:
        """Take ``steps`` steps of the runbook; when ``eager``, first try to move on each time.

        Each step is dated as ``dated`` says (see :meth:`when`): with ``entered`` back-dated to
        when the current state was entered, so moves come at the very moment of the previous
        move, and with ``since_entered`` to between then and now; ``moves_in_order`` allows both.

        Each of ``detours`` happens once when its moment comes: a ``reopen`` just before green,
        a ``hand over`` of the IC role while its holder owns a running experiment, a ``shallow
        root cause`` named one why too early, a ``partial invite`` to the post-mortem.
        """
        for _ in range(steps):
            model = self.incident_model
            state = model.state
            if eager:
                self.push_on()
                if model.state is not state:
                    continue  # moved on: the next step starts from the new state
            detour = self.detour(detours - self.detoured)
            if detour is not None:
                self.attempt(detour, (1, dated, UTC))
                continue
            self.attempt(towards_post_mortem(model), (1, dated, UTC))

    def detour(self, detours: frozenset[str]) -> Build | None:
        """The first of ``detours`` whose moment has come, marked as taken."""
        model = self.incident_model
        if (
            "reopen" in detours
            and model.state is State.YELLOW
            and not model.unmet_guards(State.GREEN)
        ):  # the errors come back just before green
            self.detoured.add("reopen")
            actor = someone_who_may(model, "reopen")
            return lambda t: ev.StateChanged(
                actor=actor, source=State.YELLOW, target=State.MITIGATING, message="back", **t
            )
        chains = [
            c for c, (depth, root) in model.whys.items() if depth == WHYS_DEPTH - 2 and not root
        ]
        if "shallow root cause" in detours and model.state is State.GREEN and chains:
            self.detoured.add("shallow root cause")
            actor = someone_who_may(model, "add_why")
            chain = chains[0]
            return lambda t: ev.WhyAnswered(
                actor=actor, chain=chain, answer="that's it", root_cause=True, **t
            )
        if "partial invite" in detours and model.state is State.REPORTED:
            self.detoured.add("partial invite")
            actor = someone_who_may(model, "schedule_post_mortem")
            meeting = model.last_stamp + timedelta(days=1)
            return lambda t: ev.PostMortemScheduled(
                actor=actor, scheduled_for=meeting, invitees=("eli",), **t
            )
        owners = [x.owner for x in model.experiments.values() if x.running]
        if "hand over" in detours and owners:
            self.detoured.add("hand over")
            fresh = next(p for p in PEOPLE if p not in model.holders(IC))
            giver = owners[0]
            return lambda t: ev.RoleHandedOff(
                actor=giver, role=IC, from_holder=giver, to_holder=fresh, **t
            )
        return None

    @rule(
        steps=st.integers(1, 8),
        eager=st.booleans(),
        detours=st.frozensets(st.sampled_from(DETOURS)),
        dated=st.sampled_from(["default", "default", "entered", "since_entered"]),
    )
    def towards_post_mortem(
        self, steps: int, eager: bool, detours: frozenset[str], dated: str
    ) -> None:
        """The next steps of the runbook, so that runs reach the later states too."""
        self.walk(steps, eager=eager, detours=detours, dated=dated)

    @rule(timing=times)
    def push_on(self, timing: Times = (1, "default", UTC)) -> None:
        """Someone allowed to tries the runbook's next move now, whether or not it is due."""
        model = self.incident_model
        target = ONWARDS.get(model.state)
        if target is None:
            return
        actor = someone_who_may(model, trigger(model, target))
        self.attempt(
            lambda t: ev.StateChanged(
                actor=actor, source=model.state, target=target, message="onwards", **t
            ),
            timing,
        )

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def rules_hold(self) -> None:
        if self.model is None:  # not declared yet
            return
        check_invariants(self.incident, previous=self.previous, replay=True, round_trip=False)
        new = list(self.incident.history)[len(self.previous) :]
        assert new == codec.load_lines(codec.dump_lines(new))
        self.previous = list(self.incident.history)

    @invariant()
    def model_agrees(self) -> None:
        if self.model is None:  # not declared yet
            return
        model = self.model
        assert model.observe() == observe(self.incident)
        assert model.last_stamp == self.incident.history[-1].recorded_at
        assert model.began_at == self.incident.began_at
        assert model.entered_at == self.incident.when_entered(self.incident.state)
        # The roles view: the filled roles in the runbook's order, holders in the order taken.
        filled = [(r, tuple(model.holders(r))) for r in Role if model.holders(r)]
        assert filled == list(self.incident.roles.items())

    def teardown(self) -> None:
        if self.model is not None:
            text = codec.dump_lines(self.incident.history)
            assert Incident.replay(codec.load_lines(text)) == self.incident


def test_random_commands_follow_the_model(clock: ManualClock) -> None:
    """Random commands: library and model agree on each; every invariant holds throughout."""
    run_state_machine_as_test(
        # Hypothesis takes any factory (its docstring) but annotates a class.
        lambda: IncidentMachine(ManualClock(clock.now())),  # type: ignore[arg-type]
        settings=settings(stateful_step_count=50, suppress_health_check=[HealthCheck.too_slow]),
    )


# -- other properties ------------------------------------------------------------------------


@given(incidents(), events())
def test_a_refused_event_leaves_no_trace(incident: Incident, event: ev.Event) -> None:
    """Recording any event appends exactly it, or is refused as the model says, changing nothing."""
    model, index, rules = replay_expectation(list(incident.history))
    assert (index, rules) == (None, [])
    assert model is not None
    before = list(incident.history)
    heard: list[ev.Event] = []
    incident.subscribers.subscribe(lambda _, e: heard.append(e))
    expected = model.unmet(event)
    refusal: CommandRefused | None = None
    try:
        incident.record(event)
    except CommandRefused as exc:
        refusal = exc
    if refusal is not None:
        assert sorted(expected) == sorted(refusal.rules)
        assert model.refusal(event) is type(refusal)
        assert before == list(incident.history)
        assert Incident.replay(before) == incident
        assert [] == heard
        return
    assert [] == expected
    assert [*before, event] == list(incident.history)
    assert [event] == heard
    model.apply(event)
    assert model.observe() == observe(incident)


def _walk(incident: Incident, model: Model, *, until: State, clock: ManualClock) -> list[State]:
    """Follow the runbook until ``until``, checking each step against the model."""
    seen = [incident.state]
    for _ in range(60):
        if incident.state is until:
            return seen
        event = towards_post_mortem(model)(
            {"occurred_at": clock.advance(minutes=1), "recorded_at": clock.now()}
        )
        assert [] == model.unmet(event)
        assert event == issue(incident, event)
        model.apply(event)
        assert model.observe() == observe(incident)
        check_invariants(incident)
        seen.append(incident.state)
    raise AssertionError(f"did not reach {until}: stuck at {incident.state}")


@pytest.mark.parametrize("priority", list(Priority))
def test_every_state_is_reachable(priority: Priority, clock: ManualClock) -> None:
    """From a fresh incident of any priority every state is reached, a reopen on the way."""
    seen: set[State] = set()
    dismissed = Incident.declare("INC-1", "False alarm", priority, actor="ana", clock=clock)
    clock.advance(minutes=1)
    dismissed.dismiss("a false alarm", actor="ana")
    seen.add(dismissed.state)

    incident = Incident.declare("INC-2", "Database is down", priority, actor="ana", clock=clock)
    model = Model.declare(incident.history[0])  # type: ignore[arg-type]
    seen.update(_walk(incident, model, until=State.YELLOW, clock=clock))
    clock.advance(minutes=1)
    reopened = incident.reopen("the errors are back", actor="bo")
    model.apply(reopened)
    assert incident.recovery is None
    assert ["recovery_verified"] == [u.rule for u in incident.unmet(State.YELLOW)]
    seen.update(_walk(incident, model, until=State.POST_MORTEM, clock=clock))
    assert set(State) == seen


def test_only_a_holder_may_release_or_hand_off_their_own_role(clock: ManualClock) -> None:
    """Naming oneself gives no right over a role one does not hold: the refusal is NotAuthorized."""
    incident = Incident.declare("INC-1", "Database is down", Priority.P2, actor="ana", clock=clock)
    incident.assign(Role.LEAD, "ana", actor="ana")
    incident.assign(Role.RECORDER, "di", actor="ana")
    with pytest.raises(NotAuthorized) as released:
        incident.release(Role.LEAD, "eli", actor="eli")
    assert ("authorized", "holds_role") == released.value.rules
    with pytest.raises(NotAuthorized) as handed:
        incident.hand_off(Role.LEAD, "eli", "cy", actor="eli")
    assert ("authorized", "holds_role") == handed.value.rules
    incident.release(Role.RECORDER, "di", actor="di")  # a holder releases their own role
    assert () == incident.holders(Role.RECORDER)


# -- tampered histories ----------------------------------------------------------------------


def rich_history(*, step: timedelta) -> list[ev.Event]:
    """A P1 incident from declaration to post-mortem, with side trips; ``step`` between stamps."""
    start = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    clock = ManualClock(start)

    def tick() -> None:
        clock.advance(step)

    incident = Incident.declare("INC-1", "Database is down", Priority.P1, actor="ana", clock=clock)
    tick()
    incident.assign(Role.LEAD, "ana", actor="ana")
    tick()
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    tick()
    incident.assign(Role.COMMUNICATOR, "cy", actor="ana")
    tick()
    incident.assign(Role.RECORDER, "di", actor="ana")
    tick()
    incident.validate("primary refuses connections", actor="ana")
    for kind in (LinkKind.TICKET, LinkKind.WAR_ROOM, LinkKind.ANNOUNCEMENT):
        tick()
        incident.link(kind, f"https://x.test/{kind.value}", actor="cy")
    tick()
    incident.mitigate("mitigating", actor="ana")
    tick()
    incident.start_experiment(
        hypothesis="token expired",
        action="refresh",
        expected="connections succeed",
        component="db",
        owner="bo",
        actor="bo",
        experiment_id="E1",
    )
    tick()
    incident.log_change(
        what="restart", where="db-1", revert="none", actor="bo", change_id="C1", at=clock.now()
    )
    tick()
    incident.hand_off(Role.INCIDENT_COMMANDER, "bo", "eli", actor="bo")
    tick()
    incident.conclude_experiment("E1", observed="ok", verdict=Verdict.CONFIRMED, actor="eli")
    tick()
    incident.open_debt("pinned a version", actor="di", debt_id="D1")
    tick()
    incident.verify_recovery("graphs", actor="eli")
    tick()
    incident.announce_yellow("resolved (yellow)", actor="ana")
    tick()
    incident.reopen("errors are back", actor="ana")
    tick()
    incident.verify_recovery("graphs again", actor="eli")
    tick()
    incident.announce_yellow("resolved (yellow) again", actor="ana")
    tick()
    incident.verify_customer("acme", "deploys work", actor="cy")
    tick()
    incident.close_debt("D1", actor="di")
    tick()
    incident.reconcile_change("C1", ChangeOutcome.PERMANENT, actor="di")
    tick()
    incident.announce_green("resolved (green)", actor="ana")
    for n in range(5):
        tick()
        incident.add_why(f"why {n}", actor="di", root_cause=n == 4)
    tick()
    incident.start_report(actor="di", location="docs/rca")
    tick()
    incident.mark_reported("report started", actor="ana")
    tick()
    incident.schedule_post_mortem(start + timedelta(days=2), ["ana", "eli", "cy", "di"], actor="cy")
    tick()
    incident.begin_post_mortem("scheduled", actor="ana")
    return list(incident.history)


HISTORIES = {
    "stamped a minute apart": rich_history(step=MINUTE),
    "all stamped at once": rich_history(step=timedelta(0)),
}


def check_replay(history: list[ev.Event]) -> ReplayError | None:
    """Replay ``history``; assert the library fails exactly where and why the model says."""
    model, index, rules = replay_expectation(history)
    if index is None:
        assert model is not None
        assert model.observe() == observe(Incident.replay(history))
        return None
    with pytest.raises(ReplayError) as failure:
        Incident.replay(history)
    assert index == failure.value.index
    assert sorted(rules) == sorted(failure.value.rules)
    return failure.value


@pytest.mark.parametrize("name", list(HISTORIES))
def test_the_untampered_history_replays(name: str) -> None:
    """The rich history replays to an incident in post-mortem, directly and through the codec."""
    history = HISTORIES[name]
    incident = Incident.replay(history)
    assert State.POST_MORTEM is incident.state
    check_invariants(incident)
    assert check_replay(history) is None


@pytest.mark.parametrize("name", list(HISTORIES))
@given(data=st.data())
def test_a_history_with_two_events_swapped_fails_where_the_model_says(name: str, data: Any) -> None:
    """Swapping two events is refused at the first event that then breaks a rule."""
    history = list(HISTORIES[name])
    i = data.draw(st.integers(0, len(history) - 2))
    j = data.draw(st.integers(i + 1, len(history) - 1))
    history[i], history[j] = history[j], history[i]
    check_replay(history)


@pytest.mark.parametrize("name", list(HISTORIES))
@given(data=st.data())
def test_a_history_with_an_event_deleted_fails_where_the_model_says(name: str, data: Any) -> None:
    """Deleting an event is refused where the model finds a rule broken, if anywhere."""
    history = list(HISTORIES[name])
    del history[data.draw(st.integers(0, len(history) - 1))]
    check_replay(history)


@pytest.mark.parametrize("name", list(HISTORIES))
@given(data=st.data())
def test_a_history_with_an_event_duplicated_fails_where_the_model_says(
    name: str, data: Any
) -> None:
    """Repeating an event, anywhere later, is refused where the model finds a rule broken."""
    history = list(HISTORIES[name])
    i = data.draw(st.integers(0, len(history) - 1))
    j = data.draw(st.integers(i + 1, len(history)))
    history.insert(j, history[i])
    check_replay(history)


def _index(history: list[ev.Event], kind: type[ev.Event], n: int = 0) -> int:
    return [k for k, e in enumerate(history) if isinstance(e, kind)][n]


@pytest.mark.parametrize(
    ("tamper", "rules"),
    [
        ("delete the validation", ["validated"]),
        ("delete the recovery verified after the reopen", ["recovery_verified"]),
        ("delete the report start", ["report_started"]),
        ("duplicate the declaration", ["declared_once"]),
        ("duplicate the report start", ["report_once"]),
        ("duplicate the move to mitigating", ["from_current_state"]),
        ("swap the declaration with the next event", ["declared_first"]),
        # Each answer records its depth: the root cause (why 5) cannot open the chain.
        ("swap the root cause with the first why", ["why_depth"]),
    ],
)
def test_tampering_is_named_by_index_and_rule(tamper: str, rules: list[str]) -> None:
    """Typical tampering of an all-at-once history fails with the index and rule expected."""
    history = list(HISTORIES["all stamped at once"])
    whys = [k for k, e in enumerate(history) if isinstance(e, ev.WhyAnswered)]
    moves = [k for k, e in enumerate(history) if isinstance(e, ev.StateChanged)]
    if tamper == "delete the validation":
        del history[_index(history, ev.Validated)]
        bad = moves[0] - 1
    elif tamper == "delete the recovery verified after the reopen":
        del history[_index(history, ev.RecoveryVerified, 1)]
        bad = moves[3] - 1
    elif tamper == "delete the report start":
        del history[_index(history, ev.ReportStarted)]
        bad = moves[5] - 1
    elif tamper == "duplicate the declaration":
        history.insert(3, history[0])
        bad = 3
    elif tamper == "duplicate the report start":
        k = _index(history, ev.ReportStarted)
        history.insert(k + 1, history[k])
        bad = k + 1
    elif tamper == "duplicate the move to mitigating":
        history.insert(moves[0] + 1, history[moves[0]])
        bad = moves[0] + 1
    elif tamper == "swap the declaration with the next event":
        history[0], history[1] = history[1], history[0]
        bad = 0
    else:
        history[whys[0]], history[whys[-1]] = history[whys[-1]], history[whys[0]]
        bad = whys[0]
    failure = check_replay(history)
    assert failure is not None
    assert (bad, rules) == (failure.index, list(failure.rules))


def test_a_tampered_stamp_order_is_caught() -> None:
    """Swapping two events stamped a minute apart breaks the order of stamps at the later one."""
    history = list(HISTORIES["stamped a minute apart"])
    k = _index(history, ev.Validated)
    history[k], history[k + 1] = history[k + 1], history[k]
    failure = check_replay(history)
    assert failure is not None
    assert (k + 1, ("stamps_in_order",)) == (failure.index, failure.rules)
