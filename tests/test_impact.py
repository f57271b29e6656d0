"""Real incidents as they happened: milestones, the impact timeline, precursors, approximate
times, the retrospective policy and the measures built on them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import incidentflow.events as ev
from incidentflow import (
    ActionKind,
    DetectionMethod,
    ImpactLevel,
    ImpactPhase,
    Incident,
    InvalidInput,
    LinkKind,
    ManualClock,
    NotAuthorized,
    Policy,
    PolicyError,
    Priority,
    Role,
    RuleViolated,
    State,
    TransitionBlocked,
    approximately,
    codec,
)
from incidentflow.metrics import impact_by_level, measure, stats
from incidentflow.policy import NAMED_POLICIES, PRECURSOR_WINDOW
from incidentflow.testing import incidents

T = datetime(2019, 7, 2, 13, 42, tzinfo=UTC)
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
RETRO = Policy.named("retrospective")
US = timedelta(microseconds=1)


def minutes(n: float) -> timedelta:
    """A duration in minutes."""
    return timedelta(minutes=n)


def refused(command: Any) -> Any:
    """The refusal ``command`` raises."""
    with pytest.raises((RuleViolated, TransitionBlocked, NotAuthorized)) as info:
        command()
    return info.value


def declared(priority: Priority = Priority.P1, **kwargs: Any) -> Incident:
    """A past incident declared at T+10m (began at T) under the retrospective policy."""
    options: dict[str, Any] = {"at": T + minutes(10), "began": T, "now": NOW, "policy": RETRO}
    options.update(kwargs)
    return Incident.declare("CF-1", "Proxies return 502", priority, actor="tom", **options)


# -- milestones ---------------------------------------------------------------------------------


def test_declare_records_onset_detection_and_declaration() -> None:
    """began, detected (how, by what) and the declaration each keep their own time."""
    incident = declared(
        detected=T + minutes(3),
        detection=DetectionMethod.ALERT,
        detected_by="WAF error-rate alert",
    )
    assert (T, T + minutes(3), T + minutes(10)) == (
        incident.began_at,
        incident.detected_at,
        incident.declared_at,
    )
    assert (DetectionMethod.ALERT, "WAF error-rate alert") == (
        incident.detection,
        incident.detected_by,
    )
    assert NOW == incident.declaration.recorded_at
    assert NOW - (T + minutes(10)) == incident.declaration.recorded_late


def test_onset_defaults_to_the_detection_then_the_declaration() -> None:
    """Without began, the onset is the detection if given, else the declaration."""
    assert T + minutes(3) == declared(began=None, detected=T + minutes(3)).began_at
    assert T + minutes(10) == declared(began=None).began_at


@pytest.mark.parametrize(
    ("began", "detected", "at"),
    [
        (T, T, T),  # all at once: in order
        (T, T + minutes(3), T + minutes(3)),  # declared the moment it was detected
    ],
)
def test_milestones_may_coincide(began: datetime, detected: datetime, at: datetime) -> None:
    """began <= detected <= declared: equal times are in order."""
    assert began == declared(began=began, detected=detected, at=at).began_at


@pytest.mark.parametrize(
    ("began", "detected", "at"),
    [
        (T, T - US, T + minutes(10)),  # detected a microsecond before the onset
        (T, T + minutes(10) + US, T + minutes(10)),  # detected after the declaration
        (T + minutes(10) + US, None, T + minutes(10)),  # began after the declaration
    ],
)
def test_milestones_out_of_order_are_refused(
    began: datetime, detected: datetime | None, at: datetime
) -> None:
    """A milestone a microsecond out of order is milestones_in_order, and nothing is declared."""
    error = refused(lambda: declared(began=began, detected=detected, at=at))
    assert ("milestones_in_order",) == error.rules


def test_detection_after_the_stamp_is_in_the_future() -> None:
    """A detection later than the declaration's stamp is not_in_future (and out of order)."""
    error = refused(lambda: declared(at=NOW, detected=NOW + US, began=T))
    assert {"not_in_future", "milestones_in_order"} == set(error.rules)


LEGACY = (
    '{"schema":1,"type":"declared","actor":"ana","occurred_at":"2026-03-01T13:56:00+00:00",'
    '"recorded_at":"2026-03-01T14:00:00+00:00","incident_id":"INC-7","title":"Database is down",'
    '"priority":"P1"}'
)


def test_a_stored_legacy_declaration_keeps_its_meaning() -> None:
    """A declaration written before began existed: occurred_at is the onset, recorded_at the
    declaration; it loads, replays and is written back byte for byte."""
    event = codec.loads(LEGACY)
    assert isinstance(event, ev.Declared)
    assert (None, (), None) == (event.began, event.approximate, event.detected_at)
    incident = Incident.replay([event])
    assert datetime(2026, 3, 1, 13, 56, tzinfo=UTC) == incident.began_at
    assert datetime(2026, 3, 1, 14, 0, tzinfo=UTC) == incident.declared_at
    entered = incident.when_entered(State.DECLARED)
    assert entered is not None
    assert incident.declared_at == entered + minutes(4)
    assert LEGACY == codec.dumps(event)


def test_a_declaration_now_with_nothing_back_dated_is_written_as_before() -> None:
    """Declared now, begun now: the older form says just that, so no new key is written."""
    clock = ManualClock(T)
    incident = Incident.declare("INC-1", "t", Priority.P2, actor="ana", clock=clock)
    line = codec.dumps(incident.history[0])
    assert ("began" not in line, "approximate" not in line) == (True, True)
    assert (T, T) == (incident.began_at, incident.declared_at)


def test_the_new_keys_round_trip() -> None:
    """began, detection and approximate times go through the codec unchanged."""
    incident = declared(
        began=approximately(T), detected=T + minutes(3), detection=DetectionMethod.EMPLOYEE
    )
    event = incident.history[0]
    data = codec.to_dict(event)
    assert (["began"], "employee") == (data["approximate"], data["detection"])
    assert event == codec.loads(codec.dumps(event))


# -- precursors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["note", "log_change", "add_factor"])
def test_a_precursor_may_come_up_to_thirty_days_before_the_onset(command: str) -> None:
    """A note, change or factor exactly PRECURSOR_WINDOW before the onset is accepted;
    a microsecond earlier is not_before_start."""
    incident = declared()
    record: Callable[[datetime], ev.Event] = {
        "note": lambda at: incident.note("config pushed", actor="tom", at=at, now=NOW),
        "log_change": lambda at: incident.log_change(
            what="pushed a WAF rule",
            where="global",
            revert="roll back",
            actor="tom",
            at=at,
            now=NOW,
        ),
        "add_factor": lambda at: incident.add_factor("no canary", actor="tom", at=at, now=NOW),
    }[command]
    assert timedelta(days=30) == PRECURSOR_WINDOW
    error = refused(lambda: record(T - PRECURSOR_WINDOW - US))
    assert ("not_before_start",) == error.rules
    assert "30 days before the incident began" in error.unmet[0].detail
    assert T - PRECURSOR_WINDOW == record(T - PRECURSOR_WINDOW).occurred_at


def test_other_commands_may_not_precede_the_onset() -> None:
    """An update a microsecond before the onset is still not_before_start."""
    incident = declared()
    error = refused(lambda: incident.post_update("x", actor="tom", at=T - US, now=NOW))
    assert ("not_before_start",) == error.rules


# -- the impact timeline ----------------------------------------------------------------------


def test_impact_phases_follow_when_changes_happened() -> None:
    """Changes recorded out of order are phases in the order they happened; each ends at the
    next, the last runs on; a partial recovery and a second dip are phases too."""
    incident = declared()
    record = incident.change_impact
    record(ImpactLevel.MAJOR_OUTAGE, "502s", actor="tom", at=T, now=NOW, share=80,
           components=["proxy", "api"])  # fmt: skip
    record(ImpactLevel.DEGRADED, actor="tom", at=T + minutes(20), now=NOW)
    record(ImpactLevel.PARTIAL_OUTAGE, actor="tom", at=T + minutes(10), now=NOW)  # late entry
    assert ImpactLevel.DEGRADED is incident.impact
    assert [
        ImpactPhase(
            level=ImpactLevel.MAJOR_OUTAGE,
            start=T,
            end=T + minutes(10),
            description="502s",
            components=("proxy", "api"),
            share=80,
            priority=Priority.P1,
        ),
        ImpactPhase(
            level=ImpactLevel.PARTIAL_OUTAGE,
            start=T + minutes(10),
            end=T + minutes(20),
            priority=Priority.P1,
        ),
        ImpactPhase(
            level=ImpactLevel.DEGRADED, start=T + minutes(20), end=None, priority=Priority.P1
        ),
    ] == list(incident.impact_phases())


def test_no_impact_recorded_is_unknown() -> None:
    """Before any change, the impact is None and there are no phases."""
    incident = declared()
    phases = incident.impact_phases()
    assert (None, (), None) == (incident.impact, phases, impact_by_level(incident))


def _at_yellow(priority: Priority, policy: Policy = RETRO) -> Incident:
    incident = declared(priority, policy=policy)
    incident.validate("502s", actor="tom", at=T + minutes(10), now=NOW)
    incident.mitigate("rolled back", actor="tom", at=T + minutes(12), now=NOW)
    incident.verify_recovery("traffic normal", actor="tom", at=T + minutes(30), now=NOW)
    incident.announce_yellow("recovered", actor="tom", at=T + minutes(30), now=NOW)
    return incident


@pytest.mark.parametrize("priority", [Priority.P0, Priority.P1])
def test_green_waits_for_an_operational_impact_at_p0_p1(priority: Priority) -> None:
    """A major incident whose recorded impact is not operational is not green."""
    incident = _at_yellow(priority)
    incident.change_impact(ImpactLevel.PARTIAL_OUTAGE, actor="tom", at=T + minutes(5), now=NOW)
    error = refused(lambda: incident.announce_green("ok", actor="tom", at=T + minutes(40), now=NOW))
    assert ("impact_operational",) == error.rules
    incident.change_impact(ImpactLevel.OPERATIONAL, actor="tom", at=T + minutes(29), now=NOW)
    incident.announce_green("ok", actor="tom", at=T + minutes(40), now=NOW)
    assert State.GREEN is incident.state


def test_green_without_an_impact_timeline_has_nothing_to_check() -> None:
    """No impact recorded (as in every older history): impact_operational is met."""
    incident = _at_yellow(Priority.P0)
    incident.announce_green("ok", actor="tom", at=T + minutes(40), now=NOW)
    assert State.GREEN is incident.state


def test_p2_does_not_wait_for_the_impact_unless_the_policy_says() -> None:
    """operational_before_green is off for P2 by default, and the policy TOML can turn it on."""
    incident = _at_yellow(Priority.P2)
    incident.change_impact(ImpactLevel.DEGRADED, actor="tom", at=T + minutes(5), now=NOW)
    assert () == incident.unmet(State.GREEN)
    strict = Policy.from_toml(
        'name = "strict"\n[priorities.P2]\noperational_before_green = true\n', base=RETRO
    )
    assert strict.rules_for(Priority.P2).operational_before_green
    incident = _at_yellow(Priority.P2, strict)
    incident.change_impact(ImpactLevel.DEGRADED, actor="tom", at=T + minutes(5), now=NOW)
    assert ["impact_operational"] == [u.rule for u in incident.unmet(State.GREEN)]
    assert "operational_before_green = true" in strict.to_toml()


def test_after_green_only_the_impact_before_green_is_recorded() -> None:
    """Once green, a change dated up to green is accepted; a microsecond later is refused; and
    none may leave the timeline ending in an outage."""
    incident = _at_yellow(Priority.P1)
    incident.change_impact(ImpactLevel.OPERATIONAL, actor="tom", at=T + minutes(25), now=NOW)
    green = T + minutes(40)
    incident.announce_green("ok", actor="tom", at=green, now=NOW)
    incident.change_impact(ImpactLevel.MAJOR_OUTAGE, actor="tom", at=T, now=NOW)
    late = refused(lambda: incident.change_impact(ImpactLevel.DEGRADED, actor="tom", at=green + US,
                                                  now=NOW))  # fmt: skip
    assert ("impact_before_green",) == late.rules
    dip = refused(lambda: incident.change_impact(ImpactLevel.DEGRADED, actor="tom", at=green,
                                                 now=NOW))  # fmt: skip
    assert ("impact_operational",) == dip.rules
    assert ImpactLevel.OPERATIONAL is incident.impact


@pytest.mark.parametrize("state", [State.REPORTED, State.POST_MORTEM])
def test_past_green_too_only_the_impact_before_green_is_recorded(state: State) -> None:
    """Reported, and in the post-mortem, a change after green is still refused."""
    incident = _at_yellow(Priority.P1)
    green = T + minutes(40)
    incident.announce_green("ok", actor="tom", at=green, now=NOW)
    for depth in range(1, 6):
        incident.add_why(f"why {depth}", root_cause=depth == 5, actor="tom", at=green, now=NOW)
    incident.start_report(location="docs/rca", actor="tom", at=green, now=NOW)
    incident.mark_reported("report started", actor="tom", at=green, now=NOW)
    if state is State.POST_MORTEM:
        incident.schedule_post_mortem(NOW, ["tom"], actor="tom", at=green, now=NOW)
        incident.begin_post_mortem("post-mortem", actor="tom", at=green, now=NOW)
    late = refused(lambda: incident.change_impact(ImpactLevel.DEGRADED, actor="tom", at=green + US,
                                                  now=NOW))  # fmt: skip
    incident.change_impact(ImpactLevel.OPERATIONAL, actor="tom", at=green, now=NOW)
    assert (state, ("impact_before_green",)) == (incident.state, late.rules)


def test_impact_is_not_recorded_on_a_dismissed_incident() -> None:
    """A false alarm had no impact to record: state_allows_command."""
    incident = declared()
    incident.dismiss("false alarm", actor="tom", at=T + minutes(10), now=NOW)
    error = refused(lambda: incident.change_impact(ImpactLevel.DEGRADED, actor="tom", now=NOW))
    assert ("state_allows_command",) == error.rules


def test_components_must_be_names() -> None:
    """One string is not a list of components."""
    incident = declared()
    with pytest.raises(InvalidInput, match="collection of names"):
        incident.change_impact(ImpactLevel.DEGRADED, actor="tom", components="api", now=NOW)


# -- priority history --------------------------------------------------------------------------


def test_priority_history_and_the_highest_priority_reached() -> None:
    """Every priority from when it took effect; the highest is kept after a lowering."""
    incident = declared(Priority.P2)
    incident.change_priority(Priority.P0, reason="all regions", actor="tom",
                             at=T + minutes(15), now=NOW)  # fmt: skip
    incident.change_priority(
        Priority.P1, reason="EU back", actor="tom", at=T + minutes(5), now=NOW
    )  # back-dated before the previous one
    assert (
        (T, Priority.P2),
        (T + minutes(15), Priority.P0),
        (T + minutes(15), Priority.P1),
    ) == incident.priority_history
    assert (Priority.P1, Priority.P0) == (incident.priority, incident.highest_priority)


def test_stats_group_by_the_highest_priority_reached() -> None:
    """by="highest_priority" counts an incident raised to P0 and lowered again as a P0."""
    incident = declared(Priority.P2)
    incident.change_priority(Priority.P0, reason="r", actor="tom", at=T + minutes(15), now=NOW)
    incident.change_priority(Priority.P2, reason="r", actor="tom", at=T + minutes(25), now=NOW)
    current = stats([incident], now=NOW)
    highest = stats([incident], now=NOW, by="highest_priority")
    assert (1, 0) == (current.group(Priority.P2).incidents, current.group(Priority.P0).incidents)
    assert (0, 1) == (highest.group(Priority.P2).incidents, highest.group(Priority.P0).incidents)
    assert "highest_priority" == highest.to_dict()["by"]
    with pytest.raises(InvalidInput, match="group by one of"):
        stats([incident], now=NOW, by="severity")


# -- approximate times -----------------------------------------------------------------------


def test_any_command_takes_an_approximate_time() -> None:
    """approximately(t) as at: the event holds t and marks occurred_at approximate."""
    incident = declared()
    event = incident.note("around then", actor="tom", at=approximately(T + minutes(5)), now=NOW)
    assert (T + minutes(5), ("occurred_at",)) == (event.occurred_at, event.approximate)
    assert type(event.occurred_at) is datetime
    exact = incident.note("then", actor="tom", at=T + minutes(5), now=NOW)
    assert () == exact.approximate
    assert "approximate" not in codec.dumps(exact)
    assert '"approximate":["occurred_at"]' in codec.dumps(event)


def test_an_approximate_declaration_makes_the_default_onset_approximate() -> None:
    """Declared around a time, nothing said of the onset: the onset is that rough time too."""
    incident = declared(began=None, at=approximately(T))
    assert ("began", "occurred_at") == incident.declaration.approximate


def test_approximately_checks_its_time() -> None:
    """approximately() refuses a naive datetime like every time the library takes."""
    with pytest.raises(InvalidInput):
        approximately(datetime(2019, 7, 2))


# The commands with a time, each called at ``at`` with ``marked`` (approximately()'d or the flag).
_AT_COMMANDS: dict[str, Any] = {
    "validate": lambda i, **t: i.validate("502s", actor="tom", **t),
    "note": lambda i, **t: i.note("rule pushed", actor="tom", **t),
    "post_update": lambda i, **t: i.post_update("investigating", actor="tom", **t),
    "change_impact": lambda i, **t: i.change_impact(ImpactLevel.DEGRADED, actor="tom", **t),
    "log_change": lambda i, **t: i.log_change(what="w", where="x", revert="r", actor="tom", **t),
    "change_priority": lambda i, **t: i.change_priority(Priority.P0, reason="r", actor="tom", **t),
    "dismiss": lambda i, **t: i.dismiss("false alarm", actor="tom", **t),
    "add_factor": lambda i, **t: i.add_factor("no canary", actor="tom", **t),
}


@pytest.mark.parametrize("command", sorted(_AT_COMMANDS))
def test_approximate_true_is_approximately(command: str) -> None:
    """at=t with approximate=True records the very event at=approximately(t) records."""
    when = T + minutes(12)
    flagged = _AT_COMMANDS[command](declared(), at=when, approximate=True, now=NOW)
    wrapped = _AT_COMMANDS[command](declared(), at=approximately(when), now=NOW)
    assert wrapped == flagged
    assert ("occurred_at",) == flagged.approximate
    assert codec.dumps(wrapped) == codec.dumps(flagged)


def test_every_command_with_a_time_takes_the_approximate_flag() -> None:
    """Every Incident method that takes at= takes approximate= beside it."""
    import inspect

    with_at = [
        name
        for name, member in inspect.getmembers(Incident, inspect.isfunction)
        if not name.startswith("_") and "at" in inspect.signature(member).parameters
    ]
    assert len(with_at) > 30
    lacking = [
        name
        for name in with_at
        if "approximate" not in inspect.signature(getattr(Incident, name)).parameters
    ]
    assert [] == lacking


def test_approximate_false_marks_nothing() -> None:
    """approximate=False (the default) records the time as exact."""
    event = declared().note("n", actor="tom", at=T + minutes(12), approximate=False, now=NOW)
    assert () == event.approximate


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"approximate": True}, "no at is given"),
        ({"approximate": {"scheduled_for"}, "at": T + minutes(12)}, "not one of the times"),
        ({"approximate": "at", "at": T + minutes(12)}, "True, False or a collection"),
        ({"approximate": 1, "at": T + minutes(12)}, "True, False or a collection"),
        ({"approximate": True, "at": datetime(2019, 7, 2, 13, 54)}, "timezone-aware"),
    ],
)
def test_nonsense_approximate_is_refused_and_changes_nothing(
    options: dict[str, Any], message: str
) -> None:
    """approximate=True without a time, an unknown name or a non-flag: InvalidInput, no change."""
    incident = declared()
    before = list(incident.history)
    with pytest.raises(InvalidInput, match=message):
        incident.note("n", actor="tom", now=NOW, **options)
    assert before == list(incident.history)


def test_declare_marks_the_times_it_names() -> None:
    """On declare, True marks at; a collection names at, began or detected, as approximately()."""
    times: dict[str, Any] = {"began": T, "detected": T + minutes(3), "at": T + minutes(10)}
    for names in ({"at"}, {"began", "detected"}, {"at", "began", "detected"}):
        wrapped: dict[str, Any] = {
            k: approximately(v) if k in names else v for k, v in times.items()
        }
        expected = declared(**wrapped).declaration
        assert expected == declared(**times, approximate=names).declaration
    assert declared(**times, approximate={"at"}) == declared(**times, approximate=True)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"at": None, "approximate": True}, "no at is given"),
        ({"began": None, "approximate": {"began"}}, "no began is given"),
        ({"approximate": ["onset"]}, "not one of the times"),
    ],
)
def test_declare_refuses_nonsense_approximate(options: dict[str, Any], message: str) -> None:
    """Marking a milestone not given, or one that is not a milestone, is InvalidInput."""
    with pytest.raises(InvalidInput, match=message):
        declared(**options)


def test_the_other_times_of_a_command_may_be_marked() -> None:
    """A meeting's time, an action's due date and a data-loss window keep their approximate mark,
    given by approximately() or named in approximate."""
    incident = declared()
    at: dict[str, Any] = {"actor": "tom", "now": NOW}
    incident.validate("502s", **at)
    incident.mitigate("kill switch", **at)
    incident.verify_recovery("traffic normal", **at)
    incident.announce_yellow("recovered", **at)
    incident.announce_green("all clear", **at)
    meeting = T + timedelta(days=2)
    by_flag = incident.schedule_post_mortem(
        meeting, ["tom"], actor="tom", approximate={"scheduled_for"}, now=NOW
    )
    wrapped = incident.schedule_post_mortem(approximately(meeting), ["tom"], actor="tom", now=NOW)
    assert ("scheduled_for",) == by_flag.approximate == wrapped.approximate
    assert type(wrapped.scheduled_for) is datetime
    loss = incident.record_data_loss(
        "writes",
        window_start=approximately(T),
        window_end=T + minutes(5),
        actor="tom",
        at=T + minutes(20),
        approximate=True,
        now=NOW,
    )
    assert ("occurred_at", "window_start") == loss.approximate
    action = incident.add_action(
        "add a canary", kind=ActionKind.PREVENTIVE, actor="tom",
        due_at=T + timedelta(days=30), approximate={"due_at"}, now=NOW,
    )  # fmt: skip
    assert ("due_at",) == action.approximate


# -- a declaration time not known ------------------------------------------------------------


def unknown_declaration(**kwargs: Any) -> Incident:
    """Began T, detected +3m, declared at some time not known, by +10m at the latest."""
    options: dict[str, Any] = {"at": None, "at_latest": T + minutes(10), "detected": T + minutes(3)}
    options.update(kwargs)
    return declared(Priority.P0, **options)


def test_a_declaration_time_may_be_not_known() -> None:
    """at_latest records the declaration time as not known, the bound standing in its place."""
    incident = unknown_declaration()
    declaration = incident.declaration
    assert ("occurred_at",) == declaration.unknown
    assert declaration.is_unknown()
    assert not declaration.is_unknown("began")
    assert (T + minutes(10), False) == (incident.declared_at, incident.declared_at_known)
    assert (T, T + minutes(3)) == (incident.began_at, incident.detected_at)
    assert () == declaration.approximate
    assert unknown_declaration(at_latest=approximately(T + minutes(10))).declaration.approximate


def test_a_known_declaration_time_is_known() -> None:
    """Declared at a time, or now: known, and the JSON has no unknown key (as written before)."""
    incident = declared()
    assert incident.declared_at_known
    assert () == incident.declaration.unknown
    assert '"unknown"' not in codec.dumps(incident.declaration)


def test_measures_that_need_an_unknown_declaration_time_are_none() -> None:
    """time_to_declare, the declared milestone and the declared state's start are not known."""
    from incidentflow.metrics import Measure, Milestone

    incident = unknown_declaration()
    incident.validate("502s", actor="tom", at=T + minutes(12), now=NOW)
    figures = incident.measures()
    assert (None, minutes(3)) == (
        figures.values["time_to_declare"],
        figures.values["time_to_detect"],
    )
    assert [None, None, None] == [
        Milestone(name).at(incident) for name in ("declared", "first:declared", "last:declared")
    ]
    assert None is Measure.parse("x=declared..validated").of(incident)
    assert minutes(7) == declared(detected=T + minutes(3)).measures().values["time_to_declare"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"at": T + minutes(10)}, "not both"),
        ({"began": None, "detected": None}, "give began"),
        ({"at_latest": datetime(2019, 7, 2, 13, 52)}, "timezone-aware"),
    ],
)
def test_nonsense_unknown_declarations_are_refused(options: dict[str, Any], message: str) -> None:
    """at with at_latest, or no onset to fall back on: InvalidInput."""
    with pytest.raises(InvalidInput, match=message):
        unknown_declaration(**options)


def test_the_bound_keeps_the_milestones_in_order() -> None:
    """The declaration came no later than the bound: a bound before the detection is refused."""
    with pytest.raises(RuleViolated) as info:
        unknown_declaration(at_latest=T + minutes(2))
    assert ("milestones_in_order",) == info.value.rules
    assert unknown_declaration(at_latest=T + minutes(3)).declared_at == T + minutes(3)


def test_only_a_declaration_with_an_onset_may_have_an_unknown_time() -> None:
    """The event itself refuses unknown times but the declaration's, and without began."""
    event = unknown_declaration().declaration
    import attrs

    with pytest.raises(InvalidInput, match="only the declaration time"):
        attrs.evolve(event, unknown=("began",))
    with pytest.raises(InvalidInput, match="must give began"):
        attrs.evolve(event, began=None)
    with pytest.raises(InvalidInput, match="only the declaration time"):
        attrs.evolve(event, unknown=["occurred_at"])  # type: ignore[arg-type]  # a list is refused


def test_an_unknown_declaration_round_trips_and_replays() -> None:
    """The unknown mark survives the codec and a replay."""
    incident = unknown_declaration()
    incident.note("n", actor="tom", at=T + minutes(11), now=NOW)
    text = codec.dump_lines(incident.history)
    assert '"unknown":["occurred_at"]' in text
    assert incident == Incident.replay(codec.load_lines(text))


def test_amending_an_unknown_declaration_time_makes_it_known() -> None:
    """amend declared gives the declaration the time found since: known from then on."""
    incident = unknown_declaration()
    incident.amend(
        "declared", (T + minutes(8)).isoformat(), reason="found the page", actor="tom", now=NOW
    )
    assert (T + minutes(8), True) == (incident.declared_at, incident.declared_at_known)
    assert minutes(5) == incident.measures().values["time_to_declare"]
    original = incident.history[0]
    assert isinstance(original, ev.Declared)
    assert original.is_unknown()  # the original stays in the history


def test_an_unknown_declaration_time_is_amended_to_its_very_bound() -> None:
    """Found to be the bound itself: the amendment changes what is known, so it is taken."""
    incident = unknown_declaration()
    bound = incident.history[0].occurred_at
    incident.amend("declared", bound.isoformat(), reason="it was the bound", actor="tom", now=NOW)
    correction = incident.corrections[-1]
    assert (bound, True) == (incident.declared_at, incident.declared_at_known)
    assert (f"not known (by {bound.isoformat()})", bound.isoformat()) == (
        correction.before,
        correction.value,
    )
    again = refused(
        lambda: incident.amend("declared", bound.isoformat(), reason="r", actor="tom", now=NOW)
    )
    assert ("amendment_changes",) == again.rules


def test_documents_say_the_declaration_time_is_not_known() -> None:
    """The RCA's detection, its summary, the meeting agenda: "not known (by ...)"."""
    from incidentflow.documents import agenda, rca_document

    incident = unknown_declaration()
    text = rca_document(incident, now=NOW).markdown()
    assert "**Declared:** not known (by 2019-07-02 13:52 UTC)" in text
    assert "When it was declared is not known (by 2019-07-02 13:52 UTC)." in text
    assert "| by 13:52 | tom declared P0" in text
    agenda_text = agenda(incident).markdown()
    assert "declared not known (by 2019-07-02 13:52 UTC)" in agenda_text
    assert "by 2019-07-02 13:52 UTC — tom declared P0" in agenda_text
    known = rca_document(declared(), now=NOW).markdown()
    assert "not known" not in known


# -- data loss as far as it is known ---------------------------------------------------------


def test_a_data_loss_window_may_be_not_known() -> None:
    """What and how much without a window, or with one end: the rest stays unknown, and the
    length of lost writes is not known (None), not a made-up zero."""
    from incidentflow.metrics import data_loss_window

    incident = declared()
    at: dict[str, Any] = {"actor": "tom", "now": NOW}
    loss = incident.record_data_loss(
        "webhook payloads", amount="about 200,000", at=T + minutes(20), **at
    )
    assert (None, None) == (loss.window_start, loss.window_end)
    assert '"window_start":null,"window_end":null' in codec.dumps(loss)
    assert None is incident.data_losses["L1"].window
    half = incident.record_data_loss("writes", window_start=T, at=T + minutes(20), **at)
    assert (T, None) == (half.window_start, half.window_end)
    assert None is data_loss_window(incident)
    whole = declared()
    whole.record_data_loss("writes", window_start=T, window_end=T + minutes(5), **at)
    assert 300.0 == data_loss_window(whole)
    assert incident == Incident.replay(codec.load_lines(codec.dump_lines(incident.history)))


def test_measures_carry_the_data_loss() -> None:
    """Measures count the data-loss records and give the lost window's length: None when
    nothing is recorded or a window is not wholly known; marked approximate when an end is."""
    at: dict[str, Any] = {"actor": "tom", "now": NOW}
    nothing = declared().measures()
    assert (0, None) == (nothing.data_losses, nothing.data_loss_window)
    assert (0, None) == (nothing.to_dict()["data_losses"], nothing.to_dict()["data_loss_window"])
    known = declared()
    known.record_data_loss("writes", window_start=T, window_end=T + minutes(5), **at)
    known.record_data_loss(
        "more writes", window_start=T + minutes(3), window_end=T + minutes(9), **at
    )
    figures = known.measures()
    assert (2, minutes(9)) == (figures.data_losses, figures.data_loss_window)
    assert (2, 540.0) == (figures.to_dict()["data_losses"], figures.to_dict()["data_loss_window"])
    assert "data_loss_window" not in figures.approximate
    rough = declared()
    rough.record_data_loss("writes", window_start=approximately(T), window_end=T + minutes(5), **at)
    assert {"data_loss_window"} <= rough.measures().approximate
    partly = declared()
    partly.record_data_loss("writes", window_start=T, **at)
    assert (1, None) == (partly.measures().data_losses, partly.measures().data_loss_window)


def test_a_known_window_end_still_keeps_its_rules() -> None:
    """An end after the stamp is in the future; a start after the end is out of order."""
    incident = declared()
    at: dict[str, Any] = {"actor": "tom", "now": NOW}
    assert ("not_in_future",) == refused(
        lambda: incident.record_data_loss("w", window_end=NOW + timedelta(days=1), **at)
    ).rules
    assert ("window_in_order",) == refused(
        lambda: incident.record_data_loss("w", window_start=T, window_end=T - US, **at)
    ).rules
    assert 1 == incident.version


def test_documents_show_what_of_a_window_is_known() -> None:
    """The RCA's data-loss table and timeline say which ends are not known."""
    from incidentflow.documents import rca_document

    incident = declared()
    at: dict[str, Any] = {"actor": "tom", "now": NOW}
    incident.record_data_loss("payloads", amount="200,000", at=T + minutes(20), **at)
    incident.record_data_loss("writes", window_start=T, at=T + minutes(20), **at)
    text = rca_document(incident, now=NOW).markdown()
    assert "| L1 | payloads | not known | not known | 200,000 |" in text
    assert "| L2 | writes | 2019-07-02 13:42 UTC to a time not known | not known |" in text
    assert "payloads, written at times not known (200,000)" in text


# -- measures ---------------------------------------------------------------------------------


def recorded_from_a_postmortem() -> Incident:
    """Began T (approximately); detected +3m; declared +10m; first update +15m; recovery +30m;
    impact: major from T, partial from +20m, operational from +27m; yellow +30m, green +60m."""
    incident = declared(Priority.P0, began=approximately(T), detected=T + minutes(3))
    at: dict[str, Any] = {"actor": "tom", "now": NOW}
    incident.change_impact(ImpactLevel.MAJOR_OUTAGE, at=T, **at)
    incident.validate("502s", at=T + minutes(10), **at)
    incident.post_update("investigating", at=T + minutes(15), **at)
    incident.mitigate("global kill switch", at=T + minutes(20), **at)
    incident.change_impact(ImpactLevel.PARTIAL_OUTAGE, at=T + minutes(20), **at)
    incident.change_impact(ImpactLevel.OPERATIONAL, at=T + minutes(27), **at)
    incident.verify_recovery("traffic normal", at=T + minutes(30), **at)
    incident.announce_yellow("recovered", at=T + minutes(30), **at)
    incident.announce_green("all clear", at=T + minutes(60), **at)
    return incident


def test_measures_use_when_things_happened() -> None:
    """Recorded years later, every measure is from the occurrence times; unknown ones None."""
    figures = recorded_from_a_postmortem().measures()
    assert {
        "time_to_detect": minutes(3),
        "time_to_declare": minutes(7),
        "time_to_first_communication": minutes(15),
        "time_to_mitigate": minutes(30),
        "time_to_yellow": minutes(30),
        "time_to_green": minutes(60),
        "impact_duration": minutes(27),
        "time_to_report": None,
        "time_to_post_mortem": None,
    } == dict(figures.values)
    assert {
        ImpactLevel.OPERATIONAL: timedelta(0),
        ImpactLevel.DEGRADED: timedelta(0),
        ImpactLevel.PARTIAL_OUTAGE: minutes(7),
        ImpactLevel.MAJOR_OUTAGE: minutes(20),
    } == dict(figures.impact_by_level or {})


def test_a_measure_from_an_approximate_time_is_approximate() -> None:
    """Every measure starting at an approximate onset is flagged; time_to_declare is not."""
    figures = measure(recorded_from_a_postmortem())
    assert {
        "time_to_detect",
        "time_to_first_communication",
        "time_to_mitigate",
        "time_to_yellow",
        "time_to_green",
        "impact_duration",
    } == figures.approximate
    data = figures.to_dict()
    assert (180.0, 420.0, None) == (
        data["time_to_detect"],
        data["time_to_declare"],
        data["time_to_report"],
    )
    assert 1200.0 == data["impact_by_level"]["major_outage"]
    assert "time_to_declare" not in data["approximate"]


def test_first_communication_is_the_first_update_or_the_announcement() -> None:
    """Whichever came first: here the announcement link, before any update."""
    incident = declared()
    incident.link(LinkKind.ANNOUNCEMENT, "https://status.example.com/1", actor="tom",
                  at=T + minutes(12), now=NOW)  # fmt: skip
    incident.post_update("investigating", actor="tom", at=T + minutes(15), now=NOW)
    assert minutes(12) == incident.measures().values["time_to_first_communication"]


def test_impact_still_lasting_has_no_duration() -> None:
    """While the last phase is an outage, impact_duration is unknown and that phase uncounted."""
    incident = declared()
    incident.change_impact(ImpactLevel.MAJOR_OUTAGE, actor="tom", at=T, now=NOW)
    incident.change_impact(ImpactLevel.DEGRADED, actor="tom", at=T + minutes(5), now=NOW)
    figures = incident.measures()
    assert None is figures.values["impact_duration"]
    assert minutes(5) == (figures.impact_by_level or {})[ImpactLevel.MAJOR_OUTAGE]
    assert timedelta(0) == (figures.impact_by_level or {})[ImpactLevel.DEGRADED]


def test_stats_carry_the_new_measures_per_priority() -> None:
    """stats --json names the same measures, with median and p90, and impact by level."""
    data = stats([recorded_from_a_postmortem()], now=NOW).to_dict()
    p0 = data["groups"][1]
    assert "P0" == p0["priority"]
    assert (180.0, 180.0) == (
        p0["measures"]["time_to_detect"]["median"],
        p0["measures"]["time_to_detect"]["p90"],
    )
    assert 1620.0 == p0["measures"]["impact_duration"]["median"]
    assert 1200.0 == p0["measures"]["impact_by_level"]["major_outage"]["median"]


# -- the retrospective policy -----------------------------------------------------------------


def test_named_policies_are_listed_and_built_by_name() -> None:
    """default, permissive and retrospective, each built by Policy.named."""
    assert ["default", "permissive", "retrospective"] == list(NAMED_POLICIES)
    assert list(NAMED_POLICIES) == [Policy.named(n).name for n in NAMED_POLICIES]
    with pytest.raises(PolicyError, match="no built-in policy is called 'lenient'"):
        Policy.named("lenient")


def test_retrospective_requires_nothing_the_record_may_not_know() -> None:
    """No links, roles, customer verification or invitations; no cadence owed; actions vague."""
    for priority in Priority:
        rules = RETRO.rules_for(priority)
        assert (frozenset(), frozenset(), False, frozenset(), False, False) == (
            rules.required_links,
            rules.required_roles,
            rules.customer_verification,
            rules.invite_roles,
            rules.enforce_cadence,
            rules.action_owner_and_due,
        )
    incident = _at_yellow(Priority.P0)  # mitigated with nobody staffed, nothing linked
    assert [] == [o.kind for o in incident.due(NOW) if o.kind == "stakeholder_update"]
    item = incident.add_action("add a canary", kind=ActionKind.PREVENTIVE, actor="tom", now=NOW)
    assert (None, None) == (item.owner, item.due_at)
    assert ("A1", "add a canary") == (incident.action_items["A1"].id, item.description)


def test_the_default_policy_still_asks_for_owner_and_due() -> None:
    """Under the default policy an action item without owner and due time is refused."""
    incident = Incident.declare("INC-1", "t", Priority.P3, actor="ana", now=NOW)
    error = refused(lambda: incident.add_action("x", kind=ActionKind.CORRECTIVE, actor="ana",
                                                now=NOW))  # fmt: skip
    assert ("action_owner_and_due",) == error.rules
    assert "owner and due_at" in error.unmet[0].detail


def test_retrospective_keeps_authorization_of_the_people_recorded() -> None:
    """Once someone holds a role, an outsider may not act even where nobody holds the allowed
    roles; the Recorder who writes the incident down may issue every command."""
    incident = declared(began=None, detected=None)
    incident.assign(Role.RECORDER, "tom", actor="tom", now=NOW)
    incident.assign(Role.INCIDENT_COMMANDER, "alice", actor="tom", now=NOW)
    outsider = refused(lambda: incident.post_update("hi", actor="mallory", now=NOW))
    assert isinstance(outsider, NotAuthorized)
    assert outsider.rules == ("authorized",)
    refused(lambda: incident.validate("real", actor="mallory", now=NOW))
    incident.validate("real", actor="tom", now=NOW)  # the Recorder
    incident.post_update("investigating", actor="alice", now=NOW)  # the IC
    assert 1 == len(incident.updates)


def test_unstaffed_open_to_staff_is_a_setting_apart_from_what_is_required() -> None:
    """With nobody required, the default still opens unheld commands to anyone; "staff" opens
    them only to people holding a role (and to anyone while nobody does)."""
    open_p3 = Policy.from_toml('name = "x"\n[priorities.P3]\nrequired_roles = []\n')
    staff = Policy.from_toml(
        'name = "y"\nunstaffed_open_to = "staff"\n[priorities.P3]\nrequired_roles = []\n'
    )
    for policy, outsider_may in ((open_p3, True), (staff, False)):
        incident = Incident.declare("INC-1", "t", Priority.P3, actor="ana", now=NOW,
                                    policy=policy)  # fmt: skip
        assert incident.allowed_commands("zed") >= {"validate", "post_update"}  # nobody staffed
        incident.assign(Role.RECORDER, "ana", actor="ana", now=NOW)
        assert outsider_may == ("validate" in incident.allowed_commands("zed"))
        assert "validate" in incident.allowed_commands("ana")
    with pytest.raises(PolicyError, match="unstaffed_open_to must be 'anyone' or 'staff'"):
        Policy.from_toml('unstaffed_open_to = "nobody"')


def test_a_whole_past_incident_replays_under_its_recorded_policy() -> None:
    """Recorded under the retrospective policy, the history replays equal through the codec."""
    incident = recorded_from_a_postmortem()
    incident.note("the rule was pushed", actor="tom", at=approximately(T - minutes(2)), now=NOW)
    lines = codec.dump_lines(incident.history)
    assert incident == Incident.replay(codec.load_lines(lines))
    assert "retrospective" == incident.policy.name


def test_every_kind_of_milestone_can_be_approximate() -> None:
    """Detection, declaration, the declared state's start and the meeting's time each carry
    their own approximate mark into the measures that rest on them."""
    from incidentflow.metrics import Measure

    incident = declared(
        began=T, detected=approximately(T + minutes(3)), at=approximately(T + minutes(10))
    )
    incident.validate("502s", actor="tom", at=T + minutes(12), now=NOW)
    pairs = {
        "a": "began..detected",
        "b": "detected..declared",
        "c": "began..first:declared",
        "d": "began..validated",
    }
    chosen = [Measure.parse(f"{name}={span}") for name, span in pairs.items()]
    assert {"a", "b", "c"} == measure(incident, measures=chosen).approximate
    incident.dismiss("no", actor="tom", at=T + minutes(13), now=NOW)
    chosen = [Measure.parse("e=began..dismissed"), Measure.parse("f=began..post_mortem_meeting")]
    assert frozenset() == measure(incident, measures=chosen).approximate


def test_an_approximate_time_says_so() -> None:
    """ApproximateTime's repr shows the call that makes it."""
    assert "approximately(datetime.datetime(2019, 7, 2, 13, 42, tzinfo=datetime.timezone.utc))" == (
        repr(approximately(T))
    )


def test_the_agenda_marks_approximate_times() -> None:
    """The meeting agenda's background and timeline carry "≈" on a rough onset, move or note."""
    from incidentflow.documents import agenda

    incident = declared(began=approximately(T))
    incident.note("rule pushed", actor="tom", at=T + minutes(1), approximate=True, now=NOW)
    incident.validate("502s", actor="tom", at=T + minutes(11), now=NOW)
    incident.mitigate("kill", actor="tom", at=T + minutes(12), approximate=True, now=NOW)
    text = agenda(incident).markdown()
    assert "Began ≈ 2019-07-02 13:42 UTC; declared 2019-07-02 13:52 UTC" in text
    assert "Moved from declared to mitigating at ≈ 2019-07-02 13:54 UTC" in text
    assert "≈ 2019-07-02 13:43 UTC — tom noted" in text


def test_the_rca_timeline_marks_precursors_and_approximate_times() -> None:
    """In the RCA's timeline, a precursor reads "before impact" and a rough time has ≈."""
    from incidentflow.documents import rca_document

    incident = declared()
    incident.note("the rule was pushed", actor="tom", at=approximately(T - minutes(2)), now=NOW)
    text = rca_document(incident, now=NOW).markdown()
    assert "| ≈13:40 | Before impact: tom noted" in text


@settings(max_examples=40, deadline=None)
@given(incidents(), st.integers(min_value=1, max_value=3000))
def test_recording_later_changes_no_measure(incident: Incident, days: int) -> None:
    """The same history stamped days later (every occurrence kept) replays to the same measures:
    measures read when things happened, never when they were written down."""
    import attrs

    later = [
        attrs.evolve(e, recorded_at=e.recorded_at + timedelta(days=days)) for e in incident.history
    ]
    replayed = Incident.replay(later)
    assert incident.measures() == replayed.measures()
    assert (incident.began_at, incident.declared_at) == (
        replayed.began_at,
        replayed.declared_at,
    ) or (
        incident.declaration.began is None  # the older form: its stamp is the declaration
    )
