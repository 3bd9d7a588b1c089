"""Which hits of a bulk block are weak (level 低), so the bulk push keeps only a patent's
closest few of them, as a push round does (`inventory.push.WEAK_PUSHES`).

A hit's level comes from the calibrated match its explanation would show (query and document
coverage and the raw IPC cosine, `engine.calibrate`). The bulk job explains no hit, so this
computes that number alone, and only for hits with evidence: the others are skipped before
any level matters.

`Matcher.match_probabilities` computes it through the explanation's own steps, one query at a
time: 5.7 ms a patent over 5,000 firms, nine times its ranking (Python loops over a query's few
hundred terms to group them, a sorted search per term, a scalar logistic). Here a whole block
is arrays, with the per-term work done once per distinct term:

* a query's terms come from its stored form (`bulk_query.StoredQueries`), their float64
  weights from the same sums the ranking makes;
* its coverage groups (one per specific own word: the word's row and the rows of its
  specific translations; a translation of a word pair belongs to both words) are triples
  (query, word, row) built from per-term tables: whether the term is a word of its own, the
  words of a pair;
* a hit's shared terms are its document's stored terms (`Segment.doc_terms`) marked against
  its query's rows; their BM25 parts are recomputed from the stored counts by the build's own
  float32 arithmetic (checked bit for bit against the matrix once per segment; where they
  differ, or a delta segment keeps no terms, a vectorised binary search reads the matrix);
* the logistic is one array expression.

Queries without a stored form (changed since the index was built, or counted per passage) go
through `Matcher.match_probabilities`; `match_probabilities` stays the reference the tests hold
this to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shuanglian.engine.bulk import BulkRanker, RankedBlock, bulk_ranker
from shuanglian.engine.bulk_evidence import memo_flags
from shuanglian.engine.bulk_query import StoredQueries, ragged_pairs
from shuanglian.engine.calibrate import FEATURES, MEDIUM, short_query_match
from shuanglian.engine.matcher import Matcher, Segment
from shuanglian.engine.records import Record
from shuanglian.engine.sparse import DocTerms
from shuanglian.text.bilingual import is_specific_translation
from shuanglian.text.informativeness import query_factor
from shuanglian.text.tokenize import is_bigram, is_generic


class _SourceTables:
    """Per source term (the queries' index), asked once each: whether it is a word of its
    own (a coverage group when the target has it, a never-covered group when not), its
    informativeness (for the latter), and the words a translation from it covers."""

    def __init__(self, source: Matcher) -> None:
        self.source = source
        n = len(source.terms)
        self.n_terms = n
        self.word = np.full(n, -1, dtype=np.int8)  # -1 not asked, else 0 / 1
        self.factor = np.zeros(n, dtype=np.float64)
        self._start = np.zeros(n, dtype=np.int64)
        self._len = np.zeros(n, dtype=np.int64)
        self._words = np.zeros(1024, dtype=np.int64)
        self._used = 0
        self._extra: dict[str, int] = {}  # words of pairs that are no source term

    def ensure(self, ids: np.ndarray, power: float) -> None:
        new = np.unique(ids[self.word[ids] < 0])
        terms, vocab = self.source.terms, self.source.vocab
        for t in new.tolist():
            term = terms[t]
            ok = not is_bigram(term) and "_" not in term and not is_generic(term)
            self.word[t] = ok
            if ok:
                self.factor[t] = query_factor(term, power)
            # The words a translation from this term covers (`Matcher._coverage_groups`).
            words = [w for w in dict.fromkeys(term.split("_")) if not is_generic(w)]
            ids_of = [vocab[w] if w in vocab else self._extra_id(w) for w in words]
            need = self._used + len(ids_of)
            if need > len(self._words):
                self._words = np.resize(self._words, max(need, 2 * len(self._words)))
            self._words[self._used : need] = ids_of
            self._start[t], self._len[t] = self._used, len(ids_of)
            self._used = need

    def _extra_id(self, word: str) -> int:
        return self._extra.setdefault(word, self.n_terms + len(self._extra))

    @property
    def n_words(self) -> int:
        """An upper bound of word ids: source term ids, then the extra words."""
        return self.n_terms + len(self._extra) + 1

    def word_pairs(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(place in `ids`, word id) of the words each term of `ids` covers as a source."""
        return ragged_pairs(self._start, self._len, self._words, ids)


@dataclass(frozen=True, slots=True)
class _QuerySide:
    """A block's queries as their levels read them."""

    keys: np.ndarray  # query × n_rows + row, ascending: every row of every query
    key_row: np.ndarray  # the row of each key
    counted: np.ndarray  # per key: counts towards the document coverage
    mass: np.ndarray  # per coverage group (query, word), ascending
    total: np.ndarray  # per query: the mass of all its groups, never-covered ones included
    words: np.ndarray  # per query: how many groups it has, never-covered ones included
    # The groups each key belongs to: member_group[member_start[k]:member_start[k + 1]].
    member_start: np.ndarray
    member_group: np.ndarray
    several: np.ndarray  # per group: it has more than one row


class LevelCheck:
    """Match levels of bulk hits for one target index, beside its `BulkRanker`."""

    def __init__(self, ranker: BulkRanker) -> None:
        self.ranker = ranker
        m = self.matcher = ranker.matcher
        n = len(m.terms)
        self.n_rows = n
        self._mark = np.full(n, -1, dtype=np.int64)  # a query's rows → their place in keys
        self._bigram = np.full(n, -1, dtype=np.int8)
        self._specific_translation = np.full(n, -1, dtype=np.int8)
        self._idf = np.asarray(m.idf, dtype=np.float64)
        self._top_idf = float(np.max(self._idf)) if len(self._idf) else 1.0
        self._power = float(m.params.background_idf)
        self._source: _SourceTables | None = None
        self._lengths: dict[int, np.ndarray] = {}  # per segment: its documents' lengths
        self._exact: dict[int, bool] = {}  # per segment: `_formula_exact`
        sizes = [len(seg) for seg in m.segments]
        self._starts = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)

    def stale(self) -> bool:
        """Whether the index grew since (documents added: more terms, another segment)."""
        m = self.matcher
        return self.n_rows != len(m.terms) or len(self._starts) != len(m.segments) + 1

    def _tables(self, stored: StoredQueries) -> _SourceTables:
        if self._source is None or self._source.source is not stored.source:
            self._source = _SourceTables(stored.source)
        return self._source

    def _row_flags(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(is a character pair, is a specific translation) of target rows."""
        terms = self.matcher.terms
        return (
            memo_flags(self._bigram, rows, terms, is_bigram),
            memo_flags(self._specific_translation, rows, terms, is_specific_translation),
        )

    # ------------------------------------------------------------------ evidence
    def probabilities(
        self,
        stored: StoredQueries,
        queries: Sequence[Record],
        forms: Sequence[tuple[np.ndarray, np.ndarray]],
        hit_query: np.ndarray,
        hit_pos: np.ndarray,
    ) -> np.ndarray:
        """`Explanation.match` of each hit (`hit_query`: its place in `queries`, whose stored
        forms are `forms`; `hit_pos`: its document's position in the target index)."""
        side = self._query_side(stored, forms)
        n_hits = len(hit_pos)
        covered = np.zeros(n_hits)
        matched = np.zeros(n_hits)
        doc_mass = np.zeros(n_hits)
        n_groups = max(len(side.mass), 1)
        seg_no = np.searchsorted(self._starts, hit_pos, side="right") - 1
        for s in np.unique(seg_no).tolist():
            hits = np.flatnonzero(seg_no == s)
            seg = self.matcher.segments[s]
            local = hit_pos[hits] - self._starts[s]
            doc_mass[hits] = self.matcher._doc_mass(seg)[local]
            # Which rows of its query each hit's document has, and their BM25 parts.
            h, k, part = self._found(s, seg, hits, local, hit_query, side, hit_pos)
            c = side.counted[k]
            matched += np.bincount(h[c], weights=part[c], minlength=n_hits)
            # Each found row's groups: a hit covers a group once however many rows it has
            # (only a group of several rows can be reached twice).
            lo = side.member_start[k]
            reps = side.member_start[k + 1] - lo
            first = np.cumsum(reps) - reps
            idx = np.repeat(lo - first, reps) + np.arange(int(reps.sum()))
            pair_h, pair_g = np.repeat(h, reps), side.member_group[idx]
            shared = side.several[pair_g]
            pair = _distinct_sorted(pair_h[shared] * n_groups + pair_g[shared])
            pair_h = np.concatenate([pair_h[~shared], pair // n_groups])
            pair_g = np.concatenate([pair_g[~shared], pair % n_groups])
            covered += np.bincount(pair_h, weights=side.mass[pair_g], minlength=n_hits)
        total = side.total[hit_query]
        q_cov = np.divide(covered, total, out=np.zeros(n_hits), where=total > 0)
        d_cov = np.minimum(
            np.divide(matched, doc_mass, out=np.zeros(n_hits), where=doc_mass > 0), 1
        )
        ipc = self._ipc(queries, hit_query, hit_pos)
        p = _probability(np.column_stack([q_cov, d_cov, ipc]), self.matcher.params.calibration)
        return short_query_match(p, q_cov, side.words[hit_query].astype(np.float64))

    def _query_side(
        self, stored: StoredQueries, forms: Sequence[tuple[np.ndarray, np.ndarray]]
    ) -> _QuerySide:
        """The queries' rows, weights and coverage groups (`Matcher._coverage_groups`), as
        arrays: a group is (query, word) and its members (query, word, row) triples."""
        n_rows = self.n_rows
        keys, weight = stored.sums(forms)
        key_row = keys % n_rows
        uniq_rows = np.unique(key_row)
        bigram_row = np.zeros(n_rows, dtype=bool)
        specific_row = np.zeros(n_rows, dtype=bool)
        bigram_row[uniq_rows], specific_row[uniq_rows] = self._row_flags(uniq_rows)

        lengths = np.fromiter((len(f[0]) for f in forms), dtype=np.int64, count=len(forms))
        fq = np.repeat(np.arange(len(forms), dtype=np.int64), lengths)
        ft = np.concatenate([f[0] for f in forms]).astype(np.int64)
        ftf = np.concatenate([f[1] for f in forms]).astype(np.int64)
        tables = self._tables(stored)
        tables.ensure(ft, self._power)
        own = stored.own_rows(ft)
        has = own >= 0
        own_key = np.sort(fq[has] * n_rows + own[has])
        # Document coverage counts own rows and specific translations.
        counted = _member(keys, own_key) | specific_row[key_row]

        # Members: an own word's row; a specific translation's row for each word of its
        # source (lithium_batteri → 锂电池 covers lithium and batteri).
        n_words = tables.n_words
        words_ok = tables.word[ft] > 0
        g_q, g_w, g_r = [fq[has & words_ok]], [ft[has & words_ok]], [own[has & words_ok]]
        which, t_row = stored.translation_pairs(ft)
        if len(which):
            t_q = fq[which]
            keep = (
                ~_member(t_q * n_rows + t_row, own_key) & ~bigram_row[t_row] & specific_row[t_row]
            )
            t_q, t_row, t_src = t_q[keep], t_row[keep], ft[which[keep]]
            at, word = tables.word_pairs(t_src)
            g_q.append(t_q[at])
            g_w.append(word)
            g_r.append(t_row[at])
        gq, gw, gr = (np.concatenate(x) for x in (g_q, g_w, g_r))
        member = np.unique((gq * n_words + gw) * n_rows + gr)  # (group, row), once each
        groups, m_group = np.unique(member // n_rows, return_inverse=True)
        m_row = member % n_rows
        g_query = groups // n_words
        m_key = np.searchsorted(keys, g_query[m_group] * n_rows + m_row)
        # A group weighs weight × idf of its word, or of its best member when the target
        # lacks the word (a Chinese query over English documents).
        mass = np.full(len(groups), -np.inf)
        np.maximum.at(mass, m_group, weight[m_key] * self._idf_of(m_row))
        is_own = _member(groups, np.sort(fq[has] * n_words + ft[has]))
        if is_own.any():
            w_rows = stored.own_rows(groups[is_own] % n_words)
            w_key = np.searchsorted(keys, g_query[is_own] * n_rows + w_rows)
            mass[is_own] = weight[w_key] * self._idf_of(w_rows)
        total = np.bincount(g_query, weights=mass, minlength=len(forms))
        words = np.bincount(g_query, minlength=len(forms))
        # A specific word the target lacks is still a word of the query, never covered.
        unknown = ~has & words_ok & ~_member(fq * n_words + ft, groups)
        if unknown.any():
            own_weight = np.float64(1.0) + np.log(ftf[unknown].astype(np.float64))
            lost = own_weight * tables.factor[ft[unknown]] * self._top_idf
            total += np.bincount(fq[unknown], weights=lost, minlength=len(forms))
            words += np.bincount(fq[unknown], minlength=len(forms))
        by_key = np.argsort(m_key, kind="stable")
        return _QuerySide(
            keys=keys,
            key_row=key_row,
            counted=counted,
            mass=mass,
            total=total,
            words=words,
            member_start=np.searchsorted(m_key[by_key], np.arange(len(keys) + 1)),
            member_group=m_group[by_key],
            several=np.bincount(m_group, minlength=len(groups)) > 1,
        )

    def _idf_of(self, rows: np.ndarray) -> np.ndarray:
        idf = self._idf
        inside = rows < len(idf)
        out = np.full(len(rows), self._top_idf)
        out[inside] = idf[rows[inside]]
        return out

    def _found(
        self, s: int, seg: Segment, hits: np.ndarray, local: np.ndarray, hit_query: np.ndarray,
        side: _QuerySide, hit_pos: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """(hit, place in `side.keys`, BM25 part) of every query row the hits' documents of
        segment `s` hold."""
        h, k, at = self._candidates(seg, hits, local, hit_query, side.keys)
        rows = side.key_row[k]
        if at is not None and self._formula_exact(s, seg, rows, h, at, hit_pos):
            return h, k, self._formula_parts(s, seg, rows, h, at, hit_pos)
        inside = rows < seg.bm25.shape[0]
        h, k, rows = h[inside], k[inside], rows[inside]
        found = _csr_find(seg.bm25.indptr, seg.bm25.indices, rows, hit_pos[h] - self._starts[s])
        ok = found >= 0
        return h[ok], k[ok], np.asarray(seg.bm25.data[found[ok]], dtype=np.float64)

    def _formula_parts(
        self, s: int, seg: Segment, rows: np.ndarray, h: np.ndarray, at: np.ndarray,
        hit_pos: np.ndarray,
    ) -> np.ndarray:  # fmt: skip
        """BM25 parts from the stored document terms' counts by the build's own float32
        arithmetic (`sparse.Postings.matrix`): a binary search of the term-major matrix per
        shared term was a third of the levels' cost at 100k firms."""
        assert seg.doc_terms is not None
        lengths = self._lengths.get(s)
        if lengths is None:
            lengths = self._lengths[s] = _doc_lengths(seg.doc_terms).astype(np.float32)
        params, avgdl = self.matcher.params, self.matcher.avgdl
        tf = np.asarray(seg.doc_terms.counts[at]).astype(np.float32)
        dl = lengths[hit_pos[h] - self._starts[s]]
        norm = params.k1 * ((1 - params.b) + params.b * dl / (avgdl if avgdl > 0 else 1.0))
        idf = np.asarray(self.matcher.idf[rows])
        return (idf * tf / (norm + tf)).astype(np.float32).astype(np.float64)

    def _formula_exact(
        self, s: int, seg: Segment, rows: np.ndarray, h: np.ndarray, at: np.ndarray,
        hit_pos: np.ndarray,
    ) -> bool:  # fmt: skip
        """Whether the formula gives this segment's stored parts, bit for bit: asked once per
        segment, on the first block's shared terms, against the binary search (a segment
        built another way, or an index from an older build, keeps the search)."""
        known = self._exact.get(s)
        if known is None:
            sample = slice(0, 20_000)
            cols = hit_pos[h[sample]] - self._starts[s]
            found = _csr_find(seg.bm25.indptr, seg.bm25.indices, rows[sample], cols)
            stored = np.asarray(seg.bm25.data[found[found >= 0]], dtype=np.float64)
            mine = self._formula_parts(s, seg, rows[sample], h[sample], at[sample], hit_pos)
            known = bool((found >= 0).all() and np.array_equal(stored, mine))
            self._exact[s] = known
        return known

    def _candidates(
        self, seg: Segment, hits: np.ndarray, local: np.ndarray, hit_query: np.ndarray,
        keys: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:  # fmt: skip
        """(hit, place in `keys`, place in the stored document terms) of the query rows each
        hit's document holds: its stored terms that are rows of its query; where the segment
        keeps no terms (a delta segment), every row of its query, for the caller to look up
        (no places)."""
        doc_terms = seg.doc_terms
        n_rows = self.n_rows
        if doc_terms is None:
            bounds = np.searchsorted(keys // n_rows, np.arange(int(hit_query.max(initial=0)) + 2))
            q = hit_query[hits]
            reps = bounds[q + 1] - bounds[q]
            first = np.cumsum(reps) - reps
            h = np.repeat(hits, reps)
            k = np.repeat(bounds[q] - first, reps) + np.arange(int(reps.sum()))
            return h, k, None
        # Per query, its rows marked with their place in `keys`, then its hits' document
        # terms looked up (a search of every document term in all the block's keys cost
        # more than the rest together; one query's pieces stay in the cache).
        # Plain arrays: a memory-mapped one makes a memmap object per slice.
        indptr, all_terms = np.asarray(doc_terms.indptr), np.asarray(doc_terms.terms)
        lo_arr = np.asarray(indptr[local], dtype=np.int64)
        lo = lo_arr.tolist()
        hi = np.asarray(indptr[local + 1], dtype=np.int64).tolist()
        key_bounds = np.searchsorted(keys // n_rows, np.arange(int(hit_query.max(initial=0)) + 2))
        q_of = hit_query[hits]
        cuts = (np.flatnonzero(np.diff(q_of)) + 1).tolist()
        mark = self._mark
        out_j: list[np.ndarray] = []
        out_k: list[np.ndarray] = []
        out_at: list[np.ndarray] = []
        for a, b in zip([0, *cuts], [*cuts, len(hits)], strict=True):
            q = int(q_of[a])
            k_lo, k_hi = int(key_bounds[q]), int(key_bounds[q + 1])
            rows = keys[k_lo:k_hi] - q * n_rows
            pieces = [all_terms[lo[j] : hi[j]] for j in range(a, b)]
            mark[rows] = np.arange(k_lo, k_hi)
            found = mark[np.concatenate(pieces)]
            mark[rows] = -1
            ok = np.flatnonzero(found >= 0)
            lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
            ends = np.cumsum(lengths)
            owner = np.searchsorted(ends, ok, side="right")
            out_j.append(a + owner)
            out_k.append(found[ok])
            out_at.append(ok - (ends - lengths)[owner])
        if not out_j:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        j = np.concatenate(out_j)
        return hits[j], np.concatenate(out_k), lo_arr[j] + np.concatenate(out_at)

    def _ipc(
        self, queries: Sequence[Record], hit_query: np.ndarray, hit_pos: np.ndarray
    ) -> np.ndarray:
        """The raw IPC cosine of each hit (`Matcher._ipc_similarity`)."""
        m = self.matcher
        out = np.zeros(len(hit_pos))
        if not m.ipc_terms or not any(q.ipc for q in queries):
            return out
        q_ipc = m._query_ipc(queries)
        has = np.array([bool(q.ipc) for q in queries], dtype=bool)
        reps = np.diff(q_ipc.indptr).astype(np.int64)[hit_query] * has[hit_query]
        if not reps.sum():
            return out
        first = np.cumsum(reps) - reps
        at = np.repeat(q_ipc.indptr[hit_query] - first, reps) + np.arange(int(reps.sum()))
        h = np.repeat(np.arange(len(hit_pos)), reps)
        tokens = np.asarray(q_ipc.indices[at], dtype=np.int64)
        by_token = m._ipc_matrix()
        found = _csr_find(by_token.indptr, by_token.indices, tokens, hit_pos[h])
        ok = found >= 0
        part = np.asarray(q_ipc.data[at[ok]], dtype=np.float64) * np.asarray(
            by_token.data[found[ok]], dtype=np.float64
        )
        out += np.bincount(h[ok], weights=part, minlength=len(hit_pos))
        return np.clip(out, 0.0, 1.0)


def _probability(evidence: np.ndarray, calibration: dict[str, float]) -> np.ndarray:
    """`calibrate.match_probability` of each row of (query coverage, doc coverage, ipc)."""
    x = np.sqrt(np.clip(evidence, 0.0, 1.0))
    z = np.zeros(len(x))
    for c, name in enumerate(FEATURES):  # summed in the scalar function's order
        z = z + float(calibration.get(name, 0.0)) * x[:, c]
    z = float(calibration.get("intercept", 0.0)) + z
    p = 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))
    return np.where(x.any(axis=1), p, 0.0)


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    """`np.unique` of values already in runs (hit by hit): a stable sort of nearly sorted
    data is far cheaper than hashing them all."""
    if not len(values):
        return values
    ordered = np.sort(values, kind="stable")
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _doc_lengths(doc_terms: DocTerms) -> np.ndarray:
    """Each document's length in tokens (the sum of its term counts), as the build took it."""
    indptr = np.asarray(doc_terms.indptr, dtype=np.int64)
    starts, ends = indptr[:-1], indptr[1:]
    out = np.zeros(len(starts), dtype=np.int64)
    full = ends > starts
    if full.any():  # each sum runs to the next non-empty document's start
        out[full] = np.add.reduceat(np.asarray(doc_terms.counts), starts[full], dtype=np.int64)
    return out


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Whether each of `values` is in `sorted_set` (ascending)."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[at] == values


def _csr_find(
    indptr: np.ndarray, indices: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """For each (row, col), the place of `col` in row `row` of a CSR matrix with sorted
    indices, or -1: a binary search of all pairs at once (one `searchsorted` call per pair
    was most of the per-query cost)."""
    lo = np.asarray(indptr[rows], dtype=np.int64)
    end = np.asarray(indptr[rows + 1], dtype=np.int64)
    hi = end.copy()
    cols = np.asarray(cols, dtype=np.int64)
    active = np.flatnonzero(lo < hi)
    while len(active):
        a_lo, a_hi = lo[active], hi[active]
        mid = (a_lo + a_hi) >> 1
        right = np.asarray(indices[mid], dtype=np.int64) < cols[active]
        lo[active] = np.where(right, mid + 1, a_lo)
        hi[active] = np.where(right, a_hi, mid)
        active = active[lo[active] < hi[active]]
    ok = lo < end
    ok[ok] = np.asarray(indices[lo[ok]], dtype=np.int64) == cols[ok]
    return np.where(ok, lo, -1)


_CHECKS: dict[int, LevelCheck] = {}


def weak_of(match: np.ndarray) -> np.ndarray:
    """Whether each of `block_match`'s numbers reads 低. False where there is none (NaN: a
    hit without evidence, `block.evidence`, which is not pushed)."""
    return ~np.isnan(match) & (np.nan_to_num(match, nan=1.0) < MEDIUM)


def block_match(matcher: Matcher, queries: Sequence[Record], block: RankedBlock) -> np.ndarray:
    """`Explanation.match` of every hit of `block` with evidence (`block.evidence`; every hit
    when it is None), NaN for the others."""
    ranker = bulk_ranker(matcher)
    check = _CHECKS.get(id(ranker))
    if check is None or check.ranker is not ranker or check.stale():
        _CHECKS.clear()
        check = _CHECKS[id(ranker)] = LevelCheck(ranker)
    stored = ranker.stored
    # Stored forms weighed for this index as it is now (not before documents were added).
    arrays_ok = stored is not None and stored.n_rows == check.n_rows
    positions = matcher._positions()
    by_id = {q.id: q for q in queries}
    out = np.full(len(block.doc_ids), np.nan)
    arrays: list[tuple[Record, tuple[np.ndarray, np.ndarray], np.ndarray]] = []
    for i, query_id in enumerate(block.query_ids):
        lo, hi = int(block.offsets[i]), int(block.offsets[i + 1])
        todo = np.arange(lo, hi)
        if block.evidence is not None:
            todo = todo[block.evidence[lo:hi]]
        if not len(todo):
            continue
        query = by_id[query_id]
        form = ranker.stored_form(query) if arrays_ok else None
        if form is not None:
            arrays.append((query, form, todo))
        else:  # changed since the index was built, or counted per passage: tokenised
            out[todo] = matcher.match_probabilities(
                query, [positions[block.doc_ids[k]] for k in todo.tolist()]
            )
    if arrays and stored is not None:
        todo = np.concatenate([t for _q, _f, t in arrays])
        hit_query = np.repeat(np.arange(len(arrays)), [len(t) for _q, _f, t in arrays])
        hit_pos = np.fromiter(
            (positions[block.doc_ids[k]] for k in todo.tolist()), dtype=np.int64, count=len(todo)
        )
        out[todo] = check.probabilities(
            stored, [q for q, _f, _t in arrays], [f for _q, f, _t in arrays], hit_query, hit_pos
        )
    return out
