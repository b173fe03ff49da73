"""Domain exceptions.

Every face (CLI, Streamlit page, job worker) translates these into one short
message; the message text is part of the contract and is asserted in tests.
A refused setting is named in the face's own words: the app says "the start
date", the CLI says ``--start`` (see :class:`InvalidSetting`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date


class PrometheusError(Exception):
    """Base class: an error whose message is fit to show a user as is."""

    exit_code = 2


class InvalidInput(PrometheusError):
    """A value given by the user (a date, a number, a file) is not acceptable."""


@dataclass(frozen=True)
class Setting:
    """A placeholder for a setting's name inside an :class:`InvalidSetting` message."""

    name: str  # the Python name of the setting: "top_k", "start", ...


# How the app (and any face without names of its own) calls each setting.
SETTING_WORDS: dict[str, str] = {
    "as_of": "the date",
    "start": "the start date",
    "end": "the end date",
    "top_k": "the number of analogues",
    "limit": "the limit of portfolios per date",
    "same_date": "same-date search",
    "horizon_days": "the horizon",
    "every": "the query spacing",
    "k": "the number of neighbours",
    "min_gap_days": "the gap in days",
    "train_end": "the training end date",
    "point_in_time": "point-in-time search",
    "hindsight": "hindsight search",
    "against": "the model to compare with",
    "min_days_apart": "the days between analogues",
}


class InvalidSetting(InvalidInput):
    """A value of one or more named settings is refused.

    The message is a sequence of text and :class:`Setting` parts; ``str()``
    names each setting in words, and a face may name them its own way (the
    CLI by flag) with :meth:`render`. Values are never parsed as a template,
    so user text in a message cannot be mistaken for a setting's name.
    """

    def __init__(self, *parts: str | Setting) -> None:
        self.parts = parts
        super().__init__(self.render({}))

    def render(self, names: Mapping[str, str]) -> str:
        def word(part: str | Setting) -> str:
            if isinstance(part, Setting):
                return names.get(part.name) or SETTING_WORDS.get(part.name, part.name.replace("_", " "))
            return part

        return "".join(word(part) for part in self.parts)


def start_after_end(start: date, end: date) -> InvalidSetting:
    """The one message for a date range given backwards."""
    return InvalidSetting(
        Setting("start"), f" {start.isoformat()} is after ", Setting("end"), f" {end.isoformat()}: swap them"
    )


class InvalidReport(PrometheusError):
    """A risk report cannot be stored or encoded (NaN, wrong type, missing key)."""


class InvalidVector(PrometheusError):
    """A stored or supplied vector has the wrong size, dtype or byte length."""


class UnknownPortfolio(PrometheusError):
    """No report or embedding exists for the portfolio id."""

    of_states = False  # True when it has no embedded states (a face may say where to list those that have)


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
