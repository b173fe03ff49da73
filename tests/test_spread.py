"""Analogues spread in time: the ranking's order kept, no two kept analogues fewer than N days apart."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from prometheus.errors import InvalidSetting
from prometheus.search.exact import search_index_rows
from prometheus.search.index import StateIndex, build_index
from prometheus.search.spread import spread_rows
from prometheus.services.similar import SimilarQuery, nearest_states

BOOKS = [f"BOOK_{i:02d}" for i in range(6)]


def _index(seed: int, weeks: int = 60) -> StateIndex:
    """6 books x ``weeks`` Fridays, vectors clustered by month so that neighbours bunch in time."""
    rng = np.random.default_rng(seed)
    days = [date(2020, 1, 3) + timedelta(weeks=w) for w in range(weeks)]
    months = rng.standard_normal((weeks // 4 + 1, 16))
    rows = [(book, day, months[w // 4] + 0.3 * rng.standard_normal(16)) for book in BOOKS for w, day in enumerate(days)]
    vectors = np.vstack([v for _, _, v in rows]).astype(np.float32)
    return build_index("m", 1, [b for b, _, _ in rows], [d for _, d, _ in rows], ["s"] * len(rows), vectors)


def _greedy(index: StateIndex, query_row: int, candidates: np.ndarray, top_k: int, apart: int) -> list[int]:
    """The rule written out plainly: float64 scores, a full sort, then each candidate kept unless a kept one
    is fewer than ``apart`` days from it."""
    matrix = np.asarray(index.matrix, dtype=np.float64)
    query = matrix[query_row]
    ranked = []
    for row in np.flatnonzero(candidates):
        cosine = float(matrix[row] @ query / (np.linalg.norm(matrix[row]) * np.linalg.norm(query)))
        euclidean = float(np.linalg.norm(matrix[row] - query))
        ranked.append((-cosine, euclidean, int(index.portfolio_codes[row]), int(index.dates[row].astype(int)), row))
    kept: list[int] = []
    for *_, day, row in sorted(ranked):
        if all(abs(day - int(index.dates[k].astype(int))) >= apart for k in kept):
            kept.append(row)
            if len(kept) == top_k:
                break
    return kept


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("apart", [1, 7, 30, 91, 400])
def test_spread_keeps_the_ranking_and_the_gap(seed: int, apart: int) -> None:
    index = _index(seed)
    query_row = int(np.random.default_rng(seed).integers(len(index)))
    candidates = index.portfolio_codes != index.portfolio_codes[query_row]
    ranked = spread_rows(index, query_row, candidates, 12, apart)
    assert ranked.rows.tolist() == _greedy(index, query_row, candidates, 12, apart)
    days = index.dates[ranked.rows].astype(int)
    assert all(abs(a - b) >= apart for i, a in enumerate(days) for b in days[:i])
    assert list(ranked.cosine) == sorted(ranked.cosine, reverse=True)
    # the best analogue is the exact search's best, with the same scores
    exact = search_index_rows(index, query_row, candidates, 1)
    assert ranked.rows[0] == exact.rows[0]
    assert (ranked.cosine[0], ranked.euclidean[0]) == (exact.cosine[0], exact.euclidean[0])  # the same arithmetic
    if apart == 400:  # 60 weeks hold at most 2 moments 400 days apart: fewer than asked, and said so by the count
        assert len(ranked.rows) <= 2


def test_spread_through_the_service_and_its_setting() -> None:
    index = _index(0)
    portfolio, day = BOOKS[2], date(2020, 6, 5)
    plain = nearest_states(index, SimilarQuery("m", portfolio, day, top_k=10))
    per_date = nearest_states(index, SimilarQuery("m", portfolio, day, top_k=10, min_days_apart=1))
    assert len({n.as_of_date for n in plain.neighbours}) < 10  # neighbours bunch on dates...
    assert len({n.as_of_date for n in per_date.neighbours}) == 10  # ...one per date when asked
    assert per_date.candidates == plain.candidates == len(index) - 60
    assert per_date.neighbours[0] == plain.neighbours[0]
    with pytest.raises(InvalidSetting, match=r"^the days between analogues must be 0 to 3,650 days, got 4,000$"):
        SimilarQuery("m", portfolio, day, min_days_apart=4000)
    with pytest.raises(InvalidSetting, match=r"^the days between analogues must be 0 to 3,650 days, got -1$"):
        SimilarQuery("m", portfolio, day, min_days_apart=-1)
