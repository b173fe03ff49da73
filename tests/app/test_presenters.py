"""The Streamlit-free helpers behind the pages."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io
from app_helpers import plotly_values
from helpers import fill_sample

from prometheus.config import Settings
from prometheus.presenters import choices, figures, heat, maps, quality, series, tables
from prometheus.services import versions
from prometheus.services.backfill import BackfillRequest, backfill_joint, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.services.quality import Comparison, MethodQuality, QualityReport
from prometheus.services.similar import SimilarQuery
from prometheus.store.jobs import Job
from prometheus.store.stores import open_stores


def test_parse_day_and_nearest_date_forgive_bad_links() -> None:
    days = [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 28)]
    assert choices.parse_day("2024-02-29") == date(2024, 2, 29)
    assert choices.parse_day("29/02/2024") is None
    assert choices.parse_day(None) is None
    assert choices.nearest_on_or_before(days, date(2024, 3, 1)) == date(2024, 2, 29)
    assert choices.nearest_on_or_before(days, date(2023, 1, 1)) == date(2024, 1, 31)
    assert choices.nearest_on_or_before(days, None) == date(2024, 3, 28)
    assert choices.nearest_on_or_before([], date(2024, 3, 1)) is None


def test_a_dates_depth_in_words() -> None:
    curve = pd.DataFrame(
        {
            "as_of_date": [date(2024, 1, 5), date(2024, 1, 12), date(2024, 1, 19), date(2024, 1, 26)],
            "drawdown": [0.0, -0.1234, -0.25, 0.0],
        }
    )
    assert tables.describe_depth(curve, date(2024, 1, 19)) == (
        "**2024-01-19**: 25.0% below the peak of 2024-01-05 (14 days under water by then)."
    )
    assert tables.describe_depth(curve, date(2024, 1, 14)) == (
        "**2024-01-14 (last value 2024-01-12)**: 12.3% below the peak of 2024-01-05 (7 days under water by then)."
    )
    assert tables.describe_depth(curve, date(2024, 1, 26)) == "**2024-01-26**: at a peak, not under water."
    assert tables.describe_depth(curve, date(2024, 1, 1)) == "**2024-01-01**: before the first value on this curve."


def test_a_large_selection_lists_its_first_rows_and_says_the_csv_has_all() -> None:
    chosen = pd.DataFrame({"portfolio_id": [f"P{i}" for i in range(2_500)], "as_of_date": [date(2024, 1, 1)] * 2_500})
    listed, caption = maps.selection_listing(chosen)
    assert listed.equals(chosen.head(maps.SELECTION_LISTED)) and maps.SELECTION_LISTED == 1_000
    assert caption == (
        "2,500 state(s) selected: the first 1,000 by date are listed here and in the box below; the CSV has all 2,500."
    )
    small, said = maps.selection_listing(chosen.head(120))
    assert small.equals(chosen.head(120)) and said == "120 state(s) selected"
    at_limit, said = maps.selection_listing(chosen, limit=2_500)
    assert len(at_limit) == 2_500 and said == "2,500 state(s) selected"


def test_selected_rows_reads_both_shapes_of_customdata() -> None:
    frame = pd.DataFrame(
        {
            "portfolio_id": ["B", "A", "C"],
            "as_of_date": [date(2024, 2, 1), date(2024, 1, 1), date(2024, 1, 1)],
            "x": [0.0, 1.0, 2.0],
            "y": [0.0, 1.0, 2.0],
            "drawdown": [0.0, -0.1, -0.2],
            "volatility_1y": [0.1, 0.2, 0.3],
            "dominant_sector": ["E", "F", "G"],
            "stress_window": ["", "", "GFC"],
        }
    )
    points = [
        {"customdata": {"0": 0, "1": 0.0}},
        {"customdata": [2.0, -0.2]},
        {"customdata": [2, 1]},
        {"customdata": None},
        {"customdata": [99]},
        {},
    ]
    chosen = maps.selected_rows(frame, points)
    assert list(zip(chosen["portfolio_id"], chosen["as_of_date"], strict=True)) == [
        ("C", date(2024, 1, 1)),
        ("B", date(2024, 2, 1)),
    ]
    assert list(chosen.columns) == maps.MAP_COLUMNS


def test_year_ticks_fit_the_span() -> None:
    values, labels = maps.year_ticks(pd.Series([1990.1, 2018.9]))
    assert labels == ["1995", "2000", "2005", "2010", "2015"] and values[0] == 1995.0
    _, labels = maps.year_ticks(pd.Series([2024.0, 2025.95]))
    assert labels[:3] == ["2024-01", "2024-04", "2024-07"]
    assert maps.year_ticks(pd.Series([], dtype=float)) == ([], [])


def test_chart_days_are_sent_as_the_iso_dates_they_are() -> None:
    """Dates, Timestamps and datetime64 days all reach Plotly as the same ISO day strings (one array)."""
    days = [date(2008, 10, 10), date(2009, 3, 6)]
    for given in (pd.Series(days, dtype=object), pd.Series(pd.to_datetime(days))):
        sent = series.iso_days(given)
        assert sent.dtype.kind == "U" and sent.tolist() == ["2008-10-10", "2009-03-06"]
    frame = pd.DataFrame({"as_of_date": days, "portfolio_value": [1.0, 0.8], "drawdown": [0.0, -0.2]})
    spec = json.loads(plotly.io.to_json(figures.underwater_figure(frame, "A"), validate=False))
    assert spec["data"][0]["x"] == spec["data"][1]["x"] == ["2008-10-10", "2009-03-06"]


def test_a_long_line_keeps_every_runs_lowest_and_highest_point() -> None:
    rng = np.random.default_rng(5)
    values = np.cumsum(rng.standard_normal(7_104))
    kept = series.line_extremes(values, buckets=100)
    assert kept[0] == 0 and kept[-1] == values.size - 1 and np.all(np.diff(kept) > 0)
    assert kept.size <= 2 * 100 + 2
    starts = np.linspace(0, values.size, 101).astype(int)
    for start, end in itertools.pairwise(starts):
        inside = values[kept[(kept >= start) & (kept < end)]]
        assert (inside.min(), inside.max()) == (values[start:end].min(), values[start:end].max())
    short = np.arange(150.0)
    assert series.line_extremes(short, buckets=100).tolist() == list(range(150))  # drawn as it is


def test_a_long_line_with_gaps_is_thinned_and_breaks_where_the_full_line_does() -> None:
    values = np.cumsum(np.random.default_rng(7).standard_normal(7_104))
    for holes in ([10], [0, 1, 2], list(range(3_000, 3_400)), [7_103], list(range(500, 7_000, 97))):
        line = values.copy()
        line[holes] = np.nan
        kept = series.line_extremes(line, buckets=100)
        assert kept[0] == 0 and kept[-1] == line.size - 1 and np.all(np.diff(kept) > 0)
        assert kept.size <= 2 * 100 + 2 + 4 * len(holes)  # was every point (7,104) with one gap
        missing = np.isnan(line)
        # between two kept points the full line has a gap exactly when the thinned one does
        for a, b in itertools.pairwise(kept):
            assert missing[a : b + 1].any() == (missing[a] or missing[b]), (holes[:3], a, b)
        starts = np.linspace(0, line.size, 101).astype(int)
        for start, end in itertools.pairwise(starts):
            run = line[start:end]
            if np.isfinite(run).any():
                inside = line[kept[(kept >= start) & (kept < end)]]
                assert (np.nanmin(inside), np.nanmax(inside)) == (np.nanmin(run), np.nanmax(run))


def test_the_underwater_chart_of_a_long_book_keeps_its_deepest_day() -> None:
    days = pd.Series(pd.bdate_range("1990-01-01", periods=7_104).date, dtype=object)
    value = 100 * np.exp(np.cumsum(np.random.default_rng(6).normal(0, 0.01, days.size)))
    drawdown = value / np.maximum.accumulate(value) - 1
    frame = pd.DataFrame({"as_of_date": days, "portfolio_value": value, "drawdown": drawdown})
    spec = json.loads(plotly.io.to_json(figures.underwater_figure(frame, "A"), validate=False))
    curve, worth = spec["data"][0], spec["data"][1]
    assert len(curve["x"]) <= 2 * series.LINE_BUCKETS + 2 and len(worth["x"]) <= 2 * series.LINE_BUCKETS + 2
    deepest = int(np.argmin(drawdown))
    shown = dict(zip(curve["x"], plotly_values(curve["y"]), strict=True))
    assert shown[days[deepest].isoformat()] == drawdown[deepest]
    assert max(plotly_values(worth["y"])) == value.max() and min(plotly_values(worth["y"])) == value.min()


def test_jobs_frame_shows_dead_workers_as_failed() -> None:
    now = datetime(2025, 1, 1, 12, tzinfo=UTC)
    job = Job(
        "abc",
        "backfill",
        {"start": "2024-01-01", "end": "2024-12-31", "portfolio_ids": ["P"], "limit": 3},
        "running",
        500,
        1000,
        "step 1/2",
        None,
        None,
        1,
        now,
        now,
        now,
        None,
        stale=True,
    )
    frame = tables.jobs_frame([job])
    row = frame.iloc[0]
    assert (row["status"], row["message"], row["progress"]) == ("failed", "worker died", 50)
    assert row["params"] == "2024-01-01 to 2024-12-31; 1 portfolio(s); limit 3"


def test_cache_key_moves_with_the_data_and_hides_the_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'secret-name.db'}"
    fill_sample(url)
    stores = open_stores(Settings(db_url=url))
    try:
        before = versions.data_version_key(stores, "joint-portfolio-core-v1")
        request = BackfillRequest(DateSelection(as_of=date(2025, 1, 31)))
        backfill_numeric(stores, "num-portfolio-core-v1", request)
        backfill_joint(stores, "num-portfolio-core-v1", "joint-portfolio-core-v1", request)
        after = versions.data_version_key(stores, "joint-portfolio-core-v1")
        attributes = pd.DataFrame(
            {
                "portfolio_id": ["PORTFOLIO_CORE_US_EQ_001"],
                "as_of_date": [date(2025, 1, 31)],
                "drawdown": [-0.05],
                "volatility_1y": [0.2],
                "dominant_sector": ["Energy"],
                "stress_window": [""],
            }
        )
        line = tables.describe_state(attributes, "PORTFOLIO_CORE_US_EQ_001", date(2025, 1, 31))
    finally:
        stores.dispose()
    assert before != after and "secret-name" not in after
    assert line == (
        "PORTFOLIO_CORE_US_EQ_001 on 2025-01-31 · drawdown -5.0% · volatility (1 year) 20.0% · largest sector Energy"
    )


def _report(model: float, baselines: list[float], other: tuple[float, float, float] | None) -> QualityReport:
    rate = 0.178
    methods = [MethodQuality("m1", model, model - 0.1, model + 0.1, rate)]
    methods += [MethodQuality(f"baseline {i}", b, b - 0.1, b + 0.1, rate) for i, b in enumerate(baselines)]
    compared = None
    if other is not None:
        share, low, high = other
        compared = Comparison(MethodQuality("m2", share, 0.0, 1.0, rate), model - share, low, high, 1_422, 1_214, 1_524)
    return QualityReport("m1", None, 57_952, 4_160, rate, 10, 91, methods, compared)


def test_the_quality_figure_says_when_the_model_loses_and_which_model_is_better() -> None:
    wins = quality.quality_note(_report(0.444, [0.072, 0.268], (0.456, -0.022, 0.024)))
    assert wins.verdict == "beats"
    assert wins.sentence == (
        "m1 beats every baseline on this store: 44.4% of the nearest neighbours of its 4,160 stress states "
        "are stress states of other crises, 2.49x the base rate of 17.8%."
    )
    assert wins.comparison == (
        "m1 and m2 are level here (the interval includes 0): -1.2 points [-2.2, +2.4] on the same 4,160 "
        "queries (higher on 1,422, lower on 1,214, level on 1,524)."
    )
    loses = quality.quality_note(_report(0.30, [0.072, 0.359, 0.30], (0.25, 0.01, 0.09)))
    assert loses.verdict == "loses"
    assert loses.sentence.startswith("m1 does not beat baseline 1, baseline 2 on this store: 30.0% of ")
    assert loses.comparison.startswith("m1 is better than m2 here: +5.0 points [+1.0, +9.0]")
    worse = quality.quality_note(_report(0.30, [0.1], (0.35, -0.09, -0.01)))
    assert worse.comparison.startswith("m2 is better than m1 here: -5.0 points [-9.0, -1.0]")
    table = quality.quality_table(_report(0.444, [0.072], (0.456, -0.022, 0.024)))
    assert list(table["method"]) == ["m1 (this model)", "baseline 0", "m2 (compared)"]
    assert table["stress_share"].tolist() == [0.444, 0.072, 0.456]


def test_returns_are_coloured_red_for_losses_green_for_gains_stronger_with_size() -> None:
    assert heat.heat_css(-0.10, 0.10) == "background-color: rgba(214, 39, 40, 0.55)"  # full scale
    assert heat.heat_css(0.25, 0.10) == "background-color: rgba(44, 160, 44, 0.55)"  # beyond it: no stronger
    assert heat.heat_css(0.001, 0.10) == "background-color: rgba(44, 160, 44, 0.08)"  # a tiny move: faint
    assert heat.heat_css(-0.05, 0.10) == "background-color: rgba(214, 39, 40, 0.32)"  # half way: 0.08 + 0.47 / 2
    for empty in (float("nan"), None, 0.0, "", pd.NaT):
        assert heat.heat_css(empty, 0.10) == ""  # an empty or flat cell keeps the table's own background
    frame = pd.DataFrame(
        {"calendar_year": ["2009", "2008"], "month_01": [-0.078, np.nan], "year_return": [0.68, -0.39]}
    )
    styles = heat.heat_styles(frame, {"month_01": 0.10, "year_return": 0.30})
    assert list(styles.columns) == list(frame.columns) and list(styles["calendar_year"]) == ["", ""]
    assert styles.loc[0, "month_01"] == heat.heat_css(-0.078, 0.10) and styles.loc[1, "month_01"] == ""
    assert styles.loc[1, "year_return"] == "background-color: rgba(214, 39, 40, 0.55)"


def test_the_analogues_caption_says_how_they_were_spread_and_when_fewer_were_found() -> None:
    def query(apart: int) -> SimilarQuery:
        return SimilarQuery("m", "BOOK", date(2020, 1, 31), top_k=20, min_days_apart=apart)

    assert tables.neighbours_caption(query(0), 20, 36_629) == (
        "20 nearest of 36,629 candidate state(s): cosine first, then euclidean."
    )
    assert tables.neighbours_caption(query(1), 20, 36_629) == (
        "20 nearest of 36,629 candidate state(s), one per date: cosine first, then euclidean."
    )
    assert tables.neighbours_caption(query(365), 14, 36_629) == (
        "14 nearest of 36,629 candidate state(s), at least 365 days apart: cosine first, then euclidean "
        "(14 of the 20 asked: every other candidate is closer in time to one of these)."
    )
    assert tables.neighbours_caption(query(365), 3, 3).endswith("then euclidean.")  # all there were
