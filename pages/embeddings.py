"""Embeddings: the stored states, filtered, downloadable, and one portfolio's history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from prometheus.presenters import figures, formats
from prometheus.presenters.choices import index_dates, index_portfolios
from prometheus.presenters.markup import markdown_text
from ui import context as _context
from ui import data as _data
from ui import quality as _quality
from ui import shell as _common
from ui import widgets as _widgets


def states_table(ctx: _context.PageContext, portfolios: list[str], days: list) -> pd.DataFrame:
    left, right = st.columns([3, 2])
    with left:
        start, end = _widgets.date_filter("emb", days)
    with right:
        _widgets.seed_from_query(
            "emb_portfolios", "portfolios", lambda raw: [p for p in raw.split(",") if p in portfolios] or None
        )
        chosen = st.multiselect("Portfolios", portfolios, key="emb_portfolios", placeholder="All portfolios")
        _widgets.publish_query(portfolios=",".join(chosen) or None)
    frame = _data.states(ctx, start, end, chosen)
    st.caption(f"{formats.count(len(frame))} state(s) of {markdown_text(ctx.model_id)}")
    _widgets.show_table(frame, key="emb_table", height=360)
    _widgets.csv_download(frame, f"states_{ctx.model_id}.csv", key="emb_csv", label="Download states (CSV)")
    return frame


@st.fragment
def history_chart(ctx: _context.PageContext, portfolios: list[str]) -> None:
    """Another portfolio reruns only this part: the states table above (all 58k states) stays as sent."""
    st.subheader("Portfolio history")
    portfolio = _widgets.portfolio_picker("Portfolio", portfolios, key="emb_history_portfolio")
    history = _data.history(ctx, portfolio)
    figure = figures.history_figure(history)
    st.plotly_chart(figure, width="stretch", key="emb_history_chart")
    _widgets.csv_download(
        history, f"history_{portfolio}_{ctx.model_id}.csv", key="emb_history_csv", label="Download history (CSV)"
    )


def body(ctx: _context.PageContext) -> None:
    if _common.require_states(ctx) is None:
        return
    index = _data.state_index(ctx)
    portfolios = index_portfolios(index)
    states_table(ctx, portfolios, index_dates(index))
    history_chart(ctx, portfolios)
    _quality.quality_panel(ctx)


_common.run_page("Embeddings", body, caption="Every stored state (one per portfolio per date) and its L2 norm.")
