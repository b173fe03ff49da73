"""Store overview and coverage, on the sample and on an empty database."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pandas as pd
import pytest
from service_helpers import MODEL, NUMERIC, PORTFOLIOS, put_states, random_vectors

from prometheus.errors import InvalidInput, UnknownModel
from prometheus.services.overview import coverage, store_overview
from prometheus.store.stores import Stores


def test_overview_of_the_sample(loaded_stores: Stores) -> None:
    overview = store_overview(loaded_stores)
    assert overview.report_count == 120
    assert overview.portfolio_ids == list(PORTFOLIOS)
    assert (overview.first_date, overview.last_date) == (date(2024, 1, 31), date(2025, 12, 31))
    assert overview.report_dates == 24
    assert overview.numeric_counts == {NUMERIC: 120}
    assert overview.joint_counts == {MODEL: 120}
    assert overview.latest_joint_date == date(2025, 12, 31)


def test_overview_and_coverage_of_an_empty_database(stores: Stores) -> None:
    overview = store_overview(stores)
    assert overview.report_count == 0 and overview.report_dates == 0
    assert overview.portfolio_ids == []
    assert overview.first_date is None and overview.last_date is None and overview.latest_joint_date is None
    assert overview.numeric_counts == {} and overview.joint_counts == {}
    for freq in ("year", "month"):
        table = coverage(stores, MODEL, freq)
        assert table.empty and table.index.name == "portfolio_id" and list(table.columns) == []


def test_coverage_counts_match_the_stored_states(loaded_stores: Stores) -> None:
    states = loaded_stores.numeric.load(NUMERIC)  # the joint model is the identity: same keys
    for freq, label in (("year", lambda d: str(d.year)), ("month", lambda d: f"{d.year:04d}-{d.month:02d}")):
        expected: Counter[tuple[str, str]] = Counter(
            (pid, label(day)) for pid, day in zip(states.portfolio_ids, states.dates, strict=True)
        )
        table = coverage(loaded_stores, MODEL, freq)
        assert list(table.index) == list(PORTFOLIOS)
        assert len(table.columns) == (2 if freq == "year" else 24)
        for pid in table.index:
            for period in table.columns:
                assert table.loc[pid, period] == expected[(pid, period)]


def test_coverage_shows_gaps_as_zero_columns(stores: Stores) -> None:
    vectors = random_vectors(4)
    put_states(
        stores,
        [
            ("B", date(2020, 11, 30), vectors[0]),
            ("B", date(2020, 12, 31), vectors[1]),
            ("A", date(2022, 2, 28), vectors[2]),
            ("A", date(2022, 2, 1), vectors[3]),
        ],
    )
    yearly = coverage(stores, MODEL, "year")
    expected = pd.DataFrame(
        {"2020": [0, 2], "2021": [0, 0], "2022": [2, 0]}, index=pd.Index(["A", "B"], name="portfolio_id")
    )
    assert yearly.to_dict() == expected.to_dict()
    assert yearly.dtypes.map(lambda d: np.issubdtype(d, np.integer)).all()
    monthly = coverage(stores, MODEL, "month")
    assert list(monthly.columns)[:3] == ["2020-11", "2020-12", "2021-01"] and monthly.columns[-1] == "2022-02"
    assert len(monthly.columns) == 16
    assert monthly.loc["A", "2022-02"] == 2 and monthly.loc["B", "2020-12"] == 1 and monthly.values.sum() == 4


def test_coverage_refuses_bad_arguments(stores: Stores) -> None:
    with pytest.raises(InvalidInput) as bad_freq:
        coverage(stores, MODEL, "week")
    assert str(bad_freq.value) == "freq must be 'year' or 'month', got 'week'"
    with pytest.raises(UnknownModel) as bad_model:
        coverage(stores, "joint-x")
    assert (
        str(bad_model.value)
        == "unknown joint model 'joint-x': known models are joint-portfolio-core-v1, joint-portfolio-core-v2"
    )
