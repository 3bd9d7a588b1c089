"""The bulk job's stored explanation is the compact JSON, character for character."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shuanglian.engine.bulk import SIGNAL_COLUMNS
from shuanglian.matching.bulk_store import _compact, _compact_json

_PART = st.one_of(
    st.just(0.0),
    st.floats(min_value=0.0, max_value=2.0, allow_nan=False, width=32),
)


@settings(max_examples=500, deadline=None)
@given(
    parts=st.tuples(_PART, _PART, _PART),
    job=st.integers(min_value=1, max_value=10**6),
    match=st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0, allow_nan=False)),
)
def test_compact_json_is_json_dumps_of_compact(
    parts: tuple[float, ...], job: int, match: float | None
) -> None:
    assert SIGNAL_COLUMNS == ("bm25", "ipc", "prior")
    values = np.asarray(parts, dtype=np.float32)
    score = round(float(values.sum()), 6)
    as_list = values.astype(np.float64).tolist()
    expected = json.dumps(_compact(job, score, values, match), separators=(",", ":"))
    assert _compact_json(job, score, as_list, match) == expected
    if match is not None:  # what the pages read: 匹配度 中 32%, and the weak mark
        stored = json.loads(expected)
        assert stored["level_label"] in ("高", "中", "低") and stored["match"] == round(match, 4)
        assert stored["weak"] == (stored["level"] == "low")
