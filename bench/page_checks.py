"""Checks run inside the page, shared by the browser tests and the UI bench: one definition of "drawn"."""

from __future__ import annotations

# Every Plotly chart and dataframe shown has drawn (its SVG layer, its canvas). Charts and grids
# in a hidden tab draw only when the tab opens: only those shown count.
DRAWN_JS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(
    (chart) => !chart.checkVisibility() || chart.querySelector('.main-svg'))
  && [...document.querySelectorAll('[data-testid="stDataFrame"]')].every(
    (grid) => !grid.checkVisibility() || grid.querySelector('canvas'))"""
