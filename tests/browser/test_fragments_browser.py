"""Widgets that rerun only their part of the page (st.fragment), seen on the app's own websocket in Chromium.

Every script run starts with a ``new_session`` message naming the fragments it reruns (none
for a run of the whole page). A colour change on the Map, a box selection, another neighbour
on Similar, another book's history on Embeddings must rerun their part only; the date of a
similar search reruns the whole page (the control, so the check can tell the two apart).
Similar's comparison tabs are lazy: the server sends the open tab's table only, and a click on
another tab reruns the comparison (a fragment) to send that tab's.
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
        self.sent: list[list[str]] = []  # per run: the type of each element the server sent (dataframe, ...)

        def on_frame(payload: bytes | str) -> None:
            if isinstance(payload, bytes):
                msg = ForwardMsg.FromString(payload)
                if msg.WhichOneof("type") == "new_session":
                    self.runs.append(list(msg.metadata.run.fragment_ids))
                    self.sent.append([])
                elif msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element" and self.sent:
                    self.sent[-1].append(str(msg.delta.new_element.WhichOneof("type")))

        page.on("websocket", lambda ws: ws.on("framereceived", on_frame))

    def since(self, mark: int) -> list[list[str]]:
        return self.runs[mark:]

    def sent_since(self, mark: int, kind: str) -> int:
        return sum(run.count(kind) for run in self.sent[mark:])


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


def test_similar_sends_only_the_open_comparison_tab(app_url: str, page: Page) -> None:  # noqa: F811
    log = RunLog(page)
    page.goto(f"{app_url}/similar?portfolio={PF2}&date=2024-06-28&k=4&scope=all")
    settle(page)
    expect(page.locator(".st-key-sim_outcomes_csv")).to_be_visible()
    # neighbours, the open tab (Risk metrics), what happened next; not four more tables and a chart
    assert log.sent_since(0, "dataframe") == 3, log.sent
    assert log.sent_since(0, "plotly_chart") == 0, log.sent
    compare = page.locator(".st-key-compare")
    expect(compare.locator("th").first).to_have_text("Metric")

    mark = len(log.runs)
    page.get_by_role("tab", name="Scenario P&L").click()
    page.wait_for_url("**compare=Scenario+P%26L**")  # the open tab is in the link
    settle(page)
    assert log.since(mark) and all(log.since(mark)), log.since(mark)  # the comparison's fragment only
    assert log.sent_since(mark, "dataframe") == 1, log.sent[mark:]
    expect(compare.locator("th").first).to_have_text("Scenario")
    expect(compare.locator("td").filter(has_text="Lehman Sep-Oct 2008")).to_have_count(1)

    page.reload()  # the link opens the same tab
    settle(page)
    expect(page.get_by_role("tab", name="Scenario P&L")).to_have_attribute("aria-selected", "true")
    expect(compare.locator("td").filter(has_text="Dot-com crash 2000")).to_have_count(1)
