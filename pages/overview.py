"""Overview: what the store holds, where states are missing, and which portfolios look like past stress."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from prometheus.presenters import figures, formats
from prometheus.presenters.markup import markdown_text
from prometheus.presenters.skill import ranking_note
from prometheus.services.demo import SURVIVORSHIP_NOTE, holds_the_demo_book
from prometheus.services.outcomes import FORECAST_HORIZON_DAYS
from ui import context as _context
from ui import data as _data
from ui import shell as _common
from ui import widgets as _widgets

COVERAGE_FREQS = {"By year": "year", "By month": "month"}


def counts(ctx: _context.PageContext, summary: Any) -> None:
    cols = st.columns(5)
    cols[0].metric("Portfolios", formats.count(len(summary.portfolio_ids)))
    cols[1].metric("Report dates", formats.count(summary.report_dates))
    cols[2].metric("First date", formats.day(summary.first_date) or "—")
    cols[3].metric("Last date", formats.day(summary.last_date) or "—")
    cols[4].metric(
        "States",
        formats.count(summary.joint_counts.get(ctx.model_id, 0)),
        help=f"Joint states of {ctx.model_id}, one per portfolio per date.",
    )
    models = pd.DataFrame(
        [{"model": m, "kind": "numeric", "states": n} for m, n in summary.numeric_counts.items()]
        + [{"model": m, "kind": "joint", "states": n} for m, n in summary.joint_counts.items()],
        columns=["model", "kind", "states"],
    )
    with st.expander(f"States per model · {formats.count(summary.report_count)} risk reports stored"):
        _widgets.show_table(models, key="ov_models", width="content")
    if holds_the_demo_book(summary.portfolio_ids):
        st.caption(f":material/info: {SURVIVORSHIP_NOTE}")


def coverage_heatmap(ctx: _context.PageContext) -> None:
    st.subheader("Coverage")
    choice = st.segmented_control("Period", list(COVERAGE_FREQS), default="By year", key="ov_freq")
    table = _data.coverage(ctx, COVERAGE_FREQS.get(choice or "By year", "year"))
    if table.empty:
        st.caption("No states to show.")
        return
    figure = figures.coverage_figure(table)
    st.plotly_chart(figure, width="stretch", key="ov_coverage")
    st.caption("States per portfolio and period: gaps (white) are dates with no embedded state.")


def early_warning(ctx: _context.PageContext) -> None:
    st.subheader("Early warning")
    st.caption(
        f"Each book's latest state ranked by its point-in-time forecast of the max drawdown over the next "
        f"{FORECAST_HORIZON_DAYS} days (current volatility and the outcomes of its nearest analogues known then), "
        "deepest first."
    )
    ranking = _data.early_warning(ctx)
    note = ranking_note(_data.skill(ctx))
    st.caption(note.line)
    if note.warning:
        (st.warning if note.verdict == "worse" else st.info)(note.warning)
    if ranking.empty or ranking["forecast_max_drawdown"].isna().all():
        st.info("No book has enough history for a point-in-time forecast yet, so nothing to rank.")
        return
    _widgets.show_table(
        ranking, key="ov_warning_table", labels={"as_of_date": "Latest state", "drawdown": "Drawdown now"}
    )
    _widgets.csv_download(ranking, "early_warning.csv", key="ov_warning_csv", label="Download ranking (CSV)")
    first = ranking.iloc[0]
    st.page_link(
        _context.PAGES["similar"][0],
        label=f"Open {markdown_text(first['portfolio_id'])} in Similar portfolios",
        icon=":material/join_inner:",
        query_params={"portfolio": str(first["portfolio_id"]), "date": str(first["as_of_date"])},
    )


def body(ctx: _context.PageContext) -> None:
    summary = _data.overview(ctx)
    if summary.report_count:
        counts(ctx, summary)
    if _common.require_states(ctx) is None:
        return
    coverage_heatmap(ctx)
    early_warning(ctx)
    st.divider()
    _widgets.page_links("similar", "map", "drawdown", "embeddings", "backfill")


_common.run_page(
    "Prometheus", body, caption="Find similar historical portfolio states; see drawdowns and stress periods on maps."
)
