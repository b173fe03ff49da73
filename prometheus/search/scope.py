"""Which stored states may be returned as analogues of a query state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from prometheus.search.index import StateIndex


@dataclass(frozen=True)
class CandidateScope:
    """The candidates of one query row: a date window and, unless asked, no state of the query's own book.

    Applied to a whole index (a mask) or to a few rows (an approximate search's candidates).
    """

    query_row: int
    start: date | None = None
    end: date | None = None
    excluded_code: int | None = None  # the query portfolio's own states, unless include_self

    def rows(self, index: StateIndex, rows: np.ndarray) -> np.ndarray:
        """True for the given rows that are candidates."""
        keep = rows != self.query_row  # the query state itself is never its own analogue
        if self.start is not None:
            keep &= index.dates[rows] >= np.datetime64(self.start, "D")
        if self.end is not None:
            keep &= index.dates[rows] <= np.datetime64(self.end, "D")
        if self.excluded_code is not None:
            keep &= index.portfolio_codes[rows] != self.excluded_code
        return keep

    def mask(self, index: StateIndex) -> np.ndarray:
        return self.rows(index, np.arange(len(index)))

    def excluded_count(self, index: StateIndex) -> int:
        """How many rows the portfolio exclusion removes (the query row included)."""
        own = int(index.portfolio_sizes[self.excluded_code]) if self.excluded_code is not None else 0
        return max(own, 1)
