"""Buy-and-hold drift between rebalancing dates, vectorised over the calendar.

On a rebalancing date the book is set to its target weights at that day's
close. Until the next rebalancing the share counts and the cash balance stay
fixed, so each position's value moves with its price and the weights drift.
Working relative to the segment's starting NAV lets one set of array
operations cover every day of every segment at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INITIAL_NAV = 1_000_000.0


@dataclass(frozen=True)
class BookPath:
    """Daily path of one portfolio on the price calendar."""

    returns: np.ndarray  # (T,) return of day t over day t-1; NaN up to and including inception
    nav: np.ndarray  # (T,) NAV in currency; NaN before inception
    inception: int  # calendar row of the first rebalancing


def _segment_positions(
    targets: np.ndarray, rebalance_rows: np.ndarray, prices: np.ndarray, rows: np.ndarray, segment: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Position values (fractions of the segment's starting NAV) and the cash left."""
    weights = targets[segment]
    base = prices[rebalance_rows[segment]]
    held = weights != 0
    with np.errstate(invalid="ignore", divide="ignore"):
        # Unheld names may be unlisted (NaN); mask them rather than multiply by 0.
        values = np.where(held, weights * prices[rows] / base, 0.0)
    return values, 1.0 - weights.sum(axis=1)


def simulate_book(targets: np.ndarray, rebalance_rows: np.ndarray, prices: np.ndarray) -> BookPath:
    """Daily returns and NAV for target weights set on ``rebalance_rows``.

    ``targets`` is (rebalances, names), ``prices`` the forward-filled (T, names)
    panel; held names are priced on their rebalancing dates (the readers check it).
    """
    total = prices.shape[0]
    inception = int(rebalance_rows[0])
    days = np.arange(inception + 1, total)
    # A day's return belongs to the segment set at the last rebalance strictly before it.
    segment = np.searchsorted(rebalance_rows, days, side="left") - 1
    now, cash = _segment_positions(targets, rebalance_rows, prices, days, segment)
    before, _ = _segment_positions(targets, rebalance_rows, prices, days - 1, segment)
    nav_now = cash + now.sum(axis=1)
    nav_before = cash + before.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        # A book whose NAV reaches zero is wiped out: no return can be measured.
        day_returns = np.where(nav_before > 0, nav_now / nav_before - 1.0, np.nan)

    returns = np.full(total, np.nan)
    returns[inception + 1 :] = day_returns
    nav = np.full(total, np.nan)
    nav[inception] = INITIAL_NAV
    nav[inception + 1 :] = INITIAL_NAV * np.cumprod(1.0 + day_returns)
    return BookPath(returns=returns, nav=nav, inception=inception)


def weights_at(targets: np.ndarray, rebalance_rows: np.ndarray, prices: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """End-of-day drifted weights (fractions of NAV) on ``rows`` (all >= inception).

    On a rebalancing date the end-of-day book is the new target.
    """
    segment = np.searchsorted(rebalance_rows, rows, side="right") - 1
    values, cash = _segment_positions(targets, rebalance_rows, prices, rows, segment)
    nav = cash + values.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(nav[:, None] > 0, values / nav[:, None], np.nan)
