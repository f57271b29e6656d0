r"""The blocks a generated document is made of, and their Markdown and HTML renderings.

A document is a sequence of :class:`Section` objects, each a sequence of blocks: paragraphs,
sub-headings, lists, tables and the explicit "Nothing recorded" of a part the record leaves
empty.  Every line is a tuple of :class:`Span` objects.  A *typed* span holds what people
typed and is escaped for the format it is written in (see :mod:`._markup`); the library's own
words are fixed strings, refused if they hold a markup character, and written as they are.
One structure, two renderers: Markdown and HTML cannot say different things.

>>> section = Section("notes", (Span("Notes", typed=False),), (Paragraph((Span("*hi*"),)),))
>>> print(section.markdown())
## Notes
<BLANKLINE>
\*hi\*
<BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from attrs import field, frozen

from incidentflow.errors import InvalidInput

from . import _markup

__all__ = [
    "Block",
    "BulletList",
    "Figure",
    "NestedList",
    "NestedItem",
    "NothingRecorded",
    "NumberedList",
    "Paragraph",
    "Section",
    "Span",
    "Subheading",
    "Table",
    "Text",
    "label",
    "markdown",
    "ours",
    "page",
    "typed",
]

# The library's own words are written into a document as they are, so they must not hold
# anything either format would read as markup or that would break a line.
_UNSAFE_OURS = frozenset("<>&\\`|\n\r\t")


def _safe(value: str) -> None:
    if _UNSAFE_OURS.intersection(value):
        raise InvalidInput(f"the library's own text must not hold markup characters: {value!r}")


def _check_ours(instance: Span, attribute: object, value: str) -> None:
    if not instance.typed:
        _safe(value)


def _our_words(instance: object, attribute: object, value: Any) -> None:
    texts: tuple[str, ...] = (value,) if isinstance(value, str) else value
    for text in texts:
        _safe(text)


# -- the structure ---------------------------------------------------------------------------


@frozen
class Span:
    """A run of text: ``typed`` (people's words, escaped for each format) or the library's.

    ``strong`` marks the library's own labels, rendered in bold.
    """

    text: str = field(validator=_check_ours)
    typed: bool = True
    strong: bool = False

    def markdown(self, *, before: str = "", after: str = "", start: bool = False) -> str:
        """The span as Markdown, written between ``before`` and ``after`` (see :mod:`._markup`).

        ``start`` says the span begins a block, where typed text could open another.
        """
        if self.typed:
            return _markup.markdown(self.text, before=before, after=after, start=start)
        return f"**{self.text}**" if self.strong else self.text

    def html(self) -> str:
        """The span as HTML."""
        if self.typed:
            return _markup.html(self.text)
        return f"<strong>{self.text}</strong>" if self.strong else self.text


Text = tuple[Span, ...]
"""A line of a document: spans joined as they are."""


def typed(text: str) -> Span:
    """A span of what people typed, escaped for each format."""
    return Span(text)


def ours(text: str) -> Span:
    """A span of the library's own words, written as they are."""
    return Span(text, typed=False)


def label(text: str) -> Span:
    """A label in the library's own words, rendered in bold."""
    return Span(text, typed=False, strong=True)


@frozen
class Paragraph:
    """A paragraph of text."""

    spans: Text


@frozen
class Subheading:
    """A sub-section's heading (level 3), in the library's words."""

    text: str = field(validator=_our_words)


@frozen
class BulletList:
    """An unordered list, one line per item."""

    items: tuple[Text, ...]


@frozen
class NumberedList:
    """An ordered list, numbered from 1, one line per item."""

    items: tuple[Text, ...]


@frozen
class Table:
    """A table: the library's column headings and one row of cells per item.

    The columns numbered in ``nowrap`` (from 0; times, say) are styled not to wrap in HTML;
    in Markdown the renderer decides, so what goes in them should hold no place to break a
    line (``14:05`` has none; a space, a hyphen or a dash is one).
    """

    columns: tuple[str, ...] = field(validator=_our_words)
    rows: tuple[tuple[Text, ...], ...]
    nowrap: tuple[int, ...] = ()


@frozen
class NothingRecorded:
    """The explicit "Nothing recorded" of a part the record does not fill: a :class:`Gap`."""

    what: str = field(validator=_our_words)


@frozen
class Figure:
    """A picture with a caption in the library's words: Mermaid source, an inline SVG, or both.

    Markdown shows the Mermaid source as a ``mermaid`` code block (which GitHub, GitLab and
    many wikis draw) and leaves out a figure without one; HTML shows the SVG inline, or the
    Mermaid source as text, so the page still loads nothing.  Whoever builds a figure escapes
    the typed text in it for Mermaid and for SVG (see :mod:`._fishbone`).
    """

    caption: str = field(validator=_our_words)
    mermaid: str | None = None
    svg: str | None = None


@frozen
class NestedItem:
    """One item of a :class:`NestedList`: its line and the items under it."""

    text: Text
    children: tuple[NestedItem, ...] = ()


@frozen
class NestedList:
    """An unordered list whose items may hold lists of their own (a Five Whys tree)."""

    items: tuple[NestedItem, ...]


Block = (
    Paragraph
    | Subheading
    | BulletList
    | NumberedList
    | Table
    | Figure
    | NothingRecorded
    | NestedList
)
"""Anything a section holds."""


@frozen
class Section:
    """One part of a document: its key, its title, its blocks and its heading level.

    A title is spans like any line, so it may hold typed text (an incident's title, say).
    """

    key: str
    title: Text
    blocks: tuple[Block, ...]
    level: int = 2

    @property
    def heading(self) -> str:
        """The section's heading as plain text."""
        return "".join(span.text for span in self.title)

    def markdown(self) -> str:
        """The section as Markdown, ending in a newline."""
        title = _line_markdown(self.title, heading=True)
        parts = [f"{'#' * self.level} {title}", *(_block_markdown(b) for b in self.blocks)]
        return "\n\n".join(part for part in parts if part) + "\n"

    def html(self) -> str:
        """The section as an HTML ``<section>`` element."""
        title = "".join(span.html() for span in self.title)
        tag = f"h{self.level}"
        lines = [f'<section id="{self.key}">', f"<{tag}>{title}</{tag}>"]
        lines.extend(_block_html(b) for b in self.blocks)
        lines.append("</section>")
        return "\n".join(lines)


def markdown(sections: Iterable[Section]) -> str:
    """A document holding ``sections`` as Markdown: the twin of :func:`page`."""
    return "\n".join(section.markdown() for section in sections)


def page(title: str, sections: Iterable[Section]) -> str:
    """A self-contained HTML page titled ``title`` (typed text) holding ``sections``."""
    body = "\n".join(section.html() for section in sections)
    return _PAGE.format(title=_markup.attribute(title), style=_STYLE, body=body)


# -- rendering -------------------------------------------------------------------------------


def _line_markdown(
    text: Text, *, start: bool = False, cell: bool = False, heading: bool = False
) -> str:
    """A line of spans as Markdown, each typed span escaped for what stands around it.

    ``start``: the line begins a block (a paragraph, a list item's text); ``cell``: it is a
    table cell; ``heading``: it is a heading's text.
    """
    edge = " " if cell else ""
    out: list[str] = []
    for n, span in enumerate(text):
        before = _last(out, edge)
        after = _first(text[n + 1 :], edge)
        if span.typed:
            out.append(
                _markup.markdown(
                    span.text,
                    before=before,
                    after=after,
                    start=start and not "".join(out),
                    cell=cell,
                    heading=heading and n == len(text) - 1,
                )
            )
        else:
            out.append(span.markdown())
    return "".join(out)


def _last(out: list[str], edge: str) -> str:
    written = "".join(out)
    return written[-1] if written else edge


def _first(rest: Text, edge: str) -> str:
    """The first character the spans ``rest`` are written as (what a URL starts with: "<")."""
    for span in rest:
        if not span.typed:
            written = span.markdown()
        else:
            written = _markup.inline(span.text)
            if _markup.urls(written)[:1] and _markup.urls(written)[0][0] == 0:
                return "<"
        if written:
            return written[0]
    return edge


def _line_html(text: Text) -> str:
    return "".join(span.html() for span in text)


def _block_markdown(block: Block) -> str:
    if isinstance(block, Paragraph):
        return _line_markdown(block.spans, start=True)
    if isinstance(block, Subheading):
        return f"### {block.text}"
    if isinstance(block, BulletList):
        return "\n".join(f"- {_line_markdown(item, start=True)}" for item in block.items)
    if isinstance(block, NumberedList):
        return "\n".join(
            f"{n}. {_line_markdown(item, start=True)}"
            for n, item in enumerate(block.items, start=1)
        )
    if isinstance(block, NestedList):
        return "\n".join(_nested_markdown(block.items, 0))
    if isinstance(block, Table):
        lines = [
            "| " + " | ".join(block.columns) + " |",
            "|" + "|".join(" --- " for _ in block.columns) + "|",
        ]
        lines.extend(
            "| " + " | ".join(_line_markdown(c, cell=True) for c in row) + " |"
            for row in block.rows
        )
        return "\n".join(lines)
    if isinstance(block, Figure):
        if block.mermaid is None:
            return ""
        return f"```mermaid\n{block.mermaid}\n```\n\n*{block.caption}*"
    return f"*Nothing recorded: {block.what}.*"


def _block_html(block: Block) -> str:
    if isinstance(block, Paragraph):
        return f"<p>{_line_html(block.spans)}</p>"
    if isinstance(block, Subheading):
        return f"<h3>{block.text}</h3>"
    if isinstance(block, BulletList | NumberedList):
        tag = "ul" if isinstance(block, BulletList) else "ol"
        items = "".join(f"\n<li>{_line_html(item)}</li>" for item in block.items)
        return f"<{tag}>{items}\n</{tag}>"
    if isinstance(block, NestedList):
        return _nested_html(block.items)
    if isinstance(block, Table):
        head = "".join(f"<th>{column}</th>" for column in block.columns)
        rows = "".join(
            "\n<tr>"
            + "".join(
                f'<td class="time">{_line_html(cell)}</td>'
                if n in block.nowrap
                else f"<td>{_line_html(cell)}</td>"
                for n, cell in enumerate(row)
            )
            + "</tr>"
            for row in block.rows
        )
        return f"<table>\n<thead>\n<tr>{head}</tr>\n</thead>\n<tbody>{rows}\n</tbody>\n</table>"
    if isinstance(block, Figure):
        if block.svg is not None:
            picture = block.svg
        else:
            picture = f'<pre><code class="language-mermaid">{block.mermaid}</code></pre>'
        return f"<figure>\n{picture}\n<figcaption>{block.caption}</figcaption>\n</figure>"
    return f'<p class="nothing">Nothing recorded: {block.what}.</p>'


def _nested_markdown(items: tuple[NestedItem, ...], level: int) -> list[str]:
    lines: list[str] = []
    for item in items:
        lines.append(f"{'  ' * level}- {_line_markdown(item.text, start=True)}")
        lines.extend(_nested_markdown(item.children, level + 1))
    return lines


def _nested_html(items: tuple[NestedItem, ...]) -> str:
    parts = []
    for item in items:
        under = "\n" + _nested_html(item.children) if item.children else ""
        parts.append(f"\n<li>{_line_html(item.text)}{under}</li>")
    return f"<ul>{''.join(parts)}\n</ul>"


_STYLE = """\
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.5;
       color: #1b1b1b; max-width: 64rem; margin: 2rem auto; padding: 0 1rem; }
h1 { border-bottom: 2px solid #1b1b1b; padding-bottom: .25rem; }
h2 { margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #bbb; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
h1, h2, h3, p, li, figcaption { overflow-wrap: anywhere; }
td { overflow-wrap: break-word; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
a { color: #0b57d0; overflow-wrap: anywhere; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .9rem; }
pre { overflow-x: auto; background: #f6f6f6; padding: .5rem; }
.nothing { color: #8a4b00; font-style: italic; }
@media print { body { max-width: none; margin: 0; } h2 { break-after: avoid; } }"""

_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="generator" content="incidentflow">
<title>{title}</title>
<style>
{style}
</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""
