"""The error tree: one root, honest builtin bases, refusals that carry every unmet rule."""

from __future__ import annotations

import pickle
import re

import pytest

import incidentflow.errors as errors
import incidentflow.events as ev
from incidentflow import (
    CommandRefused,
    DecodeError,
    Incident,
    IncidentFlowError,
    InvalidInput,
    ManualClock,
    NotAuthorized,
    PolicyError,
    Priority,
    ReplayError,
    Role,
    RuleViolated,
    State,
    TransitionBlocked,
    Unmet,
)
from incidentflow.policy import RULES

ERRORS = [getattr(errors, name) for name in errors.__all__]

# The tree, written out by hand: each error and the library error it directly extends.
EXPECTED_PARENTS = {
    PolicyError: IncidentFlowError,
    InvalidInput: IncidentFlowError,
    DecodeError: InvalidInput,
    errors.SinkConfigError: InvalidInput,
    errors.DeliveryFailed: IncidentFlowError,
    errors.DispatcherRunning: errors.StoreBusy,
    CommandRefused: IncidentFlowError,
    NotAuthorized: CommandRefused,
    TransitionBlocked: CommandRefused,
    RuleViolated: CommandRefused,
    ReplayError: IncidentFlowError,
    errors.NotReady: IncidentFlowError,
    errors.MissingExtra: IncidentFlowError,
    errors.StoreError: IncidentFlowError,
    errors.Conflict: errors.StoreError,
    errors.AlreadyExists: errors.Conflict,
    errors.CheckpointConflict: errors.Conflict,
    errors.NotFound: errors.StoreError,
    errors.Tampered: errors.StoreError,
    errors.InvalidHistory: errors.StoreError,
    errors.StoreUnavailable: errors.StoreError,
    errors.StoreBusy: errors.StoreUnavailable,
}

UNMET = (
    Unmet("validated", "the problem has not been validated"),
    Unmet("required_links", "missing ticket"),
    Unmet("required_roles", "no lead"),
)


def _library_parent(kind: type[BaseException]) -> type[BaseException]:
    (parent,) = [b for b in kind.__bases__ if issubclass(b, IncidentFlowError)]
    return parent


@pytest.mark.parametrize("kind", ERRORS, ids=lambda k: k.__name__)
def test_every_error_is_an_incidentflow_error(kind: type[Exception]) -> None:
    """Catching IncidentFlowError catches every error the library raises on purpose."""
    assert issubclass(kind, IncidentFlowError)


def test_tree_is_as_documented() -> None:
    """Each error extends the library error the tree says it does."""
    assert set(EXPECTED_PARENTS) | {IncidentFlowError} == set(ERRORS)
    assert EXPECTED_PARENTS == {k: _library_parent(k) for k in EXPECTED_PARENTS}


def test_docstring_draws_the_real_tree() -> None:
    """The tree drawn in errors.py's docstring matches the class hierarchy."""
    drawn: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.search(r"[A-Z][A-Za-z]+", line)
        if not match or match.group() not in errors.__all__:
            continue
        if set(line[: match.start()]) - set(" │├└─"):
            continue  # prose mentioning an error, not a line of the tree
        depth, name = match.start(), match.group()
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            drawn[name] = stack[-1][1]
        stack.append((depth, name))
    expected = {k.__name__: v.__name__ for k, v in EXPECTED_PARENTS.items()}
    assert expected == drawn


@pytest.mark.parametrize("kind", [PolicyError, InvalidInput, DecodeError], ids=lambda k: k.__name__)
def test_input_errors_are_value_errors(kind: type[Exception]) -> None:
    """Bad definitions and bad values are also ValueErrors, as Python code expects."""
    assert issubclass(kind, ValueError)


@pytest.mark.parametrize(
    "kind",
    [
        IncidentFlowError,
        CommandRefused,
        NotAuthorized,
        TransitionBlocked,
        RuleViolated,
        ReplayError,
    ],
    ids=lambda k: k.__name__,
)
def test_refusals_are_not_value_errors(kind: type[Exception]) -> None:
    """A refusal of a well-formed command is not a bad value, so it is not a ValueError."""
    assert not issubclass(kind, ValueError)


def test_decode_error_is_invalid_input() -> None:
    """Code catching InvalidInput also catches undecodable events."""
    assert issubclass(DecodeError, InvalidInput)


@pytest.mark.parametrize(
    "kind", [CommandRefused, NotAuthorized, RuleViolated], ids=lambda k: k.__name__
)
def test_command_refused_lists_every_unmet_rule(kind: type[CommandRefused]) -> None:
    """The message names the incident, state, command and every unmet rule with its detail."""
    error = kind(incident_id="INC-7", state="declared", command="mitigate", unmet=UNMET)
    message = str(error)
    assert message.startswith("INC-7 (declared): mitigate refused")
    for u in UNMET:
        assert f"{u.rule}: {u.detail}" in message
    positions = [message.index(u.rule) for u in UNMET]
    assert sorted(positions) == positions


@pytest.mark.parametrize(
    "kind", [CommandRefused, NotAuthorized, RuleViolated], ids=lambda k: k.__name__
)
def test_command_refused_carries_its_parts(kind: type[CommandRefused]) -> None:
    """A refusal keeps the incident id, state, command, unmet rules and their names."""
    error = kind(incident_id="INC-7", state="declared", command="mitigate", unmet=UNMET)
    assert ("INC-7", "declared", "mitigate") == (error.incident_id, error.state, error.command)
    assert UNMET == error.unmet
    assert ("validated", "required_links", "required_roles") == error.rules


def test_transition_blocked_carries_its_target() -> None:
    """A blocked transition also says where it was going."""
    error = TransitionBlocked(
        incident_id="INC-7", state="declared", command="mitigate", target="mitigating", unmet=UNMET
    )
    assert "mitigating" == error.target
    assert ("validated", "required_links", "required_roles") == error.rules
    assert "required_roles: no lead" in str(error)


def test_replay_error_carries_index_rules_and_detail() -> None:
    """A replay error keeps the 0-based index, and numbers the event from 1 as the store does."""
    error = ReplayError(index=3, rules=("declared_once", "authorized"), detail="already declared")
    assert (3, 4, ("declared_once", "authorized"), "already declared") == (
        error.index,
        error.version,
        error.rules,
        error.detail,
    )
    assert "event 4 breaks declared_once, authorized: already declared" == str(error)


def test_replay_error_numbers_the_first_event_one() -> None:
    """The first event of a history is event 1 in the message, index 0 in the attribute."""
    error = ReplayError(index=0, rules=("declared_first",), detail="the history is empty")
    assert (0, 1) == (error.index, error.version)
    assert str(error).startswith("event 1 breaks declared_first")


# -- as the incident raises them ---------------------------------------------------------


def test_blocked_move_lists_all_guards(clock: ManualClock) -> None:
    """Mitigating a fresh P1 incident is blocked by all three of its guards at once."""
    incident = Incident.declare("INC-1", "Database is down", Priority.P1, actor="ana", clock=clock)
    with pytest.raises(TransitionBlocked) as info:
        incident.mitigate("go", actor="ana")
    error = info.value
    assert ("validated", "required_links", "required_roles") == error.rules
    assert ("INC-1", "declared", "mitigating") == (error.incident_id, error.state, error.target)
    assert all(rule in RULES for rule in error.rules)


def test_not_authorized_names_the_actor(clock: ManualClock) -> None:
    """A command by someone without an allowed role says who and which roles."""
    incident = Incident.declare("INC-1", "Database is down", Priority.P1, actor="ana", clock=clock)
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    with pytest.raises(NotAuthorized) as info:
        incident.validate("seen on dashboards", actor="zed")
    assert ("authorized",) == info.value.rules
    assert "zed" in str(info.value)


def test_rule_violated_for_a_second_lead(clock: ManualClock) -> None:
    """Assigning a second Lead breaks single_holder."""
    incident = Incident.declare("INC-1", "Database is down", Priority.P1, actor="ana", clock=clock)
    incident.assign(Role.LEAD, "ana", actor="ana")
    with pytest.raises(RuleViolated) as info:
        incident.assign(Role.LEAD, "bo", actor="ana")
    assert ("single_holder",) == info.value.rules


def test_replay_error_points_at_the_bad_event(clock: ManualClock) -> None:
    """Replaying a history with a second declaration fails at index 1 with declared_once."""
    incident = Incident.declare("INC-1", "Database is down", Priority.P1, actor="ana", clock=clock)
    first = incident.history[0]
    with pytest.raises(ReplayError) as info:
        Incident.replay([first, first])
    assert (1, ("declared_once",)) == (info.value.index, info.value.rules)


def test_replay_of_a_history_not_starting_with_declared(clock: ManualClock) -> None:
    """A history that does not begin with Declared fails at index 0."""
    now = clock.now()
    note = ev.NoteAdded(actor="ana", occurred_at=now, recorded_at=now, text="t")
    with pytest.raises(ReplayError) as info:
        Incident.replay([note])
    assert (0, ("declared_first",)) == (info.value.index, info.value.rules)


def test_refused_move_to_a_non_neighbour(clock: ManualClock) -> None:
    """Moving along a non-edge is a TransitionBlocked naming the lifecycle_edge rule."""
    incident = Incident.declare("INC-1", "Database is down", Priority.P1, actor="ana", clock=clock)
    with pytest.raises(TransitionBlocked) as info:
        incident.move(State.GREEN, message="skip ahead", actor="ana")
    assert "lifecycle_edge" in info.value.rules


@pytest.mark.parametrize(
    "error",
    [
        RuleViolated(
            incident_id="INC-1",
            state="mitigating",
            command="assign",
            unmet=(Unmet("single_holder", "lead is held by ana"),),
        ),
        NotAuthorized(
            incident_id="INC-1",
            state="declared",
            command="post_update",
            unmet=(Unmet("authorized", "di must hold communicator"),),
        ),
        TransitionBlocked(
            incident_id="INC-1",
            state="declared",
            command="mitigate",
            target="mitigating",
            unmet=(Unmet("validated", "not validated"), Unmet("required_links", "no ticket")),
        ),
        ReplayError(index=4, rules=("stamps_in_order",), detail="recorded before event 3"),
        errors.Conflict(incident_id="INC-1", expected=2, actual=3),
        errors.NotFound(incident_id="INC-9"),
        errors.NotFound(incident_id="INC-9", store="incidents.db"),
        errors.AlreadyExists(incident_id="INC-1", actual=4),
        errors.CheckpointConflict(name="pager", position=3, current=7),
        errors.Tampered(incident_id="INC-1", version=2, reason="changed: bad hash"),
        errors.Tampered(incident_id="INC-1", version=2, reason="does not decode", position=9),
        errors.InvalidHistory(
            incident_id="INC-1", version=5, unmet=(Unmet("stamps_in_order", "too early"),)
        ),
        errors.InvalidHistory(incident_id="INC-1", version=2, unmet=(), detail="x", stored=False),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_survive_pickling(error: Exception) -> None:
    """Refusals and replay errors cross process boundaries whole (task queues, workers)."""
    copy = pickle.loads(pickle.dumps(error))
    assert type(error) is type(copy)
    assert str(error) == str(copy)
    assert vars(error) == vars(copy)


def test_invalid_history_says_where_and_why_in_one_base() -> None:
    """InvalidHistory names the incident, the 1-based version and every unmet rule."""
    stored = errors.InvalidHistory(
        incident_id="INC-1",
        version=5,
        unmet=(Unmet("stamps_in_order", "too early"), Unmet("validated", "not validated")),
    )
    refused = errors.InvalidHistory(
        incident_id="INC-1", version=6, unmet=(), detail="not an event", stored=False
    )
    assert (
        "INC-1: stored event 5 breaks the rules: stamps_in_order: too early; validated: not "
        "validated",
        ("stamps_in_order", "validated"),
        "INC-1: event 6 would break the rules, nothing written: not an event",
    ) == (str(stored), stored.rules, str(refused))


def test_already_exists_is_a_conflict_at_version_zero() -> None:
    """AlreadyExists is caught as a Conflict whose expected version is 0."""
    error = errors.AlreadyExists(incident_id="INC-1", actual=3)
    assert (0, 3, "INC-1 already exists (version 3); choose another id") == (
        error.expected,
        error.actual,
        str(error),
    )
