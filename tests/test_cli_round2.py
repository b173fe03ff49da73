"""Round 2 for the command-line faces: one line where a traceback was, no secret in any line,
formula cells neutralised in CSV (raw on request), stdout problems said once."""

from __future__ import annotations

import contextlib
import csv
import io
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from factories import make_report
from helpers import PROJECT, cli_env, invoke

from prometheus.config import Settings
from prometheus.presenters.csv_files import csv_bytes, csv_text, neutralise
from prometheus.scripts import show_joint_portfolios
from prometheus.scripts._cli import run
from prometheus.services.backfill import BackfillRequest, backfill_joint, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.store.stores import open_stores

DAY = "2020-01-02"
FORMULAS = ['=HYPERLINK("http://x")', "+1+2", "-cmd", "@SUM(A1)"]  # ids may not hold tabs or CRs
NON_ASCII = "ПОРТФЕЛЬ_中"


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'db.sqlite'}"
    stores = open_stores(Settings(db_url=url))
    ids = ["PF_PLAIN", NON_ASCII, *FORMULAS]
    stores.reports.upsert([make_report(pid, date(2020, 1, d)) for pid in ids for d in (2, 3)])
    request = BackfillRequest(DateSelection(start=date(2020, 1, 1), end=date(2020, 1, 31)))
    backfill_numeric(stores, "num-portfolio-core-v1", request)
    backfill_joint(stores, "num-portfolio-core-v1", "joint-portfolio-core-v1", request)
    stores.dispose()
    return url


def _ids(text: str) -> set[str]:
    return {row["portfolio_id"] for row in csv.DictReader(io.StringIO(text, newline=""))}


# ---------------------------------------------------------------- CSV formula injection (item 7)


def test_formula_cells_are_neutralised_in_cli_csv_and_raw_csv_keeps_them(hostile_store: str) -> None:
    shown = invoke("show_joint_portfolios", "--as-of", DAY, db_url=hostile_store)
    assert shown.returncode == 0
    assert _ids(shown.stdout) == {"PF_PLAIN", NON_ASCII, *("'" + f for f in FORMULAS)}
    raw = invoke("show_joint_portfolios", "--as-of", DAY, "--raw-csv", db_url=hostile_store)
    assert _ids(raw.stdout) == {"PF_PLAIN", NON_ASCII, *FORMULAS}
    similar = invoke(
        "find_similar_portfolios", "--portfolio-id", "PF_PLAIN", "--as-of", DAY, "--top-k", "50", db_url=hostile_store
    )
    rows = list(csv.DictReader(io.StringIO(similar.stdout, newline="")))
    assert {r["portfolio_id"] for r in rows} >= {"'" + f for f in FORMULAS}
    assert all(not r["portfolio_id"].startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows)


@pytest.mark.parametrize("cell", ["\tTAB", "\rCR", "=1", "@x", "+x", "-x", "-1+1"])
def test_every_formula_start_is_neutralised(cell: str) -> None:
    assert neutralise(cell) == "'" + cell
    assert list(csv.reader(io.StringIO(csv_text(["v"], [[cell]]), newline="")))[1] == ["'" + cell]


@pytest.mark.parametrize("cell", ["-0.25", "+3", "-1e-05", "-.5", "12", "0.000001"])
def test_plain_numbers_are_not_formulas(cell: str) -> None:
    assert neutralise(cell) == cell
    assert csv_text(["v"], [[cell]]) == f"v\n{cell}\n"


def test_the_app_csv_and_the_cli_csv_come_from_one_module() -> None:
    import pandas as pd

    frame = pd.DataFrame({"portfolio_id": ["=1+1", "PF"], "cosine": [-0.5, 0.25], "as_of_date": [date(2020, 1, 2)] * 2})
    assert csv_bytes(frame).decode() == "portfolio_id,cosine,as_of_date\n'=1+1,-0.5,2020-01-02\nPF,0.25,2020-01-02\n"
    assert csv_bytes(frame, raw=True).decode().splitlines()[1] == "=1+1,-0.5,2020-01-02"


# ---------------------------------------------------------------- stdout and numbers (item 5)


def test_an_ascii_stdout_with_a_non_ascii_id_is_one_line_and_writes_nothing(hostile_store: str) -> None:
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(
            show_joint_portfolios.build_parser(),
            show_joint_portfolios.main,
            ["--as-of", DAY, "--db-url", hostile_store],
        )
    out.flush()
    assert code == 2
    assert out.buffer.getvalue() == b""  # type: ignore[attr-defined]
    assert err.getvalue() == (
        "error: standard output's encoding (ascii) cannot hold 'ПОРТФЕЛЬ': nothing was written; "
        "set PYTHONIOENCODING=utf-8 (or a UTF-8 locale) and run again\n"
    )


def _shell(command: str, hostile_store: str, **env: str) -> subprocess.CompletedProcess[str]:
    python = f"{sys.executable} -m prometheus.scripts.show_joint_portfolios --as-of {DAY} --db-url {hostile_store}"
    return subprocess.run(
        ["bash", "-c", command.format(python=python)],
        capture_output=True,
        text=True,
        env=cli_env() | env,
        cwd=PROJECT,
        timeout=120,
    )


def test_stdout_closed_full_or_ascii_is_one_line_exit_2(hostile_store: str) -> None:
    closed = _shell("{python} >&-", hostile_store)
    assert (closed.returncode, closed.stderr) == (
        2,
        "error: standard output is closed: redirect it to a file or a pipe and run again\n",
    )
    full = _shell("{python} > /dev/full", hostile_store)
    assert (full.returncode, full.stderr) == (2, "error: cannot write to standard output: No space left on device\n")
    ascii_ = _shell("{python}", hostile_store, PYTHONIOENCODING="ascii")
    assert (ascii_.returncode, ascii_.stdout) == (2, "")
    assert ascii_.stderr.count("\n") == 1 and "cannot hold" in ascii_.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("²", "'²' is not a whole number"),
        ("¹²", "'¹²' is not a whole number"),
        ("٣", "'٣' is not a whole number"),
        ("1_0", "'1_0' is not a whole number"),
        (" 7", "' 7' is not a whole number"),
        ("9" * 5000, f"{'9' * 60!r}"[:-1] + "...' has more than 18 digits"),
    ],
)
def test_numbers_that_int_would_misread_are_one_line(hostile_store: str, value: str, message: str) -> None:
    result = invoke("show_joint_portfolios", "--limit", value, db_url=hostile_store)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"python -m prometheus.scripts.show_joint_portfolios: error: argument --limit: {message} (see --help)\n"
    )
    setting = invoke(
        "show_joint_portfolios", "--as-of", DAY, db_url=hostile_store, env={"PROMETHEUS_APPROXIMATE_ABOVE": value}
    )
    assert (setting.returncode, setting.stdout) == (2, "")
    assert setting.stderr == f"error: PROMETHEUS_APPROXIMATE_ABOVE (a number of states): {message}\n"
    chunk = invoke(
        "backfill_numeric_portfolio_embeddings",
        "--start",
        DAY,
        db_url=hostile_store,
        env={"PROMETHEUS_BACKFILL_CHUNK": value},
    )
    assert (chunk.returncode, chunk.stdout) == (2, "")
    assert chunk.stderr == f"error: PROMETHEUS_BACKFILL_CHUNK (a number of states): {message}\n"


# ---------------------------------------------------------------- secrets in URLs (item 3)

SECRET = "Zq7secretPw"


@pytest.mark.parametrize(
    ("url", "expected_start"),
    [
        (f"postgresql+psycopg://analyst@127.0.0.1:1/db?password={SECRET}", "error: cannot use the database "),
        (f"postgresql+psycopg://analyst@127.0.0.1:1/db?sslpassword={SECRET}&x=1", "error: cannot use the database "),
        (f"postgresql+psycopg://analyst@127.0.0.1:1/db?PASSWORD={SECRET}", "error: cannot use the database "),
        (f"postgresql+psycopg://analyst:{SECRET[:4]}@{SECRET[4:]}@127.0.0.1:1/db", "error: the database URL "),
        (f"postgresql+psycopg://analyst:{SECRET}@127.0.0.1:port/db", "error: the database URL "),
        (f"{SECRET}", "error: the database URL cannot be read (it is not shown: it may hold a password): "),
        (f"postgresql+psycopg://analyst:{SECRET}@no-such-host.invalid/db", "error: cannot use the database "),
    ],
)
def test_no_fragment_of_a_password_reaches_a_cli_line(url: str, expected_start: str) -> None:
    result = invoke("show_joint_portfolios", "--as-of", DAY, db_url=url)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(expected_start) and result.stderr.count("\n") == 1
    for fragment in (SECRET, SECRET[:4], SECRET[4:], SECRET[5:], SECRET[:5]):
        assert fragment not in result.stderr


def test_the_masked_url_keeps_what_helps(tmp_path: Path) -> None:
    from prometheus.urls import mask_url

    assert mask_url(f"postgresql+psycopg://bob:{SECRET}@db.internal:5432/prom?sslmode=require&password={SECRET}") == (
        "postgresql+psycopg://bob:***@db.internal:5432/prom?sslmode=require&password=***"
    )
    assert mask_url(f"sqlite:///{tmp_path}/a@b.db?mode=ro") == f"sqlite:///{tmp_path}/a@b.db?mode=ro"
