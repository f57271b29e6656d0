"""The read-only commands: status, timeline, list, due, verify and diagram."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from incidentflow import codec
from incidentflow.documents._markup import inline
from incidentflow.events import Declared
from incidentflow.incident import Incident
from incidentflow.lifecycle import mermaid
from incidentflow.obligations import Obligation
from incidentflow.store import Anchor, open_store

from . import _files
from ._impact import before_impact, began_mark, impact_lines, status_fields, status_lines
from ._main import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_STORE,
    Failure,
    Options,
    emit,
    hint_line,
    iso,
    list_filters,
    list_states,
    load_incident,
    note_policy,
    now,
    plural,
    shown,
)

__all__ = ["HANDLERS"]


def _obligation(item: Obligation) -> dict[str, Any]:
    return {
        "incident": item.incident_id,
        "kind": item.kind,
        "description": item.description,
        "command": item.command,
        "owners": list(item.owners),
        "roles": sorted(r.value for r in item.roles),
        "due_at": iso(item.due_at),
        "overdue": item.overdue,
    }


def _owed_by(item: Obligation) -> str:
    if item.owners:
        return "owed by " + ", ".join(inline(owner) for owner in item.owners)
    roles = " or ".join(sorted(r.value for r in item.roles))
    if not roles:
        return "owed by anyone"
    return f"owed by the {roles}, a role no one holds yet"


def _due_line(item: Obligation, options: Options, *, with_incident: bool) -> str:
    marker = "OVERDUE " if item.overdue else ""
    due = f" — due {shown(item.due_at, options)}" if item.due_at else ""
    where = f"{inline(item.incident_id)}  " if with_incident else ""
    return f"{marker}{where}{inline(item.description)} ({_owed_by(item)}){due}"


def status(options: Options) -> int:
    """An incident at a glance: who, where, what blocks each next move, what is due."""
    incident = load_incident(options)
    due = incident.due(options.at)
    blocks = {target: incident.unmet(target) for target in incident.next_states()}
    if options.json:
        emit(
            {
                "id": incident.id,
                "title": incident.title,
                "priority": incident.priority.value,
                "state": incident.state.value,
                "version": incident.version,
                "began_at": iso(incident.began_at),
                "policy": _policy(incident),
                "roles": {r.value: list(h) for r, h in incident.roles.items()},
                "links": {k.value: link.url for k, link in incident.links.items()},
                "next": {
                    t.value: [
                        {"rule": u.rule, "detail": u.detail, "hint": _command(u.rule, incident.id)}
                        for u in unmet
                    ]
                    for t, unmet in blocks.items()
                },
                "due": [_obligation(item) for item in due],
                **status_fields(incident),
            },
            options,
        )
        return EXIT_OK
    print(f"{inline(incident.id)}  {inline(incident.title)}")
    print(f"  priority  {incident.priority.value}    state  {incident.state.value}")
    print(
        f"  began     {began_mark(incident)}{shown(incident.began_at, options)}"
        f"    version {incident.version}"
    )
    for line in status_lines(incident, options):
        print(line)
    policy = _policy(incident)
    unrecorded = "" if policy["recorded"] else "  (not recorded: from --policy)"
    print(f"  policy    {inline(policy['name'])}  {policy['digest']}{unrecorded}")
    print("Roles:")
    for role, holders in incident.roles.items():
        print(f"  {role.value:<20} {', '.join(inline(h) for h in holders) or '-'}")
    if not incident.roles:
        print("  (none)")
    print("Links:")
    for kind, link in incident.links.items():
        print(f"  {kind.value:<20} {inline(link.url)}")
    if not incident.links:
        print("  (none)")
    for line in impact_lines(incident, options):
        print(line)
    print("Next moves:")
    for target, unmet in blocks.items():
        print(f"  → {target.value}: {'blocked by' if unmet else 'ready'}")
        for u in unmet:
            print(f"      {u.rule}: {inline(u.detail)}")
            hint = hint_line(u.rule, incident.id)
            if hint is not None:
                print(f"        {inline(hint)}")
    if not blocks:
        print("  (none: the incident is closed)")
    print("Due:")
    for item in due:
        print(f"  {_due_line(item, options, with_incident=False)}")
    if not due:
        print("  (nothing)")
    return EXIT_OK


def _command(rule: str, incident_id: str) -> str | None:
    """What meets ``rule``, as ``--json`` gives it: the command or advice, without its label."""
    line = hint_line(rule, incident_id)
    return None if line is None else line.split(": ", 1)[1]


def _policy(incident: Incident) -> dict[str, Any]:
    """The policy an incident runs under: its name, digest, and whether its history records it.

    A history written before incidents recorded their policy runs under ``--policy``.
    """
    recorded = incident.recorded_policy
    if recorded is None:
        return {"name": incident.policy.name, "digest": incident.policy.digest, "recorded": False}
    return {"name": recorded.name, "digest": recorded.digest, "recorded": True}


_SKIP = {"schema", "type", "actor", "occurred_at", "recorded_at", "approximate"}


def timeline(options: Options) -> int:
    """Every event, one line each, in the order things happened."""
    with open_store(options.db, read_only=True, chain_key=options.chain_key) as store:
        events = store.events(options.args.incident)
    numbers = {id(e): n for n, e in enumerate(events, start=1)}
    ordered = sorted(events, key=lambda e: e.occurred_at)
    if options.json:
        emit([codec.to_dict(e) for e in ordered], options)
        return EXIT_OK
    numbered = getattr(options.args, "numbered", False)
    precursor = before_impact(events)
    for event in ordered:
        fields = {k: v for k, v in codec.to_dict(event).items() if k not in _SKIP}
        if "policy" in fields:  # a recorded policy's whole text is for machines: name, digest
            fields["policy"] = f"{fields['policy']['name']} {fields['policy']['digest']}"
        what = "  ".join(f"{k}={_show(v)}" for k, v in fields.items())
        late = ""
        if _minute(event.recorded_at) != _minute(event.occurred_at):
            late = f"  (recorded {shown(event.recorded_at, options)})"
        stamp = shown(event.occurred_at, options)
        number = f"#{numbers[id(event)]:<4} " if numbered else ""
        rough = "≈" if event.is_approximate() else ""
        if isinstance(event, Declared) and event.is_unknown():  # the latest it can have been
            rough = "by " + rough
        print(
            f"{number}{rough}{stamp}  {inline(event.actor):<10} {event.type:<22} {what}{late}"
            f"{precursor(event)}"
        )
    return EXIT_OK


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _show(value: Any) -> str:
    if isinstance(value, str):
        value = inline(value)
        return json.dumps(value, ensure_ascii=False) if (" " in value or not value) else value
    return json.dumps(value, ensure_ascii=False)


def list_incidents(options: Options) -> int:
    """The stored incidents, by declaration time, filtered."""
    state, priority, since, until = list_filters(options)
    states = list_states(options)
    with open_store(options.db, read_only=True, chain_key=options.chain_key) as store:
        found = store.incidents(state=state, priority=priority, since=since, until=until)
    if states is not None:
        found = [s for s in found if s.state in states]
    if options.json:
        emit(
            [
                {
                    "id": s.incident_id,
                    "title": s.title,
                    "priority": s.priority.value,
                    "state": s.state.value,
                    "began_at": iso(s.began_at),
                    "declared_at": iso(s.declared_at),
                    "updated_at": iso(s.updated_at),
                    "version": s.version,
                }
                for s in found
            ],
            options,
        )
        return EXIT_OK
    for s in found:
        print(
            f"{inline(s.incident_id):<12} {s.priority.value:<3} {s.state.value:<12} "
            f"{shown(s.declared_at, options)}  {inline(s.title)}"
        )
    if not found:
        print("no incidents")
    return EXIT_OK


def due(options: Options) -> int:
    """What is owed across every incident, overdue first.

    Closed incidents (post-mortem, dismissed) still owe their open action items and any
    manual change not yet reconciled.
    """
    moment = now(options)
    policy = options.policy
    items: list[Obligation] = []
    loaded: list[Incident] = []
    with open_store(options.db, read_only=True, chain_key=options.chain_key) as store:
        for summary in store.incidents():
            incident: Incident = store.load(summary.incident_id, policy=policy)
            loaded.append(incident)
            items.extend(incident.due(moment))
    note_policy(options, loaded)
    far = datetime.max.replace(tzinfo=UTC)
    items.sort(key=lambda o: (not o.overdue, o.due_at or far, o.incident_id, o.kind))
    if options.json:
        emit([_obligation(item) for item in items], options)
        return EXIT_OK
    for item in items:
        print(_due_line(item, options, with_incident=True))
    if not items:
        print("nothing is due")
    return EXIT_OK


def verify(options: Options) -> int:
    """Check chains, summaries, seals and an anchor; exit 5 listing each break.

    Whatever the outcome, it says what this mode (keyed or not, anchored or not) cannot see.
    """
    anchor = None if options.args.anchor is None else _read_anchor(options.args.anchor)
    with open_store(options.db, read_only=True, chain_key=options.chain_key) as store:
        audit = store.audit(options.args.incident, anchor=anchor)
    if options.json:
        document = {
            "ok": audit.ok,
            "breaks": [
                {"incident": b.incident_id, "version": b.version, "reason": b.reason}
                for b in audit.breaks
            ],
            "checked": audit.checked,
            "keyed": audit.keyed,
            "anchored": audit.anchored,
            "undetectable": list(audit.undetectable),
        }
        if audit.ok:
            emit(document, options)
            return EXIT_OK
        print(json.dumps(document, ensure_ascii=False), file=sys.stderr)
        return EXIT_STORE
    mode = "keyed chain" if audit.keyed else "unkeyed chain"
    if audit.anchored:
        mode += ", against the anchor"
    limits = [f"  - {line}" for line in audit.undetectable]
    if audit.ok:
        print(f"chain ok: {plural(audit.checked, 'incident')} checked ({mode})")
        print("not detectable in this mode:", *limits, sep="\n")
        return EXIT_OK
    print("not detectable in this mode:", *limits, sep="\n", file=sys.stderr)
    raise Failure(
        EXIT_STORE,
        "Tampered",
        f"the store was changed behind its back in {plural(len(audit.breaks), 'incident')} "
        f"({mode})",
        [(f"{inline(b.incident_id)} event {b.version}", b.reason) for b in audit.breaks],
    )


def _read_anchor(path: str) -> Anchor:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Failure(EXIT_BAD_INPUT, "OSError", f"cannot read the anchor {path}: {exc}") from exc
    return Anchor.loads(text)


def anchor(options: Options) -> int:
    """Write every incident's head to a checkpoint file (or stdout), to keep elsewhere."""
    with open_store(options.db, read_only=True, chain_key=options.chain_key) as store:
        taken = store.anchor(at=options.at)
    text = taken.dumps()
    output = options.args.output
    if output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise Failure(EXIT_BAD_INPUT, "OSError", f"cannot write {output}: {exc}") from exc
    keyed = " (authenticated with the chain key)" if taken.keyed else ""
    print(f"Anchored {plural(len(taken.heads), 'incident')} to {output}{keyed}")
    return EXIT_OK


def diagram(options: Options) -> int:
    """The lifecycle as a Mermaid state diagram (with ``--json``, inside a JSON document)."""
    if options.json:
        emit({"format": "mermaid", "diagram": mermaid()}, options)
        return EXIT_OK
    sys.stdout.write(mermaid())
    return EXIT_OK


HANDLERS: dict[str, Callable[[Options], int]] = {
    "status": status,
    "timeline": timeline,
    "list": list_incidents,
    "due": due,
    "verify": verify,
    "anchor": anchor,
    "diagram": diagram,
    "export": _files.export,
    "import": _files.import_,
    "validate": _files.validate,
    "demo": _files.demo,
}
"""Handler name → the function that runs it."""
