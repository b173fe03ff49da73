"""Approximate candidates from an HNSW graph (faiss), re-ranked exactly.

The graph is built over the index's L2-normalised rows (inner product =
cosine) and saved beside the index, keyed to the same data version. A graph
of another version is never used: the search falls back to the exact scan,
which stays correct, until the graph is rebuilt (``build_search_index``).
A graph file that faiss cannot read (truncated, garbage) or whose size does not
match the index is ignored and removed, never searched: the scan answers.
faiss is imported lazily; without it, every search is exact.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from prometheus.files import atomic_write
from prometheus.search.exact import Ranked, search_index_rows, top_k_exact
from prometheus.search.index import StateIndex
from prometheus.search.scope import CandidateScope

DEFAULT_M = 32
DEFAULT_EF_CONSTRUCTION = 80
DEFAULT_EF_SEARCH = 256
log = logging.getLogger(__name__)


def faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def _normalised(index: StateIndex) -> np.ndarray:
    norms = index.norms.astype(np.float32)
    return np.ascontiguousarray(np.asarray(index.matrix) / np.where(norms > 0, norms, 1.0)[:, None])


PROBES = 16


def _finds_itself(graph: Any, index: StateIndex) -> bool:
    """A sound graph answers a stored row with that row (or an identical one): probe a few, spread over the index."""
    import faiss

    if len(index) == 0:
        return True
    rows = np.unique(np.linspace(0, len(index) - 1, num=min(PROBES, len(index))).astype(np.int64))
    queries = _normalised_rows(index, rows)
    faiss.omp_set_num_threads(1)
    graph.hnsw.efSearch = max(graph.hnsw.efSearch, 64)
    _, found = graph.search(queries, 1)
    answer = found[:, 0]
    valid = (answer >= 0) & (answer < len(index))
    # The row itself, or a row of the index identical to it in direction (a duplicate state).
    twins = np.zeros(len(rows), dtype=bool)
    twins[valid] = np.einsum("ij,ij->i", _normalised_rows(index, answer[valid]), queries[valid]) >= 1.0 - 1e-6
    return bool(((answer == rows) | twins).mean() >= 0.9)


def _normalised_rows(index: StateIndex, rows: np.ndarray) -> np.ndarray:
    norms = index.norms[rows].astype(np.float32)
    return np.ascontiguousarray(np.asarray(index.matrix[rows]) / np.where(norms > 0, norms, 1.0)[:, None])


@dataclass
class HnswSearcher:
    graph: Any  # faiss.IndexHNSWFlat
    data_version: int
    ef_search: int = DEFAULT_EF_SEARCH
    stamp: str = ""

    def serves(self, index: StateIndex) -> bool:
        """Whether this graph was built over exactly ``index``'s rows."""
        return (self.data_version, self.stamp) == (index.data_version, index.stamp) and self.graph.ntotal == len(index)

    @classmethod
    def build(
        cls, index: StateIndex, m: int = DEFAULT_M, ef_construction: int = DEFAULT_EF_CONSTRUCTION
    ) -> HnswSearcher:
        import faiss

        graph = faiss.IndexHNSWFlat(int(index.matrix.shape[1]), m, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = ef_construction
        graph.add(_normalised(index))
        return cls(graph, index.data_version, stamp=index.stamp)

    def save(self, path: Path) -> None:
        import faiss

        data = faiss.serialize_index(self.graph)
        atomic_write(path, lambda handle: handle.write(data.tobytes()))

    @classmethod
    def load(cls, path: Path, index: StateIndex) -> HnswSearcher | None:
        """The graph saved for ``index`` (same data version and stamp); None if absent, unreadable or not its graph."""
        if not path.exists() or not faiss_available():
            return None
        import faiss

        try:
            graph = faiss.read_index(str(path))  # already of its own class (IndexHNSWFlat, ...)
            if not isinstance(graph, faiss.IndexHNSW):
                reason = f"a {type(graph).__name__}, not an HNSW graph"
            elif graph.ntotal != len(index) or graph.d != index.matrix.shape[1]:
                reason = f"{graph.ntotal} rows of {graph.d} values, the index {len(index)} of {index.matrix.shape[1]}"
            elif not _finds_itself(graph, index):
                reason = "its nodes do not find their own rows (garbage vectors or links)"
            else:
                return cls(graph, index.data_version, stamp=index.stamp)
        except (RuntimeError, OSError, MemoryError) as exc:  # faiss says RuntimeError for a bad file
            reason = (str(exc).strip().splitlines() or ["unreadable"])[0][:200]
        log.warning("HNSW graph %s cannot be used (%s): removed; searches are exact until it is rebuilt", path, reason)
        with contextlib.suppress(OSError):
            path.unlink()
        return None

    def search(self, index: StateIndex, scope: CandidateScope, top_k: int) -> tuple[Ranked, int]:
        """Graph candidates the scope accepts, ranked exactly; the exact scan if too few survive.

        Returns the ranking and how many candidates were scored. Only the graph's
        rows are filtered, so no per-query pass over the whole index is made.
        """
        import faiss

        # A portfolio's own other dates are its nearest states, and the scope usually
        # excludes them: ask for enough that the wanted number survives that filter.
        wanted = max(8 * top_k, 200) + scope.excluded_count(index)
        self.graph.hnsw.efSearch = max(self.ef_search, wanted)
        query = np.asarray(index.matrix[scope.query_row], dtype=np.float32)[None, :]
        norm = float(index.norms[scope.query_row]) or 1.0
        faiss.omp_set_num_threads(1)  # one query: threads cost more than they give (REFERENCE.md)
        _, found = self.graph.search(query / norm, wanted)
        rows = found[0][found[0] >= 0]
        rows = rows[scope.rows(index, rows)]
        if rows.size < top_k:
            mask = scope.mask(index)
            return search_index_rows(index, scope.query_row, mask, top_k), int(mask.sum())
        ranked = top_k_exact(
            index.matrix[rows], query[0], top_k, tie_keys=(index.portfolio_codes[rows], index.dates[rows])
        )
        return Ranked(rows[ranked.rows], ranked.cosine, ranked.euclidean), int(rows.size)
