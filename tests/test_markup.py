"""Escaping typed text: it renders as typed, reads cleanly raw, and only http(s) URLs link."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from hostile import Structure
from incidentflow.documents._blocks import (
    BulletList,
    NumberedList,
    Paragraph,
    Section,
    Table,
    Text,
    label,
    ours,
    typed,
)
from incidentflow.documents._markup import html, inline, markdown, urls
from incidentflow.testing import texts


def commonmark() -> MarkdownIt:
    """CommonMark with GitHub's tables and strikethrough, links shown exactly as written."""
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    md.normalizeLinkText = lambda link: link  # type: ignore[method-assign]
    return md


RENDER = commonmark()

# Text that looks like markup of every kind, at every place it could start something.
NASTY = [
    "**bold**", "*em*", "_em_", "__strong__", "`code`", "```", "~~~", "~~gone~~", "~x~",
    "[link](https://evil.example)", "![img](https://evil.example/x.png)", "[ref]: /url",
    "[x][y]", "[x]()", "<script>alert(1)</script>", "<a href='x'>x</a>", "</p>", "<!-- c -->",
    "<?php ?>", "<!DOCTYPE x>", "<![CDATA[x]]>", "<http://x>", "<a@b.co>", "javascript:alert(1)",
    "@here", "@org/team", "a@b.co", "https://x.example/a_(b)", "https://x.example/*a*",
    "http://x.example.", "https://", "ftp://x.example", "# heading", "###### h6", "#######",
    "#", "- item", "-", "* item", "+ item", "1. item", "2) item", "123456789. x", "> quote",
    ">", "| a | b |", "|", "---", "***", "_ _ _", "===", "&amp;", "&#x3C;", "&#60;", "&copy",
    "\\", "\\*", "a\\", "\\\\", "\\<", "a  b", "a_b_c", "_a", "a_", "*a", "a*", "2 * 3",
    "x**", "**", "C #", "C#", "# #", "\\#", "[a\\]: b", "[]", "]", "[", "(", ")", "!", "&",
    "<", ">", "`", "~", "-1", "1.", "1)", "=", "+", ":", "|-|", "<U+202E>", "\u00a0nbsp",
    "\u202eevil", "tab\there", "line\nbreak", "\x00nul",
]  # fmt: skip

hostile = st.one_of(
    st.sampled_from(NASTY),
    texts(max_size=12),
    st.lists(st.one_of(st.sampled_from(NASTY), texts(max_size=4)), min_size=2, max_size=4).map(
        "".join
    ),
    st.lists(st.one_of(st.sampled_from(NASTY), texts(max_size=4)), min_size=2, max_size=4).map(
        " ".join
    ),
).filter(lambda s: inline(s) != "")

# Prose: words, numbers and the punctuation sentences use, which must come out unescaped.
ORDINARY = ".,:;!?'\"()-/%+=$#"
prose = st.text(
    alphabet=st.sampled_from("abcXYZ019 " + ORDINARY + "éß"), min_size=1, max_size=40
).filter(lambda s: inline(s) != "")


def rendered(markdown_text: str) -> Structure:
    """The page markdown-it makes of ``markdown_text``."""
    return Structure(RENDER.render(markdown_text))


def without_links(page: Structure) -> list[tuple[str, ...]]:
    """The page's tags with its links taken out; each link must be an http(s) URL as typed."""
    return [tag for tag in page.tags if tag[0] not in ("a", "/a")]


def links(page: Structure) -> list[tuple[str, ...]]:
    """The opening tags of the page's links."""
    return [tag for tag in page.tags if tag[0] == "a"]


# Each place typed text stands in a document, built from the blocks documents are made of.
Place = Callable[[str, str], Section]


NOTES = (ours("Notes"),)


def _section(*blocks: object, title: Text = NOTES) -> Section:
    return Section("s", title, tuple(blocks))  # type: ignore[arg-type]


PLACES: dict[str, Place] = {
    "paragraph": lambda a, b: _section(Paragraph((typed(a),))),
    "after our words": lambda a, b: _section(Paragraph((ours("Why: "), typed(a), ours(" (x)")))),
    "two typed spans": lambda a, b: _section(Paragraph((typed(a), typed(b)))),
    "label then typed": lambda a, b: _section(
        BulletList(((label("Ticket:"), ours(" "), typed(a)),))
    ),
    "list items": lambda a, b: _section(BulletList(((typed(a),), (typed(b),)))),
    "numbered items": lambda a, b: _section(NumberedList(((typed(a),), (typed(b), ours("!"))))),
    "table cells": lambda a, b: _section(
        Table(("One", "Two"), (((typed(a),), (typed(b), ours(" "), typed(a))),))
    ),
    "heading": lambda a, b: _section(title=(ours("RCA for "), typed(a))),
    "heading of typed spans": lambda a, b: _section(title=(typed(a), ours(" "), typed(b))),
}


@pytest.mark.parametrize("place", PLACES)
@settings(max_examples=150)
@given(a=hostile, b=hostile)
def test_typed_text_renders_as_typed_and_makes_no_markup(place: str, a: str, b: str) -> None:
    """Anywhere it stands, typed text renders as its words; only its http(s) URLs become links."""
    section = PLACES[place](a, b)
    plain = PLACES[place]("QQfirstQQ", "QQsecondQQ")
    for render, page, reference in (
        ("markdown", rendered(section.markdown()), rendered(plain.markdown())),
        ("html", Structure(section.html()), Structure(plain.html())),
    ):
        assert without_links(reference) == without_links(page), render
        expected = Structure(
            plain.html().replace("QQfirstQQ", html_text(a)).replace("QQsecondQQ", html_text(b))
        ).text
        assert squeezed(expected) == squeezed(page.text), render
        typed_urls = [inline(t)[s:e] for t in (a, b) for s, e in urls(inline(t))]
        for tag in links(page):
            href = dict(attr.split("=", 1) for attr in tag[1:])["href"]
            assert href.startswith(("http://", "https://")), render
            assert href in typed_urls, render
            if render == "html":
                assert "rel=noopener noreferrer" in tag


def squeezed(text: list[str]) -> str:
    """Text content without white space (renderers lay out the space between tags apart)."""
    return "".join("".join(text).split())


def html_text(text: str) -> str:
    """``text`` as the literal HTML content a reference page would hold."""
    return inline(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@given(text=prose)
def test_prose_is_written_as_typed(text: str) -> None:
    """Words and ordinary punctuation in the middle of a line are written without a backslash."""
    assume("://" not in text)
    line = inline(text)
    assert line == markdown(text, before=" ", after=" ")
    assert line == markdown(text, before=" ", after=" ", cell=True)


@given(text=prose)
def test_prose_starting_a_block_escapes_at_most_its_first_character(text: str) -> None:
    """At the start of a paragraph only a heading, list or quote marker is escaped."""
    assume("://" not in text)
    line = inline(text)
    escaped = markdown(text, start=True)
    assert line == escaped.replace("\\", "", 1)
    if escaped != line:
        marker = line.split(" ")[0]
        assert marker.startswith(("#", "-", "+", ">", *"0123456789")), marker


@pytest.mark.parametrize(
    ("typed_text", "expected"),
    [
        ("GitLab.com", "GitLab.com"),
        ("Priority: P1 (Major Incident)", "Priority: P1 (Major Incident)"),
        ("post_mortem", "post_mortem"),
        ("don't, won't; 41% at 13:55 - fine?", "don't, won't; 41% at 13:55 - fine?"),
        ("AT&T and R&D", "AT&T and R&D"),
        ("5 * 3 = 15", "5 * 3 = 15"),
        ("a < b > c", "a < b > c"),
        ("ana@example.com", "ana@example.com"),
        ("C:\\Users\\ana", "C:\\Users\\ana"),
        ("[P1] Database is down", "[P1] Database is down"),
        ("issue #12", "issue #12"),
        (
            "see https://tickets.example.com/IM-1042.",
            "see <https://tickets.example.com/IM-1042>.",
        ),
        ("(https://x.example/a_(b))", "(<https://x.example/a_(b)>)"),
        ("http://x.example/?q=a%20b&c=d", "<http://x.example/?q=a%20b&c=d>"),
        ("ftp://x.example", "ftp://x.example"),
        ("javascript:alert(1)", "javascript:alert(1)"),
        ("https://", "https://"),
        ("**bold**", "\\*\\*bold\\*\\*"),
        ("_em_", "\\_em\\_"),
        ("~~gone~~", "\\~\\~gone\\~\\~"),
        ("`code`", "\\`code\\`"),
        ("[x](y)", "[x\\](y)"),
        ("<b>", "\\<b>"),
        ("@here", "\\@here"),
        ("&amp;", "\\&amp;"),
        ("a\\*", "a\\\\\\*"),
    ],
)
def test_markdown_escapes_only_what_changes_meaning(typed_text: str, expected: str) -> None:
    """Ordinary text is left as typed; emphasis, code, links, tags, mentions are escaped."""
    assert expected == markdown(typed_text, before=" ", after=" ")


@pytest.mark.parametrize(
    ("typed_text", "expected"),
    [
        ("# heading", "\\# heading"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("* item", "\\* item"),
        ("1. Introduction", "1\\. Introduction"),
        ("2) item", "2\\) item"),
        ("> quote", "\\> quote"),
        ("---", "\\---"),
        ("~~~", "\\~\\~\\~"),
        ("[ref]: /url", "[ref\\]: /url"),
        ("#hashtag", "#hashtag"),
        ("-1 degrees", "-1 degrees"),
        ("2026-03-01 was a Sunday", "2026-03-01 was a Sunday"),
    ],
)
def test_block_markers_are_escaped_only_where_a_block_starts(
    typed_text: str, expected: str
) -> None:
    """A heading, list, quote, fence, break or definition marker is escaped at a block's start."""
    assert expected == markdown(typed_text, start=True)
    assert inline(typed_text) == markdown(typed_text, before=" ")


def test_a_closing_hash_of_a_heading_is_kept() -> None:
    """In a heading, a trailing " #" would be dropped as a closing sequence, so it is escaped."""
    assert "C \\#" == markdown("C #", before=" ", heading=True)
    assert "C#" == markdown("C#", before=" ", heading=True)
    assert "C #" == markdown("C #", before=" ", after=" ", heading=True)


def test_a_pipe_is_escaped_in_table_cells_only() -> None:
    """A "|" would end a table cell; elsewhere it is an ordinary character."""
    assert "a \\| b" == markdown("a | b", cell=True)
    assert "a | b" == markdown("a | b")


def test_html_links_urls_safely_and_escapes_the_rest() -> None:
    """An http(s) URL is a link opened without a referrer; everything else is escaped text."""
    assert (
        'ticket: <a href="https://x.example/?a=1&amp;b=2" rel="noopener noreferrer">'
        "https://x.example/?a=1&amp;b=2</a>, &lt;b&gt;javascript:alert(1)"
        == html("ticket: https://x.example/?a=1&b=2, <b>javascript:alert(1)")
    )


def test_urls_stop_before_sentence_punctuation_and_unopened_brackets() -> None:
    """Trailing ".", ",", ")" and quotes end a sentence, not the URL; balanced ones stay."""
    text = 'go to https://a.example/x. Or "https://b.example/(c)", [https://c.example/d]'
    assert [
        "https://a.example/x",
        "https://b.example/(c)",
        "https://c.example/d",
    ] == [text[s:e] for s, e in urls(text)]
