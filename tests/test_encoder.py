import math
from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from factories import BASE_METRICS, make_report, sectors

from prometheus.encoders.feature_schema import PORTFOLIO_CORE_V1, SOFT_CLIP
from prometheus.encoders.numeric import NumericPortfolioEncoder, numeric_encoder
from prometheus.errors import InvalidReport, UnknownModel
from prometheus.reports import FACTOR_KEYS, GICS_SECTORS, OTHER_SECTOR, RISK_METRIC_KEYS

SCHEMA = PORTFOLIO_CORE_V1
POSITION = {f.name: i for i, f in enumerate(SCHEMA.features)}


def encode(report):  # type: ignore[no-untyped-def]
    return NumericPortfolioEncoder().encode(report).astype(np.float64)


def test_schema_is_named_ordered_versioned_and_complete() -> None:
    assert SCHEMA.label == "portfolio-core-features/v1"
    assert SCHEMA.dim == 384
    names = [f.name for f in SCHEMA.features]
    assert len(names) == len(set(names))
    assert names[: len(RISK_METRIC_KEYS)] == [f"risk.{k}" for k in RISK_METRIC_KEYS]
    sector_names = [n for n in names if n.startswith("sector.")]
    assert sector_names == [f"sector.{s}" for s in (*GICS_SECTORS, OTHER_SECTOR)]
    assert [n for n in names if n.startswith("factor.")] == [f"factor.{k}" for k in FACTOR_KEYS]
    assert len(names) <= SCHEMA.dim


def test_vector_has_384_float32_dimensions_and_zero_reserved_tail() -> None:
    vector = NumericPortfolioEncoder().encode(make_report())
    assert vector.shape == (384,)
    assert vector.dtype == np.float32
    assert not vector[len(SCHEMA.features) :].any()


def test_deterministic_and_independent_of_batch_and_order() -> None:
    a, b = make_report("A"), make_report("B", metrics={"volatility_1m": 0.5})
    encoder = NumericPortfolioEncoder()
    alone = encoder.transform([a])
    batch = encoder.transform([b, a])
    again = NumericPortfolioEncoder().transform([b, a])
    assert np.array_equal(alone[0], batch[1])
    assert np.array_equal(batch, again)


def test_fit_learns_nothing() -> None:
    report = make_report()
    before = encode(report)
    NumericPortfolioEncoder().fit([make_report(metrics={"volatility_1m": 3.0})] * 10)
    assert np.array_equal(before, encode(report))


@pytest.mark.parametrize("key", ["volatility_1m", "drawdown", "beta_1y", "num_names"])
def test_each_metric_moves_only_its_own_coordinate(key: str) -> None:
    base = encode(make_report())
    changed = encode(make_report(metrics={key: BASE_METRICS[key] * 1.5 - 0.05}))
    moved = np.flatnonzero(base != changed)
    assert moved.tolist() == [POSITION[f"risk.{key}"]]


def test_sector_and_factor_positions_are_fixed() -> None:
    base = encode(make_report())
    energy = encode(make_report(exposures_by_sector=sectors(information_technology=0.5, energy=0.5)))
    moved = set(np.flatnonzero(base != energy).tolist())
    assert moved == {POSITION["sector.Energy"], POSITION["sector.Financials"]}
    momentum = encode(
        make_report(
            exposures_by_factor={
                "market_beta": 1.0,
                "momentum": 1.0,
                "low_volatility": -0.2,
                "short_term_reversal": 0.0,
            }
        )
    )
    assert set(np.flatnonzero(base != momentum).tolist()) == {POSITION["factor.momentum"]}


def test_documented_transform_and_weight() -> None:
    feature = SCHEMA.features[POSITION["risk.volatility_1m"]]
    value = encode(make_report(metrics={"volatility_1m": 0.36}))[POSITION["risk.volatility_1m"]]
    expected = SOFT_CLIP * math.tanh((math.log(0.36 / 0.18) / math.log(2)) / SOFT_CLIP) * SCHEMA.feature_weight(feature)
    assert value == pytest.approx(expected, rel=1e-6)


def test_extreme_values_are_bounded() -> None:
    vector = encode(make_report(metrics={"volatility_1m": 1e9, "drawdown": -1e9, "num_names": 1e12}))
    weights = np.array([SCHEMA.feature_weight(f) for f in SCHEMA.features])
    assert np.all(np.abs(vector[: len(weights)]) <= SOFT_CLIP * weights + 1e-6)


def test_number_of_names_does_not_swamp_the_distance() -> None:
    """The original system's flaw: num_names (20-60) dominated every distance."""
    a = encode(make_report(metrics={"num_names": 20}))
    b = encode(make_report(metrics={"num_names": 60}))
    stressed = encode(
        make_report(
            metrics={
                "volatility_1m": 0.45,
                "volatility_3m": 0.40,
                "drawdown": -0.30,
                "var_95_1d": 0.04,
                "es_95_1d": 0.06,
            }
        )
    )
    assert np.linalg.norm(a - b) < 0.5 * np.linalg.norm(a - stressed)
    cosine = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    assert cosine > 0.9


def test_missing_metric_follows_the_rule_and_is_listed() -> None:
    metrics = dict(BASE_METRICS)
    del metrics["beta_1y"]
    report = replace(make_report(), risk_metrics={**metrics, "sharpe_1y": None})
    batch = NumericPortfolioEncoder().encode_batch([report])
    assert batch.matrix[0, POSITION["risk.beta_1y"]] == 0.0
    assert batch.matrix[0, POSITION["risk.sharpe_1y"]] == 0.0
    assert batch.missing[0] == ["risk.beta_1y", "risk.sharpe_1y", "factor.size", "factor.value"]
    spec = batch.window_spec(0, SCHEMA)
    assert spec["feature_schema"] == "portfolio-core-features/v1"
    assert "risk.beta_1y" in spec["missing"]  # type: ignore[operator]


def test_missing_key_does_not_shift_later_features() -> None:
    """The original system's flaw: a missing key shifted every later value."""
    full = encode(make_report())
    metrics = {k: v for k, v in BASE_METRICS.items() if k != "drawdown"}
    partial = encode(replace(make_report(), risk_metrics=metrics))
    moved = np.flatnonzero(full != partial)
    assert moved.tolist() == [POSITION["risk.drawdown"]]


def test_unknown_keys_are_reported_not_dropped_silently() -> None:
    report = replace(
        make_report(), risk_metrics={**BASE_METRICS, "omega_ratio": 1.2}, exposures_by_factor={"quality": 0.3}
    )
    batch = NumericPortfolioEncoder().encode_batch([report])
    assert batch.unknown[0] == ["exposures_by_factor.quality", "risk_metrics.omega_ratio"]
    assert batch.window_spec(0, SCHEMA)["unknown_keys"] == batch.unknown[0]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_infinity_are_refused_naming_portfolio_date_and_key(bad: float) -> None:
    report = replace(make_report("PF_X", date(2008, 10, 10)), risk_metrics={**BASE_METRICS, "drawdown": bad})
    with pytest.raises(InvalidReport) as info:
        NumericPortfolioEncoder().encode(report)
    assert str(info.value) == (
        f"PF_X 2008-10-10: risk_metrics.drawdown is {bad!r}; fix the report (NaN and infinity cannot be encoded)"
    )


def test_batch_refuses_bad_report_and_keeps_good_ones() -> None:
    bad = replace(make_report("BAD"), exposures_by_sector={"Energy": float("nan")})
    batch = NumericPortfolioEncoder().encode_batch([make_report("GOOD"), bad])
    assert [r.portfolio_id for r in batch.reports] == ["GOOD"]
    assert len(batch.refused) == 1
    assert batch.refused[0].reason.startswith("BAD 2025-01-31: exposures_by_sector.Energy is nan")


def test_non_numeric_value_is_refused() -> None:
    report = replace(make_report("PF"), risk_metrics={**BASE_METRICS, "beta_1y": "high"})
    with pytest.raises(InvalidReport, match=r"PF 2025-01-31: risk_metrics.beta_1y is str, not a number"):
        NumericPortfolioEncoder().encode(report)


def test_column_values_fill_missing_exposure_metrics() -> None:
    metrics = {k: v for k, v in BASE_METRICS.items() if k != "leverage"}
    with_column = encode(replace(make_report(), risk_metrics=metrics, leverage=1.5))
    assert with_column[POSITION["risk.leverage"]] != 0.0


def test_unknown_model_id() -> None:
    with pytest.raises(UnknownModel) as info:
        numeric_encoder("num-portfolio-core-v9")
    assert str(info.value) == "unknown numeric model 'num-portfolio-core-v9': known models are num-portfolio-core-v1"


def test_numpy_scalars_encode_like_plain_floats() -> None:
    # Reports built in memory (the risk engine, notebooks) may carry numpy scalars.
    plain = make_report()
    numpy_metrics = {k: (np.float64(v) if v is not None else None) for k, v in plain.risk_metrics.items()}
    numpy_report = replace(plain, risk_metrics=numpy_metrics, leverage=np.float32(1.0))
    batch = NumericPortfolioEncoder().encode_batch([numpy_report, plain])
    assert batch.refused == []
    assert np.array_equal(batch.matrix[0], batch.matrix[1])
    assert batch.missing[0] == batch.missing[1]


def test_a_bad_value_among_good_rows_refuses_only_its_own_report() -> None:
    good = [make_report(f"PF_{i}", metrics={"volatility_1m": 0.1 + i / 100}) for i in range(5)]
    bad = make_report("PF_BAD")
    bad = replace(bad, risk_metrics={**bad.risk_metrics, "beta_1y": float("inf")})
    batch = NumericPortfolioEncoder().encode_batch([*good[:2], bad, *good[2:]])
    assert [r.portfolio_id for r in batch.reports] == [r.portfolio_id for r in good]
    assert [r.portfolio_id for r in batch.refused] == ["PF_BAD"]
    alone = NumericPortfolioEncoder().encode_batch(good)
    assert np.array_equal(batch.matrix, alone.matrix)
