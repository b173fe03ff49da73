"""Long time series on their way to a chart: days as one array of ISO strings, and the points of a
line a chart of a given width needs."""

from __future__ import annotations

import numpy as np
import pandas as pd

LINE_BUCKETS = 1_200  # about the pixel width of a full-width chart on a wide screen


def iso_days(days: pd.Series) -> np.ndarray:
    """Days as one array of ISO strings, not thousands of date objects (the same JSON).

    Streamlit copies and serialises a figure on every run of its page: for the 7,104 daily
    points of a demo book's under-water chart that took 0.15-0.25 s with date objects, 0.03 s so.
    """
    return np.datetime_as_string(pd.to_datetime(days).to_numpy(dtype="datetime64[D]"))


def line_extremes(values: np.ndarray, buckets: int = LINE_BUCKETS) -> np.ndarray:
    """Indices of the points a chart about ``buckets`` pixels wide needs to draw a line as it is: the
    first and last, and each of ``buckets`` equal runs' lowest and highest (every peak and trough of
    the line; a run's other points lie between its extremes, on the same pixel column).

    A missing value breaks the line (Plotly leaves a gap): each gap keeps its first missing value
    and the points on either side of it, so the thinned line breaks where the full one does. A
    line of at most ``2 * buckets`` points is kept whole.
    """
    values = np.asarray(values, dtype=np.float64)
    n = values.size
    if n <= 2 * buckets:
        return np.arange(n)
    starts = np.linspace(0, n, buckets + 1).astype(np.int64)[:-1]
    bucket = np.repeat(np.arange(buckets), np.diff(np.r_[starts, n]))
    # fmin/fmax skip missing values; a run with none finite matches nothing (NaN equals nothing).
    with np.errstate(invalid="ignore"):
        lows = np.fmin.reduceat(values, starts)[bucket] == values
        highs = np.fmax.reduceat(values, starts)[bucket] == values
    # the first lowest and first highest point of each run
    first_low = np.unique(bucket[lows], return_index=True)[1]
    first_high = np.unique(bucket[highs], return_index=True)[1]
    missing = ~np.isfinite(values)
    edges = np.flatnonzero(np.diff(missing))  # the last point before each change, finite or not
    gaps = np.r_[edges, edges + 1, np.flatnonzero(missing[:1])]
    kept = np.r_[0, np.flatnonzero(lows)[first_low], np.flatnonzero(highs)[first_high], gaps, n - 1]
    return np.unique(kept)
