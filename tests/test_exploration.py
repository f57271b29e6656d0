"""An exhaustive, bounded exploration of the process: every command sequence, every state.

From a freshly declared P1 incident and a freshly declared P3 one, a breadth-first search tries
every command of a fixed alphabet of abstract commands (:data:`ALPHABET`: staffing, validating,
linking, experiments, manual changes, tech debt, verifications, the Five Whys, the report, the
post-mortem, priority changes, adoptions of a policy the rules refuse (the same policy again,
a forged record) and every kind of move — many issued by someone without the role,
in the wrong state, or at a bad time) in every state it reaches, until no new state appears.
Every command is offered both to the library and to the independent model of
``tests/model.py``; they must agree on acceptance, on the exact list of unmet rules and on the
exception class, and a refused command must leave the incident exactly as it was.  Every reached
state is checked against the model's picture and every invariant, and compared with a replay of
its own history.  A second search (:data:`TWO_ICS`) does the same with two Incident Commanders
running experiments, releasing and handing off the role while the other's experiments run.

Why deduplicating states keeps the search exhaustive.  Two incidents with the same fingerprint
(:func:`fingerprint`) have the same future: every rule of the policy reads only the state, the
priority, whether the problem is validated, the links, the role holders, the experiments (id,
component, whether running, and the owner of a running one), the ids and open-ness of manual
changes, tech debt and action items, the Five Whys chains (root cause or not, depth up to the
policy's 5), whether the report is started, the post-mortem's invitees, the two verifications
and the times.  Times cannot tell two representatives apart: the incident began an hour before
it was declared; each command is stamped one minute after the last event and happens when
stamped, but for one move dated a minute back, at the last stamp (never before the previous
move); the timing probes (a note back-dated before the start, one dated after its stamp, one
stamped a minute before the last event, a move dated a minute before the previous move) are
placed relative to the start, the last stamp and the previous move; every move happens at or
after the declaration, an hour after the start, so the move probe also comes before the start
exactly when no move was made yet (while declared); so every timing rule comes out the same
from every representative.  Nothing
else — notes and updates, who issued past commands, timestamps, the order of holders, depth
beyond five, who owned a finished experiment — is read by any rule.  So every command has the
same outcome (accepted or not, the same unmet rules, the same next fingerprint) from every
incident with a given fingerprint, and exploring one representative explores them all: the
search visits every state reachable by any sequence of the alphabet, however long, and tries
every command there.  Equal fingerprints are the relation a bisimulation needs; the model check
at every state would catch a library that let any other detail matter.

Timestamps are kept out of the fingerprint (each path reaches a state at its own time), which is
what keeps the state space finite; a fixed one-minute step per command keeps the stamps simple.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

import incidentflow.events as ev
from incidentflow import (
    DEFAULT_POLICY,
    ActionKind,
    ChangeOutcome,
    CommandRefused,
    ImpactLevel,
    Incident,
    LinkKind,
    Priority,
    Role,
    State,
    Verdict,
    codec,
)
from model import (
    EDGES,
    GUARD_NAMES,
    WHYS_DEPTH,
    Model,
    Picture,
    check_invariants,
    issue,
    observe,
    refusal_for,
)

pytestmark = pytest.mark.slow  # started first (conftest.py)

T0 = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
PRECURSOR = timedelta(days=30)  # issue 9: how long before the onset a precursor may come
MEETING = T0 + timedelta(days=3)
EVERYONE = ("ana", "bo", "cy", "di", "eli")
IC = Role.INCIDENT_COMMANDER

Build = Callable[[Model], ev.Event]


def _next(model: Model) -> dict[str, Any]:
    """One minute after the last stamp, happening when stamped."""
    stamp = model.last_stamp + MINUTE
    return {"occurred_at": stamp, "recorded_at": stamp}


def _assign(role: Role, holder: str, *, by: str) -> Build:
    return lambda m: ev.RoleAssigned(actor=by, role=role, holder=holder, **_next(m))


def _hand_off(role: Role, giver: str, taker: str, *, by: str) -> Build:
    return lambda m: ev.RoleHandedOff(
        actor=by, role=role, from_holder=giver, to_holder=taker, **_next(m)
    )


def _release(role: Role, holder: str, *, by: str) -> Build:
    return lambda m: ev.RoleReleased(actor=by, role=role, holder=holder, **_next(m))


def _link(kind: LinkKind) -> Build:
    return lambda m: ev.Linked(
        actor="cy", kind=kind, url=f"https://x.test/{kind.value}", **_next(m)
    )


def _experiment(experiment_id: str, owner: str, *, by: str, component: str = "db") -> Build:
    return lambda m: ev.ExperimentStarted(
        actor=by,
        experiment_id=experiment_id,
        hypothesis="the token expired",
        action="refresh the token",
        expected="connections succeed",
        component=component,
        owner=owner,
        **_next(m),
    )


def _conclude(experiment_id: str, *, by: str) -> Build:
    return lambda m: ev.ExperimentConcluded(
        actor=by, experiment_id=experiment_id, observed="ok", verdict=Verdict.CONFIRMED, **_next(m)
    )


def _why(*, root_cause: bool) -> Build:
    return lambda m: ev.WhyAnswered(
        actor="di", chain="main", answer="because", root_cause=root_cause, **_next(m)
    )


def _schedule(invitees: tuple[str, ...]) -> Build:
    return lambda m: ev.PostMortemScheduled(
        actor="cy", scheduled_for=MEETING, invitees=invitees, **_next(m)
    )


def _adopt(recorded: ev.RecordedPolicy, *, by: str) -> Build:
    """An adoption the rules always refuse: the policy in force again, or a forged record.

    Neither can change the rules, so the explored states stay those of the default policy.
    """
    return lambda m: ev.PolicyAdopted(actor=by, policy=recorded, **_next(m))


def _impact(level: ImpactLevel, *, at: Callable[[Model], datetime] | None = None) -> Build:
    def build(m: Model) -> ev.ImpactChanged:
        times = _next(m)
        if at is not None:
            times["occurred_at"] = at(m)
        return ev.ImpactChanged(actor="cy", level=level, **times)

    return build


def _priority(priority: Priority) -> Build:
    return lambda m: ev.PriorityChanged(
        actor="ana", priority=priority, reason="impact changed", **_next(m)
    )


def _move(
    target: State | Callable[[Model], State],
    *,
    by: str,
    at: Callable[[Model], datetime] | None = None,
) -> Build:
    """A move from the model's state; ``at`` dates it (default: when stamped)."""

    def build(m: Model) -> ev.StateChanged:
        goal = target if isinstance(target, State) else target(m)
        times = _next(m)
        if at is not None:
            times["occurred_at"] = at(m)
        return ev.StateChanged(actor=by, source=m.state, target=goal, message="moving", **times)

    return build


_HAPPY_PATH = {
    State.DECLARED: State.MITIGATING,
    State.MITIGATING: State.YELLOW,
    State.YELLOW: State.GREEN,
    State.GREEN: State.REPORTED,
    State.REPORTED: State.POST_MORTEM,
}


def _onwards(model: Model) -> State:
    """The next state on the runbook's path; from a terminal state, mitigating (no edge)."""
    return _HAPPY_PATH.get(model.state, State.MITIGATING)


Alphabet = dict[str, tuple[Build, ...]]

# Roles meant for: ana the Lead, bo the IC, cy the Communicator, di the Recorder; eli never
# holds one for long.  A command with several steps is one abstract command (all or nothing).
ALPHABET: Alphabet = {
    "assign Lead to ana, by ana": (_assign(Role.LEAD, "ana", by="ana"),),
    "assign IC to bo, by ana": (_assign(IC, "bo", by="ana"),),
    "assign Communicator to cy, by ana": (_assign(Role.COMMUNICATOR, "cy", by="ana"),),
    "assign Recorder to di, by ana": (_assign(Role.RECORDER, "di", by="ana"),),
    "assign Lead to eli, by eli": (_assign(Role.LEAD, "eli", by="eli"),),
    "IC bo hands off to eli, who hands back": (
        _hand_off(IC, "bo", "eli", by="bo"),
        _hand_off(IC, "eli", "bo", by="eli"),
    ),
    "hand off Lead from eli to cy, by eli": (_hand_off(Role.LEAD, "eli", "cy", by="eli"),),
    "release IC bo, by bo": (_release(IC, "bo", by="bo"),),
    "release Communicator cy, by cy": (_release(Role.COMMUNICATOR, "cy", by="cy"),),
    "release IC bo, by eli (a takeover)": (_release(IC, "bo", by="eli"),),
    "validate, by ana": (lambda m: ev.Validated(actor="ana", evidence="errors", **_next(m)),),
    "validate, by eli": (lambda m: ev.Validated(actor="eli", evidence="errors", **_next(m)),),
    "link the ticket": (_link(LinkKind.TICKET),),
    "link ticket, war room and announcement": (
        _link(LinkKind.TICKET),
        _link(LinkKind.WAR_ROOM),
        _link(LinkKind.ANNOUNCEMENT),
    ),
    "start experiment E1 on db, owned by bo, by bo": (_experiment("E1", "bo", by="bo"),),
    "start experiment E2 on db, owned by cy, by bo": (_experiment("E2", "cy", by="bo"),),
    "conclude experiment E1, by ana": (
        lambda m: ev.ExperimentConcluded(
            actor="ana", experiment_id="E1", observed="ok", verdict=Verdict.CONFIRMED, **_next(m)
        ),
    ),
    "log manual change C1, by eli": (
        lambda m: ev.ChangeLogged(
            actor="eli",
            change_id="C1",
            made_by="eli",
            what="restarted the primary",
            where="db-1",
            revert="none needed",
            **_next(m),
        ),
    ),
    "reconcile change C1, by di": (
        lambda m: ev.ChangeReconciled(
            actor="di", change_id="C1", outcome=ChangeOutcome.PERMANENT, **_next(m)
        ),
    ),
    "open tech debt D1, by di": (
        lambda m: ev.DebtOpened(actor="di", debt_id="D1", description="pinned", **_next(m)),
    ),
    "close tech debt D1, by di": (lambda m: ev.DebtClosed(actor="di", debt_id="D1", **_next(m)),),
    "verify recovery, by bo": (
        lambda m: ev.RecoveryVerified(actor="bo", evidence="graphs", **_next(m)),
    ),
    "verify with the customer, by cy": (
        lambda m: ev.CustomerVerified(actor="cy", customer="acme", evidence="ok", **_next(m)),
    ),
    "answer the Five Whys, by di": (
        *(_why(root_cause=False) for _ in range(WHYS_DEPTH - 1)),
        _why(root_cause=True),
    ),
    "answer only four whys, naming the fourth the root cause, by di": (
        *(_why(root_cause=False) for _ in range(WHYS_DEPTH - 2)),
        _why(root_cause=True),
    ),
    "name the next why the root cause, recording its depth, by di": (
        lambda m: ev.WhyAnswered(
            actor="di",
            chain="main",
            answer="so",
            root_cause=True,
            depth=m.whys.get("main", (0, False))[0] + 1,
            **_next(m),
        ),
    ),
    "record data loss with a window ending before it starts, by di": (
        lambda m: ev.DataLossRecorded(
            actor="di",
            loss_id="L1",
            what="rows",
            window_start=m.last_stamp,
            window_end=m.last_stamp - MINUTE,
            **_next(m),
        ),
    ),
    "retract the declaration, by di": (
        lambda m: ev.Retracted(actor="di", entry=1, reason="wrong", **_next(m)),
    ),
    "amend a field there is none of, by eli": (
        lambda m: ev.Amended(actor="eli", field_name="colour", value="red", reason="r", **_next(m)),
    ),
    "start the report, by di": (lambda m: ev.ReportStarted(actor="di", **_next(m)),),
    "schedule the post-mortem inviting everyone, by cy": (_schedule(EVERYONE),),
    "schedule the post-mortem inviting only ana, by cy": (_schedule(("ana",)),),
    "lower the priority to P3, by ana": (_priority(Priority.P3),),
    "raise the priority to P1, by ana": (_priority(Priority.P1),),
    "move on along the runbook, by ana": (_move(_onwards, by="ana"),),
    "move on along the runbook, dated at the last stamp, by ana": (
        _move(_onwards, by="ana", at=lambda m: m.last_stamp),
    ),
    "move on along the runbook, dated a minute before the previous move, by ana": (
        _move(_onwards, by="ana", at=lambda m: m.entered_at - MINUTE),
    ),
    "adopt the policy in force, by bo": (_adopt(DEFAULT_POLICY.recorded(), by="bo"),),
    "adopt a policy whose text was edited after its digest, by bo": (
        _adopt(
            attrs.evolve(
                DEFAULT_POLICY.recorded(), content=DEFAULT_POLICY.to_toml() + "# edited\n"
            ),
            by="bo",
        ),
    ),
    "reopen (move to mitigating), by ana": (_move(State.MITIGATING, by="ana"),),
    "dismiss, by ana": (_move(State.DISMISSED, by="ana"),),
    "reopen, by eli": (_move(State.MITIGATING, by="eli"),),
    "dismiss, by eli": (_move(State.DISMISSED, by="eli"),),
    "record a stale declared -> mitigating move, by ana": (
        lambda m: ev.StateChanged(
            actor="ana",
            source=State.DECLARED,
            target=State.MITIGATING,
            message="stale",
            **_next(m),
        ),
    ),
    "note back-dated to just past the precursor window before the start, by eli": (
        lambda m: ev.NoteAdded(
            actor="eli",
            text="late",
            occurred_at=m.began_at - PRECURSOR - MINUTE,
            recorded_at=m.last_stamp + MINUTE,
        ),
    ),
    "note back-dated to the edge of the precursor window, by eli": (
        lambda m: ev.NoteAdded(
            actor="eli",
            text="the config push",
            occurred_at=m.began_at - PRECURSOR,
            recorded_at=m.last_stamp + MINUTE,
        ),
    ),
    "note dated after its stamp, by eli": (
        lambda m: ev.NoteAdded(
            actor="eli",
            text="premonition",
            occurred_at=m.last_stamp + 2 * MINUTE,
            recorded_at=m.last_stamp + MINUTE,
        ),
    ),
    "note stamped before the last event, by eli": (
        lambda m: ev.NoteAdded(
            actor="eli",
            text="clock skew",
            occurred_at=m.last_stamp - MINUTE,
            recorded_at=m.last_stamp - MINUTE,
        ),
    ),
}


# Two Incident Commanders, bo and eli, each running experiments, releasing and handing off the
# role, while the other's experiments run: the interference between ICs, searched exhaustively.
# The alphabet stops at what an experiment's life touches (staffing, experiments, the moves up
# to green and back); the rest of the process is the main alphabet's.
TWO_ICS: Alphabet = {
    "assign Lead to ana, by ana": (_assign(Role.LEAD, "ana", by="ana"),),
    "assign IC to bo, by ana": (_assign(IC, "bo", by="ana"),),
    "assign IC to eli, by ana": (_assign(IC, "eli", by="ana"),),
    "assign Communicator to bo, by ana": (_assign(Role.COMMUNICATOR, "bo", by="ana"),),
    "assign Recorder to di, by ana": ALPHABET["assign Recorder to di, by ana"],
    "release IC bo, by bo": (_release(IC, "bo", by="bo"),),
    "release IC eli, by eli": (_release(IC, "eli", by="eli"),),
    "release IC eli, by bo": (_release(IC, "eli", by="bo"),),
    "release Communicator bo, by bo": (_release(Role.COMMUNICATOR, "bo", by="bo"),),
    "IC bo hands off to eli, by bo": (_hand_off(IC, "bo", "eli", by="bo"),),
    "IC eli hands off to bo, by eli": (_hand_off(IC, "eli", "bo", by="eli"),),
    "start experiment E1 on db, owned by bo, by bo": (_experiment("E1", "bo", by="bo"),),
    "start experiment E2 on api, owned by eli, by eli": (
        _experiment("E2", "eli", by="eli", component="api"),
    ),
    "start experiment E3 on db, owned by eli, by bo": (_experiment("E3", "eli", by="bo"),),
    **{
        f"conclude experiment {key}, by {actor}": (_conclude(key, by=actor),)
        for key, actor in (("E1", "eli"), ("E2", "bo"), ("E3", "ana"))
    },
    "validate, by ana": ALPHABET["validate, by ana"],
    "link ticket, war room and announcement": ALPHABET["link ticket, war room and announcement"],
    "verify recovery, by eli": (
        lambda m: ev.RecoveryVerified(actor="eli", evidence="graphs", **_next(m)),
    ),
    "move on along the runbook, by ana": ALPHABET["move on along the runbook, by ana"],
    "reopen (move to mitigating), by ana": ALPHABET["reopen (move to mitigating), by ana"],
}


# Issue 9's impact timeline and vague action items, along the path to green and past it: the
# impact recorded now, or back-dated to the onset, blocks or allows green at P1 and is refused
# after green unless it came before green.  The rest of the process is the main alphabet's.
IMPACT: Alphabet = {
    **{
        name: ALPHABET[name]
        for name in (
            "assign Lead to ana, by ana",
            "assign IC to bo, by ana",
            "assign Communicator to cy, by ana",
            "assign Recorder to di, by ana",
            "validate, by ana",
            "link ticket, war room and announcement",
            "verify recovery, by bo",
            "verify with the customer, by cy",
            "move on along the runbook, by ana",
            "reopen (move to mitigating), by ana",
        )
    },
    "impact major outage, by cy": (_impact(ImpactLevel.MAJOR_OUTAGE),),
    "impact operational, by cy": (_impact(ImpactLevel.OPERATIONAL),),
    "impact major outage back-dated to the start, by cy": (
        _impact(ImpactLevel.MAJOR_OUTAGE, at=lambda m: m.began_at),
    ),
    "add action A1 with no owner nor due time, by di": (
        lambda m: ev.ActionAdded(
            actor="di",
            action_id="A1",
            description="add a canary",
            owner=None,
            due_at=None,
            kind=ActionKind.PREVENTIVE,
            **_next(m),
        ),
    ),
}


def fingerprint(picture: Picture) -> Picture:
    """The picture without what no rule reads: finished experiments' owners, whys past five."""
    return dataclasses.replace(
        picture,
        experiments=frozenset(
            (key, component, owner if running else "", running)
            for key, component, owner, running in picture.experiments
        ),
        whys=frozenset(
            (chain, min(depth, WHYS_DEPTH), root) for chain, depth, root in picture.whys
        ),
    )


def _fork(incident: Incident) -> Incident:
    """A copy of ``incident`` that shares its immutable records (far cheaper than a replay).

    Relies on ``Incident`` keeping its state in slots holding immutable values, dicts and lists;
    every state the search reaches is compared with a replay of its own history, which proves
    each fork exact.
    """
    twin = object.__new__(Incident)
    for name in Incident.__slots__:
        value = getattr(incident, name)
        if type(value) in (dict, list):
            value = type(value)(value)
        setattr(twin, name, value)
    return twin


Outcome = tuple[str, object]  # ("refused", its rules) or ("accepted", the next fingerprint)

# One in this many commands that lead to a state already seen is replayed in full from the
# incident it produced, to confirm that incident behaves exactly like the state's representative.
DUPLICATE_SAMPLE = 100


@dataclasses.dataclass
class Coverage:
    """What the search saw."""

    states: dict[Priority, set[State]] = dataclasses.field(default_factory=dict)
    taken: set[tuple[State, State]] = dataclasses.field(default_factory=set)
    refused: set[tuple[State, State]] = dataclasses.field(default_factory=set)
    guards_met: set[str] = dataclasses.field(default_factory=set)
    guards_unmet: set[str] = dataclasses.field(default_factory=set)
    rules: set[str] = dataclasses.field(default_factory=set)
    errors: set[str] = dataclasses.field(default_factory=set)
    # How each move along an edge was dated against the previous move, and its outcome.
    move_times: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    distinct_states: int = 0
    transitions: int = 0
    accepted: int = 0
    events_offered: int = 0
    duplicates_checked: int = 0
    depth: int = 0
    seconds: float = 0.0
    roots: dict[Priority, Picture] = dataclasses.field(default_factory=dict)
    seen: set[Picture] = dataclasses.field(default_factory=set)
    outcomes: dict[Picture, tuple[Outcome, ...]] = dataclasses.field(default_factory=dict)

    def summary(self) -> str:
        """One line for the record."""
        return (
            f"{self.distinct_states} distinct states, {self.transitions} transitions "
            f"({self.accepted} accepted, {self.events_offered} events offered), "
            f"{self.duplicates_checked} duplicates re-explored, depth {self.depth}, "
            f"{self.seconds:.1f} s"
        )


def _offer(
    work: Incident, model: Model, event: ev.Event, coverage: Coverage
) -> tuple[str, ...] | None:
    """Offer ``event`` to the library, asserting it does what the model expects.

    Returns the unmet rules of a refusal, or ``None`` when accepted (the caller applies an
    accepted event to a copy of the model).
    """
    coverage.events_offered += 1
    expected = model.unmet(event)
    moving = isinstance(event, ev.StateChanged) and event.source is model.state
    edge = (event.source, event.target) if isinstance(event, ev.StateChanged) else None
    dated = ""
    if moving and edge in EDGES:
        before, after = event.occurred_at < model.entered_at, event.occurred_at > model.entered_at
        dated = "before" if before else "after" if after else "at"
    refusal: CommandRefused | None = None
    try:
        recorded = issue(work, event)
    except CommandRefused as exc:
        refusal = exc
    if refusal is not None:
        assert expected, f"the library refused {event}: {refusal}"
        error = refusal_for(event, expected)
        assert error is type(refusal), f"{event}: {type(refusal).__name__}, expected {error}"
        rules = refusal.rules  # read once: each read builds the tuple afresh
        assert sorted(expected) == sorted(rules), f"{event}: {refusal}"
        coverage.rules.update(rules)
        coverage.errors.add(type(refusal).__name__)
        if moving and edge in EDGES:
            coverage.refused.add(edge)
            coverage.guards_unmet.update(GUARD_NAMES.intersection(rules))
            coverage.move_times.add((dated, "refused"))
        return rules
    assert not expected, f"the library accepted {event}; the model expected {expected}"
    assert recorded == event
    assert codec.loads(codec.dumps(recorded)) == recorded
    if edge is not None:
        coverage.taken.add(edge)
        coverage.guards_met.update(EDGES[edge][1])
        coverage.move_times.add((dated, "accepted"))
    return None


def _run(
    steps: tuple[Build, ...], work: Incident, model: Model, coverage: Coverage
) -> tuple[Model | None, tuple[str, ...]]:
    """Offer the steps of one abstract command: the model after it, or the refusal's rules."""
    first = steps[0](model)
    rules = _offer(work, model, first, coverage)
    if rules is not None:
        return None, rules  # refused at once: the usual case, which needs no copy of the model
    after = model.copy()
    after.apply(first)
    for build in steps[1:]:
        event = build(after)
        assert _offer(work, after, event, coverage) is None, f"{steps} was only partly accepted"
        after.apply(event)
    return after, ()


def _check_state(incident: Incident, model: Model, coverage: Coverage) -> None:
    picture = observe(incident)
    assert model.observe() == picture, "the model and the library disagree"
    check_invariants(incident, replay=True, round_trip=False)
    coverage.states.setdefault(picture.priority, set()).add(picture.state)


def _expand(
    incident: Incident, model: Model, coverage: Coverage, alphabet: Alphabet
) -> Iterator[tuple[Incident, Model, Picture]]:
    """Try every command on ``incident``: yield each accepted one's result and fingerprint.

    Records the outcome of every command as the state's signature.
    """
    outcomes: list[Outcome] = []
    work = _fork(incident)
    for name, steps in alphabet.items():
        coverage.transitions += 1
        after, rules = _run(steps, work, model, coverage)
        if after is None:
            assert work == incident, f"a refused {name} left a trace"
            outcomes.append(("refused", tuple(sorted(rules))))
            continue
        coverage.accepted += 1
        key = fingerprint(after.observe())
        outcomes.append(("accepted", key))
        yield work, after, key
        work = _fork(incident)
    coverage.outcomes[fingerprint(model.observe())] = tuple(outcomes)


def explore(priorities: Iterable[Priority], alphabet: Alphabet = ALPHABET) -> Coverage:
    """Search every sequence of ``alphabet`` from a fresh incident of each priority."""
    started = time.perf_counter()
    coverage = Coverage()
    queue: deque[tuple[Incident, Model, int]] = deque()
    duplicates: list[tuple[Incident, Model]] = []
    for priority in priorities:
        root = Incident.declare(
            "INC-1",
            "Database is down",
            priority,
            actor="ana",
            began=T0 - timedelta(hours=1),
            now=T0,
        )
        model = Model.declare(root.history[0])  # type: ignore[arg-type]
        key = fingerprint(model.observe())
        coverage.roots[priority] = key
        if key not in coverage.seen:
            coverage.seen.add(key)
            queue.append((root, model, 0))
    while queue:
        incident, model, depth = queue.popleft()
        _check_state(incident, model, coverage)
        coverage.depth = max(coverage.depth, depth)
        for child, after, key in _expand(incident, model, coverage, alphabet):
            if key not in coverage.seen:
                coverage.seen.add(key)
                queue.append((child, after, depth + 1))
            elif coverage.accepted % DUPLICATE_SAMPLE == 0:
                duplicates.append((child, after))
    # The dedup argument, tested: a sample of incidents that reached a state already seen
    # (by another path, at another time) behave exactly as that state's representative did.
    scratch = Coverage()
    for child, after in duplicates:
        _check_state(child, after, scratch)
        key = fingerprint(after.observe())
        signature = tuple(_expand(child, after, scratch, alphabet))
        assert len(signature) == sum(1 for kind, _ in coverage.outcomes[key] if kind == "accepted")
        assert coverage.outcomes[key] == scratch.outcomes[key], "same fingerprint, other future"
    coverage.duplicates_checked = len(duplicates)
    coverage.distinct_states = len(coverage.seen)
    coverage.seconds = time.perf_counter() - started
    return coverage


@pytest.fixture(scope="module")
def coverage() -> Coverage:
    """The search from a fresh P1 incident and a fresh P3 one, run once for the module."""
    found = explore([Priority.P1, Priority.P3])
    print(f"\nexploration: {found.summary()}")
    return found


def test_library_and_model_agree_everywhere(coverage: Coverage) -> None:
    """The search ran to the end: at every reached state the library and model agreed."""
    assert coverage.distinct_states == len(coverage.seen) == len(coverage.outcomes) > 1000
    assert coverage.transitions == coverage.distinct_states * len(ALPHABET)


def test_incidents_with_one_fingerprint_have_one_future(coverage: Coverage) -> None:
    """Sampled incidents reaching an already-seen state behaved exactly as its representative."""
    assert coverage.duplicates_checked > 100


def test_every_state_is_reached_at_p1_and_p3(coverage: Coverage) -> None:
    """Every state is reached from a fresh incident, at P1 and at P3."""
    assert set(State) == coverage.states[Priority.P1]
    assert set(State) == coverage.states[Priority.P3]


def test_every_edge_is_taken_and_refused(coverage: Coverage) -> None:
    """Every lifecycle edge is taken somewhere and refused somewhere else."""
    assert set(EDGES) == coverage.taken
    assert set(EDGES) == coverage.refused


def test_every_guard_is_met_and_unmet(coverage: Coverage) -> None:
    """Every guard is met on some accepted move and unmet in some refusal (the impact guard
    in the search along the impact timeline: this alphabet records no impact)."""
    assert GUARD_NAMES == coverage.guards_met
    assert GUARD_NAMES - {"impact_operational"} == coverage.guards_unmet


def test_refusals_cover_the_rules_the_alphabet_can_break(coverage: Coverage) -> None:
    """The alphabet breaks every authorization, state, timing and record rule it can reach."""
    expected = (GUARD_NAMES - {"impact_operational"}) | {
        "authorized",
        "state_allows_command",
        "lifecycle_edge",
        "from_current_state",
        "stamps_in_order",
        "not_in_future",
        "not_before_start",
        "moves_in_order",
        "validated_once",
        "not_already_holder",
        "single_holder",
        "holds_role",
        "experiments_owned",
        "required_role_kept",
        "required_roles_filled",
        "unique_id",
        "owner_is_commander",
        "component_free",
        "known_id",
        "still_open",
        "chain_open",
        "root_cause_depth",
        "window_in_order",
        "correctable_entry",
        "amendable_field",
        "report_once",
        "priority_differs",
        "policy_differs",
        "policy_intact",
    }
    assert expected == coverage.rules
    assert {"NotAuthorized", "TransitionBlocked", "RuleViolated"} == coverage.errors


def test_moves_are_dated_before_at_and_after_the_previous_move(coverage: Coverage) -> None:
    """A move dated before the previous move is refused; one at it, or after it, may go."""
    assert {("before", "refused"), ("at", "accepted"), ("after", "accepted")} <= (
        coverage.move_times
    )
    assert ("before", "accepted") not in coverage.move_times


def test_a_fresh_p3_incident_is_explored_too(coverage: Coverage) -> None:
    """The fresh P3 incident is searched too, and reaches post-mortem without the customer."""
    assert coverage.roots[Priority.P3] in coverage.seen
    p3_done = [
        key
        for key in coverage.seen
        if key.priority is Priority.P3 and key.state is State.POST_MORTEM
    ]
    assert p3_done
    assert any(not key.customer_verified for key in p3_done)


@pytest.fixture(scope="module")
def two_ics() -> Coverage:
    """The search with two Incident Commanders, from a fresh P1 incident and a fresh P3 one."""
    found = explore([Priority.P1, Priority.P3], TWO_ICS)
    print(f"\nexploration with two ICs: {found.summary()}")
    return found


def _outcomes(coverage: Coverage, command: str) -> Iterator[tuple[Picture, Outcome]]:
    """Each explored state with the outcome ``command`` (of TWO_ICS) had there."""
    at = list(TWO_ICS).index(command)
    for key, outcomes in coverage.outcomes.items():
        yield key, outcomes[at]


def _runs(key: Picture, owner: str) -> bool:
    """Whether an experiment owned by ``owner`` is running in state ``key``."""
    return any(running and who == owner for _, _, who, running in key.experiments)


def test_two_ics_library_and_model_agree_everywhere(two_ics: Coverage) -> None:
    """With two ICs the search ran to the end, library and model agreeing at every state."""
    assert two_ics.distinct_states == len(two_ics.outcomes) > 1000
    assert two_ics.transitions == two_ics.distinct_states * len(TWO_ICS)
    assert two_ics.duplicates_checked > 10
    assert {"experiments_owned", "component_free", "owner_is_commander"} <= two_ics.rules


def test_an_ic_leaves_while_the_other_ics_experiment_runs(two_ics: Coverage) -> None:
    """Somewhere bo releases the IC role while eli's experiment runs, and it is accepted."""
    assert any(
        kind == "accepted" and _runs(key, "eli") and not _runs(key, "bo")
        for key, (kind, _) in _outcomes(two_ics, "release IC bo, by bo")
    )


def test_an_ic_with_experiments_may_drop_another_role(two_ics: Coverage) -> None:
    """Somewhere bo, owning a running experiment, releases the Communicator role, accepted."""
    assert any(
        kind == "accepted" and _runs(key, "bo")
        for key, (kind, _) in _outcomes(two_ics, "release Communicator bo, by bo")
    )


def test_releasing_the_other_ic_is_refused_while_their_experiment_runs(
    two_ics: Coverage,
) -> None:
    """bo releasing eli is refused exactly when eli owns a running experiment (and is not last)."""
    seen = {
        (_runs(key, "eli"), kind, outcome if kind == "refused" else ())
        for key, (kind, outcome) in _outcomes(two_ics, "release IC eli, by bo")
        if {"bo", "eli"} <= dict(key.roles)[IC]
    }
    assert {(True, "refused", ("experiments_owned",)), (False, "accepted", ())} == seen


@pytest.fixture(scope="module")
def impact() -> Coverage:
    """The search of :data:`IMPACT` from a fresh P1 incident and a fresh P3 one."""
    return explore([Priority.P1, Priority.P3], IMPACT)


def test_impact_library_and_model_agree_everywhere(impact: Coverage) -> None:
    """Along the impact timeline, library and model agree on every command in every state
    (each offer is checked as the search makes it), and the search gets past green."""
    assert impact.accepted > 0
    assert State.GREEN in impact.states[Priority.P1]
    assert ("yellow", "green") in {(a.value, b.value) for a, b in impact.taken}
    assert "impact_operational" in impact.guards_met & impact.guards_unmet


def test_impact_refusals_cover_its_rules(impact: Coverage) -> None:
    """The impact alphabet breaks the impact rules: operational before green (guard and record
    rule), only what came before green after it, and owner and due time on action items."""
    assert {"impact_operational", "impact_before_green", "action_owner_and_due"} <= impact.rules
