"""Drawdown & stress: a portfolio's underwater curve against named stress windows, its worst
drawdowns, and for one date the closest historical analogues and what followed them."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from prometheus.numbers import whole_or_none
from prometheus.presenters.choices import (
    SPREAD_HELP,
    SPREADS,
    index_portfolios,
    nearest_on_or_before,
    parse_day,
    spread_days,
    spread_from_link,
)
from prometheus.presenters.heat import MONTHLY_HEAT
from prometheus.presenters.markup import markdown_text
from prometheus.presenters.tables import describe_depth, neighbours_caption
from prometheus.services.drawdown import worst_drawdowns
from prometheus.services.outcomes import (
    FORECAST_HORIZON_DAYS,
    HORIZONS_DAYS,
    drawdown_column,
    return_column,
    values_used,
)
from prometheus.services.similar import SimilarQuery
from ui import context as _context
from ui import data as _data
from ui import shell as _common
from ui import underwater as _underwater
from ui import widgets as _widgets
from ui.forecast import forecast_panel

# What followed comes right after who and when, in fixed widths that add up to 875 px: with every
# neighbour column first, the forward returns were past the right edge of the table (938 px wide in
# a 1400-pixel window, measured in Chromium); the similarity scores come last.
FORWARD_COLUMNS = [name for days in HORIZONS_DAYS for name in (return_column(days), drawdown_column(days))]
ANALOGUE_WIDTHS = {"rank": 40, "portfolio_id": 200, "as_of_date": 95, **dict.fromkeys(FORWARD_COLUMNS, 135)}
ANALOGUE_COLUMNS = [
    "rank",
    "portfolio_id",
    "as_of_date",
    *FORWARD_COLUMNS,
    "drawdown",
    "volatility_1y",
    "stress_known_then",
    "dominant_sector",
    "cosine",
    "euclidean",
    "values",
]


def selected_row() -> int | None:
    """The row selected in the worst-drawdowns table (its widget state), if any."""
    state = st.session_state.get("dd_episodes")
    rows = list(getattr(getattr(state, "selection", None), "rows", None) or [])
    if not rows and isinstance(state, dict):
        rows = list(state.get("selection", {}).get("rows", []))
    return int(rows[0]) if rows else None


def picked_episode(episodes: pd.DataFrame) -> date | None:
    """The trough of the row just selected in the worst-drawdowns table (None: no new selection).

    Read before the date box is drawn (a selection reruns the page), so the box can take it.
    """
    row = selected_row()
    if row == st.session_state.get("dd_episode_seen"):
        return None
    st.session_state["dd_episode_seen"] = row
    if row is None or not 0 <= row < len(episodes):
        return None
    return parse_day(episodes["trough_date"].iloc[row])


def episodes_table(episodes: pd.DataFrame) -> None:
    st.subheader("Worst drawdowns")
    if episodes.empty:
        st.caption("Never under water in the stored reports.")
        return
    st.caption("Select a row to open that episode: its trough becomes the date for analogues below.")
    _widgets.show_table(episodes, key="dd_episodes", on_select="rerun", selection_mode="single-row")


def monthly_table(ctx: _context.PageContext, portfolio: str, frame: pd.DataFrame) -> None:
    with st.expander("Monthly returns"):
        table = _underwater.monthly_returns(ctx, portfolio, frame)
        st.caption(
            "Each month from the last value of the month before to its last value; empty where the month, or "
            "the one before it, has no value. The first and last years are partial."
        )
        _widgets.show_table(table, key="dd_monthly", height=min(38 + 35 * len(table), 420), heat=MONTHLY_HEAT)
        _widgets.csv_download(table, f"monthly_returns_{portfolio}.csv", key="dd_monthly_csv", label="Download (CSV)")


ANALOGUES_SHOWN, ANALOGUES_MAX = 10, 200  # the default and the largest number of analogues
LINK_FLAGS = {"0": False, "1": True}


def analogues(ctx: _context.PageContext, portfolio: str, day: date) -> None:
    st.subheader(f"Closest historical analogues of {markdown_text(portfolio)} on {day.isoformat()}")
    cols = st.columns([1, 2, 2, 2])
    # A shared link keeps these settings (?k=5&pit=0&own=0&apart=91; the defaults are left out)
    _widgets.seed_from_query("dd_k", "k", lambda raw: whole_or_none(raw, 1, ANALOGUES_MAX))
    _widgets.seed_from_query("dd_point_in_time", "pit", lambda raw: LINK_FLAGS.get(raw))
    _widgets.seed_from_query("dd_own", "own", lambda raw: LINK_FLAGS.get(raw))
    _widgets.seed_from_query("dd_apart", "apart", spread_from_link)
    for key, default in (
        ("dd_k", ANALOGUES_SHOWN),
        ("dd_point_in_time", True),
        ("dd_own", True),
        ("dd_apart", SPREADS[0]),
    ):
        st.session_state.setdefault(key, default)
    top_k = int(cols[0].number_input("How many", min_value=1, max_value=200, step=1, key="dd_k"))
    with cols[1]:
        st.write("")
        point_in_time = st.checkbox(
            "Point in time",
            key="dd_point_in_time",
            help=f"Only analogues dated {FORECAST_HORIZON_DAYS} days or more before this date, so what followed "
            "them was known on it (the book's own history obeys the same rule). Untick to browse any date: "
            "what followed is then hindsight.",
        )
    with cols[2]:
        st.write("")
        own = st.checkbox(
            f"Include {markdown_text(portfolio)}'s own history",
            key="dd_own",
            help="Untick to see only other portfolios.",
        )
    spread = cols[3].selectbox("Spread in time", list(SPREADS.values()), key="dd_apart", help=SPREAD_HELP)
    apart = spread_days(spread)
    _widgets.publish_query(
        k=None if top_k == ANALOGUES_SHOWN else top_k,
        pit=None if point_in_time else "0",
        own=None if own else "0",
        apart=apart or None,
    )
    query = SimilarQuery(
        model_id=ctx.model_id,
        portfolio_id=portfolio,
        as_of=day,
        top_k=top_k,
        include_self=own,
        point_in_time_days=FORECAST_HORIZON_DAYS if point_in_time else None,
        min_days_apart=apart,
    )
    if point_in_time:
        forecast_panel(ctx, portfolio, day)
    table, candidates = _data.neighbours(ctx, query)
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
    merged = table.merge(outcomes, on=["portfolio_id", "as_of_date"], how="left").loc[:, ANALOGUE_COLUMNS]
    st.caption(neighbours_caption(query, len(table), candidates))
    _widgets.show_table(merged, key="dd_analogues", widths=ANALOGUE_WIDTHS)
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
    frame = _underwater.underwater(ctx, portfolio)
    episodes = worst_drawdowns(frame, n=10)
    days = index.dates_of(portfolio)
    # Default date: the trough of the worst drawdown, the moment an analyst most wants analogues for.
    worst = episodes["trough_date"].iloc[0] if not episodes.empty else None
    with right:
        link = _widgets.seed_from_query("dd_date", "date", lambda raw: nearest_on_or_before(days, parse_day(raw)))
        linked = link is not None and link.value is not None
        # Another portfolio chosen: its own worst trough, not the date picked for the previous one
        # (a linked date is kept: the link set both together).
        switched = not linked and st.session_state.get("dd_date_of") not in (None, portfolio)
        if switched:  # a row still selected was a row of the other book's table: not a new pick
            st.session_state["dd_episode_seen"] = selected_row()
        episode = None if switched else picked_episode(episodes)
        if episode is not None:
            st.session_state["dd_date"] = nearest_on_or_before(days, episode)
        elif switched or st.session_state.get("dd_date") not in days:
            st.session_state["dd_date"] = nearest_on_or_before(days, worst)
        st.session_state["dd_date_of"] = portfolio
        problem = _widgets.date_link_problem(link, portfolio, st.session_state["dd_date"])
        if problem:
            _widgets.link_problem(problem)
        day = st.selectbox("Date for analogues", days, key="dd_date", format_func=date.isoformat)
        _widgets.publish_query(date=day)
    if frame.empty:
        st.info(
            f"{markdown_text(portfolio)} has no reports with a positive portfolio value, so no drawdown can be drawn."
        )
    else:
        st.plotly_chart(_underwater.underwater_chart(ctx, portfolio, frame), width="stretch", key="dd_chart")
        daily = frame.attrs.get("values") == "daily"
        st.caption(
            "Drawn from daily portfolio values."
            if daily
            else "Drawn from the reports' portfolio values, one per report date: drawdowns between reports are missed."
        )
        st.markdown(describe_depth(frame, day))
    episodes_table(episodes)
    if not frame.empty:
        monthly_table(ctx, portfolio, frame)
    analogues(ctx, portfolio, day)


_common.run_page(
    "Drawdown & stress",
    body,
    caption="Under water against named stress windows; analogues of a chosen date and what followed.",
)
