"""Engines, schema upgrades, data versions and database error translation."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from prometheus.errors import InvalidReport, PrometheusError, StoreUnavailable, shown
from prometheus.store import schema
from prometheus.store.pgvector import enable_vector_column

_WRITE_OPTION = "prometheus_write"


def json_dumps(value: Any) -> str:
    # allow_nan=False: a NaN must never become the invalid JSON token NaN in the store.
    # Compact UTF-8, the same text SQLite's json_object() builds, so rows built
    # in SQL and in Python compare equal.
    return json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)


def json_loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        # Non-strict JSON written by other tools (NaN, Infinity): parse it, and let
        # the encoder name the bad key rather than failing the whole read.
        return json.loads(text)
    except ValueError as exc:
        raise InvalidReport(f"a stored JSON value cannot be read ({exc}); re-import that report") from None


def mask_url(url: str | sa.URL) -> str:
    """The URL as it may be shown to a user: never the password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", str(url))


def describe_db_error(exc: BaseException, url: str | sa.URL) -> str:
    """One line naming what went wrong with the database and what to do."""
    orig = getattr(exc, "orig", None) or exc
    first_line = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    lowered = first_line.lower()
    where = mask_url(url)
    if "readonly" in lowered or "read-only" in lowered:
        return f"the database {where} is read-only: check the file's permissions or point --db-url elsewhere"
    if "disk is full" in lowered or "no space left" in lowered or "disk full" in lowered:
        return f"the disk holding {where} is full: free space and run the command again (nothing was half-written)"
    if "unable to open database file" in lowered:
        return f"cannot open the database {where}: check that its folder exists and is writable"
    if "locked" in lowered:
        return f"the database {where} is busy (locked by another writer): try again in a moment"
    return f"cannot use the database {where}: {first_line}"


def database_error(exc: BaseException, url: str | sa.URL) -> str | None:
    """The one-line message of a driver-level database error, or None if ``exc`` is not one.

    Faces call this at their error boundary, so none of them needs to know SQLAlchemy.
    """
    if isinstance(exc, sa.exc.DBAPIError):
        return describe_db_error(exc, url)
    return None


def _is_sqlite(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _install_sqlite_pragmas(engine: sa.Engine) -> None:
    # pysqlite's own transaction handling does not BEGIN before DDL or reads;
    # take over so every transaction is real and writers can BEGIN IMMEDIATE.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # 64 MiB page cache (allocated only as used): bulk upserts touch many index pages.
        cursor.execute("PRAGMA cache_size=-65536")
        if engine.url.database not in (None, "", ":memory:"):
            # 8 KiB pages hold five 1.5 KiB vector rows instead of two; this only
            # takes effect when the file is created (before WAL mode is set).
            cursor.execute("PRAGMA page_size=8192")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = "BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE_OPTION) else "BEGIN"
        conn.exec_driver_sql(mode)


def create_engine_for(url: str) -> sa.Engine:
    parsed = make_url(url)
    if _is_sqlite(parsed):
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            parsed, connect_args={"timeout": 30}, json_serializer=json_dumps, json_deserializer=json_loads
        )
        _install_sqlite_pragmas(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("psycopg2", "", None):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sa.create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        json_serializer=json_dumps,
        json_deserializer=json_loads,
    )


class Database:
    """One database: its engine, its schema and its data versions."""

    def __init__(self, url: str, engine: sa.Engine | None = None) -> None:
        self.url = url
        self.engine = engine or create_engine_for(url)
        self.vector_column = False  # pgvector column on joint_embeddings (PostgreSQL with the extension)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        return mask_url(self.url)

    @classmethod
    def open(cls, url: str) -> Database:
        """Connect and bring the schema up to date; StoreUnavailable if that fails."""
        try:
            db = cls(url)
            db.upgrade_schema()
        except PrometheusError:
            raise
        except sa.exc.ArgumentError:
            raise StoreUnavailable(
                f"{shown(mask_url(url))} is not a database URL: use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
            ) from None
        except (sa.exc.DBAPIError, OSError) as exc:
            raise StoreUnavailable(describe_db_error(exc, url)) from None
        except ModuleNotFoundError as exc:
            raise StoreUnavailable(f"no driver for {mask_url(url)}: {exc}") from None
        return db

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A write transaction: committed whole on success, rolled back whole on error."""
        with self.engine.connect().execution_options(**{_WRITE_OPTION: True}) as conn, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def schema_version(self) -> int:
        with self.read() as conn:
            if not sa.inspect(conn).has_table(schema.schema_migrations.name):
                return 0
            value = conn.execute(sa.select(sa.func.max(schema.schema_migrations.c.version))).scalar()
            return int(value or 0)

    def upgrade_schema(self) -> int:
        """Apply pending migrations; safe when several processes start at once."""
        with self.write() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7215531)"))
            schema.schema_migrations.create(conn, checkfirst=True)
            applied = set(conn.execute(sa.select(schema.schema_migrations.c.version)).scalars())
            for version, description, migrate in schema.MIGRATIONS:
                if version in applied:
                    continue
                migrate(conn)
                conn.execute(
                    schema.schema_migrations.insert().values(
                        version=version, description=description, applied_at=schema.utc_now()
                    )
                )
            self.vector_column = enable_vector_column(conn)
        return schema.SCHEMA_VERSION

    @functools.cached_property
    def store_id(self) -> str:
        """This database's random identity (fixed when its schema was created)."""
        with self.read() as conn:
            value = conn.execute(
                sa.select(schema.store_info.c.value).where(schema.store_info.c.key == "store_id")
            ).scalar()
        return str(value)

    def data_version(self, name: str) -> int:
        table = schema.data_versions
        with self.read() as conn:
            value = conn.execute(sa.select(table.c.version).where(table.c.name == name)).scalar()
        return int(value or 0)

    def dispose(self) -> None:
        self.engine.dispose()
