"""The real app in Debian's Chromium: `streamlit run app.py` on a temp SQLite store with the sample data.

Covers what AppTest cannot: clicks that start a background job, Plotly box
selection, downloads. Screenshots of every page land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from helpers import ALL_SAMPLE_DATES, fill_sample

from bench.load_app import CHROMIUM as CHROMIUM_PATH
from bench.load_app import streamlit_app
from bench.page_checks import DRAWN_JS
from prometheus.services.dates import DateSelection

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PROJECT = Path(__file__).resolve().parents[2]
SCREENSHOTS = PROJECT / "test-artifacts" / "screenshots"
CHROMIUM = Path(CHROMIUM_PATH)
PAGES = {
    "overview": "",
    "backfill": "backfill",
    "embeddings": "embeddings",
    "similar": "similar",
    "map": "map",
    "drawdown": "drawdown",
}
PF2 = "PORTFOLIO_CORE_US_EQ_002"
# CSV for people (presenters/formats.py): headers in words, percentages under "(%)"
NEIGHBOUR_HEADER = (
    "#,Cosine,Euclidean,Portfolio,Date,Drawdown (%),Volatility (1 year) (%),Largest sector,Stress known then"
)

if not CHROMIUM.exists():
    pytest.skip("Chromium not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402


def _fill(url: str, states: DateSelection) -> None:
    fill_sample(url, backfill=states)


@contextlib.contextmanager
def streamlit_server(home: Path, url: str, cache: Path | None = None) -> Iterator[str]:
    """`streamlit run app.py` on a free port against ``url`` (bench/load_app.py); its log must hold no traceback.

    ``cache``: the cache folder to share (the demo book's, filled when it was built), else one of its own.
    """
    with streamlit_app(url, home, {"PROMETHEUS_CACHE_DIR": str(cache)} if cache else None) as base:
        yield base
    text = (home / "streamlit.log").read_text()
    assert "Traceback" not in text, text[-3000:]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """All sample reports and all their states (5 books x 24 month-ends). Each test must pass on its own:
    pytest-xdist may hand any test of this module to another worker, with a fresh copy of this fixture."""
    home = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{home / 'prometheus.db'}"
    _fill(url, ALL_SAMPLE_DATES)
    with streamlit_server(home, url) as base:
        yield base


@pytest.fixture(scope="module")
def half_filled_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """All sample reports, states for 2024 only: a backfill clicked in the browser has 2025 to do."""
    home = tmp_path_factory.mktemp("browser-2024")
    url = f"sqlite:///{home / 'prometheus.db'}"
    _fill(url, DateSelection(start=date(2024, 1, 1), end=date(2024, 12, 31)))
    with streamlit_server(home, url) as base:
        yield base


def settle(page: Page) -> None:
    """Wait until the script run (not a periodic fragment) has finished and the page has drawn."""
    page.wait_for_selector("h1")
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    page.wait_for_timeout(400)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')


def assert_no_errors(page: Page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0, page.locator(
        '[data-testid="stAlertContentError"]'
    ).first.inner_text()
    assert "Traceback" not in page.content()


def screenshot(page: Page, name: str) -> None:
    """The whole page: Streamlit scrolls an inner container, so grow the viewport to its height.

    Measured once every chart and table shown has drawn: the README's Drawdown shot was cut at its
    analogues table, whose grid had not drawn when the page's height was read.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_function(DRAWN_JS, polling="raf", timeout=60_000)
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight ?? 1000")
    page.set_viewport_size({"width": 1400, "height": min(max(1000, int(height) + 40), 8000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})


def download_csv(page: Page, label: str) -> list[list[str]]:
    """Click the named download button (elements keep mounting after the run ends: wait for it).

    Up to 30 s: with both workers drawing pages, the Map's selection panel (a table, this button and
    two more widgets) was still mounting after expect's default 5 s in one of four full runs."""
    button = page.get_by_role("button", name=label)
    expect(button).to_be_enabled(timeout=30_000)
    with page.expect_download() as info:
        button.click()
    path = info.value.path()
    return list(csv.reader(io.StringIO(Path(path).read_text())))


def test_a_deep_link_to_a_fresh_server_goes_through_the_app(app_url: str, page: Page) -> None:
    # Streamlit runs pages/ files directly until st.navigation has run once in the server
    page.goto(f"{app_url}/similar?portfolio={PF2}&date=2024-06-28&k=4")
    settle(page)
    assert_no_errors(page)
    expect(page.get_by_text("4 nearest of")).to_be_visible()
    links = page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]').all_inner_texts()
    assert [text.split("\n")[-1] for text in links] == [
        "Overview",
        "Import",
        "Backfill",
        "Embeddings",
        "Similar portfolios",
        "Map",
        "Drawdown & stress",
    ]
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0  # Streamlit's raw file list: never shown
    expect(page.get_by_text("Store:")).to_be_visible()  # app.py's sidebar: it ran
    assert f"portfolio={PF2}" in page.url and "k=4" in page.url


def test_backfill_started_by_a_click_finishes(half_filled_url: str, page: Page) -> None:
    app_url = half_filled_url
    page.goto(f"{app_url}/backfill")
    settle(page)
    assert_no_errors(page)
    page.get_by_role("button", name="Start backfill").click()
    expect(page.get_by_text("Backfill job succeeded")).to_be_visible(timeout=90_000)
    expect(page.get_by_text("24 date(s), 60 state(s) written").first).to_be_visible()
    settle(page)
    screenshot(page, "backfill")

    page.goto(f"{app_url}/embeddings")
    settle(page)
    expect(page.get_by_text("120 state(s) of")).to_be_visible()
    rows = download_csv(page, "Download states (CSV)")
    assert rows[0] == ["Date", "Portfolio", "Model", "Dimensions", "L2 norm"]
    assert len(rows) == 1 + 120


@pytest.mark.parametrize("name", [n for n in PAGES if n != "backfill"])
def test_every_page_opens_cleanly(app_url: str, page: Page, name: str) -> None:
    page.goto(f"{app_url}/{PAGES[name]}")
    settle(page)
    if name in ("map", "drawdown", "overview", "embeddings"):
        page.wait_for_selector(".js-plotly-plot")
    assert_no_errors(page)
    screenshot(page, name)


def test_similar_search_deep_link_and_csv(app_url: str, page: Page) -> None:
    page.goto(f"{app_url}/similar?portfolio={PF2}&date=2025-06-30&k=7")
    settle(page)
    assert_no_errors(page)
    expect(page.get_by_text("7 nearest of")).to_be_visible()
    expect(page.get_by_text(f"Query: {PF2} on 2025-06-30")).to_be_visible()
    rows = download_csv(page, "Download neighbours (CSV)")
    assert ",".join(rows[0]) == NEIGHBOUR_HEADER
    assert len(rows) == 1 + 7
    assert PF2 not in {r[3] for r in rows[1:]}
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(1, 8)]
    # changing top-k reruns the search and lands in the URL
    box = page.get_by_label("Top k")
    box.fill("3")
    box.press("Enter")
    expect(page.get_by_text("3 nearest of")).to_be_visible()
    assert "k=3" in page.url
    screenshot(page, "similar-top3")


HOVERED_POINT_JS = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  const trace = gd._fullData.find(t => (t.hovertemplate || '').includes('drawdown %{customdata[1]'));
  const box = gd.getBoundingClientRect(), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  return {x: box.left + xa._offset + xa.c2p(trace.x[0]), y: box.top + ya._offset + ya.c2p(trace.y[0])};
}"""


@pytest.mark.parametrize("colour", ["drawdown", "sector"])
def test_a_map_state_hovers_with_its_book_date_and_figures(app_url: str, page: Page, colour: str) -> None:
    # The book is its trace's meta (one trace per book) or in each text (one trace per sector): both read the same
    page.goto(f"{app_url}/map?color={colour}")
    settle(page)
    page.wait_for_selector(".js-plotly-plot .nsewdrag")
    point = page.evaluate(HOVERED_POINT_JS)
    page.mouse.move(point["x"] + 1, point["y"] + 1)
    page.mouse.move(point["x"], point["y"])
    label = page.locator(".hoverlayer .hovertext").first
    expect(label).to_be_visible(timeout=10_000)
    text = label.text_content() or ""
    assert re.fullmatch(
        r"PORTFOLIO_CORE_US_EQ_00\d · \d{4}-\d{2}-\d{2}(.+)?drawdown -?\d+\.\d% · volatility \(1 year\) \d+\.\d%", text
    ), text


def test_map_box_selection_opens_a_state_in_similar(app_url: str, page: Page) -> None:
    page.goto(f"{app_url}/map")
    settle(page)
    page.wait_for_selector(".js-plotly-plot .nsewdrag")
    area = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    assert area is not None
    # a box over the whole plotting area selects every state
    page.mouse.move(area["x"] + 3, area["y"] + 3)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] / 2, area["y"] + area["height"] / 2, steps=8)
    page.mouse.move(area["x"] + area["width"] - 3, area["y"] + area["height"] - 3, steps=8)
    page.mouse.up()
    expect(page.get_by_text("state(s) selected")).to_be_visible(timeout=30_000)
    settle(page)
    rows = download_csv(page, "Download selection (CSV)")
    assert rows[0] == [
        "Portfolio",
        "Date",
        "Map x",
        "Map y",
        "Drawdown (%)",
        "Volatility (1 year) (%)",
        "Largest sector",
        "Stress window",
    ]
    assert len(rows) == 1 + 120
    screenshot(page, "map-selection")
    page.get_by_role("button", name="Open in Similar portfolios").click()
    page.wait_for_url("**/similar?**")
    settle(page)
    assert_no_errors(page)
    first = rows[1]  # selected rows are sorted by date then portfolio: the first state opens by default
    assert f"portfolio={first[0]}" in page.url and f"date={first[1]}" in page.url
    expect(page.get_by_text(f"Query: {first[0]} on {first[1]}")).to_be_visible()


def test_map_draws_webgl_at_one_pixel_per_css_pixel(app_url: str, page: Page) -> None:
    """Every mouse move of a box or lasso drag redraws every WebGL point of the map: at Plotly's
    default plotGlPixelRatio 2 that was 4x the pixels, in software in a browser without a GPU
    (~500-state box on the demo book 9.8 -> 4.5 s, bench/map_selection.py)."""
    page.goto(f"{app_url}/map")
    settle(page)
    page.wait_for_selector(".st-key-map_chart canvas.gl-canvas-context")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('.st-key-map_chart canvas.gl-canvas')]
            .map(c => [c.width, c.height, c.getBoundingClientRect().width, c.getBoundingClientRect().height])"""
    )
    assert len(sizes) == 3  # Plotly's context, focus and pick layers
    for width, height, css_width, css_height in sizes:
        assert (width, height) == (round(css_width), round(css_height))


def test_an_empty_store_offers_the_demo_book_and_loads_it(tmp_path: Path, page: Page) -> None:
    with streamlit_server(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}") as base:
        page.goto(f"{base}/map")
        settle(page)
        assert_no_errors(page)
        expect(page.get_by_text("The store is empty")).to_be_visible()
        screenshot(page, "empty-store")
        page.get_by_role("button", name="Load the demo book").click()
        expect(page.get_by_text("Demo book job running")).to_be_visible(timeout=30_000)
        # the job finishes in the background; the page then reruns and draws the map
        page.wait_for_selector(".js-plotly-plot", timeout=240_000)
        settle(page)
        assert_no_errors(page)
        expect(page.get_by_text("states, PCA projection")).to_be_visible()
        screenshot(page, "map-demo-book")
