"""Import: the analyst's own data from the browser, checked here, then imported and embedded by a job.

A risk-report file (JSON Lines or CSV), or holdings and prices (with a benchmark and a
sectors file) for the risk engine. Each upload is saved in the cache folder and checked at
once with the same one-line, per-row messages as the command-line tools; the import and
both backfills then run as a background job (all or nothing, as the CLIs), which removes
the uploaded files when it ends.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from prometheus import jobs
from prometheus.errors import PrometheusError
from prometheus.jobs.kinds import ENGINE, REPORTS, import_params
from prometheus.risk import FREQUENCIES
from prometheus.services.importing import FileCheck, check_report_file
from prometheus.services.risk_reports import EngineCheck, check_engine_files
from prometheus.services.uploads import MAX_UPLOAD_MB, check_upload_size, save_upload
from ui import context as _context
from ui import shell as _common
from ui import widgets as _widgets

KINDS = {REPORTS: "Risk reports (JSON Lines or CSV)", ENGINE: "Holdings and prices (risk engine)"}
ENGINE_LABELS = {
    "holdings": "Holdings (date, portfolio_id, ticker, weight)",
    "prices": "Prices (date, then one column per ticker)",
    "benchmark": "Benchmark (date, one price column)",
    "sectors": "Sectors (ticker, name, gics_sector)",
}
JOB_KEY = "import_job"
ROUND_KEY = "import_round"


def _key(name: str) -> str:
    """A widget key that changes once a job has taken its files, so the uploaders start empty again."""
    done = int(st.session_state.get(ROUND_KEY, 0))
    return f"imp_{name}_file" + (f"_{done}" if done else "")


def _saved(ctx: _context.PageContext, uploaded: Any) -> Path | None:
    """The upload saved in the cache folder (once per uploaded file), or None with the reason shown."""
    key = f"import_saved:{uploaded.file_id}"
    if key not in st.session_state:
        check_upload_size(uploaded.name, uploaded.size)
        st.session_state[key] = save_upload(ctx.settings, uploaded.name, uploaded.getvalue())
    return Path(st.session_state[key])


def _remembered(key: str, compute: Callable[[], Any], waiting: str) -> Any | None:
    """``compute()`` once per upload: its result, or its one-line error, kept for the page's reruns."""
    if key not in st.session_state:
        with st.spinner(waiting):
            try:
                st.session_state[key] = ("ok", compute())
            except PrometheusError as exc:
                st.session_state[key] = ("error", str(exc))
    outcome, value = st.session_state[key]
    if outcome == "error":
        st.error(value, icon=":material/error:")
        return None
    return value


def _bad_rows_table(check: FileCheck) -> None:
    frame = pd.DataFrame({"line": [b.line for b in check.bad_rows], "reason": [b.reason for b in check.bad_rows]})
    shown = f"the first {len(check.bad_rows):,}" if check.bad_count > len(check.bad_rows) else "all"
    st.caption(f"Invalid rows ({shown} of {check.bad_count:,}), as the command-line import lists them:")
    _widgets.show_table(frame, key="imp_bad_rows")


def _submit(ctx: _context.PageContext, params: dict[str, Any], used: list[str]) -> None:
    job_id = _common.guarded(ctx.settings, lambda: jobs.submit_job(ctx.stores, jobs.IMPORT, params))
    if job_id:
        st.session_state[JOB_KEY] = job_id
        for key in used:  # the job owns (and removes) these files now
            st.session_state.pop(key, None)
        st.session_state[ROUND_KEY] = int(st.session_state.get(ROUND_KEY, 0)) + 1
        st.toast("Import started: it keeps running if you leave this page.", icon=":material/upload:")


def reports_form(ctx: _context.PageContext) -> None:
    uploaded = st.file_uploader(
        "Risk-report file",
        type=["jsonl", "ndjson", "json", "csv"],
        key=_key("reports"),
        help="JSON Lines: one report per line; CSV: the same columns, JSON-valued columns as JSON text. "
        f"Up to {MAX_UPLOAD_MB} MB.",
    )
    if uploaded is None:
        st.caption(
            "Columns: portfolio_id, as_of_date (YYYY-MM-DD), report_id (optional), portfolio_value, cash, "
            "net_exposure, gross_exposure, leverage, and the JSON objects risk_metrics, scenario_pnl, "
            "exposures_by_sector, exposures_by_factor, metadata (see the README)."
        )
        return
    path = _common.guarded(ctx.settings, lambda: _saved(ctx, uploaded))
    if path is None:
        return
    key = f"import_check:{uploaded.file_id}"
    # Messages name the file as saved (its name cleaned up), as the job's messages will.
    check: FileCheck | None = _remembered(
        key, lambda: check_report_file(path, label=path.name), f"Checking {uploaded.name}…"
    )
    if check is None:
        return
    skip = False
    if check.bad_count:
        st.error(
            f"{check.name}: {check.bad_count:,} invalid row(s); an import of this file as it is would write "
            "nothing. Fix them and upload it again, or skip them.",
            icon=":material/error:",
        )
        _bad_rows_table(check)
        skip = st.checkbox(
            f"Skip the {check.bad_count:,} invalid row(s) and import the {check.reports:,} valid one(s)",
            key="imp_skip",
        )
    else:
        st.success(f"{uploaded.name}: {check.describe()}.", icon=":material/check_circle:")
    ready = check.reports > 0 and (skip or not check.bad_count)
    if st.button("Import and embed", type="primary", key="imp_reports_start", disabled=not ready):
        params = import_params(REPORTS, {"reports": path}, skip_invalid=skip, joint_model_ids=[ctx.model_id])
        _submit(ctx, params, [f"import_saved:{uploaded.file_id}", key])


def engine_form(ctx: _context.PageContext) -> None:
    columns = st.columns(2)
    uploads = {
        name: columns[i % 2].file_uploader(ENGINE_LABELS[name], type=["csv"], key=_key(name))
        for i, name in enumerate(("holdings", "prices", "benchmark", "sectors"))
    }
    present = {name: uploaded for name, uploaded in uploads.items() if uploaded is not None}
    missing = [ENGINE_LABELS[n].split(" (")[0].lower() for n in uploads if n not in present]
    if missing:
        st.caption(f"Still needed: {', '.join(missing)}. The rules of each file are in the README (risk engine).")
        return
    paths: dict[str, Path] = {}
    for name, uploaded in present.items():
        path = _common.guarded(ctx.settings, lambda: _saved(ctx, uploaded))  # noqa: B023 (called at once)
        if path is None:
            return
        paths[name] = path
    key = "import_engine_check:" + ":".join(u.file_id for u in present.values())
    check: EngineCheck | None = _remembered(key, lambda: check_engine_files(**paths), "Checking the four files…")
    if check is None:
        return
    st.success(f"{check.describe()}.", icon=":material/check_circle:")
    frequency = st.selectbox("Report dates", FREQUENCIES, index=FREQUENCIES.index("weekly"), key="imp_frequency")
    if st.button("Build, import and embed", type="primary", key="imp_engine_start"):
        params = import_params(ENGINE, paths, frequency=str(frequency), joint_model_ids=[ctx.model_id])
        used = [key, *(f"import_saved:{u.file_id}" for u in present.values())]
        _submit(ctx, params, used)


def body(ctx: _context.PageContext) -> None:
    if ctx.read_only:
        st.info(
            "This deployment is read-only: imports are disabled. Ask whoever runs it to import your files.",
            icon=":material/lock:",
        )
        return
    st.markdown(
        "Bring your own books: a file of risk reports, or holdings and prices for the risk engine to compute "
        "them. The file is checked here first; the import (all or nothing) and both backfills then run in the "
        "background, so closing the tab does not stop them."
    )
    source = st.radio("What to import", list(KINDS), format_func=KINDS.get, horizontal=True, key="imp_source")
    if source == REPORTS:
        reports_form(ctx)
    else:
        engine_form(ctx)
    watched = st.session_state.get(JOB_KEY)
    if watched:
        _common.job_progress(ctx, watched)
        job = jobs.get_job(ctx.stores, watched)
        if job is not None and job.display_status == jobs.SUCCEEDED:
            st.page_link(_context.PAGES["similar"][0], label="Search the imported books", icon=":material/join_inner:")


_common.run_page("Import", body)
