"""Embedding values in bulk: records and batches going in, matrices coming out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from prometheus.errors import InvalidVector
from prometheus.store.vector import VECTOR_DTYPE, Vector


@dataclass(frozen=True)
class EmbeddingRecord:
    """One stored state: a portfolio on a date under a model."""

    portfolio_id: str
    as_of_date: date
    model_id: str
    vector: Vector
    spec: dict[str, Any] = field(default_factory=dict)  # window_spec or entity_scope


@dataclass(frozen=True)
class EmbeddingBatch:
    """Many states of one model: parallel labels and an (n, dim) matrix."""

    model_id: str
    portfolio_ids: list[str]
    dates: list[date]
    matrix: np.ndarray
    specs: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.portfolio_ids)

    def matrix_bytes(self) -> bytes:
        """All rows as float32 little-endian bytes, row after row; refuses NaN, infinity and non-numeric data."""
        matrix = np.asarray(self.matrix)
        if matrix.ndim != 2 or not np.issubdtype(matrix.dtype, np.number):
            raise InvalidVector(f"a batch of vectors must be a 2-D numeric matrix, got {matrix.dtype} {matrix.shape}")
        if matrix.shape[0] != len(self.portfolio_ids):
            raise InvalidVector(f"{matrix.shape[0]} vectors for {len(self.portfolio_ids)} states")
        if not np.isfinite(matrix).all():
            raise InvalidVector("a vector may not contain NaN or infinity")
        return np.ascontiguousarray(matrix, dtype=VECTOR_DTYPE).tobytes()

    def blobs(self) -> list[bytes]:
        """Each row as float32 little-endian bytes (see :meth:`matrix_bytes`)."""
        raw = self.matrix_bytes()
        width = np.asarray(self.matrix).shape[1] * VECTOR_DTYPE.itemsize
        return [raw[i : i + width] for i in range(0, len(raw), width)]


@dataclass(frozen=True)
class UpsertCounts:
    written: int
    unchanged: int


@dataclass(frozen=True)
class EmbeddingMatrix:
    """Many states at once: parallel lists and one (n, dim) float32 matrix."""

    portfolio_ids: list[str]
    dates: list[date]
    specs: list[dict[str, Any]]
    matrix: np.ndarray

    def __len__(self) -> int:
        return len(self.portfolio_ids)
