"""Exact nearest states: cosine descending, then euclidean ascending.

Scores are computed in float64 over every candidate (no candidate cap), and
ties on the k-th score are all kept before the final ordering, so the answer
is the same whatever order the rows were stored in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


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
