"""A risk report as the row the store writes, built from parsed JSON or CSV values: fast, and exact.

An import checks every row of a file of any size, so the rules of :meth:`RiskReport.create`
(the one home of the rules and their messages) are applied here first in the cheap form a
good row needs: type sets, and caches of accepted ids, dates and keys. A JSON line is first
offered to a compiled decoder with the types built in (:meth:`RowBuilder.from_line`), which
only ever declines. Anything unusual goes to ``RiskReport.create``, which accepts it or says
why not; property tests check that all ways give the same row. Rows are plain tuples (see
:data:`ROW_FIELDS`).
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import Annotated, Any

import msgspec
import orjson

from prometheus.errors import InvalidInput, InvalidReport, shown
from prometheus.reports import (
    JSON_COLUMNS,
    MAX_JSON_DEPTH,
    MAX_PORTFOLIO_ID_LENGTH,
    MAX_REPORT_ID_LENGTH,
    NUMERIC_COLUMNS,
    REPORT_COLUMNS,
    RiskReport,
    date_out_of_range,
    default_report_id,
)

REQUIRED_COLUMNS = ("portfolio_id", "as_of_date")
# line, report_id, portfolio_id, as_of_date (a date), the numbers, the JSON blocks as text, and
# whether the file named the report_id (generated ids cannot clash with each other).
ROW_FIELDS = ("line", "report_id", "portfolio_id", "as_of_date", *NUMERIC_COLUMNS, *JSON_COLUMNS, "explicit_id")
Row = tuple[Any, ...]

_ALLOWED = frozenset(REPORT_COLUMNS) | {"created_at"}  # created_at is accepted and ignored
_BLOCKS = tuple(c for c in JSON_COLUMNS if c != "metadata")
_NUMBER_TYPES = frozenset({float, int, type(None)})
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_COLUMN = re.compile(r"column (\d+)")
_CACHE_LIMIT = 20_000  # accepted ids, dates and keys remembered (a few MB); past this, each is checked again


# The compiled fast path for a JSON line: msgspec decodes it straight into typed fields, checking
# the JSON types in C (3.9 us for a 1.4 KB report, against 5.8 us for orjson.loads and then the
# type checks of RowBuilder._fast). It only ever declines a line to the orjson path, never refuses
# one, so every message stays the orjson path's. It must accept nothing orjson refuses and read
# nothing otherwise:
# - integers: orjson reads those beyond 64 bits as floats (beyond 1.8e308: refused), msgspec as
#   ints; the int64 bound (msgspec's widest) sends them to the orjson path, even when a later
#   duplicate key would replace them;
# - metadata: flat (text, numbers, true/false, null) is typed; nested stays raw text, which msgspec
#   skips without checking it (UTF-8, huge numbers), and orjson reads it: that is exact only if
#   the key occurs once (see from_line);
# - created_at (accepted, ignored) must be text here: msgspec checks every occurrence of a typed key.
_Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
_Block = dict[str, _Int64 | float | None] | None
_NO_METADATA = msgspec.Raw(b"null")


class _Line(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    portfolio_id: str
    as_of_date: str
    report_id: str | None = None
    portfolio_value: float | None = None  # JSON integers arrive as floats, as RowBuilder._fast makes them
    cash: float | None = None
    net_exposure: float | None = None
    gross_exposure: float | None = None
    leverage: float | None = None
    risk_metrics: _Block = None
    scenario_pnl: _Block = None
    exposures_by_sector: _Block = None
    exposures_by_factor: _Block = None
    metadata: dict[str, str | _Int64 | float | bool | None] | None = None
    created_at: str | None = None


class _NestedLine(_Line, forbid_unknown_fields=True, gc=False):
    metadata: msgspec.Raw = _NO_METADATA  # type: ignore[assignment]


_DECODERS = (msgspec.json.Decoder(_Line).decode, msgspec.json.Decoder(_NestedLine).decode)
_DECLINED = (msgspec.MsgspecError, ValueError, RecursionError)  # ValueError: bytes that are not UTF-8


def parse_date(text: object, what: str = "date") -> date:
    """``YYYY-MM-DD`` (spaces and tabs around it allowed) within the supported range; nothing else.

    ``date.fromisoformat`` alone would take ISO week dates (2025-W05-1) and ``str.strip``
    would drop no-break spaces: both are refused.
    """
    if isinstance(text, date):
        day = text
    elif not isinstance(text, str):
        raise InvalidInput(f"{what} must be a YYYY-MM-DD string")
    else:
        clean = text.strip(" \t")
        try:
            if not _DATE.fullmatch(clean):
                raise ValueError
            day = date.fromisoformat(clean)
        except ValueError:
            raise InvalidInput(f"invalid {what} {shown(text)}: use YYYY-MM-DD, e.g. 2025-01-31") from None
    out_of_range = date_out_of_range(day)
    if out_of_range:
        raise InvalidInput(f"{what} {out_of_range}")
    return day


def _reject_constants(token: str) -> float:
    raise InvalidReport(f"{token} is not allowed; risk reports must hold finite numbers (or null)")


def json_refusal(text: str | bytes, fast: orjson.JSONDecodeError) -> str:
    """Why a JSON text is refused, in the documented words where the standard library has them."""
    message = str(fast)
    found = _COLUMN.search(message)
    at = f" at column {found.group(1)}" if found else ""
    if message.startswith("number is infinity"):  # 1e309, or an integer of hundreds of digits
        return f"a number{at} is too large (beyond 1.8e308); risk reports must hold finite numbers (or null)"
    try:
        json.loads(text, parse_constant=_reject_constants)
    except InvalidReport as exc:  # NaN, Infinity
        return str(exc)
    except RecursionError:
        return f"JSON nested more than {MAX_JSON_DEPTH} levels deep; flatten it"
    except ValueError as exc:
        return f"not valid JSON ({exc})"
    if "surrogate" in message:
        return f"a string{at} holds a lone surrogate (such as \\ud800), which is not text: remove it"
    if "depth" in message:
        return f"JSON nested more than {MAX_JSON_DEPTH} levels deep; flatten it"
    return f"not valid JSON ({message})"


def load_json(text: str | bytes) -> Any:
    """Strict JSON (orjson: finite numbers, real text, 1,024 levels at most); InvalidReport says why not."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidReport(json_refusal(text, exc)) from None


def json_text(value: object) -> str:
    """The stored text of a JSON block: compact UTF-8."""
    return orjson.dumps(value).decode()


def report_from_mapping(raw: dict[str, Any], numbers_as_text: bool = False) -> RiskReport:
    """The reference path: every rule, every message (CSV values arrive as text)."""
    unknown = sorted(set(raw) - _ALLOWED)
    if unknown:
        raise InvalidReport(f"unknown column(s) {', '.join(unknown)}; expected {', '.join(REPORT_COLUMNS)}")
    missing = [c for c in REQUIRED_COLUMNS if raw.get(c) in (None, "")]
    if missing:
        raise InvalidReport(f"missing {', '.join(missing)}")
    values: dict[str, Any] = {}
    for column in JSON_COLUMNS:
        value = raw.get(column)
        if numbers_as_text and isinstance(value, str):
            if value.strip() == "":
                value = None
            else:
                try:
                    value = load_json(value)
                except InvalidReport as exc:
                    raise InvalidReport(f"{column}: {exc}") from None
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


def row_from_report(line: int, report: RiskReport, explicit_id: bool) -> Row:
    return (
        line,
        report.report_id,
        report.portfolio_id,
        report.as_of_date,
        *(getattr(report, c) for c in NUMERIC_COLUMNS),
        *(json_text(getattr(report, c)) for c in JSON_COLUMNS),
        explicit_id,
    )


def report_from_row(row: Row) -> RiskReport:
    """The RiskReport a row stands for (for callers that want objects: tests, small files)."""
    fields = dict(zip(ROW_FIELDS, row, strict=True))
    return RiskReport(
        report_id=fields["report_id"],
        portfolio_id=fields["portfolio_id"],
        as_of_date=fields["as_of_date"],
        **{c: fields[c] for c in NUMERIC_COLUMNS},
        **{c: orjson.loads(fields[c]) for c in JSON_COLUMNS},
    )


def _remember(cache: dict[Any, Any] | set[Any], key: Any, value: Any = None) -> None:
    if len(cache) < _CACHE_LIMIT:
        if isinstance(cache, dict):
            cache[key] = value
        else:
            cache.add(key)


class RowBuilder:
    """Rows from parsed objects, for one file: the caches live as long as the builder."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._days: dict[str, date] = {}
        self._keys: set[str] = set()
        self._decoders = list(_DECODERS)  # flat metadata first

    def from_object(self, line: int, raw: object) -> Row:
        """A JSON Lines object; InvalidReport or InvalidInput (their messages are the row's reason)."""
        row = self._fast(line, raw)
        if row is not None:
            return row
        if not isinstance(raw, dict):
            raise InvalidReport("each line must be one JSON object")
        return self._reference(line, raw, numbers_as_text=False)

    def from_line(self, line: int, text: bytes) -> Row | None:
        """A JSON line's row through the compiled decoder, or None: read it with orjson and :meth:`from_object`."""
        try:
            doc = self._decoders[0](text)
        except _DECLINED:
            try:
                doc = self._decoders[1](text)
            except _DECLINED:
                return None
            self._decoders.reverse()  # a file's lines are alike: try this decoder first from now on
        metadata = doc.metadata
        if type(metadata) is msgspec.Raw:
            # Raw text is exact only for the key's one occurrence; "\\u" could spell the key.
            if b"\\u" in text or text.count(b'"metadata"') != 1:
                return None
            try:
                metadata = orjson.loads(memoryview(metadata))
            except orjson.JSONDecodeError:
                return None
            if metadata is not None and type(metadata) is not dict:
                return None
        numbers = [doc.portfolio_value, doc.cash, doc.net_exposure, doc.gross_exposure, doc.leverage]
        blocks = [doc.risk_metrics, doc.scenario_pnl, doc.exposures_by_sector, doc.exposures_by_factor]
        return self.typed(line, doc.portfolio_id, doc.as_of_date, numbers, blocks, metadata, doc.report_id)

    def from_cells(self, line: int, header: list[str], cells: list[str]) -> Row:
        """A CSV record (JSON-valued columns hold JSON text)."""
        if len(cells) > len(header):
            raise InvalidReport("more fields than header columns (quote JSON values)")
        converted = self._converted(header, cells)
        row = None if converted is None else self._fast(line, converted)
        if row is not None:
            return row
        return self._reference(line, dict(zip(header, cells, strict=False)), numbers_as_text=True)

    @staticmethod
    def _reference(line: int, raw: dict[str, Any], numbers_as_text: bool) -> Row:
        report = report_from_mapping(raw, numbers_as_text)
        return row_from_report(line, report, raw.get("report_id") not in ("", None))

    @staticmethod
    def _converted(header: list[str], cells: list[str]) -> dict[str, Any] | None:
        """CSV text as the values a JSON line would carry; None where only the reference path can say."""
        values: dict[str, Any] = {}
        for name, text in zip(header, cells, strict=False):
            if text == "":
                continue
            if name in NUMERIC_COLUMNS:
                try:
                    number = float(text)
                except ValueError:
                    return None
                if not math.isfinite(number):
                    return None
                values[name] = number
            elif name in JSON_COLUMNS:
                try:
                    values[name] = orjson.loads(text)
                except orjson.JSONDecodeError:
                    return None
            else:
                values[name] = text
        return values

    def _fast(self, line: int, raw: object) -> Row | None:
        """The row of a well-formed report, or None to let the reference path decide."""
        if type(raw) is not dict or not raw.keys() <= _ALLOWED:
            return None
        pid = raw.get("portfolio_id")
        day_text = raw.get("as_of_date")
        if type(pid) is not str or type(day_text) is not str:  # a list or object would not even hash
            return None
        numbers: list[float | None] = []
        for column in NUMERIC_COLUMNS:
            value = raw.get(column)
            kind = type(value)
            if kind is float or value is None:
                numbers.append(value)
            elif kind is int:
                numbers.append(float(value))
            else:
                return None
        blocks: list[dict[str, Any] | None] = []
        for column in _BLOCKS:
            block = raw.get(column)
            if block is not None and (type(block) is not dict or not set(map(type, block.values())) <= _NUMBER_TYPES):
                return None
            blocks.append(block)
        metadata = raw.get("metadata")
        if metadata is not None and type(metadata) is not dict:
            return None
        return self.typed(line, pid, day_text, numbers, blocks, metadata, raw.get("report_id"))

    def typed(
        self,
        line: int,
        pid: str,
        day_text: str,
        numbers: list[float | None],
        blocks: list[dict[str, Any] | None],
        metadata: dict[str, Any] | None,
        report_id: object,
    ) -> Row | None:
        """The row of values of the right JSON types (numbers floats or None, blocks of numbers, a
        metadata object), or None to let the reference path decide."""
        if pid not in self._ids:
            if not pid.strip() or len(pid) > MAX_PORTFOLIO_ID_LENGTH or not pid.isprintable():
                return None
            _remember(self._ids, pid)
        day = self._days.get(day_text)
        if day is None:
            if not _DATE.fullmatch(day_text):
                return None
            try:
                day = parse_date(day_text)
            except InvalidInput:
                return None
            _remember(self._days, day_text, day)
        texts: list[str] = []
        for block in blocks:
            if block is None:
                texts.append("{}")
                continue
            if not self._keys.issuperset(block):  # 0.33 us for 22 keys; block.keys() <= keys: 0.50 us
                for key in block:
                    if not (key.isprintable() and key.strip()):
                        return None
                    _remember(self._keys, key)
            texts.append(orjson.dumps(block).decode())
        if metadata is None:
            texts.append("{}")
        else:
            encoded = orjson.dumps(metadata)
            # Each level of nesting opens a bracket, so few brackets means shallow; NUL is escaped.
            if b"\\u0000" in encoded or encoded.count(b"{") + encoded.count(b"[") > MAX_JSON_DEPTH:
                return None
            texts.append(encoded.decode())
        if report_id is None or report_id == "":
            return (line, default_report_id(pid, day_text), pid, day, *numbers, *texts, False)
        if (
            type(report_id) is not str
            or len(report_id) > MAX_REPORT_ID_LENGTH
            or not report_id.isprintable()
            or not report_id.strip()
        ):
            return None
        return (line, report_id, pid, day, *numbers, *texts, True)
