"""Building the search structures ahead of the first query: the state index, the HNSW graph, pgvector's index."""

from __future__ import annotations

import time
from dataclasses import dataclass

from prometheus.errors import InvalidInput
from prometheus.search.approximate import faiss_available
from prometheus.search.loading import build_hnsw_graph, load_index
from prometheus.services.similar_database import build_database_index
from prometheus.store.stores import Stores


@dataclass(frozen=True)
class IndexSummary:
    model_id: str
    states: int
    data_version: int
    active_columns: int
    hnsw_graph: bool
    database_index: bool
    seconds: float

    def line(self) -> str:
        built = [
            name for name, done in (("HNSW graph", self.hnsw_graph), ("pgvector index", self.database_index)) if done
        ]
        also = f"; built {' and '.join(built)}" if built else ""
        return (
            f"{self.model_id}: {self.states} states at data version {self.data_version}, "
            f"{self.active_columns} active coordinates{also}; {self.seconds:.1f} s"
        )


def build_indexes(stores: Stores, model_id: str, *, approximate: bool, in_database: bool) -> IndexSummary:
    """The exact index always; the HNSW graph and pgvector's HNSW index when asked."""
    began = time.perf_counter()
    if approximate and not faiss_available():
        raise InvalidInput("the HNSW graph needs faiss-cpu: pip install faiss-cpu")
    if in_database:
        build_database_index(stores)
    index = build_hnsw_graph(stores, model_id)[0] if approximate else load_index(stores, model_id)
    return IndexSummary(
        model_id,
        len(index),
        index.data_version,
        int(index.matrix.shape[1]),
        approximate,
        in_database,
        time.perf_counter() - began,
    )
