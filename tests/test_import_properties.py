"""The streaming importer under generated input (hypothesis): thousands of hostile files and rows.

Every case ends in a documented outcome: rows stored exactly as the reference rules read
them, or a one-line domain error with nothing written. Never a traceback, never a partial
write, and the fast row check never accepts what RiskReport.create refuses (or reads a row
differently). Chunk and read-block sizes are drawn too, so rows straddle every boundary.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prometheus import report_files
from prometheus.config import Settings
from prometheus.errors import InvalidInput, InvalidReport
from prometheus.report_rows import RowBuilder, report_from_mapping, row_from_report
from prometheus.reports import FACTOR_KEYS, GICS_SECTORS, RISK_METRIC_KEYS
from prometheus.services.importing import import_report_file
from prometheus.store.stores import open_stores

FAST = settings(max_examples=2000, deadline=None)
FILES = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
BIG = "@BIG@"  # replaced in the JSON text by a literal JSON cannot hold as a float
BIG_LITERALS = ["1e309", "-1e309", "9" * 400, "1E400"]

texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["PF_A", "PF\u2028B", "PF\u202eB", "\u00a0PF", "PF\x00", "PF\ud800", "x" * 201, "", " "]),
)
numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.just(BIG),
)
values = st.one_of(numbers, st.none(), st.booleans(), st.text(max_size=3), st.lists(st.integers(), max_size=2))
days = st.one_of(
    st.dates(min_value=date(1890, 1, 1), max_value=date(2210, 12, 31)).map(date.isoformat),
    st.sampled_from(
        ["0001-01-01", "9999-12-31", "2025-W05-1", "\u00a02025-01-31", " 2025-01-31\t", "2025-02-30", "2025-1-5", ""]
    ),
    st.text(max_size=11),
)
keys = st.one_of(st.sampled_from([*RISK_METRIC_KEYS[:6], *GICS_SECTORS[:3], *FACTOR_KEYS[:2]]), texts)


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


metadata = st.one_of(
    st.none(),
    st.dictionaries(st.text(max_size=4), st.one_of(texts, numbers, st.none(), st.booleans()), max_size=3),
    st.integers(min_value=0, max_value=40).map(lambda d: {"deep": nested(d)}),
    st.just([1]),
)
report_objects = st.fixed_dictionaries(
    {
        "portfolio_id": st.one_of(
            texts, st.sampled_from(["PF_1", "PF_2", "PF_3"]), st.sampled_from([None, 7, [1], {"a": 1}, True])
        ),
        "as_of_date": st.one_of(days, st.sampled_from([None, 20250131, ["2025-01-31"], {"d": 1}])),
    },
    optional={
        "risk_metrics": st.one_of(st.dictionaries(keys, values, max_size=5), st.integers(), st.none()),
        "exposures_by_sector": st.dictionaries(keys, values, max_size=3),
        "scenario_pnl": st.dictionaries(keys, numbers, max_size=2),
        "leverage": values,
        "cash": values,
        "metadata": metadata,
        "report_id": st.one_of(st.none(), texts, st.just("r" * 64), st.just("r" * 65), st.sampled_from([1, [1], {}])),
        "created_at": st.just("2020-01-01"),
        "colour": st.integers(),
    },
)


def dumped(obj: dict[str, Any], big: str) -> str:
    return json.dumps(obj, allow_nan=True).replace(json.dumps(BIG), big)


def same_row(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Rows equal, JSON blocks compared as values (the fast path keeps integers as integers)."""
    return (
        a[:9] == b[:9]
        and a[14] == b[14]
        and all(orjson.loads(x) == orjson.loads(y) for x, y in zip(a[9:14], b[9:14], strict=True))
    )


@FAST
@given(obj=report_objects, big=st.sampled_from(BIG_LITERALS))
def test_the_fast_check_reads_every_row_as_the_reference_rules_do(obj: dict[str, Any], big: str) -> None:
    text = dumped(obj, big)
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError:
        return  # refused before any row check (the file reader names it)
    fast = RowBuilder()._fast(7, raw)
    try:
        reference = row_from_report(7, report_from_mapping(raw), raw.get("report_id") not in ("", None))
    except (InvalidReport, InvalidInput) as exc:
        assert fast is None, f"fast path accepted what the rules refuse: {exc}"
        assert "\n" not in str(exc)
        return
    if fast is not None:
        assert same_row(fast, reference)
    row = RowBuilder().from_object(7, raw)
    assert same_row(row, reference)
    for number in row[4:9]:
        assert number is None or math.isfinite(number)


@contextmanager
def boundaries(read_bytes: int, chunk_rows: int) -> Iterator[None]:
    saved = report_files.READ_BYTES, report_files.CHUNK_ROWS
    report_files.READ_BYTES, report_files.CHUNK_ROWS = read_bytes, chunk_rows
    try:
        yield
    finally:
        report_files.READ_BYTES, report_files.CHUNK_ROWS = saved


def expected_rows(lines: list[str]) -> tuple[dict[tuple[str, date], tuple[Any, ...]], int]:
    """What a correct import stores (first row of each key wins) and how many rows are bad, line by line."""
    stored: dict[tuple[str, date], tuple[Any, ...]] = {}
    bad = 0
    named_ids: set[str] = set()
    builder = RowBuilder()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = builder.from_object(number, orjson.loads(line))
        except (orjson.JSONDecodeError, InvalidReport, InvalidInput):
            bad += 1
            continue
        if (row[2], row[3]) in stored or (row[14] and row[1] in named_ids):
            bad += 1
            continue
        if row[14]:
            named_ids.add(row[1])
        stored[(row[2], row[3])] = row
    return stored, bad


@FILES
@given(
    objects=st.lists(report_objects, min_size=1, max_size=8),
    noise=st.lists(st.sampled_from(["", "not json", "[1]", "{", "\u3000", "null"]), max_size=2),
    big=st.sampled_from(BIG_LITERALS),
    skip=st.booleans(),
    read_bytes=st.integers(min_value=16, max_value=400),
    chunk_rows=st.integers(min_value=1, max_value=4),
)
def test_a_jsonl_import_is_all_or_nothing_and_stores_what_the_rules_read(
    tmp_path_factory: pytest.TempPathFactory,
    objects: list[dict[str, Any]],
    noise: list[str],
    big: str,
    skip: bool,
    read_bytes: int,
    chunk_rows: int,
) -> None:
    folder = tmp_path_factory.mktemp("imp")
    lines = [dumped(o, big) for o in objects] + noise
    path = folder / "reports.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected, bad = expected_rows(lines)
    stores = open_stores(Settings(db_url=f"sqlite:///{folder / 'db.sqlite'}"))
    try:
        with boundaries(read_bytes, chunk_rows):
            try:
                summary = import_report_file(stores, path, skip_invalid=skip)
            except (InvalidReport, InvalidInput) as exc:
                assert "\n" not in str(exc)
                assert stores.reports.count() == 0  # nothing half-written
                assert bad or not expected or "already belongs" in str(exc), str(exc)
                return
        assert skip or not bad
        assert summary.skipped_count == bad
        assert summary.imported == stores.reports.count() == len(expected)
        for (pid, day), row in expected.items():
            report = stores.reports.get(pid, day)
            assert report is not None and report.report_id == row[1]
            assert report.risk_metrics == orjson.loads(row[9]) and report.metadata == orjson.loads(row[13])
    finally:
        stores.dispose()


def as_csv(objects: list[dict[str, Any]], big: str) -> str:
    columns = sorted({c for o in objects for c in o} | {"portfolio_id", "as_of_date"})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for o in objects:
        cells = []
        for column in columns:
            value = o.get(column)
            if value is None:
                cells.append("")
            elif isinstance(value, (dict, list)):
                cells.append(dumped(value, big))  # type: ignore[arg-type]
            else:
                cells.append(big if value == BIG else str(value))
        writer.writerow(cells)
    return out.getvalue()


@FILES
@given(
    objects=st.lists(report_objects, min_size=1, max_size=6),
    big=st.sampled_from(BIG_LITERALS),
    read_bytes=st.integers(min_value=16, max_value=400),
)
def test_a_csv_import_never_crashes_and_is_all_or_nothing(
    tmp_path_factory: pytest.TempPathFactory, objects: list[dict[str, Any]], big: str, read_bytes: int
) -> None:
    folder = tmp_path_factory.mktemp("csv")
    path = folder / "reports.csv"
    path.write_text(as_csv(objects, big), encoding="utf-8", errors="surrogatepass")  # a raw surrogate: not UTF-8
    stores = open_stores(Settings(db_url=f"sqlite:///{folder / 'db.sqlite'}"))
    try:
        with boundaries(read_bytes, 2):
            try:
                summary = import_report_file(stores, path)
            except (InvalidReport, InvalidInput) as exc:
                assert "\n" not in str(exc)
                assert stores.reports.count() == 0
                return
        assert summary.skipped_count == 0 and summary.imported == stores.reports.count() > 0
    finally:
        stores.dispose()


@FILES
@given(raw=st.binary(max_size=300), read_bytes=st.integers(min_value=1, max_value=64))
def test_any_bytes_end_in_rows_or_one_line(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes, read_bytes: int
) -> None:
    path = tmp_path_factory.mktemp("bytes") / "reports.jsonl"
    path.write_bytes(raw)
    with boundaries(read_bytes, 3):
        try:
            for chunk in report_files.ReportFile(path).chunks():
                assert all("\n" not in b.reason for b in chunk.bad)
        except InvalidInput as exc:
            assert "\n" not in str(exc)
