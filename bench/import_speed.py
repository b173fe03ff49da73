"""Import speed and memory: ``import_risk_reports`` against a naive script, side by side in one run.

    python bench/import_speed.py                     # 50,000 reports, 5 runs each, SQLite and PostgreSQL
    python bench/import_speed.py --large 2000000     # also one import of 2M small reports (peak memory)
    python bench/import_speed.py --reports 5000 --runs 1 --no-postgres   # a smoke run

The naive script is what a person writes first: ``json.loads`` per line, every row in a
list, one ``executemany`` in one transaction (no validation). Each import runs in its own
process, turn about with the other, on a fresh store; reports/s counts the import itself
(the process's start-up and imports excluded), peak memory is the process's maximum
resident set (``wait4``). The table gives medians over the runs and the ratio.
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
from datetime import date, timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "tests"))

COLUMNS = (
    "report_id, portfolio_id, as_of_date, portfolio_value, cash, net_exposure, gross_exposure, leverage, "
    "risk_metrics, scenario_pnl, exposures_by_sector, exposures_by_factor, metadata, created_at"
)
UPDATE = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS.split(", ")[2:-1]) + ", report_id = excluded.report_id"
BLOCKS = ("risk_metrics", "scenario_pnl", "exposures_by_sector", "exposures_by_factor", "metadata")


def write_reports(path: Path, count: int, compact: bool = False) -> None:
    """``count`` synthetic reports as JSON Lines: full ones (about 1.3 KB, as a risk system
    exports them: 8 decimals) or compact ones (about 165 bytes: a few metrics, as in issue #14's
    2M-report file of 334 MB)."""
    import numpy as np

    from bench.synthetic import reports_in_chunks

    if compact:
        rng = np.random.default_rng(3)
        portfolios = max(1, count // 1000)
        with path.open("w") as out:
            for i in range(count):
                p, t = i % portfolios, i // portfolios
                day = (date(1990, 1, 5) + timedelta(weeks=t % 5000, days=t // 5000)).isoformat()
                vol, dd, beta = rng.random(3)
                out.write(
                    f'{{"portfolio_id": "PF_{p:06d}", "as_of_date": "{day}", "leverage": 1.0, "risk_metrics": '
                    f'{{"volatility_1m": {vol * 0.4:.6f}, "drawdown": {-dd * 0.3:.6f}, '
                    f'"beta_1y": {beta + 0.5:.6f}}}}}\n'
                )
        return
    portfolios = max(1, count // 500)
    dates = -(-count // portfolios)
    written = 0
    with path.open("w") as out:
        for chunk in reports_in_chunks(portfolios, dates):
            for r in chunk[: count - written]:
                doc = {
                    "portfolio_id": r.portfolio_id,
                    "as_of_date": r.as_of_date.isoformat(),
                    "portfolio_value": 1_000_000.0,
                    "cash": round(1 - (r.net_exposure or 1), 8),
                    "net_exposure": r.net_exposure,
                    "gross_exposure": r.gross_exposure,
                    "leverage": r.leverage,
                    **{b: _rounded(getattr(r, b)) for b in BLOCKS[:4]},
                    "metadata": {"source": "bench", "style": r.portfolio_id[-2:]},
                }
                out.write(json.dumps(doc) + "\n")
            written += len(chunk)
            if written >= count:
                return


def _rounded(block: dict[str, float | None]) -> dict[str, float | None]:
    return {k: None if v is None else round(v, 8) for k, v in block.items()}


# ---------------------------------------------------------------- the two importers, each in its own process


def child_ours(path: str, url: str) -> dict[str, float]:
    from prometheus.config import Settings
    from prometheus.services.importing import import_report_file
    from prometheus.store.stores import open_stores

    stores = open_stores(Settings(db_url=url))
    began = time.perf_counter()
    summary = import_report_file(stores, Path(path))
    seconds = time.perf_counter() - began
    stores.dispose()
    return {"reports": summary.imported, "seconds": seconds}


def child_naive(path: str, url: str) -> dict[str, float]:
    """json.loads per line, all rows in a list, one executemany in one transaction."""
    import uuid
    from datetime import UTC, datetime

    began = time.perf_counter()
    created = datetime.now(UTC)
    rows = []
    with open(path) as lines:
        for line in lines:
            r = json.loads(line)
            rows.append(
                (
                    r.get("report_id") or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{r['portfolio_id']}|{r['as_of_date']}")),
                    r["portfolio_id"],
                    r["as_of_date"],
                    *(r.get(c) for c in ("portfolio_value", "cash", "net_exposure", "gross_exposure", "leverage")),
                    *(json.dumps(r.get(b) or {}) for b in BLOCKS),
                    created if url.startswith("postgresql") else created.isoformat(" "),
                )
            )
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")  # the store's own settings, as a script using it would find them
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO portfolio_risk_reports ({COLUMNS}) VALUES ({', '.join('?' * 14)}) "
            f"ON CONFLICT (portfolio_id, as_of_date) DO UPDATE SET {UPDATE}",
            rows,
        )
        conn.execute("COMMIT")
    else:
        import psycopg
        import sqlalchemy as sa

        parsed = sa.make_url(url)
        with psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
            conn.cursor().executemany(
                f"INSERT INTO portfolio_risk_reports ({COLUMNS}) VALUES ({', '.join(['%s'] * 14)}) "
                f"ON CONFLICT (portfolio_id, as_of_date) DO UPDATE SET {UPDATE}",
                rows,
            )
    return {"reports": len(rows), "seconds": time.perf_counter() - began}


def measure(kind: str, path: Path, url: str) -> tuple[float, float]:
    """(reports/s, peak MB) of one import in a fresh process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")} | {"PYTHONPATH": str(PROJECT)}
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", kind, str(path), url], stdout=subprocess.PIPE, env=env, cwd=PROJECT
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{kind} import failed (exit {child.returncode})")
    result = json.loads(output)
    return result["reports"] / result["seconds"], usage.ru_maxrss / 1024


def fresh_store(url: str, work: Path, name: str) -> str:
    """An empty store with the schema in place (a new SQLite file, or a new PostgreSQL database)."""
    import sqlalchemy as sa

    from prometheus.config import Settings
    from prometheus.store.stores import open_stores

    if url.startswith("sqlite"):
        target = f"sqlite:///{work / f'{name}.db'}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{work / name}.db{suffix}").unlink(missing_ok=True)
    else:
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        target = sa.make_url(url).set(database=name).render_as_string(hide_password=False)
    open_stores(Settings(db_url=target)).dispose()
    return target


def compare(label: str, path: Path, url: str, work: Path, runs: int, rows: list[str]) -> None:
    results: dict[str, list[tuple[float, float]]] = {"ours": [], "naive": []}
    for run in range(runs):
        for kind in ("ours", "naive") if run % 2 == 0 else ("naive", "ours"):
            results[kind].append(measure(kind, path, fresh_store(url, work, f"bench_{kind}")))
            rate, peak = results[kind][-1]
            print(f"  {label} run {run + 1} {kind}: {rate:,.0f} reports/s, peak {peak:,.0f} MB", flush=True)
    ours = statistics.median(r for r, _ in results["ours"])
    naive = statistics.median(r for r, _ in results["naive"])
    ours_mb = statistics.median(m for _, m in results["ours"])
    naive_mb = statistics.median(m for _, m in results["naive"])
    spread = ", ".join(f"{r:,.0f}" for r, _ in sorted(results["ours"]))
    rows.append(f"| import_risk_reports ({label}) | {ours:,.0f} reports/s (runs: {spread}) | {ours_mb:,.0f} MB |")
    spread = ", ".join(f"{r:,.0f}" for r, _ in sorted(results["naive"]))
    rows.append(f"| naive script ({label}) | {naive:,.0f} reports/s (runs: {spread}) | {naive_mb:,.0f} MB |")
    rows.append(f"| ours / naive ({label}) | {ours / naive:.2f}x | {ours_mb / naive_mb:.2f}x |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--large", type=int, default=0, help="also import this many compact reports once (ours)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--out", type=Path, default=PROJECT / "bench" / "results" / "import-latest.md")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "FILE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, path, url = args.child
        print(json.dumps((child_ours if kind == "ours" else child_naive)(path, url)))
        return 0
    rows = ["| measure | reports/s (median) | peak memory (median) |", "| --- | --- | --- |"]
    with tempfile.TemporaryDirectory(prefix="prometheus-import-bench-") as tmp:
        work = Path(tmp)
        path = work / "reports.jsonl"
        write_reports(path, args.reports)
        size = path.stat().st_size
        print(f"{args.reports:,} reports, {size / 1e6:.0f} MB ({size / args.reports:,.0f} bytes a report)", flush=True)
        compare("SQLite", path, f"sqlite:///{work / 'unused.db'}", work, args.runs, rows)
        server = None
        if not args.no_postgres:
            sys.path.insert(0, str(PROJECT / "bench"))
            from run import postgres_url

            pg, server = postgres_url()
            if pg:
                compare("PostgreSQL", path, pg, work, args.runs, rows)
        if args.large:
            large = work / "large.jsonl"
            write_reports(large, args.large, compact=True)
            mb = large.stat().st_size / 1e6
            rate, peak = measure("ours", large, fresh_store(f"sqlite:///{work / 'unused.db'}", work, "large"))
            rows.append(
                f"| import_risk_reports, {args.large:,} compact reports ({mb:,.0f} MB), SQLite | "
                f"{rate:,.0f} reports/s (one run) | {peak:,.0f} MB |"
            )
            large.unlink()
        if server is not None:
            server.stop()  # type: ignore[attr-defined]
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    command = " ".join(argv if argv is not None else sys.argv[1:])
    head = (
        f"# Import benchmark\n\n{stamp}; {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}; `python bench/import_speed.py {command}`"
        f"\n\n{args.reports:,} reports, {size / 1e6:.0f} MB; medians of {args.runs} run(s) each, turn about.\n\n"
    )
    report = head + "\n".join(rows) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print("\n" + report + f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
