"""Small, Streamlit-free helpers the pages use to shape service results for display.

Kept here (not in the page files) so they are plain functions with tests, and
so pages only render.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from prometheus.encoders.joint import JOINT_PORTFOLIO_MODEL_ID, joint_model, joint_model_ids
from prometheus.errors import InvalidInput, UnknownModel
from prometheus.jobs.store import Job
from prometheus.report_files import parse_date
from prometheus.search.index import StateIndex
from prometheus.services.listing import LISTING_HEADER, JointStateRow
from prometheus.services.similar import SimilarResult
from prometheus.store.stores import Stores
from prometheus.stress import STRESS_WINDOWS, StressWindow


def cache_key(stores: Stores, model_id: str) -> str:
    """Changes whenever the data a page shows may have changed: database, reports, embeddings.

    The URLs are hashed so the key never carries a password into logs or messages.
    """
    settings = stores.settings
    where = hashlib.sha256(f"{settings.db_url}|{settings.effective_runtime_url}".encode()).hexdigest()[:16]
    try:
        numeric_id = joint_model(model_id).numeric_model_id
    except UnknownModel:
        numeric_id = ""
    versions = (
        stores.runtime.data_version("reports"),
        stores.historical.data_version(f"numeric:{numeric_id}"),
        stores.historical.data_version(f"joint:{model_id}"),
    )
    return f"{where}:{model_id}:" + ".".join(str(v) for v in versions)


def report_dates(stores: Stores) -> list[date]:
    """Every date with at least one stored risk report, oldest first."""
    return stores.reports.dates()


def index_dates(index: StateIndex) -> list[date]:
    """Distinct dates that have at least one state, oldest first."""
    return [d.astype(object) for d in np.unique(index.dates)]


def index_portfolios(index: StateIndex) -> list[str]:
    """Portfolios with at least one state, sorted."""
    return sorted(str(p) for p in index.portfolio_names)


def states_frame(rows: Sequence[JointStateRow]) -> pd.DataFrame:
    """Listed states as a table: the same columns (and order) as show_joint_portfolios prints."""
    return pd.DataFrame(
        [(r.as_of_date, r.portfolio_id, r.model_id, r.dim, r.l2_norm) for r in rows], columns=list(LISTING_HEADER)
    )


def model_choices(stored: Iterable[str]) -> list[str]:
    """The default joint model first, then every other registered model and any model with stored states."""
    return list(dict.fromkeys([JOINT_PORTFOLIO_MODEL_ID, *joint_model_ids(), *sorted(stored)]))


def parse_day(value: object) -> date | None:
    """A date from a query parameter or widget; None when absent or malformed (a bad link is not an error)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return parse_date(str(value))
    except InvalidInput:
        return None


def nearest_on_or_before(days: Sequence[date], wanted: date | None) -> date | None:
    """The latest of ``days`` not after ``wanted`` (the first day if all are after); the last day if no wish."""
    if not days:
        return None
    ordered = sorted(days)
    if wanted is None:
        return ordered[-1]
    earlier = [d for d in ordered if d <= wanted]
    return earlier[-1] if earlier else ordered[0]


def jobs_frame(jobs: Sequence[Job]) -> pd.DataFrame:
    """The recent-jobs table: one row a job, status as a person should read it."""
    rows = []
    for job in jobs:
        finished = job.finished_at or job.heartbeat_at
        seconds = (finished - job.started_at).total_seconds() if finished and job.started_at else None
        rows.append(
            {
                "created": job.created_at.replace(tzinfo=None),
                "kind": job.kind,
                "status": job.display_status,
                "progress": round(100 * job.fraction),
                "message": job.display_error if job.display_status == "failed" else job.message,
                "seconds": round(seconds, 1) if seconds is not None else None,
                "params": describe_params(job.params),
                "job_id": job.job_id,
            }
        )
    columns = ["created", "kind", "status", "progress", "message", "seconds", "params", "job_id"]
    return pd.DataFrame(rows, columns=columns)


def describe_params(params: Mapping[str, object]) -> str:
    parts = []
    if params.get("as_of"):
        parts.append(f"on {params['as_of']}")
    if params.get("start") or params.get("end"):
        parts.append(f"{params.get('start') or '…'} to {params.get('end') or '…'}")
    portfolios = params.get("portfolio_ids") or []
    if isinstance(portfolios, list) and portfolios:
        parts.append(f"{len(portfolios)} portfolio(s)")
    if params.get("limit"):
        parts.append(f"limit {params['limit']}")
    models = params.get("joint_model_ids")
    if isinstance(models, list) and models:
        parts.append(", ".join(str(m) for m in models))
    return "; ".join(parts)


NEIGHBOUR_COLUMNS = [
    "rank",
    "cosine",
    "euclidean",
    "portfolio_id",
    "as_of_date",
    "drawdown",
    "volatility_1y",
    "dominant_sector",
    "stress_window",
]


def neighbours_frame(result: SimilarResult, attributes: pd.DataFrame) -> pd.DataFrame:
    """The ranked neighbours with each neighbour's own drawdown and volatility on its date."""
    frame = pd.DataFrame(
        [
            {
                "rank": n.rank,
                "cosine": n.cosine,
                "euclidean": n.euclidean,
                "portfolio_id": n.portfolio_id,
                "as_of_date": n.as_of_date,
            }
            for n in result.neighbours
        ],
        columns=["rank", "cosine", "euclidean", "portfolio_id", "as_of_date"],
    )
    return attach_attributes(frame, attributes)[NEIGHBOUR_COLUMNS]


def attach_attributes(frame: pd.DataFrame, attributes: pd.DataFrame) -> pd.DataFrame:
    """Left-join state attributes (drawdown, volatility, sector, stress window) on (portfolio, date)."""
    wanted = ["drawdown", "volatility_1m", "volatility_1y", "return_1y", "dominant_sector", "stress_window"]
    if attributes.empty:
        out = frame.copy()
        for column in wanted:
            out[column] = None
        return out
    keys = attributes[["portfolio_id", "as_of_date", *[c for c in wanted if c in attributes.columns]]].copy()
    keys["as_of_date"] = pd.to_datetime(keys["as_of_date"]).dt.date
    left = frame.copy()
    left["as_of_date"] = pd.to_datetime(left["as_of_date"]).dt.date
    merged = left.merge(keys, on=["portfolio_id", "as_of_date"], how="left")
    for column in wanted:
        if column not in merged.columns:
            merged[column] = None
    return merged


def describe_state(attributes: pd.DataFrame, portfolio_id: str, as_of: date) -> str:
    """One line about a state for people: its drawdown, volatility, largest sector and stress window."""
    label = f"{portfolio_id} on {as_of.isoformat()}"
    if attributes.empty:
        return label
    days = pd.to_datetime(attributes["as_of_date"]).dt.date
    hit = attributes[(attributes["portfolio_id"] == portfolio_id) & (days == as_of)]
    if hit.empty:
        return label
    row = hit.iloc[0]
    parts = [label]
    if pd.notna(row.get("drawdown")):
        parts.append(f"drawdown {row['drawdown']:.1%}")
    if pd.notna(row.get("volatility_1y")):
        parts.append(f"volatility (1y) {row['volatility_1y']:.1%}")
    if row.get("dominant_sector"):
        parts.append(f"largest sector {row['dominant_sector']}")
    if row.get("stress_window"):
        parts.append(f"in {row['stress_window']}")
    return " · ".join(parts)


def windows_between(start: date, end: date) -> list[StressWindow]:
    """Named stress windows that overlap [start, end], for shading a chart."""
    return [w for w in STRESS_WINDOWS if w.end >= start and w.start <= end]


def stress_label(value: object) -> str:
    return value if isinstance(value, str) and value else "—"


@dataclass(frozen=True)
class StateKey:
    portfolio_id: str
    as_of_date: date

    def label(self) -> str:
        return f"{self.portfolio_id} · {self.as_of_date.isoformat()}"


def state_keys(frame: pd.DataFrame) -> list[StateKey]:
    return [
        StateKey(str(p), parse_day(d) or date.min)
        for p, d in zip(frame["portfolio_id"], frame["as_of_date"], strict=True)
    ]


MAP_COLUMNS = ["portfolio_id", "as_of_date", "x", "y", "drawdown", "volatility_1y", "dominant_sector", "stress_window"]


def map_frame(points: pd.DataFrame, attributes: pd.DataFrame) -> pd.DataFrame:
    """Projected states with what the map colours by; ``year`` is a fractional year for a date colour scale."""
    frame = attach_attributes(points.loc[:, ["portfolio_id", "as_of_date", "x", "y"]], attributes)
    frame = frame.loc[:, MAP_COLUMNS].reset_index(drop=True)
    stamps = pd.to_datetime(frame["as_of_date"])
    frame["year"] = stamps.dt.year + (stamps.dt.day_of_year - 1) / 365.25
    frame["dominant_sector"] = frame["dominant_sector"].fillna("").replace("", "unknown")
    frame["stress_window"] = frame["stress_window"].fillna("")
    # Hover text precomputed once, vectorised: per-point Python lists make 60k-point figures slow.
    stress = frame["stress_window"].where(frame["stress_window"] == "", "<br>" + frame["stress_window"])
    frame["hover"] = frame["portfolio_id"].astype(str) + " · " + stamps.dt.strftime("%Y-%m-%d") + stress
    frame["row"] = range(len(frame))
    # float32 halves what the browser receives; a 2-D map needs no more precision
    return frame.astype({"x": "float32", "y": "float32", "year": "float32"})


def _row_number(custom: object) -> int | None:
    # customdata[0] comes back as a list, or (from a typed array) as a {"0": .., "1": ..} mapping
    if isinstance(custom, Mapping):
        first = custom.get("0", custom.get(0))
    elif isinstance(custom, list | tuple):
        first = custom[0] if custom else None
    else:
        first = custom
    if isinstance(first, bool) or not isinstance(first, int | float | str):
        return None
    try:
        return int(float(first))
    except ValueError:
        return None


def year_ticks(years: pd.Series, target: int = 8) -> tuple[list[float], list[str]]:
    """Colour-bar ticks for fractional years: whole years over long spans, quarters or months over short ones."""
    if years.empty:
        return [], []
    low, high = float(years.min()), float(years.max())
    span = high - low
    steps = (10.0, 5.0, 2.0, 1.0, 0.25, 1 / 12)
    step = next((s for s in steps if span / s >= target / 2), steps[-1])
    fmt = "%Y" if step >= 1 else "%Y-%m"
    start = int(low / step) * step
    values: list[float] = []
    tick = start
    while tick <= high + 1e-9:
        if tick >= low - 1e-9:
            values.append(round(tick, 6))
        tick += step
    labels = []
    for value in values:
        year = int(value)
        month = min(12, round((value - year) * 12) + 1)
        labels.append(date(year, month, 1).strftime(fmt))
    return values, labels


def selected_rows(frame: pd.DataFrame, points: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """The map rows behind a Plotly selection (each point carries its row number as customdata[0])."""
    rows = [r for r in (_row_number(p.get("customdata")) for p in points) if r is not None]
    kept = [r for r in dict.fromkeys(rows) if 0 <= r < len(frame)]
    return frame.iloc[kept].sort_values(["as_of_date", "portfolio_id"]).loc[:, MAP_COLUMNS].reset_index(drop=True)


def trajectory(frame: pd.DataFrame, portfolio_id: str) -> pd.DataFrame:
    """One portfolio's states in date order: its path across the map."""
    return frame[frame["portfolio_id"] == portfolio_id].sort_values("as_of_date")


def trajectory_between(path: pd.DataFrame, first_year: int, last_year: int) -> pd.DataFrame:
    years = pd.to_datetime(path["as_of_date"]).dt.year
    return path[(years >= first_year) & (years <= last_year)]


# Above this many states a first UMAP fit takes minutes (58k states: ~3 min on 2 cores), so the
# Map page runs it as a background job, which survives leaving the page, instead of in the script.
BACKGROUND_UMAP_STATES = 20_000


def joint_data_version(stores: Stores, model_id: str) -> int:
    return stores.historical.data_version(f"joint:{model_id}")


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


def projection_ready(job: Job | None, data_version: int) -> bool:
    """Whether a finished job left a map of exactly this data version in the cache."""
    return (
        job is not None
        and job.display_status == "succeeded"
        and job.result is not None
        and job.result.get("data_version") == data_version
    )
