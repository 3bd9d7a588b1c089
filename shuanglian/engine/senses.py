"""Which Chinese sense of an English word a query means, read from the index's own texts.

CC-CEDICT gives an English word every Chinese word that glosses it: `identify` reaches 识别 and
辨识 but also 鉴定 (a pawnshop's appraisal), `data` reaches 数据 and 材料, `memory` 存储器 and
回忆, `engine` 引擎 and 发动机. `text.bilingual` weighs them by how much technical Chinese uses
each, the same for every query, so a GPU patent's `identified` still pushed it to pawnshops.
Here the other words of the query choose: a sense that the Chinese texts of the index use
beside the query's other translated words gains, one they never use there loses.

The index's Chinese words get vectors from their co-occurrence in its documents (positive
pointwise mutual information, reduced by a truncated SVD: the textbook count-based word
embedding), built once per main segment, from the index itself: what 运输 sits beside in
20,000 business scopes (货物, 仓储) is what a scope-matching query needs to know. An English
query term's context is the sum of its other terms' translated vectors; each Chinese target
of an English term with several is weighed by its cosine to that context (at least FLOOR),
to the power POWER, and the term's translations keep their total weight.

Measured on the judged English patent → Chinese business-scope suite (benchmarks/scope_suite.py,
25 NVIDIA patents against 20,000 scopes; README): nDCG@10 0.246 → 0.291, R@10 0.393 → 0.493.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import scipy.sparse as sp

from shuanglian.text.bilingual import reverse_targets, translate_term

K = TypeVar("K")

# Dimensions of the word vectors; fewer words than this + 2 in an index: no sense choice.
DIM = 64
# A word in fewer documents than this has no reliable neighbours: no vector.
MIN_DF = 3
# The main segment's documents read (evenly spaced) at most: the statistics settle long
# before, and a national index must not pay for all of them.
MAX_DOCS = 100_000
# The words given vectors at most, the most widely used first (100,000 generated patents hold
# 7,705 with MIN_DF; the build's peak memory grows with the square: 339 MB there, see README).
MAX_WORDS = 5_000
# A target's weight × max(cosine, FLOOR) ** POWER (judged suite: FLOOR 0.01-0.2 and POWER
# 0.25-1 all gave 0.262-0.291 against 0.246 before; the round middle kept).
FLOOR = 0.1
POWER = 0.5


@dataclass
class SenseSpace:
    """Unit vectors of an index's Chinese translation targets, and of the English terms seen."""

    vectors: np.ndarray  # words × DIM, float32, unit rows
    rows: dict[str, int]  # Chinese term → row of `vectors`
    _english_rows: dict[str, int] = field(default_factory=dict, repr=False)
    _english: np.ndarray = field(
        default_factory=lambda: np.zeros((1024, DIM), dtype=np.float32), repr=False
    )
    _english_used: int = field(default=0, repr=False)

    def english_row(self, term: str) -> int:
        """Row in `english_vectors()` of an English term: its Chinese translations' vectors
        summed by their shares; -1 when none of them has a vector."""
        row = self._english_rows.get(term)
        if row is not None:
            return row
        with _ENGLISH:  # a web server's threads share one space
            return self._add_english(term)

    def _add_english(self, term: str) -> int:
        row = self._english_rows.get(term)
        if row is not None:
            return row
        acc = np.zeros(self.vectors.shape[1], dtype=np.float64)
        found = False
        for target, share in translate_term(term):
            at = self.rows.get(target)
            if at is not None:
                acc += share * self.vectors[at]
                found = True
        row = -1
        if found:
            row = self._english_used
            if row >= len(self._english):
                grown = np.zeros((2 * len(self._english), self._english.shape[1]), np.float32)
                grown[:row] = self._english[:row]
                self._english = grown
            self._english[row] = acc
            self._english_used += 1
        self._english_rows[term] = row
        return row

    def english_vectors(self) -> np.ndarray:
        """The English terms' vectors (rows of `english_row`), float32."""
        return self._english


def build_space(bm25: sp.csr_matrix, terms: Sequence[str]) -> SenseSpace | None:
    """Vectors of the Chinese words of one segment (its terms × docs BM25 matrix; `terms` names
    its rows) that English terms translate to; None when too few (an English index, a handful
    of documents). `Matcher.sense_space` builds it for the main segment on first use."""
    targets = reverse_targets()
    n_rows = bm25.shape[0]
    rows = np.array([i for i, t in enumerate(terms[:n_rows]) if t in targets], dtype=np.int64)
    if len(rows) <= DIM + 1:
        return None
    incidence = bm25[rows]
    n_docs = incidence.shape[1]
    if n_docs > MAX_DOCS:
        incidence = incidence[:, np.arange(0, n_docs, math.ceil(n_docs / MAX_DOCS))]
    incidence = incidence.tocsr(copy=True).astype(np.float32)
    incidence.eliminate_zeros()
    incidence.data[:] = 1.0
    df = np.asarray(incidence.sum(axis=1)).ravel()
    keep = np.flatnonzero(df >= MIN_DF)
    if len(keep) <= DIM + 1:
        return None
    if len(keep) > MAX_WORDS:
        # The most widely used words: their pairs are what a query's context is made of,
        # and the counts matrix grows with the square of the words kept.
        keep = np.sort(keep[np.argsort(-df[keep], kind="stable")[:MAX_WORDS]])
    incidence = incidence[keep]
    counts = (incidence @ incidence.T).tocsr()  # float32: whole numbers, exact
    counts.setdiag(0)
    counts.eliminate_zeros()
    row_sums = np.asarray(counts.sum(axis=1, dtype=np.float64)).ravel()
    total = row_sums.sum()
    if total <= 0:
        return None
    # Context counts smoothed to the power 0.75 (rare contexts otherwise get huge PMI).
    smoothed = row_sums**0.75
    smoothed /= smoothed.sum()
    row_of = np.repeat(np.arange(len(row_sums), dtype=np.int32), np.diff(counts.indptr))
    pmi = np.log(
        counts.data.astype(np.float64)
        / total
        / (row_sums[row_of] / total)
        / smoothed[counts.indices]
    )
    del row_of
    ppmi = sp.csr_matrix((np.maximum(pmi, 0.0), counts.indices, counts.indptr), counts.shape)
    del pmi, counts
    ppmi.eliminate_zeros()
    from scipy.sparse.linalg import svds

    u, s, _vt = svds(ppmi, k=DIM, random_state=0)
    vectors = u * np.sqrt(s)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
    return SenseSpace(
        vectors=vectors.astype(np.float32),
        rows={terms[int(r)]: i for i, r in enumerate(rows[keep])},
    )


# One new English row at a time: a web server's threads share a space (a module lock, so a
# space stays picklable).
_ENGLISH = threading.Lock()


def is_latin(term: str) -> bool:
    """An English search term (a stem or a phrase of stems)."""
    return bool(term) and term[0].isascii() and term[0].isalpha()


@dataclass(frozen=True, slots=True)
class SenseInput:
    """The English terms and translations of a batch of queries, as rows of `SenseSpace`.

    context_*: each English term that has a vector — its query (0, 1, …), its English row.
    pair_*: each translation of an English term with several — its query, its term (a number
    shared by that term's translations), its share, its Chinese word's row (-1: none), and its
    term's place among the context entries (-1: the term has no vector)."""

    context_query: np.ndarray
    context_row: np.ndarray
    pair_query: np.ndarray
    pair_term: np.ndarray
    pair_share: np.ndarray
    pair_target: np.ndarray
    pair_context: np.ndarray


def choose(space: SenseSpace, given: SenseInput, n_queries: int) -> np.ndarray:
    """The pairs' shares as the rest of each query chooses them (float64, in pair order).

    Array work over a whole batch, so the bulk job pays no call per query; one query is a
    batch of one and gets the same floats (every sum runs in pair or term order within its
    query, whatever else the batch holds)."""
    english = space.english_vectors()
    context = np.zeros((n_queries, english.shape[1]), dtype=np.float64)
    np.add.at(context, given.context_query, english[given.context_row].astype(np.float64))
    # Per English term (all its translations share the query and the context left without it).
    _terms, first, term_of = np.unique(given.pair_term, return_index=True, return_inverse=True)
    own_place = given.pair_context[first]
    own = np.zeros((len(first), english.shape[1]), dtype=np.float32)
    has_own = own_place >= 0
    own[has_own] = english[given.context_row[own_place[has_own]]]
    rest = context[given.pair_query[first]] - own
    norm = np.sqrt((rest * rest).sum(axis=1))
    cosine = np.zeros(len(term_of), dtype=np.float64)
    has = (given.pair_target >= 0) & (norm[term_of] > 0)
    if has.any():
        dots = (space.vectors[given.pair_target[has]] * rest[term_of[has]]).sum(axis=1)
        cosine[has] = dots / norm[term_of[has]]
    gain = np.power(np.maximum(cosine, FLOOR), POWER)
    share = given.pair_share
    total = np.zeros(len(first), dtype=np.float64)
    weighed = np.zeros(len(first), dtype=np.float64)
    np.add.at(total, term_of, share)
    np.add.at(weighed, term_of, share * gain)
    out = share * gain * total[term_of] / weighed[term_of]
    # A term with no context at all (no other English word with a vector) keeps its shares.
    return np.where(norm[term_of] > 0, out, share)


def query_shares(
    space: SenseSpace | None, items: Sequence[tuple[str, Sequence[str], Sequence[float]]]
) -> list[tuple[float, ...] | None]:
    """For one query's terms in query order, each as (term, its translations' terms, their
    shares): the shares the rest of the query chooses, or None where they stay as given (a
    Chinese term, a single translation, no space). `choose` for a batch of one."""
    out: list[tuple[float, ...] | None] = [None] * len(items)
    if space is None:
        return out
    context_row: list[int] = []
    place: dict[int, int] = {}
    for k, (term, _targets, _shares) in enumerate(items):
        if is_latin(term):
            row = space.english_row(term)
            if row >= 0:
                place[k] = len(context_row)
                context_row.append(row)
    chosen = [
        k for k, (term, targets, _s) in enumerate(items) if len(targets) >= 2 and is_latin(term)
    ]
    if not chosen or not context_row:
        return out
    pair_term, pair_share, pair_target, pair_context = [], [], [], []
    for k in chosen:
        _term, targets, shares = items[k]
        for target, share in zip(targets, shares, strict=True):
            pair_term.append(k)
            pair_share.append(share)
            pair_target.append(space.rows.get(target, -1))
            pair_context.append(place.get(k, -1))
    given = SenseInput(
        context_query=np.zeros(len(context_row), dtype=np.int64),
        context_row=np.asarray(context_row, dtype=np.int64),
        pair_query=np.zeros(len(pair_term), dtype=np.int64),
        pair_term=np.asarray(pair_term, dtype=np.int64),
        pair_share=np.asarray(pair_share, dtype=np.float64),
        pair_target=np.asarray(pair_target, dtype=np.int64),
        pair_context=np.asarray(pair_context, dtype=np.int64),
    )
    shares_out = choose(space, given, 1).tolist()
    at = 0
    for k in chosen:
        n = len(items[k][1])
        out[k] = tuple(shares_out[at : at + n])
        at += n
    return out


def chosen_translations(
    space_of: Callable[[], SenseSpace | None],
    terms: Sequence[str],
    found: Sequence[Sequence[tuple[K, float]]],
    name: Callable[[K], str],
) -> list[Sequence[tuple[K, float]]]:
    """Each query term's translations (target, share), in query order, with the shares the
    rest of the query chooses (`query_shares`). `name` gives a target's term; `space_of` is
    asked only when some English term has several translations, so a Chinese query never
    builds a space. The engine (`Matcher._query_terms`) and the bulk job's tokenised queries
    (`BulkRanker._weights`) both go through here."""
    if not any(len(f) >= 2 and is_latin(t) for t, f in zip(terms, found, strict=True)):
        return list(found)
    shares = query_shares(
        space_of(),
        [
            (term, [name(k) for k, _s in pairs], [s for _k, s in pairs])
            for term, pairs in zip(terms, found, strict=True)
        ],
    )
    return [
        pairs if new is None else tuple((k, s) for (k, _old), s in zip(pairs, new, strict=True))
        for pairs, new in zip(found, shares, strict=True)
    ]
