"""incidentflow: an incident-response runbook as executable, embeddable process rules.

An :class:`Incident` moves declared → mitigating → yellow → green → reported → post_mortem only
when its :class:`Policy` says it may; every change is an event; subscribers hear of each one.
"""

import typing as _typing

from . import _lazy

if _typing.TYPE_CHECKING:
    from .clock import ApproximateTime as ApproximateTime
    from .clock import Clock as Clock
    from .clock import ManualClock as ManualClock
    from .clock import SystemClock as SystemClock
    from .clock import approximately as approximately
    from .corrections import Amendable as Amendable
    from .errors import AlreadyExists as AlreadyExists
    from .errors import CheckpointConflict as CheckpointConflict
    from .errors import CommandRefused as CommandRefused
    from .errors import Conflict as Conflict
    from .errors import DecodeError as DecodeError
    from .errors import IncidentFlowError as IncidentFlowError
    from .errors import InvalidHistory as InvalidHistory
    from .errors import InvalidInput as InvalidInput
    from .errors import MissingExtra as MissingExtra
    from .errors import NotAuthorized as NotAuthorized
    from .errors import NotFound as NotFound
    from .errors import NotReady as NotReady
    from .errors import PolicyError as PolicyError
    from .errors import ReplayError as ReplayError
    from .errors import RuleViolated as RuleViolated
    from .errors import StoreBusy as StoreBusy
    from .errors import StoreError as StoreError
    from .errors import StoreUnavailable as StoreUnavailable
    from .errors import Tampered as Tampered
    from .errors import TransitionBlocked as TransitionBlocked
    from .events import ActionAdded as ActionAdded
    from .events import ActionClosed as ActionClosed
    from .events import Amended as Amended
    from .events import ChangeLogged as ChangeLogged
    from .events import ChangeReconciled as ChangeReconciled
    from .events import CustomerVerified as CustomerVerified
    from .events import DataLossRecorded as DataLossRecorded
    from .events import DebtClosed as DebtClosed
    from .events import DebtOpened as DebtOpened
    from .events import Declared as Declared
    from .events import Event as Event
    from .events import ExperimentConcluded as ExperimentConcluded
    from .events import ExperimentStarted as ExperimentStarted
    from .events import FactorAdded as FactorAdded
    from .events import ImpactChanged as ImpactChanged
    from .events import LinkAbsent as LinkAbsent
    from .events import Linked as Linked
    from .events import NoteAdded as NoteAdded
    from .events import PolicyAdopted as PolicyAdopted
    from .events import PostMortemScheduled as PostMortemScheduled
    from .events import PriorityChanged as PriorityChanged
    from .events import RecordedPolicy as RecordedPolicy
    from .events import RecoveryVerified as RecoveryVerified
    from .events import ReportStarted as ReportStarted
    from .events import Retracted as Retracted
    from .events import RoleAssigned as RoleAssigned
    from .events import RoleHandedOff as RoleHandedOff
    from .events import RoleReleased as RoleReleased
    from .events import RoleUnknown as RoleUnknown
    from .events import StateChanged as StateChanged
    from .events import UpdatePosted as UpdatePosted
    from .events import Validated as Validated
    from .events import WhyAnswered as WhyAnswered
    from .incident import Incident as Incident
    from .lifecycle import Edge as Edge
    from .lifecycle import State as State
    from .obligations import Obligation as Obligation
    from .policy import DEFAULT_POLICY as DEFAULT_POLICY
    from .policy import Policy as Policy
    from .policy import PriorityRules as PriorityRules
    from .priorities import Priority as Priority
    from .priorities import triage as triage
    from .records import ActionItem as ActionItem
    from .records import ActionKind as ActionKind
    from .records import ChangeOutcome as ChangeOutcome
    from .records import Correction as Correction
    from .records import DataLoss as DataLoss
    from .records import DetectionMethod as DetectionMethod
    from .records import Experiment as Experiment
    from .records import FishboneCategory as FishboneCategory
    from .records import ImpactLevel as ImpactLevel
    from .records import ImpactPhase as ImpactPhase
    from .records import LinkKind as LinkKind
    from .records import ManualChange as ManualChange
    from .records import NoteKind as NoteKind
    from .records import TechDebt as TechDebt
    from .records import Unmet as Unmet
    from .records import Verdict as Verdict
    from .records import WhyChain as WhyChain
    from .roles import Role as Role
    from .subscribers import DeliveryFailure as DeliveryFailure
    from .subscribers import Subscribers as Subscribers

# Where each public name lives.  Names are imported on first use (PEP 562), so that
# `import incidentflow` (and the command line's start-up) costs only what is used.
_SOURCES: dict[str, str] = {
    "ApproximateTime": ".clock",
    "Clock": ".clock",
    "ManualClock": ".clock",
    "SystemClock": ".clock",
    "approximately": ".clock",
    "AlreadyExists": ".errors",
    "CheckpointConflict": ".errors",
    "CommandRefused": ".errors",
    "Conflict": ".errors",
    "DecodeError": ".errors",
    "IncidentFlowError": ".errors",
    "InvalidHistory": ".errors",
    "InvalidInput": ".errors",
    "MissingExtra": ".errors",
    "NotAuthorized": ".errors",
    "NotFound": ".errors",
    "NotReady": ".errors",
    "PolicyError": ".errors",
    "ReplayError": ".errors",
    "RuleViolated": ".errors",
    "StoreBusy": ".errors",
    "StoreError": ".errors",
    "StoreUnavailable": ".errors",
    "Tampered": ".errors",
    "TransitionBlocked": ".errors",
    "ActionAdded": ".events",
    "ActionClosed": ".events",
    "ChangeLogged": ".events",
    "ChangeReconciled": ".events",
    "CustomerVerified": ".events",
    "DebtClosed": ".events",
    "DebtOpened": ".events",
    "Declared": ".events",
    "Event": ".events",
    "ExperimentConcluded": ".events",
    "ExperimentStarted": ".events",
    "FactorAdded": ".events",
    "ImpactChanged": ".events",
    "Linked": ".events",
    "NoteAdded": ".events",
    "PolicyAdopted": ".events",
    "PostMortemScheduled": ".events",
    "PriorityChanged": ".events",
    "RecordedPolicy": ".events",
    "RecoveryVerified": ".events",
    "ReportStarted": ".events",
    "RoleAssigned": ".events",
    "RoleHandedOff": ".events",
    "RoleReleased": ".events",
    "StateChanged": ".events",
    "UpdatePosted": ".events",
    "Validated": ".events",
    "WhyAnswered": ".events",
    "Incident": ".incident",
    "Edge": ".lifecycle",
    "State": ".lifecycle",
    "Obligation": ".obligations",
    "DEFAULT_POLICY": ".policy",
    "Policy": ".policy",
    "PriorityRules": ".policy",
    "Priority": ".priorities",
    "triage": ".priorities",
    "ActionItem": ".records",
    "ActionKind": ".records",
    "ChangeOutcome": ".records",
    "DetectionMethod": ".records",
    "Experiment": ".records",
    "FishboneCategory": ".records",
    "ImpactLevel": ".records",
    "ImpactPhase": ".records",
    "LinkKind": ".records",
    "ManualChange": ".records",
    "TechDebt": ".records",
    "Unmet": ".records",
    "Verdict": ".records",
    "WhyChain": ".records",
    "Role": ".roles",
    "DeliveryFailure": ".subscribers",
    "Subscribers": ".subscribers",
    "Amended": ".events",
    "DataLossRecorded": ".events",
    "LinkAbsent": ".events",
    "Retracted": ".events",
    "RoleUnknown": ".events",
    "Correction": ".records",
    "DataLoss": ".records",
    "NoteKind": ".records",
    "Amendable": ".corrections",
}


__getattr__ = _lazy.loader(__name__, _SOURCES, globals())


__dir__ = _lazy.listing(globals())


__all__ = [
    "ActionAdded",
    "ActionClosed",
    "ActionItem",
    "ActionKind",
    "AlreadyExists",
    "Amendable",
    "Amended",
    "ApproximateTime",
    "ChangeLogged",
    "ChangeOutcome",
    "ChangeReconciled",
    "CheckpointConflict",
    "Clock",
    "CommandRefused",
    "Conflict",
    "Correction",
    "CustomerVerified",
    "DEFAULT_POLICY",
    "DataLoss",
    "DataLossRecorded",
    "DebtClosed",
    "DebtOpened",
    "Declared",
    "DecodeError",
    "DeliveryFailure",
    "DetectionMethod",
    "Edge",
    "Event",
    "Experiment",
    "ExperimentConcluded",
    "ExperimentStarted",
    "FactorAdded",
    "FishboneCategory",
    "ImpactChanged",
    "ImpactLevel",
    "ImpactPhase",
    "Incident",
    "IncidentFlowError",
    "InvalidHistory",
    "InvalidInput",
    "LinkAbsent",
    "LinkKind",
    "Linked",
    "ManualChange",
    "ManualClock",
    "MissingExtra",
    "NotAuthorized",
    "NotFound",
    "NotReady",
    "NoteAdded",
    "NoteKind",
    "Obligation",
    "Policy",
    "PolicyAdopted",
    "PolicyError",
    "PostMortemScheduled",
    "Priority",
    "PriorityChanged",
    "PriorityRules",
    "RecordedPolicy",
    "RecoveryVerified",
    "ReplayError",
    "ReportStarted",
    "Retracted",
    "Role",
    "RoleAssigned",
    "RoleHandedOff",
    "RoleReleased",
    "RoleUnknown",
    "RuleViolated",
    "State",
    "StateChanged",
    "StoreBusy",
    "StoreError",
    "StoreUnavailable",
    "Subscribers",
    "SystemClock",
    "Tampered",
    "TechDebt",
    "TransitionBlocked",
    "Unmet",
    "UpdatePosted",
    "Validated",
    "Verdict",
    "WhyAnswered",
    "WhyChain",
    "approximately",
    "triage",
]
