"""The forecast book's row-wise quantiles are numpy's nanquantile, bit for bit, without its per-row loop."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from prometheus.forecasting.drawdown_model import row_nanquantiles, summarise_analogues

# Values from a small grid (ties are common among analogues' outcomes), NaN for a missing analogue.
CELLS = st.one_of(st.just(np.nan), st.sampled_from([-0.5, -0.2, -0.2, -0.05, 0.0, 0.1]), st.floats(-3, 3))
MATRICES = hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=25), elements=CELLS)
QUANTILES = st.lists(st.floats(0, 1), min_size=1, max_size=3).map(tuple)


@settings(max_examples=300)
@given(MATRICES, QUANTILES)
def test_row_quantiles_are_numpys_nanquantile_bit_for_bit(values: np.ndarray, quantiles: tuple[float, ...]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy warns for an all-NaN row (NaN: same as ours)
        expected = np.nanquantile(values, list(quantiles), axis=1)
    for mine, numpys in zip(row_nanquantiles(values, quantiles), expected, strict=True):
        np.testing.assert_array_equal(mine, numpys)


def test_an_analogue_summary_ignores_missing_analogues_and_floors_volatility() -> None:
    outcomes = np.array([[-0.10, -0.20, np.nan, -0.30], [np.nan] * 4, [-0.05, np.nan, np.nan, np.nan]])
    volatilities = np.array([[0.10, 0.20, 0.30, 0.01], [0.1] * 4, [np.nan, 0.2, 0.2, 0.2]])
    summary = summarise_analogues(outcomes, volatilities, tail=0.1)
    np.testing.assert_array_equal(summary.count, [3, 0, 1])
    np.testing.assert_array_equal(summary.median[[0, 2]], [-0.20, -0.05])
    # row 0's outcome/vol ratios: -1, -1, -15 (vol 0.01 floored at 0.02); sorted -15, -1, -1
    np.testing.assert_allclose([summary.ratio_low[0], summary.ratio_high[0]], [-15 + 0.2 * 14, -1.0])
    assert np.isnan(summary.median[1]) and np.isnan(summary.ratio_low[1])
    assert np.isnan(summary.ratio_low[2])  # its one known outcome has no volatility
