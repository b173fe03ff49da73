"""The app shell (navigation, access code, sidebar), the one error boundary of every page,
the empty-store help and the job progress widget.

Pages only render: every number they show comes from a prometheus service.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any, NoReturn

import streamlit as st

from prometheus import jobs
from prometheus.config import Settings
from prometheus.errors import PrometheusError
from prometheus.presenters import formats
from prometheus.presenters.choices import model_choices
from prometheus.presenters.csv_files import RAW_CSV_HELP
from prometheus.presenters.labels import JOB_KIND_LABELS
from prometheus.presenters.markup import markdown_text
from prometheus.store.database import database_error
from prometheus.urls import redact_urls
from ui import access
from ui.access import guard_downloads, keep_secrets_out_of_logs
from ui.context import MODEL_KEY, PAGES, PageContext, context, log, settings
from ui.data import overview
from ui.widgets import RAW_CSV_KEY, commit_dates_on_enter, seed_from_query

_this_run = threading.local()  # a script run executes app.py, then the page, on one thread


def app_pages() -> list[Any]:
    return [
        st.Page(path, title=title, icon=icon, url_path=name, default=(name == "overview"))
        for name, (path, title, icon) in PAGES.items()
    ]


def main() -> None:
    """The app around every page: layout, navigation, the sidebar; then the chosen page.

    Streamlit's own sidebar list is off (``client.showSidebarNavigation`` in
    .streamlit/config.toml): before the first run of this function it would list
    the raw files of pages/. The links are drawn here instead, after the access check.
    Any doubt about the configuration (a secrets file that cannot be read, a setting
    that cannot be understood) refuses to serve: it might have held the access code.
    """
    st.set_page_config(page_title="Prometheus", page_icon=":material/insights:", layout="wide")
    try:
        resolved = settings()
    except Exception as exc:
        _refuse_to_serve(exc)
    keep_secrets_out_of_logs(resolved)
    guard_downloads(_code_required)
    pages = app_pages()
    # Resolved before the access check (drawn nowhere: position hidden), so a deep link keeps
    # its page through the sign-in; nothing of a page runs or shows until the code is given.
    navigation = st.navigation(pages, position="hidden")
    if not _access_granted(resolved):
        st.stop()
    with st.sidebar:
        for page in pages:
            st.page_link(page)
    sidebar()
    with st.sidebar:
        commit_dates_on_enter()
    _this_run.through_app = True
    navigation.run()


def _code_required() -> bool:
    return bool(settings().access_code)


def _refuse_to_serve(exc: BaseException) -> NoReturn:
    reason = str(exc) if isinstance(exc, PrometheusError) else f"{type(exc).__name__} while reading the settings"
    log.error("refusing to serve: %s", reason)
    st.title("Prometheus")
    st.error(
        markdown_text(f"This app serves nothing until its configuration is fixed: {reason}"), icon=":material/lock:"
    )
    st.stop()


def _code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _access_granted(resolved: Settings) -> bool:
    """With PROMETHEUS_ACCESS_CODE (or secrets' access_code) set, ask for it once per session (see ui/access.py)."""
    code = resolved.access_code
    # The session holds a digest of the code it entered: a changed code asks again.
    if not code or st.session_state.get("_access_granted") == _code_digest(code):
        return True
    st.title("Prometheus")
    with st.form("access"):
        given = st.text_input("Access code", type="password", key="access_code_input")
        submitted = st.form_submit_button("Enter")
    if submitted:
        verdict = access.THROTTLE.check(given, code)
        if verdict is True:
            st.session_state["_access_granted"] = _code_digest(code)
            st.rerun()
        if verdict is None:
            minutes = max(1, round(access.THROTTLE.locked_for() / 60))
            st.error(f"Too many wrong access codes: sign-in is paused for about {minutes} minute(s).")
        else:
            st.error("That access code is not right.")
    return False


def _ran_through_app() -> bool:
    through_app = getattr(_this_run, "through_app", False)
    _this_run.through_app = False
    return bool(through_app)


def sidebar() -> None:
    """The database in use (masked) and the model every page reads."""
    try:
        ctx = context()
        models = model_choices(overview(ctx).joint_counts, overview(ctx).fitted_models)
    except Exception as exc:  # the page body shows the full message; the sidebar stays quiet
        log.warning("sidebar: %s", type(exc).__name__)
        return
    seed_from_query(MODEL_KEY, "model", lambda raw: raw if raw in models else None)
    if st.session_state.get(MODEL_KEY) not in models:
        st.session_state[MODEL_KEY] = models[0]
    with st.sidebar:
        st.selectbox(
            "Model", models, key=MODEL_KEY, help="Joint embedding model whose states every page searches and maps."
        )
        st.caption("Store: " + markdown_text(ctx.stores.historical.display_url))
        if ctx.stores.runtime is not ctx.stores.historical:
            st.caption("Reports and jobs: " + markdown_text(ctx.stores.runtime.display_url))
        if ctx.read_only:
            st.caption(":material/lock: Read-only deployment: imports, backfills and the demo loader are disabled.")
        st.toggle("Raw CSV downloads", key=RAW_CSV_KEY, help=RAW_CSV_HELP)


# ---------------------------------------------------------------- the error boundary


def show_error(exc: BaseException, settings_: Settings | None) -> None:
    """One message a person can act on, shown as plain text; the traceback goes to the server log only."""
    urls = [settings_.db_url, settings_.effective_runtime_url] if settings_ is not None else []
    if isinstance(exc, PrometheusError):
        st.error(markdown_text(redact_urls(str(exc), urls)), icon=":material/error:")
        return
    database = database_error(exc, settings_.db_url if settings_ else "")
    if database is not None:
        st.error(markdown_text(redact_urls(database, urls)), icon=":material/database:")
        return
    log.exception("unexpected error on a page")  # scrubbed of secrets by ui.access.keep_secrets_out_of_logs
    text = redact_urls((str(exc).strip().splitlines() or [""])[0], urls)
    st.error(markdown_text(f"internal error: {type(exc).__name__}: {text}"), icon=":material/bug_report:")


def run_page(title: str, body: Callable[[PageContext], None], caption: str | None = None) -> None:
    """Render a page inside the one place where domain errors become a message."""
    if not _ran_through_app():
        # Streamlit runs the files of a pages/ folder directly (its original multipage
        # mode) until a session has called st.navigation, so a deep link to a fresh
        # server (or an AppTest run) lands here without app.py: run the app around
        # this page now. The page file runs again inside; this outer run renders nothing.
        main()
        return
    st.title(title)
    if caption:
        st.caption(caption)
    resolved: Settings | None = None
    try:
        resolved = settings()
        body(context())
    except Exception as exc:  # st.rerun / st.stop / st.switch_page are BaseExceptions and pass through
        show_error(exc, resolved)


def guarded(settings_: Settings, action: Callable[[], Any]) -> Any:
    """Run one action (a button's work) and show its error in place; None if it failed."""
    try:
        return action()
    except Exception as exc:
        show_error(exc, settings_)
        return None


# ---------------------------------------------------------------- empty stores and jobs


def demo_button(ctx: PageContext, key: str, watch: bool = True) -> None:
    """Offer to load the demo book; in read-only mode say why it cannot."""
    help_text = (
        "Builds 40 portfolios' weekly risk reports (1990-2018) from real prices and embeds them, "
        "in the background (about half a minute)."
    )
    if ctx.read_only:
        st.button("Load the demo book", key=key, disabled=True, help=help_text)
        st.caption(
            "This deployment is read-only: loading data is disabled. Ask whoever runs it to load "
            "the demo book (`python -m prometheus.scripts.load_demo`) or to import reports."
        )
        return
    if st.button("Load the demo book", key=key, type="primary", help=help_text):
        job_id = guarded(ctx.settings, lambda: jobs.submit_job(ctx.stores, jobs.LOAD_DEMO, {}))
        if job_id:
            st.session_state["watched_job"] = job_id
    watched = st.session_state.get("watched_job")
    if watched and watch:
        job_progress(ctx, watched)


def import_link() -> None:
    path, _, icon = PAGES["import"]
    st.page_link(path, label="Import your own data", icon=icon)


def require_states(ctx: PageContext) -> Any | None:
    """The store overview when the model has states; otherwise say what to do next and return None."""
    summary = overview(ctx)
    states = int(summary.joint_counts.get(ctx.model_id, 0))
    if summary.report_count == 0:
        st.info(
            "The store is empty: no risk reports yet. Load the demo book to explore, or import your own "
            "(risk reports, or holdings and prices) on the Import page.",
            icon=":material/inbox:",
        )
        import_link()
        demo_button(ctx, key="demo_empty")
        return None
    if states == 0:
        st.info(
            f"{formats.count(summary.report_count)} risk reports are stored, but no {markdown_text(ctx.model_id)} "
            "states yet: "
            "run a backfill to embed them.",
            icon=":material/sync:",
        )
        st.page_link(PAGES["backfill"][0], label="Go to Backfill", icon=":material/sync:")
        demo_button(ctx, key="demo_no_states")
        return None
    return summary


def job_progress(ctx: PageContext, job_id: str) -> None:
    """A progress bar for one job that refreshes itself every second while the job runs."""
    job = jobs.get_job(ctx.stores, job_id)
    if job is None:
        return

    @st.fragment(run_every=1 if job.is_active else None)
    def _poll() -> None:
        jobs.watch(job_id)  # a page is waiting: a job cancelled when nobody waits keeps running
        current = jobs.get_job(ctx.stores, job_id)
        if current is None:
            return
        if not current.is_active and st.session_state.get(f"job_seen_active:{job_id}"):
            # it just finished: rerun the whole page once so counts and caches catch up; the outcome is
            # drawn by that run only (drawn here too, it could show twice while the page reruns)
            del st.session_state[f"job_seen_active:{job_id}"]
            st.rerun(scope="app")
        render_job(current)
        if current.is_active:
            st.session_state[f"job_seen_active:{job_id}"] = True

    _poll()


def render_job(job: jobs.Job) -> None:
    label = JOB_KIND_LABELS.get(job.kind, job.kind)
    status = job.display_status
    label, message, error = markdown_text(label), markdown_text(job.message), markdown_text(job.display_error or "")
    if status == jobs.FAILED:
        st.error(f"{label} job failed: {error}", icon=":material/error:")
    elif status == jobs.SUCCEEDED:
        st.success(f"{label} job succeeded: {message}", icon=":material/check_circle:")
    elif job.total <= 0 and job.progress > 0:  # stages without a total: the message is the progress
        st.caption(f":material/hourglass_top: {label} job {status}: {message}")
    else:
        st.progress(job.fraction, text=f"{label} job {status}: {message}")
