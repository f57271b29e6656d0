"""Each sink's request contract, against httpx.MockTransport."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from incidentflow import ActionKind, ImpactLevel, Incident, LinkKind, ManualClock, Priority, Role
from incidentflow.errors import DeliveryFailed, SinkConfigError
from incidentflow.integrations import Sent
from incidentflow.integrations._slack import MAX_BLOCKS, MAX_HEADER, MAX_TEXT, blocks
from integrations_helpers import START, Recorder, incident, make_sink, message, walked

SECRET = "whsec_" + base64.b64encode(b"a-test-signing-key-of-32-bytes!!").decode()


def verify_standard_webhook(secret: str, headers: httpx.Headers, body: bytes) -> bool:
    """An independent Standard Webhooks verifier, written from the specification."""
    key = base64.b64decode(secret[len("whsec_") :])
    signed = headers["webhook-id"] + "." + headers["webhook-timestamp"] + "." + body.decode()
    expected = base64.b64encode(hmac.new(key, signed.encode(), hashlib.sha256).digest()).decode()
    offered = [
        s.split(",", 1)[1] for s in headers["webhook-signature"].split() if s.startswith("v1,")
    ]
    return any(hmac.compare_digest(expected, s) for s in offered)


# -- webhook -------------------------------------------------------------------------------


def test_webhook_posts_the_event_signed_per_standard_webhooks() -> None:
    """The POST carries the event and incident; its signature verifies independently."""
    recorder = Recorder(lambda r: httpx.Response(204))
    sink = make_sink(
        '[sinks.h]\ntype = "webhook"\nurl = "https://hooks.example/in"\nsecret_env = "S"\n',
        recorder,
        {"S": SECRET},
    )
    sent = sink.send(message(incident(), key="msg_abc"))
    (request,) = recorder.requests
    assert ("POST", "https://hooks.example/in") == (request.method, str(request.url))
    assert "msg_abc" == request.headers["webhook-id"]
    assert str(int(START.timestamp())) == request.headers["webhook-timestamp"]
    assert "application/json" == request.headers["content-type"]
    assert verify_standard_webhook(SECRET, request.headers, request.content)
    body = json.loads(request.content)
    assert ("role_assigned", "msg_abc") == (body["type"], body["id"])
    assert {"id": "INC-7", "state": "declared", "priority": "P1"} == {
        k: body["incident"][k] for k in ("id", "state", "priority")
    }
    assert "lead" == body["event"]["role"]
    assert Sent(summary="HTTP 204") == sent


def test_webhook_signature_fails_for_another_body() -> None:
    """The independent verifier rejects a tampered body (so the check above can fail)."""
    recorder = Recorder()
    sink = make_sink(
        '[sinks.h]\ntype = "webhook"\nurl = "https://h.example/"\nsecret_env = "S"\n',
        recorder,
        {"S": SECRET},
    )
    sink.send(message(incident()))
    (request,) = recorder.requests
    assert not verify_standard_webhook(SECRET, request.headers, request.content + b" ")


def test_webhook_without_secret_sends_no_signature_and_reads_url_env() -> None:
    """With url_env and no secret_env: the URL comes from the environment, unsigned."""
    recorder = Recorder()
    sink = make_sink(
        '[sinks.h]\ntype = "webhook"\nurl_env = "U"\n', recorder, {"U": "https://u.example/x"}
    )
    sink.send(message(incident()))
    (request,) = recorder.requests
    assert "https://u.example/x" == str(request.url)
    assert "webhook-signature" not in request.headers


def test_webhook_refuses_a_secret_that_is_not_whsec_base64() -> None:
    """A malformed signing secret is refused when the sink is built."""
    with pytest.raises(SinkConfigError, match="whsec_"):
        make_sink(
            '[sinks.h]\ntype = "webhook"\nurl = "https://h/"\nsecret_env = "S"\n',
            Recorder(),
            {"S": "whsec_!!"},
        )


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (503, True), (429, True), (408, True), (400, False), (404, False)],
)
def test_webhook_failure_statuses(status: int, retryable: bool) -> None:
    """5xx, 408 and 429 are retryable; other 4xx are not."""
    sink = make_sink(
        '[sinks.h]\ntype = "webhook"\nurl = "https://h/"\n',
        Recorder(lambda r: httpx.Response(status)),
    )
    with pytest.raises(DeliveryFailed) as failed:
        sink.send(message(incident()))
    assert retryable == failed.value.retryable


def test_webhook_429_carries_retry_after() -> None:
    """A 429's Retry-After (seconds) is passed on."""
    reply = lambda r: httpx.Response(429, headers={"retry-after": "7"})  # noqa: E731
    sink = make_sink('[sinks.h]\ntype = "webhook"\nurl = "https://h/"\n', Recorder(reply))
    with pytest.raises(DeliveryFailed) as failed:
        sink.send(message(incident()))
    assert (True, 7.0) == (failed.value.retryable, failed.value.retry_after)


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x")],
)
def test_webhook_network_errors_are_retryable(error: Exception) -> None:
    """Connection refused, timeouts and broken answers are retried."""

    def reply(request: httpx.Request) -> httpx.Response:
        raise error

    sink = make_sink('[sinks.h]\ntype = "webhook"\nurl = "https://h/"\n', Recorder(reply))
    with pytest.raises(DeliveryFailed) as failed:
        sink.send(message(incident()))
    assert failed.value.retryable


def test_a_secret_url_never_shows_in_a_failure() -> None:
    """An error about a URL read from the environment names it redacted."""
    url = "https://hooks.example/T0PSECRET"

    def reply(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {url}")

    sink = make_sink('[sinks.h]\ntype = "webhook"\nurl_env = "U"\n', Recorder(reply), {"U": url})
    with pytest.raises(DeliveryFailed) as failed:
        sink.send(message(incident()))
    assert "T0PSECRET" not in str(failed.value)
    assert "[redacted]" in str(failed.value)


# -- slack ---------------------------------------------------------------------------------

SLACK = '[sinks.s]\ntype = "slack"\ntoken_env = "T"\nchannel = "#tech-outage"\napi_url = "https://slack.test/api"\n'


def slack_reply(request: httpx.Request) -> httpx.Response:
    """A Slack Web API that accepts everything."""
    method = request.url.path.rsplit("/", 1)[1]
    if method == "chat.getPermalink":
        return httpx.Response(200, json={"ok": True, "permalink": "https://x.slack.com/p1"})
    return httpx.Response(200, json={"ok": True, "channel": "C1", "ts": "1700.000100"})


def test_slack_first_delivery_opens_the_thread_and_links_it() -> None:
    """chat.postMessage with the bearer token posts the header; its permalink is the link."""
    recorder = Recorder(slack_reply)
    sink = make_sink(SLACK, recorder, {"T": "xoxb-secret"})
    subject = incident()
    sent = sink.send(message(subject))
    post, permalink = recorder.requests
    assert "https://slack.test/api/chat.postMessage" == str(post.url)
    assert "Bearer xoxb-secret" == post.headers["authorization"]
    body = json.loads(post.content)
    assert "#tech-outage" == body["channel"]
    assert "thread_ts" not in body
    assert "header" == body["blocks"][0]["type"]
    assert {"channel": "C1", "message_ts": "1700.000100"} == dict(permalink.url.params)
    assert (
        Sent(
            summary="opened thread 1700.000100",
            state={"ts": "1700.000100", "channel": "C1"},
            links=((LinkKind.ANNOUNCEMENT, "https://x.slack.com/p1"),),
        )
        == sent
    )


def test_slack_later_events_reply_in_the_thread_and_update_the_header() -> None:
    """A role change updates the header (chat.update) and replies under thread_ts."""
    recorder = Recorder(slack_reply)
    sink = make_sink(SLACK, recorder, {"T": "xoxb-secret"})
    subject = incident()
    subject.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    sink.send(message(subject, state={"ts": "1700.1", "channel": "C1"}))
    update, reply = recorder.requests
    assert "/api/chat.update" == update.url.path
    assert {"channel": "C1", "ts": "1700.1"} == {
        k: json.loads(update.content)[k] for k in ("channel", "ts")
    }
    assert "bo" in json.dumps(json.loads(update.content)["blocks"])
    assert "/api/chat.postMessage" == reply.url.path
    assert "1700.1" == json.loads(reply.content)["thread_ts"]


def test_slack_note_only_replies() -> None:
    """An event that changes nothing in the header is a reply only."""
    recorder = Recorder(slack_reply)
    sink = make_sink(SLACK, recorder, {"T": "x"})
    subject = incident()
    subject.note("restarted <db-1> & friends", actor="ana")
    sink.send(message(subject, state={"ts": "1", "channel": "C1"}))
    (reply,) = recorder.requests
    assert "ana noted: restarted &lt;db-1&gt; &amp; friends" == json.loads(reply.content)["text"]


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        ("ratelimited", True),
        ("internal_error", True),
        ("channel_not_found", False),
        ("invalid_auth", False),
    ],
)
def test_slack_ok_false_is_a_failure(error: str, retryable: bool) -> None:
    """Slack's HTTP 200 with ok:false fails the delivery; only transient errors retry."""
    recorder = Recorder(lambda r: httpx.Response(200, json={"ok": False, "error": error}))
    sink = make_sink(SLACK, recorder, {"T": "x"})
    with pytest.raises(DeliveryFailed, match=error) as failed:
        sink.send(message(incident()))
    assert retryable == failed.value.retryable


def test_slack_header_that_cannot_be_edited_still_replies() -> None:
    """chat.update refused for good (message_not_found) does not stop the reply."""

    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("chat.update"):
            return httpx.Response(200, json={"ok": False, "error": "message_not_found"})
        return slack_reply(request)

    recorder = Recorder(reply)
    sink = make_sink(SLACK, recorder, {"T": "x"})
    subject = incident()
    subject.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    sink.send(message(subject, state={"ts": "1", "channel": "C1"}))
    assert ["chat.update", "chat.postMessage"] == [
        r.url.path.rsplit("/", 1)[1] for r in recorder.requests
    ]


def test_slack_incoming_webhook_posts_one_message() -> None:
    """With url_env, each event is one POST of text and blocks to the webhook URL."""
    recorder = Recorder(lambda r: httpx.Response(200, text="ok"))
    sink = make_sink(
        '[sinks.s]\ntype = "slack"\nurl_env = "U"\n',
        recorder,
        {"U": "https://hooks.slack.test/T/B/X"},
    )
    sent = sink.send(message(incident()))
    (post,) = recorder.requests
    assert "https://hooks.slack.test/T/B/X" == str(post.url)
    assert json.loads(post.content)["text"].startswith("INC-7: ana assigned ana as Lead")
    assert sent is not None
    assert "HTTP 200 ok" == sent.summary


def test_slack_blocks_keep_within_block_kit_limits() -> None:
    """At most 50 blocks, 3,000 characters per text, 150 in the header."""
    subject = incident()
    found = blocks(subject, lines=tuple("x" * 5000 for _ in range(80)))
    assert MAX_BLOCKS == len(found)
    assert MAX_TEXT == max(len(b["text"]["text"]) for b in found[2:])
    titled = Incident.declare(
        "INC-8", "t" * 400, Priority.P2, actor="ana", clock=ManualClock(START)
    )
    assert MAX_HEADER == len(blocks(titled)[0]["text"]["text"])


# -- jira ----------------------------------------------------------------------------------

JIRA = (
    '[sinks.j]\ntype = "jira"\nbase_url = "https://acme.atlassian.net"\nemail = "bot@acme.test"\n'
    'token_env = "J"\nproject = "OPS"\n'
)


def jira_reply(found: list[str]) -> Callable[[httpx.Request], httpx.Response]:
    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/search/jql"):
            return httpx.Response(200, json={"issues": [{"key": k} for k in found], "isLast": True})
        return httpx.Response(201, json={"id": "10001", "key": "OPS-12", "self": "https://x"})

    return reply


def test_jira_looks_up_then_creates_the_ticket_and_links_it() -> None:
    """A JQL search by label first; none found, an issue with an ADF description."""
    recorder = Recorder(jira_reply([]))
    sink = make_sink(JIRA, recorder, {"J": "jira-token"})
    sent = sink.send(message(incident()))
    search, create = recorder.requests
    auth = "Basic " + base64.b64encode(b"bot@acme.test:jira-token").decode()
    assert (auth, auth) == (search.headers["authorization"], create.headers["authorization"])
    assert "https://acme.atlassian.net/rest/api/3/search/jql" == str(search.url)
    assert 'project = "OPS" AND labels = "incidentflow-INC-7"' == json.loads(search.content)["jql"]
    fields = json.loads(create.content)["fields"]
    assert "https://acme.atlassian.net/rest/api/3/issue" == str(create.url)
    assert {"key": "OPS"} == fields["project"]
    assert "INC-7: Database is down" == fields["summary"]
    assert ["incidentflow", "incidentflow-INC-7"] == fields["labels"]
    assert ("doc", 1) == (fields["description"]["type"], fields["description"]["version"])
    assert sent is not None
    assert ((LinkKind.TICKET, "https://acme.atlassian.net/browse/OPS-12"),) == sent.links


def test_jira_finds_the_existing_ticket_instead_of_creating_another() -> None:
    """An issue already labelled for the incident is linked, not duplicated."""
    recorder = Recorder(jira_reply(["OPS-3"]))
    sent = make_sink(JIRA, recorder, {"J": "t"}).send(message(incident()))
    assert 1 == len(recorder.requests)
    assert sent is not None
    assert "found OPS-3" == sent.summary


def test_jira_does_nothing_when_a_ticket_is_linked() -> None:
    """With a ticket linked already, no request is made."""
    recorder = Recorder(jira_reply([]))
    subject = incident()
    subject.link(LinkKind.TICKET, "https://t.example/1", actor="ana")
    assert None is make_sink(JIRA, recorder, {"J": "t"}).send(message(subject))
    assert [] == recorder.requests


def test_jira_action_items_become_issues() -> None:
    """An action item is an issue of its own, labelled by incident and action."""
    recorder = Recorder(jira_reply([]))
    subject = incident()
    subject.add_action(
        "add a replica",
        owner="bo",
        due_at=START + timedelta(days=7),
        kind=ActionKind.PREVENTIVE,
        actor="ana",
        action_id="A1",
    )
    sent = make_sink(JIRA, recorder, {"J": "t"}).send(message(subject))
    search, create = recorder.requests
    assert 'labels = "incidentflow-INC-7-A1"' in json.loads(search.content)["jql"]
    assert "INC-7 action A1: add a replica" == json.loads(create.content)["fields"]["summary"]
    assert sent is not None
    assert "created OPS-12" == sent.summary


# -- pagerduty -----------------------------------------------------------------------------

PAGERDUTY = '[sinks.p]\ntype = "pagerduty"\ntoken_env = "R"\n'


def test_pagerduty_triggers_on_declare_with_severity_by_priority() -> None:
    """A trigger to the Events API v2 with dedup_key = incident id."""
    recorder = Recorder(lambda r: httpx.Response(202, json={"status": "success"}))
    subject = incident(Priority.P0)
    sink = make_sink(PAGERDUTY, recorder, {"R": "routing-key"})
    sink.send(message(subject, index=0))
    (request,) = recorder.requests
    assert "https://events.pagerduty.com/v2/enqueue" == str(request.url)
    body = json.loads(request.content)
    assert ("routing-key", "trigger", "INC-7") == (
        body["routing_key"],
        body["event_action"],
        body["dedup_key"],
    )
    assert ("critical", "INC-7: Database is down") == (
        body["payload"]["severity"],
        body["payload"]["summary"],
    )


@pytest.mark.parametrize(
    ("priority", "severity"),
    [
        (Priority.P0, "critical"),
        (Priority.P1, "error"),
        (Priority.P2, "warning"),
        (Priority.P3, "info"),
    ],
)
def test_pagerduty_severity_table(priority: Priority, severity: str) -> None:
    """Each priority maps to its severity."""
    recorder = Recorder(lambda r: httpx.Response(202))
    subject = incident(priority)
    make_sink(PAGERDUTY, recorder, {"R": "k"}).send(message(subject, index=0))
    assert severity == recorder.bodies()[0]["payload"]["severity"]


def test_pagerduty_acknowledges_on_mitigating() -> None:
    """declared → mitigating acknowledges the alert, without a payload."""
    recorder = Recorder(lambda r: httpx.Response(202))
    make_sink(PAGERDUTY, recorder, {"R": "k"}).send(message(walked()))
    assert {
        "routing_key": "k",
        "event_action": "acknowledge",
        "dedup_key": "INC-7",
    } == recorder.bodies()[0]


def test_pagerduty_ignores_other_moves_and_400_is_final() -> None:
    """A note is not sent; a 400 from PagerDuty is not retried."""
    sink = make_sink(
        PAGERDUTY,
        Recorder(lambda r: httpx.Response(400, json={"status": "invalid event"})),
        {"R": "k"},
    )
    with pytest.raises(DeliveryFailed) as failed:
        sink.send(message(incident(), index=0))
    assert not failed.value.retryable
    assert not sink.wants("note_added")


def test_pagerduty_resolves_on_green() -> None:
    """yellow → green resolves the alert."""
    recorder = Recorder(lambda r: httpx.Response(202))
    subject = walked()
    subject.verify_recovery("graphs are flat", actor="ana")
    subject.announce_yellow("fixed", actor="ana")
    subject.verify_customer("acme", "works for them", actor="ana")
    subject.announce_green("all clear", actor="ana")
    make_sink(PAGERDUTY, recorder, {"R": "k"}).send(message(subject))
    assert "resolve" == recorder.bodies()[0]["event_action"]


# -- statuspage ----------------------------------------------------------------------------

STATUSPAGE = (
    '[sinks.sp]\ntype = "statuspage"\npage_id = "pg1"\ntoken_env = "K"\ncomponents = ["c1", "c2"]\n'
)


def statuspage_reply(request: httpx.Request) -> httpx.Response:
    """A Statuspage API that knows incident inc9."""
    return httpx.Response(200, json={"id": "inc9", "shortlink": "https://stspg.io/x"})


def test_statuspage_opens_the_page_incident_and_links_it() -> None:
    """The first delivery creates the incident as investigating, with the OAuth key."""
    recorder = Recorder(statuspage_reply)
    sent = make_sink(STATUSPAGE, recorder, {"K": "sp-key"}).send(message(incident(), index=0))
    (request,) = recorder.requests
    assert ("POST", "https://api.statuspage.io/v1/pages/pg1/incidents") == (
        request.method,
        str(request.url),
    )
    assert "OAuth sp-key" == request.headers["authorization"]
    fields = recorder.bodies()[0]["incident"]
    assert ("Database is down", "investigating") == (fields["name"], fields["status"])
    assert sent is not None
    assert {"incident": "inc9"} == dict(sent.state)
    assert ((LinkKind.PUBLIC_CHANNEL, "https://stspg.io/x"),) == sent.links


@pytest.mark.parametrize(
    ("steps", "status"),
    [(0, "identified"), (1, "monitoring"), (2, "resolved")],
)
def test_statuspage_follows_the_lifecycle(steps: int, status: str) -> None:
    """mitigating is identified, yellow monitoring, green resolved (components operational)."""
    recorder = Recorder(statuspage_reply)
    subject = walked()
    if steps >= 1:
        subject.verify_recovery("flat", actor="ana")
        subject.announce_yellow("fixed", actor="ana")
    if steps >= 2:
        subject.verify_customer("acme", "fine", actor="ana")
        subject.announce_green("all clear", actor="ana")
    make_sink(STATUSPAGE, recorder, {"K": "k"}).send(message(subject, state={"incident": "inc9"}))
    (request,) = recorder.requests
    assert ("PATCH", "/v1/pages/pg1/incidents/inc9") == (request.method, request.url.path)
    fields = recorder.bodies()[0]["incident"]
    assert status == fields["status"]
    if status == "resolved":
        assert {"c1": "operational", "c2": "operational"} == fields["components"]
    else:
        assert "components" not in fields


def test_statuspage_posts_the_stakeholder_update_as_the_body() -> None:
    """An update's text is the page incident's new body."""
    recorder = Recorder(statuspage_reply)
    subject = walked()
    subject.post_update("failover under way", actor="cy")
    make_sink(STATUSPAGE, recorder, {"K": "k"}).send(message(subject, state={"incident": "inc9"}))
    assert {"status": "identified", "body": "failover under way"} == recorder.bodies()[0][
        "incident"
    ]


@pytest.mark.parametrize(
    ("level", "status"),
    [
        ("operational", "operational"),
        ("degraded", "degraded_performance"),
        ("partial_outage", "partial_outage"),
        ("major_outage", "major_outage"),
    ],
)
def test_statuspage_component_status_from_the_impact_level(level: str, status: str) -> None:
    """An impact change sets the listed components' status from its level."""
    from incidentflow.integrations import Message

    subject = walked()
    event = subject.change_impact(
        ImpactLevel.parse(level), actor="ana", now=subject.last_recorded_at
    )
    recorder = Recorder(statuspage_reply)
    sink = make_sink(STATUSPAGE, recorder, {"K": "k"})
    sink.send(Message(key="k", incident=subject, event=event, state={"incident": "i"}, now=START))
    assert {"c1": status, "c2": status} == recorder.bodies()[0]["incident"]["components"]


# -- python --------------------------------------------------------------------------------

CALLED: list[object] = []


def remember(message: object) -> None:
    """A python sink's function: keeps what it is given."""
    CALLED.append(message)


def refuse(message: object) -> None:
    """A python sink's function that fails."""
    raise RuntimeError("nope")


def test_python_sink_calls_the_function_with_the_message() -> None:
    """module:function is called with the Message; a plain return is a delivery."""
    CALLED.clear()
    sink = make_sink(
        '[sinks.py]\ntype = "python"\nfunction = "test_integrations_sinks:remember"\n',
        Recorder(),
    )
    sent = sink.send(message(incident()))
    assert ("msg_1", Sent(summary="called")) == (CALLED[0].key, sent)  # type: ignore[attr-defined]


def test_python_sink_failures_are_retryable_delivery_failures() -> None:
    """What the function raises is a retryable DeliveryFailed."""
    sink = make_sink(
        '[sinks.py]\ntype = "python"\nfunction = "test_integrations_sinks:refuse"\n',
        Recorder(),
    )
    with pytest.raises(DeliveryFailed, match="RuntimeError: nope") as failed:
        sink.send(message(incident()))
    assert failed.value.retryable


@pytest.mark.parametrize("reference", ["nowhere", "json:", "no_such_module_x:f", "json:nothing"])
def test_python_sink_function_must_exist(reference: str) -> None:
    """A function that cannot be found is a configuration error."""
    with pytest.raises(SinkConfigError):
        make_sink(f'[sinks.py]\ntype = "python"\nfunction = "{reference}"\n', Recorder())


# -- the one-line descriptions ---------------------------------------------------------------


def test_each_event_is_described_by_its_actor() -> None:
    """Chat lines are the RCA timeline's lines: who did what, for every kind of event."""
    from incidentflow.documents._narrative import describe

    subject = walked()
    subject.post_update("failover under way", actor="cy")
    subject.change_priority(Priority.P0, reason="all customers", actor="ana")
    subject.hand_off(Role.INCIDENT_COMMANDER, "bo", "eve", actor="ana")
    subject.add_action(
        "add a replica",
        owner="bo",
        due_at=START + timedelta(days=7),
        kind=ActionKind.PREVENTIVE,
        actor="ana",
        action_id="A1",
    )
    lines = [describe(e) for e in subject.history]
    assert [
        "ana declared P1 incident INC-7: Database is down",
        "ana assigned ana as Lead",
        "ana assigned bo as IC (Incident Commander)",
        "ana assigned cy as Communicator",
        "ana assigned di as Recorder",
        "ana validated the problem: db refuses connections",
        "ana linked the ticket: https://x.example/ticket",
        "ana linked the war room: https://x.example/war_room",
        "ana linked the public channel: https://x.example/public_channel",
        "ana linked the announcement: https://x.example/announcement",
        "ana moved the incident from declared to mitigating: on it",
        "cy updated stakeholders: failover under way",
        "ana changed the priority to P0: all customers",
        "ana handed IC (Incident Commander) from bo to eve",
        "ana added preventive action A1 for bo, due 2026-03-08 14:00 UTC: add a replica",
    ] == lines
    minor = incident(Priority.P3)
    minor.release(Role.LEAD, "ana", actor="ana")
    assert "ana released ana from Lead" == describe(minor.history[-1])
    from incidentflow.events import DebtOpened

    debt = DebtOpened(
        actor="bo", occurred_at=START, recorded_at=START, debt_id="D1", description="x"
    )
    assert "bo opened tech debt D1: x" == describe(debt)


# -- the edges of each sink ------------------------------------------------------------------


def test_slack_reminder_in_the_thread_and_a_missing_permalink() -> None:
    """A reminder is a reply naming the incident; a failed permalink still opens the thread."""
    from incidentflow.integrations import Message, Reminder

    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("getPermalink"):
            return httpx.Response(200, json={"ok": False, "error": "message_not_found"})
        return slack_reply(request)

    recorder = Recorder(reply)
    sink = make_sink(SLACK, recorder, {"T": "x"})
    opened = sink.send(message(incident(), index=0))
    assert opened is not None
    assert ((), "1700.000100") == (opened.links, opened.state["ts"])
    reminder = Reminder(
        kind="stakeholder_update",
        description="update stakeholders",
        command="post_update",
        owners=("cy",),
        due_at=START,
        overdue_by_minutes=12,
    )
    sink.send(
        Message(key="r", incident=incident(), reminder=reminder, state=opened.state, now=START)
    )
    text = json.loads(recorder.requests[-1].content)["text"]
    assert "INC-7: stakeholder update overdue by 12 min: update stakeholders (cy)" == text


@pytest.mark.parametrize(
    "answer",
    [httpx.Response(200, text="<html>"), httpx.Response(200, json=["ok"])],
)
def test_slack_answers_that_are_not_an_ok_object_fail(answer: httpx.Response) -> None:
    """A body that is not JSON, or not an object, is a failure."""
    sink = make_sink(SLACK, Recorder(lambda r: answer), {"T": "x"})
    with pytest.raises(DeliveryFailed):
        sink.send(message(incident()))


def test_slack_header_update_retryable_failure_is_raised() -> None:
    """A rate-limited chat.update fails the delivery, to be tried again."""

    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("chat.update"):
            return httpx.Response(200, json={"ok": False, "error": "ratelimited"})
        return slack_reply(request)

    subject = incident()
    subject.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    sink = make_sink(SLACK, Recorder(reply), {"T": "x"})
    with pytest.raises(DeliveryFailed, match="ratelimited"):
        sink.send(message(subject, state={"ts": "1", "channel": "C1"}))


def test_pagerduty_severity_table_override_and_its_errors() -> None:
    """A severity table overrides the default; an unknown severity or a non-table is refused."""
    recorder = Recorder(lambda r: httpx.Response(202))
    text = PAGERDUTY + '[sinks.p.severity]\nP1 = "critical"\n'
    make_sink(text, recorder, {"R": "k"}).send(message(incident(), index=0))
    assert "critical" == recorder.bodies()[0]["payload"]["severity"]
    for bad in ('[sinks.p.severity]\nP1 = "loud"\n', 'severity = "loud"\n'):
        sink = make_sink(PAGERDUTY + bad, recorder, {"R": "k"})
        with pytest.raises(SinkConfigError):
            sink.send(message(incident(), index=0))


def test_pagerduty_ignores_a_reopen() -> None:
    """yellow → mitigating (a reopen) sends nothing."""
    subject = walked()
    subject.verify_recovery("flat", actor="ana")
    subject.announce_yellow("fixed", actor="ana")
    subject.reopen("errors are back", actor="ana")
    recorder = Recorder()
    assert None is make_sink(PAGERDUTY, recorder, {"R": "k"}).send(message(subject))
    assert [] == recorder.requests


def test_jira_and_statuspage_answers_without_keys_fail() -> None:
    """A created issue without a key, a page incident without an id: failures."""
    jira = make_sink(JIRA, Recorder(jira_reply_without_key), {"J": "t"})
    with pytest.raises(DeliveryFailed, match="did not say its key"):
        jira.send(message(incident()))
    status = make_sink(STATUSPAGE, Recorder(lambda r: httpx.Response(200, json={})), {"K": "k"})
    with pytest.raises(DeliveryFailed, match="without an incident id"):
        status.send(message(incident(), index=0))


def jira_reply_without_key(request: httpx.Request) -> httpx.Response:
    """A Jira that finds nothing and creates an issue without saying its key."""
    if request.url.path.endswith("/search/jql"):
        return httpx.Response(200, json={"issues": []})
    return httpx.Response(201, json={"id": "1"})


def test_python_sink_passes_delivery_failed_through_and_refuses_non_callables() -> None:
    """A function raising DeliveryFailed keeps its verdict; a non-callable is refused."""
    sink = make_sink(
        '[sinks.py]\ntype = "python"\nfunction = "test_integrations_sinks:final"\n', Recorder()
    )
    with pytest.raises(DeliveryFailed) as failed:
        sink.send(message(incident()))
    assert not failed.value.retryable
    with pytest.raises(SinkConfigError, match="not callable"):
        make_sink(
            '[sinks.py]\ntype = "python"\nfunction = "test_integrations_sinks:SECRET"\n', Recorder()
        )


def final(message: object) -> None:
    """A python sink's function that refuses for good."""
    raise DeliveryFailed("never", retryable=False)


def test_a_sink_without_an_injected_client_makes_its_own() -> None:
    """The default client is an httpx.Client with explicit timeouts."""
    from incidentflow.integrations import build_sink
    from integrations_helpers import sink_config

    sink = build_sink(sink_config('[sinks.h]\ntype = "webhook"\nurl = "https://h/"\n'), environ={})
    client = sink.client
    assert (httpx.Timeout(10.0, connect=5.0), client) == (client.timeout, sink.client)
    client.close()
