"""build_risk_reports end to end, and a backfill meeting a bad report already in the store."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import invoke, run_cli

from prometheus.config import Settings
from prometheus.store.schema import portfolio_risk_reports
from prometheus.store.stores import open_stores

DATA = Path(__file__).parent / "data" / "engine"
HOLDINGS = (DATA / "holdings.csv").read_text()


def _build(holdings: Path, db_url: str, *extra: str):  # type: ignore[no-untyped-def]
    return invoke(
        "build_risk_reports",
        "--prices",
        str(DATA / "prices.csv"),
        "--holdings",
        str(holdings),
        "--benchmark",
        str(DATA / "bench.csv"),
        "--sectors",
        str(DATA / "sectors.csv"),
        *extra,
        db_url=db_url,
    )


def test_build_then_backfill_then_search(db_url: str) -> None:
    built = _build(DATA / "holdings.csv", db_url, "--frequency", "daily")
    assert built.returncode == 0, built.stderr
    assert built.stderr.startswith("built and stored 5 risk report(s) for 1 portfolio(s) from 2020-01-02 to 2020-01-08")
    again = _build(DATA / "holdings.csv", db_url, "--frequency", "daily")
    assert again.returncode == 0
    stores = open_stores(Settings(db_url=db_url))
    report = stores.reports.get("PF_1", __import__("datetime").date(2020, 1, 8))
    assert stores.reports.count() == 5
    stores.dispose()
    assert report is not None
    assert report.exposures_by_sector["Energy"] > 0.25  # CCC bought on 2020-01-06
    assert report.risk_metrics["volatility_1y"] is None  # four returns: far too little history


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda h: h.replace("CCC,0.3", "XYZ,0.3"),
            "line 6: ticker 'XYZ' is not in the prices file; add its prices or remove the holding",
        ),
        (
            lambda h: h.replace("AAA,0.5", "AAA,50"),
            "line 2: weights of portfolio 'PF_1' on 2020-01-02 have net 50.5 and gross 50.5; net must lie in [-1, 2] "
            "and gross be at most 3 (weights are fractions of NAV, 0.05 = 5%, cash = 1 - net)",
        ),
        (
            lambda h: "\n".join([h.splitlines()[0], *h.splitlines()[3:], *h.splitlines()[1:3]]) + "\n",
            "line 5: dates out of order for portfolio 'PF_1' (2020-01-02 comes after a later date); "
            "sort each portfolio's rows by date, oldest first",
        ),
        (
            lambda h: "\n".join([*h.splitlines()[:3], "2020-01-03,PF_1,CCC,0.0"]) + "\n",
            "line 4: ticker 'CCC' has no price on 2020-01-03 (not listed yet or missing); "
            "hold only names priced on each rebalancing date",
        ),
    ],
    ids=["unknown-ticker", "weights-in-percent", "dates-out-of-order", "missing-price"],
)
def test_bad_holdings_get_one_clear_line_and_write_nothing(sqlite_url: str, tmp_path: Path, edit, message) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "holdings.csv"
    bad.write_text(edit(HOLDINGS))
    result = _build(bad, sqlite_url)
    assert result.returncode == 2
    assert result.stderr == f"error: holdings.csv {message}\n"
    stores = open_stores(Settings(db_url=sqlite_url))
    assert stores.reports.count() == 0
    stores.dispose()


def test_a_nan_report_in_the_store_is_refused_by_name_and_the_rest_are_written(sqlite_url: str) -> None:
    assert _build(DATA / "holdings.csv", sqlite_url, "--frequency", "daily").returncode == 0
    stores = open_stores(Settings(db_url=sqlite_url))
    with stores.runtime.write() as conn:  # another tool wrote non-strict JSON
        conn.execute(
            portfolio_risk_reports.update()
            .where(portfolio_risk_reports.c.as_of_date == "2020-01-07")
            .values(risk_metrics=sa.literal_column("'{\"drawdown\": NaN}'"))
        )
    stores.dispose()
    result = run_cli(
        "backfill_numeric_portfolio_embeddings", "--start", "2020-01-01", "--end", "2020-01-31", db_url=sqlite_url
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == (
        "refused: PF_1 2020-01-07: risk_metrics.drawdown is nan; fix the report (NaN and infinity cannot be encoded)"
    )
    assert lines[1].startswith("num-portfolio-core-v1: 5 date(s), 4 state(s) written, 0 skipped (unchanged), 1 refused")
