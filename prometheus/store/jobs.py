"""The ``jobs`` table: one row per background job, written by the page and the worker."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from prometheus.store.database import Database
from prometheus.store.schema import jobs, utc_now

QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
ACTIVE_STATUSES = (QUEUED, RUNNING)

# A worker heartbeats every few seconds; after this long without one, and
# with its process gone, the job is reported as dead.
STALE_AFTER = timedelta(seconds=60)
WORKER_DIED = "worker died"
# A job stopped because no page waited for it any more (see prometheus.jobs.submit).
CANCELLED = "cancelled: nobody was waiting for it any more (open the page again to start it)"


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id runs here (a zombie counts as dead)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    stat = Path(f"/proc/{pid}/stat")
    try:
        # field 3 is the state; the command name in field 2 may hold spaces, so split after ')'
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns: they were written in UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class Job:
    job_id: str
    kind: str
    params: dict[str, Any]
    status: str  # as stored
    progress: int
    total: int
    message: str
    error: str | None
    result: dict[str, Any] | None
    pid: int | None
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None
    stale: bool = False  # active in the table, but its worker is gone

    @property
    def display_status(self) -> str:
        return FAILED if self.stale else self.status

    @property
    def display_error(self) -> str | None:
        return WORKER_DIED if self.stale else self.error

    @property
    def cancelled(self) -> bool:
        return self.display_status == FAILED and self.display_error == CANCELLED

    @property
    def is_active(self) -> bool:
        return self.display_status in ACTIVE_STATUSES

    @property
    def fraction(self) -> float:
        if self.display_status == SUCCEEDED:
            return 1.0
        if self.total <= 0:
            return 0.0
        return max(0.0, min(1.0, self.progress / self.total))

    def describe(self) -> str:
        """One line for a person: status, then the error or the last message."""
        status = self.display_status
        if status == FAILED:
            return f"failed: {self.display_error or 'unknown error'}"
        if status == SUCCEEDED:
            return f"succeeded: {self.message}" if self.message else "succeeded"
        return f"{status}: {self.message}" if self.message else status


def _is_stale(row: Any, now: datetime) -> bool:
    if row.status not in ACTIVE_STATUSES:
        return False
    last_sign = _aware(row.heartbeat_at) or _aware(row.started_at) or _aware(row.created_at)
    if last_sign is None or now - last_sign < STALE_AFTER:
        return False
    return not pid_alive(row.pid)


def _job(row: Any, now: datetime) -> Job:
    return Job(
        job_id=row.job_id,
        kind=row.kind,
        params=dict(row.params or {}),
        status=row.status,
        progress=int(row.progress or 0),
        total=int(row.total or 0),
        message=row.message or "",
        error=row.error,
        result=dict(row.result) if row.result is not None else None,
        pid=row.pid,
        created_at=_aware(row.created_at) or now,
        started_at=_aware(row.started_at),
        heartbeat_at=_aware(row.heartbeat_at),
        finished_at=_aware(row.finished_at),
        stale=_is_stale(row, now),
    )


class JobStore:
    """Reads and writes of the jobs table; every write is its own short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, job_id: str, kind: str, params: dict[str, Any], unique: bool = False) -> str:
        """Queue a job; with ``unique``, return the id of an active job of the same kind and params instead.

        The check and the insert share one write transaction (SQLite's write lock, an
        advisory lock on PostgreSQL), so sessions racing to start the same job start one.
        """
        with self.db.write() as conn:
            if unique:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(7215532)"))
                rows = conn.execute(
                    sa.select(jobs).where(jobs.c.kind == kind, jobs.c.status.in_(ACTIVE_STATUSES))
                ).all()
                now = utc_now()
                for row in rows:
                    if dict(row.params or {}) == params and not _is_stale(row, now):
                        return str(row.job_id)
            conn.execute(
                jobs.insert().values(
                    job_id=job_id,
                    kind=kind,
                    params=params,
                    status=QUEUED,
                    progress=0,
                    total=0,
                    message="waiting for a worker",
                    created_at=utc_now(),
                )
            )
        return job_id

    def set_pid(self, job_id: str, pid: int) -> None:
        self._update(job_id, pid=pid)

    def claim(self, job_id: str, pid: int) -> bool:
        """queued -> running; False if another worker got there first or the job is gone."""
        now = utc_now()
        with self.db.write() as conn:
            claimed = conn.execute(
                jobs.update()
                .where(jobs.c.job_id == job_id, jobs.c.status == QUEUED)
                .values(status=RUNNING, pid=pid, started_at=now, heartbeat_at=now, message="starting")
            ).rowcount
        return bool(claimed)

    def heartbeat(self, job_id: str) -> None:
        self._update(job_id, heartbeat_at=utc_now())

    def report(self, job_id: str, progress: int, total: int, message: str) -> None:
        self._update(job_id, progress=progress, total=total, message=message, heartbeat_at=utc_now())

    def succeed(self, job_id: str, result: dict[str, Any], message: str) -> None:
        now = utc_now()
        self._update(job_id, status=SUCCEEDED, result=result, message=message, heartbeat_at=now, finished_at=now)

    def fail(self, job_id: str, error: str) -> None:
        """Mark a job failed with one line; a job that already ended (e.g. was cancelled) keeps its reason."""
        now = utc_now()
        self._update(job_id, status=FAILED, error=error, heartbeat_at=now, finished_at=now, only_active=True)

    def _update(self, job_id: str, only_active: bool = False, **values: Any) -> None:
        query = jobs.update().where(jobs.c.job_id == job_id)
        if only_active:
            query = query.where(jobs.c.status.in_(ACTIVE_STATUSES))
        with self.db.write() as conn:
            conn.execute(query.values(**values))

    def get(self, job_id: str) -> Job | None:
        with self.db.read() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.job_id == job_id)).first()
        return _job(row, utc_now()) if row is not None else None

    def recent(self, limit: int = 20, kinds: tuple[str, ...] = ()) -> list[Job]:
        query = sa.select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.job_id).limit(limit)
        if kinds:
            query = query.where(jobs.c.kind.in_(kinds))
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        now = utc_now()
        return [_job(row, now) for row in rows]
