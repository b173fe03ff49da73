"""What the store holds: counts, date span and per-period coverage of joint states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import sqlalchemy as sa

from prometheus.errors import InvalidInput
from prometheus.services._frames import joint_store
from prometheus.store.schema import joint_embeddings
from prometheus.store.schema import portfolio_risk_reports as reports_table
from prometheus.store.stores import Stores

FREQUENCIES = ("year", "month")


@dataclass(frozen=True)
class StoreOverview:
    report_count: int
    portfolio_ids: list[str]  # portfolios with a risk report or a joint state
    first_date: date | None  # of risk reports; None when there are none
    last_date: date | None
    report_dates: int  # distinct report dates
    numeric_counts: dict[str, int]  # numeric model id -> states
    joint_counts: dict[str, int]  # joint model id -> states, every joint type
    latest_joint_date: date | None


def store_overview(stores: Stores) -> StoreOverview:
    r = reports_table.c
    j = joint_embeddings.c
    with stores.runtime.read() as conn:
        count, distinct_dates, first, last = conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.count(sa.distinct(r.as_of_date)),
                sa.func.min(r.as_of_date),
                sa.func.max(r.as_of_date),
            )
        ).one()
        report_ids = set(conn.execute(sa.select(r.portfolio_id).distinct()).scalars())
    with stores.historical.read() as conn:
        joint_counts = {
            row[0]: int(row[1])
            for row in conn.execute(sa.select(j.model_id, sa.func.count()).group_by(j.model_id).order_by(j.model_id))
        }
        latest_joint = conn.execute(sa.select(sa.func.max(j.as_of_date))).scalar()
        joint_ids = set(conn.execute(sa.select(j.portfolio_id).distinct()).scalars())
    return StoreOverview(
        report_count=int(count or 0),
        portfolio_ids=sorted(report_ids | joint_ids),
        first_date=first,
        last_date=last,
        report_dates=int(distinct_dates or 0),
        numeric_counts=stores.numeric.model_counts(),
        joint_counts=joint_counts,
        latest_joint_date=latest_joint,
    )


def _period_labels(first: tuple[int, int], last: tuple[int, int], freq: str) -> list[str]:
    # Every period between the first and last state, so gaps show as zero columns.
    if freq == "year":
        return [str(y) for y in range(first[0], last[0] + 1)]
    labels = []
    year, month = first
    while (year, month) <= last:
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels


def coverage(stores: Stores, model_id: str, freq: str = "year") -> pd.DataFrame:
    """States per portfolio (rows) and period (columns "1995" or "1995-03"); one GROUP BY query."""
    if freq not in FREQUENCIES:
        raise InvalidInput(f"freq must be 'year' or 'month', got {freq!r}")
    model, store = joint_store(stores, model_id)
    c = joint_embeddings.c
    parts = [sa.extract("year", c.as_of_date)]
    if freq == "month":
        parts.append(sa.extract("month", c.as_of_date))
    query = (
        sa.select(c.portfolio_id, *parts, sa.func.count())
        .where(c.joint_type == model.joint_type, c.model_id == model_id)
        .group_by(c.portfolio_id, *parts)
    )
    with store.db.read() as conn:
        # extract() is a float on PostgreSQL and an integer on SQLite
        rows = [(r[0], int(r[1]), int(r[2]) if freq == "month" else 1, int(r[-1])) for r in conn.execute(query)]
    index = pd.Index(sorted({r[0] for r in rows}), name="portfolio_id", dtype=object)
    if not rows:
        return pd.DataFrame(index=index, dtype="int64")
    periods = [(y, m) for _, y, m, _ in rows]
    labels = _period_labels(min(periods), max(periods), freq)
    long = pd.DataFrame(
        {
            "portfolio_id": [r[0] for r in rows],
            "period": [str(y) if freq == "year" else f"{y:04d}-{m:02d}" for _, y, m, _ in rows],
            "n": [r[3] for r in rows],
        }
    )
    wide = long.pivot(index="portfolio_id", columns="period", values="n")
    table = wide.reindex(index=index, columns=labels).fillna(0).astype("int64")
    table.columns = pd.Index(labels, dtype=object)
    table.columns.name = None
    return table
