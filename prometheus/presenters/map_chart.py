"""The Map's chart: every state as a point, coloured by date, drawdown, volatility, book or sector,
with stress states outlined and one book's trajectory drawn over them (no Streamlit here).

Ids from data pass through ``plotly_text`` (hover texts in presenters/maps.py), so they show as the
characters they are; see presenters/figures.py for the app's other charts.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from prometheus.presenters import formats
from prometheus.presenters.maps import year_ticks
from prometheus.presenters.markup import plotly_text

# Drawdown from deep (dark red) to none (sand): the shallow end must stay visible on a white page,
# which "Reds_r" (ending in white) was not.
DRAWDOWN_SCALE = [[0.0, "#4a0d0d"], [0.35, "#b2182b"], [0.7, "#e76f51"], [1.0, "#d9b25f"]]
CONTINUOUS = {  # colour key -> (column, colour scale, colour bar title, tick format)
    "date": ("year", "Viridis", "year", "d"),
    "drawdown": ("drawdown", DRAWDOWN_SCALE, "drawdown", formats.PLOTLY["percent"]),
    "volatility": ("volatility_1y", "Plasma", "volatility (1 year)", formats.PLOTLY["percent"]),
}
CATEGORICAL = {"portfolio": "portfolio_id", "sector": "dominant_sector"}
_NUMBERS = (
    "<br>drawdown %{customdata[1]:" + formats.PLOTLY["percent"] + "} · volatility (1 year) "
    "%{customdata[2]:" + formats.PLOTLY["percent"] + "}<extra></extra>"
)
# A state's hover label: its book, its own date and stress window (text), drawdown and volatility
# (customdata). Traces of one book say the book once, in their meta; a sector's trace holds many
# books, so there each point's text names its book. Both read the same.
HOVER = "%{meta[0]} · %{text}" + _NUMBERS
HOVER_NAMED = "%{text}" + _NUMBERS
# 10 colours (Tableau 10) times 6 shapes: 60 distinct marks, so each of the demo's 40 books
# has its own (16 colours alone made books 1, 17 and 33 look the same).
PALETTE = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#7f7f7f",
]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "x"]
PATH_COLOUR = "#1f2933"
END_COLOURS = ("#1b7f5f", "#c1121f")  # start green, end red


def category_mark(i: int) -> tuple[str, str]:
    """The colour and shape of the i-th category: every colour with circles first, then squares, ..."""
    return PALETTE[i % len(PALETTE)], SYMBOLS[(i // len(PALETTE)) % len(SYMBOLS)]


def _custom(frame: pd.DataFrame) -> Any:
    # customdata[0] is the row number: a selection maps back to the frame through it.
    # One float matrix (sent base64-encoded) keeps a 60k-point figure small and quick to build.
    return frame[["row", "drawdown", "volatility_1y"]].to_numpy(dtype="float32")


def _stress_halo(frame: pd.DataFrame) -> go.Scattergl | None:
    """Stress-window states as a dark ring drawn *under* the coloured points: a halo around each one.

    Drawn on top (as before), 14k open circles in the middle of the cloud hid its colours.
    """
    inside = frame[frame["stress_window"] != ""]
    if inside.empty:
        return None
    return go.Scattergl(
        x=inside["x"],
        y=inside["y"],
        mode="markers",
        name="in a named stress window (dark ring)",
        hoverinfo="skip",  # the state on top answers hovers and selections
        marker={"size": 9, "color": "rgba(17, 17, 17, 0.55)", "line": {"width": 0}},
    )


def _path_traces(path: pd.DataFrame) -> tuple[list[Any], list[dict[str, Any]]]:
    """The path's line, its two ends as large marks, and labelled arrows naming them."""
    first, last = path["as_of_date"].iloc[0], path["as_of_date"].iloc[-1]
    book = plotly_text(path["portfolio_id"].iloc[0])
    name = f"{book}, {first:%Y-%m} to {last:%Y-%m}"
    traces: list[Any] = [
        go.Scattergl(
            x=path["x"],
            y=path["y"],
            mode="lines+markers",
            name=name,
            meta=[book],
            customdata=_custom(path),
            text=path["hover"],
            hovertemplate=HOVER,
            line={"color": PATH_COLOUR, "width": 1.5},
            marker={"size": 4, "color": PATH_COLOUR},
        )
    ]
    # WebGL traces draw no text and cover SVG ones, so the ends are WebGL marks drawn last (on
    # top) and their names are annotations (drawn above the WebGL layer).
    notes = []
    for row, label, symbol, colour in (
        (0, "start", "triangle-up", END_COLOURS[0]),
        (-1, "end", "square", END_COLOURS[1]),
    ):
        point = path.iloc[[row]]
        day = point["as_of_date"].iloc[0]
        traces.append(
            go.Scattergl(
                x=point["x"],
                y=point["y"],
                mode="markers",
                name=f"{label} {formats.day(day)}",
                marker={"size": 16, "symbol": symbol, "color": colour, "line": {"width": 2, "color": "white"}},
                meta=[book],
                customdata=_custom(point),
                text=point["hover"],
                hovertemplate=HOVER,
            )
        )
        notes.append(
            {
                "x": float(point["x"].iloc[0]),
                "y": float(point["y"].iloc[0]),
                "text": f"<b>{label}</b> {day:%Y-%m}",
                "showarrow": True,
                "arrowhead": 2,
                "arrowcolor": colour,
                "ax": 30 if label == "end" else -30,
                "ay": -30,
                "font": {"color": colour, "size": 13},
                "bgcolor": "rgba(255, 255, 255, 0.85)",
            }
        )
    return traces, notes


def _state_traces(frame: pd.DataFrame, colour: str) -> tuple[list[go.Scattergl], dict[str, Any] | None]:
    """The states, one trace per book (per sector when coloured by sector), and the colour axis.

    Per book, the book's id is said once (the trace's meta) rather than in each point's hover
    text: the demo map's figure went from 5.2 MB to 3.3 MB and its JSON from 0.13 to 0.05 s, on
    every colour change (bench/ui_speed.py). Chromium draws 40 traces as fast as one (2.2 s either
    way for 57,952 states here), but not 189: sectors keep one trace each, the book in each text.
    A continuous colour is one colour axis that every book's trace shares.
    """
    marker: dict[str, Any] = {"size": 5, "opacity": 0.8}
    axis: dict[str, Any] | None = None
    if colour in CONTINUOUS:
        column, scale, title, tick = CONTINUOUS[colour]
        colourbar: dict[str, Any] = {"title": {"text": title}, "tickformat": tick, "thickness": 12}
        if colour == "date":
            values, labels = year_ticks(frame["year"])
            colourbar.update(tickvals=values, ticktext=labels)
        axis = {"colorscale": scale, "colorbar": colourbar, **({"cmax": 0.0} if colour == "drawdown" else {})}
        column_of_traces = "portfolio_id"
    else:
        column = column_of_traces = CATEGORICAL[colour]
    per_book = column_of_traces == "portfolio_id"
    x, y, custom = frame["x"].to_numpy(), frame["y"].to_numpy(), _custom(frame)
    texts = frame["hover"] if per_book else frame["portfolio_id"].astype(str).map(plotly_text) + " · " + frame["hover"]
    # Object strings, not one fixed-width block: that copied faster (by ~0.03 s a rerun) but held
    # 10-16 MB per cached figure (58k texts of up to 45-72 characters, 4 bytes each).
    hover = texts.to_numpy()
    shades = frame[column].to_numpy(dtype="float32") if axis is not None else None
    traces: list[go.Scattergl] = []
    for i, (value, rows) in enumerate(frame.groupby(column_of_traces, sort=True).indices.items()):
        trace: dict[str, Any] = {"name": plotly_text(value)}
        if per_book:
            trace.update(meta=[plotly_text(value)], hovertemplate=HOVER)
        else:
            trace.update(hovertemplate=HOVER_NAMED)
        if shades is not None:
            trace.update(showlegend=False, marker={**marker, "color": shades[rows], "coloraxis": "coloraxis"})
        else:
            colour_, symbol = category_mark(i)
            trace["marker"] = {**marker, "color": colour_, "symbol": symbol}
        traces.append(
            go.Scattergl(x=x[rows], y=y[rows], mode="markers", customdata=custom[rows], text=hover[rows], **trace)
        )
    return traces, axis


def map_figure(
    frame: pd.DataFrame,
    colour: str,
    path: pd.DataFrame | None,
    stress: bool,
    axes: tuple[str, str] = ("", ""),
) -> go.Figure:
    figure = go.Figure()
    halo = _stress_halo(frame) if stress else None
    if halo is not None:
        figure.add_trace(halo)
    states, axis = _state_traces(frame, colour)
    figure.add_traces(states)
    if axis is not None:
        figure.update_layout(coloraxis=axis)
    notes: list[dict[str, Any]] = []
    if path is not None and not path.empty:
        traces, notes = _path_traces(path)
        for trace in traces:
            figure.add_trace(trace)
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
        annotations=notes,
        xaxis={"showticklabels": False, "title": {"text": axes[0]}},
        yaxis={"showticklabels": False, "title": {"text": axes[1]}},
    )
    return figure
