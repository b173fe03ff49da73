"""The Embeddings page's quality panel: measured on a click, beside its baselines and another model, a fitted
model scored only on the states it was not fitted on unless the analyst asks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from app_helpers import shown
from market import market_output, store_market
from streamlit.testing.v1 import AppTest
from test_pages import _fresh_caches, by_key, open_page, sample_url, use_store  # noqa: F401 (fixtures)

from prometheus.config import Settings
from prometheus.services.backfill import BackfillRequest, backfill_joint
from prometheus.services.dates import DateSelection
from prometheus.services.fitting import fit_joint_model
from prometheus.services.quality import embedding_quality
from prometheus.store.stores import open_stores

V1, V2 = "joint-portfolio-core-v1", "joint-portfolio-core-v2"


def figures(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "stress_share" in d.value.columns)


def quality_table(at: AppTest) -> list[dict[str, object]]:
    found = [d.value for d in at.dataframe if "stress_share" in d.value.columns]
    return found[0].to_dict("records") if found else []


def test_a_store_without_stress_states_says_the_figure_cannot_be_measured(
    sample_url: str,  # noqa: F811 (the module's fixture, imported above)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_store(monkeypatch, sample_url, tmp_path / "cache")
    at = open_page("embeddings")
    assert quality_table(at) == []  # measured on a click, not on every view of the page
    assert by_key(at, "selectbox", "quality_against").options == ["(no other model)"]  # no other model's states
    captions = [c.value for c in at.caption]
    assert "Queries: every stored stress state (no compared model was fitted on this store's states)." in captions
    assert any(c.startswith("120 states here (the demo book's 57,952 take about 8 s)") for c in captions)
    by_key(at, "button", "quality_measure").click().run()
    assert quality_table(at) == [] and not at.exception and not at.error
    (said,) = [shown(i.value) for i in at.info]
    assert said == (
        "No stored state of this model lies in a named stress window, so this figure cannot be measured on this store."
    )


def test_a_fitted_model_is_compared_with_v1_on_the_states_it_was_not_fitted_on(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A synthetic market (10 books, 2010-2012, stress windows in 2010 and 2011): v1 alone, then beside v2
    (backfilled from 2011 only)."""
    stores = open_stores(Settings(db_url=sqlite_url, cache_dir=tmp_path / "cache"))
    store_market(stores, market_output(books=10, years=3))
    use_store(monkeypatch, sqlite_url, tmp_path / "cache")

    at = open_page("embeddings")
    by_key(at, "button", "quality_measure").click().run()
    assert not at.exception and not at.error
    alone = embedding_quality(stores, V1)
    measured = figures(at)
    assert list(measured["method"]) == [f"{V1} (this model)", *(m.method for m in alone.methods[1:])]
    np.testing.assert_allclose(measured["stress_share"], [100 * m.share for m in alone.methods])  # shown in percent
    verdicts = [e.value for e in (*at.success, *at.warning)]
    assert len(verdicts) == 1 and ("beats every baseline" in verdicts[0]) == (not alone.beaten_by())

    # v2 backfilled over fewer dates than v1: compared over the states both hold
    fit_joint_model(stores, V2, "num-portfolio-core-v1", date(2011, 6, 30))
    later = DateSelection(start=date(2011, 1, 1), end=date(2012, 12, 31))
    backfill_joint(stores, "num-portfolio-core-v1", V2, BackfillRequest(later))
    at = open_page("embeddings")
    assert by_key(at, "selectbox", "quality_against").options == ["(no other model)", V2]
    by_key(at, "selectbox", "quality_against").select(V2).run()
    honest = by_key(at, "checkbox", "quality_out_of_sample")
    assert honest.label == "Only stress states from 2011-07-01 on" and honest.value is True
    by_key(at, "button", "quality_measure").click().run()
    assert not at.exception and not at.error
    expected = embedding_quality(stores, V1, start=date(2011, 7, 1), against=V2)
    assert expected.comparison is not None and 0 < expected.stress_states < alone.stress_states
    assert expected.shared is not None and 0 < expected.shared.both == expected.shared.other_states < alone.states
    measured = figures(at)
    assert list(measured["method"])[-1] == f"{V2} (compared)"
    np.testing.assert_allclose(
        measured["stress_share"], [100 * m.share for m in (*expected.methods, expected.comparison.other)]
    )
    (compared,) = [shown(m.value) for m in at.markdown if "on the same" in m.value]
    assert f"on the same {expected.stress_states:,} queries" in compared
    assert compared.endswith(
        f"Measured over the {expected.shared.both:,} states both models hold ({V1} holds {alone.states:,}, "
        f"{V2} {expected.shared.both:,}): every figure in the table, the baselines' too, is over these states."
    )
    assert not any("In sample" in c.value for c in at.caption)
    # in sample only when asked, and then said
    by_key(at, "checkbox", "quality_out_of_sample").uncheck().run()
    by_key(at, "button", "quality_measure").click().run()
    assert any(
        "In sample: the queries include states up to 2011-06-30 that a compared model was fitted on" in c.value
        for c in at.caption
    )
    stores.dispose()
