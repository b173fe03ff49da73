"""Underwater curve and worst drawdowns, cross-checked against a plain-loop implementation."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from factories import make_report
from service_helpers import PF1, store_reports

from prometheus.errors import InvalidInput, UnknownPortfolio
from prometheus.services.drawdown import (
    EPISODE_COLUMNS,
    MONTHLY_COLUMNS,
    UNDERWATER_COLUMNS,
    monthly_returns,
    underwater,
    underwater_at,
    worst_drawdowns,
)
from prometheus.store.stores import Stores

START = date(2020, 1, 1)


def _loop_underwater(values: list[float]) -> list[float]:
    out, peak = [], -1.0
    for v in values:
        peak = max(peak, v)
        out.append(v / peak - 1.0)
    return out


def _loop_episodes(days: list[date], drawdowns: list[float]) -> list[tuple[object, ...]]:
    """Walk the series: open an episode when it leaves its peak, close it when it gets back to zero."""
    episodes: list[tuple[object, ...]] = []
    peak_day, trough_day, depth, open_ = days[0], days[0], 0.0, False
    for day, dd in zip(days, drawdowns, strict=True):
        if dd >= 0:
            if open_:
                episodes.append(
                    (peak_day, trough_day, day, depth, (trough_day - peak_day).days, (day - peak_day).days, True)
                )
                open_ = False
            peak_day = day
            continue
        if not open_:
            open_, trough_day, depth = True, day, dd
        elif dd < depth:
            trough_day, depth = day, dd
    if open_:
        episodes.append(
            (peak_day, trough_day, None, depth, (trough_day - peak_day).days, (days[-1] - peak_day).days, False)
        )
    return sorted(episodes, key=lambda e: (e[3], e[0]))


def _frame(values: list[float]) -> pd.DataFrame:
    days = [START + timedelta(days=7 * i) for i in range(len(values))]
    return pd.DataFrame({"as_of_date": days, "portfolio_value": values, "drawdown": _loop_underwater(values)})


def _rows(table: pd.DataFrame) -> list[tuple[object, ...]]:
    return [tuple(row) for row in table.itertuples(index=False)]


def test_worst_drawdowns_of_a_hand_made_series() -> None:
    values = [100, 110, 99, 88, 95, 110, 120, 108, 121, 121, 90, 100, 80, 85]
    table = worst_drawdowns(_frame(values))
    assert list(table.columns) == list(EPISODE_COLUMNS)
    week = timedelta(days=7)
    assert _rows(table) == [
        # 121 -> 80 (-33.9%), never recovered; its peak is the later of the two 121s
        (START + 9 * week, START + 12 * week, None, 80 / 121 - 1, 21, 28, False),
        (START + week, START + 3 * week, START + 5 * week, 88 / 110 - 1, 14, 28, True),
        (START + 6 * week, START + 7 * week, START + 8 * week, 108 / 120 - 1, 7, 14, True),
    ]
    assert _rows(table) == _loop_episodes(list(_frame(values)["as_of_date"]), _loop_underwater(values))
    assert len(worst_drawdowns(_frame(values), n=2)) == 2


@pytest.mark.parametrize("seed", range(8))
def test_worst_drawdowns_agree_with_the_loop_on_random_walks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = list(100 * np.cumprod(1 + rng.normal(0.002, 0.03, size=300)))
    frame = _frame(values)
    expected = _loop_episodes(list(frame["as_of_date"]), list(frame["drawdown"]))
    got = _rows(worst_drawdowns(frame, n=len(values)))
    assert got == expected
    assert _rows(worst_drawdowns(frame, n=5)) == expected[:5]


def test_a_dates_place_on_the_curve_uses_values_up_to_it() -> None:
    values = [100, 110, 99, 88, 95, 110, 120, 108]
    frame = _frame(values)
    week = timedelta(days=7)
    at = underwater_at(frame, START + 3 * week)
    assert at is not None
    assert (at.day, at.drawdown, at.peak_date) == (START + 3 * week, 88 / 110 - 1, START + week)
    # between two values: the last one on or before it
    between = underwater_at(frame, START + 3 * week + timedelta(days=3))
    assert between is not None and (between.day, between.peak_date) == (START + 3 * week, START + week)
    # a new peak is its own peak: at a peak, not under water
    peak = underwater_at(frame, START + 6 * week)
    assert peak is not None and (peak.drawdown, peak.peak_date) == (0.0, START + 6 * week)
    assert underwater_at(frame, START - timedelta(days=1)) is None
    # nothing after the date moves it: the same answer from the curve cut at that date
    for i in range(len(values)):
        day = START + i * week
        assert underwater_at(_frame(values[: i + 1]), day) == underwater_at(frame, day)
    # every date agrees with the loop's peak
    for i, depth in enumerate(_loop_underwater(values)):
        found = underwater_at(frame, START + i * week)
        assert found is not None and found.drawdown == depth
        last_peak = max(j for j in range(i + 1) if values[j] >= max(values[: j + 1]))
        assert found.peak_date == START + last_peak * week


def test_worst_drawdowns_edge_cases() -> None:
    assert worst_drawdowns(_frame([1, 2, 3])).empty
    empty = worst_drawdowns(_frame([])[list(UNDERWATER_COLUMNS)])
    assert empty.empty and list(empty.columns) == list(EPISODE_COLUMNS)
    # a slice that starts under water: its first date stands in for the peak
    starts_low = pd.DataFrame(
        {"as_of_date": [START, START + timedelta(days=1), START + timedelta(days=2)], "drawdown": [-0.1, -0.2, 0.0]}
    )
    assert _rows(worst_drawdowns(starts_low)) == [
        (START, START + timedelta(days=1), START + timedelta(days=2), -0.2, 1, 2, True)
    ]
    with pytest.raises(InvalidInput) as info:
        worst_drawdowns(_frame([1, 2]), n=0)
    assert str(info.value) == "n must be at least 1, got 0"


def test_underwater_of_a_sample_portfolio(loaded_stores: Stores) -> None:
    frame = underwater(loaded_stores, PF1)
    assert list(frame.columns) == list(UNDERWATER_COLUMNS)
    reports = loaded_stores.reports.load(portfolio_ids=[PF1])
    assert list(frame["as_of_date"]) == [r.as_of_date for r in reports]
    values = [float(r.portfolio_value or 0) for r in reports]
    assert list(frame["portfolio_value"]) == values
    assert list(frame["drawdown"]) == pytest.approx(_loop_underwater(values), abs=1e-15)
    assert (frame["drawdown"] <= 0).all()
    # the sample's own drawdown metric agrees with the one recomputed from its values
    assert list(frame["drawdown"]) == pytest.approx([r.risk_metrics["drawdown"] for r in reports], abs=1e-6)


def test_underwater_from_stored_reports_skips_missing_values(stores: Stores) -> None:
    with pytest.raises(UnknownPortfolio) as info:
        underwater(stores, "P")
    assert str(info.value) == "unknown portfolio 'P': no risk reports exist for it"
    values = [100.0, None, 120.0, 90.0, 130.0]
    store_reports(
        stores,
        [make_report("P", START + timedelta(days=i), portfolio_value=v) for i, v in enumerate(values)],
        embed=False,
    )
    frame = underwater(stores, "P")
    assert list(frame["as_of_date"]) == [
        START,
        START + timedelta(days=2),
        START + timedelta(days=3),
        START + timedelta(days=4),
    ]
    assert list(frame["drawdown"]) == pytest.approx([0.0, 0.0, -0.25, 0.0])
    assert _rows(worst_drawdowns(frame)) == [
        (START + timedelta(days=2), START + timedelta(days=3), START + timedelta(days=4), -0.25, 1, 2, True)
    ]
    store_reports(stores, [make_report("Q", START, portfolio_value=None)], embed=False)
    only_missing = underwater(stores, "Q")
    assert only_missing.empty and list(only_missing.columns) == list(UNDERWATER_COLUMNS)


def _values(points: dict[date, float]) -> pd.DataFrame:
    days = sorted(points)
    return pd.DataFrame({"as_of_date": days, "portfolio_value": [points[d] for d in days], "drawdown": 0.0})


def test_monthly_returns_run_month_end_to_month_end_and_leave_gaps_empty() -> None:
    frame = _values(
        {
            date(2023, 11, 30): 100.0,  # a single value in its month: nothing measured there
            date(2023, 12, 15): 104.0,
            date(2023, 12, 29): 110.0,
            date(2024, 1, 10): 90.0,
            date(2024, 1, 31): 99.0,
            date(2024, 2, 29): 108.9,
            # no value in March 2024
            date(2024, 4, 30): 120.0,
            date(2024, 5, 31): 0.0,  # not a value (a non-positive one has no return)
            date(2024, 6, 28): 132.0,
        }
    )
    table = monthly_returns(frame)
    assert list(table.columns) == list(MONTHLY_COLUMNS)
    assert list(table["calendar_year"]) == ["2024", "2023"]  # newest first, as text (not "2,024")
    y2024, y2023 = table.iloc[0], table.iloc[1]
    assert np.isnan(y2023["month_11"])
    assert y2023["month_12"] == pytest.approx(110 / 100 - 1)
    assert y2023["year_return"] == pytest.approx(110 / 100 - 1)  # the first year from the first value
    assert y2024["month_01"] == pytest.approx(99 / 110 - 1)  # from December's last value, not January's first
    assert y2024["month_02"] == pytest.approx(0.1)
    assert np.isnan(y2024["month_03"]) and np.isnan(y2024["month_04"])  # no March: April is not credited with it
    assert np.isnan(y2024["month_05"])  # May has no (positive) value
    assert np.isnan(y2024["month_06"])  # nor has the month before June
    assert y2024["month_07":"month_12"].isna().all()
    assert y2024["year_return"] == pytest.approx(132 / 110 - 1)  # partial: to the last value
    assert monthly_returns(_values({})).empty and list(monthly_returns(_values({})).columns) == list(MONTHLY_COLUMNS)
