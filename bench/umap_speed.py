"""The first UMAP map of the demo book, each step in a fresh process: cold fit, warm fit, reopen.

    python bench/umap_speed.py                                 # builds the demo book in a temporary folder
    python bench/umap_speed.py --db /path/demo.db              # an existing store (SQLite file)
    python bench/umap_speed.py --db ... --baseline-tree /path  # also the first fit of another checkout
    python bench/umap_speed.py --db ... --quality              # + share of 15 nearest neighbours kept

Every step is a new Python process (``--child``), as a background map job is:

1. first map, cold: an empty cache folder, so numba compiles umap's kernels (into
   ``<cache>/numba``) and the search index is read from the database;
2. first map again, warm: the map's files removed, numba's cache and the index kept
   (a second book, or the next data version that needs a refit);
3. reopen: the map is stored; a new process reads it (what a restarted app does);
4. optionally, steps 1 and 2 with another checkout (``--baseline-tree``), numba's cache in an
   empty folder of its own (without one it would find what earlier runs left beside umap's sources).

Wall times are the child's from its start (interpreter and imports included), peak
memory its maximum resident set; the stages are the map's own progress reports.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
MODEL = "joint-portfolio-core-v1"
STARTED = time.perf_counter()


def child(db: str, cache: str, out: str) -> None:
    """One map in this process; what happened goes to ``out`` as JSON."""
    from prometheus.config import Settings
    from prometheus.projection.maps import project_states
    from prometheus.store.stores import open_stores

    reports: list[tuple[float, int, int, str]] = []

    def progress(done: int, total: int, message: str) -> None:
        reports.append((time.perf_counter() - STARTED, done, total, message))

    from numba.core import event  # numba's own import reads no cache setting; umap's kernels are made later

    compiled: list[str] = []

    class Compiled(event.Listener):
        def on_start(self, e: event.Event) -> None:
            return None

        def on_end(self, e: event.Event) -> None:
            function = e.data["dispatcher"].py_func
            if (function.__module__ or "").startswith(("umap", "pynndescent")):
                compiled.append(function.__qualname__)

    stores = open_stores(Settings(db_url=f"sqlite:///{db}", cache_dir=Path(cache)))
    began = time.perf_counter()
    with event.install_listener("numba:compile", Compiled()):
        frame = project_states(stores, MODEL, method="umap", progress=progress)
    call = time.perf_counter() - began
    stores.dispose()
    fractions = [done / total for _, done, total, _ in reports if total > 0]
    import prometheus

    result = {
        "code": str(Path(prometheus.__file__).parent.parent),
        "source": frame.attrs.get("source"),
        "rows": len(frame),
        "call_s": call,
        "wall_s": time.perf_counter() - STARTED,
        "compiled": len(compiled),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "reports": reports,
        "monotone": all(b >= a for a, b in itertools.pairwise(fractions)),
        "last_fraction": fractions[-1] if fractions else None,
        "coords": frame[["x", "y"]].to_numpy().tolist() if os.environ.get("BENCH_KEEP_COORDS") else None,
    }
    Path(out).write_text(json.dumps(result))


def run_child(
    db: Path, cache: Path, tree: Path = PROJECT, keep_coords: bool = False, numba: Path | None = None
) -> dict[str, Any]:
    """One child process; ``numba`` names numba's cache folder for a checkout that does not choose one."""
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("NUMBA_CACHE_DIR", None)
    if numba is not None:
        env["NUMBA_CACHE_DIR"] = str(numba)
    if keep_coords:
        env["BENCH_KEEP_COORDS"] = "1"
    began = time.perf_counter()
    script = Path(__file__).resolve()
    subprocess.run(
        [sys.executable, str(script), "--child", str(db), str(cache), str(out)], check=True, env=env, cwd=tree
    )
    result: dict[str, Any] = json.loads(out.read_text())
    result["process_s"] = time.perf_counter() - began
    out.unlink()
    return result


def stages(result: dict[str, Any]) -> str:
    """Seconds spent in each reported stage (a stage ends when the next one's first report comes)."""
    spans: list[tuple[str, float]] = []
    previous_time, previous_label = 0.0, "start-up and imports"
    for at, _done, _total, message in result["reports"]:
        label = message.split(" epoch ")[0].rstrip(",") + " (epochs)" if " epoch " in message else message
        if label != previous_label:
            spans.append((previous_label, at - previous_time))
            previous_time, previous_label = at, label
    spans.append((previous_label, result["wall_s"] - previous_time))
    return "; ".join(f"{label.rstrip('…')} {seconds:.1f} s" for label, seconds in spans)


def kept_share(db: Path, cache: Path, coords: list[list[float]]) -> float:
    """Share of each state's 15 nearest neighbours (exact, unit rows) found among its 15 nearest on the map."""
    import faiss
    import numpy as np

    from prometheus.config import Settings
    from prometheus.projection.umap_fit import UMAP_PARAMS, umap_input
    from prometheus.search.loading import load_index
    from prometheus.store.stores import open_stores

    stores = open_stores(Settings(db_url=f"sqlite:///{db}", cache_dir=cache))
    data = np.ascontiguousarray(umap_input(np.asarray(load_index(stores, MODEL).matrix), UMAP_PARAMS))
    stores.dispose()

    def lists(rows: np.ndarray) -> list[set[int]]:
        index = faiss.IndexFlatL2(rows.shape[1])
        index.add(rows)
        _, found = index.search(rows, 16)
        return [set(r[r != i][:15].tolist()) for i, r in enumerate(found)]

    high, low = lists(data), lists(np.ascontiguousarray(coords, dtype=np.float32))
    return float(np.mean([len(a & b) / 15 for a, b in zip(high, low, strict=True)]))


def build_demo(folder: Path) -> Path:
    db = folder / "demo.db"
    env = {**os.environ, "PROMETHEUS_DB_URL": f"sqlite:///{db}", "PROMETHEUS_CACHE_DIR": str(folder / "build-cache")}
    subprocess.run([sys.executable, "-m", "prometheus.scripts.load_demo"], check=True, env=env, cwd=PROJECT)
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="an existing demo store (SQLite file); default: build one")
    parser.add_argument("--baseline-tree", type=Path, help="another checkout whose first fit to time alongside")
    parser.add_argument("--quality", action="store_true", help="also the share of 15 nearest neighbours kept")
    parser.add_argument("--out", type=Path, help="also write the table (markdown) here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="umap-bench-"))
    try:
        db = args.db or build_demo(work)
        cache = work / "cache"
        rows: list[tuple[str, dict[str, Any]]] = []
        cold = run_child(db, cache, keep_coords=args.quality)
        rows.append(("1. first map, fresh process, nothing cached (numba compiles)", cold))
        shutil.rmtree(cache / "projections")
        warm = run_child(db, cache, keep_coords=args.quality)
        rows.append(("2. first map again, fresh process, numba's cache warm", warm))
        reopen = run_child(db, cache)
        rows.append(("3. reopen the stored map, fresh process", reopen))
        if args.baseline_tree:  # numba's cache in an empty folder, or it finds what earlier runs left in site-packages
            numba = work / "baseline-numba"
            baseline = run_child(db, work / "baseline-cache", args.baseline_tree, args.quality, numba)
            rows.append((f"4. {args.baseline_tree}: first map, fresh process, nothing cached", baseline))
            shutil.rmtree(work / "baseline-cache" / "projections")
            again = run_child(db, work / "baseline-cache", args.baseline_tree, False, numba)
            rows.append((f"5. {args.baseline_tree}: first map again, fresh process, numba's cache warm", again))
        load = os.getloadavg()[0]
        lines = [
            "# UMAP map speed",
            "",
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.machine()}, {os.cpu_count()} cores, "
            f"load average {load:.1f}; `python bench/umap_speed.py {' '.join(sys.argv[1:])}`",
            "",
            f"{cold['rows']:,} states of {MODEL}.",
            "",
            "| step | source | process wall | map call | umap/pynndescent kernels compiled | peak memory "
            "| bar monotone, ends at |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, r in rows:
            lines.append(
                f"| {name} | {r['source']} | {r['process_s']:.1f} s | {r['call_s']:.2f} s | {r['compiled']} "
                f"| {r['peak_mb']:.0f} MB "
                f"| {r['monotone']}, {r['last_fraction']} |"
            )
        lines += ["", "Stages (from the map's progress reports):", ""]
        lines += [f"- {name}: {stages(r)}" for name, r in rows]
        if args.quality:
            lines += ["", "Share of each state's 15 nearest neighbours (exact) kept among its 15 nearest on the map:"]
            lines += [
                f"- {name}: {kept_share(db, cache, r['coords']):.3f}" for name, r in rows if r.get("coords") is not None
            ]
        text = "\n".join(lines) + "\n"
        print(text)
        if args.out:
            args.out.write_text(text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
    else:
        main()
