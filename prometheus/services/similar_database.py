"""Similar-state search inside PostgreSQL with pgvector, re-ranked exactly in process.

pgvector orders candidates by cosine distance (an exact scan, or the HNSW
index when built); the best ``max(4k, 100)`` are re-scored in float64 and
ranked exactly as the in-process search ranks (cosine desc, euclidean asc,
portfolio, date). With the HNSW index the candidate set is approximate.
"""

from __future__ import annotations

import numpy as np

from prometheus.errors import InvalidInput, InvalidSetting, Setting
from prometheus.joint.registry import joint_model
from prometheus.search.exact import top_k_exact
from prometheus.services.similar import Neighbour, SimilarQuery, SimilarResult
from prometheus.store.pgvector import build_hnsw_index, nearest_in_database
from prometheus.store.stores import Stores
from prometheus.store.vector import decode_matrix

NOT_AVAILABLE = (
    "in-database search needs PostgreSQL with the pgvector extension available to this role; "
    "this store has no vector column: use the default in-process search"
)


def find_similar_in_database(stores: Stores, query: SimilarQuery, ef_search: int = 200) -> SimilarResult:
    if query.min_days_apart:
        # Spreading may skip most of the nearest states: a fixed max(4k, 100) candidates could run out.
        raise InvalidSetting(
            Setting("min_days_apart"),
            " needs the in-process search (the default): the in-database search ranks only its nearest candidates",
        )
    db = stores.historical
    if not db.vector_column:
        raise InvalidInput(NOT_AVAILABLE)
    model = joint_model(query.model_id)
    start, end = (query.as_of, query.as_of) if query.same_date else (query.start, query.latest_candidate)
    with db.read() as conn:
        found = nearest_in_database(
            conn,
            joint_type=model.joint_type,
            model_id=query.model_id,
            portfolio_id=query.portfolio_id,
            as_of=query.as_of,
            wanted=max(4 * query.top_k, 100),
            ef_search=ef_search,
            include_self=query.include_self,
            start=start,
            end=end,
        )
    query_vector = decode_matrix([found.query_blob], [found.query_dim], model.dim)[0]
    rows = found.rows
    matrix = decode_matrix([r[3] for r in rows], [r[4] for r in rows], model.dim)
    names = np.array([r[0] for r in rows], dtype=str)
    days = np.array([r[1] for r in rows], dtype="datetime64[D]")
    ranked = top_k_exact(matrix, query_vector, query.top_k, tie_keys=(names, days))
    neighbours = [
        Neighbour(i + 1, float(ranked.cosine[i]), float(ranked.euclidean[i]), rows[r][0], rows[r][2], rows[r][1])
        for i, r in enumerate(ranked.rows)
    ]
    return SimilarResult(query=query, candidates=len(rows), neighbours=neighbours)


def build_database_index(stores: Stores) -> None:
    """(Re)build pgvector's HNSW index over the vector column."""
    if not stores.historical.vector_column:
        raise InvalidInput(NOT_AVAILABLE)
    with stores.historical.write() as conn:
        build_hnsw_index(conn)
