"""Imports that used to end in a traceback, hang, or take lenient input: one line, exit 2, nothing written.

Each test here failed before its fix (issue #14, items 5, 8, 14-17), on SQLite and PostgreSQL
where the two databases differed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from helpers import SAMPLE_JSONL, invoke

from prometheus import report_files
from prometheus.config import Settings
from prometheus.errors import InvalidInput
from prometheus.report_files import ReportFile, read_report_file
from prometheus.reports import default_report_id
from prometheus.services.importing import check_report_file
from prometheus.store import report_import
from prometheus.store.stores import open_stores

ENGINE = Path(__file__).parent / "data" / "engine"
GOOD = '{"portfolio_id": "PF_A", "as_of_date": "2025-01-31", "risk_metrics": {"drawdown": -0.1}}'


def stored(db_url: str) -> int:
    stores = open_stores(Settings(db_url=db_url))
    try:
        return stores.reports.count()
    finally:
        stores.dispose()


def refused(db_url: str, path: Path, *extra: str) -> str:
    """Import ``path``: exit 2, one line on stderr, nothing on stdout, nothing stored; the line."""
    result = invoke("import_risk_reports", str(path), *extra, db_url=db_url)
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert stored(db_url) == 0
    return lines[0]


def one_bad_line(path: Path, reason: str, bad_line: int = 2) -> str:
    return (
        f"error: {path.name}: 1 invalid row(s), nothing imported (fix them or pass --skip-invalid): "
        f"line {bad_line}: {reason}"
    )


def jsonl(tmp_path: Path, *lines: str, name: str = "reports.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


TOO_LARGE = "is too large (beyond 1.8e308); risk reports must hold finite numbers (or null)"


# ---------------------------------------------------------------- item 5: tracebacks where one line belongs


def test_a_400_digit_integer_is_one_line(db_url: str, tmp_path: Path) -> None:
    line = '{"portfolio_id": "PF_B", "as_of_date": "2025-01-31", "risk_metrics": {"drawdown": ' + "9" * 400 + "}}"
    path = jsonl(tmp_path, GOOD, line)
    assert refused(db_url, path) == one_bad_line(path, f"a number at column 83 {TOO_LARGE}")


def test_1e309_in_metadata_is_one_line_on_both_databases(db_url: str, tmp_path: Path) -> None:
    path = jsonl(tmp_path, GOOD, '{"portfolio_id": "PF_B", "as_of_date": "2025-01-31", "metadata": {"x": 1e309}}')
    assert refused(db_url, path) == one_bad_line(path, f"a number at column 72 {TOO_LARGE}")


def test_a_lone_surrogate_is_one_line(db_url: str, tmp_path: Path) -> None:
    path = jsonl(tmp_path, GOOD, '{"portfolio_id": "PF_B", "as_of_date": "2025-01-31", "metadata": {"x": "\\ud800"}}')
    assert refused(db_url, path) == one_bad_line(
        path, "a string at column 73 holds a lone surrogate (such as \\ud800), which is not text: remove it"
    )


@pytest.mark.parametrize("depth", [40, 1100, 100_000])
def test_deep_nesting_is_one_line(sqlite_url: str, tmp_path: Path, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    row = f'{{"portfolio_id": "PF_B", "as_of_date": "2025-01-31", "metadata": {{"x": {nested}}}}}'
    path = jsonl(tmp_path, GOOD, row)
    reason = "JSON nested more than 32 levels deep; flatten it"
    if depth == 40:  # parsed, then refused by the metadata rule
        reason = "report PF_B 2025-01-31: metadata.x is nested more than 32 levels deep; flatten it"
    assert refused(sqlite_url, path) == one_bad_line(path, reason)


def test_a_csv_field_over_the_csv_limit_is_one_line(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "reports.csv"
    path.write_text(f'portfolio_id,as_of_date,metadata\nPF_A,2025-01-31,"{"x" * 140_000}"\n', encoding="utf-8")
    assert refused(sqlite_url, path) == (
        f"error: {path} line 2: a field is longer than 131,072 characters (is a quote left open?); nothing imported"
    )


@pytest.mark.parametrize("flag", ["--start", "--end"])
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_build_refuses_dates_outside_the_range_at_the_door(sqlite_url: str, flag: str, day: str) -> None:
    files = ["--prices", "prices.csv", "--holdings", "holdings.csv", "--benchmark", "bench.csv", "--sectors"]
    args = [str(ENGINE / a) if a.endswith(".csv") else a for a in [*files, "sectors.csv"]]
    result = invoke("build_risk_reports", *args, flag, day, db_url=sqlite_url)
    assert result.returncode == 2
    assert result.stderr == (
        f"python -m prometheus.scripts.build_risk_reports: error: argument {flag}: date {day} is outside the "
        "supported range 1900-01-01 to 2199-12-31 (see --help)\n"
    )


@pytest.mark.parametrize(("name", "day"), [("prices", "9999-12-31"), ("holdings", "0001-01-01")])
def test_engine_input_dates_outside_the_range_are_one_line(
    sqlite_url: str, tmp_path: Path, name: str, day: str
) -> None:
    files = {n: ENGINE / f"{n}.csv" for n in ("prices", "holdings", "bench", "sectors")}
    edited = tmp_path / f"{name}.csv"
    lines = files[name].read_text().splitlines()
    lines[1] = day + lines[1][10:]
    edited.write_text("\n".join(lines) + "\n")
    files[name] = edited
    result = invoke(
        "build_risk_reports",
        *("--prices", str(files["prices"]), "--holdings", str(files["holdings"])),
        *("--benchmark", str(files["bench"]), "--sectors", str(files["sectors"])),
        db_url=sqlite_url,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"error: {name}.csv line 2: date {day} is outside the supported range 1900-01-01 to 2199-12-31; "
        "correct or remove the line\n"
    )
    assert stored(sqlite_url) == 0


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01"])
def test_report_dates_outside_the_range_are_refused(sqlite_url: str, tmp_path: Path, day: str) -> None:
    path = jsonl(tmp_path, GOOD, f'{{"portfolio_id": "PF_B", "as_of_date": "{day}"}}')
    assert refused(sqlite_url, path) == one_bad_line(
        path, f"as_of_date {day} is outside the supported range 1900-01-01 to 2199-12-31"
    )


def test_the_range_ends_are_accepted(sqlite_url: str, tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        '{"portfolio_id": "PF_B", "as_of_date": "1900-01-01"}',
        '{"portfolio_id": "PF_B", "as_of_date": "2199-12-31"}',
    )
    assert invoke("import_risk_reports", str(path), db_url=sqlite_url).returncode == 0
    assert stored(sqlite_url) == 2


# ---------------------------------------------------------------- item 14: --skip-invalid exits 1


def test_skip_invalid_exits_1_when_rows_were_skipped(sqlite_url: str, tmp_path: Path) -> None:
    path = jsonl(tmp_path, GOOD, '{"portfolio_id": "PF_B", "as_of_date": "x"}')
    result = invoke("import_risk_reports", str(path), "--skip-invalid", db_url=sqlite_url)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "skipped line 2: invalid as_of_date 'x': use YYYY-MM-DD, e.g. 2025-01-31",
        "imported 1 risk report(s), skipped 1 invalid row(s)",
    ]
    clean = invoke("import_risk_reports", str(jsonl(tmp_path, GOOD)), "--skip-invalid", db_url=sqlite_url)
    assert clean.returncode == 0


# ---------------------------------------------------------------- item 15: FIFOs and absurd widths


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "reports.jsonl"
    os.mkfifo(path)

    def unblock() -> None:  # a reader left waiting by a regression gets an end of file, and the test fails
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    watchdog = threading.Timer(20, unblock)
    watchdog.daemon = True
    watchdog.start()
    yield path
    watchdog.cancel()


def test_a_fifo_given_as_a_file_is_refused_at_once(sqlite_url: str, fifo: Path) -> None:
    line = refused(sqlite_url, fifo)
    assert line == f"error: {fifo} is not a regular file (a pipe, socket or device); give the path of a file"
    result = invoke(
        "build_risk_reports",
        *("--prices", str(fifo), "--holdings", str(ENGINE / "holdings.csv")),
        *("--benchmark", str(ENGINE / "bench.csv"), "--sectors", str(ENGINE / "sectors.csv")),
        db_url=sqlite_url,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "error: reports.jsonl: is not a regular file (a pipe, socket or device); give the path of a file\n"
    )


def test_a_prices_file_of_absurd_width_is_refused_before_it_is_parsed(sqlite_url: str, tmp_path: Path) -> None:
    prices = tmp_path / "prices.csv"
    tickers = [f"T{i}" for i in range(200_000)]
    prices.write_text("date," + ",".join(tickers) + "\n2020-01-02," + ",".join("1" * len(tickers)) + "\n")
    result = invoke(
        "build_risk_reports",
        *("--prices", str(prices), "--holdings", str(ENGINE / "holdings.csv")),
        *("--benchmark", str(ENGINE / "bench.csv"), "--sectors", str(ENGINE / "sectors.csv")),
        db_url=sqlite_url,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "error: prices.csv: 200,001 columns; at most 20,000 are supported (keep only the tickers your holdings use)\n"
    )


# ---------------------------------------------------------------- item 16: an interrupted import says the truth


def test_an_interrupted_import_says_nothing_was_imported(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_files, "CHUNK_ROWS", 10)
    calls = []
    original = report_import.ReportImport.write

    def write_then_interrupt(self: report_import.ReportImport, rows: list[tuple[object, ...]]) -> None:
        calls.append(len(rows))
        if len(calls) == 3:
            raise KeyboardInterrupt
        original(self, rows)

    monkeypatch.setattr(report_import.ReportImport, "write", write_then_interrupt)
    result = invoke("import_risk_reports", str(SAMPLE_JSONL), db_url=db_url)
    assert result.returncode == 130
    assert result.stderr == (
        "interrupted: nothing was imported (an import is one transaction); run the same command again\n"
    )
    assert calls == [10, 10, 10]  # two chunks had been written inside the transaction
    assert stored(db_url) == 0


# ---------------------------------------------------------------- item 17: lenient input, refused


@pytest.mark.parametrize(
    ("day", "shown"),
    [
        ("2025-W05-1", "'2025-W05-1'"),
        ("\u00a02025-01-31", "'\\xa02025-01-31'"),
        ("2025-01-31\u00a0", "'2025-01-31\\xa0'"),
    ],
)
def test_iso_week_dates_and_no_break_spaces_are_refused(sqlite_url: str, tmp_path: Path, day: str, shown: str) -> None:
    path = jsonl(tmp_path, GOOD, json.dumps({"portfolio_id": "PF_B", "as_of_date": day}))
    assert refused(sqlite_url, path) == one_bad_line(
        path, f"invalid as_of_date {shown}: use YYYY-MM-DD, e.g. 2025-01-31"
    )
    flag = invoke("show_joint_portfolios", "--as-of", day, db_url=sqlite_url)
    assert flag.returncode == 2 and f"argument --as-of: invalid date {shown}" in flag.stderr


def test_spaces_around_a_date_are_still_accepted(sqlite_url: str, tmp_path: Path) -> None:
    path = jsonl(tmp_path, json.dumps({"portfolio_id": "PF_B", "as_of_date": " 2025-01-31\t"}))
    assert invoke("import_risk_reports", str(path), db_url=sqlite_url).returncode == 0


@pytest.mark.parametrize(("character", "code"), [("\u2028", "U+2028"), ("\u202e", "U+202E"), ("\u00a0", "U+00A0")])
@pytest.mark.parametrize("column", ["portfolio_id", "report_id"])
def test_ids_with_invisible_characters_are_refused(
    sqlite_url: str, tmp_path: Path, character: str, code: str, column: str
) -> None:
    row = {"portfolio_id": "PF_B", "as_of_date": "2025-01-31", column: f"PF{character}B"}
    path = jsonl(tmp_path, GOOD, json.dumps(row))
    prefix = "report PF_B 2025-01-31: " if column == "report_id" else ""
    assert refused(sqlite_url, path) == one_bad_line(
        path, f"{prefix}{column} contains the non-printable character {code}: remove it"
    )


def test_nul_in_metadata_is_refused_on_both_databases(db_url: str, tmp_path: Path) -> None:
    path = jsonl(tmp_path, GOOD, '{"portfolio_id": "PF_B", "as_of_date": "2025-01-31", "metadata": {"x": "a\\u0000b"}}')
    assert refused(db_url, path) == one_bad_line(
        path,
        "report PF_B 2025-01-31: metadata.x contains a NUL character (\\u0000), which PostgreSQL cannot store: "
        "remove it",
    )


def test_report_ids_over_64_characters_are_refused_on_both_databases(db_url: str, tmp_path: Path) -> None:
    row = {"portfolio_id": "PF_B", "as_of_date": "2025-01-31", "report_id": "r" * 65}
    path = jsonl(tmp_path, GOOD, json.dumps(row))
    assert refused(db_url, path) == one_bad_line(
        path,
        "report PF_B 2025-01-31: report_id is longer than 64 characters: shorten it, or leave it empty to have one "
        "generated",
    )
    exactly = jsonl(tmp_path, json.dumps({"portfolio_id": "PF_B", "as_of_date": "2025-01-31", "report_id": "r" * 64}))
    assert invoke("import_risk_reports", str(exactly), db_url=db_url).returncode == 0


# ---------------------------------------------------------------- item 8: streamed, in bounded memory


def test_rows_are_numbered_right_across_read_blocks_and_chunks(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_files, "READ_BYTES", 97)  # lines straddle every block
    monkeypatch.setattr(report_files, "CHUNK_ROWS", 3)
    lines = [json.dumps({"portfolio_id": f"PF_{i}", "as_of_date": "2025-01-31"}) for i in range(20)]
    lines[7] = '{"portfolio_id": "PF_X", "as_of_date": "2025-13-01"}'
    lines[15] = lines[2]  # a duplicate, three chunks after the first
    lines.insert(11, "")
    path = jsonl(tmp_path, *lines)
    check = check_report_file(path)
    assert [str(b) for b in check.bad_rows] == [
        "line 8: invalid as_of_date '2025-13-01': use YYYY-MM-DD, e.g. 2025-01-31",
        "line 17: duplicate of line 3 (PF_2 2025-01-31)",
    ]
    assert (check.reports, check.bad_count, check.portfolios) == (18, 2, 18)


def test_a_repeated_report_id_names_the_first_line(sqlite_url: str, tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        json.dumps({"portfolio_id": "PF_A", "as_of_date": "2025-01-31", "report_id": "R1"}),
        json.dumps({"portfolio_id": "PF_B", "as_of_date": "2025-01-31", "report_id": "R1"}),
    )
    assert refused(sqlite_url, path) == one_bad_line(
        path, "report_id 'R1' is already used by line 1; give each report its own id, or leave it empty"
    )


def test_an_over_long_line_is_one_bad_row_and_later_lines_keep_their_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_files, "READ_BYTES", 1000)
    monkeypatch.setattr(report_files, "MAX_LINE_BYTES", 2000)
    long = json.dumps({"portfolio_id": "PF_L", "as_of_date": "2025-01-31", "metadata": {"x": "y" * 5000}})
    path = jsonl(tmp_path, GOOD, long, '{"portfolio_id": "PF_C", "as_of_date": "bad"}')
    parsed = read_report_file(path)
    assert [b.line for b in parsed.bad_rows] == [2, 3]
    assert parsed.bad_rows[0].reason.endswith("; a report is a few KB (one JSON object per line)")
    assert [r.portfolio_id for r in parsed.reports] == ["PF_A"]


def test_a_bad_byte_is_named_by_its_offset_in_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_files, "READ_BYTES", 50)
    path = tmp_path / "reports.jsonl"
    path.write_bytes((GOOD + "\n").encode() * 3 + b'{"portfolio_id": "\xff"}\n')
    with pytest.raises(InvalidInput, match=rf"^{path} is not UTF-8 text \(byte {3 * (len(GOOD) + 1) + 18}\)"):
        check_report_file(path)


def _memory_peak(path: Path) -> int:
    tracemalloc.start()
    try:
        check_report_file(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_files, "CHUNK_ROWS", 200)
    monkeypatch.setattr(report_files, "READ_BYTES", 64 * 1024)
    row = json.loads(SAMPLE_JSONL.read_text().splitlines()[0])
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    for path, count in ((small, 2_000), (large, 16_000)):
        with path.open("w") as out:
            for i in range(count):  # 40 books, a new date every 40 rows
                day = date.fromordinal(date(1990, 1, 1).toordinal() + i // 40).isoformat()
                out.write(json.dumps({**row, "portfolio_id": f"PF_{i % 40}", "as_of_date": day}) + "\n")
    assert _memory_peak(large) < 1.5 * _memory_peak(small)  # 8x the rows, not 8x the memory


def test_the_generated_id_is_uuid5_of_portfolio_and_date() -> None:
    namespace = uuid.UUID("6f1c1d2e-3c55-4f59-9a57-2d7a0c2b9e11")
    for pid in ("PF_A", "ПОРТ_中", "a|b", *(f"PF_{i}" for i in range(200))):  # every variant digit
        assert default_report_id(pid, date(2025, 1, 31)) == str(uuid.uuid5(namespace, f"{pid}|2025-01-31"))


def test_an_unknown_format_and_a_folder_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"^unknown format 'xml': use csv or jsonl$"):
        ReportFile(tmp_path / "x.jsonl", "xml")
    with pytest.raises(InvalidInput, match=f"^{re.escape(str(tmp_path))} is a folder; give the path of a file$"):
        list(ReportFile(tmp_path).chunks())


def test_an_interrupted_build_says_nothing_was_stored(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from prometheus.store.reports import ReportStore

    def interrupted(*_args: object, **_kwargs: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(ReportStore, "upsert", interrupted)
    result = invoke(
        "build_risk_reports",
        *("--prices", str(ENGINE / "prices.csv"), "--holdings", str(ENGINE / "holdings.csv")),
        *("--benchmark", str(ENGINE / "bench.csv"), "--sectors", str(ENGINE / "sectors.csv")),
        db_url=sqlite_url,
    )
    assert result.returncode == 130
    assert result.stderr == (
        "interrupted: nothing was stored (the reports are written in one transaction); run the command again\n"
    )
    assert stored(sqlite_url) == 0
