"""The exceptions incidentflow raises, all rooted at :class:`IncidentFlowError`.

The tree, by *when* an error happens::

    IncidentFlowError                 every error the library raises on purpose
    ├── PolicyError (ValueError)      a policy is defined wrongly (bad TOML, unknown key, bad value)
    ├── InvalidInput (ValueError)     a value has the wrong type or shape (naive datetime, empty
    │   │                             actor, unknown role name)
    │   ├── DecodeError               serialized events cannot be read (malformed JSON, unknown
    │   │                             event type, a newer schema version)
    │   └── SinkConfigError           a sinks file is wrong: unknown type or key, a secret
    │                                 written in it, a secret's variable unset
    ├── CommandRefused                a well-formed command the rules refuse; nothing changed
    │   ├── NotAuthorized             the actor holds none of the roles allowed to issue it
    │   ├── TransitionBlocked         a state change whose guards are unmet (or not an edge)
    │   └── RuleViolated              the command would break an invariant
    ├── ReplayError                   a recorded history breaks a rule at a given event (1-based)
    ├── NotReady                      a document or chart asks for something not recorded yet
    │                                 (an invitation before the post-mortem is scheduled)
    ├── MissingExtra (ImportError)    an optional part needs a package that is not installed
    ├── DeliveryFailed                a sink could not deliver (``retryable``, ``retry_after``)
    └── StoreError                    a store cannot do what was asked of it
        ├── Conflict                  another writer appended first (expected vs actual version)
        │   ├── AlreadyExists         a declaration of an id the store already holds
        │   └── CheckpointConflict    a feed consumer's checkpoint moved backwards
        ├── NotFound (KeyError)       no incident with that id is stored (names the store)
        ├── Tampered                  stored events were changed behind the library's back
        ├── InvalidHistory            a well-chained history (or a batch appended to it) that
        │                             its rules refuse
        └── StoreUnavailable          the database cannot be opened or written (read-only,
            │                         full, missing, not an incidentflow store, newer, keyed)
            └── StoreBusy             locked by other writers past the timeout
                └── DispatcherRunning another dispatcher already serves this SQLite store

A refused command never leaves a trace: the incident's state, records and event log are exactly
as they were.  Every refusal carries *all* the unmet rules, not just the first one found.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from .records import Unmet

__all__ = [
    "AlreadyExists",
    "CheckpointConflict",
    "CommandRefused",
    "Conflict",
    "DecodeError",
    "DeliveryFailed",
    "DispatcherRunning",
    "IncidentFlowError",
    "InvalidHistory",
    "InvalidInput",
    "MissingExtra",
    "NotAuthorized",
    "NotFound",
    "NotReady",
    "PolicyError",
    "ReplayError",
    "RuleViolated",
    "SinkConfigError",
    "StoreBusy",
    "StoreError",
    "StoreUnavailable",
    "Tampered",
    "TransitionBlocked",
]


class IncidentFlowError(Exception):
    """Root of every error incidentflow raises on purpose."""

    _fields: ClassVar[tuple[str, ...]] = ()
    """The keyword arguments an error is built from, which pickling rebuilds it with."""

    def __reduce__(self) -> str | tuple[Any, ...]:
        # Keyword-only constructors need help to pickle (task queues, multiprocessing).
        if not self._fields:
            return super().__reduce__()
        return (_rebuild, (type(self), {name: getattr(self, name) for name in self._fields}))


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

    _fields: ClassVar[tuple[str, ...]] = ("incident_id", "state", "command", "unmet")

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


class NotAuthorized(CommandRefused):
    """The actor holds none of the roles the policy allows to issue this command."""


class TransitionBlocked(CommandRefused):
    """A state change refused: not an edge of the lifecycle, or its guards are unmet."""

    _fields: ClassVar[tuple[str, ...]] = (*CommandRefused._fields, "target")

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


class RuleViolated(CommandRefused):
    """The command would break an invariant or a record rule (e.g. a second Lead)."""


class ReplayError(IncidentFlowError):
    """A recorded history breaks a rule at one event.

    ``version`` is the 1-based number of the bad event, as the store numbers events and as the
    message says it; ``index`` is its 0-based position in the sequence replayed
    (``version - 1``).  ``unmet`` holds every rule the event failed, with its detail, where the
    rules were checked (empty for a history that is empty or holds something other than
    events).
    """

    _fields: ClassVar[tuple[str, ...]] = ("index", "rules", "detail", "unmet")

    def __init__(
        self,
        *,
        index: int,
        rules: tuple[str, ...],
        detail: str,
        unmet: tuple[Unmet, ...] = (),
    ) -> None:
        self.index = index
        self.rules = rules
        self.detail = detail
        self.unmet = unmet
        super().__init__(f"event {index + 1} breaks {', '.join(rules)}: {detail}")

    @property
    def version(self) -> int:
        """The 1-based number of the bad event (``index + 1``), as messages give it."""
        return self.index + 1


class NotReady(IncidentFlowError):
    """The incident has not recorded what was asked for yet.

    For example a calendar invitation before the post-mortem is scheduled.
    """


class MissingExtra(IncidentFlowError, ImportError):
    """An optional part needs a package that is not installed; the message names the extra.

    ``extra`` is the name to install, as in ``pip install 'incidentflow[charts]'``.
    """

    _fields: ClassVar[tuple[str, ...]] = ("extra", "package", "feature")

    def __init__(self, *, extra: str, package: str, feature: str) -> None:
        self.extra = extra
        self.package = package
        self.feature = feature
        super().__init__(
            f"{feature} needs {package}, which is not installed: "
            f"pip install 'incidentflow[{extra}]'"
        )


class StoreError(IncidentFlowError):
    """Root of storage problems: a store cannot do what was asked of it."""


class Conflict(StoreError):
    """Optimistic-concurrency conflict: the incident is not at the version the writer expected.

    Another writer appended first; nothing was written.  Reload the incident and retry.
    """

    _fields: ClassVar[tuple[str, ...]] = ("incident_id", "expected", "actual")

    def __init__(self, *, incident_id: str, expected: int, actual: int) -> None:
        self.incident_id = incident_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{incident_id}: expected version {expected} but the store holds version {actual}; "
            "reload the incident and retry"
        )


class AlreadyExists(Conflict):
    """A declaration (``expected_version=0``) of an incident the store already holds.

    Nothing was written; choose another id.  ``actual`` is the stored incident's version.
    """

    _fields: ClassVar[tuple[str, ...]] = ("incident_id", "actual")

    def __init__(self, *, incident_id: str, actual: int) -> None:
        self.incident_id = incident_id
        self.expected = 0
        self.actual = actual
        StoreError.__init__(
            self, f"{incident_id} already exists (version {actual}); choose another id"
        )


class CheckpointConflict(Conflict):
    """A feed consumer's checkpoint would move backwards (another consumer got further).

    Nothing was written.  ``name`` is the checkpoint, ``position`` the one asked for and
    ``current`` the one stored; ``incident_id``, ``expected`` and ``actual`` mirror them.
    """

    _fields: ClassVar[tuple[str, ...]] = ("name", "position", "current")

    def __init__(self, *, name: str, position: int, current: int) -> None:
        self.name = name
        self.position = position
        self.current = current
        self.incident_id = name
        self.expected = position
        self.actual = current
        StoreError.__init__(
            self,
            f"checkpoint {name!r} is at position {current}; it cannot move back to {position}",
        )


class NotFound(StoreError, KeyError):
    """No incident with this id is stored; ``store`` names where it was looked for."""

    _fields: ClassVar[tuple[str, ...]] = ("incident_id", "store")

    def __init__(self, *, incident_id: str, store: str = "the store") -> None:
        self.incident_id = incident_id
        self.store = store
        super().__init__(f"no incident {incident_id!r} in {store}")

    def __str__(self) -> str:
        # KeyError's own __str__ would quote the message like a repr.
        return str(self.args[0])


class Tampered(StoreError):
    """Stored data was changed behind the library's back.

    ``version`` is the 1-based version of the first bad event; ``reason`` says what is wrong.
    ``position`` is the bad event's place in the global feed when the feed read it
    (:meth:`~incidentflow.store.Store.read_since`), so that a consumer can pass over it;
    None otherwise.
    """

    _fields: ClassVar[tuple[str, ...]] = ("incident_id", "version", "reason", "position")

    def __init__(
        self, *, incident_id: str, version: int, reason: str, position: int | None = None
    ) -> None:
        self.incident_id = incident_id
        self.version = version
        self.reason = reason
        self.position = position
        where = "" if position is None else f" (feed position {position})"
        super().__init__(f"{incident_id}: event {version}{where} was tampered with: {reason}")


class InvalidHistory(StoreError):
    """A history whose chain holds but whose rules refuse it: nobody changed it, it is wrong.

    ``version`` is the 1-based version of the first event the rules refuse and ``unmet``
    every rule it breaks.  ``stored`` is True when the refused event is in the store (a
    history written by a release, a policy or a hand that allowed it), False when it is in a
    batch :meth:`~incidentflow.store.Store.append` was asked to add (nothing was written).
    """

    _fields: ClassVar[tuple[str, ...]] = ("incident_id", "version", "unmet", "detail", "stored")

    def __init__(
        self,
        *,
        incident_id: str,
        version: int,
        unmet: tuple[Unmet, ...],
        detail: str = "",
        stored: bool = True,
    ) -> None:
        self.incident_id = incident_id
        self.version = version
        self.unmet = unmet
        self.detail = detail
        self.stored = stored
        why = _format_unmet(unmet) or detail
        if stored:
            message = f"{incident_id}: stored event {version} breaks the rules: {why}"
        else:
            message = (
                f"{incident_id}: event {version} would break the rules, nothing written: {why}"
            )
        super().__init__(message)

    @property
    def rules(self) -> tuple[str, ...]:
        """The names of the unmet rules, in order."""
        return tuple(u.rule for u in self.unmet)


class StoreUnavailable(StoreError):
    """The database cannot be opened or written: read-only, full, locked, not a database, newer.

    Raised from the underlying ``sqlite3`` error, which is its ``__cause__``, where there is one.
    """


class StoreBusy(StoreUnavailable):
    """Other writers held the database locked for longer than the store's ``timeout``."""


class SinkConfigError(InvalidInput):
    """A sinks configuration is wrong; the message names the sink and the key.

    An unknown sink type or key, a secret written in the file instead of named by an
    environment variable (``url_env``, ``token_env``, ``secret_env``), or such a variable unset.
    """


class DeliveryFailed(IncidentFlowError):
    """A sink could not deliver; ``retryable`` says whether trying again may help.

    ``retry_after`` is the pause in seconds the receiver asked for (HTTP ``Retry-After``), if
    any.  The message never holds a secret: sinks redact them before raising.
    """

    _fields: ClassVar[tuple[str, ...]] = ("message", "retryable", "retry_after")

    def __init__(
        self, message: str, *, retryable: bool = True, retry_after: float | None = None
    ) -> None:
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(message)


class DispatcherRunning(StoreBusy):
    """Another dispatcher already serves this store, which allows only one at a time (SQLite)."""


def _rebuild(kind: type[Exception], arguments: dict[str, Any]) -> Exception:
    return kind(**arguments)
