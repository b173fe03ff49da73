"""Exact nearest states: cosine descending, then euclidean ascending.

The answer equals a float64 computation over every candidate (no candidate
cap). A float32 first pass over the whole matrix finds the k-th best cosine;
every candidate within the float32 error bound of it is then re-scored in
float64 and ranked, so nothing that could belong in the top k is missed, and
ties on the k-th score are all considered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from prometheus.search.index import StateIndex

_FLOAT32_UNIT = float(np.finfo(np.float32).eps)


@dataclass(frozen=True)
class Ranked:
    rows: np.ndarray  # indices into the candidate matrix, best first
    cosine: np.ndarray
    euclidean: np.ndarray


def cosine_and_euclidean(matrix: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact float64 cosine and euclidean distance of every row to ``query``."""
    m = np.asarray(matrix, dtype=np.float64)
    q = np.asarray(query, dtype=np.float64)
    dots = m @ q
    row_sq = np.einsum("ij,ij->i", m, m)
    q_sq = float(q @ q)
    denom = np.sqrt(row_sq) * np.sqrt(q_sq)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = np.where(denom > 0, dots / denom, 0.0)
    euclidean = np.sqrt(np.maximum(row_sq - 2.0 * dots + q_sq, 0.0))
    return np.clip(cosine, -1.0, 1.0), euclidean


def rank(
    cosine: np.ndarray,
    euclidean: np.ndarray,
    top_k: int,
    tie_keys: Sequence[np.ndarray] = (),
) -> np.ndarray:
    """Indices of the best ``top_k``: cosine desc, euclidean asc, then ``tie_keys`` asc."""
    n = cosine.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if top_k < n:
        threshold = np.partition(cosine, n - top_k)[n - top_k]
        pool = np.flatnonzero(cosine >= threshold)
    else:
        pool = np.arange(n)
    keys = [k[pool] for k in reversed(tie_keys)] + [euclidean[pool], -cosine[pool]]
    order = np.lexsort(keys)
    return pool[order[:top_k]]


def top_k_exact(matrix: np.ndarray, query: np.ndarray, top_k: int, tie_keys: Sequence[np.ndarray] = ()) -> Ranked:
    cosine, euclidean = cosine_and_euclidean(matrix, query)
    rows = rank(cosine, euclidean, top_k, tie_keys)
    return Ranked(rows, cosine[rows], euclidean[rows])


def first_pass_margin(columns: int) -> float:
    """A bound on |float32 cosine - float64 cosine| for vectors of ``columns`` coordinates.

    A float32 dot product of n terms errs by at most about n*u*|a||b| (u the
    unit roundoff) whatever the summation order; norms and the division add a
    few u more. Twice that, for safety.
    """
    return 2.0 * (columns + 8) * _FLOAT32_UNIT


def search_index_rows(index: StateIndex, query_row: int, candidates: np.ndarray, top_k: int) -> Ranked:
    """The exact top ``top_k`` of the rows where ``candidates`` is True, by the query row's state."""
    query = np.asarray(index.matrix[query_row], dtype=np.float32)
    pool = np.flatnonzero(candidates)
    if top_k < pool.size:
        norms = index.norms
        query_norm = float(norms[query_row])
        scores = np.asarray(index.matrix @ query, dtype=np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores /= (norms * query_norm).astype(np.float32)
        scores[~np.isfinite(scores)] = 0.0  # a zero vector's cosine is 0 in the exact pass too
        scores[~candidates] = -np.inf
        kth = np.partition(scores, scores.size - top_k)[scores.size - top_k]
        pool = np.flatnonzero(scores >= kth - first_pass_margin(index.matrix.shape[1]))
        pool = pool[candidates[pool]]
    ranked = top_k_exact(index.matrix[pool], query, top_k, tie_keys=(index.portfolio_codes[pool], index.dates[pool]))
    return Ranked(pool[ranked.rows], ranked.cosine, ranked.euclidean)
