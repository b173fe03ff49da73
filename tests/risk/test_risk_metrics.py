"""Engine metrics against plain-loop computations on small hand-made panels."""

from __future__ import annotations

import itertools
import math
import statistics
from datetime import date

import numpy as np
import pandas as pd
import pytest

from prometheus.reports import RISK_METRIC_KEYS, RiskReport
from prometheus.risk import build_reports

SECTORS = {"AAA": "Information Technology", "BBB": "Energy"}


def toy_inputs(days: int = 400, seed: int = 7) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    calendar = pd.bdate_range("2010-01-04", periods=days, name="date")
    market = rng.normal(0.0004, 0.011, days)
    a = 1.3 * market + rng.normal(0, 0.012, days)
    b = 0.6 * market + rng.normal(0, 0.009, days)
    prices = pd.DataFrame({"AAA": 50 * np.cumprod(1 + a), "BBB": 20 * np.cumprod(1 + b)}, index=calendar)
    benchmark = pd.Series(100 * np.cumprod(1 + market), index=calendar, name="IDX")
    return prices, benchmark


def holdings_frame(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["date", "portfolio_id", "ticker", "weight"])


def loop_nav(prices: pd.DataFrame, targets: dict[pd.Timestamp, dict[str, float]]) -> list[float | None]:
    """Shares-and-cash simulation, one day at a time."""
    navs: list[float | None] = []
    shares: dict[str, float] = {}
    cash = 0.0
    started = False
    for day, row in prices.iterrows():
        if started:
            nav = cash + sum(n * row[t] for t, n in shares.items())
        if day in targets:
            nav = nav if started else 1_000_000.0
            shares = {t: w * nav / row[t] for t, w in targets[day].items()}
            cash = nav - sum(w * nav for w in targets[day].values())
            started = True
        navs.append(nav if started else None)
    return navs


def loop_returns(navs: list[float | None]) -> list[float | None]:
    out: list[float | None] = [None]
    for before, now in itertools.pairwise(navs):
        out.append(None if before is None or now is None else now / before - 1)
    return out


def quantile_linear(values: list[float], q: float) -> float:
    ordered = sorted(values)
    h = (len(ordered) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (h - lo) * (ordered[hi] - ordered[lo])


@pytest.fixture(scope="module")
def toy_case() -> dict[str, object]:
    prices, benchmark = toy_inputs()
    rebalance = [prices.index[0], prices.index[60], prices.index[130], prices.index[300]]
    book = [(0.5, 0.5), (0.7, 0.3), (0.2, 0.6), (0.9, 0.4)]  # the last one is levered
    rows = []
    targets: dict[pd.Timestamp, dict[str, float]] = {}
    for day, (wa, wb) in zip(rebalance, book, strict=True):
        rows += [(day.strftime("%Y-%m-%d"), "TOY", "AAA", wa), (day.strftime("%Y-%m-%d"), "TOY", "BBB", wb)]
        targets[day] = {"AAA": wa, "BBB": wb}
    reports = build_reports(prices, holdings_frame(rows), benchmark, SECTORS, frequency="daily")
    return {"prices": prices, "benchmark": benchmark, "reports": reports, "targets": targets}


def test_nav_and_drifting_weights_match_a_share_loop(toy_case: dict) -> None:
    prices: pd.DataFrame = toy_case["prices"]
    reports: list[RiskReport] = toy_case["reports"]
    navs = loop_nav(prices, toy_case["targets"])
    assert len(reports) == len(prices)
    for report, nav in zip(reports, navs, strict=True):
        assert report.portfolio_value == pytest.approx(nav, rel=1e-10)
    # Day 100 sits in the segment set on day 60 at 70/30: weights follow the shares.
    day = prices.index[100]
    base = prices.loc[prices.index[60]]
    values = {"AAA": 0.7 * prices.loc[day, "AAA"] / base["AAA"], "BBB": 0.3 * prices.loc[day, "BBB"] / base["BBB"]}
    total = sum(values.values())
    report = reports[100]
    assert report.exposures_by_sector["Information Technology"] == pytest.approx(values["AAA"] / total, rel=1e-12)
    assert report.exposures_by_sector["Energy"] == pytest.approx(values["BBB"] / total, rel=1e-12)
    assert report.cash == pytest.approx(0.0, abs=1e-12)


def test_window_metrics_match_plain_loops(toy_case: dict) -> None:
    prices: pd.DataFrame = toy_case["prices"]
    benchmark: pd.Series = toy_case["benchmark"]
    reports: list[RiskReport] = toy_case["reports"]
    navs = loop_nav(prices, toy_case["targets"])
    rets = loop_returns(navs)
    bench = [None] + [benchmark.iloc[i] / benchmark.iloc[i - 1] - 1 for i in range(1, len(benchmark))]
    for t in (280, 330, 399):
        m = reports[t].risk_metrics
        year = [r for r in rets[t - 251 : t + 1] if r is not None]
        assert len(year) == 252
        assert m["volatility_1y"] == pytest.approx(statistics.stdev(year) * math.sqrt(252), rel=1e-9)
        month = rets[t - 20 : t + 1]
        assert m["volatility_1m"] == pytest.approx(statistics.stdev(month) * math.sqrt(252), rel=1e-9)
        q = quantile_linear(year, 0.05)
        assert q == pytest.approx(float(np.quantile(year, 0.05)), rel=1e-12)
        assert m["var_95_1d"] == pytest.approx(-q, rel=1e-9)
        tail = [r for r in year if r <= q]
        assert m["es_95_1d"] == pytest.approx(-sum(tail) / len(tail), rel=1e-9)
        # Drawdown from the running peak since inception, and within the trailing year.
        peak = max(n for n in navs[: t + 1] if n is not None)
        assert m["drawdown"] == pytest.approx(navs[t] / peak - 1, rel=1e-9, abs=1e-12)
        worst, run_peak = 0.0, 0.0
        for nav in navs[t - 252 : t + 1]:
            run_peak = max(run_peak, nav)
            worst = min(worst, nav / run_peak - 1)
        assert m["max_drawdown_1y"] == pytest.approx(worst, rel=1e-9, abs=1e-12)
        # Beta, correlation and tracking error from sums over the same 252 days.
        b_year = bench[t - 251 : t + 1]
        mp, mb = statistics.fmean(year), statistics.fmean(b_year)
        cov = sum((p - mp) * (b - mb) for p, b in zip(year, b_year, strict=True)) / 251
        var_b = sum((b - mb) ** 2 for b in b_year) / 251
        assert m["beta_1y"] == pytest.approx(cov / var_b, rel=1e-9)
        assert m["correlation_1y"] == pytest.approx(cov / math.sqrt(statistics.variance(year) * var_b), rel=1e-9)
        active = [p - b for p, b in zip(year, b_year, strict=True)]
        assert m["tracking_error_1y"] == pytest.approx(statistics.stdev(active) * math.sqrt(252), rel=1e-8)
        assert m["sharpe_1y"] == pytest.approx(mp / statistics.stdev(year) * math.sqrt(252), rel=1e-9)
        downside = math.sqrt(sum(min(r, 0) ** 2 for r in year) / 252)
        assert m["sortino_1y"] == pytest.approx(mp / downside * math.sqrt(252), rel=1e-9)
        assert m["return_1y"] == pytest.approx(navs[t] / navs[t - 252] - 1, rel=1e-9)
        assert m["return_1m"] == pytest.approx(navs[t] / navs[t - 21] - 1, rel=1e-9)
        assert m["skew_1y"] == pytest.approx(pd.Series(year).skew(), rel=1e-8)
        assert m["kurtosis_1y"] == pytest.approx(pd.Series(year).kurt(), rel=1e-8)


def test_exposure_metrics_of_a_levered_book(toy_case: dict) -> None:
    reports: list[RiskReport] = toy_case["reports"]
    on_rebalance = reports[300]  # 90% AAA + 40% BBB set that day
    assert on_rebalance.net_exposure == pytest.approx(1.3)
    assert on_rebalance.gross_exposure == pytest.approx(1.3)
    assert on_rebalance.leverage == pytest.approx(1.3)
    assert on_rebalance.cash == pytest.approx(-0.3)
    m = on_rebalance.risk_metrics
    assert m["num_names"] == 2
    assert m["herfindahl"] == pytest.approx((0.9 / 1.3) ** 2 + (0.4 / 1.3) ** 2)
    assert set(m) == set(RISK_METRIC_KEYS)


def test_missing_history_gives_none_not_numbers() -> None:
    prices, benchmark = toy_inputs(days=260)
    start = prices.index[0].strftime("%Y-%m-%d")
    holdings = holdings_frame([(start, "NEW", "AAA", 0.5), (start, "NEW", "BBB", 0.5)])
    reports = build_reports(prices, holdings, benchmark, SECTORS, frequency="daily")
    first = reports[0].risk_metrics
    assert first["drawdown"] == 0.0
    assert all(first[k] is None for k in ("volatility_1m", "var_95_1d", "beta_1y", "return_1m", "skew_1y"))
    # 80% of 21 days = 17 returns; 80% of 252 = 202 returns (report row t has t returns).
    assert reports[16].risk_metrics["volatility_1m"] is None
    assert reports[17].risk_metrics["volatility_1m"] is not None
    assert reports[201].risk_metrics["volatility_1y"] is None
    assert reports[202].risk_metrics["volatility_1y"] is not None
    assert reports[201].risk_metrics["max_drawdown_1y"] is None
    assert reports[202].risk_metrics["beta_1y"] is not None
    # With fewer than a full year the 1-year return compounds the returns there are.
    partial = reports[220]
    assert partial.risk_metrics["return_1y"] == pytest.approx(partial.portfolio_value / 1_000_000 - 1, rel=1e-10)


def test_benchmark_gaps_follow_the_same_rule() -> None:
    prices, benchmark = toy_inputs(days=300)
    start = prices.index[0].strftime("%Y-%m-%d")
    holdings = holdings_frame([(start, "P", "AAA", 1.0)])
    late = benchmark.iloc[120:]  # benchmark starts later than the stocks, like SPY in 1993
    reports = build_reports(prices, holdings, late, SECTORS, frequency="daily")
    assert reports[299].risk_metrics["volatility_1y"] is not None
    assert reports[299].risk_metrics["beta_1y"] is None  # 179 joint returns < 202
    assert reports[299].exposures_by_factor["market_beta"] is None


def test_zero_variance_book_gives_none_ratios() -> None:
    prices, benchmark = toy_inputs(days=260)
    start = prices.index[0].strftime("%Y-%m-%d")
    holdings = holdings_frame([(start, "CASH", "AAA", 0.0)])
    last = build_reports(prices, holdings, benchmark, SECTORS, frequency="daily")[-1]
    m = last.risk_metrics
    assert m["volatility_1y"] == 0.0
    assert m["sharpe_1y"] is None and m["sortino_1y"] is None and m["skew_1y"] is None
    assert m["herfindahl"] is None and m["num_names"] == 0
    assert last.cash == 1.0 and last.portfolio_value == 1_000_000.0


def test_report_dates_follow_the_frequency() -> None:
    prices, benchmark = toy_inputs(days=70)  # 2010-01-04 .. 2010-04-09
    start = prices.index[0].strftime("%Y-%m-%d")
    holdings = holdings_frame([(start, "P", "AAA", 1.0)])
    monthly = build_reports(prices, holdings, benchmark, SECTORS, frequency="monthly")
    assert [r.as_of_date for r in monthly] == [
        date(2010, 1, 29),
        date(2010, 2, 26),
        date(2010, 3, 31),
        date(2010, 4, 9),
    ]
    weekly = build_reports(
        prices, holdings, benchmark, SECTORS, start="2010-02-01", end="2010-02-28", frequency="weekly"
    )
    assert [r.as_of_date for r in weekly] == [date(2010, 2, 5), date(2010, 2, 12), date(2010, 2, 19), date(2010, 2, 26)]
    assert all(
        r.metadata.keys() == {"engine", "frequency", "num_missing_prices", "benchmark_drawdown"}
        and r.metadata["engine"] == "prometheus-risk-v1"
        and r.metadata["frequency"] == "weekly"
        and r.metadata["num_missing_prices"] == 0
        for r in weekly
    )
    # the benchmark's fall from its highest price so far: known on the day, so usable point in time
    bench = benchmark.to_numpy(dtype=float)
    for report in weekly:
        upto = bench[: prices.index.get_loc(pd.Timestamp(report.as_of_date)) + 1]
        assert report.metadata["benchmark_drawdown"] == pytest.approx(upto[-1] / upto.max() - 1.0, abs=1e-9)
