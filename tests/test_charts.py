"""Charts: one incident's timeline, and time to resolution by priority, as SVG or PNG."""

from __future__ import annotations

import io
import itertools
import re
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import matplotlib
import matplotlib.image
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.typing import RcKeyType

from incidentflow import (
    ChangeOutcome,
    Incident,
    InvalidInput,
    LinkKind,
    ManualClock,
    MissingExtra,
    Policy,
    Priority,
    Role,
    State,
    Verdict,
    charts,
)
from incidentflow.charts import STATE_COLORS, VERDICT_COLORS, resolution_chart, timeline_chart
from incidentflow.demo import run_demo
from incidentflow.documents._markup import inline
from incidentflow.metrics import Measure, state_intervals
from incidentflow.testing import incidents, texts

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)
DEMO = run_demo(write=lambda line: None)
HOSTILE = "$x^2$ <script>alert('&')</script> & $$"


# -- helpers ---------------------------------------------------------------------------------


def svg(data: bytes) -> ET.Element:
    """The SVG file parsed as XML (which fails on anything that is not well-formed)."""
    return ET.fromstring(data)


def groups(root: ET.Element) -> dict[str, ET.Element]:
    """Every element with an id, by id."""
    return {g.attrib["id"]: g for g in root.iter() if "id" in g.attrib}


def ids(root: ET.Element, pattern: str) -> list[str]:
    """The ids that match ``pattern`` in full, in document order."""
    return [i for i in groups(root) if re.fullmatch(pattern, i)]


def texts_of(element: ET.Element) -> list[str]:
    """The content of each <text> element under ``element``, in order."""
    return ["".join(t.itertext()) for t in element.iter(f"{SVG}text")]


def style(element: ET.Element) -> str:
    """The style of the shape drawn under ``element``: its marker if it has one, else its path."""
    uses = list(element.iter(f"{SVG}use"))
    shape = uses[0] if uses else next(element.iter(f"{SVG}path"))
    return shape.attrib["style"]


def xs(element: ET.Element) -> list[float]:
    """The x coordinates of the first path's points under ``element``, in pixels."""
    path = next(element.iter(f"{SVG}path"))
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.attrib["d"])]
    return numbers[0::2]


def marker_y(element: ET.Element) -> float:
    """The y position, in pixels from the top, of the single marker under ``element``."""
    return float(next(element.iter(f"{SVG}use")).attrib["y"])


def staffed(
    clock: ManualClock,
    priority: Priority = Priority.P1,
    *,
    number: int = 1,
    title: str = "Checkout is slow",
) -> Incident:
    """An incident under the permissive policy, validated, linked and mitigating."""
    incident = Incident.declare(
        f"INC-{number}", title, priority, actor="ana", clock=clock, policy=Policy.permissive()
    )
    incident.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana")
    incident.validate("p99 above 2s", actor="ana")
    incident.link(LinkKind.TICKET, "https://tickets.example.com/IM-1", actor="ana")
    incident.mitigate("on it", actor="ana")
    return incident


def resolved(number: int, priority: Priority, hours: float) -> Incident:
    """An incident declared at 14:00 and announced green ``hours`` later."""
    clock = ManualClock(START)
    incident = staffed(clock, priority, number=number)
    clock.advance(hours=hours)
    incident.verify_recovery("p99 back under 300ms", actor="ana")
    incident.announce_yellow("resolved", actor="ana")
    incident.verify_customer("Acme", "checkout is fast again", actor="ana")
    incident.announce_green("all clear", actor="ana")
    return incident


# -- the timeline ----------------------------------------------------------------------------


def test_timeline_draws_one_band_per_state_interval() -> None:
    """The demo's six states each get a band, numbered within their state, in order."""
    root = svg(timeline_chart(DEMO, now=LATER))
    expected = [
        "state-declared-0",
        "state-mitigating-0",
        "state-yellow-0",
        "state-green-0",
        "state-reported-0",
        "state-post_mortem-0",
    ]
    assert expected == ids(root, r"state-.*")
    assert len(state_intervals(DEMO, now=LATER)) == len(expected)


def test_timeline_numbers_repeated_states_within_the_state() -> None:
    """A reopened incident's second mitigating stretch is state-mitigating-1."""
    clock = ManualClock(START)
    incident = staffed(clock)
    clock.advance(minutes=20)
    incident.verify_recovery("fine", actor="ana")
    incident.announce_yellow("resolved", actor="ana")
    clock.advance(minutes=10)
    incident.reopen("it is back", actor="ana")
    root = svg(timeline_chart(incident, now=clock.advance(minutes=5)))
    expected = ["state-declared-0", "state-mitigating-0", "state-yellow-0", "state-mitigating-1"]
    assert expected == ids(root, r"state-.*")


def test_timeline_colours_bands_by_state() -> None:
    """Each band is filled with its state's colour; the zero-length post_mortem is a line."""
    found = groups(svg(timeline_chart(DEMO, now=LATER)))
    expected = (
        f"fill: {STATE_COLORS[State.MITIGATING]}",
        f"stroke: {STATE_COLORS[State.POST_MORTEM]}",
    )
    actual = (style(found["state-mitigating-0"]), style(found["state-post_mortem-0"]))
    assert [True, True] == [part in whole for part, whole in zip(expected, actual, strict=True)]


def test_timeline_marks_every_update_experiment_and_change() -> None:
    """The demo's two updates, two experiments and one manual change each have a mark."""
    root = svg(timeline_chart(DEMO, now=LATER))
    expected = (["update-0", "update-1"], ["experiment-E1", "experiment-E2"], ["change-C1"])
    actual = (ids(root, r"update-\d+"), ids(root, r"experiment-.*"), ids(root, r"change-.*"))
    assert expected == actual


def test_timeline_shows_no_progress_updates_hollow() -> None:
    """The demo's second update reported no progress: its circle is white inside."""
    found = groups(svg(timeline_chart(DEMO, now=LATER)))
    assert [False, True] == [u.no_progress for u in DEMO.updates]
    assert "fill: #0d47a1" in style(found["update-0"])
    assert "fill: #ffffff" in style(found["update-1"])


def test_timeline_colours_experiments_by_verdict_and_labels_them() -> None:
    """E1 (refuted) and E2 (confirmed) have their verdict's colour and an id-and-verdict label."""
    found = groups(svg(timeline_chart(DEMO, now=LATER)))
    expected = (
        f"fill: {VERDICT_COLORS[Verdict.REFUTED]}",
        f"fill: {VERDICT_COLORS[Verdict.CONFIRMED]}",
        ["E1 refuted"],
        ["E2 confirmed"],
    )
    actual = (
        style(found["experiment-E1"]).split(";")[0],
        style(found["experiment-E2"]).split(";")[0],
        [t.strip() for t in texts_of(found["label-experiment-E1"])],
        [t.strip() for t in texts_of(found["label-experiment-E2"])],
    )
    assert expected == actual


def test_timeline_experiment_bar_spans_start_to_conclusion() -> None:
    """E1 ran 14:11–14:15 and E2 14:17–14:22: bar widths are in the ratio 4 : 5."""
    found = groups(svg(timeline_chart(DEMO, now=LATER)))
    e1, e2 = xs(found["experiment-E1"]), xs(found["experiment-E2"])
    width1, width2 = max(e1) - min(e1), max(e2) - min(e2)
    assert 0.8 == pytest.approx(width1 / width2, abs=1e-3)


def test_timeline_running_experiment_runs_to_now_hatched() -> None:
    """A running experiment's bar ends at the dashed now line and is labelled running."""
    clock = ManualClock(START)
    incident = staffed(clock)
    clock.advance(minutes=5)
    incident.start_experiment(
        hypothesis="cache cold", action="warm it", expected="p99 drops", component="cache",
        owner="ana", actor="ana",
    )  # fmt: skip
    found = groups(svg(timeline_chart(incident, now=clock.advance(minutes=30))))
    bar = found["experiment-E1"]
    assert max(xs(bar)) == pytest.approx(xs(found["now"])[0], abs=1e-3)
    assert "url(#" in style(bar)  # the hatch pattern
    assert ["E1 running"] == [t.strip() for t in texts_of(found["label-experiment-E1"])]


def test_timeline_marks_open_changes_hollow_and_reconciled_filled() -> None:
    """A manual change is a hollow diamond until reconciled, then a filled one."""
    clock = ManualClock(START)
    incident = staffed(clock)
    incident.log_change(what="restart", where="db-1", revert="none", actor="ana")
    incident.log_change(what="scale", where="web", revert="scale down", actor="ana")
    incident.reconcile_change("C2", ChangeOutcome.PERMANENT, actor="ana")
    found = groups(svg(timeline_chart(incident, now=clock.advance(minutes=10))))
    expected = (True, False, ["C1"], ["C2"])
    actual = (
        "fill: #ffffff" in style(found["change-C1"]),
        "fill: #ffffff" in style(found["change-C2"]),
        texts_of(found["label-change-C1"]),
        texts_of(found["label-change-C2"]),
    )
    assert expected == actual


def test_timeline_title_names_the_incident() -> None:
    """The title is "<id> — <title> (<priority>)"."""
    found = groups(svg(timeline_chart(DEMO, now=LATER)))
    assert ["INC-1042 — Database is down (P1)"] == texts_of(found["title"])


def test_timeline_draws_now_only_for_an_open_incident() -> None:
    """A finished incident has no now line; an open one has it."""
    clock = ManualClock(START)
    incident = staffed(clock)
    assert [] == ids(svg(timeline_chart(DEMO, now=LATER)), "now")
    assert ["now"] == ids(svg(timeline_chart(incident, now=clock.advance(minutes=1))), "now")


def test_timeline_of_a_just_declared_incident() -> None:
    """An incident declared this instant (no length yet, no marks) still draws, one band."""
    incident = Incident.declare("INC-1", "Odd", Priority.P3, actor="ana", at=START, now=START)
    root = svg(timeline_chart(incident, now=START))
    expected: tuple[list[str], ...] = (["state-declared-0"], [], [], [])
    actual = (
        ids(root, r"state-.*"),
        ids(root, r"update-\d+"),
        ids(root, r"experiment-.*"),
        ids(root, r"change-.*"),
    )
    assert expected == actual


def test_timeline_png_is_a_picture() -> None:
    """The PNG has the PNG signature and decodes to a 10-inch-wide RGBA image at 100 dpi."""
    data = timeline_chart(DEMO, now=LATER, format="png")
    image = matplotlib.image.imread(io.BytesIO(data), format="png")
    height, width, channels = image.shape
    assert (PNG_SIGNATURE, 1000, 4) == (data[:8], width, channels)
    assert 300 <= height <= 1000


def test_timeline_draws_the_incident_in_its_own_time_zone() -> None:
    """Tick labels read in the zone of began_at, and the axis says which zone."""
    plus_two = timezone(timedelta(hours=2), "CEST")
    clock = ManualClock(START.astimezone(plus_two))
    incident = staffed(clock)
    root = svg(timeline_chart(incident, now=clock.advance(minutes=45)))
    labels = [t for g in ids(root, r"xtick_\d+") for t in texts_of(groups(root)[g])]
    assert "16:00" in labels
    assert "time (CEST)" in [t for e in root.iter() for t in texts_of(e) if "time (" in t]


# -- hostile text ----------------------------------------------------------------------------


def hostile_incident() -> tuple[Incident, datetime]:
    """An incident whose title, update, experiment id and change id are all hostile text."""
    clock = ManualClock(START)
    incident = staffed(clock, title=HOSTILE)
    incident.post_update(HOSTILE, actor="ana")
    incident.start_experiment(
        hypothesis=HOSTILE, action=HOSTILE, expected=HOSTILE, component="x", owner="ana",
        experiment_id="E<&>$1$", actor="ana",
    )  # fmt: skip
    incident.log_change(what=HOSTILE, where="x", revert="y", change_id='C"&<2>', actor="ana")
    return incident, clock.advance(minutes=10)


def test_hostile_text_is_drawn_as_plain_text() -> None:
    """`$`, `<script>` and `&` in typed text come out as those characters, escaped as XML."""
    incident, now = hostile_incident()
    data = timeline_chart(incident, now=now)
    found = groups(svg(data))
    expected = (
        [f"INC-1 — {HOSTILE} (P1)"],
        [HOSTILE],
        ["E<&>$1$ running"],
        ['C"&<2>'],
    )
    actual = (
        texts_of(found["title"]),
        texts_of(found["label-update-0"]),
        [t.strip() for t in texts_of(found["label-experiment-E<&>$1$"])],
        texts_of(found['label-change-C"&<2>']),
    )
    assert expected == actual
    assert b"<script>" not in data
    assert b"&lt;script&gt;" in data


def test_hostile_text_in_a_png_renders() -> None:
    """The same hostile incident renders as a PNG too (mathtext would raise on `$x^2$ ... $$`)."""
    incident, now = hostile_incident()
    assert PNG_SIGNATURE == timeline_chart(incident, now=now, format="png")[:8]


def test_text_that_xml_cannot_hold_is_made_visible() -> None:
    """Control characters become U+FFFD and U+FFFE is spelled out: the SVG stays well-formed."""
    clock = ManualClock(START)
    incident = staffed(clock, title="bad\x1b[2J\x00\ufffe\nnews")
    found = groups(svg(timeline_chart(incident, now=clock.now())))
    assert ["INC-1 — bad\ufffd[2J\ufffd<U+FFFE> news (P1)"] == texts_of(found["title"])


def test_long_update_messages_are_shortened() -> None:
    """An update's label keeps its first 39 characters and an ellipsis."""
    clock = ManualClock(START)
    incident = staffed(clock)
    incident.post_update("word " * 30, actor="ana")
    found = groups(svg(timeline_chart(incident, now=clock.now())))
    assert [("word " * 8).strip() + "…"] == texts_of(found["label-update-0"])


def expected_line(text: str, limit: int | None = None) -> str:
    """What a chart shows for typed text: one line, nothing XML 1.0 cannot hold, and past
    ``limit`` characters (invisible ones spelled out count in full) cut with an ellipsis."""
    line = re.sub("[\ud800-\udfff\ufffe\uffff]", "\ufffd", inline(text))
    return line if limit is None or len(line) <= limit else line[: limit - 1].rstrip() + "…"


@settings(max_examples=25)
@given(title=texts(), message=texts(max_size=30))
def test_any_typed_text_gives_well_formed_svg(title: str, message: str) -> None:
    """Any title and update message give a well-formed SVG showing them as typed.

    A title too wide for the chart (invisible characters spelled out make it long) is its
    start, cut with "…".
    """
    clock = ManualClock(START)
    incident = staffed(clock, title=title)
    incident.post_update(message, actor="ana")
    found = groups(svg(timeline_chart(incident, now=clock.now())))
    full = f"INC-1 — {expected_line(title)}"
    [shown] = texts_of(found["title"])
    start = shown.removesuffix(" (P1)")
    assert full == start or (start.endswith("…") and full.startswith(start[:-1].rstrip()))
    assert [expected_line(message, 40)] == texts_of(found["label-update-0"])


@settings(max_examples=20)
@given(incident=incidents(max_steps=25), minutes=st.integers(min_value=0, max_value=600))
def test_any_incident_gets_a_mark_for_everything(incident: Incident, minutes: int) -> None:
    """For any incident: one band per state interval, one mark per update/experiment/change."""
    now = max(e.recorded_at for e in incident.history) + timedelta(minutes=minutes)
    root = svg(timeline_chart(incident, now=now))
    expected = (
        len(state_intervals(incident, now=now)),
        [f"update-{i}" for i in range(len(incident.updates))],
        len(incident.experiments),
        len(incident.manual_changes),
    )
    actual = (
        len(ids(root, r"state-.*")),
        ids(root, r"update-\d+"),
        len(ids(root, r"experiment-.*")),
        len(ids(root, r"change-.*")),
    )
    assert expected == actual


# -- reproducible files ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["svg", "png"])
def test_same_input_gives_identical_bytes(kind: str) -> None:
    """Two charts of the same incident, or of its replay, are byte-identical."""
    replayed = Incident.replay(DEMO.history)
    first = timeline_chart(DEMO, now=LATER, format=kind)
    assert first == timeline_chart(DEMO, now=LATER, format=kind)
    assert first == timeline_chart(replayed, now=LATER, format=kind)


def test_svg_carries_no_date() -> None:
    """The SVG's metadata has no creation date."""
    assert b"<dc:date>" not in timeline_chart(DEMO, now=LATER)


def test_local_matplotlib_settings_neither_change_nor_leak() -> None:
    """Custom rcParams do not change the chart, and the chart leaves rcParams as they were."""
    plain = timeline_chart(DEMO, now=LATER)
    custom: dict[RcKeyType, Any] = {
        "lines.linewidth": 7.0,
        "font.size": 20.0,
        "svg.fonttype": "path",
    }
    with matplotlib.rc_context(custom):
        styled = timeline_chart(DEMO, now=LATER)
        after = {key: matplotlib.rcParams[key] for key in custom}
    assert (plain, custom) == (styled, after)


def test_charts_drawn_in_threads_are_identical() -> None:
    """Charts drawn at once in several threads equal one drawn alone."""
    alone = timeline_chart(DEMO, now=LATER)
    results: list[bytes] = []

    def draw() -> None:
        results.append(timeline_chart(DEMO, now=LATER))

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [alone] * 4 == results


# -- time to resolution ----------------------------------------------------------------------

HOURS = [
    (Priority.P0, 1.5),
    (Priority.P0, 3.0),
    (Priority.P1, 2.0),
    (Priority.P1, 5.0),
    (Priority.P1, 3.5),
    (Priority.P2, 20.0),
]


@pytest.fixture(scope="module")
def fleet() -> list[Incident]:
    """Six incidents green after the hours in HOURS, and one P1 still mitigating."""
    done = [resolved(n, p, h) for n, (p, h) in enumerate(HOURS, start=1)]
    return [*done, staffed(ManualClock(START), Priority.P1, number=99)]


def test_resolution_draws_a_point_per_incident_with_the_measure(fleet: list[Incident]) -> None:
    """Points per priority equal the incidents that reached green; n= says so under each."""
    root = svg(resolution_chart(fleet, now=LATER))
    counts = {p.value: len(ids(root, rf"priority-{p.value}-point-\d+")) for p in Priority}
    labels = {p.value: texts_of(groups(root)[f"priority-{p.value}-label"]) for p in Priority}
    expected = (
        {"P0": 2, "P1": 3, "P2": 1, "P3": 0},
        {"P0": ["P0", "n=2"], "P1": ["P1", "n=3"], "P2": ["P2", "n=1"], "P3": ["P3", "n=0"]},
    )
    assert expected == (counts, labels)


def test_resolution_draws_a_box_only_where_there_are_values(fleet: list[Incident]) -> None:
    """P0, P1 and P2 have a box and a median; P3 (no values) is an empty slot."""
    root = svg(resolution_chart(fleet, now=LATER))
    assert ["priority-P0-box-0", "priority-P1-box-0", "priority-P2-box-0"] == ids(
        root, r"priority-P\d-box-\d+"
    )
    assert 3 == len(ids(root, r"priority-P\d-median-\d+"))


def test_resolution_points_are_ordered_by_value(fleet: list[Incident]) -> None:
    """Point k of a priority is its k-th smallest value: P1's points rise 2h, 3.5h, 5h."""
    found = groups(svg(resolution_chart(fleet, now=LATER)))
    heights = [marker_y(found[f"priority-P1-point-{k}"]) for k in range(3)]
    assert sorted(heights, reverse=True) == heights  # SVG y grows downwards
    pixels_per_hour = (heights[0] - heights[1]) / 1.5
    assert pytest.approx(1.5 * pixels_per_hour, abs=1e-3) == heights[1] - heights[2]


def test_resolution_caption_counts_incidents_without_the_measure(fleet: list[Incident]) -> None:
    """The caption gives now and how many incidents had no value (the P1 still mitigating)."""
    root = svg(resolution_chart(fleet, now=LATER))
    caption = [t for e in root.iter(f"{SVG}text") for t in texts_of(e) if t.startswith("as of")]
    expected = [
        "as of 2026-03-01 17:00 UTC; n counts the incidents with a value; "
        "1 incident without one not shown"
    ]
    assert expected == caption


def test_resolution_does_not_depend_on_the_order_given(fleet: list[Incident]) -> None:
    """Reversing the incidents gives the same bytes."""
    forward = resolution_chart(fleet, now=LATER)
    assert forward == resolution_chart(list(reversed(fleet)), now=LATER)


def test_resolution_takes_a_custom_measure(fleet: list[Incident]) -> None:
    """A measure every incident has (began..validated) gives a point for each, and titles it."""
    measure = Measure.parse("mtta=began..validated")
    found = groups(svg(resolution_chart(fleet, now=LATER, measure=measure)))
    points = [i for i in found if re.fullmatch(r"priority-P\d-point-\d+", i)]
    assert (7, ["mtta (began → validated) by priority"]) == (
        len(points),
        texts_of(found["title"]),
    )


def test_resolution_of_no_incidents_is_four_empty_slots() -> None:
    """No incidents: a chart with P0..P3 all n=0 and no points."""
    found = groups(svg(resolution_chart([], now=LATER, format="svg")))
    expected = [["P0", "n=0"], ["P1", "n=0"], ["P2", "n=0"], ["P3", "n=0"]]
    assert expected == [texts_of(found[f"priority-{p.value}-label"]) for p in Priority]
    assert [] == [i for i in found if "-point-" in i]


def test_resolution_png_is_a_picture(fleet: list[Incident]) -> None:
    """The PNG decodes to an 8 x 5 inch image at 100 dpi."""
    data = resolution_chart(fleet, now=LATER, format="png")
    image = matplotlib.image.imread(io.BytesIO(data), format="png")
    assert (PNG_SIGNATURE, (500, 800, 4)) == (data[:8], image.shape)


def test_resolution_accepts_any_iterable(fleet: list[Incident]) -> None:
    """A generator of incidents is read once and drawn like the list."""
    assert resolution_chart(fleet, now=LATER) == resolution_chart(iter(fleet), now=LATER)


# -- refusals --------------------------------------------------------------------------------

Draw = Callable[..., bytes]
BOTH: list[tuple[Draw, object]] = [(timeline_chart, DEMO), (resolution_chart, [DEMO])]


@pytest.mark.parametrize(("draw", "subject"), BOTH, ids=["timeline", "resolution"])
@pytest.mark.parametrize("kind", ["pdf", "SVG", "", None])
def test_unknown_format_is_invalid_input(draw: Draw, subject: object, kind: object) -> None:
    """Only "svg" and "png" are formats."""
    with pytest.raises(InvalidInput, match="format must be one of svg, png"):
        draw(subject, now=LATER, format=kind)


@pytest.mark.parametrize(("draw", "subject"), BOTH, ids=["timeline", "resolution"])
def test_naive_now_is_invalid_input(draw: Draw, subject: object) -> None:
    """`now` must be timezone-aware."""
    with pytest.raises(InvalidInput, match="now must be a timezone-aware datetime"):
        draw(subject, now=datetime(2026, 3, 1, 17, 0))


def test_timeline_of_something_else_is_invalid_input() -> None:
    """timeline_chart names the type it was given instead of an Incident."""
    with pytest.raises(InvalidInput, match="an Incident, not list"):
        timeline_chart([DEMO], now=LATER)  # type: ignore[arg-type]


def test_resolution_over_something_else_is_invalid_input() -> None:
    """resolution_chart names the type of an item that is not an Incident."""
    with pytest.raises(InvalidInput, match="takes Incidents, not str"):
        resolution_chart([DEMO, "INC-2"], now=LATER)  # type: ignore[list-item]


def test_resolution_with_a_measure_as_text_is_invalid_input() -> None:
    """A measure must be a Measure (parse text with Measure.parse first)."""
    with pytest.raises(InvalidInput, match="measure must be a Measure, not str"):
        resolution_chart([DEMO], now=LATER, measure="time_to_green")  # type: ignore[arg-type]


@pytest.mark.parametrize(("draw", "subject"), BOTH, ids=["timeline", "resolution"])
def test_without_matplotlib_the_extra_is_named(
    draw: Draw, subject: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without matplotlib, MissingExtra (an ImportError) says to install incidentflow[charts]."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtra) as raised:
        draw(subject, now=LATER)
    error = raised.value
    expected = ("charts", "matplotlib", "charts", True, "pip install 'incidentflow[charts]'")
    actual = (
        error.extra,
        error.package,
        error.feature,
        isinstance(error, ImportError),
        str(error).split(": ", 1)[1],
    )
    assert expected == actual
    assert isinstance(error.__cause__, ImportError)


def test_importing_charts_does_not_import_matplotlib() -> None:
    """`import incidentflow.charts` leaves matplotlib unloaded until a chart is drawn."""
    code = "import sys, incidentflow.charts; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "False" == result.stdout.strip()


# -- labels never overlap --------------------------------------------------------------------


def drawn_texts(figure: Any) -> list[Any]:
    """Every piece of text the figure draws: titles, labels, drawn tick labels, legend."""
    from matplotlib.text import Text

    tick_labels: set[int] = set()
    drawn: set[int] = set()
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            for tick in axis.majorTicks + axis.minorTicks:
                tick_labels.update({id(tick.label1), id(tick.label2)})
            drawn.update(id(t.label1) for t in axis._update_ticks() if t.label1.get_visible())
    return [
        t
        for t in figure.findobj(Text)
        if t.get_visible() and t.get_text().strip() and (id(t) not in tick_labels or id(t) in drawn)
    ]


def overlaps(figure: Any) -> list[tuple[str, str]]:
    """The pairs of drawn texts whose boxes overlap (by more than half a pixel)."""
    renderer = figure.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in drawn_texts(figure)]
    return [
        (a, b)
        for (a, p), (b, q) in itertools.combinations(boxes, 2)
        if p.x0 < q.x1 - 0.5 and q.x0 < p.x1 - 0.5 and p.y0 < q.y1 - 0.5 and q.y0 < p.y1 - 0.5
    ]


def timeline_figure(incident: Incident, now: datetime) -> Any:
    """The laid-out matplotlib figure timeline_chart saves."""
    with charts._drawing():
        return charts._timeline(incident, state_intervals(incident, now=now), now)


def crowded(updates: int = 14, minutes: int = 1) -> tuple[Incident, datetime]:
    """An incident with ``updates`` long update messages and a change every other update."""
    clock = ManualClock(START)
    incident = staffed(clock)
    for n in range(updates):
        message = f"Update {n}: still investigating the checkout latency in eu-west-1"
        incident.post_update(message, actor="ana", no_progress=n % 3 == 0)
        if n % 2:
            incident.log_change(what="x", where="y", revert="z", actor="ana")
        clock.advance(minutes=minutes)
    for _ in range(3):
        started = incident.start_experiment(
            hypothesis="h", action="a", expected="e", component="c", owner="ana", actor="ana"
        )
        clock.advance(minutes=30)
        incident.conclude_experiment(
            started.experiment_id, observed="o", verdict=Verdict.REFUTED, actor="ana"
        )
    return incident, clock.now()


def test_overlap_check_finds_overlapping_labels() -> None:
    """The check itself: two labels drawn at one spot are reported."""
    figure = timeline_figure(DEMO, LATER)
    axes = figure.axes[0]
    axes.text(0.5, 0.5, "same place", transform=axes.transAxes)
    axes.text(0.5, 0.5, "same place too", transform=axes.transAxes)
    assert [("same place", "same place too")] == overlaps(figure)


@pytest.mark.parametrize(
    ("incident", "now"),
    [(DEMO, LATER), crowded(), crowded(updates=6, minutes=0), crowded(updates=3, minutes=60)],
    ids=["demo", "crowded", "all-at-once", "spread-out"],
)
def test_timeline_labels_never_overlap(incident: Incident, now: datetime) -> None:
    """No two texts of a timeline overlap, however close together its updates and changes."""
    assert [] == overlaps(timeline_figure(incident, now))


def test_crowded_update_labels_are_stacked_then_shortened_then_left_out() -> None:
    """Updates a minute apart stack in rows; labels that find no room are shortened or left out."""
    incident, now = crowded()
    found = groups(svg(timeline_chart(incident, now=now)))
    labels = {i: texts_of(found[i])[0] for i in found if i.startswith("label-update-")}
    assert 14 == len(ids(svg(timeline_chart(incident, now=now)), r"update-\d+"))
    assert "label-update-0" in labels
    assert 14 > len(labels)
    full = "Update 0: still investigating the check…"
    assert full == labels["label-update-0"]
    assert all(len(text) <= 40 for text in labels.values())


def test_an_experiment_ending_at_the_right_edge_is_labelled_before_its_bar() -> None:
    """A bar that reaches the end of the axis has its label on its left, inside the chart."""
    incident, now = crowded(updates=3, minutes=60)
    figure = timeline_figure(incident, now)
    renderer = figure.canvas.get_renderer()
    frame = figure.axes[0].get_window_extent(renderer)
    last = next(t for t in figure.axes[0].texts if t.get_gid() == "label-experiment-E3")
    box = last.get_window_extent(renderer)
    assert ("right", True) == (last.get_horizontalalignment(), box.x1 <= frame.x1)


@settings(max_examples=10)
@given(incident=incidents(max_steps=25), minutes=st.integers(min_value=0, max_value=600))
def test_any_timeline_has_no_overlapping_labels(incident: Incident, minutes: int) -> None:
    """For any incident, no two texts of its timeline overlap."""
    now = max(e.recorded_at for e in incident.history) + timedelta(minutes=minutes)
    assert [] == overlaps(timeline_figure(incident, now))


# -- durations read as hours and minutes -----------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(0, "0 min"), (12, "12 min"), (60, "1 h"), (80, "1 h 20 min"), (1500, "1 d 1 h")],
)
def test_durations_read_in_hours_and_minutes(minutes: float, expected: str) -> None:
    """A duration tick reads "12 min" or "1 h 20 min", never a fraction of an hour."""
    assert expected == charts._duration(minutes)


def y_tick_labels(root: ET.Element) -> list[str]:
    """The texts of the y axis's tick labels, bottom up."""
    return [t for e in root.iter() if e.get("id", "").startswith("ytick_") for t in texts_of(e)]


def test_resolution_axis_reads_minutes_for_short_incidents() -> None:
    """Incidents green after 12 and 20 minutes: the axis ticks every 5 minutes, in words."""
    short = [resolved(1, Priority.P1, 0.2), resolved(2, Priority.P1, 1 / 3)]
    root = svg(resolution_chart(short, now=LATER))
    assert ["0 min", "5 min", "10 min", "15 min", "20 min"] == y_tick_labels(root)


def test_resolution_axis_reads_hours_for_long_incidents(fleet: list[Incident]) -> None:
    """The fleet (1.5 to 20 hours) is ticked every 4 hours, with no decimals."""
    labels = y_tick_labels(svg(resolution_chart(fleet, now=LATER)))
    assert ["0 min", "4 h", "8 h", "12 h", "16 h", "20 h"] == labels


def test_resolution_chart_has_no_overlapping_labels(fleet: list[Incident]) -> None:
    """The resolution chart's labels, ticks and caption do not overlap."""
    points: dict[Priority, list[float]] = {p: [] for p in Priority}
    for incident in fleet[:-1]:
        value = charts._default_measure().of(incident)
        assert value is not None
        points[incident.priority].append(value.total_seconds() / 60)
    with charts._drawing():
        figure = charts._resolution(points, 1, charts._default_measure(), LATER)
        charts._laid_out(figure)
    assert [] == overlaps(figure)


def test_a_title_too_long_for_the_chart_is_shortened_to_fit() -> None:
    """A title wider than the chart is cut with "…", keeping the priority, and lays out."""
    clock = ManualClock(START)
    incident = staffed(clock, title="checkout " * 40)
    figure = timeline_figure(incident, clock.now())
    title = figure.axes[0].title if figure.axes[0].title.get_text() else figure.axes[0]._left_title
    renderer = figure.canvas.get_renderer()
    assert title.get_text().endswith("… (P1)")
    assert title.get_window_extent(renderer).width <= figure.bbox.width
    assert [] == overlaps(figure)
