"""Reading risk reports from JSON Lines and CSV files, with line-numbered errors.

A file is validated whole before anything is written: every bad row is
reported with its line number, and a file with bad rows imports nothing
unless the caller chooses to skip them.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from prometheus.errors import InvalidInput, InvalidReport, shown
from prometheus.reports import JSON_COLUMNS, NUMERIC_COLUMNS, REPORT_COLUMNS, RiskReport

REQUIRED_COLUMNS = ("portfolio_id", "as_of_date")
MAX_FILE_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ParsedReports:
    reports: list[RiskReport] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    lines: int = 0
    _seen: dict[tuple[str, date], int] = field(default_factory=dict, repr=False)

    def add(self, line: int, report: RiskReport) -> None:
        key = (report.portfolio_id, report.as_of_date)
        if key in self._seen:
            self.bad_rows.append(
                BadRow(
                    line, f"duplicate of line {self._seen[key]} ({report.portfolio_id} {report.as_of_date.isoformat()})"
                )
            )
            return
        self._seen[key] = line
        self.reports.append(report)


def parse_date(text: object, what: str = "date") -> date:
    if isinstance(text, date):
        return text
    if not isinstance(text, str):
        raise InvalidInput(f"{what} must be a YYYY-MM-DD string")
    try:
        if len(text.strip()) != 10:
            raise ValueError
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"invalid {what} {shown(text)}: use YYYY-MM-DD, e.g. 2025-01-31") from None


def _reject_constants(token: str) -> float:
    raise InvalidReport(f"{token} is not allowed; risk reports must hold finite numbers (or null)")


def _loads(text: str) -> Any:
    # json accepts NaN/Infinity by default; risk reports must not carry them.
    return json.loads(text, parse_constant=_reject_constants)


def _report_from_mapping(raw: dict[str, Any], numbers_as_text: bool) -> RiskReport:
    unknown = sorted(set(raw) - set(REPORT_COLUMNS) - {"created_at"})
    if unknown:
        raise InvalidReport(f"unknown column(s) {', '.join(unknown)}; expected {', '.join(REPORT_COLUMNS)}")
    missing = [c for c in REQUIRED_COLUMNS if raw.get(c) in (None, "")]
    if missing:
        raise InvalidReport(f"missing {', '.join(missing)}")
    values: dict[str, Any] = {}
    for column in JSON_COLUMNS:
        value = raw.get(column)
        if numbers_as_text and isinstance(value, str):
            value = None if value.strip() == "" else _loads(value)
        values[column] = value
    for column in NUMERIC_COLUMNS:
        value = raw.get(column)
        if numbers_as_text and isinstance(value, str):
            if value.strip() == "":
                value = None
            else:
                try:
                    value = float(value)
                except ValueError:
                    raise InvalidReport(f"{column} {shown(value)} is not a number") from None
                if not math.isfinite(value):
                    raise InvalidReport(f"{column} is {value}; NaN and infinity are not allowed")
        values[column] = value
    report_id = raw.get("report_id")
    return RiskReport.create(
        portfolio_id=raw.get("portfolio_id"),
        as_of_date=parse_date(raw.get("as_of_date"), "as_of_date"),
        report_id=report_id if report_id not in ("", None) else None,
        **values,
    )


def _parse_jsonl(text: str, parsed: ParsedReports) -> None:
    # JSON Lines separates records by "\n" (optionally "\r\n") only; splitlines() would also
    # split on "\r", "\x0b" or U+2028 inside a line and misnumber every later line.
    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.removesuffix("\r")
        parsed.lines = number
        if not line.strip():
            continue
        try:
            raw = _loads(line)
            if not isinstance(raw, dict):
                raise InvalidReport("each line must be one JSON object")
            parsed.add(number, _report_from_mapping(raw, numbers_as_text=False))
        except (ValueError, InvalidReport, InvalidInput) as exc:
            reason = f"not valid JSON ({exc})" if isinstance(exc, json.JSONDecodeError) else str(exc)
            parsed.bad_rows.append(BadRow(number, reason))


def _parse_csv(text: str, parsed: ParsedReports) -> None:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None:
        raise InvalidInput("the CSV file has no header row")
    missing = [c for c in REQUIRED_COLUMNS if c not in reader.fieldnames]
    if missing:
        raise InvalidInput(f"the CSV header lacks {', '.join(missing)}")
    for raw in reader:
        number = reader.line_num
        parsed.lines = number
        try:
            if None in raw:
                raise InvalidReport("more fields than header columns (quote JSON values)")
            parsed.add(number, _report_from_mapping(dict(raw), numbers_as_text=True))
        except (ValueError, InvalidReport, InvalidInput) as exc:
            reason = f"not valid JSON ({exc})" if isinstance(exc, json.JSONDecodeError) else str(exc)
            parsed.bad_rows.append(BadRow(number, reason))


def read_report_file(path: Path, file_format: str | None = None) -> ParsedReports:
    """Parse a whole file; bad rows are collected, not raised."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InvalidInput(f"{path} is larger than 2 GiB: split it")
    kind = file_format or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    if kind not in ("csv", "jsonl"):
        raise InvalidInput(f"unknown format {shown(kind)}: use csv or jsonl")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    if not text.strip():
        raise InvalidInput(f"{path} is empty: nothing to import")
    parsed = ParsedReports()
    if kind == "csv":
        _parse_csv(text, parsed)
    else:
        _parse_jsonl(text, parsed)
    parsed.bad_rows.sort(key=lambda b: b.line)
    return parsed
