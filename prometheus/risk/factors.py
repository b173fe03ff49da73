"""Holdings-based factor exposures from cross-sectional stock scores.

Each stock gets a score per report date; the portfolio's exposure is the
weight-weighted sum of its holdings' scores (weights are fractions of NAV, so
a 1.5x book carries 1.5x the exposure). Style scores are cross-sectional
z-scores among the names listed on that date; market beta is the stock's own
252-day regression beta, so the book's figure is its ex-ante beta from what
it holds today (``beta_1y`` in the risk metrics is the ex-post beta of its
realised returns).

The data set has no market capitalisation or book value, so ``size`` and
``value`` are always None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from prometheus.reports import FACTOR_KEYS
from prometheus.risk.metrics import MIN_COVERAGE, MONTH, YEAR, min_observations

MIN_CROSS_SECTION = 3  # fewer listed names cannot give a meaningful z-score


@dataclass(frozen=True)
class StockScores:
    """Per-stock scores on the report rows, each (rows, names); NaN = no score."""

    market_beta: np.ndarray
    momentum: np.ndarray
    low_volatility: np.ndarray
    short_term_reversal: np.ndarray


def cross_sectional_z(raw: np.ndarray) -> np.ndarray:
    """Z-score each row over its finite entries (population std)."""
    valid = np.isfinite(raw)
    count = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(valid, raw, 0.0).sum(axis=1) / count
        dev = np.where(valid, raw - mean[:, None], 0.0)
        std = np.sqrt((dev**2).sum(axis=1) / count)
        z = (raw - mean[:, None]) / std[:, None]
    usable = (count >= MIN_CROSS_SECTION) & (std > 0)
    return np.where(usable[:, None] & valid, z, np.nan)


def stock_scores(prices: pd.DataFrame, benchmark_returns: np.ndarray, rows: np.ndarray) -> StockScores:
    """Scores for every name on the report rows.

    ``prices`` is the raw panel (NaN = not listed). The cross-section on a date
    is the names priced that day. Momentum is the 12-1 month return
    P[t-21]/P[t-252]-1 and reversal the 1-month return P[t]/P[t-21]-1, with
    the last price on or before each lag; volatility and beta use the daily
    returns of the trailing 252 days (a day next to a missing price has none)
    and need 80% of them.
    """
    filled = prices.ffill()
    listed = prices.notna().to_numpy()[rows]
    values = filled.to_numpy()
    daily = prices / prices.shift(1) - 1.0

    def lagged(lag: int) -> np.ndarray:
        back = rows - lag
        out = np.full((len(rows), values.shape[1]), np.nan)
        ok = back >= 0
        out[ok] = values[back[ok]]
        return out

    with np.errstate(invalid="ignore", divide="ignore"):
        momentum = lagged(MONTH) / lagged(YEAR) - 1.0
        reversal = values[rows] / lagged(MONTH) - 1.0
    need = min_observations(YEAR)
    vol = daily.rolling(YEAR, min_periods=need).std().to_numpy()[rows]
    bench = pd.Series(benchmark_returns, index=prices.index)
    # The benchmark's variance is taken over the same days as each stock's covariance.
    bench_panel = pd.DataFrame(np.where(daily.notna().to_numpy(), bench.to_numpy()[:, None], np.nan), index=daily.index)
    cov = daily.rolling(YEAR, min_periods=need).cov(bench).to_numpy()[rows]
    bench_var = bench_panel.rolling(YEAR, min_periods=need).var().to_numpy()[rows]
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = np.where(bench_var > 0, cov / bench_var, np.nan)

    def scored(raw: np.ndarray) -> np.ndarray:
        return cross_sectional_z(np.where(listed, raw, np.nan))

    return StockScores(
        market_beta=np.where(listed, beta, np.nan),
        momentum=scored(momentum),
        low_volatility=-scored(vol),
        short_term_reversal=-scored(reversal),
    )


def subset(scores: StockScores, mask: np.ndarray) -> StockScores:
    """The scores on a subset of the report rows."""
    return StockScores(
        market_beta=scores.market_beta[mask],
        momentum=scores.momentum[mask],
        low_volatility=scores.low_volatility[mask],
        short_term_reversal=scores.short_term_reversal[mask],
    )


def exposure(weights: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Sum of weight x score over scored names; NaN when unscored names carry over 20% of gross.

    An all-cash book has exposure 0.
    """
    absolute = np.abs(np.nan_to_num(weights))
    gross = absolute.sum(axis=1)
    scored = np.isfinite(score) & np.isfinite(weights)
    covered = np.where(scored, absolute, 0.0).sum(axis=1)
    total = np.where(scored, weights * np.where(scored, score, 0.0), 0.0).sum(axis=1)
    enough = (gross == 0) | (covered >= MIN_COVERAGE * gross - 1e-12)
    return np.where(enough, total, np.nan)


def factor_exposures(weights: np.ndarray, scores: StockScores) -> dict[str, np.ndarray]:
    """Every key of FACTOR_KEYS; size and value are NaN (no data)."""
    missing = np.full(weights.shape[0], np.nan)
    out = {
        "market_beta": exposure(weights, scores.market_beta),
        "momentum": exposure(weights, scores.momentum),
        "low_volatility": exposure(weights, scores.low_volatility),
        "size": missing,
        "value": missing,
        "short_term_reversal": exposure(weights, scores.short_term_reversal),
    }
    return {key: out[key] for key in FACTOR_KEYS}
