import numpy as np
import pytest
from factories import make_report

from prometheus.encoders.feature_schema import PORTFOLIO_CORE_V1
from prometheus.encoders.numeric import NumericPortfolioEncoder
from prometheus.search.exact import cosine_and_euclidean, rank, top_k_exact
from prometheus.search.explain import explain_vectors


def _independent_cosine(a: np.ndarray, b: np.ndarray) -> float:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return float(np.dot(a64, b64) / np.sqrt(np.dot(a64, a64) * np.dot(b64, b64)))


def test_explanation_sums_to_the_real_cosine_and_distance() -> None:
    encoder = NumericPortfolioEncoder()
    a = encoder.encode(make_report("A", metrics={"volatility_1m": 0.4, "drawdown": -0.25}))
    b = encoder.encode(make_report("B", metrics={"beta_1y": 1.4, "num_names": 45}))
    explanation = explain_vectors(PORTFOLIO_CORE_V1, a, b)
    cosine = _independent_cosine(a, b)
    distance = float(np.linalg.norm(a.astype(np.float64) - b.astype(np.float64)))
    assert explanation.cosine == pytest.approx(cosine, abs=1e-12)
    assert explanation.euclidean == pytest.approx(distance, abs=1e-12)
    assert sum(f.cosine_contribution for f in explanation.features) == pytest.approx(cosine, abs=1e-12)
    assert sum(f.distance_contribution for f in explanation.features) == pytest.approx(distance, abs=1e-12)
    assert explanation.reserved_cosine == 0.0 and explanation.reserved_distance == 0.0
    biggest = max(explanation.features, key=lambda f: f.distance_contribution)
    assert biggest.name in {"risk.volatility_1m", "risk.drawdown", "risk.beta_1y"}


def test_identical_states_explain_as_cosine_one_distance_zero() -> None:
    a = NumericPortfolioEncoder().encode(make_report())
    explanation = explain_vectors(PORTFOLIO_CORE_V1, a, a)
    assert explanation.cosine == pytest.approx(1.0)
    assert explanation.euclidean == 0.0
    assert all(f.distance_contribution == 0.0 for f in explanation.features)


def test_scores_match_an_independent_computation() -> None:
    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((500, 384)).astype(np.float32)
    query = rng.standard_normal(384).astype(np.float32)
    cosine, euclidean = cosine_and_euclidean(matrix, query)
    for i in (0, 17, 499):
        assert cosine[i] == pytest.approx(_independent_cosine(matrix[i], query), abs=1e-12)
        expected = np.sqrt(sum((float(x) - float(y)) ** 2 for x, y in zip(matrix[i], query, strict=True)))
        assert euclidean[i] == pytest.approx(expected, rel=1e-9)


def test_top_k_equals_a_full_sort() -> None:
    rng = np.random.default_rng(5)
    matrix = rng.standard_normal((2000, 384)).astype(np.float32)
    query = matrix[10] + 0.1 * rng.standard_normal(384).astype(np.float32)
    ranked = top_k_exact(matrix, query, 20)
    cosine, _ = cosine_and_euclidean(matrix, query)
    assert ranked.rows.tolist() == np.argsort(-cosine, kind="stable")[:20].tolist()
    assert ranked.rows[0] == 10
    assert np.all(np.diff(ranked.cosine) <= 0)


def test_ties_are_broken_by_euclidean_then_keys_regardless_of_row_order() -> None:
    base = np.ones(4)
    rows = np.array([base * 2, base, base * 3, base], dtype=np.float32)  # all cosine 1
    cosine, euclidean = cosine_and_euclidean(rows, base)
    names = np.array(["d", "c", "b", "a"])
    order = rank(cosine, euclidean, 3, tie_keys=(names,))
    assert order.tolist() == [3, 1, 0]  # distance 0 (a, then c), then distance 2
    reordered = rows[::-1]
    cosine2, euclidean2 = cosine_and_euclidean(reordered, base)
    assert names[::-1][rank(cosine2, euclidean2, 3, tie_keys=(names[::-1],))].tolist() == ["a", "c", "d"]


def test_ties_at_the_cut_are_all_considered() -> None:
    cosine = np.array([0.9, 0.5, 0.5, 0.5, 0.1])
    euclidean = np.array([1.0, 3.0, 1.0, 2.0, 0.0])
    assert rank(cosine, euclidean, 2).tolist() == [0, 2]


def test_empty_candidates() -> None:
    assert rank(np.zeros(0), np.zeros(0), 5).tolist() == []
