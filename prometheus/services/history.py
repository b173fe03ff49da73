"""One portfolio's states over time, and per-state attributes for colouring maps and tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prometheus.errors import UnknownPortfolio
from prometheus.reports import GICS_SECTORS, OTHER_SECTOR
from prometheus.services._frames import (
    attach,
    empty_frame,
    joint_keys,
    joint_store,
    report_fields,
    risk_metric,
    sector_exposure,
    stress_window_names,
)
from prometheus.store.schema import portfolio_risk_reports as reports_table
from prometheus.store.stores import Stores

HISTORY_METRICS = ("drawdown", "volatility_1m", "volatility_1y", "var_95_1d", "beta_1y", "return_1y")
HISTORY_COLUMNS = ("as_of_date", "l2_norm", "portfolio_value", *HISTORY_METRICS)
ATTRIBUTE_METRICS = ("drawdown", "volatility_1m", "volatility_1y", "return_1y")
ATTRIBUTE_COLUMNS = ("portfolio_id", "as_of_date", *ATTRIBUTE_METRICS, "dominant_sector", "stress_window")
SECTORS = (*GICS_SECTORS, OTHER_SECTOR)


def portfolio_history(stores: Stores, model_id: str, portfolio_id: str) -> pd.DataFrame:
    """Every joint state of one portfolio, oldest first, with its report's headline risk numbers."""
    model, store = joint_store(stores, model_id)
    states = store.load(model_id, portfolio_ids=[portfolio_id], dim=model.dim)
    if not len(states):
        raise UnknownPortfolio(f"unknown portfolio '{portfolio_id}': no {model_id} states exist for it")
    keys = pd.DataFrame(
        {
            "portfolio_id": pd.Series(states.portfolio_ids, dtype=object),
            "as_of_date": pd.Series(states.dates, dtype=object),
            "l2_norm": np.linalg.norm(states.matrix.astype(np.float64), axis=1),
        }
    )
    fields = {"portfolio_value": reports_table.c.portfolio_value, **{m: risk_metric(m) for m in HISTORY_METRICS}}
    frame = attach(keys, report_fields(stores, fields, portfolio_ids=[portfolio_id]))
    return frame.loc[:, list(HISTORY_COLUMNS)]


def state_attributes(stores: Stores, model_id: str) -> pd.DataFrame:
    """One row per joint state, in the store's load order (the order of StateIndex and maps)."""
    keys = joint_keys(stores, model_id)
    if keys.empty:
        return empty_frame(ATTRIBUTE_COLUMNS, floats=ATTRIBUTE_METRICS)
    fields = {**{m: risk_metric(m) for m in ATTRIBUTE_METRICS}, **{f"sector:{s}": sector_exposure(s) for s in SECTORS}}
    frame = attach(keys, report_fields(stores, fields))
    sector_columns = [f"sector:{s}" for s in SECTORS]
    weights = frame[sector_columns].to_numpy(dtype=np.float64)
    known = ~np.isnan(weights).all(axis=1)
    # argmax takes the first of equal weights, i.e. the first sector in schema order
    best = np.argmax(np.where(np.isnan(weights), -np.inf, weights), axis=1)
    frame["dominant_sector"] = np.where(known, np.array(SECTORS, dtype=object)[best], "")
    frame["stress_window"] = stress_window_names(frame["as_of_date"])
    return frame.loc[:, list(ATTRIBUTE_COLUMNS)]
