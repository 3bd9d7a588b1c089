"""The in-memory index and its search: BM25 + IPC + industry prior (+ dense rerank), fused.

A `Matcher` indexes one side (all patents, or all enterprises) and answers queries from the
other side, or from the same side; queries and documents are the same `Record` type, so both
directions use one representation. Documents live in segments: the main one built at
`Matcher.build`, small delta segments from `add`, and tombstones from `remove`; scores of all
segments use the main segment's corpus statistics so a delta never needs a rebuild.

Scoring a query touches no Python loop over documents: BM25 and IPC each sum only the
postings of the query's own terms (term-major rows, one sparse matrix-vector product), top-k
is an argpartition, and explanations look up all hits of a query term in one search.
"""

from __future__ import annotations

import logging
import threading
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from shuanglian.engine import sparse
from shuanglian.engine.calibrate import match_probability
from shuanglian.engine.dense import Encoder
from shuanglian.engine.dense_store import DENSE_DTYPE, VectorWriter, embed_records, mismatch
from shuanglian.engine.fusion import (
    FusionParams,
    active_weights,
    load_params,
    normalise_max,
    normalise_minmax,
)
from shuanglian.engine.ipc import LEVELS, ipc_tokens
from shuanglian.engine.prior import IndustryLink, industry_key
from shuanglian.engine.records import Explanation, Hit, Record, TermMatch
from shuanglian.engine.records import IndustryLink as LinkReason
from shuanglian.engine.senses import SenseSpace, build_space, chosen_translations
from shuanglian.text.bilingual import is_specific_translation, translations
from shuanglian.text.informativeness import query_factor
from shuanglian.text.tokenize import is_bigram, is_generic, tokenize

log = logging.getLogger(__name__)
# One sense-space build at a time per process (`Matcher.sense_space`).
_SENSES_BUILD = threading.Lock()

# Queries scored together in `search_many`; bounds the dense score block (chunk × docs floats).
_BATCH = 64
# Terms and links listed per explanation: enough to read, small enough for a push list.
_EXPLAIN_TERMS = 8
_EXPLAIN_LINKS = 3


@dataclass
class Segment:
    """An immutable block of documents: BM25 matrix (terms × docs), IPC counts (docs × IPC
    tokens), industry codes and ids. Vocabulary rows/columns index the matcher's vocabularies."""

    ids: list[str]
    bm25: sp.csr_matrix
    ipc: sp.csr_matrix
    industry: list[str]
    # Folder name once saved (index.save_index reuses saved segments instead of rewriting).
    key: str | None = None
    # Each document as a query (its terms in first-occurrence order, with counts) and a CRC-32
    # of the text it was built from (`text_crc`): the bulk job reads a query's terms from here
    # instead of tokenising it again. Main segments of `Matcher.build` only; None elsewhere.
    doc_terms: sparse.DocTerms | None = None
    doc_crc: np.ndarray | None = None
    # Each document's dense vector (docs × dim, float16, unit rows) when the index was built
    # with an encoder (`Matcher.dense_encoder`); None otherwise.
    dense: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)


def record_terms(
    record: Record,
    *,
    title_weight: int = 1,
    bigrams: bool = False,
    phrases: bool = True,
    elements: bool = False,
) -> list[str]:
    """Tokens of a record with the title repeated `title_weight` times (a cheap BM25F)."""
    title = tokenize(record.title, bigrams=bigrams, phrases=phrases, elements=elements)
    text = tokenize(record.text, bigrams=bigrams, phrases=phrases, elements=elements)
    return title * max(title_weight, 0) + text


def text_crc(record: Record) -> int:
    """CRC-32 of the text a record's terms come from: a stored query form is used only for
    a record whose text is still this."""
    return zlib.crc32(f"{record.title or ''}\x1f{record.text or ''}".encode())


def _terms(record: Record, params: FusionParams) -> list[str]:
    return record_terms(record, title_weight=params.title_weight, **params.cut)


def query_terms(record: Record, params: FusionParams) -> list[str]:
    """The terms a record searches with: `record_terms`, except that a text of several
    passages (lines) counts each term once per passage that holds it (`query_passages`).

    Why: a profile made of a firm's patents, one per line, should weigh a term by how many of
    its patents use it (what the firm works on), not by how often one verbose abstract repeats
    it; query weights are 1 + ln(count), so the count becomes the term's passage frequency.
    One passage (a patent, a business scope, a short query) keeps its plain term counts.
    Measured on all eight dev suites (fusion_params.json): enterprise→patent zh-owner 1.13 →
    1.17 × plain BM25, xlref 1.00 → 1.01, drones 1.275 → 1.277, xl 3.21 → 3.15.
    """
    passages = [line for line in record.text.splitlines() if line.strip()]
    if not params.query_passages or len(passages) < 2:
        return _terms(record, params)

    def distinct(text: str) -> list[str]:
        return list(dict.fromkeys(tokenize(text, **params.cut)))

    out = distinct(record.title) * max(params.title_weight, 0)
    for line in passages:
        out.extend(distinct(line))
    return out


def _ipc_counts(
    docs_ipc: Sequence[Sequence[str]], vocab: dict[str, int], *, grow: bool
) -> sp.csr_matrix:
    rows: list[int] = []
    cols: list[int] = []
    for d, codes in enumerate(docs_ipc):
        for tok in ipc_tokens(codes, levels=LEVELS):
            idx = vocab.get(tok)
            if idx is None:
                if not grow:
                    continue
                idx = vocab[tok] = len(vocab)
            rows.append(d)
            cols.append(idx)
    data = np.ones(len(rows), dtype=np.float32)
    mat = sp.csr_matrix((data, (rows, cols)), shape=(len(docs_ipc), len(vocab)))
    mat.sum_duplicates()
    return mat


def _ipc_level_mask(terms: Sequence[str], levels: Sequence[str]) -> np.ndarray:
    # Token shape tells its level: 'H04' class, 'H04N' subclass, 'H04N5' main group,
    # 'H04N5/232' subgroup.
    def level(tok: str) -> str:
        if "/" in tok:
            return "subgroup"
        return "class" if len(tok) == 3 else "subclass" if len(tok) == 4 else "group"

    return np.array([level(t) in levels for t in terms], dtype=bool)


def _own_weight(term: str, qtf: int, power: float) -> np.float64:
    """A query's own term weight: 1 + ln(count), times its general-language informativeness
    to `power`. float64 like the explanation arithmetic (a Python float would make
    `weight * float32 data` a float32 product under NumPy 2)."""
    return (np.float64(1.0) + np.log(qtf)) * query_factor(term, power)


@dataclass(frozen=True, slots=True)
class _QueryView:
    """A query as its explanations read it: (term, BM25 row, query weight) for each known
    term, its IPC tokens, its link subclasses and its industry (-1 when none)."""

    terms: list[tuple[str, int, float]]
    sources: dict[str, tuple[str, ...]]
    # Coverage groups: for each specific own word of the query (no phrase pair, no generic
    # word), its weight × idf and the positions in `terms` of it and of its translations.
    groups: list[tuple[float, list[int]]]
    # Which of `terms` count towards the document coverage: its own terms, and translations
    # that are evidence (`is_specific_translation`; 储存 ↔ stored and 建设 ↔ build are not).
    counted: np.ndarray
    ipc_weights: dict[int, float]
    ipc: set[str]
    subclasses: list[int]
    industry: int


@dataclass
class Matcher:
    """Searchable index over one side; build with `Matcher.build`, load with `index.load_index`."""

    params: FusionParams
    terms: list[str]
    idf: np.ndarray
    avgdl: float
    n_main: int
    ipc_terms: list[str]
    segments: list[Segment]
    # Positions (over all segments, in order) of removed or replaced documents.
    tombstones: set[int] = field(default_factory=set)
    link: IndustryLink | None = None
    # Name of the encoder whose vectors every segment stores (`Segment.dense`); None when
    # the index has no stored vectors.
    dense_encoder: str | None = None
    _vocab: dict[str, int] | None = field(default=None, repr=False)
    _ipc_vocab: dict[str, int] | None = field(default=None, repr=False)
    _cache: dict[str, object] = field(default_factory=dict, repr=False)
    # (main segment, its `senses.SenseSpace` or None): kept across `_invalidate`, rebuilt
    # only for a new main segment (`sense_space`).
    _senses: tuple[Segment, SenseSpace | None] | None = field(default=None, repr=False)

    # ----------------------------------------------------------------- construction
    @classmethod
    def build(
        cls,
        records: Iterable[Record],
        *,
        params: FusionParams | None = None,
        link: IndustryLink | None = None,
        query_forms: bool = False,
        encoder: Encoder | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> Matcher:
        """Index `records` (a repeated id keeps the last record).

        `encoder`: also embed every document once (`dense_store.record_units`, batched) and
        keep the vectors with the segment, so a dense search embeds only its query;
        `progress(documents, passages)` is called after each batch (a CPU encoder takes
        minutes per thousand documents).

        Tokenising is ~80% of a build and runs in this process: two worker processes were
        measured slower here (30k scopes: 8.9 s in one process, 17.7 s with two spawned
        workers on the shared 2-core machine), so there is no worker option.

        `query_forms`: keep each document's terms and counts (`Segment.doc_terms`, 8 bytes a
        posting) for the bulk job, which reads its queries from the index of their own side;
        the saved indexes have them, in-memory matchers (evaluation) need not.
        """
        params = params or load_params()
        ids: list[str] = []
        ipcs: list[tuple[str, ...]] = []
        industries: list[str] = []
        crcs = array("I")
        writer = VectorWriter(encoder, progress=progress) if encoder is not None else None

        def stream() -> Iterator[list[str]]:
            # Records are read once and their text dropped as soon as it is tokenised.
            for rec in records:
                if writer is not None:
                    writer.add(rec)
                ids.append(str(rec.id))
                ipcs.append(rec.ipc)
                industries.append(industry_key(rec.industry) or "")
                crcs.append(text_crc(rec))
                yield _terms(rec, params)

        doc_terms: list[sparse.DocTerms] | None = [] if query_forms else None
        bm25, terms, avgdl = sparse.build_main(
            stream(), k1=params.k1, b=params.b, doc_terms=doc_terms
        )
        df = np.diff(bm25.indptr)
        ipc_vocab: dict[str, int] = {}
        ipc = _ipc_counts(ipcs, ipc_vocab, grow=True)
        ipc_terms = sorted(ipc_vocab, key=ipc_vocab.__getitem__)
        seg = Segment(
            ids=ids,
            bm25=bm25,
            ipc=ipc,
            industry=industries,
            doc_terms=doc_terms[0] if doc_terms else None,
            doc_crc=np.frombuffer(crcs, dtype=np.uint32) if doc_terms else None,
            dense=writer.finish() if writer is not None else None,
        )
        # A repeated id: the last copy is live, earlier ones are tombstoned.
        last = {doc_id: pos for pos, doc_id in enumerate(ids)}
        dead = {pos for pos, doc_id in enumerate(ids) if last[doc_id] != pos}
        return cls(
            params=params,
            terms=terms,
            idf=sparse.bm25_idf(df, len(ids)),
            avgdl=avgdl,
            n_main=len(ids),
            ipc_terms=ipc_terms,
            segments=[seg],
            tombstones=dead,
            link=link,
            dense_encoder=encoder.name if encoder is not None else None,
        )

    # ----------------------------------------------------------------- bookkeeping
    @property
    def vocab(self) -> dict[str, int]:
        """Term → BM25 row (built lazily: a loaded index may never need it)."""
        if self._vocab is None:
            self._vocab = {t: i for i, t in enumerate(self.terms)}
        return self._vocab

    @property
    def ipc_vocab(self) -> dict[str, int]:
        """IPC token → column."""
        if self._ipc_vocab is None:
            self._ipc_vocab = {t: i for i, t in enumerate(self.ipc_terms)}
        return self._ipc_vocab

    def _all_ids(self) -> list[str]:
        cached = self._cache.get("ids")
        if cached is None:
            cached = [i for seg in self.segments for i in seg.ids]
            self._cache["ids"] = cached
        return cached  # type: ignore[return-value]

    def _positions(self) -> dict[str, int]:
        cached = self._cache.get("pos")
        if cached is None:
            # A replaced id appears again in a newer segment: the last position is the live one.
            cached = {doc_id: p for p, doc_id in enumerate(self._all_ids())}
            self._cache["pos"] = cached
        return cached  # type: ignore[return-value]

    def _dead_mask(self) -> np.ndarray:
        cached = self._cache.get("dead")
        if cached is None:
            cached = np.zeros(len(self._all_ids()), dtype=bool)
            if self.tombstones:
                cached[np.fromiter(self.tombstones, dtype=np.int64)] = True
            self._cache["dead"] = cached
        return cached  # type: ignore[return-value]

    def _invalidate(self) -> None:
        self._cache = {}

    def sense_space(self) -> SenseSpace | None:
        """`senses.build_space` of the main segment, built on first use and kept while that
        segment is (added documents go to delta segments and leave it as it was)."""
        if not self.segments:
            return None
        main = self.segments[0]
        held = self._senses
        if held is None or held[0] is not main:
            with _SENSES_BUILD:  # threads asking for the same space wait for one build
                held = self._senses
                if held is None or held[0] is not main:
                    held = self._senses = (main, build_space(main.bm25, self.terms))
        return held[1]

    def keep_sense_space(self, space: SenseSpace | None) -> None:
        """Use `space` (stored with the index: `engine.index`) as the main segment's, so no
        process builds it again."""
        if self.segments:
            self._senses = (self.segments[0], space)

    def __len__(self) -> int:
        return int((~self._dead_mask()).sum())

    def __contains__(self, doc_id: object) -> bool:
        pos = self._positions().get(str(doc_id))
        return pos is not None and not self._dead_mask()[pos]

    def doc_ids(self) -> list[str]:
        """Ids of live documents, in index order."""
        dead = self._dead_mask()
        return [d for d, gone in zip(self._all_ids(), dead, strict=True) if not gone]

    # ----------------------------------------------------------------- incremental updates
    def add(self, records: Iterable[Record], *, encoder: Encoder | None = None) -> None:
        """Index more records as a delta segment (an existing id is replaced).

        An index with stored vectors needs its own encoder here (only the new records are
        embedded); any other raises `DenseMismatch`. Without stored vectors `encoder` is
        ignored: one segment with vectors would not make the index searchable densely."""
        recs = list({str(r.id): r for r in records}.values())
        if self.dense_encoder is not None:
            name = encoder.name if encoder is not None else None
            if name != self.dense_encoder:
                raise mismatch(self.dense_encoder, name)
        if not recs:
            return
        existing = self._positions()
        replaced = {existing[str(r.id)] for r in recs if str(r.id) in existing}
        tokens = [_terms(r, self.params) for r in recs]
        vocab = self.vocab
        bm25, new_terms = sparse.build_delta(
            tokens,
            vocab=vocab,
            idf=self.idf,
            n_docs_total=self.n_main + sum(len(s) for s in self.segments[1:]) + len(recs),
            avgdl=self.avgdl,
            k1=self.params.k1,
            b=self.params.b,
        )
        self.terms.extend(new_terms)
        ipc_vocab = self.ipc_vocab
        n_ipc_before = len(ipc_vocab)
        ipc = _ipc_counts([r.ipc for r in recs], ipc_vocab, grow=True)
        self.ipc_terms.extend(
            sorted(
                (t for t, i in ipc_vocab.items() if i >= n_ipc_before), key=ipc_vocab.__getitem__
            )
        )
        self.segments.append(
            Segment(
                ids=[str(r.id) for r in recs],
                bm25=bm25,
                ipc=ipc,
                industry=[industry_key(r.industry) or "" for r in recs],
                dense=embed_records(encoder, recs, kind="passage").astype(DENSE_DTYPE)
                if encoder is not None and self.dense_encoder is not None
                else None,
            )
        )
        # Older copies of replaced ids become dead; the new copy is live.
        self.tombstones |= replaced
        self._invalidate()

    def remove(self, ids: Iterable[str]) -> int:
        """Tombstone documents; returns how many live ones were removed."""
        positions = self._positions()
        live = {positions[str(i)] for i in ids if str(i) in self}
        self.tombstones |= live
        self._invalidate()
        return len(live)

    def compact(self) -> Matcher:
        """One segment with dead documents dropped (statistics stay frozen until a rebuild)."""
        dead = self._dead_mask()
        n_terms = len(self.terms)
        n_ipc = len(self.ipc_terms)
        bm25 = sp.hstack([sparse.pad_rows(s.bm25, n_terms) for s in self.segments]).tocsc()
        ipc = sp.vstack([_pad_cols(s.ipc, n_ipc) for s in self.segments]).tocsr()
        keep = np.flatnonzero(~dead)
        ids = [self._all_ids()[k] for k in keep]
        industry = [i for s in self.segments for i in s.industry]
        seg = Segment(
            ids=ids,
            bm25=bm25[:, keep].tocsr(),
            ipc=ipc[keep],
            industry=[industry[k] for k in keep],
            dense=np.vstack([np.asarray(s.dense) for s in self.segments])[keep]  # type: ignore[misc]
            if self.dense_encoder is not None
            else None,
        )
        seg.bm25.sort_indices()
        return Matcher(
            params=self.params,
            terms=list(self.terms),
            idf=self.idf,
            avgdl=self.avgdl,
            n_main=self.n_main,
            ipc_terms=list(self.ipc_terms),
            segments=[seg],
            link=self.link,
            dense_encoder=self.dense_encoder,
        )

    # ----------------------------------------------------------------- signals
    def _ipc_matrix(self) -> sp.csr_matrix:
        """IPC tokens × docs (term-major): each document's sublinear tf × idf at the configured
        levels, L2-normalised per document.

        Term-major so that a query sums only its own tokens' postings; the docs-major product
        made scipy transpose the whole matrix on every query (measured at 1M patents: 88 ms of
        a 138 ms mean query)."""
        cached = self._cache.get("ipc_w")
        if cached is None:
            n_ipc = len(self.ipc_terms)
            counts = sp.vstack([_pad_cols(s.ipc, n_ipc) for s in self.segments]).tocsr()
            mask = _ipc_level_mask(self.ipc_terms, self.params.ipc_levels)
            df = np.bincount(counts.indices, minlength=n_ipc).astype(np.float64)
            n = max(counts.shape[0], 1)
            idf = (np.log((n + 1) / (df + 1)) + 1.0) * mask
            weighted = counts.copy()
            weighted.data = (1.0 + np.log(weighted.data)) * idf[weighted.indices]
            weighted.eliminate_zeros()
            norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
            norms[norms == 0] = 1.0
            by_doc = (sp.diags(1.0 / norms) @ weighted).tocsr().astype(np.float32)
            cached = by_doc.T.tocsr()
            cached.sort_indices()
            self._cache["ipc_idf"] = idf.astype(np.float32)
            self._cache["ipc_w"] = cached
        return cached  # type: ignore[return-value]

    def _query_ipc(self, queries: Sequence[Record]) -> sp.csr_matrix:
        self._ipc_matrix()
        idf: np.ndarray = self._cache["ipc_idf"]  # type: ignore[assignment]
        counts = _ipc_counts([q.ipc for q in queries], self.ipc_vocab, grow=False)
        counts = _pad_cols(counts, len(self.ipc_terms))
        counts.data = (1.0 + np.log(counts.data)) * idf[counts.indices]
        counts.eliminate_zeros()
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return (sp.diags(1.0 / norms) @ counts).tocsr().astype(np.float32)

    def _doc_industry_index(self) -> np.ndarray:
        cached = self._cache.get("ind")
        if cached is None:
            link = self.link
            codes = [c for s in self.segments for c in s.industry]
            cached = np.array(
                [link.industry_index(c) if (link and c) else -1 for c in codes], dtype=np.int64
            )
            self._cache["ind"] = cached
        return cached  # type: ignore[return-value]

    def _doc_subclasses(self) -> sp.csr_matrix:
        """Link subclasses × docs (term-major; each document's share of its subclasses), for
        queries that carry an industry code: such a query reads only the rows of subclasses
        its industry links to, not every document's row."""
        cached = self._cache.get("sub")
        if cached is None:
            assert self.link is not None
            link = self.link
            sub_cols = [
                (i, link.subclass_indices([t])) for i, t in enumerate(self.ipc_terms) if len(t) == 4
            ]
            rows = [i for i, s in sub_cols if s]
            cols = [s[0] for _, s in sub_cols if s]
            mapping = sp.csr_matrix(
                (np.ones(len(rows), np.float32), (rows, cols)),
                shape=(len(self.ipc_terms), len(link.ipc_subclasses)),
            )
            n_ipc = len(self.ipc_terms)
            counts = sp.vstack([_pad_cols(s.ipc, n_ipc) for s in self.segments]).tocsr()
            incid = (counts @ mapping).tocsr()
            incid.data[:] = 1.0
            totals = np.asarray(incid.sum(axis=1)).ravel()
            totals[totals == 0] = 1.0
            by_doc = (sp.diags(1.0 / totals) @ incid).tocsr().astype(np.float32)
            cached = by_doc.T.tocsr()
            cached.sort_indices()
            self._cache["sub"] = cached
        return cached  # type: ignore[return-value]

    def _query_terms(
        self, terms: Sequence[str]
    ) -> tuple[list[tuple[str, int, float]], dict[str, tuple[str, ...]]]:
        """(term, BM25 row, weight) of a query's known terms, its own and their translations,
        and for each translated term the query terms it came from.

        Own terms weigh 1 + ln(count) (see sparse.query_vector), times the Chinese term's
        general-language informativeness to the power `background_idf`
        (shuanglian.text.informativeness: 分析 and 评估 weigh less than 拓扑). Each own term also
        reaches the other language (shuanglian.text.bilingual) at `cross_lingual` × (1 + ln
        count) × the translation's share (not scaled by informativeness: measured worse on the
        cross-lingual suites, see fusion_params.json); a term reached both ways adds the parts.
        Translations the index lacks are dropped before the shares are taken; an English
        term's Chinese ones are then shared by the query's context (engine.senses).
        """
        vocab = self.vocab
        counts = Counter(terms)
        weights: dict[str, float] = {}
        power = self.params.background_idf
        for term, qtf in counts.items():
            if term in vocab:
                weights[term] = _own_weight(term, qtf, power)
        sources: dict[str, list[str]] = {}
        alpha = self.params.cross_lingual
        if alpha > 0:
            known = vocab.__contains__
            # Per-index memo of each term's translations the vocabulary has (cleared when
            # documents are added): a long profile repeats the same few hundred terms.
            memo: dict[str, tuple[tuple[str, float], ...]] = self._cache.setdefault(  # type: ignore[assignment]
                "translations", {}
            )
            founds = []
            for term in counts:
                found = memo.get(term)
                if found is None:
                    found = memo[term] = translations(term, known=known)
                founds.append(found)
            chosen = chosen_translations(self.sense_space, list(counts), founds, name=str)
            for (term, qtf), pairs in zip(counts.items(), chosen, strict=True):
                base = alpha * (1.0 + float(np.log(qtf)))
                for target, share in pairs:
                    weights[target] = weights.get(target, 0.0) + base * share
                    sources.setdefault(target, []).append(term)
        rows = [(t, vocab[t], w) for t, w in weights.items()]
        return rows, {t: tuple(s) for t, s in sources.items() if t not in counts}

    def _bm25_block(self, qmat: sp.csr_matrix) -> np.ndarray:
        """queries × docs BM25 scores: per query, the weighted sum of its terms' rows in every
        segment (a delta segment lacks the rows of terms added after it: they score 0 there)."""
        out = np.empty((qmat.shape[0], len(self._all_ids())), dtype=np.float32)
        for qi in range(qmat.shape[0]):
            lo, hi = qmat.indptr[qi], qmat.indptr[qi + 1]
            terms, weights = qmat.indices[lo:hi], qmat.data[lo:hi]
            start = 0
            for seg in self.segments:
                known = terms < seg.bm25.shape[0]
                stop = start + len(seg)
                out[qi, start:stop] = sparse.weighted_row_sum(
                    seg.bm25, terms[known], weights[known]
                )
                start = stop
        return out

    def _prior_block(self, queries: Sequence[Record]) -> np.ndarray:
        n_docs = len(self._all_ids())
        link = self.link
        if link is None:
            return np.zeros((len(queries), n_docs), dtype=np.float32)
        doc_ind = self._doc_industry_index()
        docs_have_industry = self._cache.get("any_ind")
        if docs_have_industry is None:
            docs_have_industry = self._cache["any_ind"] = bool((doc_ind >= 0).any())
        if docs_have_industry:
            # Each query's industry profile, plus a trailing zero column that documents without
            # an industry (index -1) pick up: the whole block is one gather instead of a masked
            # assignment per query (measured: 5 ms → 0.2 ms per query over 50k enterprises).
            profiles = np.zeros((len(queries), len(link.industries) + 1), dtype=np.float32)
            for qi, q in enumerate(queries):
                if q.ipc:
                    profiles[qi, :-1] = link.industry_profile(q.ipc)
            out = profiles[:, doc_ind]
        else:
            # Patents carry no industry: the gather would read a zero column for every document
            # (measured at 1M patents: ~10 ms per query for an all-zero block).
            out = np.zeros((len(queries), n_docs), dtype=np.float32)
        for qi, q in enumerate(queries):
            q_ind = link.industry_index(q.industry) if q.industry else -1
            if q_ind >= 0 and self.ipc_terms:
                # Zero-weight subclasses add exactly 0 to the docs-major sum: skipping them
                # leaves every score as it was.
                column = link.weights[:, q_ind]
                linked = np.flatnonzero(column)
                out[qi] += sparse.weighted_row_sum(self._doc_subclasses(), linked, column[linked])
        return out

    def signal_scores(
        self, queries: Sequence[Record], weights: dict[str, float]
    ) -> tuple[dict[str, np.ndarray], list[list[str]]]:
        """Raw per-signal score blocks (queries × docs) for the signals with a weight, and the
        query terms (for explanations)."""
        q_terms = [query_terms(q, self.params) for q in queries]
        out: dict[str, np.ndarray] = {}
        if weights.get("bm25", 0) > 0:
            rows = [self._query_terms(t)[0] for t in q_terms]
            out["bm25"] = self._bm25_block(sparse.weighted_query_matrix(rows, len(self.terms)))
        if weights.get("ipc", 0) > 0 and self.ipc_terms and any(q.ipc for q in queries):
            q_ipc, by_token = self._query_ipc(queries), self._ipc_matrix()
            block = np.empty((len(queries), by_token.shape[1]), dtype=np.float32)
            for qi in range(len(queries)):
                lo, hi = q_ipc.indptr[qi], q_ipc.indptr[qi + 1]
                block[qi] = sparse.weighted_row_sum(
                    by_token, q_ipc.indices[lo:hi], q_ipc.data[lo:hi]
                )
            out["ipc"] = block
        if weights.get("prior", 0) > 0 and self.link is not None:
            out["prior"] = self._prior_block(queries)
        return out, q_terms

    # ----------------------------------------------------------------- search
    def search_many(
        self,
        queries: Sequence[Record],
        *,
        top: int = 100,
        signals: Sequence[str] | None = None,
        encoder: object | None = None,
        doc_texts: Callable[[list[str]], list[str]] | None = None,
        explain: bool = False,
        doc_text: Callable[[str], str] | None = None,
    ) -> list[list[Hit]]:
        """Top `top` hits per query (fused); batched, explanations only when asked.

        The dense rerank of the top `rerank_depth` runs when an `encoder` is given: with the
        vectors stored at build (`dense_encoder`), only the queries are embedded (one encoder
        call per batch) and the short list's rows are read from the index; an encoder other
        than the one that made them raises `DenseMismatch`. An index without stored vectors
        reranks only when the candidates' passage texts are given (`doc_texts`, a batch
        loader, or `doc_text`, one id at a time: every query then embeds its whole short
        list, the slow way kept for comparisons); otherwise it logs a warning and ranks
        without the dense signal. Bulk callers that keep only a few of the hits (push rounds)
        should leave `explain` off and call `explain` on the hits they keep: an explanation
        costs more than ranking.
        """
        if doc_texts is None and doc_text is not None:
            one = doc_text
            doc_texts = lambda ids: [one(i) for i in ids]  # noqa: E731
        weights = active_weights(self.params, list(signals) if signals else None)
        stored = self._dense_ready(encoder, doc_texts is not None)
        if encoder is None or (not stored and doc_texts is None):
            weights["dense"] = 0.0
        ids = self._all_ids()
        dead = self._dead_mask()
        any_dead = bool(dead.any())
        depth = max(top, self.params.rerank_depth) if weights["dense"] > 0 else top
        scale = normalise_minmax if self.params.dense_scaling == "minmax" else normalise_max
        results: list[list[Hit]] = []
        for start in range(0, len(queries), _BATCH):
            chunk = list(queries[start : start + _BATCH])
            raw, q_terms = self.signal_scores(chunk, weights)
            # Each signal max-normalised and weighted in place: `weighted[s][q, d]` is the
            # `weights[s] * normalise_max(raw)` of the fusion, bit for bit.
            weighted = {s: _normalise_rows(v) for s, v in raw.items()}
            for s, v in weighted.items():
                if weights[s] != 1.0:
                    v *= weights[s]
            blocks = list(weighted.values())
            if not blocks:
                fused = np.zeros((len(chunk), len(ids)), dtype=np.float32)
            else:
                fused = blocks[0] + blocks[1] if len(blocks) > 1 else blocks[0].copy()
                for v in blocks[2:]:
                    fused += v
            if any_dead:
                fused[:, dead] = -np.inf
            cands = _top_k_rows(fused, depth)
            q_vecs = None
            if weights["dense"] > 0 and stored:
                q_vecs = embed_records(encoder, chunk, kind="query")  # type: ignore[arg-type]
            if weights["dense"] <= 0 and len({len(c) for c in cands}) == 1:
                # No rerank and a full list per query: order the whole batch at once.
                results.extend(self._batch_hits(chunk, q_terms, cands, weighted, top, explain))
                continue
            for qi, query in enumerate(chunk):
                cand = cands[qi]
                parts = {s: v[qi, cand] for s, v in weighted.items()}
                dense_sim = None
                if q_vecs is not None and len(cand):
                    dense_sim = np.clip(self._dense_rows(cand) @ q_vecs[qi], 0.0, None)
                    parts["dense"] = weights["dense"] * scale(dense_sim)
                elif weights["dense"] > 0 and len(cand) and doc_texts is not None:
                    dense_sim = _dense_scores(encoder, query, [ids[c] for c in cand], doc_texts)
                    parts["dense"] = weights["dense"] * scale(dense_sim)
                total = sum(parts.values()) if parts else np.zeros(len(cand), np.float32)
                order = np.argsort(-total, kind="stable")[:top]
                hits = self._hits(
                    query,
                    q_terms[qi],
                    cand[order],
                    total[order],
                    {n: v[order] for n, v in parts.items()},
                    None if dense_sim is None else dense_sim[order],
                    explain,
                )
                results.append(hits)
        return results

    def _dense_ready(self, encoder: object | None, texts_given: bool) -> bool:
        """Whether a search with `encoder` reads stored vectors (checking they are its own)."""
        if encoder is None:
            return False
        name = getattr(encoder, "name", None)
        if self.dense_encoder is not None:
            if name != self.dense_encoder:
                raise mismatch(self.dense_encoder, name)
            return True
        if not texts_given and not self._cache.get("warned_dense"):
            self._cache["warned_dense"] = True
            log.warning(
                "索引没有语义向量，本次不做语义重排 (index has no stored vectors: ranking without "
                "the dense signal); 用编码器 %s 重建索引即可启用 (rebuild the index with it)",
                name,
            )
        return False

    def _dense_rows(self, positions: np.ndarray) -> np.ndarray:
        """Stored vectors of documents at `positions` (over all segments) as float32 rows."""
        starts = self._cache.get("seg_starts")
        if starts is None:
            starts = np.cumsum([0] + [len(s) for s in self.segments])
            self._cache["seg_starts"] = starts
        starts = np.asarray(starts)
        pos = np.asarray(positions, dtype=np.int64)
        which = np.searchsorted(starts, pos, side="right") - 1
        out = np.empty((len(pos), int(self.segments[0].dense.shape[1])), dtype=np.float32)  # type: ignore[union-attr]
        for k in np.unique(which).tolist():
            mine = which == k
            out[mine] = np.asarray(self.segments[k].dense)[pos[mine] - starts[k]]  # type: ignore[index]
        return out

    def search(
        self,
        query: Record,
        *,
        top: int = 20,
        signals: Sequence[str] | None = None,
        encoder: object | None = None,
        doc_texts: Callable[[list[str]], list[str]] | None = None,
        explain: bool = True,
        doc_text: Callable[[str], str] | None = None,
    ) -> list[Hit]:
        """Top `top` documents for one query, each with an explanation by default."""
        return self.search_many(
            [query],
            top=top,
            signals=signals,
            encoder=encoder,
            doc_texts=doc_texts,
            explain=explain,
            doc_text=doc_text,
        )[0]

    def _batch_hits(
        self,
        chunk: Sequence[Record],
        q_terms: list[list[str]],
        cands: list[np.ndarray],
        weighted: dict[str, np.ndarray],
        top: int,
        explain: bool,
    ) -> list[list[Hit]]:
        """Hits of a batch whose candidate lists have one length, ordered with array
        operations over the whole batch (the same numbers as the per-query path)."""
        cand = np.stack(cands) if cands else np.zeros((0, 0), dtype=np.int64)
        rows = np.arange(len(chunk))[:, None]
        parts = {s: v[rows, cand] for s, v in weighted.items()}
        total = sum(parts.values()) if parts else np.zeros(cand.shape, np.float32)
        order = np.argsort(-total, axis=1, kind="stable")[:, :top]
        cand = np.take_along_axis(cand, order, axis=1)
        total = np.take_along_axis(total, order, axis=1)
        parts = {s: np.take_along_axis(v, order, axis=1) for s, v in parts.items()}
        return [
            self._hits(
                query,
                q_terms[qi],
                cand[qi],
                total[qi],
                {s: v[qi] for s, v in parts.items()},
                None,
                explain,
            )
            for qi, query in enumerate(chunk)
        ]

    def _hits(
        self,
        query: Record,
        terms: list[str],
        cand: np.ndarray,
        total: np.ndarray,
        parts: dict[str, np.ndarray],
        dense: np.ndarray | None,
        explain: bool,
    ) -> list[Hit]:
        """Hits of one query from its candidates, already in rank order."""
        # No signal found anything past the first non-positive score: not a match, however
        # short the list.
        positive = total > 0
        n = len(total) if positive.all() else int(np.argmin(positive))
        if n == 0:
            return []
        ids = self._all_ids()
        names = list(parts)
        columns = [parts[s][:n].tolist() for s in names]
        per_hit = list(zip(*columns, strict=True)) if names else [()] * n
        hits = [
            Hit(doc_id=ids[d], score=t, signals=dict(zip(names, vals, strict=True)))
            for d, t, vals in zip(cand[:n].tolist(), total[:n].tolist(), per_hit, strict=True)
        ]
        if explain:
            view = self._query_view(query, terms)
            matches = self._term_matches(view, cand[:n].tolist())
            for k, hit in enumerate(hits):
                hit.explanation = self._explain(
                    view,
                    int(cand[k]),
                    hit.signals,
                    hit.score,
                    None if dense is None else float(dense[k]),
                    *matches[k],
                )
        return hits

    # ----------------------------------------------------------------- explanations
    def explain(self, query: Record, hits: Sequence[Hit]) -> None:
        """Fill in `hit.explanation` for hits of `query` returned by `search_many` without one.

        The same explanation `search_many(explain=True)` gives, except the dense similarity,
        which only a reranked search knows; unknown or removed ids are left unexplained.
        """
        if not hits:
            return
        view = self._query_view(query, query_terms(query, self.params))
        positions = self._positions()
        dead = self._dead_mask()
        live = [
            (hit, pos)
            for hit in hits
            if (pos := positions.get(hit.doc_id)) is not None and not dead[pos]
        ]
        matches = self._term_matches(view, [pos for _, pos in live])
        for (hit, pos), terms in zip(live, matches, strict=True):
            hit.explanation = self._explain(view, pos, hit.signals, hit.score, None, *terms)

    def match_probabilities(
        self, query: Record, positions: Sequence[int], *, terms: list[str] | None = None
    ) -> np.ndarray:
        """`Explanation.match` of the documents at `positions` for `query`, through the
        explanation's own steps but without building the explanations: the bulk push tells
        weak pairs by it (`engine.bulk_levels`). `terms`: the query's `query_terms` when they
        are already at hand."""
        out = np.zeros(len(positions), dtype=np.float64)
        if not len(positions):
            return out
        view = self._query_view(query, query_terms(query, self.params) if terms is None else terms)
        q_cov, d_cov = self._coverages(view, positions)
        calibration = self.params.calibration
        covers = zip(positions, q_cov.tolist(), d_cov.tolist(), strict=True)
        for k, (pos, q, d) in enumerate(covers):
            out[k] = match_probability(self._evidence(view, int(pos), q, d), calibration)
        return out

    def _query_view(self, query: Record, terms: list[str]) -> _QueryView:
        """What every explanation of one query needs, computed once per query."""
        # Same query weights as the BM25 signal, so the parts sum to the score.
        q_terms, sources = self._query_terms(terms)
        link = self.link
        q_ipc = self._query_ipc([query]) if query.ipc and self.ipc_terms else None
        return _QueryView(
            terms=q_terms,
            sources=sources,
            groups=self._coverage_groups(q_terms, sources, terms),
            counted=np.array(
                [t not in sources or is_specific_translation(t) for t, _r, _w in q_terms],
                dtype=bool,
            ),
            ipc_weights={}
            if q_ipc is None
            else dict(zip(q_ipc.indices.tolist(), q_ipc.data.tolist(), strict=True)),
            ipc=set(ipc_tokens(query.ipc, levels=self.params.ipc_levels)),
            subclasses=link.subclass_indices(query.ipc) if link is not None else [],
            industry=link.industry_index(query.industry)
            if (link is not None and query.industry)
            else -1,
        )

    def _coverage_groups(
        self,
        q_terms: list[tuple[str, int, float]],
        sources: dict[str, tuple[str, ...]],
        all_terms: Sequence[str],
    ) -> list[tuple[float, list[int]]]:
        """Coverage groups of a query; `all_terms` (the query's own terms, known to the index
        or not) adds a never-covered group for each specific word the index lacks, at the
        largest idf: a word no document has is still a word of the query, and leaving it out
        made a long business scope over a small index read as fully covered by its one known
        word."""
        idf = self.idf
        top_idf = float(np.max(idf)) if len(idf) else 1.0
        own = {t: i for i, (t, _r, _w) in enumerate(q_terms) if t not in sources}
        members: dict[str, list[int]] = {}
        for i, (term, _row, _w) in enumerate(q_terms):
            if is_bigram(term):  # a character pair is no word of the query
                continue
            if term not in sources:  # the query's own term: a word, not a pair
                words = [] if "_" in term else [term]
            elif not is_specific_translation(term):  # 计算机系统 ↔ system covers nothing
                words = []
            else:  # a translation; one from a pair (lithium_batteri → 锂电池) covers both
                words = [w for src in sources[term] for w in src.split("_")]
            for word in dict.fromkeys(words):
                if not is_generic(word):
                    members.setdefault(word, []).append(i)
        groups = []
        for src, rows in members.items():
            # weight × idf of the word itself, or of its best translation when the index
            # lacks the word (a Chinese query over English documents).
            mass = max(
                q_terms[i][2] * (float(idf[q_terms[i][1]]) if q_terms[i][1] < len(idf) else top_idf)
                for i in ([own[src]] if src in own else rows)
            )
            groups.append((mass, rows))
        power = self.params.background_idf
        for term, qtf in Counter(all_terms).items():
            unknown_word = term not in self.vocab and not is_bigram(term) and "_" not in term
            if unknown_word and term not in members and not is_generic(term):
                groups.append((float(_own_weight(term, qtf, power)) * top_idf, []))
        return groups

    def _doc_mass(self, seg: Segment) -> np.ndarray:
        """Each document's total BM25 weight over all its terms (for document coverage)."""
        key = f"mass:{id(seg)}"
        cached = self._cache.get(key)
        if cached is None:
            cached = np.bincount(
                np.asarray(seg.bm25.indices), weights=np.asarray(seg.bm25.data), minlength=len(seg)
            )
            self._cache[key] = cached
        return cached  # type: ignore[return-value]

    def _term_matches(
        self, view: _QueryView, positions: Sequence[int]
    ) -> list[tuple[list[TermMatch], float, float]]:
        """For each document position, the query terms it contains with their BM25 parts, best
        first (ties in query order), at most `_EXPLAIN_TERMS`.

        One sorted search per query term over all the documents at once: a search per
        (term, hit) pair was 1.3 s of 5.5 s in a 1M-patent profile (long English profiles
        have hundreds of terms, × 20 hits).

        With each list come the query coverage (share of the query's specific words, by
        weight × idf, that the document has, itself or translated) and the document coverage
        (share of the document's BM25 weight on the query's terms): absolute, unlike the
        per-query normalised score, so they can be calibrated into a readable match level."""
        out: list[tuple[list[TermMatch], float, float]] = [([], 0.0, 0.0) for _ in positions]
        if not positions or not view.terms:
            return out
        for seg, cols, slots in self._by_segment(positions):
            self._segment_term_matches(view, seg, cols, slots, out)
        return out

    def _by_segment(
        self, positions: Sequence[int]
    ) -> Iterator[tuple[Segment, np.ndarray, np.ndarray]]:
        """(segment, its columns, the places in `positions` they stand at) for each segment
        that holds some of the document `positions`."""
        pos = np.asarray(positions, dtype=np.int64)
        start = 0
        for seg in self.segments:
            stop = start + len(seg)
            mine = np.flatnonzero((pos >= start) & (pos < stop))
            if len(mine):
                yield seg, pos[mine] - start, mine
            start = stop

    def _segment_term_matches(
        self,
        view: _QueryView,
        seg: Segment,
        cols: np.ndarray,
        slots: np.ndarray,
        out: list[tuple[list[TermMatch], float, float]],
    ) -> None:
        """`_term_matches` for documents `cols` of one segment, written to `out[slots]`."""
        found, parts, q_cov, d_cov = self._segment_evidence(view, seg, cols)
        # Character-bigram terms score but are no shared word to show.
        shown = np.array([not is_bigram(t) for t, _r, _w in view.terms], dtype=bool)
        for j, slot in enumerate(slots.tolist()):
            rows = np.flatnonzero(found[:, j] & shown)
            best = rows[np.argsort(-parts[rows, j], kind="stable")[:_EXPLAIN_TERMS]]
            matches = [
                TermMatch(
                    view.terms[r][0], float(parts[r, j]), view.sources.get(view.terms[r][0], ())
                )
                for r in best.tolist()
            ]
            out[slot] = (matches, float(q_cov[j]), float(d_cov[j]))

    def _coverages(
        self, view: _QueryView, positions: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(query coverage, document coverage) of each document position, as `_term_matches`
        gives them, without the lists of shared terms."""
        q_cov = np.zeros(len(positions), dtype=np.float64)
        d_cov = np.zeros(len(positions), dtype=np.float64)
        if not len(positions) or not view.terms:
            return q_cov, d_cov
        for seg, cols, slots in self._by_segment(positions):
            _found, _parts, q_cov[slots], d_cov[slots] = self._segment_evidence(view, seg, cols)
        return q_cov, d_cov

    def _segment_evidence(
        self, view: _QueryView, seg: Segment, cols: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For documents `cols` of one segment: which query terms each holds (terms ×
        documents), their BM25 parts, and each document's query and document coverage."""
        order = np.argsort(cols, kind="stable")
        keys = cols[order]
        n_rows = seg.bm25.shape[0]
        indptr, indices, data = seg.bm25.indptr, seg.bm25.indices, seg.bm25.data
        found = np.zeros((len(view.terms), len(cols)), dtype=bool)
        parts = np.zeros((len(view.terms), len(cols)), dtype=np.float64)
        for t, (_term, row, weight) in enumerate(view.terms):
            if row >= n_rows:
                continue
            lo, hi = int(indptr[row]), int(indptr[row + 1])
            if lo == hi:
                continue
            at = np.minimum(np.searchsorted(indices[lo:hi], keys), hi - lo - 1)
            hit = indices[lo + at] == keys
            if hit.any():
                found[t, order[hit]] = True
                # float64 like the query weight: the same numbers as term-by-term lookups.
                parts[t, order[hit]] = data[lo + at[hit]].astype(np.float64) * weight
        mass = self._doc_mass(seg)[cols]
        weights = np.array([w for _t, _r, w in view.terms], dtype=np.float64)
        counted = view.counted
        matched_doc = (parts[counted] / np.maximum(weights[counted], 1e-9)[:, None]).sum(axis=0)
        group_mass = np.array([m for m, _ in view.groups], dtype=np.float64)
        total_mass = float(group_mass.sum())
        # The mass of the coverage groups each document has (a test per group and document
        # was half the cost of explaining 60 hits of a patent), summed in group order.
        covered = np.zeros(len(cols), dtype=np.float64)
        for g_mass, members in view.groups:
            if members:
                covered += g_mass * found[members].any(axis=0)
        q_cov = covered / total_mass if total_mass > 0 else np.zeros(len(cols))
        d_cov = np.divide(matched_doc, mass, out=np.zeros(len(cols)), where=mass > 0)
        return found, parts, q_cov, np.minimum(d_cov, 1.0)

    def _explain(
        self,
        view: _QueryView,
        pos: int,
        parts: dict[str, float],
        total: float,
        dense: float | None,
        matches: list[TermMatch],
        q_cov: float = 0.0,
        d_cov: float = 0.0,
    ) -> Explanation:
        seg, col = self._locate(pos)
        lo, hi = seg.ipc.indptr[col], seg.ipc.indptr[col + 1]
        doc_ipc = [self.ipc_terms[i] for i in seg.ipc.indices[lo:hi]]
        shared = sorted(view.ipc.intersection(doc_ipc), key=lambda t: (-len(t), t))
        evidence = self._evidence(view, pos, q_cov, d_cov)
        if dense is not None:
            evidence["dense"] = dense
        return Explanation(
            terms=matches,
            ipc_shared=shared,
            industry_links=self._links(view, seg, col, doc_ipc),
            dense=dense,
            shares={s: (v / total if total > 0 else 0.0) for s, v in parts.items()},
            evidence=evidence,
            match=match_probability(evidence, self.params.calibration),
        )

    def _evidence(self, view: _QueryView, pos: int, q_cov: float, d_cov: float) -> dict[str, float]:
        """The calibrated model's inputs for the document at `pos` (engine.calibrate): one
        place, so a bulk job's level (`match_probabilities`) is the one its explanation shows."""
        ipc_sim = self._ipc_similarity(view, pos) if view.ipc_weights else 0.0
        return {
            "query_coverage": q_cov,
            "doc_coverage": d_cov,
            "ipc": ipc_sim,
            "query_words": float(len(view.groups)),
        }

    def _ipc_similarity(self, view: _QueryView, pos: int) -> float:
        """Raw IPC cosine of the query and the document at `pos` (in [0, 1])."""
        by_token = self._ipc_matrix()
        total = 0.0
        for tok, weight in view.ipc_weights.items():
            lo, hi = int(by_token.indptr[tok]), int(by_token.indptr[tok + 1])
            at = int(np.searchsorted(by_token.indices[lo:hi], pos))
            if at < hi - lo and by_token.indices[lo + at] == pos:
                total += weight * float(by_token.data[lo + at])
        return min(max(total, 0.0), 1.0)

    def _links(
        self, view: _QueryView, seg: Segment, col: int, doc_ipc: list[str]
    ) -> list[LinkReason]:
        link = self.link
        if link is None:
            return []
        pairs: list[LinkReason] = []
        doc_ind = link.industry_index(seg.industry[col]) if seg.industry[col] else -1
        if doc_ind >= 0:
            for s in view.subclasses:
                w = float(link.weights[s, doc_ind])
                if w > 0:
                    pairs.append(LinkReason(link.ipc_subclasses[s], link.industries[doc_ind], w))
        q_ind = view.industry
        if q_ind >= 0:
            for s in link.subclass_indices([c for c in doc_ipc if len(c) == 4]):
                w = float(link.weights[s, q_ind])
                if w > 0:
                    pairs.append(LinkReason(link.ipc_subclasses[s], link.industries[q_ind], w))
        pairs.sort(key=lambda p: -p.weight)
        return pairs[:_EXPLAIN_LINKS]

    def _locate(self, pos: int) -> tuple[Segment, int]:
        for seg in self.segments:
            if pos < len(seg):
                return seg, pos
            pos -= len(seg)
        raise IndexError(pos)


def _pad_cols(mat: sp.csr_matrix, n_cols: int) -> sp.csr_matrix:
    if mat.shape[1] >= n_cols:
        return mat
    return sp.csr_matrix((mat.data, mat.indices, mat.indptr), shape=(mat.shape[0], n_cols))


def _normalise_rows(block: np.ndarray) -> np.ndarray:
    """`fusion.normalise_max` of a queries × docs block, computed in place: the same numbers
    without two extra block-sized arrays per signal (the block is a scratch array here)."""
    arr = block if block.dtype == np.float32 else block.astype(np.float32)
    top = arr.max(axis=1, keepdims=True, initial=0.0)
    top[top <= 0] = 1.0
    np.maximum(arr, 0.0, out=arr)
    arr /= top
    return arr


def _top_k(row: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best finite scores, best first (argpartition: O(n), no full sort).

    Equal scores are ordered by position (the earlier document first), also at the k-th
    place: the list is the first k of (score descending, position ascending), whatever
    way the selection algorithm happened to visit the row, so any other exact top-k (the
    bulk job's, `engine.bulk`) gives the same documents in the same order."""
    return _top_k_rows(row[None, :], k)[0]


def _top_k_rows(block: np.ndarray, k: int) -> list[np.ndarray]:
    """`_top_k` of every row of a queries × docs block, with one argpartition call for the
    block (row by row it is the same selection; one call saves the per-row overhead)."""
    n = block.shape[1]
    k = min(k, n)
    if k <= 0:
        return [np.zeros(0, dtype=np.int64) for _ in range(block.shape[0])]
    if k < n:
        parts = np.argpartition(-block, k - 1, axis=1)[:, :k]
    else:
        parts = np.broadcast_to(np.arange(n), block.shape)
    out = []
    for row, part in zip(block, parts, strict=True):
        part = np.sort(part[np.isfinite(row[part])])  # tombstoned documents are -inf
        if k < n and len(part) == k:
            # Documents tied with the k-th score but left out: the earliest positions win.
            kth = row[part].min()
            at_kth = row == kth
            if int(np.count_nonzero(at_kth)) > int(np.count_nonzero(row[part] == kth)):
                above = part[row[part] > kth]
                tied = np.flatnonzero(at_kth)[: k - len(above)]
                part = np.sort(np.concatenate([above, tied]))
        out.append(part[np.argsort(-row[part], kind="stable")])
    return out


def _dense_scores(
    encoder: object,
    query: Record,
    doc_ids: list[str],
    doc_texts: Callable[[list[str]], list[str]],
) -> np.ndarray:
    """Cosine of the query to each candidate's passage text (encoder rows are unit length)."""
    q_text = "\n".join(p for p in (query.title, query.text) if p)
    q = encoder.encode([q_text], kind="query")  # type: ignore[attr-defined]
    docs = encoder.encode(doc_texts(doc_ids), kind="passage")  # type: ignore[attr-defined]
    return np.clip((docs @ q[0]).astype(np.float32), 0.0, None)
