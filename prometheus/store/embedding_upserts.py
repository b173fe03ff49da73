"""The two write paths of the embedding stores: one set-based upsert statement per batch and dialect.

Both skip rows stored identically already, and move the model's data version
only when a row changed (see ``_EmbeddingStore.versioned``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from prometheus.store.database import json_dumps
from prometheus.store.embedding_batches import EmbeddingBatch, UpsertCounts
from prometheus.store.upsert import copy_upsert_changed
from prometheus.store.vector import VECTOR_DTYPE

if TYPE_CHECKING:
    from prometheus.store.embeddings import _EmbeddingStore as _Store


def postgres_upsert(store: _Store, conn: sa.Connection, batch: EmbeddingBatch, created_at: Any) -> UpsertCounts:
    """COPY (FORMAT BINARY) into a staging table, then one INSERT ... ON CONFLICT that skips identical rows."""
    if not len(batch):
        return UpsertCounts(written=0, unchanged=0)
    blobs = batch.blobs()
    # One row per key, the last one winning (as sequential upserts would):
    # a single INSERT ... ON CONFLICT may not touch a row twice.
    last = {store.key_values(batch, i): i for i in range(len(batch))}
    dim = batch.matrix.shape[1]
    spec = store.spec_column

    def write(revision: int) -> int:
        changed_keys = copy_upsert_changed(
            conn,
            store.table,
            (*store.key_columns(), "vector", "dim", spec, "created_at", "revision"),
            [(*key, blobs[i], dim, batch.specs[i], created_at, revision) for key, i in last.items()],
            store.key_columns(),
            ("vector", "dim", spec, "revision"),
            ("vector", "dim", spec),
        )
        if changed_keys:
            store.after_write(conn, batch, sorted(last[key] for key in changed_keys))
        return len(changed_keys)

    written = store.versioned(conn, batch.model_id, write)
    return UpsertCounts(written=written, unchanged=len(last) - written)


def sqlite_upsert(store: _Store, conn: sa.Connection, batch: EmbeddingBatch, created_at: Any) -> UpsertCounts:
    """The whole batch in one INSERT ... SELECT over json_each: no per-row Python work.

    Keys and specs travel as one JSON array, vectors as one blob sliced by
    substr(). The statement runs
    inside SQLite with the GIL released, so a backfill's encoder thread
    keeps working meanwhile. Identical rows are skipped by the ON CONFLICT
    clause's WHERE, and the data version moves only if a row changed.
    """
    if not len(batch):
        return UpsertCounts(written=0, unchanged=0)
    matrix = batch.matrix_bytes()
    width = batch.matrix.shape[1] * VECTOR_DTYPE.itemsize
    # Each key row carries its spec as embedded JSON, encoded once per distinct
    # dict: a separate specs array indexed per row would be re-parsed for
    # every row (quadratic when every state has its own spec, as joint ones do).
    encoded: dict[int, orjson.Fragment] = {}
    keys = []
    for pid, day, spec in zip(batch.portfolio_ids, batch.dates, batch.specs, strict=True):
        fragment = encoded.get(id(spec))
        if fragment is None:
            fragment = encoded[id(spec)] = orjson.Fragment(json_dumps(spec))
        keys.append((pid, day.isoformat(), fragment))
    key_sql = {
        store.kind_column: ":kind",
        "model_id": ":model_id",
        store.id_column: "json_extract(value, '$[0]')",
        "as_of_date": "json_extract(value, '$[1]')",
    }
    columns = [*store.key_columns(), "vector", "dim", store.spec_column, "created_at", "revision"]
    selected = [key_sql[name] for name in store.key_columns()]
    selected += [
        "substr(:vectors, key * :width + 1, :width)",
        ":dim",
        "json_extract(value, '$[2]')",
        ":created_at",
        ":revision",
    ]
    spec_column = store.spec_column
    statement = (
        f"INSERT INTO {store.table.name} ({', '.join(columns)}) "
        f"SELECT {', '.join(selected)} FROM json_each(:keys) WHERE true "
        f"ON CONFLICT ({', '.join(store.key_columns())}) DO UPDATE SET vector = excluded.vector, "
        f"dim = excluded.dim, {spec_column} = excluded.{spec_column}, revision = excluded.revision "
        f"WHERE vector IS NOT excluded.vector OR dim IS NOT excluded.dim "
        f"OR {spec_column} IS NOT excluded.{spec_column}"
    )
    created = store.table.c.created_at.type._cached_bind_processor(conn.dialect)
    parameters = {
        "kind": store.kind,
        "model_id": batch.model_id,
        "vectors": matrix,
        "width": width,
        "dim": batch.matrix.shape[1],
        "created_at": created(created_at) if created else created_at,
        "keys": orjson.dumps(keys).decode(),
    }

    def write(revision: int) -> int:
        return int(conn.exec_driver_sql(statement, {**parameters, "revision": revision}).rowcount)

    written = store.versioned(conn, batch.model_id, write)
    return UpsertCounts(written=written, unchanged=len(batch) - written)
