"""The bulk push's evidence bit: the push rule of `engine.reasons`, read off the index."""

from __future__ import annotations

from shuanglian.engine.bulk import bulk_ranker, rank_block
from shuanglian.engine.bulk_evidence import block_evidence
from shuanglian.engine.matcher import Matcher
from shuanglian.engine.reasons import describe
from shuanglian.engine.records import Record

FIRMS = {
    "battery": ("锂电池制造有限公司", "锂电池、正极材料的研发、生产和销售"),
    "generic": ("恒通信息服务有限公司", "信息技术服务；系统集成；数据处理服务；技术开发、技术咨询"),
    "english": ("Volta Cells Inc", "Lithium battery packs and cathode materials"),
    "appliances": ("美家电器有限公司", "家用电器、厨房电器销售"),
}
PATENT = Record(
    id="p1",
    title="一种锂电池正极材料及其数据处理系统",
    text="本发明公开一种锂电池正极材料，并提供信息服务与数据处理系统。",
)
DEVICE_PATENT = Record(id="p2", title="Display device", text="A display device and its system.")


def _evidence(matcher: Matcher, query: Record) -> dict[str, bool]:
    block = rank_block(matcher, [query], top=10)
    bits = block_evidence(matcher, [query], block)
    return dict(zip(block.doc_ids, bits.tolist(), strict=True))


def test_only_firms_with_something_to_check_have_evidence() -> None:
    matcher = Matcher.build(Record(id=k, title=t, text=x) for k, (t, x) in FIRMS.items())
    found = _evidence(matcher, PATENT)
    # 锂电池、正极材料 in both (and across languages: lithium battery); the generic firm shares
    # 信息、服务、数据、系统 only.
    assert found["battery"] and found["english"]
    assert found.get("generic") is False
    # The same answer the explanation a page shows gives.
    for hit in matcher.search(PATENT, top=10):
        reasons = describe(hit.explanation, query_text=PATENT.title, doc_text=FIRMS[hit.doc_id][1])
        assert found[hit.doc_id] == reasons.evidence, hit.doc_id


def test_a_translation_from_a_generic_word_is_no_evidence() -> None:
    """CC-CEDICT's 电器 is "appliance; device": "device" reaches the appliance seller's 电器, a
    specific word, but from a generic one, as a page would say (仅有泛用词相同)."""
    matcher = Matcher.build(Record(id=k, title=t, text=x) for k, (t, x) in FIRMS.items())
    found = _evidence(matcher, DEVICE_PATENT)
    assert found.get("appliances") is False, found


def test_a_loose_translation_is_no_evidence() -> None:
    """建设、建筑 translate to "build" and "construct", which gloss dozens of Chinese words:
    they rank, but a building-construction patent shares nothing checkable with a firm that
    builds software, in bulk as on a page (仅有泛用词相同)."""
    firms = {
        "compilers": ("Buildware Inc", "We build and construct compilers for GPUs."),
        "builder": ("华建建筑有限公司", "房屋建筑工程施工；混凝土预制构件"),
    }
    matcher = Matcher.build(Record(id=k, title=t, text=x) for k, (t, x) in firms.items())
    patent = Record(id="p3", title="一种建筑施工用混凝土预制构件", text="用于房屋建设的预制构件。")
    found = _evidence(matcher, patent)
    assert found == {"builder": True, "compilers": False}
    for hit in matcher.search(patent, top=10):
        reasons = describe(hit.explanation, query_text=patent.title, doc_text=firms[hit.doc_id][1])
        assert found[hit.doc_id] == reasons.evidence, hit.doc_id


def test_an_index_without_stored_document_terms_gives_the_same_bits() -> None:
    matcher = Matcher.build(Record(id=k, title=t, text=x) for k, (t, x) in FIRMS.items())
    with_terms = _evidence(matcher, PATENT)
    for seg in matcher.segments:
        seg.doc_terms = None
    assert _evidence(matcher, PATENT) == with_terms


def test_queries_read_from_their_own_index_give_the_same_bits() -> None:
    """The bulk job reads a patent's terms from the patent index (its stored form) rather
    than tokenising it again; the evidence must not depend on which way they were read."""
    matcher = Matcher.build(Record(id=k, title=t, text=x) for k, (t, x) in FIRMS.items())
    source = Matcher.build([PATENT, DEVICE_PATENT], query_forms=True)
    for query in (PATENT, DEVICE_PATENT):
        tokenised = _evidence(matcher, query)
        block = rank_block(matcher, [query], top=10, source=source)
        stored = bulk_ranker(matcher).stored
        assert stored is not None and stored.form(query) is not None
        bits = block_evidence(matcher, [query], block)
        assert dict(zip(block.doc_ids, bits.tolist(), strict=True)) == tokenised


def test_a_patents_claim_categories_are_no_evidence() -> None:
    """方法、装置、存储介质及计算机设备 closes the title of most Chinese software patents: a
    buffer-overflow detector shares 计算机设备 with every computer shop, which read 高 before.
    Its 缓冲区溢出 still reaches a security firm, in bulk as on a page."""
    firms = {
        "shop": ("蓝天电脑有限公司", "销售：计算机设备及零配件、办公自动化设备及配件。"),
        "security": ("安信网络安全有限公司", "软件漏洞检测；缓冲区溢出防护软件开发"),
    }
    matcher = Matcher.build(Record(id=k, title=t, text=x) for k, (t, x) in firms.items())
    patent = Record(
        id="p4",
        title="缓冲区溢出漏洞检测方法、装置、存储介质及计算机设备",
        text="在本申请提供的缓冲区溢出漏洞检测方法、装置、存储介质及计算机设备中，获取目标源代码。",
    )
    found = _evidence(matcher, patent)
    assert found == {"shop": False, "security": True}
    for hit in matcher.search(patent, top=10):
        reasons = describe(hit.explanation, query_text=patent.title, doc_text=firms[hit.doc_id][1])
        assert found[hit.doc_id] == reasons.evidence, hit.doc_id
