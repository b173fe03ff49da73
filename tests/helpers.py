"""Helpers shared by test modules (a plain module: conftest.py files are not importable by name)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

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
