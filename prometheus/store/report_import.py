"""Bulk report writes for an import: a whole file in one transaction, written as it is read.

Rows arrive in chunks (prometheus/report_files.py), their JSON blocks already encoded as
text, and go through the store's bulk report writer (prometheus/store/report_writer.py).
The importer may abandon the transaction at the end (a bad row was found): nothing is written,
not even the rows before it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from prometheus.errors import InvalidReport
from prometheus.store.database import Database
from prometheus.store.report_writer import ReportWriter
from prometheus.store.reports import REPORTS_VERSION
from prometheus.store.upsert import bump_data_version

CLASH = (
    "a report_id in this file already belongs to another portfolio or date in the store; "
    "leave report_id empty to have one generated"
)


class _Abandoned(Exception):
    pass


class ReportImport(ReportWriter):
    """The writes of one import, inside its transaction (see :func:`report_import`)."""

    def __init__(self, conn: sa.Connection, db: Database) -> None:
        super().__init__(conn, db, CLASH)
        self.abandoned = False

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Upsert rows in the row layout of prometheus.report_rows (line first, the id flag last)."""
        if not self.abandoned:
            super().write(rows)

    def abandon(self) -> None:
        """Write nothing more, and roll back what was written when the import ends."""
        self.abandoned = True


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
