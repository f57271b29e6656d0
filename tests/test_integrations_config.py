"""The sinks file and the retry policy."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidentflow import Priority, State
from incidentflow.errors import InvalidInput, SinkConfigError
from incidentflow.integrations import (
    CONFIG_VARIABLE,
    Config,
    Filter,
    RetryPolicy,
    Secret,
    load_config,
    parse_config,
)
from incidentflow.integrations._retry import parse_retry_after, retryable_status

FULL = """
[retry]
base = 0.5
max_attempts = 4

[sinks.outage]
type = "slack"
token_env = "SLACK_TOKEN"
channel = "#tech-outage"
reminders = true
states = ["declared", "mitigating"]

[sinks.tickets]
type = "jira"
base_url = "https://acme.atlassian.net"
email = "bot@acme.test"
token_env = "JIRA_TOKEN"
project = "OPS"
actor = "jira"
priorities = ["P0", "P1"]
"""


def test_a_full_file_is_read_in_order() -> None:
    """Every sink, its filter, secrets by variable name, and the retry table."""
    config = parse_config(FULL)
    outage, tickets = config.sinks
    assert ("outage", "slack", {"token": "SLACK_TOKEN"}) == (
        outage.name,
        outage.type,
        dict(outage.secrets),
    )
    assert ("outage-bot", True) == (outage.actor, outage.reminders)
    assert Filter(states=frozenset({State.DECLARED, State.MITIGATING})) == outage.filter
    assert ("jira", Filter(priorities=frozenset({Priority.P0, Priority.P1}))) == (
        tickets.actor,
        tickets.filter,
    )
    assert RetryPolicy(base=0.5, max_attempts=4) == config.retry
    assert tickets == config.sink("tickets")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[sinks.a]\ntype = "fax"\n', "type must be one of"),
        ('[sinks.a]\ntype = "webhook"\nurl = "https://x"\ncolour = 1\n', "unknown key 'colour'"),
        ('[sinks.a]\ntype = "slack"\ntoken = "xoxb-1"\n', "would write a secret in the file"),
        ('[sinks.a]\ntype = "pagerduty"\nrouting_key = "abc"\n', "would write a secret"),
        ('[sinks.a]\ntype = "webhook"\nsecret = "whsec_x"\nurl = "u"\n', "would write a secret"),
        (
            '[sinks.a]\ntype = "jira"\nbase_url = "u"\nemail = "e"\ntoken_env = "T"\n',
            "needs project",
        ),
        ('[sinks.a]\ntype = "slack"\nchannel = "#x"\n', "needs url_env or token_env"),
        ('[sinks.a]\ntype = "webhook"\nurl = "u"\nstates = ["sleeping"]\n', "unknown 'sleeping'"),
        ('[sinks.a]\ntype = "webhook"\nurl = "u"\npriorities = "P1"\n', "non-empty list"),
        ('[sinks.a]\ntype = "webhook"\nurl = "u"\nevents = []\n', "non-empty list"),
        ('[sinks.a]\ntype = "webhook"\nurl = "u"\nevents = [""]\n', "must hold names"),
        ('[sinks.a]\ntype = "webhook"\nurl = "u"\nactor = " "\n', "actor must be"),
        ('[sinks.a]\ntype = "webhook"\nurl = "u"\nreminders = "yes"\n', "reminders must be"),
        ('[sinks.a]\ntype = "webhook"\nurl = "u"\ntimeout = 0\n', "timeout must be"),
        ('[sinks.a]\ntype = "webhook"\nurl = "u"\nlink = "fax"\n', "link must be one of"),
        ('[sinks.a]\ntype = "webhook"\nurl_env = ""\n', "must name an environment variable"),
        ("[sinks]\na = 1\n", "must be a table"),
        ("sinks = 1\n", "sinks must be tables"),
        ("retry = 1\n", "retry must be a table"),
        ("[retry]\nbase = -1\n", "retry.base must be a positive number"),
        ("[retry]\nmax_attempts = 0\n", "retry.max_attempts must be a whole number"),
        ("[retry]\njitter = 1\n", "unknown key 'jitter'"),
        ("[other]\n", "unknown table 'other'"),
        ("[sinks.a\n", "not valid TOML"),
    ],
)
def test_bad_files_are_refused_with_a_clear_error(text: str, message: str) -> None:
    """Each mistake raises SinkConfigError (an InvalidInput) naming what is wrong."""
    with pytest.raises(SinkConfigError, match=message.replace("(", r"\(")) as refused:
        parse_config(text)
    assert isinstance(refused.value, InvalidInput)


def test_secrets_are_read_from_the_environment_and_never_shown() -> None:
    """A secret's repr and str name its variable only; an unset variable is an error."""
    (sink,) = parse_config('[sinks.a]\ntype = "pagerduty"\ntoken_env = "PD_KEY"\n').sinks
    secret = sink.secret("token", {"PD_KEY": "R0UT1NG"})
    assert isinstance(secret, Secret)
    assert "R0UT1NG" == secret.reveal()
    assert "R0UT1NG" not in repr(secret) + str(secret) + repr(sink)
    assert None is sink.secret("url", {})
    with pytest.raises(SinkConfigError, match=r"\$PD_KEY \(token_env\) is not set"):
        sink.secret("token", {})


def test_load_config_reads_the_file_or_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--config FILE, else $INCIDENTFLOW_CONFIG; neither is an error."""
    path = tmp_path / "sinks.toml"
    path.write_text('[sinks.a]\ntype = "webhook"\nurl = "https://x"\n', encoding="utf-8")
    assert ("a",) == tuple(s.name for s in load_config(path).sinks)
    monkeypatch.setenv(CONFIG_VARIABLE, str(path))
    assert ("a",) == tuple(s.name for s in load_config().sinks)
    monkeypatch.delenv(CONFIG_VARIABLE)
    with pytest.raises(SinkConfigError, match="--config FILE"):
        load_config()
    with pytest.raises(SinkConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


def test_an_unknown_sink_name_lists_the_known() -> None:
    """Config.sink names what is configured."""
    with pytest.raises(SinkConfigError, match=r"configured: none"):
        Config().sink("x")


def test_link_false_turns_links_off() -> None:
    """link = false records nothing back."""
    (sink,) = parse_config('[sinks.a]\ntype = "webhook"\nurl = "u"\nlink = false\n').sinks
    assert "" == sink.link


# -- retry -----------------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_with_jitter_between_half_and_all() -> None:
    """Attempt n waits between half and all of min(cap, base × factor^(n-1))."""
    policy = RetryPolicy(base=2.0, factor=3.0, max_delay=100.0, max_attempts=5)
    assert [2.0, 6.0, 18.0, 54.0, 100.0] == [
        policy.delay(n, random=lambda: 1.0) for n in range(1, 6)
    ]
    assert [1.0, 3.0, 9.0] == [policy.delay(n, random=lambda: 0.0) for n in range(1, 4)]
    assert (False, True) == (policy.exhausted(4), policy.exhausted(5))


@given(
    attempts=st.integers(min_value=1, max_value=60),
    draw=st.floats(min_value=0.0, max_value=1.0),
    retry_after=st.none() | st.floats(min_value=-10.0, max_value=1e6),
)
def test_delay_is_always_within_zero_and_the_cap(
    attempts: int, draw: float, retry_after: float | None
) -> None:
    """Whatever the attempt, the draw or the Retry-After, 0 ≤ delay ≤ max_delay."""
    policy = RetryPolicy(base=1.0, factor=2.0, max_delay=300.0)
    delay = policy.delay(attempts, retry_after=retry_after, random=lambda: draw)
    assert 0.0 <= delay <= 300.0
    if retry_after is not None:
        assert min(300.0, max(0.0, retry_after)) == delay


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (399, False),
        (400, False),
        (407, False),
        (408, True),
        (425, True),
        (429, True),
        (499, False),
        (500, True),
        (599, True),
        (600, False),
    ],
)
def test_retryable_statuses(status: int, expected: bool) -> None:
    """408, 425, 429 and 5xx are retried; other answers are not."""
    assert expected == retryable_status(status)


def test_retry_after_as_a_date_in_the_past_or_without_zone() -> None:
    """A past date waits 0 s; a date that cannot be read is ignored."""
    now = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    assert 0.0 == parse_retry_after("Sun, 01 Mar 2026 13:00:00 GMT", now=now)
    assert None is parse_retry_after("Sun, 01 Mar 2026 13:00:00 -0000x", now=now)


def test_the_example_sinks_file_is_valid() -> None:
    """examples/sinks.toml reads without error and names every sink type but python."""
    config = load_config(Path(__file__).parent.parent / "examples" / "sinks.toml")
    assert ["audit", "outage-channel", "pager", "status-page", "tickets"] == sorted(
        s.name for s in config.sinks
    )
    assert {"slack", "jira", "pagerduty", "statuspage", "webhook"} == {s.type for s in config.sinks}
