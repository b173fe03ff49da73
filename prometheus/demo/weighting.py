"""Weighting schemes for the demo book, evaluated on one rebalancing date.

A :class:`Snapshot` holds what a manager could know at that day's close: the
names priced that day and trailing statistics of those with a year of
history. It holds no price level: the data are back-adjusted closes, whose
levels depend on splits and dividends after the day (returns do not). Scores
are plain ``{ticker: value}`` dicts (20 names: numpy on the panel, Python on
the cross-section is fastest). Every scheme returns
``{ticker: weight}`` over listed names only.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

YEAR = 252
MONTH = 21
QUARTER = 63
SHRINKAGE = 0.1  # pull the sample covariance 10% towards its diagonal for stability

Weights = dict[str, float]
Scores = dict[str, float]


class Snapshot:
    """Point-in-time view of the universe at the close of calendar row ``row``."""

    def __init__(self, values: np.ndarray, tickers: list[str], row: int, sectors: dict[str, str]) -> None:
        self.sector = sectors
        today = values[row]
        listed = np.isfinite(today) & np.array([t in sectors for t in tickers])
        self.listed: tuple[str, ...] = tuple(t for t, ok in zip(tickers, listed, strict=True) if ok)
        # Trailing statistics need a full year of prices, so late listings join them a year on.
        history = values[max(row - YEAR, 0) : row + 1]
        seasoned = listed & np.isfinite(history).all(axis=0) & (row >= YEAR)
        self.seasoned: tuple[str, ...] = tuple(t for t, ok in zip(tickers, seasoned, strict=True) if ok)
        self._history = history[:, seasoned]
        recent = values[max(row - MONTH, 0) : row + 1]
        fresh = listed & np.isfinite(recent).all(axis=0) & (row >= MONTH)
        self._month = {t: float(recent[-1, i] / recent[0, i] - 1.0) for i, t in enumerate(tickers) if fresh[i]}

    @cached_property
    def returns(self) -> np.ndarray:
        """(252, seasoned) daily returns of the trailing year."""
        return self._history[1:] / self._history[:-1] - 1.0

    @cached_property
    def volatility(self) -> Scores:
        vol = self.returns.std(axis=0, ddof=1) * np.sqrt(YEAR)
        return dict(zip(self.seasoned, vol.tolist(), strict=True))

    @cached_property
    def momentum(self) -> Scores:
        """12-1 month return: skip the latest month, where short-term reversal dominates."""
        mom = self._history[-1 - MONTH] / self._history[0] - 1.0
        return dict(zip(self.seasoned, mom.tolist(), strict=True))

    @property
    def month_return(self) -> Scores:
        return self._month

    @cached_property
    def covariance(self) -> np.ndarray:
        sample = np.cov(self.returns, rowvar=False)
        return (1.0 - SHRINKAGE) * sample + SHRINKAGE * np.diag(np.diag(sample))

    def in_sectors(self, *sectors: str) -> list[str]:
        return [t for t in self.listed if self.sector.get(t) in sectors]

    def outside_sectors(self, *sectors: str) -> list[str]:
        return [t for t in self.listed if self.sector.get(t) not in sectors]

    def available(self, names: list[str] | tuple[str, ...]) -> list[str]:
        return [t for t in names if t in self.listed]

    def fill(self, core: list[str], substitutes: list[str], size: int) -> list[str]:
        """The listed core names, topped up with listed substitutes until ``size`` names."""
        chosen = self.available(core)
        for name in self.available(substitutes):
            if len(chosen) >= size:
                break
            if name not in chosen:
                chosen.append(name)
        return chosen


def equal(names: list[str] | tuple[str, ...], total: float = 1.0) -> Weights:
    return {t: total / len(names) for t in names} if names else {}


def proportional(scores: Scores, total: float = 1.0) -> Weights:
    positive = {t: v for t, v in scores.items() if v > 0}
    norm = sum(positive.values())
    return {t: total * v / norm for t, v in positive.items()} if positive else {}


def merge(*books: Weights) -> Weights:
    out: Weights = {}
    for book in books:
        for ticker, weight in book.items():
            out[ticker] = out.get(ticker, 0.0) + weight
    return {t: w for t, w in out.items() if w != 0.0}


def scaled(book: Weights, factor: float) -> Weights:
    return {t: factor * w for t, w in book.items()}


def tilt(overweight: list[str], rest: list[str], share: float) -> Weights:
    """``share`` of NAV equally in ``overweight``, the remainder equally in ``rest``."""
    if not overweight:
        return equal(rest)
    if not rest:
        return equal(overweight)
    return merge(equal(overweight, share), equal(rest, 1.0 - share))


def fixed(snapshot: Snapshot, targets: Weights) -> Weights:
    """Fixed target weights over the listed names, rescaled to the same total."""
    listed = {t: w for t, w in targets.items() if t in snapshot.listed}
    scale = sum(targets.values()) / sum(listed.values()) if listed else 0.0
    return scaled(listed, scale)


def capped(weights: Weights, cap: float) -> Weights:
    """Clip long-only weights at ``cap`` and hand the excess to the uncapped names pro rata."""
    out = dict(weights)
    for _ in range(len(out)):
        over = [t for t, w in out.items() if w > cap + 1e-12]
        free = {t: w for t, w in out.items() if w < cap - 1e-12}
        if not over or not free:
            break
        excess = sum(out[t] - cap for t in over)
        free_total = sum(free.values())
        for t in over:
            out[t] = cap
        for t, w in free.items():
            out[t] = w + excess * w / free_total
    return out


def minimum_variance(snapshot: Snapshot, cap: float | None = None) -> Weights:
    """Long-only minimum variance by active set: solve w ~ inv(S) 1, drop the most negative, repeat."""
    cov = snapshot.covariance
    active = list(range(len(snapshot.seasoned)))
    while active:
        raw = np.linalg.solve(cov[np.ix_(active, active)], np.ones(len(active)))
        weights = raw / raw.sum()
        if (weights >= 0).all():
            book = {snapshot.seasoned[i]: float(w) for i, w in zip(active, weights, strict=True) if w > 0}
            return capped(book, cap) if cap is not None else book
        active.pop(int(np.argmin(weights)))
    return {}


def inverse_volatility(snapshot: Snapshot, power: float = 1.0, total: float = 1.0) -> Weights:
    return proportional({t: v**-power for t, v in snapshot.volatility.items() if v > 0}, total)


def top(scores: Scores, count: int) -> list[str]:
    """Highest scores first; ties keep universe order (sorted() is stable)."""
    return [t for t, _ in sorted(scores.items(), key=lambda kv: -kv[1])[:count]]


def bottom(scores: Scores, count: int) -> list[str]:
    return [t for t, _ in sorted(scores.items(), key=lambda kv: kv[1])[:count]]


def rank_weighted(names: list[str]) -> Weights:
    """Linearly declining weights: the first name gets n shares, the last one share."""
    n = len(names)
    return {t: (n - i) / (n * (n + 1) / 2) for i, t in enumerate(names)}


def zscores(scores: Scores) -> Scores:
    values = np.array(list(scores.values()))
    std = values.std()
    return {t: float((v - values.mean()) / std) if std > 0 else 0.0 for t, v in scores.items()}


def sector_balanced(snapshot: Snapshot) -> Weights:
    """Equal weight per sector present, then equal within each sector."""
    sectors = sorted({snapshot.sector[t] for t in snapshot.listed})
    return merge(*(equal(snapshot.in_sectors(s), 1.0 / len(sectors)) for s in sectors))


def volatility_target(snapshot: Snapshot, target: float, floor: float, ceiling: float) -> Weights:
    """Equal weight scaled so the basket's trailing 3-month volatility meets ``target``."""
    basket = snapshot.returns[-QUARTER:].mean(axis=1)
    realised = float(basket.std(ddof=1) * np.sqrt(YEAR))
    scale = min(max(target / realised, floor), ceiling) if realised > 0 else 1.0
    return equal(snapshot.seasoned, scale)
