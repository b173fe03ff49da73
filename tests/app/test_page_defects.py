"""Issue 13, item 4: the defects an analyst met in the app, each through the pages (AppTest).

What needs a real browser (a box's stale text, a row click, Enter in a date box) is in
tests/browser/test_browser_defects.py; the formatting sweep of every page is in
tests/app/test_page_formats.py.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from app_helpers import PF1, plotly_values, shown
from test_pages import PF2, _fresh_caches, by_key, open_page, plotly_figures, sample_url, store, table

from prometheus import jobs
from prometheus.config import Settings
from prometheus.jobs.kinds import backfill_params
from prometheus.presenters import map_chart
from prometheus.presenters.maps import axis_titles, map_frame
from prometheus.services.dates import DateSelection
from prometheus.store.stores import open_stores
from prometheus.stress import window_names

# fixtures: fresh Streamlit caches for every test (autouse), the sample store
__all__ = ["_fresh_caches", "sample_url", "store"]


def warnings(at: Any) -> list[str]:
    return [shown(w.value) for w in at.warning]


# ---------------------------------------------------------------- 2. shared links


def test_a_link_keeps_the_similar_date_range(store: str) -> None:
    at = open_page("similar", portfolio=PF2, date="2025-12-31", scope="range", start="2024-03-01", end="2024-09-30")
    assert not at.exception and not at.error
    assert by_key(at, "radio", "sim_scope").value == "Date range"
    assert by_key(at, "date_input", "sim_start").value == date(2024, 3, 1)
    assert by_key(at, "date_input", "sim_end").value == date(2024, 9, 30)
    ranked = table(at, "sim_table")
    assert all("2024-03-01" <= str(d)[:10] <= "2024-09-30" for d in ranked["as_of_date"])
    # and the page writes the range back, so copying the URL shares it
    assert (at.query_params["start"], at.query_params["end"]) == ("2024-03-01", "2024-09-30")
    by_key(at, "date_input", "sim_end").set_value(date(2024, 12, 31)).run()
    assert at.query_params["end"] == "2024-12-31"


def test_a_link_keeps_the_trajectory_years(store: str) -> None:
    at = open_page("map", portfolio=PF2, years="2025-2025")
    assert not at.exception and not at.error
    assert tuple(by_key(at, "select_slider", "map_path_years").value) == (2025, 2025)
    (figure,) = plotly_figures(at)
    path = next(t for t in figure["data"] if str(t.get("name")).startswith(f"{PF2}, "))
    assert path["name"] == f"{PF2}, 2025-01 to 2025-12"
    assert at.query_params["years"] == "2025-2025"
    by_key(at, "select_slider", "map_path_years").set_value((2024, 2025)).run()
    assert at.query_params["years"] == "2024-2025"
    at = open_page("map", portfolio=PF2, years="1990-1995")
    assert warnings(at) == [
        "The link's years '1990-1995' are not within this trajectory (2024-2025): showing 2024-2025 instead."
    ]


def test_a_link_to_an_unknown_portfolio_says_so(store: str) -> None:
    at = open_page("drawdown", portfolio="PORTFOLIO_GONE")
    assert not at.exception and not at.error
    assert warnings(at) == [
        f"The link's portfolio 'PORTFOLIO_GONE' has no states in this store: showing {PF1} instead."
    ]
    at = open_page("map", portfolio="PORTFOLIO_GONE")
    assert warnings(at) == [
        "The link's portfolio 'PORTFOLIO_GONE' has no states in this store: showing no trajectory instead."
    ]


def test_a_link_to_a_date_without_a_state_says_which_is_shown(store: str) -> None:
    at = open_page("drawdown", portfolio=PF2, date="2025-07-04")
    assert not at.exception and not at.error
    assert warnings(at) == [f"{PF2} has no state on 2025-07-04 (nearest: 2025-06-30): showing 2025-06-30 instead."]
    assert str(by_key(at, "selectbox", "dd_date").value) == "2025-06-30"
    at.run()  # said once, for the link; the page then goes on quietly
    assert not at.warning


# ---------------------------------------------------------------- 4. drawdown page


def worst_trough(at: Any) -> str:
    return str(table(at, "dd_episodes")["trough_date"].iloc[0])[:10]


def test_switching_portfolio_opens_the_new_books_worst_trough(store: str) -> None:
    at = open_page("drawdown", portfolio=PF2)
    assert str(by_key(at, "selectbox", "dd_date").value) == worst_trough(at)
    by_key(at, "selectbox", "dd_date").set_value(by_key(at, "selectbox", "dd_date").options[5]).run()
    assert str(by_key(at, "selectbox", "dd_date").value) == "2024-06-28"
    by_key(at, "selectbox", "dd_portfolio").set_value(PF1).run()
    assert not at.exception and not at.error
    trough = worst_trough(at)
    assert trough != "2024-06-28"
    assert str(by_key(at, "selectbox", "dd_date").value) == trough
    assert at.query_params["date"] == trough


def test_selecting_a_worst_drawdown_row_opens_that_episode(store: str) -> None:
    at = open_page("drawdown", portfolio=PF2)
    episodes = table(at, "dd_episodes")
    assert len(episodes) >= 2
    at.session_state["dd_episodes"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert not at.exception and not at.error
    second = str(episodes["trough_date"].iloc[1])[:10]
    assert str(by_key(at, "selectbox", "dd_date").value) == second
    assert any(f"on {second}" in shown(s.value) for s in at.subheader)


def test_forward_returns_come_before_the_similarity_scores(store: str) -> None:
    at = open_page("drawdown", portfolio=PF2, date="2025-06-30")
    columns = list(table(at, "dd_analogues").columns)
    forward = [columns.index(c) for c in columns if c.startswith("fwd_")]
    assert len(forward) == 4 and max(forward) < 7, columns  # next to who and when
    # ... in widths that fit the table: 938 px wide in a 1400-pixel window (Chromium)
    element = next(d for d in at.dataframe if "fwd_return_91d" in d.value.columns and "rank" in d.value.columns)
    config = json.loads(element.proto.columns)
    widths = [config.get(name, {}).get("width") for name in columns[: max(forward) + 1]]
    assert all(isinstance(w, int) for w in widths), widths
    assert sum(widths) <= 900, widths


# ---------------------------------------------------------------- 5. map


def luminance(colour: str) -> float:
    """Relative luminance (0 black, 1 white) of "#rrggbb" or "rgb(r, g, b)" (Plotly's named scales)."""
    if colour.startswith("rgb"):
        red, green, blue = (float(v) / 255 for v in colour[colour.index("(") + 1 : -1].split(",")[:3])
    else:
        red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def synthetic_map(books: int = 40, weeks: int = 30) -> pd.DataFrame:
    """A map frame of ``books`` books over ``weeks`` weeks of 2008 (inside named stress windows)."""
    rng = np.random.default_rng(13)
    days = [date(2008, 1, 4) + timedelta(weeks=w) for w in range(weeks)]
    points = pd.DataFrame(
        [(f"BOOK_{b:02d}", d, *rng.normal(size=2)) for b in range(books) for d in days],
        columns=["portfolio_id", "as_of_date", "x", "y"],
    )
    attributes = points[["portfolio_id", "as_of_date"]].assign(
        drawdown=-rng.uniform(0, 0.5, len(points)),
        volatility_1y=0.2,
        dominant_sector="Energy",
        stress_window=window_names(points["as_of_date"]),
    )
    return map_frame(points, attributes)


def test_stress_rings_lie_under_the_colours() -> None:
    frame = synthetic_map()
    assert (frame["stress_window"] != "").any()
    figure = map_chart.map_figure(frame, "drawdown", None, stress=True).to_dict()
    names = [str(t.get("name")) for t in figure["data"]]
    stress = next(i for i, n in enumerate(names) if n.startswith("in a named stress window"))
    states = [i for i, t in enumerate(figure["data"]) if t.get("hovertemplate") == map_chart.HOVER]
    assert len(states) == 40 and stress < min(states)  # drawn first: the coloured states stay on top
    assert figure["data"][stress]["hoverinfo"] == "skip"


def test_no_drawdown_is_not_white_on_white() -> None:
    figure = map_chart.map_figure(synthetic_map(), "drawdown", None, stress=False).to_dict()
    assert all(t["marker"]["coloraxis"] == "coloraxis" for t in figure["data"])  # one scale for all books
    scale = figure["layout"]["coloraxis"]["colorscale"]
    assert figure["layout"]["coloraxis"]["cmax"] == 0.0
    shallow = scale[-1][1]  # cmax is 0: the last colour is a drawdown of zero
    assert luminance(shallow) < 0.8, shallow


def test_forty_books_get_forty_marks() -> None:
    figure = map_chart.map_figure(synthetic_map(books=40), "portfolio", None, stress=False).to_dict()
    marks = {(t["marker"]["color"], t["marker"].get("symbol", "circle")) for t in figure["data"]}
    assert len(figure["data"]) == 40 and len(marks) == 40


@pytest.mark.parametrize("colour", ["date", "drawdown", "volatility", "portfolio", "sector"])
def test_every_state_keeps_its_hover_label_row_and_legend(colour: str) -> None:
    """A book's traces name it once (their meta), a sector's in each text: every label reads as before."""
    frame = synthetic_map(books=6, weeks=40)
    frame.loc[frame["portfolio_id"] == "BOOK_01", "portfolio_id"] = "<b>BOOK</b>"  # shown as the characters
    frame["dominant_sector"] = np.where(frame.index % 3 == 0, "Energy", "Financials")
    figure = map_chart.map_figure(frame, colour, None, stress=True).to_dict()
    states = [t for t in figure["data"] if t.get("hovertemplate") in (map_chart.HOVER, map_chart.HOVER_NAMED)]
    assert map_chart.HOVER == "%{meta[0]} · " + map_chart.HOVER_NAMED
    labels: dict[int, str] = {}
    for trace in states:
        rows = [int(r) for r in plotly_values(trace["customdata"])[:, 0]]
        book = f"{trace['meta'][0]} · " if trace["hovertemplate"] == map_chart.HOVER else ""
        for row, text in zip(rows, trace["text"], strict=True):
            labels[row] = book + text
    expected = {
        row: f"{pid.replace('<', '&lt;').replace('>', '&gt;')} · {day:%Y-%m-%d}" + (f"<br>{window}" if window else "")
        for row, pid, day, window in zip(
            frame["row"], frame["portfolio_id"], frame["as_of_date"], frame["stress_window"], strict=True
        )
    }
    assert labels == expected  # every state once, with its own book, date and stress window
    assert any("<br>" in label for label in labels.values())
    legend = [t["name"] for t in states if t.get("showlegend") is not False]
    if colour == "sector":
        assert legend == ["Energy", "Financials"] and len(states) == 2
    elif colour == "portfolio":
        assert legend == sorted(t["meta"][0] for t in states) and len(legend) == 6
    else:  # one trace per book, one colour bar for all
        assert legend == [] and len(states) == 6 and figure["layout"]["coloraxis"]["colorbar"]


def test_the_map_names_its_axes_and_the_trajectory_ends(store: str) -> None:
    at = open_page("map", portfolio=PF2, color="drawdown")
    assert not at.exception and not at.error
    (figure,) = plotly_figures(at)
    texts = [a["text"] for a in figure["layout"].get("annotations", [])]
    assert texts == ["<b>start</b> 2024-01", "<b>end</b> 2025-12"]
    ends = [t for t in figure["data"] if str(t.get("name")).startswith(("start ", "end "))]
    assert [t["name"] for t in ends] == ["start 2024-01-31", "end 2025-12-31"]
    x_title, y_title = figure["layout"]["xaxis"]["title"]["text"], figure["layout"]["yaxis"]["title"]["text"]
    assert re.fullmatch(r"PC1 \(\d+\.\d% of the variance\)", x_title), x_title
    assert re.fullmatch(r"PC2 \(\d+\.\d% of the variance\)", y_title), y_title
    shares = [float(t.split("(")[1].split("%")[0]) for t in (x_title, y_title)]
    assert 0 < shares[1] <= shares[0] <= 100
    assert (
        map_chart.map_figure(synthetic_map(), "date", None, False, axis_titles("umap", synthetic_map(), 0.0))
        .to_dict()["layout"]["xaxis"]["title"]["text"]
        .startswith("UMAP 1 (no units")
    )


# ---------------------------------------------------------------- 6. backfill started twice


def test_start_backfill_twice_queues_one_job(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    stores = open_stores(Settings(db_url=store))
    try:
        # The job the first click queued, still waiting for its worker when the second click arrives.
        days = stores.reports.dates()  # the page's default: every report date, the default model
        params = backfill_params(DateSelection(start=days[0], end=days[-1]), ["joint-portfolio-core-v1"], [], None)
        first = jobs.JobStore(stores.runtime).insert("a" * 32, jobs.BACKFILL, params)
        at = open_page("backfill")
        by_key(at, "button", "bf_start_button").click().run()
        assert not at.exception and not at.error
        backfills = jobs.list_jobs(stores, kinds=(jobs.BACKFILL,))
        assert [j.job_id for j in backfills] == [first]
        assert any("already queued or running" in shown(i.value) for i in at.info)
        # the service itself refuses the duplicate, whichever face asks
        assert jobs.submit_job(stores, jobs.BACKFILL, params) == first
        assert len(jobs.list_jobs(stores, kinds=(jobs.BACKFILL,))) == 1
    finally:
        jobs.JobStore(stores.runtime).fail("a" * 32, "test over")
        stores.dispose()
