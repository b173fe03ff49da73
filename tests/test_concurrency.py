"""Backfills running at the same time, and a backfill killed midway."""

import os
import signal
import subprocess
import sys
import time
from datetime import date

import pytest
import sqlalchemy as sa
from helpers import PROJECT, cli_env

from bench.synthetic import reports_in_chunks
from prometheus.config import Settings
from prometheus.store.schema import numeric_window_embeddings
from prometheus.store.stores import open_stores

pytestmark = pytest.mark.slow


def _store_reports(url: str, portfolios: int, dates: int) -> int:
    stores = open_stores(Settings(db_url=url))
    total = 0
    for chunk in reports_in_chunks(portfolios, dates, chunk_dates=50):
        total += stores.reports.upsert(chunk)
    stores.dispose()
    return total


def _spawn(url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "prometheus.scripts.backfill_numeric_portfolio_embeddings", *args, "--db-url", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env() | (env or {}),
        cwd=PROJECT,
    )


def _count(url: str) -> tuple[int, int]:
    """(rows, distinct keys) of the numeric table."""
    engine = sa.create_engine(url)
    t = numeric_window_embeddings
    with engine.connect() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        keys = conn.execute(
            sa.select(sa.func.count()).select_from(sa.select(t.c.entity_id, t.c.as_of_date).distinct().subquery())
        ).scalar_one()
    engine.dispose()
    return int(rows), int(keys)


def test_two_backfills_of_the_same_dates_at_once(db_url: str) -> None:
    total = _store_reports(db_url, 60, 120)
    first, second = (
        _spawn(db_url, "--start", "1990-01-01", "--end", "2030-12-31"),
        _spawn(db_url, "--start", "1990-01-01", "--end", "2030-12-31"),
    )
    results = [p.communicate(timeout=300) for p in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), results
    assert _count(db_url) == (total, total)  # no duplicate, no lost row
    written = [int(err.split(" state(s) written")[0].rsplit(" ", 1)[1]) for _, err in results]
    assert sum(written) >= total  # each state written by one run or both, never lost


def test_backfills_of_different_dates_run_in_parallel(db_url: str) -> None:
    total = _store_reports(db_url, 60, 120)
    stores = open_stores(Settings(db_url=db_url))
    days = stores.reports.dates()
    stores.dispose()
    middle = days[len(days) // 2]
    runs = [
        _spawn(db_url, "--start", days[0].isoformat(), "--end", middle.isoformat()),
        _spawn(db_url, "--start", date.fromordinal(middle.toordinal() + 1).isoformat(), "--end", days[-1].isoformat()),
    ]
    outputs = [p.communicate(timeout=300) for p in runs]
    assert [p.returncode for p in runs] == [0, 0], outputs
    assert _count(db_url) == (total, total)


CHUNK = {"PROMETHEUS_BACKFILL_CHUNK": "1000"}  # 20 transactions of 10 dates x 100 books, ~0.05 s each


def test_a_backfill_killed_midway_leaves_whole_chunks_and_the_rerun_completes(db_url: str) -> None:
    total = _store_reports(db_url, 100, 200)
    run = _spawn(db_url, "--start", "1990-01-01", "--end", "2030-12-31", env=CHUNK)
    deadline = time.monotonic() + 120
    while _count(db_url)[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(run.pid, signal.SIGKILL)
    run.wait(timeout=30)
    rows, keys = _count(db_url)
    assert rows == keys and 0 < rows < total
    assert rows % 1_000 == 0  # only whole transactions survive
    stores = open_stores(Settings(db_url=db_url))
    assert len(stores.numeric.load("num-portfolio-core-v1")) == rows  # every stored row reads back
    stores.dispose()
    rerun = _spawn(db_url, "--start", "1990-01-01", "--end", "2030-12-31", env=CHUNK)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert f"{total - rows} state(s) written, {rows} skipped (unchanged)" in err
    assert _count(db_url) == (total, total)
