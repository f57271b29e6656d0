"""Public postmortems replayed: every published duration is reproduced, or the table says why."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "postmortems"
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
TOLERANCE = 60  # seconds: "within one minute"


def _load(path: Path) -> ModuleType:
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"postmortem_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODULES = {path.stem: _load(path) for path in SCRIPTS}
sheet_module = sys.modules["_sheet"]


@pytest.fixture(scope="module", params=sorted(MODULES), ids=sorted(MODULES))
def example(request: pytest.FixtureRequest) -> ModuleType:
    """One postmortem's example script."""
    module: ModuleType = MODULES[request.param]
    return module


def _published(module: ModuleType) -> Iterator[Any]:
    yield from module.SHEET.published


# -- the fact sheets -------------------------------------------------------------------------


def test_at_least_five_postmortems_are_recorded() -> None:
    """The acceptance asks for five public postmortems at least."""
    assert len(MODULES) >= 5


def test_every_example_has_its_own_fact_sheet(example: ModuleType) -> None:
    """Each script reads the sheet named like itself (dashes for underscores)."""
    assert example.SHEET.path.stem == Path(example.__file__).stem.replace("_", "-")
    assert example.SHEET.id == example.SHEET.path.stem


def test_every_source_is_cited_in_the_script_header(example: ModuleType) -> None:
    """The script's docstring cites every source URL of its sheet, and the URLs are https."""
    for source in example.SHEET.sources:
        assert source["url"].startswith("https://")
        assert source["url"] in (example.__doc__ or "")


def test_every_time_in_a_sheet_parses(example: ModuleType) -> None:
    """Each time is an aware UTC datetime; '~' and bare dates are approximate."""
    for name in example.SHEET.data["times"]:
        value = example.SHEET.at(name)
        assert value.utcoffset() is not None
        raw = example.SHEET.data["times"][name]
        assert (raw.startswith("~") or len(raw) == 10) == example.SHEET.approximate(name)


def test_parse_reads_approximate_and_date_only_times() -> None:
    """'~' marks an approximate time; a bare date is that day's midnight, approximate."""
    from datetime import UTC, datetime

    parse = sheet_module.parse
    assert (datetime(2017, 1, 31, 23, 0, tzinfo=UTC), True) == parse("~2017-01-31T23:00:00Z")
    assert (datetime(2021, 5, 12, tzinfo=UTC), True) == parse("2021-05-12")
    assert (datetime(2021, 6, 8, 9, 47, tzinfo=UTC), False) == parse("2021-06-08T09:47:00Z")


def test_every_published_duration_has_a_measure_or_a_reason(example: ModuleType) -> None:
    """A published duration names the measure that reproduces it, or says why none can."""
    for published in _published(example):
        assert published.measure is not None or published.unreproducible, published.quote
        assert published.seconds > 0


def test_sheet_quotes_name_the_duration_they_give() -> None:
    """A quoted duration holds a number (the quote is what the source says, in short)."""
    for module in MODULES.values():
        for published in module.SHEET.published:
            assert re.search(r"\d", published.quote), published.quote
