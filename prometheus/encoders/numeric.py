"""num-portfolio-core-v1: risk report -> fixed-position 384-dim vector.

Reading values out of the reports' JSON blocks is per report (dict lookups);
the transforms run column-wise over the whole batch in numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from prometheus.encoders.feature_schema import PORTFOLIO_CORE_V1, SOFT_CLIP, FeatureSchema
from prometheus.errors import InvalidReport, UnknownModel, printable, shown
from prometheus.reports import NUMERIC_COLUMNS, RiskReport

NUMERIC_PORTFOLIO_MODEL_ID = "num-portfolio-core-v1"
_ENCODED_SOURCES = ("risk_metrics", "exposures_by_sector", "exposures_by_factor")
_PLAIN_TYPES = frozenset({float, int, type(None)})


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

    def window_specs(self, schema: FeatureSchema) -> list[dict[str, object]]:
        """Every row's window_spec; rows with the same missing and unknown keys share one dict (read-only)."""
        shared: dict[tuple[int, tuple[str, ...]], dict[str, object]] = {}
        specs = []
        for row in range(len(self.reports)):
            key = (id(self.missing[row]), tuple(self.unknown[row]))
            spec = shared.get(key)
            if spec is None:
                spec = shared[key] = self.window_spec(row, schema)
            specs.append(spec)
        return specs


def _where(report: RiskReport) -> str:
    return f"{printable(report.portfolio_id)} {report.as_of_date.isoformat()}"


def _number(report: RiskReport, source: str, key: str, value: object) -> float:
    """The value as a finite float, or InvalidReport naming portfolio, date and key."""
    if isinstance(value, Real) and not isinstance(value, bool):
        number = float(value)
    else:
        raise InvalidReport(f"{_where(report)}: {source}.{printable(key)} is {type(value).__name__}, not a number")
    if not math.isfinite(number):
        raise InvalidReport(
            f"{_where(report)}: {source}.{printable(key)} is {value!r}; "
            "fix the report (NaN and infinity cannot be encoded)"
        )
    return number


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

    def _lookups(self) -> tuple[list[tuple[int, int, str, bool]], list[frozenset[str]]]:
        """Per batch: where each feature reads from, and each block's known keys."""
        reads = [
            (position, _ENCODED_SOURCES.index(f.source), f.key, f.source == "risk_metrics" and f.key in NUMERIC_COLUMNS)
            for position, f in enumerate(self.schema.features)
            if f.transform != "constant"
        ]
        return reads, [self.schema.known_keys(source) for source in _ENCODED_SOURCES]

    def _read_row(
        self,
        report: RiskReport,
        values: list[float],
        reads: list[tuple[int, int, str, bool]],
        known: list[frozenset[str]],
    ) -> list[str]:
        """Fill one row of raw values (NaN stays where a value is missing); return the unknown keys.

        Raises InvalidReport. Real NaNs are refused here, so NaN later means "missing".
        """
        blocks = (report.risk_metrics, report.exposures_by_sector, report.exposures_by_factor)
        for position, block_index, key, has_column in reads:
            value = blocks[block_index].get(key)
            if value is None and has_column:
                value = getattr(report, key)
            if value is None:
                continue
            if type(value) is not float or not math.isfinite(value):
                value = _number(report, _ENCODED_SOURCES[block_index], key, value)
            values[position] = value
        unknown = []
        for block_index, block in enumerate(blocks):
            if block.keys() <= known[block_index]:
                continue
            source = _ENCODED_SOURCES[block_index]
            for key in block.keys() - known[block_index]:
                value = block[key]
                if value is not None:
                    _number(report, source, key, value)  # NaN is refused even under an unknown key
                unknown.append(f"{source}.{key}")
        return sorted(unknown)

    def _transform(self, values: np.ndarray, present: np.ndarray) -> np.ndarray:
        features = self.schema.features
        center = np.array([f.center for f in features])
        scale = np.array([f.scale for f in features])
        floor = np.array([f.floor for f in features])
        is_log = np.array([f.transform == "log" for f in features])
        is_constant = np.array([f.transform == "constant" for f in features])
        weight = np.array([self.schema.feature_weight(f) for f in features])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # huge inputs soft-clip to 3
            z = np.where(is_log, np.log(np.maximum(values, floor) / center) / scale, (values - center) / scale)
        coordinates = SOFT_CLIP * np.tanh(z / SOFT_CLIP) * weight
        coordinates = np.where(present, coordinates, 0.0)
        coordinates[:, is_constant] = weight[is_constant]
        out = np.zeros((values.shape[0], self.schema.dim), dtype=np.float32)
        out[:, : len(features)] = coordinates
        return out

    def encode_batch(self, reports: Sequence[RiskReport]) -> EncodedBatch:
        """Encode many reports; a report that cannot be encoded is refused, the rest go on."""
        features = self.schema.features
        reads, known = self._lookups()
        ordered = sorted(reads, key=lambda read: read[1])  # raw columns go block by block
        positions = [position for position, _, _, _ in ordered]
        keys_by_block = [[key for _, b, key, _ in ordered if b == block] for block in range(3)]
        column_fallbacks = [(i, key) for i, (_, _, key, has_column) in enumerate(ordered) if has_column]
        known_metrics, known_sectors, known_factors = known
        blank: list[object] = [None] * len(ordered)
        # Fast path: pull raw values with C-level comprehensions and let numpy turn None into NaN.
        # Anything unusual (a non-number, a non-finite value, an unknown key) is marked
        # suspicious and goes through _read_row, which reads it slowly and names what is wrong.
        raw_rows: list[list[object]] = []
        suspicious_rows: list[bool] = []
        for report in reports:
            rm, sec, fac = report.risk_metrics, report.exposures_by_sector, report.exposures_by_factor
            row: list[object] = [rm.get(k) for k in keys_by_block[0]]
            row += [sec.get(k) for k in keys_by_block[1]]
            row += [fac.get(k) for k in keys_by_block[2]]
            for i, key in column_fallbacks:
                if row[i] is None:
                    row[i] = getattr(report, key)
            usual = (
                set(map(type, row)) <= _PLAIN_TYPES
                and rm.keys() <= known_metrics
                and sec.keys() <= known_sectors
                and fac.keys() <= known_factors
            )
            raw_rows.append(row if usual else blank)
            suspicious_rows.append(not usual)
        values_raw = np.array(raw_rows, dtype=np.float64).reshape(len(reports), len(ordered))
        nan_raw = np.isnan(values_raw)
        # A NaN that was not a None is a real NaN in the report; infinity likewise.
        nones = np.fromiter((row.count(None) for row in raw_rows), dtype=np.int64, count=len(raw_rows))
        suspicious = np.array(suspicious_rows, dtype=bool) | (nan_raw.sum(axis=1) != nones)
        suspicious |= np.isinf(values_raw).any(axis=1)

        values = np.full((len(reports), len(features)), np.nan)
        values[:, positions] = values_raw
        keep = np.ones(len(reports), dtype=bool)
        unknown: list[list[str]] = [[] for _ in reports]
        refused: list[Refusal] = []
        for i in np.flatnonzero(suspicious).tolist():
            report = reports[i]
            row_values = [math.nan] * len(features)
            try:
                unknown[i] = self._read_row(report, row_values, reads, known)
            except InvalidReport as exc:
                refused.append(Refusal(report.portfolio_id, report.as_of_date.isoformat(), str(exc)))
                keep[i] = False
                continue
            values[i] = row_values
        kept_rows = np.flatnonzero(keep)
        values = values[kept_rows]
        absent = np.isnan(values)  # real NaNs were refused above, so NaN now means "missing"
        for i, feature in enumerate(features):
            if feature.transform == "constant":
                absent[:, i] = False  # constants are set by _transform, never "missing"
        names = np.array([f.name for f in features], dtype=object)
        # Reports from one source tend to miss the same keys: name each pattern once.
        patterns, inverse = np.unique(np.packbits(absent, axis=1), axis=0, return_inverse=True)
        pattern_names = [list(names[np.unpackbits(p, count=len(features)).astype(bool)]) for p in patterns]
        missing = [pattern_names[k] for k in inverse.reshape(-1)]
        kept = [reports[i] for i in kept_rows.tolist()]
        return EncodedBatch(kept, self._transform(values, ~absent), missing, [unknown[i] for i in kept_rows], refused)

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
        raise UnknownModel(f"unknown numeric model {shown(model_id)}: known models are {known}") from None
