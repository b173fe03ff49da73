"""A joint model's state index at the store's current data version, and its HNSW graph.

Both are cached beside the store (``<cache_dir>/index``): the index as arrays
(see :mod:`prometheus.search.cache`), the graph as a faiss file of exactly one
data version.
"""

from __future__ import annotations

from prometheus.joint.registry import joint_store
from prometheus.search.approximate import HnswSearcher
from prometheus.search.cache import IndexCache
from prometheus.search.index import StateIndex
from prometheus.store.stores import Stores


def index_cache(stores: Stores) -> IndexCache:
    return IndexCache(stores.settings.effective_cache_dir, stores.historical.store_id)


def load_index(stores: Stores, model_id: str) -> StateIndex:
    """The model's states at the store's current data version (from the on-disk cache when fresh)."""
    model, store = joint_store(stores, model_id)
    return index_cache(stores).get(store, model_id, model.dim)


def approximate_searcher(stores: Stores, index: StateIndex) -> HnswSearcher | None:
    """The HNSW graph for exactly this data version, if configured for this size and built."""
    threshold = stores.settings.approximate_above
    if threshold is None or len(index) < threshold:
        return None
    return HnswSearcher.load(index_cache(stores).graph_path(index.model_id, index.data_version, index.stamp), index)


def build_hnsw_graph(stores: Stores, model_id: str) -> tuple[StateIndex, HnswSearcher]:
    """Build and save the HNSW graph for the current data (minutes for millions of states)."""
    index = load_index(stores, model_id)
    searcher = HnswSearcher.build(index)
    searcher.save(index_cache(stores).graph_path(model_id, index.data_version, index.stamp))
    return index, searcher
