"""Service calls cached per data version: a backfill or demo load invalidates them by itself."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from prometheus.presenters.tables import describe_state, neighbours_frame, states_frame
from prometheus.progress import Progress
from prometheus.search.index import StateIndex
from prometheus.search.loading import load_index
from prometheus.services.dates import DateSelection
from prometheus.services.listing import list_joint_states
from prometheus.services.similar import SimilarQuery, SimilarResult, find_similar
from prometheus.store.stores import Stores
from ui.context import PageContext


@st.cache_data(show_spinner=False, max_entries=8)
def _overview(_stores: Stores, version: str) -> Any:
    from prometheus.services.overview import store_overview

    return store_overview(_stores)


def overview(ctx: PageContext) -> Any:
    return _overview(ctx.stores, ctx.version)


@st.cache_data(show_spinner=False, max_entries=8)
def _report_dates(_stores: Stores, version: str) -> list[date]:
    return _stores.reports.dates()


def report_dates(ctx: PageContext) -> list[date]:
    return _report_dates(ctx.stores, ctx.version)


@st.cache_resource(show_spinner=False, max_entries=4)
def _index(_stores: Stores, model_id: str, version: str) -> StateIndex:
    return load_index(_stores, model_id)


def state_index(ctx: PageContext) -> StateIndex:
    """All states of the model as one matrix, loaded once per data version and shared by sessions."""
    return _index(ctx.stores, ctx.model_id, ctx.version)


@st.cache_data(show_spinner=False, max_entries=8)
def _state_variance(_stores: Stores, model_id: str, version: str) -> float:
    from prometheus.presenters.maps import total_variance

    return total_variance(_index(_stores, model_id, version).matrix)


def state_variance(ctx: PageContext) -> float:
    """The states' total variance (25 ms for the demo's 58k states): once per data version."""
    return _state_variance(ctx.stores, ctx.model_id, ctx.version)


@st.cache_data(show_spinner=False, max_entries=32)
def _states(
    _stores: Stores, model_id: str, version: str, start: date | None, end: date | None, portfolio_ids: tuple[str, ...]
) -> pd.DataFrame:
    rows = list_joint_states(_stores, model_id, DateSelection(start=start, end=end), portfolio_ids)
    return states_frame(rows)


def states(ctx: PageContext, start: date | None, end: date | None, portfolio_ids: list[str]) -> pd.DataFrame:
    return _states(ctx.stores, ctx.model_id, ctx.version, start, end, tuple(portfolio_ids))


def similar(ctx: PageContext, query: SimilarQuery) -> SimilarResult:
    """The analogues of one state, by the same search path as find_similar_portfolios (HNSW when configured)."""
    return find_similar(ctx.stores, query, index=state_index(ctx))


@st.cache_data(show_spinner=False, max_entries=64)
def _neighbours(_ctx: PageContext, model_id: str, version: str, query: SimilarQuery) -> tuple[pd.DataFrame, int]:
    result = similar(_ctx, query)
    return neighbours_frame(result, attributes(_ctx)), result.candidates


def neighbours(ctx: PageContext, query: SimilarQuery) -> tuple[pd.DataFrame, int]:
    """The ranked analogues as a table (each with its own drawdown, volatility, sector), and the candidates searched.

    Once per query and data version: joining the 58k states' attributes took 40-60 ms of
    every rerun of the Similar and Drawdown pages, a widget elsewhere on the page included.
    """
    return _neighbours(ctx, ctx.model_id, ctx.version, query)


@st.cache_data(show_spinner=False, max_entries=64)
def _state_line(_ctx: PageContext, model_id: str, version: str, portfolio_id: str, day: date) -> str:
    return describe_state(attributes(_ctx), portfolio_id, day)


def state_line(ctx: PageContext, portfolio_id: str, day: date) -> str:
    """One line about a state (drawdown, volatility, sector, stress), once per state and data version."""
    return _state_line(ctx, ctx.model_id, ctx.version, portfolio_id, day)


@st.cache_resource(show_spinner=False, max_entries=4)
def _attributes(_stores: Stores, model_id: str, version: str) -> pd.DataFrame:
    from prometheus.services.attributes import cached_state_attributes

    # Also cached on disk per data version: a restarted app (or another worker) reads it in milliseconds.
    return cached_state_attributes(_stores, model_id)


def attributes(ctx: PageContext) -> pd.DataFrame:
    """Every state's drawdown, volatility, sector and stress window: one frame per data version, shared read-only.

    A shared object, not st.cache_data: that unpickled the 57,952 rows (6.6 MB) on every call,
    17-27 ms, twice in a new query on the Similar page. Readers copy what they change.
    """
    return _attributes(ctx.stores, ctx.model_id, ctx.version)


@st.cache_data(show_spinner=False, max_entries=64)
def _history(_stores: Stores, model_id: str, version: str, portfolio_id: str) -> pd.DataFrame:
    from prometheus.services.history import portfolio_history

    return portfolio_history(_stores, model_id, portfolio_id)


def history(ctx: PageContext, portfolio_id: str) -> pd.DataFrame:
    return _history(ctx.stores, ctx.model_id, ctx.version, portfolio_id)


@st.cache_data(show_spinner=False, max_entries=16)
def _coverage(_stores: Stores, model_id: str, version: str, freq: str) -> pd.DataFrame:
    from prometheus.services.overview import coverage

    return coverage(_stores, model_id, freq=freq)


def coverage(ctx: PageContext, freq: str = "year") -> pd.DataFrame:
    return _coverage(ctx.stores, ctx.model_id, ctx.version, freq)


@st.cache_data(show_spinner=False, max_entries=16)
def _early_warning(_stores: Stores, _book: Any, model_id: str, version: str) -> pd.DataFrame:
    from prometheus.services.early_warning import early_warning

    return early_warning(_stores, _book)


def early_warning(ctx: PageContext) -> pd.DataFrame:
    """Every book's latest state ranked by its point-in-time forecast."""
    return _early_warning(ctx.stores, forecast_book(ctx), ctx.model_id, ctx.version)


@st.cache_resource(show_spinner=False, max_entries=2)
def _book_values(_stores: Stores, version: str) -> Any:
    from prometheus.services.outcomes import portfolio_values

    return portfolio_values(_stores, _stores.reports.portfolio_ids())


@st.cache_data(show_spinner=False, max_entries=64)
def _outcomes(_stores: Stores, version: str, keys: tuple[tuple[str, date], ...], known_by: date | None) -> pd.DataFrame:
    from prometheus.services.outcomes import forward_outcomes, portfolio_values

    # Every book's values, read once per data version (the demo book's in ~0.5 s): reading the
    # analogues' values afresh took ~0.13 s of each new query on the Similar and Drawdown pages.
    held = _book_values(_stores, version)
    missing = sorted({pid for pid, _ in keys} - held.keys())  # a book with states but no reports
    values = {**held, **portfolio_values(_stores, missing)} if missing else held
    return forward_outcomes(_stores, list(keys), known_by=known_by, values=values)


def outcomes(ctx: PageContext, keys: list[tuple[str, date]], known_by: date | None) -> pd.DataFrame:
    """What followed each state; ``known_by``: only data dated on or before it (point in time)."""
    return _outcomes(ctx.stores, ctx.version, tuple(keys), known_by)


@st.cache_resource(show_spinner=False, max_entries=4)
def _forecast_book(_stores: Stores, model_id: str, version: str) -> Any:
    from prometheus.services.forecast_book import forecast_book

    return forecast_book(_stores, model_id)


@st.cache_resource(show_spinner=False)
def _books_built() -> set[tuple[str, str]]:
    return set()


def forecast_book(ctx: PageContext) -> Any:
    """The store's forecast book (built once per data version, then read from disk by every session).

    The spinner only while it may be built: each st.spinner starts a timer thread, and the
    Similar and Drawdown pages ask for the book twice a run (0.1-0.2 s on this loaded 2-core machine).
    """
    key = (ctx.model_id, ctx.version)
    if key in _books_built():
        return _forecast_book(ctx.stores, ctx.model_id, ctx.version)
    with st.spinner("Measuring this store's forecasts point in time (once per data version)…"):
        book = _forecast_book(ctx.stores, ctx.model_id, ctx.version)
    _books_built().add(key)
    return book


@st.cache_data(show_spinner=False, max_entries=64)
def _state_forecast(_book: Any, model_id: str, version: str, portfolio_id: str, day: date) -> Any:
    from prometheus.services.forecast import state_forecast

    return state_forecast(_book, portfolio_id, day)


def state_forecast(ctx: PageContext, portfolio_id: str, day: date) -> Any:
    return _state_forecast(forecast_book(ctx), ctx.model_id, ctx.version, portfolio_id, day)


@st.cache_resource(show_spinner=False, max_entries=8)
def _skill(_book: Any, model_id: str, version: str) -> Any:
    from prometheus.services.skill import skill_ledger

    return skill_ledger(_book)


def skill(ctx: PageContext) -> Any:
    """The ledger of the store's forecasts: what every forecast on the pages is shown beside."""
    return _skill(forecast_book(ctx), ctx.model_id, ctx.version)


@st.cache_data(show_spinner=False, max_entries=64)
def _compare(_stores: Stores, model_id: str, version: str, a: tuple[str, date], b: tuple[str, date]) -> Any:
    from prometheus.services.compare import compare_states

    return compare_states(_stores, model_id, a, b)


def compare(ctx: PageContext, a: tuple[str, date], b: tuple[str, date]) -> Any:
    return _compare(ctx.stores, ctx.model_id, ctx.version, a, b)


@st.cache_resource(show_spinner=False)
def _projection_memo() -> dict[tuple[str, str, str], pd.DataFrame]:
    # A plain dict (not st.cache_data) so a first UMAP run can report progress into the page;
    # the projection service also caches on disk, per data version, across restarts.
    return {}


@st.cache_resource(show_spinner=False)
def _fit_locks() -> dict[tuple[str, str, str], threading.Lock]:
    return {}


_locks_guard = threading.Lock()


def cached_projection(ctx: PageContext, method: str) -> pd.DataFrame | None:
    return _projection_memo().get((ctx.model_id, ctx.version, method))


def _remember(ctx: PageContext, method: str, points: pd.DataFrame) -> pd.DataFrame:
    memo = _projection_memo()
    for key in [k for k in memo if k[0] == ctx.model_id and k[1] != ctx.version]:
        memo.pop(key, None)  # superseded by newer data
    memo[(ctx.model_id, ctx.version, method)] = points
    return points


def stored_projection(ctx: PageContext, method: str) -> pd.DataFrame | None:
    """The map stored on disk for exactly this data, or None; never fits (read-only deployments)."""
    from prometheus.projection.maps import stored_projection as stored

    points = stored(ctx.stores, ctx.model_id, method, cache_dir=ctx.settings.effective_cache_dir / "projections")
    return None if points is None else _remember(ctx, method, points)


def compute_projection(ctx: PageContext, method: str, progress: Progress) -> pd.DataFrame:
    """Fit (or read) the map in this page: one fit per data version at a time for the whole server.

    A second session asking for the same map waits for the first one's result rather than
    fitting it again (5 tabs opening the Map page cost one fit, not five).
    """
    from prometheus.projection.maps import project_states

    key = (ctx.model_id, ctx.version, method)
    with _locks_guard:
        lock = _fit_locks().setdefault(key, threading.Lock())
    if not lock.acquire(blocking=False):
        progress(0, 0, "Another session is computing this map: waiting for it…")
        lock.acquire()
    try:
        done = cached_projection(ctx, method)
        if done is not None:
            return done
        points = project_states(
            ctx.stores,
            ctx.model_id,
            method=method,
            cache_dir=ctx.settings.effective_cache_dir / "projections",
            progress=progress,
        )
        return _remember(ctx, method, points)
    finally:
        lock.release()


@st.cache_resource(show_spinner=False, max_entries=4)
def _map_points(_ctx: PageContext, _points: pd.DataFrame, model_id: str, version: str, method: str) -> pd.DataFrame:
    from prometheus.presenters.maps import map_frame

    return map_frame(_points, attributes(_ctx))


def map_points(ctx: PageContext, method: str, points: pd.DataFrame) -> pd.DataFrame:
    """The map's rows (projection, attributes, hover text) built once per data version and method.

    Shared by every session and rerun, read-only: building them took 0.13-0.16 s of each
    rerun of the Map page on the demo book's 57,952 states.
    """
    return _map_points(ctx, points, ctx.model_id, ctx.version, method)


@st.cache_resource(show_spinner=False, max_entries=16)
def _map_chart(
    _frame: pd.DataFrame,
    _path: pd.DataFrame | None,
    _axes: Callable[[], Any],
    model_id: str,
    version: str,
    method: str,
    colour: str,
    stress: bool,
    path_of: str | None,
    years: tuple[int, int] | None,
) -> Any:
    from prometheus.presenters.map_chart import map_figure

    return map_figure(_frame, colour, _path, stress, _axes())


def map_chart(
    ctx: PageContext,
    method: str,
    frame: pd.DataFrame,
    colour: str,
    stress: bool,
    path_of: str | None,
    years: tuple[int, int] | None,
    path: pd.DataFrame | None,
    axes: Callable[[], Any],
) -> Any:
    """The map's figure for these choices, built once (~0.1 s for 58k states) and shared read-only.

    ``path`` is the drawn stretch of ``path_of``'s trajectory, ``years`` its span: they key it;
    ``axes()`` gives the axis titles (they depend on the data version and method only).
    """
    return _map_chart(frame, path, axes, ctx.model_id, ctx.version, method, colour, stress, path_of, years)


@st.cache_resource(show_spinner=False, max_entries=32)
def _explanation_chart(
    _table: pd.DataFrame, model_id: str, version: str, a: tuple[str, date], b: tuple[str, date]
) -> Any:
    from prometheus.presenters.figures import explanation_figure

    return explanation_figure(_table)


def explanation_chart(ctx: PageContext, a: tuple[str, date], b: tuple[str, date], table: pd.DataFrame) -> Any:
    """The why-they-are-close bars of a pair, built once (~0.1 s of Plotly validation) and shared read-only."""
    return _explanation_chart(table, ctx.model_id, ctx.version, a, b)
