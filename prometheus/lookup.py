"""Finding a portfolio's state (or report) on a date, and the one message that says
what exists when there is none.

Every face words a missing state the same way: an unknown portfolio, or a
portfolio without a state on that date with the nearest dates it has.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import date

from prometheus.errors import NoStateOnDate, PrometheusError, UnknownPortfolio, shown


def nearest_dates(available: Sequence[date], target: date) -> list[date]:
    """The closest available dates before and after ``target`` (``available`` sorted)."""
    i = bisect.bisect_left(available, target)
    near = []
    if i > 0:
        near.append(available[i - 1])
    if i < len(available):
        near.append(available[i])
    return near


def describe_nearest(available: Sequence[date], target: date) -> str:
    near = nearest_dates(available, target)
    if not near:
        return "none exist yet"
    return "nearest: " + ", ".join(d.isoformat() for d in near)


def unknown_portfolios(portfolio_ids: Sequence[str], what: str) -> UnknownPortfolio:
    """No ``what`` (e.g. "joint-portfolio-core-v1 states", "risk reports") exist for these portfolios."""
    names = ", ".join(shown(p) for p in portfolio_ids)
    error = UnknownPortfolio(f"unknown portfolio {names}: no {what} exist for it")
    error.of_states = what.endswith("states")  # a face may add where to list the portfolios that have some
    return error


def missing_state(portfolio_id: str, what: str, day: date, existing: Sequence[date]) -> PrometheusError:
    """The error for a portfolio without a ``what`` (e.g. "joint-portfolio-core-v1 state") on ``day``.

    ``existing`` are the dates the portfolio has (sorted); none means the portfolio is unknown.
    """
    if not existing:
        return unknown_portfolios([portfolio_id], f"{what}s")
    return NoStateOnDate(
        f"portfolio {shown(portfolio_id)} has no {what} on {day.isoformat()} ({describe_nearest(existing, day)})"
    )
