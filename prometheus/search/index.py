"""All states of one model as one contiguous matrix, with compact labels.

Rows are in canonical order: date, then portfolio id (code-point order).
Only the active coordinates are kept: a schema's reserved positions are zero
in every stored vector, and dropping them changes no dot product, norm,
cosine or distance, while a scan reads far fewer bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd

from prometheus.lookup import missing_state


@dataclass(frozen=True, eq=False)
class StateIndex:
    model_id: str
    data_version: int
    dim: int  # the full vector dimension
    active_columns: np.ndarray  # (k,) int: which of the dim coordinates ``matrix`` holds
    portfolio_names: list[str]  # sorted, unique
    portfolio_codes: np.ndarray  # (n,) int32 into portfolio_names
    dates: np.ndarray  # (n,) datetime64[D]
    source_names: list[str]
    source_codes: np.ndarray  # (n,) int32 into source_names
    matrix: np.ndarray  # (n, k) float32, C-contiguous
    stamp: str = ""  # the random stamp of the write that made ``data_version`` (see store.schema.data_versions)
    _lookup: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._lookup.update({name: code for code, name in enumerate(self.portfolio_names)})

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    @cached_property
    def norms(self) -> np.ndarray:
        """Row norms, float64, computed from the float32 values as stored."""
        m = self.matrix.astype(np.float64)
        return np.sqrt(np.einsum("ij,ij->i", m, m))

    @cached_property
    def portfolio_sizes(self) -> np.ndarray:
        """Number of states per portfolio code."""
        return np.bincount(self.portfolio_codes, minlength=len(self.portfolio_names))

    @cached_property
    def portfolio_ids(self) -> np.ndarray:
        """Per-row portfolio id as a str object array (built on first use)."""
        return np.array(self.portfolio_names, dtype=object)[self.portfolio_codes]

    @cached_property
    def sources(self) -> np.ndarray:
        return np.array(self.source_names, dtype=object)[self.source_codes]

    def keys_frame(self) -> pd.DataFrame:
        """portfolio_id, as_of_date of every row, in row order (for joining report fields)."""
        return pd.DataFrame(
            {
                "portfolio_id": pd.Series(self.portfolio_ids, dtype=object),
                "as_of_date": pd.Series(self.dates.astype(object), dtype=object),
            }
        )

    def code_of(self, portfolio_id: str) -> int | None:
        return self._lookup.get(portfolio_id)

    def has_portfolio(self, portfolio_id: str) -> bool:
        return portfolio_id in self._lookup

    def row_of(self, portfolio_id: str, as_of_date: date) -> int | None:
        code = self.code_of(portfolio_id)
        if code is None:
            return None
        hits = np.flatnonzero((self.dates == np.datetime64(as_of_date, "D")) & (self.portfolio_codes == code))
        return int(hits[0]) if hits.size else None

    def require_row(self, portfolio_id: str, as_of_date: date) -> int:
        """The state's row, or the lookup error that says which portfolios or dates exist."""
        row = self.row_of(portfolio_id, as_of_date)
        if row is None:
            raise missing_state(portfolio_id, f"{self.model_id} state", as_of_date, self.dates_of(portfolio_id))
        return row

    def dates_of(self, portfolio_id: str) -> list[date]:
        code = self.code_of(portfolio_id)
        if code is None:
            return []
        return [d.astype(object) for d in self.dates[self.portfolio_codes == code]]

    def full_vector(self, row: int) -> np.ndarray:
        """The row as the full ``dim``-long vector, reserved coordinates zero."""
        vector = np.zeros(self.dim, dtype=np.float32)
        vector[self.active_columns] = self.matrix[row]
        return vector


def _recode(codes: np.ndarray, names: list[str], onto: list[str]) -> np.ndarray:
    """Codes into ``names`` as codes into the sorted superset ``onto``."""
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.searchsorted(np.array(onto, dtype=str), np.array(names, dtype=str))[codes]


def _canonical(
    model_id: str,
    data_version: int,
    dim: int,
    columns: np.ndarray,
    names: list[str],
    codes: np.ndarray,
    days: np.ndarray,
    source_names: list[str],
    source_codes: np.ndarray,
    matrix: np.ndarray,
    stamp: str,
) -> StateIndex:
    order = np.lexsort((codes, days))
    return StateIndex(
        model_id=model_id,
        data_version=data_version,
        dim=dim,
        active_columns=np.asarray(columns, dtype=np.int32),
        portfolio_names=list(names),
        portfolio_codes=np.asarray(codes, dtype=np.int32)[order],
        dates=np.asarray(days, dtype="datetime64[D]")[order],
        source_names=list(source_names),
        source_codes=np.asarray(source_codes, dtype=np.int32)[order],
        matrix=np.ascontiguousarray(matrix[order], dtype=np.float32),
        stamp=stamp,
    )


def build_index(
    model_id: str,
    data_version: int,
    portfolio_ids: list[str],
    dates: list[date] | np.ndarray,
    sources: list[str],
    vectors: np.ndarray,
    stamp: str = "",
) -> StateIndex:
    """An index from parallel labels and full (n, dim) vectors, in canonical order."""
    names, codes = np.unique(np.array(portfolio_ids, dtype=str), return_inverse=True)
    source_names, source_codes = np.unique(np.array(sources, dtype=str), return_inverse=True)
    active = np.flatnonzero(np.any(vectors != 0, axis=0)) if len(vectors) else np.zeros(0, dtype=np.int64)
    return _canonical(
        model_id,
        data_version,
        int(vectors.shape[1]),
        active,
        [str(n) for n in names],
        codes.reshape(-1),
        np.array(dates, dtype="datetime64[D]"),
        [str(n) for n in source_names],
        source_codes.reshape(-1),
        vectors[:, active],
        stamp,
    )


def merge_index(old: StateIndex, new: StateIndex, data_version: int, stamp: str = "") -> StateIndex:
    """``old`` with ``new``'s rows added; where both hold a (portfolio, date), ``new``'s row wins."""
    names = sorted(set(old.portfolio_names) | set(new.portfolio_names))
    old_codes = _recode(old.portfolio_codes, old.portfolio_names, names)
    new_codes = _recode(new.portfolio_codes, new.portfolio_names, names)
    day_span = np.int64(1) << 32
    old_keys = old_codes * day_span + old.dates.astype("int64")
    new_keys = new_codes * day_span + new.dates.astype("int64")
    keep = ~np.isin(old_keys, new_keys)
    kept = int(keep.sum())
    columns = np.union1d(old.active_columns, new.active_columns)
    matrix = np.zeros((kept + len(new), columns.size), dtype=np.float32)
    matrix[:kept][:, np.searchsorted(columns, old.active_columns)] = old.matrix[keep]
    matrix[kept:][:, np.searchsorted(columns, new.active_columns)] = new.matrix
    sources = sorted(set(old.source_names) | set(new.source_names))
    return _canonical(
        old.model_id,
        data_version,
        old.dim,
        columns,
        names,
        np.concatenate([old_codes[keep], new_codes]),
        np.concatenate([old.dates[keep], new.dates]),
        sources,
        np.concatenate(
            [
                _recode(old.source_codes, old.source_names, sources)[keep],
                _recode(new.source_codes, new.source_names, sources),
            ]
        ),
        matrix,
        stamp,
    )
