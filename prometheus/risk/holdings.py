"""The holdings file and in-memory holdings: read, then checked against the weight rule, prices and sectors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prometheus.errors import InvalidHoldings
from prometheus.risk.readers import (
    Source,
    first_true,
    parse_dates,
    read_table,
    require_filled,
    sector_map,
    source_label,
)

HOLDINGS_COLUMNS: tuple[str, ...] = ("date", "portfolio_id", "ticker", "weight")

# The weight rule (fractions of NAV, cash = 1 - net): net exposure in
# [MIN_NET, MAX_NET] and gross exposure at most MAX_GROSS. It admits
# long-only books with cash, 130/30, market-neutral and 1.5x-2x leveraged
# books, and rejects weights written in percent (which sum to ~100).
MIN_NET = -1.0
MAX_NET = 2.0
MAX_GROSS = 3.0
WEIGHT_TOLERANCE = 1e-6


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
    label = source_label(source, "holdings")
    table = read_table(source, label, HOLDINGS_COLUMNS, ",".join(HOLDINGS_COLUMNS))
    require_filled(table, label, ("portfolio_id", "ticker"))
    dates = parse_dates(table["date"], label)
    weights = pd.to_numeric(table["weight"], errors="coerce").astype(float)
    bad = ~np.isfinite(weights.to_numpy())
    if bad.any():
        i = first_true(bad)
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
            raise InvalidHoldings(f"{label} row {holdings.index[first_true(blank)]}: empty {column}; fill it in")
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
        raise InvalidHoldings(f"{label} row {frame.index[first_true(no_date)]}: date is missing; use YYYY-MM-DD")
    no_weight = ~np.isfinite(frame["weight"].to_numpy())
    if no_weight.any():
        raise InvalidHoldings(
            f"{label} row {frame.index[first_true(no_weight)]}: weight is missing or not a number; "
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
        i = first_true(dup)
        pid, day, ticker = frame["portfolio_id"].iloc[i], frame["date"].iloc[i].date(), frame["ticker"].iloc[i]
        raise InvalidHoldings(
            f"{at(i)}: duplicate row for portfolio '{pid}', date {day}, ticker '{ticker}'; "
            "list each ticker once per portfolio and date"
        )
    back = (frame.groupby("portfolio_id", sort=False)["date"].diff() < pd.Timedelta(0)).to_numpy()
    if back.any():
        i = first_true(back)
        pid, day = frame["portfolio_id"].iloc[i], frame["date"].iloc[i].date()
        raise InvalidHoldings(
            f"{at(i)}: dates out of order for portfolio '{pid}' ({day} comes after a later date); "
            "sort each portfolio's rows by date, oldest first"
        )

    if prices is not None:
        known = frame["ticker"].isin(prices.columns).to_numpy()
        if not known.all():
            i = first_true(~known)
            raise InvalidHoldings(
                f"{at(i)}: ticker '{frame['ticker'].iloc[i]}' is not in the prices file; "
                "add its prices or remove the holding"
            )
    if sectors is not None:
        mapping = sector_map(sectors)
        has_sector = frame["ticker"].isin(list(mapping)).to_numpy()
        if not has_sector.all():
            i = first_true(~has_sector)
            raise InvalidHoldings(
                f"{at(i)}: ticker '{frame['ticker'].iloc[i]}' has no sector; add it to the sectors file"
            )
    if prices is not None:
        trading = frame["date"].isin(prices.index).to_numpy()
        if not trading.all():
            i = first_true(~trading)
            raise InvalidHoldings(
                f"{at(i)}: {frame['date'].iloc[i].date()} is not a date in the prices file; "
                "rebalance only on dates that have prices"
            )
        rows = prices.index.get_indexer(pd.DatetimeIndex(frame["date"]))
        cols = prices.columns.get_indexer(pd.Index(frame["ticker"]))
        priced = np.isfinite(prices.to_numpy(dtype=float)[rows, cols])
        if not priced.all():
            i = first_true(~priced)
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
