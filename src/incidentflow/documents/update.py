"""The periodic stakeholder update (runbook step 8), composed from what the incident recorded.

:func:`compose_update` gathers what stakeholders want every 15 to 45 minutes: the state and
priority, the impact, what is being tried (the running experiments), what changed since the
last update and when the next one is due.  When nothing changed, the update says so plainly:
the runbook's Communicator "provides updates, including those of no progress", so a no-progress
update is a first-class case, not an empty one.

The update is written as plain text (:meth:`StakeholderUpdate.text`, ready to post with
``incident.post_update``) or as a Slack Block Kit message
(:meth:`StakeholderUpdate.slack_message`), where everything people typed sits in
``plain_text`` objects, escaped, so no update can ping ``@here`` or smuggle in a link.

>>> from datetime import UTC, datetime
>>> from incidentflow.demo import run_demo
>>> update = compose_update(run_demo(lambda s: None), now=datetime(2026, 3, 2, tzinfo=UTC))
>>> update.state.value, update.no_progress, update.next_update_due
('post_mortem', False, None)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import frozen

from incidentflow import events as ev
from incidentflow.clock import require_not_before
from incidentflow.errors import InvalidInput
from incidentflow.incident import Incident
from incidentflow.lifecycle import State
from incidentflow.priorities import Priority
from incidentflow.records import Experiment

from ._facts import impact
from ._markup import inline, slack
from ._narrative import describe, moment

__all__ = ["StakeholderUpdate", "compose_update"]

# Block Kit's limits (https://api.slack.com/reference/block-kit): a message holds at most 50
# blocks, a header's text 150 characters, a section's text 3000, a section at most 10 fields
# of 2000 characters each.
_HEADER_LIMIT = 150
_SECTION_LIMIT = 3000
_FIELD_LIMIT = 2000
_LINE_LIMIT = 1000  # one listed item, so a single long one cannot crowd out the rest


def _trying(experiment: Experiment) -> str:
    return (
        f"{experiment.id} on {experiment.component} (owner {experiment.owner}, since "
        f"{moment(experiment.started_at)}): if {experiment.hypothesis}, then "
        f"{experiment.action} should show {experiment.expected}"
    )


@frozen(kw_only=True)
class StakeholderUpdate:
    """One stakeholder update, composed at ``composed_at`` from an incident's record.

    ``changes`` describes each event recorded after the last update, in the order recorded
    (everything since the declaration when no update was posted yet); ``no_progress`` is
    true when there is none.  ``last_update_at`` is when the latest update happened and
    ``next_update_due`` when the next one is owed, by the priority's cadence; ``None`` once
    the incident is no longer active (updates are owed only while it is).  Fields hold the
    text as typed; :meth:`text` and :meth:`blocks` escape it for where it goes.
    """

    incident_id: str
    title: str
    state: State
    priority: Priority
    impact: str | None
    trying: tuple[Experiment, ...]
    changes: tuple[str, ...]
    no_progress: bool
    last_update_at: datetime | None
    next_update_due: datetime | None
    composed_at: datetime
    news: tuple[str, ...] = ()
    """The changes that move the picture (moves, verdicts, verifications, priority)."""
    next_steps: str = ""
    """What happens next, in a phrase."""

    # -- the parts, in our words ----------------------------------------------------------

    @property
    def _priority(self) -> str:
        return f"{self.priority.value} ({self.priority.title})"

    @property
    def _last(self) -> str:
        return moment(self.last_update_at) if self.last_update_at else "none yet"

    @property
    def _next(self) -> str:
        if self.next_update_due is None:
            return f"none: the incident is {self.state.value}, no longer active"
        return moment(self.next_update_due)

    @property
    def _since(self) -> str:
        if self.last_update_at is None:
            return "since the incident was declared"
        return f"since the last update ({moment(self.last_update_at)})"

    # -- plain text ------------------------------------------------------------------------

    def text(self) -> str:
        """The update as plain text, one fact per line, ready to post as the update itself."""
        lines = [
            f"Update on {inline(self.incident_id)}: {inline(self.title)}, "
            f"at {moment(self.composed_at)}",
            f"State: {self.state.value}",
            f"Priority: {self._priority}",
            f"Impact: {inline(self.impact) if self.impact else 'not assessed yet'}",
        ]
        lines += [f"Trying: {inline(_trying(x))}" for x in self.trying] or ["Trying: nothing"]
        if self.no_progress:
            lines.append(f"No progress {self._since}.")
        else:
            lines.append(f"Changed {self._since}:")
            lines += [f"- {inline(change)}" for change in self.changes]
        lines.append(f"Next update due: {self._next}")
        return "\n".join(lines)

    def short(self) -> str:
        """The update a person sends: state and impact, what changed, next steps, when next.

        At most five lines: what changed is one line of at most two changes that move the
        picture (a move, a verdict, a verification, a priority change), with a count of the
        other records; the whole draft stays in :meth:`text`.
        """
        lines = [
            f"{inline(self.incident_id)} {inline(self.title)}: {self.state.value}, "
            f"{self._priority}",
            f"Impact: {inline(self.impact) if self.impact else 'not assessed yet'}",
        ]
        if self.no_progress:
            lines.append(f"No progress {self._since}.")
        else:
            shown = self.news[-2:]
            others = len(self.changes) - len(shown)
            said = "; ".join(inline(n) for n in shown) or "only bookkeeping (roles, links, notes)"
            more = f" (and {others} more in the record)" if shown and others else ""
            lines.append(f"{_capital(self._since)}: {said}{more}.")
        if self.next_steps:
            lines.append(f"Next: {inline(self.next_steps)}.")
        if self.next_update_due is not None:
            lines.append(f"Next update by {moment(self.next_update_due)}.")
        return "\n".join(lines)

    # -- Slack Block Kit -------------------------------------------------------------------

    def blocks(self) -> list[dict[str, Any]]:
        """The update as Slack Block Kit blocks, within Block Kit's limits.

        Only our own labels are ``mrkdwn``; everything typed is in ``plain_text`` objects,
        escaped.  Overlong text is cut with "…"; overlong lists end "… and N more".
        """
        header = _clip(slack(f"{self.incident_id} {self.title}"), _HEADER_LIMIT)
        fields = {
            "State": self.state.value,
            "Priority": self._priority,
            "Last update": self._last,
            "Next update due": self._next,
        }
        changed = f"*{'No progress' if self.no_progress else 'Changed'} {self._since}*"
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": _plain(header)},
            {
                "type": "section",
                "fields": [_mrkdwn(_clip(f"*{k}*\n{v}", _FIELD_LIMIT)) for k, v in fields.items()],
            },
            {"type": "divider"},
            {"type": "section", "text": _mrkdwn("*Impact*")},
            {
                "type": "section",
                "text": _plain(
                    _clip(slack(self.impact), _SECTION_LIMIT)
                    if self.impact
                    else "Not assessed yet."
                ),
            },
            {"type": "section", "text": _mrkdwn("*Trying now*")},
            {
                "type": "section",
                "text": _plain(
                    _listed([slack(_trying(x)) for x in self.trying]) or "Nothing running."
                ),
            },
            {"type": "section", "text": _mrkdwn(changed)},
        ]
        if self.changes:
            blocks.append(
                {"type": "section", "text": _plain(_listed([slack(c) for c in self.changes]))}
            )
        blocks.append(
            {
                "type": "context",
                "elements": [_mrkdwn(f"Composed by incidentflow at {moment(self.composed_at)}")],
            }
        )
        return blocks

    def slack_message(self) -> dict[str, Any]:
        """A Slack message payload: the blocks, and a fallback ``text`` for notifications.

        ``mrkdwn`` is off for the fallback, so the typed id and title in it stay plain text.
        """
        fallback = (
            f"{slack(self.incident_id)} {slack(self.title)}: stakeholder update "
            f"({self.state.value}, {self.priority.value}"
            + (", no progress)" if self.no_progress else ")")
        )
        return {"text": fallback, "mrkdwn": False, "blocks": self.blocks()}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


_NEWS = (
    ev.StateChanged,
    ev.Validated,
    ev.ExperimentConcluded,
    ev.RecoveryVerified,
    ev.CustomerVerified,
    ev.PriorityChanged,
)
"""The events that change what stakeholders should think (the rest is bookkeeping)."""


def _next_steps(incident: Incident) -> str:
    """What the responders do next, from the state and the record."""
    state = incident.state
    if state is State.DECLARED:
        if incident.validation is None:
            return "confirming the problem and staffing the response"
        return "staffing the response and starting mitigation"
    if state is State.MITIGATING:
        if incident.running_experiments:
            return "testing " + "; ".join(
                f"whether {x.hypothesis} ({x.id})" for x in incident.running_experiments
            )
        if incident.recovery is not None:
            return "watching the recovery before announcing it"
        return "finding the cause and mitigating"
    if state is State.YELLOW:
        return "watching the fix, cleaning up, and confirming with customers"
    if state is State.DISMISSED:
        return "none: it was a false alarm"
    return "the incident report and the post-mortem"


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": False}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with "…", never through an ``&...;`` escape."""
    if len(text) <= limit:
        return text
    kept = text[: limit - 1]
    amp = kept.rfind("&")
    if amp != -1 and ";" not in kept[amp:]:
        kept = kept[:amp]
    return kept + "…"


def _listed(items: list[str], limit: int = _SECTION_LIMIT) -> str:
    """One item a line, as many as fit in ``limit`` characters, then "… and N more"."""
    reserve = len("\n… and 9999999 more")
    lines: list[str] = []
    used = 0
    for index, item in enumerate(items):
        line = _clip(item, _LINE_LIMIT)
        last = index == len(items) - 1
        needed = used + len(line) + (1 if lines else 0)
        if needed + (0 if last else reserve) > limit:
            lines.append(f"… and {len(items) - index} more")
            break
        lines.append(line)
        used = needed
    return "\n".join(lines)


def compose_update(incident: Incident, *, now: datetime) -> StakeholderUpdate:
    """The stakeholder update for ``incident`` at ``now``; works in every state.

    What changed is everything recorded after the last update posted, or since the
    declaration when none was.  The draft is meant to be posted at ``now``, so the next update
    is due one cadence of the current priority after ``now`` (the rule
    :meth:`~incidentflow.Incident.due` applies once this one is posted).  ``now`` may not be
    earlier than the incident's last record: the draft describes the incident as recorded.
    """
    if not isinstance(incident, Incident):
        raise InvalidInput(f"incident must be an Incident, not {incident!r}")
    now = require_not_before(
        now, incident.last_recorded_at, "now", f"{incident.id}'s last recorded event"
    )
    history = incident.corrected_history
    start = 0
    for index in range(len(history) - 1, -1, -1):
        if isinstance(history[index], ev.UpdatePosted):
            start = index + 1
            break
    changes = tuple(describe(e) for e in history[start:])  # no update among them
    news = tuple(describe(e) for e in history[start:] if isinstance(e, _NEWS))
    updates = incident.updates
    return StakeholderUpdate(
        incident_id=incident.id,
        title=incident.title,
        state=incident.state,
        priority=incident.priority,
        impact=impact(incident),
        trying=incident.running_experiments,
        changes=changes,
        no_progress=not changes,
        last_update_at=max(u.occurred_at for u in updates) if updates else None,
        next_update_due=(
            now + incident.policy.rules_for(incident.priority).update_every
            if incident.state.active
            else None
        ),
        composed_at=now,
        news=news,
        next_steps=_next_steps(incident),
    )
