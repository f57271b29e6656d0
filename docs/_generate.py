"""Regenerate the sections of the docs that are drawn from the code.

Each generated section sits between two marker comments::

    <!-- BEGIN GENERATED: name -->
    ...
    <!-- END GENERATED: name -->

Run ``python docs/_generate.py`` from the repository root to rewrite them in place;
``tests/test_docs.py`` fails whenever a section differs from what the code produces now.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path

from incidentflow import DEFAULT_POLICY, Priority, State, lifecycle
from incidentflow.policy import COMMAND_STATE_REASONS, COMMAND_STATES, COMMANDS, GUARDS, RULES

DOCS = Path(__file__).resolve().parent


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    header = tuple(header)
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def _code(names: Iterable[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) or "—"


def _duration(value: timedelta) -> str:
    seconds, out = int(value.total_seconds()), ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        out += f"{count}{unit}" if count else ""
    return out or "0s"


def lifecycle_table() -> str:
    """Every edge of the lifecycle with its guards."""
    return lifecycle.markdown_table() + "\n"


def lifecycle_diagram() -> str:
    """The lifecycle as a Mermaid state diagram, drawn by transitions."""
    return "```mermaid\n" + lifecycle.mermaid() + "```\n"


def rules() -> str:
    """Every named rule, and the edges whose guard it is."""
    guarded = {
        name: [e.trigger for e in lifecycle.EDGES.values() if name in e.guards] for name in GUARDS
    }
    rows = ((f"`{name}`", _code(guarded.get(name, ())), meaning) for name, meaning in RULES.items())
    return _table(("rule", "guard of", "meaning"), rows)


def priorities() -> str:
    """What the default policy asks of each priority."""
    rows = []
    for priority in Priority:
        r = DEFAULT_POLICY.rules_for(priority)
        rows.append(
            (
                f"{priority.value} ({priority.title})",
                _code(sorted(k.value for k in r.required_links)),
                _code(sorted(role.value for role in r.required_roles)),
                f"`{_duration(r.update_every)}`",
                "yes" if r.customer_verification else "no",
                _code(sorted(role.value for role in r.invite_roles)),
                f"`{_duration(r.post_mortem_within)}`",
            )
        )
    header = (
        "priority",
        "required_links",
        "required_roles",
        "update_every",
        "customer_verification",
        "invite_roles",
        "post_mortem_within",
    )
    return _table(header, rows)


def authorization() -> str:
    """Who may issue each command under the default policy."""
    rows = []
    for command in COMMANDS:
        allowed = DEFAULT_POLICY.allowed_roles(command)
        who = "anyone" if allowed is None else _code(sorted(r.value for r in allowed))
        rows.append((f"`{command}`", who))
    return _table(("command", "allowed roles"), rows)


def command_states() -> str:
    """The states in which each non-move command may be issued, and the runbook's reason."""
    rows = (
        (
            f"`{command}`",
            ", ".join(s.value for s in State if s in states),
            COMMAND_STATE_REASONS[command],
        )
        for command, states in COMMAND_STATES.items()
    )
    return _table(("command", "allowed while", "why"), rows)


def _postmortems() -> list[tuple[object, object]]:
    """Each postmortem example's fact sheet and the incident it records, in file order."""
    import importlib.util

    folder = DOCS.parent / "examples" / "postmortems"
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    found = []
    for path in sorted(folder.glob("[!_]*.py")):
        spec = importlib.util.spec_from_file_location(f"postmortem_{path.stem}", path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found.append((module.SHEET, module.record()))
    return found


def postmortems() -> str:
    """Every duration the recorded postmortems publish, beside what the measures compute."""
    recorded = _postmortems()
    from _sheet import computed, duration  # examples/postmortems, now on the path

    rows = []
    for sheet, incident in recorded:
        source = sheet.sources[0]
        name = f"{sheet.organisation}, {sheet.at('onset').date().isoformat()}"
        link = f"[{source['title']}]({source['url']})"
        published = sheet.published
        if not published:
            figure = incident.measures().values["impact_duration"]
            rows.append(
                (
                    name,
                    link,
                    "none (times only)",
                    "—",
                    f"`impact_duration` {duration(figure.total_seconds())}" if figure else "—",
                    "the postmortem publishes clock times, not durations",
                )
            )
        for p in published:
            cited = next(s for s in sheet.sources if p.source in (None, s["key"]))
            value = None if p.measure is None else computed(p.measure, incident)
            rows.append(
                (
                    name,
                    f"[{cited['title']}]({cited['url']})",
                    f"{duration(p.seconds)}: \u201c{p.quote}\u201d",
                    f"`{p.measure}`" if p.measure else "—",
                    "—" if value is None else duration(value),
                    " ".join(p.unreproducible.split()) if p.unreproducible else "reproduced",
                )
            )
    return _table(
        ("postmortem", "source", "published duration", "measure", "computed", "result"),
        rows,
    )


SECTIONS: dict[str, dict[str, Callable[[], str]]] = {
    "concepts.md": {
        "lifecycle-table": lifecycle_table,
        "lifecycle-diagram": lifecycle_diagram,
    },
    "postmortems.md": {"postmortems": postmortems},
    "policy.md": {
        "rules": rules,
        "priorities": priorities,
        "authorization": authorization,
        "command-states": command_states,
    },
}
"""For each file under ``docs/``, the generated sections it holds and their generators."""


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- BEGIN GENERATED: {re.escape(name)} -->\n)(.*?)(<!-- END GENERATED: "
        rf"{re.escape(name)} -->)",
        re.DOTALL,
    )


def section(text: str, name: str) -> str:
    """The current body of section ``name`` in ``text``; ``KeyError`` when it is missing."""
    found = _pattern(name).search(text)
    if found is None:
        raise KeyError(f"no generated section {name!r}")
    return found.group(2)


def render(filename: str, text: str) -> str:
    """``text`` (the contents of ``docs/filename``) with every generated section redrawn."""
    for name, generate in SECTIONS[filename].items():
        found = _pattern(name).search(text)
        if found is None:
            raise KeyError(f"docs/{filename} has no generated section {name!r}")
        text = text[: found.start(2)] + generate() + text[found.end(2) :]
    return text


def main() -> int:
    """Rewrite every generated section in place; print the files that changed."""
    for filename in SECTIONS:
        path = DOCS / filename
        old = path.read_text(encoding="utf-8")
        new = render(filename, old)
        if new != old:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote {path.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
