"""How the app gets a map: in the page, as a background job shared by every session, or only from the cache.

The policy, one rule per case:

- **Read-only deployments serve only stored maps** for UMAP: a fit costs both cores for
  tens of seconds and hundreds of MB (58k states: 33-55 s and 678 MB in a new process,
  ``bench/umap_speed.py``), so visitors of a read-only app must never be able to start
  one; whoever runs it stores the map with
  ``python -m prometheus.scripts.build_map --method umap`` (same cache folder). PCA
  (well under a second at 100k states) is still computed in the page.
- **A large UMAP fit is one background job per data version**, shared by every session
  (a session that finds one running watches it instead of starting another) and cancelled
  once no page has watched it for a while (``prometheus.jobs.submit.UNWATCHED_SECONDS``).
- **Other maps are computed in the page, one at a time per data version** for the whole
  server: a second session waits for the first one's result instead of fitting again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from prometheus.errors import PrometheusError
from prometheus.progress import Progress
from prometheus.store.jobs import Job
from prometheus.store.stores import Stores

# Above this many states a first UMAP fit takes tens of seconds (58k states: 16-55 s on 2 cores), so the
# Map page runs it as a background job, which survives leaving the page, instead of in the script.
BACKGROUND_UMAP_STATES = 20_000
# A map job's bar: the map (its stages and epochs) up to MAP_SHARE, then the colours' attributes
# (1-2 s on the demo book once the map is stored, against 30-60 s for a first UMAP).
JOB_STEPS, MAP_SHARE = 1000, 960


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


MapSource = Literal["stored", "job", "page"]


def map_source(method: str, states: int, read_only: bool) -> MapSource:
    """Where the page gets a map it has not got in memory (see the module's rules)."""
    if method == "umap" and read_only:
        return "stored"
    return "job" if runs_as_job(method, states) else "page"


def needs_new_job(job: Job | None) -> bool:
    """No job to watch: none yet, or the last one was cancelled because nobody waited (someone does now)."""
    return job is None or job.cancelled


@dataclass(frozen=True)
class StoredMap:
    model_id: str
    method: str
    rows: int
    data_version: int
    data_stamp: str
    source: str  # "cache", "fit", "transform" or "empty"

    def line(self) -> str:
        how = {"cache": "already stored", "fit": "fitted and stored", "transform": "extended and stored"}
        return f"{self.method.upper()} map of {self.rows:,} {self.model_id} states: {how.get(self.source, 'stored')}"


def store_map(stores: Stores, model_id: str, method: str, progress: Progress | None = None) -> StoredMap:
    """Fit (or extend) the map of the current data and keep it in the cache folder, where every page reads it.

    A map that cannot be kept there (the folder is full, read-only or a file) is an error,
    said in one line: a background job or a read-only deployment could not use it.
    """
    from prometheus.projection.maps import project_states
    from prometheus.services.attributes import cached_state_attributes

    def mapping(done: int, total: int, message: str) -> None:  # the map's own bar, then the attributes' last share
        if progress is not None:
            progress(MAP_SHARE * done // total if total > 0 else 0, JOB_STEPS, message)

    frame = project_states(stores, model_id, method=method, progress=mapping)
    if not frame.attrs.get("stored", True):
        folder = stores.settings.effective_cache_dir / "projections"
        raise PrometheusError(
            f"the map was computed but cannot be stored in {folder}: make that folder writable "
            "(or point PROMETHEUS_CACHE_DIR at one that is) and try again"
        )
    if progress is not None:
        progress(MAP_SHARE, JOB_STEPS, "Reading the states' attributes for the map's colours…")
    cached_state_attributes(stores, model_id)  # the page then opens from two cache files
    return StoredMap(
        model_id,
        method,
        len(frame),
        int(frame.attrs.get("data_version", 0)),
        str(frame.attrs.get("data_stamp", "")),
        str(frame.attrs.get("source", "")),
    )
