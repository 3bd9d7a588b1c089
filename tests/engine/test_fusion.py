"""Fusion parameters and normalisation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from shuanglian.engine.fusion import (
    PARAMS_FILE,
    SIGNALS,
    FusionParams,
    active_weights,
    load_params,
    normalise_max,
)


def test_shipped_params_explain_how_they_were_chosen() -> None:
    data = json.loads(PARAMS_FILE.read_text(encoding="utf-8"))
    assert len(data["comment"]) > 200
    params = load_params()
    assert set(params.weights) == set(SIGNALS)
    assert params.k1 > 0 and 0 <= params.b <= 1


def test_params_round_trip_and_ignore_unknown_keys(tmp_path: Path) -> None:
    params = FusionParams(k1=0.9, ipc_levels=("group",), weights={"bm25": 1.0, "ipc": 0.2})
    data = params.to_json() | {"future_knob": 3}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    loaded = load_params(path)
    assert loaded.k1 == 0.9 and loaded.ipc_levels == ("group",)
    assert loaded.weights == {"bm25": 1.0, "ipc": 0.2, "prior": 0.0, "dense": 0.0}
    assert load_params(tmp_path / "missing.json") == FusionParams()


def test_active_weights() -> None:
    params = FusionParams(weights={"bm25": 1.0, "ipc": 0.5, "prior": 0.1, "dense": 0.3})
    assert active_weights(params, None) == params.weights
    assert active_weights(params, ["ipc"]) == {"bm25": 0.0, "ipc": 1.0, "prior": 0.0, "dense": 0.0}
    assert active_weights(params, ["bm25", "ipc"])["ipc"] == 0.5
    with pytest.raises(ValueError):
        active_weights(params, ["nope"])


def test_normalise_rows_by_their_max() -> None:
    block = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    assert normalise_max(block).tolist() == [[1.0, 0.5, 0.0], [0.0, 0.0, 0.0]]
    assert normalise_max(np.array([4.0, 2.0])).tolist() == [1.0, 0.5]


@given(
    arrays(
        np.float32,
        st.tuples(st.integers(1, 4), st.integers(1, 20)),
        elements=st.floats(0, 1e6, width=32),
    )
)
def test_normalised_scores_are_in_unit_range_and_keep_order(block: np.ndarray) -> None:
    out = normalise_max(block)
    assert out.min() >= 0 and out.max() <= 1.0 + 1e-6
    for row_in, row_out in zip(block, out, strict=True):
        order = np.argsort(row_in, kind="stable")
        assert np.all(np.diff(row_out[order]) >= -1e-6)  # never reorders
