"""Rank statistics shared by the model fits and the skill ledger."""

from __future__ import annotations

import numpy as np


def midranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ordered)) + 1]
    ends = np.r_[starts[1:], len(ordered)]
    ranks = np.empty(len(values))
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def spearman(forecast: np.ndarray, outcome: np.ndarray) -> float:
    """Spearman rank correlation over the pairs where both are known (NaN with fewer than 3)."""
    ok = np.isfinite(forecast) & np.isfinite(outcome)
    if ok.sum() < 3:
        return float("nan")
    a, b = midranks(forecast[ok]), midranks(outcome[ok])
    a -= a.mean()
    b -= b.mean()
    scale = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / scale) if scale > 0 else float("nan")
