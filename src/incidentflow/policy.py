"""The process rules: guards on each move, record rules, authorization, per-priority data.

A :class:`Policy` is plain data (an attrs class, loadable from TOML) plus the checks that read
it.  The checks are pure: they look at an incident and a proposed event and return every
:class:`~incidentflow.records.Unmet` rule, never changing anything.  The incident calls
:meth:`Policy.unmet` before it folds an event in, so a refused command leaves no trace.

Every rule has a name; :data:`RULES` documents them all.
"""

from __future__ import annotations

import functools
import inspect
import itertools
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs
from attrs import field, frozen

from . import events as ev
from .corrections import AMENDABLE, amendment_unmet, corrected, retraction_unmet
from .errors import PolicyError
from .lifecycle import EDGES, State, edge
from .priorities import Priority
from .records import ImpactLevel, LinkKind, Unmet
from .roles import SLOT, UNSTAFFED, Role

if TYPE_CHECKING:
    from .incident import Incident

__all__ = [
    "COMMANDS",
    "COMMAND_STATES",
    "COMMAND_STATE_REASONS",
    "DEFAULT_POLICY",
    "DURATION_BOUNDS",
    "MAX_WHYS_DEPTH",
    "NAMED_POLICIES",
    "PRECURSOR_WINDOW",
    "PRECURSORS",
    "RULES",
    "Policy",
    "PriorityRules",
]

_ALL = frozenset(State)
_NOT_DISMISSED = _ALL - {State.DISMISSED}
_ACTIVE = frozenset(s for s in State if s.active)

COMMAND_STATES: Mapping[str, frozenset[State]] = MappingProxyType(
    {
        # Each entry's reason, from the runbook, is in COMMAND_STATE_REASONS.
        "validate": frozenset({State.DECLARED}),
        "link": _NOT_DISMISSED,
        "assign": _NOT_DISMISSED,
        "hand_off": _NOT_DISMISSED,
        "release": _NOT_DISMISSED,
        "start_experiment": frozenset({State.DECLARED, State.MITIGATING}),
        "conclude_experiment": frozenset({State.DECLARED, State.MITIGATING}),
        "note": _ALL,
        "post_update": _ACTIVE | {State.GREEN, State.REPORTED},
        "log_change": _NOT_DISMISSED,
        "reconcile_change": _ALL,
        "add_why": _NOT_DISMISSED,
        "add_factor": _NOT_DISMISSED,
        "verify_recovery": frozenset({State.MITIGATING}),
        "verify_customer": frozenset({State.YELLOW}),
        "open_debt": frozenset({State.MITIGATING, State.YELLOW}),
        "close_debt": frozenset({State.MITIGATING, State.YELLOW}),
        "start_report": frozenset({State.MITIGATING, State.YELLOW, State.GREEN}),
        "schedule_post_mortem": frozenset({State.GREEN, State.REPORTED}),
        "add_action": _NOT_DISMISSED,
        "close_action": _ALL,
        "change_priority": _ACTIVE,
        "adopt_policy": _NOT_DISMISSED,
        "record_data_loss": _NOT_DISMISSED,
        "amend": _ALL,
        "retract": _ALL,
        "change_impact": _NOT_DISMISSED,
    }
)
"""The states in which each (non-move) command may be issued."""

COMMAND_STATE_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "validate": "Step 1 validates the problem before anything else; once mitigation has "
        "begun it is validated.",
        "link": "Links (steps 2–4) may come at any time, even late; not on a false alarm.",
        "assign": "Roles (step 5) change as people come and go; not on a false alarm.",
        "hand_off": "As for assign.",
        "release": "As for assign.",
        "start_experiment": "Experiments (step 6) isolate the problem before recovery is "
        "verified; once yellow, the fix is being verified, not sought.",
        "conclude_experiment": "As for start_experiment: yellow needs every experiment concluded.",
        "note": "Logging for the post-mortem (step 7) never ends.",
        "post_update": "Stakeholders are updated (step 8) until the post-mortem takes over, "
        "including after the report started.",
        "log_change": "Every manual change is logged (step 9), including a permanent fix "
        "made after green; not on a false alarm.",
        "reconcile_change": "A change may be reverted or made permanent whenever it happens.",
        "add_why": "The Five Whys (step 10) go on until the root cause is found, even after "
        "green; not on a false alarm.",
        "add_factor": "As for add_why.",
        "verify_recovery": "Recovery is verified (step 11) while mitigating, before yellow "
        "(step 12).",
        "verify_customer": "The customer verifies the fix (step 13) once it is announced yellow.",
        "open_debt": "Tech debt is left by the response and cleaned up before green (step 13).",
        "close_debt": "As for open_debt.",
        "start_report": "The incident report (step 14) may start as an interim report while "
        "mitigating; it must be started before the incident is marked reported.",
        "schedule_post_mortem": "The post-mortem (step 15) is scheduled once the incident is "
        "green.",
        "add_action": "Actions may be agreed at any time; not on a false alarm.",
        "close_action": "An action is done whenever it is done.",
        "change_priority": "The priority (P0–P3) steers the response while it is active; "
        "afterwards it is corrected with amend.",
        "adopt_policy": "Any time but on a false alarm.",
        "record_data_loss": "Data loss may be found at any time; not on a false alarm.",
        "amend": "The record may be corrected at any time: corrections, never deletions.",
        "retract": "As for amend.",
        "change_impact": "The impact is followed while the incident is open, and recorded as it "
        "really was after green too (dated no later than green); not on a false alarm.",
    }
)
"""Why each command is allowed only in the states :data:`COMMAND_STATES` gives, in the
runbook's terms (the docs' table of where each command is allowed shows them)."""

_TRIGGERS = tuple(dict.fromkeys(e.trigger for e in EDGES.values()))

COMMANDS: tuple[str, ...] = (*COMMAND_STATES, *_TRIGGERS)
"""Every command an incident accepts after ``declare``: the keys of the authorization table."""

_LEADERS = frozenset({Role.LEAD, Role.INCIDENT_COMMANDER})
_IC = Role.INCIDENT_COMMANDER

_DEFAULT_AUTHORIZATION: dict[str, frozenset[Role] | None] = {
    "validate": _LEADERS,
    "link": None,
    "assign": _LEADERS,
    "hand_off": _LEADERS,
    "release": _LEADERS,
    "start_experiment": frozenset({_IC}),
    "conclude_experiment": _LEADERS,
    "note": None,
    "post_update": frozenset({Role.COMMUNICATOR, _IC}),
    "log_change": None,
    "reconcile_change": _LEADERS | {Role.RECORDER},
    "add_why": _LEADERS | {Role.RECORDER},
    "add_factor": _LEADERS | {Role.RECORDER},
    "verify_recovery": _LEADERS,
    "verify_customer": _LEADERS | {Role.COMMUNICATOR},
    "open_debt": _LEADERS | {Role.RECORDER},
    "close_debt": _LEADERS | {Role.RECORDER},
    "start_report": frozenset({Role.LEAD, Role.RECORDER}),
    "schedule_post_mortem": frozenset({Role.LEAD, Role.COMMUNICATOR}),
    "add_action": _LEADERS | {Role.RECORDER},
    "close_action": _LEADERS | {Role.RECORDER},
    "change_priority": _LEADERS,
    "adopt_policy": frozenset({_IC}),
    "record_data_loss": _LEADERS | {Role.RECORDER},
    "amend": _LEADERS | {Role.RECORDER},
    "retract": _LEADERS | {Role.RECORDER},
    "change_impact": _LEADERS | {Role.COMMUNICATOR, Role.RECORDER},
    **dict.fromkeys(_TRIGGERS, _LEADERS),
}

_STAFFING = frozenset({"assign", "hand_off", "release"})
"""The commands that change who holds a role: once the incident is staffed, only its staff."""

_ALL_LINKS = frozenset({LinkKind.TICKET, LinkKind.WAR_ROOM, LinkKind.ANNOUNCEMENT})
_ALL_ROLES = frozenset(Role)


DURATION_BOUNDS: Mapping[str, tuple[timedelta, timedelta]] = MappingProxyType(
    {
        "update_every": (timedelta(minutes=1), timedelta(days=7)),
        "post_mortem_within": (timedelta(hours=1), timedelta(days=365)),
    }
)
"""The shortest and longest value each duration of :class:`PriorityRules` may take."""


def _positive(instance: Any, attribute: Any, value: timedelta) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise PolicyError(f"{attribute.name} must be a positive duration, not {value!r}")
    low, high = DURATION_BOUNDS[attribute.name]
    if not low <= value <= high:
        from ._convert import format_duration

        raise PolicyError(
            f"{attribute.name} must be from {format_duration(low)} to {format_duration(high)}, "
            f"not {format_duration(value)}"
        )


MAX_WHYS_DEPTH = 50
"""The deepest a policy may ask a Five Whys chain to go."""


def _check_depth(instance: Any, attribute: Any, value: int) -> None:
    if type(value) is not int or not 1 <= value <= MAX_WHYS_DEPTH:
        shown = repr(value) if type(value) is not int or abs(value) < 10**6 else "a larger number"
        raise PolicyError(
            f"{attribute.name} must be a whole number from 1 to {MAX_WHYS_DEPTH}, not {shown}"
        )


def _check_optional_depth(instance: Any, attribute: Any, value: int | None) -> None:
    if value is not None:
        _check_depth(instance, attribute, value)


@frozen(kw_only=True)
class PriorityRules:
    """What the process asks of an incident of one priority.

    ``required_links`` and ``required_roles`` must be in place before mitigation starts, and
    the required roles stay filled from then on.  ``update_every`` is the stakeholder-update
    cadence.  ``customer_verification`` says whether green waits for the customer.
    ``invite_roles`` are the roles whose holders the post-mortem must invite.
    ``post_mortem_within`` is the deadline, counted from green, to hold the post-mortem
    meeting; it is shown by :meth:`~incidentflow.Incident.due`.  ``accept_unknown`` says
    whether a role recorded as unknown, or a link recorded as never made, satisfies the
    requirement (default: no).  ``whys_depth``, when given, overrides the policy's depth of
    a Five Whys chain for this priority.
    ``operational_before_green`` says whether green waits for a recorded impact timeline to
    be back to ``operational``.  ``enforce_cadence`` says whether
    :meth:`~incidentflow.Incident.due` owes stakeholder updates (the cadence is measured
    either way).  ``action_owner_and_due`` says whether every action item needs an owner and
    a due time.
    """

    required_links: frozenset[LinkKind]
    required_roles: frozenset[Role]
    update_every: timedelta = field(validator=_positive)
    customer_verification: bool = True
    invite_roles: frozenset[Role] = field(default=_ALL_ROLES)
    post_mortem_within: timedelta = field(default=timedelta(days=5), validator=_positive)
    accept_unknown: bool = field(default=False)
    whys_depth: int | None = field(default=None, validator=_check_optional_depth)
    operational_before_green: bool = False
    enforce_cadence: bool = True
    action_owner_and_due: bool = True


def _major(minutes: int, *, days: int) -> PriorityRules:
    return PriorityRules(
        required_links=_ALL_LINKS,
        required_roles=_ALL_ROLES,
        update_every=timedelta(minutes=minutes),
        post_mortem_within=timedelta(days=days),
        operational_before_green=True,
    )


def _minor(minutes: int, *, days: int, customer_verification: bool) -> PriorityRules:
    return PriorityRules(
        required_links=frozenset({LinkKind.TICKET}),
        required_roles=frozenset({_IC}),
        update_every=timedelta(minutes=minutes),
        customer_verification=customer_verification,
        invite_roles=frozenset({_IC}),
        post_mortem_within=timedelta(days=days),
    )


def _default_priorities() -> dict[Priority, PriorityRules]:
    return {
        Priority.P0: _major(15, days=2),
        Priority.P1: _major(30, days=3),
        Priority.P2: _minor(45, days=5, customer_verification=True),
        Priority.P3: _minor(45, days=10, customer_verification=False),
    }


def _frozen(value: Mapping[Priority, PriorityRules]) -> Mapping[Priority, PriorityRules]:
    """A read-only copy of the priority table, so no policy shares a mutable dict."""
    if not isinstance(value, Mapping):
        raise PolicyError(f"priorities must be a mapping, not {value!r}")
    return MappingProxyType(dict(value))


def _check_priorities(instance: Any, attribute: Any, value: Mapping[Priority, Any]) -> None:
    missing = set(Priority) - set(value)
    if missing:
        names = ", ".join(sorted(p.value for p in missing))
        raise PolicyError(f"the policy has no rules for {names}")


def _check_authorization(
    instance: Any, attribute: Any, value: Mapping[str, frozenset[Role] | None]
) -> None:
    empty = [name for name, roles in value.items() if roles is not None and not roles]
    if empty:
        raise PolicyError(
            f"authorization leaves nobody able to issue: {', '.join(sorted(empty))} "
            "(use no entry, or all roles, instead of an empty list)"
        )


def _complete(
    table: Mapping[str, frozenset[Role] | None],
) -> Mapping[str, frozenset[Role] | None]:
    """Every command in the table, in COMMANDS order, read-only; a missing one means anyone."""
    if not isinstance(table, Mapping):
        raise PolicyError(f"authorization must be a mapping, not {table!r}")
    unknown = set(table) - set(COMMANDS)
    if unknown:
        raise PolicyError(f"authorization names unknown commands: {', '.join(sorted(unknown))}")
    return MappingProxyType({command: table.get(command) for command in COMMANDS})


def _check_name(instance: Any, attribute: Any, value: Any) -> None:
    if type(value) is not str or not value.strip() or not value.isprintable():
        raise PolicyError(f"name must be a non-blank line of text, not {value!r}")


_UNSTAFFED = ("anyone", "staff")


def _check_unstaffed(instance: Any, attribute: Any, value: Any) -> None:
    if value not in _UNSTAFFED:
        raise PolicyError(f"unstaffed_open_to must be 'anyone' or 'staff', not {value!r}")


@frozen(kw_only=True)
class Policy:
    """The runbook's rules as data, plus the checks that read them.

    ``priorities`` holds a :class:`PriorityRules` for each priority.  ``authorization`` maps a
    command (see :data:`COMMANDS`) to the roles allowed to issue it; a command missing from the
    table, or mapped to ``None``, may be issued by anyone (the table is completed with
    ``None`` for every command it leaves out).  With ``open_when_unstaffed`` (the
    default), a command whose allowed roles nobody holds yet may be issued by anyone.
    Whatever the table says, anyone may assign a role while nobody holds one (so a
    just-declared incident can be staffed), and once someone does, only people holding a role
    may assign, hand off or release one (see :meth:`authorized`).  ``whys_depth`` is how deep
    a Five Whys chain must go to count as a root cause.  ``name`` says which policy it is; an
    incident records it with the policy's whole text (see :meth:`recorded`).

    The tables are read-only: a policy, once built, never changes.

    >>> DEFAULT_POLICY.rules_for(Priority.P1).update_every
    datetime.timedelta(seconds=1800)
    >>> DEFAULT_POLICY.authorization["mitigate"] = None
    Traceback (most recent call last):
      ...
    TypeError: 'mappingproxy' object does not support item assignment
    """

    name: str = field(default="default", validator=_check_name)
    priorities: Mapping[Priority, PriorityRules] = field(
        factory=_default_priorities, validator=_check_priorities, converter=_frozen
    )
    authorization: Mapping[str, frozenset[Role] | None] = field(
        factory=lambda: _DEFAULT_AUTHORIZATION,
        validator=_check_authorization,
        converter=_complete,
    )
    whys_depth: int = field(default=5, validator=_check_depth)
    open_when_unstaffed: bool = True
    unstaffed_open_to: str = field(default="anyone", validator=_check_unstaffed)

    @classmethod
    def named(cls, name: str) -> Policy:
        """The built-in policy called ``name`` (see :data:`NAMED_POLICIES`).

        >>> Policy.named("retrospective").rules_for(Priority.P0).required_roles
        frozenset()
        """
        build = _NAMED.get(name) if isinstance(name, str) else None
        if build is None:
            names = ", ".join(NAMED_POLICIES)
            raise PolicyError(f"no built-in policy is called {name!r}; one of: {names}")
        return build()

    @classmethod
    def retrospective(cls) -> Policy:
        """A preset for recording a past incident from what is known, inventing nothing.

        The lifecycle and its ordering rules stay, but no priority requires links, roles,
        customer verification or invitations, no stakeholder-update cadence is owed (it is
        still measured), and action items may lack an owner or a due time.  Authorization
        stays: the Recorder (who writes the incident down) may issue every command besides
        the roles the default table names, and once anyone holds a role, commands whose roles
        nobody holds are open only to people holding a role (``unstaffed_open_to = "staff"``).
        """
        rules = {
            p: attrs.evolve(
                r,
                required_links=frozenset(),
                required_roles=frozenset(),
                customer_verification=False,
                invite_roles=frozenset(),
                enforce_cadence=False,
                action_owner_and_due=False,
            )
            for p, r in _default_priorities().items()
        }
        table = {
            command: None if roles is None else roles | {Role.RECORDER}
            for command, roles in _DEFAULT_AUTHORIZATION.items()
        }
        return cls(
            name="retrospective",
            priorities=rules,
            authorization=table,
            unstaffed_open_to="staff",
        )

    @classmethod
    def permissive(cls) -> Policy:
        """A preset for small teams: anyone may issue any command.

        Every priority needs only a ticket and an Incident Commander before mitigation.

        The lifecycle's other guards (validation, verified recovery, the Five Whys, ...) stay.
        """
        rules = {
            p: attrs.evolve(
                r,
                required_links=frozenset({LinkKind.TICKET}),
                required_roles=frozenset({_IC}),
                invite_roles=frozenset({_IC}),
            )
            for p, r in _default_priorities().items()
        }
        return cls(name="permissive", priorities=rules, authorization={})

    @classmethod
    def from_toml(cls, text: str, *, base: Policy | None = None) -> Policy:
        """Read a policy from TOML text, over ``base`` (the default policy when omitted).

        Only the keys given change; an unknown key or a bad value raises
        :class:`~incidentflow.errors.PolicyError` naming where it is.
        """
        from ._convert import policy_from_toml

        policy: Policy = policy_from_toml(text, base if base is not None else DEFAULT_POLICY)
        return policy

    @classmethod
    def load(cls, path: str | Path, *, base: Policy | None = None) -> Policy:
        """Read a policy from a TOML file (see :meth:`from_toml`).

        Its ``name`` is the file's ``name`` key, else the file's name without its suffix.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"cannot read policy file {path}: {exc}") from exc
        stem = Path(path).stem
        named = attrs.evolve(base if base is not None else DEFAULT_POLICY, name=stem)
        return cls.from_toml(text, base=named)

    @classmethod
    def from_recorded(cls, recorded: ev.RecordedPolicy) -> Policy:
        """The policy an incident recorded, rebuilt from its content.

        Raises :class:`~incidentflow.errors.PolicyError` when the digest does not match the
        content or the content is not a policy.  Checking and rebuilding are cached by the
        record (a pure function of it), so replaying or declaring many incidents under one
        policy hashes and reads its TOML once.
        """
        if not isinstance(recorded, ev.RecordedPolicy):
            raise PolicyError(f"not a recorded policy: {recorded!r}")
        return _rebuilt(recorded)

    def to_toml(self) -> str:
        """The whole policy as TOML text that :meth:`from_toml` reads back equal."""
        return self.recorded().content

    def recorded(self) -> ev.RecordedPolicy:
        """The policy as an incident records it: name, whole TOML text and its digest."""
        return self._recorded

    @property
    def digest(self) -> str:
        """The digest of the policy's TOML text, as recorded: ``"sha256:"`` and 64 hex digits."""
        return self._recorded.digest

    @functools.cached_property
    def _quick(self) -> dict[type[ev.Event], _Quick | None]:
        """The quick check of each event class under this policy, made on first use.

        ``None`` for a class checked in full every time (see :func:`_quick_check`).
        """
        return {}

    @functools.cached_property
    def _replay_steps(self) -> dict[type[ev.Event], _Quick | None]:
        """The quick check of each event class that also folds the event in (see ``replay``)."""
        return {}

    @functools.cached_property
    def _recorded(self) -> ev.RecordedPolicy:
        from ._convert import policy_to_toml

        return ev.RecordedPolicy.of(self.name, policy_to_toml(self))

    def rules_for(self, priority: Priority) -> PriorityRules:
        """The rules for incidents of ``priority``."""
        return self.priorities[priority]

    def whys_depth_for(self, priority: Priority) -> int:
        """How deep a Five Whys chain must go for ``priority`` (its override, or ``whys_depth``)."""
        override = self.rules_for(priority).whys_depth
        return self.whys_depth if override is None else override

    def allowed_roles(self, command: str) -> frozenset[Role] | None:
        """The roles allowed to issue ``command``, or ``None`` when anyone may."""
        return self.authorization.get(command)

    # -- checks ---------------------------------------------------------------------------

    def command_of(self, incident: Incident, event: ev.Event) -> str:
        """The authorization key of ``event``: its command, or the trigger of a move."""
        if isinstance(event, ev.StateChanged):
            found = edge(event.source, event.target)
            return found.trigger if found is not None else "move"
        return event.command

    def authorized(self, incident: Incident, actor: str, command: str) -> bool:
        """Whether ``actor`` may issue ``command`` on ``incident`` now.

        The table decides, softened by ``open_when_unstaffed``, with two rules about staffing
        (``assign``, ``hand_off``, ``release``) that no table changes: while nobody holds any
        role, anyone may assign one; once someone does (the incident is *staffed*), only a
        person holding a role may assign, hand off or release one, so nobody can walk in,
        make themself Incident Commander and put the real one out.  Handing off or releasing
        one's own role is allowed apart from this (see :meth:`unmet`).
        """
        roles = incident._roles  # the staffing table, not the ``roles`` view: runs per event
        if command in _STAFFING:
            if roles is UNSTAFFED:
                return command == "assign" or self._by_table(roles, actor, command)
            if not any(actor in holders for holders in roles):
                return False
        return self._by_table(roles, actor, command)

    def _by_table(self, roles: tuple[tuple[str, ...], ...], actor: str, command: str) -> bool:
        """Whether the table lets ``actor`` issue ``command``, given the staffing table."""
        allowed = self.authorization.get(command)
        if allowed is None:
            return True
        for role in allowed:
            if actor in roles[SLOT[role]]:
                return True
        if not self.open_when_unstaffed or any(roles[SLOT[role]] for role in allowed):
            return False
        # Nobody holds an allowed role: open to anyone, or (``staff``) to anyone holding a
        # role on the incident, and to anyone while nobody holds one.
        return (
            self.unstaffed_open_to == "anyone"
            or roles is UNSTAFFED
            or any(actor in holders for holders in roles)
        )

    def refusal_for(self, actor: str, command: str, *, incident: Incident | None = None) -> Unmet:
        """The ``authorized`` rule as unmet by ``actor`` for ``command`` (on ``incident``)."""
        if (
            incident is not None
            and command in _STAFFING
            and incident._roles is not UNSTAFFED
            and not incident.roles_of(actor)
        ):
            return Unmet(
                "authorized",
                f"{actor} holds no role on this staffed incident: only its staff may {command}",
            )
        allowed = self.allowed_roles(command) or frozenset()
        names = " or ".join(sorted(r.value for r in allowed))
        return Unmet("authorized", f"{actor} must hold {names} to {command}")

    def unmet(self, incident: Incident, event: ev.Event) -> tuple[Unmet, ...]:
        """Every rule ``event`` fails on ``incident``; empty when it may be applied."""
        kind = type(event)
        quick = self._quick.get(kind, _UNMADE)
        if quick is _UNMADE:
            quick = self._quick[kind] = _quick_check(self, kind)
        if quick is not None and quick(incident, event):
            return ()
        return self._unmet_in_full(incident, event)

    def _unmet_in_full(self, incident: Incident, event: ev.Event) -> tuple[Unmet, ...]:
        """What :meth:`unmet` finds, found without the quick check, every rule run in turn."""
        if isinstance(event, ev.Declared):
            declared: list[Unmet] = []
            if incident.version:
                declared.append(Unmet("declared_once", "the incident is already declared"))
            late = []
            if event.occurred_at > event.recorded_at:
                what = "it was declared" if event.began is None else "it was recorded"
                late.append(
                    f"{'began' if event.began is None else 'declared'} at "
                    f"{event.occurred_at.isoformat()}, after {what} "
                    f"({event.recorded_at.isoformat()})"
                )
            if event.detected_at is not None and event.detected_at > event.recorded_at:
                late.append(
                    f"detected at {event.detected_at.isoformat()}, after it was recorded "
                    f"({event.recorded_at.isoformat()})"
                )
            if late:
                declared.append(Unmet("not_in_future", "; ".join(late)))
            declared.extend(_milestones_in_order(event))
            if event.policy is not None:
                declared.extend(_intact(event.policy))
            return tuple(declared)
        # Runs for every event: reads the incident's fields, not the properties over them.
        if not incident._events:
            return (Unmet("declared_first", "the first event must declare the incident"),)
        found: list[Unmet] = []
        if isinstance(event, ev.StateChanged):
            command = self.command_of(incident, event)
        else:
            command = event.command
            state = incident._state
            if state not in COMMAND_STATES[command]:
                found.append(
                    Unmet("state_allows_command", f"{command} is not allowed while {state.value}")
                )
        if not self.authorized(incident, event.actor, command) and not _own_role(incident, event):
            found.append(self.refusal_for(event.actor, command, incident=incident))
        found.extend(_timing(incident, event))
        check = _RECORD_RULES.get(type(event))
        if check is not None:
            found.extend(check(self, incident, event))
        return tuple(found)

    def guards_unmet(self, incident: Incident, target: State) -> tuple[Unmet, ...]:
        """The unmet guards for moving ``incident`` to ``target`` now (the edge included)."""
        found = edge(incident._state, target)
        if found is None:
            return (
                Unmet(
                    "lifecycle_edge",
                    f"the lifecycle has no edge from {incident._state.value} to {target.value}",
                ),
            )
        unmet = []
        for name in found.guards:
            guard = GUARDS[name]
            if not guard.test(incident, self):
                unmet.append(Unmet(name, guard.explain(incident, self)))
        return tuple(unmet)


@functools.lru_cache(maxsize=32)
def _rebuilt(recorded: ev.RecordedPolicy) -> Policy:
    """The policy ``recorded`` holds, checked (a pure function, cached: see ``from_recorded``).

    A refusal raises, and is not cached: only intact policies are kept.
    """
    if not recorded.intact:
        raise PolicyError(
            f"the recorded policy {recorded.name!r} does not match its digest {recorded.digest}"
        )
    policy = Policy.from_toml(recorded.content, base=DEFAULT_POLICY)
    if policy.name != recorded.name:
        raise PolicyError(
            f"the recorded policy is named {recorded.name!r} but its content names {policy.name!r}"
        )
    return policy


def _own_role(incident: Incident, event: ev.Event) -> bool:
    """Whether the event acts on what is the actor's own, whatever the table says.

    A role held now may be handed off or released; an owned action item may be closed.
    """
    if isinstance(event, ev.RoleHandedOff):
        return event.actor == event.from_holder and event.actor in incident.holders(event.role)
    if isinstance(event, ev.RoleReleased):
        return event.actor == event.holder and event.actor in incident.holders(event.role)
    if isinstance(event, ev.ActionClosed):
        item = incident.action_items.get(event.action_id)
        return item is not None and item.owner == event.actor
    return False


PRECURSOR_WINDOW = timedelta(days=30)
"""How long before the onset a precursor (a change, note or contributing factor) may be dated."""

PRECURSORS = (ev.ChangeLogged, ev.NoteAdded, ev.FactorAdded)
"""The entries that may be dated before the onset, down to :data:`PRECURSOR_WINDOW`."""


def _milestones_in_order(event: ev.Declared) -> Iterable[Unmet]:
    """The ``milestones_in_order`` rule: began, detected, declared, in that order."""
    onset, detected, declared = event.onset, event.detected_at, event.declared_time
    if onset <= declared if detected is None else onset <= detected <= declared:
        return  # in order, as almost always: nothing to explain
    known = [("began", event.onset)]
    if event.detected_at is not None:
        known.append(("detected", event.detected_at))
    known.append(("declared", event.declared_time))
    wrong = [  # one pair at least, or it would have returned above
        f"{then} at {late.isoformat()}, before {first} at {early.isoformat()}"
        for (first, early), (then, late) in itertools.pairwise(known)
        if late < early
    ]
    yield Unmet("milestones_in_order", "; ".join(wrong))


def _timing(incident: Incident, event: ev.Event) -> list[Unmet]:
    # Runs for every event: reads the log itself (``history`` would build a view) and the
    # latest move's time the fold keeps, and returns at once when, as almost always, every
    # stamp is in order.
    recorded, occurred = event.recorded_at, event.occurred_at
    last = incident._events[-1].recorded_at
    began = incident._began
    if occurred < began and isinstance(event, PRECURSORS):
        began -= PRECURSOR_WINDOW  # a precursor may come before the onset, down to this
    moved = incident._moved_at
    early_move = occurred < moved and isinstance(event, ev.StateChanged)
    if not (recorded < last or occurred > recorded or occurred < began or early_move):
        return []
    found: list[Unmet] = []
    if recorded < last:
        found.append(
            Unmet(
                "stamps_in_order",
                f"recorded at {recorded.isoformat()}, before the last event's stamp "
                f"{last.isoformat()}",
            )
        )
    if occurred > recorded:
        found.append(
            Unmet(
                "not_in_future",
                f"occurred at {occurred.isoformat()}, after it was recorded "
                f"({recorded.isoformat()})",
            )
        )
    if occurred < began:
        earliest = "the incident began"
        if isinstance(event, PRECURSORS):
            earliest = f"{PRECURSOR_WINDOW.days} days before the incident began"
        found.append(
            Unmet(
                "not_before_start",
                f"occurred at {occurred.isoformat()}, before {earliest} ({began.isoformat()})",
            )
        )
    if early_move:
        found.append(
            Unmet(
                "moves_in_order",
                f"occurred at {occurred.isoformat()}, before the previous move at "
                f"{moved.isoformat()}",
            )
        )
    return found


# -- guards -----------------------------------------------------------------------------------


@frozen
class Guard:
    """A named guard on a lifecycle edge: a pure test and an explanation when it fails."""

    name: str
    description: str
    test: Callable[[Incident, Policy], bool]
    explain: Callable[[Incident, Policy], str]


def _static(text: str) -> Callable[[Incident, Policy], str]:
    return lambda incident, policy: text


def _missing_links(incident: Incident, policy: Policy) -> list[LinkKind]:
    rules = policy.rules_for(incident.priority)
    absent = incident._absent_links if rules.accept_unknown else {}
    links = incident._links  # not the ``links`` view: every move checks this
    missing = [k for k in rules.required_links if k not in links and k not in absent]
    return sorted(missing, key=lambda k: k.value) if missing else missing


def _links_in_place(incident: Incident, policy: Policy) -> bool:
    """Whether :func:`_missing_links` finds none (the guard's test: it runs on every move)."""
    rules = policy.rules_for(incident._priority)
    links = incident._links
    absent = incident._absent_links if rules.accept_unknown else _NOTHING
    for kind in rules.required_links:  # noqa: SIM110 (a generator costs more than it checks)
        if kind not in links and kind not in absent:
            return False
    return True


def _roles_filled(incident: Incident, policy: Policy) -> bool:
    """Whether :func:`_missing_roles` finds none (the guard's test: it runs on every move)."""
    rules = policy.rules_for(incident._priority)
    roles = incident._roles
    unknown = incident._unknown_roles if rules.accept_unknown else _NOTHING
    for role in rules.required_roles:  # noqa: SIM110 (as above)
        if not roles[SLOT[role]] and role not in unknown:
            return False
    return True


_NOTHING: Mapping[Any, Any] = MappingProxyType({})


def _missing_roles(incident: Incident, policy: Policy) -> list[Role]:
    rules = policy.rules_for(incident.priority)
    unknown = incident._unknown_roles if rules.accept_unknown else {}
    roles = incident._roles  # the staffing table, not the ``roles`` view: every move checks this
    missing = [r for r in rules.required_roles if not roles[SLOT[r]] and r not in unknown]
    return sorted(missing, key=lambda r: r.value) if missing else missing


def _uninvited(incident: Incident, policy: Policy) -> list[str]:
    meeting = incident.post_mortem
    invited = set(meeting.invitees) if meeting is not None else set()
    wanted = policy.rules_for(incident.priority).invite_roles
    return sorted({h for r in wanted for h in incident.holders(r) if h not in invited})


# The guards' tests read the incident's fields, not its views, and loop instead of making
# generators: every move runs the tests of its edge's guards.


def _root_cause_found(incident: Incident, policy: Policy) -> bool:
    depth = policy.whys_depth_for(incident._priority)
    for chain in incident._why_chains.values():  # noqa: SIM110 (see above)
        if chain.root_cause and chain.depth >= depth:
            return True
    return False


def _debts_closed(incident: Incident, policy: Policy) -> bool:
    for debt in incident._tech_debt.values():  # noqa: SIM110 (see above)
        if debt.open:
            return False
    return True


def _changes_reconciled(incident: Incident, policy: Policy) -> bool:
    for change in incident._manual_changes.values():  # noqa: SIM110 (see above)
        if not change.reconciled:
            return False
    return True


def _impact_settled(
    incident: Incident, policy: Policy, timeline: Iterable[ev.ImpactChanged] | None = None
) -> bool:
    """Whether a recorded impact timeline ends operational, where the priority asks for it."""
    if not policy.rules_for(incident._priority).operational_before_green:
        return True
    changes = sorted(incident._impact if timeline is None else timeline, key=_occurred)
    return not changes or changes[-1].level is ImpactLevel.OPERATIONAL


def _occurred(event: ev.Event) -> Any:
    return event.occurred_at


def _customer_verified(incident: Incident, policy: Policy) -> bool:
    if not policy.rules_for(incident._priority).customer_verification:
        return True
    return incident._customer_verification is not None


GUARDS: Mapping[str, Guard] = MappingProxyType(
    {
        g.name: g
        for g in (
            Guard(
                "validated",
                "The problem is validated and its priority confirmed (step 1).",
                lambda i, p: i._validation is not None,
                _static("the problem has not been validated"),
            ),
            Guard(
                "required_links",
                "The links the priority requires (ticket; for P0/P1 also war room and "
                "announcement) are in place (steps 2–4).",
                _links_in_place,
                lambda i, p: "missing " + ", ".join(k.value for k in _missing_links(i, p)),
            ),
            Guard(
                "required_roles",
                "The roles the priority requires (all four for P0/P1, an IC for P2/P3) are "
                "filled (step 5).",
                _roles_filled,
                lambda i, p: "no " + ", ".join(r.value for r in _missing_roles(i, p)),
            ),
            Guard(
                "recovery_verified",
                "Recovery is verified with evidence since mitigation last began (step 11).",
                lambda i, p: i._recovery is not None,
                _static("recovery has not been verified"),
            ),
            Guard(
                "experiments_concluded",
                "No experiment is still running.",
                lambda i, p: not i._running,
                lambda i, p: "still running: " + ", ".join(e.id for e in i.running_experiments),
            ),
            Guard(
                "customer_verified",
                "The customer verified the fix, where the priority asks for it (step 13).",
                _customer_verified,
                _static("the customer has not verified the fix"),
            ),
            Guard(
                "impact_operational",
                "A recorded impact timeline is back to operational, where the priority asks "
                "for it (for P0/P1 by default; nothing to check when no impact is recorded).",
                _impact_settled,
                lambda i, p: (
                    f"the impact is still {i.impact.value if i.impact else 'unknown'}; "
                    "record it operational first"
                ),
            ),
            Guard(
                "tech_debt_closed",
                "Every tech-debt item is cleaned up (step 13).",
                _debts_closed,
                lambda i, p: (
                    "still open: " + ", ".join(d.id for d in i.tech_debt.values() if d.open)
                ),
            ),
            Guard(
                "changes_reconciled",
                "Every manual change is reverted or made permanent (step 9).",
                _changes_reconciled,
                lambda i, p: (
                    "not reconciled: "
                    + ", ".join(c.id for c in i.manual_changes.values() if not c.reconciled)
                ),
            ),
            Guard(
                "root_cause_found",
                "A Five Whys chain reached a root cause at the policy's depth for the "
                "priority (step 10).",
                _root_cause_found,
                lambda i, p: (
                    "no Five Whys chain reached a root cause at depth "
                    f"{p.whys_depth_for(i.priority)}"
                ),
            ),
            Guard(
                "report_started",
                "The incident report is started (step 14).",
                lambda i, p: i._report is not None,
                _static("the incident report has not been started"),
            ),
            Guard(
                "post_mortem_scheduled",
                "The post-mortem meeting is scheduled (step 15).",
                lambda i, p: i._post_mortem is not None,
                _static("the post-mortem has not been scheduled"),
            ),
            Guard(
                "roles_invited",
                "Everyone holding a role the priority invites is invited to the post-mortem.",
                lambda i, p: i.post_mortem is not None and not _uninvited(i, p),
                lambda i, p: "not invited: " + (", ".join(_uninvited(i, p)) or "anyone"),
            ),
        )
    }
)
"""Every guard of the lifecycle, by name."""


# -- record rules -----------------------------------------------------------------------------

_RecordRule = Callable[[Policy, "Incident", Any], Iterable[Unmet]]


def _required_after_declared(
    policy: Policy, incident: Incident, priority: Priority, roles: Mapping[Role, tuple[str, ...]]
) -> Iterable[Unmet]:
    if incident.state in (State.DECLARED, State.DISMISSED):
        return
    rules = policy.rules_for(priority)
    unknown = incident._unknown_roles if rules.accept_unknown else {}
    empty = sorted(r.value for r in rules.required_roles if not roles.get(r) and r not in unknown)
    if empty:
        yield Unmet(
            "required_roles_filled",
            f"{priority.value} needs {', '.join(empty)} filled once mitigation has begun",
        )


# The record rules of the events every incident has return lists (a generator costs more to
# make and run than the rule does).


def _validated(policy: Policy, incident: Incident, event: ev.Validated) -> list[Unmet]:
    if incident._validation is not None:
        return [Unmet("validated_once", "the problem is already validated")]
    return []


def _assigned(policy: Policy, incident: Incident, event: ev.RoleAssigned) -> list[Unmet]:
    holders = incident._roles[SLOT[event.role]]
    if event.holder in holders:
        return [Unmet("not_already_holder", f"{event.holder} already holds {event.role.value}")]
    if holders and event.role.single_holder:
        return [
            Unmet(
                "single_holder", f"{event.role.value} is held by {holders[0]}; hand it off instead"
            )
        ]
    return []


def _handed_off(policy: Policy, incident: Incident, event: ev.RoleHandedOff) -> Iterable[Unmet]:
    holders = incident.holders(event.role)
    if event.from_holder not in holders:
        yield Unmet("holds_role", f"{event.from_holder} does not hold {event.role.value}")
    if event.to_holder in holders:
        yield Unmet("not_already_holder", f"{event.to_holder} already holds {event.role.value}")


def _released(policy: Policy, incident: Incident, event: ev.RoleReleased) -> Iterable[Unmet]:
    holders = incident.holders(event.role)
    if event.holder not in holders:
        yield Unmet("holds_role", f"{event.holder} does not hold {event.role.value}")
        return
    owned = [
        e.id
        for e in incident.running_experiments
        if event.role is Role.INCIDENT_COMMANDER and e.owner == event.holder
    ]
    if owned:
        yield Unmet(
            "experiments_owned",
            f"{event.holder} owns running experiments {', '.join(owned)}; hand off instead",
        )
    if (
        holders == (event.holder,)
        and event.role in policy.rules_for(incident.priority).required_roles
    ):
        yield Unmet(
            "required_role_kept",
            f"{event.holder} is the last {event.role.value}, whom "
            f"{incident.priority.value} requires; hand the role off instead",
        )


def _unique(kind: str, known: Mapping[str, Any], key: str) -> list[Unmet]:
    if key in known:
        return [Unmet("unique_id", f"{kind} {key} already exists")]
    return []


def _experiment_started(
    policy: Policy, incident: Incident, event: ev.ExperimentStarted
) -> list[Unmet]:
    found = _unique("experiment", incident._experiments, event.experiment_id)
    if event.owner not in incident._roles[SLOT[Role.INCIDENT_COMMANDER]]:
        found.append(Unmet("owner_is_commander", f"{event.owner} is not an incident commander"))
    for running in incident._running.values():
        if running.component == event.component:
            found.append(
                Unmet(
                    "component_free",
                    f"experiment {running.id} is already running against {event.component}",
                )
            )
    return found


def _still_open(
    kind: str, known: Mapping[str, Any], key: str, is_open: Callable[[Any], bool]
) -> list[Unmet]:
    if key not in known:
        return [Unmet("known_id", f"no {kind} {key}")]
    if not is_open(known[key]):
        return [Unmet("still_open", f"{kind} {key} is already closed")]
    return []


def _is_running(experiment: Any) -> bool:
    return bool(experiment.running)


def _is_unreconciled(change: Any) -> bool:
    return not change.reconciled


def _is_open(item: Any) -> bool:
    return bool(item.open)


def _experiment_concluded(
    policy: Policy, incident: Incident, event: ev.ExperimentConcluded
) -> Iterable[Unmet]:
    return _still_open("experiment", incident._experiments, event.experiment_id, _is_running)


def _change_logged(policy: Policy, incident: Incident, event: ev.ChangeLogged) -> Iterable[Unmet]:
    return _unique("manual change", incident._manual_changes, event.change_id)


def _change_reconciled(
    policy: Policy, incident: Incident, event: ev.ChangeReconciled
) -> Iterable[Unmet]:
    return _still_open("manual change", incident._manual_changes, event.change_id, _is_unreconciled)


def _why_answered(policy: Policy, incident: Incident, event: ev.WhyAnswered) -> list[Unmet]:
    found: list[Unmet] = []
    chains = incident._why_chains
    chain = chains.get(event.chain)
    if chain is not None:
        if chain.root_cause and chain.depth >= policy.whys_depth_for(incident._priority):
            found.append(Unmet("chain_open", f"chain {event.chain} already reached its root cause"))
        if event.branches_from is not None:
            found.append(
                Unmet("branch_first", f"chain {event.chain} exists: only a new chain branches")
            )
        depth = chain.depth + 1
    elif event.branches_from is None:
        depth = 1
    else:
        parent = chains.get(event.branches_from)
        if parent is None:
            return [Unmet("known_chain", f"no Five Whys chain {event.branches_from} to branch off")]
        depth = event.depth if event.depth is not None else parent.depth + 1
        if not parent.start < depth <= parent.depth + 1:
            return [
                Unmet(
                    "branch_depth",
                    f"a branch of {parent.id} answers a why from {parent.start + 1} to "
                    f"{parent.depth + 1}, not {depth}",
                )
            ]
    if event.depth is None:  # as written before answers recorded their depth
        return found
    if event.depth != depth:
        found.append(
            Unmet(
                "why_depth",
                f"this answer is why {depth} of chain {event.chain}, not {event.depth}",
            )
        )
    elif event.root_cause:
        required = policy.whys_depth_for(incident._priority)
        if depth < required:
            found.append(
                Unmet(
                    "root_cause_depth",
                    f"a root cause needs a chain {required} whys deep for "
                    f"{incident._priority.value}; this answer is why {depth}: ask why again",
                )
            )
    return found


def _role_unknown(policy: Policy, incident: Incident, event: ev.RoleUnknown) -> Iterable[Unmet]:
    holders = incident.holders(event.role)
    if holders:
        yield Unmet("role_not_held", f"{event.role.value} is held by {', '.join(holders)}")
    elif event.role in incident._unknown_roles:
        yield Unmet("role_not_held", f"{event.role.value} is already recorded as unknown")


def _link_absent(policy: Policy, incident: Incident, event: ev.LinkAbsent) -> Iterable[Unmet]:
    if event.kind in incident.links:
        yield Unmet("link_not_made", f"the {event.kind.value} is already linked")
    elif event.kind in incident._absent_links:
        yield Unmet("link_not_made", f"the {event.kind.value} is already recorded as absent")


def _data_loss_recorded(
    policy: Policy, incident: Incident, event: ev.DataLossRecorded
) -> Iterable[Unmet]:
    yield from _unique("data loss", incident._data_losses, event.loss_id)
    start, end = event.window_start, event.window_end
    if start is not None and end is not None and start > end:
        yield Unmet(
            "window_in_order",
            f"the window starts at {start.isoformat()}, after it ends ({end.isoformat()})",
        )
    if event.window_end is not None and event.window_end > event.recorded_at:
        yield Unmet(
            "not_in_future",
            f"the window ends at {event.window_end.isoformat()}, after it was recorded "
            f"({event.recorded_at.isoformat()})",
        )


_TIME_RULES = frozenset({"not_in_future", "not_before_start", "moves_in_order"})


def _amended(policy: Policy, incident: Incident, event: ev.Amended) -> Iterable[Unmet]:
    found = amendment_unmet(incident._events, incident._corrected, event)
    if event.field_name in ("began", "detected", "declared") and all(
        u.rule in _TIME_RULES for u in found
    ):  # the value reads and changes the declaration: its milestones stay in order too
        amendable = AMENDABLE[event.field_name]
        current = incident._corrected.get(1) or incident._events[0]
        fixed = amendable.apply(current, amendable.read(event.value))
        assert isinstance(fixed, ev.Declared)
        return [*found, *_milestones_in_order(fixed)]
    if found or event.field_name != "priority":
        return found
    # The priority the corrected history ends on is held to required_roles_filled, as a change
    # of priority is: a correction does not leave a required role empty either.
    corrections = {**incident._corrected, event.entry or 1: None}
    entries = corrected(incident._events, corrections)
    latest = [e.priority for e in entries if isinstance(e, ev.Declared | ev.PriorityChanged)]
    last = max(
        (n for n, e in enumerate(incident._events, 1) if isinstance(e, ev.PriorityChanged)),
        default=1,
    )
    priority = Priority.parse(event.value) if (event.entry or 1) >= last else latest[-1]
    return list(_required_after_declared(policy, incident, priority, incident.roles))


def _retracted(policy: Policy, incident: Incident, event: ev.Retracted) -> Iterable[Unmet]:
    return retraction_unmet(incident._events, incident._corrected, event)


def _debt_opened(policy: Policy, incident: Incident, event: ev.DebtOpened) -> Iterable[Unmet]:
    return _unique("tech-debt item", incident._tech_debt, event.debt_id)


def _debt_closed(policy: Policy, incident: Incident, event: ev.DebtClosed) -> Iterable[Unmet]:
    return _still_open("tech-debt item", incident._tech_debt, event.debt_id, _is_open)


def _report_started(policy: Policy, incident: Incident, event: ev.ReportStarted) -> Iterable[Unmet]:
    if incident.report is not None:
        yield Unmet("report_once", "the incident report is already started")


def _action_added(policy: Policy, incident: Incident, event: ev.ActionAdded) -> list[Unmet]:
    found = _unique("action item", incident._action_items, event.action_id)
    if policy.rules_for(incident._priority).action_owner_and_due:
        missing = [n for n in ("owner", "due_at") if getattr(event, n) is None]
        if missing:
            found.append(
                Unmet(
                    "action_owner_and_due",
                    f"{incident._priority.value} action items need {' and '.join(missing)}",
                )
            )
    return found


_AFTER_GREEN = frozenset({State.GREEN, State.REPORTED, State.POST_MORTEM})


def _impact_changed(policy: Policy, incident: Incident, event: ev.ImpactChanged) -> Iterable[Unmet]:
    if incident.state not in _AFTER_GREEN:
        return
    green = incident.when_entered(State.GREEN)
    if green is not None and event.occurred_at > green:
        yield Unmet(
            "impact_before_green",
            f"occurred at {event.occurred_at.isoformat()}, after green "
            f"({green.isoformat()}): once green, only the impact before it is recorded",
        )
    elif not _impact_settled(incident, policy, (*incident._impact, event)):
        yield Unmet(
            "impact_operational",
            "the impact timeline would no longer end operational before green, as "
            f"{incident.priority.value} requires",
        )


def _action_closed(policy: Policy, incident: Incident, event: ev.ActionClosed) -> Iterable[Unmet]:
    return _still_open("action item", incident._action_items, event.action_id, _is_open)


def _priority_changed(
    policy: Policy, incident: Incident, event: ev.PriorityChanged
) -> Iterable[Unmet]:
    if event.priority is incident.priority:
        yield Unmet("priority_differs", f"the incident is already {event.priority.value}")
        return
    yield from _required_after_declared(policy, incident, event.priority, incident.roles)


def _intact(recorded: ev.RecordedPolicy) -> list[Unmet]:
    """The ``policy_intact`` rule for a recorded policy: empty when it rebuilds."""
    try:
        Policy.from_recorded(recorded)
    except PolicyError as exc:
        return [Unmet("policy_intact", str(exc))]
    return []


def _policy_adopted(policy: Policy, incident: Incident, event: ev.PolicyAdopted) -> Iterable[Unmet]:
    broken = _intact(event.policy)
    if broken:
        yield from broken
        return
    current = incident.recorded_policy
    if current is not None and current.digest == event.policy.digest:
        yield Unmet(
            "policy_differs",
            f"the incident already runs under {event.policy.name} ({event.policy.digest})",
        )
        return
    adopted = Policy.from_recorded(event.policy)
    yield from _required_after_declared(adopted, incident, incident.priority, incident.roles)


def _state_changed(policy: Policy, incident: Incident, event: ev.StateChanged) -> Iterable[Unmet]:
    if event.source is not incident.state:
        yield Unmet(
            "from_current_state",
            f"the move starts from {event.source.value} but the incident is {incident.state.value}",
        )
        return
    yield from policy.guards_unmet(incident, event.target)


_RECORD_RULES: dict[type[ev.Event], _RecordRule] = {
    ev.Validated: _validated,
    ev.RoleAssigned: _assigned,
    ev.RoleHandedOff: _handed_off,
    ev.RoleReleased: _released,
    ev.ExperimentStarted: _experiment_started,
    ev.ExperimentConcluded: _experiment_concluded,
    ev.ChangeLogged: _change_logged,
    ev.ChangeReconciled: _change_reconciled,
    ev.WhyAnswered: _why_answered,
    ev.RoleUnknown: _role_unknown,
    ev.LinkAbsent: _link_absent,
    ev.DataLossRecorded: _data_loss_recorded,
    ev.Amended: _amended,
    ev.Retracted: _retracted,
    ev.DebtOpened: _debt_opened,
    ev.DebtClosed: _debt_closed,
    ev.ReportStarted: _report_started,
    ev.ActionAdded: _action_added,
    ev.ActionClosed: _action_closed,
    ev.PriorityChanged: _priority_changed,
    ev.ImpactChanged: _impact_changed,
    ev.PolicyAdopted: _policy_adopted,
    ev.StateChanged: _state_changed,
}

# -- the quick check --------------------------------------------------------------------------

_Quick = Callable[[Any, Any], bool]
"""A quick check: ``(incident, event) -> bool``.  (Annotations of ``Policy`` are read at
run time, by cattrs, where ``Incident`` is not defined: hence ``Any``.)"""

_UNMADE: Any = object()  # no quick check made yet for a class

_IN_FULL = frozenset({ev.PolicyAdopted, ev.Amended, ev.Retracted})
"""The classes always checked in full: they change the policy in force or correct the record,
and are few in any history.  (A declaration recording its policy is too: its quick check
leaves it to the full one.)"""


def _quick_check(
    policy: Policy, kind: type[ev.Event], *, fold: Callable[[Incident, Any], None] | None = None
) -> _Quick | None:
    """A function telling at little cost that an event of ``kind`` breaks no rule of ``policy``.

    It returns ``True`` only when :meth:`Policy.unmet` would find nothing: the incident is
    declared, its state allows the command, the actor holds a role the policy's table allows
    for it (or the table allows anyone, or opens the command while nobody holds such a role:
    ``_by_table``, as the full check asks it), every stamp is in order (an event before the onset,
    even a precursor, is left to the full check), and the class's record rule, called as it
    is, finds nothing.  For a move, the command is the trigger of the edge moved along (no
    edge: the full check), and in place of its record rule the move must start from the
    current state and each guard of the edge must hold (the guards' own tests, run in turn).
    ``False`` says only "check in full", which then finds every unmet rule and its
    explanation; so the quick check runs each rule the full one does, and never explains.
    A staffing command asks :meth:`Policy.authorized` itself (its own rules of who may); one
    it refuses (handing off or releasing one's own role) is left to the full check.  A
    declaration's are its own rules (declared once, not in the future, milestones in order);
    one recording its policy is left to the full check, which checks that policy intact.
    Generated once per policy and class, like the admission of each class, since the loops
    and lookups of the full check cost several times as much on the path of every command and
    every replayed event.  ``None`` for a class checked in full every time: the classes of
    :data:`_IN_FULL`, and anything not an incidentflow event class.

    With ``fold``, an event it vouches for is also folded in (``fold(incident, event)``) and
    appended to the incident's log before it returns ``True``: the step of a replay, one call
    per event.
    """
    if kind not in ev.EVENT_TYPES.values() or kind in _IN_FULL:
        return None
    names: dict[str, Any] = {
        "policy": policy,
        "by_table": policy._by_table,  # who may when nobody holds an allowed role
        "command": kind.command,
    }
    lines = ["def quick(incident, event):", "    log = incident._events"]
    if kind is ev.Declared:
        # The rules of a declaration (see _unmet_in_full): declared once, not in the future,
        # its milestones in order.  One recording its policy is checked (the policy intact)
        # and followed in full: it changes the policy in force.
        names["milestones"] = _milestones_in_order
        lines += [
            "    if log or event.policy is not None:",
            "        return False",
            "    recorded = event.recorded_at",
            "    if event.occurred_at > recorded:",
            "        return False",
            "    detected = event.detected_at",
            "    if detected is not None and detected > recorded:",
            "        return False",
            "    for _ in milestones(event):",
            "        return False",
        ]
    elif kind is ev.StateChanged:  # the record rule checks the source; the edge names the command
        names |= {"authorization": policy.authorization, "slot": SLOT}
        lines += [
            "    if not log:",
            "        return False",
            "    recorded = event.recorded_at",
            "    occurred = event.occurred_at",
            "    if recorded < log[-1].recorded_at or occurred > recorded "
            "or occurred < incident._began or occurred < incident._moved_at:",
            "        return False",
            "    move = moves.get((event.source, event.target))",
            "    if move is None:",
            "        return False",
            "    found, guard_tests = move",
            "    allowed = authorization.get(found.trigger)",
            "    if allowed is not None:",
            "        actor = event.actor",
            "        roles = incident._roles",
            "        for role in allowed:",
            "            if actor in roles[slot[role]]:",
            "                break",
            "        else:",  # nobody holding an allowed role may open it: the table decides
            "            if not by_table(roles, actor, found.trigger):",
            "                return False",
            # The record rule, _state_changed, without its explanations: the move starts from
            # the current state, and each guard of the edge holds (the tests guards_unmet runs).
            "    if event.source is not incident._state:",
            "        return False",
            "    for test in guard_tests:",
            "        if not test(incident, policy):",
            "            return False",
        ]
        names["moves"] = {  # each edge, and the tests of its guards
            key: (found, tuple(GUARDS[name].test for name in found.guards))
            for key, found in EDGES.items()
        }
    else:
        names["states"] = COMMAND_STATES[kind.command]
        lines += [
            "    if not log or incident._state not in states:",
            "        return False",
            "    recorded = event.recorded_at",
            "    occurred = event.occurred_at",
            "    if recorded < log[-1].recorded_at or occurred > recorded "
            "or occurred < incident._began:",
            "        return False",
        ]
        allowed = policy.authorization.get(kind.command)
        if kind.command in _STAFFING:  # who may staff: the rules no table changes, as they are
            names["authorized"] = policy.authorized
            lines += [
                "    if not authorized(incident, event.actor, command):",
                "        return False",
            ]
        elif allowed is not None:  # never empty: a policy refuses an empty set of roles
            # Each role by its place in the staffing table.
            held = [
                f"actor not in roles[{SLOT[r]}]" for r in sorted(allowed, key=lambda r: r.value)
            ]
            lines += [
                "    actor = event.actor",
                "    roles = incident._roles",
                f"    if {' and '.join(held)} and not by_table(roles, actor, command):",
                "        return False",
            ]
    # A move's record rule is above; a declaration has none (its rules are above too).
    rule = None if kind is ev.StateChanged else _RECORD_RULES.get(kind)
    if rule is not None:
        names["rule"] = rule
        if inspect.isgeneratorfunction(rule):  # a generator is true even when it yields nothing
            lines += ["    for _ in rule(policy, incident, event):", "        return False"]
        else:
            lines += ["    if rule(policy, incident, event):", "        return False"]
    if fold is not None:
        names["fold"] = fold
        lines += ["    fold(incident, event)", "    log.append(event)"]
    lines.append("    return True")
    exec(compile("\n".join(lines), f"<quick check of {kind.__name__}>", "exec"), names)
    made: _Quick = names["quick"]
    return made


RULES: Mapping[str, str] = MappingProxyType(
    {
        "declared_first": "The first event of an incident declares it.",
        "declared_once": "An incident is declared once.",
        "event_type": "A replayed history holds only incidentflow events.",
        "state_allows_command": "The command is allowed in the incident's current state "
        "(see COMMAND_STATES).",
        "authorized": "The actor holds a role the policy allows to issue the command (or "
        "nobody holds such a role yet, or the actor hands off or releases their own role, or "
        "closes an action item they own). Whatever the table says, anyone may assign a role "
        "while nobody holds one, and once someone does only people holding a role may "
        "assign, hand off or release one.",
        "stamps_in_order": "An event's recorded_at is never before the previous event's.",
        "not_in_future": "What happened is never later than when it was recorded.",
        "not_before_start": "Nothing happens before the impact began (the declaration's "
        "onset), except precursors: a manual change, note or contributing factor may be dated "
        "up to PRECURSOR_WINDOW (30 days) before it.",
        "milestones_in_order": "A declaration's times come in order: the impact began, then "
        "the problem was detected, then the incident was declared.",
        "impact_before_green": "Once green, an impact change is recorded only for a time "
        "before green (the record catching up).",
        "action_owner_and_due": "An action item has an owner and a due time, where the "
        "priority asks for them.",
        "moves_in_order": "A move's occurred_at is never before the previous move's (for the "
        "first move, the declaration's).",
        "validated_once": "The problem is validated once.",
        "not_already_holder": "A person is not given a role they already hold.",
        "single_holder": "Communicator, Recorder and Lead have one holder at a time; a "
        "change of holder is a hand-off.",
        "holds_role": "Only a current holder hands off or releases a role.",
        "experiments_owned": "An IC who owns running experiments hands off rather than "
        "releases the role.",
        "required_roles_filled": "Once mitigation has begun, the priority's required roles "
        "are always filled (for P0/P1, all four): a priority change or a policy adoption "
        "that would leave one empty is refused.",
        "required_role_kept": "The last holder of a role the priority requires is not "
        "released; the role is handed off instead.",
        "unique_id": "Experiment, change, tech-debt, action and data-loss ids are unique within "
        "an incident.",
        "owner_is_commander": "An experiment is owned by a current Incident Commander.",
        "component_free": "Two running experiments never target the same component.",
        "known_id": "A conclusion, reconciliation or closing names an existing item.",
        "still_open": "An item is concluded, reconciled or closed once.",
        "chain_open": "A Five Whys chain takes no more answers after its root cause (unless "
        "a priority change or a new policy asks for a deeper one).",
        "root_cause_depth": "A root cause is at the depth the policy asks for the priority "
        "(whys_depth, or the priority's own whys_depth).",
        "why_depth": "An answer records the why it answers, counted through the chains it "
        "branches off.",
        "branch_first": "Only a chain's first answer names the chain it branches off.",
        "known_chain": "A branch branches off an existing chain.",
        "branch_depth": "A branch answers a why below its parent's first answer, and at most one "
        "below its parent's last.",
        "role_not_held": "A role is recorded as unknown only while nobody holds it, once.",
        "link_not_made": "A link is recorded as never made only while there is none, once.",
        "window_in_order": "A data-loss window starts no later than it ends.",
        "amendable_field": "An amendment names a field of AMENDABLE, with an entry exactly when "
        "the field belongs to one.",
        "known_entry": "A correction names an existing entry (its event number).",
        "correctable_entry": "The entry is of a kind the field (or a retraction) applies to.",
        "not_retracted": "A retracted entry is neither amended nor retracted again.",
        "amended_value": "The amended value reads as the field's kind (a time with its UTC "
        "offset, a priority, names, non-blank text).",
        "amendment_changes": "An amendment changes the value.",
        "report_once": "The incident report is started once.",
        "priority_differs": "A priority change changes the priority.",
        "policy_intact": "A recorded policy's digest matches its content, its content is a "
        "policy, and it is named as its content names it.",
        "policy_differs": "An adopted policy differs from the one the incident records.",
        "from_current_state": "A move starts from the incident's current state.",
        "lifecycle_edge": "A move follows an edge of the lifecycle.",
        **{name: guard.description for name, guard in GUARDS.items()},
    }
)
"""Every named rule, guard or record rule, with what it means."""

DEFAULT_POLICY = Policy()
"""The runbook's rules with the documented defaults."""

_NAMED: dict[str, Callable[[], Policy]] = {
    "default": lambda: DEFAULT_POLICY,
    "permissive": Policy.permissive,
    "retrospective": Policy.retrospective,
}

NAMED_POLICIES: Mapping[str, str] = MappingProxyType(
    {
        "default": "The runbook's rules with the documented defaults.",
        "permissive": "For small teams: anyone may issue any command; a ticket and an "
        "Incident Commander before mitigation.",
        "retrospective": "For recording a past incident: nothing required that the record "
        "may not know (roles, links, customer verification, cadence, action owners and due "
        "times); authorization of the people recorded stays.",
    }
)
"""The built-in policies :meth:`Policy.named` knows, with what each is for."""
