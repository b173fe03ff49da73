"""The Import page in Debian's Chromium: real uploads through the browser, a real job, then a search.

Starts `streamlit run app.py` on an empty SQLite store (bench/load_app.py), uploads the
sample risk reports, then the risk engine's four test files, and searches what came in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.load_app import CHROMIUM as CHROMIUM_PATH

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PROJECT = Path(__file__).resolve().parents[2]
SAMPLE = PROJECT / "prometheus" / "samples" / "risk_reports.jsonl"
ENGINE = PROJECT / "tests" / "data" / "engine"
CHROMIUM = Path(CHROMIUM_PATH)

if not CHROMIUM.exists():
    pytest.skip("Chromium not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402
from test_browser import assert_no_errors, screenshot, settle, streamlit_server  # noqa: E402


def upload(page: Page, label: str, path: Path) -> None:
    uploader = page.locator('[data-testid="stFileUploader"]', has_text=label)
    uploader.locator('input[type="file"]').set_input_files(str(path))


def test_reports_and_a_holdings_set_imported_from_the_browser_can_be_searched(tmp_path: Path, page: Page) -> None:
    with streamlit_server(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}") as base:
        page.goto(base)
        settle(page)
        expect(page.get_by_text("The store is empty")).to_be_visible()
        page.get_by_role("link", name="Import your own data").click()
        page.wait_for_url("**/import")
        settle(page)
        assert_no_errors(page)

        upload(page, "Risk-report file", SAMPLE)
        expect(page.get_by_text("risk_reports.jsonl: 120 risk report(s) for 5 portfolio(s)")).to_be_visible()
        page.get_by_role("button", name="Import and embed").click()
        done = page.get_by_text("Import job succeeded: imported 120 risk report(s)")
        # .first: while the page reruns after the job, the watcher's old message may still be drawn beside
        # the new one; once the run is over there must be exactly one
        expect(done.first).to_be_visible(timeout=120_000)
        settle(page)
        expect(done).to_have_count(1)
        screenshot(page, "import-reports")

        page.goto(f"{base}/similar?portfolio=PORTFOLIO_CORE_US_EQ_002&date=2025-06-30&k=5")
        settle(page)
        assert_no_errors(page)
        # point in time by default: other books' states dated 2025-03-31 or earlier (4 books x 15 month-ends)
        expect(page.get_by_text("5 nearest of 60 candidate")).to_be_visible()

        page.goto(f"{base}/import")
        settle(page)
        page.get_by_text("Holdings and prices (risk engine)").click()
        settle(page)
        for label, name in (
            ("Holdings", "holdings"),
            ("Prices", "prices"),
            ("Benchmark", "bench"),
            ("Sectors", "sectors"),
        ):
            upload(page, f"{label} (", ENGINE / f"{name}.csv")
            page.wait_for_timeout(300)
        expect(page.get_by_text("1 portfolio(s), 5 holding row(s), 3 ticker(s) priced")).to_be_visible()
        page.get_by_role("button", name="Build, import and embed").click()
        built = page.get_by_text("Import job succeeded: built and stored")
        expect(built.first).to_be_visible(timeout=120_000)
        settle(page)
        expect(built).to_have_count(1)
        screenshot(page, "import-engine")

        page.goto(f"{base}/similar?portfolio=PF_1&date=2020-01-08&k=3")
        settle(page)
        assert_no_errors(page)
        expect(page.get_by_text("Query: PF_1 on 2020-01-08")).to_be_visible()  # the built book is searchable
        page.goto(f"{base}/similar?portfolio=PORTFOLIO_CORE_US_EQ_002&date=2025-06-30&k=5")
        settle(page)
        expect(page.get_by_text("5 nearest of 62 candidate")).to_be_visible()  # and its 2 states are candidates
