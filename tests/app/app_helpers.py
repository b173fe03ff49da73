"""Stores filled with the sample reports, and helpers shared by the job and page tests.

A plain module, not a conftest.py: a second conftest would replace the top-level
``conftest`` module that other test files import by name.
"""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from prometheus.jobs import Job, get_job
from prometheus.store.stores import Stores

PROJECT = Path(__file__).resolve().parents[2]
SAMPLE_JSONL = PROJECT / "prometheus" / "samples" / "risk_reports.jsonl"
NUMERIC = "num-portfolio-core-v1"
JOINT = "joint-portfolio-core-v1"
PF1 = "PORTFOLIO_CORE_US_EQ_001"


def wait_for_job(stores: Stores, job_id: str, timeout: float = 90.0) -> Job:
    """Poll like the page does until the job leaves queued/running."""
    deadline = time.monotonic() + timeout
    while True:
        job = get_job(stores, job_id)
        assert job is not None
        if not job.is_active:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job.status} after {timeout} s: {job.message}")
        time.sleep(0.2)


def shown(markdown: str) -> str:
    """What a reader sees of a Markdown source whose data parts were escaped (round 2: ids as plain text)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def plotly_values(data: Any) -> np.ndarray:
    """A Plotly array, plain or base64-typed (plotly >= 6 sends numeric arrays as {"dtype", "bdata", "shape"})."""
    if isinstance(data, dict) and "bdata" in data:
        flat = np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
        shape = [int(n) for n in str(data.get("shape", len(flat))).split(",")]
        return flat.reshape(shape)
    return np.asarray(data)
