"""The quick check of each event class: it vouches only for events every rule accepts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidentflow import (
    DEFAULT_POLICY,
    ActionKind,
    ChangeOutcome,
    ImpactLevel,
    Incident,
    LinkKind,
    ManualClock,
    Policy,
    Priority,
    ReplayError,
    Role,
    State,
    Verdict,
)
from incidentflow import events as ev
from incidentflow._fold import FOLD
from incidentflow.policy import _quick_check
from incidentflow.testing import events, incidents, policies

IC, LEAD, RECORDER, COMMUNICATOR = (
    Role.INCIDENT_COMMANDER,
    Role.LEAD,
    Role.RECORDER,
    Role.COMMUNICATOR,
)
TICK = timedelta(microseconds=1)


def _staffed_p1(clock: ManualClock) -> Incident:
    """A P1 mitigating, every role held (ana lead, bo IC, cy communicator, di recorder)."""
    i = Incident.declare("INC-1", "Database is down", Priority.P1, actor="ana", clock=clock)
    i.assign(LEAD, "ana", actor="ana")
    i.assign(IC, "bo", actor="ana")
    i.assign(COMMUNICATOR, "cy", actor="ana")
    i.assign(RECORDER, "di", actor="ana")
    i.validate("the primary refuses connections", actor="bo")
    for kind in (LinkKind.TICKET, LinkKind.WAR_ROOM, LinkKind.ANNOUNCEMENT):
        i.link(kind, f"https://example.com/{kind.value}", actor="bo")
    i.mitigate("mitigating", actor="bo")
    return i


def _whole_life(clock: ManualClock) -> Incident:
    """A P1 from declaration to post-mortem with every kind of entry, all at one instant."""
    i = _staffed_p1(clock)
    i.note("the primary is out of disk", actor="di")
    i.post_update("Investigating.", actor="cy")
    experiment = i.start_experiment(
        hypothesis="h", action="a", expected="x", component="db", owner="bo", actor="bo"
    )
    i.conclude_experiment(
        experiment.experiment_id, observed="o", verdict=Verdict.CONFIRMED, actor="ana"
    )
    change = i.log_change(what="grew the disk", where="db", revert="shrink it", actor="bo")
    i.add_factor("no disk alert", actor="di")
    for depth in range(1, 6):
        i.add_why(f"why {depth}", actor="di", root_cause=depth == 5)
    debt = i.open_debt("remove the temporary disk", actor="di")
    i.close_debt(debt.debt_id, actor="di")
    i.record_data_loss("writes of one minute", actor="di")
    i.change_impact(ImpactLevel.OPERATIONAL, actor="cy")
    i.verify_recovery("writes succeed", actor="bo")
    i.announce_yellow("resolved (yellow)", actor="bo")
    i.verify_customer("acme", "works again", actor="cy")
    i.reconcile_change(change.change_id, ChangeOutcome.PERMANENT, actor="di")
    i.announce_green("resolved (green)", actor="bo")
    action = i.add_action(
        "alert on disk", kind=ActionKind.PREVENTIVE, owner="di", due_at=clock.now(), actor="di"
    )
    i.close_action(action.action_id, actor="di")
    i.start_report(actor="di", location="docs/rca")
    i.mark_reported("report started", actor="ana")
    i.schedule_post_mortem(clock.now(), ["ana", "bo", "cy", "di"], actor="ana")
    return i


def _before(incident: Incident, event: ev.Event) -> Incident:
    """The incident as it was just before ``event`` was recorded."""
    history = list(incident.history)
    return Incident.replay(history[: history.index(event)], policy=incident.policy)


def test_every_accepted_event_of_a_whole_life_is_vouched_for(clock: ManualClock) -> None:
    """Each event of a full lifecycle with a quick check passes it, stamps equal to the last's."""
    incident = _whole_life(clock)
    history = list(incident.history)
    vouched = set()
    for number, event in enumerate(history):
        quick = _quick_check(DEFAULT_POLICY, type(event))
        if quick is not None and number:  # the declaration records its policy: in full
            assert quick(Incident.replay(history[:number]), event), event
            vouched.add(type(event).__name__)
    expected = {
        "Validated",
        "Linked",
        "NoteAdded",
        "UpdatePosted",
        "ExperimentStarted",
        "ExperimentConcluded",
        "ChangeLogged",
        "ChangeReconciled",
        "FactorAdded",
        "WhyAnswered",
        "DebtOpened",
        "DebtClosed",
        "DataLossRecorded",
        "ImpactChanged",
        "RecoveryVerified",
        "CustomerVerified",
        "ActionAdded",
        "ActionClosed",
        "ReportStarted",
        "PostMortemScheduled",
        "StateChanged",
        "RoleAssigned",
    }
    assert expected == vouched


@pytest.mark.parametrize(
    "kind",
    [
        ev.PolicyAdopted,
        ev.Amended,
        ev.Retracted,
        ev.Event,
        str,
    ],
)
def test_some_classes_are_always_checked_in_full(kind: Any) -> None:
    """Adoptions, corrections, non-events: no quick check."""
    assert _quick_check(DEFAULT_POLICY, kind) is None


MINUTE = timedelta(minutes=1)


def _declaration(clock: ManualClock, **changes: Any) -> ev.Declared:
    """A declaration in the older form (no policy recorded, no onset of its own: the impact
    began as it was declared, at the clock's time), recorded a minute later, with ``changes``."""
    declared = Incident.declare(
        "INC-1", "Database is down", Priority.P1, actor="ana", clock=clock, at=clock.now()
    ).history[0]
    assert isinstance(declared, ev.Declared)
    stamps = {"occurred_at": clock.now(), "recorded_at": clock.now() + MINUTE, "began": None}
    return attrs.evolve(declared, policy=None, **(stamps | changes))


# Each declaration's rules at their boundaries (written out from the rules, not the code):
# not in the future (occurred_at and detected_at no later than recorded_at) and its milestones
# in order (began <= detected_at <= the declaration's time), equal times allowed.
_DECLARATIONS = [
    ({}, True),
    ({"occurred_at": MINUTE}, True),  # declared as it was recorded
    ({"occurred_at": MINUTE + TICK}, False),  # declared after it was recorded
    ({"began": -MINUTE}, True),
    ({"began": timedelta(0)}, True),  # the impact began as it was declared
    ({"began": TICK}, False),  # began after it was declared
    ({"began": -MINUTE, "detected_at": -MINUTE}, True),  # detected as it began
    ({"began": -MINUTE, "detected_at": timedelta(0)}, True),  # detected as it was declared
    ({"began": -MINUTE, "detected_at": -MINUTE - TICK}, False),  # detected before it began
    ({"began": -MINUTE, "detected_at": TICK}, False),  # detected after it was declared
    ({"detected_at": MINUTE}, True),  # the older form's declaration time is its recording
    ({"detected_at": MINUTE + TICK}, False),  # detected after it was recorded (and declared)
    ({"began": -MINUTE, "occurred_at": MINUTE, "detected_at": MINUTE}, True),
    ({"began": -MINUTE, "occurred_at": MINUTE, "detected_at": MINUTE + TICK}, False),  # future
]


@pytest.mark.parametrize(("changes", "expected"), _DECLARATIONS)
def test_a_declaration_is_vouched_for_only_when_its_rules_hold(
    clock: ManualClock, changes: dict[str, Any], expected: bool
) -> None:
    """The quick check says yes exactly where the full check finds nothing."""
    start = clock.now()
    declared = _declaration(clock, **{k: start + v for k, v in changes.items()})
    assert declared.began is None or "began" in changes
    quick = _quick_check(DEFAULT_POLICY, ev.Declared)
    assert quick is not None
    assert expected == quick(Incident(), declared)
    assert expected == (DEFAULT_POLICY.unmet(Incident(), declared) == ())


def test_a_declaration_recording_its_policy_or_a_second_one_goes_in_full(
    clock: ManualClock,
) -> None:
    """A recorded policy is checked intact and followed by the full check; a second
    declaration breaks ``declared_once``: neither is vouched for."""
    declared = _declaration(clock)
    quick = _quick_check(DEFAULT_POLICY, ev.Declared)
    assert quick is not None
    recording = attrs.evolve(declared, policy=DEFAULT_POLICY.recorded())
    assert not quick(Incident(), recording)
    assert () == DEFAULT_POLICY.unmet(Incident(), recording)
    once = Incident.replay([declared])
    assert not quick(once, declared)
    assert ("declared_once",) == tuple(u.rule for u in DEFAULT_POLICY.unmet(once, declared))


def test_a_replayed_declaration_is_folded_by_its_step(clock: ManualClock) -> None:
    """The replay step of a declaration folds it in: the incident is declared by it."""
    declared = _declaration(clock)
    step = _quick_check(DEFAULT_POLICY, ev.Declared, fold=FOLD[ev.Declared])
    assert step is not None
    incident = Incident()
    assert step(incident, declared)
    assert (1, "INC-1", Priority.P1, declared) == (
        incident.version,
        incident.id,
        incident.priority,
        incident.history[0],
    )


def _note(incident: Incident, **changes: Any) -> tuple[Incident, ev.NoteAdded]:
    note = incident.note("the disk is full", actor="di")
    return _before(incident, note), attrs.evolve(note, **changes)


def _shifted(incident: Incident, field: str, by: timedelta) -> tuple[Incident, ev.Event]:
    note = incident.note("the disk is full", actor="di")
    return _before(incident, note), attrs.evolve(note, **{field: getattr(note, field) + by})


@pytest.mark.parametrize(
    ("field", "by", "expected"),
    [
        ("recorded_at", -TICK, False),  # before the last stamp
        ("occurred_at", TICK, False),  # after its own stamp
        ("occurred_at", -TICK, False),  # before the onset: a precursor, left to the full check
        ("occurred_at", timedelta(0), True),
    ],
)
def test_a_stamp_out_of_order_is_left_to_the_full_check(
    clock: ManualClock, field: str, by: timedelta, expected: bool
) -> None:
    """Stamps equal to the last stamp, the onset and each other pass; a microsecond off does not."""
    before, note = _shifted(_staffed_p1(clock), field, by)
    assert expected == _quick_check(DEFAULT_POLICY, ev.NoteAdded)(before, note)  # type: ignore[misc]


def test_the_precursor_left_to_the_full_check_is_accepted_there(clock: ManualClock) -> None:
    """A note dated before the onset fails the quick check but breaks no rule."""
    before, note = _shifted(_staffed_p1(clock), "occurred_at", -timedelta(days=1))
    assert not _quick_check(DEFAULT_POLICY, ev.NoteAdded)(before, note)  # type: ignore[misc]
    assert () == DEFAULT_POLICY.unmet(before, note)


def test_an_undeclared_incident_is_left_to_the_full_check(clock: ManualClock) -> None:
    """Nothing is vouched for before the declaration."""
    _, note = _note(_staffed_p1(clock))
    assert not _quick_check(DEFAULT_POLICY, ev.NoteAdded)(Incident(), note)  # type: ignore[misc]


def test_a_command_the_state_does_not_allow_is_left_to_the_full_check(clock: ManualClock) -> None:
    """An experiment started once the incident is yellow is not vouched for."""
    incident = _staffed_p1(clock)
    started = incident.start_experiment(
        hypothesis="h", action="a", expected="x", component="db", owner="bo", actor="bo"
    )
    before = _before(incident, started)
    quick = _quick_check(DEFAULT_POLICY, ev.ExperimentStarted)
    assert quick is not None
    assert quick(before, started)
    incident.conclude_experiment(
        started.experiment_id, observed="o", verdict=Verdict.REFUTED, actor="bo"
    )
    incident.verify_recovery("fine", actor="bo")
    incident.announce_yellow("resolved (yellow)", actor="bo")
    late = attrs.evolve(started, experiment_id="E-late")
    assert not quick(incident, late)
    assert ("state_allows_command",) == tuple(u.rule for u in DEFAULT_POLICY.unmet(incident, late))


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("cy", True), ("bo", True), ("ana", False), ("zed", False)],
)
def test_each_allowed_role_vouches_for_its_holder(
    clock: ManualClock, actor: str, expected: bool
) -> None:
    """An update is vouched for from the communicator or the IC; anyone else goes in full."""
    incident = _staffed_p1(clock)
    update = incident.post_update("Investigating.", actor="cy")
    before = _before(incident, update)
    quick = _quick_check(DEFAULT_POLICY, ev.UpdatePosted)
    assert quick is not None
    assert expected == quick(before, attrs.evolve(update, actor=actor))


def test_a_command_anyone_may_issue_is_vouched_for_from_anyone(clock: ManualClock) -> None:
    """A note (``note`` open to anyone) from a stranger is vouched for."""
    before, note = _note(_staffed_p1(clock), actor="zed")
    assert _quick_check(DEFAULT_POLICY, ev.NoteAdded)(before, note)  # type: ignore[misc]


@pytest.mark.parametrize("kind", [ev.DebtOpened, ev.ReportStarted])
def test_a_record_rule_that_finds_something_is_left_to_the_full_check(
    clock: ManualClock, kind: type[ev.Event]
) -> None:
    """The same debt opened (a rule returning a list) or report started (a generator) twice."""
    history = list(_whole_life(clock).history)
    number = next(n for n, e in enumerate(history) if isinstance(e, kind))
    quick = _quick_check(DEFAULT_POLICY, kind)
    assert quick is not None
    assert quick(Incident.replay(history[:number]), history[number])
    assert not quick(Incident.replay(history[: number + 1]), history[number])


def _move(clock: ManualClock) -> tuple[Incident, ev.StateChanged]:
    """The move to mitigating of a staffed P1, and the incident just before it."""
    incident = _staffed_p1(clock)
    move = incident.history[-1]
    assert isinstance(move, ev.StateChanged)
    return _before(incident, move), move


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, True),
        ({"actor": "bo"}, True),  # the IC
        ({"actor": "cy"}, False),  # the communicator may not mitigate
        ({"occurred_at": -TICK}, False),  # before the previous move (the declaration)
        ({"recorded_at": -TICK}, False),  # before the last stamp
        ({"occurred_at": TICK}, False),  # after its own stamp
        ({"source": State.MITIGATING}, False),  # not from the current state
        ({"target": State.GREEN}, False),  # no such edge
    ],
)
def test_a_move_is_vouched_for_only_when_every_rule_holds(
    clock: ManualClock, changes: dict[str, Any], expected: bool
) -> None:
    """The move's trigger decides who may; stamps, the previous move and the edge are checked."""
    before, move = _move(clock)
    shifted = {
        k: getattr(move, k) + v if isinstance(v, timedelta) else v for k, v in changes.items()
    }
    quick = _quick_check(DEFAULT_POLICY, ev.StateChanged)
    assert quick is not None
    assert expected == quick(before, attrs.evolve(move, **shifted))


def test_a_move_whose_guard_fails_is_left_to_the_full_check(clock: ManualClock) -> None:
    """Without its validation, the move to mitigating is not vouched for."""
    before, move = _move(clock)
    history = [e for e in before.history if not isinstance(e, ev.Validated)]
    unvalidated = Incident.replay(history)
    quick = _quick_check(DEFAULT_POLICY, ev.StateChanged)
    assert quick is not None
    assert not quick(unvalidated, move)
    assert ("validated",) == tuple(u.rule for u in DEFAULT_POLICY.unmet(unvalidated, move))


def test_a_move_open_to_anyone_is_vouched_for_from_anyone(clock: ManualClock) -> None:
    """Under a policy with no entry for ``mitigate``, a stranger's move passes."""
    before, move = _move(clock)
    policy = Policy.permissive()
    quick = _quick_check(policy, ev.StateChanged)
    assert quick is not None
    assert quick(before, attrs.evolve(move, actor="zed"))


def test_a_replay_step_folds_what_it_vouches_for(clock: ManualClock) -> None:
    """With ``fold``, an event vouched for is folded in and appended; another changes nothing."""
    before, note = _note(_staffed_p1(clock))
    step = _quick_check(DEFAULT_POLICY, ev.NoteAdded, fold=FOLD[ev.NoteAdded])
    assert step is not None
    late = attrs.evolve(note, occurred_at=note.recorded_at + TICK)
    version = before.version
    assert not step(before, late)
    assert (version, ()) == (before.version, before.notes)
    assert step(before, note)
    assert (version + 1, (note,), note) == (before.version, before.notes, before.history[-1])


def test_the_quick_checks_are_made_once_per_policy_and_class(clock: ManualClock) -> None:
    """Checking two notes under a new policy makes one quick check for the class."""
    policy = attrs.evolve(DEFAULT_POLICY, name="fresh")
    incident = Incident.declare("INC-1", "t", Priority.P3, actor="ana", policy=policy, clock=clock)
    incident.note("one", actor="ana")
    made = policy._quick[ev.NoteAdded]
    incident.note("two", actor="ana")
    assert made is policy._quick[ev.NoteAdded]
    assert policy._quick[ev.Declared] is not None  # the declaration was checked too


# -- the quick path against the full one ---------------------------------------------------------


def _in_full(history: list[ev.Event], policy: Policy) -> Incident | tuple[Any, ...]:
    """Replay with every event checked in full: the incident, or where and why it stops."""
    incident = Incident(policy=policy)
    for index, event in enumerate(history):
        unmet = incident.policy._unmet_in_full(incident, event)
        if unmet:
            return (index, tuple(u.rule for u in unmet), "; ".join(u.detail for u in unmet), unmet)
        FOLD[type(event)](incident, event)
        incident._events.append(event)
    return incident


@st.composite
def _histories(draw: Any) -> tuple[list[ev.Event], Policy]:
    """A reachable history, possibly broken: an event dropped, swapped, changed or added."""
    policy = draw(st.one_of(st.just(DEFAULT_POLICY), policies()))
    history = list(draw(incidents(policy=policy, max_steps=30)).history)
    where = draw(st.integers(0, len(history) - 1))
    if draw(st.booleans()):  # as written before incidents recorded their policy
        history[0] = attrs.evolve(history[0], policy=None)
    change = draw(st.sampled_from(["none", "drop", "swap", "actor", "late", "insert"]))
    if change == "drop" and where:
        del history[where]
    elif change == "swap" and where + 1 < len(history):
        history[where], history[where + 1] = history[where + 1], history[where]
    elif change == "actor":
        actor = draw(st.sampled_from(["ana", "bo", "cy", "di", "zed"]))
        history[where] = attrs.evolve(history[where], actor=actor)
    elif change == "late":
        shift = draw(st.sampled_from([-TICK, TICK, timedelta(days=-31)]))
        event = history[where]
        history[where] = attrs.evolve(event, occurred_at=event.occurred_at + shift)
    elif change == "insert":
        history.insert(where + 1, draw(events()))
    return history, policy


@given(_histories())
def test_replay_gives_what_checking_every_event_in_full_gives(
    drawn: tuple[list[ev.Event], Policy],
) -> None:
    """The same incident, or the same ReplayError (index, rules, detail, unmet), as in full."""
    history, policy = drawn
    expected = _in_full(history, policy)
    try:
        actual: Incident | tuple[Any, ...] = Incident.replay(history, policy=policy)
    except ReplayError as error:
        actual = (error.index, error.rules, error.detail, error.unmet)
    assert expected == actual


@given(_histories())
def test_an_event_vouched_for_breaks_no_rule(drawn: tuple[list[ev.Event], Policy]) -> None:
    """Whenever a quick check says yes, the full check finds nothing."""
    history, policy = drawn
    incident = Incident(policy=policy)
    for event in history:
        quick = _quick_check(incident.policy, type(event))
        unmet = incident.policy._unmet_in_full(incident, event)
        if quick is not None and quick(incident, event):
            assert () == unmet
        if unmet:
            break
        FOLD[type(event)](incident, event)
        incident._events.append(event)


def _unstaffed(
    clock: ManualClock, recorder: str | None, open_when_unstaffed: bool, open_to: str
) -> tuple[Policy, Incident]:
    """A P2 mitigating with bo as IC (and ``recorder``) under a policy that gives the note and
    the move to mitigating to the Recorder alone, and the incident just before the move."""
    restricted = frozenset({RECORDER})
    policy = Policy(
        authorization={"note": restricted, "mitigate": restricted},
        open_when_unstaffed=open_when_unstaffed,
        unstaffed_open_to=open_to,
    )
    i = Incident.declare("INC-1", "Slow", Priority.P2, actor="ana", clock=clock, policy=policy)
    i.assign(IC, "bo", actor="ana")
    if recorder is not None:
        i.assign(RECORDER, recorder, actor="bo")
    i.validate("p99 at 4 s", actor="bo")
    i.link(LinkKind.TICKET, "https://example.com/ticket", actor="bo")
    return policy, i


# Who may note, or move to mitigating, when only the Recorder may (the expected answers are the
# policy's documented rule, written out: the table decides, and while nobody holds an allowed
# role the command is open to anyone, or to the staff, unless the policy closes it).
_UNSTAFFED = [
    (None, True, "anyone", "bo", True),  # nobody is the Recorder: open to anyone
    (None, True, "anyone", "zed", True),
    (None, True, "staff", "bo", True),  # open to the staff: bo is the IC ...
    (None, True, "staff", "zed", False),  # ... zed holds no role
    (None, False, "anyone", "bo", False),  # closed while nobody holds an allowed role
    ("di", True, "anyone", "bo", False),  # di is the Recorder: only di may
    ("di", True, "anyone", "di", True),
]


@pytest.mark.parametrize(("recorder", "opened", "open_to", "actor", "expected"), _UNSTAFFED)
def test_a_command_whose_roles_nobody_holds_is_vouched_for_as_the_policy_opens_it(
    clock: ManualClock, recorder: str | None, opened: bool, open_to: str, actor: str, expected: bool
) -> None:
    """A note is vouched for when the policy lets ``actor`` note; else the full check refuses."""
    policy, incident = _unstaffed(clock, recorder, opened, open_to)
    note = ev.NoteAdded(actor=actor, occurred_at=clock.now(), recorded_at=clock.now(), text="seen")
    quick = _quick_check(policy, ev.NoteAdded)
    assert quick is not None
    assert expected == quick(incident, note)
    unmet = () if expected else ("authorized",)
    assert unmet == tuple(u.rule for u in policy.unmet(incident, note))


@pytest.mark.parametrize(("recorder", "opened", "open_to", "actor", "expected"), _UNSTAFFED)
def test_a_move_whose_roles_nobody_holds_is_vouched_for_as_the_policy_opens_it(
    clock: ManualClock, recorder: str | None, opened: bool, open_to: str, actor: str, expected: bool
) -> None:
    """The move to mitigating likewise: its trigger's roles, or the policy's opening, decide."""
    policy, incident = _unstaffed(clock, recorder, opened, open_to)
    move = ev.StateChanged(
        actor=actor,
        occurred_at=clock.now(),
        recorded_at=clock.now(),
        source=State.DECLARED,
        target=State.MITIGATING,
        message="mitigating",
    )
    quick = _quick_check(policy, ev.StateChanged)
    assert quick is not None
    assert expected == quick(incident, move)
    unmet = () if expected else ("authorized",)
    assert unmet == tuple(u.rule for u in policy.unmet(incident, move))


# Who may staff (the expected answers are the documented rules, written out): while nobody holds
# a role anyone may assign one; then only a holder of a role the table allows (IC or Lead), and a
# holder handing off or releasing their own role, which the quick check leaves to the full one.
# "staffed" is _staffed_p1 (ana Lead, bo IC, cy Communicator, di Recorder); "two ICs" adds eve.
_STAFFING_CASES = [
    ("unstaffed", ev.RoleAssigned, "zed", {"role": IC, "holder": "bo"}, True, ()),
    ("staffed", ev.RoleAssigned, "ana", {"role": IC, "holder": "eve"}, True, ()),  # the Lead
    ("staffed", ev.RoleAssigned, "bo", {"role": IC, "holder": "eve"}, True, ()),  # the IC
    ("staffed", ev.RoleAssigned, "zed", {"role": IC, "holder": "eve"}, False, ("authorized",)),
    ("staffed", ev.RoleAssigned, "cy", {"role": IC, "holder": "eve"}, False, ("authorized",)),
    ("staffed", ev.RoleAssigned, "ana", {"role": IC, "holder": "bo"}, False,
     ("not_already_holder",)),
    ("staffed", ev.RoleAssigned, "ana", {"role": RECORDER, "holder": "eve"}, False,
     ("single_holder",)),
    ("staffed", ev.RoleHandedOff, "ana",
     {"role": COMMUNICATOR, "from_holder": "cy", "to_holder": "eve"}, True, ()),
    ("staffed", ev.RoleHandedOff, "cy",
     {"role": COMMUNICATOR, "from_holder": "cy", "to_holder": "eve"}, False, ()),  # one's own
    ("staffed", ev.RoleHandedOff, "di",
     {"role": COMMUNICATOR, "from_holder": "cy", "to_holder": "eve"}, False, ("authorized",)),
    ("two ICs", ev.RoleReleased, "ana", {"role": IC, "holder": "eve"}, True, ()),
    ("two ICs", ev.RoleReleased, "eve", {"role": IC, "holder": "eve"}, True, ()),  # an IC may
    ("two ICs", ev.RoleReleased, "di", {"role": IC, "holder": "eve"}, False, ("authorized",)),
]  # fmt: skip


@pytest.mark.parametrize(("setup", "kind", "actor", "fields", "vouched", "unmet"), _STAFFING_CASES)
def test_staffing_is_vouched_for_as_the_policy_authorizes_it(
    clock: ManualClock,
    setup: str,
    kind: type[ev.Event],
    actor: str,
    fields: dict[str, Any],
    vouched: bool,
    unmet: tuple[str, ...],
) -> None:
    """A staffing event is vouched for only when its actor may staff and its rule holds."""
    if setup == "unstaffed":
        incident = Incident.declare("INC-1", "Down", Priority.P1, actor="ana", clock=clock)
    else:
        incident = _staffed_p1(clock)
        if setup == "two ICs":
            incident.assign(IC, "eve", actor="ana")
    now = clock.now()
    event = kind(actor=actor, occurred_at=now, recorded_at=now, **fields)
    quick = _quick_check(DEFAULT_POLICY, kind)
    assert quick is not None
    assert vouched == quick(incident, event)
    assert unmet == tuple(u.rule for u in DEFAULT_POLICY.unmet(incident, event))
