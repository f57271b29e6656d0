"""The docs cannot drift: generated sections match the code, examples run, the README is honest.

The Markdown pages themselves are doctested by pytest (``--doctest-glob=*.md``); this module
checks what doctests cannot: the generated tables and the example chat bot.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from incidentflow import Incident, ManualClock, State, lifecycle

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REGENERATE = "run `python docs/_generate.py` from the repository root to regenerate it"


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _load(DOCS / "_generate.py", "incidentflow_docs_generate")
chat_bot = _load(ROOT / "examples" / "chat_bot.py", "incidentflow_example_chat_bot")

SECTIONS = [(f, name) for f, names in generate.SECTIONS.items() for name in names]


# -- generated sections ----------------------------------------------------------------------


@pytest.mark.parametrize(("filename", "name"), SECTIONS, ids=[f"{f}:{n}" for f, n in SECTIONS])
def test_generated_section_is_current(filename: str, name: str) -> None:
    """Each generated section of the docs holds exactly what the code produces now."""
    text = (DOCS / filename).read_text(encoding="utf-8")
    expected = generate.SECTIONS[filename][name]()
    actual = generate.section(text, name)
    assert expected == actual, f"docs/{filename} section {name!r} is stale; {REGENERATE}"


def test_lifecycle_sections_are_the_library_output() -> None:
    """concepts.md shows markdown_table() and mermaid() verbatim, the diagram in a mermaid fence."""
    text = (DOCS / "concepts.md").read_text(encoding="utf-8")
    assert lifecycle.markdown_table() + "\n" == generate.section(text, "lifecycle-table")
    diagram = "```mermaid\n" + lifecycle.mermaid() + "```\n"
    assert diagram == generate.section(text, "lifecycle-diagram"), REGENERATE


def test_generated_tables_name_every_rule_and_command() -> None:
    """The policy page's tables have a row for every rule and every command the code knows."""
    from incidentflow.policy import COMMAND_STATES, COMMANDS, RULES

    text = (DOCS / "policy.md").read_text(encoding="utf-8")
    for name, keys in (
        ("rules", RULES),
        ("authorization", COMMANDS),
        ("command-states", COMMAND_STATES),
    ):
        rows = re.findall(r"^\| `(\w+)` \|", generate.section(text, name), re.MULTILINE)
        assert list(keys) == rows


def test_render_redraws_a_stale_section() -> None:
    """render() replaces a stale section body and leaves the rest of the page alone."""
    text = (DOCS / "policy.md").read_text(encoding="utf-8")
    stale = text.replace(generate.section(text, "priorities"), "| out of date |\n")
    assert stale != text
    assert text == generate.render("policy.md", stale)


def test_render_refuses_a_page_without_its_markers() -> None:
    """A page that lost a section's markers is an error, not silently skipped."""
    with pytest.raises(KeyError, match="lifecycle-diagram"):
        generate.render(
            "concepts.md",
            "<!-- BEGIN GENERATED: lifecycle-table -->\n<!-- END GENERATED: lifecycle-table -->\n",
        )


def test_index_links_every_page() -> None:
    """docs/index.md links every Markdown page under docs/."""
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([\w.-]+\.md)\)", index))
    pages = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    unlinked: set[str] = set()
    assert unlinked == pages - linked


def _slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_relative_links_resolve() -> None:
    """Every relative link in the README and the docs names an existing file (and heading)."""
    broken = []
    for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"<?[a-z]+://", target):  # <https://…> is a Markdown autolink
                continue
            path, _, fragment = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {target}")
            elif fragment and linked.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.M)
                if fragment not in {_slug(h) for h in headings}:
                    broken.append(f"{page.name}: {target}")
    expected: list[str] = []
    assert expected == broken


# -- command-line transcripts ----------------------------------------------------------------

TRANSCRIPT = re.compile(r"<!-- transcript: (.*?) -->\n```console\n(.*?)```", re.DOTALL)


def _transcripts() -> list[tuple[str, str]]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        found += [(page.name, block) for _, block in TRANSCRIPT.findall(text)]
    return found


def _steps(block: str) -> list[tuple[str, list[str]]]:
    """Each ``$ command`` of a console block with the lines it is shown to print."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


@pytest.mark.parametrize(("page", "block"), _transcripts(), ids=lambda v: str(v)[:20])
def test_marked_transcripts_print_what_they_show(
    page: str, block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A transcript marked in the docs, run against the demo store, prints every line shown."""
    from incidentflow.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INCIDENTFLOW_DB", str(tmp_path / "incidents.db"))
    monkeypatch.setenv("INCIDENTFLOW_ACTOR", "ana")
    assert 0 == main(["demo", "--db", "incidents.db"])
    capsys.readouterr()
    for command, shown in _steps(block):
        words, _, head = command.partition(" | head -")
        argv = shlex.split(words)
        assert "incidentflow" == argv[0], (page, command)
        assert 0 == main(argv[1:]), (page, command)
        printed = capsys.readouterr().out.splitlines()
        assert shown == (printed[: int(head)] if head else printed), (page, command)


# -- the example chat bot --------------------------------------------------------------------


@pytest.fixture
def bot(clock: ManualClock) -> Any:
    """A chat bot on the test clock."""
    return chat_bot.ChatBot(clock=clock)


def _staffed(bot: Any) -> None:
    """Declare a P1 and meet every rule for mitigation, by chat."""
    for user, text in [
        ("ana", "/incident declare P1 Database is down"),
        ("ana", "/incident assign lead ana"),
        ("ana", "/incident assign incident_commander bo"),
        ("ana", "/incident assign communicator cy"),
        ("ana", "/incident assign recorder di"),
        ("bo", "/incident validate primary refuses connections"),
        ("ana", "/incident link ticket https://tickets.example.com/IM-1"),
        ("ana", "/incident link war_room https://chat.example.com/war"),
        ("ana", "/incident link announcement https://chat.example.com/outage"),
    ]:
        bot.handle(user, text)


def test_chat_bot_drives_a_p1_to_yellow(bot: Any) -> None:
    """Chat messages alone take a P1 from declared to yellow, announcing each move."""
    _staffed(bot)
    replies = [
        bot.handle("cy", "/incident update Database outage, next update in 30 minutes"),
        bot.handle("ana", "/incident mitigate Restarting the primary"),
        bot.handle("bo", "/incident recovered error rate at baseline"),
        bot.handle("ana", "/incident yellow Service restored"),
    ]
    expected_replies = ["Noted.", "Done: INC-1 is mitigating.", "Noted.", "Done: INC-1 is yellow."]
    expected_channel = [
        "[INC-1] update from cy: Database outage, next update in 30 minutes",
        "[INC-1] now mitigating: Restarting the primary",
        "[INC-1] now yellow: Service restored",
    ]
    expected = (expected_replies, State.YELLOW, expected_channel)
    assert expected == (replies, bot.incident.state, bot.channel)


def test_chat_bot_explains_a_blocked_move_before_acting(bot: Any) -> None:
    """A move with unmet guards is answered with every unmet rule, and nothing is recorded."""
    bot.handle("ana", "/incident declare P1 Database is down")
    reply = bot.handle("ana", "/incident mitigate")
    expected = (
        "Can't mitigate:\n"
        "- validated: the problem has not been validated\n"
        "- required_links: missing announcement, ticket, war_room\n"
        "- required_roles: no communicator, incident_commander, lead, recorder"
    )
    assert (expected, 1, []) == (reply, bot.incident.version, bot.channel)


def test_chat_bot_explains_an_unauthorized_move(bot: Any) -> None:
    """A move by someone without the role is answered with the authorization rule."""
    _staffed(bot)
    reply = bot.handle("cy", "/incident mitigate")
    expected = (
        "Can't mitigate:\n- authorized: cy must hold incident_commander or lead to mitigate",
        State.DECLARED,
    )
    assert expected == (reply, bot.incident.state)


def test_chat_bot_lists_what_the_user_may_do_instead(bot: Any) -> None:
    """A command the user may not issue is answered with the commands they may issue."""
    _staffed(bot)
    expected = "You can't update now. You can: link, note."
    assert expected == bot.handle("di", "/incident update x")


def test_chat_bot_relays_a_record_rule_refusal(bot: Any) -> None:
    """A refusal about the arguments (a second Lead) is answered with its rule and detail."""
    _staffed(bot)
    expected = "Can't assign:\n- single_holder: lead is held by ana; hand it off instead"
    assert expected == bot.handle("ana", "/incident assign lead zed")


@pytest.mark.parametrize(
    ("declared", "text", "expected"),
    [
        (False, "/incident declare P9 Oops", "Sorry, 'P9' is not one of: P0, P1, P2, P3"),
        (False, "/incident status", "No incident here yet: /incident declare <P0-P3> <title>"),
        (
            True,
            "/incident assign chief zed",
            "Sorry, 'chief' is not one of: communicator, recorder, lead, incident_commander",
        ),
        (True, "/incident note", "Sorry, NoteAdded.text must be a non-blank string, not ''"),
        (True, "/incident fly", f"Unknown command 'fly'. {chat_bot.HELP}"),
        (True, "hello", chat_bot.HELP),
        (True, "/incident green", "Can't announce_green while declared."),
    ],
)
def test_chat_bot_answers_bad_input_politely(
    bot: Any, declared: bool, text: str, expected: str
) -> None:
    """Unknown priorities, roles and verbs, empty text and impossible moves get a reply."""
    if declared:
        bot.handle("ana", "/incident declare P2 Checkout is slow")
    assert expected == bot.handle("ana", text)


def test_chat_bot_reminds_of_overdue_updates(bot: Any, clock: ManualClock) -> None:
    """`due` lists the stakeholder update as overdue once the P1 cadence has passed."""
    _staffed(bot)
    clock.advance(minutes=31)
    expected = (
        "Owed:\n- update stakeholders every 30 minutes, even with no progress by 14:30 "
        "(OVERDUE) [cy, bo]"
    )
    assert expected == bot.handle("ana", "/incident due")


def test_chat_bot_state_survives_save_and_restore(bot: Any, clock: ManualClock) -> None:
    """A restored bot holds an incident equal to the saved one and can carry on."""
    _staffed(bot)
    restored = chat_bot.ChatBot.restore(bot.save(), clock=clock)
    assert isinstance(restored.incident, Incident)
    assert bot.incident == restored.incident
    reply = restored.handle("ana", "/incident mitigate go")
    expected = ("Done: INC-1 is mitigating.", ["[INC-1] now mitigating: go"])
    assert expected == (reply, restored.channel)


def test_chat_bot_runs_as_a_script() -> None:
    """`python examples/chat_bot.py` answers chat lines read from stdin."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "chat_bot.py")],
        input="ana: /incident declare P3 Docs are stale\nana: /incident dismiss not an outage\n",
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    expected = (
        "Declared INC-1 (P3): Docs are stale\n"
        "Done: INC-1 is dismissed.\n"
        "# [INC-1] now dismissed: not an outage\n"
    )
    assert (0, expected) == (result.returncode, result.stdout), result.stderr
