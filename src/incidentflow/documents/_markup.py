r"""Escaping what people typed, for each format a document is written in.

Everything a responder typed — a title, an update, a why — goes through one of these before it
is placed in a document, so it reads as the words it is and never as markup: no heading, list,
table cell, emphasis, link, image, HTML tag or mention can come out of typed text.

- :func:`inline` is the typed text on one line: runs of white space (line breaks included)
  become one space, control characters — which could drive a terminal — become visible
  ``U+FFFD``, and every other character that prints as nothing or moves the text around
  (zero-width spaces and joiners, bidi overrides such as U+202E, see
  :func:`incidentflow.identities.is_invisible`) is written out as ``<U+202E>``.  Plain text
  uses it as is; every other format starts from it.
- :func:`markdown` backslash-escapes every ASCII punctuation character, which CommonMark allows
  for all of them, so ``*``, ``[``, ``<``, ``|``, ``#``, ``@``, ``:`` and the rest are literal.
- :func:`html` escapes ``&``, ``<``, ``>``, ``"`` and ``'``.
- :func:`slack` escapes ``&``, ``<`` and ``>``, Slack's own rule, so ``<!here>``, ``<@U1>`` and
  ``<http://x|y>`` cannot be formed.

>>> print(markdown("**bold** [link](http://x) <b>"))
\*\*bold\*\* \[link\]\(http\:\/\/x\) \<b\>
>>> print(html("<script>alert('x')</script>"))
&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;
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

__all__ = ["html", "inline", "markdown", "slack"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def inline(text: str) -> str:
    """``text`` on one line, white space collapsed, invisible characters made visible."""
    return show_invisible(_CONTROL.sub("\ufffd", _SPACE.sub(" ", text)).strip())


def markdown(text: str) -> str:
    """``text`` as literal CommonMark/GFM inline content, on one line."""
    return _PUNCTUATION.sub(r"\\\1", inline(text))


def html(text: str) -> str:
    """``text`` as literal HTML content or attribute value, on one line."""
    return _html.escape(inline(text), quote=True)


def slack(text: str) -> str:
    """``text`` as literal Slack ``mrkdwn``/``plain_text`` content, on one line."""
    return inline(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
