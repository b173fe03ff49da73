"""Bulk report writes for an import: a whole file in one transaction, written as it is read.

Rows arrive in chunks (prometheus/report_files.py), their JSON blocks already encoded as
text. SQLite gets upserts of up to 2,048 rows a statement; PostgreSQL gets COPY (FORMAT
BINARY) into a temporary table, then one ``INSERT ... SELECT ... ON CONFLICT`` per chunk.
The importer may abandon the transaction at the end (a bad row was found): nothing is
written, not even the rows before it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from functools import cache
from itertools import chain
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from prometheus.errors import InvalidReport, StoreUnavailable
from prometheus.reports import JSON_COLUMNS, NUMERIC_COLUMNS
from prometheus.store.database import Database, describe_db_error
from prometheus.store.multirow import most_rows, statement_slices
from prometheus.store.reports import REPORTS_VERSION
from prometheus.store.schema import portfolio_risk_reports as reports_table
from prometheus.store.schema import utc_now
from prometheus.store.upsert import bump_data_version

_COLUMNS = ("report_id", "portfolio_id", "as_of_date", *NUMERIC_COLUMNS, *JSON_COLUMNS)
_UPDATED = tuple(c for c in _COLUMNS if c not in ("portfolio_id", "as_of_date"))  # created_at is kept
_CONFLICT = f"ON CONFLICT (portfolio_id, as_of_date) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _UPDATED)}"
# SQLite: up to 2,048 rows a statement (see prometheus.store.multirow; created_at bound once, as ?1).
# A prepared statement of 2,048 rows takes ~5 MB (4,096 rows: ~10 MB, no faster); fewer rows where
# SQLite allows fewer parameters.
_SQLITE_ROW = "(?1, " + ", ".join("?" * len(_COLUMNS)) + ")"
_SQLITE_MAX_ROWS = 2048
_WRITTEN = itemgetter(slice(1, 1 + len(_COLUMNS)))  # a prometheus.report_rows row's columns, as_of_date third
_STAGING = "_import_reports"
_PG_TYPES = ["text", "text", "date", *["float8"] * len(NUMERIC_COLUMNS), *["text"] * len(JSON_COLUMNS)]
_PG_SELECT = ", ".join(f"{c}::jsonb" if c in JSON_COLUMNS else c for c in _COLUMNS)
_PG_UPSERT = (
    f"INSERT INTO {reports_table.name} ({', '.join(_COLUMNS)}, created_at) "
    f"SELECT {_PG_SELECT}, %s FROM {_STAGING} {_CONFLICT.replace('excluded.', 'EXCLUDED.')}"
)
CLASH = (
    "a report_id in this file already belongs to another portfolio or date in the store; "
    "leave report_id empty to have one generated"
)


@cache
def _sqlite_upsert(rows: int) -> str:
    return (
        f"INSERT INTO {reports_table.name} (created_at, {', '.join(_COLUMNS)}) "
        f"VALUES {', '.join([_SQLITE_ROW] * rows)} {_CONFLICT}"
    )


class _Abandoned(Exception):
    pass


class ReportImport:
    """The writes of one import, inside its transaction (see :func:`report_import`)."""

    def __init__(self, conn: sa.Connection, db: Database) -> None:
        self.conn = conn
        self.db = db
        self.written = 0
        self.abandoned = False
        self.created_at: datetime = utc_now()
        processor = reports_table.c.created_at.type._cached_bind_processor(conn.dialect)
        self._sqlite_created_at = processor(self.created_at) if processor else self.created_at
        self._sqlite_rows = _SQLITE_MAX_ROWS
        if conn.dialect.name == "sqlite":
            raw = conn.connection.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            self._sqlite_rows = most_rows(raw, len(_COLUMNS), _SQLITE_MAX_ROWS, reserved=1)

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Upsert rows in the row layout of prometheus.report_rows (line first, the id flag last)."""
        if not rows or self.abandoned:
            return
        if self.conn.dialect.name == "sqlite":
            self._write_sqlite(rows)
        else:
            self._write_postgres(rows)
        self.written += len(rows)

    def abandon(self) -> None:
        """Write nothing more, and roll back what was written when the import ends."""
        self.abandoned = True

    def _write_sqlite(self, rows: Sequence[tuple[Any, ...]]) -> None:
        for start, size in statement_slices(len(rows), self._sqlite_rows):
            # The parameters built by C iterators, not a Python loop: the reading thread competes for the GIL.
            params: list[Any] = [self._sqlite_created_at]
            params += chain.from_iterable(map(_WRITTEN, rows[start : start + size]))
            params[3 :: len(_COLUMNS)] = map(date.isoformat, params[3 :: len(_COLUMNS)])
            self.conn.exec_driver_sql(_sqlite_upsert(size), tuple(params))

    def _write_postgres(self, rows: Sequence[tuple[Any, ...]]) -> None:
        import psycopg

        raw = self.conn.connection.driver_connection
        assert raw is not None
        try:
            with raw.cursor() as cursor:
                cursor.execute(
                    f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING} ("
                    + ", ".join(f"{name} {kind}" for name, kind in zip(_COLUMNS, _PG_TYPES, strict=True))
                    + ") ON COMMIT DROP"
                )
                cursor.execute(f"TRUNCATE {_STAGING}")
                with cursor.copy(f"COPY {_STAGING} ({', '.join(_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(_PG_TYPES)
                    write_row = copy.write_row
                    for row in rows:
                        write_row(row[1:14])
                cursor.execute(_PG_UPSERT, (self.created_at,))
        except psycopg.IntegrityError:
            raise InvalidReport(CLASH) from None
        except psycopg.Error as exc:  # the driver's own errors: SQLAlchemy is not there to wrap them
            raise StoreUnavailable(describe_db_error(exc, self.db.url)) from None


@contextmanager
def report_import(db: Database) -> Iterator[ReportImport]:
    """One transaction for a whole import: committed at the end (moving the reports' data version
    if anything was written), rolled back whole on an error or if the import is abandoned."""
    try:
        with db.write() as conn:
            writes = ReportImport(conn, db)
            yield writes
            if writes.abandoned:
                raise _Abandoned
            if writes.written:
                bump_data_version(conn, REPORTS_VERSION)
    except _Abandoned:
        pass
    except sa.exc.IntegrityError:
        raise InvalidReport(CLASH) from None
