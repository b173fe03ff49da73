"""Embedding quality on real data: do stress states find other stress states?

For every state whose date lies in a named stress window, take its k nearest
neighbours (cosine) among other portfolios' states on any date, and measure
the share of those neighbours that also lie in a stress window. Compare with
the base rate: the share of all states that lie in a stress window. A second
figure also leaves out neighbours within ``min_gap_days`` of the query's
date, so a crisis must be recognised in another period, not just on the
same days by other books.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prometheus.search.index import StateIndex
from prometheus.stress import STRESS_WINDOWS

QUERY_CHUNK = 512


@dataclass(frozen=True)
class QualityReport:
    states: int
    stress_states: int
    base_rate: float
    neighbour_share: float  # neighbours from other portfolios, any date
    neighbour_share_other_periods: float  # ... and more than min_gap_days away
    k: int
    min_gap_days: int

    @property
    def lift(self) -> float:
        return self.neighbour_share / self.base_rate if self.base_rate else float("nan")

    @property
    def lift_other_periods(self) -> float:
        return self.neighbour_share_other_periods / self.base_rate if self.base_rate else float("nan")

    def lines(self) -> list[str]:
        return [
            f"states: {self.states}, in named stress windows: {self.stress_states} (base rate {self.base_rate:.1%})",
            f"stress states' {self.k} nearest neighbours (other portfolios, any date) in stress windows: "
            f"{self.neighbour_share:.1%} = {self.lift:.2f}x the base rate",
            f"... leaving out neighbours within {self.min_gap_days} days of the query date: "
            f"{self.neighbour_share_other_periods:.1%} = {self.lift_other_periods:.2f}x the base rate",
        ]


def stress_mask(dates: np.ndarray) -> np.ndarray:
    mask = np.zeros(dates.shape[0], dtype=bool)
    for window in STRESS_WINDOWS:
        mask |= (dates >= np.datetime64(window.start)) & (dates <= np.datetime64(window.end))
    return mask


def _top_k_stress_share(scores: np.ndarray, in_stress: np.ndarray, k: int) -> tuple[int, int]:
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    valid = np.isfinite(np.take_along_axis(scores, top, axis=1))
    return int((in_stress[top] & valid).sum()), int(valid.sum())


def _neighbour_shares(
    normalised: np.ndarray, index: StateIndex, queries: np.ndarray, in_stress: np.ndarray, k: int, min_gap_days: int
) -> tuple[float, float]:
    """Both shares from one score matrix per chunk of queries: any date, then far enough in time."""
    counts = np.zeros(4, dtype=np.int64)
    codes = np.unique(index.portfolio_ids, return_inverse=True)[1]
    days = index.dates.astype("int64")
    for begin in range(0, queries.size, QUERY_CHUNK):
        rows = queries[begin : begin + QUERY_CHUNK]
        scores = normalised[rows] @ normalised.T
        scores[codes[rows][:, None] == codes[None, :]] = -np.inf
        counts[:2] += _top_k_stress_share(scores, in_stress, k)
        scores[np.abs(days[rows][:, None] - days[None, :]) <= min_gap_days] = -np.inf
        counts[2:] += _top_k_stress_share(scores, in_stress, k)
    share = counts[0] / counts[1] if counts[1] else float("nan")
    share_far = counts[2] / counts[3] if counts[3] else float("nan")
    return float(share), float(share_far)


def stress_neighbour_quality(index: StateIndex, k: int = 10, min_gap_days: int = 30) -> QualityReport:
    matrix = index.matrix.astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    normalised = matrix / np.where(norms > 0, norms, 1.0)
    in_stress = stress_mask(index.dates)
    queries = np.flatnonzero(in_stress)
    shares = _neighbour_shares(normalised, index, queries, in_stress, k, min_gap_days)
    return QualityReport(
        states=len(index),
        stress_states=int(queries.size),
        base_rate=float(in_stress.mean()) if len(index) else float("nan"),
        neighbour_share=shares[0],
        neighbour_share_other_periods=shares[1],
        k=k,
        min_gap_days=min_gap_days,
    )
