"""Concurrent browser sessions on the app, through bench/load_app.py (localhost only).

Two sessions walk every page at once on the shared sample app: enough to run two scripts against
the same caches and connections at the same time. Each page load costs this GPU-less Chromium
~3.7 s of CPU, and the suite is CPU-bound: four sessions spent 24 loads (~90 s of CPU) on the
same check. The bench's default (8 sessions x 2 rounds) is the load test."""

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import PROJECT, cli_env

from bench.load_app import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not Path(CHROMIUM).exists():
    pytest.skip("Chromium not installed (apt-get install chromium)", allow_module_level=True)


def test_concurrent_sessions_render_every_page_without_errors(app_url: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "bench/load_app.py",
            "--base-url",
            app_url,
            "--sessions",
            "2",
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
    assert "2 concurrent sessions x 1 rounds x 6 pages = 12 page loads" in result.stdout
    assert result.stdout.splitlines()[0].endswith("0 failed")
