"""Widgets that rerun only their part of the page (st.fragment), seen on the app's own websocket in Chromium.

Every script run starts with a ``new_session`` message naming the fragments it reruns (none
for a run of the whole page). A colour change on the Map, a box selection, another neighbour
on Similar, another book's history on Embeddings must rerun their part only; the date of a
similar search reruns the whole page (the control, so the check can tell the two apart).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from test_browser import PF2, app_url, settle  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class RunLog:
    """The fragment ids of every script run the page's websockets announced, in order."""

    def __init__(self, page: Page) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.runs: list[list[str]] = []

        def on_frame(payload: bytes | str) -> None:
            if isinstance(payload, bytes):
                msg = ForwardMsg.FromString(payload)
                if msg.WhichOneof("type") == "new_session":
                    self.runs.append(list(msg.metadata.run.fragment_ids))

        page.on("websocket", lambda ws: ws.on("framereceived", on_frame))

    def since(self, mark: int) -> list[list[str]]:
        return self.runs[mark:]


def pick(page: Page, key: str, option: str) -> None:
    box = page.locator(f".st-key-{key} input[role='combobox']")
    box.click()
    box.fill(option)
    page.locator("[role='option']", has_text=option).first.click()


def test_part_widgets_rerun_only_their_part(app_url: str, page: Page) -> None:  # noqa: F811
    log = RunLog(page)
    page.goto(f"{app_url}/map")
    settle(page)
    assert log.runs and log.runs[-1] == []  # opening a page runs all of it

    mark = len(log.runs)
    pick(page, "map_colour", "Portfolio")
    page.wait_for_url("**color=portfolio**")
    settle(page)
    assert log.since(mark) and all(log.since(mark)), log.since(mark)

    page.wait_for_selector(".js-plotly-plot .nsewdrag")
    area = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    assert area is not None
    mark = len(log.runs)
    page.mouse.move(area["x"] + 3, area["y"] + 3)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] - 3, area["y"] + area["height"] - 3, steps=10)
    page.mouse.up()
    expect(page.get_by_text("state(s) selected")).to_be_visible(timeout=30_000)
    settle(page)
    assert log.since(mark) and all(log.since(mark)), log.since(mark)

    page.goto(f"{app_url}/embeddings?portfolio={PF2}")
    settle(page)
    mark = len(log.runs)
    pick(page, "emb_history_portfolio", "PORTFOLIO_CORE_US_EQ_004")
    page.wait_for_url("**portfolio=PORTFOLIO_CORE_US_EQ_004**")
    settle(page)
    assert log.since(mark) and all(log.since(mark)), log.since(mark)

    page.goto(f"{app_url}/similar?portfolio={PF2}&date=2024-06-28&k=5&scope=all")
    settle(page)
    mark = len(log.runs)
    pick(page, "sim_pick", "#3 ")
    settle(page)
    assert log.since(mark) and all(log.since(mark)), log.since(mark)

    mark = len(log.runs)  # the control: a new query reruns the whole page
    pick(page, "sim_date", "2024-03-29")
    page.wait_for_url("**date=2024-03-29**")
    settle(page)
    assert log.since(mark) and not any(log.since(mark)), log.since(mark)
