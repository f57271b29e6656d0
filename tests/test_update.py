"""The stakeholder update: what it says, when the next is due, and its Slack form."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from attrs import evolve
from hypothesis import event, given, settings, target
from hypothesis import strategies as st

from hostile import typed_incident
from incidentflow import (
    Incident,
    InvalidInput,
    ManualClock,
    Priority,
    Role,
    State,
)
from incidentflow.demo import run_demo
from incidentflow.documents._narrative import describe
from incidentflow.documents.update import StakeholderUpdate, compose_update
from incidentflow.policy import COMMAND_STATES
from incidentflow.testing import incidents

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 3, 1, hour, minute, tzinfo=UTC)


def demo_until(count: int) -> Incident:
    """The demo incident as it stood after its first ``count`` events."""
    history = run_demo(lambda s: None).history
    clock = ManualClock(history[count - 1].recorded_at)
    return Incident.replay(history[:count], clock=clock)


# The demo's events 11–14 (0-based) follow its first update (event 10, 14:07): the move to
# mitigating, E1 started and refuted, E2 started.  Event 18 is a no-progress update at 14:28.
MITIGATING_WITH_E2_RUNNING = 15
RIGHT_AFTER_NO_PROGRESS_UPDATE = 19


def test_update_gathers_state_impact_trying_changes_and_next_due() -> None:
    """Mid-mitigation: every field, from the record, with the next update 30 minutes after it."""
    incident = demo_until(MITIGATING_WITH_E2_RUNNING)
    update = compose_update(incident, now=at(14, 20))
    expected = StakeholderUpdate(
        incident_id="INC-1042",
        title="Database is down",
        state=State.MITIGATING,
        priority=Priority.P1,
        impact="every customer: checkout and deploys fail",
        trying=(incident.experiments["E2"],),
        changes=tuple(describe(e) for e in incident.history[11:]),
        no_progress=False,
        last_update_at=at(14, 7),
        next_update_due=at(14, 50),  # posted at 14:20, P1 updates every 30 minutes
        composed_at=at(14, 20),
        news=(
            "ana moved the incident from declared to mitigating: Mitigation under way",
            "bo concluded experiment E1, refuted: disk at 41%",
        ),
        next_steps="testing whether the app's database token expired (E2)",
    )
    assert expected == update
    assert (
        "ana moved the incident from declared to mitigating: Mitigation under way"
        == (update.changes[0])
    )


def test_update_text_says_one_fact_per_line() -> None:
    """The plain text: heading, state, priority, impact, what is tried, changes, next due."""
    update = compose_update(demo_until(MITIGATING_WITH_E2_RUNNING), now=at(14, 20))
    assert [
        "Update on INC-1042: Database is down, at 2026-03-01 14:20 UTC",
        "State: mitigating",
        "Priority: P1 (Major Incident)",
        "Impact: every customer: checkout and deploys fail",
        "Trying: E2 on auth (owner bo, since 2026-03-01 14:17 UTC): if the app's database "
        "token expired, then inspect auth errors should show token-expired errors since 13:55",
        "Changed since the last update (2026-03-01 14:07 UTC):",
        "- ana moved the incident from declared to mitigating: Mitigation under way",
        "- bo started experiment E1 on db-1 (owner bo): if the primary is out of disk, then "
        "check disk usage on db-1 should show disk above 95%",
        "- bo concluded experiment E1, refuted: disk at 41%",
        "- bo started experiment E2 on auth (owner bo): if the app's database token expired, "
        "then inspect auth errors should show token-expired errors since 13:55",
        "Next update due: 2026-03-01 14:50 UTC",
    ] == update.text().splitlines()


def test_the_short_update_says_state_impact_news_next_steps_and_next_due() -> None:
    """The short update: state and impact, the last two changes that matter, next, when."""
    update = compose_update(demo_until(MITIGATING_WITH_E2_RUNNING), now=at(14, 20))
    assert [
        "INC-1042 Database is down: mitigating, P1 (Major Incident)",
        "Impact: every customer: checkout and deploys fail",
        "Since the last update (2026-03-01 14:07 UTC): ana moved the incident from declared "
        "to mitigating: Mitigation under way; bo concluded experiment E1, refuted: disk at 41% "
        "(and 2 more in the record).",
        "Next: testing whether the app's database token expired (E2).",
        "Next update by 2026-03-01 14:50 UTC.",
    ] == update.short().splitlines()


def test_the_short_update_keeps_two_changes_at_most(clock: ManualClock) -> None:
    """Of three changes that matter, the short update says the last two and counts the rest."""
    incident = Incident.declare("INC-9", "Slow", Priority.P3, actor="ana", clock=clock)
    incident.validate("p95 at 4 s", actor="ana")
    incident.change_priority(Priority.P2, reason="internal tools too", actor="ana")
    incident.change_priority(Priority.P1, reason="customers too", actor="ana")
    line = compose_update(incident, now=clock.now()).short().splitlines()[2]
    assert (
        "Since the incident was declared: ana changed the priority to P2: internal tools too; "
        "ana changed the priority to P1: customers too (and 2 more in the record)."
    ) == line


def test_the_short_update_leaves_out_what_it_does_not_know() -> None:
    """No next steps, no next due (a closed incident): the short update has no such lines."""
    update = compose_update(demo_until(MITIGATING_WITH_E2_RUNNING), now=at(14, 20))
    bare = evolve(update, next_steps="", next_update_due=None)
    assert 3 == len(bare.short().splitlines())


def test_the_short_update_of_bookkeeping_says_so(clock: ManualClock) -> None:
    """Roles and notes alone are bookkeeping: the short update says nothing moved."""
    incident = Incident.declare("INC-9", "Slow", Priority.P3, actor="ana", clock=clock)
    incident.note("looking", actor="ana")
    expected = [
        "INC-9 Slow: declared, P3 (Low Impact Incident)",
        "Impact: not assessed yet",
        "Since the incident was declared: only bookkeeping (roles, links, notes).",
        "Next: confirming the problem and staffing the response.",
        "Next update by 2026-03-01 14:45 UTC.",
    ]
    assert expected == compose_update(incident, now=clock.now()).short().splitlines()


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (
            RIGHT_AFTER_NO_PROGRESS_UPDATE,
            "No progress since the last update (2026-03-01 14:28 UTC).",
        ),
    ],
)
def test_the_short_update_says_no_progress(count: int, expected: str) -> None:
    """Right after an update, the short update says there is no progress."""
    incident = demo_until(count)
    assert expected == compose_update(incident, now=incident.clock.now()).short().splitlines()[2]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (6, "Next: staffing the response and starting mitigation."),
        (27, "Next: watching the recovery before announcing it."),
        (28, "Next: watching the fix, cleaning up, and confirming with customers."),
        (None, "Next: the incident report and the post-mortem."),
    ],
)
def test_the_short_update_says_what_comes_next_by_state(count: int | None, expected: str) -> None:
    """Next steps follow the state: staffing, watching the recovery, the report."""
    history = run_demo(lambda s: None).history
    chosen = demo_until(count) if count else Incident.replay(history)
    now = chosen.clock.now() if count else history[-1].recorded_at
    assert expected in compose_update(chosen, now=now).short().splitlines()


def test_no_progress_is_said_plainly() -> None:
    """With nothing recorded since the last update, the update is a no-progress update."""
    update = compose_update(demo_until(RIGHT_AFTER_NO_PROGRESS_UPDATE), now=at(14, 40))
    assert ((), True) == (update.changes, update.no_progress)
    assert (at(14, 28), at(15, 10)) == (update.last_update_at, update.next_update_due)
    lines = update.text().splitlines()
    assert "No progress since the last update (2026-03-01 14:28 UTC)." in lines
    assert "Trying: nothing" in lines
    blocks = update.blocks()
    assert "*No progress since the last update (2026-03-01 14:28 UTC)*" == blocks[7]["text"]["text"]
    assert "context" == blocks[8]["type"]
    assert update.slack_message()["text"].endswith("(mitigating, P1, no progress)")


def test_a_composed_update_is_accepted_as_the_update(clock: ManualClock) -> None:
    """Posting the composed text is accepted; right after, the next update has no progress."""
    incident = Incident.declare("INC-8", "Cert expired", Priority.P2, actor="ana", clock=clock)
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    clock.advance(minutes=5)
    composed = compose_update(incident, now=clock.now())
    posted = incident.post_update(composed.text(), no_progress=composed.no_progress, actor="bo")
    assert (composed.text(), False) == (posted.message, posted.no_progress)
    following = compose_update(incident, now=clock.now())
    assert (True, clock.now()) == (following.no_progress, following.last_update_at)
    again = incident.post_update(following.text(), no_progress=following.no_progress, actor="bo")
    assert again.no_progress


def test_before_any_update_everything_since_the_declaration_is_new(clock: ManualClock) -> None:
    """With no update yet, changes start at the declaration; the next is due a cadence on."""
    incident = Incident.declare("INC-8", "Cert expired", Priority.P2, actor="ana", clock=clock)
    incident.validate("browsers warn", actor="ana")
    update = compose_update(incident, now=START + timedelta(minutes=2))
    assert [describe(e) for e in incident.history] == list(update.changes)
    assert (None, None) == (update.last_update_at, update.impact)
    assert START + timedelta(minutes=2 + 45) == update.next_update_due  # P2: every 45 minutes
    text = update.text()
    assert "Changed since the incident was declared:" in text
    assert "Impact: not assessed yet" in text


def test_next_update_due_is_what_due_says_once_the_draft_is_posted(clock: ManualClock) -> None:
    """An overdue incident's draft promises the next update a cadence after it is posted."""
    incident = Incident.declare("INC-8", "Cert expired", Priority.P0, actor="ana", clock=clock)
    late = START + timedelta(hours=2)
    (duty,) = [o for o in incident.due(late) if o.kind == "stakeholder_update"]
    assert duty.overdue
    draft = compose_update(incident, now=late)
    assert late + timedelta(minutes=15) == draft.next_update_due  # P0: every 15 minutes
    incident.post_update(draft.text(), actor="ana", now=late)
    (after,) = [o for o in incident.due(late) if o.kind == "stakeholder_update"]
    assert draft.next_update_due == after.due_at


def test_a_draft_before_the_last_record_is_refused(clock: ManualClock) -> None:
    """A draft as of a moment before the last recorded event would describe the future."""
    incident = Incident.declare("INC-8", "Cert expired", Priority.P2, actor="ana", clock=clock)
    clock.advance(minutes=10)
    incident.note("still looking", actor="ana")
    with pytest.raises(InvalidInput, match="last recorded event"):
        compose_update(incident, now=START + timedelta(minutes=5))
    assert START + timedelta(minutes=10) == compose_update(incident, now=clock.now()).composed_at


def test_a_closed_incident_owes_no_next_update() -> None:
    """Once the incident is no longer active, no next update is due, and the text says so."""
    update = compose_update(run_demo(lambda s: None), now=datetime(2026, 3, 2, tzinfo=UTC))
    assert (State.POST_MORTEM, None) == (update.state, update.next_update_due)
    assert update.text().endswith(
        "Next update due: none: the incident is post_mortem, no longer active"
    )


@pytest.mark.parametrize("now", [datetime(2026, 3, 1, 15, 0), "2026-03-01T15:00Z", None])
def test_now_must_be_an_aware_datetime(now: Any) -> None:
    """A naive or missing now is InvalidInput."""
    with pytest.raises(InvalidInput, match="now"):
        compose_update(demo_until(2), now=now)


def test_compose_needs_an_incident() -> None:
    """Anything but an Incident is InvalidInput."""
    with pytest.raises(InvalidInput, match="Incident"):
        compose_update("INC-1042", now=START)  # type: ignore[arg-type]


# -- Slack Block Kit -----------------------------------------------------------------------


def test_slack_blocks_have_the_update_in_its_places() -> None:
    """Header, four labelled fields, impact, trying, changes and a context line."""
    update = compose_update(demo_until(MITIGATING_WITH_E2_RUNNING), now=at(14, 20))
    blocks = update.blocks()
    assert [
        "header", "section", "divider", "section", "section", "section", "section", "section",
        "section", "context",
    ] == [b["type"] for b in blocks]  # fmt: skip
    assert {"type": "plain_text", "text": "INC-1042 Database is down", "emoji": False} == (
        blocks[0]["text"]
    )
    assert [
        "*State*\nmitigating",
        "*Priority*\nP1 (Major Incident)",
        "*Last update*\n2026-03-01 14:07 UTC",
        "*Next update due*\n2026-03-01 14:50 UTC",
    ] == [f["text"] for f in blocks[1]["fields"]]
    assert {"mrkdwn"} == {f["type"] for f in blocks[1]["fields"]}
    assert "every customer: checkout and deploys fail" == blocks[4]["text"]["text"]
    assert blocks[6]["text"]["text"].startswith("E2 on auth (owner bo")
    assert "*Changed since the last update (2026-03-01 14:07 UTC)*" == blocks[7]["text"]["text"]
    assert [describe(e) for e in demo_until(15).history[11:]] == (
        blocks[8]["text"]["text"].split("\n")
    )
    message = update.slack_message()
    assert {"text": "INC-1042 Database is down: stakeholder update (mitigating, P1)",
            "mrkdwn": False, "blocks": blocks} == message  # fmt: skip


def test_long_lists_end_with_how_many_more(clock: ManualClock) -> None:
    """Changes past a section's 3000 characters are cut, saying how many were left out."""
    incident = Incident.declare("INC-8", "Cert expired", Priority.P3, actor="ana", clock=clock)
    for n in range(200):
        incident.note(f"note {n:03} " + "x" * 40, actor="ana")
    text = compose_update(incident, now=clock.now()).blocks()[8]["text"]["text"]
    lines = text.split("\n")
    shown, more = lines[:-1], lines[-1]
    assert len(text) <= 3000
    assert f"… and {201 - len(shown)} more" == more
    assert "ana noted: note 000 " + "x" * 40 == shown[1]


def test_long_text_is_cut_without_breaking_an_escape(clock: ManualClock) -> None:
    """A 300-character title is cut to Slack's 150 with "…", never inside an &amp; escape."""
    incident = Incident.declare("INC-8", "&" * 300, Priority.P3, actor="ana", clock=clock)
    header = compose_update(incident, now=clock.now()).blocks()[0]["text"]["text"]
    assert header.endswith("&amp;…")
    assert len(header) <= 150
    assert header.startswith("INC-8 &amp;")
    escaped_early = Incident.declare("INC-9", "<" + "x" * 300, Priority.P3, actor="a", clock=clock)
    header = compose_update(escaped_early, now=clock.now()).blocks()[0]["text"]["text"]
    assert "INC-9 &lt;" + "x" * 139 + "…" == header


MARK = "\u27e6"  # ⟦: every typed text below starts with it, and our labels never contain it
NASTY = [
    "<!here>", "<!channel> <!everyone>", "<@U12345>", "<#C12345|general>",
    "<http://evil.example|click>", "<https://evil.example>", "<mailto:a@b.example|mail>",
    "*bold* _it_ ~strike~ `code`", "&lt;!here&gt;", "&amp;", "<", ">", ":smile:",
    "<!date^1392734382^{date}|x>", "x" * 400,
]  # fmt: skip
typed = st.one_of(st.sampled_from(NASTY), st.text(min_size=0, max_size=200)).map(lambda s: MARK + s)


@st.composite
def hostile_incidents(draw: st.DrawFn) -> Incident:
    """An active incident whose every piece of typed text is drawn to fool Slack."""
    return typed_incident(
        lambda: draw(typed),
        experiments=draw(st.integers(min_value=0, max_value=12)),
        concluded=0,
        notes=draw(st.integers(min_value=0, max_value=30)),
        update_before=draw(st.booleans()),
        update_after=draw(st.booleans()),
    )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _text_objects(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        own = [value] if value.get("type") in ("plain_text", "mrkdwn") else []
        return own + [o for v in value.values() for o in _text_objects(v)]
    if isinstance(value, list):
        return [o for v in value for o in _text_objects(v)]
    return []


@settings(max_examples=100)
@given(hostile_incidents())
def test_typed_text_cannot_mention_link_or_format_in_slack(incident: Incident) -> None:
    """No typed text makes a mention or link; mrkdwn holds only our words; limits hold."""
    update = compose_update(incident, now=incident.clock.now())
    target(float(sum(map(len, update.changes))), label="typed characters changed")
    message = update.slack_message()
    assert message == json.loads(json.dumps(message))
    for text in _strings(message):
        for opener in ("<!", "<@", "<#", "<http"):
            assert opener not in text
    objects = _text_objects(message["blocks"])
    assert all(MARK not in o["text"] for o in objects if o["type"] == "mrkdwn")
    assert all(o["emoji"] is False for o in objects if o["type"] == "plain_text")
    assert all(o["text"] for o in objects)
    cut = any(o["text"].endswith(" more") for o in objects if o["type"] == "plain_text")
    event("a list was cut" if cut else "nothing cut")
    blocks = message["blocks"]
    assert len(blocks) <= 50
    assert len(blocks[0]["text"]["text"]) <= 150
    for block in blocks:
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        if block["type"] == "context":
            assert len(block["elements"]) <= 10


@given(incidents())
def test_an_update_can_be_composed_and_posted_in_any_state(incident: Incident) -> None:
    """In every state the update composes; where updates are allowed, posting it is accepted."""
    now = incident.clock.now()
    update = compose_update(incident, now=now)
    cadence = incident.policy.rules_for(incident.priority).update_every
    assert (now + cadence if incident.state.active else None) == update.next_update_due
    assert (update.next_update_due is None) == (not incident.state.active)
    assert update.no_progress == (not update.changes)
    if incident.state in COMMAND_STATES["post_update"]:
        allowed = incident.holders(Role.COMMUNICATOR) + incident.holders(Role.INCIDENT_COMMANDER)
        actor = allowed[0] if allowed else "cy"
        posted = incident.post_update(update.text(), no_progress=update.no_progress, actor=actor)
        assert update.text() == posted.message
        assert compose_update(incident, now=now).no_progress
