"""largest_columns gives each row's k largest scores, as a full argpartition would."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from prometheus.top_k import block_width, largest_columns


def _taken(scores: np.ndarray, columns: np.ndarray) -> np.ndarray:
    return np.sort(np.take_along_axis(scores, columns, axis=1), axis=1)


def _reference(scores: np.ndarray, k: int) -> np.ndarray:
    k = min(k, scores.shape[1])
    return _taken(scores, np.argpartition(-scores, k - 1, axis=1)[:, :k])


@given(
    rows=st.integers(1, 4),
    columns=st.integers(1, 3_000),
    k=st.integers(1, 60),
    levels=st.sampled_from([3, 50, 10**6]),  # few levels: many ties at the k-th score
    excluded_share=st.sampled_from([0.0, 0.5, 0.99, 1.0]),
    seed=st.integers(0, 2**16),
)
def test_each_rows_k_largest_scores_are_the_full_partitions(
    rows: int, columns: int, k: int, levels: int, excluded_share: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, levels, size=(rows, columns)).astype(np.float32)
    scores[rng.random((rows, columns)) < excluded_share] = -np.inf
    chosen = largest_columns(scores, k)
    assert chosen.shape == (rows, min(k, columns))
    for row in chosen:
        assert np.unique(row).size == row.size and row.min() >= 0 and row.max() < columns
    np.testing.assert_array_equal(_taken(scores, chosen), _reference(scores, k))


def test_a_wide_block_of_scores_gives_argpartitions_values() -> None:
    rng = np.random.default_rng(7)
    scores = rng.standard_normal((16, 57_952)).astype(np.float32)
    scores[:, rng.random(57_952) < 0.2] = -np.inf
    assert [block_width(57_952, k) for k in (1, 10, 232)] == [256, 128, 32]
    for k in (1, 10, 42, 232):
        np.testing.assert_array_equal(_taken(scores, largest_columns(scores, k)), _reference(scores, k))


@pytest.mark.parametrize("k", [0, -1])
def test_no_columns_are_asked_for(k: int) -> None:
    assert largest_columns(np.zeros((2, 5), dtype=np.float32), k).shape == (2, 0)


def test_stress_shares_split_the_last_places_among_tied_states() -> None:
    from prometheus.stress import stress_neighbour_shares

    stressed = np.array([False, True, True, False, False, True])
    scores = np.array(
        [
            [5, 3, 3, 3, 3, 9],  # 9 excluded; 5 (calm) then one place for four tied states, two stressed
            [5, 4, 3, 3, 3, 1],  # no tie at the 2nd: 5 and 4, one stressed
            [5, 3, 3, 3, 3, 1],  # every state excluded
            [1, 2, 3, 4, 5, 6],  # only one state allowed, stressed
        ],
        dtype=np.float32,
    )
    excluded = np.zeros(scores.shape, dtype=bool)
    excluded[0, 5] = True
    excluded[2] = True
    excluded[3, :5] = True
    shares = stress_neighbour_shares(scores, excluded, stressed, 2)
    np.testing.assert_allclose(shares[[0, 1, 3]], [(0 + 2 / 4) / 2, 1 / 2, 1.0])
    assert np.isnan(shares[2])
    # any order of the columns gives the same shares: nothing depends on how a tie is broken
    order = np.random.default_rng(3).permutation(6)
    again = stress_neighbour_shares(np.array(scores[:, order]), excluded[:, order], stressed[order], 2)
    np.testing.assert_allclose(again, shares, equal_nan=True)
