"""Importing risk-report files into the store: all or nothing, unless told to skip."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prometheus.errors import InvalidReport
from prometheus.report_files import BadRow, read_report_file
from prometheus.store.stores import Stores

MAX_LISTED_BAD_ROWS = 50


@dataclass(frozen=True)
class ImportSummary:
    imported: int
    skipped: list[BadRow]

    def line(self) -> str:
        skipped = f", skipped {len(self.skipped)} invalid row(s)" if self.skipped else ""
        return f"imported {self.imported} risk report(s){skipped}"


def import_report_file(
    stores: Stores, path: Path, *, skip_invalid: bool = False, file_format: str | None = None
) -> ImportSummary:
    parsed = read_report_file(path, file_format)
    if parsed.bad_rows and not skip_invalid:
        listed = "; ".join(str(b) for b in parsed.bad_rows[:MAX_LISTED_BAD_ROWS])
        more = len(parsed.bad_rows) - MAX_LISTED_BAD_ROWS
        tail = f"; and {more} more" if more > 0 else ""
        raise InvalidReport(
            f"{path.name}: {len(parsed.bad_rows)} invalid row(s), nothing imported "
            f"(fix them or pass --skip-invalid): {listed}{tail}"
        )
    imported = stores.reports.upsert(parsed.reports)
    return ImportSummary(imported=imported, skipped=parsed.bad_rows)
