"""Historical stress scenarios: today's weights replayed through named windows.

For each window of :data:`prometheus.stress.STRESS_WINDOWS` a name's window
return runs from the close before the window's first day to the close of its
last trading day. A report sees a window only once that close is on or before
its as-of date, so no report uses prices from its future. The P&L is the
buy-and-hold return of today's weights over the window (cash earns nothing),
taken over the names priced at both ends and scaled up by gross / covered
gross so that names without a window history do not count as cash.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from prometheus.stress import STRESS_WINDOWS


@dataclass(frozen=True)
class ScenarioWindow:
    key: str
    end_row: int  # calendar row of the window's last close; -1 when not in the history
    returns: np.ndarray  # (names,) window return; NaN when not priced at both ends


def scenario_windows(prices: pd.DataFrame) -> list[ScenarioWindow]:
    """Per-name returns over every named window that lies inside the price history."""
    calendar = prices.index
    values = prices.to_numpy(dtype=float)
    last_day = calendar[-1].date()
    out: list[ScenarioWindow] = []
    for window in STRESS_WINDOWS:
        base = int(calendar.searchsorted(pd.Timestamp(window.start), side="left")) - 1
        end = int(calendar.searchsorted(pd.Timestamp(window.end), side="right")) - 1
        if base < 0 or end <= base or window.end > last_day:
            out.append(ScenarioWindow(window.key, -1, np.full(values.shape[1], np.nan)))
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            returns = values[end] / values[base] - 1.0
        out.append(ScenarioWindow(window.key, end, returns))
    return out


def scenario_pnl(weights: np.ndarray, rows: np.ndarray, windows: list[ScenarioWindow]) -> dict[str, np.ndarray]:
    """P&L fraction of NAV per window for weights (reports, names) held on ``rows``."""
    absolute = np.abs(np.nan_to_num(weights))
    gross = absolute.sum(axis=1)
    out: dict[str, np.ndarray] = {}
    for window in windows:
        priced = np.isfinite(window.returns)
        covered = absolute[:, priced].sum(axis=1)
        pnl = np.nan_to_num(weights)[:, priced] @ window.returns[priced]
        with np.errstate(invalid="ignore", divide="ignore"):
            scaled = np.where(gross == 0, 0.0, np.where(covered > 0, pnl * gross / covered, np.nan))
        known = (window.end_row >= 0) & (rows >= window.end_row)
        out[window.key] = np.where(known, scaled, np.nan)
    return out
