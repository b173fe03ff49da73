"""Point-in-time analogues of many states at once: for a state dated D, only states dated on or
before D - horizon may be analogues, so everything that followed them was known on D.

The ranking is the single-state search's (:func:`prometheus.search.exact.search_index_rows`):
a float32 first pass over the candidates, every candidate within the float32 error bound of
the k-th best re-scored in float64, then cosine descending, euclidean ascending, portfolio,
date. So a forecast replayed by the skill ledger sees exactly the analogues the app shows.
Index rows are sorted by date, so the candidates of a date are a prefix of the rows: one
matrix product per query date serves all its queries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prometheus.search.exact import first_pass_margin, top_k_exact
from prometheus.search.index import StateIndex
from prometheus.top_k import largest_columns


@dataclass(frozen=True)
class Analogues:
    """Top-k analogues per query row, best first; -1 (and NaN cosine) where fewer exist."""

    query_rows: np.ndarray  # (q,)
    rows: np.ndarray  # (q, k) int64
    cosine: np.ndarray  # (q, k) float64

    def values(self, per_row: np.ndarray) -> np.ndarray:
        """``per_row[analogue]`` for every analogue, NaN where there is none: (q, k)."""
        taken = per_row[np.maximum(self.rows, 0)].astype(np.float64)
        return np.where(self.rows >= 0, taken, np.nan)


def candidate_prefix(index: StateIndex, day: np.datetime64, horizon_days: int) -> int:
    """How many leading rows are dated on or before ``day - horizon_days``."""
    return int(np.searchsorted(index.dates, day - np.timedelta64(horizon_days, "D"), side="right"))


def point_in_time_analogues(
    index: StateIndex,
    query_rows: np.ndarray,
    horizon_days: int,
    top_k: int,
    *,
    own_book: bool,
    usable: np.ndarray | None = None,
) -> Analogues:
    """The exact top ``top_k`` point-in-time analogues of each query row.

    ``own_book``: the query's own book may supply analogues (under the same date rule);
    ``usable``: a mask over rows that may be analogues at all (e.g. those with a known outcome).
    """
    query_rows = np.asarray(query_rows, dtype=np.int64)
    out_rows = np.full((query_rows.size, top_k), -1, dtype=np.int64)
    out_cosine = np.full((query_rows.size, top_k), np.nan)
    matrix = np.asarray(index.matrix)
    norms = index.norms.astype(np.float32)
    # Unit rows once: each date's first pass is then one matrix product, with no division per score.
    unit = matrix / np.where(norms > 0, norms, 1.0)[:, None]
    margin = first_pass_margin(matrix.shape[1])
    columns = np.flatnonzero(usable) if usable is not None else np.arange(len(index))  # date order kept
    column_codes = index.portfolio_codes[columns]
    column_units = np.ascontiguousarray(unit[columns])  # copied once: each date then reads a prefix view
    days = index.dates[query_rows]
    order = np.argsort(days, kind="stable")
    for group in np.split(order, np.flatnonzero(np.diff(days[order].astype(np.int64))) + 1):
        if group.size == 0:
            continue
        cut = int(np.searchsorted(columns, candidate_prefix(index, days[group[0]], horizon_days)))
        if cut == 0:
            continue
        rows = query_rows[group]
        scores = unit[rows] @ column_units[:cut].T
        allowed = np.ones((rows.size, cut), dtype=bool)
        if not own_book:
            allowed = index.portfolio_codes[rows][:, None] != column_codes[None, :cut]
            scores[~allowed] = -np.inf
        _rank_group(index, matrix, columns[:cut], rows, group, scores, allowed, top_k, margin, out_rows, out_cosine)
    return Analogues(query_rows, out_rows, out_cosine)


SHORTLIST_EXTRA = 32  # candidates beyond k re-scored exactly; more are taken only when the float32 gap is too small


def _rank_group(
    index: StateIndex,
    matrix: np.ndarray,
    columns: np.ndarray,
    rows: np.ndarray,
    positions: np.ndarray,
    scores: np.ndarray,
    allowed: np.ndarray,
    top_k: int,
    margin: float,
    out_rows: np.ndarray,
    out_cosine: np.ndarray,
) -> None:
    """Exact top-k of every query of one date: all at once when a fixed shortlist provably holds them.

    The shortlist (k + SHORTLIST_EXTRA best float32 scores) holds every candidate within the float32
    error bound of the k-th best unless its last score is itself within that bound; those few queries
    take the single-state path, which widens the pool as far as the bound requires.
    """
    cut = scores.shape[1]
    width = min(top_k + SHORTLIST_EXTRA, cut)
    short_columns = largest_columns(scores, width)
    short = columns[short_columns]  # index rows
    short_scores = np.take_along_axis(scores, short_columns, axis=1)
    ordered = -np.sort(-short_scores, axis=1)
    kth = ordered[:, min(top_k, width) - 1]
    last = ordered[:, -1]
    # Provable when every candidate outside the shortlist scores below kth - margin, i.e. the shortlist's
    # last (lowest) score is already below it, or the shortlist holds every allowed candidate.
    complete = (last < kth - margin) | (allowed.sum(axis=1) <= width) | ~np.isfinite(last)
    vectors = matrix[short].astype(np.float64)  # (q, width, dims)
    query = matrix[rows].astype(np.float64)[:, None, :]
    dots = np.einsum("qwd,qvd->qw", vectors, query)
    row_sq = np.einsum("qwd,qwd->qw", vectors, vectors)
    query_sq = np.einsum("qvd,qvd->qv", query, query)
    denominator = np.sqrt(row_sq) * np.sqrt(query_sq)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = np.clip(np.where(denominator > 0, dots / denominator, 0.0), -1.0, 1.0)
    euclidean = np.sqrt(np.maximum(row_sq - 2.0 * dots + query_sq, 0.0))
    valid = np.take_along_axis(allowed, short_columns, axis=1) & np.isfinite(short_scores)
    for j in range(rows.size):
        if not complete[j]:
            _rank_one(
                index,
                matrix,
                columns,
                rows[j],
                positions[j],
                scores[j],
                allowed[j],
                top_k,
                margin,
                out_rows,
                out_cosine,
            )
            continue
        keep = np.flatnonzero(valid[j])
        order = np.lexsort(
            (
                index.dates[short[j, keep]],
                index.portfolio_codes[short[j, keep]],
                euclidean[j, keep],
                -cosine[j, keep],
            )
        )[:top_k]
        out_rows[positions[j], : order.size] = short[j, keep[order]]
        out_cosine[positions[j], : order.size] = cosine[j, keep[order]]


def _rank_one(
    index: StateIndex,
    matrix: np.ndarray,
    columns: np.ndarray,
    row: int,
    position: int,
    scores: np.ndarray,
    allowed: np.ndarray,
    top_k: int,
    margin: float,
    out_rows: np.ndarray,
    out_cosine: np.ndarray,
) -> None:
    positions_ = np.flatnonzero(allowed)
    if positions_.size == 0:
        return
    if top_k < positions_.size:
        cut = scores.shape[0]
        kth = np.partition(scores, cut - top_k)[cut - top_k]
        positions_ = positions_[scores[positions_] >= kth - margin]
    candidates = columns[positions_]
    ranked = top_k_exact(
        matrix[candidates], matrix[row], top_k, tie_keys=(index.portfolio_codes[candidates], index.dates[candidates])
    )
    out_rows[position, : ranked.rows.size] = candidates[ranked.rows]
    out_cosine[position, : ranked.rows.size] = ranked.cosine
