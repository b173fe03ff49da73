"""Early warning: how close each portfolio's latest state is to a past stress state.

A stress state is a joint state dated inside a named stress window, or whose
report's drawdown is at or below the threshold. Every latest state is scored
against every stress state with one matrix product per block of portfolios
(blocks only bound memory), cosine descending then euclidean ascending, then
portfolio id and date, exactly as the similar-state search ranks.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from prometheus.errors import InvalidInput
from prometheus.keys import empty_table, join_on_keys
from prometheus.search.loading import load_index
from prometheus.store.report_fields import metric, report_fields
from prometheus.store.stores import Stores
from prometheus.stress import window_names

SAME_BOOK_DAYS = 63  # a book is not its own warning within about a quarter
COLUMNS = (
    "portfolio_id",
    "as_of_date",
    "nearest_stress_portfolio",
    "nearest_stress_date",
    "stress_reason",
    "cosine",
    "euclidean",
)
_MAX_BLOCK_CELLS = 4_000_000  # ~32 MB of float64 scores per block


def _check_threshold(threshold: float) -> float:
    if not (-1.0 < threshold < 0.0):  # also refuses NaN
        raise InvalidInput(f"drawdown threshold must be between -100% and 0%, got {threshold:.1%}")
    return float(threshold)


def _reason(window: str, drawdown: float) -> str:
    return window if window else f"drawdown {drawdown:.1%}"


def _latest_rows(portfolio_ids: np.ndarray) -> np.ndarray:
    # Index rows are ordered by date, so each portfolio's last row is its latest state.
    reversed_ids = portfolio_ids[::-1]
    _, first_from_end = np.unique(reversed_ids, return_index=True)
    return np.sort(len(portfolio_ids) - 1 - first_from_end)


def early_warning(
    stores: Stores, model_id: str, drawdown_threshold: float = -0.20, exclude_same_portfolio: bool = False
) -> pd.DataFrame:
    """One row per portfolio: its latest state and the nearest stress state, best cosine first."""
    threshold = _check_threshold(drawdown_threshold)
    index = load_index(stores, model_id)
    if not len(index):
        return empty_table(COLUMNS, floats=("cosine", "euclidean"))
    keys = pd.DataFrame({"portfolio_id": index.portfolio_ids, "as_of_date": index.dates.astype(object)})
    drawdowns = join_on_keys(keys, report_fields(stores.runtime, {"drawdown": metric("drawdown")}))[
        "drawdown"
    ].to_numpy()
    windows = window_names(keys["as_of_date"])
    stress = np.flatnonzero((windows != "") | (drawdowns <= threshold))
    # Candidates in (portfolio, date) order, so the first of exact ties is the search's choice.
    stress = stress[np.lexsort((index.dates[stress], index.portfolio_ids[stress].astype(str)))]
    queries = _latest_rows(index.portfolio_ids)

    # Only the rows scored are upcast: the whole matrix in float64 would be 8 bytes x n x dim.
    query_vectors = np.asarray(index.matrix[queries], dtype=np.float64)
    candidates = np.asarray(index.matrix[stress], dtype=np.float64)
    query_norms = np.sqrt(np.einsum("ij,ij->i", query_vectors, query_vectors))
    candidate_norms = np.sqrt(np.einsum("ij,ij->i", candidates, candidates))
    query_days = index.dates[queries].astype("int64")
    query_ids = index.portfolio_ids[queries]
    candidate_days = index.dates[stress].astype("int64")
    candidate_ids = index.portfolio_ids[stress]
    best = np.full(len(queries), -1, dtype=np.int64)
    best_cosine = np.full(len(queries), math.nan)
    best_euclidean = np.full(len(queries), math.nan)
    block = max(1, _MAX_BLOCK_CELLS // max(1, len(stress)))
    for lo in range(0, len(queries) if len(stress) else 0, block):
        rows = slice(lo, lo + block)
        dots = query_vectors[rows] @ candidates.T
        denom = np.outer(query_norms[rows], candidate_norms)
        with np.errstate(divide="ignore", invalid="ignore"):
            cosine = np.clip(np.where(denom > 0, dots / denom, 0.0), -1.0, 1.0)
        squared = query_norms[rows, None] ** 2 + candidate_norms[None, :] ** 2 - 2.0 * dots
        euclidean = np.sqrt(np.maximum(squared, 0.0))
        same = candidate_ids[None, :] == query_ids[rows][:, None]
        if not exclude_same_portfolio:
            gap = np.abs(candidate_days[None, :] - query_days[rows][:, None])
            same &= gap <= SAME_BOOK_DAYS
        cosine = np.where(same, -np.inf, cosine)
        top = cosine.max(axis=1, keepdims=True)
        chosen = np.argmin(np.where(cosine == top, euclidean, np.inf), axis=1)
        found = np.isfinite(top[:, 0])
        picked = np.arange(dots.shape[0])
        best[lo : lo + block] = np.where(found, chosen, -1)
        best_cosine[lo : lo + block] = np.where(found, cosine[picked, chosen], math.nan)
        best_euclidean[lo : lo + block] = np.where(found, euclidean[picked, chosen], math.nan)

    hit = best >= 0
    stress_windows, stress_drawdowns = windows[stress], drawdowns[stress]
    frame = pd.DataFrame(
        {
            "portfolio_id": pd.Series(index.portfolio_ids[queries], dtype=object),
            "as_of_date": pd.Series(index.dates[queries].astype(object), dtype=object),
            "nearest_stress_portfolio": pd.Series(
                [candidate_ids[b] if ok else None for b, ok in zip(best, hit, strict=True)], dtype=object
            ),
            "nearest_stress_date": pd.Series(
                [index.dates[stress][b].astype(object) if ok else None for b, ok in zip(best, hit, strict=True)],
                dtype=object,
            ),
            "stress_reason": pd.Series(
                [
                    _reason(stress_windows[b], stress_drawdowns[b]) if ok else None
                    for b, ok in zip(best, hit, strict=True)
                ],
                dtype=object,
            ),
            "cosine": best_cosine,
            "euclidean": best_euclidean,
        }
    )
    order = np.lexsort((frame["portfolio_id"].astype(str).to_numpy(), np.nan_to_num(-best_cosine, nan=np.inf)))
    return frame.iloc[order].reset_index(drop=True)
