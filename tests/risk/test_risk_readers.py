"""Every malformed input file gives one InvalidHoldings line; the text is the contract."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prometheus.errors import InvalidHoldings
from prometheus.reports import OTHER_SECTOR
from prometheus.risk import build_reports, read_benchmark, read_holdings, read_prices, read_sectors

PRICES = """date,AAA,BBB,CCC
2020-01-02,10,20,
2020-01-03,11,21,
2020-01-06,12,22,5
2020-01-07,13,23,6
"""
SECTORS = """ticker,name,gics_sector
AAA,Alpha,Information Technology
BBB,Beta,Energy
CCC,Gamma,Financials
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(call, *args) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidHoldings) as err:
        call(*args)
    message = str(err.value)
    assert "\n" not in message
    return message


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return read_prices(write(tmp_path, "prices.csv", PRICES)), read_sectors(write(tmp_path, "sectors.csv", SECTORS))


def test_good_files_parse(tmp_path: Path, inputs: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    prices, sectors = inputs
    assert list(prices.columns) == ["AAA", "BBB", "CCC"]
    assert np.isnan(prices.loc["2020-01-03", "CCC"]) and prices.loc["2020-01-06", "CCC"] == 5.0
    holdings = read_holdings(
        write(tmp_path, "h.csv", "date,portfolio_id,ticker,weight\n2020-01-02,P,AAA,0.6\n2020-01-02,P,BBB,0.3\n"),
        prices,
        sectors,
    )
    assert holdings.to_dict("list")["weight"] == [0.6, 0.3]
    odd = read_sectors(io.StringIO("ticker,name,gics_sector\nXYZ,Xyz,Telecommunication Services\nABC,Abc,energy\n"))
    assert odd["gics_sector"].tolist() == [OTHER_SECTOR, "Energy"]
    bench = read_benchmark(write(tmp_path, "bench.csv", "date,SPY\n2020-01-02,300\n2020-01-03,301.5\n"))
    assert bench.name == "SPY" and bench.tolist() == [300.0, 301.5]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "prices.csv: file is empty; expected a header line 'date,TICKER1,TICKER2,...'"),
        (
            "day,AAA\n2020-01-02,1\n",
            "prices.csv: missing column(s) 'date'; expected a header line 'date,TICKER1,TICKER2,...'",
        ),
        ("date\n2020-01-02\n", "prices.csv: no ticker columns; expected a header line 'date,TICKER1,TICKER2,...'"),
        ("date,AAA\n", "prices.csv: file has a header but no data rows; add at least one row"),
        ("date,AAA,AAA\n2020-01-02,1,2\n", "prices.csv: column 'AAA' appears twice in the header; keep one"),
        (
            "date,AAA\n2020-01-02,1\n02/01/2020,2\n",
            "prices.csv line 3: malformed date '02/01/2020'; write dates as YYYY-MM-DD",
        ),
        (
            "date,AAA\n2020-01-02,1\n2020-01-02,2\n",
            "prices.csv line 3: duplicate date 2020-01-02; keep one row per date in the prices file",
        ),
        (
            "date,AAA\n2020-01-03,1\n2020-01-02,2\n",
            "prices.csv line 3: date 2020-01-02 is out of order (after 2020-01-03); "
            "sort the rows by date, oldest first",
        ),
        (
            "date,AAA\n2020-01-02,1\n2020-01-03,-1\n",
            "prices.csv line 3: price '-1' for 'AAA' is not a positive number; "
            "leave the cell empty before the ticker lists, otherwise write a positive price",
        ),
        (
            "date,AAA\n2020-01-02,0\n",
            "prices.csv line 2: price '0' for 'AAA' is not a positive number; "
            "leave the cell empty before the ticker lists, otherwise write a positive price",
        ),
        (
            "date,AAA\n2020-01-02,NaN\n",
            "prices.csv line 2: price 'NaN' for 'AAA' is not a positive number; "
            "leave the cell empty before the ticker lists, otherwise write a positive price",
        ),
        (
            "date,AAA\n2020-01-02,abc\n",
            "prices.csv line 2: price 'abc' for 'AAA' is not a positive number; "
            "leave the cell empty before the ticker lists, otherwise write a positive price",
        ),
        (
            "date,AAA\n2020-01-02,1\n2020-01-03,1,2\n",
            "prices.csv: not a valid CSV file (Expected 2 fields in line 3, saw 3); "
            "every line needs the same number of commas as the header",
        ),
    ],
)
def test_bad_prices(tmp_path: Path, text: str, message: str) -> None:
    assert error_of(read_prices, write(tmp_path, "prices.csv", text)) == message


def test_missing_file(tmp_path: Path) -> None:
    assert error_of(read_prices, tmp_path / "nope.csv") == "nope.csv: file not found; check the path"


HEADER = "date,portfolio_id,ticker,weight\n"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("", "h.csv: file has a header but no data rows; add at least one row"),
        (
            "2020-01-02,P,ZZZ,0.5\n",
            "h.csv line 2: ticker 'ZZZ' is not in the prices file; add its prices or remove the holding",
        ),
        (
            "2020-01-02,P,AAA,0.5\n2020-01-03,P,CCC,0.5\n",
            "h.csv line 3: ticker 'CCC' has no price on 2020-01-03 (not listed yet or missing); "
            "hold only names priced on each rebalancing date",
        ),
        (
            "2020-01-04,P,AAA,0.5\n",
            "h.csv line 2: 2020-01-04 is not a date in the prices file; rebalance only on dates that have prices",
        ),
        (
            "2020-01-02,P,AAA,0.5\n2020-01-02,P,AAA,0.3\n",
            "h.csv line 3: duplicate row for portfolio 'P', date 2020-01-02, ticker 'AAA'; "
            "list each ticker once per portfolio and date",
        ),
        (
            "2020-01-03,P,AAA,0.5\n2020-01-02,Q,AAA,0.5\n2020-01-02,P,AAA,0.5\n",
            "h.csv line 4: dates out of order for portfolio 'P' (2020-01-02 comes after a later date); "
            "sort each portfolio's rows by date, oldest first",
        ),
        (
            "2020-01-02,P,AAA,60\n2020-01-02,P,BBB,40\n",
            "h.csv line 2: weights of portfolio 'P' on 2020-01-02 have net 100 and gross 100; "
            "net must lie in [-1, 2] and gross be at most 3 (weights are fractions of NAV, 0.05 = 5%, cash = 1 - net)",
        ),
        (
            "2020-01-02,P,AAA,0.5\n2020-01-06,P,AAA,1.8\n2020-01-06,P,BBB,-1.5\n",
            "h.csv line 3: weights of portfolio 'P' on 2020-01-06 have net 0.3 and gross 3.3; "
            "net must lie in [-1, 2] and gross be at most 3 (weights are fractions of NAV, 0.05 = 5%, cash = 1 - net)",
        ),
        ("2020-1-32,P,AAA,0.5\n", "h.csv line 2: malformed date '2020-1-32'; write dates as YYYY-MM-DD"),
        (
            "2020-01-02,P,AAA,\n",
            "h.csv line 2: weight '' is not a number; write weights as fractions of NAV (0.05 = 5%)",
        ),
        (
            "2020-01-02,P,AAA,nan\n",
            "h.csv line 2: weight 'nan' is not a number; write weights as fractions of NAV (0.05 = 5%)",
        ),
        ("2020-01-02,,AAA,0.5\n", "h.csv line 2: empty portfolio_id; fill it in or delete the line"),
    ],
)
def test_bad_holdings(tmp_path: Path, inputs: tuple[pd.DataFrame, pd.DataFrame], rows: str, message: str) -> None:
    prices, sectors = inputs
    assert error_of(read_holdings, write(tmp_path, "h.csv", HEADER + rows), prices, sectors) == message


def test_holding_without_sector(tmp_path: Path, inputs: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    prices, _ = inputs
    sectors = read_sectors(io.StringIO("ticker,name,gics_sector\nAAA,Alpha,Information Technology\n"))
    path = write(tmp_path, "h.csv", HEADER + "2020-01-02,P,AAA,0.5\n2020-01-02,P,BBB,0.5\n")
    assert error_of(read_holdings, path, prices, sectors) == (
        "h.csv line 3: ticker 'BBB' has no sector; add it to the sectors file"
    )


def test_holdings_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", "date,portfolio,ticker,weight\n2020-01-02,P,AAA,0.5\n")
    assert error_of(read_holdings, path) == (
        "h.csv: missing column(s) 'portfolio_id'; expected a header line 'date,portfolio_id,ticker,weight'"
    )


def test_in_memory_holdings_cite_rows(inputs: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    prices, sectors = inputs
    holdings = pd.DataFrame(
        {
            "date": ["2020-01-02", "2020-01-02"],
            "portfolio_id": ["P", "P"],
            "ticker": ["AAA", "ZZZ"],
            "weight": [0.5, 0.5],
        }
    )
    bench = pd.Series([1.0, 1.0, 1.0, 1.0], index=prices.index)
    assert error_of(build_reports, prices, holdings, bench, sectors) == (
        "holdings row 1: ticker 'ZZZ' is not in the prices file; add its prices or remove the holding"
    )


def test_in_memory_holdings_without_ticker(inputs: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    prices, sectors = inputs
    holdings = pd.DataFrame({"date": ["2020-01-02"], "portfolio_id": ["P"], "ticker": [None], "weight": [0.5]})
    bench = pd.Series([1.0, 1.0, 1.0, 1.0], index=prices.index)
    assert error_of(build_reports, prices, holdings, bench, sectors) == "holdings row 0: empty ticker; fill it in"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "date,SPY,QQQ\n2020-01-02,1,2\n",
            "bench.csv: expected exactly one price column besides 'date', found 2; keep one benchmark per file",
        ),
        (
            "date,SPY\n2020-01-02,\n",
            "bench.csv line 2: benchmark price for 'SPY' is empty; every row needs a positive benchmark price",
        ),
        (
            "date,SPY\n2020-01-02,x\n",
            "bench.csv line 2: benchmark price 'x' for 'SPY' is not a positive number; "
            "write a positive benchmark price",
        ),
        (
            "date,SPY\n2020-01-03,1\n2020-01-03,1\n",
            "bench.csv line 3: duplicate date 2020-01-03; keep one row per date in the benchmark file",
        ),
    ],
)
def test_bad_benchmark(tmp_path: Path, text: str, message: str) -> None:
    assert error_of(read_benchmark, write(tmp_path, "bench.csv", text)) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "ticker,gics_sector\nAAA,Energy\n",
            "sectors.csv: missing column(s) 'name'; expected a header line 'ticker,name,gics_sector'",
        ),
        (
            "ticker,name,gics_sector\nAAA,A,Energy\nAAA,A,Energy\n",
            "sectors.csv line 3: ticker 'AAA' is listed twice; keep one line per ticker",
        ),
        ("ticker,name,gics_sector\nAAA,A,\n", "sectors.csv line 2: empty gics_sector; fill it in or delete the line"),
        ("", "sectors.csv: file is empty; expected a header line 'ticker,name,gics_sector'"),
    ],
)
def test_bad_sectors(tmp_path: Path, text: str, message: str) -> None:
    assert error_of(read_sectors, write(tmp_path, "sectors.csv", text)) == message


def test_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_bytes("\ufeffdate,AAA\n2020-01-02,1.5\n".encode())
    assert read_prices(path)["AAA"].tolist() == [1.5]


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_bytes(b"date,AAA\n2020-01-02,\xff\xfe\n")
    assert error_of(read_prices, path) == "prices.csv: not UTF-8 text; save the file as UTF-8 CSV"
