"""Public postmortems replayed: every published duration is reproduced, or the table says why."""

from __future__ import annotations

import importlib.util
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
    assert example.__file__ is not None
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


# -- the replays -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded(example: ModuleType) -> Any:
    """The incident the example records."""
    return example.record()


def test_every_postmortem_replays_under_the_retrospective_policy(
    example: ModuleType, recorded: Any
) -> None:
    """The record is under the retrospective policy, and its history replays as it stands."""
    from incidentflow import Incident

    assert "retrospective" == recorded.policy.name
    assert recorded == Incident.replay(recorded.history)


def test_published_durations_are_reproduced_within_a_minute(
    example: ModuleType, recorded: Any
) -> None:
    """Every duration the postmortem publishes with a measure is that measure, give or take 60 s."""
    for published in example.SHEET.published:
        if published.measure is None or published.unreproducible:
            continue
        actual = sheet_module.computed(published.measure, recorded)
        assert actual is not None, published.quote
        assert abs(published.seconds - actual) <= TOLERANCE, published.quote


def test_unreproducible_durations_really_differ(example: ModuleType, recorded: Any) -> None:
    """A duration said to be unreproducible is not matched by its measure, when it names one."""
    for published in example.SHEET.published:
        if published.unreproducible and published.measure is not None:
            actual = sheet_module.computed(published.measure, recorded)
            assert actual is not None
            assert abs(published.seconds - actual) > TOLERANCE, published.quote


def test_no_one_is_invented(example: ModuleType, recorded: Any) -> None:
    """Every event is written by the organisation that published the postmortem; no roles."""
    assert {example.SHEET.organisation} == {event.actor for event in recorded.history}
    assert {} == dict(recorded.roles)
    assert {} == dict(recorded.links)


def test_milestones_are_the_sheets_times(example: ModuleType, recorded: Any) -> None:
    """Onset and detection are the sheet's times; a missing detection stays unknown."""
    sheet = example.SHEET
    assert sheet.at("onset") == recorded.began_at
    expected = sheet.at("detected") if sheet.has("detected") else None
    assert expected == recorded.detected_at


def test_impact_timeline_is_the_sheets(example: ModuleType, recorded: Any) -> None:
    """Each impact phase starts at the sheet's time, at the sheet's level, approximate or not."""
    sheet = example.SHEET
    assert [
        (sheet.at(phase["at"]), phase["level"], sheet.approximate(phase["at"]))
        for phase in sheet.impact
    ] == [(p.start, p.level.value, p.approximate) for p in recorded.impact_phases()]


def test_every_discrepancy_is_recorded(example: ModuleType, recorded: Any) -> None:
    """Each discrepancy in the sheet is a note of the incident."""
    notes = {note.text for note in recorded.notes}
    for text in example.SHEET.discrepancies:
        assert f"Discrepancy: {text}" in notes


def test_an_untimed_declaration_is_not_known(example: ModuleType, recorded: Any) -> None:
    """A declaration the source times is exact; otherwise its time is not known, no time is
    made up, and every measure that needs it is None."""
    sheet = example.SHEET
    figures = recorded.measures()
    if sheet.has("declared"):
        assert sheet.at("declared") == recorded.declared_at
        assert recorded.declared_at_known
        assert not recorded.declaration.is_approximate("occurred_at")
    else:
        assert not recorded.declared_at_known
        assert ("occurred_at",) == recorded.declaration.unknown
        assert not recorded.declaration.is_approximate("occurred_at")
        assert figures.values["time_to_declare"] is None


def test_an_untimed_declaration_is_bounded_by_the_first_response(
    example: ModuleType, recorded: Any
) -> None:
    """The bound of an unknown declaration is the earliest response the record times."""
    if example.SHEET.has("declared"):
        return
    responses = [
        e.occurred_at
        for e in recorded.history[1:]
        if e.type in ("validated", "update_posted", "state_changed")
    ]
    assert min(responses) == recorded.declared_at


def test_documents_say_an_untimed_declaration_is_not_known(recorded: Any) -> None:
    """The RCA's detection and summary say "not known (by ...)" and show no declaration time."""
    from datetime import UTC, datetime

    from incidentflow.documents import rca_document
    from incidentflow.documents._narrative import moment

    doc = rca_document(recorded, now=datetime(2026, 12, 2, tzinfo=UTC)).markdown()
    bound = moment(recorded.declared_at)
    said = f"not known (by {bound})" in doc
    assert said == (not recorded.declared_at_known)


def test_the_rca_tells_the_impact_and_marks_approximate_times(recorded: Any) -> None:
    """The RCA's summary is prose naming the impact's levels; approximate times carry '≈'."""
    from datetime import UTC, datetime

    from incidentflow.documents import rca_document

    doc = rca_document(recorded, now=datetime(2026, 12, 2, tzinfo=UTC))
    summary = doc.section("executive_summary").markdown()
    first = recorded.impact_phases()[0].level.value.replace("_", " ")
    assert first in summary
    rough = bool(recorded.declaration.approximate) or any(
        phase.approximate for phase in recorded.impact_phases()
    )
    assert rough == ("≈" in doc.section("problem_description").markdown())


def test_examples_print_published_beside_computed(example: ModuleType, recorded: Any) -> None:
    """report() shows each published quote and the measure that meets it."""
    text = sheet_module.report(example.SHEET, recorded)
    for published in example.SHEET.published:
        assert published.quote in text


# -- the helpers that use the corrections features where they exist --------------------------


class _Recording:
    """Stands in for an incident and keeps every call made to it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, args, kwargs))

        return call


def test_discrepancy_uses_the_discrepancy_kind_where_it_exists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a NoteKind in the library the note carries kind DISCREPANCY; the text is the same."""
    import enum

    class NoteKind(enum.Enum):
        NOTE = "note"
        DISCREPANCY = "discrepancy"

    monkeypatch.setattr(sheet_module.incidentflow, "NoteKind", NoteKind, raising=False)
    fake = _Recording()
    sheet_module.discrepancy(fake, "A says 1, B says 2.", actor="Org")
    assert [
        (
            "note",
            ("Discrepancy: A says 1, B says 2.",),
            {"actor": "Org", "kind": NoteKind.DISCREPANCY},
        )
    ] == fake.calls


def test_data_loss_and_irreversible_use_the_records_where_they_exist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A data-loss record with its window and amount; a change reconciled as irreversible."""
    import enum
    from datetime import UTC, datetime

    class Outcome(enum.Enum):
        IRREVERSIBLE = "irreversible"

    monkeypatch.setattr(sheet_module, "ChangeOutcome", Outcome)
    sheet = MODULES["gitlab_2017_01_31"].SHEET
    fake = _Recording()
    at = datetime(2017, 2, 1, 18, 14, tzinfo=UTC)
    sheet_module.data_loss(fake, sheet, actor="GitLab", at=at)
    assert sheet_module.irreversible(fake, "C1", actor="GitLab", at=at)
    assert [
        (
            "record_data_loss",
            (sheet.data_loss["what"],),
            {
                "window_start": datetime(2017, 1, 31, 17, 20, tzinfo=UTC),
                "window_end": datetime(2017, 1, 31, 23, 25, tzinfo=UTC),
                "amount": sheet.data_loss["how_much"],
                "actor": "GitLab",
                "at": at,
            },
        ),
        ("reconcile_change", ("C1", Outcome.IRREVERSIBLE), {"actor": "GitLab", "at": at}),
    ] == fake.calls


def test_github_2018_records_the_dropped_webhooks_as_a_data_loss() -> None:
    """About 200,000 webhook payloads dropped: what and how much, no window made up, so no
    window length is measured; the analysis's contradiction stays a discrepancy."""
    from incidentflow.metrics import data_loss_window

    incident = MODULES["github_2018_10_21"].record()
    (loss,) = incident.data_losses.values()
    assert (
        "webhook payloads that had outlived an internal TTL, dropped while the backlog was "
        "processed",
        "about 200,000 webhook payloads",
        None,
        None,
    ) == (loss.what, loss.amount, loss.window_start, loss.window_end)
    assert None is data_loss_window(incident)
    assert any("200,000 webhook payloads" in note.text for note in incident.discrepancies)


def test_a_loss_without_a_window_is_recorded_without_one() -> None:
    """The helper leaves a window the sheet does not give unknown, record or note alike."""
    from datetime import UTC, datetime

    sheet = MODULES["github_2018_10_21"].SHEET
    fake = _Recording()
    at = datetime(2018, 10, 22, 23, 3, tzinfo=UTC)
    sheet_module.data_loss(fake, sheet, actor="GitHub", at=at)
    assert [
        (
            "record_data_loss",
            (sheet.data_loss["what"],),
            {
                "window_start": None,
                "window_end": None,
                "amount": "about 200,000 webhook payloads",
                "actor": "GitHub",
                "at": at,
            },
        )
    ] == fake.calls

    class _NoRecords(_Recording):
        def __getattr__(self, name: str) -> Any:
            if name == "record_data_loss":
                raise AttributeError(name)
            return super().__getattr__(name)

    plain = _NoRecords()
    sheet_module.data_loss(plain, sheet, actor="GitHub", at=at)
    assert "written at times not known; about 200,000" in plain.calls[0][1][0]


def test_without_the_records_the_same_facts_are_notes() -> None:
    """Without a data-loss record, GitLab's loss is a note giving its window."""
    incident = MODULES["gitlab_2017_01_31"].record()
    if hasattr(incident, "data_losses"):
        assert 1 == len(incident.data_losses)
    else:
        texts = [note.text for note in incident.notes]
        assert any(t.startswith("Data loss:") and "17:20 and 23:25 UTC" in t for t in texts)
