"""Point-in-time forecasts: no look-ahead, the ledger's arithmetic, the early-warning ranking."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from market import market_output, store_market
from scipy import stats
from service_helpers import MODEL

from prometheus.config import Settings
from prometheus.forecasting.skill_metrics import YearBootstrap, per_date_worst_quintile_hits, spearman
from prometheus.services.early_warning import COLUMNS, early_warning
from prometheus.services.forecast import state_forecast
from prometheus.services.forecast_book import forecast_book
from prometheus.services.skill import FORECAST, METHODS, VOLATILITY, pool_forecasts, skill_ledger
from prometheus.services.skill_report import ledger_rows, summary_sentence
from prometheus.store.stores import Stores, open_stores

CUTOFF = date(2012, 6, 29)
EVERY = 1  # every stored date in the pool: enough training states within two years of a small market


@pytest.fixture(scope="module")
def market_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('market') / 'market.db'}"
    stores = open_stores(Settings(db_url=url, cache_dir=tmp_path_factory.mktemp("cache")))
    store_market(stores, market_output())
    stores.dispose()
    return url


@pytest.fixture
def market(market_url: str, tmp_path: Path) -> Iterator[Stores]:
    stores = open_stores(Settings(db_url=market_url, cache_dir=tmp_path / "cache"))
    yield stores
    stores.dispose()


def test_forecasts_use_nothing_after_their_date(market: Stores, sqlite_url: str, tmp_path: Path) -> None:
    """A store cut at CUTOFF (every later report, value and state removed) forecasts early dates identically."""
    truncated = open_stores(Settings(db_url=sqlite_url, cache_dir=tmp_path / "cut-cache"))
    try:
        store_market(truncated, market_output(), last=CUTOFF)
        full_book, cut_book = forecast_book(market, MODEL, every=EVERY), forecast_book(truncated, MODEL, every=EVERY)
        full, cut = pool_forecasts(full_book), pool_forecasts(cut_book)
        early = full_book.index.dates[full.rows] <= np.datetime64(CUTOFF)
        assert early.sum() == cut.rows.size > 300
        made = np.isfinite(full.forecast[early])
        assert made.sum() > 100  # enough history for real forecasts before the cut
        for name in ("forecast", "low", "high", "trained_on"):
            np.testing.assert_array_equal(getattr(full, name)[early], getattr(cut, name))
        # the single-state path (the app's) agrees with itself across the two stores too
        pid = full_book.index.portfolio_names[0]
        day = max(d for d in full_book.index.dates_of(pid) if d <= CUTOFF)
        one, other = state_forecast(full_book, pid, day), state_forecast(cut_book, pid, day)
        assert one.forecast is not None and other.forecast is not None
        assert (one.forecast.forecast, one.forecast.low, one.forecast.high) == (
            other.forecast.forecast,
            other.forecast.low,
            other.forecast.high,
        )
        np.testing.assert_array_equal(one.forecast.calibration.coefficients, other.forecast.calibration.coefficients)
        # but the full store knows what followed (hindsight), the cut one does not
        late = max(d for d in full_book.index.dates_of(pid) if d <= CUTOFF - timedelta(days=120))
        assert not math.isnan(state_forecast(full_book, pid, late).realised)
        assert math.isnan(state_forecast(cut_book, pid, day).realised)
    finally:
        truncated.dispose()


def test_a_forecast_sentence_names_its_inputs(market: Stores) -> None:
    book = forecast_book(market, MODEL, every=EVERY)
    pid = book.index.portfolio_names[3]
    day = book.index.dates_of(pid)[-30]
    made = state_forecast(book, pid, day)
    assert made.forecast is not None
    assert made.forecast.low <= made.forecast.high <= 0 and made.forecast.forecast < 0
    assert made.known_on == day - timedelta(days=91)
    assert made.sentence().startswith("Forecast max drawdown over the next 91 days: ")
    assert f"dated on or before {made.known_on.isoformat()}" in made.sentence()
    first = book.index.dates_of(pid)[2]
    early = state_forecast(book, pid, first)
    assert early.forecast is None
    assert early.sentence() == (
        f"No point-in-time forecast for {first.isoformat()}: its report has no 3-month volatility."
    )
    later = book.index.dates_of(pid)[20]
    young = state_forecast(book, pid, later)
    assert young.forecast is None and young.sentence().startswith(
        f"No point-in-time forecast for {later.isoformat()}: fewer than 500 outcomes were known by then"
    )


def test_the_ledger_scores_every_method_on_the_same_queries(market: Stores) -> None:
    ledger = skill_ledger(forecast_book(market, MODEL, every=EVERY))
    assert ledger.count > 1000 and set(ledger.skills) == set(METHODS)
    days = ledger.index.dates[ledger.queries.rows]
    # the pooled Spearman is the plain one, on the realised outcomes of exactly these queries
    assert ledger.skills[FORECAST].spearman.value == pytest.approx(
        stats.spearmanr(ledger.queries.forecast, ledger.realised).statistic, abs=1e-12
    )
    volatility = ledger.volatility
    assert ledger.skills[VOLATILITY].spearman.value == pytest.approx(
        stats.spearmanr(-volatility, ledger.realised).statistic, abs=1e-12
    )
    assert ledger.skills[VOLATILITY].spearman.value > 0.2  # calm and stressed regimes: volatility predicts
    for method in METHODS:
        s = ledger.skills[method].spearman
        assert s.low <= s.value <= s.high
    inside = (ledger.realised >= ledger.queries.low) & (ledger.realised <= ledger.queries.high)
    assert ledger.skills[FORECAST].coverage is not None
    assert ledger.skills[FORECAST].coverage.value == pytest.approx(inside.mean())
    assert days.min() >= ledger.index.dates.min() + np.timedelta64(91, "D")
    rows = ledger_rows(ledger)
    assert rows[0][:2] == ("forecast", "spearman_pooled") and rows[-1][0] == "forecast minus volatility"
    assert "volatility alone" in summary_sentence(ledger)


def test_skill_metrics_against_a_reference() -> None:
    rng = np.random.default_rng(3)
    forecast, outcome = rng.normal(size=200), rng.normal(size=200)
    outcome += forecast
    assert spearman(forecast, outcome) == pytest.approx(stats.spearmanr(forecast, outcome).statistic, abs=1e-12)
    forecast[:5] = np.nan
    assert spearman(forecast, outcome) == pytest.approx(stats.spearmanr(forecast[5:], outcome[5:]).statistic, abs=1e-12)
    # worst quintile: 10 books on a date, the forecast finds one of the two worst
    days = np.array(["2020-01-03"] * 10, dtype="datetime64[D]")
    realised = np.arange(10.0)  # books 0 and 1 are the worst
    guess = np.array([0.0, 5, 1, 6, 7, 8, 9, 10, 11, 12])
    assert per_date_worst_quintile_hits(guess, realised, days)[1].tolist() == [0.5]
    # the bootstrap of a mean: resampled years, so a single year gives no spread
    years = np.repeat([2018, 2019, 2020], 50)
    values = np.concatenate([np.zeros(50), np.ones(50), 2 * np.ones(50)])
    estimate = YearBootstrap.of(years).mean(values, years)
    assert estimate.value == pytest.approx(1.0) and estimate.low < 1.0 < estimate.high
    single = YearBootstrap.of(years[:50]).mean(values[:50], years[:50])
    assert single.low == single.high == 0.0


def test_early_warning_ranks_latest_states_by_their_forecast(market: Stores) -> None:
    book = forecast_book(market, MODEL, every=EVERY)
    frame = early_warning(market, book)
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == len(book.index.portfolio_names)
    forecasts = frame["forecast_max_drawdown"].to_numpy()
    assert np.isfinite(forecasts).all() and list(forecasts) == sorted(forecasts)
    for row in frame.itertuples(index=False):
        assert row.as_of_date == book.index.dates_of(row.portfolio_id)[-1]
        made = state_forecast(book, row.portfolio_id, row.as_of_date)
        assert made.forecast is not None and made.forecast.forecast == row.forecast_max_drawdown
    labels = set(frame["stress_known_then"])
    assert labels <= {""} | {label for label in labels if "benchmark" in label and "below its peak" in label}


def test_the_forecast_book_is_cached_per_data_version(market: Stores) -> None:
    first = forecast_book(market, MODEL, every=EVERY)
    (cached,) = (market.settings.effective_cache_dir / "forecasts").iterdir()
    stamp = cached.stat().st_mtime_ns
    again = forecast_book(market, MODEL, every=EVERY)
    assert cached.stat().st_mtime_ns == stamp  # read, not rewritten
    np.testing.assert_array_equal(first.analogues.median, again.analogues.median)
    cached.write_bytes(b"not a cache file")  # damaged by something else: rebuilt, not an error
    rebuilt = forecast_book(market, MODEL, every=EVERY)
    np.testing.assert_array_equal(rebuilt.analogues.median, first.analogues.median)
