"""analogue_skill: the ledger from the command line, in process and as a real subprocess."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from helpers import invoke, run_cli
from market import market_output, store_market

from prometheus.config import Settings
from prometheus.store.stores import open_stores

HEADER = ["method", "metric", "estimate", "low", "high", "queries"]


@pytest.fixture(scope="module")
def market_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('skill') / 'market.db'}"
    stores = open_stores(Settings(db_url=url))
    store_market(stores, market_output())
    stores.dispose()
    return url


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_ledger_and_its_forecasts_file(market_url: str, tmp_path: Path) -> None:
    path = tmp_path / "forecasts.csv"
    result = invoke("analogue_skill", "--every", "1", "--forecasts", str(path), db_url=market_url)
    assert result.returncode == 0, result.stderr
    rows = _rows(result.stdout)
    assert rows[0] == HEADER
    table = {(r[0], r[1]): r for r in rows[1:]}
    for method in ("forecast", "volatility", "current drawdown", "median of known outcomes"):
        low, estimate, high = (float(table[(method, "spearman_pooled")][i]) for i in (3, 2, 4))
        assert low <= estimate <= high
    assert ("forecast", "band_coverage_10_90") in table and ("volatility", "band_coverage_10_90") not in table
    queries = int(rows[1][5])
    assert queries > 1000 and {int(r[5]) for r in rows[1:]} == {queries}  # the same queries for every method
    assert ("forecast minus volatility", "spearman_pooled") in table
    forecasts = _rows(path.read_text())
    assert forecasts[0] == [
        "portfolio_id",
        "as_of_date",
        "forecast_max_drawdown",
        "band_low",
        "band_high",
        "realised_max_drawdown",
        "volatility_3m",
        "trained_on",
    ]
    assert len(forecasts) == queries + 1
    assert all(float(r[3]) <= float(r[4]) <= 0 and int(r[7]) >= 500 for r in forecasts[1:])
    assert result.stderr.startswith(f"on {queries:,} past forecasts (")
    assert "volatility alone: " in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_date_window_scores_only_its_queries(market_url: str, tmp_path: Path) -> None:
    path = tmp_path / "window.csv"
    args = ["--every", "1", "--start", "2012-01-01", "--end", "2012-12-31", "--forecasts", str(path)]
    result = invoke("analogue_skill", *args, db_url=market_url)
    assert result.returncode == 0, result.stderr
    days = [r[1] for r in _rows(path.read_text())[1:]]
    assert days and min(days) >= "2012-01-01" and max(days) <= "2012-12-31"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--start", "2013-01-01", "--end", "2012-01-01"],
            "error: --start 2013-01-01 is after --end 2012-01-01: swap them",
        ),
        (["--model-id", "nope"], "error: unknown joint model 'nope': known models are joint-portfolio-core-v1"),
    ],
)
def test_errors_are_one_line(market_url: str, args: list[str], message: str) -> None:
    result = invoke("analogue_skill", *args, db_url=market_url)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message + "\n")


@pytest.mark.parametrize("bad", ["0", "9999", "²", "91.5"])
def test_a_bad_horizon_is_a_usage_error(market_url: str, bad: str) -> None:
    result = invoke("analogue_skill", "--horizon-days", bad, db_url=market_url)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("python -m prometheus.scripts.analogue_skill: error: argument --horizon-days: ")
    assert len(result.stderr.splitlines()) == 1


def test_an_empty_store_says_nothing_could_be_scored(sqlite_url: str) -> None:
    result = invoke("analogue_skill", db_url=sqlite_url)
    assert result.returncode == 0, result.stderr
    assert _rows(result.stdout)[0] == HEADER
    assert result.stderr == (
        "no forecast could be scored: the store needs outcomes 91 days after enough past states "
        "(a few hundred) to fit the forecast\n"
    )


def test_as_a_real_subprocess(market_url: str) -> None:
    result = run_cli("analogue_skill", db_url=market_url)  # every 4th date, the app's figures
    assert result.returncode == 0, result.stderr
    assert _rows(result.stdout)[0] == HEADER and len(_rows(result.stdout)) > 10
