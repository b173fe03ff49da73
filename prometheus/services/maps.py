"""How the app gets a map: in the page, or as a background job shared by every session."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus.store.jobs import Job

# Above this many states a first UMAP fit takes minutes (58k states: ~3 min on 2 cores), so the
# Map page runs it as a background job, which survives leaving the page, instead of in the script.
BACKGROUND_UMAP_STATES = 20_000


def latest_projection_job(jobs: Sequence[Job], model_id: str, method: str) -> Job | None:
    """The newest background map job for this model and method (jobs come newest first)."""
    return next(
        (
            j
            for j in jobs
            if j.kind == "projection" and j.params.get("model_id") == model_id and j.params.get("method") == method
        ),
        None,
    )


def projection_ready(job: Job | None, data_stamp: str) -> bool:
    """Whether a finished job left a map of exactly this data version (and stamp) in the cache."""
    return (
        job is not None
        and job.display_status == "succeeded"
        and job.result is not None
        and job.result.get("data_stamp") == data_stamp
    )


def runs_as_job(method: str, states: int) -> bool:
    """A UMAP fit of many states takes minutes: it runs as a background job, not in a page."""
    return method == "umap" and states > BACKGROUND_UMAP_STATES
