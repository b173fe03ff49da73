"""What the store holds: counts, date span and per-period coverage of joint states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from prometheus.errors import InvalidInput
from prometheus.joint.registry import joint_store
from prometheus.store.embeddings import joint_table_summary
from prometheus.store.report_fields import report_coverage
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
    fitted_models: list[str]  # joint models with a stored fit


def store_overview(stores: Stores) -> StoreOverview:
    reports = report_coverage(stores.runtime)
    joint = joint_table_summary(stores.historical)
    return StoreOverview(
        report_count=reports.count,
        portfolio_ids=sorted(set(reports.portfolio_ids) | set(joint.portfolio_ids)),
        first_date=reports.first_date,
        last_date=reports.last_date,
        report_dates=reports.dates,
        numeric_counts=stores.numeric.model_counts(),
        joint_counts=joint.counts,
        latest_joint_date=joint.latest_date,
        fitted_models=stores.fits.fitted_models(),
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
    _, store = joint_store(stores, model_id)
    rows = store.counts_by_period(model_id, by_month=freq == "month")
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
