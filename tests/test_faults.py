"""Faults: a read-only database, a full disk, a PostgreSQL restart."""

from pathlib import Path

import numpy as np
import pg_server
import pytest
import sqlalchemy as sa
from factories import make_report
from helpers import run_cli

from prometheus.config import Settings
from prometheus.errors import StoreUnavailable
from prometheus.store.database import describe_db_error
from prometheus.store.embeddings import EmbeddingBatch
from prometheus.store.stores import open_stores


def test_a_read_only_database_file_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    stores = open_stores(Settings(db_url=f"sqlite:///{path}"))
    stores.reports.upsert([make_report("PF_A")])
    stores.dispose()
    # mode=ro makes SQLite refuse writes even for root, as a read-only mount or file would
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    result = run_cli("backfill_numeric_portfolio_embeddings", "--as-of", "2025-01-31", db_url=url)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("is read-only: check the file's permissions or point --db-url elsewhere")
    assert "Traceback" not in result.stderr
    shown = run_cli("show_joint_portfolios", "--as-of", "2025-01-31", db_url=url)  # reading still works
    assert shown.returncode == 0 and shown.stdout.startswith("as_of_date,portfolio_id")


def test_a_full_disk_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    stores = open_stores(Settings(db_url=f"sqlite:///{tmp_path / 'full.db'}"))
    stores.reports.upsert([make_report("PF_A")])

    @sa.event.listens_for(stores.historical.engine, "connect")
    def _tiny(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA max_page_count = 40")  # a disk with a few dozen free pages

    stores.historical.engine.dispose()
    rng = np.random.default_rng(0)
    batch = EmbeddingBatch(
        "num-portfolio-core-v1",
        [f"P{i}" for i in range(3000)],
        [make_report().as_of_date] * 3000,
        rng.standard_normal((3000, 384)),
        [{}] * 3000,
    )
    with pytest.raises(sa.exc.OperationalError) as info:
        stores.numeric.upsert_batches([batch])
    assert describe_db_error(info.value, stores.historical.url).startswith("the disk holding sqlite:///")
    assert "is full: free space and run the command again (nothing was half-written)" in describe_db_error(
        info.value, stores.historical.url
    )
    assert stores.numeric.count("num-portfolio-core-v1") == 0
    stores.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_restart_gives_a_clear_message_then_recovers() -> None:
    try:
        server = pg_server.start_server()
    except pg_server.PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    try:
        stores = open_stores(Settings(db_url=server.url()))
        stores.reports.upsert([make_report("PF_A")])
        server.pause()
        with pytest.raises(sa.exc.OperationalError) as info:
            stores.reports.count()
        message = describe_db_error(info.value, server.url())
        assert message.startswith("cannot use the database postgresql+psycopg://postgres@/postgres")
        with pytest.raises(StoreUnavailable):
            open_stores(Settings(db_url=server.url()))
        server.resume()
        assert stores.reports.count() == 1  # pool_pre_ping replaced the dead connection
        stores.dispose()
    finally:
        server.stop()
