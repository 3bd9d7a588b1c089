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

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from shuanglian.engine.bulk import BulkRanker, RankedBlock, bulk_ranker
from shuanglian.engine.matcher import Matcher, query_terms
from shuanglian.engine.records import Record
from shuanglian.text.tokenize import is_specific

# Memoised terms before the memo is started afresh (a national job sees millions).
_MEMO_TERMS = 2_000_000


class EvidenceCheck:
    """The test above for hits of one index, beside the index's `BulkRanker`: its memoised
    term lookups (row, translations) and its stored query forms serve both."""

    def __init__(self, ranker: BulkRanker) -> None:
        self.ranker = ranker
        matcher = ranker.matcher
        self.terms = matcher.terms
        self._memo: dict[str, tuple[int, ...]] = {}
        self._mark = np.zeros(len(matcher.terms), dtype=bool)
        self._positions = matcher._positions()
        self._segments = []
        start = 0
        for seg in matcher.segments:
            self._segments.append((start, start + len(seg), seg))
            start += len(seg)

    def _rows(self, term: str) -> tuple[int, ...]:
        """The index rows a query term could be evidence through: itself and its
        translations, each when specific (none for a generic or character-pair term)."""
        rows = self._memo.get(term)
        if rows is not None:
            return rows
        found: list[int] = []
        if is_specific(term):
            own, _factor, trans = self.ranker.term_entry(term)
            if own >= 0:
                found.append(own)
            found += [row for row, _share in trans if is_specific(self.terms[row])]
        if len(self._memo) >= _MEMO_TERMS:
            self._memo.clear()
        rows = self._memo[term] = tuple(found)
        return rows

    def hits(
        self, query_terms: Iterable[str], doc_ids: Sequence[str], parts: np.ndarray
    ) -> np.ndarray:
        """One bit per hit (`doc_ids`, with their signal parts bm25 / ipc / prior)."""
        out = (parts[:, 1] > 0) | (parts[:, 2] > 0)
        rows = {r for term in set(query_terms) for r in self._rows(term)}
        if not rows or out.all():
            return out
        marked = np.fromiter(rows, dtype=np.int64, count=len(rows))
        self._mark[marked] = True
        try:
            for k, doc_id in enumerate(doc_ids):
                if not out[k]:
                    out[k] = self._has_marked(self._positions[doc_id], marked)
        finally:
            self._mark[marked] = False
        return out

    def _has_marked(self, position: int, marked: np.ndarray) -> bool:
        seg, local = next(
            (seg, position - start)
            for start, stop, seg in self._segments
            if start <= position < stop
        )
        if seg.doc_terms is not None:
            terms, _counts = seg.doc_terms.of(local)
            return bool(self._mark[terms].any())
        # An index without stored document terms: its term-major BM25 rows.
        return any(_row_has(seg.bm25, row, local) for row in marked.tolist())


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
        terms: Iterable[str]
        if stored is not None and form is not None:
            terms = (stored.source.terms[t] for t in form[0].tolist())
        else:
            terms = query_terms(query, matcher.params)
        out[lo:hi] = check.hits(terms, block.doc_ids[lo:hi], block.signals[lo:hi])
    return out
