"""Bulk ranking: many queries against one memory-mapped index, results as flat arrays.

The job that pushes a national pool (about a million patents to half a million enterprises)
needs only ids, scores and each signal's part per hit; Python `Hit` objects for 30M hits would
not fit in memory, and pickling them between processes would cost more than ranking.
Explanations are not computed here: the job stores the signal parts (the compact explanation)
and the full one is rendered on demand (`Matcher.explain`).

`rank_block` ranks exactly as `Matcher.search_many` does (same ids, same scores, same order;
`rank_block_reference` is that path, kept for checks), with the per-query costs of a
national push taken out (`BulkRanker`):
- query vectors: each distinct term's vocabulary row and translations are looked up once per
  index (a memo), and the 1 + ln(count) weights come from a table: the same float64 sums, in
  the same order, as `Matcher._query_terms`, without numpy scalar arithmetic per term;
- the industry prior of an enterprise query depends only on its industry: its row over all
  patents (a sum over the postings of every linked IPC subclass, most of the patents) is
  computed once per industry and kept (a bounded cache) instead of once per query;
- top-k: `Matcher` partitions every whole row (4 ms per query at 940k documents); here a
  threshold from a strided sample of the row (the k-th best of the sample is a lower bound
  for the k-th best of the row) leaves a few thousand candidates to partition — the same
  first k of (score descending, position ascending), positive scores only, that `_top_k`
  and `Matcher._hits` give;
- no `Hit` objects, no explanations, no dense block (bulk runs have no encoder); batches are
  sized by the index (queries × documents floats bounded), not a fixed 64.
Every block's first queries are checked against `search_many`; if they differ (the
engine's scoring changed and this path was not updated) the block, and every later one, is
ranked by `search_many` instead, with a warning: never wrong, at worst slow.

Each worker process opens the index once (`worker_matcher`): the arrays are memory-mapped, so
the operating system shares their pages among all workers on a machine.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from shuanglian.engine import sparse
from shuanglian.engine.fusion import active_weights
from shuanglian.engine.index import load_index
from shuanglian.engine.matcher import Matcher, _normalise_rows, query_terms
from shuanglian.engine.prior import IndustryLink
from shuanglian.engine.records import Record
from shuanglian.text.bilingual import translations
from shuanglian.text.informativeness import query_factor

log = logging.getLogger(__name__)

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
    matcher: Matcher, queries: Sequence[Record], *, top: int, check: int = 2
) -> RankedBlock:
    """Top `top` hits of every query, as arrays (see `RankedBlock`): the ranking of
    `Matcher.search_many`, computed by the matcher's `BulkRanker`.

    The first `check` queries are also ranked by `search_many`; when the two differ the whole
    block (and every later block on this matcher) goes through `rank_block_reference`.
    """
    ranker = bulk_ranker(matcher)
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


# Largest queries × documents block of float32 scores held at once per signal (64 MiB).
_BLOCK_FLOATS = 16 * 1024 * 1024
# Memory kept for cached industry prior rows (per matcher, so per worker and direction).
_PRIOR_CACHE_BYTES = 384 * 1024 * 1024
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
        self._prior_rows: OrderedDict[int, np.ndarray] = OrderedDict()
        self._ids: list[str] = matcher._all_ids()
        self._n_docs = len(self._ids)
        self._dead = matcher._dead_mask()
        self._any_dead = bool(self._dead.any())
        self._keys = _numeric_ids(self._ids)

    # ----------------------------------------------------------------- query vectors
    def _entry(self, term: str) -> tuple[int, float, tuple[tuple[int, float], ...]]:
        vocab = self.vocab
        own = vocab.get(term, -1)
        factor = query_factor(term, self._power) if own >= 0 else 1.0
        trans: tuple[tuple[int, float], ...] = ()
        if self.alpha > 0:
            trans = tuple(
                (vocab[t], share) for t, share in translations(term, known=vocab.__contains__)
            )
        if len(self._memo) >= _MEMO_TERMS:
            self._memo.clear()
        entry = self._memo[term] = (own, factor, trans)
        return entry

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
            for trans, qtf in entries:
                if not trans:
                    continue
                base = base_w[qtf] if qtf < _LOG_TABLE else self.alpha * (1.0 + float(np.log(qtf)))
                for row, share in trans:
                    weights[row] = weights.get(row, 0.0) + base * share
        return weights

    def _query_matrix(self, queries: Sequence[Record]) -> sp.csr_matrix:
        indptr = [0]
        rows: list[int] = []
        vals: list[float] = []
        for query in queries:
            weights = self._weights(query_terms(query, self.params))
            for row in sorted(weights):
                rows.append(row)
                vals.append(weights[row])
            indptr.append(len(rows))
        return sp.csr_matrix(
            (
                np.asarray(vals, dtype=np.float32),
                np.asarray(rows, dtype=np.int32),
                np.asarray(indptr, dtype=np.int32),
            ),
            shape=(len(queries), len(self.matcher.terms)),
        )

    # ----------------------------------------------------------------- signals
    def _prior_block(self, queries: Sequence[Record]) -> np.ndarray:
        """`Matcher._prior_block`, with each industry's row over the documents computed once."""
        m = self.matcher
        link = m.link
        if link is None:
            return np.zeros((len(queries), self._n_docs), dtype=np.float32)
        doc_ind = m._doc_industry_index()
        if bool((doc_ind >= 0).any()):
            profiles = np.zeros((len(queries), len(link.industries) + 1), dtype=np.float32)
            for qi, q in enumerate(queries):
                if q.ipc:
                    profiles[qi, :-1] = link.industry_profile(q.ipc)
            out = profiles[:, doc_ind]
        else:
            out = np.zeros((len(queries), self._n_docs), dtype=np.float32)
        for qi, q in enumerate(queries):
            q_ind = link.industry_index(q.industry) if q.industry else -1
            if q_ind >= 0 and m.ipc_terms:
                out[qi] += self._industry_row(q_ind)
        return out

    def _industry_row(self, q_ind: int) -> np.ndarray:
        row = self._prior_rows.get(q_ind)
        if row is not None:
            self._prior_rows.move_to_end(q_ind)
            return row
        m = self.matcher
        assert m.link is not None
        column = m.link.weights[:, q_ind]
        linked = np.flatnonzero(column)
        row = sparse.weighted_row_sum(m._doc_subclasses(), linked, column[linked])
        keep = max(1, _PRIOR_CACHE_BYTES // max(row.nbytes, 1))
        while len(self._prior_rows) >= keep:
            self._prior_rows.popitem(last=False)
        self._prior_rows[q_ind] = row
        return row

    def _signals(
        self, queries: Sequence[Record], weights: dict[str, float]
    ) -> dict[str, np.ndarray]:
        """`Matcher.signal_scores` (raw queries × docs blocks of the weighted signals)."""
        m = self.matcher
        out: dict[str, np.ndarray] = {}
        if weights.get("bm25", 0) > 0:
            out["bm25"] = m._bm25_block(self._query_matrix(queries))
        if weights.get("ipc", 0) > 0 and m.ipc_terms and any(q.ipc for q in queries):
            q_ipc, by_token = m._query_ipc(queries), m._ipc_matrix()
            block = np.empty((len(queries), by_token.shape[1]), dtype=np.float32)
            for qi in range(len(queries)):
                lo, hi = q_ipc.indptr[qi], q_ipc.indptr[qi + 1]
                block[qi] = sparse.weighted_row_sum(
                    by_token, q_ipc.indices[lo:hi], q_ipc.data[lo:hi]
                )
            out["ipc"] = block
        if weights.get("prior", 0) > 0 and m.link is not None:
            out["prior"] = self._prior_block(queries)
        return out

    # ----------------------------------------------------------------- ranking
    def rank(self, queries: Sequence[Record], *, top: int) -> RankedBlock:
        """Every query's hits, as `rank_block_reference` gives them (no fallback here)."""
        weights = active_weights(self.params, None)
        weights["dense"] = 0.0
        batch = max(1, min(512, _BLOCK_FLOATS // max(self._n_docs, 1)))
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

    def _rank_chunk(
        self, chunk: list[Record], weights: dict[str, float], top: int
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        raw = self._signals(chunk, weights)
        # The fusion of `search_many`, operation for operation (the same float32 numbers).
        weighted = {s: _normalise_rows(v) for s, v in raw.items()}
        for s, v in weighted.items():
            if weights[s] != 1.0:
                v *= weights[s]
        blocks = list(weighted.values())
        if not blocks:
            fused = np.zeros((len(chunk), self._n_docs), dtype=np.float32)
        else:
            fused = blocks[0] + blocks[1] if len(blocks) > 1 else blocks[0].copy()
            for v in blocks[2:]:
                fused += v
        if self._any_dead:
            fused[:, self._dead] = -np.inf
        columns = [(c, weighted.get(name)) for c, name in enumerate(SIGNAL_COLUMNS)]
        out = []
        for qi in range(len(chunk)):
            cand = best_positive(fused[qi], top)
            parts = {s: v[qi, cand] for s, v in weighted.items()}
            total = sum(parts.values()) if parts else np.zeros(len(cand), np.float32)
            order = np.argsort(-total, kind="stable")
            total = np.asarray(total)[order]
            n = len(total) if bool((total > 0).all()) else int(np.argmin(total > 0))
            cand, total = cand[order][:n], total[:n]
            table = np.zeros((n, len(SIGNAL_COLUMNS)), dtype=np.float32)
            for c, signal in columns:
                if signal is not None:
                    table[:, c] = signal[qi, cand]
            out.append((cand.astype(np.int64), total, table))
        return out


_EMPTY = (
    np.zeros(0, dtype=np.int64),
    np.zeros(0, dtype=np.float32),
    np.zeros((0, len(SIGNAL_COLUMNS)), dtype=np.float32),
)


def best_positive(row: np.ndarray, k: int) -> np.ndarray:
    """Positions of the `k` best positive scores of `row`, best first, equal scores by
    position: the positive part of `matcher._top_k(row, k)`, without partitioning the row.

    The k-th best of a strided sample of the row is at most the k-th best of the row, so every
    position of the answer (ties at the k-th place included) scores at least that much: only
    those candidates, a few thousand rather than the whole row, are partitioned.
    """
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    n = len(row)
    step = max(1, n // (16 * k))
    sample = row[::step]
    threshold = -np.inf
    if step > 1 and len(sample) > k:
        threshold = np.partition(sample, len(sample) - k)[len(sample) - k]
    cand = np.flatnonzero(row >= threshold) if threshold > 0 else np.flatnonzero(row > 0)
    vals = row[cand]
    if len(cand) > k:
        kth = vals[np.argpartition(-vals, k - 1)[:k]].min()
        above = vals > kth
        tied = np.flatnonzero(vals == kth)[: k - int(np.count_nonzero(above))]
        keep = np.sort(np.concatenate([np.flatnonzero(above), tied]))
        cand, vals = cand[keep], vals[keep]
    return cand[np.argsort(-vals, kind="stable")]  # type: ignore[no-any-return]


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
