"""Several concurrent browser sessions on the app, through bench/load_app.py (localhost only)."""

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from helpers import PROJECT, SAMPLE_JSONL, cli_env

from prometheus.config import Settings
from prometheus.services.backfill import BackfillRequest, backfill_joint, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.services.importing import import_report_file
from prometheus.store.stores import open_stores

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_concurrent_sessions_render_every_page_without_errors(tmp_path: Path) -> None:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Chromium not installed (apt-get install chromium)")
    url = f"sqlite:///{tmp_path / 'prometheus.db'}"
    stores = open_stores(Settings(db_url=url))
    import_report_file(stores, SAMPLE_JSONL)
    request = BackfillRequest(DateSelection(start=date(2024, 1, 1), end=date(2025, 12, 31)))
    backfill_numeric(stores, "num-portfolio-core-v1", request)
    backfill_joint(stores, "num-portfolio-core-v1", "joint-portfolio-core-v1", request)
    stores.dispose()
    result = subprocess.run(
        [
            sys.executable,
            "bench/load_app.py",
            "--db-url",
            url,
            "--sessions",
            "4",
            "--rounds",
            "1",
            "--deep-link",
            "?portfolio=PORTFOLIO_CORE_US_EQ_002&date=2025-03-31",
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=PROJECT,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "4 concurrent sessions x 1 rounds x 6 pages = 24 page loads" in result.stdout
    assert result.stdout.splitlines()[0].endswith("0 failed")
