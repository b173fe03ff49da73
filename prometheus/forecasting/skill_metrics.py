"""How well forecasts rank and size outcomes, with 95% intervals from a block bootstrap over years.

A resample draws calendar years with replacement (outcomes of nearby dates
overlap, so single queries are not independent; a year is the block). Each
statistic is computed on the resampled queries as if they were the sample: an
observation counts as many times as its year was drawn, so a resample is a
vector of per-year counts and every statistic a weighted one. The same
resamples serve every method, so the interval of a difference between two
methods is honest about their shared noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prometheus.statistics import spearman

RESAMPLES = 1000
SEED = 20240601  # a fixed seed: the same store prints the same intervals


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    replicates: np.ndarray  # the statistic on every resample (for differences)

    def minus(self, other: Estimate) -> Estimate:
        diff = self.replicates - other.replicates
        low, high = _interval(diff)
        return Estimate(self.value - other.value, low, high, diff)


def _interval(samples: np.ndarray) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(finite, [0.025, 0.975])
    return float(low), float(high)


def _estimate(value: float, replicates: np.ndarray) -> Estimate:
    low, high = _interval(replicates)
    return Estimate(float(value), low, high, replicates)


@dataclass(frozen=True)
class YearBootstrap:
    years: np.ndarray  # distinct calendar years of the queries
    counts: np.ndarray  # (resamples, years): how often each year is drawn in each resample

    @classmethod
    def of(cls, query_years: np.ndarray, resamples: int = RESAMPLES) -> YearBootstrap:
        years = np.unique(query_years)
        rng = np.random.default_rng(SEED)
        draws = rng.integers(0, max(len(years), 1), size=(resamples, len(years)))
        counts = np.zeros((resamples, len(years)))
        np.add.at(counts, (np.repeat(np.arange(resamples), len(years)), draws.ravel()), 1.0)
        return cls(years, counts)

    def weights(self, years: np.ndarray) -> np.ndarray:
        return self.counts[:, np.searchsorted(self.years, years)]

    def mean(self, values: np.ndarray, years: np.ndarray) -> Estimate:
        """The mean of per-observation values (NaNs dropped) and its interval."""
        ok = np.isfinite(values)
        if not ok.any():
            return _estimate(float("nan"), np.full(len(self.counts), np.nan))
        position = np.searchsorted(self.years, years[ok])
        sums = np.bincount(position, weights=values[ok], minlength=len(self.years))
        sizes = np.bincount(position, minlength=len(self.years)).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            replicates = (self.counts @ sums) / (self.counts @ sizes)
        return _estimate(float(values[ok].mean()), replicates)

    def spearman(self, forecast: np.ndarray, outcome: np.ndarray, years: np.ndarray, chunk: int = 100) -> Estimate:
        """Pooled Spearman and its interval (weighted mid-ranks: each resample exactly, without copying data)."""
        ok = np.isfinite(forecast) & np.isfinite(outcome)
        f, y, w_all = forecast[ok], outcome[ok], self.weights(years[ok])
        if f.size < 3:
            return _estimate(float("nan"), np.full(len(self.counts), np.nan))
        groups = (_tie_groups(f), _tie_groups(y))
        replicates = np.empty(len(w_all))
        for begin in range(0, len(w_all), chunk):
            w = w_all[begin : begin + chunk]
            replicates[begin : begin + chunk] = _weighted_correlation(
                _weighted_midranks(groups[0], w), _weighted_midranks(groups[1], w), w
            )
        return _estimate(spearman(f, y), replicates)


def _tie_groups(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ordered)) + 1]
    sorted_group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(ordered)]))
    group = np.empty(len(values), dtype=np.int64)
    group[order] = sorted_group
    return order, starts, group


def _weighted_midranks(groups: tuple[np.ndarray, np.ndarray, np.ndarray], weights: np.ndarray) -> np.ndarray:
    order, starts, group = groups
    group_weight = np.add.reduceat(weights[:, order], starts, axis=1)
    before = np.cumsum(group_weight, axis=1) - group_weight
    return (before + (group_weight + 1.0) / 2.0)[:, group]


def _weighted_correlation(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    total = w.sum(axis=1, keepdims=True)
    da = a - (w * a).sum(axis=1, keepdims=True) / total
    db = b - (w * b).sum(axis=1, keepdims=True) / total
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w * da * db).sum(axis=1) / np.sqrt((w * da * da).sum(axis=1) * (w * db * db).sum(axis=1))


def per_date_spearman(forecast: np.ndarray, outcome: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each date's cross-sectional Spearman (NaN where the forecast cannot rank that date)."""
    distinct, inverse = np.unique(days, return_inverse=True)
    values = np.array([spearman(forecast[inverse == i], outcome[inverse == i]) for i in range(len(distinct))])
    return distinct, values


def per_date_worst_quintile_hits(
    forecast: np.ndarray, outcome: np.ndarray, days: np.ndarray, share: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """Each date: of the books whose outcome was among the date's worst ``share``, the part the forecast
    also put there (NaN on dates with fewer than 5 books). Lower is worse for both."""
    distinct, inverse = np.unique(days, return_inverse=True)
    hits = np.full(len(distinct), np.nan)
    for i in range(len(distinct)):
        members = np.flatnonzero((inverse == i) & np.isfinite(forecast) & np.isfinite(outcome))
        if members.size < 5:
            continue
        n = max(1, round(share * members.size))
        worst = members[np.argsort(outcome[members], kind="stable")[:n]]
        flagged = members[np.argsort(forecast[members], kind="stable")[:n]]
        hits[i] = np.intersect1d(worst, flagged).size / n
    return distinct, hits


def years_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of each datetime64[D] date."""
    return days.astype("datetime64[Y]").astype(np.int64) + 1970
