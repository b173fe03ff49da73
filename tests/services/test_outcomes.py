"""Forward outcomes: hand-computed cases, a loop reference on the sample, summaries and CSV cells."""

from __future__ import annotations

import calendar
import math
import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from factories import make_report
from service_helpers import MODEL, PF1, store_reports

from prometheus.errors import InvalidInput
from prometheus.services.outcomes import forward_outcomes, outcome_columns, summarise_outcomes
from prometheus.services.similar import SimilarQuery, find_similar
from prometheus.store.stores import Stores

NAN = math.nan
COLUMNS = ["portfolio_id", "as_of_date", "fwd_return_1m", "fwd_max_drawdown_1m", "fwd_return_3m", "fwd_max_drawdown_3m"]
P_VALUES = {  # month-ends; 2024-03-28 is a Thursday (Good Friday holiday the day after)
    date(2024, 1, 31): 100.0,
    date(2024, 2, 29): 90.0,
    date(2024, 3, 28): 95.0,
    date(2024, 4, 30): 120.0,
    date(2024, 5, 31): 60.0,
    date(2024, 6, 28): 80.0,
}
M_VALUES = {date(2024, 1, 15): 100.0, date(2024, 2, 15): 110.0, date(2024, 3, 15): 99.0}  # mid-month


def _store_series(stores: Stores) -> None:
    reports = [
        make_report(pid, day, portfolio_value=value)
        for pid, series in (("P", P_VALUES), ("M", M_VALUES))
        for day, value in series.items()
    ]
    store_reports(stores, reports, embed=False)


def _row(frame: pd.DataFrame, i: int) -> list[float]:
    return [float(v) for v in frame.iloc[i, 2:]]


def test_hand_computed_outcomes(stores: Stores) -> None:
    _store_series(stores)
    states = [
        ("P", date(2024, 1, 31)),
        ("P", date(2024, 3, 28)),
        ("P", date(2024, 5, 31)),
        ("P", date(2024, 6, 28)),
        ("M", date(2024, 1, 15)),
        ("M", date(2024, 2, 15)),
        ("P", date(2024, 2, 10)),
        ("NOPE", date(2024, 1, 31)),
        ("P", date(2023, 12, 29)),
    ]
    frame = forward_outcomes(stores, states)
    assert list(frame.columns) == COLUMNS
    assert list(zip(frame["portfolio_id"], frame["as_of_date"], strict=True)) == states
    expected = [
        [-0.1, -0.1, 0.2, -0.1],  # Jan 31 -> Feb 29 and -> Apr 30 (dip to 90 on the way)
        [120 / 95 - 1, 0.0, 80 / 95 - 1, -0.5],  # holiday month-end -> Apr 30 and -> Jun 28 (120 to 60)
        [80 / 60 - 1, 0.0, NAN, NAN],  # Jun 28 is June's month-end report; no report in late August
        [NAN, NAN, NAN, NAN],  # nothing after
        [0.1, 0.0, NAN, NAN],  # mid-month: Jan 15 -> Feb 15; no report on or after Apr 15
        [-0.1, -0.1, NAN, NAN],
        [-0.1, -0.1, 120 / 100 - 1, -0.1],  # between reports: from Jan 31's value to Mar 10 / May 10
        [NAN, NAN, NAN, NAN],  # unknown portfolio
        [NAN, NAN, NAN, NAN],  # before the first report
    ]
    for i, want in enumerate(expected):
        assert _row(frame, i) == pytest.approx(want, nan_ok=True), states[i]


def test_outcomes_arguments_and_empty_cases(stores: Stores) -> None:
    empty = forward_outcomes(stores, [])
    assert empty.empty and list(empty.columns) == COLUMNS
    frame = forward_outcomes(stores, [("P", date(2024, 1, 31))], horizons_months=(6,))
    assert list(frame.columns) == ["portfolio_id", "as_of_date", "fwd_return_6m", "fwd_max_drawdown_6m"]
    assert frame.iloc[0, 2:].isna().all()
    for bad in ((0,), (), (1, -3)):
        with pytest.raises(InvalidInput) as info:
            forward_outcomes(stores, [], horizons_months=bad)
        assert str(info.value) == f"horizons must be whole months of at least 1, got {list(bad)}"
    assert outcome_columns(stores, []) == (tuple(COLUMNS[2:]), [])


def _loop_outcome(series: list[tuple[date, float]], day: date, months: int) -> tuple[float, float]:
    """The documented rule, written out with plain loops over the report list."""
    before = [i for i, (d, _) in enumerate(series) if d <= day]
    if not before:
        return NAN, NAN
    start = before[-1]
    last_day = date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
    later_same_month = any(day < d <= last_day for d, _ in series)
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    target_last = calendar.monthrange(year, month)[1]
    if not later_same_month and (last_day - day).days < 7:
        horizon = date(year, month, target_last)
        known_from = horizon - timedelta(days=6)
    else:
        horizon = known_from = date(year, month, min(day.day, target_last))
    if not any(d >= known_from for d, _ in series):
        return NAN, NAN
    end = max(i for i, (d, _) in enumerate(series) if d <= horizon)
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
    frame = forward_outcomes(loaded_stores, states, horizons_months=(1, 3, 12))
    for i, (pid, day) in enumerate(states):
        want = [x for months in (1, 3, 12) for x in _loop_outcome(series[pid], day, months)]
        assert _row(frame, i) == pytest.approx(want, nan_ok=True, abs=1e-12), (pid, day)
    # month-end to month-end: the Friday 2024-03-29 report looks a month ahead to 2024-04-30
    friday = frame[(frame["portfolio_id"] == PF1) & (frame["as_of_date"] == date(2024, 3, 29))].iloc[0]
    value = dict(series[PF1])
    assert friday["fwd_return_1m"] == pytest.approx(value[date(2024, 4, 30)] / value[date(2024, 3, 29)] - 1)
    assert frame["fwd_return_1m"].notna().sum() == 5 * 23 and frame["fwd_return_12m"].notna().sum() == 5 * 12


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = q / 100 * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_summary_numbers_and_sentences() -> None:
    frame = pd.DataFrame(
        {
            "portfolio_id": list("ABCDEF"),
            "as_of_date": [date(2020, 1, 31)] * 6,
            "fwd_return_1m": [NAN] * 6,
            "fwd_max_drawdown_1m": [NAN] * 6,
            "fwd_return_3m": [-0.2, -0.1, 0.0, 0.1, 0.2, NAN],
            "fwd_max_drawdown_3m": [-0.3, -0.2, -0.1, 0.0, -0.05, NAN],
        }
    )
    summary = summarise_outcomes(frame)
    three = summary.horizons[3]
    returns, drawdowns = [-0.2, -0.1, 0.0, 0.1, 0.2], [-0.3, -0.2, -0.1, 0.0, -0.05]
    assert (three.total, three.count) == (6, 5)
    assert [three.return_median, three.return_p10, three.return_p90] == pytest.approx(
        [_percentile(returns, q) for q in (50, 10, 90)]
    )
    assert [three.drawdown_median, three.drawdown_p10, three.drawdown_p90] == pytest.approx(
        [_percentile(drawdowns, q) for q in (50, 10, 90)]
    )
    assert summary.sentence(3) == (
        "Over the next 3 months, 5 of 6 analogues have data: median return +0.0% (10th-90th percentile "
        "-16.0% to +16.0%), median max drawdown -10.0% (-26.0% to -2.0%)."
    )
    assert summary.horizons[1].count == 0 and math.isnan(summary.horizons[1].return_median)
    assert summary.sentence(1) == "No analogue has 1 month of later reports."
    with pytest.raises(InvalidInput) as info:
        summary.sentence(6)
    assert str(info.value) == "no 6-month outcomes were computed (have: 1, 3)"
    assert summarise_outcomes(frame.iloc[:0]).horizons[3].count == 0


def test_outcome_columns_for_the_similar_cli(loaded_stores: Stores) -> None:
    result = find_similar(loaded_stores, SimilarQuery(MODEL, PF1, date(2025, 1, 31), top_k=20))
    header, rows = outcome_columns(loaded_stores, result.neighbours)
    assert header == tuple(COLUMNS[2:])
    assert len(rows) == len(result.neighbours) == 20
    frame = forward_outcomes(loaded_stores, [(n.portfolio_id, n.as_of_date) for n in result.neighbours])
    for row, values in zip(rows, frame.iloc[:, 2:].itertuples(index=False), strict=True):
        for cell, value in zip(row, values, strict=True):
            assert cell == ("" if np.isnan(value) else f"{value:.6f}")
            assert cell == "" or re.fullmatch(r"-?\d+\.\d{6}", cell)
    assert any("" in row for row in rows)  # late-2025 analogues have no 3 months of future
