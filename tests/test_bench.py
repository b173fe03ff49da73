"""The benchmark command stays runnable (a small smoke run; the real figures come from bench/run.py)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ALL_SAMPLE_DATES, PROJECT, cli_env, fill_sample


@pytest.mark.slow
def test_bench_smoke_run_prints_and_writes_the_table(tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--sizes", "4000", "--quick", "--no-postgres", "--out", str(out)],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=PROJECT,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    table = out.read_text()
    assert "| numeric + joint backfill (SQLite) | 4,000 |" in table
    assert "| results identical to exact float64 (10 queries) | 4,000 | 10/10 identical | 10/10 | met |" in table
    rows = json.loads(out.with_suffix(".json").read_text())
    assert {r["measure"] for r in rows} >= {
        "exact top-20, warm (ours: compacted float32 pass + float64 re-rank)",
        "find_similar_portfolios CLI, cold process (median)",
    }


@pytest.mark.slow
def test_import_bench_smoke_run_compares_with_the_naive_script(tmp_path: Path) -> None:
    out = tmp_path / "import.md"
    command = ["bench/import_speed.py", "--reports", "400", "--runs", "1", "--no-postgres", "--out", str(out)]
    result = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=PROJECT,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    table = out.read_text()
    for measure in ("| import_risk_reports (SQLite) |", "| naive script (SQLite) |", "| ours / naive (SQLite) |"):
        assert measure in table


def test_ui_bench_refuses_a_filter_that_names_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--only matches the printed names ("Overview (reload)" measured nothing before, then crashed)."""
    from bench import ui_speed

    assert ui_speed.main(["--db-url", f"sqlite:///{tmp_path / 'none.db'}", "--only", "Overview (reloaded)"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no page or interaction is named like 'Overview (reloaded)': one of ")
    assert "Overview (reload), Backfill (reload)," in err and err.count("\n") == 1
    assert not (tmp_path / "none.db").exists()


def test_spread_bench_scores_every_spread_and_the_baseline_on_the_same_queries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import spread_skill

    url = f"sqlite:///{tmp_path / 'sample.db'}"
    fill_sample(url, backfill=ALL_SAMPLE_DATES)
    assert spread_skill.main(["--db-url", url, "--every", "1", "--top-k", "5", "--spreads", "0,1,91"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # 5 books x the 21 month-ends of 2024-01 .. 2025-09 whose next 91 days are stored
    assert lines[0].startswith("105 queries (2024-2025, every date), 5 analogues each dated 91+ days before")
    names = [line.split(" | ")[0].removeprefix("| ") for line in lines[3:]]
    assert names == ["as ranked", "one per date", "91 days apart", "baseline: current 3-month volatility"]
    assert lines[3].split(" | ")[2] == "+0.000 [+0.000, +0.000]"  # as ranked against itself
    assert spread_skill.main(["--db-url", url, "--spreads", "30"]) == 2  # as ranked must come first
    assert capsys.readouterr().err.startswith("error: --spreads must start with 0 (as ranked)")


def test_spread_forecast_bench_replays_the_apps_own_ledger_as_ranked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Spread 0 must be the app's own forecast book and ledger, so the spread rows differ from it by the spread only."""
    from market import market_output, store_market

    from bench import spread_forecast
    from prometheus.config import Settings
    from prometheus.services.forecast_book import forecast_book
    from prometheus.services.skill import FORECAST, skill_ledger
    from prometheus.store.stores import open_stores

    url = f"sqlite:///{tmp_path / 'market.db'}"
    stores = open_stores(Settings(db_url=url, cache_dir=tmp_path / "cache"))
    try:
        store_market(stores, market_output(books=10, years=6))
        ledger = skill_ledger(forecast_book(stores, "joint-portfolio-core-v1", every=1))
    finally:
        stores.dispose()
    assert spread_forecast.main(["--db-url", url, "--every", "1", "--spreads", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    skill = ledger.skills[FORECAST].spearman
    assert lines[3].startswith(f"| as ranked (the app) | {skill.value:.3f} [{skill.low:.3f}, {skill.high:.3f}] | ")
    assert lines[-1] == f"{ledger.count:,} forecasts scored, {ledger.first} to {ledger.last}"
    # spread: the same queries for every row (a spread book starts later: every row starts there)
    assert spread_forecast.main(["--db-url", url, "--every", "1", "--spreads", "0,30"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split(" | ")[0].removeprefix("| ") for line in lines[3:6]]
    assert names == ["as ranked (the app)", "30 days apart", "volatility alone"]
    assert lines[3].split(" | ")[1] != lines[4].split(" | ")[1]  # the spread changed the analogues
    assert lines[-1].endswith(f" to {ledger.last}") and "NOT the same" not in lines[-1]
    assert 0 < int(lines[-1].split(" ")[0].replace(",", "")) <= ledger.count
