"""The public API surface: what the package exports, how it is documented, what it imports."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import incidentflow

PACKAGE_DIR = Path(incidentflow.__file__).parent
PUBLIC_MODULES = sorted(
    m.name for m in pkgutil.iter_modules(incidentflow.__path__) if not m.name.startswith("_")
)


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"incidentflow.{name}")


def _own_doc(obj: Any) -> str:
    """The object's own docstring, not one inherited from a base class."""
    if inspect.isclass(obj):
        doc = vars(obj).get("__doc__")
        return "" if doc in (None, "An enumeration.") else str(doc).strip()
    return (getattr(obj, "__doc__", None) or "").strip()


def _attribute_docstrings(module: ModuleType) -> dict[str, str]:
    """Module-level names assigned in the module's source, with the string literal after each."""
    body = ast.parse(inspect.getsource(module)).body
    found: dict[str, str] = {}
    for node, following in zip(body, [*body[1:], None], strict=True):
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        else:
            continue
        doc = ""
        if (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            doc = following.value.value.strip()
        found.update(dict.fromkeys(names, doc))
    return found


# -- incidentflow.__all__ ----------------------------------------------------------------


def test_all_is_sorted() -> None:
    """incidentflow.__all__ is in plain sorted() order."""
    assert sorted(incidentflow.__all__) == incidentflow.__all__


def test_all_has_no_duplicates() -> None:
    """No name is exported twice."""
    assert len(set(incidentflow.__all__)) == len(incidentflow.__all__)


def test_all_is_complete() -> None:
    """Every public, non-module name in the package namespace is in __all__ (and vice versa).

    Names load on first use, so every exported name is fetched first.
    """
    for name in incidentflow.__all__:
        getattr(incidentflow, name)
    members = {
        name
        for name, value in vars(incidentflow).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert members == set(incidentflow.__all__)


def test_star_import_gives_every_name() -> None:
    """`from incidentflow import *` binds every name in __all__ to the package's object."""
    namespace: dict[str, Any] = {}
    exec("from incidentflow import *", namespace)
    assert {n: getattr(incidentflow, n) for n in incidentflow.__all__} == {
        n: namespace[n] for n in incidentflow.__all__
    }


@pytest.mark.parametrize("name", incidentflow.__all__)
def test_export_is_defined_in_the_package(name: str) -> None:
    """Each export is importable and defined by incidentflow, not re-exported from a dependency."""
    obj = getattr(incidentflow, name)
    module = getattr(obj, "__module__", None) or type(obj).__module__
    assert module.startswith("incidentflow.")


@pytest.mark.parametrize("name", incidentflow.__all__)
def test_export_has_a_docstring(name: str) -> None:
    """Every exported class and function has its own docstring; a constant's type has one."""
    obj = getattr(incidentflow, name)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        assert _own_doc(obj) != ""
    else:
        assert _own_doc(type(obj)) != ""
        assert type(obj).__module__.startswith("incidentflow.")


@pytest.mark.parametrize(
    "name", [n for n in incidentflow.__all__ if inspect.isclass(getattr(incidentflow, n))]
)
def test_exported_class_members_have_docstrings(name: str) -> None:
    """Every public method and property of an exported class (including mixins) is documented."""
    undocumented = []
    for klass in getattr(incidentflow, name).__mro__:
        if not klass.__module__.startswith("incidentflow"):
            continue
        for attr, member in vars(klass).items():
            if attr.startswith("_"):
                continue
            target = member.fget if isinstance(member, property) else member
            target = getattr(target, "__func__", target)
            if inspect.isfunction(target) and not _own_doc(target):
                undocumented.append(f"{klass.__name__}.{attr}")
    assert [] == undocumented


def test_constants_have_attribute_docstrings() -> None:
    """Exported constants (like DEFAULT_POLICY) have a docstring right after their assignment."""
    missing = []
    for name in incidentflow.__all__:
        obj = getattr(incidentflow, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            continue
        homes = [m for m in PUBLIC_MODULES if getattr(_module(m), name, None) is obj]
        docs = [_attribute_docstrings(_module(m)).get(name, "") for m in homes]
        if not any(docs):
            missing.append(name)
    assert [] == missing


# -- every public module -----------------------------------------------------------------


def test_public_modules_are_found() -> None:
    """The scan sees the package's public modules (so the tests below cover something)."""
    expected = {"clock", "codec", "errors", "events", "incident", "lifecycle", "policy"}
    assert expected <= set(PUBLIC_MODULES)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_public_module_has_docstring_and_all(name: str) -> None:
    """Every public module has a module docstring and an explicit __all__ of real names."""
    module = _module(name)
    assert _own_doc(module) != ""
    exported = module.__all__
    assert len(set(exported)) == len(exported)
    assert [] == [n for n in exported if not hasattr(module, n)]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_public_module_exports_are_documented(name: str) -> None:
    """Every class and function a public module exports is documented, and so is each constant."""
    module = _module(name)
    constants = _attribute_docstrings(module)
    undocumented = []
    for export in module.__all__:
        obj = getattr(module, export)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if not _own_doc(obj):
                undocumented.append(export)
        elif export in constants and not constants[export]:
            undocumented.append(export)
    assert [] == undocumented


def test_package_is_typed() -> None:
    """py.typed ships with the package, so type checkers read its annotations."""
    assert (PACKAGE_DIR / "py.typed").is_file()


# -- a light import ----------------------------------------------------------------------

HEAVY = [
    "hypothesis",
    "sqlite3",
    "transitions.extensions.diagrams",
    "argparse",
    "incidentflow.testing",
    "incidentflow.cli",
    "incidentflow.demo",
]


def _imported_after(statement: str) -> list[str]:
    script = textwrap.dedent(
        f"""
        import json, sys
        {statement}
        print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def test_core_import_is_light() -> None:
    """`import incidentflow` loads no test, storage, diagram or command-line machinery."""
    assert [] == _imported_after("import incidentflow")


def test_light_import_check_can_see_heavy_modules() -> None:
    """The subprocess check does notice a heavy module when one is imported."""
    assert ["argparse", "incidentflow.cli"] == _imported_after("import incidentflow.cli")


def test_every_exported_name_has_a_source_module() -> None:
    """The lazy-import table and __all__ name the same things."""
    assert set(incidentflow.__all__) == set(incidentflow._SOURCES)


def test_importing_the_package_loads_nothing_until_a_name_is_used() -> None:
    """`import incidentflow` alone loads neither transitions nor attrs (the CLI starts fast)."""
    code = (
        "import sys, incidentflow; "
        "print(sorted(m for m in ('transitions', 'attrs', 'incidentflow.incident') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "[]" == result.stdout.strip()


def test_dir_lists_every_exported_name_before_it_is_loaded() -> None:
    """dir(incidentflow) offers every exported name, loaded or not (for completion)."""
    assert set(incidentflow.__all__) <= set(dir(incidentflow))
