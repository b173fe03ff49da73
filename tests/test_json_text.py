"""The store's JSON text (prometheus.store.database.json_dumps): orjson where it can, the standard
library's verdict everywhere (hypothesis)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prometheus.store.database import json_dumps

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),  # beyond 64 bits: orjson declines, the library stores
    st.text(max_size=6),  # lone surrogates included: orjson declines
    st.sampled_from([np.float64(1.5), np.float64("nan"), 1e308, -0.0, 1e-05, 1e16]),
)
keys = st.one_of(st.text(max_size=4), st.integers(-3, 3))  # integer keys: orjson declines
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(keys, inner, max_size=4),
    ),
    max_leaves=12,
)


def _standard(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)


@settings(max_examples=600)
@given(values)
def test_the_stored_text_reads_back_as_the_standard_librarys_and_refuses_what_it_refuses(value: Any) -> None:
    try:
        expected = _standard(value)
    except ValueError as refused:
        with pytest.raises(ValueError, match=str(refused)):
            json_dumps(value)
        return
    text = json_dumps(value)
    assert json.loads(text) == json.loads(expected)


def test_a_nan_beside_a_null_is_refused_at_any_depth() -> None:
    for value in (
        {"a": None, "b": math.nan},
        [None, [1, {"x": -math.inf}]],
        (None, 1e308 * 10),
        {"n": np.float64("nan")},
    ):
        with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
            json_dumps(value)
    assert json_dumps({"k": None, "l": [None, 2.0], "m": "é\u2028"}) == '{"k":null,"l":[null,2.0],"m":"é\u2028"}'
