"""Round 2 in Debian's Chromium: before the access code nothing of the app shows; a download link
works once, for the signed-in click only; ids render as plain text, and no viewer's browser
fetches an image an id names."""

from __future__ import annotations

import csv
import http.server
import io
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import ClassVar

import pytest
from factories import make_report

from bench.load_app import streamlit_app
from prometheus.config import Settings
from prometheus.services.backfill import BackfillRequest, backfill_joint, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.store.stores import open_stores
from ui.access import LINK_SECONDS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Chromium not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect  # noqa: E402

CODE = "c0de-for-tests"
PAGE_NAMES = ("Backfill", "Embeddings", "Similar portfolios", "Drawdown & stress")


class _Pixels(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Pixels.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def pixel_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pixels)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture(scope="module")
def hostile_ids(pixel_server: int) -> list[str]:
    return [
        f"![pixel](http://127.0.0.1:{pixel_server}/pixel.png)",
        "[click me](http://evil.example/)",
        "**bold** :red[colour]",
        '=HYPERLINK("http://evil.example")',
    ]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, hostile_ids: list[str]) -> Iterator[str]:
    home = tmp_path_factory.mktemp("browser2")
    url = f"sqlite:///{home / 'prometheus.db'}"
    stores = open_stores(Settings(db_url=url))
    stores.reports.upsert([make_report(pid, date(2020, 1, d)) for pid in [*hostile_ids, "PF_PLAIN"] for d in (2, 3, 6)])
    request = BackfillRequest(DateSelection(start=date(2020, 1, 1), end=date(2020, 1, 31)))
    backfill_numeric(stores, "num-portfolio-core-v1", request)
    backfill_joint(stores, "num-portfolio-core-v1", "joint-portfolio-core-v1", request)
    stores.dispose()
    with streamlit_app(url, home, {"PROMETHEUS_ACCESS_CODE": CODE}) as base:
        yield base
    log = (home / "streamlit.log").read_text()
    assert "Traceback" not in log and CODE not in log, log[-3000:]


def settle(page: Page) -> None:
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    page.wait_for_timeout(500)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')


def sign_in(page: Page, url: str) -> None:
    page.goto(url)
    settle(page)
    page.get_by_label("Access code").fill(CODE)
    page.get_by_role("button", name="Enter").click()
    expect(page.get_by_label("Access code")).to_have_count(0)  # the rerun has started (slow machines: not at once)
    settle(page)


@pytest.mark.parametrize("path", ["", "/similar", "/map?method=umap", "/embeddings", "/backfill"])
def test_before_the_code_nothing_of_the_app_shows(app_url: str, page: Page, path: str) -> None:
    page.goto(app_url + path)
    settle(page)
    expect(page.get_by_label("Access code")).to_be_visible()
    text = page.locator('[data-testid="stApp"]').inner_text()
    assert not [name for name in PAGE_NAMES if name in text], text
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert page.locator('[data-testid="stPageLink"]').count() == 0
    assert "PF_PLAIN" not in page.content()


def test_a_download_link_works_only_just_after_the_signed_in_click(
    app_url: str, page: Page, browser: Browser, hostile_ids: list[str]
) -> None:
    sign_in(page, f"{app_url}/embeddings")
    button = page.get_by_role("button", name="Download states (CSV)")
    expect(button).to_be_enabled(timeout=30_000)  # the page's first table loads Streamlit's grid chunks
    with page.expect_download() as info:
        button.click()
    download = info.value
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(), newline="")))
    ids = {row[1] for row in rows[1:]}
    assert "'" + hostile_ids[3] in ids and hostile_ids[3] not in ids  # the formula cell neutralised
    # The URL of that download, fetched again once the click's moment has passed: by the same
    # browser, and by one without the code
    page.wait_for_timeout(1000 * LINK_SECONDS + 500)
    assert page.request.get(download.url).status == 404
    stranger = browser.new_context()
    try:
        assert stranger.request.get(download.url).status == 404
    finally:
        stranger.close()
    # Raw CSV for programs: the sidebar toggle
    page.get_by_text("Raw CSV downloads").click()
    settle(page)
    with page.expect_download() as again:
        page.get_by_role("button", name="Download states (CSV)").click()
    raw = list(csv.reader(io.StringIO(Path(again.value.path()).read_text(), newline="")))
    assert hostile_ids[3] in {row[1] for row in raw[1:]}


def test_ids_render_as_plain_text_and_no_image_is_fetched(app_url: str, page: Page, hostile_ids: list[str]) -> None:
    _Pixels.hits.clear()
    for pid in hostile_ids[:3]:
        for path in ("similar", "drawdown"):
            query = urllib.parse.urlencode({"portfolio": pid, "date": "2020-01-06"})
            sign_in(page, f"{app_url}/{path}?{query}")  # a new page load: a new session
            main = page.locator('[data-testid="stMain"]')
            assert pid in main.inner_text().replace("\u2060", "")  # shown as typed (less invisible word joiners)
            assert main.locator("img").count() == 0
            targets = main.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href') || '')")
            assert not [t for t in targets if t.startswith(("http://evil", "http://127.0.0.1", "www."))], targets
            assert main.locator("[data-testid='stMarkdownContainer'] strong").filter(has_text="bold").count() == 0
    sign_in(page, f"{app_url}/map?color=portfolio")
    assert page.locator('[data-testid="stMain"] svg a').count() == 0  # no live link in the Plotly legend
    page.wait_for_timeout(500)
    assert _Pixels.hits == []
