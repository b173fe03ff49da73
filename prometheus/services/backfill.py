"""Backfills: risk reports -> numeric embeddings -> joint embeddings.

Dates are processed in chunks, each chunk one transaction, so a killed run
keeps whole chunks and a rerun completes the rest; identical states are
left untouched, so reruns write nothing.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from prometheus.encoders.numeric import EncodedBatch, Refusal, numeric_encoder
from prometheus.errors import InvalidInput, InvalidSetting, NoStateOnDate, Setting, shown
from prometheus.joint.models import JointExample
from prometheus.joint.registry import fitted_joint_model
from prometheus.joint.writer import JointWriter
from prometheus.lookup import describe_nearest, unknown_portfolios
from prometheus.progress import Progress
from prometheus.reports import RiskReport
from prometheus.services.dates import DateSelection
from prometheus.store.embeddings import EmbeddingBatch
from prometheus.store.stores import Stores

PROGRESS_UNIT = "date(s)"
# A run that wrote this many states refreshes the planner's statistics (PostgreSQL's ANALYZE).
REFRESH_STATISTICS_AFTER = 20_000


@dataclass
class BackfillSummary:
    model_id: str
    dates: int = 0
    written: int = 0
    skipped: int = 0
    refused: list[Refusal] = field(default_factory=list)
    left_out: dict[date, list[str]] = field(default_factory=dict)
    unknown_keys: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{self.model_id}: {self.dates} date(s), {self.written} state(s) written, "
            f"{self.skipped} skipped (unchanged), {len(self.refused)} refused, {self.seconds:.2f} s"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "model_id": self.model_id,
            "dates": self.dates,
            "written": self.written,
            "skipped": self.skipped,
            "refused": [f"{r.portfolio_id} {r.as_of_date}: {r.reason}" for r in self.refused],
            "left_out": sum(len(v) for v in self.left_out.values()),
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class BackfillRequest:
    dates: DateSelection
    portfolio_ids: tuple[str, ...] = ()
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise InvalidSetting(Setting("limit"), f" must be at least 1, got {self.limit}")
        if self.dates.is_empty:
            raise InvalidSetting(
                "no dates given: set ", Setting("as_of"), ", or ", Setting("start"), " and ", Setting("end")
            )


def _check_portfolios(requested: Sequence[str], known: Sequence[str], what: str) -> None:
    known_set = set(known)
    missing = [pid for pid in requested if pid not in known_set]
    if missing:
        raise unknown_portfolios(missing, what)


def _resolve_dates(available: list[date], selection: DateSelection, what: str) -> list[date]:
    if selection.as_of is not None:
        if selection.as_of not in set(available):
            raise NoStateOnDate(
                f"no {what} on {selection.as_of.isoformat()} ({describe_nearest(available, selection.as_of)})"
            )
        return [selection.as_of]
    start, end = selection.bounds()
    chosen = [d for d in available if (start is None or d >= start) and (end is None or d <= end)]
    if not chosen:
        raise NoStateOnDate(f"no {what} {selection.describe()}")
    return chosen


State = TypeVar("State", RiskReport, JointExample)


def _apply_limit(states: list[State], limit: int | None) -> tuple[list[State], dict[date, list[str]]]:
    """The states of the first ``limit`` portfolio ids per date (sorted), and the ids left out per date.

    Pure, so the encoder thread can call it without touching the shared summary.
    """
    if limit is None:
        return states, {}
    ids_by_date: dict[date, list[str]] = {}
    for state in states:
        ids_by_date.setdefault(state.as_of_date, []).append(state.portfolio_id)
    kept: dict[date, set[str]] = {}
    left_out: dict[date, list[str]] = {}
    for day, ids in ids_by_date.items():
        ordered = sorted(ids)
        if len(ordered) > limit:
            left_out[day] = ordered[limit:]
        kept[day] = set(ordered[:limit])
    return [s for s in states if s.portfolio_id in kept[s.as_of_date]], left_out


def _chunks(stores: Stores, days: list[date], portfolios: int) -> list[list[date]]:
    """Whole dates, about ``settings.backfill_chunk`` states each: one transaction per chunk (a killed
    run keeps whole chunks; large transactions keep commits off the hot path)."""
    size = max(1, stores.settings.backfill_chunk // max(1, portfolios))
    return [days[i : i + size] for i in range(0, len(days), size)]


def backfill_numeric(
    stores: Stores, model_id: str, request: BackfillRequest, progress: Progress | None = None
) -> BackfillSummary:
    encoder = numeric_encoder(model_id)
    began = time.perf_counter()
    summary = BackfillSummary(model_id=model_id)
    known = stores.reports.portfolio_ids()
    if request.portfolio_ids:
        _check_portfolios(request.portfolio_ids, known, "risk reports")
    portfolio_filter = list(request.portfolio_ids) or None
    days = _resolve_dates(stores.reports.dates(portfolio_ids=portfolio_filter), request.dates, "risk reports")
    summary.dates = len(days)

    def encode(chunk: list[date]) -> tuple[EncodedBatch, EmbeddingBatch, dict[date, list[str]]]:
        reports, left_out = _apply_limit(
            stores.reports.load_for_encoding(dates=chunk, portfolio_ids=portfolio_filter), request.limit
        )
        encoded = encoder.encode_batch(reports)
        batch = EmbeddingBatch(
            model_id,
            [r.portfolio_id for r in encoded.reports],
            [r.as_of_date for r in encoded.reports],
            encoded.matrix,
            encoded.window_specs(encoder.schema),
        )
        return encoded, batch, left_out

    done = 0
    chunks = _chunks(stores, days, len(portfolio_filter or known))
    # Reading and encoding the next chunk overlaps with writing this one: the
    # database driver releases the GIL while SQLite or PostgreSQL does the work.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="backfill-encode") as pool:
        upcoming = pool.submit(encode, chunks[0]) if chunks else None
        for index, chunk in enumerate(chunks):
            assert upcoming is not None
            encoded, batch, left_out = upcoming.result()
            upcoming = pool.submit(encode, chunks[index + 1]) if index + 1 < len(chunks) else None
            summary.left_out.update(left_out)
            summary.refused.extend(encoded.refused)
            for row_unknown in encoded.unknown:
                summary.unknown_keys.update(row_unknown)
            try:
                counts = stores.numeric.upsert_batches([batch])
            except BaseException:
                if upcoming is not None:
                    upcoming.cancel()
                raise
            summary.written += counts.written
            summary.skipped += counts.unchanged
            done += len(chunk)
            if progress:
                progress(done, len(days), PROGRESS_UNIT)
    if summary.written >= REFRESH_STATISTICS_AFTER:
        stores.numeric.refresh_statistics()
    summary.seconds = time.perf_counter() - began
    return summary


def backfill_joint(
    stores: Stores,
    numeric_model_id: str,
    joint_model_id: str,
    request: BackfillRequest,
    progress: Progress | None = None,
) -> BackfillSummary:
    model = fitted_joint_model(stores, joint_model_id)  # a fitted model without a stored fit: one clear error
    numeric_encoder(numeric_model_id)  # an unknown numeric model is an error, not an empty run
    if model.numeric_model_id != numeric_model_id:
        raise InvalidInput(
            f"joint model {shown(joint_model_id)} reads {shown(model.numeric_model_id)}, not {shown(numeric_model_id)}"
        )
    began = time.perf_counter()
    summary = BackfillSummary(model_id=joint_model_id)
    numeric = stores.numeric
    if request.portfolio_ids:
        _check_portfolios(
            request.portfolio_ids, numeric.portfolio_ids(numeric_model_id), f"{numeric_model_id} embeddings"
        )
    portfolio_filter = list(request.portfolio_ids) or None
    days = _resolve_dates(
        numeric.dates(numeric_model_id, portfolio_ids=portfolio_filter), request.dates, f"{numeric_model_id} embeddings"
    )
    summary.dates = len(days)
    writer = JointWriter(stores, model)
    portfolios = len(request.portfolio_ids) or len(numeric.portfolio_ids(numeric_model_id))
    done = 0
    for chunk in _chunks(stores, days, portfolios):
        if request.limit is None:
            result = writer.backfill_dates(chunk, portfolio_filter)
        else:
            examples, left_out = _apply_limit(writer.examples(chunk, portfolio_filter), request.limit)
            summary.left_out.update(left_out)
            result = writer.embed_and_store(examples)
        summary.written += result.written
        summary.skipped += result.unchanged
        done += len(chunk)
        if progress:
            progress(done, len(days), PROGRESS_UNIT)
    if summary.written >= REFRESH_STATISTICS_AFTER:
        writer.joint_store.refresh_statistics()
    summary.seconds = time.perf_counter() - began
    return summary
