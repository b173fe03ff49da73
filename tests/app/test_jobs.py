"""Background jobs: real detached worker processes on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from app_helpers import JOINT, NUMERIC, wait_for_job
from helpers import fill_sample

from prometheus import jobs
from prometheus.config import Settings
from prometheus.errors import InvalidInput, ReadOnlyMode, UnknownModel
from prometheus.jobs import kinds, submit, worker
from prometheus.services.dates import DateSelection
from prometheus.services.listing import list_joint_states
from prometheus.store.jobs import JobStore
from prometheus.store.schema import utc_now
from prometheus.store.stores import Stores, open_stores


@pytest.fixture
def reports_only(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    """Sample reports imported, nothing embedded; the cache (job logs) in a temp folder."""
    fill_sample(db_url)
    stores = open_stores(Settings(db_url=db_url, cache_dir=tmp_path_factory.mktemp("cache")))
    yield stores
    stores.dispose()


def test_backfill_job_runs_numeric_then_joint_in_a_worker(reports_only: Stores) -> None:
    stores = reports_only
    job_id = jobs.submit_job(
        stores, jobs.BACKFILL, {"start": "2025-01-01", "end": "2025-03-31", "joint_model_ids": [JOINT]}
    )
    queued = jobs.get_job(stores, job_id)
    assert queued is not None and queued.kind == "backfill" and queued.pid

    job = wait_for_job(stores, job_id)
    assert job.display_status == jobs.SUCCEEDED, job.describe()
    assert job.error is None
    assert job.progress == job.total == 2000  # two steps, in thousandths
    assert job.started_at and job.heartbeat_at and job.finished_at and job.finished_at >= job.started_at
    steps = job.result["steps"]  # type: ignore[index]
    assert [s["model_id"] for s in steps] == [NUMERIC, JOINT]
    assert [s["written"] for s in steps] == [15, 15]
    assert "15 state(s) written" in job.message
    states = list_joint_states(stores, JOINT, DateSelection(start=date(2024, 1, 1)))
    assert len(states) == 15

    # a rerun is idempotent: everything unchanged
    again = wait_for_job(stores, jobs.submit_job(stores, jobs.BACKFILL, {"start": "2025-01-01", "end": "2025-03-31"}))
    assert again.display_status == jobs.SUCCEEDED, again.describe()
    assert [s["written"] for s in again.result["steps"]] == [0, 0]  # type: ignore[index]
    assert [j.job_id for j in jobs.list_jobs(stores)] == [again.job_id, job_id]


def test_failing_job_records_the_user_message_not_a_traceback(reports_only: Stores) -> None:
    stores = reports_only
    job_id = jobs.submit_job(stores, jobs.BACKFILL, {"as_of": "2025-01-31", "portfolio_ids": ["NOPE"]})
    job = wait_for_job(stores, job_id)
    assert job.display_status == jobs.FAILED
    assert job.error == "unknown portfolio 'NOPE': no risk reports exist for it"
    assert job.describe() == "failed: unknown portfolio 'NOPE': no risk reports exist for it"
    log = jobs.job_log_path(stores.settings, job_id).read_text()
    assert "Traceback" in log and "UnknownPortfolio" in log  # the detail is kept, in the log only


def test_job_on_a_date_without_reports_names_the_nearest(reports_only: Stores) -> None:
    job = wait_for_job(reports_only, jobs.submit_job(reports_only, jobs.BACKFILL, {"as_of": "2025-02-01"}))
    assert job.error == "no risk reports on 2025-02-01 (nearest: 2025-01-31, 2025-02-28)"


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"as_of": "31/01/2025"}, InvalidInput, "invalid as-of '31/01/2025': use YYYY-MM-DD, e.g. 2025-01-31"),
        ({}, InvalidInput, "no dates given: set the date, or the start date and the end date"),
        (
            {"start": "2025-02-01", "end": "2025-01-01"},
            InvalidInput,
            "the start date 2025-02-01 is after the end date 2025-01-01: swap them",
        ),
        (
            {"as_of": "2025-01-31", "limit": 0},
            InvalidInput,
            "the limit of portfolios per date must be at least 1, got 0",
        ),
        ({"as_of": "2025-01-31", "joint_model_ids": ["nope"]}, UnknownModel, "unknown joint model 'nope'"),
    ],
)
def test_bad_params_fail_at_submit_and_queue_nothing(
    sqlite_url: str, tmp_path: Path, params: dict[str, Any], error: type[Exception], message: str
) -> None:
    stores = open_stores(Settings(db_url=sqlite_url, cache_dir=tmp_path / "cache"))
    try:
        with pytest.raises(error, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
            jobs.submit_job(stores, jobs.BACKFILL, params)
        with pytest.raises(InvalidInput, match="unknown job kind 'rebuild'"):
            jobs.submit_job(stores, "rebuild", {})
        assert jobs.list_jobs(stores) == []
    finally:
        stores.dispose()


def test_read_only_refuses_jobs(sqlite_url: str, tmp_path: Path) -> None:
    open_stores(Settings(db_url=sqlite_url)).dispose()  # round 2: a read-only store is never created by opening it
    stores = open_stores(Settings(db_url=sqlite_url, cache_dir=tmp_path, read_only=True))
    try:
        with pytest.raises(ReadOnlyMode, match="read-only"):
            jobs.submit_job(stores, jobs.LOAD_DEMO, {})
        assert jobs.list_jobs(stores) == []
    finally:
        stores.dispose()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_running_job_without_heartbeat_or_process_shows_worker_died(sqlite_url: str, tmp_path: Path) -> None:
    stores = open_stores(Settings(db_url=sqlite_url, cache_dir=tmp_path))
    try:
        store = JobStore(stores.runtime)
        old = utc_now() - timedelta(seconds=120)
        for job_id, pid, beat in (
            ("dead", _dead_pid(), old),
            ("alive", os.getpid(), old),
            ("recent", _dead_pid(), utc_now()),
        ):
            store.insert(job_id, jobs.BACKFILL, {"as_of": "2025-01-31"})
            store.claim(job_id, pid)
            store._update(job_id, heartbeat_at=beat)
        shown = {j.job_id: j for j in jobs.list_jobs(stores)}
        assert shown["dead"].display_status == jobs.FAILED
        assert shown["dead"].describe() == "failed: worker died"
        assert shown["dead"].status == jobs.RUNNING  # the table is untouched: a rerun is the remedy
        assert shown["alive"].display_status == jobs.RUNNING  # slow but alive is not dead
        assert shown["recent"].display_status == jobs.RUNNING  # gone, but too recently to judge
    finally:
        stores.dispose()


def test_worker_gets_urls_in_its_environment_not_its_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_url = "postgresql+psycopg://analyst:s3cret@db.example/prometheus"
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'p.db'}", runtime_db_url=secret_url, cache_dir=tmp_path)
    started: list[dict[str, Any]] = []

    class FakePopen:
        pid = 424242

        def __init__(self, args: list[str], **kwargs: Any) -> None:
            started.append({"args": args, **kwargs})

        def poll(self) -> int:
            return 0

    monkeypatch.setenv("PROMETHEUS_ACCESS_CODE", "letmein")
    monkeypatch.setattr(submit.subprocess, "Popen", FakePopen)
    stores = open_stores(Settings(db_url=settings.db_url, cache_dir=tmp_path))
    try:
        stores.settings = settings  # the runtime URL is only handed on, never opened here
        job_id = jobs.submit_job(stores, jobs.LOAD_DEMO, {})
    finally:
        stores.dispose()
    (call,) = started
    assert call["args"] == [sys.executable, "-m", "prometheus.jobs.worker", job_id]
    assert "s3cret" not in " ".join(call["args"])
    assert call["env"]["PROMETHEUS_RUNTIME_DB_URL"] == secret_url
    assert call["env"]["PROMETHEUS_DB_URL"] == settings.db_url
    assert "PROMETHEUS_ACCESS_CODE" not in call["env"]
    assert call["start_new_session"] is True


def test_unexpected_errors_become_one_internal_error_line(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(db_url=sqlite_url, cache_dir=tmp_path)
    stores = open_stores(settings)
    store = JobStore(stores.runtime)
    store.insert("boom", jobs.BACKFILL, {"as_of": "2025-01-31"})

    def explode(*_args: Any) -> dict[str, Any]:
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setitem(kinds.RUNNERS, jobs.BACKFILL, explode)
    assert worker.run_job("boom", settings) == 1
    job = jobs.get_job(stores, "boom")
    stores.dispose()
    assert job is not None and job.status == jobs.FAILED
    assert job.error == "internal error: ZeroDivisionError: division by zero"


def test_load_demo_job_reports_stages_and_stores_the_summary_line(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prometheus.services import demo as demo_load

    class Summary:
        def as_dict(self) -> dict[str, Any]:
            return {"portfolios": 2, "first": date(1990, 1, 5)}

        def line(self) -> str:
            return "demo book: 2 portfolios"

    def fake_load(stores: Stores, progress: Any = None) -> Summary:
        steps = len(demo_load.STEPS)
        for index, step in enumerate(demo_load.STEPS):
            progress(1000 * index, 1000 * steps, f"step {index + 1}/{steps}: {step}")
        progress(1000 * steps, 1000 * steps, "demo book loaded")
        return Summary()

    monkeypatch.setattr(demo_load, "load_demo", fake_load)
    settings = Settings(db_url=sqlite_url, cache_dir=tmp_path)
    stores = open_stores(settings)
    JobStore(stores.runtime).insert("demo", jobs.LOAD_DEMO, {})
    assert worker.run_job("demo", settings) == 0
    job = jobs.get_job(stores, "demo")
    stores.dispose()
    assert job is not None and job.status == jobs.SUCCEEDED
    assert job.result == {
        "portfolios": 2,
        "first": "1990-01-05",
        "line": "demo book: 2 portfolios",
        "seconds": job.result["seconds"],
    }  # type: ignore[index]
    assert job.message == "demo book: 2 portfolios"
    assert job.progress == job.total == 1000 * len(demo_load.STEPS)


def test_throttled_reporter_writes_at_most_twice_a_second(sqlite_url: str, tmp_path: Path) -> None:
    stores = open_stores(Settings(db_url=sqlite_url, cache_dir=tmp_path))
    try:
        JobStore(stores.runtime).insert("t", jobs.BACKFILL, {})
        reporter = worker.ThrottledReporter(JobStore(stores.runtime), "t", interval=60)
        for done in range(1, 101):
            reporter(done, 100, f"{done}/100")
        assert reporter.writes == 2  # the first call and the end
        job = jobs.get_job(stores, "t")
        assert job is not None and (job.progress, job.total, job.message) == (100, 100, "100/100")
    finally:
        stores.dispose()


def test_projection_params_are_checked_at_submit(sqlite_url: str, tmp_path: Path) -> None:
    stores = open_stores(Settings(db_url=sqlite_url, cache_dir=tmp_path))
    try:
        with pytest.raises(InvalidInput, match="method must be 'pca' or 'umap', got 'tsne'"):
            jobs.submit_job(stores, jobs.PROJECTION, {"model_id": JOINT, "method": "tsne"})
        with pytest.raises(UnknownModel, match="unknown joint model 'nope'"):
            jobs.submit_job(stores, jobs.PROJECTION, {"model_id": "nope", "method": "pca"})
        assert jobs.list_jobs(stores) == []
    finally:
        stores.dispose()


def test_pca_projection_job_fills_the_map_cache(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prometheus.projection.maps import project_states

    fill_sample(sqlite_url, backfill=DateSelection(start=date(2025, 1, 1), end=date(2025, 12, 31)))
    stores = open_stores(Settings(db_url=sqlite_url, cache_dir=tmp_path))
    try:
        job = wait_for_job(stores, jobs.submit_job(stores, jobs.PROJECTION, {"model_id": JOINT, "method": "pca"}))
        assert job.display_status == jobs.SUCCEEDED, job.describe()
        assert job.result is not None and job.result["rows"] == 60 and job.result["source"] == "fit"
        assert job.message == "PCA map of 60 states ready"
        assert project_states(stores, JOINT, method="pca").attrs["source"] == "cache"  # the page's call is instant
        # the colours too: the job left the attributes file, so the page computes nothing
        import prometheus.services.attributes as history

        computed = history.state_attributes(stores, JOINT)
        monkeypatch.setattr(history, "state_attributes", lambda *args: pytest.fail("attributes recomputed"))
        pd.testing.assert_frame_equal(history.cached_state_attributes(stores, JOINT), computed)
    finally:
        stores.dispose()
