"""Prometheus benchmarks: prints one table and writes it to bench/results/.

    python bench/run.py                      # 100k and 1M states (about 15-25 minutes)
    python bench/run.py --sizes 20000 --quick # a smoke run (about a minute)

Every comparison is measured in this run, on this machine, side by side:
our exact search against numpy flat, faiss flat (1 thread) and a per-row
Python loop over the same vectors; our backfill against one INSERT and one
COMMIT per row. Latencies are medians over repeated queries.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "tests"))

from bench.synthetic import reports_in_chunks  # noqa: E402
from prometheus.config import Settings  # noqa: E402
from prometheus.encoders.numeric import NumericPortfolioEncoder  # noqa: E402
from prometheus.search.exact import cosine_and_euclidean  # noqa: E402
from prometheus.search.loading import build_hnsw_graph, load_index  # noqa: E402
from prometheus.services.backfill import BackfillRequest, backfill_joint, backfill_numeric  # noqa: E402
from prometheus.services.dates import DateSelection  # noqa: E402
from prometheus.services.similar import SimilarQuery, nearest_states  # noqa: E402
from prometheus.store.embeddings import EmbeddingBatch, JointEmbeddingStore  # noqa: E402
from prometheus.store.stores import Stores, open_stores  # noqa: E402

NUMERIC = "num-portfolio-core-v1"
JOINT = "joint-portfolio-core-v1"


@dataclass
class Row:
    measure: str
    size: str
    value: str
    target: str = ""
    verdict: str = ""


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)

    def add(self, measure: str, size: int | str, value: str, target: str = "", met: bool | None = None) -> None:
        verdict = "" if met is None else ("met" if met else "NOT met")
        label = f"{size:,}" if isinstance(size, int) else size
        self.rows.append(Row(measure, label, value, target, verdict))
        print(f"  {measure} [{label}]: {value}" + (f"  (target {target}: {verdict})" if target else ""), flush=True)

    def markdown(self) -> str:
        lines = ["| measure | states | result | target | |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {r.measure} | {r.size} | {r.value} | {r.target} | {r.verdict} |" for r in self.rows]
        return "\n".join(lines)


def median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def grid(size: int) -> tuple[int, int]:
    """(portfolios, weekly dates) for a store of ``size`` states."""
    dates = 500 if size >= 100_000 else max(10, size // 200)
    return max(1, size // dates), dates


def store_reports(stores: Stores, size: int) -> float:
    portfolios, dates = grid(size)
    began = time.perf_counter()
    for chunk in reports_in_chunks(portfolios, dates, chunk_dates=max(1, 20_000 // portfolios)):
        stores.reports.upsert(chunk)
    return time.perf_counter() - began


def bench_backfill(table: Table, stores: Stores, size: int, label: str, target: float) -> float:
    """Store reports, run both backfills and a rerun; return the combined states/s."""
    seconds = store_reports(stores, size)
    table.add(f"store risk reports ({label})", size, f"{size / seconds:,.0f} reports/s")
    request = BackfillRequest(DateSelection(start=date(1900, 1, 1), end=date(2100, 1, 1)))
    numeric = backfill_numeric(stores, NUMERIC, request)
    joint = backfill_joint(stores, NUMERIC, JOINT, request)
    combined = numeric.written / (numeric.seconds + joint.seconds)
    table.add(f"numeric backfill ({label})", size, f"{numeric.written / numeric.seconds:,.0f} states/s")
    table.add(f"joint backfill ({label})", size, f"{joint.written / joint.seconds:,.0f} states/s")
    table.add(
        f"numeric + joint backfill ({label})",
        size,
        f"{combined:,.0f} states/s",
        f">= {target:,.0f} states/s",
        combined >= target,
    )
    rerun = backfill_numeric(stores, NUMERIC, request)
    table.add(
        f"numeric backfill rerun, nothing to write ({label})",
        size,
        f"{rerun.skipped / rerun.seconds:,.0f} states/s checked",
    )
    table.rows[-1].value += f"; {rerun.written} written"
    return combined


NAIVE_INSERT = (
    "INSERT INTO numeric_window_embeddings (entity_type, entity_id, window_spec, as_of_date, model_id, vector, dim, "
    "created_at) VALUES ('PORTFOLIO', {p}, '{{}}', {p}, 'naive', {p}, 384, CURRENT_TIMESTAMP)"
)


def naive_backfill_rate(url: str, states: int = 2000, sqlite_defaults: bool = True) -> float:
    """The original system's way: encode one report, INSERT it, COMMIT, next.

    On SQLite, ``sqlite_defaults`` keeps what a program gets from a plain
    connection (rollback journal, synchronous=FULL: every commit durable);
    otherwise the commits run under our WAL settings (synchronous=NORMAL, not
    durable per commit). PostgreSQL runs with its defaults in the benchmark.
    """
    stores = open_stores(Settings(db_url=url))  # creates the schema
    portfolios, dates = 40, max(1, states // 40)
    reports = [r for chunk in reports_in_chunks(portfolios, dates) for r in chunk]
    encoder = NumericPortfolioEncoder()
    if stores.historical.dialect == "sqlite":
        stores.dispose()
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=DELETE" if sqlite_defaults else "PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL" if sqlite_defaults else "PRAGMA synchronous=NORMAL")
        began = time.perf_counter()
        for report in reports:
            vector = encoder.encode(report)
            conn.execute("BEGIN")
            conn.execute(
                NAIVE_INSERT.format(p="?"), (report.portfolio_id, report.as_of_date.isoformat(), vector.tobytes())
            )
            conn.execute("COMMIT")
        rate = len(reports) / (time.perf_counter() - began)
        conn.close()
        return rate
    began = time.perf_counter()
    with stores.historical.engine.connect() as sa_conn:
        for report in reports:
            vector = encoder.encode(report)
            with sa_conn.begin():
                sa_conn.exec_driver_sql(
                    NAIVE_INSERT.format(p="%s"), (report.portfolio_id, report.as_of_date, vector.tobytes())
                )
    rate = len(reports) / (time.perf_counter() - began)
    stores.dispose()
    return rate


def write_floor_rate(stores: Stores, size: int) -> float:
    """States/s for the writes alone: precomputed vectors upserted, then the joint copy (no reports, no encoding)."""
    portfolios, dates = grid(size)
    rng = np.random.default_rng(3)
    days = [date(1995, 1, 6) + timedelta(weeks=i) for i in range(dates)]
    ids = [f"SYN_PF_{p:06d}" for p in range(portfolios)]
    per_chunk = max(1, 20_000 // portfolios)
    spec = {"feature_schema": "portfolio-core-features/v1", "dim": 384}
    batches = []
    for begin in range(0, dates, per_chunk):
        chunk = days[begin : begin + per_chunk]
        matrix = np.zeros((len(chunk) * portfolios, 384), dtype=np.float32)
        matrix[:, :41] = rng.standard_normal((len(chunk) * portfolios, 41))
        batches.append(
            EmbeddingBatch(NUMERIC, ids * len(chunk), [d for d in chunk for _ in ids], matrix, [spec] * len(matrix))
        )
    joint = JointEmbeddingStore(stores.historical, "PORTFOLIO_CORE_V0")
    began = time.perf_counter()
    for batch in batches:
        stores.numeric.upsert_batches([batch])
    for begin in range(0, dates, per_chunk):
        joint.copy_numeric(NUMERIC, JOINT, dates=days[begin : begin + per_chunk])
    return portfolios * dates / (time.perf_counter() - began)


def write_joint_store(stores: Stores, size: int) -> None:
    """A large store built fast: synthetic reports encoded in memory, joint rows bulk-written."""
    portfolios, dates = grid(size)
    encoder = NumericPortfolioEncoder()
    joint = JointEmbeddingStore(stores.historical, "PORTFOLIO_CORE_V0")
    for chunk in reports_in_chunks(portfolios, dates, chunk_dates=max(1, 50_000 // portfolios)):
        encoded = encoder.encode_batch(chunk)
        joint.upsert_batches(
            [
                EmbeddingBatch(
                    JOINT,
                    [r.portfolio_id for r in encoded.reports],
                    [r.as_of_date for r in encoded.reports],
                    encoded.matrix,
                    [
                        {
                            "entity_type": "PORTFOLIO",
                            "portfolio_id": r.portfolio_id,
                            "source": NUMERIC,
                            "as_of_date": r.as_of_date.isoformat(),
                        }
                        for r in encoded.reports
                    ],
                )
            ]
        )


def bench_search(table: Table, stores: Stores, url: str, size: int, quick: bool) -> None:
    began = time.perf_counter()
    index = load_index(stores, JOINT)
    table.add("index build from the store (first query, cold)", size, f"{time.perf_counter() - began:.2f} s")
    began = time.perf_counter()
    index = load_index(stores, JOINT)
    table.add("index load from the cache file", size, f"{(time.perf_counter() - began) * 1000:.0f} ms")
    rng = np.random.default_rng(1)
    queries = rng.integers(0, len(index), 15 if quick else 40)

    def query_for(row: int) -> SimilarQuery:
        return SimilarQuery(
            JOINT, str(index.portfolio_names[index.portfolio_codes[row]]), index.dates[row].astype(object), top_k=20
        )

    ours = statistics.median(median_ms(lambda r=r: nearest_states(index, query_for(int(r))), 3) for r in queries)
    table.add(
        "exact top-20, warm (ours: compacted float32 pass + float64 re-rank)",
        size,
        f"{ours:.1f} ms",
        "<= 50 ms" if size >= 1_000_000 else "",
        ours <= 50 if size >= 1_000_000 else None,
    )

    # Identical to the exact float64 answer over every candidate
    exact64 = index.matrix.astype(np.float64)
    mismatches = 0
    for r in queries[:10]:
        q = query_for(int(r))
        got = [(n.portfolio_id, n.as_of_date) for n in nearest_states(index, q).neighbours]
        cosine, euclidean = cosine_and_euclidean(exact64, exact64[int(r)])
        mask = index.portfolio_codes != index.portfolio_codes[int(r)]
        order = np.lexsort((index.dates, index.portfolio_codes, euclidean, -cosine))
        order = order[mask[order]][:20]
        want = [(index.portfolio_names[index.portfolio_codes[i]], index.dates[i].astype(object)) for i in order]
        mismatches += got != want
    table.add(
        "results identical to exact float64 (10 queries)",
        size,
        f"{10 - mismatches}/10 identical",
        "10/10",
        mismatches == 0,
    )
    del exact64

    full = np.zeros((len(index), index.dim), dtype=np.float32)
    full[:, index.active_columns] = index.matrix
    norms = np.linalg.norm(full, axis=1)
    normalised = full / np.where(norms > 0, norms, 1)[:, None]
    q = normalised[int(queries[0])]

    def numpy_flat() -> None:
        scores = normalised @ q
        np.argpartition(-scores, 20)[:20]

    numpy_ms = median_ms(numpy_flat, 7)
    table.add("numpy flat float32 384-d (matvec + argpartition)", size, f"{numpy_ms:.1f} ms")
    faiss_ms = None
    try:
        import faiss

        faiss.omp_set_num_threads(1)
        flat = faiss.IndexFlatIP(index.dim)
        flat.add(normalised)
        faiss_ms = median_ms(lambda: flat.search(q[None, :], 20), 7)
        table.add("faiss IndexFlatIP 384-d, 1 thread", size, f"{faiss_ms:.1f} ms")
    except ImportError:
        table.add("faiss IndexFlatIP", size, "faiss not installed")

    vectors = [normalised[i] for i in range(len(index))] if not quick or size <= 100_000 else []
    if vectors:
        began = time.perf_counter()
        scored = [(float(np.dot(v, q)), i) for i, v in enumerate(vectors)]
        scored.sort(reverse=True)
        loop_ms = (time.perf_counter() - began) * 1000
        table.add("naive per-row Python loop (one query)", size, f"{loop_ms:,.0f} ms")
        table.add("speed-up over the per-row loop", size, f"{loop_ms / ours:,.0f}x")
    table.add("ours vs numpy flat", size, f"{numpy_ms / ours:.1f}x faster")
    if faiss_ms:
        table.add("ours vs faiss flat (same run)", size, f"{faiss_ms / ours:.1f}x faster", "ahead", faiss_ms > ours)

    # Cold process, end to end: Python start-up, imports, store, cached index, search, CSV
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")} | {"PYTHONPATH": str(PROJECT)}
    row = int(queries[0])
    command = [
        sys.executable,
        "-m",
        "prometheus.scripts.find_similar_portfolios",
        "--portfolio-id",
        index.portfolio_names[index.portfolio_codes[row]],
        "--as-of",
        str(index.dates[row]),
        "--top-k",
        "20",
        "--db-url",
        url,
    ]
    walls = []
    for _ in range(3 if quick else 5):
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        walls.append(time.perf_counter() - began)
        assert done.returncode == 0, done.stderr
    cold = statistics.median(walls)
    table.add(
        "find_similar_portfolios CLI, cold process (median)",
        size,
        f"{cold:.2f} s",
        "<= 1.5 s" if size >= 1_000_000 else "",
        cold <= 1.5 if size >= 1_000_000 else None,
    )

    probe = (
        "import sys; sys.path.insert(0, sys.argv[2]);"
        "from prometheus.config import Settings; from prometheus.store.stores import open_stores;"
        "from prometheus.search.loading import load_index;"
        "from prometheus.services.similar import SimilarQuery, nearest_states;"
        "s = open_stores(Settings(db_url=sys.argv[1])); i = load_index(s, 'joint-portfolio-core-v1');"
        "[nearest_states(i, SimilarQuery('joint-portfolio-core-v1', i.portfolio_names[i.portfolio_codes[r]],"
        " i.dates[r].astype(object), top_k=20)) for r in range(0, len(i), max(1, len(i) // 20))];"
        # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across execve, so a child of this
        # multi-GB benchmark process would report the parent's peak.
        "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')))"
    )
    rss = subprocess.run(
        [sys.executable, "-c", probe, url, str(PROJECT)], capture_output=True, text=True, env=env, check=True
    )
    peak_mb = int(rss.stdout.strip()) / 1024
    table.add(
        "search service peak RSS (load + 20 queries)",
        size,
        f"{peak_mb:,.0f} MB",
        "< 2,048 MB" if size >= 1_000_000 else "",
        peak_mb < 2048 if size >= 1_000_000 else None,
    )

    if quick and size < 100_000:
        return
    try:
        began = time.perf_counter()
        _, searcher = build_hnsw_graph(stores, JOINT)
        table.add("HNSW build (faiss, M=32, efConstruction=80)", size, f"{time.perf_counter() - began:.0f} s")
        recalls, latencies = [], []
        for r in queries:
            q = query_for(int(r))
            exact = {(n.portfolio_id, n.as_of_date) for n in nearest_states(index, q).neighbours}
            began = time.perf_counter()
            approx = nearest_states(index, q, searcher)
            latencies.append((time.perf_counter() - began) * 1000)
            recalls.append(len(exact & {(n.portfolio_id, n.as_of_date) for n in approx.neighbours}) / 20)
        recall, p50 = float(np.mean(recalls)), statistics.median(latencies)
        table.add("approximate top-20 recall@20 after re-ranking", size, f"{recall:.3f}", ">= 0.99", recall >= 0.99)
        table.add("approximate top-20 p50 latency", size, f"{p50:.2f} ms", "< 5 ms", p50 < 5)
    except ImportError:
        table.add("approximate mode", size, "faiss not installed")


def bench_maps(table: Table, stores: Stores, size: int, with_umap: bool) -> None:
    """The map page's data path: projection and the per-state attributes it colours by, both cached on disk."""
    from prometheus.projection.maps import project_states
    from prometheus.services.attributes import cached_state_attributes

    cache = stores.settings.effective_cache_dir
    began = time.perf_counter()
    project_states(stores, JOINT, method="pca", cache_dir=cache)
    pca = time.perf_counter() - began
    table.add(
        "map: PCA projection, first time",
        size,
        f"{pca:.2f} s",
        "< 1 s" if size == 100_000 else "",
        pca < 1 if size == 100_000 else None,
    )
    # The attributes come from the risk reports, which the search store above does not hold.
    store_reports(stores, size)
    began = time.perf_counter()
    cached_state_attributes(stores, JOINT)
    table.add(
        "map: state attributes from the reports, first time (once per data version)",
        size,
        f"{time.perf_counter() - began:.2f} s",
    )

    def page(method: str) -> None:  # what the map page reads; both from their cache files, as after a restart
        cached_state_attributes(stores, JOINT)
        project_states(stores, JOINT, method=method, cache_dir=cache)

    page_data = median_ms(lambda: page("pca"), 5) / 1000
    table.add("map page data (attributes + cached PCA), median of 5", size, f"{page_data:.2f} s")
    if not with_umap:
        return
    began = time.perf_counter()
    project_states(stores, JOINT, method="umap", cache_dir=cache)
    table.add("map: UMAP fit, first time (incl. numba compile)", size, f"{time.perf_counter() - began:.0f} s")
    reopen = median_ms(lambda: page("umap"), 5) / 1000
    table.add("map page again after the UMAP fit, median of 5", size, f"{reopen:.2f} s", "< 1 s", reopen < 1)


def postgres_url() -> tuple[str | None, object | None]:
    if os.environ.get("PROMETHEUS_BENCH_PG_URL"):
        return os.environ["PROMETHEUS_BENCH_PG_URL"], None
    import pg_server

    try:
        server = pg_server.start_server(durable=True)
    except pg_server.PostgresUnavailable as exc:
        print(f"  PostgreSQL benchmarks skipped: {exc}")
        return None, None
    return server.url(), server


def _backfill_section(table: Table, work: Path, backfill_size: int, no_postgres: bool, quick: bool = False) -> None:
    # The naive baseline is bound by one fsync per commit (about 17 ms here): 2,000 rows take 35 s of
    # waiting; a smoke run measures the same rate on 200.
    naive_states = 200 if quick else 2000
    url = f"sqlite:///{work / 'backfill.db'}"
    stores = open_stores(Settings(db_url=url, cache_dir=work / "cache-backfill"))
    sqlite_combined = bench_backfill(table, stores, backfill_size, "SQLite", 50_000)
    stores.dispose()
    floor_stores = open_stores(Settings(db_url=f"sqlite:///{work / 'floor.db'}"))
    floor = write_floor_rate(floor_stores, backfill_size)
    floor_stores.dispose()
    table.add(
        "writes alone: precomputed vectors, numeric upsert + joint copy (SQLite)",
        backfill_size,
        f"{floor:,.0f} states/s",
    )
    naive = naive_backfill_rate(f"sqlite:///{work / 'naive.db'}", naive_states)
    naive_wal = naive_backfill_rate(f"sqlite:///{work / 'naive-wal.db'}", naive_states, sqlite_defaults=False)
    table.add(
        "naive: encode + INSERT + COMMIT per row (SQLite defaults, durable commits)",
        naive_states,
        f"{naive:,.0f} states/s",
    )
    table.add("naive, same under our WAL settings (synchronous=NORMAL)", naive_states, f"{naive_wal:,.0f} states/s")
    table.add(
        "ours vs naive (SQLite defaults)",
        "",
        f"{sqlite_combined / naive:,.0f}x",
        ">= 100x",
        sqlite_combined / naive >= 100,
    )
    table.add("ours vs naive under our WAL settings (SQLite)", "", f"{sqlite_combined / naive_wal:,.1f}x")
    if not no_postgres:
        pg, server = postgres_url()
        if pg:
            try:
                pg_stores = open_stores(Settings(db_url=pg, cache_dir=work / "cache-pg"))
                pg_combined = bench_backfill(table, pg_stores, backfill_size, "PostgreSQL", 40_000)
                with pg_stores.historical.write() as conn:
                    conn.exec_driver_sql("TRUNCATE numeric_window_embeddings, joint_embeddings")
                pg_floor = write_floor_rate(pg_stores, backfill_size)
                table.add(
                    "writes alone: precomputed vectors, numeric upsert + joint copy (PostgreSQL)",
                    backfill_size,
                    f"{pg_floor:,.0f} states/s",
                )
                pg_stores.dispose()
                naive_pg = naive_backfill_rate(pg, naive_states)
                table.add(
                    "naive: encode + INSERT + COMMIT per row (PostgreSQL defaults, durable commits)",
                    naive_states,
                    f"{naive_pg:,.0f} states/s",
                )
                table.add(
                    "ours vs naive (PostgreSQL)",
                    "",
                    f"{pg_combined / naive_pg:,.0f}x",
                    ">= 100x",
                    pg_combined / naive_pg >= 100,
                )
            finally:
                if server is not None:
                    server.stop()  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--quick", action="store_true", help="fewer repeats; no UMAP, no HNSW below 100k")
    parser.add_argument("--no-umap", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--skip-backfill", action="store_true", help="only the search and map measures")
    parser.add_argument(
        "--backfill-only", action="store_true", help="only the backfill measures (at the smallest size)"
    )
    parser.add_argument("--out", type=Path, default=PROJECT / "bench" / "results" / "latest.md")
    args = parser.parse_args(argv)
    table = Table()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="prometheus-bench-") as tmp:
        work = Path(tmp)
        backfill_size = min(args.sizes)
        if not args.skip_backfill:
            _backfill_section(table, work, backfill_size, args.no_postgres, quick=args.quick)
        for size in [] if args.backfill_only else args.sizes:
            url = f"sqlite:///{work / f'search-{size}.db'}"
            stores = open_stores(Settings(db_url=url))
            began = time.perf_counter()
            write_joint_store(stores, size)
            table.add("build synthetic joint store (encode + bulk write)", size, f"{time.perf_counter() - began:.0f} s")
            bench_search(table, stores, url, size, args.quick)
            if size <= 100_000:
                bench_maps(table, stores, size, with_umap=not (args.quick or args.no_umap))
            stores.dispose()
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    report = (
        f"# Benchmark results\n\n{stamp}; {platform.machine()}, {os.cpu_count()} cores; "
        f"`python bench/run.py {' '.join(argv if argv is not None else sys.argv[1:])}`\n\n{table.markdown()}\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    (args.out.with_suffix(".json")).write_text(json.dumps([r.__dict__ for r in table.rows], indent=1))
    print("\n" + table.markdown())
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
