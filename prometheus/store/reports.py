"""Risk reports in the runtime database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from prometheus.errors import InvalidReport, printable
from prometheus.reports import RiskReport
from prometheus.store.database import Database, json_loads
from prometheus.store.report_writer import ReportWriter, report_row
from prometheus.store.schema import portfolio_risk_reports as reports_table
from prometheus.store.upsert import bump_data_version
from prometheus.store.values import replace_values
from prometheus.values import ValueSeries

REPORTS_VERSION = "reports"
CLASH = (
    "a report_id in this batch already belongs to another portfolio or date; "
    "leave report_id empty to have one generated"
)


_ENCODED_BLOCKS = ("risk_metrics", "exposures_by_sector", "exposures_by_factor")


def _block(text: str | None) -> Any:
    """A JSON block as stored: SQL NULL and JSON null read as an empty block."""
    return {} if text is None else (json_loads(text) or {})


def block_or_empty(text: str | None) -> dict[str, Any]:
    """A JSON block for display: anything unreadable or not an object reads as empty (values show as missing)."""
    try:
        value = _block(text)
    except InvalidReport:
        return {}
    return value if isinstance(value, dict) else {}


def _name_unreadable(rows: Sequence[Sequence[Any]]) -> InvalidReport:
    """The first report whose stored JSON cannot be parsed, named (the fast path does not track rows)."""
    for row in rows:
        for name, text in zip(_ENCODED_BLOCKS, row[6:9], strict=True):
            try:
                _block(text)
            except InvalidReport:
                return InvalidReport(
                    f"report {printable(row[1])} {row[2].isoformat()}: {name} is not valid JSON; re-import that report"
                )
    return InvalidReport("a stored JSON value cannot be read; re-import the reports")


def plain_rows(
    conn: sa.Connection,
    columns: Sequence[str],
    blocks: Sequence[str],
    *,
    dates: Sequence[date] | None = None,
    portfolio_ids: Sequence[str] | None = None,
    ordered: bool = False,
) -> list[tuple[Any, ...]]:
    """Report rows through one plain driver query: ``columns``, then the JSON ``blocks`` as text.

    The bulk read paths (encoding, map attributes) use it: SQLAlchemy's row and
    type processing cost a quarter of the read, and JSON is parsed by the caller
    with orjson. ``as_of_date``, if among ``columns``, comes back as a date.
    """
    params: list[Any] = []
    conditions: list[str] = []
    if conn.dialect.name == "sqlite":  # dates are stored as ISO text
        if dates is not None:
            conditions.append(f"as_of_date IN ({', '.join('?' * len(dates))})")
            params += [d.isoformat() for d in dates]
        if portfolio_ids:
            conditions.append(f"portfolio_id IN ({', '.join('?' * len(portfolio_ids))})")
            params += list(portfolio_ids)
        texts = list(blocks)
    else:
        if dates is not None:
            conditions.append("as_of_date = ANY(%s)")
            params.append(list(dates))
        if portfolio_ids:
            conditions.append("portfolio_id = ANY(%s)")
            params.append(list(portfolio_ids))
        texts = [f"{name}::text" for name in blocks]
    sql = f"SELECT {', '.join([*columns, *texts])} FROM {reports_table.name}"
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    if ordered:
        sql += " ORDER BY as_of_date, portfolio_id"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    finally:
        cursor.close()
    at = list(columns).index("as_of_date") if "as_of_date" in columns else -1
    if at >= 0 and rows and isinstance(rows[0][at], str):
        days = {text: date.fromisoformat(text) for text in {row[at] for row in rows}}
        rows = [(*r[:at], days[r[at]], *r[at + 1 :]) for r in rows]
    return rows


_ENCODING_COLUMNS = ("report_id", "portfolio_id", "as_of_date", "net_exposure", "gross_exposure", "leverage")


def _report(row: sa.Row[Any]) -> RiskReport:
    # Read back as stored: the encoder re-checks values and names any bad key.
    return RiskReport(
        report_id=row.report_id,
        portfolio_id=row.portfolio_id,
        as_of_date=row.as_of_date,
        portfolio_value=row.portfolio_value,
        cash=row.cash,
        net_exposure=row.net_exposure,
        gross_exposure=row.gross_exposure,
        leverage=row.leverage,
        risk_metrics=dict(row.risk_metrics or {}),
        scenario_pnl=dict(row.scenario_pnl or {}),
        exposures_by_sector=dict(row.exposures_by_sector or {}),
        exposures_by_factor=dict(row.exposures_by_factor or {}),
        metadata=dict(row.metadata or {}),
    )


class ReportStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def upsert(self, reports: Iterable[RiskReport], values: Mapping[str, ValueSeries] | None = None) -> int:
        """Write all reports in one transaction; a report's key is (portfolio, date).

        ``values`` (the books' daily values, from the risk engine) go in the same transaction.
        """
        rows = [report_row(r) for r in reports]
        if not rows and not values:
            return 0
        try:
            with self.db.write() as conn:
                if rows:
                    ReportWriter(conn, self.db, CLASH).write(rows)
                    bump_data_version(conn, REPORTS_VERSION)
                if values is not None:
                    replace_values(conn, values)
        except sa.exc.IntegrityError:
            raise InvalidReport(CLASH) from None
        return len(rows)

    def _filtered(
        self,
        query: sa.Select[Any],
        *,
        dates: Sequence[date] | None = None,
        start: date | None = None,
        end: date | None = None,
        portfolio_ids: Sequence[str] | None = None,
    ) -> sa.Select[Any]:
        c = reports_table.c
        if dates is not None:
            query = query.where(c.as_of_date.in_(list(dates)))
        if start is not None:
            query = query.where(c.as_of_date >= start)
        if end is not None:
            query = query.where(c.as_of_date <= end)
        if portfolio_ids:
            query = query.where(c.portfolio_id.in_(list(portfolio_ids)))
        return query

    def load(
        self,
        *,
        dates: Sequence[date] | None = None,
        start: date | None = None,
        end: date | None = None,
        portfolio_ids: Sequence[str] | None = None,
    ) -> list[RiskReport]:
        c = reports_table.c
        query = self._filtered(
            sa.select(reports_table), dates=dates, start=start, end=end, portfolio_ids=portfolio_ids
        ).order_by(c.as_of_date, c.portfolio_id)
        with self.db.read() as conn:
            return [_report(row) for row in conn.execute(query)]

    def load_for_encoding(
        self, *, dates: Sequence[date], portfolio_ids: Sequence[str] | None = None
    ) -> list[RiskReport]:
        """Reports with only what encoders read (no scenario P&L or metadata): cheaper to parse.

        The backfill's hot path: one plain driver query, JSON blocks fetched as
        text and parsed here with orjson, once (SQLAlchemy's row and type
        processing cost a quarter of the read).
        """
        with self.db.read() as conn:
            rows = plain_rows(
                conn, _ENCODING_COLUMNS, _ENCODED_BLOCKS, dates=dates, portfolio_ids=portfolio_ids, ordered=True
            )
        try:
            reports = self._build_for_encoding(rows)
        except InvalidReport:
            raise _name_unreadable(rows) from None
        for report in reports:
            for name in _ENCODED_BLOCKS:
                if type(getattr(report, name)) is not dict:
                    raise InvalidReport(
                        f"report {printable(report.portfolio_id)} {report.as_of_date.isoformat()}: {name} is stored "
                        "as something other than a JSON object; re-import that report"
                    )
        return reports

    @staticmethod
    def _build_for_encoding(rows: Sequence[Sequence[Any]]) -> list[RiskReport]:
        return [
            RiskReport(
                portfolio_id=portfolio_id,
                as_of_date=day,
                net_exposure=net,
                gross_exposure=gross,
                leverage=leverage,
                risk_metrics=_block(metrics),
                exposures_by_sector=_block(sectors),
                exposures_by_factor=_block(factors),
                report_id=report_id,
            )
            for report_id, portfolio_id, day, net, gross, leverage, metrics, sectors, factors in rows
        ]

    def get(self, portfolio_id: str, as_of_date: date) -> RiskReport | None:
        found = self.load(dates=[as_of_date], portfolio_ids=[portfolio_id])
        return found[0] if found else None

    def dates(
        self, *, start: date | None = None, end: date | None = None, portfolio_ids: Sequence[str] | None = None
    ) -> list[date]:
        c = reports_table.c
        query = self._filtered(
            sa.select(c.as_of_date).distinct(), start=start, end=end, portfolio_ids=portfolio_ids
        ).order_by(c.as_of_date)
        with self.db.read() as conn:
            return list(conn.execute(query).scalars())

    def portfolio_ids(self) -> list[str]:
        c = reports_table.c
        with self.db.read() as conn:
            return list(conn.execute(sa.select(c.portfolio_id).distinct().order_by(c.portfolio_id)).scalars())

    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(reports_table)).scalar() or 0)

    def metric_history(self, portfolio_id: str) -> list[RiskReport]:
        return self.load(portfolio_ids=[portfolio_id])
