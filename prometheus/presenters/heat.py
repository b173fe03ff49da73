"""Cell colours of returns tables: losses red, gains green, stronger with size (a heatmap as
analysts read pyfolio's and QuantStats' monthly returns), computed here so that the page only
attaches them."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from prometheus.services.drawdown import MONTH_COLUMNS

# Tableau red and green (Plotly's D3 palette, as on the charts); translucent so that the text
# stays readable on a light or a dark theme.
LOSS_RGB = (214, 39, 40)
GAIN_RGB = (44, 160, 44)
FAINTEST, STRONGEST = 0.08, 0.55  # the alpha of a tiny move and of one at or beyond full scale
# Full colour at about two standard deviations of a book with 15% annual volatility (a month's
# sigma 4.3%, a year's 15%); the demo book 001, a 20-stock book, has months of sigma 5.9% and
# 2008-10 at -15.7%, years of sigma 33%: its crises saturate, its ordinary months stay pale.
MONTH_FULL_AT = 0.10
YEAR_FULL_AT = 0.30
# The monthly returns table's columns and their full scale
MONTHLY_HEAT = {name: MONTH_FULL_AT for name in MONTH_COLUMNS} | {"year_return": YEAR_FULL_AT}


def heat_css(value: object, full_at: float) -> str:
    """A cell's background for a return (a fraction): nothing for an empty cell or a flat one."""
    if not isinstance(value, int | float) or math.isnan(value) or value == 0:
        return ""
    strength = min(abs(float(value)) / full_at, 1.0)
    alpha = FAINTEST + (STRONGEST - FAINTEST) * strength
    red, green, blue = LOSS_RGB if value < 0 else GAIN_RGB
    return f"background-color: rgba({red}, {green}, {blue}, {alpha:.2f})"


def heat_styles(frame: pd.DataFrame, full_at: Mapping[str, float]) -> pd.DataFrame:
    """One CSS string per cell of ``frame``: the named columns coloured at their full scale, the rest plain."""
    styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
    for name, scale in full_at.items():
        styles[name] = [heat_css(value, scale) for value in frame[name]]
    return styles
