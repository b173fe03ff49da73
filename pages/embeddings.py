"""Embeddings: the stored states, filtered, downloadable, and one portfolio's history."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from pages import _common, _context, _data, _widgets
from prometheus.services import ui_support

HISTORY_PANELS = (
    ("l2_norm", "L2 norm of the state vector", "%{y:.3f}"),
    ("drawdown", "Drawdown", "%{y:.1%}"),
    ("volatility_1y", "Volatility (1y)", "%{y:.1%}"),
    ("var_95_1d", "VaR 95% (1 day)", "%{y:.2%}"),
    ("beta_1y", "Beta (1y)", "%{y:.2f}"),
)


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
    st.caption(f"{len(frame):,} state(s) of `{ctx.model_id}`")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=360,
        key="emb_table",
        column_config={
            "as_of_date": st.column_config.DateColumn("Date", format="YYYY-MM-DD"),
            "portfolio_id": st.column_config.TextColumn("Portfolio"),
            "model_id": st.column_config.TextColumn("Model"),
            "dim": st.column_config.NumberColumn("Dim", format="%d"),
            "l2_norm": st.column_config.NumberColumn("L2 norm", format="%.6f"),
        },
    )
    _widgets.csv_download(frame, f"states_{ctx.model_id}.csv", key="emb_csv", label="Download states (CSV)")
    return frame


def history_chart(ctx: _context.PageContext, portfolios: list[str]) -> None:
    st.subheader("Portfolio history")
    portfolio = _widgets.portfolio_picker("Portfolio", portfolios, key="emb_history_portfolio")
    history = _data.history(ctx, portfolio)
    figure = make_subplots(
        rows=len(HISTORY_PANELS),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=[title for _, title, _ in HISTORY_PANELS],
    )
    for row, (column, title, hover) in enumerate(HISTORY_PANELS, start=1):
        figure.add_trace(
            go.Scatter(
                x=history["as_of_date"],
                y=history[column],
                name=title,
                mode="lines",
                fill="tozeroy" if column == "drawdown" else None,
                line={"width": 1.5, "color": "#b33" if column == "drawdown" else "#2f5d8a"},
                hovertemplate=f"%{{x|%Y-%m-%d}}: {hover}<extra>{title}</extra>",
            ),
            row=row,
            col=1,
        )
        if column in ("drawdown", "volatility_1y", "var_95_1d"):
            figure.update_yaxes(tickformat=".0%", row=row, col=1)
    figure.update_layout(
        height=170 * len(HISTORY_PANELS), showlegend=False, margin={"l": 10, "r": 10, "t": 30, "b": 10}
    )
    st.plotly_chart(figure, width="stretch", key="emb_history_chart")
    _widgets.csv_download(
        history, f"history_{portfolio}_{ctx.model_id}.csv", key="emb_history_csv", label="Download history (CSV)"
    )


def body(ctx: _context.PageContext) -> None:
    if _common.require_states(ctx) is None:
        return
    index = _data.state_index(ctx)
    portfolios = ui_support.index_portfolios(index)
    states_table(ctx, portfolios, ui_support.index_dates(index))
    history_chart(ctx, portfolios)


_common.run_page("Embeddings", body, caption="Every stored state (one per portfolio per date) and its L2 norm.")
