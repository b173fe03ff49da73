"""Maps: PCA against an SVD done by hand, the disk cache, UMAP placement of new rows, atomic writes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from service_helpers import MODEL, NUMERIC, put_states, random_vectors

import prometheus.projection.maps as maps
import prometheus.projection.pca as pca
import prometheus.projection.umap_fit as umap_fit
from prometheus.config import Settings
from prometheus.errors import InvalidInput, UnknownModel
from prometheus.projection import project_states
from prometheus.services.attributes import state_attributes
from prometheus.store.stores import Stores, open_stores

START = date(2021, 1, 29)


class FakeUMAP:
    """Stands in for umap.UMAP (whose first fit compiles for ~20 s): x, y = the first two coordinates.

    ``place`` stands in for placing new rows (umap_place.place_rows): x, y + 1000.
    """

    fits: ClassVar[list[int]] = []
    fitted_params: ClassVar[list[dict[str, Any]]] = []
    transforms: ClassVar[list[np.ndarray]] = []
    anchors: ClassVar[list[tuple[np.ndarray, np.ndarray]]] = []

    def __init__(self, **params: Any) -> None:
        self.params = params

    def set_params(self, **extras: Any) -> None:
        """Where the fit is given the neighbours found (kept out of ``params``, which are the map's identity)."""

    def fit_transform(self, matrix: np.ndarray) -> np.ndarray:
        FakeUMAP.fits.append(len(matrix))
        FakeUMAP.fitted_params.append(self.params)
        return matrix[:, :2].astype(np.float64)

    @staticmethod
    def place(fitted: np.ndarray, coords: np.ndarray, new: np.ndarray, params: Any, bar: Any) -> np.ndarray:
        FakeUMAP.anchors.append((fitted.copy(), coords.copy()))
        FakeUMAP.transforms.append(new.copy())
        return new[:, :2].astype(np.float64) + 1000.0


class Recording(FakeUMAP):
    """A FakeUMAP that keeps what each fit was given."""

    seen: ClassVar[list[tuple[dict[str, Any], np.ndarray]]] = []

    def fit_transform(self, matrix: np.ndarray) -> np.ndarray:
        Recording.seen.append((self.params, matrix.copy()))
        return super().fit_transform(matrix)


@pytest.fixture
def fake_umap(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeUMAP]]:
    FakeUMAP.fits.clear()
    FakeUMAP.fitted_params.clear()
    FakeUMAP.transforms.clear()
    FakeUMAP.anchors.clear()
    monkeypatch.setattr(umap_fit, "new_umap", lambda params, extras: FakeUMAP(**params))
    monkeypatch.setattr(maps, "place_rows", FakeUMAP.place)
    yield FakeUMAP


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "maps"  # not tmp_path itself: the sqlite_url fixture keeps its database there


@pytest.fixture
def pca_fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = pca.fit_pca

    def counting(matrix: np.ndarray) -> np.ndarray:
        calls.append(len(matrix))
        return real(matrix)

    monkeypatch.setattr(maps, "fit_pca", counting)
    return calls


def _states(n: int, seed: int, first: int = 0) -> list[tuple[str, date, np.ndarray]]:
    vectors = random_vectors(n, seed)
    return [(f"P{(first + i) % 4}", START + timedelta(days=7 * ((first + i) // 4)), vectors[i]) for i in range(n)]


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_pca_map_of_the_sample_is_cached(loaded_stores: Stores, cache: Path, pca_fits: list[int]) -> None:
    messages: list[str] = []
    frame = project_states(
        loaded_stores, MODEL, "pca", cache, progress=lambda done, total, message: messages.append(message)
    )
    assert list(frame.columns) == ["portfolio_id", "as_of_date", "x", "y"]
    assert (frame.attrs["source"], frame.attrs["from_cache"], pca_fits) == ("fit", False, [120])
    assert messages == ["Loading the states…", "Fitting PCA on 120 states…"]
    attributes = state_attributes(loaded_stores, MODEL)  # rows line up with the attribute table
    assert list(zip(frame["portfolio_id"], frame["as_of_date"], strict=True)) == list(
        zip(attributes["portfolio_id"], attributes["as_of_date"], strict=True)
    )

    states = loaded_stores.numeric.load(NUMERIC)
    position = {(p, d): i for i, (p, d) in enumerate(zip(states.portfolio_ids, states.dates, strict=True))}
    matrix = states.matrix[[position[k] for k in zip(frame["portfolio_id"], frame["as_of_date"], strict=True)]]
    centred = matrix.astype(np.float64) - matrix.astype(np.float64).mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    by_hand = centred @ components[:2].T
    for axis, name in enumerate(("x", "y")):
        sign = np.sign(by_hand[:, axis] @ frame[name].to_numpy())
        np.testing.assert_allclose(frame[name].to_numpy(), sign * by_hand[:, axis], atol=1e-5)

    messages.clear()
    again = project_states(
        loaded_stores, MODEL, "pca", cache, progress=lambda done, total, message: messages.append(message)
    )
    assert (again.attrs["source"], again.attrs["from_cache"], pca_fits, messages) == ("cache", True, [120], [])
    pd.testing.assert_frame_equal(again, frame)
    assert [name.endswith((".json", ".npz")) for name in _files(cache)] == [True, True]


def test_changed_data_refits_and_old_files_go(stores: Stores, cache: Path, pca_fits: list[int]) -> None:
    put_states(stores, _states(10, seed=1))
    first = project_states(stores, MODEL, "pca", cache)
    (old_npz,) = cache.glob("*.npz")
    put_states(stores, _states(5, seed=2, first=10))
    second = project_states(stores, MODEL, "pca", cache)
    assert (first.attrs["source"], second.attrs["source"], pca_fits) == ("fit", "fit", [10, 15])
    assert second.attrs["data_version"] > first.attrs["data_version"]
    assert not old_npz.exists() and len(_files(cache)) == 2
    assert project_states(stores, MODEL, "pca", cache).attrs["source"] == "cache"


def test_a_rebuilt_database_does_not_reuse_the_old_map(sqlite_url: str, pca_fits: list[int]) -> None:
    for seed in (1, 2):  # same URL, same data version 1, same row count: only the fingerprint differs
        stores = open_stores(Settings(db_url=sqlite_url))
        put_states(stores, _states(10, seed=seed))
        frame = project_states(stores, MODEL, "pca")  # default folder: beside the SQLite file
        stores.dispose()
        assert frame.attrs["source"] == "fit" and frame.attrs["data_version"] == 1
        Path(sqlite_url.removeprefix("sqlite:///")).unlink()
    assert pca_fits == [10, 10]
    assert (Path(sqlite_url.removeprefix("sqlite:///")).parent / "cache" / "projections").is_dir()


def test_umap_places_new_rows_on_the_cached_map(sqlite_stores: Stores, cache: Path, fake_umap: type[FakeUMAP]) -> None:
    initial = _states(40, seed=3)
    put_states(sqlite_stores, initial)
    messages: list[str] = []
    fitted = project_states(
        sqlite_stores, MODEL, "umap", cache, progress=lambda done, total, message: messages.append(message)
    )
    assert (fitted.attrs["source"], fake_umap.fits) == ("fit", [40])
    assert "Fitting UMAP on 40 states: neighbour graph and starting layout…" in messages
    assert project_states(sqlite_stores, MODEL, "umap", cache).attrs["source"] == "cache"

    added = _states(10, seed=4, first=40)
    put_states(sqlite_stores, added)
    placed = project_states(
        sqlite_stores, MODEL, "umap", cache, progress=lambda done, total, message: messages.append(message)
    )
    assert (placed.attrs["source"], fake_umap.fits, len(placed)) == ("transform", [40], 50)
    raw = np.vstack([v for *_, v in added])  # placed from the new rows and the fitted rows with their coordinates
    np.testing.assert_array_equal(np.vstack(fake_umap.transforms)[:, :5], raw[:, :5])
    ((anchors, anchor_coords),) = fake_umap.anchors
    np.testing.assert_array_equal(anchors[:, :5], np.vstack([v for *_, v in initial])[:, :5])
    np.testing.assert_allclose(anchor_coords, fitted[["x", "y"]].to_numpy())
    merged = placed.merge(fitted, on=["portfolio_id", "as_of_date"], how="left", suffixes=("", "_before"))
    old = merged["x_before"].notna()
    assert old.sum() == 40 and (merged.loc[old, "x"] == merged.loc[old, "x_before"]).all()
    assert (merged.loc[~old, "x"] >= 900).all()  # the fake transform's mark
    assert project_states(sqlite_stores, MODEL, "umap", cache).attrs["source"] == "cache"

    put_states(sqlite_stores, _states(11, seed=5, first=50))  # 21 placed rows > half of the 40 fitted: refit
    assert project_states(sqlite_stores, MODEL, "umap", cache).attrs["source"] == "fit"
    assert fake_umap.fits == [40, 61]

    changed = [(initial[0][0], initial[0][1], initial[0][2] + 1)]  # an old state's vector changed: refit
    put_states(sqlite_stores, changed + _states(1, seed=6, first=61))
    assert project_states(sqlite_stores, MODEL, "umap", cache).attrs["source"] == "fit"
    assert fake_umap.fits == [40, 61, 62]
    assert fake_umap.fitted_params[0] == {
        "n_components": 2,
        "random_state": None,
        "n_neighbors": 15,
        "min_dist": 0.1,
        "metric": "euclidean",  # the cosine map, fitted as euclidean on unit-length rows
        "init": "pca",
    }


def test_damaged_cache_files_are_recomputed(sqlite_stores: Stores, cache: Path, fake_umap: type[FakeUMAP]) -> None:
    put_states(sqlite_stores, _states(20, seed=7))
    project_states(sqlite_stores, MODEL, "umap", cache)
    (npz,) = cache.glob("*.npz")
    npz.write_bytes(b"not a zip file")
    assert project_states(sqlite_stores, MODEL, "umap", cache).attrs["source"] == "fit"
    (npz,) = cache.glob("*.npz")
    npz.write_bytes(npz.read_bytes()[:40])  # truncated mid-write by something other than this module
    assert project_states(sqlite_stores, MODEL, "umap", cache).attrs["source"] == "fit"
    (npz,) = cache.glob("*.npz")
    with np.load(npz) as data:  # an earlier format's file: nothing says which rows were fitted
        arrays = {name: data[name] for name in data.files if name != "fitted"}
    np.savez(npz, **arrays)
    put_states(sqlite_stores, _states(2, seed=8, first=20))
    assert project_states(sqlite_stores, MODEL, "umap", cache).attrs["source"] == "fit"  # cannot place: refit
    assert fake_umap.fits == [20, 20, 20, 22]
    for manifest in cache.glob("*.json"):
        manifest.write_text("{ half a manifest")
    assert project_states(sqlite_stores, MODEL, "umap", cache).attrs["source"] == "fit"


def test_concurrent_callers_share_one_consistent_cache(stores: Stores, cache: Path) -> None:
    put_states(stores, _states(30, seed=9))
    cache.mkdir()
    stem = maps._stem(stores, MODEL, "pca", maps.PCA_PARAMS)
    lost = [cache / f"{stem}-v0-deadbeef.npz", cache / f".{stem}-v0-cafe.npz.x1y2.tmp"]  # a crashed writer's
    in_flight = cache / f".{stem}-v1-f00d.npz.a1b2.tmp"  # another writer, mid-write right now
    for path in [*lost, in_flight]:
        path.write_bytes(b"")
    for path in lost:
        os.utime(path, (0, 0))
    with ThreadPoolExecutor(max_workers=4) as pool:
        frames = list(pool.map(lambda _: project_states(stores, MODEL, "pca", cache), range(6)))
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frame[["portfolio_id", "as_of_date"]], frames[0][["portfolio_id", "as_of_date"]])
        np.testing.assert_allclose(frame[["x", "y"]].to_numpy(), frames[0][["x", "y"]].to_numpy())
    assert not any(path.exists() for path in lost) and in_flight.exists()
    (manifest,) = cache.glob("*.json")
    assert project_states(stores, MODEL, "pca", cache).attrs["source"] == "cache"
    assert manifest.exists()


def test_empty_database_small_data_and_bad_arguments(stores: Stores, cache: Path, fake_umap: type[FakeUMAP]) -> None:
    for method in ("pca", "umap"):
        frame = project_states(stores, MODEL, method, cache)
        assert frame.empty and list(frame.columns) == ["portfolio_id", "as_of_date", "x", "y"]
        assert frame.attrs["source"] == "empty"
    put_states(stores, _states(1, seed=10))
    assert project_states(stores, MODEL, "pca", cache)[["x", "y"]].to_numpy().tolist() == [[0.0, 0.0]]
    put_states(stores, _states(2, seed=11, first=1))
    with pytest.raises(InvalidInput) as too_few:
        project_states(stores, MODEL, "umap", cache)
    assert str(too_few.value) == "a UMAP map needs at least 4 states, got 3"
    put_states(stores, _states(2, seed=12, first=3))
    assert project_states(stores, MODEL, "umap", cache).attrs["source"] == "fit"
    assert fake_umap.fitted_params[-1]["n_neighbors"] == 4  # capped below the number of states
    with pytest.raises(InvalidInput) as bad_method:
        project_states(stores, MODEL, "tsne", cache)
    assert str(bad_method.value) == "method must be 'pca' or 'umap', got 'tsne'"
    with pytest.raises(InvalidInput) as bad_params:
        project_states(stores, MODEL, "umap", cache, umap_params={"n_components": 3})
    assert str(bad_params.value) == "a map has 2 dimensions, got n_components=3"
    with pytest.raises(UnknownModel):
        project_states(stores, "joint-x", "pca", cache)


def test_pca_is_scikit_learns_including_the_signs() -> None:
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(5)
    matrix = (rng.normal(size=(500, 7)) * [5, 3, 2, 1, 1, 0.5, 0.1] + 3).astype(np.float32)
    expected = PCA(n_components=2, svd_solver="full").fit_transform(matrix.astype(np.float64))
    np.testing.assert_allclose(pca.fit_pca(matrix), expected, atol=1e-9)
    np.testing.assert_allclose(pca.fit_pca(-matrix), -expected, atol=1e-9)  # mirrored data, mirrored map
    one_column = pca.fit_pca(matrix[:, :1])  # one component, loading +1: the centred column itself
    np.testing.assert_allclose(one_column[:, 0], matrix[:, 0] - matrix[:, 0].astype(np.float64).mean(), atol=1e-5)
    assert (one_column[:, 1] == 0).all()
    assert (pca.fit_pca(np.ones((3, 4), np.float32)) == 0).all()  # no spread: every state at the origin


def test_a_cache_hit_reads_no_states(stores: Stores, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    put_states(stores, _states(12, seed=15))
    first = project_states(stores, MODEL, "pca", cache)

    def no_index(*args: object) -> None:
        raise AssertionError("a cache hit must not load the states")

    monkeypatch.setattr(maps, "load_index", no_index)
    again = project_states(stores, MODEL, "pca", cache)
    assert again.attrs["source"] == "cache"
    pd.testing.assert_frame_equal(again, first)
    put_states(stores, _states(1, seed=16, first=12))  # the data version moved: the states are needed again
    with pytest.raises(AssertionError, match="must not load"):
        project_states(stores, MODEL, "pca", cache)


def test_umap_fits_unit_rows_with_euclidean_and_a_pca_start(
    stores: Stores, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = Recording.seen
    seen.clear()
    monkeypatch.setattr(umap_fit, "new_umap", lambda params, extras: Recording(**params))
    states = _states(8, seed=17)
    states[3] = (states[3][0], states[3][1], np.zeros(384, np.float32))  # an all-zero state stays zero
    put_states(stores, states)
    project_states(stores, MODEL, "umap", cache)
    ((params, matrix),) = seen
    assert (params["metric"], params["init"], params["n_neighbors"]) == ("euclidean", "pca", 7)
    norms = np.linalg.norm(matrix, axis=1)
    np.testing.assert_allclose(np.delete(norms, 3), 1.0, rtol=1e-6)
    assert norms[3] == 0
    # the same neighbours as cosine: euclidean distance between unit rows is sqrt(2 - 2 cos)
    raw = np.vstack([v for *_, v in states]).astype(np.float64)
    unit = np.delete(raw, 3, axis=0) / np.linalg.norm(np.delete(raw, 3, axis=0), axis=1, keepdims=True)
    cosine_order = np.argsort(-(unit @ unit[0]))
    euclidean_order = np.argsort(np.linalg.norm(np.delete(matrix, 3, axis=0) - np.delete(matrix, 3, axis=0)[0], axis=1))
    assert cosine_order.tolist() == euclidean_order.tolist()

    seen.clear()  # an explicit metric is passed through untouched, rows as stored
    project_states(stores, MODEL, "umap", cache, umap_params={"metric": "manhattan", "init": "spectral"})
    ((params, matrix),) = seen
    assert (params["metric"], params["init"]) == ("manhattan", "spectral")
    np.testing.assert_array_equal(matrix, np.vstack([v for *_, v in states]))
    assert umap_fit.fit_params(umap_fit.UMAP_PARAMS, np.ones((10, 1)))["init"] == "random"  # PCA needs two columns


def test_an_earlier_versions_umap_cache_is_kept(sqlite_stores: Stores, cache: Path, fake_umap: type[FakeUMAP]) -> None:
    """Manifests written before the store id was recorded: the map is reused (placed), not refitted."""
    put_states(sqlite_stores, _states(20, seed=18))
    fitted = project_states(sqlite_stores, MODEL, "umap", cache)
    (manifest_path,) = cache.glob("*.json")
    manifest = json.loads(manifest_path.read_text())
    del manifest["store_id"]
    manifest["fingerprint"] = [20, "2026-01-01 00:00:00"]
    manifest_path.write_text(json.dumps(manifest))
    reused = project_states(sqlite_stores, MODEL, "umap", cache)
    assert (reused.attrs["source"], fake_umap.fits, fake_umap.transforms) == ("transform", [20], [])
    pd.testing.assert_frame_equal(reused[["x", "y"]], fitted[["x", "y"]])
    assert project_states(sqlite_stores, MODEL, "umap", cache).attrs["source"] == "cache"
