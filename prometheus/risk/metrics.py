"""Return-based risk metrics on trailing windows, evaluated on report rows only.

Each metric takes the (reports, window) matrix of trailing daily returns, so
one numpy expression covers every report date of a portfolio. A window with
fewer than :data:`MIN_COVERAGE` of its days holding a return yields NaN, which
the engine turns into None.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

TRADING_DAYS = 252
MONTH = 21
QUARTER = 63
YEAR = 252
MIN_COVERAGE = 0.8
VAR_LEVEL = 0.95

ANNUALISE = math.sqrt(TRADING_DAYS)


def min_observations(window: int) -> int:
    """Fewest returns a window needs (80% of its days, rounded up)."""
    return math.ceil(MIN_COVERAGE * window - 1e-9)


def trailing(series: np.ndarray, rows: np.ndarray, window: int) -> np.ndarray:
    """(len(rows), window) matrix: row i holds series[rows[i]-window+1 .. rows[i]], NaN-padded."""
    padded = np.concatenate([np.full(window - 1, np.nan), series])
    return sliding_window_view(padded, window)[rows]


class Window:
    """Trailing returns of each report row with the moments several metrics share."""

    def __init__(self, returns: np.ndarray) -> None:
        self.returns = returns
        self.span = returns.shape[1]
        self.valid = np.isfinite(returns)
        self.count = self.valid.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.mean = np.where(self.valid, returns, 0.0).sum(axis=1) / self.count
        self.dev = np.where(self.valid, returns - self.mean[:, None], 0.0)
        self.sum_squares = (self.dev**2).sum(axis=1)

    def enough(self, values: np.ndarray) -> np.ndarray:
        """Keep values of rows whose window has 80% of its days; NaN elsewhere."""
        return np.where(self.count >= min_observations(self.span), values, np.nan)

    def std(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(self.sum_squares / (self.count - 1))


def volatility(window: Window) -> np.ndarray:
    """Annualised sample standard deviation (ddof=1)."""
    return window.enough(window.std() * ANNUALISE)


def value_at_risk(window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Historical 1-day VaR and expected shortfall at 95%, as positive losses.

    The 5% quantile interpolates linearly between order statistics (numpy's
    default); ES is minus the mean of the returns at or below that quantile.
    """
    count = window.count
    ordered = np.sort(window.returns, axis=1)  # NaNs sort last
    position = np.maximum(count - 1, 0) * (1.0 - VAR_LEVEL)
    lo = np.floor(position).astype(int)
    hi = np.minimum(lo + 1, np.maximum(count - 1, 0))
    frac = position - lo
    low = np.take_along_axis(ordered, lo[:, None], axis=1)[:, 0]
    high = np.take_along_axis(ordered, hi[:, None], axis=1)[:, 0]
    quantile = low + frac * (high - low)
    with np.errstate(invalid="ignore", divide="ignore"):
        tail = window.valid & (window.returns <= quantile[:, None])
        shortfall = np.where(tail, window.returns, 0.0).sum(axis=1) / tail.sum(axis=1)
    return window.enough(-quantile), window.enough(-shortfall)


def compound_return(window: Window) -> np.ndarray:
    """Simple return compounded over the window's available days."""
    growth = np.prod(np.where(window.valid, 1.0 + window.returns, 1.0), axis=1)
    return window.enough(growth - 1.0)


def sharpe_sortino(window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Annualised Sharpe and Sortino with a zero risk-free rate and target.

    Sortino's downside deviation is sqrt(mean(min(r, 0)^2)) over all days.
    A zero denominator gives NaN rather than an invented infinity.
    """
    downside = np.where(window.valid, np.minimum(window.returns, 0.0), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        std = window.std()
        down = np.sqrt((downside**2).sum(axis=1) / window.count)
        sharpe = np.where(std > 0, window.mean / std * ANNUALISE, np.nan)
        sortino = np.where(down > 0, window.mean / down * ANNUALISE, np.nan)
    return window.enough(sharpe), window.enough(sortino)


def skew_kurtosis(window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Sample skewness and excess kurtosis, bias-adjusted as pandas computes them."""
    n = window.count.astype(float)
    dev2 = window.dev**2
    with np.errstate(invalid="ignore", divide="ignore"):
        m2 = window.sum_squares / n
        m3 = (dev2 * window.dev).sum(axis=1) / n
        m4 = (dev2**2).sum(axis=1) / n
        g1 = m3 / m2**1.5
        g2 = m4 / m2**2 - 3.0
        skew = np.where(m2 > 0, g1 * np.sqrt(n * (n - 1)) / (n - 2), np.nan)
        kurt = np.where(m2 > 0, ((n + 1) * g2 + 6.0) * (n - 1) / ((n - 2) * (n - 3)), np.nan)
    return window.enough(skew), window.enough(kurt)


def benchmark_relative(year: Window, benchmark: np.ndarray) -> dict[str, np.ndarray]:
    """Beta, correlation and annualised tracking error over days both have a return."""
    both = year.valid & np.isfinite(benchmark)
    count = both.sum(axis=1)
    p = np.where(both, year.returns, 0.0)
    b = np.where(both, benchmark, 0.0)
    # Daily returns are small and few, so raw sums of products lose no precision that matters.
    with np.errstate(invalid="ignore", divide="ignore"):
        p_sum, b_sum = p.sum(axis=1), b.sum(axis=1)
        cov = ((p * b).sum(axis=1) - p_sum * b_sum / count) / (count - 1)
        p_var = ((p * p).sum(axis=1) - p_sum**2 / count) / (count - 1)
        b_var = ((b * b).sum(axis=1) - b_sum**2 / count) / (count - 1)
        beta = np.where(b_var > 0, cov / b_var, np.nan)
        corr = np.where((b_var > 0) & (p_var > 0), cov / np.sqrt(p_var * b_var), np.nan)
        active_var = np.maximum(p_var + b_var - 2.0 * cov, 0.0)  # var(p - b)
        te = np.sqrt(active_var) * ANNUALISE
    enough = count >= min_observations(year.span)
    return {
        "beta_1y": np.where(enough, beta, np.nan),
        "correlation_1y": np.where(enough, np.clip(corr, -1.0, 1.0), np.nan),
        "tracking_error_1y": np.where(enough, te, np.nan),
    }


def drawdowns(nav: np.ndarray, year: Window, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Current drawdown from the running peak since inception, and the 1-year max drawdown.

    The 1-year figure is the worst peak-to-trough fall of the NAV observed on
    the 253 closes spanning the trailing 252 returns, with the peak taken
    inside that window.
    """
    peak = np.fmax.accumulate(nav)
    with np.errstate(invalid="ignore", divide="ignore"):
        current = nav[rows] / peak[rows] - 1.0
        navs = trailing(nav, rows, YEAR + 1)
        window_dd = navs / np.fmax.accumulate(navs, axis=1) - 1.0
    worst = np.fmin.reduce(window_dd, axis=1)
    return current, year.enough(worst)


def return_metrics(
    returns: np.ndarray, benchmark_returns: np.ndarray, nav: np.ndarray, rows: np.ndarray
) -> dict[str, np.ndarray]:
    """Every return-based key of RISK_METRIC_KEYS for the given report rows."""
    year_returns = trailing(returns, rows, YEAR)
    year = Window(year_returns)
    month = Window(year_returns[:, -MONTH:])  # shorter windows are the year's last columns
    quarter = Window(year_returns[:, -QUARTER:])
    var, es = value_at_risk(year)
    sharpe, sortino = sharpe_sortino(year)
    skew, kurt = skew_kurtosis(year)
    drawdown, max_drawdown = drawdowns(nav, year, rows)
    out = {
        "volatility_1m": volatility(month),
        "volatility_3m": volatility(quarter),
        "volatility_1y": volatility(year),
        "var_95_1d": var,
        "es_95_1d": es,
        "drawdown": drawdown,
        "max_drawdown_1y": max_drawdown,
        "sharpe_1y": sharpe,
        "sortino_1y": sortino,
        "return_1m": compound_return(month),
        "return_3m": compound_return(quarter),
        "return_1y": compound_return(year),
        "skew_1y": skew,
        "kurtosis_1y": kurt,
    }
    out.update(benchmark_relative(year, trailing(benchmark_returns, rows, YEAR)))
    return out
