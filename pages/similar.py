"""Similar portfolios: the nearest historical states to one portfolio's state, why, and what happened next."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from prometheus.numbers import whole_or_none
from prometheus.presenters.choices import (
    SPREAD_HELP,
    SPREADS,
    index_dates,
    index_portfolios,
    nearest_on_or_before,
    parse_day,
    spread_days,
)
from prometheus.presenters.markup import markdown_text
from prometheus.presenters.tables import StateKey, comparison_frame, neighbours_caption, state_keys
from prometheus.services.outcomes import FORECAST_HORIZON_DAYS, values_used
from prometheus.services.similar import SimilarQuery
from ui import context as _context
from ui import data as _data
from ui import shell as _common
from ui import widgets as _widgets
from ui.forecast import forecast_panel

SCOPES = {
    "pit": "Point in time",
    "all": "All history (hindsight)",
    "same": "Same date",
    "range": "Date range",
}
SCOPE_HELP = (
    f"Point in time: only states dated {FORECAST_HORIZON_DAYS} days or more before the query, so what followed "
    "them was known on the query date; only this scope shows a forecast. The others browse any date: what "
    "followed their analogues is hindsight."
)
# tab label -> (the comparison's part, its first column, the table's key); the last tab explains the pair
COMPARE_TABS = {
    "Risk metrics": ("risk_metrics", "metric", "sim_cmp_metrics"),
    "Sectors": ("sectors", "sector", "sim_cmp_sectors"),
    "Factors": ("factors", "factor", "sim_cmp_factors"),
    "Scenario P&L": ("scenarios", "scenario", "sim_cmp_scenarios"),
    "Why they are close": ("explanation", "", ""),
}


def query_controls(ctx: _context.PageContext, index: Any) -> SimilarQuery:
    portfolios = index_portfolios(index)
    all_days = index_dates(index)
    top = st.columns([3, 2, 1])
    with top[0]:
        portfolio = _widgets.portfolio_picker("Portfolio", portfolios, key="sim_portfolio")
    days = index.dates_of(portfolio)
    with top[1]:
        link = _widgets.seed_from_query("sim_date", "date", lambda raw: nearest_on_or_before(days, parse_day(raw)))
        if st.session_state.get("sim_date") not in days:
            st.session_state["sim_date"] = days[-1]  # default: the latest state
        problem = _widgets.date_link_problem(link, portfolio, st.session_state["sim_date"])
        as_of = st.selectbox(
            "Date",
            days,
            key="sim_date",
            format_func=date.isoformat,
            help="The portfolio's state on this date is the query.",
        )
    with top[2]:
        _widgets.seed_from_query("sim_k", "k", lambda raw: whole_or_none(raw, 1, 500))
        st.session_state.setdefault("sim_k", 20)
        top_k = st.number_input("Top k", min_value=1, max_value=500, step=1, key="sim_k")
    if problem:
        _widgets.link_problem(problem)
    bottom = st.columns([3, 3])
    with bottom[0]:
        _widgets.seed_from_query("sim_scope", "scope", lambda raw: SCOPES.get(raw))
        st.session_state.setdefault("sim_scope", SCOPES["pit"])
        scope = st.radio("Search", list(SCOPES.values()), horizontal=True, key="sim_scope", help=SCOPE_HELP)
    with bottom[1]:
        _widgets.seed_from_query("sim_self", "self", lambda raw: raw == "1")
        st.write("")  # line the checkbox up with the radio buttons, not their label
        include_self = st.checkbox(
            "Include this portfolio's other dates",
            key="sim_self",
            help="Rank the portfolio's own history too (never the query state itself).",
        )
        _widgets.seed_from_query(
            "sim_apart", "apart", lambda raw: SPREADS.get(whole_or_none(raw, 1, max(SPREADS)) or 0)
        )
        st.session_state.setdefault("sim_apart", SPREADS[0])
        spread = st.selectbox("Spread in time", list(SPREADS.values()), key="sim_apart", help=SPREAD_HELP)
        apart = spread_days(spread)
    start = end = None
    if scope == SCOPES["range"]:
        left, right, _ = st.columns([2, 2, 2])
        with left:
            start = _widgets.range_bound("From", "sim_start", "start", all_days[0], all_days[-1], all_days[0])
        with right:
            end = _widgets.range_bound("To", "sim_end", "end", all_days[0], all_days[-1], all_days[-1])
    scope_key = next(k for k, v in SCOPES.items() if v == scope)
    _widgets.publish_query(
        date=as_of,
        k=int(top_k or 20),
        scope=None if scope_key == "pit" else scope_key,
        self="1" if include_self else None,
        start=start,
        end=end,
        apart=apart or None,
    )
    return SimilarQuery(
        model_id=ctx.model_id,
        portfolio_id=portfolio,
        as_of=as_of,
        top_k=int(top_k or 20),
        same_date=scope_key == "same",
        start=start,
        end=end,
        include_self=include_self,
        point_in_time_days=FORECAST_HORIZON_DAYS if scope_key == "pit" else None,
        min_days_apart=apart,
    )


def neighbours_table(table: pd.DataFrame, query: SimilarQuery) -> None:
    _widgets.show_table(table, key="sim_table")
    _widgets.csv_download(
        table,
        f"similar_{query.portfolio_id}_{query.as_of.isoformat()}.csv",
        key="sim_csv",
        label="Download neighbours (CSV)",
    )


def side_by_side(frame: pd.DataFrame, label: str, key: str) -> None:
    _widgets.show_table(comparison_frame(frame, label), key=key)


@st.fragment
def comparison(ctx: _context.PageContext, query: SimilarQuery, table: pd.DataFrame) -> None:
    """Picking another neighbour reruns only this part: the search and its tables stay as drawn."""
    st.subheader("Compare with a neighbour")
    keys = state_keys(table)
    # The options are the labels themselves, not row numbers: a row number stays valid when the
    # query changes, so the box kept showing the old neighbour's label (the browser keeps its text)
    # while the tables compared the new #1. A label of another query is no option: the box resets.
    labels = [
        f"#{rank} {key.label()} (cosine {cosine:.4f})"
        for rank, key, cosine in zip(table["rank"], keys, table["cosine"], strict=True)
    ]
    picked = st.selectbox("Neighbour", labels, key="sim_pick")
    other = keys[labels.index(picked) if picked in labels else 0]
    result = _data.compare(ctx, (query.portfolio_id, query.as_of), (other.portfolio_id, other.as_of_date))
    # Lazy tabs: only the open tab's body runs. Plain tabs sent all five tables and the explanation's
    # chart, and Chromium mounted them all in hidden panels (7 grids on a Similar load, 3 now): a reload
    # went from 4.96x to 3.29x a one-line page, a date change 3.91x -> 3.38x (bench/ui_speed.py, medians
    # of 4 A/B runs). The price: a tab click is a run of this fragment (0.77x, was 0.38x drawn locally).
    # The open tab is in the shared link (?compare=Sectors; absent for the first).
    tabs = st.tabs(list(COMPARE_TABS), key="compare", bind="query-params")
    for (part, column, key), tab in zip(COMPARE_TABS.values(), tabs, strict=True):
        if not tab.open:
            continue
        with tab:
            if part == "explanation":
                explain(ctx, query, other, result)
            else:
                side_by_side(getattr(result, part), column, key)


def explain(ctx: _context.PageContext, query: SimilarQuery, other: StateKey, result: Any) -> None:
    """Each feature's share of the pair's cosine and distance; only for models with one named feature per coordinate."""
    explanation = result.explanation
    if explanation is None:
        st.info(
            f"{markdown_text(ctx.model_id)} cannot explain a pair: its coordinates are not one named feature each. "
            "The tabs before this one compare the two states' reports.",
            icon=":material/info:",
        )
        return
    st.caption(
        f"cosine {explanation.cosine:.4f} · euclidean {explanation.euclidean:.4f}: each feature's "
        "products sum to the cosine, its shares of squared difference sum to the distance."
    )
    table_ = result.explanation_table()
    pair = ((query.portfolio_id, query.as_of), (other.portfolio_id, other.as_of_date))
    st.plotly_chart(_data.explanation_chart(ctx, *pair, table_), width="stretch", key="sim_explain_chart")
    _widgets.show_table(table_, key="sim_explain_table")


def what_happened_next(ctx: _context.PageContext, query: SimilarQuery, table: pd.DataFrame) -> None:
    st.subheader("What happened next")
    point_in_time = query.point_in_time_days is not None
    if point_in_time:
        forecast_panel(ctx, query.portfolio_id, query.as_of)
    else:
        st.info(
            f"These analogues may be dated after {query.as_of.isoformat()} or within {FORECAST_HORIZON_DAYS} days "
            "before it: what followed them was not known on that date. Their outcomes below are hindsight, not a "
            "forecast; choose Point in time for a forecast and its measured skill.",
            icon=":material/history:",
        )
    keys = [(str(p), d) for p, d in zip(table["portfolio_id"], table["as_of_date"], strict=True)]
    frame = _data.outcomes(ctx, keys, known_by=query.as_of if point_in_time else None)
    _widgets.show_table(frame, key="sim_outcomes", labels={"portfolio_id": "Analogue"})
    st.caption(
        f"What followed each analogue, from {values_used(frame)}; an empty cell means the store does not reach "
        "that far after the analogue's date."
    )
    _widgets.csv_download(frame, "what_happened_next.csv", key="sim_outcomes_csv", label="Download outcomes (CSV)")


def body(ctx: _context.PageContext) -> None:
    if _common.require_states(ctx) is None:
        return
    index = _data.state_index(ctx)
    query = query_controls(ctx, index)
    table, candidates = _data.neighbours(ctx, query)
    st.markdown(f"**Query:** {markdown_text(_data.state_line(ctx, query.portfolio_id, query.as_of))}")
    st.caption(neighbours_caption(query, len(table), candidates))
    if table.empty:
        st.info("No candidate states in this scope: widen the dates or include the portfolio's own history.")
        return
    neighbours_table(table, query)
    comparison(ctx, query, table)
    what_happened_next(ctx, query, table)


_common.run_page(
    "Similar portfolios", body, caption="Historical analogues: the stored states closest to one portfolio's state."
)
