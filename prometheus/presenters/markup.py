"""Text from data (portfolio ids, messages that quote them) shown as plain text inside markup.

Ids come from imported files. Streamlit renders Markdown in titles, captions, alerts and
widget labels, and Plotly renders a subset of HTML in titles, axes, legends and hovers; an
id such as ``[x](http://evil)``, ``![](http://evil/pixel.png)`` (a remote image every
viewer's browser would fetch), ``**bold**``, ``:red[colour]`` or ``<a href=...>`` must show
as those characters, never as a link, an image or styling.
"""

from __future__ import annotations

import html
import re
import string

_MARKDOWN_SPECIAL = frozenset(string.punctuation)  # CommonMark: any ASCII punctuation may be escaped
WORD_JOINER = "\u2060"  # invisible, zero-width; it ends a word for no one but the pattern matchers below
_AFTER_JOINER = re.compile(r"(?<=[:@])|(?<=www)(?=\.)", re.IGNORECASE)


def markdown_text(text: object) -> str:
    """``text`` for a Markdown renderer, shown as the characters it is: one line, no markup.

    Every ASCII punctuation mark is backslash-escaped (CommonMark: it then means itself),
    so links, images, emphasis, code, math (``$``) and directives (``:red[...]``) never form
    while parsing. Some renderers also rewrite text *after* parsing, where escapes are gone:
    GitHub-style autolinks (``http://``, ``www.``, ``name@host.org``) and shortcodes
    (``:smile:``, ``:material/home:``). An invisible word joiner after each ``:`` and ``@``
    and after ``www`` keeps those patterns from matching (Streamlit's renderer, checked in
    Chromium by tests/browser/test_round2_browser.py); copied text carries those joiners.
    """
    flat = " ".join(str(text).splitlines()) if "\n" in str(text) or "\r" in str(text) else str(text)
    joined = _AFTER_JOINER.sub(WORD_JOINER, flat)
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in joined)


def plotly_text(text: object) -> str:
    """``text`` escaped for Plotly's HTML-like labels: ``<``, ``>`` and ``&`` as entities, which it shows as is."""
    return html.escape(str(text), quote=False)
