"""Importing risk-report files: streamed, checked, and all or nothing unless told to skip bad rows.

The file is read and checked a chunk at a time (in a second thread, while the database
writes the chunk before), every row going into one transaction; a bad row anywhere means
that transaction is rolled back at the end, after every bad row has been found. Memory
stays bounded at any file size: rows are never all held, and the keys that find duplicate
rows live in a temporary database (prometheus/store/key_ledger.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from prometheus.errors import InvalidReport
from prometheus.progress import Progress
from prometheus.report_files import BadRow, Chunk, ReportFile, duplicate_reason
from prometheus.report_rows import Row
from prometheus.store.key_ledger import KeyLedger
from prometheus.store.report_import import report_import
from prometheus.store.stores import Stores

MAX_LISTED_BAD_ROWS = 50  # in the one-line error
KEPT_BAD_ROWS = 1000  # remembered for display: the app's table, the skipped lines a CLI prints


class BadRows:
    """Every bad row counted; the first :data:`KEPT_BAD_ROWS` (by line) kept."""

    def __init__(self, keep: int = KEPT_BAD_ROWS) -> None:
        self.keep = keep
        self.count = 0
        self._rows: list[BadRow] = []

    def add(self, rows: list[BadRow]) -> None:
        self.count += len(rows)
        self._rows += rows
        if len(self._rows) > 2 * self.keep:
            self._rows = self.first()

    def first(self) -> list[BadRow]:
        return sorted(self._rows, key=lambda b: b.line)[: self.keep]


@dataclass
class FileCheck:
    """What a file holds: its good rows (counted), its bad ones, its portfolios and dates."""

    name: str
    reports: int = 0
    bad_count: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    portfolios: int = 0
    first_date: date | None = None
    last_date: date | None = None

    def add_dates(self, rows: list[Row]) -> None:
        if rows:
            low, high = min(r[3] for r in rows), max(r[3] for r in rows)
            self.first_date = low if self.first_date is None else min(self.first_date, low)
            self.last_date = high if self.last_date is None else max(self.last_date, high)

    def refusal(self) -> InvalidReport:
        listed = "; ".join(str(b) for b in self.bad_rows[:MAX_LISTED_BAD_ROWS])
        more = self.bad_count - min(len(self.bad_rows), MAX_LISTED_BAD_ROWS)
        tail = f"; and {more} more" if more > 0 else ""
        return InvalidReport(
            f"{self.name}: {self.bad_count} invalid row(s), nothing imported "
            f"(fix them or pass --skip-invalid): {listed}{tail}"
        )

    def describe(self) -> str:
        span = f", {self.first_date} to {self.last_date}" if self.first_date else ""
        bad = f"; {self.bad_count:,} invalid row(s)" if self.bad_count else ""
        return f"{self.reports:,} risk report(s) for {self.portfolios:,} portfolio(s){span}{bad}"


@dataclass(frozen=True)
class ImportSummary:
    imported: int
    skipped: list[BadRow]  # the first KEPT_BAD_ROWS, by line
    skipped_count: int = 0
    check: FileCheck | None = None

    def line(self) -> str:
        skipped = f", skipped {self.skipped_count} invalid row(s)" if self.skipped_count else ""
        return f"imported {self.imported} risk report(s){skipped}"


def _prefetched(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
    """Chunks read and checked one ahead, in a thread, while the caller writes the current one."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-read") as pool:
        upcoming = pool.submit(next, chunks, None)
        while (chunk := upcoming.result()) is not None:
            upcoming = pool.submit(next, chunks, None)
            yield chunk


def _checked(source: ReportFile, check: FileCheck, bad: BadRows, progress: Progress | None) -> Iterator[list[Row]]:
    """Each chunk's good rows, once repeated keys and report ids are set aside as bad rows."""
    ledger = KeyLedger()
    try:
        for chunk in _prefetched(source.chunks()):
            bad.add(chunk.bad)
            repeated_keys, repeated_ids = ledger.repeats(chunk.rows)
            rows = chunk.rows
            if repeated_keys or repeated_ids:
                rows = []
                for row in chunk.rows:
                    line = row[0]
                    if line in repeated_keys:
                        bad.add([BadRow(line, duplicate_reason(repeated_keys[line], row[2], row[3]))])
                    elif line in repeated_ids:
                        reason = f"report_id {row[1]!r} is already used by line {repeated_ids[line]}"
                        bad.add([BadRow(line, reason + "; give each report its own id, or leave it empty")])
                    else:
                        rows.append(row)
            check.reports += len(rows)
            check.add_dates(rows)
            if progress:
                progress(chunk.position, chunk.size, f"{check.reports:,} report(s) read, {bad.count:,} invalid")
            yield rows
        check.portfolios = ledger.portfolios()
    finally:
        ledger.close()
    check.bad_count = bad.count
    check.bad_rows = bad.first()


def check_report_file(
    path: Path, *, file_format: str | None = None, label: str | None = None, progress: Progress | None = None
) -> FileCheck:
    """Read and check a whole file, writing nothing: what an import of it would say."""
    source = ReportFile(path, file_format, label)
    check = FileCheck(source.name)
    for _ in _checked(source, check, BadRows(), progress):
        pass
    return check


def import_report_file(
    stores: Stores,
    path: Path,
    *,
    skip_invalid: bool = False,
    file_format: str | None = None,
    label: str | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import a JSON Lines or CSV file in one transaction; with bad rows, nothing (unless ``skip_invalid``)."""
    source = ReportFile(path, file_format, label)
    check = FileCheck(source.name)
    bad = BadRows()
    with report_import(stores.runtime) as writes:
        for rows in _checked(source, check, bad, progress):
            if bad.count and not skip_invalid:
                writes.abandon()  # keep reading to list every bad row; write nothing more
            writes.write(rows)
        if check.bad_count and not skip_invalid:
            raise check.refusal()
    return ImportSummary(imported=writes.written, skipped=check.bad_rows, skipped_count=check.bad_count, check=check)
