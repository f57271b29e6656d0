"""Corrections, never deletions: amend and retract, and the corrected record every view reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from incidentflow import (
    DEFAULT_POLICY,
    Amended,
    ImpactLevel,
    Incident,
    InvalidInput,
    LinkKind,
    ManualClock,
    NotAuthorized,
    NoteAdded,
    Priority,
    Retracted,
    Role,
    State,
    codec,
)
from incidentflow.corrections import AMENDABLE, RETRACTABLE, TEXT_FIELDS
from incidentflow.metrics import state_intervals
from incidentflow.policy import PRECURSOR_WINDOW
from refusals import refused

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


def _incident(clock: ManualClock) -> Incident:
    """A P3 with a note (entry 3) and an update (entry 4), each a minute apart."""
    incident = Incident.declare("INC-1", "Databse down", Priority.P3, actor="ana", clock=clock)
    clock.advance(minutes=1)
    incident.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana")
    clock.advance(minutes=1)
    incident.note("restarted db-1", actor="ana")
    clock.advance(minutes=1)
    incident.post_update("Database down, next update in 45 min", actor="ana")
    clock.advance(minutes=1)
    return incident


def _rules(incident: Incident, command: object) -> list[str]:
    return [u.rule for u in refused(incident, command).unmet]  # type: ignore[arg-type]


# -- amend ------------------------------------------------------------------------------------


def test_amending_the_title_shows_the_corrected_title_and_keeps_the_original(
    clock: ManualClock,
) -> None:
    """The view reads the correction; the history keeps the declaration as recorded."""
    incident = _incident(clock)
    event = incident.amend("title", "Database down", reason="typo", actor="ana")
    assert "Database down" == incident.title
    assert "Databse down" == incident.history[0].title  # type: ignore[attr-defined]
    assert event == incident.history[-1]
    (correction,) = incident.corrections
    assert ("title", None, "Databse down", "Database down", "typo", "ana", 5) == (
        correction.field,
        correction.entry,
        correction.before,
        correction.value,
        correction.reason,
        correction.by,
        correction.number,
    )


def test_amending_began_and_declared_moves_the_incident_s_own_times(clock: ManualClock) -> None:
    """began_at and declared_at read the corrected declaration."""
    incident = _incident(clock)
    earlier = START - timedelta(minutes=20)
    incident.amend("began", earlier.isoformat(), reason="graphs show 13:40", actor="ana")
    incident.amend("declared", (START + timedelta(minutes=2)).isoformat(), reason="r", actor="ana")
    assert (earlier, START + timedelta(minutes=2)) == (incident.began_at, incident.declared_at)
    assert START == incident.history[0].occurred_at


def test_began_may_be_amended_up_to_the_first_entry_and_no_later(clock: ManualClock) -> None:
    """The boundary: began at the first entry's time is accepted, a second later is not."""
    incident = _incident(clock)
    first = START + timedelta(minutes=1)
    incident.amend("declared", first.isoformat(), reason="declared a minute later", actor="ana")
    rules = _rules(
        incident,
        lambda: incident.amend(
            "began", (first + timedelta(seconds=1)).isoformat(), reason="r", actor="ana"
        ),
    )
    # after the declaration, too: out of the milestones' order
    assert ["not_in_future", "not_before_start", "milestones_in_order"] == rules
    incident.amend("began", first.isoformat(), reason="r", actor="ana")
    assert first == incident.began_at


def test_an_onset_amended_past_a_move_breaks_every_time_rule_it_meets(clock: ManualClock) -> None:
    """Past the first entries and a move: the milestones' order is checked on top of them."""
    incident = _incident(clock)
    incident.dismiss("a false alarm", actor="ana")
    clock.advance(minutes=20)
    late = (START + timedelta(minutes=10)).isoformat()  # after the declaration was recorded
    rules = ["not_in_future", "not_before_start", "moves_in_order", "milestones_in_order"]
    assert rules == _rules(incident, lambda: incident.amend("began", late, reason="r", actor="ana"))


def test_declared_is_never_before_began(clock: ManualClock) -> None:
    """A declaration amended to before the onset is refused; at the onset is fine."""
    incident = _incident(clock)
    onset = START - timedelta(minutes=10)
    incident.amend("began", onset.isoformat(), reason="r", actor="ana")
    before = (onset - timedelta(seconds=1)).isoformat()
    assert ["not_in_future", "milestones_in_order"] == _rules(
        incident, lambda: incident.amend("declared", before, reason="r", actor="ana")
    )
    incident.amend("declared", onset.isoformat(), reason="r", actor="ana")
    assert onset == incident.declared_at


def test_an_entry_s_text_and_time_are_amended_in_the_views(clock: ManualClock) -> None:
    """Entry 3 (a note) reads its corrected text and time; the update its corrected message."""
    incident = _incident(clock)
    incident.amend("text", "restarted db-2", entry=3, reason="wrong host", actor="ana")
    incident.amend(
        "time", (START + timedelta(seconds=30)).isoformat(), entry=3, reason="r", actor="ana"
    )
    incident.amend("text", "Database down", entry=4, reason="shorter", actor="ana")
    (note,) = incident.notes
    assert ("restarted db-2", START + timedelta(seconds=30)) == (note.text, note.occurred_at)
    assert "Database down" == incident.updates[0].message
    assert "restarted db-1" == incident.history[2].text  # type: ignore[attr-defined]


def test_an_entry_time_stays_between_began_and_its_recording(clock: ManualClock) -> None:
    """Boundaries: at began and at its own stamp are fine; a second either side is refused."""
    incident = _incident(clock)
    recorded = incident.history[3].recorded_at

    def at(when: datetime, entry: int = 4) -> object:
        return lambda: incident.amend(
            "time", when.isoformat(), entry=entry, reason="r", actor="ana"
        )

    assert ["not_before_start"] == _rules(incident, at(START - timedelta(seconds=1)))
    assert ["not_in_future"] == _rules(incident, at(recorded + timedelta(seconds=1)))
    incident.amend("time", START.isoformat(), entry=4, reason="r", actor="ana")
    incident.amend("time", recorded.isoformat(), entry=4, reason="r", actor="ana")
    assert recorded == incident.updates[0].occurred_at
    # A note is a precursor: it may be dated up to PRECURSOR_WINDOW before the onset.
    earliest = START - PRECURSOR_WINDOW
    assert ["not_before_start"] == _rules(incident, at(earliest - timedelta(seconds=1), 3))
    incident.amend("time", earliest.isoformat(), entry=3, reason="r", actor="ana")
    assert earliest == incident.notes[0].occurred_at


def test_an_amendment_is_checked_on_the_record_as_already_corrected(clock: ManualClock) -> None:
    """Once began is corrected to 13:50, an update may be dated 13:55, before the start first
    recorded; it may not be dated before the corrected start."""
    incident = _incident(clock)
    began = START - timedelta(minutes=10)
    incident.amend("began", began.isoformat(), reason="graphs", actor="ana")
    assert ["not_before_start"] == _rules(
        incident,
        lambda: incident.amend(
            "time", (began - timedelta(seconds=1)).isoformat(), entry=4, reason="r", actor="ana"
        ),
    )
    earlier = START - timedelta(minutes=5)
    incident.amend("time", earlier.isoformat(), entry=4, reason="r", actor="ana")
    assert earlier == incident.updates[0].occurred_at


def test_a_move_s_time_keeps_the_moves_in_order(clock: ManualClock) -> None:
    """A move amended to before the previous move breaks moves_in_order; measures follow it."""
    incident = Incident.declare("INC-2", "t", Priority.P3, actor="ana", clock=clock)
    incident.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana")
    incident.validate("seen", actor="ana")
    incident.link(LinkKind.TICKET, "https://x", actor="ana")
    clock.advance(minutes=10)
    incident.mitigate("go", actor="ana")
    clock.advance(minutes=10)
    incident.verify_recovery("ok", actor="ana")
    incident.announce_yellow("y", actor="ana")
    yellow = incident.version
    early = (START + timedelta(minutes=5)).isoformat()
    assert ["moves_in_order"] == _rules(
        incident, lambda: incident.amend("time", early, entry=yellow, reason="r", actor="ana")
    )
    fixed = START + timedelta(minutes=15)
    incident.amend("time", fixed.isoformat(), entry=yellow, reason="r", actor="ana")
    assert fixed == incident.when_entered(State.YELLOW)
    intervals = state_intervals(incident, now=clock.now())
    assert (State.YELLOW, fixed) == (intervals[-1].state, intervals[-1].start)


def test_the_priority_history_is_amended_entry_by_entry(clock: ManualClock) -> None:
    """The declared priority (entry 1) and a change (its entry) read as corrected."""
    incident = _incident(clock)
    incident.change_priority(Priority.P2, reason="more users", actor="ana")
    changed = incident.version
    incident.amend("priority", "P1", entry=changed, reason="it was P1", actor="ana")
    assert Priority.P1 == incident.priority
    incident.amend("priority", "P2", entry=1, reason="declared as P2", actor="ana")
    assert Priority.P1 == incident.priority  # the later change still stands
    assert Priority.P3 == incident.history[0].priority  # type: ignore[attr-defined]
    assert ["correctable_entry"] == _rules(
        incident, lambda: incident.amend("priority", "P0", entry=3, reason="r", actor="ana")
    )


def test_invitees_are_amended_on_the_latest_scheduling(clock: ManualClock) -> None:
    """Without an entry, invitees correct the latest scheduling of the post-mortem."""
    green = _green_p3(clock)
    green.schedule_post_mortem(START + timedelta(days=1), ["ana"], actor="ana")
    event = green.amend("invitees", "ana, bo", reason="bo was invited too", actor="ana")
    assert green.version - 1 == event.entry
    assert ("ana", "bo") == green.post_mortem.invitees  # type: ignore[union-attr]


def _green_p3(clock: ManualClock) -> Incident:
    """A P3 (no customer verification) moved to green."""
    incident = Incident.declare("INC-G", "t", Priority.P3, actor="ana", clock=clock)
    incident.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana")
    incident.validate("seen", actor="ana")
    incident.link(LinkKind.TICKET, "https://x", actor="ana")
    incident.mitigate("go", actor="ana")
    incident.verify_recovery("ok", actor="ana")
    incident.announce_yellow("y", actor="ana")
    incident.announce_green("g", actor="ana")
    return incident


@pytest.mark.parametrize(
    ("field", "value", "entry", "rule"),
    [
        ("colour", "red", None, "amendable_field"),
        ("title", "x", 1, "amendable_field"),  # an own field names no entry
        ("text", "x", None, "amendable_field"),  # an entry's field names one
        ("text", "x", 5, "known_entry"),  # one past the last entry
        ("text", "x", 2, "correctable_entry"),  # a role assignment has no text
        ("time", "2026-03-01T14:00:30+00:00", 1, "correctable_entry"),  # began, not time
        ("began", "yesterday", None, "amended_value"),
        ("began", "2026-03-01T13:00:00", None, "amended_value"),  # naive
        ("priority", "P9", 1, "amended_value"),
        ("invitees", " , ", 3, "correctable_entry"),
        ("title", "Databse down", None, "amendment_changes"),
        ("text", "restarted db-1", 3, "amendment_changes"),
    ],
)
def test_each_bad_amendment_names_its_rule(
    clock: ManualClock, field: str, value: str, entry: int | None, rule: str
) -> None:
    """Every amendment refused leaves no trace and names the one rule it breaks."""
    incident = _incident(clock)
    assert [rule] == _rules(
        incident, lambda: incident.amend(field, value, entry=entry, reason="r", actor="ana")
    )


def test_a_misaddressed_amendment_says_whether_its_field_takes_an_entry(
    clock: ManualClock,
) -> None:
    """The incident's own fields name no entry; an entry's field names the entry it corrects."""
    incident = _incident(clock)
    own = refused(incident, lambda: incident.amend("title", "x", entry=1, reason="r", actor="ana"))
    entry = refused(incident, lambda: incident.amend("text", "x", reason="r", actor="ana"))
    assert ["an amendment of title names no entry"] == [u.detail for u in own.unmet]
    assert ["an amendment of text names the entry it corrects"] == [u.detail for u in entry.unmet]


def test_a_blank_value_or_reason_is_bad_input(clock: ManualClock) -> None:
    """A blank value or reason cannot make an amendment at all: InvalidInput, no trace."""
    incident = _incident(clock)
    version = incident.version
    with pytest.raises(InvalidInput):
        incident.amend("text", " ", entry=3, reason="r", actor="ana")
    with pytest.raises(InvalidInput):
        incident.retract(3, reason="", actor="ana")
    assert version == incident.version


def test_the_last_entry_may_be_amended(clock: ManualClock) -> None:
    """The boundary of known_entry: the last entry (the version) is correctable."""
    incident = _incident(clock)
    incident.amend("text", "Database down", entry=4, reason="r", actor="ana")
    assert "Database down" == incident.updates[0].message


def test_corrections_themselves_are_not_corrected(clock: ManualClock) -> None:
    """An amendment or a retraction is not an entry that can be amended or retracted."""
    incident = _incident(clock)
    incident.amend("title", "Database down", reason="typo", actor="ana")
    assert ["correctable_entry"] == _rules(
        incident, lambda: incident.retract(5, reason="r", actor="ana")
    )
    assert ["correctable_entry"] == _rules(
        incident, lambda: incident.amend("text", "x", entry=5, reason="r", actor="ana")
    )
    later = (START + timedelta(minutes=4)).isoformat()
    assert ["correctable_entry"] == _rules(
        incident, lambda: incident.amend("time", later, entry=5, reason="r", actor="ana")
    )


# -- retract ----------------------------------------------------------------------------------


def test_a_retracted_note_leaves_the_views_but_not_the_history(clock: ManualClock) -> None:
    """Retracting entry 3 removes the note from notes and the corrected record only."""
    incident = _incident(clock)
    event = incident.retract(3, reason="posted to the wrong incident", actor="ana")
    assert () == incident.notes
    assert all(not isinstance(e, NoteAdded) for e in incident.corrected_history)
    assert isinstance(incident.history[2], NoteAdded)
    assert isinstance(event, Retracted)
    assert ("retracted", 3, "posted to the wrong incident") == (
        incident.corrections[0].field,
        incident.corrections[0].entry,
        incident.corrections[0].reason,
    )


def test_a_retracted_entry_is_not_retracted_or_amended_again(clock: ManualClock) -> None:
    """not_retracted: the entry is withdrawn once and then left alone."""
    incident = _incident(clock)
    incident.retract(3, reason="wrong", actor="ana")
    assert ["not_retracted"] == _rules(
        incident, lambda: incident.retract(3, reason="r", actor="ana")
    )
    assert ["not_retracted"] == _rules(
        incident, lambda: incident.amend("text", "x", entry=3, reason="r", actor="ana")
    )


def test_only_entries_nothing_builds_on_are_retracted(clock: ManualClock) -> None:
    """A declaration or a role assignment is not retractable; notes, updates, ... are."""
    incident = _incident(clock)
    for entry in (1, 2):
        assert ["correctable_entry"] == _rules(
            incident, lambda e=entry: incident.retract(e, reason="r", actor="ana")
        )
    assert ["known_entry"] == _rules(incident, lambda: incident.retract(5, reason="r", actor="ana"))
    incident.retract(4, reason="r", actor="ana")
    assert () == incident.updates


def test_the_tables_of_correctable_entries() -> None:
    """Retractable entries are notes, updates, factors and data losses; every text is known."""
    assert {"note_added", "update_posted", "factor_added", "data_loss_recorded"} == {
        k.type for k in RETRACTABLE
    }
    assert {
        "title",
        "began",
        "detected",
        "declared",
        "priority",
        "invitees",
        "text",
        "time",
    } == set(AMENDABLE)
    for kind, name in TEXT_FIELDS.items():
        assert name in attrs.fields_dict(kind)


def test_every_entry_with_a_text_of_its_own_has_it_amendable() -> None:
    """Evidence, notes, updates, answers, descriptions, reasons and messages: each kind's text."""
    expected = {
        "validated": "evidence",
        "note_added": "text",
        "update_posted": "message",
        "change_logged": "what",
        "why_answered": "answer",
        "factor_added": "description",
        "recovery_verified": "evidence",
        "customer_verified": "evidence",
        "debt_opened": "description",
        "action_added": "description",
        "experiment_concluded": "observed",
        "priority_changed": "reason",
        "state_changed": "message",
        "data_loss_recorded": "what",
        "link_absent": "reason",
        "impact_changed": "description",
    }
    assert expected == {kind.type: name for kind, name in TEXT_FIELDS.items()}
    assert set(TEXT_FIELDS) == set(AMENDABLE["text"].entry_types)


# -- the record is the product ----------------------------------------------------------------


def test_a_corrected_history_replays_equal_and_round_trips(clock: ManualClock) -> None:
    """Corrections replay to an equal incident and survive JSON Lines byte for byte."""
    incident = _incident(clock)
    incident.amend("title", "Database down", reason="typo", actor="ana")
    incident.amend("text", "restarted db-2", entry=3, reason="host", actor="ana")
    incident.retract(4, reason="wrong incident", actor="ana")
    text = codec.dump_lines(incident.history)
    again = Incident.replay(codec.load_lines(text))
    assert incident == again
    assert text == codec.dump_lines(again.history)
    title = codec.to_dict(incident.history[4])
    assert "entry" not in title  # an own field's amendment names no entry


def test_corrections_obey_authorization(clock: ManualClock) -> None:
    """On a staffed incident only the roles the policy names may amend or retract."""
    incident = _incident(clock)
    error = refused(incident, lambda: incident.amend("title", "x", reason="r", actor="eli"))
    assert isinstance(error, NotAuthorized)
    refused(incident, lambda: incident.retract(3, reason="r", actor="eli"))
    assert DEFAULT_POLICY.allowed_roles("amend") == DEFAULT_POLICY.allowed_roles("retract")
    assert Role.RECORDER in (DEFAULT_POLICY.allowed_roles("amend") or ())


def test_a_dismissed_incident_can_still_be_corrected(clock: ManualClock) -> None:
    """Corrections are allowed in every state, a dismissed false alarm included."""
    incident = Incident.declare("INC-4", "Typo", Priority.P3, actor="ana", clock=clock)
    incident.dismiss("false alarm", actor="ana")
    incident.amend("title", "Not a typo", reason="r", actor="ana")
    assert (State.DISMISSED, "Not a typo") == (incident.state, incident.title)


def test_an_amendment_built_by_hand_is_checked_like_any_event(clock: ManualClock) -> None:
    """record() applies the same rules to an Amended event built elsewhere."""
    incident = _incident(clock)
    now = clock.now()
    event = Amended(
        actor="ana", occurred_at=now, recorded_at=now, field_name="title", value="T", reason="r"
    )
    assert event == incident.record(event)
    assert "T" == incident.title


def test_an_amended_priority_keeps_the_required_roles_filled(clock: ManualClock) -> None:
    """Correcting a mitigating P3 to P1 needs all four roles, as a change of priority does."""
    incident = _green_p3(clock)
    assert ["required_roles_filled"] == _rules(
        incident, lambda: incident.amend("priority", "P1", entry=1, reason="r", actor="ana")
    )
    incident.amend("priority", "P2", entry=1, reason="it was P2", actor="ana")
    assert Priority.P2 == incident.priority


def test_a_dismissed_or_declared_incident_s_priority_is_amended_without_its_roles(
    clock: ManualClock,
) -> None:
    """Roles are required only past declared: not of a P3 still declared, or dismissed, made P1."""
    declared = Incident.declare("INC-1", "t", Priority.P3, actor="ana", clock=clock)
    dismissed = Incident.declare("INC-2", "t", Priority.P3, actor="ana", clock=clock)
    dismissed.dismiss("a false alarm", actor="ana")
    for incident in (declared, dismissed):
        incident.amend("priority", "P1", entry=1, reason="it was P1", actor="ana")
    assert [Priority.P1, Priority.P1] == [declared.priority, dismissed.priority]


def _mitigating_p1(incident_id: str, clock: ManualClock) -> Incident:
    """A P1 with its four roles filled (the Communicator cy), validated, linked, mitigating."""
    incident = Incident.declare(incident_id, "t", Priority.P1, actor="ana", clock=clock)
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
    incident.mitigate("go", actor="ana")
    return incident


def test_an_amended_priority_is_held_to_the_priority_the_history_ends_on(
    clock: ManualClock,
) -> None:
    """A P1 lowered to P3 then P2, its Communicator released: correcting the P3 step to P1 leaves
    it ending on P2 (only an IC needed); correcting the last step to P1 needs a Communicator."""
    incident = _mitigating_p1("INC-5", clock)
    incident.change_priority(Priority.P3, reason="one customer", actor="ana")
    lowered = incident.version
    incident.change_priority(Priority.P2, reason="two customers", actor="ana")
    last = incident.version
    incident.release(Role.COMMUNICATOR, "cy", actor="ana")
    assert ["required_roles_filled"] == _rules(
        incident, lambda: incident.amend("priority", "P1", entry=last, reason="r", actor="ana")
    )
    incident.amend("priority", "P1", entry=lowered, reason="not lowered then", actor="ana")
    assert Priority.P2 == incident.priority


def test_the_priority_the_history_ends_on_is_read_as_already_corrected(
    clock: ManualClock,
) -> None:
    """Raised back to P1, that step corrected to P3 and the Communicator released: correcting
    the earlier step is held to the corrected P3, not to the P1 first recorded."""
    incident = _mitigating_p1("INC-6", clock)
    incident.change_priority(Priority.P3, reason="one customer", actor="ana")
    lowered = incident.version
    incident.change_priority(Priority.P1, reason="all customers", actor="ana")
    incident.amend("priority", "P3", entry=incident.version, reason="one after all", actor="ana")
    incident.release(Role.COMMUNICATOR, "cy", actor="ana")
    incident.amend("priority", "P2", entry=lowered, reason="two customers", actor="ana")
    assert Priority.P3 == incident.priority


def test_the_rca_lists_every_correction_with_who_and_why(clock: ManualClock) -> None:
    """The revision history's Corrections table: version, who, what it was and is, why."""
    from incidentflow.documents.rca import rca_document

    incident = _incident(clock)
    incident.amend("title", "Database down", reason="typo", actor="ana")
    incident.retract(3, reason="wrong incident", actor="ana")
    text = rca_document(incident, now=clock.now()).markdown()
    table = text[text.index("### Corrections") :].splitlines()
    assert "| Version | Corrected | By | Correction | Reason |" == table[2]
    assert table[4].startswith("| 5 | ")
    assert "title: Databse down → Database down | typo |" in table[4]
    assert "| retracted entry 3 | wrong incident |" in table[5]
    assert "restarted db-1" == incident.corrections[1].before
    assert [5, 6] == [c.number for c in incident.corrections]  # the versions they made
    assert "Databse" not in text.split("### Corrections")[0].split("## Executive")[0]


def test_invitees_must_name_someone(clock: ManualClock) -> None:
    """A list of invitees without a name in it does not read: amended_value."""
    green = _green_p3(clock)
    green.schedule_post_mortem(START + timedelta(days=1), ["ana"], actor="ana")
    assert ["amended_value"] == _rules(
        green, lambda: green.amend("invitees", " , ", reason="r", actor="ana")
    )


def test_the_milestones_of_a_declaration_are_amended_in_the_form_it_was_written(
    clock: ManualClock,
) -> None:
    """began, detected and declared correct the onset, detection and declaration times."""
    start = clock.now()
    incident = Incident.declare(
        "INC-2",
        "Checkout errors",
        Priority.P3,
        actor="ana",
        began=start - timedelta(minutes=30),
        detected=start - timedelta(minutes=20),
        clock=clock,
    )
    clock.advance(minutes=1)
    incident.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana")
    clock.advance(minutes=1)
    onset, seen = start - timedelta(minutes=40), start - timedelta(minutes=25)
    incident.amend("began", onset.isoformat(), reason="graphs", actor="ana")
    incident.amend("detected", seen.isoformat(), reason="alert log", actor="ana")
    declared = start - timedelta(minutes=5)
    incident.amend("declared", declared.isoformat(), reason="chat log", actor="ana")
    assert (onset, seen, declared) == (
        incident.began_at,
        incident.detected_at,
        incident.declared_at,
    )
    assert start - timedelta(minutes=30) == incident.history[0].began  # type: ignore[attr-defined]
    before = incident.version
    assert ["milestones_in_order"] == _rules(
        incident,
        lambda: incident.amend(
            "detected", (onset - timedelta(minutes=1)).isoformat(), reason="x", actor="ana"
        ),
    )
    assert before == incident.version


def test_an_impact_description_is_amended_as_an_entry_text(clock: ManualClock) -> None:
    """The description of an impact change is an entry's text."""
    incident = _incident(clock)
    incident.change_impact(ImpactLevel.DEGRADED, "slow", actor="ana")
    clock.advance(minutes=1)
    incident.amend("text", "slow checkouts in the EU", entry=5, reason="precise", actor="ana")
    assert "slow checkouts in the EU" == incident.impact_timeline[-1].description


def test_a_declaration_s_own_times_answer_to_their_order_and_to_now(clock: ManualClock) -> None:
    """began moved past the declaration breaks milestones_in_order alone (the declaration is not
    an entry before the start); the detection may be amended up to now, not a second later."""
    start = clock.now()
    incident = Incident.declare(
        "INC-3",
        "Checkout errors",
        Priority.P3,
        actor="ana",
        began=start - timedelta(minutes=30),
        detected=start - timedelta(minutes=20),
        clock=clock,
    )
    late = (start + timedelta(minutes=1)).isoformat()
    assert ["milestones_in_order"] == _rules(
        incident, lambda: incident.amend("began", late, reason="r", actor="ana")
    )
    future = (start + timedelta(seconds=1)).isoformat()
    assert ["not_in_future", "milestones_in_order"] == _rules(
        incident, lambda: incident.amend("detected", future, reason="r", actor="ana")
    )
    incident.amend("detected", start.isoformat(), reason="seen as it was declared", actor="ana")
    assert start == incident.detected_at
