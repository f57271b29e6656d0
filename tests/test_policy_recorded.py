"""The policy belongs to the record: declared with the incident, changed only by an adoption."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import incidentflow.events as ev
from incidentflow import (
    DEFAULT_POLICY,
    CommandRefused,
    DecodeError,
    Incident,
    InvalidInput,
    LinkKind,
    ManualClock,
    NotAuthorized,
    Policy,
    PolicyError,
    Priority,
    RecordedPolicy,
    ReplayError,
    Role,
    RuleViolated,
    State,
    Unmet,
    codec,
)
from incidentflow import policy as policy_module
from incidentflow.store import InMemoryStore
from incidentflow.testing import events, incidents, policies

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
OPEN = Policy.from_toml(
    'name = "open"\n[authorization]\nvalidate = "anyone"\nmitigate = "anyone"\n'
    'adopt_policy = "anyone"'
)
STRICT = Policy.from_toml(
    'name = "strict"\nwhys_depth = 9\n[priorities.P3]\n'
    'required_links = ["ticket", "war_room"]\n'
    'required_roles = ["incident_commander", "lead", "recorder", "communicator"]'
)


def _p3(clock: ManualClock, *, policy: Policy = DEFAULT_POLICY) -> Incident:
    incident = Incident.declare("INC-1", "t", Priority.P3, actor="ana", policy=policy, clock=clock)
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    return incident


def _legacy(history: list[ev.Event]) -> list[ev.Event]:
    """The history as written before incidents recorded their policy."""
    return [attrs.evolve(cast("ev.Declared", history[0]), policy=None), *history[1:]]


# -- what is recorded ------------------------------------------------------------------------


def test_a_declaration_records_the_policy_whole() -> None:
    """Declaring records the policy's name, its whole TOML and that text's SHA-256 digest."""
    incident = Incident.declare("INC-1", "t", Priority.P2, actor="ana", policy=STRICT, now=START)
    recorded = incident.history[0].policy  # type: ignore[attr-defined]
    assert RecordedPolicy.of("strict", STRICT.to_toml()) == recorded
    assert (STRICT.digest, STRICT.recorded()) == (recorded.digest, incident.recorded_policy)
    assert recorded.digest.startswith("sha256:")
    assert 71 == len(recorded.digest)
    assert STRICT == Policy.from_recorded(recorded) == incident.policy


def test_the_digest_is_the_sha256_of_the_text() -> None:
    """The digest is computed from the content alone, so anyone can check it."""
    import hashlib

    text = DEFAULT_POLICY.to_toml()
    assert "sha256:" + hashlib.sha256(text.encode()).hexdigest() == DEFAULT_POLICY.digest
    assert text.startswith('name = "default"\n')


def test_a_policy_is_named_by_its_key_else_its_file(tmp_path: object) -> None:
    """A TOML file's ``name`` key names the policy; without one, the file's name does."""
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "night-shift.toml").write_text("whys_depth = 3\n", encoding="utf-8")
    (folder / "other.toml").write_text('name = "team"\n', encoding="utf-8")
    assert "night-shift" == Policy.load(folder / "night-shift.toml").name
    assert "team" == Policy.load(folder / "other.toml").name
    assert ("default", "permissive") == (DEFAULT_POLICY.name, Policy.permissive().name)


@pytest.mark.parametrize("name", ["", "  ", "two\nlines", 3])
def test_a_policy_name_is_one_line_of_text(name: object) -> None:
    """A blank, multi-line or non-text name is a PolicyError."""
    with pytest.raises(PolicyError, match="name must be"):
        attrs.evolve(DEFAULT_POLICY, name=name)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"digest": "sha256:" + "A" * 64}, "digest must be"),
        ({"digest": "md5:0"}, "digest must be"),
        ({"name": " "}, "name must be"),
        ({"content": 7}, "content must be"),
        ({"content": "\n \n"}, "content must be"),
    ],
)
def test_a_malformed_record_cannot_exist(fields: dict[str, object], match: str) -> None:
    """RecordedPolicy checks the shape of its fields (not the digest's match: replay does)."""
    good = {"name": "team", "digest": "sha256:" + "0" * 64, "content": "x"}
    with pytest.raises(InvalidInput, match=match):
        RecordedPolicy(**{**good, **fields})  # type: ignore[arg-type]


def test_of_refuses_content_that_is_not_text() -> None:
    """RecordedPolicy.of needs text to digest."""
    with pytest.raises(InvalidInput, match="content must be a string"):
        RecordedPolicy.of("team", b"whys_depth = 3")  # type: ignore[arg-type]


# -- replay uses the recorded policy ---------------------------------------------------------


def test_replay_ignores_the_policy_given_for_a_pinned_history(clock: ManualClock) -> None:
    """Regression: a permissive caller cannot replay refused events into a pinned incident."""
    incident = _p3(clock)
    forged = ev.Validated(actor="zed", evidence="x", occurred_at=START, recorded_at=START)
    with pytest.raises(ReplayError) as info:
        Incident.replay([*incident.history, forged], policy=OPEN)
    assert (2, 3, ("authorized",)) == (info.value.index, info.value.version, info.value.rules)
    assert "event 3 breaks authorized" in str(info.value)
    assert Incident.replay(_legacy([*incident.history, forged]), policy=OPEN).validation == forged


def test_a_stricter_policy_never_makes_a_pinned_history_unreadable(clock: ManualClock) -> None:
    """Regression: tightening the team's policy leaves old incidents readable, as they were."""
    incident = _p3(clock)
    incident.validate("seen", actor="bo")
    incident.link(LinkKind.TICKET, "https://x", actor="bo")
    incident.mitigate("go", actor="bo")
    again = Incident.replay(incident.history, policy=STRICT)
    assert (incident, DEFAULT_POLICY) == (again, again.policy)
    with pytest.raises(ReplayError):
        Incident.replay(_legacy(list(incident.history)), policy=STRICT)


def test_store_load_uses_the_recorded_policy(clock: ManualClock) -> None:
    """Store.load's policy applies to legacy histories only."""
    incident = _p3(clock)
    with InMemoryStore() as store:
        store.append("INC-1", list(incident.history), expected_version=0)
        loaded = store.load("INC-1", policy=OPEN)
    assert (incident, DEFAULT_POLICY) == (loaded, loaded.policy)
    with pytest.raises(NotAuthorized):
        loaded.validate("seen", actor="zed")


def test_a_legacy_history_keeps_decoding_and_replaying() -> None:
    """A declaration without a policy, as written before, reads back and replays as before."""
    line = (
        '{"schema":1,"type":"declared","actor":"ana","occurred_at":"2026-03-01T14:00:00+00:00",'
        '"recorded_at":"2026-03-01T14:00:00+00:00","incident_id":"INC-1","title":"t",'
        '"priority":"P3"}'
    )
    declared = codec.loads(line)
    assert declared.policy is None  # type: ignore[attr-defined]
    assert line == codec.dumps(declared)
    incident = Incident.replay([declared], policy=OPEN)
    assert (None, OPEN) == (incident.recorded_policy, incident.policy)


def test_a_recorded_policy_whose_digest_does_not_match_is_a_replay_error(
    clock: ManualClock,
) -> None:
    """Editing a recorded policy's text without its digest is refused at that event."""
    history = list(_p3(clock).history)
    recorded = history[0].policy  # type: ignore[attr-defined]
    edited = attrs.evolve(
        recorded, content=recorded.content.replace("whys_depth = 5", "whys_depth = 1")
    )
    tampered = [attrs.evolve(cast("ev.Declared", history[0]), policy=edited), *history[1:]]
    with pytest.raises(ReplayError) as info:
        Incident.replay(tampered)
    assert (0, 1, ("policy_intact",)) == (info.value.index, info.value.version, info.value.rules)
    assert "does not match its digest" in info.value.detail


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        ("whys_depth = [", "malformed"),
        ("whys_dept = 3\n", "unknown policy keys"),
        ('name = "other"\n', "its content names 'other'"),
    ],
)
def test_a_recorded_policy_that_is_not_a_policy_is_a_replay_error(
    clock: ManualClock, content: str, detail: str
) -> None:
    """A record whose text is not this policy (or no policy at all) breaks policy_intact."""
    history = list(_p3(clock).history)
    bad = RecordedPolicy.of("default", content)
    with pytest.raises(ReplayError, match=detail) as info:
        Incident.replay([attrs.evolve(cast("ev.Declared", history[0]), policy=bad), *history[1:]])
    assert ("policy_intact",) == info.value.rules


def test_rebuilding_a_recorded_policy_reads_its_text_once(
    clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replaying many incidents recorded under one policy parses its TOML once."""
    histories = []
    for n in range(50):
        incident = Incident.declare(
            f"INC-{n}", "t", Priority.P3, actor="ana", policy=STRICT, clock=clock
        )
        incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
        histories.append(list(incident.history))
    policy_module._rebuilt.cache_clear()
    calls: list[str] = []
    real = Policy.from_toml

    def counting(text: str, *, base: Policy | None = None) -> Policy:
        calls.append(text)
        return real(text, base=base)

    monkeypatch.setattr(Policy, "from_toml", counting)
    replayed = [Incident.replay(h) for h in histories]
    assert 1 == len(calls)
    assert all(STRICT == i.policy for i in replayed)


# -- adopting another policy -----------------------------------------------------------------


def test_adoption_is_decided_by_the_policy_in_force(clock: ManualClock) -> None:
    """A stranger cannot adopt an open policy; the IC can, and it applies from then on."""
    incident = _p3(clock)
    refusal = _refused(incident, lambda: incident.adopt_policy(OPEN, actor="zed"))
    assert isinstance(refusal, NotAuthorized)
    assert "zed must hold incident_commander to adopt_policy" == refusal.unmet[0].detail
    adopted = incident.adopt_policy(OPEN, actor="bo")
    assert (OPEN.recorded(), OPEN, OPEN.recorded()) == (
        adopted.policy,
        incident.policy,
        incident.recorded_policy,
    )
    incident.validate("seen", actor="zed")  # the open policy lets anyone validate now
    replayed = Incident.replay(incident.history)
    assert (incident, OPEN) == (replayed, replayed.policy)


def test_a_policy_cannot_authorize_its_own_adoption(clock: ManualClock) -> None:
    """An adoption is checked before the policy it adopts applies, even one that opens it."""
    incident = _p3(clock)
    forged = ev.PolicyAdopted(
        actor="zed", occurred_at=START, recorded_at=START, policy=OPEN.recorded()
    )
    with pytest.raises(ReplayError) as info:
        Incident.replay([*incident.history, forged])
    assert ("authorized",) == info.value.rules


def test_events_before_an_adoption_are_judged_by_the_policy_before(clock: ManualClock) -> None:
    """Events after an adoption follow the adopted policy, those before it the one recorded."""
    incident = _p3(clock, policy=OPEN)
    incident.validate("seen", actor="zed")  # fine under the open policy
    incident.adopt_policy(DEFAULT_POLICY, actor="bo")
    _refused(incident, lambda: incident.note("x", actor="zed", at=START - timedelta(days=31)))
    refusal = _refused(incident, lambda: incident.mitigate("go", actor="zed"))
    assert "authorized" in refusal.rules
    replayed = Incident.replay(incident.history, policy=OPEN)
    assert (incident, DEFAULT_POLICY) == (replayed, replayed.policy)


def test_adopting_the_policy_in_force_is_refused(clock: ManualClock) -> None:
    """An adoption changes the policy: the same one again is policy_differs."""
    incident = _p3(clock)
    refusal = _refused(incident, lambda: incident.adopt_policy(DEFAULT_POLICY, actor="bo"))
    assert isinstance(refusal, RuleViolated)
    assert ("policy_differs",) == refusal.rules


def test_a_legacy_incident_may_adopt_the_policy_it_runs_under(clock: ManualClock) -> None:
    """A history that records no policy records one by adopting it, even the one in use."""
    incident = Incident.replay(_legacy(list(_p3(clock).history)))
    incident.adopt_policy(DEFAULT_POLICY, actor="bo", now=START + timedelta(minutes=1))
    assert DEFAULT_POLICY.recorded() == incident.recorded_policy


def test_an_adoption_that_would_empty_a_required_role_is_refused(clock: ManualClock) -> None:
    """Once mitigating, the adopted policy's required roles must already be filled."""
    incident = _p3(clock)
    incident.validate("seen", actor="bo")
    incident.link(LinkKind.TICKET, "https://x", actor="bo")
    incident.mitigate("go", actor="bo")
    refusal = _refused(incident, lambda: incident.adopt_policy(STRICT, actor="bo"))
    assert ("required_roles_filled",) == refusal.rules
    assert State.MITIGATING is incident.state


def test_adopt_policy_needs_a_policy(clock: ManualClock) -> None:
    """Adopting something that is not a Policy is bad input, refused before any rule."""
    incident = _p3(clock)
    with pytest.raises(InvalidInput, match="policy must be a Policy"):
        incident.adopt_policy(OPEN.recorded(), actor="bo")  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="not a recorded policy"):
        Policy.from_recorded(OPEN)  # type: ignore[arg-type]


def test_the_adoption_round_trips_through_the_codec(clock: ManualClock) -> None:
    """A recorded adoption is written and read back equal, and replays to the same incident."""
    incident = _p3(clock)
    incident.adopt_policy(OPEN, actor="bo")
    lines = codec.dump_lines(incident.history)
    assert '"type":"policy_adopted"' in lines
    assert Incident.replay(codec.load_lines(lines)) == incident


@pytest.mark.parametrize("bad", [None, 5, [], {"name": "x"}])
def test_a_malformed_recorded_policy_does_not_decode(clock: ManualClock, bad: object) -> None:
    """A recorded policy that is not an object with its three fields is a DecodeError."""
    incident = _p3(clock)
    incident.adopt_policy(OPEN, actor="bo")
    data = codec.to_dict(incident.history[-1])
    data["policy"] = bad
    with pytest.raises(DecodeError, match="bad policy_adopted event"):
        codec.from_dict(data)


# -- immutability ----------------------------------------------------------------------------


def test_policy_tables_are_read_only() -> None:
    """Regression: no caller can change DEFAULT_POLICY (or any policy) through its tables."""
    with pytest.raises(TypeError):
        DEFAULT_POLICY.authorization["mitigate"] = None  # type: ignore[index]
    with pytest.raises(TypeError):
        DEFAULT_POLICY.priorities[Priority.P1] = DEFAULT_POLICY.priorities[Priority.P3]  # type: ignore[index]
    table = {"mitigate": None}
    policy = Policy(authorization=table)
    table["mitigate"] = frozenset({Role.LEAD})  # type: ignore[assignment]
    assert policy.allowed_roles("mitigate") is None
    assert frozenset({Role.LEAD, Role.INCIDENT_COMMANDER}) == DEFAULT_POLICY.allowed_roles(
        "mitigate"
    )


def test_priorities_must_be_a_mapping() -> None:
    """A priority table that is not a mapping is a PolicyError."""
    with pytest.raises(PolicyError, match="priorities must be a mapping"):
        Policy(priorities=[1, 2])  # type: ignore[arg-type]


# -- the property ----------------------------------------------------------------------------

_NOT_ADOPTIONS = tuple(k for k in ev.EVENT_TYPES.values() if k is not ev.PolicyAdopted)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    recorded=policies(),
    given_policy=policies(),
    data=st.data(),
)
def test_no_policy_given_changes_a_pinned_incident(
    recorded: Policy, given_policy: Policy, data: st.DataObject
) -> None:
    """Under any policy given, a pinned incident replays, and takes any event, as recorded."""
    incident = data.draw(incidents(policy=recorded, max_steps=20))
    event = data.draw(events(*_NOT_ADOPTIONS))
    under_given = Incident.replay(incident.history, policy=given_policy)
    under_recorded = Incident.replay(incident.history)
    assert under_given == under_recorded == incident
    assert recorded == under_given.policy
    outcomes: list[tuple[type[CommandRefused] | None, tuple[Unmet, ...]]] = []
    for one in (under_given, under_recorded):
        try:
            one.record(event)
        except CommandRefused as refusal:
            outcomes.append((type(refusal), refusal.unmet))
        else:
            outcomes.append((None, ()))
    assert outcomes[0] == outcomes[1]
    assert under_given == under_recorded
    with InMemoryStore() as store:
        store.append("INC-1", list(incident.history), expected_version=0)
        assert incident == store.load("INC-1", policy=given_policy)


def _refused(incident: Incident, command: object) -> CommandRefused:
    before = list(incident.history)
    with pytest.raises(CommandRefused) as info:
        command()  # type: ignore[operator]
    assert before == list(incident.history)
    return info.value


# -- documents -------------------------------------------------------------------------------


def test_an_adoption_reads_as_a_line_of_the_timeline() -> None:
    """The RCA timeline says who adopted which policy, by name and digest."""
    from incidentflow.documents._narrative import describe

    adopted = ev.PolicyAdopted(
        actor="bo", occurred_at=START, recorded_at=START, policy=OPEN.recorded()
    )
    assert f"bo adopted the policy open ({OPEN.digest})" == describe(adopted)


@given(events())
def test_every_event_type_reads_as_a_line_of_the_timeline(event: ev.Event) -> None:
    """The RCA timeline has a sentence, naming the actor, for every kind of event."""
    from incidentflow.documents._narrative import describe

    assert event.actor in describe(event)


def test_an_incident_that_adopted_a_policy_makes_its_rca(clock: ManualClock) -> None:
    """The RCA document of an incident with an adoption names the policy adopted."""
    from incidentflow.documents import rca_document

    incident = _p3(clock)
    incident.adopt_policy(OPEN, actor="bo")
    text = rca_document(incident, now=clock.now()).markdown()
    assert "- **Policy:** open (adopted by bo, " in text  # under the timeline's Who and what
