"""Bad input, tried systematically (hypothesis).

Every case must end in a documented outcome: a parsed value, or a domain
error (one line, no traceback), never another exception, a partial write or
a corrupted row. The number of generated cases is printed at the end of the
run (see conftest.pytest_terminal_summary).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
from datetime import date

import numpy as np
import pytest
from factories import make_report
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prometheus.config import Settings
from prometheus.encoders.numeric import NumericPortfolioEncoder
from prometheus.errors import InvalidHoldings, InvalidInput, InvalidReport, InvalidVector
from prometheus.report_files import read_report_file
from prometheus.reports import FACTOR_KEYS, GICS_SECTORS, RISK_METRIC_KEYS, RiskReport
from prometheus.risk import read_benchmark, read_holdings, read_prices
from prometheus.scripts import find_similar_portfolios, show_joint_portfolios
from prometheus.scripts._cli import run
from prometheus.services.backfill import BackfillRequest, backfill_joint, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.services.importing import import_report_file
from prometheus.store.stores import open_stores
from prometheus.store.vector import decode_vector

CASES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Numbers a report might carry, including the hostile ones.
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.just(1e308),
    st.just(-0.0),
)
values = st.one_of(numbers, st.none(), st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=2))
hostile_ids = st.one_of(
    st.text(min_size=0, max_size=30),
    st.sampled_from(
        [
            "PF'; DROP TABLE joint_embeddings; --",
            'PF "quoted", comma',
            "ПОРТФЕЛЬ_é_中文",
            "a\nb",
            " ",
            "x" * 300,
            "PF\x00nul",
            "=cmd|' /C calc'!A0",
        ]
    ),
)
date_texts = st.one_of(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)).map(date.isoformat),
    st.text(max_size=12),
    st.sampled_from(["2025-02-30", "2025-13-01", "31/01/2025", "2025-1-5", "", "0000-00-00", "2025-01-31T00:00"]),
)


def _report_object() -> st.SearchStrategy[dict[str, object]]:
    block_keys = st.sampled_from([*RISK_METRIC_KEYS, *GICS_SECTORS, *FACTOR_KEYS, "unknown_key", "ü"])
    return st.fixed_dictionaries(
        {"portfolio_id": hostile_ids, "as_of_date": date_texts},
        optional={
            "risk_metrics": st.dictionaries(block_keys, values, max_size=6),
            "exposures_by_sector": st.dictionaries(block_keys, values, max_size=4),
            "exposures_by_factor": st.one_of(st.dictionaries(block_keys, values, max_size=3), st.integers()),
            "leverage": values,
            "metadata": st.one_of(st.dictionaries(st.text(max_size=3), st.text(max_size=3)), st.text(max_size=3)),
            "report_id": st.one_of(st.none(), st.text(max_size=8)),
            "unexpected": st.integers(),
        },
    )


@CASES
@given(
    lines=st.lists(
        st.one_of(_report_object().map(lambda o: json.dumps(o, allow_nan=True)), st.text(max_size=40)),
        min_size=1,
        max_size=6,
    )
)
def test_jsonl_files_give_reports_or_numbered_bad_rows(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    path = tmp_path_factory.mktemp("jsonl") / "reports.jsonl"
    path.write_text("\n".join(line.replace("\n", " ") for line in lines) + "\n", encoding="utf-8")
    try:
        parsed = read_report_file(path)
    except InvalidInput as exc:
        assert "\n" not in str(exc)
        return
    content_lines = [i + 1 for i, line in enumerate(lines) if line.replace("\n", " ").strip()]
    assert len(parsed.reports) + len(parsed.bad_rows) == len(content_lines)
    assert all(b.line in content_lines and "\n" not in b.reason for b in parsed.bad_rows)
    for report in parsed.reports:  # whatever was accepted is finite and well-formed
        for block in (report.risk_metrics, report.exposures_by_sector, report.exposures_by_factor):
            assert all(v is None or (isinstance(v, float) and math.isfinite(v)) for v in block.values())


@CASES
@given(text=st.text(max_size=300))
def test_csv_report_files_never_crash(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("csv") / "reports.csv"
    path.write_text("portfolio_id,as_of_date,leverage,risk_metrics\n" + text, encoding="utf-8")
    try:
        parsed = read_report_file(path)
    except InvalidInput:
        return
    assert all(b.line >= 2 for b in parsed.bad_rows)


@CASES
@given(raw=st.binary(max_size=200))
def test_files_in_any_encoding(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("bin") / "reports.jsonl"
    path.write_bytes(raw)
    with contextlib.suppress(InvalidInput):
        read_report_file(path)


@CASES
@given(reports=st.lists(_report_object(), min_size=1, max_size=5))
def test_an_import_is_all_or_nothing(
    tmp_path_factory: pytest.TempPathFactory, reports: list[dict[str, object]]
) -> None:
    folder = tmp_path_factory.mktemp("imp")
    path = folder / "r.jsonl"
    path.write_text("\n".join(json.dumps(r, allow_nan=True) for r in reports) + "\n", encoding="utf-8")
    stores = open_stores(Settings(db_url=f"sqlite:///{folder / 'db.sqlite'}"))
    try:
        parsed = read_report_file(path)
        try:
            summary = import_report_file(stores, path)
        except InvalidReport:
            assert parsed.bad_rows and stores.reports.count() == 0
            return
        assert not parsed.bad_rows
        assert stores.reports.count() == summary.imported == len(parsed.reports)
        for report in parsed.reports:
            stored = stores.reports.get(report.portfolio_id, report.as_of_date)
            assert stored is not None and stored.risk_metrics == report.risk_metrics
    finally:
        stores.dispose()


def _holdings_rows() -> st.SearchStrategy[str]:
    row = st.tuples(
        date_texts,
        st.sampled_from(["PF_1", "PF_2", "", "PF,3"]),
        st.sampled_from(["AAA", "BBB", "ZZZ", "", "aaa"]),
        st.one_of(numbers.map(repr), st.text(max_size=4)),
    )
    return st.lists(row, max_size=6).map(lambda rows: "\n".join(",".join(r) for r in rows))


PRICES = "date,AAA,BBB\n2020-01-02,10,20\n2020-01-03,11,\n2020-01-06,12,21\n"
SECTORS = {"AAA": "Energy", "BBB": "Financials"}


@CASES
@given(body=_holdings_rows(), header=st.sampled_from(["date,portfolio_id,ticker,weight", "date,ticker,weight", ""]))
def test_holdings_files_are_read_or_refused_in_one_line(header: str, body: str) -> None:
    prices = read_prices(io.StringIO(PRICES))
    try:
        frame = read_holdings(io.StringIO(header + "\n" + body + "\n"), prices, SECTORS)
    except InvalidHoldings as exc:
        assert "\n" not in str(exc)
        return
    assert set(frame.columns) == {"date", "portfolio_id", "ticker", "weight"}
    assert np.isfinite(frame["weight"].to_numpy()).all()


@CASES
@given(
    cells=st.lists(st.tuples(date_texts, st.one_of(numbers.map(repr), st.just(""), st.text(max_size=4))), max_size=6)
)
def test_price_and_benchmark_files_refuse_bad_prices(cells: list[tuple[str, str]]) -> None:
    text = "date,AAA\n" + "\n".join(f"{d},{p}" for d, p in cells) + "\n"
    for reader in (read_prices, read_benchmark):
        try:
            table = reader(io.StringIO(text))
        except InvalidHoldings as exc:
            assert "\n" not in str(exc)
            continue
        numbers_read = np.asarray(table, dtype=float)
        assert (numbers_read[np.isfinite(numbers_read)] > 0).all()  # no zero, negative or infinite price kept


@CASES
@given(
    risk=st.dictionaries(st.sampled_from([*RISK_METRIC_KEYS, "extra"]), values, max_size=10),
    sector=st.dictionaries(st.sampled_from([*GICS_SECTORS, "Other", "Crypto"]), values, max_size=5),
)
def test_the_encoder_refuses_by_name_or_encodes_finite_bounded_vectors(
    risk: dict[str, object], sector: dict[str, object]
) -> None:
    report = RiskReport(
        portfolio_id="PF",
        as_of_date=date(2020, 1, 2),
        risk_metrics=risk,  # type: ignore[arg-type]
        exposures_by_sector=sector,
    )  # type: ignore[arg-type]
    batch = NumericPortfolioEncoder().encode_batch([report, make_report()])
    assert len(batch.reports) + len(batch.refused) == 2
    assert np.isfinite(batch.matrix).all() and np.abs(batch.matrix).max() <= 3.0
    for refusal in batch.refused:
        assert refusal.reason.startswith("PF 2020-01-02: ")
    bad = [
        v
        for v in [*risk.values(), *sector.values()]
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v))
    ]
    assert bool(batch.refused) == bool(bad)


@CASES
@given(blob=st.binary(max_size=64), dim=st.integers(min_value=-2, max_value=20))
def test_stored_vectors_of_any_size_or_content_are_checked(blob: bytes, dim: int) -> None:
    try:
        vector = decode_vector(blob, dim)
    except InvalidVector as exc:
        assert "\n" not in str(exc)
        return
    assert vector.shape == (dim,) and np.isfinite(vector).all()


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'db.sqlite'}"
    stores = open_stores(Settings(db_url=url))
    ids = ["PF_A", "PF'; DROP TABLE x; --", 'PF "q", c', "ПОРТ_中"]
    stores.reports.upsert([make_report(pid, date(2020, 1, d)) for pid in ids for d in (2, 3, 6)])
    request = BackfillRequest(DateSelection(start=date(2020, 1, 1), end=date(2020, 1, 31)))
    backfill_numeric(stores, "num-portfolio-core-v1", request)
    backfill_joint(stores, "num-portfolio-core-v1", "joint-portfolio-core-v1", request)
    stores.dispose()
    return url


@CASES
@given(
    portfolio=hostile_ids,
    as_of=date_texts,
    top_k=st.one_of(st.integers(-3, 40).map(str), st.text(max_size=3)),
    extra=st.lists(
        st.sampled_from(["--same-date", "--include-self", "--start", "2020-01-03", "--end", "bad"]), max_size=3
    ),
)
def test_find_similar_arguments(
    small_store: str, capsys: pytest.CaptureFixture[str], portfolio: str, as_of: str, top_k: str, extra: list[str]
) -> None:
    argv = ["--portfolio-id", portfolio, "--as-of", as_of, "--top-k", top_k, *extra, "--db-url", small_store]
    try:
        code = run(find_similar_portfolios.build_parser(), find_similar_portfolios.main, argv)
    except SystemExit as exit_:  # argparse's usage errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    assert code in (0, 2)
    assert "Traceback" not in err
    if code == 0:
        rows = list(csv.reader(io.StringIO(out)))
        assert rows[0] == ["cosine", "euclidean", "portfolio_id", "source", "as_of_date"]
        assert all(len(r) == 5 for r in rows)
    else:
        assert out == "" and len(err.strip().splitlines()) == 1


@CASES
@given(portfolio=hostile_ids, start=date_texts, limit=st.one_of(st.integers(-2, 5).map(str), st.text(max_size=2)))
def test_show_arguments_and_hostile_ids_round_trip_through_csv(
    small_store: str, capsys: pytest.CaptureFixture[str], portfolio: str, start: str, limit: str
) -> None:
    argv = ["--start", start, "--portfolio-id", portfolio, "--limit", limit, "--db-url", small_store]
    try:
        code = run(show_joint_portfolios.build_parser(), show_joint_portfolios.main, argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    assert code in (0, 2) and "Traceback" not in err
    if code == 0:
        rows = list(csv.DictReader(io.StringIO(out)))
        assert all(r["portfolio_id"] == portfolio for r in rows)


def test_every_hostile_id_survives_the_csv_round_trip(small_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        show_joint_portfolios.build_parser(),
        show_joint_portfolios.main,
        ["--as-of", "2020-01-02", "--db-url", small_store],
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert code == 0
    assert sorted(r["portfolio_id"] for r in rows) == sorted(["PF_A", "PF'; DROP TABLE x; --", 'PF "q", c', "ПОРТ_中"])
