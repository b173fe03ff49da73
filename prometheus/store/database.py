"""Engines, schema upgrades, data versions and database error translation.

Opening a store never takes the write lock unless a migration is due: a reader of an
up-to-date SQLite file starts at once while another process writes (WAL readers do not
wait for writers), and writers wait for each other at most ``BUSY_TIMEOUT_SECONDS``.
A read-only store (``Database.open(url, read_only=True)``, or a SQLite URL with
``?mode=ro`` or ``?immutable=1``) creates nothing and migrates nothing: SQLite opens the
file read-only, PostgreSQL sessions are read-only, and a missing or older database is
one clear error.
"""

from __future__ import annotations

import functools
import json
import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from prometheus.errors import InvalidReport, PrometheusError, StoreUnavailable
from prometheus.store import schema
from prometheus.store.pgvector import enable_vector_column, has_vector_column
from prometheus.urls import NOT_A_URL_MESSAGE, URL_FORMS, check_database_url, mask_url, redact, url_secrets

__all__ = ["Database", "database_error", "describe_db_error", "json_dumps", "json_loads", "mask_url"]

_WRITE_OPTION = "prometheus_write"
BUSY_TIMEOUT_SECONDS = 30  # how long a SQLite writer waits for another writer before "busy"
# SQLite URL parameters that open the file read-only (the second also for a read-only mount:
# SQLite then neither writes nor needs the -wal and -shm files beside it).
READ_ONLY_PARAMETERS = {"mode": "ro", "immutable": "1"}


def json_dumps(value: Any) -> str:
    """Compact UTF-8 JSON, the text SQLite's json_object() builds (rows built in SQL and in Python compare
    equal) and the import path stores; a NaN or infinity is refused, never stored as the invalid token NaN.

    orjson first (the demo book's 289,760 report blocks: 0.17 s, 2.4 s with the standard library); what
    orjson declines (keys that are not text, integers beyond 64 bits, lone surrogates, other types) goes
    to the standard library, which stores or refuses it as before. orjson writes a NaN as null, so a
    text with a null is searched for one (the demo's 122,914 such blocks: 0.25 s, the standard
    library's own check 0.92 s).
    """
    try:
        text = orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _standard_json(value)
    if b"null" in text and _holds_non_finite(value):
        _standard_json(value)  # raises the standard library's own error
    return text.decode()


def _standard_json(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)


_PLAIN = {float, int, str, bool, type(None)}


def _holds_non_finite(value: Any) -> bool:
    """Whether a NaN or an infinity is anywhere in ``value`` (flat containers checked through C iterators)."""
    kind = type(value)
    if kind is dict:
        items = list(value.values())
    elif kind is list or kind is tuple:
        items = list(value)
    else:
        return isinstance(value, float) and not math.isfinite(value)
    kinds = set(map(type, items))
    if kinds <= _PLAIN:
        return float in kinds and not all(map(math.isfinite, [item for item in items if type(item) is float]))
    return any(map(_holds_non_finite, items))


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


def describe_db_error(exc: BaseException, url: str | sa.URL) -> str:
    """One line naming what went wrong with the database and what to do; no fragment of a secret in it."""
    orig = getattr(exc, "orig", None) or exc
    text = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    first_line = redact((str(orig).strip().splitlines() or [type(orig).__name__])[0], url_secrets(text))
    lowered = first_line.lower()
    where = mask_url(text)
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


def sqlite_read_only_url(url: sa.URL) -> bool:
    """Whether a SQLite URL asks for a read-only file (``?mode=ro`` or ``?immutable=1``)."""
    return _is_sqlite(url) and any(url.query.get(k) == v for k, v in READ_ONLY_PARAMETERS.items())


def _install_sqlite_pragmas(engine: sa.Engine, read_only: bool) -> None:
    # pysqlite's own transaction handling does not BEGIN before DDL or reads;
    # take over so every transaction is real and writers can BEGIN IMMEDIATE.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        # 64 MiB page cache (allocated only as used): bulk upserts touch many index pages.
        cursor.execute("PRAGMA cache_size=-65536")
        if engine.url.database not in (None, "", ":memory:") and not read_only:
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


def _sqlite_file(parsed: sa.URL) -> Path | None:
    """The file a SQLite URL names (``sqlite:///PATH`` or the URI form ``sqlite:///file:PATH?uri=true``)."""
    database = parsed.database
    if database and database.startswith("file:"):
        database = unquote(database.removeprefix("file:").removeprefix("//"))
    if not database or database == ":memory:" or database.startswith(":memory:"):
        return None
    return Path(database).expanduser()


def _read_only_sqlite_engine(parsed: sa.URL) -> sa.Engine:
    """A SQLite engine that opens the file read-only (an URI connection), creating nothing."""
    path = _sqlite_file(parsed)
    if path is None:
        raise StoreUnavailable(f"a read-only store needs a database file: {URL_FORMS}")
    if not path.is_file():
        raise StoreUnavailable(
            f"there is no database at {mask_url(parsed.render_as_string(hide_password=False))}: "
            "a read-only store never creates one (load it with a writable command first)"
        )
    flags = "immutable=1" if parsed.query.get("immutable") == "1" else "mode=ro"
    target = f"{path.resolve().as_uri()}?{flags}"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(target, uri=True, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)

    engine = sa.create_engine("sqlite://", creator=connect, json_serializer=json_dumps, json_deserializer=json_loads)
    _install_sqlite_pragmas(engine, read_only=True)
    return engine


def create_engine_for(url: str, read_only: bool = False) -> sa.Engine:
    check_database_url(url)
    parsed = make_url(url)
    if _is_sqlite(parsed):
        if read_only or sqlite_read_only_url(parsed):
            return _read_only_sqlite_engine(parsed)
        path = _sqlite_file(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            parsed,
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS},
            json_serializer=json_dumps,
            json_deserializer=json_loads,
        )
        _install_sqlite_pragmas(engine, read_only=False)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("psycopg2", "", None):
        parsed = parsed.set(drivername="postgresql+psycopg")
    # A read-only deployment's sessions are read-only on the server too: a write is refused there.
    connect_args = {"options": "-c default_transaction_read_only=on"} if read_only else {}
    return sa.create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        connect_args=connect_args,
        json_serializer=json_dumps,
        json_deserializer=json_loads,
    )


class Database:
    """One database: its engine, its schema and its data versions."""

    def __init__(self, url: str, engine: sa.Engine | None = None, read_only: bool = False) -> None:
        self.url = url
        check_database_url(url)
        self.read_only = read_only or sqlite_read_only_url(make_url(url))
        self.engine = engine or create_engine_for(url, self.read_only)
        self.vector_column = False  # pgvector column on joint_embeddings (PostgreSQL with the extension)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        return mask_url(self.url)

    @classmethod
    def open(cls, url: str, read_only: bool = False) -> Database:
        """Connect and bring the schema up to date (read-only: check it is); StoreUnavailable if that fails."""
        try:
            db = cls(url, read_only=read_only)
            db.upgrade_schema()
        except PrometheusError:
            raise
        except (sa.exc.ArgumentError, ValueError):
            raise StoreUnavailable(f"{NOT_A_URL_MESSAGE}: {URL_FORMS}") from None
        except (sa.exc.DBAPIError, OSError) as exc:
            raise StoreUnavailable(describe_db_error(exc, url)) from None
        except ModuleNotFoundError as exc:
            raise StoreUnavailable(f"no driver for {mask_url(url)}: {exc.name}") from None
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

    def _schema_state(self) -> tuple[list[int], bool]:
        """(migrations not yet applied, pgvector column present), read without any lock."""
        with self.read() as conn:
            if not sa.inspect(conn).has_table(schema.schema_migrations.name):
                return [version for version, _, _ in schema.MIGRATIONS], False
            applied = set(conn.execute(sa.select(schema.schema_migrations.c.version)).scalars())
            return [v for v, _, _ in schema.MIGRATIONS if v not in applied], has_vector_column(conn)

    def upgrade_schema(self) -> int:
        """Apply pending migrations; safe when several processes start at once.

        The check runs in a plain read transaction, so an up-to-date store opens without
        the write lock; only a due migration (or pgvector to enable) takes it.
        """
        pending, vector_column = self._schema_state()
        if self.read_only:
            if pending:
                done = len(schema.MIGRATIONS) - len(pending)
                state = "has no Prometheus schema" if not done else f"lacks schema migration {pending[0]}"
                raise StoreUnavailable(
                    f"the database {self.display_url} {state}, and a read-only store may not change it "
                    f"(schema version {schema.SCHEMA_VERSION} is needed): open it once with a writable command"
                )
            self.vector_column = vector_column
            return schema.SCHEMA_VERSION
        if not pending and (vector_column or not self._pgvector_offered()):
            self.vector_column = vector_column
            return schema.SCHEMA_VERSION
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

    def _pgvector_offered(self) -> bool:
        if self.dialect != "postgresql":
            return False
        with self.read() as conn:
            return bool(conn.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).scalar())

    @functools.cached_property
    def store_id(self) -> str:
        """This database's random identity (fixed when its schema was created)."""
        return str(self.info("store_id"))

    def info(self, key: str) -> str | None:
        """A fact recorded about this database (``store_info``), or None."""
        with self.read() as conn:
            value = conn.execute(sa.select(schema.store_info.c.value).where(schema.store_info.c.key == key)).scalar()
        return None if value is None else str(value)

    def set_info(self, key: str, value: str) -> None:
        """Record (or replace) a fact about this database."""
        table = schema.store_info
        with self.write() as conn:
            conn.execute(sa.delete(table).where(table.c.key == key))
            conn.execute(sa.insert(table).values(key=key, value=value))

    def data_version(self, name: str) -> int:
        return self.data_stamp(name).version

    def data_stamp(self, name: str) -> schema.DataStamp:
        """The data set's version and the random stamp of the write that made it (see schema.data_versions)."""
        table = schema.data_versions
        with self.read() as conn:
            row = conn.execute(sa.select(table.c.version, table.c.stamp).where(table.c.name == name)).first()
        return schema.DataStamp(int(row[0]), str(row[1])) if row is not None else schema.DataStamp(0, "")

    def had_stamp(self, name: str, stamp: schema.DataStamp) -> bool:
        """Whether this database's history of ``name`` passed through ``stamp`` (so a cache of it may be extended)."""
        if stamp.version == 0:
            return False
        log = schema.data_version_log
        with self.read() as conn:
            found = conn.execute(
                sa.select(log.c.stamp).where(log.c.name == name, log.c.version == stamp.version)
            ).scalar()
        return found == stamp.stamp

    def dispose(self) -> None:
        self.engine.dispose()
