"""Every CLI against SQLite and PostgreSQL: in process, and as a real subprocess in a few tests each."""

import csv
import io
import subprocess
import sys
from datetime import date

import numpy as np
import pytest
import sqlalchemy as sa
from helpers import PROJECT, SAMPLE_JSONL, cli_env, invoke, run_cli

from prometheus.config import Settings
from prometheus.services.backfill import BackfillRequest, backfill_joint, backfill_numeric
from prometheus.services.dates import DateSelection
from prometheus.services.importing import import_report_file
from prometheus.store.schema import joint_embeddings, numeric_window_embeddings
from prometheus.store.stores import open_stores

PF1 = "PORTFOLIO_CORE_US_EQ_001"
CLIS = (
    "backfill_numeric_portfolio_embeddings",
    "backfill_joint_portfolios",
    "show_joint_portfolios",
    "find_similar_portfolios",
    "import_risk_reports",
)


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _table_dump(url: str) -> list[tuple[object, ...]]:
    stores = open_stores(Settings(db_url=url))
    try:
        with stores.historical.read() as conn:
            rows = [
                tuple(r)
                for t in (numeric_window_embeddings, joint_embeddings)
                for r in conn.execute(sa.select(t).order_by(t.c.id))
            ]
    finally:
        stores.dispose()
    return rows


@pytest.fixture
def loaded(db_url: str) -> str:
    """A store with the sample reports imported and both backfills run over all dates (in-process)."""
    stores = open_stores(Settings(db_url=db_url))
    import_report_file(stores, SAMPLE_JSONL)
    request = BackfillRequest(DateSelection(start=date(2024, 1, 1), end=date(2025, 12, 31)))
    backfill_numeric(stores, "num-portfolio-core-v1", request)
    backfill_joint(stores, "num-portfolio-core-v1", "joint-portfolio-core-v1", request)
    stores.dispose()
    return db_url


def test_documented_commands_and_idempotent_reruns(db_url: str) -> None:
    imported = run_cli("import_risk_reports", str(SAMPLE_JSONL), db_url=db_url)
    assert imported.returncode == 0, imported.stderr
    assert imported.stderr.strip() == "imported 120 risk report(s)"
    numeric = run_cli(
        "backfill_numeric_portfolio_embeddings",
        "--as-of",
        "2025-01-31",
        "--model-id",
        "num-portfolio-core-v1",
        "--limit",
        "100",
        db_url=db_url,
    )
    assert numeric.returncode == 0, numeric.stderr
    assert numeric.stdout == ""
    assert numeric.stderr.strip().startswith(
        "num-portfolio-core-v1: 1 date(s), 5 state(s) written, 0 skipped (unchanged), 0 refused, "
    )
    joint = run_cli(
        "backfill_joint_portfolios",
        "--as-of",
        "2025-01-31",
        "--numeric-model-id",
        "num-portfolio-core-v1",
        "--joint-model-id",
        "joint-portfolio-core-v1",
        "--limit",
        "100",
        db_url=db_url,
    )
    assert joint.returncode == 0, joint.stderr
    assert "5 state(s) written" in joint.stderr
    before = _table_dump(db_url)
    for _ in range(2):
        rerun = run_cli("backfill_numeric_portfolio_embeddings", "--as-of", "2025-01-31", db_url=db_url)
        assert "0 state(s) written, 5 skipped (unchanged)" in rerun.stderr
        rerun = run_cli("backfill_joint_portfolios", "--as-of", "2025-01-31", db_url=db_url)
        assert "0 state(s) written, 5 skipped (unchanged)" in rerun.stderr
    assert _table_dump(db_url) == before

    shown = run_cli(
        "show_joint_portfolios",
        "--as-of",
        "2025-01-31",
        "--model-id",
        "joint-portfolio-core-v1",
        "--limit",
        "200",
        db_url=db_url,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == "as_of_date,portfolio_id,model_id,dim,l2_norm"
    rows = _csv(shown.stdout)
    assert [r["portfolio_id"] for r in rows] == sorted(r["portfolio_id"] for r in rows)
    assert len(rows) == 5
    assert all(r["dim"] == "384" and len(r["l2_norm"].split(".")[1]) == 6 for r in rows)


def test_show_portfolio_history_is_ordered_and_norms_are_right(loaded: str) -> None:
    shown = invoke(
        "show_joint_portfolios",
        "--portfolio-id",
        PF1,
        "--start",
        "2025-01-01",
        "--end",
        "2025-12-31",
        "--model-id",
        "joint-portfolio-core-v1",
        db_url=loaded,
    )
    rows = _csv(shown.stdout)
    assert len(rows) == 12
    assert [r["as_of_date"] for r in rows] == sorted(r["as_of_date"] for r in rows)
    stores = open_stores(Settings(db_url=loaded))
    states = stores.numeric.load("num-portfolio-core-v1", dates=[date(2025, 1, 31)], portfolio_ids=[PF1])
    stores.dispose()
    assert rows[0]["l2_norm"] == f"{np.linalg.norm(states.matrix[0].astype(np.float64)):.6f}"
    limited = _csv(invoke("show_joint_portfolios", "--start", "2024-01-01", "--limit", "7", db_url=loaded).stdout)
    assert len(limited) == 7


def test_find_similar_is_exact_over_all_dates(loaded: str) -> None:
    result = run_cli(
        "find_similar_portfolios",
        "--portfolio-id",
        PF1,
        "--as-of",
        "2025-01-31",
        "--model-id",
        "joint-portfolio-core-v1",
        "--top-k",
        "20",
        db_url=loaded,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "cosine,euclidean,portfolio_id,source,as_of_date"
    rows = _csv(result.stdout)
    assert len(rows) == 20
    assert PF1 not in {r["portfolio_id"] for r in rows}
    assert len({(r["portfolio_id"], r["as_of_date"]) for r in rows}) == 20
    assert len({r["as_of_date"] for r in rows}) > 1  # historical analogues, not one date
    assert all(r["source"] == "num-portfolio-core-v1" for r in rows)

    # independent check: brute force over every stored state in float64
    stores = open_stores(Settings(db_url=loaded))
    states = stores.numeric.load("num-portfolio-core-v1")
    stores.dispose()
    matrix = states.matrix.astype(np.float64)
    q = matrix[
        next(
            i
            for i, (p, d) in enumerate(zip(states.portfolio_ids, states.dates, strict=True))
            if p == PF1 and d == date(2025, 1, 31)
        )
    ]
    scored = []
    for i, (pid, day) in enumerate(zip(states.portfolio_ids, states.dates, strict=True)):
        if pid == PF1:
            continue
        cos = float(matrix[i] @ q / (np.linalg.norm(matrix[i]) * np.linalg.norm(q)))
        scored.append((-cos, float(np.linalg.norm(matrix[i] - q)), pid, day.isoformat()))
    expected = sorted(scored)[:20]
    assert [(r["portfolio_id"], r["as_of_date"]) for r in rows] == [(e[2], e[3]) for e in expected]
    assert [r["cosine"] for r in rows] == [f"{-e[0]:.6f}" for e in expected]
    assert [r["euclidean"] for r in rows] == [f"{e[1]:.6f}" for e in expected]


def test_find_similar_scopes(loaded: str) -> None:
    same = _csv(
        invoke(
            "find_similar_portfolios", "--portfolio-id", PF1, "--as-of", "2025-01-31", "--same-date", db_url=loaded
        ).stdout
    )
    assert {r["as_of_date"] for r in same} == {"2025-01-31"}
    assert len(same) == 4
    bounded = _csv(
        invoke(
            "find_similar_portfolios",
            "--portfolio-id",
            PF1,
            "--as-of",
            "2025-01-31",
            "--start",
            "2024-03-01",
            "--end",
            "2024-06-30",
            "--top-k",
            "100",
            db_url=loaded,
        ).stdout
    )
    assert bounded and all("2024-03-01" <= r["as_of_date"] <= "2024-06-30" for r in bounded)
    with_self = _csv(
        invoke(
            "find_similar_portfolios",
            "--portfolio-id",
            PF1,
            "--as-of",
            "2025-01-31",
            "--include-self",
            "--top-k",
            "200",
            db_url=loaded,
        ).stdout
    )
    own = [r for r in with_self if r["portfolio_id"] == PF1]
    assert own and "2025-01-31" not in {r["as_of_date"] for r in own}
    assert len(with_self) == 119


def test_find_similar_spread_in_time(loaded: str) -> None:
    def search(*extra: str) -> list[dict[str, str]]:
        args = ("--portfolio-id", PF1, "--as-of", "2025-06-30", "--top-k", "8", *extra)
        result = invoke("find_similar_portfolios", *args, db_url=loaded)
        assert (result.returncode, result.stderr) == (0, "")
        return _csv(result.stdout)

    ranked = search()
    assert len({r["as_of_date"] for r in ranked}) < 8  # the sample's books bunch on dates
    per_date = search("--min-days-apart", "1")
    assert len({r["as_of_date"] for r in per_date}) == 8 and per_date[0] == ranked[0]
    quarters = search("--min-days-apart", "91")
    days = [date.fromisoformat(r["as_of_date"]) for r in quarters]
    assert all(abs((a - b).days) >= 91 for i, a in enumerate(days) for b in days[:i])
    assert 2 <= len(quarters) <= 8 and quarters[0] == ranked[0]
    # each kept analogue is the best candidate not within 91 days of a better kept one
    every = search("--top-k", "500")
    kept: list[date] = []
    for row in every:
        day = date.fromisoformat(row["as_of_date"])
        if all(abs((day - k).days) >= 91 for k in kept):
            kept.append(day)
    assert days == kept[:8]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--portfolio-id", PF1, "--as-of", "2025-01-31", "--min-days-apart", "30", "--engine", "database"],
            "error: --min-days-apart needs the in-process search (the default): the in-database search ranks only "
            "its nearest candidates",
        ),
        (
            ["--portfolio-id", "NOPE", "--as-of", "2025-01-31"],
            "error: unknown portfolio 'NOPE': no joint-portfolio-core-v1 states exist for it "
            "(list portfolios with show_joint_portfolios)",
        ),
        (
            ["--portfolio-id", PF1, "--as-of", "2025-02-03"],
            f"error: portfolio '{PF1}' has no joint-portfolio-core-v1 state on 2025-02-03 "
            "(nearest: 2025-01-31, 2025-02-28)",
        ),
        (
            ["--portfolio-id", PF1, "--as-of", "2025-01-31", "--start", "2025-06-01", "--end", "2025-01-01"],
            "error: --start 2025-06-01 is after --end 2025-01-01: swap them",
        ),
        (
            ["--portfolio-id", PF1, "--as-of", "2025-01-31", "--model-id", "joint-x"],
            "error: unknown joint model 'joint-x': known models are joint-portfolio-core-v1, joint-portfolio-core-v2",
        ),
    ],
)
def test_find_similar_errors(loaded: str, args: list[str], message: str) -> None:
    result = invoke("find_similar_portfolios", *args, db_url=loaded)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == message


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        (
            "find_similar_portfolios",
            ["--portfolio-id", PF1, "--as-of", "2025-02-30"],
            "argument --as-of: invalid date '2025-02-30': use YYYY-MM-DD, e.g. 2025-01-31",
        ),
        (
            "find_similar_portfolios",
            ["--portfolio-id", PF1, "--as-of", "31/01/2025"],
            "argument --as-of: invalid date '31/01/2025': use YYYY-MM-DD, e.g. 2025-01-31",
        ),
        (
            "find_similar_portfolios",
            ["--portfolio-id", PF1, "--as-of", "2025-01-31", "--top-k", "0"],
            "argument --top-k: must be at least 1, got 0",
        ),
        (
            "backfill_numeric_portfolio_embeddings",
            ["--as-of", "2025-01-31", "--limit", "0"],
            "argument --limit: must be at least 1, got 0",
        ),
        (
            "backfill_joint_portfolios",
            ["--as-of", "2025-01-31", "--limit", "-3"],
            "argument --limit: must be at least 1, got -3",
        ),
        ("show_joint_portfolios", ["--limit", "ten"], "argument --limit: 'ten' is not a whole number"),
    ],
)
def test_usage_errors_are_one_line(sqlite_url: str, name: str, args: list[str], message: str) -> None:
    result = invoke(name, *args, db_url=sqlite_url)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"python -m prometheus.scripts.{name}: error: {message} (see --help)\n"


def test_backfill_errors(loaded: str) -> None:
    cases = [
        (
            ["--start", "2025-06-01", "--end", "2025-01-01"],
            "error: --start 2025-06-01 is after --end 2025-01-01: swap them",
        ),
        ([], "error: no dates given: set --as-of, or --start and --end"),
        (["--as-of", "2025-02-03"], "error: no risk reports on 2025-02-03 (nearest: 2025-01-31, 2025-02-28)"),
        (
            ["--as-of", "2025-01-31", "--portfolio-id", "NOPE"],
            "error: unknown portfolio 'NOPE': no risk reports exist for it",
        ),
        (
            ["--as-of", "2025-01-31", "--model-id", "num-x"],
            "error: unknown numeric model 'num-x': known models are num-portfolio-core-v1",
        ),
        (["--start", "1990-01-01", "--end", "1990-12-31"], "error: no risk reports between 1990-01-01 and 1990-12-31"),
    ]
    for args, message in cases:
        result = invoke("backfill_numeric_portfolio_embeddings", *args, db_url=loaded)
        assert (result.returncode, result.stderr.strip()) == (2, message)


def test_limit_left_out_is_said_on_stderr(loaded: str) -> None:
    result = invoke("backfill_joint_portfolios", "--as-of", "2025-01-31", "--limit", "2", db_url=loaded)
    assert result.returncode == 0
    assert (
        "--limit left out 3 state(s) on 1 date(s); on 2025-01-31: PORTFOLIO_CORE_US_EQ_003, "
        "PORTFOLIO_CORE_US_EQ_004, PORTFOLIO_CORE_US_EQ_005"
    ) in result.stderr


def test_portfolio_filter_is_repeatable(loaded: str) -> None:
    result = invoke(
        "backfill_numeric_portfolio_embeddings",
        "--start",
        "2024-01-01",
        "--end",
        "2024-12-31",
        "--portfolio-id",
        PF1,
        "--portfolio-id",
        "PORTFOLIO_CORE_US_EQ_002",
        db_url=loaded,
    )
    assert "12 date(s), 0 state(s) written, 24 skipped (unchanged)" in result.stderr


def test_import_refuses_a_bad_file_and_writes_nothing(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.jsonl"
    path.write_text(
        SAMPLE_JSONL.read_text().splitlines()[0] + "\n" + '{"portfolio_id": "X", "as_of_date": "2025-01-31",'
        ' "risk_metrics": {"drawdown": NaN}}\n'
    )
    result = invoke("import_risk_reports", str(path), db_url=db_url)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: bad.jsonl: 1 invalid row(s), nothing imported (fix them or pass --skip-invalid): "
        "line 2: NaN is not allowed; risk reports must hold finite numbers (or null)"
    )
    stores = open_stores(Settings(db_url=db_url))
    assert stores.reports.count() == 0
    stores.dispose()
    skipped = invoke("import_risk_reports", str(path), "--skip-invalid", db_url=db_url)
    assert skipped.returncode == 1  # done, but rows were refused (README: exit codes)
    assert skipped.stderr.splitlines()[-1] == "imported 1 risk report(s), skipped 1 invalid row(s)"


def test_unreachable_database_is_one_line_without_password(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = "postgresql+psycopg://analyst:s3cret@127.0.0.1:1/prometheus"
    for name in ("show_joint_portfolios", "backfill_numeric_portfolio_embeddings"):
        result = invoke(name, "--as-of", "2025-01-31", db_url=url)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith("error: cannot use the database postgresql+psycopg://analyst:***@127.0.0.1:1/")
        assert "s3cret" not in result.stderr and "Traceback" not in result.stderr


def test_db_url_comes_from_the_environment_and_the_flag_wins(loaded: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = cli_env() | {"PROMETHEUS_DB_URL": loaded}
    command = [sys.executable, "-m", "prometheus.scripts.show_joint_portfolios", "--as-of", "2025-01-31"]
    from_env = subprocess.run(command, capture_output=True, text=True, env=env, cwd=PROJECT, check=False)
    assert len(_csv(from_env.stdout)) == 5
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    flag = subprocess.run(
        [*command, "--db-url", empty], capture_output=True, text=True, env=env, cwd=PROJECT, check=False
    )
    assert (flag.returncode, _csv(flag.stdout)) == (0, [])
    assert flag.stderr.strip() == "no joint-portfolio-core-v1 states on 2025-01-31"


@pytest.mark.parametrize("name", CLIS)
def test_help_explains_every_flag_with_an_example(name: str) -> None:
    result = invoke(name, "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout
    assert f"python -m prometheus.scripts.{name}" in result.stdout
    assert "--db-url" in result.stdout


def test_find_similar_with_outcomes_is_point_in_time_by_default(loaded: str) -> None:
    args = ["--portfolio-id", PF1, "--as-of", "2025-06-30", "--top-k", "8", "--include-self", "--with-outcomes"]
    result = invoke("find_similar_portfolios", *args, db_url=loaded)
    assert result.returncode == 0, result.stderr
    rows = _csv(result.stdout)
    assert list(rows[0]) == [
        "cosine",
        "euclidean",
        "portfolio_id",
        "source",
        "as_of_date",
        "fwd_return_30d",
        "fwd_max_drawdown_30d",
        "fwd_return_91d",
        "fwd_max_drawdown_91d",
        "values",
    ]
    # only analogues whose next 91 days had passed by 2025-06-30, and every outcome known then
    assert rows and all(r["as_of_date"] <= "2025-03-31" for r in rows)
    assert all(r["fwd_max_drawdown_91d"] != "" and float(r["fwd_max_drawdown_91d"]) <= 0 for r in rows)
    assert all(r["values"] == "reports" for r in rows)
    assert result.stderr == (
        "point in time: analogues dated on or before 2025-03-31, outcomes from data dated on or before 2025-06-30\n"
    )

    hindsight = invoke("find_similar_portfolios", *args, "--hindsight", db_url=loaded)
    assert hindsight.returncode == 0, hindsight.stderr
    later = [r for r in _csv(hindsight.stdout) if r["as_of_date"] > "2025-06-30"]
    assert later  # hindsight browses every date ...
    assert all(r["fwd_return_91d"] == "" for r in later if r["as_of_date"] >= "2025-10-01")  # ... nothing invented
    assert hindsight.stderr.startswith("hindsight: these analogues include states whose next 91 days were not known")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hindsight"], "error: --hindsight only applies with --with-outcomes"),
        (
            ["--with-outcomes", "--hindsight", "--point-in-time"],
            "error: --hindsight and --point-in-time exclude each other",
        ),
        (["--point-in-time", "--same-date"], "error: --same-date cannot be combined with --point-in-time"),
    ],
)
def test_point_in_time_flag_errors(loaded: str, args: list[str], message: str) -> None:
    result = invoke("find_similar_portfolios", "--portfolio-id", PF1, "--as-of", "2025-06-30", *args, db_url=loaded)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message + "\n")


@pytest.mark.parametrize(
    ("against", "message"),
    [
        ("joint-portfolio-core-v1", "error: --against must name another model than joint-portfolio-core-v1"),
        ("v9", "error: unknown joint model 'v9': known models are joint-portfolio-core-v1, joint-portfolio-core-v2"),
        (
            "joint-portfolio-core-v2",  # not fitted, so no state of it is stored
            "error: joint-portfolio-core-v1 holds 120 states and joint-portfolio-core-v2 0, none of them the same: "
            "backfill both over the same dates to compare them on the same queries",
        ),
    ],
)
def test_quality_against_another_model_errors(loaded: str, against: str, message: str) -> None:
    result = invoke("embedding_quality", "--against", against, db_url=loaded)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message + "\n")


def test_read_only_deployments_refuse_every_write_command(loaded: str) -> None:
    env = cli_env() | {"PROMETHEUS_READ_ONLY": "1"}
    message = (
        "error: this deployment is read-only (PROMETHEUS_READ_ONLY or read_only in secrets): "
        "backfills, imports and demo loading are disabled\n"
    )
    for name, args in [
        ("backfill_numeric_portfolio_embeddings", ["--as-of", "2025-01-31"]),
        ("backfill_joint_portfolios", ["--as-of", "2025-01-31"]),
        ("import_risk_reports", [str(SAMPLE_JSONL)]),
        ("load_demo", []),
    ]:
        command = [sys.executable, "-m", f"prometheus.scripts.{name}", *args, "--db-url", loaded]
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=PROJECT, check=False)
        assert (result.returncode, result.stderr) == (2, message), name
    reading = subprocess.run(
        [sys.executable, "-m", "prometheus.scripts.show_joint_portfolios", "--as-of", "2025-01-31", "--db-url", loaded],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT,
        check=False,
    )
    assert reading.returncode == 0 and len(_csv(reading.stdout)) == 5
