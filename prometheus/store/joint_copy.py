"""The identity joint model's write path: joint states copied from numeric states inside the database.

One INSERT ... SELECT per chunk; the vectors never pass through Python.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from prometheus.store.pgvector import sync_vectors
from prometheus.store.schema import numeric_window_embeddings, utc_now
from prometheus.store.vector import decode_matrix

if TYPE_CHECKING:
    from prometheus.store.embeddings import JointEmbeddingStore


def copy_rows(
    store: JointEmbeddingStore, conn: sa.Connection, model_id: str, entity_type: str, source: list[Any], revision: int
) -> int:
    """The INSERT ... SELECT of :meth:`copy_numeric`; returns the rows written (pgvector column kept in step)."""
    n = numeric_window_embeddings.c
    j = store.table.c
    if store.db.dialect == "postgresql":
        day_text: sa.ColumnElement[Any] = sa.func.to_char(n.as_of_date, "YYYY-MM-DD")
        build_object: Any = sa.func.jsonb_build_object
        insert: Any = postgresql.insert(store.table)
    else:
        day_text = n.as_of_date  # SQLite keeps dates as ISO text
        build_object = sa.func.json_object
        insert = sqlite.insert(store.table)
    scope = build_object(
        "entity_type", entity_type, "portfolio_id", n.entity_id, "source", n.model_id, "as_of_date", day_text
    )
    select = sa.select(
        sa.literal(store.kind, sa.String),
        sa.literal(model_id, sa.String),
        n.entity_id,
        n.as_of_date,
        n.vector,
        n.dim,
        sa.type_coerce(scope, store.table.c.entity_scope.type),
        sa.literal(utc_now(), sa.DateTime(timezone=True)),
        sa.literal(revision, sa.BigInteger),
    ).where(*source)
    columns = ["joint_type", "model_id", "portfolio_id", "as_of_date", "vector", "dim", "entity_scope"]
    statement = insert.from_select([*columns, "created_at", "revision"], select)
    statement = statement.on_conflict_do_update(
        index_elements=list(store.key_columns()),
        set_={name: statement.excluded[name] for name in ("vector", "dim", "entity_scope", "revision")},
        where=sa.or_(
            *(j[name].is_distinct_from(statement.excluded[name]) for name in ("vector", "dim", "entity_scope"))
        ),
    )
    if not store.db.vector_column:
        return int(conn.execute(statement.execution_options(preserve_rowcount=True)).rowcount)
    written = conn.execute(statement.returning(j.portfolio_id, j.as_of_date, j.vector, j.dim)).all()
    if written:
        labels = [f"{model_id} {r[0]} {r[1]}" for r in written]
        matrix = decode_matrix([bytes(r[2]) for r in written], [r[3] for r in written], int(written[0][3]), labels)
        sync_vectors(conn, [(store.kind, model_id, r[0], r[1]) for r in written], matrix)
    return len(written)
