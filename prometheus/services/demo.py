"""Load the demo book: real prices -> 40 portfolios' weekly risk reports -> both backfills.

Idempotent: reports are upserted and unchanged embeddings are skipped, so a
second run writes nothing. A store that already holds this edition of the demo
book, untouched since, is recognised without rebuilding anything (the README's
app command runs this on every start: 1 s instead of about 18 s).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from prometheus.demo.portfolios import DEMO_PORTFOLIOS, load_demo_inputs
from prometheus.encoders.numeric import NUMERIC_PORTFOLIO_MODEL_ID
from prometheus.joint.models import JOINT_PORTFOLIO_MODEL_ID
from prometheus.joint.registry import joint_store
from prometheus.progress import Progress
from prometheus.risk import run_engine
from prometheus.services.backfill import BackfillRequest, BackfillSummary, backfill_joint, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.services.forecast_book import forecast_book
from prometheus.store.reports import REPORTS_VERSION
from prometheus.store.stores import Stores
from prometheus.store.values import VALUES_VERSION

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
    already_loaded: bool = False

    def line(self) -> str:
        if self.already_loaded:
            return (
                f"demo book: already in place and unchanged ({self.portfolios} portfolios, {self.reports} weekly "
                f"risk reports and their states); nothing written, {self.seconds:.1f} s"
            )
        return (
            f"demo book: {self.portfolios} portfolios, {self.reports} weekly risk reports; "
            f"{self.numeric.line()}; {self.joint.line()}; {self.seconds:.1f} s in all"
        )


# store_info key of the last complete demo load: its edition and the data stamps it left behind.
DEMO_MARK = "demo_book"
# What the demo book's rows are made from: its packaged prices and the code that turns them into
# reports and states. Another installed version of any of it is another edition, loaded in full.
_EDITION_SOURCES = ("demo", "risk", "encoders", "joint")


def demo_edition() -> str:
    """A digest of the demo's data files and the engine, encoder and joint-model code (about 10 ms)."""
    digest = hashlib.sha256()
    root = resources.files("prometheus")
    for package in _EDITION_SOURCES:
        folder = root.joinpath(package)
        for path in sorted(_files(folder), key=lambda p: p[0]):
            digest.update(path[0].encode())
            digest.update(path[1].read_bytes())
    return digest.hexdigest()[:20]


def _files(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in folder.iterdir():
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            if entry.name != "__pycache__":
                found.extend(_files(entry, f"{name}/"))
        elif entry.name.endswith((".py", ".csv")):
            found.append((name, entry))
    return found


def demo_in_place(stores: Stores, edition: str | None = None) -> bool:
    """Whether the store holds this edition of the demo book with nothing written to it since it was loaded."""
    return _reports_in_place(stores, edition or demo_edition()) is not None


def _reports_in_place(stores: Stores, edition: str) -> int | None:
    """The demo's report count recorded by its last complete load, if nothing was written since; else None."""
    mark = stores.runtime.info(DEMO_MARK)
    edition_and_stamps, _, reports = (mark or "").rpartition(" ")
    if not mark or edition_and_stamps != _demo_mark(stores, edition) or not reports.isdigit():
        return None
    return int(reports)


def _demo_mark(stores: Stores, edition: str) -> str:
    """The edition and the current stamps of everything a demo load writes (reports, values, both models' states)."""
    stamps = (
        stores.runtime.data_stamp(REPORTS_VERSION),
        stores.runtime.data_stamp(VALUES_VERSION),
        stores.numeric.data_stamp(NUMERIC_PORTFOLIO_MODEL_ID),
        joint_store(stores, JOINT_PORTFOLIO_MODEL_ID)[1].data_stamp(JOINT_PORTFOLIO_MODEL_ID),
    )
    # Hashed: store_info values are at most 200 characters, and four stamps take about 150.
    return f"{edition} {hashlib.sha256(' '.join(stamp.key for stamp in stamps).encode()).hexdigest()[:24]}"


def _step(progress: Progress | None, index: int, done: int = 0, total: int = 0) -> None:
    # One bar over all steps, in thousandths of a step; the message keeps the real counts.
    if progress:
        share = 1000 * done // total if total else 0
        counts = f": {done}/{total} dates" if total else ""
        message = f"step {index + 1}/{len(STEPS)}: {STEPS[index]}{counts}"
        progress(index * 1000 + share, len(STEPS) * 1000, message)


def load_demo(stores: Stores, progress: Progress | None = None) -> DemoSummary:
    """Build, store and embed the demo book; ``progress`` counts steps, the message names the current one."""

    def step(index: int, done: int = 0, total: int = 0) -> None:
        _step(progress, index, done, total)

    began = time.perf_counter()
    edition = demo_edition()
    in_place = _reports_in_place(stores, edition)
    if in_place is not None:
        return _already_loaded(stores, in_place, progress, began)
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
    # Recorded last: an interrupted load leaves no mark, so the next one runs in full.
    stores.runtime.set_info(DEMO_MARK, f"{_demo_mark(stores, edition)} {len(reports)}")
    if progress:
        progress(len(STEPS) * 1000, len(STEPS) * 1000, "demo book loaded")
    return DemoSummary(
        portfolios=len(DEMO_PORTFOLIOS),
        reports=len(reports),
        numeric=numeric,
        joint=joint,
        seconds=time.perf_counter() - began,
    )


def _already_loaded(stores: Stores, reports: int, progress: Progress | None, began: float) -> DemoSummary:
    """Nothing to write: the store holds this edition and nothing was written to it since."""
    _step(progress, len(STEPS) - 1)
    forecast_book(stores, JOINT_PORTFOLIO_MODEL_ID)  # from its cache unless the cache folder was cleared
    if progress:
        progress(len(STEPS) * 1000, len(STEPS) * 1000, "demo book already loaded")
    return DemoSummary(
        portfolios=len(DEMO_PORTFOLIOS),
        reports=reports,
        numeric=BackfillSummary(NUMERIC_PORTFOLIO_MODEL_ID, skipped=reports),
        joint=BackfillSummary(JOINT_PORTFOLIO_MODEL_ID, skipped=reports),
        seconds=time.perf_counter() - began,
        already_loaded=True,
    )
