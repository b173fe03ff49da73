"""Readers and validators for the risk engine's four input files.

Every problem becomes one :class:`InvalidHoldings` line that names the file,
the line (header = line 1) where there is one, and what to do about it. The
engine accepts in-memory frames too; those are checked by the same rules
and cite the row label instead of a line.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from prometheus.errors import InvalidHoldings
from prometheus.files import NotARegularFile, open_regular_file
from prometheus.reports import FIRST_DATE, GICS_SECTORS, LAST_DATE, OTHER_SECTOR, date_out_of_range

Source = str | os.PathLike[str] | IO[str]

SECTOR_COLUMNS: tuple[str, ...] = ("ticker", "name", "gics_sector")
# A prices file is read whole into memory and every column is a ticker the engine carries; a
# universe of every listed stock worldwide is about 50,000, a book's prices file far fewer.
MAX_COLUMNS = 20_000


_GICS_BY_LOWER = {name.lower(): name for name in GICS_SECTORS}


def source_label(source: Source, default: str) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    name = getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) and name else default


def _header_width(handle: IO[bytes] | IO[str]) -> int:
    """The number of fields on the first line (then back to the start); 0 if the source cannot rewind."""
    if not handle.seekable():
        return 0
    start = handle.tell()
    first = handle.readline()
    handle.seek(start)
    text = first.decode("utf-8", "replace") if isinstance(first, bytes) else first
    try:
        return len(next(csv.reader([text]), []))
    except csv.Error:  # a quote left open on the header line: pandas names the problem
        return 0


def _opened(source: Source, label: str) -> IO[bytes] | IO[str]:
    if not isinstance(source, (str, os.PathLike)):
        return source
    try:
        return open_regular_file(source)
    except NotARegularFile as exc:
        if exc.missing:
            raise InvalidHoldings(f"{label}: file not found; check the path") from None
        raise InvalidHoldings(f"{label}: {exc.reason}") from None


def read_table(source: Source, label: str, required: tuple[str, ...], header: str) -> pd.DataFrame:
    """Read every cell as stripped text; the index is the file's line number."""
    handle = _opened(source, label)
    try:
        width = _header_width(handle)
        if width > MAX_COLUMNS:
            # pandas spends about 60 us a column before a single check could run: 200,000 took minutes.
            raise InvalidHoldings(
                f"{label}: {width:,} columns; at most {MAX_COLUMNS:,} are supported (keep only the tickers "
                "your holdings use)"
            )
        raw = pd.read_csv(
            handle,
            header=None,
            dtype=object,
            keep_default_na=False,
            skip_blank_lines=False,
            # Only bytes take an encoding; an open text handle has already decoded them.
            encoding="utf-8" if handle is not source else None,
        )
    except pd.errors.EmptyDataError:
        raise InvalidHoldings(f"{label}: file is empty; expected a header line '{header}'") from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1].replace("Error tokenizing data. C error: ", "")
        raise InvalidHoldings(
            f"{label}: not a valid CSV file ({detail}); every line needs the same number of commas as the header"
        ) from None
    except UnicodeDecodeError:
        raise InvalidHoldings(f"{label}: not UTF-8 text; save the file as UTF-8 CSV") from None
    except (OSError, ValueError) as exc:
        raise InvalidHoldings(f"{label}: cannot be read as CSV ({exc}); check the file") from None
    finally:
        if handle is not source:
            handle.close()

    # One strip over the whole grid (column by column, 20,000 tickers took seconds).
    cells = np.strings.strip(raw.to_numpy(dtype=object).astype(np.dtypes.StringDType())).astype(object)
    columns = [str(c) for c in cells[0].tolist()]
    columns[0] = columns[0].removeprefix("\ufeff").strip()  # the byte-order mark spreadsheets write
    if len(set(columns)) != len(columns):
        seen: set[str] = set()
        dup = next(c for c in columns if c in seen or seen.add(c))  # type: ignore[func-returns-value]
        raise InvalidHoldings(f"{label}: column '{dup}' appears twice in the header; keep one")
    missing = [c for c in required if c not in columns]
    if missing:
        names = ", ".join(f"'{c}'" for c in missing)
        raise InvalidHoldings(f"{label}: missing column(s) {names}; expected a header line '{header}'")
    table = pd.DataFrame(cells[1:], columns=pd.Index(columns), index=pd.RangeIndex(2, len(cells) + 1), dtype=object)
    blank = (table == "").all(axis=1)
    table = table[~blank]
    if table.empty:
        raise InvalidHoldings(f"{label}: file has a header but no data rows; add at least one row")
    return table


def first_true(mask: pd.Series | np.ndarray) -> int:
    """Position of the first True (callers only ask when there is one)."""
    return int(np.flatnonzero(np.asarray(mask))[0])


def require_filled(table: pd.DataFrame, label: str, columns: tuple[str, ...]) -> None:
    """Every cell of ``columns`` holds text; the first empty one is reported with its line."""
    for column in columns:
        empty = table[column] == ""
        if empty.any():
            line = table.index[first_true(empty)]
            raise InvalidHoldings(f"{label} line {line}: empty {column}; fill it in or delete the line")


def parse_dates(text: pd.Series, label: str, column: str = "date") -> pd.Series:
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna()
    if bad.any():
        i = first_true(bad)
        line, value = text.index[i], text.iloc[i]
        raise InvalidHoldings(f"{label} line {line}: malformed {column} '{value}'; write dates as YYYY-MM-DD")
    outside = ((parsed < pd.Timestamp(FIRST_DATE)) | (parsed > pd.Timestamp(LAST_DATE))).to_numpy()
    if outside.any():
        i = first_true(outside)
        reason = date_out_of_range(parsed.iloc[i].date())
        raise InvalidHoldings(f"{label} line {text.index[i]}: {column} {reason}; correct or remove the line")
    return parsed.astype("datetime64[ns]")


def _check_increasing(dates: pd.Series, label: str, what: str) -> None:
    step = dates.diff().to_numpy()[1:]
    bad = step <= np.timedelta64(0, "ns")
    if bad.any():
        i = first_true(bad) + 1
        line, day = dates.index[i], dates.iloc[i].date()
        if step[i - 1] == np.timedelta64(0, "ns"):
            raise InvalidHoldings(f"{label} line {line}: duplicate date {day}; keep one row per date in {what}")
        raise InvalidHoldings(
            f"{label} line {line}: date {day} is out of order (after {dates.iloc[i - 1].date()}); "
            "sort the rows by date, oldest first"
        )


def _positive_numbers(text: pd.DataFrame, label: str, what: str, allow_empty: bool) -> pd.DataFrame:
    """Parse price cells; empty means 'not listed' where allowed."""
    # One conversion over the whole grid, not one per column.
    flat = pd.to_numeric(pd.Series(text.to_numpy(dtype=object).ravel()), errors="coerce")
    values = pd.DataFrame(flat.to_numpy(dtype=float).reshape(text.shape), index=text.index, columns=text.columns)
    empty = (text == "").to_numpy()
    arr = values.to_numpy()
    with np.errstate(invalid="ignore"):
        good = np.isfinite(arr) & (arr > 0)
    bad = ~good & ~empty if allow_empty else ~good
    if bad.any():
        row, col = np.argwhere(bad)[0]
        line, ticker, cell = text.index[row], text.columns[col], str(text.iat[row, col])
        if empty[row, col]:
            raise InvalidHoldings(
                f"{label} line {line}: {what} for '{ticker}' is empty; every row needs a positive {what}"
            )
        hint = "leave the cell empty before the ticker lists, otherwise " if allow_empty else ""
        raise InvalidHoldings(
            f"{label} line {line}: {what} '{cell}' for '{ticker}' is not a positive number; "
            f"{hint}write a positive {what}"
        )
    return values


def read_prices(source: Source) -> pd.DataFrame:
    """Wide prices: ``date`` + one column per ticker; an empty cell = not listed.

    Returns float prices indexed by a strictly increasing DatetimeIndex.
    """
    label = source_label(source, "prices")
    table = read_table(source, label, ("date",), "date,TICKER1,TICKER2,...")
    tickers = [c for c in table.columns if c != "date"]
    if not tickers:
        raise InvalidHoldings(f"{label}: no ticker columns; expected a header line 'date,TICKER1,TICKER2,...'")
    if any(t == "" for t in tickers):
        raise InvalidHoldings(f"{label}: a column has an empty ticker name in the header; name every column")
    dates = parse_dates(table["date"], label)
    _check_increasing(dates, label, "the prices file")
    prices = _positive_numbers(table[tickers], label, "price", allow_empty=True)
    prices.index = pd.DatetimeIndex(dates.to_numpy(), name="date")
    prices.columns = pd.Index(tickers, name="ticker")
    return prices


def read_benchmark(source: Source) -> pd.Series:
    """Benchmark prices: ``date,<name>``; returns a Series named after the column."""
    label = source_label(source, "benchmark")
    table = read_table(source, label, ("date",), "date,BENCHMARK")
    others = [c for c in table.columns if c != "date"]
    if len(others) != 1:
        raise InvalidHoldings(
            f"{label}: expected exactly one price column besides 'date', found {len(others)}; "
            "keep one benchmark per file"
        )
    dates = parse_dates(table["date"], label)
    _check_increasing(dates, label, "the benchmark file")
    values = _positive_numbers(table[others], label, "benchmark price", allow_empty=False)
    return pd.Series(
        values[others[0]].to_numpy(), index=pd.DatetimeIndex(dates.to_numpy(), name="date"), name=others[0]
    )


def normalise_sector(name: str) -> str:
    """A GICS sector name (case-insensitive) or :data:`OTHER_SECTOR`."""
    return _GICS_BY_LOWER.get(name.strip().lower(), OTHER_SECTOR)


def read_sectors(source: Source) -> pd.DataFrame:
    """``ticker,name,gics_sector``; returns columns name, gics_sector indexed by ticker.

    Sector names that are not GICS sectors become :data:`OTHER_SECTOR`.
    """
    label = source_label(source, "sectors")
    table = read_table(source, label, SECTOR_COLUMNS, ",".join(SECTOR_COLUMNS))
    require_filled(table, label, ("ticker", "gics_sector"))
    dup = table["ticker"].duplicated()
    if dup.any():
        i = first_true(dup)
        ticker = table["ticker"].iloc[i]
        raise InvalidHoldings(
            f"{label} line {table.index[i]}: ticker '{ticker}' is listed twice; keep one line per ticker"
        )
    out = pd.DataFrame(
        {"name": table["name"].to_numpy(), "gics_sector": [normalise_sector(s) for s in table["gics_sector"]]},
        index=pd.Index(table["ticker"].to_numpy(), name="ticker"),
    )
    return out


def sector_map(sectors: pd.DataFrame | pd.Series | dict[str, str]) -> dict[str, str]:
    """Ticker -> canonical sector from any of the accepted sector shapes."""
    if isinstance(sectors, dict):
        return {str(k): normalise_sector(str(v)) for k, v in sectors.items()}
    if isinstance(sectors, pd.Series):
        return {str(k): normalise_sector(str(v)) for k, v in sectors.items()}
    if "gics_sector" not in sectors.columns:
        raise InvalidHoldings("sectors: missing column 'gics_sector'; expected columns ticker,name,gics_sector")
    frame = sectors.set_index("ticker") if "ticker" in sectors.columns else sectors
    return {str(k): normalise_sector(str(v)) for k, v in frame["gics_sector"].items()}


def check_prices(prices: pd.DataFrame, label: str = "prices") -> pd.DataFrame:
    """Validate an in-memory price panel by the file rules; return it as float."""
    if not isinstance(prices, pd.DataFrame) or prices.shape[0] == 0 or prices.shape[1] == 0:
        raise InvalidHoldings(f"{label}: no prices; give a frame with dates as rows and tickers as columns")
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise InvalidHoldings(f"{label}: the index must hold dates; parse the 'date' column as dates")
    if prices.columns.duplicated().any():
        dup = prices.columns[prices.columns.duplicated()][0]
        raise InvalidHoldings(f"{label}: ticker '{dup}' appears twice; keep one column per ticker")
    step = np.diff(prices.index.asi8)
    if (step <= 0).any():
        i = first_true(step <= 0) + 1
        raise InvalidHoldings(
            f"{label}: date {prices.index[i].date()} is duplicated or out of order; sort by date, one row per date"
        )
    try:
        values = prices.astype(float)
    except (ValueError, TypeError):
        raise InvalidHoldings(f"{label}: some prices are not numbers; use numbers, empty for not listed") from None
    arr = values.to_numpy()
    with np.errstate(invalid="ignore"):
        bad = np.isinf(arr) | (arr <= 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InvalidHoldings(
            f"{label}: price {arr[row, col]} for '{values.columns[col]}' on {values.index[row].date()} "
            "is not a positive number; write a positive price"
        )
    return values


def check_benchmark(benchmark: pd.Series | pd.DataFrame, label: str = "benchmark") -> pd.Series:
    """Accept a Series or a one-column frame of positive prices indexed by date."""
    if isinstance(benchmark, pd.DataFrame):
        if benchmark.shape[1] != 1:
            raise InvalidHoldings(f"{label}: expected one price column, found {benchmark.shape[1]}; keep one")
        benchmark = benchmark.iloc[:, 0]
    frame = check_prices(benchmark.to_frame(), label)
    series = frame.iloc[:, 0]
    if series.isna().any():
        day = series.index[first_true(series.isna())].date()
        raise InvalidHoldings(f"{label}: no price on {day}; every benchmark row needs a positive price")
    return series
