"""Names a package imports on first use (PEP 562), so importing the package stays cheap.

A package sets ``__getattr__ = loader(__name__, SOURCES, globals())`` and
``__dir__ = listing(globals())``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["listing", "loader"]


def loader(
    package: str, sources: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__``: import ``name`` from its module in ``sources``, keep it.

    ``sources`` maps each public name to the module (relative to ``package``) it lives in; the
    name is stored in ``namespace`` (the package's globals) so the next lookup is direct.
    """

    def load(name: str) -> Any:
        source = sources.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source, package), name)
        namespace[name] = value
        return value

    return load


def listing(namespace: dict[str, Any]) -> Callable[[], list[str]]:
    """A module ``__dir__``: the names already loaded and every public one, sorted."""
    return lambda: sorted({*namespace, *namespace["__all__"]})
