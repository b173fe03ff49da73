"""Numeric and joint embedding tables: upserts that skip unchanged rows, matrix loads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from prometheus.errors import InvalidVector
from prometheus.store.database import Database, json_dumps
from prometheus.store.pgvector import sync_vectors
from prometheus.store.schema import joint_embeddings, numeric_window_embeddings, utc_now
from prometheus.store.upsert import bump_data_version, copy_upsert_changed, unbump_data_version
from prometheus.store.vector import EMBEDDING_DIM, VECTOR_DTYPE, Vector, decode_matrix


@dataclass(frozen=True)
class EmbeddingRecord:
    """One stored state: a portfolio on a date under a model."""

    portfolio_id: str
    as_of_date: date
    model_id: str
    vector: Vector
    spec: dict[str, Any] = field(default_factory=dict)  # window_spec or entity_scope


@dataclass(frozen=True)
class EmbeddingBatch:
    """Many states of one model: parallel labels and an (n, dim) matrix."""

    model_id: str
    portfolio_ids: list[str]
    dates: list[date]
    matrix: np.ndarray
    specs: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.portfolio_ids)

    def matrix_bytes(self) -> bytes:
        """All rows as float32 little-endian bytes, row after row; refuses NaN, infinity and non-numeric data."""
        matrix = np.asarray(self.matrix)
        if matrix.ndim != 2 or not np.issubdtype(matrix.dtype, np.number):
            raise InvalidVector(f"a batch of vectors must be a 2-D numeric matrix, got {matrix.dtype} {matrix.shape}")
        if matrix.shape[0] != len(self.portfolio_ids):
            raise InvalidVector(f"{matrix.shape[0]} vectors for {len(self.portfolio_ids)} states")
        if not np.isfinite(matrix).all():
            raise InvalidVector("a vector may not contain NaN or infinity")
        return np.ascontiguousarray(matrix, dtype=VECTOR_DTYPE).tobytes()

    def blobs(self) -> list[bytes]:
        """Each row as float32 little-endian bytes (see :meth:`matrix_bytes`)."""
        raw = self.matrix_bytes()
        width = np.asarray(self.matrix).shape[1] * VECTOR_DTYPE.itemsize
        return [raw[i : i + width] for i in range(0, len(raw), width)]


@dataclass(frozen=True)
class UpsertCounts:
    written: int
    unchanged: int


@dataclass(frozen=True)
class EmbeddingMatrix:
    """Many states at once: parallel lists and one (n, dim) float32 matrix."""

    portfolio_ids: list[str]
    dates: list[date]
    specs: list[dict[str, Any]]
    matrix: np.ndarray

    def __len__(self) -> int:
        return len(self.portfolio_ids)


class _EmbeddingStore:
    table: sa.Table
    id_column: str
    kind_column: str
    spec_column: str
    version_prefix: str

    def __init__(self, db: Database, kind: str) -> None:
        self.db = db
        self.kind = kind  # entity_type for numeric, joint_type for joint

    def version_name(self, model_id: str) -> str:
        return f"{self.version_prefix}:{model_id}"

    def data_version(self, model_id: str) -> int:
        return self.db.data_version(self.version_name(model_id))

    def _key_columns(self) -> tuple[str, ...]:
        raise NotImplementedError

    def _base_filter(self, model_id: str) -> list[sa.ColumnElement[bool]]:
        c = self.table.c
        return [c[self.kind_column] == self.kind, c.model_id == model_id]

    def upsert(self, records: Iterable[EmbeddingRecord]) -> UpsertCounts:
        """Write new or changed states in one transaction; identical ones are left alone."""
        by_model: dict[str, list[EmbeddingRecord]] = defaultdict(list)
        for record in records:
            by_model[record.model_id].append(record)
        batches = [
            EmbeddingBatch(
                model_id,
                [r.portfolio_id for r in group],
                [r.as_of_date for r in group],
                np.vstack([r.vector.values for r in group]),
                [r.spec for r in group],
            )
            for model_id, group in by_model.items()
        ]
        return self.upsert_batches(batches)

    def upsert_batches(self, batches: Sequence[EmbeddingBatch]) -> UpsertCounts:
        """Write every batch in one transaction, skipping states stored identically already."""
        written = unchanged = 0
        created_at = utc_now()
        with self.db.write() as conn:
            for batch in batches:
                if conn.dialect.name == "sqlite":
                    counts = self._sqlite_upsert(conn, batch, created_at)
                else:
                    counts = self._postgres_upsert(conn, batch, created_at)
                written += counts.written
                unchanged += counts.unchanged
        return UpsertCounts(written=written, unchanged=unchanged)

    def _versioned(self, conn: sa.Connection, model_id: str, write: Callable[[int], int]) -> int:
        """``write(revision)`` under a new data version, moved back if nothing was written (caches stay valid).

        Returns what ``write`` returned: the number of rows written.
        """
        version = self.version_name(model_id)
        written = write(bump_data_version(conn, version))
        if not written:
            unbump_data_version(conn, version)
        return written

    def _postgres_upsert(self, conn: sa.Connection, batch: EmbeddingBatch, created_at: Any) -> UpsertCounts:
        """COPY (FORMAT BINARY) into a staging table, then one INSERT ... ON CONFLICT that skips identical rows."""
        if not len(batch):
            return UpsertCounts(written=0, unchanged=0)
        blobs = batch.blobs()
        # One row per key, the last one winning (as sequential upserts would):
        # a single INSERT ... ON CONFLICT may not touch a row twice.
        last = {self._key_values(batch, i): i for i in range(len(batch))}
        dim = batch.matrix.shape[1]
        spec = self.spec_column

        def write(revision: int) -> int:
            changed_keys = copy_upsert_changed(
                conn,
                self.table,
                (*self._key_columns(), "vector", "dim", spec, "created_at", "revision"),
                [(*key, blobs[i], dim, batch.specs[i], created_at, revision) for key, i in last.items()],
                self._key_columns(),
                ("vector", "dim", spec, "revision"),
                ("vector", "dim", spec),
            )
            if changed_keys:
                self._after_write(conn, batch, sorted(last[key] for key in changed_keys))
            return len(changed_keys)

        written = self._versioned(conn, batch.model_id, write)
        return UpsertCounts(written=written, unchanged=len(last) - written)

    def _sqlite_upsert(self, conn: sa.Connection, batch: EmbeddingBatch, created_at: Any) -> UpsertCounts:
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
            self.kind_column: ":kind",
            "model_id": ":model_id",
            self.id_column: "json_extract(value, '$[0]')",
            "as_of_date": "json_extract(value, '$[1]')",
        }
        columns = [*self._key_columns(), "vector", "dim", self.spec_column, "created_at", "revision"]
        selected = [key_sql[name] for name in self._key_columns()]
        selected += [
            "substr(:vectors, key * :width + 1, :width)",
            ":dim",
            "json_extract(value, '$[2]')",
            ":created_at",
            ":revision",
        ]
        spec_column = self.spec_column
        statement = (
            f"INSERT INTO {self.table.name} ({', '.join(columns)}) "
            f"SELECT {', '.join(selected)} FROM json_each(:keys) WHERE true "
            f"ON CONFLICT ({', '.join(self._key_columns())}) DO UPDATE SET vector = excluded.vector, "
            f"dim = excluded.dim, {spec_column} = excluded.{spec_column}, revision = excluded.revision "
            f"WHERE vector IS NOT excluded.vector OR dim IS NOT excluded.dim "
            f"OR {spec_column} IS NOT excluded.{spec_column}"
        )
        created = self.table.c.created_at.type._cached_bind_processor(conn.dialect)
        parameters = {
            "kind": self.kind,
            "model_id": batch.model_id,
            "vectors": matrix,
            "width": width,
            "dim": batch.matrix.shape[1],
            "created_at": created(created_at) if created else created_at,
            "keys": orjson.dumps(keys).decode(),
        }

        def write(revision: int) -> int:
            return int(conn.exec_driver_sql(statement, {**parameters, "revision": revision}).rowcount)

        written = self._versioned(conn, batch.model_id, write)
        return UpsertCounts(written=written, unchanged=len(batch) - written)

    def _key_values(self, batch: EmbeddingBatch, i: int) -> tuple[Any, ...]:
        raise NotImplementedError

    def _after_write(self, conn: sa.Connection, batch: EmbeddingBatch, rows: list[int]) -> None:
        """Hook for derived columns written in the same transaction."""

    def _select(
        self,
        columns: Sequence[Any],
        model_id: str,
        *,
        dates: Sequence[date] | None = None,
        start: date | None = None,
        end: date | None = None,
        portfolio_ids: Sequence[str] | None = None,
        revision_above: int | None = None,
    ) -> sa.Select[Any]:
        c = self.table.c
        query = sa.select(*columns).where(*self._base_filter(model_id))
        if revision_above is not None:
            query = query.where(c.revision > revision_above)
        if dates is not None:
            query = query.where(c.as_of_date.in_(list(dates)))
        if start is not None:
            query = query.where(c.as_of_date >= start)
        if end is not None:
            query = query.where(c.as_of_date <= end)
        if portfolio_ids:
            query = query.where(c[self.id_column].in_(list(portfolio_ids)))
        return query

    def load(
        self,
        model_id: str,
        *,
        dates: Sequence[date] | None = None,
        start: date | None = None,
        end: date | None = None,
        portfolio_ids: Sequence[str] | None = None,
        dim: int = EMBEDDING_DIM,
        revision_above: int | None = None,
        with_specs: bool = True,
    ) -> EmbeddingMatrix:
        """States ordered by date then portfolio, every vector checked against ``dim``.

        ``revision_above`` keeps only rows written after that data version.
        """
        c = self.table.c
        spec = c[self.spec_column] if with_specs else sa.null()
        query = self._select(
            [c[self.id_column], c.as_of_date, spec, c.vector, c.dim],
            model_id,
            dates=dates,
            start=start,
            end=end,
            portfolio_ids=portfolio_ids,
            revision_above=revision_above,
        ).order_by(c.as_of_date, c[self.id_column])
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        ids = [r[0] for r in rows]
        days = [r[1] for r in rows]
        labels = [f"{model_id} {pid} {day.isoformat()}" for pid, day in zip(ids, days, strict=True)]
        matrix = decode_matrix([bytes(r[3]) for r in rows], [r[4] for r in rows], dim, labels)
        return EmbeddingMatrix(ids, days, [dict(r[2] or {}) for r in rows], matrix)

    def refresh_statistics(self) -> None:
        """PostgreSQL: ANALYZE the table after a bulk write, before autovacuum gets to it.

        Without fresh statistics the planner reads a just-loaded table through
        the wrong index (seen: every row scanned to find one chunk's dates).
        """
        if self.db.dialect == "postgresql":
            with self.db.write() as conn:
                conn.execute(sa.text(f"ANALYZE {self.table.name}"))

    def dates(
        self,
        model_id: str,
        *,
        start: date | None = None,
        end: date | None = None,
        portfolio_ids: Sequence[str] | None = None,
    ) -> list[date]:
        c = self.table.c
        query = self._select([c.as_of_date], model_id, start=start, end=end, portfolio_ids=portfolio_ids)
        with self.db.read() as conn:
            return list(conn.execute(query.distinct().order_by(c.as_of_date)).scalars())

    def portfolio_ids(self, model_id: str) -> list[str]:
        c = self.table.c
        query = self._select([c[self.id_column]], model_id).distinct().order_by(c[self.id_column])
        with self.db.read() as conn:
            return list(conn.execute(query).scalars())

    def count(self, model_id: str) -> int:
        query = self._select([sa.func.count()], model_id)
        with self.db.read() as conn:
            return int(conn.execute(query).scalar() or 0)

    def model_counts(self) -> dict[str, int]:
        c = self.table.c
        query = (
            sa.select(c.model_id, sa.func.count())
            .where(c[self.kind_column] == self.kind)
            .group_by(c.model_id)
            .order_by(c.model_id)
        )
        with self.db.read() as conn:
            return {row[0]: int(row[1]) for row in conn.execute(query)}


class NumericEmbeddingStore(_EmbeddingStore):
    table = numeric_window_embeddings
    id_column = "entity_id"
    kind_column = "entity_type"
    spec_column = "window_spec"
    version_prefix = "numeric"

    def __init__(self, db: Database, entity_type: str = "PORTFOLIO") -> None:
        super().__init__(db, entity_type)

    def _key_columns(self) -> tuple[str, ...]:
        return ("entity_type", "entity_id", "as_of_date", "model_id")

    def _key_values(self, batch: EmbeddingBatch, i: int) -> tuple[Any, ...]:
        return (self.kind, batch.portfolio_ids[i], batch.dates[i], batch.model_id)


class JointEmbeddingStore(_EmbeddingStore):
    """Joint embeddings of one joint type (a joint model writes exactly one type)."""

    table = joint_embeddings
    id_column = "portfolio_id"
    kind_column = "joint_type"
    spec_column = "entity_scope"
    version_prefix = "joint"

    def __init__(self, db: Database, joint_type: str) -> None:
        super().__init__(db, joint_type)

    def _key_columns(self) -> tuple[str, ...]:
        return ("joint_type", "model_id", "portfolio_id", "as_of_date")

    def _key_values(self, batch: EmbeddingBatch, i: int) -> tuple[Any, ...]:
        return (self.kind, batch.model_id, batch.portfolio_ids[i], batch.dates[i])

    def _after_write(self, conn: sa.Connection, batch: EmbeddingBatch, rows: list[int]) -> None:
        if self.db.vector_column:
            sync_vectors(conn, [self._key_values(batch, i) for i in rows], np.asarray(batch.matrix)[rows])

    def copy_numeric(
        self,
        numeric_model_id: str,
        model_id: str,
        *,
        dates: Sequence[date],
        portfolio_ids: Sequence[str] | None = None,
        entity_type: str = "PORTFOLIO",
    ) -> UpsertCounts:
        """Identity joint states written inside the database: one INSERT ... SELECT from the numeric table.

        Same rows as embedding the numeric vectors one by one (vector, dim and
        entity_scope alike), but the vectors never leave the database. Rows
        already identical are left alone, as in :meth:`upsert_batches`.
        """
        n = numeric_window_embeddings.c
        source = [n.entity_type == entity_type, n.model_id == numeric_model_id, n.as_of_date.in_(list(dates))]
        if portfolio_ids:
            source.append(n.entity_id.in_(list(portfolio_ids)))
        with self.db.write() as conn:
            candidates = int(conn.execute(sa.select(sa.func.count()).where(*source)).scalar_one())
            if not candidates:
                return UpsertCounts(written=0, unchanged=0)
            written = self._versioned(
                conn, model_id, lambda revision: self._copy_rows(conn, model_id, entity_type, source, revision)
            )
        return UpsertCounts(written=written, unchanged=candidates - written)

    def _copy_rows(self, conn: sa.Connection, model_id: str, entity_type: str, source: list[Any], revision: int) -> int:
        """The INSERT ... SELECT of :meth:`copy_numeric`; returns the rows written (pgvector column kept in step)."""
        n = numeric_window_embeddings.c
        j = self.table.c
        if self.db.dialect == "postgresql":
            day_text: sa.ColumnElement[Any] = sa.func.to_char(n.as_of_date, "YYYY-MM-DD")
            build_object: Any = sa.func.jsonb_build_object
            insert: Any = postgresql.insert(self.table)
        else:
            day_text = n.as_of_date  # SQLite keeps dates as ISO text
            build_object = sa.func.json_object
            insert = sqlite.insert(self.table)
        scope = build_object(
            "entity_type", entity_type, "portfolio_id", n.entity_id, "source", n.model_id, "as_of_date", day_text
        )
        select = sa.select(
            sa.literal(self.kind, sa.String),
            sa.literal(model_id, sa.String),
            n.entity_id,
            n.as_of_date,
            n.vector,
            n.dim,
            sa.type_coerce(scope, self.table.c.entity_scope.type),
            sa.literal(utc_now(), sa.DateTime(timezone=True)),
            sa.literal(revision, sa.BigInteger),
        ).where(*source)
        columns = ["joint_type", "model_id", "portfolio_id", "as_of_date", "vector", "dim", "entity_scope"]
        statement = insert.from_select([*columns, "created_at", "revision"], select)
        statement = statement.on_conflict_do_update(
            index_elements=list(self._key_columns()),
            set_={name: statement.excluded[name] for name in ("vector", "dim", "entity_scope", "revision")},
            where=sa.or_(
                *(j[name].is_distinct_from(statement.excluded[name]) for name in ("vector", "dim", "entity_scope"))
            ),
        )
        if not self.db.vector_column:
            return int(conn.execute(statement.execution_options(preserve_rowcount=True)).rowcount)
        written = conn.execute(statement.returning(j.portfolio_id, j.as_of_date, j.vector, j.dim)).all()
        if written:
            labels = [f"{model_id} {r[0]} {r[1]}" for r in written]
            matrix = decode_matrix([bytes(r[2]) for r in written], [r[3] for r in written], int(written[0][3]), labels)
            sync_vectors(conn, [(self.kind, model_id, r[0], r[1]) for r in written], matrix)
        return len(written)
