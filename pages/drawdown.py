"""Drawdown & stress: a portfolio's underwater curve against named stress windows, its worst
drawdowns, and for one date the closest historical analogues and what followed them."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from prometheus.presenters.choices import index_portfolios, nearest_on_or_before, parse_day
from prometheus.presenters.markup import markdown_text
from prometheus.services.drawdown import worst_drawdowns
from prometheus.services.outcomes import FORECAST_HORIZON_DAYS, values_used
from prometheus.services.similar import SimilarQuery
from ui import context as _context
from ui import data as _data
from ui import shell as _common
from ui import widgets as _widgets
from ui.forecast import forecast_panel


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
    st.subheader(f"Closest historical analogues of {markdown_text(portfolio)} on {day.isoformat()}")
    cols = st.columns([1, 2, 2])
    st.session_state.setdefault("dd_k", 10)
    top_k = int(cols[0].number_input("How many", min_value=1, max_value=200, step=1, key="dd_k"))
    with cols[1]:
        st.write("")
        point_in_time = st.checkbox(
            "Point in time",
            value=True,
            key="dd_point_in_time",
            help=f"Only analogues dated {FORECAST_HORIZON_DAYS} days or more before this date, so what followed "
            "them was known on it (the book's own history obeys the same rule). Untick to browse any date: "
            "what followed is then hindsight.",
        )
    with cols[2]:
        st.write("")
        own = st.checkbox(
            f"Include {markdown_text(portfolio)}'s own history",
            value=True,
            key="dd_own",
            help="Untick to see only other portfolios.",
        )
    query = SimilarQuery(
        model_id=ctx.model_id,
        portfolio_id=portfolio,
        as_of=day,
        top_k=top_k,
        include_self=own,
        point_in_time_days=FORECAST_HORIZON_DAYS if point_in_time else None,
    )
    if point_in_time:
        forecast_panel(ctx, portfolio, day)
    table, _ = _data.neighbours(ctx, query)
    if table.empty:
        st.info(
            f"No stored state is dated {FORECAST_HORIZON_DAYS} days or more before this date: pick a later date, "
            "or untick Point in time to browse with hindsight."
        )
        return
    if not point_in_time:
        st.info(
            f"These analogues may be dated after {day.isoformat()}: what followed them is hindsight, not a forecast.",
            icon=":material/history:",
        )
    outcomes = _data.outcomes(
        ctx,
        [(str(p), d) for p, d in zip(table["portfolio_id"], table["as_of_date"], strict=True)],
        known_by=day if point_in_time else None,
    )
    merged = table.merge(outcomes, on=["portfolio_id", "as_of_date"], how="left")
    st.dataframe(
        merged,
        hide_index=True,
        width="stretch",
        key="dd_analogues",
        column_config={**_widgets.neighbour_columns(), **_widgets.outcome_columns()},
    )
    st.caption(f"What followed each analogue, from {values_used(outcomes)}.")
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
    portfolios = index_portfolios(index)
    left, right = st.columns(2)
    with left:
        portfolio = _widgets.portfolio_picker("Portfolio", portfolios, key="dd_portfolio")
    frame = _data.underwater(ctx, portfolio)
    episodes = worst_drawdowns(frame, n=10)
    days = index.dates_of(portfolio)
    # Default date: the trough of the worst drawdown, the moment an analyst most wants analogues for.
    worst = episodes["trough_date"].iloc[0] if not episodes.empty else None
    with right:
        _widgets.seed_from_query("dd_date", "date", lambda raw: nearest_on_or_before(days, parse_day(raw)))
        if st.session_state.get("dd_date") not in days:
            st.session_state["dd_date"] = nearest_on_or_before(days, worst)
        day = st.selectbox("Date for analogues", days, key="dd_date", format_func=date.isoformat)
        _widgets.publish_query(date=day)
    if frame.empty:
        st.info(
            f"{markdown_text(portfolio)} has no reports with a positive portfolio value, so no drawdown can be drawn."
        )
    else:
        st.plotly_chart(_data.underwater_chart(ctx, portfolio, day, frame), width="stretch", key="dd_chart")
        daily = frame.attrs.get("values") == "daily"
        st.caption(
            "Drawn from daily portfolio values."
            if daily
            else "Drawn from the reports' portfolio values, one per report date: drawdowns between reports are missed."
        )
    episodes_table(episodes)
    analogues(ctx, portfolio, day)


_common.run_page(
    "Drawdown & stress",
    body,
    caption="Under water against named stress windows; analogues of a chosen date and what followed.",
)
