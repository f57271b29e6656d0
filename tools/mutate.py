"""Mutation testing of the rule modules: are the rules proven by the tests, or only sampled.

One mutant at a time, each made by one small change to one module's source (a flipped
comparison, ``and``/``or`` swapped, a negated condition, a dropped ``raise``, ``return``,
``yield`` or ``append``, a dropped entry of a table, a constant off by one), is written into a
temporary copy of the package, which is put first on ``PYTHONPATH`` for a pytest run of the
module's fast test selection (``-x``, a fixed Hypothesis seed, a timeout).  A mutant is
*killed* when that run fails (or times out), and *survives* when it passes.  ``src/`` is never
written to.

    python tools/mutate.py                      # every rule module
    python tools/mutate.py --module obligations # one module
    python tools/mutate.py --sample 40 --seed 1 # 40 mutants drawn per module
    python tools/mutate.py --list               # the mutants, without running them
    python tools/mutate.py --since v1.2         # only code changed since a git revision

Equivalent mutants (no test can tell them from the original) are listed with the reason for
each in ``tools/mutation-equivalents.toml``; they are subtracted before scoring.  The output is
the score per module and every survivor as ``file:line``, the operator, the original code and
the mutated code.  The exit status is 1 when a mutant survives, 2 when the unmutated code fails
its own test selection.

Standard library only; run it with the project's virtual environment's Python.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "incidentflow"
EQUIVALENTS = ROOT / "tools" / "mutation-equivalents.toml"

# The rule modules and the tests that prove them, fastest first (``-x`` stops at the first
# failure, so most mutants die in the example tests before the slow searches start).
TARGETS: dict[str, tuple[str, ...]] = {
    "lifecycle": (
        "tests/test_lifecycle.py",
        "tests/test_policy.py",
        "tests/test_incident.py",
        "tests/test_incident_stateful.py",
        "tests/test_exploration.py",
    ),
    "policy": (
        "tests/test_policy.py",
        "tests/test_policy_staffing.py",
        "tests/test_policy_quick.py",
        "tests/test_policy_recorded.py",
        "tests/test_policy_reality.py",
        "tests/test_corrections.py",
        "tests/test_impact.py",
        "tests/test_incident.py",
        "tests/test_obligations.py",
        "tests/test_incident_stateful.py",
        "tests/test_exploration.py",
    ),
    "obligations": (
        "tests/test_obligations.py",
        "tests/test_incident.py",
        "tests/test_incident_stateful.py",
    ),
    "corrections": (
        "tests/test_corrections.py",
        "tests/test_impact.py",
        "tests/test_policy_reality.py",
        "tests/test_policy.py",
        "tests/test_incident_stateful.py",
    ),
    "_fold": (
        "tests/test_fold.py",
        "tests/test_incident.py",
        "tests/test_corrections.py",
        "tests/test_impact.py",
        "tests/test_policy_reality.py",
        "tests/test_policy.py",
        "tests/test_policy_recorded.py",
        "tests/test_incident_stateful.py",
        "tests/test_exploration.py",
    ),
    "_admission": (
        "tests/test_admission.py",
        "tests/test_commands.py",
        "tests/test_identities.py",
        "tests/test_clock.py",
        "tests/test_store.py",
        "tests/test_incident.py",
    ),
    "identities": (
        "tests/test_identities.py",
        "tests/test_store.py",
        "tests/test_incident.py",
    ),
}

_FLIPS: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Lt: (ast.LtE, ast.GtE),
    ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE),
    ast.GtE: (ast.Gt, ast.Lt),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
_SYMBOLS: dict[type[ast.cmpop], str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}
_APPENDS = frozenset({"append", "extend", "add", "update", "appendleft", "insert"})


@dataclass(frozen=True)
class Mutant:
    """One change to one module: the span of source replaced, and what replaces it."""

    module: str
    path: str  # relative to the repository, for file:line
    line: int
    scope: str  # the enclosing function or class, dotted; "" at module level
    operator: str
    start: int  # character offsets into the module's source
    end: int
    replacement: str
    original: str  # what a reader sees changed
    mutated: str
    occurrence: int = 1  # the n-th mutant with this key in its scope, in source order

    @property
    def key(self) -> str:
        """How the allow-list names it: ``module:scope:operator:original -> mutated``.

        No line number, so an entry outlives edits elsewhere in the module; where the same
        change can be made twice in one scope, the second is marked ``#2``, and so on.
        """
        key = (
            f"{self.module}:{self.scope}:{self.operator}:{_one_line(self.original)} -> "
            f"{_one_line(self.mutated)}"
        )
        return key if self.occurrence == 1 else f"{key} #{self.occurrence}"

    def apply(self, source: str) -> str:
        """The module's source with this mutant in it."""
        return source[: self.start] + self.replacement + source[self.end :]


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Finder(ast.NodeVisitor):
    """Collects the mutants of one module's syntax tree."""

    def __init__(self, module: str, path: str, source: str) -> None:
        self.module, self.path, self.source = module, path, source
        self.lines = _lines(source)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))
        self.scope: list[str] = []
        self.found: list[Mutant] = []

    # -- helpers ---------------------------------------------------------------------------

    def span(self, node: ast.AST) -> tuple[int, int]:
        line, col = node.lineno, node.col_offset  # type: ignore[attr-defined]
        end_line, end_col = node.end_lineno, node.end_col_offset  # type: ignore[attr-defined]
        return (
            self.starts[line - 1] + _chars(self.lines[line - 1], col),
            self.starts[end_line - 1] + _chars(self.lines[end_line - 1], end_col),
        )

    def text(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.source[start:end]

    def add(
        self,
        node: ast.AST,
        operator: str,
        replacement: str,
        *,
        original: str | None = None,
        mutated: str | None = None,
        at: ast.AST | None = None,
    ) -> None:
        start, end = self.span(node)
        self.found.append(
            Mutant(
                module=self.module,
                path=self.path,
                line=(at or node).lineno,  # type: ignore[attr-defined]
                scope=".".join(self.scope),
                operator=operator,
                start=start,
                end=end,
                replacement=replacement,
                original=original if original is not None else self.source[start:end],
                mutated=mutated if mutated is not None else replacement,
            )
        )

    # -- what is never mutated -------------------------------------------------------------

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        """f-strings: messages, whose inner positions Python 3.11 does not report exactly."""

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)

    def visit_arguments(self, node: ast.arguments) -> None:
        for default in (*node.defaults, *node.kw_defaults):
            if default is not None:
                self.visit(default)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.visit(node.args)
        self.scope.append(node.name)
        self.body(node.body)
        self.scope.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.scope.append(node.name)
        self.body(node.body)
        self.scope.pop()

    def body(self, statements: Sequence[ast.stmt]) -> None:
        for i, statement in enumerate(statements):
            docstring = (
                i == 0
                and isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            )
            if not docstring:
                self.visit(statement)

    def visit_Module(self, node: ast.Module) -> None:
        self.body(node.body)

    def visit_Assign(self, node: ast.Assign) -> None:
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return
        self.generic_visit(node)

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return
        self.negate(node.test)
        self.generic_visit(node)

    # -- operators -------------------------------------------------------------------------

    def negate(self, test: ast.expr) -> None:
        """A negated condition (``not`` added, or an existing ``not`` taken away)."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return  # the dropped ``not`` below makes the same mutant
        self.add(test, "negate condition", f"not ({self.text(test)})")

    def visit_While(self, node: ast.While) -> None:
        self.negate(node.test)
        self.generic_visit(node)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.negate(node.test)
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        for condition in node.ifs:
            self.negate(condition)
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self.add(node, "drop not", f"({self.text(node.operand)})")
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        other = " or " if isinstance(node.op, ast.And) else " and "
        operator = "and -> or" if isinstance(node.op, ast.And) else "or -> and"
        parts = [f"({self.text(v)})" for v in node.values]
        self.add(node, operator, "(" + other.join(parts) + ")")
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        operands = [node.left, *node.comparators]
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn) and isinstance(right, ast.Tuple | ast.List):
                brackets = ("(", ")") if isinstance(right, ast.Tuple) else ("[", "]")
                self.drop_elements(right, *brackets, empty="()")
        for i, op in enumerate(node.ops):
            for flipped in _FLIPS.get(type(op), ()):
                pieces = [f"({self.text(operands[0])})"]
                for j, (o, right) in enumerate(zip(node.ops, operands[1:], strict=True)):
                    symbol = _SYMBOLS[flipped if j == i else type(o)]
                    pieces.append(f" {symbol} ({self.text(right)})")
                self.add(
                    node,
                    f"{_SYMBOLS[type(op)]} -> {_SYMBOLS[flipped]}",
                    "(" + "".join(pieces) + ")",
                )
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool):
            self.add(node, "flip constant", repr(not value))
        elif isinstance(value, int):
            hexadecimal = self.text(node).lower().startswith("0x")
            for operator, changed in (("constant + 1", value + 1), ("constant - 1", value - 1)):
                shown = f"0x{changed:04X}" if hexadecimal and changed >= 0 else repr(changed)
                self.add(node, operator, shown)

    def drop(self, node: ast.stmt, operator: str) -> None:
        self.add(node, operator, "pass", mutated="(dropped)")

    def visit_Raise(self, node: ast.Raise) -> None:
        self.drop(node, "drop raise")
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        self.drop(node, "drop return")
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        value = node.value
        if isinstance(value, ast.Yield | ast.YieldFrom):
            self.drop(node, "drop yield")
        elif (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr in _APPENDS
        ):
            self.drop(node, f"drop {value.func.attr}")
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        entries = list(zip(node.keys, node.values, strict=True))
        for i, (key, value) in enumerate(entries):
            kept = [
                (f"{self.text(k)}: " if k is not None else "**") + f"({self.text(v)})"
                for j, (k, v) in enumerate(entries)
                if j != i
            ]
            shown = (f"{self.text(key)}: " if key is not None else "**") + self.text(value)
            self.add(
                node,
                "drop entry",
                "{" + ", ".join(kept) + "}",
                original=shown,
                mutated="(entry dropped)",
                at=key or value,
            )
        self.generic_visit(node)

    def visit_Set(self, node: ast.Set) -> None:
        self.drop_elements(node, "{", "}", empty="set()")
        self.generic_visit(node)

    def drop_elements(
        self, node: ast.Set | ast.Tuple | ast.List, opening: str, closing: str, *, empty: str
    ) -> None:
        """Each element of a set, or of a collection a membership test reads, dropped."""
        for i, element in enumerate(node.elts):
            kept = [_wrapped(self.text(e), e) for j, e in enumerate(node.elts) if j != i]
            if not kept:
                replacement = empty
            elif len(kept) == 1 and opening == "(":
                replacement = f"({kept[0]},)"
            else:
                replacement = opening + ", ".join(kept) + closing
            self.add(
                node,
                "drop entry",
                replacement,
                original=self.text(element),
                mutated="(entry dropped)",
                at=element,
            )


def _wrapped(text: str, node: ast.expr) -> str:
    """``text`` in parentheses, unless it is starred (``*items`` cannot be parenthesized)."""
    return text if isinstance(node, ast.Starred) else f"({text})"


def _lines(source: str) -> list[str]:
    """The lines of ``source`` as the parser counts them (ends kept)."""
    return re.split(r"(?<=\n)", source)


def _chars(line: str, byte_offset: int) -> int:
    """The character offset within ``line`` of ast's UTF-8 byte offset."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8"))


def mutants_of(path: Path, *, module: str, shown_as: str) -> list[Mutant]:
    """Every mutant of the module at ``path``, in source order, without duplicates."""
    source = path.read_text(encoding="utf-8")
    finder = _Finder(module, shown_as, source)
    finder.visit(ast.parse(source))
    unique: dict[tuple[int, int, str], Mutant] = {}
    for m in finder.found:
        unique.setdefault((m.start, m.end, m.replacement), m)
    found = sorted(unique.values(), key=lambda m: (m.line, m.start, m.end, m.operator))
    seen: dict[str, int] = {}
    for i, m in enumerate(found):
        seen[m.key] = seen.get(m.key, 0) + 1
        if seen[m.key] > 1:
            found[i] = replace(m, occurrence=seen[m.key])
    for m in found:
        ast.parse(m.apply(source))  # every mutant is valid Python, or the finder is wrong
    return found


def _scope_sources(source: str) -> dict[str, str]:
    """Each scope's own code (``""`` for the module), nested functions and classes left out."""
    found: dict[str, str] = {}

    def own(node: ast.AST) -> str:
        root = copy.deepcopy(node)

        class Hollow(ast.NodeTransformer):
            def visit(self, inner: ast.AST) -> ast.AST:
                if inner is not root and _is_scope(inner):
                    return ast.Pass()
                return self.generic_visit(inner)

        return ast.dump(Hollow().visit(root))

    def walk(node: ast.AST, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_scope(child):
                inner = [*scope, child.name]  # type: ignore[attr-defined]
                found[".".join(inner)] = own(child)
                walk(child, inner)
            else:
                walk(child, scope)

    tree = ast.parse(source)
    found[""] = own(tree)
    walk(tree, [])
    return found


def _is_scope(node: ast.AST) -> bool:
    return isinstance(node, ast.FunctionDef | ast.ClassDef)  # the scopes the finder names


def changed_since(
    every: Sequence[Mutant], source: str, before: str | None, *, module: str
) -> list[Mutant]:
    """The mutants of ``every`` in code changed since ``before`` (the module's older source).

    A function or class counts as changed when its own code changed (its nested functions
    and classes are scopes of their own), and all its mutants are kept; at module level,
    where tables are, only the mutants that ``before`` did not have.  With no older source
    (a new module), every mutant is kept.
    """
    if before is None:
        return list(every)
    old, new = _scope_sources(before), _scope_sources(source)
    changed = {scope for scope, code in new.items() if scope and old.get(scope) != code}
    with tempfile.TemporaryDirectory(prefix="mutate-") as scratch:
        path = Path(scratch) / f"{module}.py"
        path.write_text(before, encoding="utf-8")
        known = {m.key for m in mutants_of(path, module=module, shown_as=module)}
    return [m for m in every if m.scope in changed or (not m.scope and m.key not in known)]


def _source_at(revision: str, path: Path, root: Path) -> str | None:
    """The file at ``path`` as it was at git ``revision``, or None if it did not exist."""
    relative = path.relative_to(root).as_posix()
    done = subprocess.run(
        ["git", "show", f"{revision}:{relative}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        return done.stdout
    check = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if check.returncode != 0:
        raise SystemExit(f"--since: not a git revision: {revision}")
    return None


# -- running ------------------------------------------------------------------------------------


@dataclass
class Result:
    """What became of one mutant."""

    mutant: Mutant
    outcome: str  # "killed", "timeout" or "survived"
    seconds: float


@dataclass
class Score:
    """One module's tally."""

    module: str
    total: int
    equivalent: int
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def killed(self) -> int:
        return sum(r.outcome != "survived" for r in self.results)

    @property
    def survivors(self) -> list[Result]:
        return [r for r in self.results if r.outcome == "survived"]

    def line(self) -> str:
        run = len(self.results)
        percent = f"{100 * self.killed / run:.1f}%" if run else "n/a"
        sample = (
            f" (sample of {run} of {self.total - self.equivalent})"
            if run < (self.total - self.equivalent)
            else ""
        )
        return (
            f"{self.module}: {self.killed}/{run} killed, {percent}{sample}; "
            f"{self.equivalent} equivalent allowed; {self.seconds:.0f} s"
        )


def load_equivalents(path: Path) -> dict[str, str]:
    """The allow-list: each equivalent mutant's key with the reason it is equivalent."""
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for entry in data.get("equivalent", []):
        found[entry["mutant"]] = entry["reason"]
    return found


def _pytest(
    tests: Sequence[str], pythonpath: Path, *, seed: int, timeout: float, root: Path
) -> tuple[str, float]:
    """Run ``tests`` against the package copy under ``pythonpath``: passed, failed or timeout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(pythonpath), *filter(None, [env.get("PYTHONPATH", "")])]
    )
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # two mutants may share a size and an mtime second
    env.pop("CI", None)  # the quick Hypothesis profile
    command = [
        sys.executable,
        "-m",
        "pytest",
        *tests,
        "-x",
        "-q",
        "--no-header",
        "-p",
        "no:cacheprovider",
        "--no-cov",
        f"--hypothesis-seed={seed}",
    ]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=root, env=env, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - started
    return ("passed" if done.returncode == 0 else "failed"), time.monotonic() - started


def _copy_package(source: Path, into: Path) -> Path:
    copy = into / source.name
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def run_module(
    module: str,
    mutants: Sequence[Mutant],
    *,
    package: Path,
    tests: Sequence[str],
    root: Path,
    seed: int,
    timeout: float | None,
    total: int,
    equivalent: int,
    echo: bool = True,
) -> Score:
    """Run every mutant of ``module`` given, one at a time, against a copy of ``package``."""
    score = Score(module, total, equivalent)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutate-") as scratch:
        copy = _copy_package(package, Path(scratch))
        target = copy / f"{module}.py"
        original = target.read_text(encoding="utf-8")
        check = _pytest(tests, Path(scratch), seed=seed, timeout=3600, root=root)
        if check[0] != "passed":
            print(f"{module}: the unmutated code fails its own tests ({check[0]})", file=sys.stderr)
            raise SystemExit(2)
        limit = timeout if timeout is not None else max(60.0, 3 * check[1])
        if echo:
            print(
                f"{module}: {len(mutants)} mutants, baseline {check[1]:.0f} s, {limit:.0f} s each"
            )
        for n, mutant in enumerate(mutants, 1):
            target.write_text(mutant.apply(original), encoding="utf-8")
            try:
                status, seconds = _pytest(tests, Path(scratch), seed=seed, timeout=limit, root=root)
            finally:
                target.write_text(original, encoding="utf-8")
            outcome = {"passed": "survived", "failed": "killed"}.get(status, status)
            score.results.append(Result(mutant, outcome, seconds))
            if echo:
                mark = "SURVIVED" if outcome == "survived" else outcome
                print(
                    f"  [{n}/{len(mutants)}] {mark:8} {seconds:5.1f} s  "
                    f"{mutant.path}:{mutant.line} {mutant.operator}",
                    flush=True,
                )
    score.seconds = time.monotonic() - started
    return score


def report(scores: Sequence[Score]) -> Iterator[str]:
    """The scores per module, then every survivor with file:line, original and mutated code."""
    yield "== mutation scores =="
    for s in scores:
        yield s.line()
    survivors = [r for s in scores for r in s.survivors]
    if survivors:
        yield ""
        yield f"== {len(survivors)} survivors =="
    for r in survivors:
        m = r.mutant
        yield f"{m.path}:{m.line}: {m.operator}"
        yield f"    original: {_one_line(m.original)}"
        yield f"    mutated:  {_one_line(m.mutated)}"
        yield f"    allow-list key: {m.key}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--module",
        action="append",
        choices=sorted(TARGETS),
        help="a rule module to mutate (repeatable; default: all)",
    )
    parser.add_argument("--sample", type=int, help="run only N mutants drawn from each module")
    parser.add_argument("--seed", type=int, default=0, help="the seed drawing the sample")
    parser.add_argument("--hypothesis-seed", type=int, default=0, help="passed to pytest")
    parser.add_argument("--timeout", type=float, help="seconds per mutant (default: 3 x baseline)")
    parser.add_argument(
        "--match",
        action="append",
        metavar="TEXT",
        help="only the mutants whose allow-list key contains TEXT (repeatable)",
    )
    parser.add_argument(
        "--since",
        metavar="REV",
        help="only the mutants of code changed since git revision REV",
    )
    parser.add_argument("--list", action="store_true", help="list the mutants; run nothing")
    parser.add_argument(
        "--equivalents", type=Path, default=EQUIVALENTS, help="the allow-list of equivalents"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--package", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tests", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    root: Path = args.root.resolve()
    package: Path = (args.package or root / "src" / PACKAGE).resolve()
    equivalents = load_equivalents(args.equivalents)
    modules = args.module or [m for m in TARGETS if (package / f"{m}.py").exists()]
    scores: list[Score] = []
    for module in modules:
        path = package / f"{module}.py"
        shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        every = mutants_of(path, module=module, shown_as=shown)
        if args.since:
            every = changed_since(
                every,
                path.read_text(encoding="utf-8"),
                _source_at(args.since, path, root),
                module=module,
            )
        if args.match:
            every = [m for m in every if any(text in m.key for text in args.match)]
        kept = [m for m in every if m.key not in equivalents]
        chosen = kept
        if args.sample is not None and args.sample < len(kept):
            chosen = sorted(
                random.Random(f"{args.seed}:{module}").sample(kept, args.sample),
                key=lambda m: (m.line, m.start, m.end, m.operator),
            )
        if args.list:
            for m in every:
                mark = "equivalent " if m.key in equivalents else ""
                print(f"{m.path}:{m.line}: {mark}{m.key}")
            continue
        tests = args.tests or TARGETS[module]
        scores.append(
            run_module(
                module,
                chosen,
                package=package,
                tests=tests,
                root=root,
                seed=args.hypothesis_seed,
                timeout=args.timeout,
                total=len(every),
                equivalent=len(every) - len(kept),
            )
        )
    if args.list:
        return 0
    print()
    for line in report(scores):
        print(line)
    return 1 if any(s.survivors for s in scores) else 0


if __name__ == "__main__":
    sys.exit(main())
