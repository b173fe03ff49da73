"""Readers and validators for the risk engine's four input files.

Every problem becomes one :class:`InvalidHoldings` line that names the file,
the line (header = line 1) where there is one, and what to do about it. The
engine accepts in-memory frames too; those are checked by the same rules
and cite the row label instead of a line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from prometheus.errors import InvalidHoldings
from prometheus.reports import GICS_SECTORS, OTHER_SECTOR

Source = str | os.PathLike[str] | IO[str]

HOLDINGS_COLUMNS: tuple[str, ...] = ("date", "portfolio_id", "ticker", "weight")
SECTOR_COLUMNS: tuple[str, ...] = ("ticker", "name", "gics_sector")

# The weight rule (fractions of NAV, cash = 1 - net): net exposure in
# [MIN_NET, MAX_NET] and gross exposure at most MAX_GROSS. It admits
# long-only books with cash, 130/30, market-neutral and 1.5x-2x leveraged
# books, and rejects weights written in percent (which sum to ~100).
MIN_NET = -1.0
MAX_NET = 2.0
MAX_GROSS = 3.0
WEIGHT_TOLERANCE = 1e-6

_GICS_BY_LOWER = {name.lower(): name for name in GICS_SECTORS}


def _label(source: Source, default: str) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    name = getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) and name else default


def _read_table(source: Source, label: str, required: tuple[str, ...], header: str) -> pd.DataFrame:
    """Read every cell as stripped text; the index is the file's line number."""
    # Only paths take an encoding; an open text handle has already decoded its bytes.
    encoding = "utf-8" if isinstance(source, (str, os.PathLike)) else None
    try:
        raw = pd.read_csv(
            source, header=None, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding=encoding
        )
    except FileNotFoundError:
        raise InvalidHoldings(f"{label}: file not found; check the path") from None
    except IsADirectoryError:
        raise InvalidHoldings(f"{label}: is a directory, not a CSV file; give the file's path") from None
    except PermissionError:
        raise InvalidHoldings(f"{label}: cannot be read (permission denied); check the file's permissions") from None
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

    raw = raw.apply(lambda col: col.str.strip())
    columns = [str(c) for c in raw.iloc[0].tolist()]
    columns[0] = columns[0].removeprefix("\ufeff").strip()  # the byte-order mark spreadsheets write
    if len(set(columns)) != len(columns):
        dup = next(c for c in columns if columns.count(c) > 1)
        raise InvalidHoldings(f"{label}: column '{dup}' appears twice in the header; keep one")
    missing = [c for c in required if c not in columns]
    if missing:
        names = ", ".join(f"'{c}'" for c in missing)
        raise InvalidHoldings(f"{label}: missing column(s) {names}; expected a header line '{header}'")
    table = raw.iloc[1:].copy()
    table.columns = pd.Index(columns)
    table.index = pd.RangeIndex(2, len(raw) + 1)  # header is line 1
    blank = (table == "").all(axis=1)
    table = table[~blank]
    if table.empty:
        raise InvalidHoldings(f"{label}: file has a header but no data rows; add at least one row")
    return table


def _first(mask: pd.Series | np.ndarray) -> int:
    """Position of the first True (callers only ask when there is one)."""
    return int(np.flatnonzero(np.asarray(mask))[0])


def _require_filled(table: pd.DataFrame, label: str, columns: tuple[str, ...]) -> None:
    """Every cell of ``columns`` holds text; the first empty one is reported with its line."""
    for column in columns:
        empty = table[column] == ""
        if empty.any():
            line = table.index[_first(empty)]
            raise InvalidHoldings(f"{label} line {line}: empty {column}; fill it in or delete the line")


def _parse_dates(text: pd.Series, label: str, column: str = "date") -> pd.Series:
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna()
    if bad.any():
        i = _first(bad)
        line, value = text.index[i], text.iloc[i]
        raise InvalidHoldings(f"{label} line {line}: malformed {column} '{value}'; write dates as YYYY-MM-DD")
    return parsed.astype("datetime64[ns]")


def _check_increasing(dates: pd.Series, label: str, what: str) -> None:
    step = dates.diff().to_numpy()[1:]
    bad = step <= np.timedelta64(0, "ns")
    if bad.any():
        i = _first(bad) + 1
        line, day = dates.index[i], dates.iloc[i].date()
        if step[i - 1] == np.timedelta64(0, "ns"):
            raise InvalidHoldings(f"{label} line {line}: duplicate date {day}; keep one row per date in {what}")
        raise InvalidHoldings(
            f"{label} line {line}: date {day} is out of order (after {dates.iloc[i - 1].date()}); "
            "sort the rows by date, oldest first"
        )


def _positive_numbers(text: pd.DataFrame, label: str, what: str, allow_empty: bool) -> pd.DataFrame:
    """Parse price cells; empty means 'not listed' where allowed."""
    values = pd.DataFrame({c: pd.to_numeric(text[c], errors="coerce") for c in text.columns}, index=text.index)
    values = values.astype(float)
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
    label = _label(source, "prices")
    table = _read_table(source, label, ("date",), "date,TICKER1,TICKER2,...")
    tickers = [c for c in table.columns if c != "date"]
    if not tickers:
        raise InvalidHoldings(f"{label}: no ticker columns; expected a header line 'date,TICKER1,TICKER2,...'")
    if any(t == "" for t in tickers):
        raise InvalidHoldings(f"{label}: a column has an empty ticker name in the header; name every column")
    dates = _parse_dates(table["date"], label)
    _check_increasing(dates, label, "the prices file")
    prices = _positive_numbers(table[tickers], label, "price", allow_empty=True)
    prices.index = pd.DatetimeIndex(dates.to_numpy(), name="date")
    prices.columns = pd.Index(tickers, name="ticker")
    return prices


def read_benchmark(source: Source) -> pd.Series:
    """Benchmark prices: ``date,<name>``; returns a Series named after the column."""
    label = _label(source, "benchmark")
    table = _read_table(source, label, ("date",), "date,BENCHMARK")
    others = [c for c in table.columns if c != "date"]
    if len(others) != 1:
        raise InvalidHoldings(
            f"{label}: expected exactly one price column besides 'date', found {len(others)}; "
            "keep one benchmark per file"
        )
    dates = _parse_dates(table["date"], label)
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
    label = _label(source, "sectors")
    table = _read_table(source, label, SECTOR_COLUMNS, ",".join(SECTOR_COLUMNS))
    _require_filled(table, label, ("ticker", "gics_sector"))
    dup = table["ticker"].duplicated()
    if dup.any():
        i = _first(dup)
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


def read_holdings(
    source: Source,
    prices: pd.DataFrame | None = None,
    sectors: pd.DataFrame | pd.Series | dict[str, str] | None = None,
) -> pd.DataFrame:
    """Long holdings ``date,portfolio_id,ticker,weight`` (one block per rebalancing date).

    With ``prices``/``sectors`` the rows are cross-checked against them too.
    Returns columns date (datetime64), portfolio_id, ticker, weight (float),
    sorted by portfolio_id then date (stable), with a fresh RangeIndex.
    """
    label = _label(source, "holdings")
    table = _read_table(source, label, HOLDINGS_COLUMNS, ",".join(HOLDINGS_COLUMNS))
    _require_filled(table, label, ("portfolio_id", "ticker"))
    dates = _parse_dates(table["date"], label)
    weights = pd.to_numeric(table["weight"], errors="coerce").astype(float)
    bad = ~np.isfinite(weights.to_numpy())
    if bad.any():
        i = _first(bad)
        raise InvalidHoldings(
            f"{label} line {table.index[i]}: weight '{table['weight'].iloc[i]}' is not a number; "
            "write weights as fractions of NAV (0.05 = 5%)"
        )
    frame = pd.DataFrame(
        {"date": dates, "portfolio_id": table["portfolio_id"], "ticker": table["ticker"], "weight": weights}
    )
    _check_holdings(frame, label, "line", prices, sectors)
    return _tidy(frame)


def validate_holdings(
    holdings: pd.DataFrame,
    prices: pd.DataFrame,
    sectors: pd.DataFrame | pd.Series | dict[str, str],
    label: str = "holdings",
) -> pd.DataFrame:
    """Check an in-memory holdings frame by the file rules; return it tidied."""
    missing = [c for c in HOLDINGS_COLUMNS if c not in holdings.columns]
    if missing:
        names = ", ".join(f"'{c}'" for c in missing)
        raise InvalidHoldings(f"{label}: missing column(s) {names}; expected columns {','.join(HOLDINGS_COLUMNS)}")
    if holdings.empty:
        raise InvalidHoldings(f"{label}: no rows; add at least one holding")
    try:
        dates = pd.to_datetime(holdings["date"]).astype("datetime64[ns]")
    except (ValueError, TypeError):
        raise InvalidHoldings(f"{label}: column 'date' holds values that are not dates; use YYYY-MM-DD") from None
    for column in ("portfolio_id", "ticker"):
        blank = (holdings[column].isna() | (holdings[column].astype(str).str.strip() == "")).to_numpy()
        if blank.any():
            raise InvalidHoldings(f"{label} row {holdings.index[_first(blank)]}: empty {column}; fill it in")
    weights = pd.to_numeric(holdings["weight"], errors="coerce").astype(float)
    frame = pd.DataFrame(
        {
            "date": dates,
            "portfolio_id": holdings["portfolio_id"].astype(str).str.strip(),
            "ticker": holdings["ticker"].astype(str).str.strip(),
            "weight": weights,
        }
    )
    no_date = frame["date"].isna().to_numpy()
    if no_date.any():
        raise InvalidHoldings(f"{label} row {frame.index[_first(no_date)]}: date is missing; use YYYY-MM-DD")
    no_weight = ~np.isfinite(frame["weight"].to_numpy())
    if no_weight.any():
        raise InvalidHoldings(
            f"{label} row {frame.index[_first(no_weight)]}: weight is missing or not a number; "
            "write weights as fractions of NAV (0.05 = 5%)"
        )
    _check_holdings(frame, label, "row", prices, sectors)
    return _tidy(frame)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.sort_values(["portfolio_id", "date"], kind="stable").reset_index(drop=True)
    return out[list(HOLDINGS_COLUMNS)]


def _check_holdings(
    frame: pd.DataFrame,
    label: str,
    where: str,
    prices: pd.DataFrame | None,
    sectors: pd.DataFrame | pd.Series | dict[str, str] | None,
) -> None:
    """Row-order, duplicate, cross-file and weight-sum rules; ``where`` is 'line' or 'row'."""

    def at(i: int) -> str:
        return f"{label} {where} {frame.index[i]}"

    dup = frame.duplicated(["portfolio_id", "date", "ticker"]).to_numpy()
    if dup.any():
        i = _first(dup)
        pid, day, ticker = frame["portfolio_id"].iloc[i], frame["date"].iloc[i].date(), frame["ticker"].iloc[i]
        raise InvalidHoldings(
            f"{at(i)}: duplicate row for portfolio '{pid}', date {day}, ticker '{ticker}'; "
            "list each ticker once per portfolio and date"
        )
    back = (frame.groupby("portfolio_id", sort=False)["date"].diff() < pd.Timedelta(0)).to_numpy()
    if back.any():
        i = _first(back)
        pid, day = frame["portfolio_id"].iloc[i], frame["date"].iloc[i].date()
        raise InvalidHoldings(
            f"{at(i)}: dates out of order for portfolio '{pid}' ({day} comes after a later date); "
            "sort each portfolio's rows by date, oldest first"
        )

    if prices is not None:
        known = frame["ticker"].isin(prices.columns).to_numpy()
        if not known.all():
            i = _first(~known)
            raise InvalidHoldings(
                f"{at(i)}: ticker '{frame['ticker'].iloc[i]}' is not in the prices file; "
                "add its prices or remove the holding"
            )
    if sectors is not None:
        mapping = sector_map(sectors)
        has_sector = frame["ticker"].isin(list(mapping)).to_numpy()
        if not has_sector.all():
            i = _first(~has_sector)
            raise InvalidHoldings(
                f"{at(i)}: ticker '{frame['ticker'].iloc[i]}' has no sector; add it to the sectors file"
            )
    if prices is not None:
        trading = frame["date"].isin(prices.index).to_numpy()
        if not trading.all():
            i = _first(~trading)
            raise InvalidHoldings(
                f"{at(i)}: {frame['date'].iloc[i].date()} is not a date in the prices file; "
                "rebalance only on dates that have prices"
            )
        rows = prices.index.get_indexer(pd.DatetimeIndex(frame["date"]))
        cols = prices.columns.get_indexer(pd.Index(frame["ticker"]))
        priced = np.isfinite(prices.to_numpy(dtype=float)[rows, cols])
        if not priced.all():
            i = _first(~priced)
            raise InvalidHoldings(
                f"{at(i)}: ticker '{frame['ticker'].iloc[i]}' has no price on {frame['date'].iloc[i].date()} "
                "(not listed yet or missing); hold only names priced on each rebalancing date"
            )

    grouped = frame.assign(gross=frame["weight"].abs(), pos=np.arange(len(frame))).groupby(
        ["portfolio_id", "date"], sort=False
    )
    sums = grouped.agg(net=("weight", "sum"), gross=("gross", "sum"), first=("pos", "min"))
    tol = WEIGHT_TOLERANCE
    broken = (sums["net"] > MAX_NET + tol) | (sums["net"] < MIN_NET - tol) | (sums["gross"] > MAX_GROSS + tol)
    if broken.any():
        bad = sums[broken].sort_values("first").iloc[0]
        pid, day = sums[broken].sort_values("first").index[0]
        raise InvalidHoldings(
            f"{at(int(bad['first']))}: weights of portfolio '{pid}' on {pd.Timestamp(day).date()} "
            f"have net {bad['net']:.6g} and gross {bad['gross']:.6g}; net must lie in "
            f"[{MIN_NET:g}, {MAX_NET:g}] and gross be at most {MAX_GROSS:g} "
            "(weights are fractions of NAV, 0.05 = 5%, cash = 1 - net)"
        )


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
        i = _first(step <= 0) + 1
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
        day = series.index[_first(series.isna())].date()
        raise InvalidHoldings(f"{label}: no price on {day}; every benchmark row needs a positive price")
    return series
