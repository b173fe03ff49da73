"""Portfolio history and per-state attributes, checked against RiskReport objects read the slow way."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from factories import make_report, sectors
from service_helpers import MODEL, NUMERIC, PF1, put_states, random_vectors, store_reports

from prometheus.config import Settings
from prometheus.errors import UnknownPortfolio
from prometheus.reports import GICS_SECTORS, OTHER_SECTOR
from prometheus.services.attributes import ATTRIBUTE_COLUMNS, cached_state_attributes, state_attributes
from prometheus.services.history import HISTORY_COLUMNS, portfolio_history
from prometheus.store.stores import Stores, open_stores
from prometheus.stress import stress_windows_on


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


def test_history_of_a_sample_portfolio(loaded_stores: Stores) -> None:
    frame = portfolio_history(loaded_stores, MODEL, PF1)
    assert list(frame.columns) == list(HISTORY_COLUMNS)
    reports = {r.as_of_date: r for r in loaded_stores.reports.load(portfolio_ids=[PF1])}
    states = loaded_stores.numeric.load(NUMERIC, portfolio_ids=[PF1])
    assert list(frame["as_of_date"]) == sorted(reports) == states.dates
    for i, row in frame.iterrows():
        report = reports[row["as_of_date"]]
        assert row["l2_norm"] == pytest.approx(float(np.linalg.norm(states.matrix[int(i)].astype(np.float64))))
        assert row["portfolio_value"] == report.portfolio_value
        for metric in HISTORY_COLUMNS[3:]:
            assert row[metric] == report.risk_metrics[metric]


def test_history_refuses_an_unknown_portfolio(loaded_stores: Stores) -> None:
    with pytest.raises(UnknownPortfolio) as info:
        portfolio_history(loaded_stores, MODEL, "NOPE")
    assert str(info.value) == "unknown portfolio 'NOPE': no joint-portfolio-core-v1 states exist for it"


def test_history_and_attributes_on_an_empty_database(stores: Stores) -> None:
    with pytest.raises(UnknownPortfolio):
        portfolio_history(stores, MODEL, PF1)
    frame = state_attributes(stores, MODEL)
    assert frame.empty and list(frame.columns) == list(ATTRIBUTE_COLUMNS)


def _expected_attributes(stores: Stores) -> list[tuple[object, ...]]:
    reports = {(r.portfolio_id, r.as_of_date): r for r in stores.reports.load()}
    states = stores.numeric.load(NUMERIC)
    rows = []
    for pid, day in zip(states.portfolio_ids, states.dates, strict=True):
        report = reports.get((pid, day))
        metrics = report.risk_metrics if report else {}
        weights = report.exposures_by_sector if report else {}
        best, best_weight = "", -math.inf
        for name in (*GICS_SECTORS, OTHER_SECTOR):  # first of equal weights wins
            weight = weights.get(name)
            if weight is not None and weight > best_weight:
                best, best_weight = name, weight
        windows = stress_windows_on(day)
        market = (report.metadata.get("benchmark_drawdown") if report else None) or math.nan
        drawdown = float(metrics.get("drawdown", math.nan))
        depth = market if not math.isnan(market) else drawdown
        who = "benchmark" if not math.isnan(market) else "book"
        known = ""
        if not math.isnan(depth) and depth <= -0.10:
            known = f"{who} {-depth:.0%} below its peak ({'bear market' if depth <= -0.20 else 'correction'})"
        rows.append(
            (
                pid,
                day,
                *(float(metrics.get(m, math.nan)) for m in ATTRIBUTE_COLUMNS[2:6]),
                float(market),
                best,
                known,
                windows[0].name if windows else "",
            )
        )
    return rows


def test_attributes_of_the_sample_match_the_reports(loaded_stores: Stores) -> None:
    frame = state_attributes(loaded_stores, MODEL)
    assert list(frame.columns) == list(ATTRIBUTE_COLUMNS)
    expected = _expected_attributes(loaded_stores)
    assert len(frame) == len(expected) == 120
    for got, want in zip(frame.itertuples(index=False), expected, strict=True):
        assert all(_same(g, w) for g, w in zip(got, want, strict=True)), (got, want)


def test_attributes_name_windows_sectors_and_missing_reports(stores: Stores) -> None:
    store_reports(
        stores,
        [
            # inside both the GFC and the Lehman windows: the first listed window is named
            make_report(
                "A",
                date(2008, 10, 10),
                metrics={"drawdown": -0.31},
                exposures_by_sector=sectors(energy=0.4, utilities=0.4, financials=0.2),
            ),
            make_report("A", date(2019, 6, 28), exposures_by_sector=sectors(materials=0.3, health_care=None)),
        ],
    )
    put_states(stores, [("GHOST", date(2019, 6, 28), random_vectors(1)[0])])  # a state without a report
    frame = state_attributes(stores, MODEL)
    assert [(r.portfolio_id, r.as_of_date) for r in frame.itertuples()] == [
        ("A", date(2008, 10, 10)),
        ("A", date(2019, 6, 28)),
        ("GHOST", date(2019, 6, 28)),
    ]
    assert list(frame["dominant_sector"]) == ["Energy", "Materials", ""]
    assert list(frame["stress_window"]) == ["Global financial crisis 2007-09", "", ""]  # hindsight, for charts
    assert list(frame["stress_known_then"]) == ["book 31% below its peak (bear market)", "", ""]  # known that day
    assert frame.loc[0, "drawdown"] == -0.31
    assert frame.loc[2, ["drawdown", "volatility_1m", "volatility_1y", "return_1y"]].isna().all()
    assert [tuple(map(str, row)) for row in _expected_attributes(stores)[:2]] == [
        tuple(map(str, row)) for row in frame.iloc[:2].itertuples(index=False)
    ]


def test_cached_attributes_equal_the_computed_ones_and_follow_the_data(
    stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prometheus.services.attributes as history

    calls: list[int] = []
    real = history.state_attributes

    def counting(s: Stores, model_id: str) -> pd.DataFrame:
        frame = real(s, model_id)
        calls.append(len(frame))
        return frame

    monkeypatch.setattr(history, "state_attributes", counting)
    folder = tmp_path / "attributes"
    assert cached_state_attributes(stores, MODEL, folder).empty and calls == [0]  # nothing stored, nothing cached
    store_reports(
        stores,
        [
            make_report("A", date(2008, 10, 10), metrics={"drawdown": -0.31}, exposures_by_sector=sectors(energy=0.4)),
            make_report("B", date(2008, 10, 10), metrics={"drawdown": -0.12}),
        ],
    )
    put_states(stores, [("GHOST", date(2019, 6, 28), random_vectors(1)[0])])  # NaN attributes, "" labels
    first = cached_state_attributes(stores, MODEL, folder)
    again = cached_state_attributes(stores, MODEL, folder)
    assert calls == [0, 3]  # the second call read the file
    pd.testing.assert_frame_equal(first, real(stores, MODEL))
    pd.testing.assert_frame_equal(again, first)
    assert [type(d) for d in again["as_of_date"]] == [date, date, date]

    # new reports (same states): the reports' data version moved, so the file is stale
    store_reports(stores, [make_report("A", date(2008, 10, 10), metrics={"drawdown": -0.5})], embed=False)
    changed = cached_state_attributes(stores, MODEL, folder)
    assert calls == [0, 3, 3] and changed.loc[0, "drawdown"] == -0.5
    # a new state: the joint data version moved
    put_states(stores, [("GHOST", date(2019, 7, 5), random_vectors(1, seed=1)[0])])
    assert len(cached_state_attributes(stores, MODEL, folder)) == 4 and calls == [0, 3, 3, 4]
    pd.testing.assert_frame_equal(cached_state_attributes(stores, MODEL, folder), real(stores, MODEL))
    assert calls == [0, 3, 3, 4] and [p.name for p in folder.iterdir()] == [f"attributes-{MODEL}.npz"]  # a hit

    (file,) = folder.iterdir()
    file.write_bytes(file.read_bytes()[:100])  # truncated by something else: recomputed, not an error
    pd.testing.assert_frame_equal(cached_state_attributes(stores, MODEL, folder), real(stores, MODEL))
    assert calls == [0, 3, 3, 4, 4]


def test_cached_attributes_of_a_rebuilt_database_are_not_reused(sqlite_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "attributes"
    drawdowns = []
    for drawdown in (-0.1, -0.2):  # same URL, same data versions, same keys: only the database identity differs
        stores = open_stores(Settings(db_url=sqlite_url))
        store_reports(stores, [make_report("A", date(2020, 1, 3), metrics={"drawdown": drawdown})])
        drawdowns.append(cached_state_attributes(stores, MODEL, folder).loc[0, "drawdown"])
        stores.dispose()
        Path(sqlite_url.removeprefix("sqlite:///")).unlink()
    assert drawdowns == [-0.1, -0.2]


def test_block_values_parsed_in_python_equal_the_database_extraction(stores: Stores) -> None:
    from prometheus.store.report_fields import block_values, metric, report_fields, sector

    odd = make_report("PF_ODD", date(2024, 1, 5), metrics={"volatility_1m": None, "drawdown": -0.2})
    missing = make_report("PF_EMPTY", date(2024, 1, 5), risk_metrics={}, exposures_by_sector={})
    plain = make_report("PF_PLAIN", date(2024, 1, 12), exposures_by_sector=sectors(energy=0.7, utilities=0.3))
    stores.reports.upsert([odd, missing, plain])
    metrics = ["drawdown", "volatility_1m", "return_1y", "not_a_metric"]
    names = ["Energy", "Utilities", "Information Technology"]
    parsed = block_values(stores.runtime, metrics, names)
    extracted = report_fields(
        stores.runtime, {**{m: metric(m) for m in metrics}, **{f"sector:{s}": sector(s) for s in names}}
    )
    key = ["portfolio_id", "as_of_date"]
    parsed = parsed.sort_values(key).reset_index(drop=True)
    extracted = extracted.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(parsed, extracted, check_dtype=False)
    assert parsed.loc[parsed["portfolio_id"] == "PF_ODD", "drawdown"].item() == -0.2
    assert parsed.loc[parsed["portfolio_id"] == "PF_PLAIN", "sector:Energy"].item() == 0.7
    assert parsed[parsed["portfolio_id"] == "PF_EMPTY"].iloc[0, 2:].isna().all()


def test_block_values_show_a_non_number_written_by_another_tool_as_missing(stores: Stores) -> None:
    from prometheus.store.report_fields import block_values

    stores.reports.upsert([make_report("PF_A", date(2024, 1, 5))])
    with stores.runtime.write() as conn:
        conn.exec_driver_sql(
            'UPDATE portfolio_risk_reports SET risk_metrics = \'{"drawdown": "n/a", "volatility_1m": 0.25}\''
        )
    frame = block_values(stores.runtime, ["drawdown", "volatility_1m"], [])
    assert math.isnan(frame["drawdown"].item())
    assert frame["volatility_1m"].item() == 0.25
