"""pgvector: joint embeddings also as a vector(384) column, where the server has the extension.

The column is added (idempotently) when a store opens on a PostgreSQL server
whose ``pg_available_extensions`` lists ``vector`` and the role may create it;
otherwise nothing changes and searches use the in-process index. The HNSW
index is built on demand (``build_search_index --in-database``), not kept on
every insert, so bulk backfills are not slowed by graph maintenance. Queries
go through pgvector-python's SQLAlchemy type, never through SQL strings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import sqlalchemy as sa
from pgvector.sqlalchemy import Vector as PgVector
from sqlalchemy.dialects.postgresql import JSONB

from prometheus.lookup import missing_state
from prometheus.store.schema import joint_embeddings
from prometheus.store.vector import EMBEDDING_DIM

log = logging.getLogger(__name__)

VECTOR_COLUMN = "embedding"
HNSW_INDEX = "ix_joint_embeddings_embedding_hnsw"
# The joint table with its vector column, as pgvector's queries see it. The column is added by
# enable_vector_column where the server allows it, so it is not part of the schema's own tables.
_with_vectors = sa.Table(
    joint_embeddings.name,
    sa.MetaData(),
    sa.Column("joint_type", sa.String),
    sa.Column("model_id", sa.String),
    sa.Column("portfolio_id", sa.String),
    sa.Column("as_of_date", sa.Date),
    sa.Column("entity_scope", JSONB),
    sa.Column("vector", sa.LargeBinary),
    sa.Column("dim", sa.Integer),
    sa.Column(VECTOR_COLUMN, PgVector(EMBEDDING_DIM)),
)
_embedding = _with_vectors.c[VECTOR_COLUMN]


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
                sa.text(
                    f"ALTER TABLE joint_embeddings ADD COLUMN IF NOT EXISTS {VECTOR_COLUMN} vector({EMBEDDING_DIM})"
                )
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


def sync_vectors(conn: sa.Connection, keys: Sequence[tuple[Any, ...]], matrix: np.ndarray) -> None:
    """Set the vector column of the rows just written (keys: joint_type, model_id, portfolio_id, as_of_date)."""
    if matrix.shape[1] != EMBEDDING_DIM:
        return  # vector(384) holds 384-dim models only; others are searched in process
    v = _with_vectors.c
    statement = (
        sa.update(_with_vectors)
        .where(
            v.joint_type == sa.bindparam("k_type"),
            v.model_id == sa.bindparam("k_model"),
            v.portfolio_id == sa.bindparam("k_portfolio"),
            v.as_of_date == sa.bindparam("k_date"),
        )
        .values({VECTOR_COLUMN: sa.bindparam("k_vector")})
    )
    conn.execute(
        statement,
        [
            {"k_type": t, "k_model": m, "k_portfolio": p, "k_date": d, "k_vector": np.asarray(matrix[i], np.float32)}
            for i, (t, m, p, d) in enumerate(keys)
        ],
    )


def build_hnsw_index(conn: sa.Connection, m: int = 16, ef_construction: int = 64) -> None:
    conn.execute(sa.text(f"DROP INDEX IF EXISTS {HNSW_INDEX}"))
    conn.execute(
        sa.text(
            f"CREATE INDEX {HNSW_INDEX} ON joint_embeddings USING hnsw ({VECTOR_COLUMN} vector_cosine_ops) "
            f"WITH (m = {int(m)}, ef_construction = {int(ef_construction)})"
        )
    )


@dataclass(frozen=True)
class DatabaseCandidates:
    """The query state's stored vector and pgvector's nearest candidates (stored blobs, re-ranked by the caller)."""

    query_blob: bytes
    query_dim: int
    rows: list[tuple[str, date, str, bytes, int]]  # portfolio_id, as_of_date, source, vector blob, dim


def nearest_in_database(
    conn: sa.Connection,
    *,
    joint_type: str,
    model_id: str,
    portfolio_id: str,
    as_of: date,
    wanted: int,
    ef_search: int,
    include_self: bool,
    start: date | None,
    end: date | None,
) -> DatabaseCandidates:
    """pgvector's ``wanted`` nearest states by cosine distance (HNSW when built, else an exact scan).

    Raises the lookup error when the query state does not exist.
    """
    j = _with_vectors.c
    own = sa.select(j.as_of_date, j.vector, j.dim).where(
        j.joint_type == joint_type, j.model_id == model_id, j.portfolio_id == portfolio_id
    )
    states = {row[0]: (bytes(row[1]), int(row[2])) for row in conn.execute(own)}
    if as_of not in states:
        raise missing_state(portfolio_id, f"{model_id} state", as_of, sorted(states))
    query_blob, query_dim = states[as_of]
    query_vector = np.frombuffer(query_blob, dtype="<f4")
    # SET LOCAL takes no bind parameters; the value is an int the caller computed.
    conn.execute(sa.text(f"SET LOCAL hnsw.ef_search = {int(max(ef_search, wanted))}"))
    conditions = [
        j.joint_type == joint_type,
        j.model_id == model_id,
        _embedding.is_not(None),
        sa.not_(sa.and_(j.portfolio_id == portfolio_id, j.as_of_date == as_of)),
    ]
    if not include_self:
        conditions.append(j.portfolio_id != portfolio_id)
    if start is not None:
        conditions.append(j.as_of_date >= start)
    if end is not None:
        conditions.append(j.as_of_date <= end)
    query = (
        sa.select(j.portfolio_id, j.as_of_date, j.entity_scope["source"].as_string(), j.vector, j.dim)
        .where(*conditions)
        .order_by(_embedding.cosine_distance(query_vector))
        .limit(wanted)
    )
    rows = [(str(r[0]), r[1], str(r[2] or ""), bytes(r[3]), int(r[4])) for r in conn.execute(query)]
    return DatabaseCandidates(query_blob, query_dim, rows)
