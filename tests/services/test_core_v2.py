"""joint-portfolio-core-v2: fitted on the store, frozen, deterministic, robust to units, used everywhere v1 is."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from helpers import invoke
from market import market_output, store_market

from prometheus.config import Settings
from prometheus.errors import InvalidInput, InvalidSetting, UnknownModel
from prometheus.joint.core_v2 import CORE_V2_MODEL_ID, CoreV2Parameters
from prometheus.joint.models import JOINT_PORTFOLIO_MODEL_ID
from prometheus.joint.registry import fitted_joint_model
from prometheus.reports import RiskReport
from prometheus.risk import EngineOutput
from prometheus.services.compare import compare_states
from prometheus.services.fitting import fit_joint_model
from prometheus.services.forecast_book import forecast_book
from prometheus.services.quality import (
    DATE_ONLY,
    EVERY_FEATURE,
    VOLATILITY_AND_DRAWDOWN,
    SharedStates,
    embedding_quality,
)
from prometheus.services.similar import SimilarQuery, find_similar
from prometheus.store.stores import Stores, open_stores

NUMERIC = "num-portfolio-core-v1"
TRAIN_END = date(2011, 12, 30)


def _small_market() -> EngineOutput:
    return market_output(books=10, years=3)


@pytest.fixture
def market(db_url: str, tmp_path: Path) -> Iterator[Stores]:
    stores = open_stores(Settings(db_url=db_url, cache_dir=tmp_path / "cache"))
    store_market(stores, _small_market())
    yield stores
    stores.dispose()


def _scope_fits(stores: Stores) -> set[str]:
    states = stores.joint("PORTFOLIO_CORE_V2").load(CORE_V2_MODEL_ID)
    return {str(spec.get("fit_id")) for spec in states.specs}


def test_fit_freeze_backfill_refit(market: Stores, db_url: str) -> None:
    # without a fit a backfill is one clear line, and writes nothing
    refused = invoke(
        "backfill_joint_portfolios",
        "--joint-model-id",
        CORE_V2_MODEL_ID,
        "--start",
        "2010-01-01",
        "--end",
        "2012-12-31",
        db_url=db_url,
    )
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == (
        "error: joint-portfolio-core-v2 has not been fitted on this store: fit it on the states up to a "
        "training end date first (fit_joint_model)\n"
    )
    assert market.joint("PORTFOLIO_CORE_V2").count(CORE_V2_MODEL_ID) == 0

    first = fit_joint_model(market, CORE_V2_MODEL_ID, NUMERIC, TRAIN_END)
    again = fit_joint_model(market, CORE_V2_MODEL_ID, NUMERIC, TRAIN_END)
    assert first.new and not again.new and first.fit_id == again.fit_id == first.checksum[:16]
    stored = market.fits.active(CORE_V2_MODEL_ID)
    assert stored is not None and stored.train_end == TRAIN_END and stored.states == first.states > 0
    parameters = CoreV2Parameters.from_json(stored.parameters)
    assert parameters.to_json() == stored.parameters  # canonical: parsing and writing again gives the same bytes
    assert parameters.train_end == TRAIN_END.isoformat()

    result = invoke(
        "backfill_joint_portfolios",
        "--joint-model-id",
        CORE_V2_MODEL_ID,
        "--start",
        "2010-01-01",
        "--end",
        "2012-12-31",
        db_url=db_url,
    )
    assert result.returncode == 0, result.stderr
    states = market.joint("PORTFOLIO_CORE_V2").count(CORE_V2_MODEL_ID)
    assert states == market.numeric.count(NUMERIC)
    assert _scope_fits(market) == {first.fit_id}

    # a refit is explicit and changes no stored vector until a backfill rewrites them all
    before = market.joint("PORTFOLIO_CORE_V2").load(CORE_V2_MODEL_ID).matrix.copy()
    later = fit_joint_model(market, CORE_V2_MODEL_ID, NUMERIC, date(2012, 6, 29))
    assert later.fit_id != first.fit_id
    np.testing.assert_array_equal(market.joint("PORTFOLIO_CORE_V2").load(CORE_V2_MODEL_ID).matrix, before)
    assert _scope_fits(market) == {first.fit_id}
    rewrite = invoke(
        "backfill_joint_portfolios",
        "--joint-model-id",
        CORE_V2_MODEL_ID,
        "--start",
        "2010-01-01",
        "--end",
        "2012-12-31",
        db_url=db_url,
    )
    assert rewrite.returncode == 0, rewrite.stderr
    assert f"{states} state(s) written" in rewrite.stderr
    assert _scope_fits(market) == {later.fit_id}


def test_fitting_uses_only_what_was_known_by_the_training_end(sqlite_url: str, tmp_path: Path) -> None:
    """A store cut at the training end fits exactly the same parameters as the full store."""
    full = open_stores(Settings(db_url=sqlite_url, cache_dir=tmp_path / "a"))
    cut = open_stores(Settings(db_url=f"sqlite:///{tmp_path / 'cut.db'}", cache_dir=tmp_path / "b"))
    try:
        store_market(full, _small_market())
        store_market(cut, _small_market(), last=TRAIN_END)
        one = fit_joint_model(full, CORE_V2_MODEL_ID, NUMERIC, TRAIN_END)
        other = fit_joint_model(cut, CORE_V2_MODEL_ID, NUMERIC, TRAIN_END)
        assert one.checksum == other.checksum
    finally:
        full.dispose()
        cut.dispose()


def _in_percent(report: RiskReport) -> RiskReport:
    """The same report from a firm that writes volatilities, VaR and ES in percent."""
    metrics = dict(report.risk_metrics)
    for key in ("volatility_1m", "volatility_3m", "volatility_1y", "var_95_1d", "es_95_1d", "tracking_error_1y"):
        if metrics.get(key) is not None:
            metrics[key] = 100.0 * metrics[key]  # type: ignore[operator]
    return dataclasses.replace(report, risk_metrics=metrics)


def test_units_do_not_change_v2_but_do_change_v1(tmp_path: Path) -> None:
    output = _small_market()
    percent = EngineOutput([_in_percent(r) for r in output.reports], output.values)
    vectors = {}
    for name, data in (("fractions", output), ("percent", percent)):
        stores = open_stores(Settings(db_url=f"sqlite:///{tmp_path / name}.db", cache_dir=tmp_path / name))
        store_market(stores, data)
        fit_joint_model(stores, CORE_V2_MODEL_ID, NUMERIC, TRAIN_END)
        model = fitted_joint_model(stores, CORE_V2_MODEL_ID)
        from prometheus.joint.writer import JointWriter

        examples = JointWriter(stores, model).examples([date(2012, 6, 29)])
        vectors[name] = (model.embed(examples), np.vstack([e.numeric_vector for e in examples]))
        stores.dispose()
    v2_fractions, v1_fractions = vectors["fractions"]
    v2_percent, v1_percent = vectors["percent"]
    np.testing.assert_allclose(v2_percent, v2_fractions, atol=1e-5)  # the fit moved with the units
    assert np.abs(v1_percent - v1_fractions).max() > 0.1  # v1's hand-set centres did not


def test_search_explanation_forecasts_and_quality_work_with_v2(market: Stores) -> None:
    fit_joint_model(market, CORE_V2_MODEL_ID, NUMERIC, TRAIN_END)
    from prometheus.services.backfill import BackfillRequest, backfill_joint
    from prometheus.services.dates import DateSelection

    v1_states = market.numeric.count(NUMERIC)
    with pytest.raises(InvalidInput) as not_yet:  # fitted, but no state embedded yet
        embedding_quality(market, JOINT_PORTFOLIO_MODEL_ID, against=CORE_V2_MODEL_ID)
    assert str(not_yet.value) == (
        f"{JOINT_PORTFOLIO_MODEL_ID} holds {v1_states:,} states and {CORE_V2_MODEL_ID} 0, none of them the same: "
        "backfill both over the same dates to compare them on the same queries"
    )

    # v2 over the last two years only: the two models are compared over the states both hold, and
    # every method (the baselines too) runs over those states only
    later = DateSelection(start=date(2011, 1, 1), end=date(2012, 12, 31))
    backfill_joint(market, NUMERIC, CORE_V2_MODEL_ID, BackfillRequest(later))
    v2_states = market.joint("PORTFOLIO_CORE_V2").count(CORE_V2_MODEL_ID)
    assert 0 < v2_states < v1_states
    v2_alone = embedding_quality(market, CORE_V2_MODEL_ID)  # v2's states are the common ones
    v2_first = embedding_quality(market, CORE_V2_MODEL_ID, against=JOINT_PORTFOLIO_MODEL_ID)
    v1_first = embedding_quality(market, JOINT_PORTFOLIO_MODEL_ID, against=CORE_V2_MODEL_ID)
    assert v2_alone.shared is None and v2_alone.stress_states > 20
    assert v2_first.shared == SharedStates(v2_states, v1_states, v2_states)
    assert v1_first.shared == SharedStates(v1_states, v2_states, v2_states)
    assert v1_first.states == v2_first.states == v2_alone.states == v2_states
    assert v1_first.stress_states == v2_first.stress_states == v2_alone.stress_states
    assert v1_first.base_rate == v2_alone.base_rate
    assert v2_first.methods == v2_alone.methods
    assert v1_first.methods[1:] == v2_alone.methods[1:]  # the baselines over the same states, whoever asks
    assert v1_first.comparison is not None and v2_first.comparison is not None
    assert v1_first.comparison.other == v2_alone.model and v2_first.comparison.other == v1_first.model
    assert v1_first.comparison.difference == pytest.approx(-v2_first.comparison.difference, abs=1e-12)
    assert (v1_first.comparison.higher, v1_first.comparison.lower) == (
        v2_first.comparison.lower,
        v2_first.comparison.higher,
    )
    assert v1_first.model != embedding_quality(market, JOINT_PORTFOLIO_MODEL_ID).model  # not v1's whole-store figure
    assert v1_first.lines()[0] == (
        f"over the {v2_states:,} states both models hold ({JOINT_PORTFOLIO_MODEL_ID} holds {v1_states:,}, "
        f"{CORE_V2_MODEL_ID} {v2_states:,}): every figure here, the baselines' too, is over these states"
    )
    assert v1_first.lines()[1].startswith(f"states: {v2_states}, in named stress windows: ")

    backfill_joint(
        market,
        NUMERIC,
        CORE_V2_MODEL_ID,
        BackfillRequest(DateSelection(start=date(2010, 1, 1), end=date(2012, 12, 31))),
    )
    pid = "BOOK_03"
    day = date(2012, 6, 29)
    result = find_similar(market, SimilarQuery(CORE_V2_MODEL_ID, pid, day, top_k=5, point_in_time_days=91))
    assert len(result.neighbours) == 5 and all(n.as_of_date <= date(2012, 3, 30) for n in result.neighbours)
    comparison = compare_states(
        market, CORE_V2_MODEL_ID, (pid, day), (result.neighbours[0].portfolio_id, result.neighbours[0].as_of_date)
    )
    assert comparison.explanation is not None
    assert comparison.explanation.cosine == pytest.approx(result.neighbours[0].cosine, abs=1e-9)
    book = forecast_book(market, CORE_V2_MODEL_ID, every=1)
    assert book.index.model_id == CORE_V2_MODEL_ID and len(book.index) == market.numeric.count(NUMERIC)
    fit = market.fits.active(CORE_V2_MODEL_ID)
    assert fit is not None and json.loads(fit.parameters)["feature_names"][0] == "risk.volatility_1m"

    # v2 against v1 on the same queries: each model's share is the one its own run gives, and the
    # difference is taken query by query
    alone = {m: embedding_quality(market, m).model for m in (CORE_V2_MODEL_ID, JOINT_PORTFOLIO_MODEL_ID)}
    report = embedding_quality(market, CORE_V2_MODEL_ID, against=JOINT_PORTFOLIO_MODEL_ID)
    compared = report.comparison
    assert compared is not None and report.stress_states > 50 and report.shared is None
    assert report.model == alone[CORE_V2_MODEL_ID] and compared.other == alone[JOINT_PORTFOLIO_MODEL_ID]
    assert [m.method for m in report.methods[1:]] == [DATE_ONLY, VOLATILITY_AND_DRAWDOWN, EVERY_FEATURE]
    assert compared.higher + compared.lower + compared.level == report.stress_states
    assert compared.difference == pytest.approx(report.model.share - compared.other.share, abs=1e-12)
    assert compared.low <= compared.difference <= compared.high
    lines = report.lines()
    assert lines[7] == (
        "in sample: the queries include states a compared model was fitted on (up to 2011-12-30); "
        "queries from 2011-12-31 on score only what it has not seen"
    )
    lines.pop(7)
    assert lines[7] == f"the same {report.stress_states:,} queries answered by {JOINT_PORTFOLIO_MODEL_ID}:"
    assert lines[9].startswith(f"  {CORE_V2_MODEL_ID} minus {JOINT_PORTFOLIO_MODEL_ID}: ")
    assert lines[10].startswith("the interval of the difference includes 0") == (compared.low <= 0 <= compared.high)
    with pytest.raises(
        InvalidSetting, match=f"^the model to compare with must name another model than {CORE_V2_MODEL_ID}$"
    ):
        embedding_quality(market, CORE_V2_MODEL_ID, against=CORE_V2_MODEL_ID)
    with pytest.raises(UnknownModel, match=r"^unknown joint model 'v3'"):
        embedding_quality(market, CORE_V2_MODEL_ID, against="v3")


def test_a_fit_job_fits_then_embeds_every_state(sqlite_url: str, tmp_path: Path) -> None:
    from prometheus import jobs
    from prometheus.jobs import worker
    from prometheus.jobs.kinds import fit_params
    from prometheus.services.fits import fit_statuses
    from prometheus.store.jobs import JobStore

    settings = Settings(db_url=sqlite_url, cache_dir=tmp_path / "cache")
    stores = open_stores(settings)
    try:
        store_market(stores, _small_market())
        with pytest.raises(Exception) as refused:
            jobs.submit_job(stores, jobs.FIT, {"model_id": "joint-portfolio-core-v1", "train_end": "2011-12-30"})
        assert str(refused.value) == "joint-portfolio-core-v1 has nothing to fit: it is not a fitted model"
        JobStore(stores.runtime).insert("fit", jobs.FIT, fit_params(CORE_V2_MODEL_ID, TRAIN_END))
        assert worker.run_job("fit", settings) == 0
        job = jobs.get_job(stores, "fit")
        assert job is not None and job.status == jobs.SUCCEEDED, job.describe() if job else None
        assert job.progress == job.total == 2000
        (status,) = fit_statuses(stores)
        assert status.fit_id == job.result["fit_id"]  # type: ignore[index]
        assert status.states_by_fit == {status.fit_id: stores.numeric.count(NUMERIC)} and status.stale_states == 0
        assert job.message.startswith(f"{CORE_V2_MODEL_ID}: fit {status.fit_id} on ")
    finally:
        stores.dispose()
