"""Helpers shared by the service tests (importable: conftest.py is not, see its docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
from helpers import SAMPLE_JSONL

from prometheus.encoders.numeric import NUMERIC_PORTFOLIO_MODEL_ID
from prometheus.joint.models import JOINT_PORTFOLIO_MODEL_ID, PORTFOLIO_CORE_JOINT_TYPE
from prometheus.reports import RiskReport
from prometheus.services.backfill import BackfillRequest, backfill_joint, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.services.importing import import_report_file
from prometheus.store.embeddings import EmbeddingRecord, JointEmbeddingStore
from prometheus.store.stores import Stores
from prometheus.store.vector import Vector

MODEL = JOINT_PORTFOLIO_MODEL_ID
NUMERIC = NUMERIC_PORTFOLIO_MODEL_ID
PORTFOLIOS = tuple(f"PORTFOLIO_CORE_US_EQ_{i:03d}" for i in range(1, 6))
PF1 = PORTFOLIOS[0]


def backfill(stores: Stores, start: date, end: date) -> None:
    request = BackfillRequest(DateSelection(start=start, end=end))
    backfill_numeric(stores, NUMERIC, request)
    backfill_joint(stores, NUMERIC, MODEL, request)


def load_sample(stores: Stores, end: date = date(2025, 12, 31)) -> None:
    """Import the sample reports and embed those up to ``end``."""
    import_report_file(stores, SAMPLE_JSONL)
    backfill(stores, date(2024, 1, 1), end)


def store_reports(stores: Stores, reports: Sequence[RiskReport], *, embed: bool = True) -> None:
    """Write reports and (by default) run both backfills over their dates."""
    stores.reports.upsert(reports)
    if embed:
        days = [r.as_of_date for r in reports]
        backfill(stores, min(days), max(days))


def put_states(stores: Stores, states: Sequence[tuple[str, date, np.ndarray]]) -> None:
    """Joint states written directly (no report behind them)."""
    JointEmbeddingStore(stores.historical, PORTFOLIO_CORE_JOINT_TYPE).upsert(
        EmbeddingRecord(pid, day, MODEL, Vector(np.asarray(vector, dtype=np.float32)), {"source": NUMERIC})
        for pid, day, vector in states
    )


def random_vectors(n: int, seed: int = 0, dim: int = 384) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
