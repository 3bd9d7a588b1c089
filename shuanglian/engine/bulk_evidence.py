"""Whether each hit of a bulk block has something a person could check, without explaining it.

A push round skips a pair whose explanation shows nothing to check (`engine.reasons`: no
specific shared word, no shared patent class, no industry link). The bulk push must apply the
same rule, but a full explanation costs several milliseconds a patent against half a
millisecond to rank it (measured: a 10,000-patent job 6.5 times as long). The same test is
cheaper on the index directly:

* a specific shared word: the query's specific terms (`is_specific`: not generic, not a
  character pair), each with its translations that are specific too, looked up once per term,
  marked in one boolean row over the index's terms; a hit has one when any of its document's
  terms is marked (the stored per-document terms, or the term-major BM25 rows of an index
  without them);
* a shared patent class: the hit's IPC part is positive (the IPC signal counts subclass,
  group and subgroup tokens only);
* an industry link: the hit's prior part is positive.

It reads every term of the query, not only the best few an explanation lists, so it may find
a specific word where a page shows only generic ones; it never misses one a page shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from shuanglian.engine.bulk import BulkRanker, RankedBlock, bulk_ranker
from shuanglian.engine.bulk_query import StoredQueries
from shuanglian.engine.matcher import Matcher, query_terms
from shuanglian.engine.records import Record
from shuanglian.engine.sparse import DocTerms
from shuanglian.text.bilingual import is_specific_translation
from shuanglian.text.tokenize import is_specific


class EvidenceCheck:
    """The test above for hits of one index, beside the index's `BulkRanker`: its memoised
    term lookups (row, translations) and its stored query forms serve both.

    Per query it is array work, not a call per term or per hit (at national size the check
    runs for a million patents): a query's evidence rows are gathered from the stored forms'
    lookup tables, and its hits' document terms are gathered in one pass."""

    def __init__(self, ranker: BulkRanker) -> None:
        self.ranker = ranker
        matcher = ranker.matcher
        self.terms = matcher.terms
        self._mark = np.zeros(len(matcher.terms), dtype=bool)
        # Whether each index term is specific: -1 not asked yet, else 0 / 1.
        self._specific = np.full(len(matcher.terms), -1, dtype=np.int8)
        # The same for `is_specific_translation`, asked of translation rows.
        self._specific_translation = np.full(len(matcher.terms), -1, dtype=np.int8)
        # The same for the terms of the index the queries come from, while it is that one.
        self._source: tuple[Matcher, np.ndarray] | None = None
        self._positions = matcher._positions()
        self._segments = list(matcher.segments)
        sizes = [len(seg) for seg in self._segments]
        self._starts = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)

    # ------------------------------------------------------------------ query rows
    def rows_of_terms(self, query_terms: Iterable[str]) -> np.ndarray:
        """The index rows a tokenised query could be evidence through: each specific term's
        own row and its translations' rows (the ranker's memoised lookups), the specific ones
        (none for a generic or character-pair term)."""
        own_rows: list[int] = []
        translated: list[int] = []
        for term in set(query_terms):
            if is_specific(term):
                row, _factor, trans = self.ranker.term_entry(term)
                own_rows.append(row)
                translated += [r for r, _share in trans]
        own = np.asarray(own_rows, dtype=np.int64)
        return self._evidence_rows(own[own >= 0], np.asarray(translated, dtype=np.int64))

    def rows_of_form(self, stored: StoredQueries, ids: np.ndarray) -> np.ndarray:
        """The same rows for a stored form's source term ids, read from the tables
        `StoredQueries` keeps for ranking (own row, translation rows) with no call per term."""
        ids = np.unique(np.asarray(ids, dtype=np.int64))
        stored.ensure(ids)
        ids = ids[self._source_is_specific(stored, ids)]
        own = stored.own_rows(ids)
        return self._evidence_rows(own[own >= 0], stored.translation_rows(ids))

    def _evidence_rows(self, own: np.ndarray, translated: np.ndarray) -> np.ndarray:
        """The specific own rows and the translation rows that are evidence
        (`is_specific_translation`: build, use, power rank but are not), together."""
        own = np.unique(own)
        translated = np.unique(translated)
        own = own[memo_flags(self._specific, own, self.terms, is_specific)]
        translated = translated[
            memo_flags(self._specific_translation, translated, self.terms, is_specific_translation)
        ]
        return np.union1d(own, translated)

    def _source_is_specific(self, stored: StoredQueries, ids: np.ndarray) -> np.ndarray:
        if self._source is None or self._source[0] is not stored.source:
            flags = np.full(len(stored.source.terms), -1, dtype=np.int8)
            self._source = (stored.source, flags)
        return memo_flags(self._source[1], ids, stored.source.terms, is_specific)

    # ------------------------------------------------------------------ hits
    def hits(self, rows: np.ndarray, doc_ids: Sequence[str], parts: np.ndarray) -> np.ndarray:
        """One bit per hit (`doc_ids`, with their signal parts bm25 / ipc / prior), for a query
        whose evidence rows are `rows`."""
        out = (parts[:, 1] > 0) | (parts[:, 2] > 0)
        todo = np.flatnonzero(~out)
        if not len(rows) or not len(todo):
            return out
        positions = np.fromiter(
            (self._positions[doc_ids[k]] for k in todo.tolist()), dtype=np.int64, count=len(todo)
        )
        self._mark[rows] = True
        try:
            out[todo] = self._any_marked(positions, rows)
        finally:
            self._mark[rows] = False
        return out

    def _any_marked(self, positions: np.ndarray, rows: np.ndarray) -> np.ndarray:
        found = np.zeros(len(positions), dtype=bool)
        seg_no = np.searchsorted(self._starts, positions, side="right") - 1
        for s in np.unique(seg_no).tolist():
            at = np.flatnonzero(seg_no == s)
            local = positions[at] - self._starts[s]
            seg = self._segments[s]
            if seg.doc_terms is not None:
                found[at] = _any_term_marked(seg.doc_terms, local, self._mark)
            else:  # an index without stored document terms: its term-major BM25 rows
                found[at] = [
                    any(_row_has(seg.bm25, row, d) for row in rows.tolist()) for d in local.tolist()
                ]
        return found


def memo_flags(
    flags: np.ndarray, ids: np.ndarray, terms: Sequence[str], test: Callable[[str], bool]
) -> np.ndarray:
    """`test` of `terms[ids]`, each asked once and remembered in `flags`."""
    new = ids[flags[ids] < 0]
    for t in new.tolist():
        flags[t] = test(terms[t])
    return flags[ids] > 0


def _any_term_marked(doc_terms: DocTerms, docs: np.ndarray, mark: np.ndarray) -> np.ndarray:
    """Whether each document of `docs` holds a term marked in `mark`: their term lists
    gathered into one array, marked, and summed per document."""
    lo = np.asarray(doc_terms.indptr[docs], dtype=np.int64)
    hi = np.asarray(doc_terms.indptr[docs + 1], dtype=np.int64)
    lengths = hi - lo
    total = int(lengths.sum())
    if not total:
        return np.zeros(len(docs), dtype=bool)
    first = np.cumsum(lengths) - lengths
    at = np.repeat(lo - first, lengths) + np.arange(total, dtype=np.int64)
    hit = mark[np.asarray(doc_terms.terms[at], dtype=np.int64)]
    owner = np.repeat(np.arange(len(docs)), lengths)
    return np.bincount(owner[hit], minlength=len(docs)) > 0


def _row_has(bm25: Any, row: int, local: int) -> bool:
    """Whether term `row` of a term-major BM25 matrix holds document `local`."""
    if row >= bm25.shape[0]:
        return False
    lo, hi = int(bm25.indptr[row]), int(bm25.indptr[row + 1])
    at = int(np.searchsorted(bm25.indices[lo:hi], local))
    return at < hi - lo and int(bm25.indices[lo + at]) == local


_CHECKS: dict[int, EvidenceCheck] = {}


def block_evidence(matcher: Matcher, queries: Sequence[Record], block: RankedBlock) -> np.ndarray:
    """`EvidenceCheck.hits` for every hit of `block` (ranked by `rank_block` from `queries`):
    a query's terms are read from its own index where `rank_block` found them stored, else
    tokenised."""
    ranker = bulk_ranker(matcher)
    check = _CHECKS.get(id(ranker))
    if check is None or check.ranker is not ranker:
        _CHECKS.clear()
        check = _CHECKS[id(ranker)] = EvidenceCheck(ranker)
    stored = ranker.stored
    by_id = {q.id: q for q in queries}
    out = np.zeros(len(block.doc_ids), dtype=bool)
    for i, query_id in enumerate(block.query_ids):
        lo, hi = int(block.offsets[i]), int(block.offsets[i + 1])
        if lo == hi:
            continue
        query = by_id[query_id]
        form = stored.form(query) if stored is not None else None
        if stored is not None and form is not None:
            rows = check.rows_of_form(stored, form[0])
        else:
            rows = check.rows_of_terms(query_terms(query, matcher.params))
        out[lo:hi] = check.hits(rows, block.doc_ids[lo:hi], block.signals[lo:hi])
    return out
