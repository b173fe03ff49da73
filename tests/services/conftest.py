"""Fixtures for the analysis-service tests: the sample store, loaded once per backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from service_helpers import load_sample

from prometheus.config import Settings
from prometheus.store.stores import Stores, open_stores


def _load(url: str) -> None:
    stores = open_stores(Settings(db_url=url))
    try:
        load_sample(stores)
    finally:
        stores.dispose()


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def loaded_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample (5 portfolios x 24 month-ends) imported and backfilled, once per backend per session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('loaded') / 'prometheus.db'}"
        _load(url)
        yield url
        return
    admin_url = str(request.getfixturevalue("pg_admin_url"))
    name = f"prometheus_services_{os.getpid()}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        _load(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def stores(db_url: str, tmp_path: Path) -> Iterator[Stores]:
    """tests/conftest.py's ``stores`` (SQLite and PostgreSQL), with caches in tmp_path.

    Without a cache_dir a PostgreSQL store caches under ~/.prometheus/cache
    (the search index does, via load_index), leaving a folder per test database.
    """
    opened = open_stores(Settings(db_url=db_url, cache_dir=tmp_path / "cache"))
    yield opened
    opened.dispose()


@pytest.fixture
def sqlite_stores(sqlite_url: str, tmp_path: Path) -> Iterator[Stores]:
    """For tests of file and cache logic, where a second backend would only add setup time."""
    opened = open_stores(Settings(db_url=sqlite_url, cache_dir=tmp_path / "cache"))
    yield opened
    opened.dispose()


@pytest.fixture
def loaded_stores(loaded_url: str, tmp_path: Path) -> Iterator[Stores]:
    """Stores over the shared sample database (tests must only read through it), caches in tmp_path."""
    opened = open_stores(Settings(db_url=loaded_url, cache_dir=tmp_path / "cache"))
    yield opened
    opened.dispose()
