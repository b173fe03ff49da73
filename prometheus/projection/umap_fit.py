"""Fitting a 2-D UMAP of the states: parameters, input rows and the fit itself."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from prometheus.errors import InvalidInput
from prometheus.progress import Progress

# No fixed random_state by default: umap-learn runs single-threaded when seeded
# (58k states: 188 s seeded here). A map is fitted once per data version and
# cached, so it does not move between page loads anyway; pass
# umap_params={"random_state": 42} for a reproducible layout.
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

_umap_compiled = False  # numba compiles UMAP's kernels once per process


def new_umap(params: Mapping[str, Any]) -> Any:
    import umap

    return umap.UMAP(**params)


def umap_step(progress: Progress | None, message: str) -> None:
    global _umap_compiled
    if progress is not None:
        if not _umap_compiled:
            progress(0, 0, "Compiling UMAP (first use in this process, ~30 s)…")
        progress(0, 0, message)
    _umap_compiled = True


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
    every neighbour list is the same, while pynndescent's euclidean kernels compile
    and run faster than its angular ones (100k states: 36 s against 43 s to the graph,
    compilation included). New rows are normalised the same way before transform().

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


def fit_umap(matrix: np.ndarray, params: Mapping[str, Any], progress: Progress | None) -> tuple[np.ndarray, Any]:
    n = matrix.shape[0]
    if n < MIN_UMAP_STATES:
        raise InvalidInput(f"a UMAP map needs at least {MIN_UMAP_STATES} states, got {n}")
    data = umap_input(matrix, params)
    umap_step(progress, f"Fitting UMAP on {n:,} states…")
    reducer = new_umap(fit_params(params, data))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*n_jobs value.*")  # a fixed random_state forces one thread
        coords = reducer.fit_transform(data)
    return np.asarray(coords, dtype=np.float64), reducer
