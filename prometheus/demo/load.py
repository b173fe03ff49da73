"""Load the demo book: real prices -> 40 portfolios' weekly risk reports -> both backfills.

Idempotent: reports are upserted and unchanged embeddings are skipped, so a
second run writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from prometheus.demo.portfolios import DEMO_PORTFOLIOS, load_demo_inputs
from prometheus.encoders.joint import JOINT_PORTFOLIO_MODEL_ID
from prometheus.encoders.numeric import NUMERIC_PORTFOLIO_MODEL_ID
from prometheus.risk import build_reports
from prometheus.services.backfill import BackfillRequest, BackfillSummary, backfill_joint, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.store.stores import Stores

# (step label, done, total): the CLI draws a bar, the app a progress widget.
DemoProgress = Callable[[str, int, int], None]
DEMO_FREQUENCY = "weekly"
STEPS = ("Reading prices", "Building risk reports", "Storing risk reports", "Numeric embeddings", "Joint embeddings")


@dataclass(frozen=True)
class DemoSummary:
    portfolios: int
    reports: int
    numeric: BackfillSummary
    joint: BackfillSummary
    seconds: float

    def line(self) -> str:
        return (
            f"demo book: {self.portfolios} portfolios, {self.reports} weekly risk reports; "
            f"{self.numeric.line()}; {self.joint.line()}; {self.seconds:.1f} s in all"
        )


def load_demo(stores: Stores, progress: DemoProgress | None = None) -> DemoSummary:
    def step(index: int, done: int = 0, total: int = 1) -> None:
        if progress:
            progress(STEPS[index], done, total)

    began = time.perf_counter()
    step(0)
    inputs = load_demo_inputs()
    step(1)
    reports = build_reports(inputs.prices, inputs.holdings, inputs.benchmark, inputs.sectors, frequency=DEMO_FREQUENCY)
    step(2)
    stores.reports.upsert(reports)
    days = sorted({r.as_of_date for r in reports})
    request = BackfillRequest(DateSelection(start=days[0], end=days[-1]))
    numeric = backfill_numeric(
        stores, NUMERIC_PORTFOLIO_MODEL_ID, request, progress=lambda done, total: step(3, done, total)
    )
    joint = backfill_joint(
        stores,
        NUMERIC_PORTFOLIO_MODEL_ID,
        JOINT_PORTFOLIO_MODEL_ID,
        request,
        progress=lambda done, total: step(4, done, total),
    )
    return DemoSummary(
        portfolios=len(DEMO_PORTFOLIOS),
        reports=len(reports),
        numeric=numeric,
        joint=joint,
        seconds=time.perf_counter() - began,
    )
