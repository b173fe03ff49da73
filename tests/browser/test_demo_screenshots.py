"""Every page on the real demo book, in Chromium: no errors, and the screenshots the README shows.

The screenshots land in test-artifacts/screenshots/demo-*.png; the README's copies in
tests/browser/screenshots/ were taken by this test.
"""

from collections.abc import Iterator

import pytest
from helpers import demo_cache
from playwright.sync_api import Browser
from test_browser import assert_no_errors, screenshot, settle, streamlit_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PF = "PORTFOLIO_CORE_US_EQ_001"
VIEWS = {
    "overview": "",
    "similar": f"similar?portfolio={PF}&date=2008-10-10&k=20",
    "map": "map",
    "drawdown": f"drawdown?portfolio={PF}",
    "embeddings": f"embeddings?portfolio={PF}",
    "backfill": "backfill",
}


@pytest.fixture(scope="module")
def demo_app(demo_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with streamlit_server(tmp_path_factory.mktemp("demo-app"), demo_db_url, demo_cache(demo_db_url)) as base:
        yield base


@pytest.mark.parametrize("name", list(VIEWS))
def test_every_page_on_the_demo_book(demo_app: str, browser: Browser, name: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(240_000)
        page.goto(f"{demo_app}/{VIEWS[name]}")
        settle(page)
        if name == "map":
            page.wait_for_selector(".js-plotly-plot")
            settle(page)
        assert_no_errors(page)
        screenshot(page, f"demo-{name}")
    finally:
        context.close()
