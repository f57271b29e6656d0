"""The hints: every rule the policy can report names what meets it, in code and on the CLI."""

from __future__ import annotations

import argparse
import shlex

import pytest

from incidentflow import Unmet
from incidentflow.cli._parser import build_parser
from incidentflow.hints import COMMAND_NAMES, HINTS, Hint
from incidentflow.policy import COMMANDS, RULES


def test_every_rule_has_a_hint() -> None:
    """A rule the policy can report without a hint fails here: add it to HINTS."""
    assert [] == sorted(set(RULES) - set(HINTS))


def test_every_hint_is_for_a_rule() -> None:
    """No hint outlives its rule."""
    assert [] == sorted(set(HINTS) - set(RULES))


def test_every_hint_says_something_in_both_places() -> None:
    """Each hint has a library method (or advice) and a command (or advice), never blank."""
    assert [] == [rule for rule, h in HINTS.items() if not (h.method.strip() and h.command)]


def test_unmet_carries_the_library_method() -> None:
    """``Unmet.hint`` names the method; a rule nobody knows has an empty hint."""
    assert ("Incident.validate(evidence)", "") == (
        Unmet("validated", "the problem has not been validated").hint,
        Unmet("made_up", "?").hint,
    )


def test_unmet_equality_ignores_nothing_new() -> None:
    """The hint is derived from the rule, so two Unmet with the same rule and detail are equal."""
    assert Unmet("validated", "x") == Unmet("validated", "x")


def _parses(words: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(words)


@pytest.mark.parametrize("rule", sorted(h for h in HINTS if HINTS[h].runnable))
def test_every_runnable_hint_is_a_command_the_parser_accepts(rule: str) -> None:
    """A ``run:`` hint, filled in, parses as the command it names (before any aside)."""
    command = HINTS[rule].command.format(incident="INC-7").split(" (")[0]
    words = shlex.split(command)
    assert "incidentflow" == words[0]
    args = _parses(words[1:])
    assert "INC-7" == args.incident


def test_advice_is_not_printed_as_a_command() -> None:
    """Advice (no command meets the rule) is not ``runnable``."""
    assert (True, False) == (
        Hint("m", "incidentflow status {incident}").runnable,
        HINTS["not_in_future"].runnable,
    )


def test_every_library_command_has_its_cli_name() -> None:
    """Each command of the authorization table maps to the CLI command that issues it."""
    assert sorted(COMMANDS) == sorted(COMMAND_NAMES)


@pytest.mark.parametrize("command", sorted(COMMAND_NAMES))
def test_every_cli_name_is_a_real_command(command: str) -> None:
    """The CLI name is one the parser knows: its help parses (exit 0)."""
    with pytest.raises(SystemExit) as exited:
        _parses([*COMMAND_NAMES[command].split(), "--help"])
    assert 0 == exited.value.code
