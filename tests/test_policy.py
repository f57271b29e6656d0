"""The policy: defaults, TOML, presets, custom rules, and the documentation of every rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
from hypothesis import given

from incidentflow import (
    DEFAULT_POLICY,
    ActionKind,
    ChangeOutcome,
    CommandRefused,
    Declared,
    ImpactLevel,
    Incident,
    LinkKind,
    ManualClock,
    NotAuthorized,
    Policy,
    PolicyAdopted,
    PolicyError,
    Priority,
    PriorityRules,
    ReplayError,
    Role,
    State,
    StateChanged,
    Unmet,
    Verdict,
    WhyAnswered,
)
from incidentflow import corrections as corrections_module
from incidentflow import incident as incident_module
from incidentflow import policy as policy_module
from incidentflow.lifecycle import EDGES
from incidentflow.policy import (
    COMMAND_STATES,
    COMMANDS,
    DURATION_BOUNDS,
    GUARDS,
    MAX_WHYS_DEPTH,
    RULES,
)
from incidentflow.testing import policies
from refusals import refused

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
ALL_ROLES = frozenset(Role)
MAJOR_LINKS = frozenset({LinkKind.TICKET, LinkKind.WAR_ROOM, LinkKind.ANNOUNCEMENT})
IC = frozenset({Role.INCIDENT_COMMANDER})


# -- defaults --------------------------------------------------------------------------------


def test_default_update_cadences_sit_in_the_runbooks_window() -> None:
    """P0 every 15, P1 every 30, P2 and P3 every 45 minutes: all within the 15–45 window."""
    cadences = {p: DEFAULT_POLICY.rules_for(p).update_every for p in Priority}
    minutes = timedelta(minutes=1)
    assert {
        Priority.P0: 15 * minutes,
        Priority.P1: 30 * minutes,
        Priority.P2: 45 * minutes,
        Priority.P3: 45 * minutes,
    } == cadences
    assert all(15 * minutes <= c <= 45 * minutes for c in cadences.values())


def test_default_links_roles_and_verification_per_priority() -> None:
    """Major incidents need every role and the war room; minor ones a ticket and an IC."""
    expected = {
        Priority.P0: (MAJOR_LINKS, ALL_ROLES, True, ALL_ROLES),
        Priority.P1: (MAJOR_LINKS, ALL_ROLES, True, ALL_ROLES),
        Priority.P2: (frozenset({LinkKind.TICKET}), IC, True, IC),
        Priority.P3: (frozenset({LinkKind.TICKET}), IC, False, IC),
    }
    actual = {
        p: (r.required_links, r.required_roles, r.customer_verification, r.invite_roles)
        for p, r in DEFAULT_POLICY.priorities.items()
    }
    assert expected == actual


def test_default_scalars() -> None:
    """Five whys and open when unstaffed."""
    assert (5, True) == (DEFAULT_POLICY.whys_depth, DEFAULT_POLICY.open_when_unstaffed)
    assert Policy() == DEFAULT_POLICY


def test_default_post_mortem_deadlines_tighten_with_priority() -> None:
    """The post-mortem meeting is owed within 2, 3, 5 and 10 days of green for P0 to P3."""
    expected = {Priority.P0: 2, Priority.P1: 3, Priority.P2: 5, Priority.P3: 10}
    actual = {p: DEFAULT_POLICY.rules_for(p).post_mortem_within.days for p in Priority}
    assert expected == actual


def test_default_authorization_follows_the_roles() -> None:
    """Updates are the Communicator's (or an IC's); experiments an IC's; notes anyone's."""
    auth = DEFAULT_POLICY.authorization
    assert frozenset({Role.COMMUNICATOR, Role.INCIDENT_COMMANDER}) == auth["post_update"]
    assert auth["start_experiment"] == IC
    assert None is auth["note"]
    assert frozenset({Role.LEAD, Role.INCIDENT_COMMANDER}) == auth["announce_green"]
    assert list(COMMANDS) == list(auth)


def test_authorization_table_is_completed_with_anyone() -> None:
    """A command missing from the table may be issued by anyone."""
    policy = Policy(authorization={"mitigate": frozenset({Role.LEAD})})
    assert frozenset({Role.LEAD}) == policy.allowed_roles("mitigate")
    assert None is policy.allowed_roles("validate")
    assert set(COMMANDS) == set(policy.authorization)


# -- TOML ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy", [DEFAULT_POLICY, Policy.permissive()], ids=["default", "permissive"]
)
def test_toml_round_trip(policy: Policy) -> None:
    """to_toml then from_toml gives back an equal policy."""
    assert policy == Policy.from_toml(policy.to_toml())


@given(policies())
def test_toml_round_trip_of_any_policy(policy: Policy) -> None:
    """Every valid policy survives a TOML round trip, over any base."""
    text = policy.to_toml()
    assert policy == Policy.from_toml(text)
    assert policy == Policy.from_toml(text, base=Policy.permissive())


def test_partial_toml_changes_only_the_given_keys() -> None:
    """A TOML file with three keys changes those three and nothing else."""
    text = """
whys_depth = 3

[priorities.P1]
update_every = "20m"

[authorization]
mitigate = ["communicator", "incident_commander", "lead"]
"""
    policy = Policy.from_toml(text)
    p1 = attrs.evolve(DEFAULT_POLICY.rules_for(Priority.P1), update_every=timedelta(minutes=20))
    expected = attrs.evolve(
        DEFAULT_POLICY,
        whys_depth=3,
        priorities={**DEFAULT_POLICY.priorities, Priority.P1: p1},
        authorization={**DEFAULT_POLICY.authorization, "mitigate": ALL_ROLES - {Role.RECORDER}},
    )
    assert expected == policy


def test_partial_toml_applies_over_a_given_base() -> None:
    """With base=, the keys not given come from the base, not the default."""
    policy = Policy.from_toml("whys_depth = 4", base=Policy.permissive())
    assert attrs.evolve(Policy.permissive(), whys_depth=4) == policy


def test_empty_toml_is_the_base() -> None:
    """No keys, no changes."""
    assert Policy.from_toml("") == DEFAULT_POLICY


def test_anyone_in_toml_opens_a_command() -> None:
    """The word "anyone" lets everybody issue a command."""
    policy = Policy.from_toml('[authorization]\nvalidate = "anyone"')
    assert None is policy.allowed_roles("validate")


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("update_every", "1m", timedelta(minutes=1)),
        ("update_every", "60s", timedelta(minutes=1)),
        ("update_every", "7d", timedelta(days=7)),
        ("update_every", "6d23h59m60s", timedelta(days=7)),
        ("post_mortem_within", "1h", timedelta(hours=1)),
        ("post_mortem_within", "365d", timedelta(days=365)),
    ],
)
def test_durations_at_their_bounds_load(key: str, text: str, expected: timedelta) -> None:
    """Each duration takes the values from its shortest to its longest, both included."""
    policy = Policy.from_toml(f'[priorities.P2]\n{key} = "{text}"')
    assert expected == getattr(policy.rules_for(Priority.P2), key)


def test_the_documented_duration_bounds() -> None:
    """Updates every 1 minute to 7 days; post-mortems within 1 hour to 365 days."""
    assert {
        "update_every": (timedelta(minutes=1), timedelta(days=7)),
        "post_mortem_within": (timedelta(hours=1), timedelta(days=365)),
    } == dict(DURATION_BOUNDS)
    assert 50 == MAX_WHYS_DEPTH


def test_durations_are_read_in_parts() -> None:
    """Durations combine days, hours, minutes and seconds."""
    policy = Policy.from_toml(
        '[priorities.P0]\npost_mortem_within = "1d12h"\nupdate_every = "1h30m"'
    )
    assert timedelta(days=1, hours=12) == policy.rules_for(Priority.P0).post_mortem_within
    assert timedelta(minutes=90) == policy.rules_for(Priority.P0).update_every


BAD_TOML = {
    "unknown top-level key": ("colour = 'red'", "colour"),
    "unknown key in a priority": ("[priorities.P1]\nbogus = 1", "bogus"),
    "unknown priority": ("[priorities.P5]\nupdate_every = '30m'", "P5"),
    "bad duration": ("[priorities.P1]\nupdate_every = '30 minutes'", "30 minutes"),
    "duration as a number": ("[priorities.P2]\npost_mortem_within = 5", "duration"),
    "zero duration": ("[priorities.P1]\nupdate_every = '0m'", "update_every"),
    "bad role name": ("[priorities.P1]\nrequired_roles = ['boss']", "boss"),
    "bad role in authorization": ("[authorization]\nmitigate = ['boss']", "boss"),
    "bad link kind": ("[priorities.P1]\nrequired_links = ['pager']", "pager"),
    "unknown command": ("[authorization]\nfly = ['lead']", "fly"),
    "empty role list": ("[authorization]\nmitigate = []", "mitigate"),
    "roles as a word": ("[authorization]\nmitigate = 'everyone'", "everyone"),
    "whys_depth 0": ("whys_depth = 0", "whys_depth"),
    "whys_depth as string": ("whys_depth = '5'", "'5'"),
    "whys_depth as bool": ("whys_depth = true", "True"),
    "flag as string": ("open_when_unstaffed = 'yes'", "yes"),
    "malformed TOML": ("whys_depth = = 3", "malformed"),
    "priorities not a table": ("priorities = 5", "[priorities]"),
    "authorization not a table": ("authorization = 'x'", "[authorization]"),
    "a priority not a table": ("[priorities]\nP1 = 3", "[priorities.P1]"),
    "cadence of a billion days": ("[priorities.P1]\nupdate_every = '999999999d'", "ten years"),
    "cadence past timedelta's range": (
        "[priorities.P1]\nupdate_every = '" + "9" * 30 + "d'",
        "ten years",
    ),
    "cadence of a thousand digits": (
        "[priorities.P1]\nupdate_every = '" + "1" * 1000 + "s'",
        "not a duration",
    ),
    "cadence under a minute": ("[priorities.P1]\nupdate_every = '59s'", "update_every"),
    "cadence over a week": ("[priorities.P1]\nupdate_every = '7d1s'", "from 1m to 7d"),
    "deadline under an hour": ("[priorities.P3]\npost_mortem_within = '59m'", "1h to 365d"),
    "deadline over a year": ("[priorities.P3]\npost_mortem_within = '366d'", "not 366d"),
    "whys_depth 51": ("whys_depth = 51", "from 1 to 50"),
    "whys_depth past 64 bits": ("whys_depth = 99999999999999999999999", "a larger number"),
    "an integer of 5,000 digits": ("whys_depth = " + "9" * 5000, "malformed"),
    "arrays nested 10,000 deep": ("x = " + "[" * 10_000 + "]" * 10_000, "nested too deeply"),
    "inline tables nested 3,000 deep": ("x = " + "{a=" * 3000 + "1" + "}" * 3000, "nested"),
    "tables nested 2,000 deep": ("a." * 2000 + "b = 1", "nested too deeply"),
    "arrays nested nine deep": ("x = " + "[" * 9 + "]" * 9, "more than 8 levels"),
}


@pytest.mark.parametrize("name", sorted(BAD_TOML))
def test_bad_toml_is_a_policy_error_naming_the_culprit(name: str) -> None:
    """Every mistake in a policy file is a PolicyError (a ValueError) naming what is wrong."""
    text, culprit = BAD_TOML[name]
    with pytest.raises(PolicyError) as info:
        Policy.from_toml(text)
    assert isinstance(info.value, ValueError)
    assert culprit in str(info.value)


def test_toml_must_be_text() -> None:
    """Bytes are not TOML text."""
    with pytest.raises(PolicyError, match="text"):
        Policy.from_toml(b"whys_depth = 3")  # type: ignore[arg-type]


BAD_POLICIES: dict[str, Callable[[], object]] = {
    "whys_depth 0": lambda: Policy(whys_depth=0),
    "whys_depth float": lambda: Policy(whys_depth=5.0),  # type: ignore[arg-type]
    "whys_depth bool": lambda: Policy(whys_depth=True),
    "a priority missing": lambda: Policy(
        priorities={p: r for p, r in DEFAULT_POLICY.priorities.items() if p is not Priority.P3}
    ),
    "unknown command": lambda: Policy(authorization={"fly": None}),
    "empty role set": lambda: Policy(authorization={"mitigate": frozenset()}),
    "authorization not a mapping": lambda: Policy(authorization=["mitigate"]),  # type: ignore[arg-type]
    "negative cadence": lambda: attrs.evolve(
        DEFAULT_POLICY.rules_for(Priority.P1), update_every=timedelta(minutes=-5)
    ),
    "cadence past its bound": lambda: attrs.evolve(
        DEFAULT_POLICY.rules_for(Priority.P1), update_every=timedelta(days=999_999_999)
    ),
    "deadline past its bound": lambda: attrs.evolve(
        DEFAULT_POLICY.rules_for(Priority.P1), post_mortem_within=timedelta(days=366)
    ),
    "whys_depth of 5,000 digits": lambda: Policy(whys_depth=-(10**5000)),
}


@pytest.mark.parametrize("name", sorted(BAD_POLICIES))
def test_bad_policy_built_in_python_is_a_policy_error(name: str) -> None:
    """The same checks hold for policies built in code."""
    with pytest.raises(PolicyError):
        BAD_POLICIES[name]()


def test_load_reads_a_file(tmp_path: Path) -> None:
    """Policy.load reads TOML from a path, as str or Path."""
    path = tmp_path / "policy.toml"
    path.write_text('whys_depth = 3\n[priorities.P2]\nupdate_every = "15m"\n', encoding="utf-8")
    policy = Policy.load(path)
    assert policy == Policy.load(str(path))
    assert policy.whys_depth == 3
    assert timedelta(minutes=15) == policy.rules_for(Priority.P2).update_every


def test_load_round_trips_a_written_policy(tmp_path: Path) -> None:
    """A policy written with to_toml loads back equal."""
    path = tmp_path / "policy.toml"
    path.write_text(Policy.permissive().to_toml(), encoding="utf-8")
    assert Policy.permissive() == Policy.load(path)


def test_load_of_a_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    """A missing file is a PolicyError naming the path, chained to the OSError."""
    path = tmp_path / "nowhere.toml"
    with pytest.raises(PolicyError, match=r"nowhere\.toml") as info:
        Policy.load(path)
    assert isinstance(info.value.__cause__, OSError)


def test_load_of_a_non_utf8_file_is_a_policy_error(tmp_path: Path) -> None:
    """A file that is not UTF-8 is a PolicyError."""
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"# caf\xe9\nwhys_depth = 3\n")
    with pytest.raises(PolicyError, match=r"latin1\.toml"):
        Policy.load(path)


# -- presets and custom policies ------------------------------------------------------------


def _staffed(policy: Policy, clock: ManualClock, priority: Priority = Priority.P1) -> Incident:
    incident = Incident.declare("INC-1", "t", priority, actor="ana", policy=policy, clock=clock)
    for role, holder in (
        (Role.LEAD, "ana"),
        (Role.INCIDENT_COMMANDER, "bo"),
        (Role.COMMUNICATOR, "cy"),
        (Role.RECORDER, "di"),
    ):
        incident.assign(role, holder, actor="ana")
    incident.validate("seen", actor="bo")
    for kind in (LinkKind.TICKET, LinkKind.WAR_ROOM, LinkKind.ANNOUNCEMENT):
        incident.link(kind, "https://x", actor="cy")
    return incident


def test_permissive_lets_anyone_issue_any_command(clock: ManualClock) -> None:
    """Under the permissive preset a stranger may issue whatever the state allows but staffing."""
    incident = _staffed(Policy.permissive(), clock)
    staffing = {"assign", "hand_off", "release"}
    assert incident.allowed_commands() - staffing == incident.allowed_commands("stranger")
    assert incident.allowed_commands() == incident.allowed_commands("cy")
    assert all(roles is None for roles in Policy.permissive().authorization.values())
    incident.mitigate("go", actor="stranger")
    incident.verify_recovery("fine", actor="stranger")
    assert incident.state == State.MITIGATING


def test_permissive_needs_only_a_ticket_and_an_ic(clock: ManualClock) -> None:
    """A permissive P1 mitigates with a ticket and an IC; its other guards stay."""
    incident = Incident.declare(
        "INC-1", "t", Priority.P1, actor="ana", policy=Policy.permissive(), clock=clock
    )
    assert tuple(u.rule for u in incident.unmet(State.MITIGATING)) == (
        "validated",
        "required_links",
        "required_roles",
    )
    assert incident.unmet(State.MITIGATING)[1].detail == "missing ticket"
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="eli")
    incident.validate("seen", actor="eli")
    incident.link(LinkKind.TICKET, "https://x", actor="eli")
    incident.mitigate("go", actor="eli")
    assert incident.state == State.MITIGATING


def test_a_shallower_whys_depth_finds_the_root_cause_sooner(clock: ManualClock) -> None:
    """With whys_depth 3, three answers ending in a root cause meet root_cause_found."""
    shallow = Policy.from_toml("whys_depth = 3")
    incident = _staffed(shallow, clock)
    for n in range(1, 4):
        incident.add_why(f"why {n}", root_cause=n == 3, actor="di")
    assert GUARDS["root_cause_found"].test(incident, shallow)
    assert not GUARDS["root_cause_found"].test(incident, DEFAULT_POLICY)


def test_a_custom_cadence_sets_the_update_due_time(clock: ManualClock) -> None:
    """With a P1 cadence of 20 minutes, the first update is due 20 minutes after declaring."""
    policy = Policy.from_toml('[priorities.P1]\nupdate_every = "20m"')
    incident = _staffed(policy, clock)
    [update] = [o for o in incident.due() if o.kind == "stakeholder_update"]
    assert START + timedelta(minutes=20) == update.due_at
    assert update.description == "update stakeholders every 20 minutes, even with no progress"


def test_communicators_may_move_state_when_the_policy_says_so(clock: ManualClock) -> None:
    """Allowing communicators to mitigate lets cy start mitigation; by default cy may not."""
    custom = Policy.from_toml('[authorization]\nmitigate = ["communicator", "lead"]')
    strict = _staffed(DEFAULT_POLICY, ManualClock(START))
    with pytest.raises(NotAuthorized):
        strict.mitigate("go", actor="cy")
    incident = _staffed(custom, clock)
    incident.mitigate("go", actor="cy")
    assert incident.state == State.MITIGATING
    with pytest.raises(NotAuthorized):
        incident.announce_yellow("too soon, and not cy's call", actor="cy")


def test_closed_when_unstaffed_still_lets_anyone_staff_a_new_incident(clock: ManualClock) -> None:
    """With open_when_unstaffed off and assign restricted, anyone assigns the first role only."""
    strict = attrs.evolve(DEFAULT_POLICY, open_when_unstaffed=False)
    incident = Incident.declare("INC-1", "t", Priority.P3, actor="ana", policy=strict, clock=clock)
    incident.assign(Role.RECORDER, "di", actor="zed")
    refusal = refused(incident, lambda: incident.assign(Role.LEAD, "ana", actor="di"))
    assert ("authorized",) == refusal.rules
    assert "di must hold incident_commander or lead to assign" == refusal.unmet[0].detail


def test_closed_when_unstaffed_and_assign_open_allows_no_takeover(clock: ManualClock) -> None:
    """Regression: a stranger can no longer make themself IC, confirm, and release the real IC."""
    policy = Policy.from_toml('open_when_unstaffed = false\n[authorization]\nassign = "anyone"')
    incident = Incident.declare("INC-1", "t", Priority.P2, actor="ana", policy=policy, clock=clock)
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="bo")
    taken = refused(incident, lambda: incident.assign(Role.INCIDENT_COMMANDER, "zed", actor="zed"))
    assert ("authorized",) == taken.rules
    assert "zed holds no role on this staffed incident: only its staff may assign" == (
        taken.unmet[0].detail
    )
    assert isinstance(taken, NotAuthorized)
    refused(incident, lambda: incident.validate("seen", actor="zed"))
    refused(incident, lambda: incident.release(Role.INCIDENT_COMMANDER, "bo", actor="zed"))
    refused(incident, lambda: incident.hand_off(Role.INCIDENT_COMMANDER, "bo", "zed", actor="zed"))
    assert ("bo",) == incident.holders(Role.INCIDENT_COMMANDER)
    assert 2 == incident.version


def test_closed_when_unstaffed_keeps_other_commands_closed(clock: ManualClock) -> None:
    """With open_when_unstaffed off and assign open, other commands need a role holder."""
    policy = Policy.from_toml('open_when_unstaffed = false\n[authorization]\nassign = "anyone"')
    incident = Incident.declare("INC-1", "t", Priority.P3, actor="ana", policy=policy, clock=clock)
    with pytest.raises(NotAuthorized):
        incident.validate("seen", actor="ana")
    incident.assign(Role.LEAD, "ana", actor="ana")
    incident.validate("seen", actor="ana")
    assert incident.validation is not None


def test_a_legacy_history_replays_under_the_policy_given(clock: ManualClock) -> None:
    """A history that records no policy is checked against the policy it is replayed under."""
    incident = Incident.declare("INC-3", "t", Priority.P3, actor="ana", clock=clock)
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    incident.validate("seen", actor="bo")
    incident.link(LinkKind.TICKET, "https://x", actor="bo")
    incident.mitigate("go", actor="bo")
    legacy = [
        attrs.evolve(cast("Declared", incident.history[0]), policy=None),
        *incident.history[1:],
    ]
    stricter = Policy.from_toml('[priorities.P3]\nrequired_links = ["ticket", "war_room"]')
    with pytest.raises(ReplayError) as info:
        Incident.replay(legacy, policy=stricter)
    assert (info.value.index, info.value.version, info.value.rules) == (4, 5, ("required_links",))
    pinned = Incident.replay(incident.history, policy=stricter)  # records the default policy
    assert (incident, DEFAULT_POLICY) == (pinned, pinned.policy)


# -- every rule is documented ----------------------------------------------------------------


def test_every_edge_guard_is_a_documented_guard() -> None:
    """Each guard named on a lifecycle edge has a GUARDS entry and a RULES description."""
    named = {g for e in EDGES.values() for g in e.guards}
    assert named == set(GUARDS)
    assert all(RULES[name] == GUARDS[name].description for name in GUARDS)


def test_command_tables_agree() -> None:
    """COMMANDS is COMMAND_STATES' keys plus every edge trigger, each once."""
    triggers = {e.trigger for e in EDGES.values()}
    assert set(COMMAND_STATES) | triggers == set(COMMANDS)
    assert len(set(COMMANDS)) == len(COMMANDS)


def test_every_rule_named_in_the_source_is_documented() -> None:
    """Every rule name the policy or the incident can report has a RULES entry, and no more."""
    pattern = re.compile(r'(?:Unmet\(\s*|rules=\()"(\w+)"')
    named: set[str] = set()
    for module in (policy_module, incident_module, corrections_module):
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        named.update(pattern.findall(source))
    assert named | set(GUARDS) == set(RULES)


def _refusal_rules(clock: ManualClock) -> set[str]:
    """Provoke every kind of refusal on real incidents; collect the rule names reported."""
    found: set[str] = set()

    def attempt(command: Callable[[], object]) -> None:
        try:
            command()
        except CommandRefused as exc:
            found.update(exc.rules)
        except ReplayError as exc:
            found.update(exc.rules)
        else:  # pragma: no cover - each attempt is one the rules refuse
            raise AssertionError("expected a refusal")

    i = Incident.declare("INC-1", "t", Priority.P1, actor="ana", clock=clock, at=START)
    attempt(lambda: i.mitigate("go", actor="ana"))  # validated, required_links, required_roles
    attempt(lambda: i.verify_recovery("x", actor="ana"))  # state_allows_command
    attempt(lambda: i.post_update("x", actor="ana", at=START - timedelta(minutes=1)))  # not_before
    attempt(
        lambda: Incident.declare(
            "INC-9", "t", Priority.P1, actor="ana", began=START, detected=START - timedelta(1)
        )
    )  # milestones_in_order (detected before the onset given)
    attempt(lambda: i.note("x", actor="ana", at=START + timedelta(minutes=1)))  # not_in_future
    attempt(lambda: i.record(i.history[0]))  # declared_once
    attempt(lambda: Incident.replay([]))  # declared_first
    attempt(lambda: Incident.replay([i.history[0], object()]))  # type: ignore[list-item]  # event_type
    i.assign(Role.LEAD, "ana", actor="ana")
    attempt(lambda: i.assign(Role.LEAD, "bo", actor="ana"))  # single_holder
    attempt(lambda: i.assign(Role.LEAD, "ana", actor="ana"))  # not_already_holder
    attempt(lambda: i.release(Role.RECORDER, "bo", actor="ana"))  # holds_role
    attempt(lambda: i.validate("x", actor="eli"))  # authorized
    i.validate("seen", actor="ana")
    attempt(lambda: i.validate("again", actor="ana"))  # validated_once
    attempt(lambda: i.change_priority(Priority.P1, reason="r", actor="ana"))  # priority_differs
    for role, holder in (
        (Role.INCIDENT_COMMANDER, "bo"),
        (Role.COMMUNICATOR, "cy"),
        (Role.RECORDER, "di"),
    ):
        i.assign(role, holder, actor="ana")
    for kind in (LinkKind.TICKET, LinkKind.WAR_ROOM, LinkKind.ANNOUNCEMENT):
        i.link(kind, "https://x", actor="ana")
    clock.advance(minutes=10)
    i.mitigate("go", actor="ana")
    attempt(lambda: i.note("x", actor="ana", now=START))  # stamps_in_order
    attempt(
        lambda: i.announce_yellow("y", actor="ana", at=START + timedelta(minutes=5))
    )  # moves_in_order, recovery_verified
    attempt(lambda: i.dismiss("no", actor="ana"))  # lifecycle_edge
    attempt(
        lambda: i.record(
            StateChanged(
                actor="ana",
                occurred_at=clock.now(),
                recorded_at=clock.now(),
                source=State.DECLARED,
                target=State.MITIGATING,
                message="again",
            )
        )
    )  # from_current_state
    attempt(lambda: i.release(Role.LEAD, "ana", actor="ana"))  # required_role_kept
    attempt(lambda: i.adopt_policy(DEFAULT_POLICY, actor="bo"))  # policy_differs
    forged = attrs.evolve(Policy.permissive().recorded(), name="forged")
    attempt(
        lambda: i.record(
            PolicyAdopted(
                actor="bo", occurred_at=clock.now(), recorded_at=clock.now(), policy=forged
            )
        )
    )  # policy_intact
    minor = Incident.declare("INC-2", "t", Priority.P3, actor="bo", clock=clock)
    minor.assign(Role.INCIDENT_COMMANDER, "bo", actor="bo")
    minor.validate("seen", actor="bo")
    minor.link(LinkKind.TICKET, "https://x", actor="bo")
    minor.mitigate("go", actor="bo")
    attempt(lambda: minor.change_priority(Priority.P1, reason="r", actor="bo"))  # roles_filled
    i.start_experiment(
        hypothesis="h", action="a", expected="e", component="db", owner="bo", actor="bo"
    )
    attempt(
        lambda: i.start_experiment(
            hypothesis="h", action="a", expected="e", component="db", owner="cy", actor="bo"
        )
    )  # owner, component
    attempt(
        lambda: i.start_experiment(
            experiment_id="E1",
            hypothesis="h",
            action="a",
            expected="e",
            component="api",
            owner="bo",
            actor="bo",
        )
    )  # unique_id
    attempt(lambda: i.release(Role.INCIDENT_COMMANDER, "bo", actor="bo"))  # experiments_owned
    attempt(lambda: i.announce_yellow("y", actor="ana"))  # recovery, experiments_concluded
    i.conclude_experiment("E1", observed="o", verdict=Verdict.CONFIRMED, actor="bo")
    attempt(
        lambda: i.conclude_experiment("E1", observed="o", verdict=Verdict.CONFIRMED, actor="bo")
    )  # still_open
    attempt(lambda: i.close_debt("D9", actor="bo"))  # known_id
    i.log_change(what="w", where="x", revert="r", actor="bo")
    i.change_impact(ImpactLevel.MAJOR_OUTAGE, actor="ana")
    i.open_debt("d", actor="bo")
    i.verify_recovery("fine", actor="bo")
    i.announce_yellow("y", actor="ana")
    attempt(lambda: i.announce_green("g", actor="ana"))  # customer, debt, changes, impact
    i.change_impact(ImpactLevel.OPERATIONAL, actor="ana")
    i.verify_customer("Acme", "works", actor="cy")
    i.close_debt("D1", actor="bo")
    i.reconcile_change("C1", ChangeOutcome.PERMANENT, actor="bo")
    i.announce_green("g", actor="ana")
    clock.advance(minutes=1)
    attempt(lambda: i.change_impact(ImpactLevel.DEGRADED, actor="ana"))  # impact_before_green
    attempt(lambda: i.add_action("a", kind=ActionKind.CORRECTIVE, actor="di"))  # owner_and_due
    attempt(lambda: i.add_why("the root", root_cause=True, actor="di"))  # root_cause_depth
    attempt(lambda: i.mark_reported("r", actor="ana"))  # root_cause_found, report_started
    i.start_report(actor="di")
    attempt(lambda: i.start_report(actor="di"))  # report_once
    for n in range(5):
        i.add_why(f"why {n}", chain="deep", root_cause=n == 4, actor="di")
    attempt(lambda: i.add_why("more", chain="deep", actor="di"))  # chain_open
    attempt(lambda: i.add_why("b", chain="deep", branches_from="deep", actor="di"))  # branch_first
    attempt(lambda: i.add_why("b", chain="b", branches_from="nope", actor="di"))  # known_chain
    attempt(
        lambda: i.add_why("b", chain="b", branches_from="deep", after=9, actor="di")
    )  # branch_depth
    now = clock.now()
    attempt(
        lambda: i.record(
            WhyAnswered(
                actor="di", occurred_at=now, recorded_at=now, chain="c", answer="a", depth=2
            )
        )
    )  # why_depth
    attempt(lambda: i.record_role_unknown(Role.LEAD, reason="r", actor="ana"))  # role_not_held
    attempt(lambda: i.record_link_absent(LinkKind.TICKET, reason="r", actor="ana"))  # link_not_made
    attempt(
        lambda: i.record_data_loss(
            "rows", window_start=now, window_end=now - timedelta(minutes=1), actor="di"
        )
    )  # window_in_order
    attempt(lambda: i.amend("colour", "red", reason="r", actor="di"))  # amendable_field
    attempt(lambda: i.amend("text", "t", entry=999, reason="r", actor="di"))  # known_entry
    attempt(lambda: i.amend("text", "t", entry=2, reason="r", actor="di"))  # correctable_entry
    attempt(lambda: i.amend("began", "yesterday", reason="r", actor="di"))  # amended_value
    attempt(lambda: i.amend("title", "t", reason="r", actor="di"))  # amendment_changes
    noted = i.note("wrong", actor="di")
    i.retract(i.version, reason="r", actor="di")
    assert noted not in i.notes
    attempt(lambda: i.retract(i.version - 1, reason="again", actor="di"))  # not_retracted
    i.mark_reported("r", actor="ana")
    attempt(lambda: i.begin_post_mortem("p", actor="ana"))  # scheduled, invited
    return found


def test_every_rule_a_refusal_reports_is_documented(clock: ManualClock) -> None:
    """Provoking every refusal reports exactly the rules RULES documents."""
    found = _refusal_rules(clock)
    assert set() == found - set(RULES)
    assert set(RULES) == found


def test_post_mortem_within_must_be_positive() -> None:
    """Priority rules built in Python with a zero or negative duration are refused too."""
    from datetime import timedelta

    rules = DEFAULT_POLICY.rules_for(Priority.P1)
    for name in ("post_mortem_within", "update_every"):
        for bad in (timedelta(0), timedelta(days=-1)):
            changed: dict[str, Any] = {name: bad}
            with pytest.raises(PolicyError, match=f"{name} must be a positive duration"):
                attrs.evolve(rules, **changed)


# -- boundaries pinned one by one ------------------------------------------------------------


def _mitigating(clock: ManualClock, policy: Policy = DEFAULT_POLICY) -> Incident:
    """A P1 staffed (ana Lead, bo IC, cy Communicator, di Recorder) and mitigating."""
    incident = _staffed(policy, clock)
    incident.mitigate("go", actor="ana")
    return incident


def test_releasing_an_ic_is_not_held_up_by_another_ics_experiment(clock: ManualClock) -> None:
    """experiments_owned counts only the releaser's own experiments, not another IC's."""
    incident = _mitigating(clock)
    incident.assign(Role.INCIDENT_COMMANDER, "eli", actor="ana")
    incident.start_experiment(
        hypothesis="h", action="a", expected="e", component="db", owner="eli", actor="eli"
    )
    incident.release(Role.INCIDENT_COMMANDER, "bo", actor="bo")
    assert ("eli",) == incident.holders(Role.INCIDENT_COMMANDER)


def test_releasing_another_role_is_not_held_up_by_ones_experiment(clock: ManualClock) -> None:
    """experiments_owned is about the IC role: an IC owning an experiment may drop another role."""
    incident = _mitigating(clock, Policy.permissive())
    incident.release(Role.COMMUNICATOR, "cy", actor="cy")
    incident.assign(Role.COMMUNICATOR, "bo", actor="ana")
    incident.start_experiment(
        hypothesis="h", action="a", expected="e", component="db", owner="bo", actor="bo"
    )
    incident.release(Role.COMMUNICATOR, "bo", actor="bo")
    assert {Role.INCIDENT_COMMANDER} == incident.roles_of("bo")


def test_releasing_a_role_one_does_not_hold_is_not_ones_own(clock: ManualClock) -> None:
    """A stranger naming themself as the holder is refused as unauthorized, not only holds_role."""
    incident = _mitigating(clock)
    refusal = refused(
        incident, lambda: incident.release(Role.INCIDENT_COMMANDER, "zed", actor="zed")
    )
    assert ("authorized", "holds_role") == refusal.rules


def test_releasing_another_holder_is_not_ones_own(clock: ManualClock) -> None:
    """An IC may not release a fellow IC where the table gives release to the Lead alone."""
    policy = Policy.from_toml('[authorization]\nrelease = ["lead"]')
    incident = _mitigating(clock, policy)
    incident.assign(Role.INCIDENT_COMMANDER, "eli", actor="ana")
    refusal = refused(
        incident, lambda: incident.release(Role.INCIDENT_COMMANDER, "eli", actor="bo")
    )
    assert ("authorized",) == refusal.rules
    incident.release(Role.INCIDENT_COMMANDER, "eli", actor="eli")
    assert ("bo",) == incident.holders(Role.INCIDENT_COMMANDER)


def test_a_stranger_may_not_open_tech_debt(clock: ManualClock) -> None:
    """open_debt belongs to the Lead, the IC and the Recorder: a stranger is not authorized."""
    incident = _mitigating(clock)
    refusal = refused(incident, lambda: incident.open_debt("pinned", actor="eli"))
    assert isinstance(refusal, NotAuthorized)
    assert ("authorized",) == refusal.rules
    assert "D1" == incident.open_debt("pinned", actor="di").debt_id


def test_tech_debt_may_be_opened_while_yellow(clock: ManualClock) -> None:
    """open_debt is allowed while yellow (clean-up found after resolving still counts)."""
    incident = _mitigating(clock)
    incident.verify_recovery("fine", actor="bo")
    incident.announce_yellow("yellow", actor="ana")
    incident.open_debt("pinned", actor="di")
    assert ["D1"] == [d.id for d in incident.tech_debt.values() if d.open]


def test_updates_and_the_post_mortem_may_be_issued_while_green(clock: ManualClock) -> None:
    """post_update and schedule_post_mortem are allowed in green, before the report."""
    incident = _mitigating(clock)
    incident.verify_recovery("fine", actor="bo")
    incident.announce_yellow("yellow", actor="ana")
    incident.verify_customer("acme", "works", actor="cy")
    incident.announce_green("green", actor="ana")
    incident.post_update("all green", actor="cy")
    incident.schedule_post_mortem(START + timedelta(days=1), ["ana", "bo", "cy", "di"], actor="cy")
    assert (State.GREEN, 1) == (incident.state, len(incident.updates))
    assert incident.post_mortem is not None


def test_duplicate_change_debt_and_action_ids_are_refused(clock: ManualClock) -> None:
    """unique_id holds for manual changes, tech-debt items and action items, as for experiments."""
    incident = _mitigating(clock)
    incident.log_change(what="restart", where="db-1", revert="n/a", actor="bo", change_id="C7")
    change = refused(
        incident,
        lambda: incident.log_change(
            what="again", where="db-1", revert="n/a", actor="bo", change_id="C7"
        ),
    )
    assert ("unique_id",) == change.rules
    incident.open_debt("pinned", actor="di", debt_id="D7")
    incident.add_action(
        "fix", owner="bo", due_at=START + timedelta(days=7), kind=ActionKind.CORRECTIVE, actor="di"
    )
    debt = refused(incident, lambda: incident.open_debt("again", actor="di", debt_id="D7"))
    action = refused(
        incident,
        lambda: incident.add_action(
            "again",
            owner="bo",
            due_at=START + timedelta(days=7),
            kind=ActionKind.CORRECTIVE,
            actor="di",
            action_id="A1",
        ),
    )
    assert (("unique_id",), ("unique_id",)) == (debt.rules, action.rules)


def test_an_event_at_exactly_the_start_is_not_before_it(clock: ManualClock) -> None:
    """not_before_start is strict: something that happened at the very start is accepted."""
    incident = Incident.declare(
        "INC-1", "t", Priority.P3, actor="ana", at=START - timedelta(hours=1), clock=clock
    )
    note = incident.note("it began here", actor="ana", at=incident.began_at)
    assert incident.began_at == note.occurred_at


def test_policy_and_priority_rules_take_keywords_only() -> None:
    """Policy and PriorityRules refuse positional arguments (their fields may be reordered)."""
    with pytest.raises(TypeError):
        Policy("positional")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        PriorityRules(MAJOR_LINKS, ALL_ROLES, timedelta(minutes=30))  # type: ignore[call-arg]


def test_priority_rules_defaults() -> None:
    """Left out, customer verification is asked, every role invited, post-mortem within 5 days."""
    rules = PriorityRules(
        required_links=MAJOR_LINKS, required_roles=IC, update_every=timedelta(minutes=30)
    )
    assert (True, ALL_ROLES, timedelta(days=5)) == (
        rules.customer_verification,
        rules.invite_roles,
        rules.post_mortem_within,
    )
    # Unknown roles and absent links do not count, the policy's depth of whys holds, green
    # does not wait for the impact, the cadence is owed, actions need an owner and a due time.
    assert (False, None, False, True, True) == (
        rules.accept_unknown,
        rules.whys_depth,
        rules.operational_before_green,
        rules.enforce_cadence,
        rules.action_owner_and_due,
    )


def test_only_major_incidents_wait_for_an_operational_impact_by_default() -> None:
    """Under the default policy green waits for the impact to be operational for P0 and P1."""
    waits = {p: DEFAULT_POLICY.rules_for(p).operational_before_green for p in Priority}
    assert {Priority.P0: True, Priority.P1: True, Priority.P2: False, Priority.P3: False} == waits


def test_missing_links_and_roles_are_named_in_alphabetical_order(clock: ManualClock) -> None:
    """Every link kind and every role required, none there: each guard names them all, sorted."""
    every = PriorityRules(
        required_links=frozenset(LinkKind),
        required_roles=ALL_ROLES,
        update_every=timedelta(minutes=30),
    )
    policy = Policy(priorities=dict.fromkeys(Priority, every))
    incident = Incident.declare("INC-1", "t", Priority.P2, actor="ana", policy=policy, clock=clock)
    details = {u.rule: u.detail for u in incident.unmet(State.MITIGATING)}
    assert "missing announcement, public_channel, ticket, war_room" == details["required_links"]
    assert "no communicator, incident_commander, lead, recorder" == details["required_roles"]


def test_whys_depth_runs_from_one_to_the_maximum_inclusive() -> None:
    """A Five Whys depth of 1 and of MAX_WHYS_DEPTH (50) are policies; 0 and 51 are not."""
    assert (1, 50) == (Policy(whys_depth=1).whys_depth, Policy(whys_depth=50).whys_depth)
    for bad in (0, 51):
        with pytest.raises(PolicyError, match=f"from 1 to 50, not {bad}$"):
            Policy(whys_depth=bad)


def test_a_bad_whys_depth_is_shown_up_to_six_digits() -> None:
    """A refused depth below a million is quoted; from a million on it is "a larger number"."""
    with pytest.raises(PolicyError, match=r"not 999999$"):
        Policy(whys_depth=999_999)
    with pytest.raises(PolicyError, match=r"not -999999$"):
        Policy(whys_depth=-999_999)
    with pytest.raises(PolicyError, match=r"not a larger number$"):
        Policy(whys_depth=1_000_000)


def test_timing_rules_are_strict_even_beside_a_broken_one(clock: ManualClock) -> None:
    """Exactly at the start, the last stamp or its own stamp, only the other rule is broken."""
    began = START - timedelta(hours=1)
    incident = Incident.declare("INC-1", "t", Priority.P3, actor="ana", began=began, clock=clock)
    last = START + timedelta(minutes=5)
    incident.note("the last event", actor="ana", now=last)
    earlier = last - timedelta(minutes=1)

    def update(at: datetime, now: datetime) -> Callable[[], object]:
        return lambda: incident.post_update("x", actor="ana", at=at, now=now)

    at_start = refused(incident, update(began, earlier))
    own_stamp = refused(incident, update(earlier, earlier))
    at_last = refused(incident, update(began - timedelta(minutes=1), last))
    assert (("stamps_in_order",), ("stamps_in_order",), ("not_before_start",)) == (
        at_start.rules,
        own_stamp.rules,
        at_last.rules,
    )


def test_green_waiting_on_tech_debt_names_only_the_open_items(clock: ManualClock) -> None:
    """tech_debt_closed explains itself with the items still open, not the ones cleaned up."""
    incident = _mitigating(clock)
    for debt in ("D1", "D2", "D3"):
        incident.open_debt("pinned", actor="di", debt_id=debt)
    incident.close_debt("D2", actor="di")
    incident.verify_recovery("fine", actor="bo")
    incident.announce_yellow("yellow", actor="ana")
    incident.verify_customer("acme", "works", actor="cy")
    assert (Unmet("tech_debt_closed", "still open: D1, D3"),) == incident.unmet(State.GREEN)


def test_permissive_asks_a_ticket_an_ic_and_invites_the_ic() -> None:
    """The permissive preset: a ticket, an IC, the IC invited; cadences and deadlines as default."""
    for priority in Priority:
        rules = Policy.permissive().rules_for(priority)
        assert (
            attrs.evolve(
                DEFAULT_POLICY.rules_for(priority),
                required_links=frozenset({LinkKind.TICKET}),
                required_roles=IC,
                invite_roles=IC,
            )
            == rules
        )


@pytest.mark.parametrize(
    ("began", "detected", "declared", "in_order"),
    [
        (0, None, 0, True),  # the onset is the declaration
        (0, None, 5, True),
        (6, None, 5, False),  # began after the declaration
        (0, 0, 0, True),  # all three at once
        (0, 2, 5, True),
        (0, 0, 5, True),  # detected at the onset
        (0, 5, 5, True),  # detected at the declaration
        (2, 1, 5, False),  # detected before the onset
        (0, 6, 5, False),  # detected after the declaration
        (6, 6, 5, False),  # both after the declaration
    ],
)
def test_milestones_are_in_order_when_began_detected_and_declared_follow_each_other(
    began: int, detected: int | None, declared: int, in_order: bool
) -> None:
    """began <= detected <= declared, each pair of neighbours; no detection: began <= declared."""
    minute = timedelta(minutes=1)

    def declare() -> Incident:
        return Incident.declare(
            "INC-1", "t", Priority.P2, actor="ana", now=START + 10 * minute,
            at=START + declared * minute, began=START + began * minute,
            detected=None if detected is None else START + detected * minute,
        )  # fmt: skip

    if in_order:
        assert START + began * minute == declare().began_at
    else:
        with pytest.raises(CommandRefused) as info:
            declare()
        assert "milestones_in_order" in info.value.rules
