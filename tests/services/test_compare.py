"""Two states side by side: tables from the reports, explanation from the stored vectors."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from factories import make_report
from service_helpers import MODEL, NUMERIC, PF1, PORTFOLIOS, put_states, store_reports

import prometheus.services.compare as compare
from prometheus.encoders.feature_schema import PORTFOLIO_CORE_V1, FeatureSchema
from prometheus.errors import NoStateOnDate, UnknownPortfolio
from prometheus.joint.models import IdentityNumericJointModel
from prometheus.reports import FACTOR_KEYS, GICS_SECTORS, OTHER_SECTOR, RISK_METRIC_KEYS
from prometheus.services.compare import EXPLANATION_COLUMNS, compare_states
from prometheus.store.stores import Stores

A = (PF1, date(2025, 1, 31))
B = (PORTFOLIOS[1], date(2025, 4, 30))


def test_comparison_of_two_sample_states(loaded_stores: Stores) -> None:
    result = compare_states(loaded_stores, MODEL, A, B)
    report_a, report_b = loaded_stores.reports.get(*A), loaded_stores.reports.get(*B)
    assert report_a is not None and report_b is not None
    assert list(result.risk_metrics.columns) == ["metric", "a", "b", "difference"]
    assert list(result.risk_metrics["metric"]) == list(RISK_METRIC_KEYS)
    for row in result.risk_metrics.itertuples():
        assert row.a == report_a.risk_metrics[row.metric] and row.b == report_b.risk_metrics[row.metric]
        assert row.difference == pytest.approx(row.b - row.a)
    assert list(result.sectors["sector"]) == [*GICS_SECTORS, OTHER_SECTOR]
    assert list(result.factors["factor"]) == list(FACTOR_KEYS)
    size = result.factors.set_index("factor").loc["size"]
    assert np.isnan(size["a"]) and np.isnan(size["difference"])  # null in the sample reports
    assert list(result.scenarios["scenario"]) == ["dotcom_2000", "lehman_2008"]
    assert result.scenarios.set_index("scenario").loc["lehman_2008", "b"] == report_b.scenario_pnl["lehman_2008"]

    states = loaded_stores.numeric.load(NUMERIC, portfolio_ids=[A[0], B[0]])
    vectors = {
        (p, d): states.matrix[i].astype(np.float64)
        for i, (p, d) in enumerate(zip(states.portfolio_ids, states.dates, strict=True))
    }
    va, vb = vectors[A], vectors[B]
    cosine = float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))
    assert result.explanation is not None
    assert result.explanation.cosine == pytest.approx(cosine, abs=1e-12)
    assert result.explanation.euclidean == pytest.approx(float(np.linalg.norm(va - vb)), abs=1e-12)

    table = result.explanation_table()
    assert list(table.columns) == list(EXPLANATION_COLUMNS)
    assert len(table) == len(PORTFOLIO_CORE_V1.features)
    contributions = list(table["distance_contribution"])
    assert contributions == sorted(contributions, reverse=True)
    assert table["cosine_contribution"].sum() == pytest.approx(cosine, abs=1e-12)
    top = table.iloc[0]
    position = [f.name for f in PORTFOLIO_CORE_V1.features].index(top["feature"])
    assert top["coordinate_a"] == pytest.approx(va[position]) and top["coordinate_b"] == pytest.approx(vb[position])


def test_missing_state_errors_name_what_exists(loaded_stores: Stores) -> None:
    with pytest.raises(UnknownPortfolio) as unknown:
        compare_states(loaded_stores, MODEL, A, ("NOPE", date(2025, 1, 31)))
    assert str(unknown.value) == "unknown portfolio 'NOPE': no joint-portfolio-core-v1 states exist for it"
    with pytest.raises(NoStateOnDate) as no_state:
        compare_states(loaded_stores, MODEL, (PF1, date(2025, 2, 3)), B)
    assert str(no_state.value) == (
        f"portfolio '{PF1}' has no joint-portfolio-core-v1 state on 2025-02-03 (nearest: 2025-01-31, 2025-02-28)"
    )


def test_a_model_without_per_feature_coordinates_compares_reports_but_explains_nothing(
    loaded_stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    class MixingJointModel(IdentityNumericJointModel):  # e.g. a learned projection that mixes features
        @property
        def coordinate_schema(self) -> FeatureSchema | None:
            return None

    model = MixingJointModel()
    monkeypatch.setattr(compare, "joint_store", lambda stores, model_id: (model, stores.joint(model.joint_type)))
    result = compare_states(loaded_stores, MODEL, A, B)
    assert result.explanation is None
    assert result.explanation_table().empty and list(result.explanation_table().columns) == list(EXPLANATION_COLUMNS)
    assert list(result.risk_metrics["metric"]) == list(RISK_METRIC_KEYS)  # the reports are still compared


def test_comparison_on_an_empty_database_and_without_reports(stores: Stores) -> None:
    with pytest.raises(UnknownPortfolio):
        compare_states(stores, MODEL, A, B)
    day = date(2025, 1, 31)
    store_reports(stores, [make_report("X", day, metrics={"custom_metric": 2.0}, scenario_pnl={"z": -0.1})])
    put_states(stores, [("GHOST", day, np.ones(384, dtype=np.float32))])  # a state with no report
    result = compare_states(stores, MODEL, ("X", day), ("GHOST", day))
    assert result.risk_metrics["metric"].iloc[-1] == "custom_metric"  # keys outside the schema come last
    assert result.risk_metrics["b"].isna().all() and result.scenarios["b"].isna().all()
    assert list(result.scenarios["scenario"]) == ["z"]
    assert result.explanation is not None and result.explanation.euclidean > 0
