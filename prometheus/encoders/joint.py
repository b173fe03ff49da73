"""The joint layer: joint models looked up by id, and the service that backfills them.

Today the only joint model is the identity over numeric portfolio vectors; a
learned projection registers under a new model id without touching callers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

from prometheus.encoders.numeric import NUMERIC_PORTFOLIO_MODEL_ID, numeric_encoder
from prometheus.errors import UnknownModel, shown
from prometheus.store.embeddings import EmbeddingBatch, JointEmbeddingStore, NumericEmbeddingStore

JOINT_PORTFOLIO_MODEL_ID = "joint-portfolio-core-v1"
PORTFOLIO_CORE_JOINT_TYPE = "PORTFOLIO_CORE_V0"


@dataclass(frozen=True)
class JointExample:
    """The inputs of one joint state: a portfolio's numeric vector on a date."""

    portfolio_id: str
    as_of_date: date
    numeric_model_id: str
    numeric_vector: np.ndarray


class JointModel(Protocol):
    model_id: str
    joint_type: str
    numeric_model_id: str
    dim: int
    # True when the joint vector is the numeric vector unchanged, so the
    # database can copy it without a round trip through Python.
    copies_numeric: bool

    def embed(self, examples: Sequence[JointExample]) -> np.ndarray: ...


class IdentityNumericJointModel:
    """Joint vector = numeric vector, unchanged (the V0 joint space)."""

    copies_numeric = True

    def __init__(
        self,
        model_id: str = JOINT_PORTFOLIO_MODEL_ID,
        joint_type: str = PORTFOLIO_CORE_JOINT_TYPE,
        numeric_model_id: str = NUMERIC_PORTFOLIO_MODEL_ID,
        dim: int = 384,
    ) -> None:
        self.model_id = model_id
        self.joint_type = joint_type
        self.numeric_model_id = numeric_model_id
        self.dim = dim

    def embed(self, examples: Sequence[JointExample]) -> np.ndarray:
        if not examples:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([e.numeric_vector for e in examples]).astype(np.float32, copy=False)


_JOINT_MODELS: dict[str, Callable[[], JointModel]] = {
    JOINT_PORTFOLIO_MODEL_ID: IdentityNumericJointModel,
}


def joint_model_ids() -> list[str]:
    """Every registered joint model, sorted."""
    return sorted(_JOINT_MODELS)


def joint_model(model_id: str) -> JointModel:
    try:
        return _JOINT_MODELS[model_id]()
    except KeyError:
        known = ", ".join(sorted(_JOINT_MODELS))
        raise UnknownModel(f"unknown joint model {shown(model_id)}: known models are {known}") from None


def entity_scope(portfolio_id: str, source: str, as_of_date: date) -> dict[str, str]:
    return {
        "entity_type": "PORTFOLIO",
        "portfolio_id": portfolio_id,
        "source": source,
        "as_of_date": as_of_date.isoformat(),
    }


@dataclass(frozen=True)
class JointBatchResult:
    written: int
    unchanged: int


class JointEmbeddingService:
    """Reads numeric states, embeds them with a joint model, upserts joint states."""

    def __init__(self, numeric_store: NumericEmbeddingStore, model: JointModel) -> None:
        self.numeric_store = numeric_store
        self.model = model
        self.joint_store = JointEmbeddingStore(numeric_store.db, model.joint_type)

    def examples(self, dates: Sequence[date], portfolio_ids: Sequence[str] | None = None) -> list[JointExample]:
        states = self.numeric_store.load(
            self.model.numeric_model_id, dates=dates, portfolio_ids=portfolio_ids, with_specs=False
        )
        return [
            JointExample(pid, day, self.model.numeric_model_id, states.matrix[i])
            for i, (pid, day) in enumerate(zip(states.portfolio_ids, states.dates, strict=True))
        ]

    def backfill_dates(self, dates: Sequence[date], portfolio_ids: Sequence[str] | None = None) -> JointBatchResult:
        """Embed and store every numeric state on these dates (and portfolios) in one transaction."""
        if self.model.copies_numeric and self.model.dim == numeric_encoder(self.model.numeric_model_id).dim:
            counts = self.joint_store.copy_numeric(
                self.model.numeric_model_id,
                self.model.model_id,
                dates=dates,
                portfolio_ids=portfolio_ids,
                entity_type=self.numeric_store.kind,
            )
            return JointBatchResult(counts.written, counts.unchanged)
        return self.embed_and_store(self.examples(dates, portfolio_ids))

    def embed_and_store(self, examples: Sequence[JointExample]) -> JointBatchResult:
        batch = EmbeddingBatch(
            self.model.model_id,
            [e.portfolio_id for e in examples],
            [e.as_of_date for e in examples],
            self.model.embed(examples),
            [entity_scope(e.portfolio_id, e.numeric_model_id, e.as_of_date) for e in examples],
        )
        counts = self.joint_store.upsert_batches([batch])
        return JointBatchResult(counts.written, counts.unchanged)
