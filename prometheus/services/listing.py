"""Listing stored joint states (what show_joint_portfolios prints)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from prometheus.errors import InvalidSetting, Setting
from prometheus.joint.registry import joint_store
from prometheus.lookup import unknown_portfolios
from prometheus.services.dates import DateSelection
from prometheus.store.stores import Stores

LISTING_HEADER = ("as_of_date", "portfolio_id", "model_id", "dim", "l2_norm")


@dataclass(frozen=True)
class JointStateRow:
    as_of_date: date
    portfolio_id: str
    model_id: str
    dim: int
    l2_norm: float


def list_joint_states(
    stores: Stores,
    model_id: str,
    dates: DateSelection,
    portfolio_ids: Sequence[str] = (),
    limit: int | None = None,
) -> list[JointStateRow]:
    """States ordered by date then portfolio; ``limit`` caps the number of rows."""
    if limit is not None and limit < 1:
        raise InvalidSetting(Setting("limit"), f" must be at least 1, got {limit}")
    model, store = joint_store(stores, model_id)
    if portfolio_ids:
        known = set(store.portfolio_ids(model_id))
        missing = [p for p in portfolio_ids if p not in known]
        if missing:
            raise unknown_portfolios(missing, f"{model_id} states")
    start, end = dates.bounds()
    states = store.load(model_id, start=start, end=end, portfolio_ids=list(portfolio_ids) or None, dim=model.dim)
    norms = np.linalg.norm(states.matrix.astype(np.float64), axis=1) if len(states) else np.zeros(0)
    rows = [
        JointStateRow(day, pid, model_id, model.dim, float(norm))
        for pid, day, norm in zip(states.portfolio_ids, states.dates, norms, strict=True)
    ]
    return rows[:limit] if limit is not None else rows
