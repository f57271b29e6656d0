"""The mutation runner (tools/mutate.py): the mutants it makes and how it scores them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "mutate.py"

TINY = '''"""A tiny rule module."""

LIMITS = {"adult": 18, "senior": 65}


def is_adult(age, seen):
    """Whether ``age`` is an adult's; notes the age."""
    if age < 0 or not seen:
        raise ValueError(age)
    seen.append(age)
    return age >= LIMITS["adult"] and True


def known(kind):
    return kind in ("adult", "senior")
'''

# What the runner must make of TINY: (line, operator, original, mutated), in source order.
EXPECTED = [
    (3, "drop entry", '"adult": 18', "(entry dropped)"),
    (3, "constant + 1", "18", "19"),
    (3, "constant - 1", "18", "17"),
    (3, "drop entry", '"senior": 65', "(entry dropped)"),
    (3, "constant + 1", "65", "66"),
    (3, "constant - 1", "65", "64"),
    (8, "negate condition", "age < 0 or not seen", "not (age < 0 or not seen)"),
    (8, "or -> and", "age < 0 or not seen", "((age < 0) and (not seen))"),
    (8, "< -> <=", "age < 0", "((age) <= (0))"),
    (8, "< -> >=", "age < 0", "((age) >= (0))"),
    (8, "constant + 1", "0", "1"),
    (8, "constant - 1", "0", "-1"),
    (8, "drop not", "not seen", "(seen)"),
    (9, "drop raise", "raise ValueError(age)", "(dropped)"),
    (10, "drop append", "seen.append(age)", "(dropped)"),
    (11, "drop return", 'return age >= LIMITS["adult"] and True', "(dropped)"),
    (11, "and -> or", 'age >= LIMITS["adult"] and True', '((age >= LIMITS["adult"]) or (True))'),
    (11, ">= -> <", 'age >= LIMITS["adult"]', '((age) < (LIMITS["adult"]))'),
    (11, ">= -> >", 'age >= LIMITS["adult"]', '((age) > (LIMITS["adult"]))'),
    (11, "flip constant", "True", "False"),
    (15, "drop return", 'return kind in ("adult", "senior")', "(dropped)"),
    (15, "in -> not in", 'kind in ("adult", "senior")', '((kind) not in (("adult", "senior")))'),
    (15, "drop entry", '"adult"', "(entry dropped)"),
    (15, "drop entry", '"senior"', "(entry dropped)"),
]

# Pins age 18 but never a negative age: "< -> <=" on ``age < 0`` survives, "drop raise" too.
TINY_TESTS = '''from tinyrules.rules import is_adult


def test_adults_from_eighteen():
    """18 is adult, 17 is not, and every age asked is noted."""
    seen = [0]
    assert (True, False) == (is_adult(18, seen), is_adult(17, seen))
    assert [0, 18, 17] == seen
'''


@pytest.fixture(scope="module")
def mutate() -> ModuleType:
    """The runner, imported from its file (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location("mutate", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutate"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A package ``tinyrules`` with one module ``rules`` (TINY) and its test, under tmp_path."""
    package = tmp_path / "src" / "tinyrules"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "rules.py").write_text(TINY, encoding="utf-8")
    (tmp_path / "test_rules.py").write_text(TINY_TESTS, encoding="utf-8")
    return package


def test_the_runner_makes_each_operators_mutants(mutate: ModuleType, tiny: Path) -> None:
    """Every operator applies where it should, and nowhere in docstrings; each mutant parses."""
    found = mutate.mutants_of(tiny / "rules.py", module="rules", shown_as="rules.py")
    actual = [(m.line, m.operator, m.original, m.mutated) for m in found]
    assert sorted(EXPECTED) == sorted(actual)


def test_a_mutant_is_applied_to_its_span_only(mutate: ModuleType, tiny: Path) -> None:
    """A flipped comparison changes that comparison and leaves the rest of the source alone."""
    found = mutate.mutants_of(tiny / "rules.py", module="rules", shown_as="rules.py")
    [flip] = [m for m in found if m.operator == "< -> <="]
    expected = TINY.replace("if age < 0 or", "if ((age) <= (0)) or")
    assert expected == flip.apply(TINY)
    assert "rules:is_adult:< -> <=:age < 0 -> ((age) <= (0))" == flip.key


def test_the_runner_scores_killed_and_surviving_mutants(
    mutate: ModuleType, tiny: Path, tmp_path: Path
) -> None:
    """Against a copy of the package: a mutant the test catches is killed, one it misses survives.

    The source itself is never changed.
    """
    found = mutate.mutants_of(tiny / "rules.py", module="rules", shown_as="rules.py")
    chosen = [m for m in found if m.operator in {"< -> <=", ">= -> >"}]
    score = mutate.run_module(
        "rules",
        chosen,
        package=tiny,
        tests=["test_rules.py"],
        root=tmp_path,
        seed=0,
        timeout=120,
        total=len(found),
        equivalent=0,
        echo=False,
    )
    outcomes = {r.mutant.operator: r.outcome for r in score.results}
    assert {"< -> <=": "survived", ">= -> >": "killed"} == outcomes
    assert TINY == (tiny / "rules.py").read_text(encoding="utf-8")
    lines = list(mutate.report([score]))
    assert "rules: 1/2 killed, 50.0% (sample of 2 of 24); 0 equivalent allowed;" in lines[1]
    assert ["rules.py:8: < -> <=", "    original: age < 0", "    mutated:  ((age) <= (0))"] == (
        lines[4:7]
    )


def test_the_allow_list_is_read_with_its_reasons(mutate: ModuleType, tmp_path: Path) -> None:
    """Each allow-list entry names a mutant by its key and gives the reason it is equivalent."""
    path = tmp_path / "equivalents.toml"
    path.write_text(
        '[[equivalent]]\nmutant = "rules:is_adult:flip constant:True -> False"\n'
        'reason = "x and True is x for a bool"\n',
        encoding="utf-8",
    )
    expected = {"rules:is_adult:flip constant:True -> False": "x and True is x for a bool"}
    assert expected == mutate.load_equivalents(path)


def test_every_entry_of_the_projects_allow_list_names_a_mutant(mutate: ModuleType) -> None:
    """The reviewed allow-list names only mutants the runner makes today, each with a reason."""
    equivalents = mutate.load_equivalents(mutate.EQUIVALENTS)
    known = {
        m.key
        for module in mutate.TARGETS
        for m in mutate.mutants_of(
            mutate.ROOT / "src" / "incidentflow" / f"{module}.py", module=module, shown_as=module
        )
    }
    assert set() == set(equivalents) - known
    assert all(reason.strip() for reason in equivalents.values())


def test_the_contributing_guide_names_the_tests_run_for_each_module(mutate: ModuleType) -> None:
    """The guide's table of targets is the runner's: each module with its tests, in order."""
    guide = (mutate.ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")
    table = guide.split("### What it targets", 1)[1].split("\n\n")[2]
    names = {"the stateful model": "test_incident_stateful", "the exploration": "test_exploration"}
    found = {}
    for row in table.splitlines()[2:]:
        module, tests = (cell.strip() for cell in row.strip("|").split("|"))
        found[module.strip("`")] = tuple(
            f"tests/{names.get(t, t.strip('`'))}.py" for t in tests.split(", ")
        )
    assert mutate.TARGETS == found
    assert all((mutate.ROOT / t).is_file() for tests in found.values() for t in tests)


def test_since_keeps_the_mutants_of_changed_code(mutate: ModuleType, tmp_path: Path) -> None:
    """A changed function keeps all its mutants, an unchanged one none; a table only its new."""
    after = TINY.replace('{"adult": 18, "senior": 65}', '{"adult": 18, "senior": 65, "child": 1}')
    after = after.replace('("adult", "senior")', '("adult", "senior", "child")')
    after = after.replace('"""Whether ``age``', '\n    """Whether ``age``')  # layout only
    path = tmp_path / "rules.py"
    path.write_text(after, encoding="utf-8")
    every = mutate.mutants_of(path, module="rules", shown_as="rules.py")
    kept = mutate.changed_since(every, after, TINY, module="rules")
    expected = {
        ("", "drop entry", '"child": 1'),
        ("", "constant + 1", "1"),
        ("", "constant - 1", "1"),
        *((m.scope, m.operator, m.original) for m in every if m.scope == "known"),
    }
    assert expected == {(m.scope, m.operator, m.original) for m in kept}
    assert 8 == len(kept)
    assert every == mutate.changed_since(every, after, None, module="rules")
