"""Bulk report writes: many rows a statement on SQLite, COPY on PostgreSQL; the JSON blocks arrive as text.

One writer for every way reports come in: an import file (prometheus/store/report_import.py, rows
as prometheus/report_rows.py lays them out) and the reports the risk engine or a caller builds
(:meth:`prometheus.store.reports.ReportStore.upsert`, through :func:`report_row`). SQLite gets
upserts of up to 2,048 rows a statement; PostgreSQL gets COPY (FORMAT BINARY) into a temporary
table, then one ``INSERT ... SELECT ... ON CONFLICT`` per call. The caller owns the transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from itertools import chain
from operator import itemgetter
from typing import Any

import orjson
import sqlalchemy as sa

from prometheus.errors import InvalidReport, StoreUnavailable
from prometheus.reports import JSON_COLUMNS, NUMERIC_COLUMNS, RiskReport
from prometheus.store.database import Database, describe_db_error
from prometheus.store.multirow import most_rows, statement_slices
from prometheus.store.schema import portfolio_risk_reports as reports_table
from prometheus.store.schema import utc_now

_COLUMNS = ("report_id", "portfolio_id", "as_of_date", *NUMERIC_COLUMNS, *JSON_COLUMNS)
_UPDATED = tuple(c for c in _COLUMNS if c not in ("portfolio_id", "as_of_date"))  # created_at is kept
_CONFLICT = f"ON CONFLICT (portfolio_id, as_of_date) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _UPDATED)}"
# SQLite: up to 2,048 rows a statement (see prometheus.store.multirow; created_at bound once, as ?1).
# A prepared statement of 2,048 rows takes ~5 MB (4,096 rows: ~10 MB, no faster); fewer rows where
# SQLite allows fewer parameters.
_SQLITE_ROW = "(?1, " + ", ".join("?" * len(_COLUMNS)) + ")"
_SQLITE_MAX_ROWS = 2048
_WRITTEN = itemgetter(slice(1, 1 + len(_COLUMNS)))  # a row's columns (line first, the id flag last), date third
_STAGING = "_import_reports"
_PG_TYPES = ["text", "text", "date", *["float8"] * len(NUMERIC_COLUMNS), *["text"] * len(JSON_COLUMNS)]
_PG_SELECT = ", ".join(f"{c}::jsonb" if c in JSON_COLUMNS else c for c in _COLUMNS)
_PG_UPSERT = (
    f"INSERT INTO {reports_table.name} ({', '.join(_COLUMNS)}, created_at) "
    f"SELECT {_PG_SELECT}, %s FROM {_STAGING} {_CONFLICT.replace('excluded.', 'EXCLUDED.')}"
)


@cache
def _sqlite_upsert(rows: int) -> str:
    return (
        f"INSERT INTO {reports_table.name} (created_at, {', '.join(_COLUMNS)}) "
        f"VALUES {', '.join([_SQLITE_ROW] * rows)} {_CONFLICT}"
    )


def report_row(report: RiskReport) -> tuple[Any, ...]:
    """A validated report in the writer's row layout, its blocks as compact JSON text.

    orjson directly: a RiskReport's blocks hold text keys and finite numbers only (checked when it
    was created), so nothing needs the store's general JSON path (prometheus.store.database.json_dumps).
    """
    dumps = orjson.dumps
    return (
        0,
        report.report_id,
        report.portfolio_id,
        report.as_of_date,
        report.portfolio_value,
        report.cash,
        report.net_exposure,
        report.gross_exposure,
        report.leverage,
        dumps(report.risk_metrics).decode(),
        dumps(report.scenario_pnl).decode(),
        dumps(report.exposures_by_sector).decode(),
        dumps(report.exposures_by_factor).decode(),
        dumps(report.metadata).decode(),
        True,
    )


class ReportWriter:
    """Upserts of report rows inside the caller's transaction; ``clash`` is the message for a report_id
    that already belongs to another portfolio or date."""

    def __init__(self, conn: sa.Connection, db: Database, clash: str) -> None:
        self.conn = conn
        self.db = db
        self.clash = clash
        self.written = 0
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
        if not rows:
            return
        if self.conn.dialect.name == "sqlite":
            self._write_sqlite(rows)
        else:
            self._write_postgres(rows)
        self.written += len(rows)

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
            raise InvalidReport(self.clash) from None
        except psycopg.Error as exc:  # the driver's own errors: SQLAlchemy is not there to wrap them
            raise StoreUnavailable(describe_db_error(exc, self.db.url)) from None
