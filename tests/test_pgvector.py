"""PostgreSQL with pgvector: the vector column, in-database search, and the fallback without it."""

from datetime import date, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from helpers import invoke, run_cli

from prometheus.config import Settings
from prometheus.errors import InvalidInput
from prometheus.services.similar import SimilarQuery, find_similar
from prometheus.services.similar_database import NOT_AVAILABLE, build_database_index, find_similar_in_database
from prometheus.store.embeddings import EmbeddingBatch, JointEmbeddingStore
from prometheus.store.stores import Stores, open_stores

pytestmark = pytest.mark.postgres
MODEL = "joint-portfolio-core-v1"


def _fill(stores: Stores, portfolios: int = 15, dates: int = 40) -> list[date]:
    rng = np.random.default_rng(4)
    days = [date(2005, 1, 7) + timedelta(weeks=w) for w in range(dates)]
    centres = rng.standard_normal((4, 41))
    n = portfolios * dates
    matrix = np.zeros((n, 384), dtype=np.float32)
    matrix[:, :41] = centres[rng.integers(0, 4, n)] + 0.4 * rng.standard_normal((n, 41))
    pids = [f"PF_{p:02d}" for _ in days for p in range(portfolios)]
    all_days = [d for d in days for _ in range(portfolios)]
    scopes = [
        {"entity_type": "PORTFOLIO", "portfolio_id": p, "source": "num-portfolio-core-v1", "as_of_date": d.isoformat()}
        for p, d in zip(pids, all_days, strict=True)
    ]
    JointEmbeddingStore(stores.historical, "PORTFOLIO_CORE_V0").upsert_batches(
        [EmbeddingBatch(MODEL, pids, all_days, matrix, scopes)]
    )
    return days


@pytest.fixture
def vec_stores(pgvector_url: str, tmp_path) -> Stores:  # type: ignore[no-untyped-def]
    stores = open_stores(Settings(db_url=pgvector_url, cache_dir=tmp_path / "cache"))
    with stores.historical.write() as conn:
        conn.execute(sa.text("TRUNCATE joint_embeddings"))
    yield stores
    stores.dispose()


def test_vector_column_is_added_and_kept_in_sync(vec_stores: Stores) -> None:
    assert vec_stores.historical.vector_column
    _fill(vec_stores)
    with vec_stores.historical.read() as conn:
        missing = conn.execute(sa.text("SELECT count(*) FROM joint_embeddings WHERE embedding IS NULL")).scalar()
        row = conn.execute(sa.text("SELECT vector, embedding::text FROM joint_embeddings LIMIT 1")).one()
    assert missing == 0
    stored = np.frombuffer(bytes(row[0]), dtype="<f4")
    as_vector = np.array([float(x) for x in row[1].strip("[]").split(",")], dtype=np.float32)
    assert np.array_equal(stored, as_vector)


@pytest.mark.parametrize("with_hnsw", [False, True])
def test_in_database_search_matches_the_in_process_search(vec_stores: Stores, with_hnsw: bool) -> None:
    days = _fill(vec_stores)
    if with_hnsw:
        build_database_index(vec_stores)
    for pid, day, k in [("PF_00", days[0], 10), ("PF_07", days[20], 20), ("PF_14", days[-1], 5)]:
        query = SimilarQuery(MODEL, pid, day, top_k=k)
        inside = find_similar_in_database(vec_stores, query)
        in_process = find_similar(vec_stores, query)
        assert [(n.portfolio_id, n.as_of_date) for n in inside.neighbours] == [
            (n.portfolio_id, n.as_of_date) for n in in_process.neighbours
        ]
        assert [round(n.cosine, 12) for n in inside.neighbours] == [round(n.cosine, 12) for n in in_process.neighbours]


def test_in_database_search_from_the_cli_and_its_errors(vec_stores: Stores, pgvector_url: str) -> None:
    days = _fill(vec_stores)
    result = run_cli(
        "find_similar_portfolios",
        "--portfolio-id",
        "PF_03",
        "--as-of",
        days[5].isoformat(),
        "--engine",
        "database",
        "--same-date",
        db_url=pgvector_url,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 15  # header + the 14 other portfolios on that date
    missing = invoke(
        "find_similar_portfolios",
        "--portfolio-id",
        "PF_03",
        "--as-of",
        "2030-01-04",
        "--engine",
        "database",
        db_url=pgvector_url,
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: portfolio 'PF_03' has no joint-portfolio-core-v1 state on 2030-01-04")


def test_without_pgvector_the_in_process_index_is_used(pg_url: str) -> None:
    stores = open_stores(Settings(db_url=pg_url))
    assert not stores.historical.vector_column
    days = _fill(stores, portfolios=3, dates=5)
    assert len(find_similar(stores, SimilarQuery(MODEL, "PF_00", days[0], top_k=3)).neighbours) == 3
    with pytest.raises(InvalidInput) as info:
        find_similar_in_database(stores, SimilarQuery(MODEL, "PF_00", days[0]))
    assert str(info.value) == NOT_AVAILABLE
    stores.dispose()
