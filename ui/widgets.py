"""Deep links (page state in the URL), CSV downloads and the pickers several pages share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from prometheus.presenters.choices import nearest_on_or_before, parse_day
from ui.context import PAGES


def query_param(name: str) -> str | None:
    value = st.query_params.get(name)
    return str(value) if value not in (None, "") else None


def _marker(param: str) -> str:
    return f"_query_param_seen:{param}"


def seed_from_query(widget_key: str, param: str, valid: Callable[[str], Any | None]) -> None:
    """Let a shared link choose a widget's value.

    Applied when the URL holds a value this session has not seen (a pasted link, a
    switch_page with parameters), or when the widget has no state yet (the page was
    just opened); never over a value the user just picked, which publish_query echoes.
    """
    raw = query_param(param)
    if raw is None:
        return
    if st.session_state.get(_marker(param)) == raw and widget_key in st.session_state:
        return
    value = valid(raw)
    if value is not None:
        st.session_state[widget_key] = value
    st.session_state[_marker(param)] = raw


def publish_query(**values: object) -> None:
    """Mirror the page state into the URL so it can be shared; None removes a parameter."""
    for name, value in values.items():
        text = None if value is None else (value.isoformat() if isinstance(value, date) else str(value))
        if text is None:
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get(name) != text:
            st.query_params[name] = text
        st.session_state[_marker(name)] = text


# ---------------------------------------------------------------- small widgets


@st.cache_data(show_spinner=False, max_entries=32)
def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def csv_download(frame: pd.DataFrame, file_name: str, key: str, label: str) -> None:
    """Exactly the rows shown, as CSV (dates ISO, no index); the click does not rerun the page.

    The bytes are cached by the frame's content, so 60k rows are not serialised on every rerun.
    """
    st.download_button(
        label,
        _csv_bytes(frame),
        file_name=file_name,
        mime="text/csv",
        key=key,
        icon=":material/download:",
        disabled=frame.empty,
        on_click="ignore",
    )


def page_links(*names: str) -> None:
    columns = st.columns(len(names))
    for column, name in zip(columns, names, strict=True):
        path, label, icon = PAGES[name]
        column.page_link(path, label=label, icon=icon)


ALL_DATES, ONE_DATE, DATE_RANGE = "All dates", "One date", "Date range"


def date_filter(prefix: str, days: list[date], default_mode: str = ALL_DATES) -> tuple[date | None, date | None]:
    """All dates, one date or a range (bounded by ``days``); seeded from ?date= or ?start=&end=."""
    mode_key, day_key, start_key, end_key = (f"{prefix}_mode", f"{prefix}_day", f"{prefix}_start", f"{prefix}_end")
    first, last = days[0], days[-1]
    seed_from_query(day_key, "date", lambda raw: nearest_on_or_before(days, parse_day(raw)))
    seed_from_query(start_key, "start", lambda raw: _clamp(parse_day(raw), first, last))
    seed_from_query(end_key, "end", lambda raw: _clamp(parse_day(raw), first, last))
    if mode_key not in st.session_state:
        if query_param("date"):
            st.session_state[mode_key] = ONE_DATE
        elif query_param("start") or query_param("end"):
            st.session_state[mode_key] = DATE_RANGE
        else:
            st.session_state[mode_key] = default_mode
    mode = st.radio("Dates", [ALL_DATES, ONE_DATE, DATE_RANGE], horizontal=True, key=mode_key)
    if mode == ONE_DATE:
        if st.session_state.get(day_key) not in days:
            st.session_state[day_key] = last
        day = st.selectbox("Date", days, key=day_key, format_func=date.isoformat)
        publish_query(date=day, start=None, end=None)
        return day, day
    if mode == DATE_RANGE:
        st.session_state.setdefault(start_key, first)
        st.session_state.setdefault(end_key, last)
        left, right = st.columns(2)
        start = left.date_input("From", min_value=first, max_value=last, key=start_key)
        end = right.date_input("To", min_value=first, max_value=last, key=end_key)
        publish_query(date=None, start=start, end=end)
        return start, end
    publish_query(date=None, start=None, end=None)
    return None, None


def _clamp(day: date | None, first: date, last: date) -> date | None:
    return None if day is None else min(max(day, first), last)


def portfolio_picker(label: str, portfolios: list[str], key: str, param: str = "portfolio") -> str:
    """One portfolio, seeded from the URL, published back to it."""
    seed_from_query(key, param, lambda raw: raw if raw in portfolios else None)
    if st.session_state.get(key) not in portfolios:
        st.session_state[key] = portfolios[0]
    chosen = st.selectbox(label, portfolios, key=key)
    publish_query(**{param: chosen})
    return str(chosen)


def neighbour_columns() -> dict[str, Any]:
    """Column formats of a ranked analogues table (Similar portfolios, Drawdown & stress)."""
    return {
        "rank": st.column_config.NumberColumn("#", format="%d", width="small"),
        "cosine": st.column_config.NumberColumn("Cosine", format="%.4f"),
        "euclidean": st.column_config.NumberColumn("Euclidean", format="%.4f"),
        "portfolio_id": st.column_config.TextColumn("Portfolio"),
        "as_of_date": st.column_config.DateColumn("Date", format="YYYY-MM-DD"),
        "drawdown": st.column_config.NumberColumn("Its drawdown", format="percent"),
        "volatility_1y": st.column_config.NumberColumn("Its volatility (1y)", format="percent"),
        "dominant_sector": st.column_config.TextColumn("Largest sector"),
        "stress_known_then": st.column_config.TextColumn(
            "Stress known then", help="How far the benchmark (or the book) stood below its peak on that date."
        ),
    }


def outcome_columns() -> dict[str, Any]:
    """Column formats of a what-followed table (forward returns and max drawdowns)."""
    return {
        "fwd_return_30d": st.column_config.NumberColumn("Return, next 30 days", format="percent"),
        "fwd_max_drawdown_30d": st.column_config.NumberColumn("Max drawdown, next 30 days", format="percent"),
        "fwd_return_91d": st.column_config.NumberColumn("Return, next 91 days", format="percent"),
        "fwd_max_drawdown_91d": st.column_config.NumberColumn("Max drawdown, next 91 days", format="percent"),
        "values": st.column_config.TextColumn("Values", help="daily: daily portfolio values; reports: report values"),
    }
