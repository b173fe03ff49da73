"""Load test: N concurrent browser sessions on the Streamlit app, on localhost only.

    python bench/load_app.py --db-url sqlite:///$HOME/.prometheus/prometheus.db --sessions 8 --rounds 3

Starts `streamlit run app.py` on a free localhost port against the given
store (or uses --base-url), opens N sessions in Debian's Chromium at once,
and has each walk every page, including a deep-linked similar search per
session. Prints the page-load latencies (median, p95, max), the number of
pages that showed an exception or failed to render, and exits non-zero if
any did. Bounded: N sessions x rounds x pages, each with a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PAGES = ("overview", "backfill", "embeddings", "similar", "map", "drawdown")


@contextlib.contextmanager
def streamlit_app(
    db_url: str,
    home: Path,
    extra_env: dict[str, str] | None = None,
    script: str = "app.py",
    project: Path = PROJECT,
) -> Iterator[str]:
    """`streamlit run app.py` (or ``script``) on a free localhost port (``extra_env`` added to its environment);
    yields its base URL. The server's log is ``home``/streamlit.log (named after ``script`` when it is not app.py).
    ``project``: the checkout whose app runs (another worktree, to compare two versions in one run)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")}
    env.update(
        PROMETHEUS_DB_URL=db_url, PROMETHEUS_CACHE_DIR=str(home / "cache"), PYTHONPATH=str(project), HOME=str(home)
    )
    env.update(extra_env or {})
    log = (home / ("streamlit.log" if script == "app.py" else f"streamlit-{Path(script).stem}.log")).open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            script,
            "--server.port",
            str(port),
            "--server.address",
            "localhost",
            "--server.headless",
            "true",
        ],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("streamlit did not start; see " + str(log.name))
            time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def _session(browser, base: str, number: int, rounds: int, deep_link: str, outcome: Outcome) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    try:
        for _ in range(rounds):
            for name in PAGES:
                target = f"{base}/{name}" + (deep_link if name == "similar" else "")
                began = time.perf_counter()
                try:
                    await page.goto(target, wait_until="domcontentloaded", timeout=60_000)
                    await page.locator('[data-testid="stMainBlockContainer"] h1').first.wait_for(timeout=60_000)
                    await page.wait_for_function(
                        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=90_000
                    )
                    if name == "similar":
                        await page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
                    if await page.locator('[data-testid="stException"]').count():
                        outcome.failures.append(f"session {number}: exception on {name}")
                except Exception as exc:  # a timeout or a crash counts as a failed page, never aborts the run
                    outcome.failures.append(f"session {number}: {name}: {type(exc).__name__}")
                outcome.latencies.append(time.perf_counter() - began)
    finally:
        await context.close()


async def drive(base: str, sessions: int, rounds: int, deep_link: str) -> Outcome:
    from playwright.async_api import async_playwright

    outcome = Outcome()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await asyncio.gather(*(_session(browser, base, i, rounds, deep_link, outcome) for i in range(sessions)))
        finally:
            await browser.close()
    return outcome


def report(outcome: Outcome, sessions: int, rounds: int) -> str:
    ordered = sorted(outcome.latencies)
    p95 = ordered[max(0, int(0.95 * len(ordered)) - 1)] if ordered else float("nan")
    return (
        f"{sessions} concurrent sessions x {rounds} rounds x {len(PAGES)} pages = {len(ordered)} page loads; "
        f"median {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, max {max(ordered):.2f} s; "
        f"{len(outcome.failures)} failed"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-url", help="store to serve (the app is started here)")
    parser.add_argument("--base-url", help="an app already running on localhost")
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--deep-link",
        default="",
        help="query string for the similar page, e.g. '?portfolio=PORTFOLIO_CORE_US_EQ_001&date=2008-10-10'",
    )
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print("error: Chromium not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    if args.base_url:
        if not args.base_url.startswith(("http://localhost", "http://127.0.0.1")):
            print("error: load tests only target this machine (localhost)", file=sys.stderr)
            return 2
        outcome = asyncio.run(drive(args.base_url, args.sessions, args.rounds, args.deep_link))
    else:
        if not args.db_url:
            print("error: give --db-url or --base-url", file=sys.stderr)
            return 2
        with (
            tempfile.TemporaryDirectory(prefix="prometheus-load-") as home,
            streamlit_app(args.db_url, Path(home)) as base,
        ):
            outcome = asyncio.run(drive(base, args.sessions, args.rounds, args.deep_link))
    print(report(outcome, args.sessions, args.rounds))
    for failure in outcome.failures[:20]:
        print("  " + failure)
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main())
