"""Query rows of the bulk job from the queries' own index, instead of tokenising them again.

Every pooled patent and every enterprise is a document of its own side's index before it is
a query against the other side's, and `Matcher.build` keeps each document's terms in
first-occurrence order with their counts (`Segment.doc_terms`): exactly the `Counter` of
`_terms(record)` that `Matcher._query_terms` starts from. Tokenising and weighing the terms
one query at a time was most of a query's cost once the fused rows were pruned (measured at
100k × 100k: 1.5 of 2.2 ms per patent query). Here each distinct source term is looked up
once (its row in the target index, its informativeness, its translations the target has),
and a whole chunk's weights are summed with array operations, in the order `_query_terms`
adds them (own term first, then every translation in query order: `np.add.at` adds in index
order), so the rows are the same float32 numbers.

A record's stored form is used only when its text is unchanged since the index was built
(CRC-32 of title and text) and both indexes tokenise alike; any other query is tokenised.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from shuanglian.engine.matcher import Matcher, text_crc
from shuanglian.engine.records import Record
from shuanglian.engine.senses import SenseInput, SenseSpace, choose, is_latin

_UNSET = -2


def ragged_pairs(
    start: np.ndarray, length: np.ndarray, values: np.ndarray, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(place in `ids`, value) of every value of a ragged table (`values[start[t]:start[t] +
    length[t]]` for each `t` of `ids`), in the order of `ids`, with no call per id."""
    reps = length[ids]
    sel = np.flatnonzero(reps)
    if not len(sel):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    reps = reps[sel]
    first = np.cumsum(reps) - reps
    at = np.repeat(start[ids[sel]] - first, reps) + np.arange(int(reps.sum()))
    return np.repeat(sel, reps), values[at]


class StoredQueries:
    """Stored forms of one source index's documents, weighed for one target index."""

    def __init__(
        self,
        source: Matcher,
        target: Matcher,
        entry: Callable[[str], tuple[int, float, tuple[tuple[int, float], ...]]],
        own_weight: Callable[[int], float],
        base_weight: Callable[[int], float],
        alpha: float,
    ) -> None:
        self.source = source
        self.target = target
        self.n_rows = len(target.terms)
        self._entry = entry
        self._own_weight = own_weight
        self._base_weight = base_weight
        self.alpha = alpha
        self._segments = []
        start = 0
        for seg in source.segments:
            self._segments.append((start, start + len(seg), seg))
            start += len(seg)
        self._positions = source._positions()
        self._dead = source._dead_mask()
        n_terms = len(source.terms)
        self._own = np.full(n_terms, _UNSET, dtype=np.int64)
        self._factor = np.ones(n_terms, dtype=np.float64)
        # Whether each source term is English (its translations follow the query's context),
        # and for the target's sense space: each source term's English row and each target
        # term's Chinese row (_UNSET until looked up).
        self._latin = np.zeros(n_terms, dtype=bool)
        self._space: SenseSpace | None = None
        self._english_row = np.zeros(0, dtype=np.int64)
        self._target_vec = np.zeros(0, dtype=np.int64)
        self._trans_start = np.zeros(n_terms, dtype=np.int64)
        self._trans_len = np.zeros(n_terms, dtype=np.int64)
        self._trans_rows = np.zeros(1024, dtype=np.int64)
        self._trans_shares = np.zeros(1024, dtype=np.float64)
        self._trans_used = 0
        self._own_tab = np.zeros(1, dtype=np.float64)
        self._base_tab = np.zeros(1, dtype=np.float64)
        self.used = 0
        self.tokenised = 0
        # Source terms looked up so far and the CPU seconds it took (benchmarks report them:
        # a fixed cost per distinct term, not per query).
        self.looked_up = 0
        self.lookup_s = 0.0

    @staticmethod
    def usable(source: Matcher, target: Matcher) -> bool:
        """Whether the source's stored forms are the target's query terms: both indexes cut
        text alike and the source has stored forms."""
        a, b = source.params, target.params
        same = (a.title_weight, a.cut) == (b.title_weight, b.cut)
        return same and any(seg.doc_terms is not None for seg in source.segments)

    # ------------------------------------------------------------------ lookup
    def form(self, query: Record) -> tuple[np.ndarray, np.ndarray] | None:
        """(source term ids, counts) of a query in first-occurrence order, or None."""
        pos = self._positions.get(str(query.id))
        if pos is None or self._dead[pos]:
            return None
        for start, stop, seg in self._segments:
            if start <= pos < stop:
                if seg.doc_terms is None or seg.doc_crc is None:
                    return None
                local = pos - start
                if int(seg.doc_crc[local]) != text_crc(query):
                    return None
                return seg.doc_terms.of(local)
        return None

    # ------------------------------------------------------------------ tables
    def ensure(self, ids: np.ndarray) -> None:
        """Look up the source terms not seen yet (one `entry` each, ever)."""
        new = ids[self._own[ids] == _UNSET]
        if not len(new):
            return
        started = time.process_time()
        self.looked_up += len(new)
        terms = self.source.terms
        for t in new.tolist():
            own, factor, trans = self._entry(terms[t])
            self._own[t] = own
            self._factor[t] = factor
            self._latin[t] = is_latin(terms[t])
            if trans:
                need = self._trans_used + len(trans)
                if need > len(self._trans_rows):
                    size = max(need, 2 * len(self._trans_rows))
                    self._trans_rows = np.resize(self._trans_rows, size)
                    self._trans_shares = np.resize(self._trans_shares, size)
                at = self._trans_used
                for k, (row, share) in enumerate(trans):
                    self._trans_rows[at + k] = row
                    self._trans_shares[at + k] = share
                self._trans_start[t] = at
                self._trans_len[t] = len(trans)
                self._trans_used = need
        self.lookup_s += time.process_time() - started

    def own_rows(self, ids: np.ndarray) -> np.ndarray:
        """Each looked-up source term's own target row (-1: the target lacks it)."""
        return self._own[ids]

    def translation_rows(self, ids: np.ndarray) -> np.ndarray:
        """The target rows of the looked-up source terms' translations, together."""
        return self.translation_pairs(ids)[1]

    def translation_pairs(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(place in `ids`, target row) of every translation of the looked-up source terms
        `ids`, in the order of `ids` and of each term's translations."""
        return ragged_pairs(self._trans_start, self._trans_len, self._trans_rows, ids)

    def _tables(self, top: int) -> tuple[np.ndarray, np.ndarray]:
        """(1 + ln q) and alpha × (1 + ln q) for q < `top`, each computed by the scalar
        formulas of `_query_terms` (a table lookup, not a vectorised log)."""
        if len(self._own_tab) < top:
            size = max(top, 2 * len(self._own_tab))
            self._own_tab = np.array(
                [0.0] + [self._own_weight(q) for q in range(1, size)], dtype=np.float64
            )
            self._base_tab = np.array(
                [0.0] + [self._base_weight(q) for q in range(1, size)], dtype=np.float64
            )
        return self._own_tab, self._base_tab

    # ------------------------------------------------------------------ weights
    def rows(
        self, forms: Sequence[tuple[np.ndarray, np.ndarray]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each form's (target rows ascending, float32 weights): `_query_terms` of its terms."""
        if not forms:
            return []
        uniq, acc = self.sums(forms)
        owner = uniq // self.n_rows
        bounds = np.searchsorted(owner, np.arange(len(forms) + 1))
        rows = (uniq % self.n_rows).astype(np.int32)
        weights = acc.astype(np.float32)
        self.used += len(forms)
        return [
            (rows[bounds[i] : bounds[i + 1]], weights[bounds[i] : bounds[i + 1]])
            for i in range(len(forms))
        ]

    def sums(self, forms: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        """(keys `form number × n_rows + target row`, ascending; their float64 weights): the
        sums `_query_terms` makes, before the ranking rounds them to float32 (the match level
        reads them as the explanation does, `bulk_levels`)."""
        lengths = np.fromiter((len(f[0]) for f in forms), dtype=np.int64, count=len(forms))
        q = np.repeat(np.arange(len(forms), dtype=np.int64), lengths)
        t = np.concatenate([f[0] for f in forms]).astype(np.int64)
        tf = np.concatenate([f[1] for f in forms]).astype(np.int64)
        self.ensure(np.unique(t))
        own_tab, base_tab = self._tables(int(tf.max(initial=0)) + 1)
        own = self._own[t]
        has = own >= 0
        keys = [q[has] * self.n_rows + own[has]]
        vals = [own_tab[tf[has]] * self._factor[t[has]]]
        if self.alpha > 0:
            reps = self._trans_len[t]
            sel = np.flatnonzero(reps)
            if len(sel):
                reps = reps[sel]
                total = int(reps.sum())
                first = np.cumsum(reps) - reps
                at = np.repeat(self._trans_start[t[sel]] - first, reps) + np.arange(total)
                keys.append(np.repeat(q[sel], reps) * self.n_rows + self._trans_rows[at])
                shares = self._context_shares(q, t, sel, reps, at)
                vals.append(np.repeat(base_tab[tf[sel]], reps) * shares)
        all_keys = np.concatenate(keys)
        all_vals = np.concatenate(vals)
        uniq, inverse = np.unique(all_keys, return_inverse=True)
        acc = np.zeros(len(uniq), dtype=np.float64)
        np.add.at(acc, inverse, all_vals)  # in index order: own first, then translations
        return uniq, acc

    def _context_shares(
        self, q: np.ndarray, t: np.ndarray, sel: np.ndarray, reps: np.ndarray, at: np.ndarray
    ) -> np.ndarray:
        """The translation shares of `sums`' pairs (`at` into the tables, for the flat query
        terms `sel` of `q`, `t`, with `reps` translations each), an English term's several
        Chinese ones chosen by the rest of its query (`engine.senses.choose`, the numbers
        `_query_terms` gets for the query alone)."""
        shares = self._trans_shares[at]
        latin = self._latin[t]
        multi = (self._trans_len[t] >= 2) & latin
        if not multi.any():
            return shares
        space = self.target.sense_space()
        if space is None:
            return shares
        if self._space is not space:
            self._space = space
            self._english_row = np.full(len(self._own), _UNSET, dtype=np.int64)
            self._target_vec = np.full(self.n_rows, _UNSET, dtype=np.int64)
        english = np.full(len(t), -1, dtype=np.int64)
        english[latin] = self._english_rows(space, t[latin])
        has = english >= 0
        place = np.full(len(t), -1, dtype=np.int64)
        place[has] = np.arange(int(has.sum()))
        pair_term = np.repeat(sel, reps)
        chosen = multi[pair_term]
        pairs = pair_term[chosen]
        given = SenseInput(
            context_query=q[has],
            context_row=english[has],
            pair_query=q[pairs],
            pair_term=pairs,
            pair_share=shares[chosen],
            pair_target=self._target_rows(space, self._trans_rows[at][chosen]),
            pair_context=place[pairs],
        )
        shares[chosen] = choose(space, given, int(q[-1]) + 1)
        return shares

    def _english_rows(self, space: SenseSpace, ids: np.ndarray) -> np.ndarray:
        """`space.english_row` of source terms, looked up once each."""
        new = np.unique(ids[self._english_row[ids] == _UNSET])
        terms = self.source.terms
        for term in new.tolist():
            self._english_row[term] = space.english_row(terms[term])
        return self._english_row[ids]

    def _target_rows(self, space: SenseSpace, rows: np.ndarray) -> np.ndarray:
        """The space's row of target-index terms (-1: no vector), looked up once each."""
        new = np.unique(rows[self._target_vec[rows] == _UNSET])
        terms = self.target.terms
        for row in new.tolist():
            self._target_vec[row] = space.rows.get(terms[row], -1)
        return self._target_vec[rows]
