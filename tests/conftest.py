"""Shared fixtures: real SQLite files and a real throwaway PostgreSQL server."""

from __future__ import annotations

import itertools
import os
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))

import pg_server
from helpers import PROJECT, cli_env

from prometheus.config import Settings
from prometheus.store.stores import Stores, open_stores

ENV_TEST_PG_URL = "PROMETHEUS_TEST_PG_URL"
_database_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A server for the whole session: an external one if given, else a throwaway cluster."""
    if os.environ.get(ENV_TEST_PG_URL):
        yield os.environ[ENV_TEST_PG_URL]
        return
    try:
        server = pg_server.start_server()
    except pg_server.PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    try:
        yield server.url()
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty database on the test server."""
    name = f"prometheus_t{os.getpid()}_{next(_database_counter)}"
    admin = sa.create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'prometheus.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test against SQLite and against PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def stores(db_url: str, tmp_path: Path) -> Iterator[Stores]:
    opened = open_stores(Settings(db_url=db_url, cache_dir=tmp_path / "cache"))
    yield opened
    opened.dispose()


def _skipped_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons: Counter[str] = Counter()
    for report in skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    terminalreporter.section("tests NOT run on this machine")
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count} test(s) skipped: {reason}")


def _run_root(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The folder every worker of this run shares (pytest-xdist gives each worker its own basetemp)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


# The README's own command builds it; its exit status is left as a marker both workers can see.
_DEMO_BUILD = '"$0" -m prometheus.scripts.load_demo --db-url "$1" && touch "$2/built" || { touch "$2/failed"; exit 1; }'
DEMO_BUILD_TIMEOUT_S = 900


def _demo_folder(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    folder = _run_root(tmp_path_factory, worker_id) / "demo"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected what will not run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start building the demo book in the background as soon as a collected test needs it.

    The build (~21 s of one core) then runs beside the first tests instead of holding up the
    first demo test and, under its lock, the other worker's: in a full run that worker waited
    27 s in the fixture's setup. Each worker collects every test; the first to take the lock
    starts the one build.
    """
    if config.option.collectonly or not any("demo_db_url" in getattr(item, "fixturenames", ()) for item in items):
        return
    import fcntl
    import subprocess

    worker_id = os.environ.get("PYTEST_XDIST_WORKER", "master")
    folder = _demo_folder(config._tmp_path_factory, worker_id)  # type: ignore[attr-defined]
    with (folder / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / "started").exists():
            return
        with (folder / "build.log").open("wb") as log:
            process = subprocess.Popen(
                ["sh", "-c", _DEMO_BUILD, sys.executable, f"sqlite:///{folder / 'demo.db'}", str(folder)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=PROJECT,
                env=cli_env(),
                start_new_session=True,
            )
        (folder / "started").write_text(str(process.pid))


@pytest.fixture(scope="session")
def demo_db_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str:
    """The real demo book (40 portfolios, weekly 1990-2018), built once per test run and shared by
    every worker: started in the background at collection (above), awaited here."""
    import time

    folder = _demo_folder(tmp_path_factory, worker_id)
    if not (folder / "started").exists():
        pytest.fail("the demo book's build was never started (pytest_collection_modifyitems)")
    deadline = time.monotonic() + DEMO_BUILD_TIMEOUT_S
    while not (folder / "built").exists():
        if (folder / "failed").exists() or not _alive(int((folder / "started").read_text())):
            time.sleep(0.5)  # a build that has just finished writes its marker first
            if not (folder / "built").exists():
                pytest.fail("building the demo book failed:\n" + (folder / "build.log").read_text()[-3000:])
        if time.monotonic() > deadline:
            pytest.fail(f"the demo book was not built within {DEMO_BUILD_TIMEOUT_S} s")
        time.sleep(0.2)
    return f"sqlite:///{folder / 'demo.db'}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="session")
def pgvector_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL with the pgvector extension, from the pip package pgserver (tests only)."""
    try:
        import pgserver
    except ImportError:
        pytest.skip("pgvector tests skipped: the pip package pgserver is not installed (pip install -e '.[test]')")
    server = pgserver.get_server(tmp_path_factory.mktemp("pgvector"), cleanup_mode="stop")
    try:
        server.psql("CREATE DATABASE prometheus_vec;")
        url = sa.make_url(server.get_uri()).set(drivername="postgresql+psycopg", database="prometheus_vec")
        yield url.render_as_string(hide_password=False)
    finally:
        server.cleanup()


# ---------------------------------------------------------------- the generated-input suite (hypothesis)
# One deterministic profile for every run (CI and local): the same cases each time, no example
# database, no deadline (a slow machine must not turn into a flaky failure). The cases run are
# summed from hypothesis's own statistics and printed at the end of the run.
from hypothesis import HealthCheck as _HealthCheck  # noqa: E402
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[_HealthCheck.function_scoped_fixture, _HealthCheck.too_slow],
)
_hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
_generated: dict[str, float] = {"cases": 0, "seconds": 0.0, "properties": 0}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    stats = getattr(item, "hypothesis_statistics", None)
    if report.when == "call" and stats:
        import re

        # On the report, so that it reaches the controller when pytest-xdist runs the test in a worker.
        report.user_properties.append(("generated_cases", sum(int(n) for n in re.findall(r"(\d+) passing", stats))))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, value in report.user_properties:
        if name == "generated_cases" and report.when == "call":
            _generated["cases"] += value
            _generated["seconds"] += report.duration
            _generated["properties"] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _generated["properties"]:
        terminalreporter.section("generated inputs (hypothesis, profile ci)")
        terminalreporter.write_line(
            f"{int(_generated['cases']):,} generated cases in {int(_generated['properties'])} properties, "
            f"{_generated['seconds']:.1f} s"
        )
    _skipped_summary(terminalreporter)
