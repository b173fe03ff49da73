"""Joint models: what a joint state is made of, and the identity model over numeric vectors.

A joint model declares its inputs (today: the numeric model's vectors) and
whether its coordinates are exact per-feature coordinates, i.e. each one is a
named feature of a schema. Only then can the explanation of a pair
("which features pull these two states apart") be computed exactly; the app
and the services ask :attr:`JointModel.coordinate_schema` instead of guessing
from a class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

from prometheus.encoders.feature_schema import FeatureSchema
from prometheus.encoders.numeric import NUMERIC_PORTFOLIO_MODEL_ID, numeric_encoder
from prometheus.store.vector import EMBEDDING_DIM

JOINT_PORTFOLIO_MODEL_ID = "joint-portfolio-core-v1"
PORTFOLIO_CORE_JOINT_TYPE = "PORTFOLIO_CORE_V0"
NUMERIC_INPUT = "numeric"  # the numeric model's vector of the same portfolio and date


@dataclass(frozen=True)
class JointExample:
    """The inputs of one joint state: a portfolio's numeric vector on a date (and its report values,
    in the numeric schema's feature order, for models whose inputs include the reports)."""

    portfolio_id: str
    as_of_date: date
    numeric_model_id: str
    numeric_vector: np.ndarray
    report_values: np.ndarray | None = None


class JointModel(Protocol):
    model_id: str
    joint_type: str
    numeric_model_id: str
    dim: int
    inputs: tuple[str, ...]  # what embed() reads, e.g. ("numeric",)
    # True when the joint vector is the numeric vector unchanged, so the
    # database can copy it without a round trip through Python.
    copies_numeric: bool
    # True when the model has parameters learned from a store: it embeds only once bound to a stored fit.
    needs_fit: bool
    fit_id: str | None

    @property
    def coordinate_schema(self) -> FeatureSchema | None:
        """The schema whose features are this model's coordinates, one each; None if coordinates mix features."""
        ...

    def embed(self, examples: Sequence[JointExample]) -> np.ndarray: ...


def explains_pairs(model: JointModel) -> bool:
    """Whether a pair of this model's states can be explained feature by feature, exactly."""
    return model.coordinate_schema is not None


class IdentityNumericJointModel:
    """Joint vector = numeric vector, unchanged (the V0 joint space)."""

    copies_numeric: bool = True
    inputs: tuple[str, ...] = (NUMERIC_INPUT,)
    needs_fit = False
    fit_id: str | None = None

    def __init__(
        self,
        model_id: str = JOINT_PORTFOLIO_MODEL_ID,
        joint_type: str = PORTFOLIO_CORE_JOINT_TYPE,
        numeric_model_id: str = NUMERIC_PORTFOLIO_MODEL_ID,
        dim: int = EMBEDDING_DIM,
    ) -> None:
        self.model_id = model_id
        self.joint_type = joint_type
        self.numeric_model_id = numeric_model_id
        self.dim = dim

    @property
    def coordinate_schema(self) -> FeatureSchema | None:
        return numeric_encoder(self.numeric_model_id).schema

    def embed(self, examples: Sequence[JointExample]) -> np.ndarray:
        if not examples:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([e.numeric_vector for e in examples]).astype(np.float32, copy=False)
