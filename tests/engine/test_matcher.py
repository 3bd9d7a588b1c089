"""Search, fusion, explanations and incremental updates of the in-memory matcher."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuanglian.engine.calibrate import level
from shuanglian.engine.fusion import FusionParams, active_weights, load_params, normalise_max
from shuanglian.engine.matcher import Matcher, _top_k, query_terms, record_terms
from shuanglian.engine.prior import IndustryLink
from shuanglian.engine.records import Hit, Record

# Small but realistic business scopes (经营范围 wording as registered).
GREEN_BUILDING = Record(
    id="green",
    title="河北绿源新型建材科技有限公司",
    text="新型墙体材料、石膏板、防火板材、保温隔热材料的研发、生产、销售；"
    "工业固体废物（脱硫石膏、磷石膏）综合利用；建筑装饰材料批发、零售。"
    "（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
    industry="C3024",
)
BATTERY = Record(
    id="battery",
    title="江西赣锋动力电池有限公司",
    text="锂离子电池、动力电池、储能电池及电池管理系统的研发、生产、销售；"
    "锂电池正极材料、负极材料、电解液的生产与销售；货物进出口。",
    industry="C3841",
)
FOOD = Record(
    id="food",
    title="上海味源食品有限公司",
    text="食品生产、食品销售；餐饮服务；农副产品销售。",
    industry="C1469",
)
ENTERPRISES = [GREEN_BUILDING, BATTERY, FOOD]

GYPSUM_PATENT = Record(
    id="p1",
    title="利用工业副产石膏制备高强度防火憎水板材",
    text="本发明公开了一种利用工业副产石膏制备高强度防火憎水板材的方法，"
    "以脱硫石膏为主要原料，加入改性剂和憎水剂，制得的板材强度高、防火性能好。",
    ipc=("C04B28/14", "C04B111/28"),
)
CATHODE_PATENT = Record(
    id="p2",
    title="一种高镍三元锂离子电池正极材料及其制备方法",
    text="本发明涉及锂离子电池技术领域，具体涉及一种高镍三元正极材料，"
    "提高了电池的循环稳定性和能量密度。",
    ipc=("H01M4/525", "H01M10/0525"),
)


@pytest.fixture(scope="module")
def enterprises() -> Matcher:
    return Matcher.build(ENTERPRISES)


def test_gypsum_patent_finds_green_building_materials_before_battery_maker(
    enterprises: Matcher,
) -> None:
    ranked = [h.doc_id for h in enterprises.search(GYPSUM_PATENT, top=3)]
    assert ranked[0] == "green"
    assert "battery" not in ranked or ranked.index("battery") > ranked.index("green")


def test_cathode_patent_finds_battery_maker_before_building_materials(
    enterprises: Matcher,
) -> None:
    ranked = [h.doc_id for h in enterprises.search(CATHODE_PATENT, top=3)]
    assert ranked[0] == "battery"
    assert "green" not in ranked or ranked.index("green") > ranked.index("battery")


def test_other_direction_from_the_same_representation() -> None:
    patents = Matcher.build([GYPSUM_PATENT, CATHODE_PATENT])
    assert patents.search(BATTERY, top=1)[0].doc_id == "p2"
    assert patents.search(GREEN_BUILDING, top=1)[0].doc_id == "p1"
    demand = Record(id="d", text="寻求磷石膏、脱硫石膏资源化利用技术，生产防火石膏板")
    assert patents.search(demand, top=1)[0].doc_id == "p1"


def test_explanation_terms_add_up_to_the_bm25_score() -> None:
    # Character bigrams off: they score too but are never listed (the next test).
    enterprises = Matcher.build(ENTERPRISES, params=replace(load_params(), bigrams=False))
    hit = enterprises.search(GYPSUM_PATENT, top=1, signals=["bm25"])[0]
    exp = hit.explanation
    assert exp is not None
    terms = {t.term for t in exp.terms}
    assert {"石膏", "防火", "板材"} <= terms
    assert exp.shares == {"bm25": pytest.approx(1.0)}
    contributions = [t.contribution for t in exp.terms]
    assert contributions == sorted(contributions, reverse=True)
    # Fewer than 8 matched terms: the listed contributions are the whole raw BM25 score.
    assert len(contributions) < 8
    raw, _ = enterprises.signal_scores([GYPSUM_PATENT], {"bm25": 1.0})
    assert sum(contributions) == pytest.approx(float(raw["bm25"][0].max()), rel=1e-4)


def test_character_bigrams_score_but_are_not_listed(enterprises: Matcher) -> None:
    assert enterprises.params.bigrams  # the shipped parameters use them
    hit = enterprises.search(GYPSUM_PATENT, top=1, signals=["bm25"])[0]
    assert hit.explanation is not None
    listed = [t.term for t in hit.explanation.terms]
    assert "石膏" in listed and not any(t.startswith("\u00b7") for t in listed)
    raw, _ = enterprises.signal_scores([GYPSUM_PATENT], {"bm25": 1.0})
    # The listed words carry part of the score; the shared character pairs carry the rest.
    assert 0 < sum(t.contribution for t in hit.explanation.terms) < float(raw["bm25"][0].max())


def test_no_shared_term_means_no_result(enterprises: Matcher) -> None:
    hits = enterprises.search(Record(id="q", text="量子通信卫星激光链路"), top=5)
    assert hits == []


@pytest.mark.parametrize(
    "query",
    [
        Record(id="q"),
        Record(id="q", title="一种方法", text="所述装置，其特征在于"),
        Record(id="q", text="😀🚀✨"),
        Record(id="q", text="石膏板 " * 100_000),  # ~0.7 MB
        Record(id="q", text="gypsum board 石膏板", ipc=("NOT-AN-IPC", "Z99")),
    ],
)
def test_bad_queries_never_crash(enterprises: Matcher, query: Record) -> None:
    hits = enterprises.search(query, top=5)
    assert all(h.score > 0 for h in hits)


# -------------------------------------------------------------------- IPC signal
CAMERA_FIRMS = [
    Record(id="cam", title="Acme", text="imaging sensor module", ipc=("H04N5/232", "H04N5/225")),
    Record(id="uav", title="Skyco", text="imaging sensor module", ipc=("B64C39/02",)),
    Record(id="bare", title="Plain", text="imaging sensor module"),
]


def test_ipc_breaks_a_textual_tie() -> None:
    matcher = Matcher.build(CAMERA_FIRMS)
    query = Record(id="q", text="imaging sensor", ipc=("H04N5/232",))
    hits = matcher.search(query, top=3)
    assert hits[0].doc_id == "cam"
    assert hits[0].explanation is not None
    assert "H04N5/232" in hits[0].explanation.ipc_shared
    assert hits[0].explanation.shares["ipc"] > 0
    assert hits[1].signals["ipc"] == 0


def test_ipc_alone_ranks_by_codes() -> None:
    matcher = Matcher.build(CAMERA_FIRMS)
    hits = matcher.search(Record(id="q", ipc=("B64C39/024",)), top=3, signals=["ipc"])
    assert [h.doc_id for h in hits] == ["uav"]


def test_a_side_without_ipc_changes_nothing() -> None:
    docs = [replace(r, ipc=()) for r in CAMERA_FIRMS]
    matcher = Matcher.build(docs)
    query = Record(id="q", text="imaging sensor", ipc=("H04N5/232",))
    with_ipc = matcher.search(query, top=3)
    text_only = matcher.search(query, top=3, signals=["bm25"])
    assert [(h.doc_id, h.score) for h in with_ipc] == [(h.doc_id, h.score) for h in text_only]


# -------------------------------------------------------------------- industry prior
def _link() -> IndustryLink:
    # C04B (cement, gypsum) → 30 非金属矿物制品业; H01M (batteries) → 38 电气机械.
    return IndustryLink(
        ipc_subclasses=["C04B", "H01M"],
        industries=["30", "38"],
        weights=np.array([[0.9, 0.1], [0.05, 0.95]], dtype=np.float32),
    )


def test_prior_links_patent_ipc_to_enterprise_industry() -> None:
    twins = [
        replace(GREEN_BUILDING, id="g", text="材料生产"),
        replace(BATTERY, id="b", text="材料生产"),
    ]
    matcher = Matcher.build(twins, link=_link())
    query = Record(id="q", text="材料", ipc=("H01M4/525",))
    hits = matcher.search(query, top=2)
    assert hits[0].doc_id == "b"
    links = hits[0].explanation.industry_links  # type: ignore[union-attr]
    assert links[0].ipc_subclass == "H01M" and links[0].industry == "38"
    assert links[0].weight == pytest.approx(0.95)


def test_prior_links_demand_industry_to_patent_ipc() -> None:
    patents = Matcher.build(
        [replace(GYPSUM_PATENT, text="材料"), replace(CATHODE_PATENT, text="材料")], link=_link()
    )
    query = Record(id="d", text="材料", industry="C3021")  # 302 → prefix 30
    assert patents.search(query, top=2, signals=["prior"])[0].doc_id == "p1"


def test_prior_without_link_is_silent() -> None:
    matcher = Matcher.build(ENTERPRISES)
    assert matcher.search(CATHODE_PATENT, top=3, signals=["prior"]) == []


# -------------------------------------------------------------------- incremental
def test_add_remove_and_requery() -> None:
    matcher = Matcher.build(ENTERPRISES)
    assert len(matcher) == 3
    newcomer = Record(id="gyp2", title="石膏制品厂", text="脱硫石膏、防火石膏板、憎水板材加工")
    matcher.add([newcomer])
    assert "gyp2" in matcher and len(matcher) == 4
    ranked = [h.doc_id for h in matcher.search(GYPSUM_PATENT, top=4)]
    assert set(ranked[:2]) == {"gyp2", "green"}
    assert matcher.remove(["green", "nope"]) == 1
    assert "green" not in matcher
    assert "green" not in [h.doc_id for h in matcher.search(GYPSUM_PATENT, top=4)]
    # Replacing an id keeps one live copy with the new text.
    matcher.add([replace(FOOD, text="石膏板销售")])
    assert len(matcher) == 3
    assert [h.doc_id for h in matcher.search(Record(id="q", text="餐饮服务"), top=3)] == []
    compacted = matcher.compact()
    assert sorted(compacted.doc_ids()) == sorted(matcher.doc_ids())
    q = Record(id="q", text="石膏板")
    assert [(h.doc_id, round(h.score, 5)) for h in compacted.search(q, top=5)] == [
        (h.doc_id, round(h.score, 5)) for h in matcher.search(q, top=5)
    ]


def test_delta_scores_match_a_full_build_on_known_terms() -> None:
    full = Matcher.build(ENTERPRISES)
    partial = Matcher.build(ENTERPRISES[:2])
    partial.add(ENTERPRISES[2:])
    q = Record(id="q", text="食品 电池 石膏")
    full_hits = {h.doc_id for h in full.search(q, top=3)}
    assert {h.doc_id for h in partial.search(q, top=3)} == full_hits


def test_search_many_equals_search() -> None:
    matcher = Matcher.build(ENTERPRISES)
    queries = [GYPSUM_PATENT, CATHODE_PATENT]
    many = matcher.search_many(queries, top=3)
    for q, hits in zip(queries, many, strict=True):
        assert [h.doc_id for h in hits] == [h.doc_id for h in matcher.search(q, top=3)]


def test_unknown_signal_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown signals"):
        Matcher.build(ENTERPRISES).search(GYPSUM_PATENT, signals=["magic"])


def test_params_file_loads_with_comment() -> None:
    params = load_params()
    assert params.comment and params.weights["bm25"] == 1.0
    assert isinstance(params, FusionParams)


def test_adding_to_an_empty_index() -> None:
    matcher = Matcher.build([])
    assert matcher.search(GYPSUM_PATENT) == []
    matcher.add(ENTERPRISES)
    assert matcher.search(GYPSUM_PATENT, top=1)[0].doc_id == "green"


def test_repeated_id_keeps_the_last_record() -> None:
    matcher = Matcher.build([FOOD, replace(FOOD, text="石膏板生产")])
    assert len(matcher) == 1 and matcher.doc_ids() == ["food"]
    assert matcher.search(Record(id="q", text="餐饮服务"), top=3) == []
    assert matcher.search(Record(id="q", text="石膏板"), top=3)[0].doc_id == "food"


def _reference_ranking(
    matcher: Matcher, queries: list[Record], top: int
) -> list[list[tuple[str, float, dict[str, float]]]]:
    """The fusion written out plainly, one query at a time: weighted max-normalised signals
    (computed for the batch, as the IPC signal is on when any query of it has codes), the k
    best by `_top_k`, ordered by their fused score; positive scores only."""
    weights = active_weights(matcher.params, None)
    raw, _ = matcher.signal_scores(queries, weights)
    ids = matcher._all_ids()
    out = []
    for qi in range(len(queries)):
        parts_all = {s: weights[s] * normalise_max(v[qi]) for s, v in raw.items()}
        fused = np.zeros(len(ids), dtype=np.float32)
        for v in parts_all.values():
            fused += v
        fused[matcher._dead_mask()] = -np.inf
        cand = _top_k(fused, top)
        parts = {s: v[cand] for s, v in parts_all.items()}
        total = sum(parts.values()) if parts else np.zeros(len(cand), np.float32)
        hits = []
        for o in np.argsort(-total, kind="stable")[:top]:
            if total[o] <= 0:
                break
            hits.append((ids[cand[o]], float(total[o]), {s: float(p[o]) for s, p in parts.items()}))
        out.append(hits)
    return out


_WORDS = ["石膏", "板材", "电池", "正极", "锂离子", "食品", "销售", "drone", "camera", "防火"]
_CODES = ["C04B28/14", "H01M4/525", "H01M10/0525", "A23L3/00", "B64C39/02"]


@settings(max_examples=25, deadline=None)
@given(
    texts=st.lists(st.lists(st.sampled_from(_WORDS), max_size=6), min_size=1, max_size=70),
    codes=st.lists(st.sets(st.sampled_from(_CODES), max_size=2), min_size=70, max_size=70),
    remove=st.booleans(),
    top=st.integers(min_value=1, max_value=4),
)
def test_batched_search_equals_the_plain_fusion(
    texts: list[list[str]], codes: list[set[str]], remove: bool, top: int
) -> None:
    # Documents with IPC codes and industries so every signal (bm25, ipc, prior) is live; a
    # tombstone makes candidate lists uneven, which takes the per-query path.
    docs = [replace(r, ipc=("C04B28/14",)) for r in ENTERPRISES] + [
        Record(id="drone", title="drone camera", text="drone销售", ipc=("B64C39/02",))
    ]
    link = IndustryLink(
        ["C04B", "H01M", "A23L"], ["3024", "3841", "1469"], np.eye(3, dtype=np.float32)
    )
    matcher = Matcher.build(docs, link=link)
    if remove:
        matcher.remove(["food"])
    queries = [
        Record(id=f"q{i}", text=" ".join(words), ipc=tuple(sorted(c)))
        for i, (words, c) in enumerate(zip(texts, codes, strict=False))
    ]
    many = matcher.search_many(queries, top=top, explain=True)
    expected = _reference_ranking(matcher, queries[:64], top) + _reference_ranking(
        matcher, queries[64:], top
    )  # search_many scores 64 queries at a time
    for query, hits, want in zip(queries, many, expected, strict=True):
        assert [(h.doc_id, h.score, h.signals) for h in hits] == want
        # Explaining later gives the explanation the search gave.
        later = [Hit(doc_id=h.doc_id, score=h.score, signals=h.signals) for h in hits]
        matcher.explain(query, later)
        assert [h.explanation for h in later] == [h.explanation for h in hits]


def test_explain_skips_unknown_and_removed_documents() -> None:
    matcher = Matcher.build(ENTERPRISES)
    hits = matcher.search(GYPSUM_PATENT, top=3, explain=False)
    assert hits and all(h.explanation is None for h in hits)
    matcher.remove(["green"])
    ghost = Hit(doc_id="nobody", score=1.0)
    matcher.explain(GYPSUM_PATENT, [*hits, ghost])
    assert ghost.explanation is None
    assert all((h.explanation is None) == (h.doc_id == "green") for h in hits)


# A firm described by its patents, one per line (how an enterprise profile of patents reads).
PROFILE = Record(
    id="firm",
    title="",
    text="锂离子电池正极材料的制备方法 正极材料 正极材料 正极材料 包覆\n"
    "一种锂离子电池隔膜\n"
    "锂离子电池电解液及其添加剂",
)


def test_a_profile_counts_a_term_once_per_passage() -> None:
    params = replace(load_params(), query_passages=True, bigrams=False, phrases=False)
    counts = Counter(query_terms(PROFILE, params))
    # 正极材料 is repeated inside one patent: it counts once, like 锂离子 held by all three.
    assert counts["正极"] == 1 and counts["锂离子"] == 3
    plain = Counter(query_terms(PROFILE, replace(params, query_passages=False)))
    assert plain["正极"] == 4 and plain["锂离子"] == 3


def test_one_passage_keeps_plain_term_counts() -> None:
    params = replace(load_params(), query_passages=True)
    for record in (GYPSUM_PATENT, BATTERY, replace(PROFILE, text="电池 电池 电池\n")):
        assert query_terms(record, params) == record_terms(
            record, title_weight=params.title_weight, **params.cut
        )


def test_a_profile_query_explains_its_own_weights() -> None:
    # The explanation reads the same passage counts as the score: the parts still add up
    # (fewer shared terms than an explanation lists: no bigrams, phrases or elements).
    params = replace(
        load_params(), query_passages=True, bigrams=False, phrases=False, elements=False
    )
    patents = Matcher.build([CATHODE_PATENT, GYPSUM_PATENT], params=params)
    hit = patents.search(PROFILE, top=1, signals=["bm25"])[0]
    assert hit.doc_id == "p2" and hit.explanation is not None
    raw, _ = patents.signal_scores([PROFILE], {"bm25": 1.0})
    contributions = sum(t.contribution for t in hit.explanation.terms)
    assert len(hit.explanation.terms) < 8
    assert contributions == pytest.approx(float(raw["bm25"][0].max()), rel=1e-4)


def test_query_words_the_index_lacks_still_count_against_coverage() -> None:
    """A long business scope over a small patent index: its one word the index knows must
    not read as the whole scope covered (it made a general store's 电池 a 'medium' match)."""
    matcher = Matcher.build(
        [
            Record(id="a", title="一种电池包散热结构", text="电池包内设置散热片与风道。"),
            Record(id="b", title="一种电池盒防水结构", text="电池盒盖板设置密封圈。"),
        ]
    )
    store = Record(
        id="q", text="日用百货、五金交电、服装鞋帽、文化用品、家用电器、电池、建筑材料的零售"
    )
    maker = Record(id="q2", text="电池包、电池盒的研发与制造")
    store_cov = matcher.search(store, top=1)[0].explanation.evidence["query_coverage"]
    maker_cov = matcher.search(maker, top=1)[0].explanation.evidence["query_coverage"]
    assert store_cov < 0.3 < maker_cov


def test_generic_translations_cover_none_of_a_chinese_scope() -> None:
    """A communications contractor's scope over English patents: a memory patent that shares
    only translated generic words (系统 ↔ system, 管理 ↔ managing, 储存 ↔ stored) covers
    nothing of it and reads 低, while a traffic-signal patent covers its 交通信号."""
    matcher = Matcher.build(
        [
            Record(
                id="memory",
                title="Migration scheme for a unified virtual memory system",
                text="A system for managing pages stored in memory, processing read requests.",
            ),
            Record(
                id="traffic",
                title="Traffic signal controller",
                text="A traffic signal controller at a road intersection.",
            ),
        ]
    )
    scope = Record(
        id="q",
        text="通信工程、消防工程、交通信号工程；计算机系统集成；物业管理；数据处理和储存服务",
    )
    hits = {h.doc_id: h for h in matcher.search(scope, top=2)}
    memory, traffic = hits["memory"].explanation, hits["traffic"].explanation
    assert memory is not None and traffic is not None
    assert memory.evidence["query_coverage"] == 0.0
    assert traffic.evidence["query_coverage"] > 0.0
    assert memory.match < traffic.match
    assert level(memory.match) == "low"


def test_loose_translations_cover_none_of_a_builders_scope() -> None:
    """A builder's scope (房屋建筑、市政公用工程施工) over English patents: a compiler patent
    that "builds" and "constructs" graphs reached it only through loose translations and read
    高 at 0.93; it covers nothing and reads 低."""
    matcher = Matcher.build(
        [
            Record(
                id="compiler",
                title="Building a dataflow graph",
                text="A compiler builds and constructs a graph of kernels for a base model.",
            )
        ]
    )
    scope = Record(id="q", text="房屋建筑工程、市政公用工程施工；地基基础工程；建筑材料销售")
    hit = matcher.search(scope, top=1)[0]
    assert hit.explanation is not None
    assert hit.explanation.evidence["query_coverage"] == 0.0
    assert level(hit.explanation.match) == "low"
