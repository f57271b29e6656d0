r"""The fishbone (Ishikawa) diagram of an incident's contributing factors, drawn two ways.

:func:`fishbone` gives a :class:`~._blocks.Figure`: Mermaid source for Markdown (a flowchart
from each factor to its category and from each category to the effect, the incident's
title) and an inline SVG for HTML (a spine to the effect, one bone per category, the factors
written along it).  Only the categories with a factor are drawn; uncategorized factors hang
from a bone of their own.

Typed text is escaped for each: in Mermaid it sits in a quoted label, where ``"``, ``#``,
``<``, ``>``, ``&`` and backticks are written as Mermaid's entity codes; in SVG it is XML
text.

>>> from incidentflow.records import FishboneCategory
>>> print(mermaid("Database is down", [(FishboneCategory.MEASUREMENT, ['no "alert"'])]))
flowchart LR
    effect["Database is down"]
    c1["measurement"] --> effect
    f1_1["no #quot;alert#quot;"] --> c1
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence

from incidentflow.records import FishboneCategory

from ._blocks import Figure
from ._markup import inline

__all__ = ["fishbone", "mermaid", "svg"]

Groups = Sequence[tuple[FishboneCategory | None, Sequence[str]]]
"""The factors' descriptions by category, in the order to draw them."""

_MERMAID = {
    '"': "#quot;",
    "#": "#35;",
    "&": "#amp;",
    "<": "#lt;",
    ">": "#gt;",
    "`": "#96;",
}
_COLUMN = 250  # the width each bone takes along the spine, in pixels
_LINE = 15  # the height of a line of factor text
_WRAP = 28  # characters on a line of factor text
_LINES = 4  # lines a factor may take before it is cut with "…"
_HEAD = 200  # the width of the effect's box


def fishbone(effect: str, groups: Groups) -> Figure:
    """The fishbone of ``groups`` (category, factors) with ``effect`` at its head."""
    return Figure(
        "Fishbone diagram: each bone is a category of contributing factors, "
        "the head is the failure.",
        mermaid=mermaid(effect, groups),
        svg=svg(effect, groups),
    )


def _name(category: FishboneCategory | None) -> str:
    return category.value if category is not None else "uncategorized"


def _label(text: str) -> str:
    return "".join(_MERMAID.get(char, char) for char in inline(text))


def mermaid(effect: str, groups: Groups) -> str:
    """The Mermaid flowchart of the fishbone, typed text in quoted, escaped labels."""
    lines = ["flowchart LR", f'    effect["{_label(effect)}"]']
    for n, (category, factors) in enumerate(groups, start=1):
        lines.append(f'    c{n}["{_name(category)}"] --> effect')
        lines.extend(
            f'    f{n}_{m}["{_label(factor)}"] --> c{n}'
            for m, factor in enumerate(factors, start=1)
        )
    return "\n".join(lines)


def _wrapped(text: str) -> list[str]:
    lines = textwrap.wrap(inline(text), _WRAP, break_long_words=True) or [""]
    if len(lines) > _LINES:
        lines = [*lines[: _LINES - 1], lines[_LINES - 1][: _WRAP - 1] + "…"]
    return lines


def svg(effect: str, groups: Groups) -> str:
    """The fishbone as an inline SVG element: bones above and below a spine to the effect."""
    columns = (len(groups) + 1) // 2
    above = [g for n, g in enumerate(groups) if n % 2 == 0]
    below = [g for n, g in enumerate(groups) if n % 2 == 1]

    def height(half: list[tuple[FishboneCategory | None, Sequence[str]]]) -> int:
        lines = [sum(len(_wrapped(f)) for f in factors) + len(factors) for _, factors in half]
        return 40 + _LINE * max(lines, default=0)

    top, bottom = height(above), height(below)
    spine = top + 10
    width = 20 + columns * _COLUMN + _HEAD + 10
    total = spine + bottom + 10
    head_x = 20 + columns * _COLUMN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total}" '
        f'width="{width}" height="{total}" role="img" aria-labelledby="fishbone-title" '
        'font-family="system-ui, sans-serif" font-size="11">',
        f'<title id="fishbone-title">Fishbone diagram: {_xml(inline(effect))}</title>',
        f'<line x1="10" y1="{spine}" x2="{head_x}" y2="{spine}" stroke="#37474f" '
        'stroke-width="3"/>',
        f'<rect x="{head_x}" y="{spine - 30}" width="{_HEAD}" height="60" rx="6" '
        'fill="#fff3e0" stroke="#e65100"/>',
    ]
    for n, line in enumerate(_wrapped(effect)[:3]):
        parts.append(
            f'<text x="{head_x + 10}" y="{spine - 12 + n * _LINE}" font-weight="bold">'
            f"{_xml(line)}</text>"
        )
    for half, up in ((above, True), (below, False)):
        for column, (category, factors) in enumerate(half):
            parts.extend(_bone(category, factors, column, spine, up))
    parts.append("</svg>")
    return "\n".join(parts)


def _bone(
    category: FishboneCategory | None, factors: Sequence[str], column: int, spine: int, up: bool
) -> list[str]:
    """One category's bone: a slanted line to the spine, its name at the end, its factors."""
    left = 20 + column * _COLUMN
    lines = [line for factor in factors for line in ["", *_wrapped(factor)]]
    reach = 30 + _LINE * len(lines)
    end_y = spine - reach if up else spine + reach
    name_y = end_y - 6 if up else end_y + 16
    parts = [
        f'<g id="fishbone-{_name(category)}">',
        f'<line x1="{left + _COLUMN - 50}" y1="{end_y}" x2="{left + _COLUMN - 10}" y2="{spine}" '
        'stroke="#607d8b" stroke-width="2"/>',
        f'<text x="{left + _COLUMN - 50}" y="{name_y}" text-anchor="middle" font-weight="bold" '
        f'fill="#263238">{_name(category)}</text>',
    ]
    y = (end_y + 4) if up else (spine + 14)
    for line in lines:
        if line:
            parts.append(f'<text x="{left}" y="{y}" fill="#37474f">{_xml(line)}</text>')
        y += _LINE
    parts.append("</g>")
    return parts


def _xml(text: str) -> str:
    return html.escape(text, quote=True)
