"""Numeric and joint embedding tables: upserts that skip unchanged rows, matrix loads, key reads.

The value types (records, batches, matrices) live in ``embedding_batches``; the
set-based write statements in ``embedding_upserts`` and ``joint_copy``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from prometheus.keys import KEY_COLUMNS
from prometheus.store.database import Database
from prometheus.store.embedding_batches import EmbeddingBatch, EmbeddingMatrix, EmbeddingRecord, UpsertCounts
from prometheus.store.embedding_upserts import postgres_upsert, sqlite_upsert
from prometheus.store.joint_copy import copy_rows
from prometheus.store.pgvector import sync_vectors
from prometheus.store.schema import joint_embeddings, numeric_window_embeddings, utc_now
from prometheus.store.upsert import bump_data_version, unbump_data_version
from prometheus.store.vector import EMBEDDING_DIM, decode_matrix

__all__ = [
    "EmbeddingBatch",
    "EmbeddingMatrix",
    "EmbeddingRecord",
    "JointEmbeddingStore",
    "NumericEmbeddingStore",
    "UpsertCounts",
    "canonical_order",
    "joint_table_summary",
    "joint_version_name",
]


def joint_version_name(model_id: str) -> str:
    """The data_versions row of a joint model's states (bumped by every write to them)."""
    return f"{JointEmbeddingStore.version_prefix}:{model_id}"


def canonical_order(portfolio_ids: Sequence[str] | np.ndarray, dates: Sequence[date] | np.ndarray) -> np.ndarray:
    """Row order by date, then portfolio id in code-point order: the order of every state table and index.

    Sorted here rather than by SQL ORDER BY, whose string order follows the
    database collation (a PostgreSQL en_US database would disagree).
    """
    return np.lexsort((np.asarray(portfolio_ids, dtype=str), np.asarray(dates, dtype="datetime64[D]")))


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

    def key_columns(self) -> tuple[str, ...]:
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
                    counts = sqlite_upsert(self, conn, batch, created_at)
                else:
                    counts = postgres_upsert(self, conn, batch, created_at)
                written += counts.written
                unchanged += counts.unchanged
        return UpsertCounts(written=written, unchanged=unchanged)

    def versioned(self, conn: sa.Connection, model_id: str, write: Callable[[int], int]) -> int:
        """``write(revision)`` under a new data version, moved back if nothing was written (caches stay valid).

        Returns what ``write`` returned: the number of rows written.
        """
        version = self.version_name(model_id)
        written = write(bump_data_version(conn, version))
        if not written:
            unbump_data_version(conn, version)
        return written

    def key_values(self, batch: EmbeddingBatch, i: int) -> tuple[Any, ...]:
        raise NotImplementedError

    def after_write(self, conn: sa.Connection, batch: EmbeddingBatch, rows: list[int]) -> None:
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

    def keys(self, model_id: str, portfolio_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """portfolio_id, as_of_date of every state, in canonical order (that of the search index's rows)."""
        c = self.table.c
        query = self._select([c[self.id_column], c.as_of_date], model_id, portfolio_ids=portfolio_ids)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        pids = np.array([r[0] for r in rows], dtype=object)
        days = np.array([r[1] for r in rows], dtype=object)
        order = canonical_order(pids, days) if rows else np.zeros(0, dtype=np.int64)
        return pd.DataFrame(
            {KEY_COLUMNS[0]: pd.Series(pids[order], dtype=object), KEY_COLUMNS[1]: pd.Series(days[order], dtype=object)}
        )

    def vector(self, model_id: str, portfolio_id: str, as_of_date: date, dim: int = EMBEDDING_DIM) -> np.ndarray | None:
        """The stored vector of one state, or None."""
        found = self.load(model_id, dates=[as_of_date], portfolio_ids=[portfolio_id], dim=dim, with_specs=False)
        return found.matrix[0] if len(found) else None

    def counts_by_spec_key(self, model_id: str, key: str) -> dict[str, int]:
        """States per value of one key of their spec (e.g. entity_scope["fit_id"]); "" where absent."""
        c = self.table.c
        value = c[self.spec_column][key].as_string()
        query = self._select([value, sa.func.count()], model_id).group_by(value)
        with self.db.read() as conn:
            return {str(row[0] or ""): int(row[1]) for row in conn.execute(query)}

    def counts_by_period(self, model_id: str, by_month: bool) -> list[tuple[str, int, int, int]]:
        """(portfolio_id, year, month or 1, states) per portfolio and year (or month): one GROUP BY."""
        c = self.table.c
        parts = [sa.extract("year", c.as_of_date)]
        if by_month:
            parts.append(sa.extract("month", c.as_of_date))
        query = self._select([c[self.id_column], *parts, sa.func.count()], model_id).group_by(c[self.id_column], *parts)
        with self.db.read() as conn:
            # extract() is a float on PostgreSQL and an integer on SQLite
            return [(r[0], int(r[1]), int(r[2]) if by_month else 1, int(r[-1])) for r in conn.execute(query)]


class NumericEmbeddingStore(_EmbeddingStore):
    table = numeric_window_embeddings
    id_column = "entity_id"
    kind_column = "entity_type"
    spec_column = "window_spec"
    version_prefix = "numeric"

    def __init__(self, db: Database, entity_type: str = "PORTFOLIO") -> None:
        super().__init__(db, entity_type)

    def key_columns(self) -> tuple[str, ...]:
        return ("entity_type", "entity_id", "as_of_date", "model_id")

    def key_values(self, batch: EmbeddingBatch, i: int) -> tuple[Any, ...]:
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

    def key_columns(self) -> tuple[str, ...]:
        return ("joint_type", "model_id", "portfolio_id", "as_of_date")

    def key_values(self, batch: EmbeddingBatch, i: int) -> tuple[Any, ...]:
        return (self.kind, batch.model_id, batch.portfolio_ids[i], batch.dates[i])

    def after_write(self, conn: sa.Connection, batch: EmbeddingBatch, rows: list[int]) -> None:
        if self.db.vector_column:
            sync_vectors(conn, [self.key_values(batch, i) for i in rows], np.asarray(batch.matrix)[rows])

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
            written = self.versioned(
                conn, model_id, lambda revision: copy_rows(self, conn, model_id, entity_type, source, revision)
            )
        return UpsertCounts(written=written, unchanged=candidates - written)


@dataclass(frozen=True)
class JointTableSummary:
    """The whole joint table, every joint type: states per model, the latest date, every portfolio."""

    counts: dict[str, int]
    latest_date: date | None
    portfolio_ids: list[str]


def joint_table_summary(db: Database) -> JointTableSummary:
    j = joint_embeddings.c
    with db.read() as conn:
        counts = {
            row[0]: int(row[1])
            for row in conn.execute(sa.select(j.model_id, sa.func.count()).group_by(j.model_id).order_by(j.model_id))
        }
        latest = conn.execute(sa.select(sa.func.max(j.as_of_date))).scalar()
        ids = sorted(conn.execute(sa.select(j.portfolio_id).distinct()).scalars())
    return JointTableSummary(counts, latest, ids)
