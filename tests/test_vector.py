import numpy as np
import pytest

from prometheus.errors import InvalidVector
from prometheus.store.vector import VECTOR_DTYPE, Vector, decode_matrix, decode_vector


def test_round_trip_is_float32_little_endian() -> None:
    values = np.arange(384, dtype=np.float64) / 7
    vector = Vector(values)
    blob = vector.to_db()
    assert len(blob) == 384 * 4
    assert blob[:4] == np.float32(values[0]).astype("<f4").tobytes()
    assert Vector.from_db(blob, 384) == vector
    assert vector.values.dtype == VECTOR_DTYPE


def test_big_endian_input_is_stored_little_endian() -> None:
    big = np.array([1.5, -2.0, 3.25], dtype=">f4")
    assert Vector(big).to_db() == np.array([1.5, -2.0, 3.25], dtype="<f4").tobytes()


def test_values_are_read_only() -> None:
    vector = Vector(np.ones(3))
    with pytest.raises(ValueError):
        vector.values[0] = 2.0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (np.ones((2, 2)), "a vector must be one-dimensional, got shape (2, 2)"),
        (np.array([1.0, np.nan]), "a vector may not contain NaN or infinity"),
        (np.array([1.0, np.inf]), "a vector may not contain NaN or infinity"),
        (np.array(["a", "b"]), "a vector must be numeric, got dtype <U1"),
    ],
)
def test_bad_vectors_are_refused(values: np.ndarray, message: str) -> None:
    with pytest.raises(InvalidVector) as info:
        Vector(values)
    assert str(info.value) == message


def test_wrong_byte_length_is_refused_on_read() -> None:
    with pytest.raises(InvalidVector) as info:
        decode_vector(b"\x00" * 12, 4, where="PF 2025-01-31")
    assert str(info.value) == (
        "PF 2025-01-31: 12 bytes stored for dimension 4 (expected 16); re-run the backfill to rewrite it"
    )


def test_decode_matrix_checks_each_row() -> None:
    good = np.ones(4, dtype="<f4").tobytes()
    matrix = decode_matrix([good, good], [4, 4], 4)
    assert matrix.shape == (2, 4)
    with pytest.raises(InvalidVector, match="row 1: stored dimension 3, expected 4"):
        decode_matrix([good, good[:12]], [4, 3], 4)
    nan_row = np.array([1, np.nan, 1, 1], dtype="<f4").tobytes()
    with pytest.raises(InvalidVector, match="x: stored vector contains NaN"):
        decode_matrix([good, nan_row], [4, 4], 4, labels=["w", "x"])
