"""The Embeddings page's quality panel on a store without stress states (a store with them, and a fitted
model compared on the states it was not fitted on: tests/services/test_core_v2.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import shown
from streamlit.testing.v1 import AppTest
from test_pages import _fresh_caches, by_key, open_page, sample_url, use_store  # noqa: F401 (fixtures)


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
