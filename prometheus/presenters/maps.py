"""The map's data: projected states with what they are coloured by, selections, trajectories, ticks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd

from prometheus.numbers import row_number
from prometheus.presenters import formats
from prometheus.presenters.markup import plotly_text
from prometheus.presenters.tables import attach_attributes

MAP_COLUMNS = ["portfolio_id", "as_of_date", "x", "y", "drawdown", "volatility_1y", "dominant_sector", "stress_window"]


def map_frame(points: pd.DataFrame, attributes: pd.DataFrame) -> pd.DataFrame:
    """Projected states with what the map colours by; ``year`` is a fractional year for a date colour scale."""
    frame = attach_attributes(points.loc[:, ["portfolio_id", "as_of_date", "x", "y"]], attributes)
    frame = frame.loc[:, MAP_COLUMNS].reset_index(drop=True)
    stamps = pd.to_datetime(frame["as_of_date"])
    frame["year"] = stamps.dt.year + (stamps.dt.day_of_year - 1) / 365.25
    frame["dominant_sector"] = frame["dominant_sector"].fillna("").replace("", "unknown")
    frame["stress_window"] = frame["stress_window"].fillna("")
    # Each point's own part of its hover label, precomputed once, vectorised: its date and stress
    # window. The portfolio id is its trace's (one trace per book, map_chart.map_figure): repeated in
    # every point's text it was half of the demo map's 5.2 MB figure.
    stress = frame["stress_window"].map(plotly_text)  # plain text: Plotly renders <a>, <b> ... in hovers
    frame["hover"] = stamps.dt.strftime("%Y-%m-%d") + stress.where(stress == "", "<br>" + stress)
    frame["row"] = range(len(frame))
    # float32 halves what the browser receives; a 2-D map needs no more precision
    return frame.astype({"x": "float32", "y": "float32", "year": "float32"})


def _row_number(custom: object) -> int | None:
    # customdata[0] comes back as a list, or (from a typed array) as a {"0": .., "1": ..} mapping;
    # it is sent by the browser, so parsed like any number from outside (prometheus.numbers)
    if isinstance(custom, Mapping):
        first = custom.get("0", custom.get(0))
    elif isinstance(custom, list | tuple):
        first = custom[0] if custom else None
    else:
        first = custom
    return row_number(first)


def year_ticks(years: pd.Series, target: int = 8) -> tuple[list[float], list[str]]:
    """Colour-bar ticks for fractional years: whole years over long spans, quarters or months over short ones."""
    if years.empty:
        return [], []
    low, high = float(years.min()), float(years.max())
    span = high - low
    steps = (10.0, 5.0, 2.0, 1.0, 0.25, 1 / 12)
    step = next((s for s in steps if span / s >= target / 2), steps[-1])
    fmt = "%Y" if step >= 1 else "%Y-%m"
    start = int(low / step) * step
    values: list[float] = []
    tick = start
    while tick <= high + 1e-9:
        if tick >= low - 1e-9:
            values.append(round(tick, 6))
        tick += step
    labels = []
    for value in values:
        year = int(value)
        month = min(12, round((value - year) * 12) + 1)
        labels.append(date(year, month, 1).strftime(fmt))
    return values, labels


def selected_rows(frame: pd.DataFrame, points: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """The map rows behind a Plotly selection (each point carries its row number as customdata[0])."""
    rows = [r for r in (_row_number(p.get("customdata")) for p in points) if r is not None]
    kept = [r for r in dict.fromkeys(rows) if 0 <= r < len(frame)]
    return frame.iloc[kept].sort_values(["as_of_date", "portfolio_id"]).loc[:, MAP_COLUMNS].reset_index(drop=True)


# A selection lists at most this many states on the page (its CSV has them all): a box over the
# demo book's whole map sent 1.8 MB of table and a 2.3 MB "State to open" box of 57,952 labels
# after every selection; nobody reads, or picks from, 57,952 rows on a page.
SELECTION_LISTED = 1_000


def selection_listing(chosen: pd.DataFrame, limit: int = SELECTION_LISTED) -> tuple[pd.DataFrame, str]:
    """The selected rows to list on the page (the first ``limit``, in the selection's date order) and its caption."""
    if len(chosen) <= limit:
        return chosen, f"{len(chosen):,} state(s) selected"
    return chosen.head(limit), (
        f"{len(chosen):,} state(s) selected: the first {limit:,} by date are listed here and in the box below; "
        f"the CSV has all {len(chosen):,}."
    )


def trajectory(frame: pd.DataFrame, portfolio_id: str) -> pd.DataFrame:
    """One portfolio's states in date order: its path across the map."""
    return frame[frame["portfolio_id"] == portfolio_id].sort_values("as_of_date")


def trajectory_between(path: pd.DataFrame, first_year: int, last_year: int) -> pd.DataFrame:
    years = pd.to_datetime(path["as_of_date"]).dt.year
    return path[(years >= first_year) & (years <= last_year)]


def total_variance(matrix: np.ndarray) -> float:
    """The states' total variance (the sum over coordinates), what PCA's axes take shares of."""
    return float(np.asarray(matrix, dtype=np.float64).var(axis=0).sum()) if len(matrix) else 0.0


def axis_titles(method: str, frame: pd.DataFrame, total: float) -> tuple[str, str]:
    """What the map's axes mean: each principal component's share of the states' variance, or UMAP's caveat.

    PCA's coordinates are the states projected on the two directions of largest variance,
    so their variance over ``total`` (:func:`total_variance` of the states the map was fitted
    on) is each axis's share. UMAP's axes have no units and only local distances mean much.
    """
    if method != "pca":
        return "UMAP 1 (no units; only nearby distances mean much)", "UMAP 2"
    titles = []
    for number, name in ((1, "x"), (2, "y")):
        share = float(np.var(frame[name].to_numpy(dtype=np.float64))) / total if total > 0 else 0.0
        titles.append(f"PC{number} ({formats.percent(min(share, 1.0))} of the variance)")
    return titles[0], titles[1]
