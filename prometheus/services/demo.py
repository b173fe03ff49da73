"""Load the demo book: real prices -> 40 portfolios' weekly risk reports -> both backfills.

Idempotent: reports are upserted and unchanged embeddings are skipped, so a
second run writes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from prometheus.demo.portfolios import DEMO_PORTFOLIOS, load_demo_inputs
from prometheus.encoders.numeric import NUMERIC_PORTFOLIO_MODEL_ID
from prometheus.joint.models import JOINT_PORTFOLIO_MODEL_ID
from prometheus.progress import Progress
from prometheus.risk import run_engine
from prometheus.services.backfill import BackfillRequest, BackfillSummary, backfill_joint, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.services.forecast_book import forecast_book
from prometheus.store.stores import Stores

DEMO_FREQUENCY = "weekly"
STEPS = (
    "Reading prices",
    "Building risk reports",
    "Storing risk reports",
    "Numeric embeddings",
    "Joint embeddings",
    "Measuring the forecasts point in time",
)


SURVIVORSHIP_NOTE = (
    "The demo book's 20 stocks are today's survivors: they were chosen from names still listed in 2018, so "
    "its past holds none of the era's bankruptcies or delistings and looks better than a book an analyst "
    "could have picked on each date."
)


def holds_the_demo_book(portfolio_ids: list[str]) -> bool:
    """Whether a store holds the demo book's 40 portfolios (so its survivorship note applies)."""
    return {p.portfolio_id for p in DEMO_PORTFOLIOS} <= set(portfolio_ids)


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


def load_demo(stores: Stores, progress: Progress | None = None) -> DemoSummary:
    """Build, store and embed the demo book; ``progress`` counts steps, the message names the current one."""

    def step(index: int, done: int = 0, total: int = 0) -> None:
        # One bar over all steps, in thousandths of a step; the message keeps the real counts.
        if progress:
            share = 1000 * done // total if total else 0
            counts = f": {done}/{total} dates" if total else ""
            message = f"step {index + 1}/{len(STEPS)}: {STEPS[index]}{counts}"
            progress(index * 1000 + share, len(STEPS) * 1000, message)

    began = time.perf_counter()
    step(0)
    inputs = load_demo_inputs()
    step(1)
    output = run_engine(inputs.prices, inputs.holdings, inputs.benchmark, inputs.sectors, frequency=DEMO_FREQUENCY)
    reports = output.reports
    step(2)
    stores.reports.upsert(reports, values=output.values)
    days = sorted({r.as_of_date for r in reports})
    request = BackfillRequest(DateSelection(start=days[0], end=days[-1]))
    numeric = backfill_numeric(
        stores, NUMERIC_PORTFOLIO_MODEL_ID, request, progress=lambda done, total, _: step(3, done, total)
    )
    joint = backfill_joint(
        stores,
        NUMERIC_PORTFOLIO_MODEL_ID,
        JOINT_PORTFOLIO_MODEL_ID,
        request,
        progress=lambda done, total, _: step(4, done, total),
    )
    step(5)
    # The app shows every forecast beside its measured skill: measure it now, not on the first page view.
    forecast_book(stores, JOINT_PORTFOLIO_MODEL_ID)
    if progress:
        progress(len(STEPS) * 1000, len(STEPS) * 1000, "demo book loaded")
    return DemoSummary(
        portfolios=len(DEMO_PORTFOLIOS),
        reports=len(reports),
        numeric=numeric,
        joint=joint,
        seconds=time.perf_counter() - began,
    )
