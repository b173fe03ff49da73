"""The embedding value type: float32, little-endian, fixed dimension.

Stored as raw bytes; the dimension is stored beside them and checked on read,
so a truncated or foreign blob is refused instead of silently misread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from prometheus.errors import InvalidVector

VECTOR_DTYPE = np.dtype("<f4")
EMBEDDING_DIM = 384


@dataclass(frozen=True, eq=False)
class Vector:
    """An immutable float32 vector that knows its dimension and byte order."""

    values: np.ndarray

    def __post_init__(self) -> None:
        array = np.asarray(self.values)
        if array.ndim != 1:
            raise InvalidVector(f"a vector must be one-dimensional, got shape {array.shape}")
        if not np.issubdtype(array.dtype, np.number):
            raise InvalidVector(f"a vector must be numeric, got dtype {array.dtype}")
        array = np.ascontiguousarray(array, dtype=VECTOR_DTYPE)
        if not np.isfinite(array).all():
            raise InvalidVector("a vector may not contain NaN or infinity")
        array.setflags(write=False)
        object.__setattr__(self, "values", array)

    @property
    def dim(self) -> int:
        return int(self.values.shape[0])

    def to_db(self) -> bytes:
        return self.values.tobytes()

    @classmethod
    def from_db(cls, blob: bytes | memoryview, dim: int) -> Vector:
        return cls(decode_vector(blob, dim))

    def l2_norm(self) -> float:
        return float(np.linalg.norm(self.values.astype(np.float64)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vector) and self.to_db() == other.to_db()

    def __hash__(self) -> int:
        return hash(self.to_db())


def decode_vector(blob: bytes | memoryview, dim: int, *, where: str = "vector") -> np.ndarray:
    """Bytes from the database to a read-only float32 array, checking size and values."""
    raw = bytes(blob)
    if dim <= 0:
        raise InvalidVector(f"{where}: stored dimension {dim} is not positive")
    if len(raw) != dim * VECTOR_DTYPE.itemsize:
        raise InvalidVector(
            f"{where}: {len(raw)} bytes stored for dimension {dim} "
            f"(expected {dim * VECTOR_DTYPE.itemsize}); re-run the backfill to rewrite it"
        )
    array = np.frombuffer(raw, dtype=VECTOR_DTYPE)
    if not np.isfinite(array).all():
        raise InvalidVector(f"{where}: stored vector contains NaN or infinity; re-run the backfill")
    return array


def decode_matrix(
    blobs: Sequence[bytes | memoryview], dims: Sequence[int], expected_dim: int, labels: Sequence[str] | None = None
) -> np.ndarray:
    """Many blobs to one contiguous (n, dim) float32 matrix, every row checked."""
    n = len(blobs)
    matrix = np.empty((n, expected_dim), dtype=VECTOR_DTYPE)
    row_bytes = expected_dim * VECTOR_DTYPE.itemsize
    for i, (blob, dim) in enumerate(zip(blobs, dims, strict=True)):
        where = labels[i] if labels is not None else f"row {i}"
        if dim != expected_dim:
            raise InvalidVector(f"{where}: stored dimension {dim}, expected {expected_dim}")
        if len(blob) != row_bytes:
            raise InvalidVector(
                f"{where}: {len(blob)} bytes stored for dimension {dim} (expected {row_bytes}); "
                "re-run the backfill to rewrite it"
            )
        matrix[i] = np.frombuffer(blob, dtype=VECTOR_DTYPE)
    if n and not np.isfinite(matrix).all():
        bad = int(np.flatnonzero(~np.isfinite(matrix).all(axis=1))[0])
        where = labels[bad] if labels is not None else f"row {bad}"
        raise InvalidVector(f"{where}: stored vector contains NaN or infinity; re-run the backfill")
    return matrix
