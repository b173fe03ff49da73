"""Every chart of the app, as Plotly figures built from presented tables (no Streamlit here).

Plotly renders a subset of HTML (links, bold, styled spans) in titles, axis ticks, legend
names and hover labels: every id from data passes through ``plotly_text`` here (hover
texts in presenters/maps.py), so it shows as the characters it is.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from prometheus.presenters.maps import year_ticks
from prometheus.presenters.markup import plotly_text
from prometheus.stress import windows_between

SHADE = "rgba(179, 51, 51, 0.10)"
CONTINUOUS = {  # colour key -> (column, colour scale, colour bar title, tick format)
    "date": ("year", "Viridis", "year", "d"),
    "drawdown": ("drawdown", "Reds_r", "drawdown", ".0%"),
    "volatility": ("volatility_1y", "Plasma", "volatility", ".0%"),
}
CATEGORICAL = {"portfolio": "portfolio_id", "sector": "dominant_sector"}
HOVER = "%{text}<br>drawdown %{customdata[1]:.1%} · volatility (1y) %{customdata[2]:.1%}<extra></extra>"
PALETTE = [
    "#2f5d8a",
    "#d1495b",
    "#edae49",
    "#00798c",
    "#66a182",
    "#8e6c8a",
    "#e07a5f",
    "#3d405b",
    "#81b29a",
    "#f2cc8f",
    "#6d597a",
    "#b56576",
    "#355070",
    "#eaac8b",
    "#0b6e4f",
    "#c44536",
]


def _custom(frame: pd.DataFrame) -> Any:
    # customdata[0] is the row number: a selection maps back to the frame through it.
    # One float matrix (sent base64-encoded) keeps a 60k-point figure small and quick to build.
    return frame[["row", "drawdown", "volatility_1y"]].to_numpy(dtype="float32")


def map_figure(frame: pd.DataFrame, colour: str, path: pd.DataFrame | None, stress: bool) -> go.Figure:
    figure = go.Figure()
    marker = {"size": 5, "opacity": 0.75}
    if colour in CONTINUOUS:
        column, scale, title, tick = CONTINUOUS[colour]
        colourbar: dict[str, Any] = {"title": {"text": title}, "tickformat": tick, "thickness": 12}
        if colour == "date":
            values, labels = year_ticks(frame["year"])
            colourbar.update(tickvals=values, ticktext=labels)
        figure.add_trace(
            go.Scattergl(
                x=frame["x"],
                y=frame["y"],
                mode="markers",
                name="states",
                customdata=_custom(frame),
                text=frame["hover"],
                hovertemplate=HOVER,
                showlegend=False,
                marker={
                    **marker,
                    "color": frame[column],
                    "colorscale": scale,
                    "colorbar": colourbar,
                    **({"cmax": 0.0} if colour == "drawdown" else {}),
                },
            )
        )
    else:
        column = CATEGORICAL[colour]
        for i, (value, group) in enumerate(frame.groupby(column, sort=True)):
            figure.add_trace(
                go.Scattergl(
                    x=group["x"],
                    y=group["y"],
                    mode="markers",
                    name=plotly_text(value),
                    customdata=_custom(group),
                    text=group["hover"],
                    hovertemplate=HOVER,
                    marker={**marker, "color": PALETTE[i % len(PALETTE)]},
                )
            )
    if stress:
        inside = frame[frame["stress_window"] != ""]
        if not inside.empty:
            figure.add_trace(
                go.Scattergl(
                    x=inside["x"],
                    y=inside["y"],
                    mode="markers",
                    name="in a named stress window",
                    hoverinfo="skip",  # the state underneath answers hovers and selections
                    marker={
                        "size": 7,
                        "symbol": "circle-open",
                        "color": "rgba(17, 17, 17, 0.35)",
                        "line": {"width": 0.7},
                    },
                )
            )
    if path is not None and not path.empty:
        first, last = path["as_of_date"].iloc[0], path["as_of_date"].iloc[-1]
        name = f"{plotly_text(path['portfolio_id'].iloc[0])}, {first:%Y-%m} to {last:%Y-%m}"
        figure.add_trace(
            go.Scattergl(
                x=path["x"],
                y=path["y"],
                mode="lines+markers",
                name=name,
                customdata=_custom(path),
                text=path["hover"],
                hovertemplate=HOVER,
                line={"color": "#111111", "width": 1.5},
                marker={"size": 4, "color": "#111111"},
            )
        )
        ends = path.iloc[[0, -1]]
        figure.add_trace(
            go.Scattergl(
                x=ends["x"],
                y=ends["y"],
                mode="markers+text",
                text=["start", "end"],
                textposition="top center",
                marker={"size": 12, "symbol": ["triangle-up", "star"], "color": "#111111"},
                showlegend=False,
                customdata=_custom(ends),
                hovertext=ends["hover"],
                hovertemplate=HOVER.replace("%{text}", "%{hovertext}"),
            )
        )
    # Many categories: a legend column on the right; a colour bar: the few legend entries on top.
    legend = (
        {"itemsizing": "constant"}
        if colour in CATEGORICAL
        else {"itemsizing": "constant", "orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"}
    )
    figure.update_layout(
        height=640,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        dragmode="select",
        legend=legend,
        xaxis={"showticklabels": False, "title": ""},
        yaxis={"showticklabels": False, "title": ""},
    )
    return figure


def underwater_figure(frame: pd.DataFrame, portfolio: str, marked: date | None) -> go.Figure:
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(
        go.Scatter(
            x=frame["as_of_date"],
            y=frame["drawdown"],
            name="Drawdown",
            fill="tozeroy",
            mode="lines",
            line={"color": "#b33", "width": 1.2},
            hovertemplate="%{x|%Y-%m-%d}: %{y:.1%}<extra>drawdown</extra>",
        ),
        secondary_y=False,
    )
    figure.add_trace(
        go.Scatter(
            x=frame["as_of_date"],
            y=frame["portfolio_value"],
            name="Portfolio value",
            mode="lines",
            line={"color": "#2f5d8a", "width": 1},
            opacity=0.6,
            hovertemplate="%{x|%Y-%m-%d}: %{y:,.0f}<extra>value</extra>",
        ),
        secondary_y=True,
    )
    first, last = frame["as_of_date"].iloc[0], frame["as_of_date"].iloc[-1]
    windows = windows_between(first, last)
    # The shades (and the date's line) as plain layout shapes in one call: add_vrect per window
    # took ~0.1 s of each Drawdown page run in Plotly's per-shape validation.
    shapes: list[dict[str, Any]] = [
        {"type": "rect", "xref": "x", "yref": "paper", "x0": w.start, "x1": w.end, "y0": 0, "y1": 1}
        | {"fillcolor": SHADE, "line": {"width": 0}, "layer": "below"}
        for w in windows
    ]
    if windows:
        # Names as hoverable markers along the top: text labels of overlapping windows collide.
        figure.add_trace(
            go.Scatter(
                x=[w.start + (w.end - w.start) / 2 for w in windows],
                y=[0.0] * len(windows),
                mode="markers",
                name="Named stress window",
                marker={"symbol": "triangle-down", "size": 9, "color": "#7a2b2b"},
                text=[f"{w.name}<br>{w.start:%Y-%m-%d} to {w.end:%Y-%m-%d}" for w in windows],
                hovertemplate="%{text}<extra></extra>",
            ),
            secondary_y=False,
        )
    if marked is not None:
        shapes.append(
            {"type": "line", "xref": "x", "yref": "paper", "x0": marked, "x1": marked, "y0": 0, "y1": 1}
            | {"line": {"color": "#1f2933", "dash": "dot", "width": 1}}
        )
    figure.update_layout(shapes=shapes)
    figure.update_yaxes(title_text="drawdown", tickformat=".0%", secondary_y=False)
    figure.update_yaxes(title_text="portfolio value", secondary_y=True, showgrid=False)
    figure.update_layout(
        height=420,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        hovermode="closest",
        title=f"{plotly_text(portfolio)}: under water"
        + (" (shaded: named stress windows)" if windows else " (no named stress window in this span)"),
        legend={"orientation": "h", "y": -0.15},
    )
    return figure


def explanation_figure(table: pd.DataFrame) -> go.Figure:
    top = table.head(15).iloc[::-1]
    figure = go.Figure(
        go.Bar(
            x=top["distance_contribution"],
            y=top["feature"],
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
    ("volatility_1y", "Volatility (1y)", "%{y:.1%}"),
    ("var_95_1d", "VaR 95% (1 day)", "%{y:.2%}"),
    ("beta_1y", "Beta (1y)", "%{y:.2f}"),
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
                x=history["as_of_date"],
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
