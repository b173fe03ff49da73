"""Identity joint states copied inside the database equal the ones embedded in Python."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import sqlalchemy as sa
from factories import make_report

from prometheus.joint.registry import joint_model
from prometheus.joint.writer import JointWriter
from prometheus.services.backfill import BackfillRequest, backfill_joint, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.store.embeddings import EmbeddingRecord
from prometheus.store.schema import joint_embeddings
from prometheus.store.stores import Stores
from prometheus.store.vector import Vector

NUMERIC = "num-portfolio-core-v1"
JOINT = "joint-portfolio-core-v1"
DAYS = [date(2024, 1, 5), date(2024, 1, 12), date(2024, 1, 19)]
# Quotes, a backslash and non-ASCII: the JSON built in SQL must match Python's.
PORTFOLIOS = ["PF_A", 'PF "quoted" \\ back', "PF_ÜNÏCODE_€"]
EVERYTHING = BackfillRequest(DateSelection(start=date(2000, 1, 1), end=date(2030, 1, 1)))


def _fill(stores: Stores) -> None:
    stores.reports.upsert(
        make_report(pid, day, metrics={"volatility_1m": 0.1 + 0.05 * i + 0.01 * k})
        for i, pid in enumerate(PORTFOLIOS)
        for k, day in enumerate(DAYS)
    )
    backfill_numeric(stores, NUMERIC, EVERYTHING)


def _joint_rows(stores: Stores) -> dict[tuple[str, date], tuple[Any, ...]]:
    c = joint_embeddings.c
    with stores.historical.read() as conn:
        rows = conn.execute(sa.select(c.portfolio_id, c.as_of_date, c.vector, c.dim, c.entity_scope, c.revision))
        return {(r[0], r[1]): (bytes(r[2]), r[3], r[4], r[5]) for r in rows}


def _service(stores: Stores) -> JointWriter:
    return JointWriter(stores, joint_model(JOINT))


def test_copy_in_database_writes_what_the_python_path_writes(stores: Stores) -> None:
    _fill(stores)
    service = _service(stores)
    python_path = service.embed_and_store(service.examples(DAYS))
    assert (python_path.written, python_path.unchanged) == (9, 0)
    embedded = _joint_rows(stores)
    version = service.joint_store.data_version(JOINT)

    copied = service.joint_store.copy_numeric(NUMERIC, JOINT, dates=DAYS)

    assert (copied.written, copied.unchanged) == (0, 9)  # byte-identical vectors, equal scopes
    assert _joint_rows(stores) == embedded
    assert service.joint_store.data_version(JOINT) == version  # nothing changed: caches stay valid


def test_python_path_finds_copied_rows_unchanged(stores: Stores) -> None:
    _fill(stores)
    service = _service(stores)
    copied = service.joint_store.copy_numeric(NUMERIC, JOINT, dates=DAYS)
    assert (copied.written, copied.unchanged) == (9, 0)
    loaded = service.joint_store.load(JOINT)
    numeric = stores.numeric.load(NUMERIC)
    assert np.array_equal(loaded.matrix, numeric.matrix)
    assert loaded.specs[0] == {
        "entity_type": "PORTFOLIO",
        "portfolio_id": loaded.portfolio_ids[0],
        "source": NUMERIC,
        "as_of_date": loaded.dates[0].isoformat(),
    }
    again = service.embed_and_store(service.examples(DAYS))
    assert (again.written, again.unchanged) == (0, 9)


def test_backfill_rerun_writes_nothing_and_a_changed_state_is_rewritten(stores: Stores) -> None:
    _fill(stores)
    first = backfill_joint(stores, NUMERIC, JOINT, EVERYTHING)
    assert (first.written, first.skipped) == (9, 0)
    store = _service(stores).joint_store
    version = store.data_version(JOINT)
    rerun = backfill_joint(stores, NUMERIC, JOINT, EVERYTHING)
    assert (rerun.written, rerun.skipped) == (0, 9)
    assert store.data_version(JOINT) == version

    changed = np.zeros(384, dtype=np.float32)
    changed[0] = 1.0
    stores.numeric.upsert([EmbeddingRecord(PORTFOLIOS[2], DAYS[1], NUMERIC, Vector(changed), {"edited": True})])
    after = backfill_joint(stores, NUMERIC, JOINT, EVERYTHING)

    assert (after.written, after.skipped) == (1, 8)
    assert store.data_version(JOINT) == version + 1
    rows = _joint_rows(stores)
    assert rows[(PORTFOLIOS[2], DAYS[1])][0] == changed.tobytes()
    assert rows[(PORTFOLIOS[2], DAYS[1])][3] == version + 1  # the index cache extends from this revision
    assert rows[(PORTFOLIOS[0], DAYS[0])][3] == version


def test_copy_honours_the_portfolio_and_date_filters(stores: Stores) -> None:
    _fill(stores)
    request = BackfillRequest(DateSelection(start=DAYS[1], end=DAYS[2]), portfolio_ids=(PORTFOLIOS[1],))
    summary = backfill_joint(stores, NUMERIC, JOINT, request)
    assert (summary.written, summary.skipped) == (2, 0)
    assert sorted(_joint_rows(stores)) == [(PORTFOLIOS[1], DAYS[1]), (PORTFOLIOS[1], DAYS[2])]
