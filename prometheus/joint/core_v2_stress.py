"""The honest stress figure, measured on a training window only (a term of v2's fit objective).

The same protocol as the published figure (``prometheus.services.quality``):
for a stress state, its k nearest neighbours among OTHER books, leaving out
every state of its own stress episode and anything within ``gap_days`` of its
date; the share of them that are stress states too. Here it may only use what
was known by the training end: the states the fit learns from, and the stress
episodes that had ended by then (a window still open at the training end was
not yet a known episode: its states are neither queries nor hits).
"""

from __future__ import annotations

import numpy as np

from prometheus.stress import episode_ids, honest_exclusions, stress_neighbour_shares

QUERY_CHUNK = 256  # 256 x 30k float32 similarities: 30 MB per chunk


def known_episodes(day: np.ndarray, train_end: int) -> np.ndarray:
    """Per state (days since epoch), the index of its stress episode ended by ``train_end``; -1 otherwise."""
    return episode_ids(day.astype("datetime64[D]"), ended_by=np.datetime64(train_end, "D"))


def stress_queries(day: np.ndarray, episode: np.ndarray, stride: int) -> np.ndarray:
    """Every ``stride``-th date holding a known stress state; all of that date's stress states."""
    dates = np.unique(day[episode >= 0])[::stride]
    return np.flatnonzero(np.isin(day, dates) & (episode >= 0))


def stress_share(
    unit: np.ndarray,
    day: np.ndarray,
    book: np.ndarray,
    episode: np.ndarray,
    queries: np.ndarray,
    k: int,
    gap_days: int,
) -> float:
    """Mean over known episodes of their queries' share of stress neighbours (NaN without two episodes).

    ``unit``: unit-norm vectors (float32 is enough: only the order of similarities matters). Each
    episode weighs the same, so one long crisis (2000-02 holds 88% of the stress states before 2005)
    cannot decide the weighting alone.
    """
    if queries.size == 0 or np.unique(episode[episode >= 0]).size < 2:
        return float("nan")
    stressed = episode >= 0
    shares = np.full(queries.size, np.nan)
    for begin in range(0, queries.size, QUERY_CHUNK):
        rows = queries[begin : begin + QUERY_CHUNK]
        similarity = unit[rows] @ unit.T
        excluded = honest_exclusions(rows, book, episode, day, gap_days)
        shares[begin : begin + rows.size] = stress_neighbour_shares(similarity, excluded, stressed, k)
    per_episode = [np.nanmean(shares[episode[queries] == e]) for e in np.unique(episode[queries])]
    return float(np.mean(per_episode))
