"""What to do about an unmet rule: the library method and the command that meet it.

Every rule the policy can report (see :data:`incidentflow.policy.RULES`) has a :class:`Hint`
in :data:`HINTS`: ``method`` names what a program calls (read as
:attr:`incidentflow.Unmet.hint`), ``command`` is what a person types at the terminal, with
``{incident}`` standing for the incident's id.  A rule that no command meets (a time in the
wrong order, an id already taken) has advice instead of a command.

>>> from incidentflow import Unmet
>>> Unmet("validated", "the problem has not been validated").hint
'Incident.validate(evidence)'
>>> HINTS["validated"].command.format(incident="INC-7")
'incidentflow confirm INC-7 "<evidence>"'

:data:`COMMAND_NAMES` maps each command of the library (the keys of a policy's
authorization table) to the command-line command that issues it, so a refusal speaks of
``update``, not ``post_update``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from attrs import frozen

__all__ = ["COMMAND_NAMES", "HINTS", "Hint"]


@frozen
class Hint:
    """How to meet one rule: the library ``method`` and the command-line ``command``.

    ``command`` is a template: ``{incident}`` stands for the incident's id.  It is a command
    to run when it starts with ``incidentflow``, else advice.
    """

    method: str
    command: str

    @property
    def runnable(self) -> bool:
        """Whether ``command`` is a command to run (else it is advice)."""
        return self.command.startswith("incidentflow ")


_STATUS = "incidentflow status {incident}"

HINTS: Mapping[str, Hint] = MappingProxyType(
    {
        # -- the lifecycle's guards --
        "validated": Hint(
            "Incident.validate(evidence)", 'incidentflow confirm {incident} "<evidence>"'
        ),
        "required_links": Hint("Incident.link(kind, url)", "incidentflow link {incident} KIND URL"),
        "required_roles": Hint(
            "Incident.assign(role, person)", "incidentflow assign {incident} ROLE PERSON"
        ),
        "recovery_verified": Hint(
            "Incident.verify_recovery(evidence)",
            'incidentflow verify-recovery {incident} --evidence "<evidence>"',
        ),
        "experiments_concluded": Hint(
            "Incident.conclude_experiment(experiment_id, observed=..., verdict=...)",
            'incidentflow experiment conclude {incident} ID --observed "<observed>" '
            "--verdict confirmed|refuted|inconclusive",
        ),
        "customer_verified": Hint(
            "Incident.verify_customer(customer, evidence)",
            'incidentflow verify-customer {incident} --customer NAME --evidence "<evidence>"',
        ),
        "tech_debt_closed": Hint(
            "Incident.close_debt(debt_id)", "incidentflow debt close {incident} ID"
        ),
        "changes_reconciled": Hint(
            "Incident.reconcile_change(change_id, outcome)",
            "incidentflow change reconcile {incident} ID reverted|permanent",
        ),
        "root_cause_found": Hint(
            "Incident.add_why(answer, root_cause=True) on the last answer",
            'incidentflow why {incident} "<answer>" (--root-cause on the last one)',
        ),
        "report_started": Hint(
            "Incident.start_report(location=...)",
            "incidentflow start-report {incident} --location URL",
        ),
        "post_mortem_scheduled": Hint(
            "Incident.schedule_post_mortem(when, invitees)",
            "incidentflow schedule {incident} --for TIME --invite PERSON --invite PERSON",
        ),
        "roles_invited": Hint(
            "Incident.schedule_post_mortem(when, invitees) with everyone named",
            "incidentflow schedule {incident} --for TIME --invite PERSON --invite PERSON",
        ),
        # -- who may, and when --
        "state_allows_command": Hint(
            "Incident.next_states() and Incident.unmet(target) say what comes next",
            _STATUS,
        ),
        "authorized": Hint(
            "issue it as someone holding an allowed role (actor=...), or Incident.assign one",
            "incidentflow assign {incident} ROLE PERSON (or give --actor someone who holds it)",
        ),
        "lifecycle_edge": Hint("Incident.next_states() lists the moves from here", _STATUS),
        "from_current_state": Hint("reload the incident: the move starts elsewhere", _STATUS),
        # -- staffing --
        "single_holder": Hint(
            "Incident.hand_off(role, from_holder, to_holder)",
            "incidentflow hand-off {incident} ROLE FROM TO",
        ),
        "holds_role": Hint(
            "name a current holder (Incident.roles)",
            "name a current holder (incidentflow status {incident} lists them)",
        ),
        "not_already_holder": Hint(
            "nothing to do: they hold the role already (Incident.roles)",
            "nothing to do: they hold the role already",
        ),
        "experiments_owned": Hint(
            "Incident.hand_off(Role.INCIDENT_COMMANDER, from_holder, to_holder)",
            "incidentflow hand-off {incident} ic FROM TO",
        ),
        "required_roles_filled": Hint(
            "Incident.assign(role, person) first", "incidentflow assign {incident} ROLE PERSON"
        ),
        "required_role_kept": Hint(
            "Incident.hand_off(role, from_holder, to_holder)",
            "incidentflow hand-off {incident} ROLE FROM TO",
        ),
        "owner_is_commander": Hint(
            "Incident.assign(Role.INCIDENT_COMMANDER, owner) first",
            "incidentflow assign {incident} ic PERSON",
        ),
        # -- records --
        "validated_once": Hint(
            "nothing to do: the problem is validated", "nothing to do: the problem is validated"
        ),
        "unique_id": Hint(
            "pass another id (experiment_id=, change_id=, debt_id=, action_id=)",
            "give another --id, or none to get the next free one",
        ),
        "component_free": Hint(
            "Incident.conclude_experiment(...) on the running one first",
            'incidentflow experiment conclude {incident} ID --observed "<observed>" '
            "--verdict confirmed|refuted|inconclusive",
        ),
        "known_id": Hint(
            "name an existing item (Incident.history lists them)",
            "name an existing item (incidentflow timeline {incident} lists them)",
        ),
        "still_open": Hint(
            "nothing to do: it is closed already", "nothing to do: it is closed already"
        ),
        "chain_open": Hint(
            "Incident.add_why(answer, chain=...) in another chain",
            'incidentflow why {incident} "<answer>" --chain NAME',
        ),
        "report_once": Hint(
            "nothing to do: the report is started", "nothing to do: the report is started"
        ),
        "priority_differs": Hint(
            "nothing to do: the priority is that already",
            "nothing to do: the priority is that already",
        ),
        "policy_differs": Hint(
            "nothing to do: the incident runs under it already",
            "nothing to do: the incident runs under it already",
        ),
        "policy_intact": Hint(
            "record a policy as Policy.recorded() writes it",
            "give a policy file that loads: incidentflow adopt-policy {incident} --policy FILE",
        ),
        # -- milestones and impact --
        "milestones_in_order": Hint(
            "give began <= detected <= at (the declaration) to Incident.declare",
            "give --began no later than --detected, and both no later than --at",
        ),
        "impact_before_green": Hint(
            "date the impact change (at=) no later than green",
            "give --at no later than green: incidentflow timeline {incident}",
        ),
        "action_owner_and_due": Hint(
            "Incident.add_action(description, kind=..., owner=..., due_at=...)",
            'incidentflow action add {incident} "<description>" --kind KIND --owner PERSON '
            "--due TIME",
        ),
        "impact_operational": Hint(
            "Incident.change_impact(ImpactLevel.OPERATIONAL)",
            "incidentflow impact {incident} operational",
        ),
        # -- the Five Whys --
        "root_cause_depth": Hint(
            "Incident.add_why(answer) until the depth the policy asks, then root_cause=True",
            'incidentflow why {incident} "<answer>" (--root-cause only at the depth the policy '
            "asks: incidentflow status {incident})",
        ),
        "why_depth": Hint(
            "Incident.add_why(answer, chain=...) without giving a depth: it is counted",
            "answer the next why of the chain: incidentflow timeline {incident} shows it",
        ),
        "branch_first": Hint(
            "Incident.add_why(answer, chain=NEW, branches_from=...) with a new chain name",
            'incidentflow why {incident} "<answer>" --chain NEW --branches-from CHAIN',
        ),
        "known_chain": Hint(
            "branch off a chain of Incident.why_chains",
            "name an existing chain (incidentflow timeline {incident} lists them)",
        ),
        "branch_depth": Hint(
            "Incident.add_why(..., branches_from=..., after=N) below an answer of the parent",
            'branch below one of its answers: incidentflow why {incident} "<answer>" --chain NEW '
            "--branches-from CHAIN --after N",
        ),
        # -- what nobody knows, and what was lost --
        "role_not_held": Hint(
            "nothing to do: the role has a holder or is recorded as unknown (Incident.roles)",
            "nothing to do: incidentflow status {incident} shows who holds it",
        ),
        "link_not_made": Hint(
            "nothing to do: the link is recorded already (Incident.links)",
            "nothing to do: incidentflow status {incident} shows the links",
        ),
        "window_in_order": Hint(
            "give a window whose start is no later than its end",
            "give --from no later than --to",
        ),
        # -- corrections --
        "amendable_field": Hint(
            "Incident.amend(field_name, value, ...) with a field of corrections.AMENDABLE",
            'incidentflow amend {incident} FIELD VALUE --reason "<why>"',
        ),
        "known_entry": Hint(
            "name an entry by its event number (Incident.history, from 1)",
            "name an entry by its number: incidentflow timeline {incident} --numbered",
        ),
        "correctable_entry": Hint(
            "amend a field that applies to that kind of entry, or retract a note, update, "
            "factor or data loss",
            "see the entry's kind: incidentflow timeline {incident} --numbered",
        ),
        "not_retracted": Hint(
            "nothing to do: the entry is retracted already (Incident.corrections)",
            "nothing to do: the entry is retracted already",
        ),
        "amended_value": Hint(
            "give the value as the field's kind (a time with its zone, a priority, names)",
            "give the value as the field's kind: a time with its zone, a priority, names",
        ),
        "amendment_changes": Hint(
            "nothing to do: the field has that value already",
            "nothing to do: the field has that value already",
        ),
        # -- histories and times --
        "declared_first": Hint(
            "Incident.declare(incident_id, title, priority) first",
            'incidentflow declare {incident} --title "<title>" --priority P1',
        ),
        "declared_once": Hint(
            "choose another incident id",
            "choose another incident id (incidentflow list shows those taken)",
        ),
        "event_type": Hint(
            "replay only incidentflow.events records",
            "give a file written by incidentflow export",
        ),
        "stamps_in_order": Hint(
            "stamp it no earlier than the last event",
            "give --at no earlier than the last event: incidentflow timeline {incident}",
        ),
        "not_in_future": Hint("give an at= no later than now", "give an --at no later than now"),
        "not_before_start": Hint(
            "give an at= after the incident began",
            "give an --at after the incident began: incidentflow status {incident}",
        ),
        "moves_in_order": Hint(
            "give an at= after the previous move",
            "give an --at after the previous move: incidentflow timeline {incident}",
        ),
    }
)
"""Every rule's hint, by rule name (see :data:`incidentflow.policy.RULES`)."""

COMMAND_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "validate": "confirm",
        "link": "link",
        "assign": "assign",
        "hand_off": "hand-off",
        "release": "release",
        "start_experiment": "experiment start",
        "conclude_experiment": "experiment conclude",
        "note": "note",
        "post_update": "update",
        "log_change": "change log",
        "reconcile_change": "change reconcile",
        "add_why": "why",
        "add_factor": "factor",
        "verify_recovery": "verify-recovery",
        "verify_customer": "verify-customer",
        "open_debt": "debt open",
        "close_debt": "debt close",
        "start_report": "start-report",
        "schedule_post_mortem": "schedule",
        "add_action": "action add",
        "close_action": "action close",
        "change_priority": "priority",
        "adopt_policy": "adopt-policy",
        "amend": "amend",
        "retract": "retract",
        "record_data_loss": "data-loss",
        "change_impact": "impact",
        "mitigate": "mitigate",
        "announce_yellow": "yellow",
        "announce_green": "green",
        "mark_reported": "mark-reported",
        "begin_post_mortem": "post-mortem",
        "dismiss": "dismiss",
        "reopen": "reopen",
    }
)
"""Each library command (see :data:`incidentflow.policy.COMMANDS`) → the CLI command."""
