"""num-portfolio-core-v1: risk report -> fixed-position 384-dim vector."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from prometheus.encoders.feature_schema import PORTFOLIO_CORE_V1, SOFT_CLIP, FeatureSchema
from prometheus.errors import InvalidReport, UnknownModel
from prometheus.reports import NUMERIC_COLUMNS, RiskReport

NUMERIC_PORTFOLIO_MODEL_ID = "num-portfolio-core-v1"
_ENCODED_SOURCES = ("risk_metrics", "exposures_by_sector", "exposures_by_factor")


@dataclass(frozen=True)
class Refusal:
    portfolio_id: str
    as_of_date: str
    reason: str


@dataclass
class EncodedBatch:
    """The result of encoding many reports: vectors for the good ones, reasons for the rest."""

    reports: list[RiskReport]  # encoded, in input order, one per matrix row
    matrix: np.ndarray  # (len(reports), dim) float32
    missing: list[list[str]]  # per row: features that followed the missing rule
    unknown: list[list[str]]  # per row: keys the schema does not know (reported, not encoded)
    refused: list[Refusal] = field(default_factory=list)

    def window_spec(self, row: int, schema: FeatureSchema) -> dict[str, object]:
        spec: dict[str, object] = {"feature_schema": schema.label, "dim": schema.dim}
        if self.missing[row]:
            spec["missing"] = self.missing[row]
        if self.unknown[row]:
            spec["unknown_keys"] = self.unknown[row]
        return spec


class NumericPortfolioEncoder:
    """Deterministic encoder (scikit-learn style: parameters only, no fitted state)."""

    def __init__(self, model_id: str = NUMERIC_PORTFOLIO_MODEL_ID, schema: FeatureSchema = PORTFOLIO_CORE_V1):
        self.model_id = model_id
        self.schema = schema

    @property
    def dim(self) -> int:
        return self.schema.dim

    def fit(self, reports: Sequence[RiskReport] | None = None) -> NumericPortfolioEncoder:
        """Nothing is learned from data; present for the scikit-learn contract."""
        return self

    def _raw_value(self, report: RiskReport, source: str, key: str) -> object:
        if source == "risk_metrics":
            value = report.risk_metrics.get(key)
            if value is None and key in NUMERIC_COLUMNS:
                value = getattr(report, key)
            return value
        block = getattr(report, source)
        return block.get(key)

    def _row(self, report: RiskReport, weights: np.ndarray) -> tuple[np.ndarray, list[str], list[str]]:
        row = np.zeros(self.schema.dim, dtype=np.float64)
        missing: list[str] = []
        for position, feature in enumerate(self.schema.features):
            if feature.transform == "constant":
                row[position] = weights[position]
                continue
            value = self._raw_value(report, feature.source, feature.key)
            if value is None:
                missing.append(feature.name)
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidReport(
                    f"{report.portfolio_id} {report.as_of_date.isoformat()}: "
                    f"{feature.source}.{feature.key} is {type(value).__name__}, not a number"
                )
            number = float(value)
            if not math.isfinite(number):
                raise InvalidReport(
                    f"{report.portfolio_id} {report.as_of_date.isoformat()}: {feature.source}.{feature.key} "
                    f"is {value!r}; fix the report (NaN and infinity cannot be encoded)"
                )
            row[position] = SOFT_CLIP * math.tanh(feature.z(number) / SOFT_CLIP) * weights[position]
        unknown = sorted(
            f"{source}.{key}"
            for source in _ENCODED_SOURCES
            for key in getattr(report, source)
            if key not in self.schema.known_keys(source)
        )
        for source in _ENCODED_SOURCES:
            for key, value in getattr(report, source).items():
                if isinstance(value, float) and not math.isfinite(value):
                    raise InvalidReport(
                        f"{report.portfolio_id} {report.as_of_date.isoformat()}: {source}.{key} is {value!r}; "
                        "fix the report (NaN and infinity cannot be encoded)"
                    )
        return row, missing, unknown

    def encode_batch(self, reports: Sequence[RiskReport]) -> EncodedBatch:
        weights = np.array([self.schema.feature_weight(f) for f in self.schema.features])
        rows: list[np.ndarray] = []
        kept: list[RiskReport] = []
        missing: list[list[str]] = []
        unknown: list[list[str]] = []
        refused: list[Refusal] = []
        for report in reports:
            try:
                row, row_missing, row_unknown = self._row(report, weights)
            except InvalidReport as exc:
                refused.append(Refusal(report.portfolio_id, report.as_of_date.isoformat(), str(exc)))
                continue
            rows.append(row)
            kept.append(report)
            missing.append(row_missing)
            unknown.append(row_unknown)
        matrix = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, self.dim), np.float32)
        return EncodedBatch(kept, matrix, missing, unknown, refused)

    def transform(self, reports: Sequence[RiskReport]) -> np.ndarray:
        """Vectors for all reports; raises InvalidReport on the first one that cannot be encoded."""
        batch = self.encode_batch(reports)
        if batch.refused:
            raise InvalidReport(batch.refused[0].reason)
        return batch.matrix

    def encode(self, report: RiskReport) -> np.ndarray:
        return self.transform([report])[0]


_ENCODERS = {NUMERIC_PORTFOLIO_MODEL_ID: NumericPortfolioEncoder}


def numeric_encoder(model_id: str) -> NumericPortfolioEncoder:
    try:
        return _ENCODERS[model_id](model_id=model_id)
    except KeyError:
        known = ", ".join(sorted(_ENCODERS))
        raise UnknownModel(f"unknown numeric model '{model_id}': known models are {known}") from None
