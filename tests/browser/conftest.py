"""One headless Chromium per test worker, shared by every browser test; a fresh context (cookies,
storage, downloads) per test. Launching Chromium costs 1-2 s of a busy 2-core machine: once per
worker instead of once per module or test (13 launches a run before).

One sample app per worker too, for every module that only reads it: the suite is CPU-bound
(both cores busy the whole run) and each server with its store cost ~6 s of CPU; a run started
11 of them (one per module and worker that used one), 8 with this."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ALL_SAMPLE_DATES, fill_sample

from bench.load_app import CHROMIUM, CHROMIUM_ARGS, streamlit_app


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    opened = context.new_page()
    opened.set_default_timeout(60_000)
    yield opened
    context.close()


@pytest.fixture(scope="session")
def sample_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`streamlit run app.py` over all sample reports and all their states (5 books x 24 month-ends):
    its base URL and its store's URL. Tests only read it; each must pass on its own, whichever ran before."""
    home = tmp_path_factory.mktemp("sample-app")
    url = f"sqlite:///{home / 'prometheus.db'}"
    fill_sample(url, backfill=ALL_SAMPLE_DATES)
    with streamlit_app(url, home) as base:
        yield base, url
    log = (home / "streamlit.log").read_text()
    assert "Traceback" not in log, log[-3000:]


@pytest.fixture
def app_url(sample_app: tuple[str, str]) -> str:
    return sample_app[0]
