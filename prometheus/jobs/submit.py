"""Submitting a job: a ``queued`` row, then a detached worker process that runs it.

The worker outlives the page script (and the Streamlit session): the page only
polls the jobs table. Database URLs travel in the worker's environment, never
on its command line, where ``ps`` would show a password to every local user.

A job may be *unique* (an active job of the same kind and params is joined, not
started again) and *cancelled when nobody waits*: pages that show it call
:func:`watch` as they poll, and a job this process started that nobody has watched
for ``UNWATCHED_SECONDS`` is marked failed ("cancelled: ...") and its worker
stopped. Backfills are neither: closing the tab must not stop them. A worker that
cannot be started (no log file, no process) never leaves a job queued: the row is
failed in one line and the error raised.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from prometheus.config import ENV_CACHE_DIR, ENV_DB_URL, ENV_RUNTIME_DB_URL, Settings
from prometheus.errors import PrometheusError, ReadOnlyMode
from prometheus.jobs import kinds
from prometheus.store.jobs import CANCELLED, Job, JobStore
from prometheus.store.stores import Stores

_PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Popen objects of workers started by this process, polled so finished ones are reaped, not left as zombies.
_children: dict[int, subprocess.Popen[bytes]] = {}
UNWATCHED_SECONDS = 30.0  # a cancellable job nobody has polled for this long is stopped
_watched: dict[str, float] = {}  # job id -> last time a page polled it (this process)
_cancellable: dict[str, tuple[subprocess.Popen[bytes], JobStore]] = {}
_lock = threading.Lock()
_reaper: threading.Thread | None = None


def job_log_dir(settings: Settings) -> Path:
    return settings.effective_cache_dir / "jobs"


def job_log_path(settings: Settings, job_id: str) -> Path:
    return job_log_dir(settings) / f"{job_id}.log"


def worker_environment(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The parent's environment, minus its Prometheus settings, plus exactly these settings."""
    env = {k: v for k, v in (base if base is not None else os.environ).items() if not k.startswith("PROMETHEUS_")}
    env[ENV_DB_URL] = settings.db_url
    if settings.runtime_db_url:
        env[ENV_RUNTIME_DB_URL] = settings.runtime_db_url
    if settings.cache_dir is not None:
        env[ENV_CACHE_DIR] = str(settings.cache_dir)
    # The worker must import this very source tree, also when it is not installed.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def reap_children() -> None:
    for pid, child in list(_children.items()):
        if child.poll() is not None:
            del _children[pid]


def _open_log(settings: Settings, job_id: str) -> tuple[IO[bytes], Path | None]:
    """The worker's log file and its path: in the cache folder, else in the temp folder, else nowhere (None)."""
    for folder in (job_log_dir(settings), Path(tempfile.gettempdir()) / "prometheus-jobs"):
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{job_id}.log"
            return path.open("ab"), path
    return open(os.devnull, "wb"), None


@dataclass(frozen=True)
class Submitted:
    job_id: str
    joined: bool  # an identical job was already queued or running: job_id is that job's


def submit_job(
    stores: Stores, kind: str, params: dict[str, Any], *, unique: bool = True, cancel_when_unwatched: bool = False
) -> str:
    """Queue a job and start its worker (see :func:`submit_or_join`); the id of the job that does the work."""
    return submit_or_join(stores, kind, params, unique=unique, cancel_when_unwatched=cancel_when_unwatched).job_id


def submit_or_join(
    stores: Stores, kind: str, params: dict[str, Any], *, unique: bool = True, cancel_when_unwatched: bool = False
) -> Submitted:
    """Queue a job and start its worker; bad params fail here, before anything is queued.

    ``unique`` (the default): an identical job (same kind and params) already queued or
    running is joined instead of queueing a second one, so a double click on a page's
    start button, or two analysts asking for the same backfill, run it once.
    ``cancel_when_unwatched``: stop it once no page of this process has watched it for a while.
    """
    settings = stores.settings
    if settings.read_only:
        raise ReadOnlyMode("this deployment is read-only: jobs that write to the store are disabled")
    kinds.validate(kind, params, settings)
    reap_children()
    store = JobStore(stores.runtime)
    job_id = uuid.uuid4().hex
    log, log_path = _open_log(settings, job_id)
    with log:
        found = store.insert(job_id, kind, params, unique=unique)
        if found != job_id:  # joined an active job: this log stays empty
            if log_path is not None:
                log_path.unlink(missing_ok=True)
            watch(found)
            return Submitted(found, joined=True)
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "prometheus.jobs.worker", job_id],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=worker_environment(settings),
                cwd=str(_PROJECT_ROOT),
                start_new_session=True,  # not killed with the page's process group (e.g. Ctrl-C on streamlit)
                close_fds=True,
            )
        except OSError as exc:
            message = f"could not start a worker process: {exc.strerror or exc}"
            store.fail(job_id, message)
            raise PrometheusError(message) from None
    _children[child.pid] = child
    store.set_pid(job_id, child.pid)
    if cancel_when_unwatched:
        with _lock:
            _cancellable[job_id] = (child, store)
        watch(job_id)
        _start_reaper()
    return Submitted(job_id, joined=False)


def watch(job_id: str) -> None:
    """A page is waiting for this job (call it at every poll)."""
    with _lock:
        _watched[job_id] = time.monotonic()


def cancel_unwatched(now: float | None = None) -> list[str]:
    """Stop the cancellable jobs of this process that nobody watched for UNWATCHED_SECONDS; their ids."""
    now = time.monotonic() if now is None else now
    stopped = []
    with _lock:
        items = list(_cancellable.items())
    for job_id, (child, store) in items:
        if child.poll() is not None:
            with _lock:
                _cancellable.pop(job_id, None)
                _watched.pop(job_id, None)
            continue
        if now - _watched.get(job_id, now) < UNWATCHED_SECONDS:
            continue
        with contextlib.suppress(Exception):  # the table first, so the worker's own "stopped" line does not win
            store.fail(job_id, CANCELLED)
        with contextlib.suppress(OSError):
            child.terminate()
        with _lock:
            _cancellable.pop(job_id, None)
            _watched.pop(job_id, None)
        stopped.append(job_id)
    return stopped


def _start_reaper() -> None:
    global _reaper
    with _lock:
        if _reaper is not None and _reaper.is_alive():
            return

        def loop() -> None:
            while True:
                time.sleep(UNWATCHED_SECONDS / 6)
                cancel_unwatched()
                with _lock:
                    if not _cancellable:
                        return

        _reaper = threading.Thread(target=loop, name="prometheus-job-reaper", daemon=True)
        _reaper.start()


def get_job(stores: Stores, job_id: str) -> Job | None:
    reap_children()
    return JobStore(stores.runtime).get(job_id)


def list_jobs(stores: Stores, limit: int = 20, kinds: tuple[str, ...] = ()) -> list[Job]:
    """Newest first; a job whose worker died without a word shows as failed."""
    reap_children()
    return JobStore(stores.runtime).recent(limit, kinds)
