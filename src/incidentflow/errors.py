"""The exceptions incidentflow raises, all rooted at :class:`IncidentFlowError`.

The tree, by *when* an error happens::

    IncidentFlowError                 every error the library raises on purpose
    ├── PolicyError (ValueError)      a policy is defined wrongly (bad TOML, unknown key, bad value)
    ├── InvalidInput (ValueError)     a value has the wrong type or shape (naive datetime, empty
    │   │                             actor, unknown role name)
    │   └── DecodeError               serialized events cannot be read (malformed JSON, unknown
    │                                 event type, a newer schema version)
    ├── CommandRefused                a well-formed command the rules refuse; nothing changed
    │   ├── NotAuthorized             the actor holds none of the roles allowed to issue it
    │   ├── TransitionBlocked         a state change whose guards are unmet (or not an edge)
    │   └── RuleViolated              the command would break an invariant
    └── ReplayError                   a recorded history breaks a rule at a given event index

A refused command never leaves a trace: the incident's state, records and event log are exactly
as they were.  Every refusal carries *all* the unmet rules, not just the first one found.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .records import Unmet

__all__ = [
    "CommandRefused",
    "DecodeError",
    "IncidentFlowError",
    "InvalidInput",
    "NotAuthorized",
    "PolicyError",
    "ReplayError",
    "RuleViolated",
    "TransitionBlocked",
]


class IncidentFlowError(Exception):
    """Root of every error incidentflow raises on purpose."""


class PolicyError(IncidentFlowError, ValueError):
    """A policy is defined wrongly: an unknown key, a bad value, a malformed file."""


class InvalidInput(IncidentFlowError, ValueError):
    """A value has the wrong type or shape, e.g. a naive datetime or an empty actor."""


class DecodeError(InvalidInput):
    """Serialized events cannot be read: malformed JSON, unknown type, newer schema."""


def _format_unmet(unmet: Iterable[Unmet]) -> str:
    return "; ".join(f"{u.rule}: {u.detail}" for u in unmet)


class CommandRefused(IncidentFlowError):
    """A well-formed command that the rules refuse; the incident is left unchanged.

    ``unmet`` lists every rule the command failed, in a stable order.
    """

    def __init__(
        self, *, incident_id: str, state: str, command: str, unmet: tuple[Unmet, ...]
    ) -> None:
        self.incident_id = incident_id
        self.state = state
        self.command = command
        self.unmet = unmet
        super().__init__(f"{incident_id} ({state}): {command} refused — {_format_unmet(unmet)}")

    @property
    def rules(self) -> tuple[str, ...]:
        """The names of the unmet rules, in order."""
        return tuple(u.rule for u in self.unmet)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors need help to pickle (task queues, multiprocessing).
        return (_rebuild, (type(self), self._arguments()))

    def _arguments(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "state": self.state,
            "command": self.command,
            "unmet": self.unmet,
        }


class NotAuthorized(CommandRefused):
    """The actor holds none of the roles the policy allows to issue this command."""


class TransitionBlocked(CommandRefused):
    """A state change refused: not an edge of the lifecycle, or its guards are unmet."""

    def __init__(
        self,
        *,
        incident_id: str,
        state: str,
        command: str,
        target: str,
        unmet: tuple[Unmet, ...],
    ) -> None:
        self.target = target
        super().__init__(incident_id=incident_id, state=state, command=command, unmet=unmet)

    def _arguments(self) -> dict[str, Any]:
        return {**super()._arguments(), "target": self.target}


class RuleViolated(CommandRefused):
    """The command would break an invariant or a record rule (e.g. a second Lead)."""


class ReplayError(IncidentFlowError):
    """A recorded history breaks a rule; ``index`` is the 0-based position of the bad event."""

    def __init__(self, *, index: int, rules: tuple[str, ...], detail: str) -> None:
        self.index = index
        self.rules = rules
        self.detail = detail
        super().__init__(f"event {index} breaks {', '.join(rules)}: {detail}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (type(self), {"index": self.index, "rules": self.rules, "detail": self.detail}),
        )


def _rebuild(kind: type[Exception], arguments: dict[str, Any]) -> Exception:
    return kind(**arguments)
