"""What the pickers offer: models, dates, portfolios and spreads of analogues, and dates read from a link."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

import numpy as np

from prometheus.errors import InvalidInput
from prometheus.joint.registry import DEFAULT_JOINT_MODEL_ID, joint_model, joint_model_ids
from prometheus.numbers import whole_or_none
from prometheus.report_files import parse_date
from prometheus.search.index import StateIndex

# Analogues spread in time (SimilarQuery.min_days_apart): days apart -> the choice's words; 0 keeps the ranking
SPREADS = {0: "As ranked", 1: "One per date", 30: "30 days apart", 91: "91 days apart", 365: "A year apart"}
SPREAD_HELP = (
    "The nearest states are often one market moment seen through many books. Spread: skip any analogue "
    "dated too close to a better one, so the list (and what followed it) spans distinct moments."
)


def spread_days(label: str) -> int:
    """The days apart of a spread's words (0 for words not offered)."""
    return next((days for days, words in SPREADS.items() if words == label), 0)


def spread_from_link(raw: str) -> str | None:
    """A link's ``apart=N`` as the spread's words: None unless N is one of the offered spreads."""
    return SPREADS.get(whole_or_none(raw, 1, max(SPREADS)) or 0)


def index_dates(index: StateIndex) -> list[date]:
    """Distinct dates that have at least one state, oldest first."""
    return [d.astype(object) for d in np.unique(index.dates)]


def index_portfolios(index: StateIndex) -> list[str]:
    """Portfolios with at least one state, sorted."""
    return sorted(str(p) for p in index.portfolio_names)


def model_choices(stored: Iterable[str], fitted: Iterable[str] = ()) -> list[str]:
    """The default joint model first, then the registered models ready to use (fitted models once this
    store holds a fit of them) and any model with stored states."""
    ready = [m for m in joint_model_ids() if not joint_model(m).needs_fit or m in set(fitted)]
    return list(dict.fromkeys([DEFAULT_JOINT_MODEL_ID, *ready, *sorted(stored)]))


def parse_day(value: object) -> date | None:
    """A date from a query parameter or widget; None when absent or malformed (a bad link is not an error)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return parse_date(str(value))
    except InvalidInput:
        return None


def nearest_on_or_before(days: Sequence[date], wanted: date | None) -> date | None:
    """The latest of ``days`` not after ``wanted`` (the first day if all are after); the last day if no wish."""
    if not days:
        return None
    ordered = sorted(days)
    if wanted is None:
        return ordered[-1]
    earlier = [d for d in ordered if d <= wanted]
    return earlier[-1] if earlier else ordered[0]
