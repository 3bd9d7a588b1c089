"""The bulk push's match levels: the number a page's explanation shows, computed for a whole
block at once (`engine.bulk_levels`), equal to `Matcher.match_probabilities` hit for hit."""

from __future__ import annotations

import numpy as np

from shuanglian.engine.bulk import rank_block
from shuanglian.engine.bulk_levels import block_match, weak_of
from shuanglian.engine.calibrate import HIGH, MEDIUM
from shuanglian.engine.matcher import Matcher
from shuanglian.engine.records import Record

FIRMS = [
    ("battery", "锂电池制造有限公司", "锂电池、正极材料的研发、生产和销售；储能电池系统集成"),
    ("english", "Volta Cells Inc", "Lithium battery packs, cathode materials, battery recycling"),
    ("generic", "恒通信息服务有限公司", "信息技术服务；系统集成；数据处理服务；技术开发、技术咨询"),
    ("recycle", "绿源再生资源有限公司", "废旧电池回收；锂电池梯次利用；再生资源加工"),
    ("drones", "Skyward Drones Ltd", "Unmanned aerial vehicles, flight controllers, battery packs"),
    ("uav", "翔宇无人机科技有限公司", "无人机研发制造；飞行控制系统；航拍服务"),
    ("display", "Bright Panels Co", "Display devices, OLED panels and touch screens"),
    ("food", "香满园食品有限公司", "食品加工；饼干、糕点的生产和销售"),
    ("compilers", "Buildware Inc", "We build and construct compilers for GPUs."),
    ("builder", "华建建筑有限公司", "房屋建筑工程施工；混凝土预制构件"),
]
PATENTS = [
    Record(id=k, title=t, text=x)
    for k, t, x in [
        ("p1", "一种锂电池正极材料及其制备方法", "本发明公开一种锂电池正极材料，循环寿命长。"),
        ("p2", "Lithium battery cathode recycling", "Recovering cathode materials from spent "
         "lithium batteries by leaching."),
        ("p3", "无人机飞行控制方法", "一种无人机飞行控制系统，提高航拍稳定性；氢燃料电池供电。"),
        ("p4", "Flight controller for unmanned aerial vehicles", "A flight controller with a "
         "battery monitor for drones."),
        ("p5", "一种数据处理系统", "本发明提供信息服务与数据处理系统，提升服务效率。"),
        ("p6", "OLED display panel with a quantum-dot layer", "A display panel whose zyxoquant "
         "layer improves colour."),
        ("p7", "一种建筑施工用混凝土预制构件", "用于房屋建设的预制构件。"),
    ]
]  # fmt: skip


def _firms() -> list[Record]:
    return [Record(id=k, title=t, text=x) for k, t, x in FIRMS]


def _reference(matcher: Matcher, queries: list[Record], block) -> np.ndarray:  # type: ignore[no-untyped-def]
    positions = matcher._positions()
    out = np.zeros(len(block.doc_ids))
    for i, query in enumerate(queries):
        lo, hi = int(block.offsets[i]), int(block.offsets[i + 1])
        out[lo:hi] = matcher.match_probabilities(
            query, [positions[d] for d in block.doc_ids[lo:hi]]
        )
    return out


def test_a_blocks_levels_equal_the_explanations_match_hit_for_hit() -> None:
    """Chinese and English queries over a mixed index: own words, translations (锂电池 ↔
    lithium battery), loose ones that cover nothing (建设 → build), generic words, a word the
    index lacks (zyxoquant, 氢燃料)."""
    target = Matcher.build(_firms(), query_forms=True)
    source = Matcher.build(PATENTS, query_forms=True)
    block = rank_block(target, PATENTS, top=8, source=source)
    got = block_match(target, PATENTS, block)
    want = _reference(target, PATENTS, block)
    assert len(got) > 20
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    # The suite is not trivial: both sides of the weak line occur, and cross-language hits.
    assert (want < MEDIUM).any() and (want >= MEDIUM).any()
    i = block.query_ids.index("p1")
    english = block.doc_ids.index("english", int(block.offsets[i]), int(block.offsets[i + 1]))
    assert got[english] > 0
    i = block.query_ids.index("p7")
    assert "compilers" in block.doc_ids[int(block.offsets[i]) : int(block.offsets[i + 1])]
    assert np.array_equal(weak_of(block_match(target, PATENTS, block)), want < MEDIUM)


def test_short_queries_are_held_down_alike_in_bulk() -> None:
    """Firms as queries, one-line scopes of one to three words, over the patents: a hit
    lacking some of a short scope's words reads 中 at most (`short_query_match`), the bulk
    level the same number as the explanation's."""
    scopes = [
        Record(id="s1", title="锂电池销售", text="锂电池、无人机销售"),
        Record(id="s2", title="Drone shop", text="drones, flight controllers"),
        Record(id="s3", title="预制构件厂", text="混凝土预制构件"),
    ]
    target = Matcher.build(PATENTS, query_forms=True)
    source = Matcher.build(scopes, query_forms=True)
    block = rank_block(target, scopes, top=7, source=source)
    got = block_match(target, scopes, block)
    want = _reference(target, scopes, block)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    i = block.query_ids.index("s1")
    lo, hi = int(block.offsets[i]), int(block.offsets[i + 1])
    # p1 (锂电池, no 无人机) and p3 (无人机, no 锂电池): each part of the scope, neither 高,
    # neither weak.
    held = [got[block.doc_ids.index(d, lo, hi)] for d in ("p1", "p3")]
    assert all(MEDIUM <= p < HIGH for p in held), held


def test_hits_of_a_delta_segment_and_queries_changed_since_the_build_read_the_same() -> None:
    """A segment added after the build keeps no document terms, and a query whose text changed
    has no stored form: both take other paths to the same numbers."""
    target = Matcher.build(_firms()[:5], query_forms=True)
    target.add(_firms()[5:])
    source = Matcher.build(PATENTS, query_forms=True)
    changed = Record(id="p3", title="无人机飞行控制方法", text="一种无人机飞行控制系统和电池。")
    queries = [*PATENTS[:2], changed, *PATENTS[3:]]
    block = rank_block(target, queries, top=8, source=source)
    assert {"uav", "food"} & set(block.doc_ids)
    np.testing.assert_allclose(
        block_match(target, queries, block), _reference(target, queries, block), atol=1e-12
    )


def test_shared_patent_classes_count_as_in_an_explanation() -> None:
    """Patents as the target, with IPC codes on both sides: the raw IPC cosine is part of
    the level."""
    docs = [
        Record(id="a", title="锂电池正极材料", text="正极材料的制备", ipc=["H01M4/505"]),
        Record(id="b", title="Battery pack housing", text="A housing for cells", ipc=["H01M50/20"]),
        Record(id="c", title="无人机机翼", text="机翼结构", ipc=["B64C3/00"]),
        Record(
            id="d", title="电池管理系统", text="电池荷电状态估计", ipc=["H01M10/48", "H02J7/00"]
        ),
    ]
    queries = [
        Record(id="q1", title="锂电池", text="正极材料与电池管理", ipc=["H01M4/505", "H01M10/48"]),
        Record(id="q2", title="Aircraft wing", text="A wing for drones", ipc=["B64C3/00"]),
    ]
    target = Matcher.build(docs, query_forms=True)
    source = Matcher.build(queries, query_forms=True)
    block = rank_block(target, queries, top=4, source=source)
    got = block_match(target, queries, block)
    np.testing.assert_allclose(got, _reference(target, queries, block), atol=1e-12)
    positions = target._positions()
    view = target._query_view(queries[0], [])
    assert any(target._ipc_similarity(view, positions[d]) > 0 for d in block.doc_ids[:4])


def test_hits_without_evidence_get_no_level() -> None:
    target = Matcher.build(_firms(), query_forms=True)
    source = Matcher.build(PATENTS, query_forms=True)
    block = rank_block(target, PATENTS, top=8, source=source)
    block.evidence = np.zeros(len(block.doc_ids), dtype=bool)
    block.evidence[::2] = True
    got = block_match(target, PATENTS, block)
    assert np.isnan(got[1::2]).all() and not np.isnan(got[::2]).any()
    assert not weak_of(block_match(target, PATENTS, block))[1::2].any()


def test_bm25_parts_from_term_counts_are_the_stored_ones_or_the_stored_ones_are_read() -> None:
    """A shared term's BM25 part is recomputed from the document's stored counts by the build's
    own arithmetic, once checked against the stored matrix; an index whose stored parts differ
    (built another way) has them read from the matrix instead. Either way the levels are the
    explanation's."""
    from shuanglian.engine import bulk_levels

    source = Matcher.build(PATENTS, query_forms=True)
    for perturb in (False, True):
        target = Matcher.build(_firms(), query_forms=True)
        if perturb:
            seg = target.segments[0]
            seg.bm25.data = seg.bm25.data * np.float32(1.001)
        block = rank_block(target, PATENTS, top=8, source=source)
        got = block_match(target, PATENTS, block)
        np.testing.assert_allclose(got, _reference(target, PATENTS, block), atol=1e-12)
        (check,) = bulk_levels._CHECKS.values()
        assert check._exact == {0: not perturb}
