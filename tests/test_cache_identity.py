"""Round 2: a cache is served only for the data it was built from, and only if its files hold together.

A file copy of a SQLite store keeps its identity (store_id) and its data version; two
copies side by side share the cache folder. Written to differently afterwards, they
must never be served each other's index, graph, attributes or map; nor may a backup
restored in place be served the index of the data it replaced. Corrupt or inconsistent
cache files are rebuilt, never served.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from test_index import MODEL, _grid, _vectors, _write

from prometheus.config import Settings
from prometheus.errors import UnknownPortfolio
from prometheus.projection.maps import project_states
from prometheus.search.cache import IndexCache
from prometheus.search.loading import approximate_searcher, build_hnsw_graph, load_index
from prometheus.services.similar import SimilarQuery, find_similar
from prometheus.services.versions import data_version_key
from prometheus.store.stores import Stores, open_stores

DAY = date(2000, 1, 3)


def _open(path: Path, cache: Path, **extra: object) -> Stores:
    return open_stores(Settings(db_url=f"sqlite:///{path}", cache_dir=cache, **extra))  # type: ignore[arg-type]


def _seeded(folder: Path) -> Path:
    """A store with 4 portfolios x 5 dates at data version 1, closed (its WAL folded in) so it can be copied."""
    path = folder / "prod.db"
    stores = _open(path, folder / "cache")
    pids, days = _grid(4, 5)
    _write(stores, pids, days, _vectors(len(pids), 1))
    load_index(stores, MODEL)  # a cache of version 1 exists, as it would in use
    stores.dispose()
    return path


def _neighbours(stores: Stores, pid: str = "PF_000", k: int = 50) -> set[str]:
    return {n.portfolio_id for n in find_similar(stores, SimilarQuery(MODEL, pid, DAY, top_k=k)).neighbours}


def test_two_copies_written_differently_are_never_served_each_others_index(tmp_path: Path) -> None:
    prod_path = _seeded(tmp_path)
    test_path = tmp_path / "test.db"
    shutil.copy(prod_path, test_path)  # same folder: same cache folder, same store id, same version
    prod, test = _open(prod_path, tmp_path / "cache"), _open(test_path, tmp_path / "cache")
    try:
        assert prod.historical.store_id == test.historical.store_id
        twin = _vectors(1, 9)
        _write(test, ["PF_ONLY_IN_TEST"], [DAY], twin)
        _write(prod, ["PF_ONLY_IN_PROD"], [DAY], twin)
        assert prod.historical.data_version("joint:" + MODEL) == test.historical.data_version("joint:" + MODEL) == 2
        assert "PF_ONLY_IN_TEST" in _neighbours(test)  # test.db's index, version 2, is now in the shared folder
        assert "PF_ONLY_IN_PROD" in _neighbours(prod)
        assert "PF_ONLY_IN_TEST" not in _neighbours(prod)
        # and back: each query portfolio is known exactly where it is stored
        assert find_similar(prod, SimilarQuery(MODEL, "PF_ONLY_IN_PROD", DAY, top_k=3)).neighbours
        with pytest.raises(UnknownPortfolio):
            find_similar(prod, SimilarQuery(MODEL, "PF_ONLY_IN_TEST", DAY, top_k=3))
    finally:
        prod.dispose()
        test.dispose()


def test_the_same_key_rewritten_differently_in_two_copies_gives_each_its_own_vector(tmp_path: Path) -> None:
    prod_path = _seeded(tmp_path)
    test_path = tmp_path / "test.db"
    shutil.copy(prod_path, test_path)
    prod, test = _open(prod_path, tmp_path / "cache"), _open(test_path, tmp_path / "cache")
    try:
        _write(test, ["PF_001"], [DAY], _vectors(1, 21))  # the same (portfolio, date), other vectors,
        _write(prod, ["PF_001"], [DAY], _vectors(1, 22))  # written at the same version in each copy
        for stores, seed in ((test, 21), (prod, 22), (test, 21)):
            index = load_index(stores, MODEL)
            row = index.row_of("PF_001", DAY)
            assert row is not None and np.array_equal(index.full_vector(row), _vectors(1, seed)[0])
    finally:
        prod.dispose()
        test.dispose()


def test_a_backup_restored_in_place_is_never_served_the_index_it_replaced(tmp_path: Path) -> None:
    path = _seeded(tmp_path)
    backup = tmp_path / "backup.db"
    shutil.copy(path, backup)
    stores = _open(path, tmp_path / "cache")
    _write(stores, ["PF_AFTER_BACKUP"], [DAY], _vectors(1, 5))
    assert "PF_AFTER_BACKUP" in _neighbours(stores)  # cached at version 2
    key_before = data_version_key(stores, MODEL)
    stores.dispose()
    shutil.copy(backup, path)  # restore: back to version 1 ...
    stores = _open(path, tmp_path / "cache")
    try:
        _write(stores, ["PF_AFTER_RESTORE"], [DAY], _vectors(1, 6))  # ... and on to a different version 2
        assert stores.historical.data_version("joint:" + MODEL) == 2
        assert data_version_key(stores, MODEL) != key_before  # the app's in-memory caches move on too
        found = _neighbours(stores)
        assert "PF_AFTER_RESTORE" in found and "PF_AFTER_BACKUP" not in found
    finally:
        stores.dispose()


def test_an_index_is_still_extended_along_its_own_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stores = _open(_seeded(tmp_path), tmp_path / "cache")
    try:
        _write(stores, ["PF_NEW"], [DAY], _vectors(1, 3))
        loads: list[object] = []
        original = type(stores.joint("PORTFOLIO_CORE_V0")).load
        monkeypatch.setattr(
            type(stores.joint("PORTFOLIO_CORE_V0")),
            "load",
            lambda self, *a, **kw: loads.append(kw.get("revision_above")) or original(self, *a, **kw),
        )
        assert load_index(stores, MODEL).has_portfolio("PF_NEW")
        assert loads == [1]  # only the rows written since version 1 were read
    finally:
        stores.dispose()


def test_copies_never_share_an_hnsw_graph(tmp_path: Path) -> None:
    prod_path = _seeded(tmp_path)
    test_path = tmp_path / "test.db"
    shutil.copy(prod_path, test_path)
    prod = _open(prod_path, tmp_path / "cache", approximate_above=1)
    test = _open(test_path, tmp_path / "cache", approximate_above=1)
    try:
        _write(test, ["PF_T"], [DAY], _vectors(1, 7))
        _write(prod, ["PF_P"], [DAY], _vectors(1, 8))
        build_hnsw_graph(test, MODEL)
        prod_index = load_index(prod, MODEL)
        assert approximate_searcher(prod, prod_index) is None  # test.db's graph is not prod.db's
        test_index = load_index(test, MODEL)
        assert approximate_searcher(test, test_index) is None  # prod's index replaced it in the shared folder ...
        build_hnsw_graph(test, MODEL)
        assert approximate_searcher(test, load_index(test, MODEL)) is not None  # ... and its own graph serves it
    finally:
        prod.dispose()
        test.dispose()


def test_copies_never_share_a_map_or_attributes(tmp_path: Path) -> None:
    from prometheus.services.attributes import cached_state_attributes

    prod_path = _seeded(tmp_path)
    test_path = tmp_path / "test.db"
    shutil.copy(prod_path, test_path)
    prod, test = _open(prod_path, tmp_path / "cache"), _open(test_path, tmp_path / "cache")
    try:
        _write(test, ["PF_T"], [DAY], _vectors(1, 7))
        _write(prod, ["PF_P"], [DAY], _vectors(1, 8))
        for stores, mine, theirs in ((test, "PF_T", "PF_P"), (prod, "PF_P", "PF_T"), (test, "PF_T", "PF_P")):
            points = project_states(stores, MODEL, "pca")
            assert mine in set(points["portfolio_id"]) and theirs not in set(points["portfolio_id"])
            attributes = cached_state_attributes(stores, MODEL)
            assert mine in set(attributes["portfolio_id"]) and theirs not in set(attributes["portfolio_id"])
    finally:
        prod.dispose()
        test.dispose()


# ---------------------------------------------------------------- corrupt cache files (item 12)


def _index_folder(stores: Stores) -> Path:
    cache = IndexCache(stores.settings.effective_cache_dir, stores.historical.store_id)
    folder = cache.root / MODEL
    return folder / (folder / "current").read_text().strip()


@pytest.fixture
def cached(tmp_path: Path) -> Stores:
    stores = _open(tmp_path / "db.sqlite", tmp_path / "cache", approximate_above=1)
    pids, days = _grid(6, 10)
    _write(stores, pids, days, _vectors(len(pids), 4))
    load_index(stores, MODEL)
    return stores


def _expected(stores: Stores) -> list[tuple[str, date]]:
    result = find_similar(stores, SimilarQuery(MODEL, "PF_002", DAY, top_k=10))
    return [(n.portfolio_id, n.as_of_date) for n in result.neighbours]


@pytest.mark.parametrize(
    "damage",
    [
        "codes shorter than the matrix",
        "codes out of range",
        "a NaN in the matrix",
        "a changed value in the matrix",
        "rows swapped in the matrix",
        "dates of another dtype",
        "active columns beyond the dimension",
        "meta.json not an object",
    ],
)
def test_an_inconsistent_or_corrupt_index_is_rebuilt_not_served(cached: Stores, damage: str) -> None:
    right = _expected(cached)
    folder = _index_folder(cached)
    matrix = np.load(folder / "matrix.npy")
    if damage == "codes shorter than the matrix":
        np.save(folder / "codes.npy", np.load(folder / "codes.npy")[:-3])
    elif damage == "codes out of range":
        codes = np.load(folder / "codes.npy")
        codes[0] = 10_000
        np.save(folder / "codes.npy", codes)
    elif damage == "a NaN in the matrix":
        matrix[7, 3] = np.nan
        np.save(folder / "matrix.npy", matrix)
    elif damage == "a changed value in the matrix":
        matrix[7, 3] += 0.5
        np.save(folder / "matrix.npy", matrix)
    elif damage == "rows swapped in the matrix":
        np.save(folder / "matrix.npy", matrix[::-1].copy())
    elif damage == "dates of another dtype":
        np.save(folder / "dates.npy", np.load(folder / "dates.npy").astype("int64"))
    elif damage == "active columns beyond the dimension":
        np.save(folder / "active.npy", np.load(folder / "active.npy") + 1000)
    else:
        (folder / "meta.json").write_text("[1, 2, 3]")
    assert IndexCache(cached.settings.effective_cache_dir, cached.historical.store_id).read(MODEL) is None
    assert _expected(cached) == right  # rebuilt from the store: the same answer as before the damage
    cached.dispose()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "another graph", "empty"])
def test_a_corrupt_hnsw_graph_is_ignored_and_the_search_stays_exact(cached: Stores, damage: str) -> None:
    import faiss

    exact = _expected(cached)
    index, _ = build_hnsw_graph(cached, MODEL)
    path = IndexCache(cached.settings.effective_cache_dir, cached.historical.store_id).graph_path(
        MODEL, index.data_version, index.stamp
    )
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(np.random.default_rng(0).bytes(len(data)))
    elif damage == "another graph":
        other = faiss.IndexHNSWFlat(int(index.matrix.shape[1]), 8, faiss.METRIC_INNER_PRODUCT)
        other.add(np.random.default_rng(1).standard_normal((len(index), index.matrix.shape[1])).astype(np.float32))
        faiss.write_index(other, str(path))
    else:
        path.write_bytes(b"")
    assert approximate_searcher(cached, index) is None
    assert not path.exists()  # removed, so the next search does not try it again
    assert _expected(cached) == exact
    cached.dispose()
