"""Database URLs: split, checked before use, shown without secrets; secret fragments scrubbed from any text.

A URL may carry a secret in three places: the password of ``user:password@``, a
query parameter (``?password=``, ``sslpassword=``, ``PASSWORD=``, ...), and, when a
password holds an unescaped ``@``, in what a parser takes for the host (SQLAlchemy
reads ``bob:se@cret@db`` as password ``se``, host ``cret@db``, and libpq then
echoes ``cret@db`` in its error). So the user information is everything up to the
*last* ``@``; such a URL is refused before any driver sees it; every query
parameter whose name mentions a password, key, token or secret is masked; a text
that is not a URL at all is never echoed; and :func:`redact` removes every
fragment of a secret (the whole, and each piece between separators) from messages
and logs.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import unquote

from prometheus.errors import StoreUnavailable
from prometheus.numbers import InvalidNumber, parse_whole

MASK = "***"
NOT_A_URL = "(a text that is not a database URL)"
URL_FORMS = "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
NOT_A_URL_MESSAGE = "the database URL cannot be read (it is not shown: it may hold a password)"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://(.*)\Z", re.DOTALL)
_SECRET_NAME = re.compile(r"pass|pwd|secret|token|key|credential|auth", re.IGNORECASE)
_PIECES = re.compile(r"[@:/?#&=;,\s]+")
MIN_FRAGMENT = 3  # shorter pieces of a secret are not scrubbed on their own: they would blank common words


@dataclass(frozen=True)
class _Parts:
    scheme: str
    userinfo: str | None  # everything before the last "@" (never for SQLite, whose paths may hold "@")
    rest: str  # host[:port][/database][?query], or a SQLite path and query


def _split(url: str) -> _Parts | None:
    found = _SCHEME.match(url)
    if found is None:
        return None
    scheme, body = found.groups()
    if scheme.lower().startswith("sqlite"):
        return _Parts(scheme, None, body)
    userinfo, at, rest = body.rpartition("@")
    return _Parts(scheme, userinfo, rest) if at else _Parts(scheme, None, body)


def _query_items(rest: str) -> tuple[str, list[tuple[str, str | None]]]:
    head, _, query = rest.partition("?")
    items: list[tuple[str, str | None]] = []
    for item in query.split("&") if query else []:
        name, equals, value = item.partition("=")
        items.append((name, value if equals else None))
    return head, items


def _is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(unquote(name)))


def mask_url(url: object) -> str:
    """The URL as it may be shown to anyone: password and secret parameters as ``***``; a non-URL not at all."""
    parts = _split(str(url))
    if parts is None:
        return NOT_A_URL
    head, items = _query_items(parts.rest)
    if items:
        shown_items = [
            name if value is None else f"{name}={MASK if _is_secret_name(name) else value}" for name, value in items
        ]
        head += "?" + "&".join(shown_items)
    if parts.userinfo is None:
        return f"{parts.scheme}://{head}"
    user, colon, _ = parts.userinfo.partition(":")
    return f"{parts.scheme}://{user}{':' + MASK if colon else ''}@{head}"


def _with_pieces(secret: str) -> set[str]:
    found = {secret, unquote(secret)}
    for text in list(found):
        found.update(piece for piece in _PIECES.split(text) if len(piece) >= MIN_FRAGMENT)
    return {f for f in found if f}


def url_secrets(url: object) -> set[str]:
    """Every text that would give away part of a secret in ``url`` (for :func:`redact`)."""
    text = str(url)
    parts = _split(text)
    if parts is None:
        return _with_pieces(text) if text else set()  # not a URL: all of it may be a secret
    found: set[str] = set()
    if parts.userinfo is not None:
        _, colon, password = parts.userinfo.partition(":")
        if colon and password:
            found |= _with_pieces(password)
        if "@" in parts.userinfo:  # a parser splitting at the first "@" sees part of it as the host
            found |= _with_pieces(parts.userinfo.split("@", 1)[1])
    for name, value in _query_items(parts.rest)[1]:
        if value and _is_secret_name(name):
            found |= _with_pieces(value)
    return found


def redact(text: str, secrets: set[str] | frozenset[str]) -> str:
    """``text`` with every secret fragment replaced by ``***`` (longest first, so no piece is left over)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


def redact_urls(text: str, urls: list[str] | tuple[str, ...]) -> str:
    """``text`` with each URL replaced by its masked form, then any remaining fragment of its secrets scrubbed."""
    secrets: set[str] = set()
    for url in urls:
        if url:
            text = text.replace(url, mask_url(url))
            secrets |= url_secrets(url)
    return redact(text, secrets)


def check_database_url(url: str) -> None:
    """Refuse, before any driver sees it, a URL that would be misread: a stray ``@`` or a port that is no number."""
    parts = _split(url)
    if parts is None:
        raise StoreUnavailable(f"{NOT_A_URL_MESSAGE}: {URL_FORMS}")
    if parts.userinfo is not None and "@" in parts.userinfo:
        raise StoreUnavailable(
            f"the database URL {mask_url(url)} has an '@' in its user name or password: "
            "write it as %40 (drivers would take part of the password for the host name)"
        )
    if parts.scheme.lower().startswith("sqlite"):
        return
    host_port = re.split(r"[/?]", parts.rest, maxsplit=1)[0]
    port = host_port.rsplit("]", 1)[-1].rpartition(":")[2] if ":" in host_port.rsplit("]", 1)[-1] else None
    if port is not None and port != "":
        try:
            parse_whole(port, 1, 65535)
        except InvalidNumber:
            raise StoreUnavailable(
                f"the database URL {mask_url(url)} has the port {port[:12]!r}: a port is a number from 1 to 65535"
            ) from None


class RedactingFilter(logging.Filter):
    """Scrubs secret fragments from a log record's message and traceback before any handler writes it."""

    def __init__(self, secrets: set[str]) -> None:
        super().__init__()
        self.secrets = frozenset(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None
        return True
