"""Map: every state projected to 2-D (PCA or UMAP), coloured by date, drawdown, volatility,
portfolio or sector; a portfolio's path through it; select states to list, download or open."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages import _common, _context, _data, _widgets
from prometheus import jobs
from prometheus.services import ui_support

METHODS = {"pca": "PCA", "umap": "UMAP"}
COLOURS = {
    "date": "Date",
    "drawdown": "Drawdown",
    "volatility": "Volatility (1y)",
    "portfolio": "Portfolio",
    "sector": "Dominant sector",
}
CONTINUOUS = {  # colour key -> (column, colour scale, colour bar title, tick format)
    "date": ("year", "Viridis", "year", "d"),
    "drawdown": ("drawdown", "Reds_r", "drawdown", ".0%"),
    "volatility": ("volatility_1y", "Plasma", "volatility", ".0%"),
}
CATEGORICAL = {"portfolio": "portfolio_id", "sector": "dominant_sector"}
NO_PATH = "(no trajectory)"
HOVER = "%{text}<br>drawdown %{customdata[1]:.1%} · volatility (1y) %{customdata[2]:.1%}<extra></extra>"
PALETTE = [
    "#2f5d8a",
    "#d1495b",
    "#edae49",
    "#00798c",
    "#66a182",
    "#8e6c8a",
    "#e07a5f",
    "#3d405b",
    "#81b29a",
    "#f2cc8f",
    "#6d597a",
    "#b56576",
    "#355070",
    "#eaac8b",
    "#0b6e4f",
    "#c44536",
]


def _custom(frame: pd.DataFrame) -> Any:
    # customdata[0] is the row number: a selection maps back to the frame through it.
    # One float matrix (sent base64-encoded) keeps a 60k-point figure small and quick to build.
    return frame[["row", "drawdown", "volatility_1y"]].to_numpy(dtype="float32")


def build_figure(frame: pd.DataFrame, colour: str, path: pd.DataFrame | None, stress: bool) -> go.Figure:
    figure = go.Figure()
    marker = {"size": 5, "opacity": 0.75}
    if colour in CONTINUOUS:
        column, scale, title, tick = CONTINUOUS[colour]
        colourbar: dict[str, Any] = {"title": {"text": title}, "tickformat": tick, "thickness": 12}
        if colour == "date":
            values, labels = ui_support.year_ticks(frame["year"])
            colourbar.update(tickvals=values, ticktext=labels)
        figure.add_trace(
            go.Scattergl(
                x=frame["x"],
                y=frame["y"],
                mode="markers",
                name="states",
                customdata=_custom(frame),
                text=frame["hover"],
                hovertemplate=HOVER,
                showlegend=False,
                marker={
                    **marker,
                    "color": frame[column],
                    "colorscale": scale,
                    "colorbar": colourbar,
                    **({"cmax": 0.0} if colour == "drawdown" else {}),
                },
            )
        )
    else:
        column = CATEGORICAL[colour]
        for i, (value, group) in enumerate(frame.groupby(column, sort=True)):
            figure.add_trace(
                go.Scattergl(
                    x=group["x"],
                    y=group["y"],
                    mode="markers",
                    name=str(value),
                    customdata=_custom(group),
                    text=group["hover"],
                    hovertemplate=HOVER,
                    marker={**marker, "color": PALETTE[i % len(PALETTE)]},
                )
            )
    if stress:
        inside = frame[frame["stress_window"] != ""]
        if not inside.empty:
            figure.add_trace(
                go.Scattergl(
                    x=inside["x"],
                    y=inside["y"],
                    mode="markers",
                    name="in a named stress window",
                    hoverinfo="skip",  # the state underneath answers hovers and selections
                    marker={
                        "size": 7,
                        "symbol": "circle-open",
                        "color": "rgba(17, 17, 17, 0.35)",
                        "line": {"width": 0.7},
                    },
                )
            )
    if path is not None and not path.empty:
        first, last = path["as_of_date"].iloc[0], path["as_of_date"].iloc[-1]
        name = f"{path['portfolio_id'].iloc[0]}, {first:%Y-%m} to {last:%Y-%m}"
        figure.add_trace(
            go.Scattergl(
                x=path["x"],
                y=path["y"],
                mode="lines+markers",
                name=name,
                customdata=_custom(path),
                text=path["hover"],
                hovertemplate=HOVER,
                line={"color": "#111111", "width": 1.5},
                marker={"size": 4, "color": "#111111"},
            )
        )
        ends = path.iloc[[0, -1]]
        figure.add_trace(
            go.Scattergl(
                x=ends["x"],
                y=ends["y"],
                mode="markers+text",
                text=["start", "end"],
                textposition="top center",
                marker={"size": 12, "symbol": ["triangle-up", "star"], "color": "#111111"},
                showlegend=False,
                customdata=_custom(ends),
                hovertext=ends["hover"],
                hovertemplate=HOVER.replace("%{text}", "%{hovertext}"),
            )
        )
    # Many categories: a legend column on the right; a colour bar: the few legend entries on top.
    legend = (
        {"itemsizing": "constant"}
        if colour in CATEGORICAL
        else {"itemsizing": "constant", "orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"}
    )
    figure.update_layout(
        height=640,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        dragmode="select",
        legend=legend,
        xaxis={"showticklabels": False, "title": ""},
        yaxis={"showticklabels": False, "title": ""},
    )
    return figure


def projection(ctx: _context.PageContext, method: str, states: int) -> pd.DataFrame | None:
    """The map's points, or None while a background job is still computing them."""
    cached = _data.cached_projection(ctx, method)
    if cached is not None:
        return cached
    if method == "umap" and states > ui_support.BACKGROUND_UMAP_STATES and not ctx.read_only:
        job = ui_support.latest_projection_job(
            jobs.list_jobs(ctx.stores, kinds=(jobs.PROJECTION,)), ctx.model_id, method
        )
        if not ui_support.projection_ready(job, ui_support.joint_data_version(ctx.stores, ctx.model_id)):
            background_projection(ctx, method, job)
            return None
    with st.status(f"Computing the {METHODS[method]} map…", expanded=True) as status:

        def progress(message: str) -> None:
            status.update(label=f"{METHODS[method]}: {message}")
            status.write(message)

        points = _data.compute_projection(ctx, method, progress)
        status.update(label=f"{METHODS[method]} map ready ({len(points):,} states)", state="complete", expanded=False)
    return points


def background_projection(ctx: _context.PageContext, method: str, job: jobs.Job | None) -> None:
    """Start (or keep watching) the job that fits the map; the page redraws when it ends."""
    if job is not None and job.is_active:
        job_id = job.job_id
    else:
        if job is not None and job.display_status == jobs.FAILED:
            st.error(f"The {METHODS[method]} map could not be computed: {job.display_error}")
            if not st.button("Try again", key="map_retry", icon=":material/replay:"):
                return
        submitted = _common.guarded(
            ctx.settings,
            lambda: jobs.submit_job(ctx.stores, jobs.PROJECTION, {"model_id": ctx.model_id, "method": method}),
        )
        if not isinstance(submitted, str):
            return
        job_id = submitted
    st.info(
        f"Fitting the {METHODS[method]} map of every state in the background: a few minutes the first time, "
        "then it is cached. You can use other pages meanwhile; PCA is instant.",
        icon=":material/hourglass_top:",
    )
    _common.job_progress(ctx, job_id)


def selection_panel(frame: pd.DataFrame, event: Any) -> None:
    points = list(getattr(getattr(event, "selection", None), "points", None) or [])
    st.subheader("Selected states")
    if not points:
        st.caption("Drag a box or lasso on the map (or click a point) to list states here.")
        return
    chosen = ui_support.selected_rows(frame, points)
    st.caption(f"{len(chosen):,} state(s) selected")
    st.dataframe(
        chosen,
        hide_index=True,
        width="stretch",
        key="map_selected",
        column_config={
            "portfolio_id": st.column_config.TextColumn("Portfolio"),
            "dominant_sector": st.column_config.TextColumn("Largest sector"),
            "stress_window": st.column_config.TextColumn("Stress window"),
            "as_of_date": st.column_config.DateColumn("Date", format="YYYY-MM-DD"),
            "x": st.column_config.NumberColumn(format="%.3f"),
            "y": st.column_config.NumberColumn(format="%.3f"),
            "drawdown": st.column_config.NumberColumn("Drawdown", format="percent"),
            "volatility_1y": st.column_config.NumberColumn("Volatility (1y)", format="percent"),
        },
    )
    _widgets.csv_download(chosen, "selected_states.csv", key="map_selected_csv", label="Download selection (CSV)")
    if chosen.empty:
        return
    keys = ui_support.state_keys(chosen)
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
    portfolios = ui_support.index_portfolios(index)
    cols = st.columns([2, 2, 3, 2])
    _widgets.seed_from_query("map_method", "method", lambda raw: METHODS.get(raw))
    _widgets.seed_from_query("map_colour", "color", lambda raw: COLOURS.get(raw))
    _widgets.seed_from_query("map_path", "portfolio", lambda raw: raw if raw in portfolios else None)
    st.session_state.setdefault("map_method", METHODS["pca"])
    st.session_state.setdefault("map_colour", COLOURS["date"])
    method_label = cols[0].radio(
        "Projection",
        list(METHODS.values()),
        horizontal=True,
        key="map_method",
        help="PCA is instant; UMAP keeps neighbourhoods better but takes a while "
        "the first time (then it is cached on disk).",
    )
    colour_label = cols[1].selectbox("Colour by", list(COLOURS.values()), key="map_colour")
    path_choice = cols[2].selectbox("Trajectory of", [NO_PATH, *portfolios], key="map_path")
    with cols[3]:
        st.write("")
        stress = st.checkbox("Outline stress-window states", value=True, key="map_stress")
    method = next(k for k, v in METHODS.items() if v == method_label)
    colour = next(k for k, v in COLOURS.items() if v == colour_label)
    path_of = None if path_choice == NO_PATH else str(path_choice)
    _widgets.publish_query(method=method, color=colour, portfolio=path_of)

    points = projection(ctx, method, len(index))
    if points is None:
        return
    frame = ui_support.map_frame(points, _data.attributes(ctx))
    path = None
    if path_of:
        path = trajectory_span(ui_support.trajectory(frame, path_of))
    st.caption(
        f"{len(frame):,} states, {METHODS[method]} projection. Drag a box (or pick lasso in the chart's "
        "toolbar) to select states; double-click to clear."
    )
    event = st.plotly_chart(
        build_figure(frame, colour, path, stress),
        width="stretch",
        key="map_chart",
        on_select="rerun",
        selection_mode=("points", "box", "lasso"),
    )
    selection_panel(frame, event)


def trajectory_span(path: pd.DataFrame) -> pd.DataFrame:
    """Let the analyst pick which years of a long path to draw: 30 years of weeks is a scribble."""
    years = sorted({d.year for d in path["as_of_date"]})
    if len(years) < 2:
        return path
    default = (max(years[0], years[-1] - 2), years[-1])
    first, last = st.select_slider("Trajectory years", options=years, value=default, key="map_path_years")
    return ui_support.trajectory_between(path, first, last)


_common.run_page("Map", body, caption="Nearby points are similar states. Stress-window states are outlined.")
