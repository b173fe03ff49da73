"""``python -m prometheus.jobs.worker JOB_ID``: run one queued job to its end.

A face, like a CLI: it reads its settings from the environment. The jobs row
gets progress (throttled), a heartbeat from a side thread, and at the end
either a JSON result or a one-line error; tracebacks go to the log file only.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from types import FrameType

from prometheus.config import Settings
from prometheus.errors import PrometheusError
from prometheus.jobs import kinds
from prometheus.store.database import database_error
from prometheus.store.jobs import JobStore
from prometheus.store.stores import open_stores
from prometheus.urls import redact_urls

HEARTBEAT_SECONDS = 5.0
PROGRESS_INTERVAL = 0.5


class Stopped(Exception):
    """The worker was asked to stop (SIGTERM, SIGINT or SIGHUP): the job is marked failed at once, not left running."""

    def __init__(self, signal_name: str = "SIGTERM") -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _on_stop_signal(signum: int, _frame: FrameType | None) -> None:
    raise Stopped(signal.Signals(signum).name)


class ThrottledReporter:
    """Writes progress at most every ``interval`` seconds (and always the very end)."""

    def __init__(self, jobs: JobStore, job_id: str, interval: float = PROGRESS_INTERVAL) -> None:
        self.jobs = jobs
        self.job_id = job_id
        self.interval = interval
        self._last: float | None = None
        self.writes = 0

    def __call__(self, done: int, total: int, message: str) -> None:
        now = time.monotonic()
        at_end = total > 0 and done >= total
        if self._last is not None and now - self._last < self.interval and not at_end:
            return
        self._last = now
        self.writes += 1
        self.jobs.report(self.job_id, done, total, message)


class Heartbeat(threading.Thread):
    def __init__(self, jobs: JobStore, job_id: str, every: float = HEARTBEAT_SECONDS) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.jobs = jobs
        self.job_id = job_id
        self.every = every
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.every):
            try:
                self.jobs.heartbeat(self.job_id)
            except Exception as exc:  # a missed beat is not fatal; a long silence marks the job dead
                print(f"heartbeat failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)


def error_message(exc: BaseException, db_url: str) -> str:
    """What the jobs table (and so the page) says about a failure: one line, no traceback."""
    if isinstance(exc, PrometheusError):
        return str(exc)
    if isinstance(exc, Stopped):
        return f"stopped: the worker received {exc.signal_name} (rerun it: backfills pick up where they stopped)"
    database = database_error(exc, db_url)
    if database is not None:
        return database
    first_line = (str(exc).strip().splitlines() or [""])[0]
    return f"internal error: {type(exc).__name__}: {first_line}"


def _urls(settings: Settings) -> list[str]:
    return [settings.db_url, settings.effective_runtime_url]


def run_job(job_id: str, settings: Settings) -> int:
    stores = open_stores(settings)
    jobs = JobStore(stores.runtime)
    heartbeat: Heartbeat | None = None
    try:
        job = jobs.get(job_id)
        if job is None:
            print(f"no job {job_id}", file=sys.stderr)
            return 2
        try:
            # A stop signal can land while the claim commits or the heartbeat starts (a test that
            # signals the moment it sees the pid hit that window under load): from the claim on, it
            # is recorded like any other stop, not left "running" until the 60 s staleness check.
            if not jobs.claim(job_id, os.getpid()):
                print(f"job {job_id} is {job.status}, not queued: nothing to do", file=sys.stderr)
                return 0
            heartbeat = Heartbeat(jobs, job_id)
            heartbeat.start()
            runner = kinds.RUNNERS.get(job.kind)
            if runner is None:
                raise PrometheusError(f"unknown job kind '{job.kind}'")
            result = runner(stores, job.params, ThrottledReporter(jobs, job_id))
            jobs.succeed(job_id, result, kinds.result_message(job.kind, result))
            print(f"job {job_id} succeeded: {result}", file=sys.stderr, flush=True)
            return 0
        except Exception as exc:
            # the log file keeps the detail (scrubbed of secrets); the table gets one line. A job
            # still queued (stopped before its claim committed) becomes failed too: it was stopped.
            print(redact_urls(traceback.format_exc(), _urls(settings)), file=sys.stderr, flush=True)
            jobs.fail(job_id, redact_urls(error_message(exc, settings.db_url), _urls(settings)))
            return 1
        finally:
            if heartbeat is not None:
                heartbeat.stop.set()
    finally:
        stores.dispose()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m prometheus.jobs.worker JOB_ID", file=sys.stderr)
        return 2
    for stop in STOP_SIGNALS:
        signal.signal(stop, _on_stop_signal)
    try:
        settings = Settings.from_sources(environ=os.environ)
        return run_job(args[0], settings)
    except PrometheusError as exc:  # the store itself cannot be opened: nobody can record it but the log
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Stopped as exc:  # stopped before the job was read: nothing to record
        print(f"stopped by {exc.signal_name} before the job started", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
