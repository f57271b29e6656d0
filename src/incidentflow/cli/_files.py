"""The commands that move histories in and out: export, import, validate, and the demo."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from incidentflow import codec
from incidentflow._admission import admit
from incidentflow.documents._markup import inline
from incidentflow.errors import DecodeError, InvalidInput, ReplayError
from incidentflow.events import Declared, Event
from incidentflow.incident import Incident
from incidentflow.policy import Policy
from incidentflow.store import open_store

from ._main import (
    EXIT_BAD_INPUT,
    EXIT_CONFLICT,
    EXIT_OK,
    EXIT_STORE,
    Failure,
    Options,
    emit,
    plural,
)

__all__ = ["demo", "export", "import_", "validate"]

Numbered = list[tuple[int, Event]]
"""Events with the 1-based line each was read from."""

Owned = list[tuple[int, str | None, Event]]
"""Events with their line and the incident the line names (None on a line without one)."""


def export(options: Options) -> int:
    """Write the events of the given incidents (default: all) as JSON Lines."""
    args = options.args
    with open_store(options.db, read_only=True, chain_key=options.chain_key) as store:
        ids = list(args.incidents) or [s.incident_id for s in store.incidents()]
        histories = [store.events(incident_id) for incident_id in ids]
    text = "".join(
        codec.dump_lines(events, incident_id=incident_id)
        for incident_id, events in zip(ids, histories, strict=True)
    )
    count = sum(len(events) for events in histories)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise Failure(EXIT_BAD_INPUT, "OSError", f"cannot write {args.output}: {exc}") from exc
    print(f"Wrote {plural(count, 'event')} of {plural(len(ids), 'incident')} to {args.output}")
    return EXIT_OK


def _read(source: str) -> Owned:
    """The events of a JSON Lines file (``-`` for stdin), strictly, with their line numbers.

    Every event must be one the store would accept now (see ``_admission``): names that are
    identities in NFC, times in the supported range, no stamp from the future.
    """
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise Failure(EXIT_BAD_INPUT, "OSError", f"cannot read {source}: {exc}") from exc
    owned: Owned = []
    moment = datetime.now(UTC)
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            owner, event = codec.loads_line(line)
            admit(event, now=moment)
        except InvalidInput as exc:
            raise DecodeError(f"line {number}: {exc}") from exc
        owned.append((number, owner, event))
    return owned


def _group(owned: Owned) -> list[tuple[str, Numbered]]:
    """Split a history into incidents.

    Lines that name their incident go to it, wherever they are (a global-order dump
    interleaves incidents); each must follow its incident's declaration.  Lines that do not
    (older exports) go to the incident declared last before them.  A file does one or the
    other: the first line that is not a declaration decides which.
    """
    groups: dict[str, Numbered] = {}
    last = "?"
    first: tuple[int, bool] | None = None  # the first non-declaration: its line, named or not
    for number, owner, event in owned:
        if isinstance(event, Declared):
            last = event.incident_id
            if last in groups:
                _declared_twice(last, groups[last][0][0], number)
            groups[last] = [(number, event)]
            continue
        if first is None:
            first = (number, owner is not None)
        elif first[1] != (owner is not None):
            said = f"names incident {owner!r}" if owner is not None else "names no incident"
            raise DecodeError(
                f"line {number}: {said}, unlike line {first[0]}: "
                "every line of a file names its incident, or none does"
            )
        if owner is not None and owner not in groups:
            raise DecodeError(
                f"line {number}: the event belongs to incident {owner!r}, "
                "which no line before it declares"
            )
        groups.setdefault(last if owner is None else owner, []).append((number, event))
    return list(groups.items())


def _declared_twice(incident_id: str, first: int, line: int) -> NoReturn:
    raise Failure(
        EXIT_STORE,
        "ReplayError",
        f"line {line} (incident {incident_id}, event 1): declared_once: "
        f"{incident_id} is already declared on line {first}",
        [("declared_once", f"{incident_id} is declared twice")],
        list_unmet=False,
    )


def _split(error: ReplayError) -> list[tuple[str, str]]:
    if error.unmet:
        return [(u.rule, u.detail) for u in error.unmet]
    return [(", ".join(error.rules), error.detail)]


def _check(groups: Iterable[tuple[str, Numbered]], policy: Policy) -> list[tuple[str, Incident]]:
    """Replay every incident; the first rule broken is exit 5 naming its line and index."""
    replayed: list[tuple[str, Incident]] = []
    for incident_id, numbered in groups:
        try:
            incident = Incident.replay([event for _, event in numbered], policy=policy)
        except ReplayError as exc:
            line = numbered[exc.index][0]
            where = f"line {line} (incident {incident_id}, event {exc.version})"
            broken = _split(exc)
            raise Failure(
                EXIT_STORE,
                "ReplayError",
                "\n".join(f"{where}: {rule}: {detail}" for rule, detail in broken),
                broken,
                list_unmet=False,
            ) from exc
        replayed.append((incident_id, incident))
    return replayed


def validate(options: Options) -> int:
    """Replay a JSON Lines history and report the first rule it breaks; write nothing.

    The runbook's step 1 is "validate the problem": ``validate INC-7 ...`` where INC-7 is no
    file is pointed to ``confirm``, which does that.
    """
    args = options.args
    if args.rest and not _incident_like(args.file):
        raise Failure(
            EXIT_BAD_INPUT,
            "InvalidInput",
            f"validate takes one FILE; unexpected: {' '.join(inline(r) for r in args.rest)}",
        )
    if args.file != "-" and _incident_like(args.file):
        raise Failure(
            EXIT_BAD_INPUT,
            "InvalidInput",
            f"validate checks a JSON Lines file, and {args.file!r} is none; to validate "
            "the problem (runbook step 1), run: "
            f'incidentflow confirm {inline(args.file)} "<evidence>"',
        )
    numbered = _read(args.file)
    replayed = _check(_group(numbered), options.policy)
    if options.json:
        emit({"ok": True, "events": len(numbered), "incidents": len(replayed)}, options)
    else:
        print(f"ok: {plural(len(numbered), 'event')}, {plural(len(replayed), 'incident')}")
    return EXIT_OK


def _incident_like(name: str) -> bool:
    """Whether ``name`` reads as an incident id rather than a file: no such file, no suffix."""
    path = Path(name)
    return not path.exists() and not path.suffix and "/" not in name and "\\" not in name


def import_(options: Options) -> int:
    """Check a whole JSON Lines file against the rules and the store, then store it."""
    numbered = _read(options.args.file)
    replayed = _check(_group(numbered), options.policy)
    with open_store(options.db, chain_key=options.chain_key) as store:
        existing = [incident_id for incident_id, _ in replayed if store.version(incident_id)]
        if existing:
            raise Failure(
                EXIT_CONFLICT,
                "Conflict",
                f"already in the store, nothing imported: {', '.join(existing)}",
            )
        # One transaction for the whole file: a writer racing us on any id writes nothing.
        store.append_many(
            [(incident_id, list(incident.history), 0) for incident_id, incident in replayed],
            policy=options.policy,
        )
    ids = [incident_id for incident_id, _ in replayed]
    if options.json:
        emit({"imported": ids, "events": len(numbered)}, options)
    else:
        names = ", ".join(inline(i) for i in ids)
        print(
            f"imported {plural(len(numbered), 'event')} of {plural(len(ids), 'incident')}: {names}"
        )
    return EXIT_OK


def demo(options: Options) -> int:
    """Narrate the scripted P1, then save it to ``--db`` or to a throwaway store."""
    from incidentflow.demo import run_demo

    args = options.args
    incident = run_demo()
    if args.events is not None:
        try:
            Path(args.events).write_text(codec.dump_lines(incident.history), encoding="utf-8")
        except OSError as exc:
            raise Failure(EXIT_BAD_INPUT, "OSError", f"cannot write {args.events}: {exc}") from exc
        print(f"Wrote {plural(incident.version, 'event')} to {args.events}")
    if options.db is not None:
        with open_store(options.db, chain_key=options.chain_key) as store:
            store.append(incident.id, list(incident.history), expected_version=0)
        print(f"Saved {inline(incident.id)} to {options.db}")
        return EXIT_OK
    with (
        tempfile.TemporaryDirectory(prefix="incidentflow-demo-") as directory,
        open_store(Path(directory) / "demo.db") as store,
    ):
        store.append(incident.id, list(incident.history), expected_version=0)
    print(f"Saved {inline(incident.id)} to a throwaway store (give --db PATH to keep it)")
    return EXIT_OK
