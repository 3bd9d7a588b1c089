"""One query's exact top-k over a whole index without fusing every document (the bulk job).

`Matcher.search_many` normalises each signal over every document, adds the weighted signals
and partitions the fused row: about twenty passes over queries × documents floats. At a
national push (940k × 450k) those passes, not the BM25 postings, were most of the job
(measured at 100k × 100k: 2 ms of a 3.5 ms query). Here a query costs one BM25 row (the
postings of its terms, as the engine sums them), its maximum, and one compare:

- the fused score is computed, with the engine's float32 operations in the engine's order,
  only at a strided sample of documents and then at the candidates;
- the k-th best fused score of the sample, T, is at most the k-th best of the row; every
  other signal is bounded (`others`: the largest weighted prior over the documents, and a
  document outside the IPC row's support has no IPC part), so a document whose BM25 score is
  below (T − others) × max(BM25) / w_bm25 (less a margin far above float32 rounding) cannot
  reach T. Only the rest, and the IPC row's support, are candidates;
- the industry prior is never a row per query: against documents without an industry it is
  the query industry's row (normalised once per industry and kept), against documents with
  one it is the query's profile over industries (normalised over the industries present, then
  gathered at the candidates only).
When the bound cannot prune (the sample's k-th best is hardly above what the prior alone
gives, or a query mixes both prior forms) the query falls back to fusing its whole row, with
the same operations. Either way the hits are the first k of (fused score descending,
position ascending) with a positive score: `matcher._top_k` and `Matcher._hits`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from shuanglian.engine import sparse
from shuanglian.engine.bulk_select import best_positive, first_k
from shuanglian.engine.matcher import Matcher

# Documents sampled per query for the threshold: the sample's k-th best is a lower bound.
_SAMPLE_PER_K = 64
# Candidates per k above which the bound is tightened once (with the k best BM25 candidates).
_REFINE = 16
# Relative margin on the BM25 threshold (float32 rounding is ~6e-8 per operation).
_MARGIN = 1e-3
# Prune only when the threshold clears what the prior alone can give by this factor.
_CLEAR = 1.05
# Memory kept for normalised industry prior rows (per index, so per worker and direction).
_PRIOR_CACHE_BYTES = 384 * 1024 * 1024


@dataclass
class QueryHits:
    """One query's hits: positions (best first), fused scores and weighted signal parts."""

    positions: np.ndarray
    total: np.ndarray
    parts: dict[str, np.ndarray]


class PrunedScorer:
    """Per index: the buffers, sample and prior tables `rank_query` reuses across queries."""

    def __init__(self, matcher: Matcher, weights: dict[str, float], dead: np.ndarray) -> None:
        self.m = matcher
        self.w = weights
        self.n = len(dead)
        self.dead = dead
        self.any_dead = bool(dead.any())
        self.buf = np.zeros(self.n, dtype=np.float32)
        self._kernel = sparse._csc_matvec()
        self._segments = []
        start = 0
        for seg in matcher.segments:
            mat = seg.bm25
            ok = (
                self._kernel is not None
                and mat.data.dtype == np.float32
                and mat.indices.dtype == mat.indptr.dtype
            )
            self._segments.append((mat, start, start + len(seg), ok))
            start += len(seg)
        self._spans = {
            dt: np.zeros(2, dtype=dt) for dt in {s[0].indptr.dtype for s in self._segments}
        }
        link = matcher.link
        self.doc_ind = matcher._doc_industry_index() if link is not None else None
        self.docs_have_ind = bool(self.doc_ind is not None and (self.doc_ind >= 0).any())
        if self.docs_have_ind:
            assert link is not None and self.doc_ind is not None
            # Profile columns the documents read (-1, no industry, reads the trailing zero).
            present = np.unique(self.doc_ind)
            self.present = np.where(present < 0, len(link.industries), present)
        self._rows: OrderedDict[int, tuple[np.ndarray, float]] = OrderedDict()
        # Queries ranked through the bound / through their whole row, and the candidates the
        # bound left in all (benchmarks report them).
        self.pruned = 0
        self.full = 0
        self.candidates = 0

    # ------------------------------------------------------------------ signals
    def bm25_row(self, terms: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """`Matcher._bm25_block` of one query into the reused buffer: the same kernel, the same
        order of additions (whole postings arrays with a two-entry span: no slicing)."""
        out = self.buf
        out.fill(0.0)
        if len(terms) == 0:
            return out
        weights = np.ascontiguousarray(weights, dtype=np.float32)
        for mat, start, stop, ok in self._segments:
            known = terms < mat.shape[0]
            rows, wts = terms[known], weights[known]
            view = out[start:stop]
            if not ok:
                view[:] = sparse.weighted_row_sum(mat, rows, wts)
                continue
            span = self._spans[mat.indptr.dtype]
            indptr, indices, data = mat.indptr, mat.indices, mat.data
            los = indptr[rows].tolist()
            his = indptr[rows + 1].tolist()
            matvec, width = self._kernel, stop - start
            assert matvec is not None  # `ok` says so
            for i, (lo, hi) in enumerate(zip(los, his, strict=True)):
                if lo == hi:
                    continue
                span[0], span[1] = lo, hi
                matvec(width, 1, span, indices, data, wts[i : i + 1], view)
        return out

    def _industry_part(self, q_ind: int) -> tuple[np.ndarray, float]:
        """The weighted, normalised prior row of a query industry against documents without
        industries, and its maximum (computed once per industry, kept in a bounded cache)."""
        key = q_ind
        hit = self._rows.get(key)
        if hit is not None:
            self._rows.move_to_end(key)
            return hit
        m = self.m
        assert m.link is not None
        column = m.link.weights[:, q_ind]
        linked = np.flatnonzero(column)
        raw = np.zeros(self.n, dtype=np.float32)
        raw += sparse.weighted_row_sum(m._doc_subclasses(), linked, column[linked])
        row = _weighted(raw, _top(raw), self.w["prior"])
        hit = (row, float(row.max(initial=0.0)))
        keep = max(1, _PRIOR_CACHE_BYTES // max(row.nbytes, 1))
        while len(self._rows) >= keep:
            self._rows.popitem(last=False)
        self._rows[key] = hit
        return hit

    # ------------------------------------------------------------------ one query
    def rank_query(
        self,
        terms: np.ndarray,
        term_weights: np.ndarray,
        ipc: tuple[np.ndarray, np.ndarray] | None,
        profile: np.ndarray | None,
        q_ind: int,
        k: int,
    ) -> QueryHits:
        """Top `k` of one query (see the module docstring).

        `ipc`: the query's IPC row (tokens, weights) when the chunk has the IPC signal;
        `profile`: its industry profile (float32, one per industry) or None; `q_ind`: its
        industry's column in the link, -1 when none.
        """
        w = self.w
        names: list[str] = []
        if w.get("bm25", 0) > 0:
            names.append("bm25")
        if ipc is not None:
            names.append("ipc")
        prior = w.get("prior", 0) > 0 and self.m.link is not None
        if prior:
            names.append("prior")
        b_raw = self.bm25_row(terms, term_weights) if "bm25" in names else None
        b_top = _top(b_raw) if b_raw is not None else 1.0
        i_raw = None
        if ipc is not None:
            i_raw = sparse.weighted_row_sum(self.m._ipc_matrix(), ipc[0], ipc[1])
            i_top = _top(i_raw)
        # The prior, as a dense weighted row (`p_row`) or a table gathered by industry.
        p_row: np.ndarray | None = None
        p_table: np.ndarray | None = None
        p_max = 0.0
        if prior:
            m = self.m
            assert m.link is not None
            has_industry = q_ind >= 0 and bool(m.ipc_terms)
            if not self.docs_have_ind:
                if has_industry:
                    p_row, p_max = self._industry_part(q_ind)
            else:
                ext = np.zeros(len(m.link.industries) + 1, dtype=np.float32)
                if profile is not None:
                    ext[:-1] = profile
                if has_industry:  # both forms at once: the engine's dense row
                    assert self.doc_ind is not None
                    raw = ext[self.doc_ind]
                    column = m.link.weights[:, q_ind]
                    linked = np.flatnonzero(column)
                    raw += sparse.weighted_row_sum(m._doc_subclasses(), linked, column[linked])
                    p_row = _weighted(raw, _top(raw), w["prior"])
                    p_max = float(p_row.max(initial=0.0))
                else:
                    top = float(ext[self.present].max(initial=0.0))
                    p_table = _weighted(ext.copy(), top if top > 0 else 1.0, w["prior"])
                    p_max = float(p_table[self.present].max(initial=0.0))

        def parts_at(pos: np.ndarray | None) -> dict[str, np.ndarray]:
            out: dict[str, np.ndarray] = {}
            for name in names:
                if name == "bm25":
                    assert b_raw is not None
                    raw = b_raw.copy() if pos is None else b_raw[pos]
                    out[name] = _weighted(raw, b_top, w["bm25"])
                elif name == "ipc":
                    assert i_raw is not None
                    raw = i_raw.copy() if pos is None else i_raw[pos]
                    out[name] = _weighted(raw, i_top, w["ipc"])
                elif p_row is not None:
                    out[name] = p_row.copy() if pos is None else p_row[pos]
                elif p_table is not None:
                    assert self.doc_ind is not None
                    out[name] = p_table[self.doc_ind if pos is None else self.doc_ind[pos]]
                else:
                    size = self.n if pos is None else len(pos)
                    out[name] = np.zeros(size, dtype=np.float32)
            return out

        cand = self._candidates(b_raw, b_top, i_raw, p_max, k, parts_at)
        if cand is None:
            self.full += 1
            parts = parts_at(None)
            fused = _fuse(parts, self.n)
            if self.any_dead:
                fused[self.dead] = -np.inf
            pos = best_positive(fused, k)
            return QueryHits(pos, fused[pos], {s: v[pos] for s, v in parts.items()})
        self.pruned += 1
        self.candidates += len(cand)
        parts = parts_at(cand)
        fused = _fuse(parts, len(cand))
        keep = first_k(fused, k)
        pos = cand[keep]
        return QueryHits(pos, fused[keep], {s: v[keep] for s, v in parts.items()})

    def _candidates(
        self,
        b_raw: np.ndarray | None,
        b_top: float,
        i_raw: np.ndarray | None,
        p_max: float,
        k: int,
        parts_at: object,
    ) -> np.ndarray | None:
        """Sorted positions that hold every document whose fused score can reach the k-th
        best; None when the bound cannot prune (then the whole row is fused)."""
        w_bm25 = self.w.get("bm25", 0.0)
        if b_raw is None or w_bm25 <= 0 or k <= 0:
            return None
        step = self.n // (_SAMPLE_PER_K * k)
        if step < 2:
            return None
        sample = np.arange(0, self.n, step)
        if self.any_dead:
            sample = sample[~self.dead[sample]]
        if len(sample) <= k:
            return None
        fused = _fuse(parts_at(sample), len(sample))  # type: ignore[operator]
        threshold = float(np.partition(fused, len(fused) - k)[len(fused) - k])
        if not threshold > _CLEAR * p_max or not threshold > 0:
            return None
        bound = (threshold - p_max) / w_bm25 * b_top * (1.0 - _MARGIN)
        cand = np.flatnonzero(b_raw >= np.float32(bound))
        if i_raw is not None:
            cand = np.union1d(cand, np.flatnonzero(i_raw > 0))
        if self.any_dead:
            cand = cand[~self.dead[cand]]
        if len(cand) > _REFINE * k:
            # A second, tighter bound: the k candidates with the best BM25 are k real
            # documents, so the k-th best of their fused scores is also at most the row's.
            values = b_raw[cand]
            best = cand[np.argpartition(-values, k - 1)[:k]]
            tighter = float(_fuse(parts_at(best), k).min())  # type: ignore[operator]
            if tighter > threshold:
                bound = (tighter - p_max) / w_bm25 * b_top * (1.0 - _MARGIN)
                keep = values >= np.float32(bound)
                if i_raw is not None:
                    keep |= i_raw[cand] > 0
                cand = cand[keep]
        return cand


def _top(raw: np.ndarray) -> float:
    """The row's normaliser as `_normalise_rows` takes it: its maximum, or 1 if not positive."""
    top = float(raw.max(initial=0.0)) if len(raw) else 0.0
    return top if top > 0 else 1.0


def _weighted(raw: np.ndarray, top: float, weight: float) -> np.ndarray:
    """`_normalise_rows` then the fusion weight, in place on `raw` (float32, the same
    operations: max with 0, divide by the float32 maximum, multiply unless the weight is 1)."""
    np.maximum(raw, 0.0, out=raw)
    raw /= np.float32(top)
    if weight != 1.0:
        raw *= weight
    return raw


def _fuse(parts: dict[str, np.ndarray], size: int) -> np.ndarray:
    """The engine's sum of the weighted signals, in its order (first + second, then += rest)."""
    blocks = list(parts.values())
    if not blocks:
        return np.zeros(size, dtype=np.float32)
    fused = blocks[0] + blocks[1] if len(blocks) > 1 else blocks[0].copy()
    for v in blocks[2:]:
        fused += v
    return fused
