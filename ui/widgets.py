"""Deep links (page state in the URL), CSV downloads and the pickers several pages share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from prometheus.presenters import formats
from prometheus.presenters.choices import nearest_on_or_before, parse_day
from prometheus.presenters.csv_files import csv_bytes
from prometheus.presenters.heat import heat_styles
from prometheus.presenters.markup import markdown_text
from ui.context import PAGES


def query_param(name: str) -> str | None:
    value = st.query_params.get(name)
    return str(value) if value not in (None, "") else None


def _marker(param: str) -> str:
    return f"_query_param_seen:{param}"


@dataclass(frozen=True)
class LinkValue:
    """A value a shared link gave a widget on this run."""

    raw: str  # as written in the URL
    value: Any | None  # what the widget got; None: the link's value was refused


def seed_from_query(widget_key: str, param: str, valid: Callable[[str], Any | None]) -> LinkValue | None:
    """Let a shared link choose a widget's value.

    Applied when the URL holds a value this session has not seen (a pasted link, a
    switch_page with parameters), or when the widget has no state yet (the page was
    just opened); never over a value the user just picked, which publish_query echoes.
    Returns what the link gave on this run (None when it gave nothing new).
    """
    raw = query_param(param)
    if raw is None:
        return None
    if st.session_state.get(_marker(param)) == raw and widget_key in st.session_state:
        return None
    value = valid(raw)
    if value is not None:
        st.session_state[widget_key] = value
    st.session_state[_marker(param)] = raw
    return LinkValue(raw, value)


def link_problem(text: str) -> None:
    """One line about a shared link that could not be followed as written, and what is shown instead."""
    st.warning(markdown_text(text), icon=":material/link_off:")


def date_link_problem(link: LinkValue | None, whose: str, shown: date | None) -> str | None:
    """What is wrong with a link's date for ``whose`` states (None: nothing), with the date shown instead."""
    if link is None or shown is None:
        return None
    wanted = parse_day(link.raw)
    if wanted is None:
        return f"The link's date {link.raw!r} is not a date (YYYY-MM-DD): showing {shown.isoformat()} instead."
    if wanted != shown:
        return (
            f"{whose} has no state on {wanted.isoformat()} (nearest: {shown.isoformat()}): "
            f"showing {shown.isoformat()} instead."
        )
    return None


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


RAW_CSV_KEY = "raw_csv"
DATE_FORMAT = "YYYY-MM-DD"  # date boxes show ISO dates, like every table and caption


def column_config(
    frame: pd.DataFrame, labels: dict[str, str] | None = None, widths: dict[str, int] | None = None
) -> dict[str, Any]:
    """Streamlit column configs for a table, from the one formatting layer (prometheus.presenters.formats)."""
    configs: dict[str, Any] = {}
    for name in frame.columns:
        spec = formats.column(str(name))
        label = (labels or {}).get(str(name), spec.label)
        help_ = spec.help or None
        width = (widths or {}).get(str(name))
        if spec.kind == "date":
            configs[name] = st.column_config.DateColumn(label, format="YYYY-MM-DD", help=help_, width=width)
        elif spec.kind == "datetime":
            configs[name] = st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm:ss", help=help_)
        elif spec.kind == "flag":
            configs[name] = st.column_config.CheckboxColumn(label, help=help_)
        elif spec.kind == "figure":
            configs[name] = st.column_config.TextColumn(label, help=help_, alignment="right", width=width)
        elif spec.kind in formats.PRINTF:
            configs[name] = st.column_config.NumberColumn(
                label, format=formats.PRINTF[spec.kind], help=help_, width=width
            )
        else:
            configs[name] = st.column_config.TextColumn(label, help=help_, width=width)
    return configs


def show_table(
    frame: pd.DataFrame,
    key: str,
    labels: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    widths: dict[str, int] | None = None,
    heat: Mapping[str, float] | None = None,
    **options: Any,
) -> Any:
    """A table as every page shows one: formatted by kind, labels in words, empty cells empty.

    ``heat``: returns columns (fractions) coloured red to green, each full at the given size.
    """
    options.setdefault("hide_index", True)
    options.setdefault("width", "stretch")
    shown: Any = dictionary_encoded(formats.screen_frame(frame))
    if heat:
        styles = heat_styles(frame, heat)  # from the fractions: the shown cells are the same cells
        shown = shown.style.apply(lambda _: styles, axis=None)
    return st.dataframe(
        shown,
        key=key,
        column_config={**column_config(frame, labels, widths), **(extra or {})},
        placeholder="",
        **options,
    )


def dictionary_encoded(frame: pd.DataFrame, min_rows: int = 2000) -> pd.DataFrame:
    """A long table's repeated texts sent once each (Arrow dictionary encoding): the same cells on screen.

    The Embeddings page's 57,952 states, one book id and model id per row, went to the browser
    as 4.8 MB of Arrow on every load of the page; dictionary-encoded, 1.3 MB (8 ms to encode).
    """
    if len(frame) < min_rows:
        return frame
    repeated = {
        name: "category"
        for name, column in frame.items()
        if pd.api.types.infer_dtype(column, skipna=True) == "string" and column.nunique() * 20 < len(column)
    }
    return frame.astype(repeated) if repeated else frame


def csv_download(frame: pd.DataFrame, file_name: str, key: str, label: str) -> None:
    """Exactly the rows shown, as CSV (dates ISO, no index); the click does not rerun the page.

    For people by default: readable headers, percentages, at most 6 significant digits
    (prometheus.presenters.formats), formula cells neutralised (prometheus.presenters.csv_files).
    The sidebar's "Raw CSV downloads" gives the stored values under their column ids. The
    bytes are made when the button is clicked, in the signed-in session, so no download
    URL exists before a click (see ui/access.py).
    """
    raw = bool(st.session_state.get(RAW_CSV_KEY, False))
    st.download_button(
        label,
        lambda: csv_bytes(frame, raw=True) if raw else csv_bytes(formats.export_frame(frame)),
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
        left, right = st.columns(2)
        with left:
            start = range_bound("From", start_key, None, first, last, first)
        with right:
            end = range_bound("To", end_key, None, first, last, last)
        publish_query(date=None, start=start, end=end)
        return start, end
    publish_query(date=None, start=None, end=None)
    return None, None


def range_bound(label: str, key: str, param: str | None, first: date, last: date, default: date) -> date:
    """One end of a date range: seeded from ``?param=`` (when given), clamped to [first, last]."""
    if param is not None:
        seed_from_query(key, param, lambda raw: _clamp(parse_day(raw), first, last))
    st.session_state.setdefault(key, default)
    return st.date_input(label, min_value=first, max_value=last, key=key, format=DATE_FORMAT)


def _clamp(day: date | None, first: date, last: date) -> date | None:
    return None if day is None else min(max(day, first), last)


def portfolio_picker(label: str, portfolios: list[str], key: str, param: str = "portfolio") -> str:
    """One portfolio, seeded from the URL, published back to it; a link naming an unknown one says so."""
    link = seed_from_query(key, param, lambda raw: raw if raw in portfolios else None)
    if st.session_state.get(key) not in portfolios:
        st.session_state[key] = portfolios[0]
    if link is not None and link.value is None:
        link_problem(unknown_portfolio(link.raw, str(st.session_state[key])))
    chosen = st.selectbox(label, portfolios, key=key)
    publish_query(**{param: chosen})
    return str(chosen)


def unknown_portfolio(raw: str, shown: str) -> str:
    return f"The link's portfolio {raw!r} has no states in this store: showing {shown} instead."


# Streamlit's date box (1.67, react-aria segments) commits a typed date only when a pointer goes
# down outside it or a day is picked in its calendar: Enter did nothing, and neither did a
# programmatic blur (both checked in Chromium, tests/browser/test_browser_defects.py). This
# listener answers Enter inside a date box with that outside pointer-down, so Streamlit's own
# commit runs; installed once per browser tab (the flag), a static script with no data in it.
DATE_ENTER_SCRIPT = """<script>
(() => {
  const root = window;  // st.html is not iframed: this is the app's own window
  if (root.__prometheusDateEnter) return;
  root.__prometheusDateEnter = true;
  root.document.addEventListener("keydown", (event) => {
    const field = event.key === "Enter" && event.target.closest
      ? event.target.closest('[data-testid="stDateInputField"]') : null;
    if (field && !event.isComposing) {
      event.preventDefault();
      root.document.body.dispatchEvent(new PointerEvent("pointerdown", { bubbles: true }));
    }
  }, true);
})();
</script>"""


def commit_dates_on_enter() -> None:
    """Make Enter commit a typed date in every date box of the page (see DATE_ENTER_SCRIPT)."""
    st.html(DATE_ENTER_SCRIPT, unsafe_allow_javascript=True)
