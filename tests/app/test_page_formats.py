"""Issue 13, defect 3 and the one formatting layer: every page's tables, swept through AppTest.

Every table on every page (sample store, with the pages' tabs and a few widget states) must:
print empty cells as nothing (``placeholder=""``: Streamlit's default prints "None"); label
every column in words; hold no "None"/"nan" text and no raw metric, factor or stress-window
key; show percentages with one decimal. Text around the tables holds no "None" or "nan"
either. CSV downloads get readable headers and at most 6 significant digits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import demo_cache
from test_pages import PF2, _fresh_caches, open_page, plotly_figures, sample_url, store, use_store

from prometheus.encoders.feature_schema import PORTFOLIO_CORE_V1
from prometheus.presenters import formats, labels
from prometheus.presenters.tables import comparison_frame
from prometheus.reports import FACTOR_KEYS, RISK_METRIC_KEYS
from prometheus.stress import STRESS_WINDOWS

__all__ = ["_fresh_caches", "sample_url", "store"]

EMPTY_WORDS = {"None", "none", "nan", "NaN", "NaT", "<NA>", "null"}
SNAKE_KEY = re.compile(r"[a-z]+(?:_[a-z0-9]+)+\Z")  # volatility_1m, gfc_2008, fwd_return_30d ...
LAZY_TABS = {"similar": "compare"}  # page -> the key of its lazy tabs (st.tabs(on_change/bind))
RAW_KEYS = labels.known_keys() | {f.name for f in PORTFOLIO_CORE_V1.features}
VIEWS = [
    ("overview", {}),
    ("backfill", {}),
    ("embeddings", {"start": "2024-03-01", "end": "2024-09-30"}),
    ("similar", {"portfolio": PF2, "date": "2024-06-28", "k": "5"}),
    ("similar", {"portfolio": PF2, "date": "2025-12-31", "scope": "all", "k": "50"}),
    ("map", {"portfolio": PF2, "color": "portfolio"}),
    ("drawdown", {"portfolio": PF2, "date": "2025-06-30"}),
    ("drawdown", {"portfolio": PF2, "date": "2024-02-29"}),
]


def table_problems(element: Any, where: str) -> list[str]:
    problems = []
    proto = element.proto
    if not proto.HasField("placeholder") or proto.placeholder != "":
        problems.append(f"{where}: missing values would print as 'None' (no placeholder='')")
    frame = element.value
    config = json.loads(proto.columns or "{}")
    for name in frame.columns:
        if str(name) not in formats.COLUMNS:
            problems.append(f"{where}: column {name!r} has no kind in presenters/formats.py")
        spec = config.get(str(name)) or {}
        label = spec.get("label")
        if not label:
            problems.append(f"{where}: column {name!r} has no label in words")
        kind = formats.column(str(name)).kind
        number_format = (spec.get("type_config") or {}).get("format")
        if kind == "percent" and number_format != "%.1f%%":
            problems.append(f"{where}: percent column {name!r} formatted {number_format!r}")
        if pd.api.types.is_numeric_dtype(frame[name].dtype) or pd.api.types.is_bool_dtype(frame[name].dtype):
            continue
        for cell in frame[name]:
            text = "" if formats.is_empty(cell) else str(cell).strip()
            if text in EMPTY_WORDS:
                problems.append(f"{where}: {name!r} holds {text!r}")
            elif name not in ("job_id", "params", "portfolio_id", "model_id", "model") and (
                text in RAW_KEYS or SNAKE_KEY.match(text)
            ):
                problems.append(f"{where}: {name!r} holds the raw key {text!r}")
    return problems


def text_problems(at: Any, where: str) -> list[str]:
    texts = [e.value for kind in ("markdown", "caption", "info", "warning", "subheader") for e in getattr(at, kind)]
    texts += [str(m.value) for m in at.metric]
    return [f"{where}: text {t[:80]!r}" for t in texts if re.search(r"\b(None|nan|NaN)\b", str(t))]


def views_with_tabs(page: str, params: dict[str, str]) -> Iterator[tuple[str, Any]]:
    """The page as opened, then with each other tab open (Similar's comparison tabs build only the open one)."""
    at = open_page(page, **params)
    assert not at.exception, [e.value for e in at.exception]
    yield f"{page} {params}", at
    for tab in [t.label for t in at.tabs][1:]:
        at.session_state[LAZY_TABS[page]] = tab
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        yield f"{page} {params} tab {tab!r}", at


def test_every_table_on_every_page_reads_in_words(store: str) -> None:
    problems: list[str] = []
    tables = 0
    for page, params in VIEWS:
        for where, at in views_with_tabs(page, params):
            assert not at.error, [e.value for e in at.error]
            for element in at.dataframe:
                tables += 1
                problems += table_problems(element, f"{where} [{','.join(map(str, element.value.columns[:3]))}]")
            problems += text_problems(at, where)
    assert tables >= 14, tables  # the sweep saw the pages' tables (comparison tabs, analogues, episodes ...)
    assert not problems, "\n".join(problems)


DEMO_VIEWS = [
    ("overview", {}),
    ("similar", {"portfolio": "PORTFOLIO_CORE_US_EQ_001", "date": "2008-10-10", "scope": "all"}),
    ("drawdown", {"portfolio": "PORTFOLIO_CORE_US_EQ_001", "date": "2008-10-10"}),
    ("embeddings", {"start": "2008-09-01", "end": "2008-12-31"}),
]


def test_the_demo_books_pages_read_in_words(demo_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real book: 2008's scenario cells, recoveries and outcomes that the sample lacks."""
    use_store(monkeypatch, demo_db_url, demo_cache(demo_db_url))
    problems: list[str] = []
    seen_scenarios = False
    for page, params in DEMO_VIEWS:
        for where, at in views_with_tabs(page, params):
            for element in at.dataframe:
                problems += table_problems(element, f"{where} [{','.join(map(str, element.value.columns[:3]))}]")
            problems += text_problems(at, where)
            if "Scenario P&L" in where:
                scenarios = next(d.value for d in at.dataframe if "scenario" in d.value.columns)
                assert "Global financial crisis 2007-09" in set(scenarios["scenario"])
                seen_scenarios = True
    assert seen_scenarios
    assert not problems, "\n".join(problems)


def comparison_table(at: Any, tab: str, columns: tuple[str, ...]) -> pd.DataFrame:
    at.session_state[LAZY_TABS["similar"]] = tab
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return next(d.value for d in at.dataframe if tuple(d.value.columns) == columns)


def test_comparison_tabs_read_in_words_and_one_percent_format(store: str) -> None:
    at = open_page("similar", portfolio=PF2, date="2024-06-28", k="3")
    metrics = comparison_table(at, "Risk metrics", ("metric", "query", "neighbour", "difference"))
    assert "Volatility (1 month)" in set(metrics["metric"]) and "volatility_1m" not in set(metrics["metric"])
    volatility = metrics.loc[metrics["metric"] == "Volatility (1 month)"].iloc[0]
    assert re.fullmatch(r"-?\d+\.\d%", volatility["query"]), volatility["query"]  # 0.7252 -> "72.5%"
    assert re.fullmatch(r"[+-]\d+\.\d%", volatility["difference"]), volatility["difference"]
    beta = metrics.loc[metrics["metric"] == "Beta (1 year)"].iloc[0]
    assert re.fullmatch(r"-?\d+\.\d\d", beta["query"]), beta["query"]
    scenarios = comparison_table(at, "Scenario P&L", ("scenario", "query", "neighbour", "difference"))
    assert set(scenarios["scenario"]) == {"Dot-com crash 2000", "Lehman Sep-Oct 2008"}
    factors = comparison_table(at, "Factors", ("factor", "query", "neighbour", "difference"))
    size = factors.loc[factors["factor"] == "Size"].iloc[0]
    assert (size["query"], size["neighbour"], size["difference"]) == ("", "", "")  # the sample has no size: empty


def test_numbers_dates_and_axes_read_as_people_write_them(store: str) -> None:
    assert formats.count(57952) == "57,952"
    assert formats.percent(-0.25344) == "-25.3%" and formats.percent(0.7252) == "72.5%"
    assert formats.percent(float("nan")) == "" and formats.cell(None, "ratio") == ""
    assert formats.day(pd.Timestamp("2008-10-10 00:00")) == "2008-10-10"
    at = open_page("drawdown", portfolio=PF2)
    figure = plotly_figures(at)[0]
    assert figure["layout"]["yaxis2"]["tickformat"] == ",.0f"  # "1,008,031", not "1.01M"
    assert figure["layout"]["yaxis2"]["tickmode"] == "auto"  # its own round ticks, not the drawdown grid's


def test_every_key_has_words() -> None:
    for key in (*RISK_METRIC_KEYS, *FACTOR_KEYS):
        assert labels.key_label(key) != key and "_" not in labels.key_label(key)
    for window in STRESS_WINDOWS:
        assert labels.key_label(window.key) == window.name
    assert labels.key_label("gfc_2008") == "Global financial crisis 2007-09"
    assert labels.key_label("volatility_1m") == "Volatility (1 month)"
    for feature in PORTFOLIO_CORE_V1.features:
        words = labels.feature_label(feature.name)
        assert words and "_" not in words and "." not in words.replace("Herfindahl)", ""), (feature.name, words)
    assert labels.key_label("my_custom_metric") == "My custom metric"  # an imported key nobody named


def test_csv_for_people_has_readable_headers_and_six_digits() -> None:
    frame = pd.DataFrame(
        {
            "rank": [1, 2],
            "cosine": [0.99991234567891, np.nan],
            "portfolio_id": ["P1", "P2"],
            "as_of_date": [date(2008, 10, 10), None],
            "drawdown": [-0.253412345678912, 0.0],
            "recovery_date": [None, date(2009, 1, 2)],
            "fwd_return_91d": [np.nan, 0.0123456789],
        }
    )
    out = formats.export_frame(frame)
    assert list(out.columns) == [
        "#",
        "Cosine",
        "Portfolio",
        "Date",
        "Drawdown (%)",
        "Recovery",
        "91-day return (%)",
    ]
    text = out.to_csv(index=False, lineterminator="\n")
    assert "1,0.999912,P1,2008-10-10,-25.3412,,\n" in text
    assert "2,,P2,,0.0,2009-01-02,1.23457\n" in text
    assert "None" not in text and "nan" not in text
    numbers = [cell for cell in re.split(r"[,\n]", text) if re.fullmatch(r"-?\d+\.\d+", cell)]
    assert max(len(re.sub(r"\D", "", cell).lstrip("0")) for cell in numbers) <= 6


def test_comparison_frame_formats_row_by_row() -> None:
    block = pd.DataFrame(
        {
            "metric": ["volatility_1m", "beta_1y", "num_names"],
            "a": [0.7252, 1.0312, 20.0],
            "b": [0.5, np.nan, 25.0],
            "difference": [-0.2252, np.nan, 5.0],
        }
    )
    shown = comparison_frame(block, "metric")
    assert shown.to_dict("records") == [
        {"metric": "Volatility (1 month)", "query": "72.5%", "neighbour": "50.0%", "difference": "-22.5%"},
        {"metric": "Beta (1 year)", "query": "1.03", "neighbour": "", "difference": ""},
        {"metric": "Number of names", "query": "20", "neighbour": "25", "difference": "+5"},
    ]


def test_long_tables_send_repeated_texts_once_and_show_the_same_cells() -> None:
    from ui.widgets import dictionary_encoded

    rows = 3000
    frame = pd.DataFrame(
        {
            "portfolio_id": [f"BOOK_{i % 40:02d}" for i in range(rows)],
            "as_of_date": [date(2008, 1, 1 + i % 28) for i in range(rows)],
            "note": [f"unique {i}" for i in range(rows)],  # as many values as rows: stays plain text
            "l2_norm": np.linspace(0, 1, rows),
        }
    )
    sent = dictionary_encoded(frame)
    assert isinstance(sent["portfolio_id"].dtype, pd.CategoricalDtype)
    assert sent["portfolio_id"].astype(str).tolist() == frame["portfolio_id"].tolist()  # the same cells
    assert sent["as_of_date"].dtype == object and sent["note"].dtype == frame["note"].dtype
    assert not isinstance(frame["portfolio_id"].dtype, pd.CategoricalDtype)  # the caller's (cached) frame untouched
    short = frame.head(100)
    assert dictionary_encoded(short) is short  # a short table goes as it is
