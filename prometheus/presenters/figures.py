"""The app's charts but the Map's (presenters/map_chart.py), as Plotly figures built from presented
tables (no Streamlit here).

Plotly renders a subset of HTML (links, bold, styled spans) in titles, axis ticks, legend
names and hover labels: every id from data passes through ``plotly_text`` here (hover
texts in presenters/maps.py), so it shows as the characters it is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from prometheus.presenters import formats
from prometheus.presenters.labels import feature_label
from prometheus.presenters.markup import plotly_text
from prometheus.presenters.series import iso_days, line_extremes
from prometheus.stress import windows_between

SHADE = "rgba(179, 51, 51, 0.10)"


def underwater_figure(frame: pd.DataFrame, portfolio: str) -> go.Figure:
    """A book's under-water curve and value, shaded where named stress windows fall.

    The same for every date the page is asked about (the page says in words where that date
    sits): an unchanged figure reaches the browser as a reference to the one it has, where a
    dotted line at the date made each date change re-send all 365 KB of a demo book's chart and
    redraw it; a Drawdown date change settled in 0.59 s with the line, 0.43 s without (median of
    5, bench/ui_speed.py, one-line page 0.35 s). Its lines keep each of 1,200 runs' extremes
    (``line_extremes``): 2,389 and 2,401 of a demo book's 7,104 daily points, 131 KB of JSON not
    368 KB; a portfolio change settled in 0.53 s, not 0.58 s (A/B). Built whole: 10 ms, not 37 ms.
    """
    days = iso_days(frame["as_of_date"])
    drawdown = frame["drawdown"].to_numpy(dtype=np.float64)
    value = frame["portfolio_value"].to_numpy(dtype=np.float64)
    deep = line_extremes(drawdown)
    worth = line_extremes(value)
    traces = [
        go.Scatter(
            x=days[deep],
            y=drawdown[deep],
            name="Drawdown",
            fill="tozeroy",
            mode="lines",
            line={"color": "#b33", "width": 1.2},
            hovertemplate="%{x|%Y-%m-%d}: %{y:" + formats.PLOTLY["percent"] + "}<extra>drawdown</extra>",
        ),
        go.Scatter(
            x=days[worth],
            y=value[worth],
            name="Portfolio value",
            mode="lines",
            line={"color": "#2f5d8a", "width": 1},
            opacity=0.6,
            hovertemplate="%{x|%Y-%m-%d}: %{y:,.0f}<extra>value</extra>",
            yaxis="y2",
        ),
    ]
    first, last = frame["as_of_date"].iloc[0], frame["as_of_date"].iloc[-1]
    windows = windows_between(first, last)
    if windows:
        # Names as hoverable markers along the top: text labels of overlapping windows collide.
        traces.append(
            go.Scatter(
                x=[w.start + (w.end - w.start) / 2 for w in windows],
                y=[0.0] * len(windows),
                mode="markers",
                name="Named stress window",
                marker={"symbol": "triangle-down", "size": 9, "color": "#7a2b2b"},
                text=[f"{w.name}<br>{w.start:%Y-%m-%d} to {w.end:%Y-%m-%d}" for w in windows],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    # One figure built whole, its layout validated once: make_subplots and the later layout
    # updates took 31 of the 37 ms this figure cost (each new book on the Drawdown page).
    layout = {
        # the shades as plain layout shapes: add_vrect per window took ~0.1 s in per-shape validation
        "shapes": [
            {"type": "rect", "xref": "x", "yref": "paper", "x0": w.start, "x1": w.end, "y0": 0, "y1": 1}
            | {"fillcolor": SHADE, "line": {"width": 0}, "layer": "below"}
            for w in windows
        ],
        "xaxis": {"anchor": "y", "domain": [0.0, 0.94]},
        "yaxis": {"anchor": "x", "title": {"text": "drawdown"}, "tickformat": ".0%"},
        # ",.0f": "441,000", not Plotly's SI "0.441M"
        "yaxis2": {
            "anchor": "x",
            "overlaying": "y",
            "side": "right",
            "title": {"text": "portfolio value"},
            "tickformat": ",.0f",
            # Plotly syncs an overlaying axis's ticks to the grid of the axis below by default:
            # the demo's value axis read 72,244,923 / 219,540,285 / ...; its own round ticks read 200,000,000
            "tickmode": "auto",
            "showgrid": False,
        },
        "height": 420,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "hovermode": "closest",
        "title": {
            "text": f"{plotly_text(portfolio)}: under water"
            + (" (shaded: named stress windows)" if windows else " (no named stress window in this span)")
        },
        "legend": {"orientation": "h", "y": -0.15},
    }
    return go.Figure(data=traces, layout=layout)


def explanation_figure(table: pd.DataFrame) -> go.Figure:
    top = table.head(15).iloc[::-1]
    figure = go.Figure(
        go.Bar(
            x=top["distance_contribution"],
            y=[plotly_text(feature_label(str(name))) for name in top["feature"]],
            orientation="h",
            marker_color="#2f5d8a",
            customdata=top[["description", "coordinate_a", "coordinate_b"]],
            hovertemplate="%{y}: %{x:.4f}<br>%{customdata[0]}<br>query %{customdata[1]:.4f} · "
            "neighbour %{customdata[2]:.4f}<extra></extra>",
        )
    )
    figure.update_layout(
        height=420,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title="Features that pull the two states apart (share of euclidean distance)",
        xaxis_title="contribution to distance",
    )
    return figure


def coverage_figure(table: pd.DataFrame) -> go.Figure:
    """States per portfolio (rows) and period (columns) as a heat map."""
    figure = go.Figure(
        go.Heatmap(
            z=table.to_numpy(),
            x=list(table.columns),
            y=[plotly_text(label) for label in table.index],
            colorscale="Blues",
            zmin=0,
            hovertemplate="%{y}<br>%{x}: %{z} state(s)<extra></extra>",
            colorbar={"title": "states"},
            xgap=1,
            ygap=1,
        )
    )
    figure.update_layout(
        height=max(240, 16 * len(table.index) + 110),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis={"autorange": "reversed", "type": "category", "tickfont": {"size": 10}},
        xaxis={"type": "category", "tickfont": {"size": 10}},
    )
    return figure


HISTORY_PANELS = (
    ("l2_norm", "L2 norm of the state vector", "%{y:.3f}"),
    ("drawdown", "Drawdown", "%{y:.1%}"),
    ("volatility_1y", "Volatility (1 year)", "%{y:.1%}"),
    ("var_95_1d", "VaR 95% (1 day)", "%{y:.1%}"),
    ("beta_1y", "Beta (1 year)", "%{y:.2f}"),
)


def history_figure(history: pd.DataFrame) -> go.Figure:
    """A portfolio's L2 norm and headline risk numbers over time, one panel each."""
    figure = make_subplots(
        rows=len(HISTORY_PANELS),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=[title for _, title, _ in HISTORY_PANELS],
    )
    for row, (column, title, hover) in enumerate(HISTORY_PANELS, start=1):
        figure.add_trace(
            go.Scatter(
                x=iso_days(history["as_of_date"]),
                y=history[column],
                name=title,
                mode="lines",
                fill="tozeroy" if column == "drawdown" else None,
                line={"width": 1.5, "color": "#b33" if column == "drawdown" else "#2f5d8a"},
                hovertemplate=f"%{{x|%Y-%m-%d}}: {hover}<extra>{title}</extra>",
            ),
            row=row,
            col=1,
        )
        if column in ("drawdown", "volatility_1y", "var_95_1d"):
            figure.update_yaxes(tickformat=".0%", row=row, col=1)
    figure.update_layout(
        height=170 * len(HISTORY_PANELS), showlegend=False, margin={"l": 10, "r": 10, "t": 30, "b": 10}
    )
    return figure
