"""Similar-state search inside PostgreSQL with pgvector, re-ranked exactly in process.

pgvector orders candidates by cosine distance (an exact scan, or the HNSW
index when built); the best ``max(4k, 100)`` are re-scored in float64 and
ranked exactly as the in-process search ranks (cosine desc, euclidean asc,
portfolio, date). With the HNSW index the candidate set is approximate.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import sqlalchemy as sa

from prometheus.encoders.joint import joint_model
from prometheus.errors import InvalidInput, NoStateOnDate, UnknownPortfolio, shown
from prometheus.search.exact import top_k_exact
from prometheus.services.dates import describe_nearest
from prometheus.services.similar import Neighbour, SimilarQuery, SimilarResult
from prometheus.store.pgvector import VECTOR_COLUMN, build_hnsw_index
from prometheus.store.stores import Stores
from prometheus.store.vector import decode_matrix

NOT_AVAILABLE = (
    "in-database search needs PostgreSQL with the pgvector extension available to this role; "
    "this store has no vector column: use the default in-process search"
)


def _check_query_state(conn: sa.Connection, joint_type: str, query: SimilarQuery) -> None:
    days = list(
        conn.execute(
            sa.text(
                "SELECT as_of_date FROM joint_embeddings WHERE joint_type = :t AND model_id = :m AND portfolio_id = :p "
                "ORDER BY as_of_date"
            ),
            {"t": joint_type, "m": query.model_id, "p": query.portfolio_id},
        ).scalars()
    )
    if not days:
        raise UnknownPortfolio(
            f"unknown portfolio {shown(query.portfolio_id)}: no {query.model_id} states exist for it "
            "(list portfolios with show_joint_portfolios)"
        )
    if query.as_of not in set(days):
        raise NoStateOnDate(
            f"portfolio {shown(query.portfolio_id)} has no {query.model_id} state on {query.as_of.isoformat()} "
            f"({describe_nearest(days, query.as_of)})"
        )


def find_similar_in_database(stores: Stores, query: SimilarQuery, ef_search: int = 200) -> SimilarResult:
    db = stores.historical
    if not db.vector_column:
        raise InvalidInput(NOT_AVAILABLE)
    model = joint_model(query.model_id)
    wanted = max(4 * query.top_k, 100)
    where = [
        "j.joint_type = :t",
        "j.model_id = :m",
        f"j.{VECTOR_COLUMN} IS NOT NULL",
        "NOT (j.portfolio_id = :p AND j.as_of_date = :d)",
    ]
    params: dict[str, Any] = {
        "t": model.joint_type,
        "m": query.model_id,
        "p": query.portfolio_id,
        "d": query.as_of,
        "n": wanted,
    }
    if not query.include_self:
        where.append("j.portfolio_id <> :p")
    start, end = (query.as_of, query.as_of) if query.same_date else (query.start, query.end)
    if start is not None:
        where.append("j.as_of_date >= :start")
        params["start"] = start
    if end is not None:
        where.append("j.as_of_date <= :end")
        params["end"] = end
    sql = (
        f"SELECT j.portfolio_id, j.as_of_date, j.entity_scope ->> 'source', j.vector, j.dim FROM joint_embeddings j "
        f"WHERE {' AND '.join(where)} ORDER BY j.{VECTOR_COLUMN} <=> (SELECT q.{VECTOR_COLUMN} "
        "FROM joint_embeddings q WHERE q.joint_type = :t AND q.model_id = :m AND q.portfolio_id = :p "
        "AND q.as_of_date = :d) LIMIT :n"
    )
    with db.read() as conn:
        _check_query_state(conn, model.joint_type, query)
        conn.execute(sa.text(f"SET LOCAL hnsw.ef_search = {int(max(ef_search, wanted))}"))
        query_blob = conn.execute(
            sa.text(
                "SELECT vector, dim FROM joint_embeddings WHERE joint_type = :t AND model_id = :m "
                "AND portfolio_id = :p AND as_of_date = :d"
            ),
            params,
        ).one()
        rows = conn.execute(sa.text(sql), params).all()
    query_vector = decode_matrix([bytes(query_blob[0])], [query_blob[1]], model.dim)[0]
    matrix = decode_matrix([bytes(r[3]) for r in rows], [r[4] for r in rows], model.dim)
    names = np.array([r[0] for r in rows], dtype=str)
    days = np.array([r[1] for r in rows], dtype="datetime64[D]")
    ranked = top_k_exact(matrix, query_vector, query.top_k, tie_keys=(names, days))
    neighbours = [
        Neighbour(
            i + 1,
            float(ranked.cosine[i]),
            float(ranked.euclidean[i]),
            str(rows[r][0]),
            str(rows[r][2] or ""),
            rows[r][1] if isinstance(rows[r][1], date) else days[r].astype(object),
        )
        for i, r in enumerate(ranked.rows)
    ]
    return SimilarResult(query=query, candidates=len(rows), neighbours=neighbours)


def build_database_index(stores: Stores) -> None:
    """(Re)build pgvector's HNSW index over the vector column."""
    if not stores.historical.vector_column:
        raise InvalidInput(NOT_AVAILABLE)
    with stores.historical.write() as conn:
        build_hnsw_index(conn)
