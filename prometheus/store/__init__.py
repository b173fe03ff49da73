"""Storage: schema, engines, the Vector type and the stores over each table."""

from prometheus.store.database import Database, describe_db_error, mask_url
from prometheus.store.stores import Stores, open_stores
from prometheus.store.vector import EMBEDDING_DIM, VECTOR_DTYPE, Vector

__all__ = [
    "EMBEDDING_DIM",
    "VECTOR_DTYPE",
    "Database",
    "Stores",
    "Vector",
    "describe_db_error",
    "mask_url",
    "open_stores",
]
