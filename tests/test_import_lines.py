"""The compiled line path (msgspec) reads a JSON line exactly as the orjson path does, or declines it.

RowBuilder.from_line may only ever decline: whatever it accepts must be a line orjson reads, the
rules accept, and RowBuilder._fast turns into the very same row (texts byte for byte). Generated
lines include what the two decoders treat differently: duplicate keys, escaped key names, integers
around 64 bits and beyond 1.8e308, lone surrogates, bytes that are not UTF-8, deep nesting.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_import_properties import BIG_LITERALS, dumped, report_objects

from prometheus.errors import InvalidInput, InvalidReport
from prometheus.report_rows import _BLOCKS, RowBuilder, _Line
from prometheus.reports import NUMERIC_COLUMNS

HOSTILE = [
    "9" * 400,
    "-" + "9" * 400,
    "1e400",
    str(2**63 - 1),
    str(2**63),
    str(2**64 - 1),
    str(2**64),
    str(-(2**63)),
    str(-(2**63) - 1),
    "-0",
    '"\\ud800"',
    '"\\udc00x"',
    '"\xff"',
    '"\\u0000"',
    "[" * 40 + "]" * 40,
    "[" * 1100 + "]" * 1100,
    "true",
    '"x"',
    "{}",
    "null",
]
KEYS = ["portfolio_id", "as_of_date", "cash", "report_id", "metadata", "created_at", "risk_metrics", "colour"]
ESCAPED = {"metadata": "metad\\u0061ta", "portfolio_id": "portfolio\\u005fid", "cash": "\\u0063ash"}


def check(text: bytes) -> None:
    """from_line declines, or gives exactly the row of orjson.loads + RowBuilder._fast."""
    row = RowBuilder().from_line(7, text)
    if row is None:
        return
    raw = orjson.loads(text)  # a refusal here fails the test: the line path accepted a line orjson refuses
    expected = RowBuilder()._fast(7, raw)
    assert expected is not None, "the line path accepted what the orjson fast path leaves to the rules"
    assert row == expected
    assert RowBuilder().from_object(7, raw) == expected


def test_the_line_fields_are_the_row_columns_in_order() -> None:
    fields = _Line.__struct_fields__
    assert fields[3:8] == NUMERIC_COLUMNS and fields[8:12] == _BLOCKS


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("key", KEYS)
def test_a_hostile_value_replaced_by_a_later_duplicate_key_is_still_refused_or_declined(key: str, value: str) -> None:
    good = '{"portfolio_id": "PF_1", "as_of_date": "2025-01-31", "cash": 0.5, "metadata": {"a": 1}, '
    good += '"risk_metrics": {"vol": 0.2, "n": 86}, "created_at": "2025-02-01"}'
    for text in (
        good.replace("{", f'{{"{key}": {value}, ', 1),  # an earlier duplicate
        good.replace('"vol": 0.2', f'"vol": {value}, "vol": 0.2'),  # inside a block
        good.replace('"a": 1', f'"a": {value}, "a": 1'),  # inside metadata
        good.replace("{", f'{{"{ESCAPED.get(key, key)}": {value}, ', 1),
    ):
        check(text.encode("utf-8", "surrogateescape"))
        try:
            orjson.loads(text.encode("utf-8", "surrogateescape"))
        except orjson.JSONDecodeError:
            assert RowBuilder().from_line(7, text.encode("utf-8", "surrogateescape")) is None


def test_a_plain_report_takes_the_line_path() -> None:
    line = b'{"portfolio_id": "PF_1", "as_of_date": "2025-01-31", "cash": 1, "risk_metrics": {"n": 86, "v": 0.25}}'
    row = RowBuilder().from_line(3, line)
    assert row is not None and row[5] == 1.0 and type(row[5]) is float and row[9] == '{"n":86,"v":0.25}'
    nested = line.replace(b"}}", b'}, "metadata": {"desk": ["rates", {"book": 7}]}}')
    row = RowBuilder().from_line(3, nested)  # metadata read by orjson from the raw text
    assert row is not None and row[13] == '{"desk":["rates",{"book":7}]}'


def mangled(obj: dict[str, Any], big: str, data: st.DataObject) -> bytes:
    text = dumped(obj, big) if data.draw(st.booleans()) else json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    text = text.replace('"@BIG@"', big)
    for key, escaped in ESCAPED.items():
        if data.draw(st.booleans()):
            text = text.replace(f'"{key}"', f'"{escaped}"', 1)
    if data.draw(st.booleans()):
        key, value = data.draw(st.sampled_from(KEYS)), data.draw(st.sampled_from(HOSTILE))
        text = text.replace("{", f'{{"{key}": {value}, ', 1) if text.startswith("{") else text
    return text.encode("utf-8", "surrogatepass")


@settings(max_examples=1500, deadline=None)
@given(obj=report_objects, big=st.sampled_from(BIG_LITERALS), data=st.data())
def test_the_line_path_reads_generated_lines_as_the_orjson_path_does(
    obj: dict[str, Any], big: str, data: st.DataObject
) -> None:
    text = mangled(obj, big, data)
    check(text)
    try:
        raw = orjson.loads(text)
        RowBuilder().from_object(7, raw)
    except (orjson.JSONDecodeError, InvalidReport, InvalidInput):
        assert RowBuilder().from_line(7, text) is None
