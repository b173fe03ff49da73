"""UMAP maps: one monotone progress bar over the stages and epochs; numba's cache under the cache folder,
shared by processes; a stored map reopened identical and extended with new rows in new processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from service_helpers import MODEL, put_states, random_vectors
from tqdm.auto import tqdm

import prometheus.projection.umap_fit as umap_fit
from prometheus.config import Settings
from prometheus.projection import numba_cache
from prometheus.projection.maps import project_states
from prometheus.projection.umap_progress import STEPS, UmapBar
from prometheus.store.stores import Stores, open_stores

START = date(2021, 1, 29)
ROOT = Path(__file__).resolve().parents[2]


class EpochsUMAP:
    """Stands in for umap.UMAP: runs 7 "epochs" through the tqdm hook it was given, as umap-learn's layout does."""

    def __init__(self, params: dict[str, Any], extras: dict[str, Any]) -> None:
        self.extras = dict(extras)

    def set_params(self, **extras: Any) -> None:
        self.extras.update(extras)

    def fit_transform(self, matrix: np.ndarray) -> np.ndarray:
        indices, distances = self.extras["precomputed_knn"]
        assert (indices[:, 0] == np.arange(len(matrix))).all() and (distances[:, 0] == 0).all()
        for _ in tqdm(range(7), **self.extras["tqdm_kwds"]):
            pass
        return matrix[:, :2].astype(np.float64)


@pytest.fixture
def numba_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    """No numba cache folder chosen yet; whatever a test chooses is undone after it."""
    monkeypatch.delenv(numba_cache.ENV, raising=False)
    config = sys.modules.get("numba.core.config")
    if config is not None:
        monkeypatch.setattr(config, "CACHE_DIR", "")
    return config


def test_a_umap_fit_reports_one_monotone_bar_from_loading_to_ready(
    sqlite_stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, numba_env: Any
) -> None:
    stores = sqlite_stores
    monkeypatch.setattr(umap_fit, "new_umap", EpochsUMAP)
    vectors = random_vectors(30, seed=21)
    put_states(stores, [(f"P{i % 3}", START + timedelta(days=7 * (i // 3)), vectors[i]) for i in range(30)])
    reports: list[tuple[int, int, str]] = []
    project_states(stores, MODEL, "umap", tmp_path / "maps", progress=lambda *report: reports.append(report))
    assert {total for _, total, _ in reports} == {STEPS}
    done = [d for d, _, _ in reports]
    assert done == sorted(done) and done[0] == 0 and done[-1] == STEPS
    messages = [m for _, _, m in reports]
    assert messages[0] == "Loading the states…"
    assert messages[-1] == "UMAP map of 30 states ready"
    epochs = [m for m in messages if " epoch " in m]
    assert epochs[-1] == "Fitting UMAP on 30 states: laying out, epoch 7/7"
    stages = [m for m in messages if " epoch " not in m]
    assert stages[2:] == [
        "Finding each of 30 states' 15 nearest neighbours…",
        "Fitting UMAP on 30 states: neighbour graph and starting layout…",
        "Saving the map of 30 states…",
        "UMAP map of 30 states ready",
    ]
    assert stages[1] in ("Loading UMAP…", "Compiling UMAP (first use with this cache folder, about 30 s)…")
    # the epochs fill the bar between the stages around them
    epoch_done = [d for d, _, m in reports if " epoch " in m]
    assert epoch_done[0] >= done[messages.index(stages[3])] and epoch_done[-1] <= done[messages.index(stages[4])]


def test_the_bar_never_goes_back_and_reads_tqdms_counter() -> None:
    reports: list[tuple[int, int, str]] = []
    bar = UmapBar(lambda *report: reports.append(report))
    bar.stage(200, "graph")
    bar.stage(60, "an earlier stage named late")  # never backwards
    bar.label = "laying out,"
    stream = bar.tqdm_kwds()["file"]
    stream.write("\r3/10")
    stream.write("\r")  # tqdm clearing its line: no counter, no report
    assert reports == [
        (200, STEPS, "graph"),
        (200, STEPS, "an earlier stage named late"),
        (498, STEPS, "laying out, epoch 3/10"),
    ]
    UmapBar(None).finish("nobody listens")  # a map without a listener


def test_numbas_cache_goes_under_the_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, numba_env: Any
) -> None:
    config = numba_env
    assert numba_cache.use_numba_cache(tmp_path / "cache") == tmp_path / "cache" / "numba"
    assert os.environ[numba_cache.ENV] == str(tmp_path / "cache" / "numba") and (tmp_path / "cache" / "numba").is_dir()
    if config is not None:
        assert str(tmp_path / "cache" / "numba") == config.CACHE_DIR
    # the first folder of the process stays (kernels compiled already live there); one named by the environment wins
    assert numba_cache.use_numba_cache(tmp_path / "other") == tmp_path / "cache" / "numba"
    monkeypatch.delenv(numba_cache.ENV)
    (tmp_path / "a-file").write_text("not a folder")
    assert numba_cache.use_numba_cache(tmp_path / "a-file") is None  # unusable: numba compiles as before
    assert numba_cache.ENV not in os.environ


CHILD = """
import json, sys, time
from pathlib import Path
from numba.core import event
from prometheus.config import Settings
from prometheus.projection.maps import project_states
from prometheus.store.stores import open_stores

compiled = []
class Listener(event.Listener):
    def on_start(self, e): pass
    def on_end(self, e):
        function = e.data["dispatcher"].py_func
        compiled.append(f"{function.__module__}.{function.__qualname__}")

stores = open_stores(Settings(db_url=sys.argv[1], cache_dir=Path(sys.argv[2])))
reports = []
with event.install_listener("numba:compile", Listener()):
    frame = project_states(stores, "joint-portfolio-core-v1", "umap", progress=lambda *r: reports.append(r))
import os
print(json.dumps({
    "source": frame.attrs["source"],
    "keys": [[p, str(d)] for p, d in zip(frame["portfolio_id"], frame["as_of_date"])],
    "coords": frame[["x", "y"]].to_numpy().tolist(),
    "numba_cache": os.environ.get("NUMBA_CACHE_DIR"),
    "compiled": compiled,
    "done": [r[0] for r in reports if r[1] > 0],
    "messages": [r[2] for r in reports],
}))
"""


def _in_a_new_process(db_url: str, cache: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != numba_cache.ENV}
    run = subprocess.run(
        [sys.executable, "-c", CHILD, db_url, str(cache)], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


HOT_KERNELS = {"umap.umap_.smooth_knn_dist", "umap.layouts._optimize_layout_euclidean_single_epoch"}


@pytest.mark.slow
def test_a_real_map_across_processes_reopened_and_extended(sqlite_url: str, tmp_path: Path) -> None:
    """About a minute: the first process compiles umap's kernels into <cache>/numba, the later ones load them."""
    cache = tmp_path / "cache"
    stores = open_stores(Settings(db_url=sqlite_url, cache_dir=cache))
    centres = random_vectors(3, seed=22) * 4
    rng = np.random.default_rng(23)
    group = np.arange(330) % 3
    vectors = (centres[group] + rng.normal(size=(330, 384))).astype(np.float32)
    states = [(f"P{i % 10}", START + timedelta(days=7 * (i // 10)), vectors[i]) for i in range(330)]
    put_states(stores, states[:300])

    fitted = _in_a_new_process(sqlite_url, cache)
    assert fitted["source"] == "fit" and fitted["numba_cache"] == str(cache / "numba")
    assert any((cache / "numba").rglob("*.nbi")), "umap's kernels were kept on disk"
    assert fitted["done"] == sorted(fitted["done"]) and fitted["done"][-1] == STEPS
    assert "UMAP map of 300 states ready" in fitted["messages"]
    assert np.isfinite(np.array(fitted["coords"])).all()

    reopened = _in_a_new_process(sqlite_url, cache)  # a new process finds the stored map
    assert reopened["source"] == "cache" and reopened["compiled"] == []
    assert (reopened["keys"], reopened["coords"]) == (fitted["keys"], fitted["coords"])

    put_states(stores, states[300:])
    stores.dispose()
    placed = _in_a_new_process(sqlite_url, cache)
    assert placed["source"] == "transform" and len(placed["coords"]) == 330
    assert np.isfinite(np.array(placed["coords"])).all()
    assert not HOT_KERNELS & set(placed["compiled"]), "numba's cache served the kernels compiled by the first process"
    coords = {tuple(k): c for k, c in zip(placed["keys"], placed["coords"], strict=True)}
    before = {tuple(k): c for k, c in zip(fitted["keys"], fitted["coords"], strict=True)}
    assert all(coords[k] == c for k, c in before.items())  # the map does not move
    # each new state lands nearer the middle of its own group's fitted states than of the others'
    key = [(p, str(d)) for p, d, _ in states]
    old = np.array([before[key[i]] for i in range(300)])
    middles = np.array([old[group[:300] == g].mean(axis=0) for g in range(3)])
    for i in range(300, 330):
        distances = np.linalg.norm(middles - np.array(coords[key[i]]), axis=1)
        assert distances.argmin() == group[i]


def test_a_map_jobs_bar_runs_from_the_fit_to_the_colours(
    sqlite_stores: Stores, monkeypatch: pytest.MonkeyPatch, numba_env: Any
) -> None:
    from prometheus.services.maps import JOB_STEPS, MAP_SHARE, store_map

    monkeypatch.setattr(umap_fit, "new_umap", EpochsUMAP)
    vectors = random_vectors(12, seed=24)
    put_states(sqlite_stores, [(f"P{i % 3}", START + timedelta(days=7 * (i // 3)), vectors[i]) for i in range(12)])
    reports: list[tuple[int, int, str]] = []
    store_map(sqlite_stores, MODEL, "umap", lambda *report: reports.append(report))
    done = [d for d, _, _ in reports]
    assert {total for _, total, _ in reports} == {JOB_STEPS} and done == sorted(done)
    assert any(m.endswith("epoch 7/7") for _, _, m in reports)
    assert reports[-2][0] == MAP_SHARE and reports[-2][2] == "UMAP map of 12 states ready"
    assert reports[-1] == (MAP_SHARE, JOB_STEPS, "Reading the states' attributes for the map's colours…")
