"""Batched upserts, one statement shape per dialect."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from prometheus.store.database import json_dumps

BATCH_ROWS = 2000
COPY_THRESHOLD = 500  # from this many rows, PostgreSQL gets COPY ... (FORMAT BINARY)

# Most specific first: BigInteger is an Integer, Text is a String.
_PG_COPY_TYPES = {
    sa.BigInteger: "int8",
    sa.Integer: "int4",
    sa.Text: "text",
    sa.String: "text",
    sa.Float: "float8",
    sa.Date: "date",
    sa.DateTime: "timestamptz",
    sa.LargeBinary: "bytea",
    sa.JSON: "jsonb",
}


def _pg_type(column: sa.Column[Any]) -> str:
    for python_type, name in _PG_COPY_TYPES.items():
        if isinstance(column.type, python_type) or isinstance(getattr(column.type, "impl", None), python_type):
            return name
    raise NotImplementedError(f"no COPY type for {column.name} ({column.type})")


def _copy_to_staging(cursor: Any, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """COPY rows in binary into a per-transaction temporary copy of ``table``; return its name."""
    from psycopg.types.json import Jsonb

    types = [_pg_type(table.c[name]) for name in columns]
    json_positions = [i for i, t in enumerate(types) if t == "jsonb"]
    staging = f"_staging_{table.name}"
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    cursor.execute(f"TRUNCATE {staging}")
    encoded: dict[int, str] = {}  # batches share a few spec dicts: encode each once

    def dumps(value: Any) -> str:
        text = encoded.get(id(value))
        if text is None:
            text = encoded[id(value)] = json_dumps(value)
        return text

    with cursor.copy(f"COPY {staging} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            values = list(row)
            for i in json_positions:
                values[i] = None if values[i] is None else Jsonb(values[i], dumps=dumps)
            copy.write_row(values)
    return staging


def copy_upsert_changed(
    conn: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict_columns: Sequence[str],
    update_columns: Sequence[str],
    compared_columns: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """PostgreSQL COPY upsert; with ``compared_columns``, a row whose compared values are unchanged is left alone.

    Returns the conflict-key values of the rows actually inserted or updated.
    """
    raw = conn.connection.driver_connection
    assert raw is not None
    names = ", ".join(columns)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in update_columns)
    statement = (
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {{staging}} "
        f"ON CONFLICT ({', '.join(conflict_columns)}) DO UPDATE SET {updates}"
    )
    if compared_columns:
        mine = ", ".join(f"{table.name}.{name}" for name in compared_columns)
        theirs = ", ".join(f"EXCLUDED.{name}" for name in compared_columns)
        statement += f" WHERE ({mine}) IS DISTINCT FROM ({theirs})"
    statement += f" RETURNING {', '.join(f'{table.name}.{name}' for name in conflict_columns)}"
    with raw.cursor() as cursor:
        staging = _copy_to_staging(cursor, table, columns, rows)
        cursor.execute(statement.format(staging=staging))
        return [tuple(row) for row in cursor.fetchall()]


def _memoized(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The bind processor, run once per distinct value of one call.

    Batches repeat a few values many times (a date per chunk of portfolios, one
    window_spec per missing-key pattern); JSON encoding each repeat was the
    write path's largest Python cost. Dicts and lists are keyed by identity,
    which is stable while the caller's rows are alive.
    """
    done: dict[tuple[Any, ...], Any] = {}

    def process(value: Any) -> Any:
        key = (id(value),) if isinstance(value, (dict, list)) else (type(value), value)
        try:
            return done[key]
        except KeyError:
            done[key] = result = processor(value)
            return result

    return process


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
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_THRESHOLD:
        copy_upsert_changed(conn, table, columns, rows, conflict_columns, update_columns)
        return len(rows)
    dialect = conn.dialect
    insert: Any = sqlite.insert(table) if dialect.name == "sqlite" else postgresql.insert(table)
    statement = insert.on_conflict_do_update(
        index_elements=list(conflict_columns), set_={name: insert.excluded[name] for name in update_columns}
    )
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    converters: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(columns):
        column_type = table.c[name].type
        processor = column_type._cached_bind_processor(dialect)
        if processor is not None:
            # A number's processor (a compiled float()) costs less than looking it up: 58k reports' five
            # figures are nearly all distinct, and memoizing them was half the reports' write time.
            converters.append((i, processor if isinstance(column_type, sa.Float) else _memoized(processor)))
    # Column by column, through C iterators (zip, map): a Python loop over rows and their cells was
    # two thirds of writing the demo book's 279,659 daily values (1.6 s; the driver's part 0.56 s).
    if set(map(len, rows)) != {len(columns)}:
        raise ValueError(f"every row must hold {len(columns)} values, one per column")
    values: list[Sequence[Any]] = [list(map(itemgetter(i), rows)) for i in range(len(columns))]
    for i, convert in converters:
        values[i] = list(map(convert, values[i]))
    params: list[Any]
    if compiled.positiontup is not None:
        params = list(zip(*(values[list(columns).index(name)] for name in compiled.positiontup), strict=True))
    else:
        params = [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]
    for begin in range(0, len(params), 10 * BATCH_ROWS):
        conn.exec_driver_sql(compiled.string, params[begin : begin + 10 * BATCH_ROWS])
    return len(params)


def bump_data_version(conn: sa.Connection, name: str) -> int:
    """Mark a data set changed, inside the writer's transaction; return its new version.

    The write also draws a new random stamp, logged with the version (see
    ``schema.data_versions``). Race-free on both dialects: the row lock (PostgreSQL)
    or the write lock (SQLite, BEGIN IMMEDIATE) orders concurrent writers.
    """
    from prometheus.store.schema import data_version_log, data_versions, new_stamp

    dialect = conn.dialect.name
    stamp = new_stamp()
    insert: Any = sqlite.insert(data_versions) if dialect == "sqlite" else postgresql.insert(data_versions)
    statement = (
        insert.values(name=name, version=1, stamp=stamp)
        .on_conflict_do_update(index_elements=["name"], set_={"version": data_versions.c.version + 1, "stamp": stamp})
        .returning(data_versions.c.version)
    )
    version = int(conn.execute(statement).scalar_one())
    log: Any = sqlite.insert(data_version_log) if dialect == "sqlite" else postgresql.insert(data_version_log)
    # A log row of this version may be left from a history before a backup was restored: replace it.
    conn.execute(
        log.values(name=name, version=version, stamp=stamp).on_conflict_do_update(
            index_elements=["name", "version"], set_={"stamp": stamp}
        )
    )
    return version


def unbump_data_version(conn: sa.Connection, name: str) -> None:
    """Undo :func:`bump_data_version` in the same transaction, when the write turned out to change nothing.

    The version and its stamp go back to those before the bump, so caches of them stay valid.
    """
    from prometheus.store.schema import data_version_log, data_versions

    version = conn.execute(sa.select(data_versions.c.version).where(data_versions.c.name == name)).scalar_one()
    log = data_version_log.c
    conn.execute(sa.delete(data_version_log).where(log.name == name, log.version == version))
    previous = sa.select(log.stamp).where(log.name == name, log.version == version - 1).scalar_subquery()
    conn.execute(
        sa.update(data_versions)
        .where(data_versions.c.name == name)
        .values(version=data_versions.c.version - 1, stamp=sa.func.coalesce(previous, ""))
    )
