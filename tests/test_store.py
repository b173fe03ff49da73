from dataclasses import replace
from datetime import date

import numpy as np
import pytest
import sqlalchemy as sa
from factories import make_report

from prometheus.config import Settings
from prometheus.errors import InvalidReport, InvalidVector, StoreUnavailable
from prometheus.store.database import Database
from prometheus.store.embeddings import EmbeddingRecord, JointEmbeddingStore
from prometheus.store.schema import SCHEMA_VERSION, joint_embeddings, numeric_window_embeddings
from prometheus.store.stores import Stores, open_stores
from prometheus.store.vector import Vector

D1, D2 = date(2025, 1, 31), date(2025, 2, 28)


def _record(pid: str, day: date, seed: int, model: str = "num-portfolio-core-v1") -> EmbeddingRecord:
    values = np.random.default_rng(seed).standard_normal(384)
    return EmbeddingRecord(pid, day, model, Vector(values), {"feature_schema": "portfolio-core-features/v1"})


def _dump(stores: Stores, table: sa.Table) -> list[tuple[object, ...]]:
    with stores.historical.read() as conn:
        return [tuple(r) for r in conn.execute(sa.select(table).order_by(table.c.id))]


def test_schema_is_created_and_versioned(stores: Stores) -> None:
    assert stores.historical.schema_version() == SCHEMA_VERSION
    assert Database.open(stores.historical.url).schema_version() == SCHEMA_VERSION  # reopening is a no-op


def test_reports_round_trip_and_upsert_on_portfolio_date(stores: Stores) -> None:
    first = make_report("PF_A", D1, metrics={"volatility_1m": 0.2})
    assert stores.reports.upsert([first, make_report("PF_B", D1), make_report("PF_A", D2)]) == 3
    assert stores.reports.count() == 3
    loaded = stores.reports.get("PF_A", D1)
    assert loaded is not None
    assert loaded.risk_metrics == first.risk_metrics
    assert loaded.exposures_by_sector == first.exposures_by_sector
    assert loaded.report_id == first.report_id
    stores.reports.upsert([make_report("PF_A", D1, metrics={"volatility_1m": 0.5})])
    assert stores.reports.count() == 3
    updated = stores.reports.get("PF_A", D1)
    assert updated is not None and updated.risk_metrics["volatility_1m"] == 0.5
    assert stores.reports.dates() == [D1, D2]
    assert stores.reports.portfolio_ids() == ["PF_A", "PF_B"]


def test_report_id_clash_is_refused_and_writes_nothing(stores: Stores) -> None:
    stores.reports.upsert([make_report("PF_A", D1)])
    clash = replace(make_report("PF_B", D1), report_id=make_report("PF_A", D1).report_id)
    with pytest.raises(InvalidReport, match="already belongs to another portfolio or date"):
        stores.reports.upsert([make_report("PF_C", D1), clash])
    assert stores.reports.portfolio_ids() == ["PF_A"]


def test_portfolio_ids_with_quotes_and_sql_are_stored_verbatim(stores: Stores) -> None:
    odd = "PF'; DROP TABLE portfolio_risk_reports; --\"ü,"
    stores.reports.upsert([make_report(odd, D1)])
    assert stores.reports.portfolio_ids() == [odd]


def test_embedding_upsert_is_idempotent(stores: Stores) -> None:
    records = [_record("PF_A", D1, 1), _record("PF_B", D1, 2), _record("PF_A", D2, 3)]
    first = stores.numeric.upsert(records)
    assert (first.written, first.unchanged) == (3, 0)
    before = _dump(stores, numeric_window_embeddings)
    version = stores.numeric.data_version("num-portfolio-core-v1")
    again = stores.numeric.upsert(records)
    assert (again.written, again.unchanged) == (0, 3)
    assert _dump(stores, numeric_window_embeddings) == before  # created_at included
    assert stores.numeric.data_version("num-portfolio-core-v1") == version


def test_changed_vector_replaces_the_row_and_bumps_the_version(stores: Stores) -> None:
    stores.numeric.upsert([_record("PF_A", D1, 1)])
    version = stores.numeric.data_version("num-portfolio-core-v1")
    counts = stores.numeric.upsert([_record("PF_A", D1, 99)])
    assert counts.written == 1
    assert stores.numeric.count("num-portfolio-core-v1") == 1
    loaded = stores.numeric.load("num-portfolio-core-v1")
    assert np.array_equal(loaded.matrix[0], _record("PF_A", D1, 99).vector.values)
    assert stores.numeric.data_version("num-portfolio-core-v1") == version + 1


def test_load_filters_and_orders(stores: Stores) -> None:
    stores.numeric.upsert([_record("PF_B", D2, 1), _record("PF_A", D2, 2), _record("PF_A", D1, 3)])
    loaded = stores.numeric.load("num-portfolio-core-v1")
    assert list(zip(loaded.portfolio_ids, loaded.dates, strict=True)) == [("PF_A", D1), ("PF_A", D2), ("PF_B", D2)]
    only = stores.numeric.load("num-portfolio-core-v1", start=D2, portfolio_ids=["PF_B"])
    assert only.portfolio_ids == ["PF_B"]
    assert stores.numeric.dates("num-portfolio-core-v1") == [D1, D2]
    assert stores.numeric.model_counts() == {"num-portfolio-core-v1": 3}


def test_joint_store_keys_on_type_model_portfolio_date(stores: Stores) -> None:
    store = JointEmbeddingStore(stores.historical, "PORTFOLIO_CORE_V0")
    record = _record("PF_A", D1, 1, model="joint-portfolio-core-v1")
    scoped = replace(
        record,
        spec={
            "entity_type": "PORTFOLIO",
            "portfolio_id": "PF_A",
            "source": "num-portfolio-core-v1",
            "as_of_date": "2025-01-31",
        },
    )
    store.upsert([scoped])
    store.upsert([scoped])
    rows = _dump(stores, joint_embeddings)
    assert len(rows) == 1
    loaded = store.load("joint-portfolio-core-v1")
    assert loaded.specs[0]["source"] == "num-portfolio-core-v1"


def test_vector_of_wrong_size_in_the_database_is_refused_on_read(stores: Stores) -> None:
    stores.numeric.upsert([_record("PF_A", D1, 1)])
    with stores.historical.write() as conn:
        conn.execute(numeric_window_embeddings.update().values(vector=b"\x00" * 100))
    with pytest.raises(InvalidVector) as info:
        stores.numeric.load("num-portfolio-core-v1")
    assert str(info.value) == (
        "num-portfolio-core-v1 PF_A 2025-01-31: 100 bytes stored for dimension 384 (expected 1536); "
        "re-run the backfill to rewrite it"
    )


def test_a_failed_batch_writes_nothing(stores: Stores) -> None:
    good = _record("PF_A", D1, 1)
    bad = EmbeddingRecord("PF_B", D1, "num-portfolio-core-v1", good.vector, {"x": object()})  # not JSON
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error type differs per dialect
        stores.numeric.upsert([good, bad])
    assert stores.numeric.count("num-portfolio-core-v1") == 0


def test_separate_runtime_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(db_url=f"sqlite:///{tmp_path}/hist.db", runtime_db_url=f"sqlite:///{tmp_path}/run.db")
    opened = open_stores(settings)
    opened.reports.upsert([make_report()])
    assert opened.runtime is not opened.historical
    with opened.historical.read() as conn:
        assert conn.execute(sa.text("select count(*) from portfolio_risk_reports")).scalar() == 0
    assert opened.reports.count() == 1


def test_unreachable_database_is_a_clear_error_without_password() -> None:
    with pytest.raises(StoreUnavailable) as info:
        Database.open("postgresql+psycopg://analyst:s3cret@127.0.0.1:1/prometheus")
    message = str(info.value)
    assert message.startswith("cannot use the database postgresql+psycopg://analyst:***@127.0.0.1:1/prometheus: ")
    assert "s3cret" not in message


def test_not_a_url_is_a_clear_error() -> None:
    with pytest.raises(StoreUnavailable) as info:
        Database.open("not a url")
    # Round 2: the text is not echoed (an unparseable URL may be a password pasted in the wrong place).
    assert str(info.value) == (
        "the database URL cannot be read (it is not shown: it may hold a password): "
        "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
    )


def test_an_older_schema_is_upgraded_in_place(stores: Stores) -> None:
    stores.numeric.upsert([_record("PF_A", D1, 1)])
    with stores.historical.write() as conn:  # take the database back to schema version 2
        for table in ("numeric_window_embeddings", "joint_embeddings"):
            conn.execute(sa.text(f"DROP INDEX ix_{table}_model_revision"))
            conn.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN revision"))
        conn.execute(sa.text("DELETE FROM schema_migrations WHERE version = 3"))
    upgraded = Database.open(stores.historical.url)
    assert upgraded.schema_version() == SCHEMA_VERSION
    with upgraded.read() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("numeric_window_embeddings")}
    assert "revision" in columns
    assert open_stores(Settings(db_url=stores.historical.url)).numeric.count("num-portfolio-core-v1") == 1


def test_large_batches_round_trip_and_stay_idempotent(stores: Stores) -> None:
    """Above COPY_THRESHOLD PostgreSQL takes COPY (FORMAT BINARY); both dialects must store the same."""
    from prometheus.store.embeddings import EmbeddingBatch
    from prometheus.store.upsert import COPY_THRESHOLD

    n = COPY_THRESHOLD * 2 + 7
    rng = np.random.default_rng(11)
    matrix = rng.standard_normal((n, 384)).astype(np.float32)
    pids = [f"PF_{i % 50:02d}" for i in range(n)]
    days = [date(2001, 1, 1) + __import__("datetime").timedelta(days=i // 50) for i in range(n)]
    specs = [{"feature_schema": "portfolio-core-features/v1", "i": i, "name": "ü'\""} for i in range(n)]
    batch = EmbeddingBatch("num-portfolio-core-v1", pids, days, matrix, specs)
    assert stores.numeric.upsert_batches([batch]).written == n
    loaded = stores.numeric.load("num-portfolio-core-v1")
    order = sorted(range(n), key=lambda i: (days[i], pids[i]))
    assert np.array_equal(loaded.matrix, matrix[order])
    assert loaded.specs == [specs[i] for i in order]
    again = stores.numeric.upsert_batches([batch])
    assert (again.written, again.unchanged) == (0, n)
    reports = [
        make_report(p, d, metrics={"volatility_1m": 0.1 + i / n})
        for i, (p, d) in enumerate(zip(pids, days, strict=True))
    ]
    assert stores.reports.upsert(reports) == n
    back = stores.reports.get(pids[-1], days[-1])
    assert back is not None and back.risk_metrics == reports[-1].risk_metrics
    assert back.exposures_by_sector == reports[-1].exposures_by_sector


def test_a_mixed_batch_writes_only_new_and_changed_states(stores: Stores) -> None:
    from prometheus.store.embeddings import EmbeddingBatch

    odd_spec = {"feature_schema": "portfolio-core-features/v1", "unknown_keys": ['risk.ünï "q" \\ x']}
    first = [_record("PF_A", D1, 1), replace(_record("PF_B", D1, 2), spec=odd_spec), _record("PF_C", D1, 3)]
    stores.numeric.upsert(first)
    before = {row[2]: row for row in _dump(stores, numeric_window_embeddings)}
    version = stores.numeric.data_version("num-portfolio-core-v1")

    changed = _record("PF_C", D1, 99)
    matrix = np.vstack([first[0].vector.values, first[1].vector.values, changed.vector.values, changed.vector.values])
    batch = EmbeddingBatch(
        "num-portfolio-core-v1",
        ["PF_A", "PF_B", "PF_C", "PF_D"],
        [D1, D1, D1, D2],
        matrix,
        [first[0].spec, odd_spec, changed.spec, {"feature_schema": "portfolio-core-features/v1"}],
    )
    counts = stores.numeric.upsert_batches([batch])

    assert (counts.written, counts.unchanged) == (2, 2)
    assert stores.numeric.data_version("num-portfolio-core-v1") == version + 1
    after = {row[2]: row for row in _dump(stores, numeric_window_embeddings)}
    assert after["PF_A"] == before["PF_A"] and after["PF_B"] == before["PF_B"]  # untouched, created_at included
    columns = [c.name for c in numeric_window_embeddings.columns]
    assert after["PF_C"][columns.index("revision")] == version + 1
    assert after["PF_C"][columns.index("created_at")] == before["PF_C"][columns.index("created_at")]
    assert bytes(after["PF_C"][columns.index("vector")]) == changed.vector.values.astype("<f4").tobytes()
    assert after["PF_D"][columns.index("as_of_date")] == D2
    loaded = stores.numeric.load("num-portfolio-core-v1", portfolio_ids=["PF_B"])
    assert loaded.specs == [odd_spec]


def test_a_repeated_key_in_one_batch_keeps_the_last_vector(stores: Stores) -> None:
    from prometheus.store.embeddings import EmbeddingBatch

    a, b = _record("PF_A", D1, 1), _record("PF_A", D1, 2)
    batch = EmbeddingBatch(
        "num-portfolio-core-v1",
        ["PF_A", "PF_A"],
        [D1, D1],
        np.vstack([a.vector.values, b.vector.values]),
        [a.spec, b.spec],
    )
    stores.numeric.upsert_batches([batch])
    loaded = stores.numeric.load("num-portfolio-core-v1")
    assert len(loaded) == 1
    assert np.array_equal(loaded.matrix[0], b.vector.values.astype(np.float32))


def test_a_batch_with_a_nan_vector_writes_nothing(stores: Stores) -> None:
    from prometheus.store.embeddings import EmbeddingBatch

    matrix = np.ones((2, 384), dtype=np.float32)
    matrix[1, 5] = np.nan
    batch = EmbeddingBatch("num-portfolio-core-v1", ["PF_A", "PF_B"], [D1, D1], matrix, [{}, {}])
    with pytest.raises(InvalidVector) as info:
        stores.numeric.upsert_batches([batch])
    assert str(info.value) == "a vector may not contain NaN or infinity"
    assert stores.numeric.count("num-portfolio-core-v1") == 0
    assert stores.numeric.data_version("num-portfolio-core-v1") == 0
