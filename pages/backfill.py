"""Backfill: embed stored risk reports (numeric, then joint) in a background job, and watch it."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

import streamlit as st

from prometheus import jobs
from prometheus.jobs.kinds import backfill_params, fit_params
from prometheus.presenters import formats
from prometheus.presenters.choices import model_choices
from prometheus.presenters.markup import markdown_text
from prometheus.presenters.tables import jobs_frame
from prometheus.services.dates import DateSelection
from prometheus.services.fits import fit_statuses
from ui import context as _context
from ui import data as _data
from ui import shell as _common
from ui import widgets as _widgets
from ui.widgets import DATE_FORMAT

ALL, ONE, RANGE = "All dates", "One date", "Date range"


def request_form(ctx: _context.PageContext, summary: Any) -> None:
    days = _data.report_dates(ctx)
    left, right = st.columns(2)
    with left:
        mode = st.radio("Dates", [ALL, ONE, RANGE], horizontal=True, key="bf_mode")
        as_of: date | None = None
        start: date | None = days[0]
        end: date | None = days[-1]
        if mode == ONE:
            as_of = st.selectbox("Date", list(reversed(days)), key="bf_day", format_func=lambda d: d.isoformat())
            start = end = None
        elif mode == RANGE:
            start = st.date_input(
                "From", value=days[0], min_value=days[0], max_value=days[-1], key="bf_start", format=DATE_FORMAT
            )
            end = st.date_input(
                "To", value=days[-1], min_value=days[0], max_value=days[-1], key="bf_end", format=DATE_FORMAT
            )
    with right:
        models = st.multiselect(
            "Models",
            model_choices(summary.joint_counts, summary.fitted_models),
            default=[ctx.model_id],
            key="bf_models",
            help="Each joint model backfills its numeric source model first.",
        )
        portfolios = st.multiselect(
            "Portfolios", summary.portfolio_ids, key="bf_portfolios", placeholder="All portfolios"
        )
        limit = st.number_input(
            "At most this many portfolios per date (0 = no limit)", min_value=0, value=0, step=1, key="bf_limit"
        )

    def submit() -> jobs.Submitted:
        params = backfill_params(DateSelection(as_of, start, end), models, portfolios, int(limit) or None)
        return jobs.submit_or_join(ctx.stores, jobs.BACKFILL, params)

    if ctx.read_only:
        st.button("Start backfill", disabled=True, key="bf_start_button")
        st.caption("This deployment is read-only: backfills are disabled.")
        return
    if st.button(
        "Start backfill", type="primary", key="bf_start_button", disabled=not models, icon=":material/play_arrow:"
    ):
        submitted = _common.guarded(ctx.settings, submit)
        if submitted:
            st.session_state["watched_job"] = submitted.job_id
            if submitted.joined:
                st.info(
                    f"The same backfill is already queued or running (job {submitted.job_id[:8]}): "
                    "not started twice; its progress is below.",
                    icon=":material/content_copy:",
                )
            else:
                st.toast("Backfill started: it keeps running if you leave this page.", icon=":material/sync:")


def fitted_models(ctx: _context.PageContext, summary: Any) -> None:
    """Models with parameters learned from the store: their active fit, and a form to fit them."""
    statuses = fit_statuses(ctx.stores)
    if not statuses:
        return
    st.subheader("Fitted models")
    days = _data.report_dates(ctx)
    for status in statuses:
        st.markdown(status.line())
        if status.stale_states:
            st.info(
                f"{status.stale_states:,} stored states of {status.model_id} were embedded with an earlier fit: "
                "backfill it to rewrite them with the active one.",
                icon=":material/sync_problem:",
            )
        if ctx.read_only or not days:
            continue
        left, right = st.columns([2, 3])
        default = min(days[-1], days[0] + (days[-1] - days[0]) // 2)
        train_end = left.date_input(
            "Training end",
            value=default,
            min_value=days[0],
            max_value=days[-1],
            key=f"bf_fit_end_{status.model_id}",
            format=DATE_FORMAT,
            help="The fit learns only from states whose next 91 days had passed by this date; the Embeddings "
            "page's quality panel then scores it on later dates only, beside the baselines and other models.",
        )
        with right:
            st.write("")
            if st.button(
                f"Fit {status.model_id} and embed every state",
                key=f"bf_fit_{status.model_id}",
                icon=":material/model_training:",
            ):
                params = fit_params(status.model_id, train_end)
                job_id = _common.guarded(ctx.settings, partial(jobs.submit_job, ctx.stores, jobs.FIT, params))
                if job_id:
                    st.session_state["watched_job"] = job_id
                    st.toast("Fit started: it keeps running if you leave this page.", icon=":material/model_training:")


def recent_jobs(ctx: _context.PageContext) -> None:
    listed = jobs.list_jobs(ctx.stores, limit=20)
    active = any(j.is_active for j in listed)

    @st.fragment(run_every=1 if active else None)
    def _jobs() -> None:
        current = jobs.list_jobs(ctx.stores, limit=20)
        running = [j for j in current if j.is_active]
        for job in running:
            _common.render_job(job)
        watched = st.session_state.get("watched_job")
        latest = next((j for j in current if j.job_id == watched), None)
        if latest is not None and not latest.is_active:
            _common.render_job(latest)
        still_active = bool(running)
        if st.session_state.get("bf_had_active") and not still_active:
            st.session_state["bf_had_active"] = False
            st.rerun(scope="app")  # a job ended: refresh counts and the polling rate
        st.session_state["bf_had_active"] = still_active
        if not current:
            st.caption("No jobs yet.")
            return
        frame = jobs_frame(current)
        _widgets.show_table(
            frame,
            key="bf_jobs_table",
            extra={
                "message": st.column_config.TextColumn("Message", width="large"),
                "progress": st.column_config.ProgressColumn("Progress", min_value=0, max_value=100, format="%d%%"),
                "job_id": st.column_config.TextColumn("Job id", width="small"),
            },
        )
        failed = [j for j in current if j.display_status == jobs.FAILED]
        if failed:
            with st.expander(f"Errors of failed jobs ({len(failed)})"):
                for job in failed:
                    st.markdown(f"- `{job.job_id[:8]}` {markdown_text(f'{job.kind}: {job.display_error}')}")
            latest_failed = failed[0]
            if not ctx.read_only and st.button(
                "Run the last failed job again",
                key="bf_rerun",
                icon=":material/replay:",
                help="Safe: backfills skip states that are already stored.",
            ):
                job_id = _common.guarded(
                    ctx.settings, lambda: jobs.submit_job(ctx.stores, latest_failed.kind, latest_failed.params)
                )
                if job_id:
                    st.session_state["watched_job"] = job_id
                    st.rerun(scope="app")

    _jobs()
    if not active:
        st.button("Refresh", key="bf_refresh", icon=":material/refresh:")


def body(ctx: _context.PageContext) -> None:
    summary = _data.overview(ctx)
    if summary.report_count == 0:
        st.info(
            "No risk reports are stored, so there is nothing to backfill yet. Load the demo book, or import "
            "your own (risk reports, or holdings and prices) on the Import page.",
            icon=":material/inbox:",
        )
        _common.import_link()
        _common.demo_button(ctx, key="demo_backfill", watch=False)  # the jobs list below shows it
    else:
        st.markdown(
            f"**{formats.count(summary.report_count)}** risk reports for "
            f"**{formats.count(len(summary.portfolio_ids))}** portfolios, {formats.day(summary.first_date)} to "
            f"{formats.day(summary.last_date)}. A backfill embeds them (numeric, then joint); reruns skip unchanged "
            "states, so it is always safe to run again."
        )
        request_form(ctx, summary)
        fitted_models(ctx, summary)
    st.subheader("Recent jobs")
    recent_jobs(ctx)


_common.run_page("Backfill", body)
