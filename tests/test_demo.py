"""The real demo book: loading, idempotence, and embedding quality on real markets."""

import csv
import io
import re
from datetime import date

import pytest
from helpers import run_cli

from prometheus.config import Settings
from prometheus.demo.load import load_demo
from prometheus.store.stores import open_stores
from prometheus.stress import in_stress

pytestmark = pytest.mark.slow


def test_demo_book_is_in_the_store(demo_db_url: str) -> None:
    stores = open_stores(Settings(db_url=demo_db_url))
    ids = stores.reports.portfolio_ids()
    assert ids[0] == "PORTFOLIO_CORE_US_EQ_001" and len(ids) == 40
    days = stores.reports.dates()
    assert days[0] < date(1991, 1, 1) and days[-1] >= date(2018, 4, 6)
    assert stores.numeric.count("num-portfolio-core-v1") == stores.reports.count()
    stores.dispose()


def test_second_load_writes_nothing(demo_db_url: str) -> None:
    stores = open_stores(Settings(db_url=demo_db_url))
    version = stores.historical.data_version("joint:joint-portfolio-core-v1")
    summary = load_demo(stores)
    assert summary.numeric.written == 0 and summary.joint.written == 0
    assert summary.numeric.skipped == summary.reports
    assert stores.historical.data_version("joint:joint-portfolio-core-v1") == version
    stores.dispose()


def test_october_2008_finds_crisis_states(demo_db_url: str) -> None:
    result = run_cli(
        "find_similar_portfolios",
        "--portfolio-id",
        "PORTFOLIO_CORE_US_EQ_001",
        "--as-of",
        "2008-10-10",
        "--top-k",
        "20",
        db_url=demo_db_url,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    crisis = [r for r in rows if in_stress(date.fromisoformat(r["as_of_date"]))]
    assert len(crisis) >= 16  # "mostly crisis-period states"
    before = run_cli(
        "find_similar_portfolios",
        "--portfolio-id",
        "PORTFOLIO_CORE_US_EQ_001",
        "--as-of",
        "2008-10-10",
        "--top-k",
        "10",
        "--end",
        "2007-12-31",
        db_url=demo_db_url,
    )
    earlier = list(csv.DictReader(io.StringIO(before.stdout)))
    assert sum(in_stress(date.fromisoformat(r["as_of_date"])) for r in earlier) >= 7


def test_stress_states_find_stress_states(demo_db_url: str) -> None:
    """The quality figure, printed by its command: at least 3x the base rate."""
    result = run_cli("embedding_quality", db_url=demo_db_url, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("states: 57952, in named stress windows: ")
    base_rate = float(re.search(r"base rate ([0-9.]+)%", lines[0]).group(1))  # type: ignore[union-attr]
    lift = float(re.search(r"= ([0-9.]+)x the base rate", lines[1]).group(1))  # type: ignore[union-attr]
    lift_far = float(re.search(r"= ([0-9.]+)x the base rate", lines[2]).group(1))  # type: ignore[union-attr]
    assert 10 < base_rate < 30
    assert lift >= 3.0, result.stdout
    assert lift_far >= 2.5, result.stdout
