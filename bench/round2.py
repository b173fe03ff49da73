"""Round 2 figures: what proving a cache matches its database costs, and how long a reader waits for a writer.

    python bench/round2.py                       # both parts, this source tree
    python bench/round2.py --reader-tree /path   # also time the reader of another checkout (e.g. before the fix)

Part 1, the cache's proof: the stamp check (one primary-key read of data_versions, one of
data_version_log) against a row fingerprint computed in SQL (count and sum of revisions of one
model's rows, over the (model_id, revision) index), at 58k and 1M states (SQLite, keys only: the
vectors are not read by either query). Part 2: a process opens the store and runs
find_similar_portfolios while another connection holds SQLite's write lock (an import in the
middle of its transaction); the time to an answer (or to the error) is printed.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prometheus.config import Settings  # noqa: E402
from prometheus.store.embeddings import joint_version_name  # noqa: E402
from prometheus.store.stores import open_stores  # noqa: E402

MODEL = "joint-portfolio-core-v1"


def _keys_only_store(path: Path, states: int) -> str:
    """A store whose joint table holds ``states`` rows (tiny vectors: neither query reads them)."""
    url = f"sqlite:///{path}"
    stores = open_stores(Settings(db_url=url))
    stores.dispose()
    conn = sqlite3.connect(path)
    start = date(1990, 1, 5)
    rows = (
        (
            "PORTFOLIO_CORE_V0",
            (start + timedelta(days=7 * (i // 40))).isoformat(),
            "{}",
            f"PF_{i % 40:03d}_{i // 400_000}",
            MODEL,
            b"\0\0\0\0",
            1,
            "2025-01-01",
            1 + i // 20_000,
        )
        for i in range(states)
    )
    conn.executemany(
        "INSERT INTO joint_embeddings (joint_type, as_of_date, entity_scope, portfolio_id, model_id, vector, dim, "
        "created_at, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    versions = 1 + (states - 1) // 20_000
    name = joint_version_name(MODEL)
    conn.execute("INSERT INTO data_versions (name, version, stamp) VALUES (?, ?, 'b3e1')", (name, versions))
    conn.executemany(
        "INSERT INTO data_version_log (name, version, stamp) VALUES (?, ?, ?)",
        [(name, v, f"s{v}") for v in range(1, versions + 1)],
    )
    conn.commit()
    conn.close()
    return url


def _median_ms(action, repeats: int = 30) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def cache_proof(folder: Path) -> None:
    import sqlalchemy as sa

    from prometheus.store.schema import DataStamp

    print("| states | stamp check (version, stamp, history) | row fingerprint in SQL (count, sum of revisions) |")
    print("| --- | --- | --- |")
    for states in (58_000, 1_000_000):
        url = _keys_only_store(folder / f"keys-{states}.db", states)
        stores = open_stores(Settings(db_url=url))
        store = stores.joint("PORTFOLIO_CORE_V0")
        name = joint_version_name(MODEL)

        def stamp_check(store: Any = store) -> None:
            current = store.data_stamp(MODEL)
            store.had_stamp(MODEL, DataStamp(current.version - 1 or 1, "s1"))

        def fingerprint(stores: Any = stores) -> None:
            with stores.historical.read() as conn:
                conn.execute(
                    sa.text("SELECT count(*), sum(revision) FROM joint_embeddings WHERE model_id = :m"), {"m": MODEL}
                ).one()

        assert stores.historical.data_version(name) > 0
        print(f"| {states:,} | {_median_ms(stamp_check):.2f} ms | {_median_ms(fingerprint, 10):.1f} ms |")
        stores.dispose()


READER = """
import sys, time
began = time.perf_counter()
from prometheus.config import Settings
from prometheus.services.similar import SimilarQuery, find_similar
from prometheus.store.stores import open_stores
from datetime import date
try:
    stores = open_stores(Settings(db_url=sys.argv[1]))
    find_similar(stores, SimilarQuery("joint-portfolio-core-v1", "PF_000", date(2000, 1, 3), top_k=5))
    print(f"answered in {time.perf_counter() - began:.2f} s")
except Exception as exc:
    print(f"failed after {time.perf_counter() - began:.1f} s: {type(exc).__name__}: {str(exc).splitlines()[0][:90]}")
"""


def reader_under_writer(folder: Path, trees: list[Path]) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_index import _grid, _vectors, _write

    path = folder / "locked.db"
    stores = open_stores(Settings(db_url=f"sqlite:///{path}"))
    pids, days = _grid(40, 50)
    _write(stores, pids, days, _vectors(len(pids), 1))
    stores.dispose()
    for tree in trees:
        ready, done = threading.Event(), threading.Event()

        def hold(ready: threading.Event = ready, done: threading.Event = done) -> None:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO store_info (key, value) VALUES ('bench-lock', 'x')")
            ready.set()
            done.wait(120)
            conn.execute("ROLLBACK")
            conn.close()

        holder = threading.Thread(target=hold, daemon=True)
        holder.start()
        ready.wait(10)
        env = {**os.environ, "PYTHONPATH": str(tree)}
        result = subprocess.run(
            [sys.executable, "-c", READER, f"sqlite:///{path}"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tree,
            timeout=120,
        )
        done.set()
        holder.join(10)
        print(f"| {tree} | {result.stdout.strip() or result.stderr.strip().splitlines()[-1]} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader-tree", action="append", default=[], type=Path, help="another checkout to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        print("## The cache's proof\n")
        cache_proof(folder)
        print("\n## A reader while another process holds the write lock (SQLite, 2,000 states)\n")
        print("| source tree | find_similar from a new process (Python start-up included) |")
        print("| --- | --- |")
        reader_under_writer(folder, [*args.reader_tree, ROOT])


if __name__ == "__main__":
    main()
