"""Service results as the tables the pages show and export: states, jobs, analogues."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import pandas as pd

from prometheus.keys import StateKey
from prometheus.presenters import formats, labels
from prometheus.presenters.choices import parse_day
from prometheus.services.drawdown import underwater_at
from prometheus.services.listing import LISTING_HEADER, JointStateRow
from prometheus.services.similar import SimilarQuery, SimilarResult
from prometheus.store.jobs import Job


def states_frame(rows: Sequence[JointStateRow]) -> pd.DataFrame:
    """Listed states as a table: the same columns (and order) as show_joint_portfolios prints."""
    return pd.DataFrame(
        [(r.as_of_date, r.portfolio_id, r.model_id, r.dim, r.l2_norm) for r in rows], columns=list(LISTING_HEADER)
    )


def jobs_frame(jobs: Sequence[Job]) -> pd.DataFrame:
    """The recent-jobs table: one row a job, status as a person should read it."""
    rows = []
    for job in jobs:
        finished = job.finished_at or job.heartbeat_at
        seconds = (finished - job.started_at).total_seconds() if finished and job.started_at else None
        rows.append(
            {
                "created": job.created_at.replace(tzinfo=None),
                "kind": labels.JOB_KIND_LABELS.get(job.kind, job.kind),
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
    "stress_known_then",
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


def neighbours_caption(query: SimilarQuery, shown: int, candidates: int) -> str:
    """The line over the analogues: how many, of how many candidates, spread how, ranked how."""
    apart = query.min_days_apart
    spread = "" if not apart else ", one per date" if apart == 1 else f", at least {apart:,} days apart"
    short = ""
    if apart and shown < min(query.top_k, candidates):
        short = f" ({shown} of the {query.top_k} asked: every other candidate is closer in time to one of these)"
    return f"{shown} nearest of {candidates:,} candidate state(s){spread}: cosine first, then euclidean{short}."


def attach_attributes(frame: pd.DataFrame, attributes: pd.DataFrame) -> pd.DataFrame:
    """Left-join state attributes (drawdown, volatility, sector, stress) on (portfolio, date)."""
    wanted = [
        "drawdown",
        "volatility_1m",
        "volatility_1y",
        "return_1y",
        "dominant_sector",
        "stress_known_then",
        "stress_window",
    ]
    if attributes.empty:
        out = frame.copy()
        for column in wanted:
            out[column] = None
        return out
    keys = attributes[["portfolio_id", "as_of_date", *[c for c in wanted if c in attributes.columns]]]
    if len(frame) * 4 < len(keys):  # a few rows (a neighbour table): only their books' dates need reading
        keys = keys[keys["portfolio_id"].isin(frame["portfolio_id"].unique())]
    keys = keys.copy()
    keys["as_of_date"] = pd.to_datetime(keys["as_of_date"]).dt.date
    left = frame.copy()
    left["as_of_date"] = pd.to_datetime(left["as_of_date"]).dt.date
    merged = left.merge(keys, on=["portfolio_id", "as_of_date"], how="left")
    for column in wanted:
        if column not in merged.columns:
            merged[column] = None
    return merged


def describe_state(attributes: pd.DataFrame, portfolio_id: str, as_of: date) -> str:
    """One line about a state for people: its drawdown, volatility, largest sector and stress known that day."""
    label = f"{portfolio_id} on {as_of.isoformat()}"
    if attributes.empty:
        return label
    book = attributes[attributes["portfolio_id"] == portfolio_id]  # the book's rows first: 1/40 of the dates to read
    hit = book[pd.to_datetime(book["as_of_date"]).dt.date == as_of]
    if hit.empty:
        return label
    row = hit.iloc[0]
    parts = [label]
    if pd.notna(row.get("drawdown")):
        parts.append(f"drawdown {formats.percent(row['drawdown'])}")
    if pd.notna(row.get("volatility_1y")):
        parts.append(f"volatility (1 year) {formats.percent(row['volatility_1y'])}")
    if row.get("dominant_sector"):
        parts.append(f"largest sector {row['dominant_sector']}")
    if row.get("stress_known_then"):
        parts.append(str(row["stress_known_then"]))
    return " · ".join(parts)


def describe_depth(underwater: pd.DataFrame, day: date) -> str:
    """Where ``day`` sits on a book's underwater curve, in words (Markdown): its depth below the peak
    it is measured from, from values up to that day; the Drawdown chart is the same for every day."""
    at = underwater_at(underwater, day)
    if at is None:
        return f"**{day.isoformat()}**: before the first value on this curve."
    on = day.isoformat() if at.day == day else f"{day.isoformat()} (last value {at.day.isoformat()})"
    if at.drawdown >= 0:
        return f"**{on}**: at a peak, not under water."
    return (
        f"**{on}**: {formats.percent(-at.drawdown)} below the peak of {at.peak_date.isoformat()} "
        f"({(at.day - at.peak_date).days:,d} days under water by then)."
    )


def state_keys(frame: pd.DataFrame) -> list[StateKey]:
    return [
        StateKey(str(p), parse_day(d) or date.min)
        for p, d in zip(frame["portfolio_id"], frame["as_of_date"], strict=True)
    ]


COMPARISON_KINDS = {"sector": "percent", "scenario": "percent", "factor": "ratio"}


def comparison_frame(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """One block of a two-state comparison (metric, a, b, difference) as text, each row in its own kind.

    Rows mix kinds (volatility is a percentage, beta a ratio, the name count a count), so
    the cells are formatted here, row by row; the label column reads in words.
    """
    rows = []
    for name, a, b, difference in frame.loc[:, [label, "a", "b", "difference"]].itertuples(index=False):
        kind = formats.metric_kind(str(name)) if label == "metric" else COMPARISON_KINDS.get(label, "ratio")
        rows.append(
            {
                label: labels.key_label(name),
                "query": formats.cell(a, kind),
                "neighbour": formats.cell(b, kind),
                "difference": formats.cell(difference, kind, signed=True),
            }
        )
    return pd.DataFrame(rows, columns=[label, "query", "neighbour", "difference"])
