"""Risk-report files (JSON Lines, CSV) read as a stream of checked rows, with line-numbered errors.

A file is read a few MiB at a time and handed on in chunks of rows, so memory stays
bounded whatever its size (a whole-file read had peaked at 5.5 GB for 2M reports). Each
bad row becomes a :class:`BadRow` naming its line; what is written, and whether, is the
importer's decision (prometheus/services/importing.py): nothing, if any row is bad.
"""

from __future__ import annotations

import codecs
import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

import orjson

from prometheus.errors import InvalidInput, InvalidReport, shown
from prometheus.files import NotARegularFile, open_regular_file
from prometheus.report_rows import REQUIRED_COLUMNS, Row, RowBuilder, json_refusal, parse_date, report_from_row
from prometheus.reports import RiskReport

__all__ = ["BadRow", "Chunk", "ParsedReports", "ReportFile", "duplicate_reason", "parse_date", "read_report_file"]

READ_BYTES = 4 * 2**20
CHUNK_ROWS = 4096  # rows handed on at a time: about 6 MB of text for typical 1.3 KB reports
MAX_LINE_BYTES = 2**20  # a report is a few KB; a longer line is refused without being held whole
_BOM = codecs.BOM_UTF8
_CSV_FIELD_LIMIT = csv.field_size_limit()


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def duplicate_reason(first_line: int, portfolio_id: str, day: date) -> str:
    return f"duplicate of line {first_line} ({portfolio_id} {day.isoformat()})"


@dataclass
class Chunk:
    rows: list[Row]
    bad: list[BadRow]
    position: int  # bytes of the file read so far
    size: int  # the file's size in bytes


def _too_long(line: int) -> BadRow:
    return BadRow(line, f"longer than {MAX_LINE_BYTES // 2**20} MiB; a report is a few KB (one JSON object per line)")


def _csv_too_long(label: str, line: int) -> InvalidInput:
    return InvalidInput(
        f"{label} line {line}: longer than {MAX_LINE_BYTES // 2**20} MiB (is a quote left open?); nothing imported"
    )


class ReportFile:
    """One report file; :meth:`chunks` reads it from the start each time it is called."""

    def __init__(self, path: Path, file_format: str | None = None, label: str | None = None) -> None:
        self.path = path
        self.label = label or str(path)  # how messages name the file
        self.name = label or path.name
        self.kind = file_format or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
        if self.kind not in ("csv", "jsonl"):
            raise InvalidInput(f"unknown format {shown(self.kind)}: use csv or jsonl")

    def chunks(self) -> Iterator[Chunk]:
        try:
            handle = open_regular_file(self.path)
        except NotARegularFile as exc:
            raise InvalidInput(f"no such file: {self.label}" if exc.missing else f"{self.label} {exc.reason}") from None
        with handle:
            size = os.fstat(handle.fileno()).st_size
            produced = False
            for chunk in self._jsonl(handle, size) if self.kind == "jsonl" else self._csv(handle, size):
                produced = produced or bool(chunk.rows or chunk.bad)
                yield chunk
            if not produced:
                raise InvalidInput(f"{self.label} is empty: nothing to import")

    # ---------------------------------------------------------------- JSON Lines

    def _jsonl(self, handle: BinaryIO, size: int) -> Iterator[Chunk]:
        # Records are separated by "\n" only (optionally "\r\n"): splitting on "\r", "\x0b" or
        # U+2028 inside a line, as str.splitlines does, would misnumber every later line.
        builder, loads = RowBuilder(), orjson.loads
        from_line = builder.from_line
        rows: list[Row] = []
        bad: list[BadRow] = []
        number = 0
        position = 0  # the file offset of data[0]
        pending = b""
        skipping = False  # inside an over-long line, until its end
        first = True
        while True:
            block = handle.read(READ_BYTES)
            if first and block.startswith(_BOM):
                block, position = block[len(_BOM) :], len(_BOM)
            first = False
            at_end = not block
            if skipping and not at_end:
                cut = block.find(b"\n")
                if cut < 0:
                    position += len(block)
                    continue
                block, position, skipping = block[cut + 1 :], position + cut + 1, False
            data = pending + block if pending else block
            lines = data.split(b"\n")
            pending = b"" if at_end else lines.pop()
            start = position
            for raw in lines:
                number += 1
                if len(raw) > MAX_LINE_BYTES:
                    bad.append(_too_long(number))
                elif (row := from_line(number, raw)) is not None:
                    rows.append(row)
                else:
                    try:
                        rows.append(builder.from_object(number, loads(raw)))
                    except orjson.JSONDecodeError as exc:
                        text = self._decoded(raw, start).removesuffix("\r")
                        if text.strip():  # blank lines, Unicode blanks included, are skipped
                            bad.append(BadRow(number, json_refusal(text, exc)))
                    except (InvalidReport, InvalidInput) as exc:
                        bad.append(BadRow(number, str(exc)))
                start += len(raw) + 1
                if len(rows) >= CHUNK_ROWS:
                    yield Chunk(rows, bad, start, size)
                    rows, bad = [], []
            position = start
            if len(pending) > MAX_LINE_BYTES:
                number += 1
                bad.append(_too_long(number))
                position += len(pending)
                pending, skipping = b"", True
            if at_end:
                break
        if rows or bad:
            yield Chunk(rows, bad, position, size)

    def _decoded(self, raw: bytes, offset: int) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{self.label} is not UTF-8 text (byte {offset + exc.start}): save it as UTF-8"
            ) from None

    # ---------------------------------------------------------------- CSV

    def _csv(self, handle: BinaryIO, size: int) -> Iterator[Chunk]:
        lines = self._text_lines(handle)
        reader = csv.reader(lines)
        header = self._record(reader)
        while header == []:  # blank lines before the header
            header = self._record(reader)
        if header is None:
            return
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise InvalidInput(f"the CSV header lacks {', '.join(missing)}")
        builder = RowBuilder()
        rows: list[Row] = []
        bad: list[BadRow] = []
        while (cells := self._record(reader)) is not None:
            if not cells:
                continue
            try:
                rows.append(builder.from_cells(reader.line_num, header, cells))
            except (InvalidReport, InvalidInput) as exc:
                bad.append(BadRow(reader.line_num, str(exc)))
            if len(rows) >= CHUNK_ROWS:
                yield Chunk(rows, bad, lines.position, size)
                rows, bad = [], []
        if rows or bad:
            yield Chunk(rows, bad, lines.position, size)

    def _record(self, reader: Iterator[list[str]]) -> list[str] | None:
        try:
            return next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            line = getattr(reader, "line_num", 0)
            reason = (
                f"a field is longer than {_CSV_FIELD_LIMIT:,} characters (is a quote left open?)"
                if "field limit" in str(exc)
                else f"not valid CSV ({exc})"
            )
            raise InvalidInput(f"{self.label} line {line}: {reason}; nothing imported") from None

    def _text_lines(self, handle: BinaryIO) -> _TextLines:
        return _TextLines(handle, self.label)


class _TextLines:
    """The file's lines as text, each ending in "\\n" (csv.reader counts them), UTF-8 checked."""

    def __init__(self, handle: BinaryIO, label: str) -> None:
        self.handle = handle
        self.label = label
        self.position = 0
        self._lines = self._read()

    def __iter__(self) -> Iterator[str]:
        return self._lines

    def _read(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        pending = ""
        number = 0
        while True:
            block = self.handle.read(READ_BYTES)
            held = len(decoder.getstate()[0])
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                offset = self.position - held + exc.start
                raise InvalidInput(f"{self.label} is not UTF-8 text (byte {offset}): save it as UTF-8") from None
            self.position += len(block)
            parts = (pending + text).split("\n") if pending else text.split("\n")
            pending = parts.pop()
            for part in parts:
                number += 1
                if len(part) > MAX_LINE_BYTES:
                    raise _csv_too_long(self.label, number)
                yield part + "\n"
            if len(pending) > MAX_LINE_BYTES:
                raise _csv_too_long(self.label, number + 1)
            if not block:
                if pending:
                    yield pending
                return


@dataclass
class ParsedReports:
    reports: list[RiskReport] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)


def read_report_file(path: Path, file_format: str | None = None) -> ParsedReports:
    """A whole file as RiskReports, duplicates found in memory: for small files and tests (imports stream)."""
    parsed = ParsedReports()
    seen: dict[tuple[str, date], int] = {}
    for chunk in ReportFile(path, file_format).chunks():
        parsed.bad_rows += chunk.bad
        for row in chunk.rows:
            key = (row[2], row[3])
            if key in seen:
                parsed.bad_rows.append(BadRow(row[0], duplicate_reason(seen[key], *key)))
                continue
            seen[key] = row[0]
            parsed.reports.append(report_from_row(row))
    parsed.bad_rows.sort(key=lambda b: b.line)
    return parsed
