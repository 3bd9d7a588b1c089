"""The bulk job's ranking (`engine.bulk`) must be the engine's ranking, number for number.

`BulkRanker` re-does `Matcher.search_many` without its per-query costs (memoised query rows,
one prior row per industry, a sampled-threshold top-k, arrays instead of `Hit`s); here it is
compared with `Matcher.search` query by query on real records, both directions (patents →
enterprises with IPC and the industry prior, enterprises → patents with their industry), with
equal scores (duplicated documents), a removed document and a delta segment.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shuanglian.engine import bulk_prune
from shuanglian.engine.bulk import (
    RankedBlock,
    best_positive,
    bulk_ranker,
    rank_block,
    rank_block_reference,
)
from shuanglian.engine.matcher import Matcher, _top_k
from shuanglian.engine.records import Record
from shuanglian.matching.service import industry_link

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared/data/samples"
_SCOPE = (("软件", "I65"), ("电子", "C39"), ("仪器", "C40"), ("医药", "C27"), ("化工", "C26"),
          ("机械", "C34"), ("电气", "C38"), ("食品", "C14"))  # fmt: skip


def _patents(n: int) -> list[Record]:
    with (SAMPLES / "cn_patents_sysu_cnki_export_1467.csv").open(encoding="utf-8-sig") as fh:
        rows = [r for r in csv.DictReader(fh) if r["Title-题名"].strip()][:n]
    out = []
    for i, row in enumerate(rows, start=1):
        codes = tuple(c.strip() for c in row.get("CLC-中图分类号", "").split(";") if c.strip())
        out.append(
            Record(id=str(i), title=row["Title-题名"], text=row.get("Summary-摘要", ""), ipc=codes)
        )
    return out


def _enterprises(n: int) -> list[Record]:
    with (SAMPLES / "cn_enterprises_2002_business_scope.csv").open(encoding="utf-8") as fh:
        rows = [r for _, r in zip(range(n), csv.DictReader(fh), strict=False)]
    return [
        Record(
            id=str(i),
            title=row["企业名称"],
            text=row["经营范围"],
            industry=next((code for word, code in _SCOPE if word in row["经营范围"]), None),
        )
        for i, row in enumerate(rows, start=1)
    ]


def _with_copies(records: list[Record], every: int) -> list[Record]:
    """Every `every`-th record again under a new id: equal scores, so ties must be broken
    the same way by both paths."""
    base = len(records)
    copies = [replace(r, id=str(base + k + 1)) for k, r in enumerate(records[::every])]
    return records + copies


def _hits(block: RankedBlock, i: int) -> list[tuple[str, float, list[float]]]:
    ids, scores, parts = block.hits_of(i)
    return [(d, s, p) for d, s, p in zip(ids, scores.tolist(), parts.tolist(), strict=True)]


def _engine_hits(matcher: Matcher, query: Record, top: int) -> list[tuple[str, float, list]]:
    hits = matcher.search(query, top=top, explain=False)
    return [
        (
            h.doc_id,
            h.score,
            [float(np.float32(h.signals.get(s, 0.0))) for s in ("bm25", "ipc", "prior")],
        )
        for h in hits
    ]


def _check(matcher: Matcher, queries: list[Record], top: int, source: Matcher | None = None) -> int:
    bulk_ranker(matcher).use_source(source)
    fast = bulk_ranker(matcher).rank(queries, top=top)
    assert fast.query_ids == [q.id for q in queries] and not fast.failed
    compared = 0
    for i, query in enumerate(queries):
        expected = _engine_hits(matcher, query, top)
        assert _hits(fast, i) == expected, query.id
        compared += len(expected)
    # The checked entry point gives the same block (and found no reason to fall back).
    checked = rank_block(matcher, queries, top=top, source=source)
    assert checked.doc_ids == fast.doc_ids and np.array_equal(checked.scores, fast.scores)
    assert bulk_ranker(matcher).exact
    return compared


def test_patents_to_enterprises_equal_matcher_search() -> None:
    docs = _with_copies(_enterprises(400), every=7)
    matcher = Matcher.build(docs, link=industry_link())
    queries = _patents(120)
    assert sum(1 for q in queries if q.ipc) > 50
    assert _check(matcher, queries, top=15) > 1000


def test_enterprises_to_patents_equal_matcher_search() -> None:
    docs = _with_copies(_patents(300), every=5)
    matcher = Matcher.build(docs, link=industry_link())
    queries = _enterprises(150)
    assert sum(1 for q in queries if q.industry) > 30
    assert _check(matcher, queries, top=15) > 1000


def test_profile_queries_of_several_patents_equal_matcher_search() -> None:
    # A firm described by its patents, one per line: terms count once per patent
    # (matcher.query_terms), in the fast path as in the engine.
    patents = _patents(360)
    docs, rest = patents[:300], patents[300:]
    profiles = [
        Record(
            id=f"firm{k}",
            title="",
            text="\n".join(f"{p.title} {p.text}" for p in rest[k : k + 4]),
            ipc=tuple(c for p in rest[k : k + 4] for c in p.ipc),
        )
        for k in range(0, 56, 4)
    ]
    matcher = Matcher.build(docs, link=industry_link())
    assert matcher.params.query_passages
    assert _check(matcher, profiles, top=15) > 100


def test_removed_documents_and_a_delta_segment() -> None:
    docs = _with_copies(_enterprises(300), every=6)
    matcher = Matcher.build(docs, link=industry_link())
    matcher.remove(["3", "10", "301"])
    matcher.add(_enterprises(330)[300:] + [replace(docs[4], id="5", text="软件开发 电子产品")])
    assert len(matcher.segments) == 2
    _check(matcher, _patents(80), top=12)


def test_a_scoring_change_falls_back_to_the_engine() -> None:
    """If `Matcher`'s query weights change and the fast path is not updated, the first
    queries of a block disagree and the whole block is ranked by `search_many` instead."""

    class Heavier(Matcher):
        def _query_terms(self, terms):  # type: ignore[no-untyped-def]
            rows, sources = super()._query_terms(terms)
            return [(t, r, w * (2.0 if len(t) > 2 else 1.0)) for t, r, w in rows], sources

    docs = _enterprises(300)
    plain = Matcher.build(docs, link=industry_link())
    changed = Heavier(**{f: getattr(plain, f) for f in plain.__dataclass_fields__})
    queries = _patents(60)
    block = rank_block(changed, queries, top=10)
    assert not bulk_ranker(changed).exact
    reference = rank_block_reference(changed, queries, top=10)
    assert block.doc_ids == reference.doc_ids
    assert np.array_equal(block.scores, reference.scores)


def test_equal_scores_rank_by_position() -> None:
    row = np.array([2, 1, 1, 0, 3, 2, 2, 3, 1, 2, 0, 3] * 15, dtype=np.float32)
    for k in range(1, len(row) + 1):
        expected = sorted(range(len(row)), key=lambda i: (-row[i], i))[:k]
        assert _top_k(row, k).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.sampled_from([0.0, 0.0, 0.25, 0.5, 0.5, 1.0, 0.125, 0.75, float("-inf")]),
        min_size=1,
        max_size=3000,
    ),
    noise=st.booleans(),
    k=st.integers(min_value=1, max_value=80),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_best_positive_is_the_positive_part_of_top_k(
    values: list[float], noise: bool, k: int, seed: int
) -> None:
    row = np.asarray(values, dtype=np.float32)
    if noise:  # some distinct values among the ties
        rng = np.random.default_rng(seed)
        pick = rng.random(len(row)) < 0.3
        row[pick] = rng.random(int(pick.sum())).astype(np.float32)
    expected = [int(i) for i in _top_k(row, k) if row[i] > 0]
    assert best_positive(row, k).tolist() == expected


def _pruned_more_than_full(matcher: Matcher) -> bool:
    scorer = bulk_ranker(matcher)._pruned
    return scorer is not None and scorer[1].pruned > scorer[1].full


def test_pruned_path_equals_matcher_search(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With a small sample per k, the pruning bound (not the whole-row fallback) ranks most
    queries of these small indexes: the hits must still be `Matcher.search`'s, both ways, with
    IPC and both forms of the industry prior, ties, removed documents and a delta segment
    (the bound tightened by the best BM25 candidates whenever more than 2k are left)."""
    monkeypatch.setattr(bulk_prune, "_SAMPLE_PER_K", 8)
    monkeypatch.setattr(bulk_prune, "_REFINE", 2)
    to_firms = Matcher.build(_with_copies(_enterprises(400), every=7), link=industry_link())
    _check(to_firms, _patents(120), top=15)
    assert _pruned_more_than_full(to_firms)
    to_patents = Matcher.build(_with_copies(_patents(300), every=5), link=industry_link())
    _check(to_patents, _enterprises(150), top=15)
    assert _pruned_more_than_full(to_patents)
    removed = Matcher.build(_with_copies(_enterprises(300), every=6), link=industry_link())
    removed.remove(["3", "10", "301"])
    removed.add(_enterprises(330)[300:])
    _check(removed, _patents(80), top=12)
    assert _pruned_more_than_full(removed)


def test_stored_query_forms_equal_tokenised_queries(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Queries whose terms come from their own index (`Segment.doc_terms`) rank exactly as
    tokenised ones, both ways; a record whose text changed since its index was built, or that
    is not in it, is tokenised instead."""
    monkeypatch.setattr(bulk_prune, "_SAMPLE_PER_K", 8)
    patents, firms = _patents(200), _with_copies(_enterprises(400), every=7)
    patent_index = Matcher.build(patents, link=industry_link(), query_forms=True)
    firm_index = Matcher.build(firms, link=industry_link(), query_forms=True)
    queries = patents[:100] + [
        replace(patents[100], text=patents[100].text + " 锂电池"),
        replace(patents[101], id="9999"),
    ]
    _check(firm_index, queries, top=15, source=patent_index)
    stored = bulk_ranker(firm_index)._stored
    assert stored is not None and stored.used >= 100 and stored.tokenised >= 2
    _check(patent_index, firms[:150], top=15, source=firm_index)
    stored = bulk_ranker(patent_index)._stored
    assert stored is not None and stored.used >= 150


def test_bm25_row_equals_the_engine_block() -> None:
    """The pruned scorer's BM25 row (whole postings arrays, a two-entry span per term) is the
    engine's BM25 row bit for bit."""
    to_firms = Matcher.build(_with_copies(_enterprises(400), every=7), link=industry_link())
    ranker = bulk_ranker(to_firms)
    queries = _patents(60)
    qmat = ranker._query_matrix(queries)
    expected = to_firms._bm25_block(qmat)
    scorer = ranker._scorer({"bm25": 1.0, "ipc": 0.6, "prior": 0.1, "dense": 0.0})
    for qi in range(len(queries)):
        lo, hi = qmat.indptr[qi], qmat.indptr[qi + 1]
        row = scorer.bm25_row(qmat.indices[lo:hi], qmat.data[lo:hi])
        assert np.array_equal(row, expected[qi]), qi
