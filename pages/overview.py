"""Overview: what the store holds, where states are missing, and which portfolios look like past stress."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from prometheus.numbers import InvalidNumber, parse_whole
from prometheus.presenters import figures
from prometheus.presenters.markup import markdown_text
from ui import context as _context
from ui import data as _data
from ui import shell as _common
from ui import widgets as _widgets

COVERAGE_FREQS = {"By year": "year", "By month": "month"}


def counts(ctx: _context.PageContext, summary: Any) -> None:
    cols = st.columns(5)
    cols[0].metric("Portfolios", len(summary.portfolio_ids))
    cols[1].metric("Report dates", f"{summary.report_dates:,}")
    cols[2].metric("First date", f"{summary.first_date:%Y-%m-%d}" if summary.first_date else "—")
    cols[3].metric("Last date", f"{summary.last_date:%Y-%m-%d}" if summary.last_date else "—")
    cols[4].metric(
        "States",
        f"{summary.joint_counts.get(ctx.model_id, 0):,}",
        help=f"Joint states of {ctx.model_id}, one per portfolio per date.",
    )
    models = pd.DataFrame(
        [{"model": m, "kind": "numeric", "states": n} for m, n in summary.numeric_counts.items()]
        + [{"model": m, "kind": "joint", "states": n} for m, n in summary.joint_counts.items()],
        columns=["model", "kind", "states"],
    )
    with st.expander(f"States per model · {summary.report_count} risk reports stored"):
        st.dataframe(models, hide_index=True, width="content")


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


def _threshold_from_link(raw: str) -> int | None:
    try:
        value = parse_whole(raw)
    except InvalidNumber:
        return None
    return value if -60 <= value <= -5 and value % 5 == 0 else None


def early_warning(ctx: _context.PageContext) -> None:
    st.subheader("Early warning")
    st.caption(
        "Each portfolio's latest state ranked by how close it is to a past state that was in deep "
        "drawdown or inside a named stress window."
    )
    _widgets.seed_from_query("ov_threshold", "threshold", _threshold_from_link)
    st.session_state.setdefault("ov_threshold", -20)
    threshold_pct = st.slider(
        "Drawdown that counts as stress", min_value=-60, max_value=-5, step=5, format="%d%%", key="ov_threshold"
    )
    _widgets.publish_query(threshold=None if threshold_pct == -20 else threshold_pct)
    ranking = _data.early_warning(ctx, threshold_pct / 100)
    if ranking.empty or ranking["nearest_stress_portfolio"].isna().all():
        st.info("No past state is that deep in drawdown or inside a stress window, so nothing to warn about.")
        return
    st.dataframe(
        ranking,
        hide_index=True,
        width="stretch",
        key="ov_warning_table",
        column_config={
            "portfolio_id": st.column_config.TextColumn("Portfolio"),
            "as_of_date": st.column_config.DateColumn("Latest state"),
            "nearest_stress_portfolio": st.column_config.TextColumn("Closest stress state: portfolio"),
            "nearest_stress_date": st.column_config.DateColumn("Stress date"),
            "stress_reason": st.column_config.TextColumn("Why it counts as stress"),
            "cosine": st.column_config.NumberColumn("Cosine", format="%.4f"),
            "euclidean": st.column_config.NumberColumn("Euclidean", format="%.4f"),
        },
    )
    _widgets.csv_download(
        ranking, f"early_warning_{abs(threshold_pct)}pct.csv", key="ov_warning_csv", label="Download ranking (CSV)"
    )
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
