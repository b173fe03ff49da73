"""joint-portfolio-core-v2: a fitted, frozen, explainable joint model over the report's own values.

Each output coordinate belongs to exactly one named feature of the numeric
schema (the same 41 positions as num-portfolio-core-v1; the rest are 0), so a
pair of states is explained feature by feature, exactly:

    coordinate_j = w_j * c * tanh(z_j / c),   z_j = (g_j(x_j) - m_j) / s_j
    g_j(x) = ln(max(x, floor_j)) for scale-type features, x otherwise
    a missing value -> 0 (the fitted median: "typical"); the anchor -> w_anchor

Unlike v1's hand-set centres and scales (tuned to the demo book), m_j, s_j and
floor_j are the training window's median, robust spread and 1e-3 of the median
positive value: they move with a firm's units and ranges, so volatilities in
percent or weights in basis points give the same coordinates. The weights w_j
are learned (see :mod:`prometheus.joint.core_v2_fit`); the parameters are
stored as canonical JSON with their checksum, and the fit id derives from it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from prometheus.encoders.feature_schema import PORTFOLIO_CORE_V1, FeatureSchema
from prometheus.encoders.numeric import NUMERIC_PORTFOLIO_MODEL_ID
from prometheus.errors import PrometheusError
from prometheus.joint.models import JointExample
from prometheus.store.vector import EMBEDDING_DIM

CORE_V2_MODEL_ID = "joint-portfolio-core-v2"
CORE_V2_JOINT_TYPE = "PORTFOLIO_CORE_V2"
REPORTS_INPUT = "reports"  # the report values of the schema's features (risk metrics, sectors, factors)


class NotFitted(PrometheusError):
    """A model that must be fitted has no stored fit in this store."""


@dataclass(frozen=True)
class CoreV2Parameters:
    """Everything the transform needs; canonical JSON, checksummed."""

    feature_names: tuple[str, ...]
    transform: tuple[str, ...]  # "log" | "linear" | "constant" | "inactive", per feature
    floor: tuple[float, ...]
    center: tuple[float, ...]
    scale: tuple[float, ...]
    weight: tuple[float, ...]
    group: tuple[str, ...]
    group_exponent: dict[str, int]  # each group's weights: its prior times 2 ** (exponent * exponent_step)
    clip: float
    train_end: str
    train_states: int
    hyperparameters: dict[str, float | int | str]
    fit_report: dict[str, float | int] = field(default_factory=dict)

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, shortest round-trip floats (exact), no whitespace, no NaN."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), allow_nan=False)

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    @classmethod
    def from_json(cls, text: str) -> CoreV2Parameters:
        data = json.loads(text)
        for key in ("feature_names", "transform", "floor", "center", "scale", "weight", "group"):
            data[key] = tuple(data[key])
        return cls(**data)


def unit_coordinates(
    values: np.ndarray,
    kinds: Sequence[str],
    floors: Sequence[float],
    centers: Sequence[float],
    scales: Sequence[float],
    clip: float,
) -> np.ndarray:
    """Soft-clipped z per feature before the weights (n, features); missing -> 0; anchor -> 1; inactive -> 0."""
    x = np.asarray(values, dtype=np.float64)
    kind = np.array(kinds)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        u = np.where(kind == "log", np.log(np.maximum(x, np.asarray(floors))), x)
        z = (u - np.asarray(centers)) / np.asarray(scales)
    out = clip * np.tanh(z / clip)
    out = np.where(np.isfinite(x), out, 0.0)
    out[:, kind == "constant"] = 1.0
    out[:, kind == "inactive"] = 0.0
    return out


def schema_keys(schema: FeatureSchema = PORTFOLIO_CORE_V1) -> tuple[list[str], list[str], list[str]]:
    """The report keys the schema reads, block by block (risk metrics, sectors, factors)."""
    metrics = [f.key for f in schema.features if f.source == "risk_metrics"]
    sectors = [f.key for f in schema.features if f.source == "exposures_by_sector"]
    factors = [f.key for f in schema.features if f.source == "exposures_by_factor"]
    return metrics, sectors, factors


class CoreV2Model:
    """The joint model: its metadata always, its transform once parameters are bound (a stored fit)."""

    model_id = CORE_V2_MODEL_ID
    joint_type = CORE_V2_JOINT_TYPE
    numeric_model_id = NUMERIC_PORTFOLIO_MODEL_ID
    dim = EMBEDDING_DIM
    inputs: tuple[str, ...] = (REPORTS_INPUT,)
    copies_numeric = False
    needs_fit = True

    def __init__(self, parameters: CoreV2Parameters | None = None, fit_id: str | None = None) -> None:
        self.parameters = parameters
        self.fit_id = fit_id

    @property
    def coordinate_schema(self) -> FeatureSchema | None:
        return PORTFOLIO_CORE_V1  # coordinate j is the schema's feature j, only rescaled and weighted

    def bound(self, parameters: CoreV2Parameters, fit_id: str) -> CoreV2Model:
        names = tuple(f.name for f in PORTFOLIO_CORE_V1.features)
        if parameters.feature_names != names:
            raise PrometheusError(f"{self.model_id} fit {fit_id} was made for another feature schema: fit it again")
        return CoreV2Model(parameters, fit_id)

    def transform_values(self, values: np.ndarray) -> np.ndarray:
        """(n, 41) report values in schema order (NaN = missing) -> (n, 384) float32 vectors."""
        p = self.parameters
        if p is None:
            raise NotFitted(
                f"{self.model_id} has not been fitted on this store: fit it on the states up to a training end "
                "date first (fit_joint_model)"
            )
        units = unit_coordinates(values, p.transform, p.floor, p.center, p.scale, p.clip)
        out = np.zeros((units.shape[0], self.dim), dtype=np.float32)
        out[:, : units.shape[1]] = units * np.asarray(p.weight)
        return out

    def embed(self, examples: Sequence[JointExample]) -> np.ndarray:
        if not examples:
            return np.zeros((0, self.dim), dtype=np.float32)
        missing = [e for e in examples if e.report_values is None]
        if missing:
            raise PrometheusError(f"{self.model_id} embeds report values; {len(missing)} state(s) came without them")
        return self.transform_values(np.vstack([np.asarray(e.report_values) for e in examples]))
