"""The first two principal components of the states, by numpy alone."""

from __future__ import annotations

import numpy as np


def fit_pca(matrix: np.ndarray) -> np.ndarray:
    """The first two principal components, from the eigenvectors of the covariance matrix.

    The index holds few active columns, so the k x k covariance is tiny and this is
    exact (scikit-learn's "covariance_eigh" solver) in milliseconds, without the
    ~1.2 s it takes to import scikit-learn. Signs follow scikit-learn's convention:
    each component's largest loading is positive, so a refit does not mirror the map.
    """
    n = matrix.shape[0]
    coords = np.zeros((n, 2))
    if n < 2 or matrix.shape[1] == 0:  # one state (or no active coordinate): a single point
        return coords
    data = np.asarray(matrix, dtype=np.float64)
    centred = data - data.mean(axis=0)
    _, vectors = np.linalg.eigh(centred.T @ centred)
    components = vectors[:, ::-1][:, :2]  # eigh sorts ascending
    signs = np.sign(components[np.abs(components).argmax(axis=0), np.arange(components.shape[1])])
    components = components * np.where(signs == 0, 1.0, signs)
    coords[:, : components.shape[1]] = centred @ components
    return coords
