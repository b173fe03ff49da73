"""Fitting a 2-D UMAP of the states: parameters, input rows and the fit itself."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from prometheus.errors import InvalidInput
from prometheus.projection import numba_cache
from prometheus.projection.neighbours import neighbour_graph
from prometheus.projection.umap_progress import GRAPH, LOADING, NEIGHBOURS, UmapBar

# No fixed random_state by default: umap-learn runs single-threaded when seeded
# (58k states: 188 s seeded here). A map is fitted once per data version and
# cached, so it does not move between page loads anyway; pass
# umap_params={"random_state": 42} for a reproducible layout.
# n_epochs stays umap-learn's (200 above 10,000 states): on the demo book the share
# of each state's 15 nearest neighbours (exact, 35-d) kept among its 15 nearest on
# the map was 0.525 at 200 epochs (0.526 with umap-learn's own neighbour search),
# 0.516 at 150 and 0.495 at 100, for 3-5 s saved: not worth it.
UMAP_PARAMS: dict[str, Any] = {
    "n_components": 2,
    "random_state": None,
    "n_neighbors": 15,
    "min_dist": 0.1,
    "metric": "cosine",
}
# The starting layout when umap_params names none (see fit_params). Not part of
# UMAP_PARAMS, so maps cached before it was chosen keep their cache identity.
UMAP_INIT = "pca"
MIN_UMAP_STATES = 4  # below this UMAP's spectral layout cannot run


def new_umap(params: Mapping[str, Any], extras: Mapping[str, Any]) -> Any:
    """umap.UMAP for ``params`` (the map's identity) with ``extras`` (neighbours found, progress hook)."""
    return numba_cache.cached_umap().UMAP(**params, **extras)


def load_umap(bar: UmapBar) -> None:
    """Say whether umap's kernels will come from numba's cache (see ``numba_cache.use_numba_cache``) or compile."""
    warm = numba_cache.is_warm()
    bar.stage(LOADING, "Loading UMAP…" if warm else "Compiling UMAP (first use with this cache folder, about 30 s)…")


def umap_input(matrix: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """The rows UMAP sees: unit-length rows when the metric is cosine (see _fit_params)."""
    if params.get("metric") != "cosine":
        return matrix
    data = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(data, axis=1, keepdims=True)
    return data / np.where(norms > 0, norms, 1.0)  # an all-zero row stays zero


def fit_params(params: Mapping[str, Any], matrix: np.ndarray) -> dict[str, Any]:
    """What umap.UMAP is given for ``params`` on ``matrix`` (already passed through umap_input).

    Cosine becomes euclidean on unit-length rows: ``|a - b|^2 = 2 - 2 cos(a, b)``, so
    every neighbour list is the same, and the neighbours can be found by faiss (see
    ``neighbours``). New rows are normalised the same way before they are placed.

    The layout starts from PCA, not umap-learn's default spectral layout: the
    neighbour graph of a book splits into dozens of connected components (26-27 for
    the synthetic 100k store), and the spectral layout then runs ARPACK on each for
    minutes (100k states: over 4 minutes, against about a second for PCA). The
    epochs that follow shape the neighbourhoods, which come out the same (share of
    each state's 15 nearest neighbours kept on the 100k map: 0.30-0.31 from either start).
    """
    n, columns = matrix.shape
    fitted = {"init": UMAP_INIT, **params, "n_neighbors": min(int(params["n_neighbors"]), n - 1)}
    if fitted.get("metric") == "cosine":
        fitted["metric"] = "euclidean"
    if fitted.get("init") == "pca" and columns < 2:  # PCA cannot find two components in one column
        fitted["init"] = "random"
    return fitted


def fit_umap(matrix: np.ndarray, params: Mapping[str, Any], progress: UmapBar) -> np.ndarray:
    """The map's coordinates, (n, 2) float64; ``progress`` goes from loading to the last epoch."""
    n = matrix.shape[0]
    if n < MIN_UMAP_STATES:
        raise InvalidInput(f"a UMAP map needs at least {MIN_UMAP_STATES} states, got {n}")
    load_umap(progress)
    data = umap_input(matrix, params)
    given = fit_params(params, data)
    reducer = new_umap(given, {"tqdm_kwds": progress.tqdm_kwds()})  # imports umap: loaded or compiled now
    if given.get("metric") == "euclidean":  # another metric explicitly asked for: umap-learn's own search
        progress.stage(NEIGHBOURS, f"Finding each of {n:,} states' {given['n_neighbors']} nearest neighbours…")
        reducer.set_params(precomputed_knn=neighbour_graph(data, int(given["n_neighbors"])))
    progress.stage(GRAPH, f"Fitting UMAP on {n:,} states: neighbour graph and starting layout…")
    progress.label = f"Fitting UMAP on {n:,} states: laying out,"
    with warnings.catch_warnings(), numba_cache.quiet_cache_warnings():
        warnings.filterwarnings("ignore", message=".*n_jobs value.*")  # a fixed random_state forces one thread
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")  # placement needs no pynndescent index
        coords = reducer.fit_transform(data)
    return np.asarray(coords, dtype=np.float64)
