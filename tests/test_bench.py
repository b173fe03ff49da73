"""The benchmark command stays runnable (a small smoke run; the real figures come from bench/run.py)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import PROJECT, cli_env


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
