"""Each row's nearest rows (euclidean), the neighbour lists a UMAP map is built from, by faiss.

umap-learn finds them with pynndescent, whose NN-descent kernels numba cannot
keep in its on-disk cache ("uses dynamic globals"): on the demo book (57,952
states of 35 active coordinates, 2 shared cores) they compiled for 20-28 s in
every new process, then ran in 4-5 s. faiss (already a dependency, for the
search index) needs no compilation: an HNSW graph (M=16, efConstruction=80,
efSearch=64) found them in 2-4 s, with 99.97% of the exact 16 nearest found
(pynndescent: 99.96%). Below ``EXACT_BELOW`` rows the exact scan is as fast.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

EXACT_BELOW = 10_000
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 64


def nearest(reference: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices int32, euclidean distances float32), each (len(queries), k), nearest first.

    A slot with no neighbour found (fewer than ``k`` rows) is -1 at distance inf.
    """
    import faiss

    base = np.ascontiguousarray(reference, dtype=np.float32)
    asked = np.ascontiguousarray(queries, dtype=np.float32)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # the search index sets 1 for single queries
    try:
        graph: Any
        if len(base) < EXACT_BELOW:
            graph = faiss.IndexFlatL2(base.shape[1])
            graph.add(base)
        else:
            graph = faiss.IndexHNSWFlat(base.shape[1], HNSW_M)
            graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            graph.add(base)
            graph.hnsw.efSearch = max(HNSW_EF_SEARCH, 2 * k)
        squared, indices = graph.search(asked, k)
    finally:
        faiss.omp_set_num_threads(threads)
    distances = np.sqrt(np.maximum(squared, 0)).astype(np.float32)
    distances[indices < 0] = np.inf
    return indices.astype(np.int32), distances


def neighbour_graph(data: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` nearest rows, itself first at distance 0, as umap-learn's own search returns them.

    A row with exact duplicates may find a twin before itself, and an approximate
    search may miss it: it is put first, the rest keep their order.
    """
    indices, distances = nearest(data, data, k)
    rows = np.arange(len(data), dtype=np.int32)[:, None]
    own = indices == rows
    missing = ~own.any(axis=1)
    indices[missing, -1] = rows[missing, 0]
    own[missing, -1] = True
    order = np.argsort(~own, axis=1, kind="stable")
    indices = np.take_along_axis(indices, order, axis=1)
    distances = np.take_along_axis(distances, order, axis=1)
    distances[:, 0] = 0.0
    return indices, distances
