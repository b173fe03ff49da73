"""The real demo book: loading, idempotence, and embedding quality on real markets."""

import csv
import io
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from helpers import invoke, run_cli

from prometheus.config import Settings
from prometheus.services.demo import demo_in_place, load_demo
from prometheus.store.stores import Stores, open_stores
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


def _stamps(stores: Stores) -> list[str]:
    return [
        stores.runtime.data_stamp("reports").key,
        stores.runtime.data_stamp("values").key,
        stores.historical.data_stamp("numeric:num-portfolio-core-v1").key,
        stores.historical.data_stamp("joint:joint-portfolio-core-v1").key,
    ]


def test_second_load_writes_nothing(demo_db_url: str) -> None:
    stores = open_stores(Settings(db_url=demo_db_url))
    before = _stamps(stores)
    assert demo_in_place(stores)
    summary = load_demo(stores)
    assert summary.already_loaded and summary.reports == stores.reports.count() == 57952
    assert summary.numeric.written == 0 and summary.joint.written == 0
    assert summary.numeric.skipped == summary.reports
    assert summary.seconds < 5  # the README's app command runs this on every start (a full load: 20-25 s)
    assert "already in place and unchanged" in summary.line()
    assert _stamps(stores) == before
    stores.dispose()


def test_a_demo_store_written_to_since_is_no_longer_in_place(demo_db_url: str, tmp_path: Path) -> None:
    """Only this edition, untouched since its load, skips the build: any write or other edition loads in full."""
    copy = tmp_path / "demo.db"
    shutil.copyfile(demo_db_url.removeprefix("sqlite:///"), copy)
    stores = open_stores(Settings(db_url=f"sqlite:///{copy}", cache_dir=tmp_path / "cache"))
    assert demo_in_place(stores)
    assert not demo_in_place(stores, edition="another-edition")  # new prices, engine or encoder code
    first = stores.reports.load(dates=[stores.reports.dates()[0]], portfolio_ids=["PORTFOLIO_CORE_US_EQ_001"])
    assert len(first) == 1
    stores.reports.upsert(first)  # the same report written again still counts as a write
    assert not demo_in_place(stores)
    stores.dispose()
    empty = open_stores(Settings(db_url=f"sqlite:///{tmp_path / 'empty.db'}"))
    assert not demo_in_place(empty)
    empty.dispose()


def test_october_2008_finds_crisis_states(demo_db_url: str) -> None:
    result = invoke(
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
    before = invoke(
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


def test_stress_states_find_stress_states_of_other_crises_better_than_every_baseline(demo_db_url: str) -> None:
    """The honest quality figure, printed by its command: the model against baselines of the same run."""
    result = run_cli("embedding_quality", db_url=demo_db_url, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("states: 57952, in named stress windows: ")
    shares = {
        m.group(1): float(m.group(2))
        for line in lines[2:6]
        if (m := re.match(r"  (.+): ([0-9.]+)% \[[0-9.]+%, [0-9.]+%\] = [0-9.]+x the base rate$", line))
    }
    model = shares.pop("joint-portfolio-core-v1")
    assert set(shares) == {"date only", "volatility and drawdown (z-scored)", "every report feature (z-scored)"}
    assert all(model > baseline for baseline in shares.values()), result.stdout
    assert shares["date only"] < 17.8  # closeness in time earns nothing once the own crisis is left out
    assert lines[6] == "joint-portfolio-core-v1 beats every baseline"


def test_the_skill_ledger_on_the_demo_book(demo_db_url: str) -> None:
    """The forecast ranks what followed at least as well as volatility alone, and its band covers 80% +/- 5."""
    result = invoke("analogue_skill", "--start", "2000-01-01", db_url=demo_db_url)
    assert result.returncode == 0, result.stderr
    rows = {(r["method"], r["metric"]): r for r in csv.DictReader(io.StringIO(result.stdout))}
    coverage = float(rows[("forecast", "band_coverage_10_90")]["estimate"])
    assert 0.75 <= coverage <= 0.85, coverage
    pooled = rows[("forecast minus volatility", "spearman_pooled")]
    assert float(pooled["high"]) > 0  # not worse than volatility alone: the interval of the difference reaches 0
    per_date = rows[("forecast minus volatility", "spearman_per_date")]
    assert float(per_date["estimate"]) > 0
    reference = float(rows[("forecast", "spearman_pooled")]["estimate"])
    assert reference > 0.42  # the reference forecast (median of 20 analogues) measured 0.42
    assert int(pooled["queries"]) > 9000
