"""One portfolio's states over time, with its reports' headline risk numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prometheus.joint.registry import joint_store
from prometheus.keys import join_on_keys
from prometheus.lookup import unknown_portfolios
from prometheus.store.report_fields import column, metric, report_fields
from prometheus.store.stores import Stores

HISTORY_METRICS = ("drawdown", "volatility_1m", "volatility_1y", "var_95_1d", "beta_1y", "return_1y")
HISTORY_COLUMNS = ("as_of_date", "l2_norm", "portfolio_value", *HISTORY_METRICS)


def portfolio_history(stores: Stores, model_id: str, portfolio_id: str) -> pd.DataFrame:
    """Every joint state of one portfolio, oldest first, with its report's headline risk numbers."""
    model, store = joint_store(stores, model_id)
    states = store.load(model_id, portfolio_ids=[portfolio_id], dim=model.dim, with_specs=False)
    if not len(states):
        raise unknown_portfolios([portfolio_id], f"{model_id} states")
    keys = pd.DataFrame(
        {
            "portfolio_id": pd.Series(states.portfolio_ids, dtype=object),
            "as_of_date": pd.Series(states.dates, dtype=object),
            "l2_norm": np.linalg.norm(states.matrix.astype(np.float64), axis=1),
        }
    )
    fields = {"portfolio_value": column("portfolio_value"), **{m: metric(m) for m in HISTORY_METRICS}}
    frame = join_on_keys(keys, report_fields(stores.runtime, fields, portfolio_ids=[portfolio_id]))
    return frame.loc[:, list(HISTORY_COLUMNS)]
