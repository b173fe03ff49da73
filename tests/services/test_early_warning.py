"""Early warning: brute-force pairwise check on the sample, a hand-built geometry, argument checks."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from factories import make_report
from service_helpers import MODEL, NUMERIC, PORTFOLIOS, put_states, store_reports

from prometheus.config import Settings
from prometheus.errors import InvalidInput
from prometheus.services.early_warning import COLUMNS, early_warning
from prometheus.store.stores import Stores, open_stores
from prometheus.stress import stress_windows_on


def _brute_force(stores: Stores, threshold: float, exclude_same: bool) -> list[tuple[object, ...]]:
    states = stores.numeric.load(NUMERIC)
    drawdowns = {(r.portfolio_id, r.as_of_date): r.risk_metrics.get("drawdown") for r in stores.reports.load()}
    rows = list(zip(states.portfolio_ids, states.dates, states.matrix.astype(np.float64), strict=True))
    latest = {pid: (pid, day, v) for pid, day, v in rows}  # rows are date-ordered
    out = []
    for pid, day, q in latest.values():
        scored = []
        for other, when, v in rows:
            dd = drawdowns.get((other, when))
            windows = stress_windows_on(when)
            if not windows and (dd is None or dd > threshold):
                continue
            if other == pid and (exclude_same or abs((when - day).days) <= 63):
                continue
            cosine = float(q @ v / (np.linalg.norm(q) * np.linalg.norm(v)))
            reason = windows[0].name if windows else f"drawdown {dd:.1%}"
            scored.append((-cosine, float(np.linalg.norm(q - v)), other, when, reason))
        if scored:
            best = min(scored)
            out.append((pid, day, best[2], best[3], best[4], -best[0], best[1]))
        else:
            out.append((pid, day, None, None, None, math.nan, math.nan))
    return sorted(out, key=lambda r: (-r[5] if not math.isnan(r[5]) else math.inf, r[0]))


def _check(frame: object, expected: list[tuple[object, ...]], tolerance: float = 1e-9) -> None:
    rows = [tuple(r) for r in frame.itertuples(index=False)]  # type: ignore[attr-defined]
    assert [r[:5] for r in rows] == [e[:5] for e in expected]
    for got, want in zip(rows, expected, strict=True):
        assert got[5:] == pytest.approx(want[5:], abs=tolerance, nan_ok=True)


@pytest.mark.parametrize("exclude_same", [False, True])
def test_sample_matches_a_brute_force_pairwise_search(loaded_stores: Stores, exclude_same: bool) -> None:
    frame = early_warning(loaded_stores, MODEL, drawdown_threshold=-0.10, exclude_same_portfolio=exclude_same)
    assert list(frame.columns) == list(COLUMNS)
    expected = _brute_force(loaded_stores, -0.10, exclude_same)
    assert len(expected) == 5 and all(e[2] is not None for e in expected)
    _check(frame, expected)
    assert list(frame["cosine"]) == sorted(frame["cosine"], reverse=True)


def test_no_stress_state_leaves_the_match_empty(loaded_stores: Stores) -> None:
    # the sample never falls 60%, and is dated after every named window
    frame = early_warning(loaded_stores, MODEL, drawdown_threshold=-0.60)
    assert list(frame["portfolio_id"]) == list(PORTFOLIOS)
    assert set(frame["as_of_date"]) == {date(2025, 12, 31)}
    assert frame["nearest_stress_portfolio"].isna().all() and frame["cosine"].isna().all()


def _vector(*head: float) -> np.ndarray:
    vector = np.zeros(384, dtype=np.float32)
    vector[: len(head)] = head
    return vector


def test_hand_built_stress_states(stores: Stores) -> None:
    empty = early_warning(stores, MODEL)
    assert empty.empty and list(empty.columns) == list(COLUMNS)
    june, may, april = date(2020, 6, 30), date(2020, 5, 29), date(2020, 4, 24)
    store_reports(
        stores,
        [
            make_report("A", june, metrics={"drawdown": -0.01}),
            make_report("B", june, metrics={"drawdown": -0.05}),
            make_report("A", may, metrics={"drawdown": -0.30}),
            make_report("A", april, metrics={"drawdown": -0.25}),
            make_report("C", date(2019, 1, 31), metrics={"drawdown": -0.234}),
            make_report("C", date(2019, 6, 28), metrics={"drawdown": -0.05}),
        ],
        embed=False,
    )
    put_states(
        stores,
        [
            ("A", june, _vector(1)),
            ("B", june, _vector(0, 1)),
            ("A", may, _vector(1)),  # identical to A's latest, but 32 days earlier: A itself last month
            ("A", april, _vector(1, 0.1)),  # 67 days earlier: far enough to count
            ("C", date(2008, 10, 10), _vector(1, 0.5)),  # no report; in the GFC (and Lehman) windows
            ("C", date(2019, 1, 31), _vector(0, 1)),
            ("C", date(2019, 6, 28), _vector(1)),  # C's latest; identical to A's latest, but not a stress state
        ],
    )
    frame = early_warning(stores, MODEL)
    may_match = ("A", may, "drawdown -30.0%", 1.0, 0.0)
    _check(
        frame,
        [  # equal cosines: portfolio id order
            ("B", june, "C", date(2019, 1, 31), "drawdown -23.4%", 1.0, 0.0),
            ("C", date(2019, 6, 28), *may_match),
            ("A", june, "A", april, "drawdown -25.0%", 1 / math.sqrt(1.01), 0.1),
        ],
        tolerance=1e-6,
    )  # vectors are stored as float32
    other_books = early_warning(stores, MODEL, exclude_same_portfolio=True)
    _check(
        other_books,
        [
            ("B", june, "C", date(2019, 1, 31), "drawdown -23.4%", 1.0, 0.0),
            ("C", date(2019, 6, 28), *may_match),
            ("A", june, "C", date(2008, 10, 10), "Global financial crisis 2007-09", 1 / math.sqrt(1.25), 0.5),
        ],
        tolerance=1e-6,
    )
    window_only = early_warning(stores, MODEL, drawdown_threshold=-0.5)  # only the GFC state is left
    assert list(window_only["portfolio_id"]) == ["A", "C", "B"]
    assert list(window_only["cosine"]) == pytest.approx([1 / math.sqrt(1.25)] * 2 + [0.5 / math.sqrt(1.25)])


@pytest.mark.parametrize(
    ("threshold", "shown"), [(0.0, "0.0%"), (-1.0, "-100.0%"), (0.2, "20.0%"), (-20.0, "-2000.0%"), (math.nan, "nan%")]
)
def test_threshold_must_be_a_loss_between_0_and_100_percent(sqlite_url: str, threshold: float, shown: str) -> None:
    stores = open_stores(Settings(db_url=sqlite_url))  # refused before any query: one backend is enough
    with pytest.raises(InvalidInput) as info:
        early_warning(stores, MODEL, drawdown_threshold=threshold)
    stores.dispose()
    assert str(info.value) == f"drawdown threshold must be between -100% and 0%, got {shown}"
