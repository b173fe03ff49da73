"""All states of one model as one contiguous matrix, with their labels.

Queries filter by a boolean mask over rows (date bounds, portfolio), then
score every remaining row exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from prometheus.store.embeddings import EmbeddingMatrix


@dataclass(frozen=True)
class StateIndex:
    model_id: str
    data_version: int
    portfolio_ids: np.ndarray  # str objects, one per row
    dates: np.ndarray  # datetime64[D]
    sources: np.ndarray  # the numeric model each joint state came from
    matrix: np.ndarray  # (n, dim) float32

    @classmethod
    def from_matrix(cls, model_id: str, data_version: int, states: EmbeddingMatrix) -> StateIndex:
        return cls(
            model_id=model_id,
            data_version=data_version,
            portfolio_ids=np.array(states.portfolio_ids, dtype=object),
            dates=np.array(states.dates, dtype="datetime64[D]"),
            sources=np.array([s.get("source", "") for s in states.specs], dtype=object),
            matrix=states.matrix,
        )

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    def row_of(self, portfolio_id: str, as_of_date: date) -> int | None:
        hits = np.flatnonzero((self.portfolio_ids == portfolio_id) & (self.dates == np.datetime64(as_of_date)))
        return int(hits[0]) if hits.size else None

    def dates_of(self, portfolio_id: str) -> list[date]:
        days = self.dates[self.portfolio_ids == portfolio_id]
        return sorted(d.astype(object) for d in days)

    def has_portfolio(self, portfolio_id: str) -> bool:
        return bool((self.portfolio_ids == portfolio_id).any())

    def mask(
        self,
        *,
        start: date | None = None,
        end: date | None = None,
        exclude_portfolio: str | None = None,
    ) -> np.ndarray:
        keep = np.ones(len(self), dtype=bool)
        if start is not None:
            keep &= self.dates >= np.datetime64(start)
        if end is not None:
            keep &= self.dates <= np.datetime64(end)
        if exclude_portfolio is not None:
            keep &= self.portfolio_ids != exclude_portfolio
        return keep
