"""Forward outcomes: hand-computed cases, daily values over reports, point in time, a loop reference, CSV cells."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from factories import make_report
from service_helpers import MODEL, PF1, store_reports

from prometheus.errors import InvalidInput
from prometheus.services.outcomes import forward_outcomes, outcome_cells, values_used
from prometheus.services.similar import SimilarQuery, find_similar
from prometheus.store.stores import Stores
from prometheus.values import ValueSeries

NAN = math.nan
COLUMNS = [
    "portfolio_id",
    "as_of_date",
    "fwd_return_30d",
    "fwd_max_drawdown_30d",
    "fwd_return_91d",
    "fwd_max_drawdown_91d",
    "values",
]
P_VALUES = {  # month-ends of 2024
    date(2024, 1, 31): 100.0,
    date(2024, 2, 29): 90.0,
    date(2024, 3, 28): 95.0,
    date(2024, 4, 30): 120.0,
    date(2024, 5, 31): 60.0,
    date(2024, 6, 28): 80.0,
}


def _store_series(stores: Stores) -> None:
    reports = [make_report("P", day, portfolio_value=value) for day, value in P_VALUES.items()]
    store_reports(stores, reports, embed=False)


def _row(frame: pd.DataFrame, i: int) -> list[float]:
    return [float(v) for v in frame.iloc[i, 2:6]]


def test_hand_computed_outcomes_from_report_values(stores: Stores) -> None:
    _store_series(stores)
    states = [
        ("P", date(2024, 1, 31)),  # +30 d = Mar 1 (last value Feb 29); +91 d = May 1 (last value Apr 30)
        ("P", date(2024, 3, 28)),  # +30 d = Apr 27 (Mar 28 itself); +91 d = Jun 27 (May 31: 120 then 60)
        ("P", date(2024, 5, 27)),  # from Apr 30's 120: +30 d = Jun 26 (May 31's 60); +91 d: no value that late
        ("P", date(2024, 5, 31)),  # +30 d = Jun 30, after the last value (Jun 28): not known yet
        ("P", date(2024, 2, 10)),  # between reports: from Jan 31's value to Mar 11 (Feb 29) and May 11
        ("NOPE", date(2024, 1, 31)),
        ("P", date(2023, 12, 29)),  # before the first value
    ]
    frame = forward_outcomes(stores, states)
    assert list(frame.columns) == COLUMNS
    assert list(zip(frame["portfolio_id"], frame["as_of_date"], strict=True)) == states
    expected = [
        [-0.1, -0.1, 0.2, -0.1],
        [0.0, 0.0, 60 / 95 - 1, -0.5],
        [-0.5, -0.5, NAN, NAN],
        [NAN, NAN, NAN, NAN],
        [-0.1, -0.1, 0.2, -0.1],  # +91 d = May 11: Apr 30's 120
        [NAN, NAN, NAN, NAN],
        [NAN, NAN, NAN, NAN],
    ]
    for i, want in enumerate(expected):
        assert _row(frame, i) == pytest.approx(want, nan_ok=True), states[i]
    assert list(frame["values"]) == ["reports"] * 5 + ["", "reports"]
    assert values_used(frame).startswith("the reports' portfolio values")


def test_daily_values_are_preferred_and_catch_the_dip_between_reports(stores: Stores) -> None:
    _store_series(stores)
    days = np.arange(np.datetime64("2024-01-31"), np.datetime64("2024-07-01"))
    values = np.full(days.size, 100.0)
    values[(days >= np.datetime64("2024-02-05")) & (days <= np.datetime64("2024-02-07"))] = 70.0  # a daily dip
    stores.values.replace({"P": ValueSeries(days, values)})
    frame = forward_outcomes(stores, [("P", date(2024, 1, 31))])
    assert _row(frame, 0) == pytest.approx([0.0, -0.3, 0.0, -0.3])  # the weekly series saw no dip at all
    assert frame["values"].tolist() == ["daily"] and values_used(frame) == "daily portfolio values"


def test_point_in_time_outcomes_read_nothing_after_the_cutoff(stores: Stores) -> None:
    _store_series(stores)
    state = [("P", date(2024, 1, 31))]
    full = forward_outcomes(stores, state)
    known = forward_outcomes(stores, state, known_by=date(2024, 4, 15))
    assert _row(known, 0)[:2] == _row(full, 0)[:2]  # the 30-day outcome had ended by Apr 15
    assert math.isnan(_row(known, 0)[2]) and math.isnan(_row(known, 0)[3])  # the 91-day one had not
    # values written after the cutoff cannot change a point-in-time outcome
    store_reports(stores, [make_report("P", date(2024, 4, 1), portfolio_value=1.0)], embed=False)
    again = forward_outcomes(stores, state, known_by=date(2024, 3, 31))
    assert _row(again, 0)[:2] == _row(full, 0)[:2]


def test_outcomes_arguments_and_empty_cases(stores: Stores) -> None:
    empty = forward_outcomes(stores, [])
    assert empty.empty and list(empty.columns) == COLUMNS
    frame = forward_outcomes(stores, [("P", date(2024, 1, 31))], horizons_days=(182,))
    assert list(frame.columns) == ["portfolio_id", "as_of_date", "fwd_return_182d", "fwd_max_drawdown_182d", "values"]
    for bad in ((0,), (), (30, 4000)):
        with pytest.raises(InvalidInput) as info:
            forward_outcomes(stores, [], horizons_days=bad)
        expected = (
            "the horizon: give at least one horizon"
            if not bad
            else "the horizon must be a whole number of days from 1 to 3660"
        )
        assert str(info.value) == expected


def _loop_outcome(series: list[tuple[date, float]], day: date, horizon: int) -> tuple[float, float]:
    """The documented rule, written out with plain loops over the value list."""
    before = [i for i, (d, _) in enumerate(series) if d <= day]
    end_day = day + timedelta(days=horizon)
    if not before or series[-1][0] < end_day:
        return NAN, NAN
    start = before[-1]
    end = max(i for i, (d, _) in enumerate(series) if d <= end_day)
    peak, worst = series[start][1], 0.0
    for _, value in series[start : end + 1]:
        peak = max(peak, value)
        worst = min(worst, value / peak - 1)
    return series[end][1] / series[start][1] - 1, worst


def test_sample_outcomes_match_the_loop(loaded_stores: Stores) -> None:
    reports = loaded_stores.reports.load()
    series: dict[str, list[tuple[date, float]]] = {}
    for r in reports:
        series.setdefault(r.portfolio_id, []).append((r.as_of_date, float(r.portfolio_value or 0)))
    states = [(r.portfolio_id, r.as_of_date) for r in reports]
    frame = forward_outcomes(loaded_stores, states, horizons_days=(30, 91, 365))
    for i, (pid, day) in enumerate(states):
        want = [x for h in (30, 91, 365) for x in _loop_outcome(series[pid], day, h)]
        got = [float(v) for v in frame.iloc[i, 2:8]]
        assert got == pytest.approx(want, nan_ok=True, abs=1e-12), (pid, day)
    assert frame["fwd_return_30d"].notna().sum() == 5 * 23 and frame["fwd_return_365d"].notna().sum() == 5 * 12


def test_outcome_cells_for_the_similar_cli(loaded_stores: Stores) -> None:
    result = find_similar(loaded_stores, SimilarQuery(MODEL, PF1, date(2025, 1, 31), top_k=20))
    keys = [(n.portfolio_id, n.as_of_date) for n in result.neighbours]
    frame = forward_outcomes(loaded_stores, keys)
    header, rows = outcome_cells(frame)
    assert header == tuple(COLUMNS[2:])
    assert len(rows) == len(result.neighbours) == 20
    for row, values in zip(rows, frame.iloc[:, 2:6].itertuples(index=False), strict=True):
        for cell, value in zip(row[:4], values, strict=True):
            assert cell == ("" if np.isnan(value) else f"{value:.6f}")
            assert cell == "" or re.fullmatch(r"-?\d+\.\d{6}", cell)
        assert row[4] == "reports"
    assert any("" in row for row in rows)  # late-2025 analogues have no 91 days of future
