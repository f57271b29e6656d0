"""What reviewers and stakeholders read, generated from what an incident recorded.

- :func:`rca_document` — the RCA document in the runbook's format (Markdown or HTML), with a
  completeness check of what reviewers still have to fill in (:mod:`.rca`);
- :func:`agenda` and :func:`invitation` — the RCA meeting's six-part agenda fitted to a length,
  and its calendar invitation (:mod:`.meeting`);
- :func:`compose_update` — the periodic stakeholder update, as plain text or Slack Block Kit
  (:mod:`.update`).

Documents depend on the core only; nothing in the core knows of them.  Everything a person
typed is escaped for the format it is written in, so no title or update can inject markup
or mentions; its http and https URLs become links whose text is the URL itself.
"""

import typing as _typing

from incidentflow import _lazy

if _typing.TYPE_CHECKING:
    from .meeting import AGENDA as AGENDA
    from .meeting import LONGEST as LONGEST
    from .meeting import SHORTEST as SHORTEST
    from .meeting import Agenda as Agenda
    from .meeting import AgendaPart as AgendaPart
    from .meeting import Attendee as Attendee
    from .meeting import PartTemplate as PartTemplate
    from .meeting import agenda as agenda
    from .meeting import fit as fit
    from .meeting import invitation as invitation
    from .rca import Gap as Gap
    from .rca import RcaDocument as RcaDocument
    from .rca import Section as Section
    from .rca import rca_document as rca_document
    from .update import StakeholderUpdate as StakeholderUpdate
    from .update import compose_update as compose_update

# Where each public name lives; imported on first use (PEP 562), like the package's own names.
_SOURCES: dict[str, str] = {
    "AGENDA": ".meeting",
    "LONGEST": ".meeting",
    "SHORTEST": ".meeting",
    "Agenda": ".meeting",
    "AgendaPart": ".meeting",
    "Attendee": ".meeting",
    "PartTemplate": ".meeting",
    "agenda": ".meeting",
    "fit": ".meeting",
    "invitation": ".meeting",
    "Gap": ".rca",
    "RcaDocument": ".rca",
    "Section": ".rca",
    "rca_document": ".rca",
    "StakeholderUpdate": ".update",
    "compose_update": ".update",
}


__getattr__ = _lazy.loader(__name__, _SOURCES, globals())


__dir__ = _lazy.listing(globals())


__all__ = [
    "AGENDA",
    "LONGEST",
    "SHORTEST",
    "Agenda",
    "AgendaPart",
    "Attendee",
    "Gap",
    "PartTemplate",
    "RcaDocument",
    "Section",
    "StakeholderUpdate",
    "agenda",
    "compose_update",
    "fit",
    "invitation",
    "rca_document",
]
