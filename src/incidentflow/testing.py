"""Hypothesis strategies for property-testing code that embeds incidentflow.

Needs the ``testing`` extra (``pip install 'incidentflow[testing]'``).  The strategies build
only valid values: events whose fields pass validation, policies that load, and incidents
reached by random walks of accepted commands — so an embedder's automation can be tested
against every shape of incident the rules allow.

>>> from hypothesis import given
>>> @given(incidents())
... def test_my_bot_never_crashes(incident):
...     assert incident.history[0].type == "declared"
>>> test_my_bot_never_crashes()
"""

from __future__ import annotations

import contextlib
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_type_hints

import attrs
from hypothesis import strategies as st

from .clock import ManualClock, approximately
from .corrections import AMENDABLE
from .errors import CommandRefused
from .events import EVENT_TYPES, Declared, Event, RecordedPolicy, _time_fields
from .identities import IDENTITY_FIELDS, is_invisible
from .incident import Incident
from .lifecycle import EDGES, State
from .policy import COMMANDS, DEFAULT_POLICY, Policy, PriorityRules
from .priorities import Priority
from .records import (
    ActionKind,
    ChangeOutcome,
    DetectionMethod,
    FishboneCategory,
    ImpactLevel,
    LinkKind,
    NoteKind,
    Verdict,
)
from .roles import Role

__all__ = [
    "actors",
    "aware_datetimes",
    "events",
    "identities",
    "incidents",
    "policies",
    "recorded_policies",
    "texts",
]


def aware_datetimes(
    *, min_value: datetime = datetime(2000, 1, 1), max_value: datetime = datetime(2100, 1, 1)
) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes, in UTC and in fixed offsets from -12h to +14h."""
    offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
        lambda m: timezone(timedelta(minutes=m))
    )
    return st.datetimes(
        min_value=min_value.replace(tzinfo=None),
        max_value=max_value.replace(tzinfo=None),
        timezones=st.one_of(st.just(UTC), offsets),
    )


def texts(*, max_size: int = 40) -> st.SearchStrategy[str]:
    """Non-blank text, any Unicode, including characters that need escaping."""
    return st.text(min_size=1, max_size=max_size).filter(lambda s: s.strip() != "")


def identities(*, max_size: int = 20) -> st.SearchStrategy[str]:
    """Names the rules accept (see :mod:`incidentflow.identities`): any script, in NFC.

    Letters, marks, digits, punctuation and symbols of any script, with plain spaces inside.
    """
    visible = st.characters(exclude_categories=["Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"])
    return (
        st.text(st.one_of(visible, st.just(" ")), min_size=1, max_size=max_size)
        .map(lambda s: unicodedata.normalize("NFC", s))
        .filter(lambda s: s.strip() == s != "" and not any(map(is_invisible, s)))
    )


_PAST = datetime(2025, 1, 1)
"""The latest recorded stamp drawn: a store refuses stamps from the future."""


def actors() -> st.SearchStrategy[str]:
    """Plausible people's handles."""
    return st.sampled_from(["ana", "bo", "cy", "di", "eli", "fay", "gus", "hal"])


def _field_strategy(name: str, kind: Any) -> st.SearchStrategy[Any]:
    if kind is datetime:
        return aware_datetimes(max_value=_PAST) if name == "recorded_at" else aware_datetimes()
    if kind == datetime | None:
        return st.one_of(st.none(), aware_datetimes())
    if kind is bool:
        return st.booleans()
    if kind == tuple[str, ...]:
        smallest = 0 if name == "components" else 1
        return st.lists(identities(max_size=12), min_size=smallest, max_size=5, unique=True).map(
            tuple
        )
    if kind == str | None:  # an owner not known
        return st.one_of(st.none(), identities())
    if kind == float | None:  # a share affected, whole or not
        return st.one_of(
            st.none(),
            st.integers(min_value=0, max_value=100),
            st.floats(min_value=0, max_value=100, allow_nan=False),
        )
    if name in IDENTITY_FIELDS:
        return identities()
    if isinstance(kind, type) and kind in (
        Priority,
        Role,
        State,
        LinkKind,
        Verdict,
        ChangeOutcome,
        ActionKind,
        NoteKind,
        ImpactLevel,
    ):
        return st.sampled_from(list(kind))
    if kind is int:  # an entry's number
        return st.integers(min_value=1, max_value=10_000)
    if kind == int | None:  # a why's depth; None as written before depths were recorded
        return st.one_of(st.none(), st.integers(min_value=1, max_value=50))
    if kind == str | None:  # the chain a branch branches off
        return st.one_of(st.none(), identities())
    if name == "field_name":
        return st.sampled_from(sorted(AMENDABLE))
    if kind == DetectionMethod | None:
        return st.one_of(st.none(), st.sampled_from(list(DetectionMethod)))
    if kind == FishboneCategory | None:
        return st.one_of(st.none(), st.sampled_from(list(FishboneCategory)))
    if kind is RecordedPolicy:
        return recorded_policies()
    if kind == RecordedPolicy | None:  # None: a declaration written before policies were recorded
        return st.one_of(st.none(), recorded_policies())
    if name in ("note", "location", "impact", "amount", "detected_by"):
        return st.one_of(st.just(""), texts())
    return texts()


def events(*types: type[Event]) -> st.SearchStrategy[Event]:
    """Any event (or any of ``types``), each field drawn from the values it accepts."""
    chosen = types or tuple(EVENT_TYPES.values())
    return st.one_of([_event_strategy(k) for k in chosen])


_BUILT: dict[str, st.SearchStrategy[Event]] = {}


def _event_strategy(kind: type[Event]) -> st.SearchStrategy[Event]:
    """One event class's strategy, built once: reading type hints is slow."""
    if kind.type not in _BUILT:
        hints = get_type_hints(kind)
        names = [f.name for f in attrs.fields(kind) if f.name not in ("approximate", "unknown")]
        fields = {n: _field_strategy(n, hints[n]) for n in names}
        fields["approximate"] = _approximate(kind)
        built = st.builds(kind, **fields)
        if kind is Declared:  # a declaration time not known: only with an onset given
            built = st.tuples(built, st.booleans()).map(_unknown_declaration)
        _BUILT[kind.type] = built
    return _BUILT[kind.type]


def _unknown_declaration(drawn: tuple[Event, bool]) -> Event:
    """The declaration drawn, its time recorded as not known when drawn so and it can be."""
    event, unknown = drawn
    if unknown and isinstance(event, Declared) and event.began is not None:
        return attrs.evolve(event, unknown=("occurred_at",))
    return event


def _approximate(kind: type[Event]) -> st.SearchStrategy[tuple[str, ...]]:
    """Which of an event's times are approximate: any of them, or (mostly) none."""
    times = sorted(_time_fields(kind))
    return st.lists(st.sampled_from(times), unique=True).map(lambda names: tuple(sorted(names)))


def policies() -> st.SearchStrategy[Policy]:
    """Valid policies: random names, per-priority rules, authorization and Five Whys depth."""
    role_sets = st.frozensets(st.sampled_from(list(Role)), min_size=1)
    rules = st.builds(
        PriorityRules,
        required_links=st.frozensets(st.sampled_from(list(LinkKind))),
        required_roles=st.frozensets(st.sampled_from(list(Role))),
        update_every=st.integers(min_value=1, max_value=120).map(lambda m: timedelta(minutes=m)),
        customer_verification=st.booleans(),
        invite_roles=st.frozensets(st.sampled_from(list(Role))),
        post_mortem_within=st.integers(min_value=1, max_value=14).map(lambda d: timedelta(days=d)),
        accept_unknown=st.booleans(),
        whys_depth=st.one_of(st.none(), st.integers(min_value=1, max_value=7)),
        operational_before_green=st.booleans(),
        enforce_cadence=st.booleans(),
        action_owner_and_due=st.booleans(),
    )

    return st.builds(
        Policy,
        name=st.sampled_from(["default", "team", "strict", "night shift"]),
        priorities=st.fixed_dictionaries(dict.fromkeys(Priority, rules)),
        authorization=st.dictionaries(st.sampled_from(COMMANDS), st.one_of(st.none(), role_sets)),
        whys_depth=st.integers(min_value=1, max_value=7),
        open_when_unstaffed=st.booleans(),
        unstaffed_open_to=st.sampled_from(["anyone", "staff"]),
    )


def recorded_policies() -> st.SearchStrategy[RecordedPolicy]:
    """Policies as incidents record them: valid policies' names, whole TOML and digests."""
    return policies().map(Policy.recorded)


_STEPS = st.sampled_from(
    [
        "validate", "link", "assign", "hand_off", "release", "start_experiment",
        "conclude_experiment", "note", "post_update", "log_change", "reconcile_change",
        "add_why", "add_root_cause", "add_factor", "verify_recovery", "verify_customer",
        "open_debt", "close_debt", "start_report", "schedule_post_mortem", "add_action",
        "close_action", "change_priority", "move", "record_role_unknown", "record_link_absent",
        "note_discrepancy", "add_branch", "record_data_loss", "amend", "retract",
        "change_impact", "add_precursor", "add_vague_action",
    ]
)  # fmt: skip


def _attempt(incident: Incident, step: str, draw: Any) -> None:
    """Issue one random command as a random actor; refusals are ignored."""
    people = ["ana", "bo", "cy", "di"]
    actor = draw(st.sampled_from(people))

    def pick(items: Any) -> str:
        choice: str = draw(st.sampled_from(sorted(items) or ["none"]))
        return choice

    args: dict[str, Any] = {"actor": actor}
    if draw(st.integers(min_value=0, max_value=5)) == 0:  # now and then, "around then"
        args["at"] = approximately(incident.clock.now())
    calls: dict[str, Any] = {
        "validate": lambda: incident.validate(
            "seen on dashboards", impact="customers cannot deploy", **args
        ),
        "link": lambda: incident.link(draw(st.sampled_from(list(LinkKind))), "https://x", **args),
        "assign": lambda: incident.assign(
            draw(st.sampled_from(list(Role))), draw(st.sampled_from(people)), **args
        ),
        "hand_off": lambda: incident.hand_off(
            (role := draw(st.sampled_from(list(Role)))),
            pick(incident.holders(role)),
            draw(st.sampled_from(people)),
            **args,
        ),
        "release": lambda: incident.release(
            (role := draw(st.sampled_from(list(Role)))), pick(incident.holders(role)), **args
        ),
        "start_experiment": lambda: incident.start_experiment(
            hypothesis="h", action="a", expected="e",
            component=draw(st.sampled_from(["db", "api", "dns"])),
            owner=pick(incident.holders(Role.INCIDENT_COMMANDER)), **args,
        ),
        "conclude_experiment": lambda: incident.conclude_experiment(
            pick(incident.experiments), observed="o",
            verdict=draw(st.sampled_from(list(Verdict))), **args,
        ),
        "note": lambda: incident.note("a note", **args),
        "post_update": lambda: incident.post_update(
            "an update", no_progress=draw(st.booleans()), **args
        ),
        "log_change": lambda: incident.log_change(what="w", where="x", revert="r", **args),
        "reconcile_change": lambda: incident.reconcile_change(
            pick(incident.manual_changes), draw(st.sampled_from(list(ChangeOutcome))), **args
        ),
        "add_why": lambda: incident.add_why("because", **args),
        "add_root_cause": lambda: incident.add_why("the root", root_cause=True, **args),
        "add_factor": lambda: incident.add_factor(
            "a factor", category=draw(st.sampled_from(list(FishboneCategory))), **args
        ),
        "verify_recovery": lambda: incident.verify_recovery("graphs", **args),
        "verify_customer": lambda: incident.verify_customer("acme", "works", **args),
        "open_debt": lambda: incident.open_debt("temporary fix", **args),
        "close_debt": lambda: incident.close_debt(pick(incident.tech_debt), **args),
        "start_report": lambda: incident.start_report(**args),
        "schedule_post_mortem": lambda: incident.schedule_post_mortem(
            incident.clock.now() + timedelta(days=1), people, **args
        ),
        "add_action": lambda: incident.add_action(
            "fix it", owner="bo", due_at=incident.clock.now() + timedelta(days=7),
            kind=draw(st.sampled_from(list(ActionKind))), **args,
        ),
        "close_action": lambda: incident.close_action(pick(incident.action_items), **args),
        "change_priority": lambda: incident.change_priority(
            draw(st.sampled_from(list(Priority))), reason="impact changed", **args
        ),
        "record_role_unknown": lambda: incident.record_role_unknown(
            draw(st.sampled_from(list(Role))), reason="no source names one", **args
        ),
        "record_link_absent": lambda: incident.record_link_absent(
            draw(st.sampled_from(list(LinkKind))), reason="none was made", **args
        ),
        "note_discrepancy": lambda: incident.note(
            "the sources disagree", kind=NoteKind.DISCREPANCY, **args
        ),
        "add_branch": lambda: incident.add_why(
            "a jointly sufficient cause", chain=draw(st.sampled_from(["b1", "b2"])),
            branches_from=pick(incident.why_chains), root_cause=draw(st.booleans()), **args,
        ),
        "record_data_loss": lambda: incident.record_data_loss(
            "writes to db-1", window_start=incident.began_at,
            window_end=incident.began_at + timedelta(minutes=draw(st.integers(0, 30))),
            amount=draw(st.sampled_from(["", "about 40 rows"])), **args,
        ),
        "amend": lambda: incident.amend(
            (name := draw(st.sampled_from(sorted(AMENDABLE)))),
            draw(_amended_values(incident, name)),
            entry=None if AMENDABLE[name].own else draw(_entries(incident)),
            reason="the source says otherwise", **args,
        ),
        "retract": lambda: incident.retract(
            draw(_entries(incident)), reason="recorded by mistake", **args
        ),
        "move": lambda: incident.move(
            draw(st.sampled_from([e.target for e in EDGES.values()])), message="moving", **args
        ),
        "change_impact": lambda: incident.change_impact(
            draw(st.sampled_from(list(ImpactLevel))), "what users see",
            components=draw(st.lists(st.sampled_from(["api", "web", "db"]), unique=True)),
            share=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=100))), **args,
        ),
        "add_precursor": lambda: incident.log_change(
            what="deployed", where="api", revert="roll back", actor=actor,
            at=incident.began_at - timedelta(days=draw(st.integers(min_value=0, max_value=31))),
        ),
        "add_vague_action": lambda: incident.add_action(
            "fix it somehow", kind=draw(st.sampled_from(list(ActionKind))), **args
        ),
    }  # fmt: skip
    with contextlib.suppress(CommandRefused):
        calls[step]()


def _entries(incident: Incident) -> st.SearchStrategy[int]:
    """An entry's number, mostly one that exists."""
    return st.integers(min_value=1, max_value=incident.version + 1)


def _amended_values(incident: Incident, name: str) -> st.SearchStrategy[str]:
    """Values a random amendment of ``name`` gives: mostly valid, now and then not."""
    if name in ("began", "declared", "time"):
        return st.integers(min_value=-90, max_value=30).map(
            lambda m: (incident.began_at + timedelta(minutes=m)).isoformat()
        )
    if name == "priority":
        return st.sampled_from([p.value for p in Priority])
    if name == "invitees":
        return st.sampled_from(["ana, bo, cy, di", "ana", "bo, cy"])
    return st.sampled_from(["corrected text", "as the source has it"])


_WHYS = range(1, 8)


def _script(incident: Incident) -> list[Any]:
    """The runbook's happy path, one call per step, for the walk to make progress."""
    later = incident.clock.now() + timedelta(days=30)
    lead = "ana"
    steps: list[Any] = [
        lambda: incident.assign(Role.LEAD, "ana", actor=lead),
        lambda: incident.assign(Role.INCIDENT_COMMANDER, "bo", actor=lead),
        lambda: incident.assign(Role.COMMUNICATOR, "cy", actor=lead),
        lambda: incident.assign(Role.RECORDER, "di", actor=lead),
        lambda: incident.validate("seen on dashboards", actor=lead),
        *(lambda k=k: incident.link(k, f"https://x.test/{k.value}", actor=lead) for k in LinkKind),
        lambda: incident.move(State.MITIGATING, message="mitigating", actor=lead),
        lambda: incident.verify_recovery("error rate back to normal", actor=lead),
        lambda: incident.move(State.YELLOW, message="resolved (yellow)", actor=lead),
        lambda: incident.verify_customer("acme", "deploys work again", actor=lead),
        lambda: incident.change_impact(ImpactLevel.OPERATIONAL, "recovered", actor=lead),
        lambda: incident.move(State.GREEN, message="resolved (green)", actor=lead),
        *(lambda n=n: incident.add_why(f"why {n}", root_cause=n == 7, actor=lead) for n in _WHYS),
        lambda: incident.start_report(actor=lead),
        lambda: incident.move(State.REPORTED, message="reported", actor=lead),
        lambda: incident.schedule_post_mortem(later, ["ana", "bo", "cy", "di"], actor=lead),
        lambda: incident.move(State.POST_MORTEM, message="post-mortem", actor=lead),
    ]  # fmt: skip
    return steps


@st.composite
def incidents(draw: Any, *, policy: Policy = DEFAULT_POLICY, max_steps: int = 60) -> Incident:
    """Incidents reached by a random walk of commands under ``policy``.

    The walk follows the runbook's happy path to a random point, with random commands by
    random actors in between; refused commands are skipped, so every drawn incident is one the
    rules allow.
    """
    clock = ManualClock(draw(aware_datetimes(min_value=datetime(2020, 1, 1), max_value=_PAST)))
    priority = draw(st.sampled_from(list(Priority)))
    # The onset and detection, some minutes before the declaration, or not recorded.
    lead = [draw(st.integers(min_value=0, max_value=90)) for _ in range(2)]
    began = clock.now() - timedelta(minutes=max(lead)) if draw(st.booleans()) else None
    detected = clock.now() - timedelta(minutes=min(lead)) if draw(st.booleans()) else None
    incident = Incident.declare("INC-1", "a drawn incident", priority, actor="ana", policy=policy,
                                clock=clock, began=began, detected=detected)  # fmt: skip
    script = _script(incident)
    progress = draw(st.integers(min_value=0, max_value=len(script)))
    noise = iter(draw(st.lists(_STEPS, max_size=max_steps)))
    for planned in script[:progress]:
        for step in noise:
            clock.advance(minutes=draw(st.integers(min_value=0, max_value=20)))
            _attempt(incident, step, draw)
            if draw(st.booleans()):
                break
        clock.advance(minutes=draw(st.integers(min_value=0, max_value=20)))
        with contextlib.suppress(CommandRefused):
            planned()
    return incident
