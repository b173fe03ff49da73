"""Round 2 for background jobs: one map job per data version, cancelled when nobody waits; a worker
stopped by SIGINT says so at once; a job never waits for a worker that could not start."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from app_helpers import wait_for_job
from helpers import ALL_SAMPLE_DATES, fill_sample

from prometheus import jobs
from prometheus.config import Settings
from prometheus.errors import PrometheusError
from prometheus.jobs import submit
from prometheus.services.maps import needs_new_job
from prometheus.store.stores import Stores, open_stores

UMAP = {"model_id": "joint-portfolio-core-v1", "method": "umap"}


@pytest.fixture
def sample(sqlite_url: str, tmp_path: Path) -> Stores:
    fill_sample(sqlite_url, backfill=ALL_SAMPLE_DATES)
    stores = open_stores(Settings(db_url=sqlite_url, cache_dir=tmp_path / "cache"))
    yield stores
    stores.dispose()


def _running(stores: Stores, job_id: str, timeout: float = 30) -> jobs.Job:
    deadline = time.monotonic() + timeout
    while (job := jobs.get_job(stores, job_id)) is not None and job.status == jobs.QUEUED:
        assert time.monotonic() < deadline, "the worker never claimed the job"
        time.sleep(0.05)
    assert job is not None and job.pid
    return job


def test_one_map_job_per_data_version_cancelled_when_nobody_waits(sample: Stores) -> None:
    first = jobs.submit_job(sample, jobs.PROJECTION, UMAP, unique=True, cancel_when_unwatched=True)
    for _ in range(4):  # four more sessions open the Map page: they join the running job
        assert jobs.submit_job(sample, jobs.PROJECTION, UMAP, unique=True, cancel_when_unwatched=True) == first
    assert len(jobs.list_jobs(sample, kinds=(jobs.PROJECTION,))) == 1
    running = _running(sample, first)
    assert submit.cancel_unwatched(now=time.monotonic()) == []  # watched just now: keeps running
    assert submit.cancel_unwatched(now=time.monotonic() + submit.UNWATCHED_SECONDS + 1) == [first]
    ended = wait_for_job(sample, first, timeout=20)
    assert ended.display_status == jobs.FAILED and ended.error == jobs.CANCELLED  # not the worker's "stopped"
    assert not _alive(running.pid)
    assert needs_new_job(ended)  # the next visitor starts it again
    second = jobs.submit_job(sample, jobs.PROJECTION, UMAP, unique=True, cancel_when_unwatched=True)
    assert second != first
    submit.cancel_unwatched(now=time.monotonic() + 10 * submit.UNWATCHED_SECONDS)
    wait_for_job(sample, second, timeout=20)


def _alive(pid: int | None, timeout: float = 15) -> bool:
    """Whether the process is still there after up to ``timeout`` seconds of waiting for it to end."""
    from prometheus.store.jobs import pid_alive

    deadline = time.monotonic() + timeout
    while pid is not None and pid_alive(pid) and time.monotonic() < deadline:
        submit.reap_children()
        time.sleep(0.1)
    return pid is not None and pid_alive(pid)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_worker_stopped_by_a_signal_says_so_at_once(sqlite_url: str, tmp_path: Path, stop: signal.Signals) -> None:
    stores = open_stores(Settings(db_url=sqlite_url, cache_dir=tmp_path / "cache"))
    try:
        job_id = jobs.submit_job(stores, jobs.LOAD_DEMO, {})  # half a minute of work: long enough to interrupt
        job = _running(stores, job_id)
        time.sleep(0.5)
        began = time.monotonic()
        os.kill(job.pid or 0, stop)
        ended = wait_for_job(stores, job_id, timeout=20)
        assert time.monotonic() - began < 10  # before: "running" until the 60 s staleness check
        assert ended.display_status == jobs.FAILED
        assert ended.error == (
            f"stopped: the worker received {stop.name} (rerun it: backfills pick up where they stopped)"
        )
    finally:
        stores.dispose()


def test_a_stop_signal_landing_as_the_claim_commits_is_recorded(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found under load in a full run: the signal came while the claim committed, the job stayed
    "running" with no heartbeat and read "worker died" a minute later instead of "stopped"."""
    from prometheus.jobs import worker
    from prometheus.store.jobs import JobStore

    settings = Settings(db_url=sqlite_url, cache_dir=tmp_path / "cache")
    stores = open_stores(settings)
    try:
        job_id = JobStore(stores.runtime).insert("a-stopped-job", jobs.BACKFILL, {"as_of": "2025-01-31"})
        claim = JobStore.claim

        def claim_then_signal(self: JobStore, job: str, pid: int) -> bool:
            claim(self, job, pid)
            raise worker.Stopped("SIGTERM")

        monkeypatch.setattr(JobStore, "claim", claim_then_signal)
        assert worker.run_job(job_id, settings) == 1
        ended = jobs.get_job(stores, job_id)
        assert ended is not None and ended.display_status == jobs.FAILED
        assert ended.error == "stopped: the worker received SIGTERM (rerun it: backfills pick up where they stopped)"
    finally:
        stores.dispose()


def test_a_worker_that_cannot_start_leaves_no_queued_job(sample: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_process(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(submit.subprocess, "Popen", no_process)
    with pytest.raises(PrometheusError) as info:
        jobs.submit_job(sample, jobs.BACKFILL, {"as_of": "2025-01-31"})
    assert str(info.value) == "could not start a worker process: Resource temporarily unavailable"
    (job,) = jobs.list_jobs(sample)
    assert job.display_status == jobs.FAILED and job.error == str(info.value)


def test_jobs_run_with_an_unusable_cache_folder_and_a_map_that_cannot_be_kept_fails_in_one_line(
    sqlite_url: str, tmp_path: Path
) -> None:
    fill_sample(sqlite_url, backfill=ALL_SAMPLE_DATES)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    stores = open_stores(Settings(db_url=sqlite_url, cache_dir=blocker))
    try:
        backfill = wait_for_job(stores, jobs.submit_job(stores, jobs.BACKFILL, {"as_of": "2025-01-31"}))
        assert backfill.display_status == jobs.SUCCEEDED, backfill.describe()  # its log went to the temp folder
        pca = wait_for_job(stores, jobs.submit_job(stores, jobs.PROJECTION, {"method": "pca"}))
        assert pca.display_status == jobs.FAILED
        assert pca.error == (
            f"the map was computed but cannot be stored in {blocker / 'projections'}: make that folder writable "
            "(or point PROMETHEUS_CACHE_DIR at one that is) and try again"
        )
        assert not [j for j in jobs.list_jobs(stores) if j.is_active]
    finally:
        stores.dispose()
