"""The key of a state (and of a risk report): a portfolio on a date, as a value and as table columns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

import numpy as np
import pandas as pd

KEY_COLUMNS = ("portfolio_id", "as_of_date")


class StateKey(NamedTuple):
    """A portfolio on a date. A tuple, so ``(portfolio_id, as_of_date)`` pairs compare equal to it."""

    portfolio_id: str
    as_of_date: date

    def label(self) -> str:
        return f"{self.portfolio_id} · {self.as_of_date.isoformat()}"


def join_on_keys(keys: pd.DataFrame, fields: pd.DataFrame) -> pd.DataFrame:
    """Left-join ``fields`` onto state ``keys`` by (portfolio_id, as_of_date), keeping the keys' order."""
    merged = keys.merge(fields, on=list(KEY_COLUMNS), how="left", sort=False)
    return merged.reset_index(drop=True)


def empty_table(columns: Sequence[str], floats: Sequence[str] = ()) -> pd.DataFrame:
    """No rows, the documented columns: float64 where numbers go, object elsewhere."""
    return pd.DataFrame({name: pd.Series([], dtype=np.float64 if name in floats else object) for name in columns})
