"""BM25 matrices: bm25s builds the main segment; deltas reuse its frozen statistics."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from shuanglian.engine import sparse

DOCS = [
    ["camera", "drone", "camera"],
    ["battery", "cathode"],
    ["drone", "gimbal", "battery", "motor"],
    ["gypsum", "board"],
]


def test_main_matrix_matches_lucene_bm25_by_hand() -> None:
    mat, terms, avgdl = sparse.build_main(DOCS, k1=1.2, b=0.75)
    assert avgdl == pytest.approx(11 / 4)
    row = terms.index("camera")
    # df=1, N=4: idf = ln(1 + (4 - 1 + .5)/(1 + .5)); tf=2, dl=3
    idf = np.log(1 + 3.5 / 1.5)
    expected = idf * 2 / (2 + 1.2 * (0.25 + 0.75 * 3 / avgdl))
    assert mat[row, 0] == pytest.approx(expected, rel=1e-5)
    assert mat[row, 1] == 0


def test_delta_with_frozen_stats_reproduces_main_weights() -> None:
    mat, terms, avgdl = sparse.build_main(DOCS, k1=1.2, b=0.75)
    vocab = {t: i for i, t in enumerate(terms)}
    idf = sparse.bm25_idf(np.diff(mat.indptr), len(DOCS))
    delta, new_terms = sparse.build_delta(
        DOCS[2:], vocab=dict(vocab), idf=idf, n_docs_total=len(DOCS), avgdl=avgdl, k1=1.2, b=0.75
    )
    assert new_terms == []
    np.testing.assert_allclose(delta.toarray(), mat[:, 2:].toarray(), rtol=1e-5)


def test_delta_appends_unseen_terms() -> None:
    mat, terms, avgdl = sparse.build_main(DOCS, k1=1.2, b=0.75)
    vocab = {t: i for i, t in enumerate(terms)}
    idf = sparse.bm25_idf(np.diff(mat.indptr), len(DOCS))
    delta, new_terms = sparse.build_delta(
        [["lidar", "drone"]], vocab=vocab, idf=idf, n_docs_total=5, avgdl=avgdl, k1=1.2, b=0.75
    )
    assert new_terms == ["lidar"]
    assert delta.shape == (len(terms) + 1, 1)
    assert delta[vocab["lidar"], 0] > delta[vocab["drone"], 0] > 0  # rarer term weighs more


def test_query_vector_is_sublinear_and_drops_unknown_terms() -> None:
    vec = sparse.query_vector(["a", "a", "a", "b", "zzz"], {"a": 0, "b": 1}, 3)
    assert vec.toarray().tolist()[0] == pytest.approx([1 + np.log(3), 1.0, 0.0])


def test_empty_corpus_builds_an_empty_matrix() -> None:
    mat, terms, _ = sparse.build_main([[], []], k1=1.2, b=0.75)
    assert mat.shape == (0, 2) and terms == []


def test_weights_equal_bm25s_lucene() -> None:
    import bm25s

    mat, terms, _ = sparse.build_main(iter(DOCS), k1=1.5, b=0.6)
    model = bm25s.BM25(k1=1.5, b=0.6, method="lucene", idf_method="lucene")
    scores, vocab = model.build_index_from_tokens(DOCS, show_progress=False)
    theirs = sp.csc_matrix(
        (scores["data"], scores["indices"], scores["indptr"]), shape=(len(DOCS), len(vocab))
    )
    for term, col in vocab.items():
        np.testing.assert_allclose(
            mat[terms.index(term)].toarray().ravel(), theirs[:, col].toarray().ravel(), rtol=1e-5
        )


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "zzz"]), max_size=8), max_size=6))
def test_query_matrix_stacks_query_vectors(queries: list[list[str]]) -> None:
    vocab = {"a": 0, "b": 3, "c": 1}
    got = sparse.query_matrix(queries, vocab, 4)
    assert got.shape == (len(queries), 4)
    for i, tokens in enumerate(queries):
        want = sparse.query_vector(tokens, vocab, 4)
        row = got[i]
        assert list(row.indices) == list(want.indices)
        assert row.data.tobytes() == want.data.tobytes()  # bit for bit: same BM25 scores
