"""pgvector: joint embeddings also as a vector(384) column, where the server has the extension.

The column is added (idempotently) when a store opens on a PostgreSQL server
whose ``pg_available_extensions`` lists ``vector`` and the role may create it;
otherwise nothing changes and searches use the in-process index. The HNSW
index is built on demand (``build_search_index --in-database``), not kept on
every insert, so bulk backfills are not slowed by graph maintenance.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa

log = logging.getLogger(__name__)

VECTOR_COLUMN = "embedding"
VECTOR_DIM = 384
HNSW_INDEX = "ix_joint_embeddings_embedding_hnsw"


def enable_vector_column(conn: sa.Connection) -> bool:
    """Add the vector column if the server offers pgvector; True if the column is there."""
    if conn.dialect.name != "postgresql":
        return False
    if has_vector_column(conn):
        return True
    if not conn.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).scalar():
        return False
    try:
        with conn.begin_nested():
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
            conn.execute(
                sa.text(f"ALTER TABLE joint_embeddings ADD COLUMN IF NOT EXISTS {VECTOR_COLUMN} vector({VECTOR_DIM})")
            )
    except sa.exc.DBAPIError as exc:
        log.warning(
            "pgvector is available but could not be enabled (%s); using the in-process index",
            str(getattr(exc, "orig", exc)).splitlines()[0],
        )
        return False
    return True


def has_vector_column(conn: sa.Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    return bool(
        conn.execute(
            sa.text(
                "SELECT 1 FROM information_schema.columns WHERE table_name = 'joint_embeddings' AND column_name = :c"
            ),
            {"c": VECTOR_COLUMN},
        ).scalar()
    )


def vector_literal(values: np.ndarray) -> str:
    """pgvector's text form; float32 values print exactly with 9 significant digits."""
    return "[" + ",".join(f"{v:.9g}" for v in np.asarray(values, dtype=np.float32).tolist()) + "]"


def sync_vectors(conn: sa.Connection, keys: Sequence[tuple[Any, ...]], matrix: np.ndarray) -> None:
    """Set the vector column of the rows just written (keys: joint_type, model_id, portfolio_id, as_of_date)."""
    if matrix.shape[1] != VECTOR_DIM:
        return  # vector(384) holds 384-dim models only; others are searched in process
    raw = conn.connection.driver_connection
    assert raw is not None
    params = [(vector_literal(matrix[i]), *key) for i, key in enumerate(keys)]
    with raw.cursor() as cursor:
        cursor.executemany(
            f"UPDATE joint_embeddings SET {VECTOR_COLUMN} = %s::vector WHERE joint_type = %s AND model_id = %s "
            "AND portfolio_id = %s AND as_of_date = %s",
            params,
        )


def build_hnsw_index(conn: sa.Connection, m: int = 16, ef_construction: int = 64) -> None:
    conn.execute(sa.text(f"DROP INDEX IF EXISTS {HNSW_INDEX}"))
    conn.execute(
        sa.text(
            f"CREATE INDEX {HNSW_INDEX} ON joint_embeddings USING hnsw ({VECTOR_COLUMN} vector_cosine_ops) "
            f"WITH (m = {int(m)}, ef_construction = {int(ef_construction)})"
        )
    )
