"""The sinks file: which sinks exist, what each takes, and where its secrets are.

A TOML file holds one ``[sinks.NAME]`` table per sink, with its ``type`` and settings, an
optional ``[retry]`` table, and nothing secret: a secret is named by the environment
variable that holds it (``url_env``, ``token_env``, ``secret_env``) and read when the
dispatcher starts.  A secret written in the file is refused.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import field, frozen

from incidentflow.errors import SinkConfigError
from incidentflow.lifecycle import State
from incidentflow.priorities import Priority

from ._retry import RetryPolicy

__all__ = [
    "CONFIG_VARIABLE",
    "SINK_TYPES",
    "Config",
    "Filter",
    "Secret",
    "SinkConfig",
    "load_config",
    "parse_config",
]

CONFIG_VARIABLE = "INCIDENTFLOW_CONFIG"
"""The environment variable naming the sinks file when ``--config`` is not given."""

SINK_TYPES = ("jira", "pagerduty", "python", "slack", "statuspage", "webhook")
"""The sink types a ``[sinks.NAME]`` table may name."""

_SECRET_KEYS = ("url_env", "token_env", "secret_env")
_INLINE_SECRETS = ("token", "secret", "password", "routing_key", "api_key", "key")
_COMMON = ("type", "events", "states", "priorities", "actor", "reminders", "timeout", "link")
_KEYS: dict[str, tuple[str, ...]] = {
    "webhook": ("url", "url_env", "secret_env"),
    "slack": ("url_env", "token_env", "channel", "api_url"),
    "jira": ("base_url", "email", "token_env", "project", "issue_type", "label"),
    "pagerduty": ("url", "token_env", "source", "severity"),
    "statuspage": ("api_url", "page_id", "token_env", "components"),
    "python": ("function",),
}
_REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "webhook": (("url", "url_env"),),
    "slack": (("url_env", "token_env"),),
    "jira": (("base_url",), ("email",), ("token_env",), ("project",)),
    "pagerduty": (("token_env",),),
    "statuspage": (("page_id",), ("token_env",)),
    "python": (("function",),),
}


class Secret:
    """A secret read from the environment; its ``repr`` and ``str`` never show it.

    >>> token = Secret("xoxb-123", variable="SLACK_TOKEN")
    >>> token, str(token), token.reveal()
    (Secret(from $SLACK_TOKEN), '[secret from $SLACK_TOKEN]', 'xoxb-123')
    """

    __slots__ = ("_value", "variable")

    def __init__(self, value: str, *, variable: str) -> None:
        self._value = value
        self.variable = variable

    def reveal(self) -> str:
        """The secret itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret(from ${self.variable})"

    def __str__(self) -> str:
        return f"[secret from ${self.variable}]"


def _names(kind: str, values: object, allowed: tuple[str, ...] | None) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str) or not isinstance(values, list) or not values:
        raise SinkConfigError(f"{kind} must be a non-empty list of names, not {values!r}")
    names = []
    for value in values:
        if type(value) is not str or not value.strip():
            raise SinkConfigError(f"{kind} must hold names, not {value!r}")
        if allowed is not None and value not in allowed:
            raise SinkConfigError(f"{kind}: unknown {value!r}; choose from {', '.join(allowed)}")
        names.append(value)
    return frozenset(names)


@frozen(kw_only=True)
class Filter:
    """Which events a sink takes: by event type, the incident's state and its priority.

    ``None`` takes every value.  The state and priority are the incident's after the event.

    >>> only = Filter(events=frozenset({"declared"}), priorities=frozenset({Priority.P1}))
    >>> only.accepts("declared", State.DECLARED, Priority.P1)
    True
    >>> only.accepts("declared", State.DECLARED, Priority.P3)
    False
    """

    events: frozenset[str] | None = None
    states: frozenset[State] | None = None
    priorities: frozenset[Priority] | None = None

    def accepts(self, event_type: str, state: State, priority: Priority) -> bool:
        """Whether an event of ``event_type`` leaving the incident at ``state`` is taken."""
        return (
            (self.events is None or event_type in self.events)
            and (self.states is None or state in self.states)
            and (self.priorities is None or priority in self.priorities)
        )


@frozen(kw_only=True)
class SinkConfig:
    """One ``[sinks.NAME]`` table, checked: its settings and the variables naming its secrets.

    ``secrets`` maps ``url``, ``token`` or ``secret`` to an environment variable's name;
    ``settings`` holds everything else the sink type reads.  ``actor`` is who the sink's own
    events (its links back) are recorded as.
    """

    name: str
    type: str
    filter: Filter = field(factory=Filter)
    settings: Mapping[str, Any] = field(factory=dict)
    secrets: Mapping[str, str] = field(factory=dict)
    actor: str = ""
    reminders: bool = False
    timeout: float = 10.0
    link: str | None = None

    def secret(self, role: str, environ: Mapping[str, str] | None = None) -> Secret | None:
        """The secret in role ``role`` read from the environment; None if the sink has none.

        An unset or empty variable raises :class:`~incidentflow.errors.SinkConfigError`.
        """
        variable = self.secrets.get(role)
        if variable is None:
            return None
        value = (os.environ if environ is None else environ).get(variable, "")
        if not value:
            raise SinkConfigError(
                f"sink {self.name!r}: environment variable ${variable} ({role}_env) is not set"
            )
        return Secret(value, variable=variable)


@frozen(kw_only=True)
class Config:
    """Every configured sink, in file order, and the retry policy they share."""

    sinks: tuple[SinkConfig, ...] = ()
    retry: RetryPolicy = field(factory=RetryPolicy)

    def sink(self, name: str) -> SinkConfig:
        """The sink called ``name``."""
        for sink in self.sinks:
            if sink.name == name:
                return sink
        known = ", ".join(s.name for s in self.sinks) or "none"
        raise SinkConfigError(f"no sink {name!r} is configured (configured: {known})")


def _sink(name: str, table: object) -> SinkConfig:
    where = f"sink {name!r}"
    if not isinstance(table, dict):
        raise SinkConfigError(f"{where} must be a table ([sinks.{name}])")
    kind = table.get("type")
    if kind not in SINK_TYPES:
        raise SinkConfigError(f"{where}: type must be one of {', '.join(SINK_TYPES)}, not {kind!r}")
    for key in table:
        if key in _INLINE_SECRETS:
            raise SinkConfigError(
                f"{where}: {key!r} would write a secret in the file; name the environment "
                f"variable holding it instead (token_env, secret_env or url_env)"
            )
        if key not in _COMMON and key not in _KEYS[kind]:
            allowed = ", ".join(sorted({*_COMMON, *_KEYS[kind]}))
            raise SinkConfigError(f"{where}: unknown key {key!r} for type {kind} ({allowed})")
    for choices in _REQUIRED[kind]:
        if not any(c in table for c in choices):
            raise SinkConfigError(f"{where}: type {kind} needs {' or '.join(choices)}")
    secrets: dict[str, str] = {}
    settings: dict[str, Any] = {}
    for key, value in table.items():
        if key in _COMMON:
            continue
        if key in _SECRET_KEYS:
            if type(value) is not str or not value.strip():
                raise SinkConfigError(f"{where}: {key} must name an environment variable")
            secrets[key.removesuffix("_env")] = value
        else:
            settings[key] = value
    actor = table.get("actor", f"{name}-bot")
    if type(actor) is not str or not actor.strip():
        raise SinkConfigError(f"{where}: actor must be a non-blank name, not {actor!r}")
    reminders = table.get("reminders", False)
    if type(reminders) is not bool:
        raise SinkConfigError(f"{where}: reminders must be true or false, not {reminders!r}")
    timeout = table.get("timeout", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise SinkConfigError(f"{where}: timeout must be a positive number, not {timeout!r}")
    link = table.get("link")
    if link is not None and link is not False:
        from incidentflow.records import LinkKind

        kinds = tuple(k.value for k in LinkKind)
        if link not in kinds:
            raise SinkConfigError(f"{where}: link must be one of {', '.join(kinds)} or false")
    try:
        states = _names("states", table.get("states"), tuple(s.value for s in State))
        priorities = _names("priorities", table.get("priorities"), tuple(p.value for p in Priority))
        filtered = Filter(
            events=_names("events", table.get("events"), None),
            states=None if states is None else frozenset(State(s) for s in states),
            priorities=(None if priorities is None else frozenset(Priority(p) for p in priorities)),
        )
    except SinkConfigError as exc:
        raise SinkConfigError(f"{where}: {exc}") from None
    return SinkConfig(
        name=name,
        type=kind,
        filter=filtered,
        settings=settings,
        secrets=secrets,
        actor=actor,
        reminders=reminders,
        timeout=float(timeout),
        link="" if link is False else link,
    )


def parse_config(text: str) -> Config:
    """Read a sinks configuration from TOML text.

    >>> config = parse_config('''
    ... [sinks.hooks]
    ... type = "webhook"
    ... url = "https://hooks.example.com/incidents"
    ... secret_env = "HOOKS_SECRET"
    ... events = ["declared", "state_changed"]
    ... ''')
    >>> [(s.name, s.type, dict(s.secrets)) for s in config.sinks]
    [('hooks', 'webhook', {'secret': 'HOOKS_SECRET'})]
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SinkConfigError(f"the sinks file is not valid TOML: {exc}") from exc
    unknown = sorted(set(document) - {"sinks", "retry"})
    if unknown:
        raise SinkConfigError(f"unknown table {unknown[0]!r}; the file holds [sinks.*] and [retry]")
    sinks = document.get("sinks", {})
    if not isinstance(sinks, dict):
        raise SinkConfigError("sinks must be tables: [sinks.NAME]")
    retry_table = document.get("retry", {})
    if not isinstance(retry_table, dict):
        raise SinkConfigError("retry must be a table: [retry]")
    allowed = ("base", "factor", "max_delay", "max_attempts")
    for key in retry_table:
        if key not in allowed:
            raise SinkConfigError(f"retry: unknown key {key!r} ({', '.join(allowed)})")
    return Config(
        sinks=tuple(_sink(name, table) for name, table in sinks.items()),
        retry=RetryPolicy(**retry_table),
    )


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read the sinks file at ``path``, else at ``$INCIDENTFLOW_CONFIG``.

    Neither given raises :class:`~incidentflow.errors.SinkConfigError`.
    """
    if path is None:
        path = os.environ.get(CONFIG_VARIABLE) or None
        if path is None:
            raise SinkConfigError(f"give --config FILE or set ${CONFIG_VARIABLE}")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SinkConfigError(f"cannot read the sinks file {os.fspath(path)!r}: {exc}") from exc
    return parse_config(text)
