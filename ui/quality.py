"""The quality panel of the Embeddings page: is this model's space worth searching?

Measured on a click, not on every page view: on the demo book (57,952 states, 10,316 of them in
stress windows) the figure took 8.6 s in the app (4 methods' neighbours of every stress state),
about 5 s for the 4,160 from 2005. Kept per data version of both models, so a second look (or
another session) is served at once until either model's states change.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from prometheus.presenters import formats
from prometheus.presenters.markup import markdown_text
from prometheus.presenters.quality import quality_note, quality_table
from prometheus.services.quality import QualityReport, comparable_models, embedding_quality, out_of_sample_from
from prometheus.services.versions import data_version_key
from prometheus.store.stores import Stores
from ui import data, widgets
from ui import shell as _common
from ui.context import PageContext

NO_OTHER = "(no other model)"
REQUESTED_KEY = "quality_requested"
EXPLAINED = (
    "For every state inside a named stress window: of its 10 nearest neighbours among other books, "
    "leaving out its own crisis and anything within 91 days (so closeness in time earns nothing), the "
    "share that are stress states too. Three baselines answer the same queries: the date alone, "
    "volatility and drawdown, every report feature. Intervals: 95%, block bootstrap over calendar years."
)


@st.cache_data(show_spinner=False, max_entries=16)
def _measure(
    _stores: Stores, model_id: str, version: str, against: str | None, against_version: str, start: date | None
) -> QualityReport:
    return embedding_quality(_stores, model_id, start=start, against=against)


def measure(ctx: PageContext, against: str | None, start: date | None) -> QualityReport:
    against_version = data_version_key(ctx.stores, against) if against else ""
    return _measure(ctx.stores, ctx.model_id, ctx.version, against, against_version, start)


def _scope(ctx: PageContext, against: str | None) -> date | None:
    """The first query date: after every compared model's training end unless the analyst asks for all."""
    first = out_of_sample_from(ctx.stores, ctx.model_id, against)
    if first is None:
        st.caption("Queries: every stored stress state (no compared model was fitted on this store's states).")
        return None
    honest = st.checkbox(
        f"Only stress states from {formats.day(first)} on",
        value=True,
        key="quality_out_of_sample",
        help="States after the training end of every compared fitted model: a model scored on the states "
        "it was fitted on flatters itself.",
    )
    return first if honest else None


@st.fragment
def quality_panel(ctx: PageContext) -> None:
    st.subheader("Is this space worth searching?")
    st.caption(EXPLAINED)
    counts = data.overview(ctx).joint_counts
    others = comparable_models(counts, ctx.model_id)
    left, right = st.columns([3, 2])
    with left:
        chosen = st.selectbox(
            "Compare with",
            [NO_OTHER, *others],
            key="quality_against",
            help="Another model answers the same queries; the difference is taken query by query. Models "
            "holding different states are compared over the states both hold.",
        )
    against = None if chosen == NO_OTHER else chosen
    with right:
        start = _scope(ctx, against)
    requested: set[tuple[object, ...]] = st.session_state.setdefault(REQUESTED_KEY, set())
    wanted = (ctx.model_id, ctx.version, against, start)
    if st.button("Measure", key="quality_measure", icon=":material/query_stats:"):
        requested.add(wanted)
    if wanted not in requested:
        st.caption(
            f"{formats.count(counts.get(ctx.model_id, 0))} states here (the demo book's 57,952 take about 8 s); "
            "the figures are kept until the states change."
        )
        return
    with st.spinner("Measuring: every stress state's neighbours, for the model and each baseline…"):
        report = _common.guarded(ctx.settings, lambda: measure(ctx, against, start))
    if report is None:
        return
    note = quality_note(report)
    if note.verdict == "none":
        st.info(markdown_text(note.sentence), icon=":material/info:")
        return
    if note.caution:
        st.caption(f":material/warning: {note.caution}")
    table = quality_table(report)
    widgets.show_table(table, key="quality_table", width="content")
    if note.verdict == "beats":
        st.success(markdown_text(note.sentence), icon=":material/check_circle:")
    else:
        st.warning(markdown_text(note.sentence), icon=":material/warning:")
    if note.comparison:
        st.markdown(markdown_text(note.comparison))
    widgets.csv_download(table, f"quality_{ctx.model_id}.csv", key="quality_csv", label="Download figures (CSV)")
