"""Batched upserts, one statement shape per dialect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

BATCH_ROWS = 2000


def upsert_rows(
    conn: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict_columns: Sequence[str],
    update_columns: Sequence[str],
) -> int:
    """Insert rows (tuples in ``columns`` order), replacing ``update_columns`` where the key exists.

    Runs inside the caller's transaction. SQLAlchemy compiles the statement once and supplies its own bind
    processors (dates, JSON), so rows are stored exactly as the Core path
    would store them; the driver's executemany then runs without per-row
    statement processing.
    """
    if not rows:
        return 0
    dialect = conn.dialect
    insert: Any = sqlite.insert(table) if dialect.name == "sqlite" else postgresql.insert(table)
    statement = insert.on_conflict_do_update(
        index_elements=list(conflict_columns), set_={name: insert.excluded[name] for name in update_columns}
    )
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in columns]
    converters = [(i, p) for i, p in enumerate(processors) if p is not None]
    prepared: list[Any] = []
    for row in rows:
        values = list(row)
        for i, processor in converters:
            values[i] = processor(values[i])
        prepared.append(values)
    if compiled.positiontup is not None:
        order = [list(columns).index(name) for name in compiled.positiontup]
        params: list[Any] = [tuple(values[i] for i in order) for values in prepared]
    else:
        params = [dict(zip(columns, values, strict=True)) for values in prepared]
    for begin in range(0, len(params), 10 * BATCH_ROWS):
        conn.exec_driver_sql(compiled.string, params[begin : begin + 10 * BATCH_ROWS])
    return len(params)


def bump_data_version(conn: sa.Connection, name: str) -> int:
    """Mark a data set changed, inside the writer's transaction; return its new version.

    Race-free on both dialects: the row lock (PostgreSQL) or the write lock
    (SQLite, BEGIN IMMEDIATE) orders concurrent writers.
    """
    from prometheus.store.schema import data_versions

    dialect = conn.dialect.name
    insert: Any = sqlite.insert(data_versions) if dialect == "sqlite" else postgresql.insert(data_versions)
    statement = (
        insert.values(name=name, version=1)
        .on_conflict_do_update(index_elements=["name"], set_={"version": data_versions.c.version + 1})
        .returning(data_versions.c.version)
    )
    return int(conn.execute(statement).scalar_one())
