"""Backfills in many chunks: reading the next chunk overlaps writing this one, with the same result."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from factories import make_report

from prometheus.errors import InvalidReport
from prometheus.services.backfill import BackfillRequest, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.store.schema import numeric_window_embeddings
from prometheus.store.stores import Stores

NUMERIC = "num-portfolio-core-v1"
DAYS = [date(2024, 1, 5) + timedelta(weeks=i) for i in range(12)]
EVERYTHING = BackfillRequest(DateSelection(start=DAYS[0], end=DAYS[-1]))


def _fill(stores: Stores) -> None:
    stores.reports.upsert(
        make_report(f"PF_{p}", day, metrics={"volatility_1m": 0.1 + p / 50 + i / 200})
        for p in range(3)
        for i, day in enumerate(DAYS)
    )


def _in_chunks_of(stores: Stores, states: int) -> Stores:
    return replace(stores, settings=replace(stores.settings, backfill_chunk=states))


def test_many_chunks_give_the_same_states_as_one(stores: Stores) -> None:
    _fill(stores)
    one = backfill_numeric(stores, NUMERIC, EVERYTHING)
    whole = stores.numeric.load(NUMERIC)
    with stores.historical.write() as conn:
        conn.execute(sa.delete(numeric_window_embeddings))

    seen: list[tuple[int, int]] = []
    many = backfill_numeric(  # two dates of 3 books per chunk: six chunks
        _in_chunks_of(stores, 6), NUMERIC, EVERYTHING, progress=lambda done, total, _: seen.append((done, total))
    )

    assert (one.written, many.written) == (36, 36)
    assert seen == [(2 * k, 12) for k in range(1, 7)]
    chunked = stores.numeric.load(NUMERIC)
    assert chunked.portfolio_ids == whole.portfolio_ids and chunked.dates == whole.dates
    assert np.array_equal(chunked.matrix, whole.matrix)
    assert chunked.specs == whole.specs


def test_an_unreadable_report_in_a_later_chunk_keeps_the_earlier_chunks(stores: Stores) -> None:
    _fill(stores)
    bad = "'[1, 2]'" if stores.runtime.dialect == "postgresql" else "'{not json'"
    with stores.runtime.write() as conn:  # a report another tool wrote badly
        conn.exec_driver_sql(
            f"UPDATE portfolio_risk_reports SET risk_metrics = {bad} "
            f"WHERE as_of_date = '{DAYS[7].isoformat()}' AND portfolio_id = 'PF_1'"
        )
    with pytest.raises(InvalidReport) as info:
        backfill_numeric(_in_chunks_of(stores, 6), NUMERIC, EVERYTHING)
    if stores.runtime.dialect == "postgresql":
        assert str(info.value) == (
            "report PF_1 2024-02-23: risk_metrics is stored as something other than a JSON object; "
            "re-import that report"
        )
    else:
        assert str(info.value) == "report PF_1 2024-02-23: risk_metrics is not valid JSON; re-import that report"
    assert stores.numeric.dates(NUMERIC) == DAYS[:6]  # whole chunks before the bad one; nothing after


def test_the_chunk_size_is_a_setting_from_the_environment_or_secrets() -> None:
    from prometheus.config import DEFAULT_BACKFILL_CHUNK, Settings
    from prometheus.errors import InvalidInput

    assert Settings.from_sources().backfill_chunk == DEFAULT_BACKFILL_CHUNK == 20_000
    assert Settings.from_sources(environ={"PROMETHEUS_BACKFILL_CHUNK": "500"}).backfill_chunk == 500
    assert Settings.from_sources(secrets={"backfill_chunk": 750}).backfill_chunk == 750
    with pytest.raises(InvalidInput) as info:
        Settings.from_sources(secrets={"prometheus": {"backfill_chunk": "0"}})
    assert str(info.value).startswith("backfill_chunk in secrets (a number of states): ")
