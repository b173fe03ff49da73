"""Why two states are close: each feature's share of cosine and of euclidean distance.

cosine(a, b) = sum_i a_i b_i / (|a| |b|), so feature i contributes
a_i b_i / (|a| |b|) and the contributions sum to the cosine exactly.
euclidean(a, b)^2 = sum_i (a_i - b_i)^2; feature i contributes
(a_i - b_i)^2 / d to the distance d, and these sum to d.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prometheus.encoders.feature_schema import FeatureSchema


@dataclass(frozen=True)
class FeatureContribution:
    name: str
    block: str
    description: str
    coordinate_a: float
    coordinate_b: float
    cosine_contribution: float
    distance_contribution: float


@dataclass(frozen=True)
class Explanation:
    cosine: float
    euclidean: float
    features: list[FeatureContribution]
    reserved_cosine: float  # contribution of coordinates outside the schema (zero for v1 vectors)
    reserved_distance: float


def explain_vectors(schema: FeatureSchema, a: np.ndarray, b: np.ndarray) -> Explanation:
    va = np.asarray(a, dtype=np.float64)
    vb = np.asarray(b, dtype=np.float64)
    norm = float(np.linalg.norm(va) * np.linalg.norm(vb))
    products = va * vb / norm if norm > 0 else np.zeros_like(va)
    squared = (va - vb) ** 2
    distance = float(np.sqrt(squared.sum()))
    shares = squared / distance if distance > 0 else np.zeros_like(va)
    n = len(schema.features)
    features = [
        FeatureContribution(
            name=f.name,
            block=f.block,
            description=f.description,
            coordinate_a=float(va[i]),
            coordinate_b=float(vb[i]),
            cosine_contribution=float(products[i]),
            distance_contribution=float(shares[i]),
        )
        for i, f in enumerate(schema.features)
    ]
    return Explanation(
        cosine=float(products.sum()),
        euclidean=distance,
        features=features,
        reserved_cosine=float(products[n:].sum()),
        reserved_distance=float(shares[n:].sum()),
    )
