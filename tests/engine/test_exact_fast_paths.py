"""The latency work must not change a single number: the term-major scoring and the batched
explanations are checked against the plain formulas they replaced (sparse products over the
whole matrix, one postings lookup per (term, document) pair), bit for bit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from shuanglian.engine import sparse
from shuanglian.engine.fusion import load_params
from shuanglian.engine.matcher import Matcher, _terms
from shuanglian.engine.prior import IndustryLink
from shuanglian.engine.records import Hit, Record, TermMatch
from shuanglian.text.tokenize import is_bigram


@settings(max_examples=60, deadline=None)
@given(
    n_rows=st.integers(min_value=1, max_value=30),
    n_cols=st.integers(min_value=1, max_value=60),
    density=st.floats(min_value=0.0, max_value=1.0),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
    n_query=st.integers(min_value=0, max_value=30),
)
def test_weighted_row_sum_equals_the_sparse_product(
    n_rows: int, n_cols: int, density: float, seed: int, n_query: int
) -> None:
    rng = np.random.default_rng(seed)
    mat = sp.random(n_rows, n_cols, density=density, format="csr", dtype=np.float32, rng=rng)
    mat.data = (mat.data * 7.3).astype(np.float32)
    rows = np.unique(rng.integers(0, n_rows, size=n_query)).astype(np.int32)
    weights = (1.0 + np.log(rng.integers(1, 9, size=len(rows)))).astype(np.float32)
    query = sp.csr_matrix(
        (weights, rows, np.array([0, len(rows)])), shape=(1, n_rows), dtype=np.float32
    )
    want = (query @ mat).toarray()[0]
    # 64-bit postings (a large memory-mapped index) take the same kernel.
    wide = mat.copy()
    wide.indices, wide.indptr = mat.indices.astype(np.int64), mat.indptr.astype(np.int64)
    assert wide.indices.dtype == np.int64
    for fn, m in (
        (sparse.weighted_row_sum, mat),
        (sparse.weighted_row_sum, wide),
        (sparse.row_sum_by_slicing, mat),
    ):
        got = fn(m, rows, weights)
        assert got.dtype == np.float32 and got.shape == (n_cols,)
        assert np.array_equal(got, want)


_WORDS = ["drone", "camera", "battery", "lithium", "cathode", "gypsum", "board", "fire", "锂电池"]
_CODES = ["B64C39/02", "H04N5/232", "H01M4/525", "H01M10/0525", "C04B28/14", "B64U10/13"]


def _doc(i: int, words: list[str], codes: list[str]) -> Record:
    return Record(id=f"d{i}", title=" ".join(words[:2]), text=" ".join(words), ipc=tuple(codes))


def _reference_blocks(matcher: Matcher, queries: list[Record]) -> dict[str, np.ndarray]:
    """BM25 and IPC blocks the way the engine computed them before: whole sparse products."""
    q_terms = [_terms(q, matcher.params) for q in queries]
    qmat = sparse.query_matrix(q_terms, matcher.vocab, len(matcher.terms))
    parts = []
    for seg in matcher.segments:
        rows = seg.bm25.shape[0]
        q = qmat[:, :rows] if qmat.shape[1] > rows else qmat
        parts.append((q @ seg.bm25).toarray())
    out = {"bm25": np.hstack(parts)}
    if any(q.ipc for q in queries) and matcher.ipc_terms:  # no document has IPC: silent
        by_doc = matcher._ipc_matrix().T.tocsr()
        out["ipc"] = (matcher._query_ipc(queries) @ by_doc.T).toarray()
    return out


def _reference_terms(matcher: Matcher, query: Record, doc_id: str) -> list[TermMatch]:
    """Explanation terms with one postings lookup per (term, document), as before; character
    bigram terms score but are never shown."""
    view = matcher._query_view(query, _terms(query, matcher.params))
    seg, col = matcher._locate(matcher._positions()[doc_id])
    matches = []
    for term, row, weight in view.terms:
        if row >= seg.bm25.shape[0] or is_bigram(term):
            continue
        lo, hi = seg.bm25.indptr[row], seg.bm25.indptr[row + 1]
        idx = seg.bm25.indices[lo:hi]
        k = int(np.searchsorted(idx, col))
        if k < len(idx) and idx[k] == col:
            matches.append(TermMatch(term, float(weight * seg.bm25.data[lo + k])))
    matches.sort(key=lambda m: -m.contribution)
    return matches[:8]


@settings(max_examples=25, deadline=None)
@given(
    docs=st.lists(
        st.tuples(
            st.lists(st.sampled_from(_WORDS), min_size=1, max_size=8),
            st.lists(st.sampled_from(_CODES), max_size=3),
        ),
        min_size=2,
        max_size=40,
    ),
    added=st.lists(
        st.tuples(
            st.lists(st.sampled_from([*_WORDS, "brand-new", "新词"]), min_size=1, max_size=8),
            st.lists(st.sampled_from([*_CODES, "G06T7/00"]), max_size=3),
        ),
        max_size=6,
    ),
    queries=st.lists(
        st.tuples(
            st.lists(st.sampled_from([*_WORDS, "brand-new", "unknown"]), max_size=12),
            st.lists(st.sampled_from([*_CODES, "G06T7/00"]), max_size=2),
        ),
        min_size=1,
        max_size=5,
    ),
    removed=st.integers(min_value=0, max_value=3),
)
def test_scores_and_explanations_equal_the_plain_formulas(
    docs: list[tuple[list[str], list[str]]],
    added: list[tuple[list[str], list[str]]],
    queries: list[tuple[list[str], list[str]]],
    removed: int,
) -> None:
    # Translations and informativeness weights off: the plain formulas below have neither
    # (test_crosslingual and test_informativeness cover them).
    matcher = Matcher.build(
        (_doc(i, w, c) for i, (w, c) in enumerate(docs)),
        params=replace(load_params(), cross_lingual=0.0, background_idf=0.0),
    )
    # A delta segment with terms and codes the main segment lacks, replacing one document.
    matcher.add(_doc(i, w, c) for i, (w, c) in enumerate(added, start=len(docs) - 1))
    matcher.remove([f"d{i}" for i in range(removed)])
    recs = [Record(id=f"q{i}", text=" ".join(w), ipc=tuple(c)) for i, (w, c) in enumerate(queries)]

    raw, _ = matcher.signal_scores(recs, {"bm25": 1.0, "ipc": 0.6})
    want = _reference_blocks(matcher, recs)
    assert raw.keys() == want.keys()
    for name, block in want.items():
        assert np.array_equal(raw[name], block), name

    for query, hits in zip(recs, matcher.search_many(recs, top=10, explain=True), strict=True):
        for hit in hits:
            assert hit.explanation is not None
            assert hit.explanation.terms == _reference_terms(matcher, query, hit.doc_id)
        later = [Hit(doc_id=h.doc_id, score=h.score, signals=h.signals) for h in hits]
        matcher.explain(query, later)
        assert [h.explanation for h in later] == [h.explanation for h in hits]


def test_explanation_keeps_the_eight_best_terms_in_query_order_on_ties() -> None:
    words = [f"w{i}" for i in range(12)]
    matcher = Matcher.build(
        [Record(id="all", text=" ".join(words)), Record(id="other", text="w0 filler")]
    )
    (hit,) = [h for h in matcher.search(Record(id="q", text=" ".join(words))) if h.doc_id == "all"]
    assert hit.explanation is not None
    terms = [t.term for t in hit.explanation.terms]
    # w0 weighs least (both documents have it); the other eleven tie: query order decides.
    assert terms == [f"w{i}" for i in range(1, 9)]


def test_prior_from_the_query_industry_equals_the_docs_major_product() -> None:
    link = IndustryLink(
        ["B64C", "H01M", "C04B", "H04N"],
        ["3825", "3841", "3024"],
        np.array([[0.9, 0, 0], [0, 0.8, 0.1], [0, 0, 0.7], [0.3, 0, 0]], dtype=np.float32),
    )
    docs = [
        _doc(i, ["drone", "board"], codes)
        for i, codes in enumerate(
            [
                ["B64C39/02", "H04N5/232"],
                ["H01M4/525"],
                ["C04B28/14", "H01M10/0525"],
                [],
                ["G06T7/00"],
            ]
        )
    ]
    matcher = Matcher.build(docs, link=link)
    queries = [
        Record(id="demand", text="drone", industry="C3825"),
        Record(id="cells", text="battery", industry="3841"),
        Record(id="none", text="board"),
    ]
    raw, _ = matcher.signal_scores(queries, {"prior": 0.1})
    by_doc = matcher._doc_subclasses().T.tocsr()
    for qi, query in enumerate(queries):
        q_ind = link.industry_index(query.industry) if query.industry else -1
        want = np.zeros(len(docs), dtype=np.float32)
        if q_ind >= 0:
            want += by_doc @ link.weights[:, q_ind]
        assert np.array_equal(raw["prior"][qi], want)
    assert raw["prior"][0, 0] > 0 and raw["prior"][1, 1] > 0 and not raw["prior"][2].any()
