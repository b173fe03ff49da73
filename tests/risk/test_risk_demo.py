"""The packaged demo book on real prices: definitions, holdings and the 2008 crash."""

from __future__ import annotations

import statistics
from datetime import date

import numpy as np
import pandas as pd
import pytest

from prometheus.demo import DEMO_PORTFOLIOS, DemoInputs, load_demo_inputs
from prometheus.risk import build_reports, validate_holdings


@pytest.fixture(scope="module")
def demo() -> DemoInputs:
    return load_demo_inputs()


def test_forty_distinct_portfolios() -> None:
    ids = [p.portfolio_id for p in DEMO_PORTFOLIOS]
    assert ids == [f"PORTFOLIO_CORE_US_EQ_{i:03d}" for i in range(1, 41)]
    assert len({p.style for p in DEMO_PORTFOLIOS}) == 40
    assert all(p.description and p.rebalance in ("monthly", "quarterly") for p in DEMO_PORTFOLIOS)


def test_packaged_data(demo: DemoInputs) -> None:
    assert "META" in demo.prices.columns and "FB" not in demo.prices.columns
    assert demo.prices.index[0] == pd.Timestamp("1989-12-29") and demo.prices.index[-1] == pd.Timestamp("2018-04-11")
    assert demo.benchmark.name == "SPY" and demo.benchmark.index[0] == pd.Timestamp("1993-01-29")
    assert set(demo.sectors.index) == set(demo.prices.columns)


def test_demo_holdings_are_valid_and_only_hold_listed_names(demo: DemoInputs) -> None:
    holdings = validate_holdings(demo.holdings, demo.prices, demo.sectors)  # raises if any rule is broken
    assert set(holdings["portfolio_id"]) == {p.portfolio_id for p in DEMO_PORTFOLIOS}
    starts = holdings.groupby("portfolio_id")["date"].min()
    assert starts.dt.year.isin([1990, 1991]).all()
    first = holdings[holdings["date"] == holdings["date"].min()]
    listed_then = set(demo.prices.columns[demo.prices.loc[first["date"].iloc[0]].notna()])
    assert set(first["ticker"]) <= listed_then
    assert "GOOG" not in listed_then
    held_2018 = holdings[(holdings["portfolio_id"] == "PORTFOLIO_CORE_US_EQ_001") & (holdings["date"] == "2018-03-29")]
    assert len(held_2018) == 20  # new listings join as they appear


def test_equal_weight_book_in_october_2008(demo: DemoInputs) -> None:
    equal_weight = demo.holdings[demo.holdings["portfolio_id"] == "PORTFOLIO_CORE_US_EQ_001"]
    reports = build_reports(
        demo.prices,
        equal_weight,
        demo.benchmark,
        demo.sectors,
        start="2005-01-01",
        end="2008-10-31",
        frequency="weekly",
    )
    october = [r for r in reports if r.as_of_date >= date(2008, 10, 1)]
    calm = [r.risk_metrics["volatility_3m"] for r in reports if r.as_of_date.year == 2006]
    assert len(october) == 5
    assert all(r.risk_metrics["drawdown"] < -0.20 for r in october)
    assert min(r.risk_metrics["drawdown"] for r in october) < -0.35
    assert all(r.risk_metrics["volatility_1m"] > 0.5 for r in october)
    assert all(r.risk_metrics["volatility_3m"] > 2 * statistics.median(calm) for r in october)
    assert all(r.risk_metrics["var_95_1d"] > 0.02 for r in october)
    assert all(0.9 < r.risk_metrics["beta_1y"] < 1.6 for r in october)
    # The Lehman window (2008-09-01 .. 10-31) is only known once it is over.
    assert all(r.scenario_pnl["lehman_2008"] is None for r in october if r.as_of_date < date(2008, 10, 31))
    assert october[-1].scenario_pnl["lehman_2008"] < -0.15
    assert all(r.scenario_pnl["dotcom_bust"] < 0 for r in october)


def test_early_reports_have_no_benchmark_figures(demo: DemoInputs) -> None:
    book = demo.holdings[demo.holdings["portfolio_id"] == "PORTFOLIO_CORE_US_EQ_001"]
    reports = build_reports(demo.prices, book, demo.benchmark, demo.sectors, end="1994-06-30", frequency="monthly")
    by_month = {r.as_of_date.strftime("%Y-%m"): r for r in reports}
    assert by_month["1990-01"].portfolio_value == 1_000_000.0
    assert by_month["1992-12"].risk_metrics["beta_1y"] is None  # SPY starts 1993-01-29
    assert by_month["1992-12"].risk_metrics["volatility_1y"] is not None
    assert by_month["1994-06"].risk_metrics["beta_1y"] is not None
    assert by_month["1990-12"].scenario_pnl["gulf_war_1990"] is not None


def test_full_demo_book_weekly(demo_db_url: str) -> None:
    # The run's demo store (built once per run by load_demo, weekly) rather than a second
    # 40-book build here: the same reports, 40 s less of the suite.
    import sqlite3

    with sqlite3.connect(f"file:{demo_db_url.removeprefix('sqlite:///')}?mode=ro", uri=True) as conn:
        books = conn.execute("SELECT count(DISTINCT portfolio_id), count(*) FROM portfolio_risk_reports").fetchone()
        values = [v for (v,) in conn.execute("SELECT portfolio_value FROM portfolio_risk_reports")]
        gaps = conn.execute(
            "SELECT max(julianday(b.as_of_date) - julianday(a.as_of_date)) FROM portfolio_risk_reports a "
            "JOIN portfolio_risk_reports b ON b.portfolio_id = a.portfolio_id AND b.as_of_date = "
            "(SELECT min(as_of_date) FROM portfolio_risk_reports c WHERE c.portfolio_id = a.portfolio_id "
            "AND c.as_of_date > a.as_of_date) WHERE a.portfolio_id = 'PORTFOLIO_CORE_US_EQ_001'"
        ).fetchone()[0]
    assert books[0] == 40 and books[1] > 50_000
    assert all(v is None or np.isfinite(v) for v in values)
    assert gaps < 14  # weekly: no week skipped (11 days around the markets' closure of September 2001)
