"""A book's forward windows (prometheus.values.ValueSeries): every window at once, the one-window
computation's figures bit for bit (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prometheus.values as values_module
from prometheus.values import ValueSeries

START = np.datetime64("2020-01-01", "D")


def _one_window(series: ValueSeries, day: np.datetime64, horizon_days: int) -> tuple[float, float]:
    """The rule for one state, written out as the app computed it before: (return, max drawdown)."""
    days = series.dates
    start = int(np.searchsorted(days, day, side="right")) - 1
    horizon = day + np.timedelta64(horizon_days, "D")
    if start < 0 or days.size == 0 or days[-1] < horizon:
        return math.nan, math.nan
    end = int(np.searchsorted(days, horizon, side="right")) - 1
    path = series.values[start : end + 1]
    return float(path[-1] / path[0] - 1.0), float(np.min(path / np.maximum.accumulate(path) - 1.0))


@st.composite
def books(draw: st.DrawFn) -> tuple[ValueSeries, np.ndarray, int]:
    gaps = draw(st.lists(st.integers(1, 4), max_size=40))
    days = START + np.cumsum([0, *gaps]).astype("timedelta64[D]")
    if draw(st.booleans()):
        days = days[:0]  # a book without values
    levels = st.sampled_from([50.0, 100.0, 100.0, 80.0, 120.0]) | st.floats(1.0, 500.0)  # ties are common
    values = np.array(draw(st.lists(levels, min_size=len(days), max_size=len(days))), dtype=np.float64)
    queries = START + np.array(draw(st.lists(st.integers(-5, 160), max_size=30)), dtype="timedelta64[D]")
    return ValueSeries(days, values), queries, draw(st.integers(0, 60))


@settings(max_examples=300)
@given(books(), st.sampled_from([4_000_000, 7]))
def test_every_window_at_once_is_the_one_window_rule_bit_for_bit(
    book: tuple[ValueSeries, np.ndarray, int], cells: int
) -> None:
    series, queries, horizon = book
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(values_module, "_CELLS_AT_ONCE", cells)  # 7: windows in many small passes
        returns, drawdowns = series.forward(queries, horizon)
    expected = [_one_window(series, day, horizon) for day in queries]
    np.testing.assert_array_equal(returns, [r for r, _ in expected])
    np.testing.assert_array_equal(drawdowns, [d for _, d in expected])


def test_a_window_is_known_only_from_the_first_value_to_the_last_minus_the_horizon() -> None:
    series = ValueSeries(START + np.array([0, 1, 2, 5], dtype="timedelta64[D]"), np.array([100.0, 90.0, 120.0, 60.0]))
    days = START + np.array([-1, 0, 1, 2, 3], dtype="timedelta64[D]")
    returns, drawdowns = series.forward(days, 3)
    # before the first value: unknown; day 0 -> days 0..3 (100, 90, 120): -10%; day 1 -> 90, 120: 0;
    # day 2 -> day 5 is the horizon: 120, 60: -50%; day 3 would need day 6: unknown
    np.testing.assert_allclose(drawdowns, [np.nan, -0.1, 0.0, -0.5, np.nan])
    np.testing.assert_allclose(returns[1:4], [0.2, 120 / 90 - 1, -0.5])
