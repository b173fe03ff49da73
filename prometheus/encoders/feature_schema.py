"""The named, ordered, versioned feature schema of num-portfolio-core-v1.

Each feature reads one key of a risk report, applies a fixed transform
(nothing is fitted on data, so a state's vector never changes when new dates
arrive), soft-clips it, and is multiplied by its block weight. Positions in
the 384-dim vector are fixed by this table; a new feature means a new
schema version, never a shifted position.

Transforms, with z the pre-clip value:
  linear:  z = (x - center) / scale
  log:     z = ln(max(x, floor) / center) / scale
  clip:    value = 3 * tanh(z / 3)   (near-identity for |z| < 1, bounded by 3)
Missing rule: a key that is absent or null contributes 0 (the feature's
center: "typical"), and is listed in the embedding's window_spec.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from prometheus.reports import FACTOR_KEYS, GICS_SECTORS, OTHER_SECTOR
from prometheus.store.vector import EMBEDDING_DIM

Block = Literal["risk", "sector", "factor", "anchor"]
Transform = Literal["linear", "log", "constant"]
SOFT_CLIP = 3.0
LN2 = math.log(2.0)


@dataclass(frozen=True)
class Feature:
    name: str  # unique, e.g. "risk.volatility_1m"
    block: Block
    source: str  # "risk_metrics", "exposures_by_sector", "exposures_by_factor", "column" or "constant"
    key: str
    transform: Transform
    center: float
    scale: float
    floor: float = 1e-6
    description: str = ""

    def z(self, value: float) -> float:
        if self.transform == "constant":
            return 1.0
        if self.transform == "log":
            return math.log(max(value, self.floor) / self.center) / self.scale
        return (value - self.center) / self.scale


@dataclass(frozen=True)
class FeatureSchema:
    name: str
    version: int
    features: tuple[Feature, ...]
    block_weights: dict[str, float]  # share of a typical vector's squared norm per block
    dim: int

    @property
    def label(self) -> str:
        return f"{self.name}/v{self.version}"

    def feature_weight(self, feature: Feature) -> float:
        """Weight per feature so each block holds its share whatever its size."""
        size = sum(1 for f in self.features if f.block == feature.block)
        return math.sqrt(self.block_weights[feature.block] / size)

    def known_keys(self, source: str) -> frozenset[str]:
        return frozenset(f.key for f in self.features if f.source == source)


def _risk(key: str, transform: Transform, center: float, scale: float, description: str) -> Feature:
    return Feature(f"risk.{key}", "risk", "risk_metrics", key, transform, center, scale, description=description)


_RISK_FEATURES = (
    _risk("volatility_1m", "log", 0.18, LN2, "1-month annualised volatility; one unit per doubling from 18%"),
    _risk("volatility_3m", "log", 0.18, LN2, "3-month annualised volatility; per doubling from 18%"),
    _risk("volatility_1y", "log", 0.18, LN2, "1-year annualised volatility; per doubling from 18%"),
    _risk("var_95_1d", "log", 0.017, LN2, "1-day historical VaR 95%; per doubling from 1.7%"),
    _risk("es_95_1d", "log", 0.025, LN2, "1-day expected shortfall 95%; per doubling from 2.5%"),
    _risk("drawdown", "linear", -0.08, 0.10, "current drawdown; one unit per 10 points from -8%"),
    _risk("max_drawdown_1y", "linear", -0.12, 0.10, "worst drawdown in the year; per 10 points from -12%"),
    _risk("beta_1y", "linear", 1.0, 0.3, "beta to the benchmark; per 0.3 from 1"),
    _risk("correlation_1y", "linear", 0.7, 0.2, "correlation to the benchmark; per 0.2 from 0.7"),
    _risk("tracking_error_1y", "log", 0.08, LN2, "tracking error; per doubling from 8%"),
    _risk("sharpe_1y", "linear", 0.6, 1.0, "trailing-year Sharpe; per 1.0 from 0.6"),
    _risk("sortino_1y", "linear", 0.9, 1.5, "trailing-year Sortino; per 1.5 from 0.9"),
    _risk("return_1m", "linear", 0.01, 0.06, "1-month return; per 6 points from 1%"),
    _risk("return_3m", "linear", 0.03, 0.10, "3-month return; per 10 points from 3%"),
    _risk("return_1y", "linear", 0.10, 0.25, "1-year return; per 25 points from 10%"),
    _risk("skew_1y", "linear", 0.0, 1.0, "skewness of daily returns; per 1.0"),
    _risk("kurtosis_1y", "log", 3.0, LN2 * 2, "excess kurtosis (floored at 0.1); per quadrupling from 3"),
    _risk("num_names", "log", 15.0, LN2 * 2, "number of names; per quadrupling from 15"),
    _risk("herfindahl", "log", 0.08, LN2 * 2, "concentration (Herfindahl); per quadrupling from 0.08"),
    _risk("gross_exposure", "linear", 1.0, 0.5, "gross exposure; per 0.5 from 1"),
    _risk("net_exposure", "linear", 1.0, 0.5, "net exposure; per 0.5 from 1"),
    _risk("leverage", "linear", 1.0, 0.5, "leverage; per 0.5 from 1"),
)

_SECTOR_FEATURES = tuple(
    Feature(
        f"sector.{name}",
        "sector",
        "exposures_by_sector",
        name,
        "linear",
        0.0,
        0.25,
        description=f"weight in {name}; one unit per 25%",
    )
    for name in (*GICS_SECTORS, OTHER_SECTOR)
)

_FACTOR_SCALES = {
    "market_beta": (1.0, 0.3, "market beta; per 0.3 from 1"),
    "momentum": (0.0, 0.5, "momentum exposure (weighted z-score); per 0.5"),
    "low_volatility": (0.0, 0.5, "low-volatility exposure (weighted z-score); per 0.5"),
    "size": (0.0, 0.5, "size exposure (weighted z-score); per 0.5"),
    "value": (0.0, 0.5, "value exposure (weighted z-score); per 0.5"),
    "short_term_reversal": (0.0, 0.5, "1-month reversal exposure (weighted z-score); per 0.5"),
}
_FACTOR_FEATURES = tuple(
    Feature(
        f"factor.{key}",
        "factor",
        "exposures_by_factor",
        key,
        "linear",
        *_FACTOR_SCALES[key][:2],
        description=_FACTOR_SCALES[key][2],
    )
    for key in FACTOR_KEYS
)

# A constant coordinate: it keeps cosine meaningful for states near the
# all-typical centre (whose other coordinates are all close to zero).
_ANCHOR = Feature(
    "anchor",
    "anchor",
    "constant",
    "",
    "constant",
    0.0,
    1.0,
    description="constant 1: stabilises cosine near the centre",
)

PORTFOLIO_CORE_V1 = FeatureSchema(
    name="portfolio-core-features",
    version=1,
    features=(*_RISK_FEATURES, *_SECTOR_FEATURES, *_FACTOR_FEATURES, _ANCHOR),
    block_weights={"risk": 0.60, "sector": 0.15, "factor": 0.15, "anchor": 0.10},
    dim=EMBEDDING_DIM,
)


def schema_markdown(schema: FeatureSchema = PORTFOLIO_CORE_V1) -> str:
    """The schema as a Markdown table (the README's copy is checked against this)."""
    lines = [
        "| pos | feature | block | reads | transform | center | scale | weight | meaning |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for position, f in enumerate(schema.features):
        reads = "constant 1" if f.source == "constant" else f"{f.source}.{f.key}"
        scale = "ln 2" if f.scale == LN2 else ("ln 4" if f.scale == 2 * LN2 else f"{f.scale:g}")
        lines.append(
            f"| {position} | `{f.name}` | {f.block} | `{reads}` | {f.transform} | {f.center:g} | {scale} | "
            f"{schema.feature_weight(f):.4f} | {f.description} |"
        )
    lines.append(f"| {len(schema.features)}-{schema.dim - 1} | reserved | - | - | always 0 | | | | |")
    return "\n".join(lines)
