"""Helpers shared by test modules (a plain module: conftest.py files are not importable by name)."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path

from prometheus.config import Settings
from prometheus.services.backfill import BackfillRequest, backfill_joint, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.services.importing import import_report_file
from prometheus.store.stores import open_stores

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE_JSONL = PROJECT / "prometheus" / "samples" / "risk_reports.jsonl"
# CLI subprocesses get their own HOME, so a default store or cache never lands in the real one.
_HOME = tempfile.mkdtemp(prefix="prometheus-test-home-")


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")}
    env["PYTHONPATH"] = str(PROJECT)
    env["HOME"] = _HOME
    return env


def run_cli(name: str, *args: str, db_url: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m prometheus.scripts.NAME`` as a real subprocess."""
    command = [sys.executable, "-m", f"prometheus.scripts.{name}", *args]
    if db_url is not None:
        command += ["--db-url", db_url]
    return subprocess.run(command, capture_output=True, text=True, env=cli_env(), timeout=timeout, cwd=PROJECT)


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def invoke(
    name: str, *args: str, db_url: str | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the command ``prometheus.scripts.NAME`` in this process, as its ``__main__`` would.

    The same parser, the same error boundary and exit codes, stdout and stderr captured
    apart, the same environment a subprocess of :func:`run_cli` gets (``env`` added);
    about 100 times cheaper than a new interpreter, which re-imports numpy, pandas and
    SQLAlchemy every time. A few tests per command still run the real subprocess.
    """
    from prometheus.scripts._cli import run

    module = importlib.import_module(f"prometheus.scripts.{name}")
    argv = [*args, *(["--db-url", db_url] if db_url is not None else [])]
    out, err = io.StringIO(), io.StringIO()
    with _environment({**cli_env(), **(env or {})}), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = run(module.build_parser(), module.main, argv)
        except SystemExit as exit_:  # argparse: --help, usage errors
            code = exit_.code if isinstance(exit_.code, int) else 0
    command = ["python", "-m", f"prometheus.scripts.{name}", *argv]
    return subprocess.CompletedProcess(command, code, out.getvalue(), err.getvalue())


def fill_sample(url: str, *, backfill: DateSelection | None = None) -> None:
    """Import the sample reports (5 portfolios x 24 month-ends) and optionally backfill both models."""
    stores = open_stores(Settings(db_url=url))
    try:
        import_report_file(stores, SAMPLE_JSONL)
        if backfill is not None:
            request = BackfillRequest(backfill)
            backfill_numeric(stores, "num-portfolio-core-v1", request)
            backfill_joint(stores, "num-portfolio-core-v1", "joint-portfolio-core-v1", request)
    finally:
        stores.dispose()


ALL_SAMPLE_DATES = DateSelection(start=date(2024, 1, 1), end=date(2025, 12, 31))


def demo_cache(demo_db_url: str) -> Path:
    """The demo store's cache folder (its default: beside the file), filled while it was built (forecast book).

    Tests that read the demo book share it rather than each recomputing the same caches (~10 s each).
    """
    return Path(demo_db_url.removeprefix("sqlite:///")).parent / "cache"
