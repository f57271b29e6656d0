r"""Escaping what people typed, for each format a document is written in.

Everything a responder typed — a title, an update, a why — goes through one of these before it
is placed in a document, so it reads as the words it is and never as markup: no heading, list,
table cell, emphasis, HTML tag or mention can come out of typed text.  The one thing typed
text may become is a link: an ``http`` or ``https`` URL in it is made a real link, whose text
is the URL as typed (other schemes, ``javascript:`` and the like, stay text).

- :func:`inline` is the typed text on one line: runs of white space (line breaks included)
  become one space, control characters — which could drive a terminal — become visible
  ``U+FFFD``, and every other character that prints as nothing or moves the text around
  (zero-width spaces and joiners, bidi overrides such as U+202E, see
  :func:`incidentflow.identities.is_invisible`) is written out as ``<U+202E>``.  Plain text
  uses it as is; every other format starts from it.
- :func:`markdown` escapes, with a backslash, only the characters that would mean something to
  a CommonMark (or GitHub) renderer *where they stand*, so the raw text still reads as typed:
  ``GitLab.com``, ``Priority: P1 (Major Incident)`` and ``snake_case`` are left alone, while
  ``**bold**``, ``[x](y)``, ``<b>``, ``@here`` or a ``# heading`` at the start of a line are
  escaped.  What is around the text matters (see :func:`markdown`), and URLs are written as
  autolinks, ``<https://…>``.
- :func:`html` escapes ``&``, ``<``, ``>``, ``"`` and ``'``, and makes URLs links that open
  without telling the target where they came from (``rel="noopener noreferrer"``).
- :func:`slack` escapes ``&``, ``<`` and ``>``, Slack's own rule, so ``<!here>``, ``<@U1>`` and
  ``<http://x|y>`` cannot be formed.

>>> print(markdown("**bold** [link](http://x) <b> on GitLab.com: 5 * 3 = 15"))
\*\*bold\*\* [link\](<http://x>) \<b> on GitLab.com: 5 * 3 = 15
>>> print(markdown("# not a heading", start=True), markdown("a | b", cell=True))
\# not a heading a \| b
>>> print(html("<script>alert('x')</script> see https://example.com/a."))
&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; see <a href="https://example.com/a" rel="noopener noreferrer">https://example.com/a</a>.
>>> print(slack("<!here> & <@U1>"))
&lt;!here&gt; &amp; &lt;@U1&gt;
>>> inline("two\nlines\x1b[2J")
'two lines\ufffd[2J'
>>> inline("invoice\u202efdp.exe")
'invoice<U+202E>fdp.exe'
"""

from __future__ import annotations

import html as _html
import re
import string

from incidentflow.identities import show_invisible

__all__ = ["attribute", "html", "inline", "markdown", "slack", "urls"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")
_ASCII_PUNCTUATION = frozenset(string.punctuation)

# An http or https URL: a host, then the characters RFC 3986 allows (a percent sign only as an
# escape).  Punctuation that ends a sentence is not part of it; see _trim.
_URL = re.compile(
    r"\bhttps?://[A-Za-z0-9](?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*"
)
_TRAILING = ".,:;!?'\"*_~"
_OPENS = {")": "(", "]": "["}
_ENTITY = re.compile(r"&(?:#[xX][0-9A-Fa-f]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);")
# What opens raw HTML or an autolink right after a "<": a tag, a closing tag, a comment,
# a declaration, a processing instruction.
_TAG_START = frozenset(string.ascii_letters + "/!?")
# Block starts, checked where a line begins: ATX headings, list items, block quotes, fences and
# thematic breaks.
_HEADING = re.compile(r"#{1,6}(?: |$)")
_BULLET = re.compile(r"[-+*](?: |$)")
_ORDERED = re.compile(r"[0-9]{1,9}([.)])(?: |$)")
_FENCE = re.compile(r"(?:~~~|```)")
_BREAK = re.compile(r"([-*_])(?: *\1){2,} *$")
_DEFINITION = re.compile(r"\[[^\]]*\]:")


def inline(text: str) -> str:
    """``text`` on one line, white space collapsed, invisible characters made visible."""
    return show_invisible(_CONTROL.sub("\ufffd", _SPACE.sub(" ", text)).strip())


def urls(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` of every http or https URL in ``text``, in order.

    A URL ends before white space and before characters no URL holds; punctuation that ends
    a sentence (``.``, ``,``, ``:``, ``;``, ``!``, ``?``, quotes) and a closing parenthesis or
    bracket it did not open are left out of it.

    >>> text = "see https://en.wikipedia.org/wiki/Fishbone_(diagram), (or https://x.example)."
    >>> [text[start:end] for start, end in urls(text)]
    ['https://en.wikipedia.org/wiki/Fishbone_(diagram)', 'https://x.example']
    """
    # A URL starts with a host character, which _trim never takes off.
    return [(m.start(), m.start() + _trim(m.group())) for m in _URL.finditer(text)]


def _trim(url: str) -> int:
    end = len(url)
    while True:
        last = url[end - 1]
        unopened = last in _OPENS and url.count(last, 0, end) > url.count(_OPENS[last], 0, end)
        if last not in _TRAILING and not unopened:
            break
        end -= 1
    return end


def markdown(
    text: str,
    *,
    before: str = "",
    after: str = "",
    start: bool = False,
    cell: bool = False,
    heading: bool = False,
) -> str:
    """``text`` as literal CommonMark/GFM inline content, on one line, URLs as autolinks.

    Only what would change the meaning where the text stands is escaped.  ``before`` and
    ``after`` are the characters written next to it (``""``: the line begins or ends there);
    ``start`` says the text begins a block (a paragraph, a list item), where ``#``, ``-``, ``1.``
    or ``>`` would open one; ``cell`` that it is in a table cell, where ``|`` ends the cell;
    ``heading`` that it is in a heading, where a closing ``#`` would be dropped.
    """
    line = inline(text)
    out: list[str] = []
    position = 0
    for url_start, url_end in urls(line):
        nxt = "<"
        out.append(
            _escape(line[position:url_start], _last(out, before), nxt, start and not out, cell)
        )
        out.append(f"<{line[url_start:url_end]}>")
        position = url_end
    tail = line[position:]
    out.append(_escape(tail, _last(out, before), after, start and position == 0, cell))
    result = "".join(out)
    if heading and not after:
        result = _closing_hashes(result, before)
    return result


def _last(out: list[str], before: str) -> str:
    """The last character written: ``out`` ends with a URL (never empty) if it has anything."""
    return out[-1][-1] if out else before


def _space(char: str) -> bool:
    return char == "" or char.isspace()


def _escape(text: str, before: str, after: str, start: bool, cell: bool) -> str:
    """Escape ``text`` (no URL in it), written between ``before`` and ``after``."""
    escaped = [False] * len(text)
    if start:
        _block_start(text, escaped)
    n = 0
    while n < len(text):
        char = text[n]
        if char in "*_~":
            run_end = n
            while run_end < len(text) and text[run_end] == char:
                run_end += 1
            prev = text[n - 1] if n else before
            nxt = text[run_end] if run_end < len(text) else after
            if not _inert(char, prev, nxt):
                for k in range(n, run_end):
                    escaped[k] = True
            n = run_end
            continue
        nxt = text[n + 1] if n + 1 < len(text) else after
        prev = text[n - 1] if n else before
        if (
            char == "`"
            or (char == "\\" and (nxt == "" or nxt in _ASCII_PUNCTUATION or nxt == "<"))
            or (char == "<" and nxt in _TAG_START)
            or (char == "]" and nxt in ("(", "["))
            or (char == "&" and (_ENTITY.match(text, n) or (n + 1 == len(text) and _word(after))))
            or (char == "@" and not _word(prev) and (_word(nxt) or nxt == ""))
            or (char == "|" and cell)
        ):
            escaped[n] = True
        n += 1
    return "".join("\\" + c if e else c for c, e in zip(text, escaped, strict=True))


def _word(char: str) -> bool:
    return bool(char) and (char.isalnum() or char in "#")


def _inert(char: str, prev: str, nxt: str) -> bool:
    """Whether a run of ``*``, ``_`` or ``~`` can neither open nor close emphasis.

    By CommonMark's rules (and GitHub's strikethrough), whatever else is on the line.
    """
    if _space(prev) and _space(nxt):
        return True
    # An underscore inside a word (snake_case) never opens or closes emphasis.
    return char == "_" and prev.isalnum() and nxt.isalnum()


def _block_start(text: str, escaped: list[bool]) -> None:
    """Mark what would open a block at the start of a line: a heading, a list, a quote."""
    if not text:
        return
    ordered = _ORDERED.match(text)
    if ordered:
        escaped[ordered.start(1)] = True
    elif _HEADING.match(text) or _BULLET.match(text) or _BREAK.match(text) or text[0] == ">":
        escaped[0] = True
    fence = _FENCE.match(text)
    if fence:
        for n in range(fence.end()):
            escaped[n] = True
    definition = _DEFINITION.match(text)
    if definition:
        escaped[definition.end() - 2] = True


def _closing_hashes(line: str, before: str) -> str:
    """Escape a run of ``#`` ending a heading that CommonMark would drop as a closing one."""
    stripped = line.rstrip("#")
    if stripped == line or (stripped and stripped[-1] == "\\"):
        return line
    if (stripped and stripped[-1] == " ") or (not stripped and _space(before)):
        return stripped + "\\" + line[len(stripped) :]
    return line


def html(text: str) -> str:
    """``text`` as literal HTML content (URLs made links), on one line."""
    line = inline(text)
    out: list[str] = []
    position = 0
    for start, end in urls(line):
        url = _html.escape(line[start:end], quote=True)
        out.append(_html.escape(line[position:start], quote=True))
        out.append(f'<a href="{url}" rel="noopener noreferrer">{url}</a>')
        position = end
    out.append(_html.escape(line[position:], quote=True))
    return "".join(out)


def attribute(text: str) -> str:
    """``text`` as a literal HTML attribute value or ``<title>``, on one line, no links."""
    return _html.escape(inline(text), quote=True)


def slack(text: str) -> str:
    """``text`` as literal Slack ``mrkdwn``/``plain_text`` content, on one line."""
    return inline(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
