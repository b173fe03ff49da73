"""The persistent state index and the two-pass exact search."""

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from prometheus.config import Settings
from prometheus.search.cache import IndexCache
from prometheus.search.exact import cosine_and_euclidean, search_index_rows
from prometheus.search.index import build_index
from prometheus.search.loading import load_index
from prometheus.services.similar import SimilarQuery, find_similar
from prometheus.store.embeddings import EmbeddingRecord, JointEmbeddingStore
from prometheus.store.stores import Stores, open_stores
from prometheus.store.vector import Vector

MODEL = "joint-portfolio-core-v1"
JOINT_TYPE = "PORTFOLIO_CORE_V0"
SCOPE = {"entity_type": "PORTFOLIO", "source": "num-portfolio-core-v1"}


def _vectors(n: int, seed: int, active: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((5, active))
    out = np.zeros((n, 384), dtype=np.float32)
    out[:, :active] = centres[rng.integers(0, 5, n)] + 0.3 * rng.standard_normal((n, active))
    return out


def _write(stores: Stores, pids: list[str], days: list[date], vectors: np.ndarray) -> None:
    store = JointEmbeddingStore(stores.historical, JOINT_TYPE)
    store.upsert(
        EmbeddingRecord(p, d, MODEL, Vector(v), SCOPE | {"portfolio_id": p, "as_of_date": d.isoformat()})
        for p, d, v in zip(pids, days, vectors, strict=True)
    )


def _grid(portfolios: int, dates: int) -> tuple[list[str], list[date]]:
    pids = [f"PF_{p:03d}" for d in range(dates) for p in range(portfolios)]
    days = [date(2000, 1, 3) + timedelta(days=7 * d) for d in range(dates) for _ in range(portfolios)]
    return pids, days


@pytest.fixture
def filled(stores: Stores) -> Stores:
    pids, days = _grid(12, 30)
    _write(stores, pids, days, _vectors(len(pids), 1))
    return stores


def _brute_force(stores: Stores, pid: str, day: date, k: int) -> list[tuple[str, date]]:
    states = JointEmbeddingStore(stores.historical, JOINT_TYPE).load(MODEL)
    m = states.matrix.astype(np.float64)
    q = m[
        next(
            i for i, (p, d) in enumerate(zip(states.portfolio_ids, states.dates, strict=True)) if p == pid and d == day
        )
    ]
    scored = sorted(
        (-(m[i] @ q) / (np.linalg.norm(m[i]) * np.linalg.norm(q)), float(np.linalg.norm(m[i] - q)), p, d)
        for i, (p, d) in enumerate(zip(states.portfolio_ids, states.dates, strict=True))
        if p != pid
    )
    return [(p, d) for _, _, p, d in scored[:k]]


def test_index_is_cached_and_reused(filled: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_index(filled, MODEL)
    assert len(first) == 360 and first.matrix.shape[1] == 40  # reserved zero columns dropped
    calls = []
    original = JointEmbeddingStore.load
    monkeypatch.setattr(
        JointEmbeddingStore, "load", lambda self, *a, **kw: calls.append(kw) or original(self, *a, **kw)
    )
    second = load_index(filled, MODEL)
    assert calls == []
    assert np.array_equal(np.asarray(second.matrix), first.matrix)
    assert second.portfolio_names == first.portfolio_names


def test_a_stale_index_is_extended_to_equal_a_rebuild(filled: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    load_index(filled, MODEL)
    _pids, days = _grid(12, 30)
    changed = _vectors(3, 7)
    _write(filled, ["PF_000", "PF_005", "PF_NEW"], [days[0], days[40], days[0]], changed)
    calls = []
    original = JointEmbeddingStore.load
    monkeypatch.setattr(
        JointEmbeddingStore, "load", lambda self, *a, **kw: calls.append(kw) or original(self, *a, **kw)
    )
    extended = load_index(filled, MODEL)
    assert [c.get("revision_above") for c in calls] == [1]  # only the rows written since version 1
    monkeypatch.undo()
    rebuilt = IndexCache(Path("/nonexistent-never-written"), "x").get(
        JointEmbeddingStore(filled.historical, JOINT_TYPE), MODEL, 384
    )
    assert extended.data_version == rebuilt.data_version == 2
    assert extended.portfolio_names == rebuilt.portfolio_names
    assert np.array_equal(extended.portfolio_codes, rebuilt.portfolio_codes)
    assert np.array_equal(extended.dates, rebuilt.dates)
    assert np.array_equal(np.asarray(extended.matrix), rebuilt.matrix)
    row = extended.row_of("PF_005", days[40])
    assert row is not None and np.array_equal(extended.full_vector(row), changed[1])


def test_search_sees_new_data_at_once(filled: Stores) -> None:
    query = SimilarQuery(MODEL, "PF_000", date(2000, 1, 3), top_k=1)
    before = find_similar(filled, query)
    twin = JointEmbeddingStore(filled.historical, JOINT_TYPE).load(MODEL, portfolio_ids=["PF_000"]).matrix[0]
    _write(filled, ["PF_TWIN"], [date(2010, 1, 4)], twin[None, :])
    after = find_similar(filled, query)
    assert before.neighbours[0].portfolio_id != "PF_TWIN"
    assert (after.neighbours[0].portfolio_id, after.neighbours[0].cosine) == ("PF_TWIN", pytest.approx(1.0))


def test_a_corrupt_cache_is_rebuilt(filled: Stores) -> None:
    load_index(filled, MODEL)
    for path in filled.settings.effective_cache_dir.rglob("matrix.npy"):
        path.write_bytes(b"garbage")
    assert len(load_index(filled, MODEL)) == 360


def test_an_unwritable_cache_costs_speed_not_answers(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'db.sqlite'}", cache_dir=blocker / "cache")
    stores = open_stores(settings)
    pids, days = _grid(3, 4)
    _write(stores, pids, days, _vectors(12, 2))
    assert len(load_index(stores, MODEL)) == 12
    stores.dispose()


def test_search_matches_brute_force(filled: Stores) -> None:
    _pids, days = _grid(12, 30)
    for pid, day, k in [("PF_000", days[0], 20), ("PF_007", days[100], 5), ("PF_011", days[-1], 300)]:
        result = find_similar(filled, SimilarQuery(MODEL, pid, day, top_k=k))
        assert [(n.portfolio_id, n.as_of_date) for n in result.neighbours] == _brute_force(filled, pid, day, k)


@pytest.mark.parametrize("seed", range(5))
def test_two_pass_search_equals_float64_over_every_candidate(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    vectors = _vectors(n, seed)
    vectors[rng.integers(0, n, 300)] = vectors[rng.integers(0, n, 300)]  # exact duplicates: ties
    vectors[rng.integers(0, n, 5)] = 0.0  # zero vectors
    index = build_index(
        MODEL,
        1,
        [f"P{i % 50}" for i in range(n)],
        [date(2001, 1, 1) + timedelta(days=i // 50) for i in range(n)],
        ["s"] * n,
        vectors,
    )
    mask = rng.random(n) > 0.3
    query = int(rng.integers(0, n))
    mask[query] = False
    ranked = search_index_rows(index, query, mask, 25)
    cosine, euclidean = cosine_and_euclidean(index.matrix, index.matrix[query])
    names = np.array(index.portfolio_names)[index.portfolio_codes]
    expected = sorted((-cosine[i], euclidean[i], names[i], index.dates[i], i) for i in np.flatnonzero(mask))[:25]
    assert ranked.rows.tolist() == [e[4] for e in expected]
    assert np.array_equal(ranked.cosine, [-e[0] for e in expected])


def test_hnsw_mode_re_ranks_exactly_and_is_never_stale(tmp_path: Path) -> None:
    from prometheus.search.loading import approximate_searcher, build_hnsw_graph

    settings = Settings(db_url=f"sqlite:///{tmp_path / 'db.sqlite'}", approximate_above=100)
    stores = open_stores(settings)
    pids, days = _grid(20, 40)
    _write(stores, pids, days, _vectors(len(pids), 3))
    assert approximate_searcher(stores, load_index(stores, MODEL)) is None  # no graph built yet: exact
    index, _ = build_hnsw_graph(stores, MODEL)
    searcher = approximate_searcher(stores, index)
    assert searcher is not None
    query = SimilarQuery(MODEL, "PF_003", days[3 * 20], top_k=20)
    approximate = find_similar(stores, query)
    exact = find_similar(stores.__class__(stores.runtime, stores.historical, Settings(db_url=settings.db_url)), query)
    hits = {(n.portfolio_id, n.as_of_date) for n in approximate.neighbours}
    assert len(hits & {(n.portfolio_id, n.as_of_date) for n in exact.neighbours}) >= 19
    assert all(a.cosine <= b.cosine + 1e-12 for a, b in zip(approximate.neighbours, exact.neighbours, strict=True))
    _write(stores, ["PF_NEW"], [days[0]], _vectors(1, 9))
    assert approximate_searcher(stores, load_index(stores, MODEL)) is None  # new data: back to exact
    stores.dispose()


def test_a_recreated_database_at_the_same_url_never_gets_the_old_index(tmp_path: Path) -> None:
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'db.sqlite'}", cache_dir=tmp_path / "cache")
    stores = open_stores(settings)
    pids, days = _grid(4, 5)
    _write(stores, pids, days, _vectors(20, 1))
    assert len(load_index(stores, MODEL)) == 20
    stores.dispose()
    (tmp_path / "db.sqlite").unlink()
    stores = open_stores(settings)
    _write(stores, pids[:8], days[:8], _vectors(8, 2))  # same data version (1), different rows
    assert len(load_index(stores, MODEL)) == 8
    stores.dispose()


def test_concurrent_queries_on_one_shared_store_answer_correctly(filled: Stores) -> None:
    """Streamlit shares one Stores across sessions (cache_resource): threads must not disturb each other."""
    from concurrent.futures import ThreadPoolExecutor

    pids, days = _grid(12, 30)
    queries = [SimilarQuery(MODEL, pids[i], days[i], top_k=10) for i in range(0, len(pids), 7)]
    expected = [[(n.portfolio_id, n.as_of_date, n.cosine) for n in find_similar(filled, q).neighbours] for q in queries]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            got = list(
                pool.map(
                    lambda q: [(n.portfolio_id, n.as_of_date, n.cosine) for n in find_similar(filled, q).neighbours],
                    queries,
                )
            )
            assert got == expected
