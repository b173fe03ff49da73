"""Writing joint states: read numeric states, embed them with a joint model, upsert the result."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from prometheus.joint.models import JointExample, JointModel
from prometheus.store.embeddings import EmbeddingBatch, NumericEmbeddingStore, UpsertCounts
from prometheus.store.stores import Stores


def entity_scope(portfolio_id: str, source: str, as_of_date: date) -> dict[str, str]:
    return {
        "entity_type": "PORTFOLIO",
        "portfolio_id": portfolio_id,
        "source": source,
        "as_of_date": as_of_date.isoformat(),
    }


class JointWriter:
    """Reads numeric states, embeds them with a joint model, upserts joint states."""

    def __init__(self, stores: Stores, model: JointModel) -> None:
        self.numeric_store: NumericEmbeddingStore = stores.numeric
        self.model = model
        self.joint_store = stores.joint(model.joint_type)

    def examples(self, dates: Sequence[date], portfolio_ids: Sequence[str] | None = None) -> list[JointExample]:
        states = self.numeric_store.load(
            self.model.numeric_model_id, dates=dates, portfolio_ids=portfolio_ids, with_specs=False
        )
        return [
            JointExample(pid, day, self.model.numeric_model_id, states.matrix[i])
            for i, (pid, day) in enumerate(zip(states.portfolio_ids, states.dates, strict=True))
        ]

    def backfill_dates(self, dates: Sequence[date], portfolio_ids: Sequence[str] | None = None) -> UpsertCounts:
        """Embed and store every numeric state on these dates (and portfolios) in one transaction."""
        if self.model.copies_numeric:
            return self.joint_store.copy_numeric(
                self.model.numeric_model_id,
                self.model.model_id,
                dates=dates,
                portfolio_ids=portfolio_ids,
                entity_type=self.numeric_store.kind,
            )
        return self.embed_and_store(self.examples(dates, portfolio_ids))

    def embed_and_store(self, examples: Sequence[JointExample]) -> UpsertCounts:
        batch = EmbeddingBatch(
            self.model.model_id,
            [e.portfolio_id for e in examples],
            [e.as_of_date for e in examples],
            self.model.embed(examples),
            [entity_scope(e.portfolio_id, e.numeric_model_id, e.as_of_date) for e in examples],
        )
        return self.joint_store.upsert_batches([batch])
