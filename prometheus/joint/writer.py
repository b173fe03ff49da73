"""Writing joint states: read numeric states, embed them with a joint model, upsert the result."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from prometheus.encoders.feature_schema import PORTFOLIO_CORE_V1
from prometheus.joint.core_v2 import REPORTS_INPUT, schema_keys
from prometheus.joint.models import JointExample, JointModel
from prometheus.keys import join_on_keys
from prometheus.store.embeddings import EmbeddingBatch, NumericEmbeddingStore, UpsertCounts
from prometheus.store.report_fields import block_values
from prometheus.store.stores import Stores


def entity_scope(portfolio_id: str, source: str, as_of_date: date, fit_id: str | None = None) -> dict[str, str]:
    """What a joint state was made from; a fitted model's states name their fit."""
    scope = {
        "entity_type": "PORTFOLIO",
        "portfolio_id": portfolio_id,
        "source": source,
        "as_of_date": as_of_date.isoformat(),
    }
    if fit_id is not None:
        scope["fit_id"] = fit_id
    return scope


def report_values(stores: Stores, keys: Sequence[tuple[str, date]]) -> np.ndarray:
    """(len(keys), features) report values in the numeric schema's feature order; NaN where missing."""
    schema = PORTFOLIO_CORE_V1
    metrics, sectors, factors = schema_keys(schema)
    days = sorted({day for _, day in keys})
    frame = block_values(stores.runtime, metrics, sectors, factors, dates=days) if keys else None
    out = np.full((len(keys), len(schema.features)), np.nan)
    if frame is None or frame.empty:
        return out
    wanted = pd.DataFrame({"portfolio_id": [k[0] for k in keys], "as_of_date": [k[1] for k in keys]})
    joined = join_on_keys(wanted, frame)
    for j, feature in enumerate(schema.features):
        if feature.source == "risk_metrics":
            out[:, j] = joined[feature.key].to_numpy(dtype=np.float64)
        elif feature.source == "exposures_by_sector":
            out[:, j] = joined[f"sector:{feature.key}"].to_numpy(dtype=np.float64)
        elif feature.source == "exposures_by_factor":
            out[:, j] = joined[f"factor:{feature.key}"].to_numpy(dtype=np.float64)
        else:
            out[:, j] = 1.0  # the anchor
    return out


class JointWriter:
    """Reads numeric states, embeds them with a joint model, upserts joint states."""

    def __init__(self, stores: Stores, model: JointModel) -> None:
        self.stores = stores
        self.numeric_store: NumericEmbeddingStore = stores.numeric
        self.model = model
        self.joint_store = stores.joint(model.joint_type)

    def examples(self, dates: Sequence[date], portfolio_ids: Sequence[str] | None = None) -> list[JointExample]:
        """The states to embed: every numeric state on these dates, with report values when the model reads them."""
        states = self.numeric_store.load(
            self.model.numeric_model_id, dates=dates, portfolio_ids=portfolio_ids, with_specs=False
        )
        keys = list(zip(states.portfolio_ids, states.dates, strict=True))
        values = report_values(self.stores, keys) if REPORTS_INPUT in self.model.inputs else None
        return [
            JointExample(
                pid, day, self.model.numeric_model_id, states.matrix[i], values[i] if values is not None else None
            )
            for i, (pid, day) in enumerate(keys)
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
            [entity_scope(e.portfolio_id, e.numeric_model_id, e.as_of_date, self.model.fit_id) for e in examples],
        )
        return self.joint_store.upsert_batches([batch])
