"""A portfolio's value (NAV) over time: the series forward outcomes and drawdowns are measured on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ValueSeries:
    """One portfolio's values, oldest first: dates (datetime64[D]) and floats."""

    dates: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return int(self.dates.shape[0])

    def positive(self) -> ValueSeries:
        """Only the days with a finite, positive value (a drawdown needs one)."""
        keep = np.isfinite(self.values) & (self.values > 0)
        return ValueSeries(self.dates[keep], self.values[keep])

    def until(self, last: np.datetime64) -> ValueSeries:
        """The days on or before ``last``."""
        keep = self.dates <= last
        return ValueSeries(self.dates[keep], self.values[keep])
