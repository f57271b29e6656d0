"""The incident commands: load, issue the core command as ``--actor``, append, retry on conflict."""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from incidentflow import codec
from incidentflow.documents._markup import inline
from incidentflow.errors import AlreadyExists, Conflict, InvalidInput, StoreBusy
from incidentflow.events import Event
from incidentflow.incident import Incident
from incidentflow.priorities import Priority
from incidentflow.records import (
    ActionKind,
    ChangeOutcome,
    FishboneCategory,
    LinkKind,
    NoteKind,
    Verdict,
)
from incidentflow.roles import Role
from incidentflow.store import Store, open_store

from ._documents import compose_and_post
from ._impact import change_impact, milestones
from ._main import EXIT_BAD_INPUT, EXIT_OK, Failure, Options, emit, note_policy, parse_time
from ._parser import MOVES

__all__ = ["LOCK_WAIT", "RETRY_BUDGET", "RETRY_CAP", "RETRY_FIRST", "run"]

RETRY_BUDGET = 30.0
"""For how long (seconds) a command retries after a :class:`Conflict` or a busy store.

Each retry reloads the incident and issues the command again after a pause drawn at random
("full jitter") between 0 and ``min(RETRY_CAP, RETRY_FIRST * 2**attempt)``; a retry whose
pause would end past the budget is not made, and the last error stands (exit 3, or 5 for a
store that stayed locked).
"""

RETRY_FIRST = 0.01
"""The longest pause (seconds) before the first retry; it doubles with each retry."""

RETRY_CAP = 1.0
"""The longest pause (seconds) between two retries."""

LOCK_WAIT = 5.0
"""How long (seconds) one try waits for another writer's lock before it counts as busy.

Shorter than :data:`RETRY_BUDGET`, so that a writer starved of the lock tries again (after a
jittered pause) instead of spending the whole budget in one wait.
"""

T = TypeVar("T")

_now = time.monotonic
_sleep = time.sleep

Command = Callable[[Incident, argparse.Namespace, str, datetime | None], Event]


def _moves() -> dict[str, Command]:
    def move(trigger: str) -> Command:
        def issue(i: Incident, a: argparse.Namespace, actor: str, at: datetime | None) -> Event:
            method: Callable[..., Event] = getattr(i, trigger)
            return method(a.message, actor=actor, at=at)

        return issue

    return {name: move(trigger) for name, trigger in MOVES.items()}


COMMANDS: dict[str, Command] = {
    "confirm": lambda i, a, actor, at: i.validate(
        _evidence(a), impact=a.impact, actor=actor, at=at
    ),
    "link": lambda i, a, actor, at: _link(i, a, actor, at),
    "assign": lambda i, a, actor, at: _assign(i, a, actor, at),
    "hand-off": lambda i, a, actor, at: i.hand_off(
        Role.parse(a.role), a.from_person, a.to_person, actor=actor, at=at
    ),
    "release": lambda i, a, actor, at: i.release(Role.parse(a.role), a.person, actor=actor, at=at),
    "update": lambda i, a, actor, at: i.post_update(
        a.message, no_progress=a.no_progress, actor=actor, at=at
    ),
    "note": lambda i, a, actor, at: i.note(a.text, kind=NoteKind.parse(a.kind), actor=actor, at=at),
    "why": lambda i, a, actor, at: i.add_why(
        a.answer,
        chain=a.chain,
        root_cause=a.root_cause,
        branches_from=a.branches_from,
        after=a.after,
        actor=actor,
        at=at,
    ),
    "data-loss": lambda i, a, actor, at: i.record_data_loss(
        a.what,
        window_start=None if a.window_start is None else parse_time(a.window_start, "--from"),
        window_end=None if a.window_end is None else parse_time(a.window_end, "--to"),
        amount=a.amount,
        loss_id=a.record_id,
        actor=actor,
        at=at,
    ),
    "amend": lambda i, a, actor, at: i.amend(
        a.field_name, a.value, entry=a.entry, reason=a.reason, actor=actor, at=at
    ),
    "retract": lambda i, a, actor, at: i.retract(a.entry, reason=a.reason, actor=actor, at=at),
    "factor": lambda i, a, actor, at: i.add_factor(
        a.description,
        category=None if a.category is None else FishboneCategory.parse(a.category),
        actor=actor,
        at=at,
    ),
    "verify-recovery": lambda i, a, actor, at: i.verify_recovery(a.evidence, actor=actor, at=at),
    "verify-customer": lambda i, a, actor, at: i.verify_customer(
        a.customer, a.evidence, actor=actor, at=at
    ),
    "update --post": compose_and_post,
    "start-report": lambda i, a, actor, at: i.start_report(location=a.location, actor=actor, at=at),
    "schedule": lambda i, a, actor, at: i.schedule_post_mortem(
        parse_time(a.scheduled_for, "--for", a), _invitees(a.invite), actor=actor, at=at
    ),
    "priority": lambda i, a, actor, at: i.change_priority(
        Priority.parse(a.new_priority), reason=a.reason, actor=actor, at=at
    ),
    "experiment start": lambda i, a, actor, at: i.start_experiment(
        hypothesis=a.hypothesis,
        action=a.action,
        expected=a.expected,
        component=a.component,
        owner=a.owner,
        experiment_id=a.record_id,
        actor=actor,
        at=at,
    ),
    "experiment conclude": lambda i, a, actor, at: i.conclude_experiment(
        a.record_id, observed=a.observed, verdict=Verdict.parse(a.verdict), actor=actor, at=at
    ),
    "change log": lambda i, a, actor, at: i.log_change(
        what=a.what,
        where=a.where,
        revert=a.revert,
        made_by=a.made_by,
        change_id=a.record_id,
        actor=actor,
        at=at,
    ),
    "change reconcile": lambda i, a, actor, at: i.reconcile_change(
        a.record_id, ChangeOutcome.parse(a.outcome), note=a.note, actor=actor, at=at
    ),
    "debt open": lambda i, a, actor, at: i.open_debt(
        a.description, debt_id=a.record_id, actor=actor, at=at
    ),
    "debt close": lambda i, a, actor, at: i.close_debt(
        a.record_id, note=a.note, actor=actor, at=at
    ),
    "action add": lambda i, a, actor, at: i.add_action(
        a.description,
        owner=a.owner,
        due_at=None if a.due is None else parse_time(a.due, "--due", a, day=True),
        kind=ActionKind.parse(a.kind),
        action_id=a.record_id,
        actor=actor,
        at=at,
    ),
    "action close": lambda i, a, actor, at: i.close_action(
        a.record_id, note=a.note, actor=actor, at=at
    ),
    "impact": change_impact,
    **_moves(),
}
"""Handler name → the core command it issues on the loaded incident."""

_IDS = ("experiment_id", "change_id", "debt_id", "action_id", "loss_id")


def _either(a: argparse.Namespace, given: str | None, what: str, flag: str) -> None:
    """Refuse both or neither of a value and the option saying it is not known."""
    if (given is None) == (not a.not_known):
        raise InvalidInput(f"give {what} or {flag} (with --reason), not both or neither")


def _link(i: Incident, a: argparse.Namespace, actor: str, at: datetime | None) -> Event:
    """``link``: the link, or with ``--none`` the record that none exists."""
    _either(a, a.url, "a URL", "--none")
    if a.not_known:
        return i.record_link_absent(LinkKind.parse(a.kind), reason=a.reason, actor=actor, at=at)
    return i.link(LinkKind.parse(a.kind), a.url, actor=actor, at=at)


def _assign(i: Incident, a: argparse.Namespace, actor: str, at: datetime | None) -> Event:
    """``assign``: a person, or with ``--unknown`` the record that nobody can say who."""
    _either(a, a.person, "a PERSON", "--unknown")
    if a.not_known:
        return i.record_role_unknown(Role.parse(a.role), reason=a.reason, actor=actor, at=at)
    return i.assign(Role.parse(a.role), a.person, actor=actor, at=at)


def _evidence(args: argparse.Namespace) -> str:
    """``confirm``'s evidence, given as EVIDENCE or as ``--evidence`` (one of them)."""
    given = [e for e in (args.evidence, args.evidence_option) if e is not None]
    if len(given) != 1:
        said = "twice" if given else "no evidence"
        raise Failure(
            EXIT_BAD_INPUT,
            "InvalidInput",
            f"confirm needs what shows the problem is real, once ({said} given): "
            f'incidentflow confirm {args.incident} "<evidence>"',
        )
    evidence: str = given[0]
    return evidence


def _invitees(given: list[str]) -> list[str]:
    """``--invite`` values, each split at commas: ``--invite ana,bo`` invites two people."""
    return [name.strip() for value in given for name in value.split(",") if name.strip()]


def run(handler: str, options: Options) -> int:
    """Run the incident command ``handler``; print what was recorded."""
    args = options.args
    actor = options.actor
    at = options.at
    policy = options.policy
    command = _adoption(options) if handler == "adopt-policy" else COMMANDS.get(handler)
    if handler == "declare":
        incident = Incident.declare(
            args.incident,
            args.title,
            Priority.parse(args.priority),
            actor=actor,
            at=at,
            policy=policy,
            **milestones(args),
        )
        history = list(incident.history)

        def declare() -> None:
            with open_store(options.db, timeout=LOCK_WAIT, chain_key=options.chain_key) as store:
                store.append(args.incident, history, expected_version=0, policy=policy)

        _retrying(declare)
        event = incident.history[0]
    else:
        assert command is not None
        issued = command
        noted = handler == "adopt-policy"  # there, --policy is the policy to adopt

        def issue() -> tuple[Incident, Event]:
            nonlocal noted
            # Opened afresh on each try: a busy database can refuse the opening too.
            with open_store(options.db, timeout=LOCK_WAIT, chain_key=options.chain_key) as store:
                loaded = store.load(args.incident, policy=policy)
                if not noted:  # once, before the command runs, so a refusal carries it too
                    note_policy(options, [loaded])
                    noted = True
                return _issue(store, loaded, issued, options, actor, at)

        incident, event = _retrying(issue)
    _print(options, incident, event)
    return EXIT_OK


def _adoption(options: Options) -> Command:
    """``adopt-policy``: the ``--policy`` file, adopted by the incident (required here)."""
    if options.args.policy is None:
        raise Failure(
            EXIT_BAD_INPUT,
            "InvalidInput",
            "adopt-policy needs the policy to adopt: --policy FILE",
        )
    policy = options.policy
    return lambda i, a, actor, at: i.adopt_policy(policy, actor=actor, at=at)


def _retrying(attempt: Callable[[], T]) -> T:
    """``attempt()``, tried again after a conflict or a busy store within the retry budget."""
    deadline = _now() + RETRY_BUDGET
    retries = 0
    while True:
        try:
            return attempt()
        except AlreadyExists:
            raise  # waiting will not make an id free
        except (Conflict, StoreBusy):
            pause = random.uniform(0.0, min(RETRY_CAP, RETRY_FIRST * 2**retries))
            if _now() + pause > deadline:
                raise
            _sleep(pause)
            retries += 1


def _issue(
    store: Store,
    incident: Incident,
    command: Command,
    options: Options,
    actor: str,
    at: datetime | None,
) -> tuple[Incident, Event]:
    """Issue the command on the loaded incident and append it at the loaded version.

    A conflict raises, to be retried.  The incident runs under the policy it records;
    ``--policy`` is for legacy histories (and, for ``adopt-policy``, the policy to adopt).
    """
    version = incident.version
    event = command(incident, options.args, actor, at)
    store.append(options.args.incident, [event], expected_version=version, policy=options.policy)
    return incident, event


def _print(options: Options, incident: Incident, event: Event) -> None:
    if options.json:
        emit([codec.to_dict(event)], options)
        return
    ids = [inline(getattr(event, name)) for name in _IDS if hasattr(event, name)]
    recorded = f"{event.type} {ids[0]}" if ids else event.type
    print(
        f"{inline(incident.id)}: recorded {recorded} by {inline(event.actor)} "
        f"(version {incident.version}, state {incident.state.value})"
    )
