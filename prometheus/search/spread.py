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

from prometheus.search.exact import Ranked, cosine_and_euclidean
from prometheus.search.index import StateIndex

CHUNK_ROWS = 4096  # float64 copies of 4,096 x 384 coordinates (12.6 MB) at a time: 17 ms over 58k states
MAX_DAYS_APART = 3650


def _exact_scores(index: StateIndex, query_row: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact float64 cosine and euclidean distance of ``rows`` to the query row (the exact search's own
    arithmetic), a chunk at a time rather than one float64 copy of every candidate (89 MB at 58k)."""
    query = index.matrix[query_row]
    parts = [
        cosine_and_euclidean(index.matrix[rows[b : b + CHUNK_ROWS]], query) for b in range(0, rows.size, CHUNK_ROWS)
    ]
    if not parts:
        return np.zeros(0), np.zeros(0)
    return np.concatenate([c for c, _ in parts]), np.concatenate([e for _, e in parts])


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
