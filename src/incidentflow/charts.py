"""Pictures of incidents: one incident's timeline, and time to resolution by priority.

Two functions draw a chart and return the file's bytes, as SVG or PNG:

- :func:`timeline_chart` draws one incident along time: the states it went through as coloured
  bands, the stakeholder updates (no-progress updates hollow), the experiments as bars from
  start to conclusion coloured by verdict, and the manual changes as diamonds.
- :func:`resolution_chart` draws, for each priority P0–P3, a box plot of a measure (by default
  ``time_to_green`` from :data:`incidentflow.metrics.DEFAULT_MEASURES`) over a set of
  incidents, with every incident's value as a point and the count under each label; its axis
  reads in hours and minutes ("12 min", "1 h 20 min").

Labels never overlap: each is measured once the chart is laid out, update labels are stacked
in rows above their marks (shortened, then left out, when a crowded stretch has no room), and
experiment labels go on whichever side of their bar has room.

Both need the ``charts`` extra (``pip install 'incidentflow[charts]'``, which installs
matplotlib); without it they raise :class:`~incidentflow.errors.MissingExtra`.  matplotlib is
imported only when a chart is drawn, so importing this module costs nothing.

Charts are drawn with matplotlib's object-oriented API (never ``pyplot``, so no figure is left
behind and no GUI backend is touched), from matplotlib's default style whatever the local
``matplotlibrc`` says, and saved without a creation date: the same incident and ``now`` give
byte-identical files.  matplotlib reads a few settings from its process-wide ``rcParams``, so
this module draws one chart at a time (behind a lock); it is safe to call from several threads.

What people typed (titles, update messages, ids) is drawn as plain text: never as matplotlib
mathtext, on one line, with control characters made visible.  Every mark carries an SVG ``id``
(``state-mitigating-0``, ``update-3``, ``experiment-E1``, ``change-C1``,
``priority-P1-point-0``), so a page or a test can find it.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .clock import require_aware
from .documents._markup import inline
from .documents._narrative import elapsed
from .errors import InvalidInput, MissingExtra
from .events import UpdatePosted
from .incident import Incident
from .lifecycle import State
from .metrics import DEFAULT_MEASURES, Measure, StateInterval, state_intervals
from .priorities import Priority
from .records import Experiment, ManualChange, Verdict

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.text import Annotation

__all__ = ["FORMATS", "STATE_COLORS", "VERDICT_COLORS", "resolution_chart", "timeline_chart"]

FORMATS: tuple[str, ...] = ("svg", "png")
"""The file formats a chart can be written in."""

STATE_COLORS: Mapping[State, str] = MappingProxyType(
    {
        State.DECLARED: "#8c8c8c",
        State.MITIGATING: "#e53935",
        State.YELLOW: "#fdd835",
        State.GREEN: "#43a047",
        State.REPORTED: "#1e88e5",
        State.POST_MORTEM: "#8e24aa",
        State.DISMISSED: "#d0d0d0",
    }
)
"""The colour of each state's band on a timeline (drawn pale, behind the marks)."""

VERDICT_COLORS: Mapping[Verdict | None, str] = MappingProxyType(
    {
        Verdict.CONFIRMED: "#1b5e20",
        Verdict.REFUTED: "#b71c1c",
        Verdict.INCONCLUSIVE: "#616161",
        None: "#ffffff",
    }
)
"""The colour of an experiment's bar by verdict; ``None`` is a running experiment (hatched)."""

_DPI = 100
_BAND_ALPHA = 0.3
_UPDATE_COLOR = "#0d47a1"
_CHANGE_COLOR = "#000000"
_POINT_COLOR = "#0d47a1"
_LABEL_LIMIT = 40
_LANE_INCHES = 0.4
_HEADROOM_INCHES = 0.9
_JITTER = 0.36
_GOLDEN = 0.6180339887498949
_ROW_POINTS = 10.5  # the height of a row of update labels
_GAP_PIXELS = 4.0  # the least space between two labels on one row
# How far labels may be shortened, in characters, before one is left out for want of room.
_SHORTER = (24, 12)
# Steps for a duration axis, in minutes: from a minute to a week.
_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440, 2880, 4320, 10080)
# XML 1.0 cannot hold these at all, even escaped: lone surrogates and U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
_DRAWING = threading.Lock()
_PARTS = {"boxes": "box", "whiskers": "whisker", "caps": "cap", "medians": "median"}


def timeline_chart(incident: Incident, *, now: datetime, format: str = "svg") -> bytes:
    """One incident along time, as the bytes of an SVG or PNG file.

    The x axis runs from when the problem began to the end of the incident's life (``now`` for
    an incident still open; a dashed line marks ``now``).  Behind everything, one pale band per
    :func:`~incidentflow.metrics.state_intervals` entry, coloured by state (see
    :data:`STATE_COLORS`; a zero-length interval, such as reaching post_mortem, is a line).
    In front, in three lanes:

    - **updates**: one circle per stakeholder update, filled, or hollow when it reported no
      progress, with the start of its message;
    - **experiments**: one bar per experiment from its start to its conclusion (to ``now``
      while running, hatched), coloured by verdict (:data:`VERDICT_COLORS`) and labelled with
      its id and verdict;
    - **manual changes**: one diamond per change at the time it was made, filled once
      reconciled (reverted or made permanent), hollow while still open, labelled with its id.

    ``format`` is ``"svg"`` or ``"png"``.  Raises :class:`~incidentflow.errors.InvalidInput`
    for a naive ``now``, another format or a non-incident, and
    :class:`~incidentflow.errors.MissingExtra` without matplotlib.
    """
    if not isinstance(incident, Incident):
        raise InvalidInput(f"timeline_chart draws an Incident, not {type(incident).__name__}")
    now = require_aware(now, "now")
    kind = _format(format)
    _require_matplotlib()
    intervals = state_intervals(incident, now=now)
    with _drawing():
        return _save(_timeline(incident, intervals, now), kind)


def resolution_chart(
    incidents: Iterable[Incident],
    *,
    now: datetime,
    measure: Measure | None = None,
    format: str = "svg",
) -> bytes:
    """``measure`` by priority over ``incidents``, as the bytes of an SVG or PNG file.

    ``measure`` defaults to ``time_to_green`` (when the problem began to the last time the
    incident turned green) from :data:`~incidentflow.metrics.DEFAULT_MEASURES`.  Each incident
    counts under its current priority.  For each of P0, P1, P2 and P3 the chart shows a box
    plot (median, quartiles, whiskers to the furthest value within 1.5 times the interquartile
    range) with every incident's value as a point beside it, and ``n=`` (the incidents that
    have the measure) under the label; a priority without values is an empty slot, ``n=0``.
    Incidents without the measure (not green yet, say) are left out and counted in the
    caption, which also says ``now``.  The points of a priority are placed by value, so the
    order the incidents are given in does not change the chart.

    Raises :class:`~incidentflow.errors.InvalidInput` for a naive ``now``, another format,
    something other than a :class:`~incidentflow.metrics.Measure` or an item that is not an
    incident, and :class:`~incidentflow.errors.MissingExtra` without matplotlib.
    """
    now = require_aware(now, "now")
    kind = _format(format)
    chosen = _default_measure() if measure is None else measure
    if not isinstance(chosen, Measure):
        raise InvalidInput(f"measure must be a Measure, not {type(chosen).__name__}")
    points: dict[Priority, list[float]] = {p: [] for p in Priority}
    missing = 0
    for item in incidents:
        if not isinstance(item, Incident):
            raise InvalidInput(f"resolution_chart takes Incidents, not {type(item).__name__}")
        value = chosen.of(item)
        if value is None:
            missing += 1
        else:
            points[item.priority].append(value.total_seconds() / 60)
    _require_matplotlib()
    with _drawing():
        return _save(_resolution(points, missing, chosen, now), kind)


# -- shared machinery ------------------------------------------------------------------------


def _format(value: object) -> str:
    if value not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}, not {value!r}")
    return str(value)


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise MissingExtra(extra="charts", package="matplotlib", feature="charts") from error


def _default_measure() -> Measure:
    return next(m for m in DEFAULT_MEASURES if m.name == "time_to_green")


@contextmanager
def _drawing() -> Iterator[None]:
    """Matplotlib's default style plus the settings for reproducible files, one chart at a time.

    rcParams are process-wide, hence the lock.  A glyph missing from the font (an emoji in a
    title) is drawn as a box instead of warning.
    """
    import matplotlib
    import matplotlib.style

    with (
        _DRAWING,
        matplotlib.style.context("default"),
        # A fixed salt for the ids of clip paths and patterns, and text kept as text.
        matplotlib.rc_context(
            {"svg.hashsalt": "incidentflow", "svg.fonttype": "none", "text.usetex": False}
        ),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", r"Glyph \d+ .*missing from", UserWarning)
        yield


def _save(figure: Figure, kind: str) -> bytes:
    buffer = io.BytesIO()
    # An SVG records its creation date unless told not to; a PNG records none.
    metadata: dict[str, str | None] = {"Date": None} if kind == "svg" else {}
    figure.savefig(buffer, format=kind, dpi=_DPI, metadata=metadata)
    return buffer.getvalue()


def _plain(text: str, limit: int | None = None) -> str:
    """Typed text as a plain one-line label, shortened to ``limit`` characters with "…"."""
    line = _NOT_XML.sub("\ufffd", inline(text))
    if limit is not None and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


def _days(moment: datetime) -> float:
    """``moment`` as matplotlib's date number (days since its epoch)."""
    from matplotlib.dates import date2num

    return float(date2num(moment))  # type: ignore[no-untyped-call]  # unannotated in the stubs


# -- the timeline ----------------------------------------------------------------------------


def _timeline(incident: Incident, intervals: tuple[StateInterval, ...], now: datetime) -> Figure:
    from matplotlib.figure import Figure

    experiments = sorted(incident.experiments.values(), key=lambda e: (e.started_at, e.id))
    changes = sorted(incident.manual_changes.values(), key=lambda c: (c.at, c.id))
    rows = max(len(experiments), 1)  # an empty lane still shows there were none
    figure = Figure(
        figsize=(10, 2.2 + _HEADROOM_INCHES + _LANE_INCHES * (rows + 2)), layout="constrained"
    )
    axes = figure.add_subplot()
    title = axes.set_title(
        _plain(f"{incident.id} — {incident.title} ({incident.priority.value})"),
        loc="left",
        fontsize=12,
        parse_math=False,
        gid="title",
    )
    _fit_width(title, f"{incident.id} — {incident.title}", f" ({incident.priority.value})")
    # Lanes from the top: updates at 0, experiments at 1..rows, manual changes below them.
    bars = [(e, _days(e.started_at), _days(e.concluded_at or now)) for e in experiments]
    bars = [(e, start, max(start, end)) for e, start, end in bars]
    times = [_days(intervals[0].start), _days(intervals[-1].end)]
    times += [_days(u.occurred_at) for u in incident.updates] + [_days(c.at) for c in changes]
    times += [x for _, start, end in bars for x in (start, end)]
    span = max(times) - min(times) or 1 / 24  # an hour, for an incident with no length yet
    low, high = min(times) - span * 0.03, max(times) + span * 0.03

    seen = _bands(axes, intervals, now)
    update_labels = _updates(axes, incident.updates)
    experiment_labels = _experiments(axes, bars)
    change_labels = _changes(axes, changes, lane=rows + 1)

    for boundary in (0.5, rows + 0.5):
        axes.axhline(boundary, color="#bdbdbd", lw=0.6, zorder=1)
    axes.set_ylim(rows + 1.6, -0.6 - _HEADROOM_INCHES / _LANE_INCHES)  # y grows downwards
    axes.set_yticks(
        [0, (1 + rows) / 2, rows + 1], ["stakeholder updates", "experiments", "manual changes"]
    )
    axes.tick_params(axis="y", length=0)
    axes.set_xlim(low, high)
    _time_axis(axes, incident.began_at)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.legend(
        handles=_key(seen, incident.updates, experiments, changes),
        loc="outside lower center",
        ncols=6,
        fontsize=8,
        frameon=False,
    )
    renderer = _laid_out(figure)
    _stack(axes, renderer, update_labels, rows=range(1, 9))
    _beside(axes, renderer, experiment_labels)
    _stack(axes, renderer, change_labels, rows=(1, -1))
    return figure


def _fit_width(title: Any, typed: str, ours: str) -> None:
    """Shorten the typed part of ``title`` with "…" until the title fits in its figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = title.get_figure()
    renderer = FigureCanvasAgg(figure).get_renderer()  # type: ignore[no-untyped-call]
    line = _plain(typed)
    room = figure.bbox.width * 0.9
    while len(line) > 1 and title.get_window_extent(renderer).width > room:
        line = _plain(line, max(1, len(line) * 9 // 10))
        title.set_text(line + ours)


def _laid_out(figure: Figure) -> RendererBase:
    """Lay ``figure`` out (its labels left out of the layout) and give the renderer to measure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    figure.draw_without_rendering()
    figure.set_layout_engine("none")  # placing labels must not move the axes any more
    renderer: RendererBase = canvas.get_renderer()  # type: ignore[no-untyped-call]
    return renderer


def _stack(
    axes: Axes,
    renderer: RendererBase,
    labels: list[tuple[Annotation, str]],
    *,
    rows: Iterable[int],
) -> None:
    """Place each label on the first row where it fits, shortened or left out if none has room.

    A row is above its mark, or below it for a negative row; a label fits where it overlaps
    no label placed before it and stays inside the axes.  ``labels`` come in time order, each
    with its full text.
    """
    frame = axes.get_window_extent(renderer)
    taken: dict[int, list[tuple[float, float]]] = {}
    rows = tuple(rows)
    for label, text in labels:
        for candidate in [text, *(_plain(text, n) for n in _SHORTER if len(text) > n)]:
            label.set_text(candidate)
            if _fit(label, renderer, frame, rows, taken):
                break
        else:
            label.set_visible(False)


def _fit(
    label: Annotation,
    renderer: RendererBase,
    frame: Any,
    rows: tuple[int, ...],
    taken: dict[int, list[tuple[float, float]]],
) -> bool:
    """Put ``label`` on the first row with room for it, left or right of its mark."""
    for row in rows:
        for side in ("left", "right"):
            label.set_horizontalalignment(side)
            label.set_verticalalignment("bottom" if row > 0 else "top")
            shift = 3 if side == "left" else -3
            label.xyann = (shift, (row - 0.5) * _ROW_POINTS if row > 0 else row * 6)
            box = label.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0
            if not (inside and box.y1 <= frame.y1):
                continue
            spans = taken.setdefault(row, [])
            if all(box.x1 + _GAP_PIXELS <= a or b + _GAP_PIXELS <= box.x0 for a, b in spans):
                spans.append((box.x0, box.x1))
                return True
    return False


def _beside(axes: Axes, renderer: RendererBase, labels: list[tuple[Annotation, float]]) -> None:
    """Put each experiment's label after its bar, or before it when there is no room after."""
    frame = axes.get_window_extent(renderer)
    for label, start in labels:
        box = label.get_window_extent(renderer)
        if box.x1 > frame.x1:
            label.xy = (start, label.xy[1])
            label.set_horizontalalignment("right")
            label.xyann = (-3, 0)


def _bands(axes: Axes, intervals: tuple[StateInterval, ...], now: datetime) -> set[State]:
    """One band per state interval (a line if it has no length); the states drawn."""
    seen: dict[State, int] = {}
    for interval in intervals:
        index = seen.get(interval.state, 0)
        seen[interval.state] = index + 1
        gid = f"state-{interval.state.value}-{index}"
        color = STATE_COLORS[interval.state]
        start, end = _days(interval.start), _days(interval.end)
        if end > start:
            axes.axvspan(start, end, color=color, alpha=_BAND_ALPHA, lw=0, zorder=0, gid=gid)
        else:
            axes.axvline(start, color=color, lw=3, zorder=0, gid=gid)
    if not intervals[-1].state.terminal:
        axes.axvline(_days(now), color="#424242", lw=1, ls="--", zorder=1, gid="now")
    return set(seen)


def _updates(axes: Axes, updates: Sequence[UpdatePosted]) -> list[tuple[Annotation, str]]:
    """A circle per update (hollow for no progress), and the start of its message to place."""
    labels = []
    for index, update in enumerate(updates):
        x = _days(update.occurred_at)
        axes.plot(
            [x],
            [0],
            ls="",
            marker="o",
            ms=8,
            mec=_UPDATE_COLOR,
            mfc="white" if update.no_progress else _UPDATE_COLOR,
            mew=1.5,
            zorder=3,
            gid=f"update-{index}",
        )
        text = _plain(update.message, _LABEL_LIMIT)
        labels.append((_label(axes, x, 0, text, 7, f"label-update-{index}"), text))
    return labels


def _label(axes: Axes, x: float, y: float, text: str, size: float, gid: str) -> Annotation:
    """Typed text next to the point (x, y), offset in points, left out of the layout."""
    label = axes.annotate(
        text,
        (x, y),
        xytext=(3, 0),
        textcoords="offset points",
        fontsize=size,
        va="center",
        gid=gid,
        parse_math=False,
        usetex=False,
        annotation_clip=False,
    )
    label.set_in_layout(False)
    return label


def _experiments(
    axes: Axes, bars: list[tuple[Experiment, float, float]]
) -> list[tuple[Annotation, float]]:
    """A bar per experiment coloured by verdict, hatched while running; labels to place."""
    from matplotlib.patches import Rectangle

    labels = []
    for lane, (experiment, start, end) in enumerate(bars, start=1):
        name = _plain(experiment.id)
        axes.add_patch(
            Rectangle(
                (start, lane - 0.3),
                end - start,
                0.6,
                facecolor=VERDICT_COLORS[experiment.verdict],
                edgecolor="black",
                lw=0.8,
                hatch=None if experiment.verdict else "//",
                zorder=3,
                gid=f"experiment-{name}",
            )
        )
        verdict = experiment.verdict.value if experiment.verdict else "running"
        label = _label(axes, end, lane, f"{name} {verdict}", 8, f"label-experiment-{name}")
        labels.append((label, start))
    return labels


def _changes(axes: Axes, changes: list[ManualChange], *, lane: int) -> list[tuple[Annotation, str]]:
    """A diamond per manual change where it was made, hollow until reconciled; its id to place."""
    labels = []
    for change in changes:
        name = _plain(change.id)
        x = _days(change.at)
        axes.plot(
            [x],
            [lane],
            ls="",
            marker="D",
            ms=7,
            mec=_CHANGE_COLOR,
            mfc=_CHANGE_COLOR if change.reconciled else "white",
            mew=1.2,
            zorder=3,
            gid=f"change-{name}",
        )
        labels.append((_label(axes, x, lane, name, 7, f"label-change-{name}"), name))
    return labels


def _time_axis(axes: Axes, began_at: datetime) -> None:
    """Concise date ticks, read in the time zone the incident began in."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    zone = began_at.tzinfo
    # matplotlib's stubs leave these two constructors unannotated.
    locator = AutoDateLocator(tz=zone)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=zone))  # type: ignore[no-untyped-call]
    axes.set_xlabel(f"time ({began_at.tzname() or began_at.strftime('%z')})")


def _key(
    states: set[State],
    updates: Sequence[UpdatePosted],
    experiments: list[Experiment],
    changes: list[ManualChange],
) -> list[Artist]:
    """A legend entry for each state and each kind of mark the chart shows."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    def marker(shape: str, edge: str, face: str, label: str) -> Line2D:
        return Line2D([], [], ls="", marker=shape, ms=7, mec=edge, mfc=face, mew=1.5, label=label)

    key: list[Artist] = [
        Patch(facecolor=STATE_COLORS[s], alpha=_BAND_ALPHA, label=s.value)
        for s in State
        if s in states
    ]
    progress = {u.no_progress for u in updates}
    if False in progress:
        key.append(marker("o", _UPDATE_COLOR, _UPDATE_COLOR, "update"))
    if True in progress:
        key.append(marker("o", _UPDATE_COLOR, "white", "no-progress update"))
    verdicts = {e.verdict for e in experiments}
    key.extend(
        Patch(
            facecolor=VERDICT_COLORS[verdict],
            edgecolor="black",
            hatch=None if verdict else "//",
            label=f"experiment {verdict.value if verdict else 'running'}",
        )
        for verdict in VERDICT_COLORS
        if verdict in verdicts
    )
    reconciled = {c.reconciled for c in changes}
    if True in reconciled:
        key.append(marker("D", _CHANGE_COLOR, _CHANGE_COLOR, "change reconciled"))
    if False in reconciled:
        key.append(marker("D", _CHANGE_COLOR, "white", "change open"))
    return key


# -- time to resolution ----------------------------------------------------------------------


def _resolution(
    points: Mapping[Priority, list[float]],  # minutes
    missing: int,
    measure: Measure,
    now: datetime,
) -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5), layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(
        _plain(f"{measure.name} ({measure.start.name} → {measure.end.name}) by priority"),
        loc="left",
        fontsize=12,
        parse_math=False,
        gid="title",
    )
    labels = []
    top = 0.0
    for slot, priority in enumerate(Priority):
        minutes = sorted(points[priority])
        labels.append(f"{priority.value}\nn={len(minutes)}")
        if not minutes:
            continue
        top = max(top, *minutes)
        parts = axes.boxplot(
            [minutes],
            positions=[slot],
            widths=0.5,
            showfliers=False,
            manage_ticks=False,
            patch_artist=True,
            boxprops={"facecolor": "#e3f2fd", "edgecolor": "#455a64"},
            medianprops={"color": "#263238", "lw": 2},
            whiskerprops={"color": "#455a64"},
            capprops={"color": "#455a64"},
        )
        for name, artists in parts.items():
            for number, artist in enumerate(artists):
                artist.set_gid(f"priority-{priority.value}-{_PARTS.get(name, name)}-{number}")
        for number, value in enumerate(minutes):
            # A fixed, evenly spread sideways offset, so points do not hide each other.
            offset = ((number * _GOLDEN + 0.5) % 1 - 0.5) * _JITTER
            axes.plot(
                [slot + offset],
                [value],
                ls="",
                marker="o",
                ms=5,
                color=_POINT_COLOR,
                alpha=0.75,
                zorder=3,
                gid=f"priority-{priority.value}-point-{number}",
            )
    axes.set_xticks(range(len(labels)), labels)
    for label, priority in zip(axes.get_xticklabels(), Priority, strict=True):
        label.set_gid(f"priority-{priority.value}-label")
    axes.set_xlim(-0.6, len(labels) - 0.4)
    _duration_axis(axes, top * 1.08 if top > 0 else 60)
    axes.grid(axis="y", color="#e0e0e0", lw=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    stamp = f"{now:%Y-%m-%d %H:%M} {now.tzname()}"
    caption = f"as of {stamp}; n counts the incidents with a value"
    if missing:
        left_out = "incident" if missing == 1 else "incidents"
        caption += f"; {missing} {left_out} without one not shown"
    axes.set_xlabel(caption, fontsize=8, color="#616161", labelpad=8)
    return figure


def _duration_axis(axes: Axes, top: float) -> None:
    """A y axis from 0 to ``top`` minutes, ticked at round durations read as "1 h 20 min"."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    step = next(
        (s for s in _STEPS if top / s <= 6), _STEPS[-1] * (1 + int(top // (_STEPS[-1] * 6)))
    )
    axes.set_ylim(0, top)
    axes.yaxis.set_major_locator(MultipleLocator(step))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _duration(value)))
    axes.set_ylabel("duration")


def _duration(minutes: float) -> str:
    """A tick's duration, e.g. ``12 min``, ``1 h 20 min``, ``2 d``."""
    return elapsed(timedelta(minutes=round(minutes)))
