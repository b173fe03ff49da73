"""Domain exceptions.

Every face (CLI, Streamlit page) translates these into one short message;
the message text is part of the contract and is asserted in tests.
"""

from __future__ import annotations


class PrometheusError(Exception):
    """Base class: an error whose message is fit to show a user as is."""

    exit_code = 2


class InvalidInput(PrometheusError):
    """A value given by the user (a date, a number, a flag) is not acceptable."""


class InvalidReport(PrometheusError):
    """A risk report cannot be stored or encoded (NaN, wrong type, missing key)."""


class InvalidVector(PrometheusError):
    """A stored or supplied vector has the wrong size, dtype or byte length."""


class UnknownPortfolio(PrometheusError):
    """No report or embedding exists for the portfolio id."""


class NoStateOnDate(PrometheusError):
    """The portfolio exists but has no state on the requested date."""


class UnknownModel(PrometheusError):
    """A model id that no encoder or joint model is registered under."""


class StoreUnavailable(PrometheusError):
    """The database cannot be reached or opened."""


class InvalidHoldings(PrometheusError):
    """A holdings, prices, benchmark or sectors file is malformed."""


class ReadOnlyMode(PrometheusError):
    """A write was attempted while the deployment is configured read-only."""


def shown(value: object, limit: int = 60) -> str:
    """A user-supplied value as it may appear in a one-line message: quoted, escaped, truncated."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    return repr(text)  # quotes it and escapes newlines and control characters


def printable(text: str, limit: int = 60) -> str:
    """Text from data (a key, an id) with control characters escaped, for a one-line message."""
    clean = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(text))
    return clean if len(clean) <= limit else clean[:limit] + "..."
