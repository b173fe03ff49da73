"""Factor, sector and scenario blocks, listings and gaps, on hand-made panels."""

from __future__ import annotations

import statistics

import numpy as np
import pandas as pd
import pytest

from prometheus.errors import InvalidInput
from prometheus.reports import FACTOR_KEYS, GICS_SECTORS, OTHER_SECTOR
from prometheus.risk import build_reports
from prometheus.stress import STRESS_WINDOWS

SECTORS = {"AAA": "Information Technology", "BBB": "Energy", "CCC": "Financials", "DDD": "Health Care", "EEE": "Other"}


def panel(days: int = 400, seed: int = 3) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    calendar = pd.bdate_range("2010-01-04", periods=days, name="date")
    market = rng.normal(0.0003, 0.01, days)
    columns = {}
    for i, ticker in enumerate(["AAA", "BBB", "CCC", "DDD", "EEE"]):
        beta = 0.5 + 0.3 * i
        columns[ticker] = (10 + i) * np.cumprod(1 + beta * market + rng.normal(0, 0.006 * (i + 1), days))
    prices = pd.DataFrame(columns, index=calendar)
    prices.loc[prices.index[:150], "EEE"] = np.nan  # lists on day 150
    benchmark = pd.Series(100 * np.cumprod(1 + market), index=calendar, name="IDX")
    return prices, benchmark


def book(day: pd.Timestamp, weights: dict[str, float], pid: str = "P") -> pd.DataFrame:
    return pd.DataFrame(
        [(day.strftime("%Y-%m-%d"), pid, t, w) for t, w in weights.items()],
        columns=["date", "portfolio_id", "ticker", "weight"],
    )


def zscores(raw: dict[str, float]) -> dict[str, float]:
    mean = statistics.fmean(raw.values())
    std = statistics.pstdev(raw.values())
    return {t: (v - mean) / std for t, v in raw.items()}


def test_factor_exposures_are_weighted_cross_sectional_scores() -> None:
    prices, benchmark = panel()
    weights = {"AAA": 0.4, "BBB": 0.35, "DDD": -0.15}
    reports = build_reports(prices, book(prices.index[0], weights), benchmark, SECTORS, frequency="daily")
    t = len(prices) - 1
    report = reports[t]
    # Drifted weights on day t, from the book's own sector exposures (one name per sector).
    held = {"AAA": "Information Technology", "BBB": "Energy", "DDD": "Health Care"}
    w = {name: report.exposures_by_sector[sector] for name, sector in held.items()}
    p = prices
    # EEE listed on day 150: 249 returns is enough for a volatility (>= 202) but it has no
    # 12-1 momentum (no price 252 days back); it still counts in the 1-month cross-section.
    momentum = {c: p[c].iloc[t - 21] / p[c].iloc[t - 252] - 1 for c in ["AAA", "BBB", "CCC", "DDD"]}
    month = {c: p[c].iloc[t] / p[c].iloc[t - 21] - 1 for c in p.columns}
    vol = {
        c: statistics.stdev((p[c].iloc[t - 251 : t + 1] / p[c].iloc[t - 252 : t].to_numpy() - 1).dropna())
        for c in p.columns
    }
    z_mom, z_month, z_vol = zscores(momentum), zscores(month), zscores(vol)
    f = report.exposures_by_factor
    assert f["momentum"] == pytest.approx(sum(w[c] * z_mom[c] for c in w), rel=1e-9)
    assert f["short_term_reversal"] == pytest.approx(-sum(w[c] * z_month[c] for c in w), rel=1e-9)
    assert f["low_volatility"] == pytest.approx(-sum(w[c] * z_vol[c] for c in w), rel=1e-9)
    bench = (benchmark / benchmark.shift(1) - 1).iloc[t - 251 : t + 1].to_numpy()
    betas = {}
    for c in w:
        r = (p[c] / p[c].shift(1) - 1).iloc[t - 251 : t + 1].to_numpy()
        betas[c] = np.cov(r, bench)[0, 1] / np.var(bench, ddof=1)
    assert f["market_beta"] == pytest.approx(sum(w[c] * betas[c] for c in w), rel=1e-9)
    assert f["size"] is None and f["value"] is None
    assert tuple(f) == FACTOR_KEYS


def test_unscored_names_over_a_fifth_of_gross_give_none() -> None:
    prices, benchmark = panel()
    day = prices.index[260]  # EEE listed 110 days earlier: no volatility or momentum yet
    mostly_new = build_reports(prices, book(day, {"EEE": 0.5, "AAA": 0.5}), benchmark, SECTORS, frequency="daily")
    assert mostly_new[0].exposures_by_factor["low_volatility"] is None
    assert mostly_new[0].exposures_by_factor["short_term_reversal"] is not None
    a_little_new = build_reports(prices, book(day, {"EEE": 0.1, "AAA": 0.9}), benchmark, SECTORS, frequency="daily")
    assert a_little_new[0].exposures_by_factor["low_volatility"] is not None


def test_sector_block_has_every_gics_key_and_sums_to_net() -> None:
    prices, benchmark = panel()
    weights = {"AAA": 0.6, "EEE": 0.5, "CCC": -0.3}
    report = build_reports(prices, book(prices.index[200], weights), benchmark, SECTORS, frequency="daily")[0]
    assert tuple(report.exposures_by_sector) == (*GICS_SECTORS, OTHER_SECTOR)
    assert report.exposures_by_sector["Other"] == pytest.approx(0.5)
    assert report.exposures_by_sector["Financials"] == pytest.approx(-0.3)
    assert report.exposures_by_sector["Utilities"] == 0.0
    assert sum(report.exposures_by_sector.values()) == pytest.approx(report.net_exposure)
    assert report.gross_exposure == pytest.approx(1.4) and report.cash == pytest.approx(0.2)


def test_scenarios_use_only_finished_windows_and_renormalise() -> None:
    prices, benchmark = panel(days=400)  # 2010-01-04 .. 2011-07-15: holds the May 2010 flash crash
    prices.loc[prices.index[:150], "EEE"] = np.nan
    crash = next(w for w in STRESS_WINDOWS if w.key == "flash_crash_2010")
    base = prices.index[prices.index < pd.Timestamp(crash.start)][-1]
    end = prices.index[prices.index <= pd.Timestamp(crash.end)][-1]
    weights = {"AAA": 0.5, "BBB": -0.2, "EEE": 0.3}  # EEE listed after the crash
    day = prices.index[300]
    report = build_reports(prices, book(day, weights), benchmark, SECTORS, frequency="daily")[0]
    r = {c: prices.loc[end, c] / prices.loc[base, c] - 1 for c in ("AAA", "BBB")}
    expected = (0.5 * r["AAA"] - 0.2 * r["BBB"]) * 1.0 / 0.7
    assert report.scenario_pnl["flash_crash_2010"] == pytest.approx(expected, rel=1e-12)
    assert report.scenario_pnl["gfc_2008"] is None  # before the price history
    assert report.scenario_pnl["downgrade_2011"] is None  # ends after the history
    assert set(report.scenario_pnl) == {w.key for w in STRESS_WINDOWS}
    early = build_reports(prices, book(prices.index[70], {"AAA": 1.0}), benchmark, SECTORS, frequency="daily")
    by_date = {rep.as_of_date: rep for rep in early}
    assert by_date[prices.index[84].date()].scenario_pnl["flash_crash_2010"] is None  # window not over yet
    assert by_date[end.date()].scenario_pnl["flash_crash_2010"] is not None


def test_price_gap_while_held_is_carried_and_counted() -> None:
    prices, benchmark = panel(days=120)
    gap_day, day_before = prices.index[60], prices.index[59]
    prices.loc[gap_day, "AAA"] = np.nan
    reports = build_reports(
        prices, book(prices.index[0], {"AAA": 0.5, "BBB": 0.5}), benchmark, SECTORS, frequency="daily"
    )
    assert reports[60].metadata["num_missing_prices"] == 1
    assert reports[59].metadata["num_missing_prices"] == 0
    # AAA keeps its last price (a zero return that day); only BBB moves the NAV.
    bbb_weight = reports[59].exposures_by_sector["Energy"]
    bbb_return = prices.loc[gap_day, "BBB"] / prices.loc[day_before, "BBB"] - 1
    expected = reports[59].portfolio_value * (1 + bbb_weight * bbb_return)
    assert reports[60].portfolio_value == pytest.approx(expected, rel=1e-12)


def test_argument_errors() -> None:
    prices, benchmark = panel(days=30)
    holdings = book(prices.index[0], {"AAA": 1.0})
    with pytest.raises(InvalidInput) as err:
        build_reports(prices, holdings, benchmark, SECTORS, frequency="hourly")
    assert str(err.value) == "frequency 'hourly' is not one of daily, weekly, monthly"
    with pytest.raises(InvalidInput) as err:
        build_reports(prices, holdings, benchmark, SECTORS, start="2010-03-01", end="2010-02-01")
    assert str(err.value) == "start 2010-03-01 is after end 2010-02-01; swap them"
    with pytest.raises(InvalidInput) as err:
        build_reports(prices, holdings, benchmark, SECTORS, start="March")
    assert str(err.value) == "start date 'March' is not a date; use YYYY-MM-DD"
    assert build_reports(prices, holdings, benchmark, SECTORS, start="2030-01-01") == []
