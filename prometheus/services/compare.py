"""Two states side by side: their reports' numbers and why their vectors are (dis)similar."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from prometheus.joint.registry import joint_store
from prometheus.keys import StateKey
from prometheus.lookup import missing_state
from prometheus.reports import FACTOR_KEYS, GICS_SECTORS, OTHER_SECTOR, RISK_METRIC_KEYS, RiskReport
from prometheus.search.explain import Explanation, explain_vectors
from prometheus.store.embeddings import JointEmbeddingStore
from prometheus.store.stores import Stores

EXPLANATION_COLUMNS = (
    "feature",
    "block",
    "description",
    "coordinate_a",
    "coordinate_b",
    "cosine_contribution",
    "distance_contribution",
)


@dataclass(frozen=True)
class StateComparison:
    a: StateKey
    b: StateKey
    risk_metrics: pd.DataFrame  # metric, a, b, difference (b - a)
    sectors: pd.DataFrame  # sector, a, b, difference
    factors: pd.DataFrame  # factor, a, b, difference
    scenarios: pd.DataFrame  # scenario, a, b, difference
    explanation: Explanation | None  # None: the model's coordinates are not one named feature each

    def explanation_table(self) -> pd.DataFrame:
        """Per-feature contributions, the features that pull the states apart first (no rows without one)."""
        if self.explanation is None:
            return pd.DataFrame(columns=list(EXPLANATION_COLUMNS))
        rows = [
            (
                f.name,
                f.block,
                f.description,
                f.coordinate_a,
                f.coordinate_b,
                f.cosine_contribution,
                f.distance_contribution,
            )
            for f in self.explanation.features
        ]
        table = pd.DataFrame(rows, columns=list(EXPLANATION_COLUMNS))
        return table.sort_values("distance_contribution", ascending=False, kind="stable").reset_index(drop=True)


def _number(block: Mapping[str, float | None], key: str) -> float:
    value = block.get(key)
    return np.nan if value is None else float(value)


def _side_by_side(
    label: str, known: Iterable[str], a: Mapping[str, float | None], b: Mapping[str, float | None]
) -> pd.DataFrame:
    # Schema keys first, in schema order; keys only one report has come after, sorted.
    ordered = list(dict.fromkeys(known))
    ordered += sorted((set(a) | set(b)) - set(ordered))
    va = np.array([_number(a, k) for k in ordered], dtype=np.float64)
    vb = np.array([_number(b, k) for k in ordered], dtype=np.float64)
    return pd.DataFrame({label: pd.Series(ordered, dtype=object), "a": va, "b": vb, "difference": vb - va})


def _block(report: RiskReport | None, name: str) -> dict[str, float | None]:
    return dict(getattr(report, name)) if report is not None else {}


def _vector(store: JointEmbeddingStore, model_id: str, dim: int, key: StateKey) -> np.ndarray:
    vector = store.vector(model_id, key.portfolio_id, key.as_of_date, dim)
    if vector is None:
        existing = store.dates(model_id, portfolio_ids=[key.portfolio_id])
        raise missing_state(key.portfolio_id, f"{model_id} state", key.as_of_date, existing)
    return vector


def compare_states(stores: Stores, model_id: str, a: tuple[str, date], b: tuple[str, date]) -> StateComparison:
    """Both states must exist under ``model_id``; a missing report leaves its column NaN.

    The explanation is None for a model whose coordinates are not one named feature each.
    """
    a, b = StateKey(*a), StateKey(*b)
    model, store = joint_store(stores, model_id)
    schema = model.coordinate_schema
    vector_a = _vector(store, model_id, model.dim, a)
    vector_b = _vector(store, model_id, model.dim, b)
    report_a = stores.reports.get(*a)
    report_b = stores.reports.get(*b)
    return StateComparison(
        a=a,
        b=b,
        risk_metrics=_side_by_side(
            "metric", RISK_METRIC_KEYS, _block(report_a, "risk_metrics"), _block(report_b, "risk_metrics")
        ),
        sectors=_side_by_side(
            "sector",
            (*GICS_SECTORS, OTHER_SECTOR),
            _block(report_a, "exposures_by_sector"),
            _block(report_b, "exposures_by_sector"),
        ),
        factors=_side_by_side(
            "factor", FACTOR_KEYS, _block(report_a, "exposures_by_factor"), _block(report_b, "exposures_by_factor")
        ),
        scenarios=_side_by_side("scenario", (), _block(report_a, "scenario_pnl"), _block(report_b, "scenario_pnl")),
        explanation=explain_vectors(schema, vector_a, vector_b) if schema is not None else None,
    )
