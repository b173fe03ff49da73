"""Text from data (portfolio ids, messages that quote them) shown as plain text inside markup.

Ids come from imported files. Streamlit renders Markdown in titles, captions, alerts and
widget labels, and Plotly renders a subset of HTML in titles, axes, legends and hovers; an
id such as ``[x](http://evil)``, ``![](http://evil/pixel.png)`` (a remote image every
viewer's browser would fetch), ``**bold**``, ``:red[colour]`` or ``<a href=...>`` must show
as those characters, never as a link, an image or styling.
"""

from __future__ import annotations

import html
import string

_MARKDOWN_SPECIAL = frozenset(string.punctuation)  # CommonMark: any ASCII punctuation may be escaped


def markdown_text(text: object) -> str:
    """``text`` escaped for a Markdown renderer: every ASCII punctuation mark backslash-escaped, one line.

    A backslash before ASCII punctuation always means the character itself (CommonMark),
    so links, images, emphasis, code, math (``$``), directives (``:red[...]``,
    ``:material/...:``) and autolinks (``http://``, ``www.``) never form.
    """
    flat = " ".join(str(text).splitlines()) if "\n" in str(text) or "\r" in str(text) else str(text)
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in flat)


def plotly_text(text: object) -> str:
    """``text`` escaped for Plotly's HTML-like labels: ``<``, ``>`` and ``&`` as entities, which it shows as is."""
    return html.escape(str(text), quote=False)
