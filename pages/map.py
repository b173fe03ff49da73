"""Map: every state projected to 2-D (PCA or UMAP), coloured by date, drawdown, volatility,
portfolio or sector; a portfolio's path through it; select states to list, download or open."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from prometheus import jobs
from prometheus.jobs.kinds import projection_job_params
from prometheus.numbers import whole_or_none
from prometheus.presenters.choices import index_portfolios
from prometheus.presenters.maps import axis_titles, selected_rows, selection_listing, trajectory, trajectory_between
from prometheus.presenters.markup import markdown_text
from prometheus.presenters.tables import state_keys
from prometheus.services import maps as map_service
from prometheus.services.versions import joint_data_stamp
from ui import context as _context
from ui import data as _data
from ui import shell as _common
from ui import widgets as _widgets

METHODS = {"pca": "PCA", "umap": "UMAP"}
COLOURS = {
    "date": "Date",
    "drawdown": "Drawdown",
    "volatility": "Volatility (1 year)",
    "portfolio": "Portfolio",
    "sector": "Dominant sector",
}
NO_PATH = "(no trajectory)"


def projection(ctx: _context.PageContext, method: str, states: int) -> pd.DataFrame | None:
    """The map's points, or None while a background job computes them (or none may be computed here)."""
    cached = _data.cached_projection(ctx, method)
    if cached is not None:
        return cached
    source = map_service.map_source(method, states, ctx.read_only)
    if source == "stored":
        points = _data.stored_projection(ctx, method)
        if points is None:
            st.info(
                f"No {METHODS[method]} map is stored for the current data, and this read-only deployment does not "
                "compute one (a fit takes minutes and gigabytes). PCA is available now; whoever runs the app can "
                "store the map with `python -m prometheus.scripts.build_map --method umap`.",
                icon=":material/lock:",
            )
        return points
    if source == "job":
        job = map_service.latest_projection_job(
            jobs.list_jobs(ctx.stores, kinds=(jobs.PROJECTION,)), ctx.model_id, method
        )
        if not map_service.projection_ready(job, joint_data_stamp(ctx.stores, ctx.model_id)):
            background_projection(ctx, method, job)
            return None
    with st.status(f"Computing the {METHODS[method]} map…", expanded=True) as status:
        bar = st.progress(0.0) if method == "umap" else None
        stages: list[str] = []

        def progress(done: int, total: int, message: str) -> None:
            stage = message.split(" epoch ")[0]  # UMAP's epochs advance the bar, not the list of stages
            if not stages or stages[-1] != stage:
                stages.append(stage)
                status.update(label=f"{METHODS[method]}: {stage}")
                status.write(message)
            if bar is not None and total > 0:
                bar.progress(min(done / total, 1.0), text=message)

        points = _data.compute_projection(ctx, method, progress)
        status.update(label=f"{METHODS[method]} map ready ({len(points):,} states)", state="complete", expanded=False)
    if not points.attrs.get("stored", True):
        st.caption(
            ":material/warning: The map could not be stored in the cache folder (full, read-only or not a "
            "folder): it is computed again next time. Check PROMETHEUS_CACHE_DIR."
        )
    return points


def background_projection(ctx: _context.PageContext, method: str, job: jobs.Job | None) -> None:
    """Start (or join and watch) the one job that fits this map; the page redraws when it ends.

    The job is shared by every session and stopped once no page watches it any more.
    """
    if job is not None and job.is_active:
        job_id = job.job_id
    else:
        if job is not None and job.display_status == jobs.FAILED and not map_service.needs_new_job(job):
            st.error(f"The {METHODS[method]} map could not be computed: {markdown_text(job.display_error)}")
            if not st.button("Try again", key="map_retry", icon=":material/replay:"):
                return
        submitted = _common.guarded(
            ctx.settings,
            lambda: jobs.submit_job(
                ctx.stores,
                jobs.PROJECTION,
                projection_job_params(ctx.model_id, method),
                unique=True,
                cancel_when_unwatched=True,
            ),
        )
        if not isinstance(submitted, str):
            return
        job_id = submitted
    st.info(
        f"Fitting the {METHODS[method]} map of every state in the background: a few minutes the first time, "
        "then it is cached. Keep this page open (the fit stops once no page waits for it); PCA is instant.",
        icon=":material/hourglass_top:",
    )
    _common.job_progress(ctx, job_id)


def selection_panel(frame: pd.DataFrame, event: Any) -> None:
    points = list(getattr(getattr(event, "selection", None), "points", None) or [])
    st.subheader("Selected states")
    if not points:
        st.caption("Drag a box or lasso on the map (or click a point) to list states here.")
        return
    chosen = selected_rows(frame, points)
    listed, caption = selection_listing(chosen)
    st.caption(caption)
    _widgets.show_table(listed, key="map_selected")
    _widgets.csv_download(chosen, "selected_states.csv", key="map_selected_csv", label="Download selection (CSV)")
    if chosen.empty:
        return
    keys = state_keys(listed)
    pick = st.selectbox("State to open", range(len(keys)), format_func=lambda i: keys[i].label(), key="map_open_pick")
    target = keys[int(pick or 0)]
    if st.button("Open in Similar portfolios", icon=":material/join_inner:", key="map_open"):
        st.switch_page(
            _context.PAGES["similar"][0],
            query_params={"portfolio": target.portfolio_id, "date": target.as_of_date.isoformat()},
        )


def body(ctx: _context.PageContext) -> None:
    if _common.require_states(ctx) is None:
        return
    index = _data.state_index(ctx)
    portfolios = index_portfolios(index)
    _widgets.seed_from_query("map_method", "method", lambda raw: METHODS.get(raw))
    _widgets.seed_from_query("map_colour", "color", lambda raw: COLOURS.get(raw))
    path_link = _widgets.seed_from_query("map_path", "portfolio", lambda raw: raw if raw in portfolios else None)
    if path_link is not None and path_link.value is None:
        _widgets.link_problem(_widgets.unknown_portfolio(path_link.raw, "no trajectory"))
    st.session_state.setdefault("map_method", METHODS["pca"])
    st.session_state.setdefault("map_colour", COLOURS["date"])
    method_label = st.radio(
        "Projection",
        list(METHODS.values()),
        horizontal=True,
        key="map_method",
        help="PCA is instant; UMAP keeps neighbourhoods better but takes a while "
        "the first time (then it is cached on disk).",
    )
    method = next(k for k, v in METHODS.items() if v == method_label)
    points = projection(ctx, method, len(index))
    if points is None:
        _widgets.publish_query(method=method)
        return
    map_view(ctx, method, points, portfolios)


@st.fragment
def map_view(ctx: _context.PageContext, method: str, points: pd.DataFrame, portfolios: list[str]) -> None:
    """Colour, trajectory, outlines, the chart and the selection: a change here reruns only this part.

    The rest of the page (the sidebar, the store's counts, the projection) stays as drawn: a
    colour change or a box selection costs the map's own work only (bench/ui_speed.py).
    """
    cols = st.columns([2, 3, 2])
    colour_label = cols[0].selectbox("Colour by", list(COLOURS.values()), key="map_colour")
    path_choice = cols[1].selectbox("Trajectory of", [NO_PATH, *portfolios], key="map_path")
    with cols[2]:
        st.write("")
        stress = st.checkbox("Ring stress-window states", value=True, key="map_stress")
    colour = next(k for k, v in COLOURS.items() if v == colour_label)
    path_of = None if path_choice == NO_PATH else str(path_choice)
    _widgets.publish_query(method=method, color=colour, portfolio=path_of)

    frame = _data.map_points(ctx, method, points)
    path = None
    years: tuple[int, int] | None = None
    if path_of:
        path, years = trajectory_span(trajectory(frame, path_of))
    else:
        _widgets.publish_query(years=None)
    st.caption(
        f"{len(frame):,} states, {METHODS[method]} projection. Drag a box (or pick lasso in the chart's "
        "toolbar) to select states; double-click to clear."
    )
    axes = lambda: axis_titles(method, frame, _data.state_variance(ctx))  # noqa: E731
    event = st.plotly_chart(
        _data.map_chart(ctx, method, frame, colour, stress, path_of, years, path, axes),
        width="stretch",
        key="map_chart",
        on_select="rerun",
        selection_mode=("points", "box", "lasso"),
        # Plotly redraws every WebGL point on each mouse move of a box or lasso drag; at its
        # default ratio 2 that is 4x the screen's pixels, drawn in software where there is no GPU:
        # a ~7,000-state box on the demo book settled in 7.6 s (13.2 s of browser CPU), 4.5 s (6.9 s)
        # at 1 (bench/map_selection.py). The dots are drawn at the CSS pixel size on HiDPI screens too.
        config={"plotGlPixelRatio": 1},
    )
    selection_panel(frame, event)


def trajectory_span(path: pd.DataFrame) -> tuple[pd.DataFrame, tuple[int, int] | None]:
    """Let the analyst pick which years of a long path to draw (30 years of weeks is a scribble); kept in the link."""
    years = sorted({d.year for d in path["as_of_date"]})
    if len(years) < 2:
        _widgets.publish_query(years=None)
        return path, None
    # The link's years are the slider's default (a range slider's default must be passed as
    # value=, so no session-state seeding here); publishing the choice keeps the two equal.
    linked = _widgets.query_param("years")
    span = year_span(linked, years) if linked else None
    default = span or (max(years[0], years[-1] - 2), years[-1])
    if linked and span is None and st.session_state.get("map_years_refused") != linked:
        st.session_state["map_years_refused"] = linked  # said once per link
        _widgets.link_problem(
            f"The link's years {linked!r} are not within this trajectory ({years[0]}-{years[-1]}): "
            f"showing {default[0]}-{default[1]} instead."
        )
    first, last = st.select_slider("Trajectory years", options=years, value=default, key="map_path_years")
    _widgets.publish_query(years=f"{first}-{last}")
    return trajectory_between(path, first, last), (int(first), int(last))


def year_span(raw: str, years: list[int]) -> tuple[int, int] | None:
    """``?years=2006-2009`` as the slider's (first, last), clamped to the years the path has; None if unreadable."""
    low, _, high = raw.partition("-")
    first, last = whole_or_none(low, 1000, 9999), whole_or_none(high or low, 1000, 9999)
    if first is None or last is None or first > last:
        return None
    inside = [y for y in years if first <= y <= last]
    return (inside[0], inside[-1]) if inside else None


_common.run_page(
    "Map", body, caption="Nearby points are similar states. Stress-window states have a dark ring around them."
)
