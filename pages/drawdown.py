"""Drawdown & stress: a portfolio's underwater curve against named stress windows, its worst
drawdowns, and for one date the closest historical analogues and what followed them."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from pages import _common, _context, _data, _widgets
from prometheus.services import ui_support
from prometheus.services.drawdown import worst_drawdowns
from prometheus.services.outcomes import summarise_outcomes
from prometheus.services.similar import SimilarQuery, search_index

SHADE = "rgba(179, 51, 51, 0.10)"


def underwater_chart(frame: pd.DataFrame, portfolio: str, marked: date | None) -> None:
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(
        go.Scatter(
            x=frame["as_of_date"],
            y=frame["drawdown"],
            name="Drawdown",
            fill="tozeroy",
            mode="lines",
            line={"color": "#b33", "width": 1.2},
            hovertemplate="%{x|%Y-%m-%d}: %{y:.1%}<extra>drawdown</extra>",
        ),
        secondary_y=False,
    )
    figure.add_trace(
        go.Scatter(
            x=frame["as_of_date"],
            y=frame["portfolio_value"],
            name="Portfolio value",
            mode="lines",
            line={"color": "#2f5d8a", "width": 1},
            opacity=0.6,
            hovertemplate="%{x|%Y-%m-%d}: %{y:,.0f}<extra>value</extra>",
        ),
        secondary_y=True,
    )
    first, last = frame["as_of_date"].iloc[0], frame["as_of_date"].iloc[-1]
    windows = ui_support.windows_between(first, last)
    for window in windows:
        figure.add_vrect(x0=window.start, x1=window.end, fillcolor=SHADE, line_width=0, layer="below")
    if windows:
        # Names as hoverable markers along the top: text labels of overlapping windows collide.
        figure.add_trace(
            go.Scatter(
                x=[w.start + (w.end - w.start) / 2 for w in windows],
                y=[0.0] * len(windows),
                mode="markers",
                name="Named stress window",
                marker={"symbol": "triangle-down", "size": 9, "color": "#7a2b2b"},
                text=[f"{w.name}<br>{w.start:%Y-%m-%d} to {w.end:%Y-%m-%d}" for w in windows],
                hovertemplate="%{text}<extra></extra>",
            ),
            secondary_y=False,
        )
    if marked is not None:
        figure.add_vline(x=marked, line={"color": "#1f2933", "dash": "dot", "width": 1})
    figure.update_yaxes(title_text="drawdown", tickformat=".0%", secondary_y=False)
    figure.update_yaxes(title_text="portfolio value", secondary_y=True, showgrid=False)
    figure.update_layout(
        height=420,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        hovermode="closest",
        title=f"{portfolio}: under water"
        + (" (shaded: named stress windows)" if windows else " (no named stress window in this span)"),
        legend={"orientation": "h", "y": -0.15},
    )
    st.plotly_chart(figure, width="stretch", key="dd_chart")


def episodes_table(episodes: pd.DataFrame) -> None:
    st.subheader("Worst drawdowns")
    if episodes.empty:
        st.caption("Never under water in the stored reports.")
        return
    st.dataframe(
        episodes,
        hide_index=True,
        width="stretch",
        key="dd_episodes",
        column_config={
            "peak_date": st.column_config.DateColumn("Peak", format="YYYY-MM-DD"),
            "trough_date": st.column_config.DateColumn("Trough", format="YYYY-MM-DD"),
            "recovery_date": st.column_config.DateColumn("Recovery", format="YYYY-MM-DD"),
            "depth": st.column_config.NumberColumn("Depth", format="percent"),
            "days_to_trough": st.column_config.NumberColumn("Days to trough", format="%d"),
            "length_days": st.column_config.NumberColumn("Length (days)", format="%d"),
            "recovered": st.column_config.CheckboxColumn("Recovered"),
        },
    )


def analogues(ctx: _context.PageContext, portfolio: str, day: date) -> None:
    st.subheader(f"Closest historical analogues of {portfolio} on {day.isoformat()}")
    cols = st.columns([1, 2, 2])
    st.session_state.setdefault("dd_k", 10)
    top_k = int(cols[0].number_input("How many", min_value=1, max_value=200, step=1, key="dd_k"))
    with cols[1]:
        st.write("")
        earlier = st.checkbox(
            "Only states before this date",
            value=True,
            key="dd_earlier",
            help="Analogues whose future was already known on this date.",
        )
    with cols[2]:
        st.write("")
        own = st.checkbox(
            f"Include {portfolio}'s own history",
            value=True,
            key="dd_own",
            help="Untick to see only other portfolios (its own recent weeks are often closest).",
        )
    index = _data.state_index(ctx)
    query = SimilarQuery(
        model_id=ctx.model_id,
        portfolio_id=portfolio,
        as_of=day,
        top_k=top_k,
        include_self=own,
        end=day - timedelta(days=1) if earlier else None,
    )
    result = search_index(index, query)
    table = ui_support.neighbours_frame(result, _data.attributes(ctx))
    if table.empty:
        st.info("No stored state lies before this date: untick “Only states before this date” or pick a later one.")
        return
    outcomes = _data.outcomes(
        ctx, [(str(p), d) for p, d in zip(table["portfolio_id"], table["as_of_date"], strict=True)]
    )
    summary = summarise_outcomes(outcomes)
    for months in (1, 3):
        st.markdown(f"- {summary.sentence(months)}")
    merged = table.merge(outcomes, on=["portfolio_id", "as_of_date"], how="left")
    st.dataframe(
        merged,
        hide_index=True,
        width="stretch",
        key="dd_analogues",
        column_config={
            **_widgets.neighbour_columns(),
            "fwd_return_1m": st.column_config.NumberColumn("Return, next month", format="percent"),
            "fwd_max_drawdown_1m": st.column_config.NumberColumn("Max drawdown, next month", format="percent"),
            "fwd_return_3m": st.column_config.NumberColumn("Return, next 3 months", format="percent"),
            "fwd_max_drawdown_3m": st.column_config.NumberColumn("Max drawdown, next 3 months", format="percent"),
        },
    )
    _widgets.csv_download(
        merged, f"analogues_{portfolio}_{day.isoformat()}.csv", key="dd_csv", label="Download analogues (CSV)"
    )
    st.page_link(
        _context.PAGES["similar"][0],
        label="Open this state in Similar portfolios",
        icon=":material/join_inner:",
        query_params={"portfolio": portfolio, "date": day.isoformat()},
    )


def body(ctx: _context.PageContext) -> None:
    if _common.require_states(ctx) is None:
        return
    index = _data.state_index(ctx)
    portfolios = ui_support.index_portfolios(index)
    left, right = st.columns(2)
    with left:
        portfolio = _widgets.portfolio_picker("Portfolio", portfolios, key="dd_portfolio")
    frame = _data.underwater(ctx, portfolio)
    episodes = worst_drawdowns(frame, n=10)
    days = index.dates_of(portfolio)
    # Default date: the trough of the worst drawdown, the moment an analyst most wants analogues for.
    worst = episodes["trough_date"].iloc[0] if not episodes.empty else None
    with right:
        _widgets.seed_from_query(
            "dd_date", "date", lambda raw: ui_support.nearest_on_or_before(days, ui_support.parse_day(raw))
        )
        if st.session_state.get("dd_date") not in days:
            st.session_state["dd_date"] = ui_support.nearest_on_or_before(days, worst)
        day = st.selectbox("Date for analogues", days, key="dd_date", format_func=date.isoformat)
        _widgets.publish_query(date=day)
    if frame.empty:
        st.info(f"{portfolio} has no reports with a positive portfolio value, so no drawdown can be drawn.")
    else:
        underwater_chart(frame, portfolio, day)
    episodes_table(episodes)
    analogues(ctx, portfolio, day)


_common.run_page(
    "Drawdown & stress",
    body,
    caption="Under water against named stress windows; analogues of a chosen date and what followed.",
)
