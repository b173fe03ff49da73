"""CSV as every face writes it: the CLIs' text on stdout and the app's downloads, from one place.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``), and portfolio ids come
from imported files. So by default such a cell gets a leading apostrophe (``'=cmd...``),
which spreadsheets show as text and do not run; plain numbers (``-0.25``, ``+3``,
``-1e-05``) are left alone, since they are not formulas. Programs that need the stored
values byte for byte ask for raw CSV: ``--raw-csv`` on the command line, "Raw CSV" in the
app's sidebar. Quoting (commas, quotes, newlines) is the csv module's in both modes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
RAW_CSV_HELP = (
    "CSV cells exactly as stored, under their column ids, for programs. Otherwise headers are in words, "
    "percentages are percent, numbers have at most 6 significant digits, and a cell starting with =, +, -, @, a "
    "tab or a carriage return (other than a plain number) gets a leading ' so spreadsheets show it as text "
    "instead of running it"
)


def neutralise(cell: Any) -> Any:
    """A cell a spreadsheet would run as a formula, prefixed with ``'``; anything else unchanged."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.match(cell):
        return "'" + cell
    return cell


def _field(cell: Any) -> str:
    # Quoted when it holds a separator, a quote or either line-break character: the csv module
    # leaves a lone "\r" unquoted when rows end in "\n", and a spreadsheet then breaks the row.
    text = "" if cell is None else str(cell)
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]], raw: bool = False) -> str:
    """The whole CSV as text ("\\n" line ends), formula cells neutralised unless ``raw``."""
    clean = (lambda row: row) if raw else (lambda row: [neutralise(c) for c in row])
    lines = [",".join(_field(c) for c in clean(row)) + "\n" for row in (header, *rows)]
    return "".join(lines)


def csv_bytes(frame: pd.DataFrame, raw: bool = False) -> bytes:
    """A table as a UTF-8 CSV download (no index, dates ISO), formula cells neutralised unless ``raw``."""
    if not raw:
        frame = frame.copy()
        frame.columns = [neutralise(str(c)) for c in frame.columns]
        for column in frame.columns:
            if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column].dtype):
                frame[column] = frame[column].map(neutralise)
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
