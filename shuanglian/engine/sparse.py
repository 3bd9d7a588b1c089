"""BM25 as a term × document sparse matrix: scoring a query is one sparse product.

The main segment is built by bm25s (Lucene BM25: idf = ln(1 + (N - df + .5)/(df + .5)),
tf part = tf / (tf + k1 (1 - b + b dl/avgdl))). bm25s stores a docs × vocab CSC matrix, whose
arrays are exactly a vocab × docs CSR matrix; rows of the query's terms are what we sum.
Delta segments (documents added after the build) are weighted here with the *frozen* corpus
statistics of the main segment so their scores stay comparable without a rebuild.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp


def bm25_idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """Lucene BM25 idf for document frequencies `df` in a corpus of `n_docs`."""
    df = np.asarray(df, dtype=np.float64)
    return np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)


def build_main(
    docs_tokens: Sequence[list[str]], *, k1: float, b: float
) -> tuple[sp.csr_matrix, list[str], float]:
    """(term × doc BM25 matrix, vocabulary in row order, average document length) via bm25s."""
    import bm25s

    n_docs = len(docs_tokens)
    lengths = [len(t) for t in docs_tokens]
    if n_docs == 0 or sum(lengths) == 0:
        return sp.csr_matrix((0, n_docs), dtype=np.float32), [], float(np.mean(lengths or [0]))
    model = bm25s.BM25(k1=k1, b=b, method="lucene", idf_method="lucene")
    scores, vocab = model.build_index_from_tokens(list(docs_tokens), show_progress=False)
    terms = [""] * len(vocab)
    for term, idx in vocab.items():
        terms[idx] = term
    mat = sp.csr_matrix(
        (
            np.asarray(scores["data"], dtype=np.float32),
            np.asarray(scores["indices"], dtype=np.int32),
            np.asarray(scores["indptr"], dtype=np.int64),
        ),
        shape=(len(terms), n_docs),
    )
    mat.sort_indices()
    return mat, terms, float(np.mean(lengths))


def build_delta(
    docs_tokens: Sequence[list[str]],
    *,
    vocab: dict[str, int],
    idf: np.ndarray,
    n_docs_total: int,
    avgdl: float,
    k1: float,
    b: float,
) -> tuple[sp.csr_matrix, list[str]]:
    """BM25 matrix for added documents, weighted with the main segment's idf and avgdl.

    Terms unseen by the main segment are appended to `vocab` (returned as the new terms) and
    get an idf from their frequency among the added documents over `n_docs_total`.
    """
    new_terms: list[str] = []
    rows: list[int] = []
    cols: list[int] = []
    tfs: list[int] = []
    lens = np.array([len(t) for t in docs_tokens], dtype=np.float32)
    for j, tokens in enumerate(docs_tokens):
        for term, tf in Counter(tokens).items():
            idx = vocab.get(term)
            if idx is None:
                idx = len(vocab)
                vocab[term] = idx
                new_terms.append(term)
            rows.append(idx)
            cols.append(j)
            tfs.append(tf)
    n_vocab = len(vocab)
    rows_a = np.asarray(rows, dtype=np.int64)
    cols_a = np.asarray(cols, dtype=np.int64)
    tf_a = np.asarray(tfs, dtype=np.float32)
    full_idf = np.zeros(n_vocab, dtype=np.float32)
    full_idf[: len(idf)] = idf
    if new_terms:
        new_ids = np.arange(len(idf), n_vocab)
        df_new = np.bincount(rows_a[rows_a >= len(idf)] - len(idf), minlength=len(new_ids))
        full_idf[new_ids] = bm25_idf(df_new, n_docs_total)
    # avgdl is 0 only when the main segment was empty: fall back to the delta's own mean.
    own_mean = float(lens.mean()) if len(lens) else 0.0
    safe_avg = avgdl if avgdl > 0 else (own_mean or 1.0)
    norm = k1 * ((1 - b) + b * lens[cols_a] / safe_avg) if len(cols_a) else np.zeros(0)
    data = full_idf[rows_a] * tf_a / (norm + tf_a) if len(cols_a) else np.zeros(0, np.float32)
    mat = sp.csr_matrix(
        (data.astype(np.float32), (rows_a, cols_a)), shape=(n_vocab, len(docs_tokens))
    )
    mat.sort_indices()
    return mat, new_terms


def query_vector(tokens: Sequence[str], vocab: dict[str, int], n_vocab: int) -> sp.csr_matrix:
    """1 × vocab row of query term weights 1 + ln(count) (unknown terms are dropped).

    Why sublinear: an enterprise profile repeats its core words across many titles; raw counts
    let those few words drown the rest (measured: enterprise→patent nDCG@10 0.322 → 0.339).
    """
    counts = Counter(vocab[t] for t in tokens if t in vocab)
    if not counts:
        return sp.csr_matrix((1, n_vocab), dtype=np.float32)
    ids = np.fromiter(counts.keys(), dtype=np.int64)
    vals = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32))
    order = np.argsort(ids)
    return sp.csr_matrix((vals[order], ids[order], np.array([0, len(ids)])), shape=(1, n_vocab))


def pad_rows(mat: sp.csr_matrix, n_rows: int) -> sp.csr_matrix:
    """The same CSR matrix with empty rows appended up to `n_rows` (vocabulary grew)."""
    if mat.shape[0] >= n_rows:
        return mat
    indptr = np.concatenate([mat.indptr, np.full(n_rows - mat.shape[0], mat.indptr[-1])])
    return sp.csr_matrix((mat.data, mat.indices, indptr), shape=(n_rows, mat.shape[1]))
