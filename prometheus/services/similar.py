"""Historical analogues: the states most like one portfolio's state on a date.

The CLI and the app search the same way: the state index of the model (cached
per data version), the HNSW graph when one is built for exactly this data and
the store is large enough (``approximate_above``), otherwise the exact scan.
Analogues spread in time (``min_days_apart``) are always ranked exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from prometheus.errors import InvalidSetting, Setting, start_after_end
from prometheus.search.approximate import HnswSearcher
from prometheus.search.exact import search_index_rows
from prometheus.search.index import StateIndex
from prometheus.search.loading import approximate_searcher, load_index
from prometheus.search.scope import CandidateScope
from prometheus.search.spread import MAX_DAYS_APART, spread_rows
from prometheus.services.outcomes import MAX_HORIZON_DAYS
from prometheus.store.stores import Stores


@dataclass(frozen=True)
class SimilarQuery:
    model_id: str
    portfolio_id: str
    as_of: date
    top_k: int = 20
    same_date: bool = False
    start: date | None = None
    end: date | None = None
    include_self: bool = False
    # Point in time: only analogues dated this many days or more before the query, so everything
    # that followed them within that horizon was known on the query date.
    point_in_time_days: int | None = None
    # Spread: no two analogues dated fewer than this many days apart (0: as ranked; 1: one per date)
    min_days_apart: int = 0

    def __post_init__(self) -> None:
        if self.top_k < 1:
            raise InvalidSetting(Setting("top_k"), f" must be at least 1, got {self.top_k}")
        if not 0 <= self.min_days_apart <= MAX_DAYS_APART:
            raise InvalidSetting(
                Setting("min_days_apart"), f" must be 0 to {MAX_DAYS_APART:,} days, got {self.min_days_apart:,}"
            )
        if self.start is not None and self.end is not None and self.start > self.end:
            raise start_after_end(self.start, self.end)
        if self.same_date and (self.start is not None or self.end is not None):
            raise InvalidSetting(
                Setting("same_date"), " cannot be combined with ", Setting("start"), "/", Setting("end")
            )
        if self.point_in_time_days is not None:
            if self.same_date:
                raise InvalidSetting(Setting("same_date"), " cannot be combined with ", Setting("point_in_time"))
            if not 1 <= self.point_in_time_days <= MAX_HORIZON_DAYS:
                raise InvalidSetting(Setting("point_in_time"), f" needs a horizon of 1 to {MAX_HORIZON_DAYS} days")

    @property
    def latest_candidate(self) -> date | None:
        """The last date an analogue may have: the end of the range, earlier still point in time."""
        if self.same_date:
            return self.as_of
        if self.point_in_time_days is None:
            return self.end
        known = self.as_of - timedelta(days=self.point_in_time_days)
        return known if self.end is None else min(self.end, known)

    def scope(self, index: StateIndex) -> CandidateScope:
        """The candidates of this query in ``index`` (the lookup error if the query state is not there)."""
        row = index.require_row(self.portfolio_id, self.as_of)
        start, end = (self.as_of, self.as_of) if self.same_date else (self.start, self.latest_candidate)
        excluded = None if self.include_self else index.code_of(self.portfolio_id)
        return CandidateScope(row, start, end, excluded)


@dataclass(frozen=True)
class Neighbour:
    rank: int
    cosine: float
    euclidean: float
    portfolio_id: str
    source: str
    as_of_date: date


@dataclass(frozen=True)
class SimilarResult:
    query: SimilarQuery
    candidates: int
    neighbours: list[Neighbour]


def nearest_states(index: StateIndex, query: SimilarQuery, searcher: HnswSearcher | None = None) -> SimilarResult:
    """The query's top k analogues in ``index``: through the HNSW graph when given for this data, else exactly."""
    scope = query.scope(index)
    if query.min_days_apart:  # spread in time: ranked exactly over every candidate (21-29 ms at the demo's 58k)
        mask = scope.mask(index)
        ranked = spread_rows(index, scope.query_row, mask, query.top_k, query.min_days_apart)
        candidates = int(mask.sum())
    elif searcher is not None and searcher.serves(index):
        ranked, candidates = searcher.search(index, scope, query.top_k)
    else:
        mask = scope.mask(index)
        ranked, candidates = search_index_rows(index, scope.query_row, mask, query.top_k), int(mask.sum())
    neighbours = [
        Neighbour(
            rank=i + 1,
            cosine=float(ranked.cosine[i]),
            euclidean=float(ranked.euclidean[i]),
            portfolio_id=index.portfolio_names[index.portfolio_codes[r]],
            source=index.source_names[index.source_codes[r]],
            as_of_date=index.dates[r].astype(object),
        )
        for i, r in enumerate(ranked.rows)
    ]
    return SimilarResult(query=query, candidates=candidates, neighbours=neighbours)


def find_similar(stores: Stores, query: SimilarQuery, index: StateIndex | None = None) -> SimilarResult:
    """The analogues of one state; ``index`` is the model's current index when the caller holds it already."""
    index = index if index is not None else load_index(stores, query.model_id)
    return nearest_states(index, query, approximate_searcher(stores, index))
