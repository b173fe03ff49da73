"""Background jobs that outlive the page script: a row in ``jobs`` plus a detached worker."""

from prometheus.jobs.kinds import BACKFILL, FIT, IMPORT, KINDS, LOAD_DEMO, PROJECTION
from prometheus.jobs.submit import (
    CANCELLED,
    Submitted,
    get_job,
    job_log_path,
    list_jobs,
    submit_job,
    submit_or_join,
    watch,
)
from prometheus.store.jobs import FAILED, QUEUED, RUNNING, STALE_AFTER, SUCCEEDED, WORKER_DIED, Job, JobStore

__all__ = [
    "BACKFILL",
    "CANCELLED",
    "FAILED",
    "FIT",
    "IMPORT",
    "KINDS",
    "LOAD_DEMO",
    "PROJECTION",
    "QUEUED",
    "RUNNING",
    "STALE_AFTER",
    "SUCCEEDED",
    "WORKER_DIED",
    "Job",
    "JobStore",
    "Submitted",
    "get_job",
    "job_log_path",
    "list_jobs",
    "submit_job",
    "submit_or_join",
    "watch",
]
