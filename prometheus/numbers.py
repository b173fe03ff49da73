"""Whole numbers from outside (settings, CLI flags, URL parameters, database URL ports): the one parser.

``int()`` and ``str.isdigit()`` accept what no user means and fail on what a user
may type: ``'²'.isdigit()`` is True but ``int('²')`` raises; ``int('٣')`` is 3 (an
Arabic-Indic digit); ``int('1_000')`` is 1000; ``int(' 7\\n')`` is 7; and a number
of 5,000 digits raises ValueError (Python's 4,300-digit limit) after seconds of work
on longer ones. Here a whole number is ASCII digits with an optional leading minus,
at most :data:`MAX_DIGITS` of them, and every refusal is an :class:`InvalidNumber`
whose message names the value (quoted, truncated) and what would be accepted.
"""

from __future__ import annotations

import math
import re

from prometheus.errors import InvalidInput, InvalidSetting, Setting, shown

MAX_DIGITS = 18  # any count, row, port or k a user means fits in 18 digits (and in an int64)
_WHOLE = re.compile(rf"-?[0-9]{{1,{MAX_DIGITS}}}")


class InvalidNumber(InvalidInput):
    """A value from outside that is not an acceptable whole number (the message says why)."""


def _range_text(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"between {low} and {high}"
    if low is not None:
        return f"at least {low}"
    return f"at most {high}"


def parse_whole(text: object, low: int | None = None, high: int | None = None) -> int:
    """``text`` as a whole number in ``[low, high]``; :class:`InvalidNumber` otherwise.

    Accepts an int (not a bool) as is; a str must be ASCII digits with an optional
    leading minus (no spaces, signs, underscores, exponents or other scripts' digits).
    """
    if isinstance(text, bool):
        raise InvalidNumber(f"{shown(text)} is not a whole number")
    if isinstance(text, int):
        value = text
    else:
        raw = str(text)
        if not _WHOLE.fullmatch(raw):
            too_long = len(raw.lstrip("-")) > MAX_DIGITS and raw.lstrip("-").isascii() and raw.lstrip("-").isdigit()
            reason = f"has more than {MAX_DIGITS} digits" if too_long else "is not a whole number"
            raise InvalidNumber(f"{shown(raw)} {reason}")
        value = int(raw)
    if (low is not None and value < low) or (high is not None and value > high):
        raise InvalidNumber(f"must be {_range_text(low, high)}, got {value}")
    return value


def whole_or_none(text: object, low: int | None = None, high: int | None = None) -> int | None:
    """The whole number in ``text`` within ``[low, high]``, or None: for links, where a bad value is ignored."""
    try:
        return parse_whole(text, low, high)
    except InvalidNumber:
        return None


def whole_setting(text: object, setting: str, low: int | None = None, high: int | None = None) -> int:
    """:func:`parse_whole`, refused as an :class:`InvalidSetting` that names ``setting``."""
    try:
        return parse_whole(text, low, high)
    except InvalidNumber as exc:
        message = str(exc)
        joiner = " " if message.startswith("must") else ": "
        raise InvalidSetting(Setting(setting), joiner + message) from None


def row_number(value: object) -> int | None:
    """A row number sent back by a browser (a Plotly selection's customdata): int, integral float or digits."""
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() and 0 <= value < 2**53 else None
    if isinstance(value, str) and value.endswith(".0"):
        value = value[:-2]
    return whole_or_none(value, low=0)
