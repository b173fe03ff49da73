"""The pages' caches (ui/data.py): built once per data version and shared, built again when the data moves.

The Map's rows and figures, the Similar and Drawdown tables, the query line and the charts
are cached so that a rerun (another widget, another session) does not rebuild them; a
backfill that adds states must still show up at once, since every key holds the data version.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from app_helpers import JOINT, NUMERIC, PF1
from helpers import fill_sample

from prometheus.config import Settings
from prometheus.projection.maps import project_states
from prometheus.services.backfill import BackfillRequest, backfill_joint, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.services.similar import SimilarQuery
from prometheus.services.versions import data_version_key
from prometheus.store.stores import Stores, open_stores
from ui import data, underwater
from ui.context import PageContext

AXES = lambda: ("", "")  # noqa: E731  (axis titles: not what these tests are about)
FIRST_HALF = DateSelection(start=date(2024, 1, 1), end=date(2024, 12, 31))
SECOND_HALF = DateSelection(start=date(2025, 1, 1), end=date(2025, 12, 31))


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    """The sample reports with states for 2024 only (60 of the 120)."""
    url = f"sqlite:///{tmp_path / 'prometheus.db'}"
    fill_sample(url, backfill=FIRST_HALF)
    opened = open_stores(Settings(db_url=url, cache_dir=tmp_path / "cache"))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield opened
    st.cache_data.clear()
    st.cache_resource.clear()
    opened.dispose()


def _context(stores: Stores) -> PageContext:
    return PageContext(stores.settings, stores, JOINT, data_version_key(stores, JOINT))


def _backfill_the_rest(stores: Stores) -> None:
    backfill_numeric(stores, NUMERIC, BackfillRequest(SECOND_HALF))
    backfill_joint(stores, NUMERIC, JOINT, BackfillRequest(SECOND_HALF))


def _points(ctx: PageContext) -> object:
    return project_states(ctx.stores, JOINT, method="pca", cache_dir=ctx.settings.effective_cache_dir / "projections")


def test_map_rows_and_figure_are_built_once_per_data_version(stores: Stores) -> None:
    ctx = _context(stores)
    frame = data.map_points(ctx, "pca", _points(ctx))  # type: ignore[arg-type]
    assert len(frame) == 60
    assert data.map_points(_context(stores), "pca", _points(ctx)) is frame  # another rerun: the same rows
    figure = data.map_chart(ctx, "pca", frame, "date", True, None, None, None, AXES)
    assert data.map_chart(ctx, "pca", frame, "date", True, None, None, None, AXES) is figure
    assert data.map_chart(ctx, "pca", frame, "drawdown", True, None, None, None, AXES) is not figure  # another colour

    _backfill_the_rest(stores)
    moved = _context(stores)
    assert moved.version != ctx.version
    rebuilt = data.map_points(moved, "pca", _points(moved))  # type: ignore[arg-type]
    assert len(rebuilt) == 120
    redrawn = data.map_chart(moved, "pca", rebuilt, "date", True, None, None, None, AXES)
    assert sum(len(trace.x) for trace in redrawn.data if trace.hoverinfo != "skip") == 120  # one trace per book


def test_similar_tables_follow_the_data_version(stores: Stores) -> None:
    ctx = _context(stores)
    held = data.attributes(ctx)
    before = held.copy()
    query = SimilarQuery(model_id=JOINT, portfolio_id=PF1, as_of=date(2024, 12, 31), top_k=200)
    table, candidates = data.neighbours(ctx, query)
    assert candidates == 48 and len(table) == 48  # the other books' 2024 states
    assert "drawdown" in table.columns and table["rank"].tolist() == list(range(1, 49))
    line = data.state_line(ctx, PF1, date(2024, 12, 31))
    assert line.startswith(f"{PF1} on 2024-12-31")
    assert data.attributes(_context(stores)) is held  # one shared frame per data version, never unpickled again
    assert table["drawdown"].notna().all() and held.equals(before)  # joined from, never changed

    _backfill_the_rest(stores)
    moved = _context(stores)
    table, candidates = data.neighbours(moved, query)
    assert candidates == 96 and len(table) == 96  # their 2025 states are candidates at once
    assert data.attributes(moved) is not held and len(data.attributes(moved)) > len(held)  # never stale
    assert data.state_line(moved, PF1, date(2025, 12, 31)).startswith(f"{PF1} on 2025-12-31 · drawdown")


def test_the_drawdown_chart_is_one_figure_for_every_date_and_follows_the_data(stores: Stores) -> None:
    """The same figure object whatever the date (Streamlit then sends the browser a reference to the
    chart it holds), with no mark of any date in it; new data builds a new one."""
    ctx = _context(stores)
    frame = underwater.underwater(ctx, PF1)
    chart = underwater.underwater_chart(ctx, PF1, frame)
    assert underwater.underwater_chart(ctx, PF1, frame) is chart
    assert [s for s in chart.layout.shapes if s.type == "line"] == []

    _backfill_the_rest(stores)
    assert underwater.underwater_chart(_context(stores), PF1, frame) is not chart
