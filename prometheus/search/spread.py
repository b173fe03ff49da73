"""Analogues spread out in time: the best candidates, no two dated within N days of each other.

The nearest states of a stressed book are often one market moment seen through many books: the
demo book 001's 20 nearest on 2008-10-10, point in time, fall on 5 dates, 15 of them 2002-07-26
.. 2002-08-09 and 5 in late September 2001. What followed them is then one outcome counted many
times. Spreading keeps the ranking's order and skips every candidate dated fewer than
``min_days_apart`` days from one already kept (greedy in rank order, as non-maximum suppression
in time): 91 days apart, the same query spans 20 dates from 1990 to 2008 (LTCM's 1998-10-16,
2000-10-27, 2008-03-14, ...). 1 day apart is one analogue per date.
"""

from __future__ import annotations

import bisect

import numpy as np

from prometheus.search.exact import Ranked
from prometheus.search.index import StateIndex

CHUNK_ROWS = 4096  # float64 copies of 4,096 x 384 coordinates (12.6 MB) at a time: 17 ms over 58k states
MAX_DAYS_APART = 3650


def _exact_scores(index: StateIndex, query_row: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact float64 cosine and euclidean distance of ``rows`` to the query row, a chunk at a time."""
    query = np.asarray(index.matrix[query_row], dtype=np.float64)
    query_sq = float(query @ query)
    dots = np.empty(rows.size)
    for begin in range(0, rows.size, CHUNK_ROWS):
        part = rows[begin : begin + CHUNK_ROWS]
        dots[begin : begin + part.size] = np.asarray(index.matrix[part], dtype=np.float64) @ query
    row_sq = index.norms[rows] ** 2
    denominator = np.sqrt(row_sq) * np.sqrt(query_sq)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = np.where(denominator > 0, dots / denominator, 0.0)
    euclidean = np.sqrt(np.maximum(row_sq - 2.0 * dots + query_sq, 0.0))
    return np.clip(cosine, -1.0, 1.0), euclidean


def spread_rows(index: StateIndex, query_row: int, candidates: np.ndarray, top_k: int, min_days_apart: int) -> Ranked:
    """The best ``top_k`` of the rows where ``candidates`` is True (cosine desc, euclidean asc, then
    portfolio and date), skipping any dated fewer than ``min_days_apart`` days from one kept before it."""
    pool = np.flatnonzero(candidates)
    cosine, euclidean = _exact_scores(index, query_row, pool)
    days = index.dates[pool].astype(np.int64)
    order = np.lexsort((days, index.portfolio_codes[pool], euclidean, -cosine))
    kept: list[int] = []
    taken: list[int] = []  # the kept days, sorted
    for position, day in zip(order.tolist(), days[order].tolist(), strict=True):
        nearest = bisect.bisect_left(taken, day - min_days_apart + 1)  # the first kept day not too early
        if nearest < len(taken) and taken[nearest] < day + min_days_apart:
            continue  # a kept analogue lies within min_days_apart days of this one
        bisect.insort(taken, day)
        kept.append(position)
        if len(kept) == top_k:
            break
    chosen = np.asarray(kept, dtype=np.int64)
    return Ranked(pool[chosen], cosine[chosen], euclidean[chosen])
