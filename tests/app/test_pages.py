"""Every page through Streamlit's AppTest: empty store, sample store, widgets changing what is shown.

AppTest cannot click Plotly selections or download buttons: tests/browser covers those.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from app_helpers import PF1, PROJECT, plotly_values, shown, wait_for_job
from helpers import ALL_SAMPLE_DATES, fill_sample
from streamlit.testing.v1 import AppTest

from prometheus import jobs
from prometheus.config import Settings
from prometheus.presenters.heat import heat_css
from prometheus.services import maps as map_service
from prometheus.services.drawdown import monthly_returns, underwater
from prometheus.store.stores import open_stores

PAGES = ("overview", "backfill", "embeddings", "similar", "map", "drawdown")
PF2 = "PORTFOLIO_CORE_US_EQ_002"
TIMEOUT = 30


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in [k for k in os.environ if k.startswith("PROMETHEUS_")]:
        monkeypatch.delenv(name)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()  # disposes nothing, but drops engines on deleted temp files


@pytest.fixture(scope="module")
def sample_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sample reports, both backfills over every date; shared by the read-only page tests."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sample') / 'prometheus.db'}"
    fill_sample(url, backfill=ALL_SAMPLE_DATES)
    return url


@pytest.fixture
def store(sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The sample store, served to the app with a cache folder of the test's own."""
    use_store(monkeypatch, sample_url, tmp_path / "cache")
    yield sample_url


def use_store(monkeypatch: pytest.MonkeyPatch, url: str, cache: Path, **extra: str) -> None:
    monkeypatch.setenv("PROMETHEUS_DB_URL", url)
    monkeypatch.setenv("PROMETHEUS_CACHE_DIR", str(cache))
    for name, value in extra.items():
        monkeypatch.setenv(name, value)


def open_page(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(PROJECT / "app.py"), default_timeout=TIMEOUT)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    if page != "overview":
        at.switch_page(f"pages/{page}.py").run()
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert not at.warning, [e.value for e in at.warning]


def by_key(at: AppTest, kind: str, key: str) -> Any:
    found = [e for e in getattr(at, kind) if e.key == key]
    assert found, f"no {kind} with key {key}"
    return found[0]


# st.dataframe without selection has no element id in AppTest: tell tables apart by their columns
TABLE_COLUMNS = {
    "ov_warning_table": ({"forecast_max_drawdown", "volatility_3m"}, set()),
    "emb_table": ({"l2_norm", "model_id"}, set()),
    "sim_table": ({"rank", "cosine"}, set()),
    "sim_cmp_metrics": ({"metric", "difference"}, set()),
    "sim_explain_table": ({"distance_contribution"}, set()),
    "sim_outcomes": ({"fwd_return_91d"}, {"rank"}),
    "dd_analogues": ({"rank", "fwd_return_91d"}, set()),
    "dd_episodes": ({"trough_date"}, set()),
    "dd_monthly": ({"calendar_year", "month_01", "year_return"}, set()),
    "bf_jobs_table": ({"job_id", "status"}, set()),
}


def tables(at: AppTest, key: str) -> list[Any]:
    wanted, unwanted = TABLE_COLUMNS[key]
    return [d.value for d in at.dataframe if wanted <= set(d.value.columns) and not unwanted & set(d.value.columns)]


def table(at: AppTest, key: str) -> Any:
    found = tables(at, key)
    assert found, f"no table {key}: {[list(d.value.columns) for d in at.dataframe]}"
    return found[0]


def cell_styles(at: AppTest, key: str) -> dict[tuple[int, int], str]:
    """The CSS of each styled cell of a table, by (row, column) of the frame shown (index hidden)."""
    wanted, unwanted = TABLE_COLUMNS[key]
    found = [
        d.proto.arrow_data.styler.styles
        for d in at.dataframe
        if wanted <= set(d.value.columns) and not unwanted & set(d.value.columns)
    ]
    assert found, f"no table {key}"
    cells: dict[tuple[int, int], str] = {}
    for selectors, style in re.findall(r"([^{}]+)\{([^}]*)\}", found[0]):
        for row, column in re.findall(r"_row(\d+)_col(\d+)", selectors):
            cells[(int(row), int(column))] = style.strip().rstrip(";").strip()
    return cells


def plotly_figures(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


# ---------------------------------------------------------------- empty and broken stores


@pytest.mark.parametrize("page", PAGES)
def test_every_page_on_an_empty_store_says_what_to_do(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_store(monkeypatch, f"sqlite:///{tmp_path / 'empty.db'}", tmp_path / "cache")
    at = open_page(page)
    assert_clean(at)
    assert any("Load the demo book" in i.value or "import" in i.value for i in at.info)
    demo = [b for b in at.button if b.label == "Load the demo book"]
    assert demo and not demo[0].disabled


def test_read_only_store_disables_loading_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_stores(Settings(db_url=url)).dispose()  # round 2: a read-only deployment never creates its store
    use_store(monkeypatch, url, tmp_path / "cache", PROMETHEUS_READ_ONLY="1")
    at = open_page("overview")
    assert_clean(at)
    (demo,) = [b for b in at.button if b.label == "Load the demo book"]
    assert demo.disabled
    assert any("read-only" in c.value for c in at.caption)


def test_an_access_code_guards_every_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_store(
        monkeypatch, f"sqlite:///{tmp_path / 'empty.db'}", tmp_path / "cache", PROMETHEUS_ACCESS_CODE="open sesame"
    )
    at = open_page("similar")
    assert not at.exception
    assert [t.value for t in at.title] == ["Prometheus"] and not at.info  # nothing but the form
    at.text_input(key="access_code_input").input("wrong")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["That access code is not right."]
    at.text_input(key="access_code_input").input("open sesame")
    at.button[0].click().run()
    assert_clean(at)
    assert any("The store is empty" in i.value for i in at.info)


def test_an_unreachable_database_is_one_masked_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_store(
        monkeypatch, "postgresql+psycopg://analyst:hunter2@127.0.0.1:9/prometheus?connect_timeout=2", tmp_path / "cache"
    )
    for page in ("overview", "similar"):
        at = open_page(page)
        assert not at.exception
        (error,) = at.error
        assert "analyst:***@127.0.0.1:9/prometheus" in shown(error.value)
        everything = json.dumps([str(e.proto) for e in at.main]) + str(at.sidebar)
        assert "hunter2" not in everything


# ---------------------------------------------------------------- the sample store


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_the_sample_store(
    page: str, sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_store(monkeypatch, sample_url, tmp_path / "cache")
    at = open_page(page)
    assert_clean(at)
    assert not any("Load the demo book" in b.label for b in at.button)


@pytest.mark.postgres
def test_every_page_renders_on_postgresql(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill_sample(pg_url, backfill=ALL_SAMPLE_DATES)
    use_store(monkeypatch, pg_url, tmp_path / "cache")
    for page in PAGES:
        at = open_page(page)
        assert_clean(at)
        assert not any("Load the demo book" in b.label for b in at.button)
    assert len(table(at, "dd_analogues")) == 10  # the last page opened: drawdown
    st.cache_resource.clear()  # let go of the pool before the database is dropped


def test_overview_counts_coverage_and_early_warning(
    sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_store(monkeypatch, sample_url, tmp_path / "cache")
    at = open_page("overview")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Portfolios"] == "5"
    assert metrics["Report dates"] == "24"
    assert (metrics["First date"], metrics["Last date"]) == ("2024-01-31", "2025-12-31")
    assert metrics["States"] == "120"
    (heatmap,) = [f for f in plotly_figures(at) if f["data"][0]["type"] == "heatmap"]
    assert heatmap["data"][0]["x"] == ["2024", "2025"]
    assert plotly_values(heatmap["data"][0]["z"]).sum() == 120
    # 120 states are too few to fit a point-in-time forecast: the page says so, ranks nothing, invents nothing
    assert not tables(at, "ov_warning_table")
    assert any("No book has enough history for a point-in-time forecast yet" in i.value for i in at.info)
    assert any("This ranking has not been replayed yet" in c.value for c in at.caption)
    assert not any("survivors" in c.value for c in at.caption)  # the sample is not the demo book
    assert {link.proto.label for link in at.page_link} >= {"Similar portfolios", "Map", "Drawdown & stress"}


def test_embeddings_filters_change_the_rows(sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_store(monkeypatch, sample_url, tmp_path / "cache")
    at = open_page("embeddings")
    rows = table(at, "emb_table")
    assert len(rows) == 120
    assert list(rows.columns) == ["as_of_date", "portfolio_id", "model_id", "dim", "l2_norm"]

    by_key(at, "multiselect", "emb_portfolios").set_value([PF2]).run()
    rows = table(at, "emb_table")
    assert len(rows) == 24 and set(rows["portfolio_id"]) == {PF2}
    assert at.query_params["portfolios"] == PF2

    by_key(at, "radio", "emb_mode").set_value("One date").run()
    rows = table(at, "emb_table")
    assert len(rows) == 1 and str(rows["as_of_date"].iloc[0])[:10] == "2025-12-31"

    history = plotly_figures(at)[0]
    assert len(history["data"]) == 5 and len(plotly_values(history["data"][0]["x"])) == 24


def test_embeddings_deep_link_sets_the_filters(
    sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_store(monkeypatch, sample_url, tmp_path / "cache")
    at = open_page("embeddings", start="2025-01-01", end="2025-03-31", portfolio=PF2)
    assert_clean(at)
    assert len(table(at, "emb_table")) == 15
    assert by_key(at, "selectbox", "emb_history_portfolio").value == PF2


def test_similar_top_k_scope_and_portfolio(sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_store(monkeypatch, sample_url, tmp_path / "cache")
    at = open_page("similar")
    ranked = table(at, "sim_table")
    assert len(ranked) == 20
    assert list(ranked.columns[:5]) == ["rank", "cosine", "euclidean", "portfolio_id", "as_of_date"]
    assert list(ranked["cosine"]) == sorted(ranked["cosine"], reverse=True)
    assert PF1 not in set(ranked["portfolio_id"])  # default: the first portfolio, own history excluded
    assert by_key(at, "selectbox", "sim_date").value.isoformat() == "2025-12-31"  # default: latest

    by_key(at, "number_input", "sim_k").set_value(5).run()
    assert len(table(at, "sim_table")) == 5
    assert at.query_params["k"] == "5"

    by_key(at, "radio", "sim_scope").set_value("Same date").run()
    same = table(at, "sim_table")
    assert len(same) == 4 and {str(d)[:10] for d in same["as_of_date"]} == {"2025-12-31"}

    by_key(at, "selectbox", "sim_portfolio").set_value(PF2).run()
    assert_clean(at)
    other = table(at, "sim_table")
    assert PF2 not in set(other["portfolio_id"]) and PF1 in set(other["portfolio_id"])
    assert at.query_params["portfolio"] == PF2

    by_key(at, "checkbox", "sim_self").check().run()
    by_key(at, "radio", "sim_scope").set_value("All history (hindsight)").run()
    by_key(at, "number_input", "sim_k").set_value(200).run()
    assert len(table(at, "sim_table")) == 119  # every other state
    assert any("hindsight, not a forecast" in i.value for i in at.info)

    by_key(at, "radio", "sim_scope").set_value("Point in time").run()
    point_in_time = table(at, "sim_table")  # PF2 on 2025-12-31: analogues dated on or before 2025-10-01
    assert len(point_in_time) == 5 * 21 and max(str(d)[:10] for d in point_in_time["as_of_date"]) <= "2025-10-01"
    assert not any("hindsight, not a forecast" in i.value for i in at.info)


def test_similar_spread_in_time_from_the_box_and_the_link(
    sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_store(monkeypatch, sample_url, tmp_path / "cache")
    at = open_page("similar", portfolio=PF1, date="2025-12-31", k="8", scope="all")
    assert_clean(at)
    ranked = table(at, "sim_table")
    assert len(set(ranked["as_of_date"])) < 8 and "apart" not in at.query_params  # bunched on dates
    by_key(at, "selectbox", "sim_apart").set_value("91 days apart").run()
    assert_clean(at)
    spread = table(at, "sim_table")
    days = [pd.Timestamp(d).date() for d in spread["as_of_date"]]
    assert all(abs((a - b).days) >= 91 for i, a in enumerate(days) for b in days[:i]) and len(days) >= 3
    assert spread.iloc[0].equals(ranked.iloc[0])  # the best analogue stays first
    assert at.query_params["apart"] == "91"  # in the shared link...
    said = [c.value for c in at.caption if c.value.startswith(f"{len(days)} nearest of ")]
    assert len(said) == 1 and ", at least 91 days apart: cosine first, then euclidean" in said[0]
    outcomes = table(at, "sim_outcomes")  # what followed: the spread analogues, not the bunched ones
    assert [pd.Timestamp(d).date() for d in outcomes["as_of_date"]] == days
    linked = open_page("similar", portfolio=PF1, date="2025-12-31", k="8", scope="all", apart="1")  # ...and read back
    assert by_key(linked, "selectbox", "sim_apart").value == "One per date"
    assert len(set(table(linked, "sim_table")["as_of_date"])) == 8


def test_similar_comparison_and_what_happened_next(
    sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_store(monkeypatch, sample_url, tmp_path / "cache")
    at = open_page("similar", portfolio=PF2, date="2024-06-30", k="3")
    assert not at.exception and not at.error
    # a date without a state: one line says so, and what is shown instead (issue 13, defect 2)
    assert [shown(w.value) for w in at.warning] == [
        f"{PF2} has no state on 2024-06-30 (nearest: 2024-06-28): showing 2024-06-28 instead."
    ]
    assert by_key(at, "selectbox", "sim_date").value.isoformat() == "2024-06-28"  # nearest on or before
    ranked = table(at, "sim_table")  # on screen: percentages (one decimal by the column's format)
    assert len(ranked) == 3
    metrics = table(at, "sim_cmp_metrics")
    assert list(metrics.columns) == ["metric", "query", "neighbour", "difference"]
    drawdown = metrics.loc[metrics["metric"] == "Drawdown", "neighbour"].iloc[0]
    assert drawdown == f"{ranked['drawdown'].iloc[0]:.1f}%"
    by_key(at, "selectbox", "sim_pick").set_value(by_key(at, "selectbox", "sim_pick").options[2]).run()
    third = table(at, "sim_cmp_metrics")
    assert third.loc[third["metric"] == "Drawdown", "neighbour"].iloc[0] == f"{ranked['drawdown'].iloc[2]:.1f}%"
    assert third["query"].equals(metrics["query"])  # the query side stays
    outcomes = table(at, "sim_outcomes")  # point in time by default: everything that followed was known
    assert len(outcomes) == 3 and outcomes["fwd_max_drawdown_91d"].notna().all()
    assert all(str(d)[:10] <= "2024-03-29" for d in outcomes["as_of_date"])
    assert any("No point-in-time forecast for 2024-06-28" in i.value for i in at.info)  # too little history
    assert any("from the reports' portfolio values" in c.value for c in at.caption)


def tab_contents(at: AppTest) -> dict[str, list[str]]:
    """Each comparison tab's elements, by type: what the script built and sent for it on this run."""
    return {tab.label: [child.type for child in tab.children.values()] for tab in at.tabs}


def test_similar_comparison_tabs_build_only_the_open_tab(store: str) -> None:
    """Lazy tabs: one comparison table built and sent per run, not five tables and a chart (issue 13, item 1)."""
    at = open_page("similar", portfolio=PF2, date="2024-06-28", k="3")
    assert_clean(at)
    assert tab_contents(at) == {
        "Risk metrics": ["dataframe"],
        "Sectors": [],
        "Factors": [],
        "Scenario P&L": [],
        "Why they are close": [],
    }
    assert not at.get("plotly_chart")  # the explanation's chart is not built until its tab opens
    ranked = table(at, "sim_table")
    metrics = table(at, "sim_cmp_metrics")
    assert metrics.loc[metrics["metric"] == "Drawdown", "neighbour"].iloc[0] == f"{ranked['drawdown'].iloc[0]:.1f}%"

    at.session_state["compare"] = "Scenario P&L"  # what a click on the tab sends
    at.run()
    assert_clean(at)
    assert [label for label, kinds in tab_contents(at).items() if kinds] == ["Scenario P&L"]
    scenarios = at.dataframe[1].value  # after the neighbours table: the open tab's
    assert list(scenarios.columns) == ["scenario", "query", "neighbour", "difference"]
    assert set(scenarios["scenario"]) == {"Dot-com crash 2000", "Lehman Sep-Oct 2008"}
    assert not tables(at, "sim_cmp_metrics")

    by_key(at, "selectbox", "sim_pick").set_value(by_key(at, "selectbox", "sim_pick").options[1]).run()
    assert [label for label, kinds in tab_contents(at).items() if kinds] == ["Scenario P&L"]  # the tab stays open

    # a shared link opens its tab: the explanation, its chart and its table
    linked = open_page("similar", portfolio=PF2, date="2024-06-28", k="3", compare="Why they are close")
    assert_clean(linked)
    assert tab_contents(linked)["Why they are close"] == ["caption", "plotly_chart", "dataframe"]
    assert len(linked.get("plotly_chart")) == 1 and not tables(linked, "sim_cmp_metrics")
    explanation = table(linked, "sim_explain_table")
    assert list(explanation["distance_contribution"]) == sorted(explanation["distance_contribution"], reverse=True)
    # a link to no such tab opens the first
    unknown = open_page("similar", portfolio=PF2, date="2024-06-28", k="3", compare="Nope")
    assert_clean(unknown)
    assert [label for label, kinds in tab_contents(unknown).items() if kinds] == ["Risk metrics"]


def test_similar_ignores_a_bad_deep_link(sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_store(monkeypatch, sample_url, tmp_path / "cache")
    at = open_page("similar", portfolio="NOPE", date="yesterday", k="zero")
    assert not at.exception and not at.error
    assert [shown(w.value) for w in at.warning] == [
        f"The link's portfolio 'NOPE' has no states in this store: showing {PF1} instead.",
        "The link's date 'yesterday' is not a date (YYYY-MM-DD): showing 2025-12-31 instead.",
    ]
    assert by_key(at, "selectbox", "sim_portfolio").value == PF1
    assert len(table(at, "sim_table")) == 20


def test_map_colours_trajectory_and_stress(sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_store(monkeypatch, sample_url, tmp_path / "cache")
    at = open_page("map")
    assert_clean(at)
    (figure,) = plotly_figures(at)
    states = [t for t in figure["data"] if t.get("hoverinfo") != "skip"]  # one trace per book, stress rings aside
    assert {t["type"] for t in states} == {"scattergl"} and sum(len(plotly_values(t["x"])) for t in states) == 120
    assert figure["layout"]["dragmode"] == "select"

    by_key(at, "selectbox", "map_colour").set_value("Portfolio").run()
    by_key(at, "selectbox", "map_path").set_value(PF2).run()
    assert_clean(at)
    (figure,) = plotly_figures(at)
    names = [trace.get("name") for trace in figure["data"]]
    assert names[:5] == [f"PORTFOLIO_CORE_US_EQ_00{i}" for i in range(1, 6)]
    path = next(t for t in figure["data"] if str(t.get("name")).startswith(f"{PF2}, "))
    assert path["name"] == f"{PF2}, 2024-01 to 2025-12" and len(plotly_values(path["x"])) == 24
    by_key(at, "select_slider", "map_path_years").set_value((2025, 2025)).run()
    (figure,) = plotly_figures(at)
    path = next(t for t in figure["data"] if str(t.get("name")).startswith(f"{PF2}, "))
    assert len(plotly_values(path["x"])) == 12
    assert at.query_params["portfolio"] == PF2 and at.query_params["color"] == "portfolio"


def test_map_umap_reports_progress(sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prometheus.projection import maps

    def quick_umap(matrix: np.ndarray, params: Any, progress: Any) -> np.ndarray:
        # numba's first compile takes ~15 s; the page only needs the progress path exercised
        progress.stage(300, "Fitting UMAP on 120 states…")
        for epoch in range(1, 4):
            progress.epochs(epoch, 3)
        return np.column_stack([np.arange(len(matrix)), np.zeros(len(matrix))]).astype(float)

    monkeypatch.setattr(maps, "fit_umap", quick_umap)
    use_store(monkeypatch, sample_url, tmp_path / "cache")
    at = open_page("map", method="umap")
    assert_clean(at)
    assert by_key(at, "radio", "map_method").value == "UMAP"
    assert any("Fitting UMAP" in m.value for m in at.markdown)
    assert not any(" epoch " in m.value for m in at.markdown)  # epochs advance the bar; stages are listed
    (bar,) = at.get("progress")
    assert bar.proto.value == 100 and bar.proto.text == "UMAP map of 120 states ready"
    assert any("UMAP projection" in c.value for c in at.caption)


def test_map_umap_of_a_large_store_runs_as_a_background_job(
    sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(map_service, "BACKGROUND_UMAP_STATES", 10)  # the sample's 120 states count as large
    use_store(monkeypatch, sample_url, tmp_path / "cache")
    at = open_page("map", method="umap")
    assert_clean(at)
    assert any("in the background" in i.value for i in at.info)
    assert not plotly_figures(at)
    stores = open_stores(Settings(db_url=sample_url))
    try:
        (job,) = jobs.list_jobs(stores, kinds=(jobs.PROJECTION,))
        assert job.params == {"model_id": "joint-portfolio-core-v1", "method": "umap"}
        # stop the worker (numba's first compile alone takes longer than this test may)
        deadline = time.monotonic() + 30
        while (current := jobs.get_job(stores, job.job_id)) is not None and current.status == jobs.QUEUED:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert current is not None and current.pid
        os.kill(current.pid, signal.SIGTERM)
        stopped = wait_for_job(stores, job.job_id)
    finally:
        stores.dispose()
    assert stopped.display_status == jobs.FAILED
    assert str(stopped.display_error).startswith("stopped: the worker received SIGTERM")
    at.run()
    assert [shown(e.value) for e in at.error] == [f"The UMAP map could not be computed: {stopped.display_error}"]
    assert by_key(at, "button", "map_retry")


def date_sentence(at: AppTest) -> str:
    """The Drawdown page's words on where the chosen date sits on the curve."""
    (found,) = [m.value for m in at.markdown if m.value.startswith("**") and "peak" in m.value]
    return str(found)


def expected_date_sentence(figure: dict[str, Any], day: str) -> str:
    """The same words worked out from the chart's own points (the running peak up to ``day``)."""
    days = [str(d) for d in plotly_values(figure["data"][0]["x"])]
    depths = plotly_values(figure["data"][0]["y"])
    at = days.index(day)
    if depths[at] >= 0:
        return f"**{day}**: at a peak, not under water."
    peak = max(i for i in range(at + 1) if depths[i] >= 0)
    under = (date.fromisoformat(day) - date.fromisoformat(days[peak])).days
    return f"**{day}**: {-depths[at]:.1%} below the peak of {days[peak]} ({under:,d} days under water by then)."


def test_drawdown_analogue_settings_travel_in_the_link(
    sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_store(monkeypatch, sample_url, tmp_path / "cache")
    at = open_page("drawdown", portfolio=PF2, date="2025-06-30", k="5", pit="0", own="0", apart="91")
    assert_clean(at)
    assert by_key(at, "number_input", "dd_k").value == 5
    assert by_key(at, "checkbox", "dd_point_in_time").value is False
    assert by_key(at, "checkbox", "dd_own").value is False
    assert by_key(at, "selectbox", "dd_apart").value == "91 days apart"
    shown = table(at, "dd_analogues")
    days = [pd.Timestamp(d).date() for d in shown["as_of_date"]]
    assert 2 <= len(days) <= 5 and PF2 not in set(shown["portfolio_id"])
    assert all(abs((a - b).days) >= 91 for i, a in enumerate(days) for b in days[:i])
    assert any("what followed them is hindsight, not a forecast" in i.value for i in at.info)  # not point in time
    assert {k: at.query_params[k] for k in ("k", "pit", "own", "apart")} == {
        "k": "5",
        "pit": "0",
        "own": "0",
        "apart": "91",
    }
    # back to the defaults: they leave the link
    by_key(at, "checkbox", "dd_point_in_time").check().run()
    by_key(at, "checkbox", "dd_own").check().run()
    by_key(at, "selectbox", "dd_apart").set_value("As ranked").run()
    by_key(at, "number_input", "dd_k").set_value(10).run()
    assert_clean(at)
    assert not {"k", "pit", "own", "apart"} & set(at.query_params)
    plain = open_page("drawdown", portfolio=PF2, date="2025-06-30")  # a link without them: the defaults
    assert by_key(plain, "number_input", "dd_k").value == 10 and by_key(plain, "checkbox", "dd_own").value is True


def test_drawdown_portfolio_and_analogue_scope(
    sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_store(monkeypatch, sample_url, tmp_path / "cache")
    at = open_page("drawdown", portfolio=PF2, date="2025-06-30")
    assert_clean(at)
    figure = plotly_figures(at)[0]
    assert figure["data"][0]["name"] == "Drawdown" and len(plotly_values(figure["data"][0]["x"])) == 24
    analogues = table(at, "dd_analogues")  # point in time: dated on or before 2025-03-30 (91 days earlier)
    assert len(analogues) == 10 and all(str(d)[:10] <= "2025-03-30" for d in analogues["as_of_date"])
    assert PF2 in set(analogues["portfolio_id"])  # the book's own history, under the same rule
    by_key(at, "selectbox", "dd_apart").set_value("91 days apart").run()
    assert_clean(at)
    spread = table(at, "dd_analogues")  # no two within 91 days of each other, the best first either way
    days = [pd.Timestamp(d).date() for d in spread["as_of_date"]]
    assert all(abs((a - b).days) >= 91 for i, a in enumerate(days) for b in days[:i])
    assert 2 <= len(days) < 10 and spread.iloc[0].equals(analogues.iloc[0])
    (said,) = [c.value for c in at.caption if c.value.startswith(f"{len(days)} nearest of ")]
    assert ", at least 91 days apart: " in said and said.endswith(
        f"({len(days)} of the 10 asked: every other candidate is closer in time to one of these)."
    )
    by_key(at, "selectbox", "dd_apart").set_value("As ranked").run()
    episodes = table(at, "dd_episodes")
    assert list(episodes.columns)[:4] == ["peak_date", "trough_date", "recovery_date", "depth"]
    monthly = table(at, "dd_monthly")  # the book's months from its reports' values, shown in percent
    assert "Monthly returns" in [e.label for e in at.expander]
    stores = open_stores(Settings(db_url=sample_url))
    try:
        expected = monthly_returns(underwater(stores, PF2))
    finally:
        stores.dispose()
    assert list(monthly["calendar_year"]) == ["2025", "2024"]
    np.testing.assert_allclose(monthly.iloc[:, 1:].to_numpy(float), 100 * expected.iloc[:, 1:].to_numpy(float))
    assert np.isnan(expected.loc[1, "month_01"]) and not np.isnan(expected.loc[1, "month_02"])  # 2024-01: one value
    # a heatmap: each month's cell coloured for its return (full at 10%), the year's (full at 30%)
    cells = cell_styles(at, "dd_monthly")
    for row, column in itertools.product(range(len(expected)), range(1, len(expected.columns))):
        full_at = 0.30 if expected.columns[column] == "year_return" else 0.10
        assert cells.get((row, column), "") == heat_css(expected.iloc[row, column], full_at), (row, column)
    assert cells and not any(c == 0 for _, c in cells)  # the year's label is plain
    assert date_sentence(at) == expected_date_sentence(figure, "2025-06-30")

    by_key(at, "selectbox", "dd_portfolio").set_value(PF1).run()
    assert_clean(at)
    assert at.query_params["portfolio"] == PF1
    assert not table(at, "dd_episodes").equals(episodes)
    chart = plotly_figures(at)[0]
    before = date_sentence(at)

    by_key(at, "selectbox", "dd_date").set_value(by_key(at, "selectbox", "dd_date").options[0]).run()
    # the first date has no state 91 days earlier: say so instead of an empty table
    assert str(by_key(at, "selectbox", "dd_date").value)[:10] == "2024-01-31"
    # the chart is the same for every date (sent as a reference); the words follow the date
    assert plotly_figures(at)[0] == chart
    assert date_sentence(at) == "**2024-01-31**: at a peak, not under water." != before
    assert any("No stored state is dated 91 days or more before this date" in i.value for i in at.info)
    by_key(at, "checkbox", "dd_point_in_time").uncheck().run()
    assert len(table(at, "dd_analogues")) == 10
    assert any("hindsight, not a forecast" in i.value for i in at.info)


# ---------------------------------------------------------------- backfill through the page


def test_backfill_page_starts_a_job_and_shows_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'reports.db'}"
    fill_sample(url)
    use_store(monkeypatch, url, tmp_path / "cache")
    at = open_page("backfill")
    assert_clean(at)
    by_key(at, "radio", "bf_mode").set_value("One date").run()
    by_key(at, "multiselect", "bf_portfolios").set_value([PF1, PF2]).run()
    by_key(at, "button", "bf_start_button").click().run()
    assert_clean(at)
    stores = open_stores(Settings(db_url=url))
    try:
        (job,) = jobs.list_jobs(stores)
        assert job.params["as_of"] == "2025-12-31" and job.params["portfolio_ids"] == [PF1, PF2]
        done = wait_for_job(stores, job.job_id)
    finally:
        stores.dispose()
    assert done.display_status == jobs.SUCCEEDED, done.describe()
    at.run()
    listed = table(at, "bf_jobs_table")
    assert list(listed["status"]) == ["succeeded"] and list(listed["progress"]) == [100]
    assert any("succeeded" in shown(s.value) and "2 state(s) written" in shown(s.value) for s in at.success)


def test_backfill_page_fits_v2_then_offers_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'fit.db'}"
    fill_sample(url, backfill=ALL_SAMPLE_DATES)
    use_store(monkeypatch, url, tmp_path / "cache")
    at = open_page("backfill")
    assert_clean(at)
    assert any("joint-portfolio-core-v2 has not been fitted on this store." in m.value for m in at.markdown)
    assert "joint-portfolio-core-v2" not in by_key(at, "selectbox", "model_id").options  # not before a fit
    by_key(at, "date_input", "bf_fit_end_joint-portfolio-core-v2").set_value(date(2025, 6, 30)).run()
    by_key(at, "button", "bf_fit_joint-portfolio-core-v2").click().run()
    assert_clean(at)
    stores = open_stores(Settings(db_url=url))
    try:
        (job,) = jobs.list_jobs(stores)
        assert job.kind == jobs.FIT and job.params == {"model_id": "joint-portfolio-core-v2", "train_end": "2025-06-30"}
        done = wait_for_job(stores, job.job_id)
        assert done.display_status == jobs.SUCCEEDED, done.describe()
        assert stores.joint("PORTFOLIO_CORE_V2").count("joint-portfolio-core-v2") == 120  # every state embedded
    finally:
        stores.dispose()
    at = open_page("backfill")
    assert_clean(at)
    assert any(
        m.value.startswith("joint-portfolio-core-v2: fit ") and "120 states stored." in m.value for m in at.markdown
    )
    assert "joint-portfolio-core-v2" in by_key(at, "selectbox", "model_id").options  # the picker offers it now


def test_backfill_page_is_disabled_when_read_only(
    sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_store(monkeypatch, sample_url, tmp_path / "cache", PROMETHEUS_READ_ONLY="true")
    at = open_page("backfill")
    assert_clean(at)
    assert by_key(at, "button", "bf_start_button").disabled
    assert any("read-only" in c.value for c in at.caption)


def test_failed_jobs_show_their_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'reports.db'}"
    fill_sample(url)
    stores = open_stores(Settings(db_url=url, cache_dir=tmp_path / "cache"))
    try:
        job_id = jobs.submit_job(stores, jobs.BACKFILL, {"as_of": "2025-12-31", "portfolio_ids": ["GONE"]})
        wait_for_job(stores, job_id)
    finally:
        stores.dispose()
    use_store(monkeypatch, url, tmp_path / "cache")
    at = open_page("backfill")
    assert_clean(at)
    listed = table(at, "bf_jobs_table")
    assert list(listed["status"]) == ["failed"]
    assert list(listed["message"]) == ["unknown portfolio 'GONE': no risk reports exist for it"]
    assert any("unknown portfolio 'GONE'" in shown(m.value) for m in at.markdown)

    by_key(at, "button", "bf_rerun").click().run()  # the same params again: fails the same way
    assert_clean(at)
    stores = open_stores(Settings(db_url=url))
    try:
        rerun = jobs.list_jobs(stores)[0]
        assert rerun.job_id != job_id and rerun.params == {"as_of": "2025-12-31", "portfolio_ids": ["GONE"]}
        done = wait_for_job(stores, rerun.job_id)
        assert done.display_error == "unknown portfolio 'GONE': no risk reports exist for it"
    finally:
        stores.dispose()
