"""Round 2: opening a store to read never waits for a writer; read-only opens create and migrate nothing.

Items 4 and 9 of issue #14: every open used to run the schema upgrade under
BEGIN IMMEDIATE, so a search (or a second backfill) failed with "busy" after 30 s
while an import wrote; and a read-only command created the schema in a new file,
migrated an older one, and read PROMETHEUS_READ_ONLY=y as "writable".
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from factories import make_report
from helpers import invoke
from test_index import MODEL, _grid, _vectors, _write

from prometheus.config import Settings
from prometheus.errors import InvalidInput, StoreUnavailable
from prometheus.services.similar import SimilarQuery, find_similar
from prometheus.store.database import Database
from prometheus.store.schema import SCHEMA_VERSION
from prometheus.store.stores import open_stores

DAY = date(2000, 1, 3)


def _filled(path: Path) -> str:
    url = f"sqlite:///{path}"
    stores = open_stores(Settings(db_url=url, cache_dir=path.parent / "cache"))
    pids, days = _grid(4, 5)
    _write(stores, pids, days, _vectors(len(pids), 1))
    stores.dispose()
    return url


@contextmanager
def writer_holding_the_lock(path: Path) -> Iterator[None]:
    """Another process's import in the middle of its transaction: the write lock taken and held."""
    ready, done = threading.Event(), threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO store_info (key, value) VALUES ('lock-test', 'x')")
        ready.set()
        done.wait(60)
        conn.execute("ROLLBACK")
        conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield
    finally:
        done.set()
        thread.join(10)


def test_a_reader_opens_and_searches_at_once_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    url = _filled(path)
    with writer_holding_the_lock(path):
        began = time.perf_counter()
        stores = open_stores(Settings(db_url=url, cache_dir=tmp_path / "cache"))
        result = find_similar(stores, SimilarQuery(MODEL, "PF_000", DAY, top_k=3))
        elapsed = time.perf_counter() - began
        stores.dispose()
    assert len(result.neighbours) == 3
    assert elapsed < 5  # before: 30 s of busy_timeout, then "database is locked"


def test_a_second_writer_opens_at_once_and_waits_only_to_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import prometheus.store.database as database

    path = tmp_path / "db.sqlite"
    url = _filled(path)
    stores = open_stores(Settings(db_url=url))
    stores.reports.upsert([make_report("PF_R", DAY)])
    stores.dispose()
    monkeypatch.setattr(database, "BUSY_TIMEOUT_SECONDS", 1)  # bounded: a short wait, then one clear line
    with writer_holding_the_lock(path):
        began = time.perf_counter()
        result = invoke("backfill_numeric_portfolio_embeddings", "--as-of", "2000-01-03", db_url=url)
        elapsed = time.perf_counter() - began
    assert elapsed < 10
    assert (result.returncode, result.stdout) == (2, "")
    # it opened, read and encoded the report without waiting; only its write met the other writer
    assert result.stderr == (
        f"error: the database sqlite:///{path} is busy (locked by another writer): try again in a moment\n"
    )


def test_an_up_to_date_store_opens_without_a_write_transaction(tmp_path: Path) -> None:
    url = _filled(tmp_path / "db.sqlite")
    db = Database(url)
    statements: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(str(a[2])))
    db.upgrade_schema()
    assert not [s for s in statements if "IMMEDIATE" in s or s.lstrip().upper().startswith(("INSERT", "CREATE"))]
    db.dispose()


# ---------------------------------------------------------------- read-only (item 9)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_read_only_never_creates_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "new.db"
    with pytest.raises(StoreUnavailable) as info:
        open_stores(Settings(db_url=f"sqlite:///{missing}", read_only=True))
    assert str(info.value) == (
        f"there is no database at sqlite:///{missing}: a read-only store never creates one "
        "(load it with a writable command first)"
    )
    assert not missing.parent.exists()
    result = invoke(
        "show_joint_portfolios",
        "--as-of",
        "2000-01-03",
        db_url=f"sqlite:///{missing}",
        env={"PROMETHEUS_READ_ONLY": "1"},
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("error: there is no database at ")
    assert not missing.parent.exists()


def test_read_only_never_migrates_an_older_store(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = _filled(path)
    with Database(url).write() as conn:
        conn.execute(sa.text(f"DELETE FROM schema_migrations WHERE version = {SCHEMA_VERSION}"))
    before = _digest(path)
    with pytest.raises(StoreUnavailable) as info:
        Database.open(url, read_only=True)
    assert str(info.value) == (
        f"the database sqlite:///{path} lacks schema migration {SCHEMA_VERSION}, and a read-only store may not "
        f"change it (schema version {SCHEMA_VERSION} is needed): open it once with a writable command"
    )
    assert _digest(path) == before


def test_read_only_reads_a_current_store_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    url = _filled(path)
    before = _digest(path)
    stores = open_stores(Settings(db_url=url, cache_dir=tmp_path / "cache", read_only=True))
    assert find_similar(stores, SimilarQuery(MODEL, "PF_000", DAY, top_k=2)).neighbours
    # SQLite itself refuses: the file is opened read-only
    with pytest.raises(sa.exc.OperationalError, match="readonly"), stores.historical.write() as conn:
        conn.execute(sa.text("DELETE FROM joint_embeddings"))
    stores.dispose()
    assert _digest(path) == before


@pytest.mark.parametrize("flag", ["mode=ro", "immutable=1"])
def test_a_read_only_url_opens_a_store_on_read_only_media(tmp_path: Path, flag: str) -> None:
    path = tmp_path / "db.sqlite"
    _filled(path)
    url = f"sqlite:///{path}?{flag}"
    shown = invoke("show_joint_portfolios", "--as-of", "2000-01-03", db_url=url)
    assert shown.returncode == 0 and shown.stdout.count("\n") == 5
    refused = invoke("backfill_numeric_portfolio_embeddings", "--as-of", "2000-01-03", db_url=url)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    if flag == "immutable=1":  # nothing beside the file either: it works on a read-only mount
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("db.sqlite")) == ["db.sqlite"]


@pytest.mark.parametrize("value", ["y", "enabled", "2", "ja", "１", "true please"])
def test_an_unknown_read_only_value_is_refused(value: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as info:
        Settings.from_sources(environ={"PROMETHEUS_READ_ONLY": value})
    assert str(info.value).startswith(f"PROMETHEUS_READ_ONLY={value!r} is not understood: use one of ")
    url = _filled(tmp_path / "db.sqlite")
    result = invoke("load_demo", db_url=url, env={"PROMETHEUS_READ_ONLY": value})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: PROMETHEUS_READ_ONLY={value!r} is not understood: use one of 1/true/yes/on or 0/false/no/off\n"
    )


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("TRUE", True), (" on ", True), ("0", False), ("no", False)]
)
def test_known_read_only_values(value: str, expected: bool) -> None:
    assert Settings.from_sources(environ={"PROMETHEUS_READ_ONLY": value}).read_only is expected
    assert Settings.from_sources(secrets={"read_only": value}).read_only is expected
