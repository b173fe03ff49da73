"""The one formatting layer: how every number, date, key and empty cell reads on a page and in a CSV.

Each column the app shows has a kind, and the kind alone decides its format, so the
same quantity reads the same everywhere:

- ``percent``: a fraction shown as a percentage with one decimal (``-25.3%``), in tables,
  captions, hovers and colour bars alike; a CSV writes the percentage (``-25.3``) under a
  header that says ``(%)``;
- ``ratio`` (beta, Sharpe, exposures to factors): two decimals; ``score`` (cosine,
  euclidean, coordinates): four; ``count``: a whole number with thousands separators
  (``57,952``); ``money``: thousands separators, no decimals;
- ``date``: ISO (``2008-10-10``); ``key``: a metric, factor or stress-window key in words
  (presenters/labels.py); ``text``: as is;
- an empty cell is empty: never ``None``, ``nan`` or ``NaT``.

CSV downloads carry readable headers and at most :data:`CSV_DIGITS` significant digits,
unless the analyst asks for raw CSV (then stored values and column ids, for programs).
Pages turn these specs into Streamlit column configs in ui/widgets.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from prometheus.presenters.labels import COUNT_METRICS, PERCENT_METRICS, key_label

PERCENT_DECIMALS = 1
CSV_DIGITS = 6
# printf formats (Streamlit's NumberColumn); percent columns are scaled by 100 on screen
PRINTF = {
    "percent": f"%.{PERCENT_DECIMALS}f%%",
    "ratio": "%.2f",
    "score": "%.4f",
    "coordinate": "%.3f",
    "count": "%,d",
    "money": "%,.0f",
    "seconds": "%,.1f",
}
PLOTLY = {  # the same formats for Plotly's d3 tick and hover formats
    "percent": f".{PERCENT_DECIMALS}%",
    "ratio": ".2f",
    "score": ".4f",
    "count": ",d",
    "money": ",.0f",
}


@dataclass(frozen=True)
class Column:
    label: str
    # text, figure (numbers already formatted as text: right-aligned), key, date, datetime, percent,
    # ratio, score, coordinate, count, money, seconds, flag
    kind: str = "text"
    help: str = ""


_PCT = "percent"
COLUMNS: dict[str, Column] = {
    "rank": Column("#", "count"),
    "cosine": Column("Cosine", "score", "Cosine similarity of the two state vectors (1 = same direction)."),
    "euclidean": Column("Euclidean", "score", "Distance between the two state vectors (0 = identical)."),
    "portfolio_id": Column("Portfolio"),
    "as_of_date": Column("Date", "date"),
    "drawdown": Column("Drawdown", _PCT),
    "volatility_1m": Column("Volatility (1 month)", _PCT),
    "volatility_3m": Column("Volatility (3 months)", _PCT),
    "volatility_1y": Column("Volatility (1 year)", _PCT),
    "var_95_1d": Column("VaR 95% (1 day)", _PCT),
    "beta_1y": Column("Beta (1 year)", "ratio"),
    "return_1y": Column("Return (1 year)", _PCT),
    "portfolio_value": Column("Portfolio value", "money"),
    "dominant_sector": Column("Largest sector"),
    "stress_known_then": Column(
        "Stress known then", help="How far the benchmark (or the book) stood below its peak on that date."
    ),
    "stress_window": Column("Stress window"),
    # short headers: the four must fit beside who and when in a 1400-pixel window
    "fwd_return_30d": Column("30-day return", _PCT, "Return over the 30 days after the state's date."),
    "fwd_max_drawdown_30d": Column("30-day max drawdown", _PCT, "Deepest fall within the 30 days after it."),
    "fwd_return_91d": Column("91-day return", _PCT, "Return over the 91 days after the state's date."),
    "fwd_max_drawdown_91d": Column("91-day max drawdown", _PCT, "Deepest fall within the 91 days after it."),
    "values": Column("Values", help="daily: daily portfolio values; reports: report values"),
    "peak_date": Column("Peak", "date"),
    "trough_date": Column("Trough", "date"),
    "recovery_date": Column("Recovery", "date", "Empty: not recovered by the last stored date."),
    "depth": Column("Depth", _PCT),
    "days_to_trough": Column("Days to trough", "count"),
    "length_days": Column("Length (days)", "count", "Peak to recovery, or to the last stored date."),
    "recovered": Column("Recovered", "flag"),
    "forecast_max_drawdown": Column("Forecast max drawdown", _PCT),
    "band_low": Column("80% band, deep end", _PCT),
    "band_high": Column("80% band, shallow end", _PCT),
    "model_id": Column("Model"),
    "model": Column("Model"),
    "dim": Column("Dimensions", "count"),
    "l2_norm": Column("L2 norm", "score"),
    "states": Column("States", "count"),
    "x": Column("Map x", "coordinate"),
    "y": Column("Map y", "coordinate"),
    "metric": Column("Metric", "key"),
    "sector": Column("Sector", "key"),
    "factor": Column("Factor", "key"),
    "scenario": Column("Scenario", "key", "A named stress window replayed with the state's weights."),
    "feature": Column("Feature", "key"),
    "block": Column("Block", "key"),
    "description": Column("What it measures"),
    "query": Column("Query", "figure"),
    "neighbour": Column("Neighbour", "figure"),
    "difference": Column("Neighbour − query", "figure"),
    "coordinate_a": Column("Query coordinate", "score"),
    "coordinate_b": Column("Neighbour coordinate", "score"),
    "cosine_contribution": Column("Share of cosine", "score", "The features' shares add up to the cosine."),
    "distance_contribution": Column(
        "Share of distance", "score", "Share of the squared euclidean distance; the shares add up to it."
    ),
    "created": Column("Created (UTC)", "datetime"),
    "kind": Column("Kind"),
    "status": Column("Status"),
    "progress": Column("Progress", "count"),
    "message": Column("Message"),
    "seconds": Column("Seconds", "seconds"),
    "params": Column("Parameters"),
    "job_id": Column("Job id"),
    "line": Column("Line", "count"),
    "row": Column("Row", "count"),
    "reason": Column("Problem"),
    "calendar_year": Column("Year"),
    **{
        f"month_{number:02d}": Column(name, _PCT)
        for number, name in enumerate(
            ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
        )
    },
    "year_return": Column("Year's return", _PCT, "From the last value of the year before to the year's last value."),
    "method": Column("Method"),
    "stress_share": Column(
        "Stress neighbours",
        _PCT,
        "Of each stress state's 10 nearest neighbours among other books (its own crisis and anything within "
        "91 days left out), the share that are stress states too.",
    ),
    "share_low": Column("95% interval from", _PCT, "Block bootstrap over the queries' calendar years."),
    "share_high": Column("95% interval to", _PCT),
    "lift": Column("x base rate", "ratio", "The share over the share of all states that are stress states."),
}


def column(name: str) -> Column:
    """The spec of a column id; an id nobody registered still reads as words, as text."""
    return COLUMNS.get(name) or Column(key_label(name))


def is_empty(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value)) if not isinstance(value, list | tuple | dict) else False
    except (TypeError, ValueError):
        return False


def day(value: Any) -> str:
    """A date as ISO text; empty for a missing one."""
    if is_empty(value):
        return ""
    if isinstance(value, datetime | pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def percent(value: Any, signed: bool = False) -> str:
    """A fraction as a percentage with the app's one number of decimals: -0.2534 -> "-25.3%"."""
    if is_empty(value):
        return ""
    return f"{float(value):{'+' if signed else ''}.{PERCENT_DECIMALS}%}"


def count(value: Any) -> str:
    """A whole number with thousands separators: 57952 -> "57,952"."""
    return "" if is_empty(value) else f"{round(float(value)):,d}"


def cell(value: Any, kind: str, signed: bool = False) -> str:
    """One value as text, by kind (for cells whose kind changes from row to row, and for prose)."""
    if is_empty(value):
        return ""
    if kind == "percent":
        return percent(value, signed)
    if kind == "count":
        return ("+" if signed and float(value) > 0 else "") + count(value)
    if kind in ("date", "datetime"):
        return day(value) if kind == "date" else str(value)[:19]
    if kind == "key":
        return key_label(value)
    if kind in PRINTF and kind != "seconds":
        sign = "+" if signed else ""
        decimals = {"ratio": 2, "score": 4, "coordinate": 3, "money": 0}[kind]
        return f"{float(value):{sign},.{decimals}f}"
    return str(value)


def metric_kind(metric: str) -> str:
    """How a risk metric reads: most are fractions (percent), some ratios, the name count a count."""
    if metric in PERCENT_METRICS:
        return "percent"
    return "count" if metric in COUNT_METRICS else "ratio"


# ---------------------------------------------------------------- whole tables


def screen_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as the page shows it: percent columns scaled to percentages, keys in words.

    Numbers stay numbers (so columns still sort); how they print is the column's printf
    format (:data:`PRINTF`), and an empty cell shows as nothing (the page passes
    ``placeholder=""``).
    """
    out = frame.copy()
    for name in out.columns:
        kind = column(str(name)).kind
        if kind == "percent":
            out[name] = pd.to_numeric(out[name], errors="coerce") * 100.0
        elif kind == "key":
            out[name] = out[name].map(lambda v: "" if is_empty(v) else key_label(v))
        elif kind == "text" and out[name].dtype == object:
            out[name] = out[name].map(lambda v: "" if is_empty(v) else v)
    return out


def _significant(value: float) -> float | str:
    if math.isnan(value) or math.isinf(value):
        return ""
    return float(f"{value:.{CSV_DIGITS}g}")


def csv_header(name: str) -> str:
    spec = column(name)
    return f"{spec.label} (%)" if spec.kind == "percent" else spec.label


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as a CSV for people: readable headers, percentages, dates ISO, at most 6 significant digits."""
    out = pd.DataFrame(index=range(len(frame)))
    for name in frame.columns:
        kind = column(str(name)).kind
        series = frame[name].reset_index(drop=True)
        if kind in ("date", "datetime"):
            values: list[Any] = [cell(v, kind) for v in series]
        elif kind == "key":
            values = ["" if is_empty(v) else key_label(v) for v in series]
        elif kind == "flag":
            values = ["" if is_empty(v) else ("yes" if v else "no") for v in series]
        elif pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
            values = ["" if is_empty(v) else v for v in series]
        elif kind in ("count", "progress") or pd.api.types.is_integer_dtype(series.dtype):
            values = ["" if is_empty(v) else round(float(v)) for v in series]
        else:
            scale = 100.0 if kind == "percent" else 1.0
            values = [_significant(float(v) * scale) if not is_empty(v) else "" for v in series]
        out[csv_header(str(name))] = pd.Series(values, dtype=object)
    return out
