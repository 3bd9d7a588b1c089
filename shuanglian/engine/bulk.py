"""Bulk ranking: many queries against one memory-mapped index, results as flat arrays.

The job that pushes a national pool (about a million patents to half a million enterprises)
needs only ids, scores and each signal's part per hit; Python `Hit` objects for 30M hits would
not fit in memory, and pickling them between processes would cost more than ranking.
Explanations are not computed here: the job stores the signal parts (the compact explanation)
and the full one is rendered on demand (`Matcher.explain`).

`rank_block` ranks exactly as `Matcher.search_many` does (same ids, same scores, same order;
`rank_block_reference` is that path, kept for checks), with the per-query costs of a
national push taken out (`BulkRanker`):
- query vectors: a query's terms are read from its own index (`bulk_query.StoredQueries`:
  each document's terms and counts are kept at build time) instead of tokenising its text
  again, each distinct source term is looked up once (row, informativeness, translations)
  and a chunk's weights are summed with array operations; a record not in that index, or
  changed since, is tokenised and weighed through a memo. Either way the same float64 sums,
  in the same order, as `Matcher._query_terms`;
- fusion and top-k (`bulk_prune.PrunedScorer`): the fused score is computed only at a
  sample and at the documents whose BM25 score can still reach the sample's k-th best (a
  bound from the other signals' maxima), not over every document of every signal; the
  industry prior is one normalised row per industry (enterprise queries) or one normalised
  value per industry gathered at the candidates (patent queries); the hits are the same
  first k of (score descending, position ascending), positive scores only, that `_top_k`
  and `Matcher._hits` give;
- no `Hit` objects, no explanations, no dense block (bulk runs have no encoder).
Every block's first queries are checked against `search_many`; if they differ (the
engine's scoring changed and this path was not updated) the block, and every later one, is
ranked by `search_many` instead, with a warning: never wrong, at worst slow.

Each worker process opens the index once (`worker_matcher`): the arrays are memory-mapped, so
the operating system shares their pages among all workers on a machine.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from shuanglian.engine.bulk_prune import PrunedScorer
from shuanglian.engine.bulk_query import StoredQueries
from shuanglian.engine.bulk_select import best_positive  # noqa: F401  (re-exported)
from shuanglian.engine.fusion import FusionParams, active_weights
from shuanglian.engine.index import load_index
from shuanglian.engine.matcher import Matcher, query_terms
from shuanglian.engine.prior import IndustryLink
from shuanglian.engine.records import Record
from shuanglian.engine.senses import chosen_translations
from shuanglian.text.bilingual import translations
from shuanglian.text.informativeness import query_factor

log = logging.getLogger(__name__)


def _counts_by_passage(record: Record, params: FusionParams) -> bool:
    """Whether `query_terms` counts this record's terms per passage (several lines)."""
    if not params.query_passages:
        return False
    return sum(1 for line in record.text.splitlines() if line.strip()) >= 2


SIGNAL_COLUMNS = ("bm25", "ipc", "prior")  # the parts stored with each hit, in this order


@dataclass
class RankedBlock:
    """Hits of a block of queries, flattened: query `i` owns rows
    `offsets[i]:offsets[i + 1]` of `doc_ids`, `scores` and `signals` (best first).

    `failed` lists the positions of queries the engine could not rank (they have no rows);
    a whole block never fails because of one record.
    """

    query_ids: list[str]
    offsets: np.ndarray  # int64, len(query_ids) + 1
    doc_ids: list[str]
    scores: np.ndarray  # float64: the fused score, as Hit.score
    signals: np.ndarray  # float32 (hits × len(SIGNAL_COLUMNS)): each signal's weighted part
    failed: list[int]
    # The doc ids as int64 (database ids), when every id of the index is one; else None.
    doc_keys: np.ndarray | None = None
    # One bit per hit: whether it has something a person could check (`bulk_evidence`);
    # None where it was not asked for (enterprise → patent blocks).
    evidence: np.ndarray | None = None
    # One bit per hit: whether its match level is 低 (`bulk_levels`); None where not asked.
    weak: np.ndarray | None = None
    # The calibrated match of each hit with evidence (NaN for the others), the number its
    # explanation shows (`bulk_levels.block_match`); None where not asked.
    match: np.ndarray | None = None

    def hits_of(self, i: int) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(doc ids, scores, signal parts) of query `i`, best first."""
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.doc_ids[lo:hi], self.scores[lo:hi], self.signals[lo:hi]


def rank_block_reference(
    matcher: Matcher, queries: Sequence[Record], *, top: int, batch: int = 512
) -> RankedBlock:
    """`rank_block` through `Matcher.search_many` (the engine's own path, one `Hit` per hit):
    what the fast path must equal, and its fallback.

    If a batch raises, its queries are ranked one by one and only those that still fail are
    listed in `failed`.
    """
    per_query: list[list] = []
    failed: list[int] = []
    for start in range(0, len(queries), batch):
        part = list(queries[start : start + batch])
        try:
            per_query.extend(matcher.search_many(part, top=top))
        except Exception:  # noqa: BLE001 — one bad record must not sink the block
            for k, query in enumerate(part):
                try:
                    per_query.extend(matcher.search_many([query], top=top))
                except Exception:  # noqa: BLE001
                    failed.append(start + k)
                    per_query.append([])
    lengths = np.fromiter((len(h) for h in per_query), dtype=np.int64, count=len(per_query))
    offsets = np.zeros(len(per_query) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    n = int(offsets[-1])
    doc_ids: list[str] = []
    scores = np.empty(n, dtype=np.float64)
    signals = np.zeros((n, len(SIGNAL_COLUMNS)), dtype=np.float32)
    row = 0
    for hits in per_query:
        for hit in hits:
            doc_ids.append(hit.doc_id)
            scores[row] = hit.score
            for c, name in enumerate(SIGNAL_COLUMNS):
                signals[row, c] = hit.signals.get(name, 0.0)
            row += 1
    return RankedBlock(
        query_ids=[q.id for q in queries],
        offsets=offsets,
        doc_ids=doc_ids,
        scores=scores,
        signals=signals,
        failed=failed,
    )


def rank_block(
    matcher: Matcher,
    queries: Sequence[Record],
    *,
    top: int,
    check: int = 2,
    source: Matcher | None = None,
) -> RankedBlock:
    """Top `top` hits of every query, as arrays (see `RankedBlock`): the ranking of
    `Matcher.search_many`, computed by the matcher's `BulkRanker`.

    The first `check` queries are also ranked by `search_many`; when the two differ the whole
    block (and every later block on this matcher) goes through `rank_block_reference`.
    `source`: the index the queries' records belong to; their terms are read from it
    (`bulk_query.StoredQueries`) where it holds them, instead of tokenising them again.
    """
    ranker = bulk_ranker(matcher)
    ranker.use_source(source)
    if not ranker.exact:
        return rank_block_reference(matcher, queries, top=top)
    block = ranker.rank(queries, top=top)
    probe = list(queries[:check])
    if probe and not _same(block, rank_block_reference(matcher, probe, top=top)):
        ranker.exact = False
        log.warning(
            "批量排序快速路径与引擎结果不一致，改用引擎逐批排序 "
            "(bulk fast path differs from Matcher.search_many; falling back to it)"
        )
        return rank_block_reference(matcher, queries, top=top)
    return block


def _same(block: RankedBlock, reference: RankedBlock) -> bool:
    """Whether `block`'s first queries have exactly the hits of `reference` (ids, scores and
    signal parts, in order)."""
    for i in range(len(reference.query_ids)):
        ids, scores, parts = block.hits_of(i)
        ref_ids, ref_scores, ref_parts = reference.hits_of(i)
        if (
            ids != ref_ids
            or not np.array_equal(scores, ref_scores)
            or not np.array_equal(parts, ref_parts)
        ):
            return False
    return True


# Queries whose query rows are built together (a bad record is retried alone in its chunk).
_CHUNK = 256
# Distinct terms whose rows are memoised before the memo is started afresh.
_MEMO_TERMS = 2_000_000
_LOG_TABLE = 1024


class BulkRanker:
    """`Matcher.search_many`'s ranking for bulk callers (see the module docstring): the
    matcher's own signal kernels, with the per-query work shared or bounded."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self.exact = True
        self.params = matcher.params
        self.vocab = matcher.vocab
        self.alpha = float(matcher.params.cross_lingual)
        # Exactly the numbers `_query_terms` computes per term: np.float64(1) + np.log(qtf)
        # (own term) and alpha × (1 + ln qtf) as a Python float (its translations' base).
        logs = [np.log(q) for q in range(1, _LOG_TABLE)]
        self._own = [0.0] + [float(np.float64(1.0) + lg) for lg in logs]
        self._base = [0.0] + [self.alpha * (1.0 + float(lg)) for lg in logs]
        self._power = float(matcher.params.background_idf)
        self._memo: dict[str, tuple[int, float, tuple[tuple[int, float], ...]]] = {}
        self._pruned: tuple[tuple, PrunedScorer] | None = None
        self._stored: StoredQueries | None = None
        self._ids: list[str] = matcher._all_ids()
        self._n_docs = len(self._ids)
        self._dead = matcher._dead_mask()
        self._any_dead = bool(self._dead.any())
        self._keys = _numeric_ids(self._ids)

    # ----------------------------------------------------------------- query vectors
    def _lookup(self, term: str) -> tuple[int, float, tuple[tuple[int, float], ...]]:
        """(row or -1, informativeness factor, translations as (row, share)) of one term."""
        vocab = self.vocab
        own = vocab.get(term, -1)
        factor = query_factor(term, self._power) if own >= 0 else 1.0
        trans: tuple[tuple[int, float], ...] = ()
        if self.alpha > 0:
            trans = tuple(
                (vocab[t], share) for t, share in translations(term, known=vocab.__contains__)
            )
        return own, factor, trans

    def _entry(self, term: str) -> tuple[int, float, tuple[tuple[int, float], ...]]:
        if len(self._memo) >= _MEMO_TERMS:
            self._memo.clear()
        entry = self._memo[term] = self._lookup(term)
        return entry

    def term_entry(self, term: str) -> tuple[int, float, tuple[tuple[int, float], ...]]:
        """(row or -1, informativeness factor, translations as (row, share)) of a query
        term, memoised (`bulk_evidence` reads the same lookups)."""
        entry = self._memo.get(term)
        return entry if entry is not None else self._entry(term)

    @property
    def stored(self) -> StoredQueries | None:
        """The stored query forms in use (`use_source`), or None."""
        return self._stored

    def stored_form(self, query: Record) -> tuple[np.ndarray, np.ndarray] | None:
        """The query's (source term ids, counts) where its terms are read from its stored form,
        else None (it is tokenised): a text of several passages counts its terms per passage
        (`query_terms`), and the stored counts are whole-text ones."""
        if self._stored is None or _counts_by_passage(query, self.params):
            return None
        return self._stored.form(query)

    def use_source(self, source: Matcher | None) -> None:
        """Read queries' terms from `source` (the index their records belong to) where it
        holds them (`bulk_query.StoredQueries`); None: tokenise every query."""
        if source is None or not StoredQueries.usable(source, self.matcher):
            self._stored = None
            return
        if self._stored is None or self._stored.source is not source:
            alpha = self.alpha
            self._stored = StoredQueries(
                source,
                self.matcher,
                self._lookup,
                own_weight=lambda q: float(np.float64(1.0) + np.log(q)),
                base_weight=lambda q: alpha * (1.0 + float(np.log(q))),
                alpha=alpha,
            )

    def _weights(self, terms: list[str]) -> dict[int, float]:
        """Row → weight of one query: `Matcher._query_terms`, the same float64 sums added in
        the same order (own terms first, then each term's translations in query order)."""
        counts = Counter(terms)
        memo, own_w, base_w = self._memo, self._own, self._base
        weights: dict[int, float] = {}
        entries = []
        for term, qtf in counts.items():
            entry = memo.get(term)
            if entry is None:
                entry = self._entry(term)
            entries.append((entry[2], qtf))
            if entry[0] >= 0:
                # × the term's general-language informativeness, as `_query_terms` weighs it.
                weights[entry[0]] = (
                    own_w[qtf] if qtf < _LOG_TABLE else float(np.float64(1.0) + np.log(qtf))
                ) * entry[1]
        if self.alpha > 0:
            chosen = chosen_translations(
                self.matcher.sense_space,
                list(counts),
                [trans for trans, _q in entries],
                name=self.matcher.terms.__getitem__,
            )
            for trans, (_t, qtf) in zip(chosen, entries, strict=True):
                if not trans:
                    continue
                base = base_w[qtf] if qtf < _LOG_TABLE else self.alpha * (1.0 + float(np.log(qtf)))
                for row, share in trans:
                    weights[row] = weights.get(row, 0.0) + base * share
        return weights

    def _query_matrix(self, queries: Sequence[Record]) -> sp.csr_matrix:
        """queries × target terms: stored forms where the source index has them, the rest
        tokenised (`_weights`); rows ascending in each query, float32, as the engine's."""
        pieces: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(queries)
        stored = self._stored
        if stored is not None:
            forms, where = [], []
            for i, query in enumerate(queries):
                form = self.stored_form(query)
                if form is not None:
                    forms.append(form)
                    where.append(i)
            for i, piece in zip(where, stored.rows(forms), strict=True):
                pieces[i] = piece
        for i, query in enumerate(queries):
            if pieces[i] is None:
                weights = self._weights(query_terms(query, self.params))
                rows = sorted(weights)
                pieces[i] = (
                    np.asarray(rows, dtype=np.int32),
                    np.asarray([weights[r] for r in rows], dtype=np.float32),
                )
                if stored is not None:
                    stored.tokenised += 1
        done = [p for p in pieces if p is not None]
        indptr = np.zeros(len(queries) + 1, dtype=np.int64)
        np.cumsum([len(p[0]) for p in done], out=indptr[1:])
        rows_all = np.concatenate([p[0] for p in done]) if done else np.zeros(0, np.int32)
        vals_all = np.concatenate([p[1] for p in done]) if done else np.zeros(0, np.float32)
        return sp.csr_matrix(
            (vals_all.astype(np.float32), rows_all.astype(np.int32), indptr.astype(np.int32)),
            shape=(len(queries), len(self.matcher.terms)),
        )

    # ----------------------------------------------------------------- ranking
    def rank(self, queries: Sequence[Record], *, top: int) -> RankedBlock:
        """Every query's hits, as `rank_block_reference` gives them (no fallback here)."""
        weights = active_weights(self.params, None)
        weights["dense"] = 0.0
        batch = _CHUNK
        positions: list[np.ndarray] = []
        totals: list[np.ndarray] = []
        parts_out: list[np.ndarray] = []
        failed: list[int] = []
        for start in range(0, len(queries), batch):
            chunk = list(queries[start : start + batch])
            try:
                ranked = self._rank_chunk(chunk, weights, top)
            except Exception:  # noqa: BLE001 — one bad record must not sink the block
                ranked = []
                for k, query in enumerate(chunk):
                    try:
                        ranked.extend(self._rank_chunk([query], weights, top))
                    except Exception:  # noqa: BLE001
                        failed.append(start + k)
                        ranked.append(_EMPTY)
            for pos, total, parts in ranked:
                positions.append(pos)
                totals.append(total)
                parts_out.append(parts)
        lengths = np.fromiter((len(p) for p in positions), dtype=np.int64, count=len(positions))
        offsets = np.zeros(len(positions) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        pos_all = np.concatenate(positions) if positions else np.zeros(0, dtype=np.int64)
        ids = self._ids
        return RankedBlock(
            query_ids=[q.id for q in queries],
            offsets=offsets,
            doc_ids=[ids[p] for p in pos_all.tolist()],
            scores=(np.concatenate(totals) if totals else np.zeros(0)).astype(np.float64),
            signals=np.concatenate(parts_out)
            if parts_out
            else np.zeros((0, len(SIGNAL_COLUMNS)), dtype=np.float32),
            failed=failed,
            doc_keys=None if self._keys is None else self._keys[pos_all],
        )

    def _scorer(self, weights: dict[str, float]) -> PrunedScorer:
        key = tuple(sorted(weights.items()))
        if self._pruned is None or self._pruned[0] != key:
            self._pruned = (key, PrunedScorer(self.matcher, weights, self._dead))
        return self._pruned[1]

    def _rank_chunk(
        self, chunk: list[Record], weights: dict[str, float], top: int
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Each query of the chunk through `PrunedScorer.rank_query` (the fusion of
        `search_many`, operation for operation, at the documents that can make the top)."""
        m = self.matcher
        scorer = self._scorer(weights)
        qmat = self._query_matrix(chunk) if weights.get("bm25", 0) > 0 else None
        q_ipc = None
        if weights.get("ipc", 0) > 0 and m.ipc_terms and any(q.ipc for q in chunk):
            q_ipc = m._query_ipc(chunk)
        link = m.link
        no_terms = np.zeros(0, dtype=np.int32)
        no_weights = np.zeros(0, dtype=np.float32)
        out = []
        for qi, query in enumerate(chunk):
            terms, term_weights = no_terms, no_weights
            if qmat is not None:
                lo, hi = qmat.indptr[qi], qmat.indptr[qi + 1]
                terms, term_weights = qmat.indices[lo:hi], qmat.data[lo:hi]
            ipc = None
            if q_ipc is not None and q_ipc.indptr[qi + 1] > q_ipc.indptr[qi]:
                lo, hi = q_ipc.indptr[qi], q_ipc.indptr[qi + 1]
                ipc = (q_ipc.indices[lo:hi], q_ipc.data[lo:hi])
            profile = None
            q_ind = -1
            if link is not None:
                if scorer.docs_have_ind and query.ipc:
                    profile = link.industry_profile(query.ipc)
                if query.industry:
                    q_ind = link.industry_index(query.industry)
            hits = scorer.rank_query(terms, term_weights, ipc, profile, q_ind, top)
            n = len(hits.positions)
            table = np.zeros((n, len(SIGNAL_COLUMNS)), dtype=np.float32)
            for c, name in enumerate(SIGNAL_COLUMNS):
                part = hits.parts.get(name)
                if part is not None:
                    table[:, c] = part
            out.append((hits.positions.astype(np.int64), hits.total, table))
        return out


_EMPTY = (
    np.zeros(0, dtype=np.int64),
    np.zeros(0, dtype=np.float32),
    np.zeros((0, len(SIGNAL_COLUMNS)), dtype=np.float32),
)


def _numeric_ids(ids: list[str]) -> np.ndarray | None:
    """The document ids as int64 when every one is a decimal integer (database ids), else None."""
    try:
        keys = np.fromiter((int(i) for i in ids), dtype=np.int64, count=len(ids))
    except ValueError:
        return None
    if any(str(k) != i for k, i in zip(keys[:1000].tolist(), ids[:1000], strict=False)):
        return None
    return keys


_RANKERS: dict[int, BulkRanker] = {}


def bulk_ranker(matcher: Matcher) -> BulkRanker:
    """The matcher's `BulkRanker` (one per open matcher: its memo and caches are per index)."""
    ranker = _RANKERS.get(id(matcher))
    if ranker is None or ranker.matcher is not matcher:
        _RANKERS.clear()
        ranker = _RANKERS[id(matcher)] = BulkRanker(matcher)
    return ranker


_OPEN: dict[tuple[str, str, str], Matcher] = {}


def worker_matcher(root: Path, *, name: str, version: str, link: IndustryLink | None) -> Matcher:
    """The index `name` at `version`, opened once per process and memory-mapped.

    The version is part of the key and is checked against the index's `current` pointer: a job
    that started on one version must not silently continue on a newer one.
    """
    key = (str(Path(root).resolve()), name, version)
    matcher = _OPEN.get(key)
    if matcher is None:
        current = (Path(root) / name / "current").read_text(encoding="utf-8").strip()
        if current != version:
            raise RuntimeError(
                f"索引 {name} 已更新为 {current}，与任务开始时的 {version} 不同 "
                f"(index {name} changed since the job started)"
            )
        matcher = load_index(Path(root), name=name, mmap=True, link=link)
        _OPEN.clear()  # one index per direction at a time: the other one's pages can go
        _OPEN[key] = matcher
    return matcher


_SOURCES: dict[tuple[str, str, str], Matcher] = {}


def worker_source(root: Path, *, name: str, version: str) -> Matcher | None:
    """The queries' own index (`name` at `version`), opened once per process for its stored
    query forms; None when it has moved on (the queries are then tokenised: same results)."""
    key = (str(Path(root).resolve()), name, version)
    source = _SOURCES.get(key)
    if source is None:
        try:
            current = (Path(root) / name / "current").read_text(encoding="utf-8").strip()
            if current != version:
                return None
            source = load_index(Path(root), name=name, mmap=True)
        except (OSError, RuntimeError):
            return None
        _SOURCES.clear()
        _SOURCES[key] = source
    return source
