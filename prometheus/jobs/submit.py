"""Submitting a job: a ``queued`` row, then a detached worker process that runs it.

The worker outlives the page script (and the Streamlit session): the page only
polls the jobs table. Database URLs travel in the worker's environment, never
on its command line, where ``ps`` would show a password to every local user.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from prometheus.config import ENV_CACHE_DIR, ENV_DB_URL, ENV_RUNTIME_DB_URL, Settings
from prometheus.errors import ReadOnlyMode
from prometheus.jobs import kinds
from prometheus.store.jobs import Job, JobStore
from prometheus.store.stores import Stores

_PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Popen objects of workers started by this process, polled so finished ones are reaped, not left as zombies.
_children: dict[int, subprocess.Popen[bytes]] = {}


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


def submit_job(stores: Stores, kind: str, params: dict[str, Any]) -> str:
    """Queue a job and start its worker; bad params fail here, before anything is queued."""
    settings = stores.settings
    if settings.read_only:
        raise ReadOnlyMode("this deployment is read-only: jobs that write to the store are disabled")
    kinds.validate(kind, params, settings)
    reap_children()
    job_id = uuid.uuid4().hex
    store = JobStore(stores.runtime)
    store.insert(job_id, kind, params)
    log_path = job_log_path(settings, job_id)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
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
    _children[child.pid] = child
    store.set_pid(job_id, child.pid)
    return job_id


def get_job(stores: Stores, job_id: str) -> Job | None:
    reap_children()
    return JobStore(stores.runtime).get(job_id)


def list_jobs(stores: Stores, limit: int = 20, kinds: tuple[str, ...] = ()) -> list[Job]:
    """Newest first; a job whose worker died without a word shows as failed."""
    reap_children()
    return JobStore(stores.runtime).recent(limit, kinds)
