"""Historical analogues: the states most like one portfolio's state on a date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from prometheus.encoders.joint import joint_model
from prometheus.errors import InvalidInput, NoStateOnDate, UnknownPortfolio, shown
from prometheus.search.approximate import HnswSearcher
from prometheus.search.cache import IndexCache
from prometheus.search.exact import search_index_rows
from prometheus.search.index import StateIndex
from prometheus.services.dates import describe_nearest
from prometheus.store.embeddings import JointEmbeddingStore
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

    def __post_init__(self) -> None:
        if self.top_k < 1:
            raise InvalidInput(f"--top-k must be at least 1, got {self.top_k}")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise InvalidInput(f"--start {self.start.isoformat()} is after --end {self.end.isoformat()}: swap them")
        if self.same_date and (self.start is not None or self.end is not None):
            raise InvalidInput("--same-date cannot be combined with --start/--end")


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


def _cache(stores: Stores) -> IndexCache:
    return IndexCache(stores.settings.effective_cache_dir, stores.historical.store_id)


def load_index(stores: Stores, model_id: str) -> StateIndex:
    """The model's states at the store's current data version (from the on-disk cache when fresh)."""
    model = joint_model(model_id)
    store = JointEmbeddingStore(stores.historical, model.joint_type)
    return _cache(stores).get(store, model_id, model.dim)


def approximate_searcher(stores: Stores, index: StateIndex) -> HnswSearcher | None:
    """The HNSW graph for exactly this data version, if configured for this size and built."""
    threshold = stores.settings.approximate_above
    if threshold is None or len(index) < threshold:
        return None
    return HnswSearcher.load(_cache(stores).graph_path(index.model_id, index.data_version), index.data_version)


def build_approximate(stores: Stores, model_id: str) -> tuple[StateIndex, HnswSearcher]:
    """Build and save the HNSW graph for the current data (minutes for millions of states)."""
    index = load_index(stores, model_id)
    searcher = HnswSearcher.build(index)
    searcher.save(_cache(stores).graph_path(model_id, index.data_version))
    return index, searcher


def query_row(index: StateIndex, portfolio_id: str, as_of: date) -> int:
    """The query state's row, or the error that tells the user what exists."""
    if not index.has_portfolio(portfolio_id):
        raise UnknownPortfolio(
            f"unknown portfolio {shown(portfolio_id)}: no {index.model_id} states exist for it "
            "(list portfolios with show_joint_portfolios)"
        )
    row = index.row_of(portfolio_id, as_of)
    if row is None:
        raise NoStateOnDate(
            f"portfolio {shown(portfolio_id)} has no {index.model_id} state on {as_of.isoformat()} "
            f"({describe_nearest(index.dates_of(portfolio_id), as_of)})"
        )
    return row


@dataclass(frozen=True)
class CandidateScope:
    """Which rows may be analogues of the query row: applied to a whole index or to a few rows."""

    query_row: int
    start: date | None
    end: date | None
    excluded_code: int | None  # the query portfolio's own states, unless include_self

    @classmethod
    def of(cls, index: StateIndex, query: SimilarQuery, row: int) -> CandidateScope:
        start, end = (query.as_of, query.as_of) if query.same_date else (query.start, query.end)
        excluded = None if query.include_self else index.code_of(query.portfolio_id)
        return cls(row, start, end, excluded)

    def rows(self, index: StateIndex, rows: np.ndarray) -> np.ndarray:
        """True for the given rows that are candidates."""
        keep = rows != self.query_row  # the query state itself is never its own analogue
        if self.start is not None:
            keep &= index.dates[rows] >= np.datetime64(self.start, "D")
        if self.end is not None:
            keep &= index.dates[rows] <= np.datetime64(self.end, "D")
        if self.excluded_code is not None:
            keep &= index.portfolio_codes[rows] != self.excluded_code
        return keep

    def mask(self, index: StateIndex) -> np.ndarray:
        return self.rows(index, np.arange(len(index)))

    def excluded_count(self, index: StateIndex) -> int:
        """How many rows the portfolio exclusion removes (the query row included)."""
        own = int(index.portfolio_sizes[self.excluded_code]) if self.excluded_code is not None else 0
        return max(own, 1)


def search_index(index: StateIndex, query: SimilarQuery, searcher: HnswSearcher | None = None) -> SimilarResult:
    row = query_row(index, query.portfolio_id, query.as_of)
    scope = CandidateScope.of(index, query, row)
    if searcher is not None and searcher.data_version == index.data_version:
        ranked, candidates = searcher.search(index, scope, query.top_k)
    else:
        mask = scope.mask(index)
        ranked, candidates = search_index_rows(index, row, mask, query.top_k), int(mask.sum())
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


def find_similar(stores: Stores, query: SimilarQuery) -> SimilarResult:
    index = load_index(stores, query.model_id)
    return search_index(index, query, approximate_searcher(stores, index))
