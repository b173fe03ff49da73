"""New states placed on a stored UMAP map, as umap-learn's ``UMAP.transform`` places them, without the fitted object.

``transform`` needs the rows the map was fitted on, their coordinates and the
fit's parameters. The rows are still in the store (a map is only extended while
every fitted row is there with an identical vector, checked by row hashes) and
the coordinates are in the map's cache file, so nothing else is kept: pickling
the fitted ``umap.UMAP`` made pynndescent build and compile its query index
first, 60-115 s of the 58k demo book's first map, for a 44 MB file. The steps
below are ``transform``'s (umap-learn 0.5, dense rows, euclidean output), with
the neighbours found by faiss like the fit's (see ``neighbours``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from prometheus.projection import numba_cache
from prometheus.projection.neighbours import nearest
from prometheus.projection.umap_fit import fit_params, load_umap, new_umap, umap_input
from prometheus.projection.umap_progress import GRAPH, NEIGHBOURS, UmapBar


def can_place(params: Mapping[str, Any]) -> bool:
    """Whether new rows can be placed for a map of these params (faiss finds euclidean neighbours only)."""
    return params.get("metric") in ("cosine", "euclidean")


def place_rows(
    fitted: np.ndarray,
    fitted_coords: np.ndarray,
    new: np.ndarray,
    params: Mapping[str, Any],
    progress: UmapBar,
) -> np.ndarray:
    """Coordinates (len(new), 2) for ``new`` rows on the map fitted on ``fitted`` rows at ``fitted_coords``."""
    import scipy.sparse

    load_umap(progress)
    numba_cache.cached_umap()  # caching switched on before any kernel below compiles
    from umap.layouts import optimize_layout_euclidean
    from umap.umap_ import (
        INT32_MAX,
        INT32_MIN,
        compute_membership_strengths,
        find_ab_params,
        init_graph_transform,
        make_epochs_per_sample,
        smooth_knn_dist,
    )

    reference, rows = umap_input(fitted, params), umap_input(new, params)
    given = fit_params(params, reference)
    model = new_umap(given, {})  # never fitted: its settings (and umap-learn's defaults) only
    a, b = (
        (model.a, model.b)
        if model.a is not None and model.b is not None
        else find_ab_params(model.spread, model.min_dist)
    )
    k = int(given["n_neighbors"])
    progress.stage(NEIGHBOURS, f"Placing {len(new):,} new states on the existing UMAP map: neighbours…")
    indices, distances = nearest(reference, rows, k)
    progress.stage(GRAPH, f"Placing {len(new):,} new states on the existing UMAP map: graph…")
    with numba_cache.quiet_cache_warnings():
        sigmas, rhos = smooth_knn_dist(distances, float(k), local_connectivity=max(0.0, model.local_connectivity - 1.0))
        heads, tails, values, _ = compute_membership_strengths(indices, distances, sigmas, rhos, bipartite=True)
        graph = scipy.sparse.coo_matrix((values, (heads, tails)), shape=(len(rows), len(reference)))
        csr = graph.tocsr()
        csr.eliminate_zeros()
        anchors = np.asarray(fitted_coords, dtype=np.float32)
        embedding = init_graph_transform(csr, anchors)
        epochs = (100 if len(rows) <= 10_000 else 30) if model.n_epochs is None else int(model.n_epochs // 3.0)
        graph.data[graph.data < (graph.data.max() / float(epochs))] = 0.0
        graph.eliminate_zeros()
        seed = np.random.RandomState(model.transform_seed).randint(INT32_MIN, INT32_MAX, 3).astype(np.int64)
        progress.label = f"Placing {len(new):,} new states on the existing UMAP map:"
        placed = optimize_layout_euclidean(
            embedding,
            anchors.copy(),
            graph.row,
            graph.col,
            epochs,
            graph.shape[1],
            make_epochs_per_sample(graph.data, epochs),
            a,
            b,
            seed,
            model.repulsion_strength,
            model.learning_rate / 4.0,
            model.negative_sample_rate,
            model.random_state is None,
            tqdm_kwds=progress.tqdm_kwds(),
        )
    return np.asarray(placed, dtype=np.float64)
