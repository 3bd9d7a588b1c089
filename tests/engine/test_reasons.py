"""Explanations a person reads: words as written, no stems or joined pairs, generic words never
carry a match alone, a calibrated level on one scale, and the weak-list notice."""

from __future__ import annotations

import re

from shuanglian.engine.calibrate import level, match_probability
from shuanglian.engine.fusion import load_params
from shuanglian.engine.matcher import Matcher
from shuanglian.engine.reasons import NOTICE_ZH, describe, list_notice
from shuanglian.engine.records import Record
from shuanglian.text.tokenize import tokenize

DOCS = {
    "battery": ("锂电池正极材料及其制备方法", "本发明公开了一种锂电池正极材料，提高电池容量。"),
    "web": ("网络数据采集系统", "提供信息服务的数据采集系统，用于新闻关键词。"),
    "en": ("Battery cathode materials", "Cathode materials for rechargeable batteries."),
}


def _search(text: str) -> list[tuple[str, object]]:
    matcher = Matcher.build(Record(id=k, title=t, text=x) for k, (t, x) in DOCS.items())
    hits = matcher.search(Record(id="q", text=text), top=3)
    return [
        (h.doc_id, describe(h.explanation, query_text=text, doc_text=" ".join(DOCS[h.doc_id])))
        for h in hits
    ]


def test_words_are_written_forms_never_stems_or_joined_pairs() -> None:
    for query in ("锂电池正极材料", "rechargeable batteries cathode", "数据采集 信息服务"):
        for doc_id, reasons in _search(query):
            text = query + " " + " ".join(DOCS[doc_id])
            for word in reasons.words:  # type: ignore[attr-defined]
                for shown in (word.query, word.doc):
                    assert "_" not in shown
                    # Every shown word is written in one of the two texts, as is.
                    assert shown.lower() in text.lower(), (shown, text)
            joined = reasons.summary()  # type: ignore[attr-defined]
            assert not re.search(r"\bbatteri\b|_", joined), joined


def test_battery_demand_gets_chinese_reasons_with_the_real_words() -> None:
    found = dict(_search("锂电池正极材料"))
    reasons = found["battery"]
    # Both written words, best contribution first (正极材料 is the rarer word in general
    # Chinese, so it may lead: see text.informativeness).
    first = reasons.sentences[0]  # type: ignore[attr-defined]
    assert first in ("双方都涉及：锂电池、正极材料", "双方都涉及：正极材料、锂电池"), first
    assert reasons.level == "high" and 0 < reasons.percent <= 1  # type: ignore[attr-defined]


def test_generic_words_never_carry_a_match_alone() -> None:
    found = dict(_search("信息服务系统"))
    reasons = found["web"]
    assert reasons.level == "low" and reasons.weak  # type: ignore[attr-defined]
    assert not any(s.startswith("双方都涉及") for s in reasons.sentences)  # type: ignore[attr-defined]
    assert any("泛用词" in s for s in reasons.sentences)  # type: ignore[attr-defined]
    assert list_notice([reasons.level]) == NOTICE_ZH  # type: ignore[attr-defined]


def test_english_reasons_on_request() -> None:
    matcher = Matcher.build(Record(id=k, title=t, text=x) for k, (t, x) in DOCS.items())
    (hit, *_rest) = matcher.search(Record(id="q", text="cathode materials"), top=1)
    reasons = describe(
        hit.explanation,
        query_text="cathode materials",
        lang="en",
        doc_text=" ".join(DOCS[hit.doc_id]),
    )
    assert reasons.sentences[0].startswith("Both mention: ")
    assert reasons.level_label in ("high", "medium", "low")


def test_calibrated_match_is_a_probability_and_not_one_for_most_hits() -> None:
    calib = load_params().calibration
    assert match_probability({}, calib) == 0.0
    strong = match_probability({"query_coverage": 1, "doc_coverage": 1, "ipc": 1}, calib)
    weak = match_probability({"query_coverage": 0.03, "doc_coverage": 0.02}, calib)
    assert 0 < weak < 0.2 < strong < 1
    assert level(strong) == "high" and level(weak) == "low"


def test_generic_terms_are_in_token_form() -> None:
    from shuanglian.text.tokenize import generic_terms

    assert {"服务", "信息", "系统", "数据"} <= generic_terms()
    assert set(tokenize("method system")) <= generic_terms()


def test_a_glossed_function_word_is_never_shown_as_a_shared_word() -> None:
    """成套 is glossed "complementing one another": `one` is no translation (text.bilingual's
    gloss stopwords), so the reader is never told 成套 ↔ one (nor the reverse)."""
    docs = {
        "en": ("Power supply", "Power supply unit for one device and another device."),
        "zh": ("电源成套设备", "一种电源成套设备。"),
    }
    matcher = Matcher.build(Record(id=k, title=t, text=x) for k, (t, x) in docs.items())
    for query in ("电源成套设备", "power supply for one device and another"):
        for hit in matcher.search(Record(id="q", text=query), top=2):
            reasons = describe(
                hit.explanation, query_text=query, doc_text=" ".join(docs[hit.doc_id])
            )
            shown = {(w.query.lower(), w.doc.lower()) for w in reasons.words}
            assert shown, (query, hit.doc_id)  # 电源 ↔ power still explains the match
            for q, d in shown:
                assert q not in ("one", "another") and d not in ("one", "another"), shown


def test_a_hit_with_nothing_to_show_reads_weak_in_level_and_number() -> None:
    """Only generic words in common (服务、系统) and no class or industry link: whatever the
    evidence model says, the reader sees 低 with a percent inside 低, never 「低 47%」."""
    from shuanglian.engine.records import Explanation, TermMatch

    exp = Explanation(
        terms=[TermMatch("服务", 2.0), TermMatch("系统", 1.5)],
        evidence={"query_coverage": 0.6, "doc_coverage": 0.5},
        match=0.47,
    )
    reasons = describe(exp, query_text="信息系统服务", doc_text="系统集成服务")
    assert reasons.level == "low" and level(reasons.percent) == "low"
    assert any("泛用词" in s for s in reasons.sentences)


def test_a_generic_pair_across_languages_is_shown_with_both_words() -> None:
    """交通 ↔ connected is generic through "connected" (the dictionary's first sense of 交通 is
    "to be connected"): the weak notice names the pair, not 交通 alone as a generic word."""
    from shuanglian.engine.records import Explanation, TermMatch

    exp = Explanation(terms=[TermMatch("connect", 2.0, ("交通",))], match=0.3)
    reasons = describe(
        exp,
        query_text="交通工程、消防工程施工",
        doc_text="A media center connected to a display over HDMI.",
    )
    assert not reasons.evidence
    assert any("交通 ↔ connected" in s and "泛用词" in s for s in reasons.sentences)


def test_one_character_words_and_generic_words_across_languages_are_no_evidence() -> None:
    """A phone shop was pushed a polyimide patent on 传输、信号、含, and a systems integrator a
    drone patent on GPS ↔ 系统 (GPS is the dictionary's 全球定位系统): a one-character word, or
    a cross-language pair with a generic word on either side, shows nothing to check."""
    from shuanglian.engine.records import Explanation, TermMatch

    shop = Explanation(
        terms=[TermMatch("传输", 2.0), TermMatch("信号", 1.5), TermMatch("含", 1.0)], match=0.2
    )
    reasons = describe(
        shop,
        query_text="一种含聚酰亚胺的信号传输材料",
        doc_text="通信终端销售；代办电信业务；含信号传输设备安装",
    )
    assert not reasons.evidence and reasons.weak
    assert all(w.generic for w in reasons.words)
    assert {w.query for w in reasons.words} == {"传输", "信号"}  # 含 is not a topic either
    integrator = Explanation(terms=[TermMatch("系统", 3.0, source=("gps",))], match=0.3)
    reasons = describe(
        integrator, query_text="无人机 GPS 定位", doc_text="系统设计；信息系统集成服务"
    )
    assert not reasons.evidence and reasons.level == "low"
    battery = Explanation(terms=[TermMatch("锂电池", 3.0), TermMatch("含", 1.0)], match=0.6)
    reasons = describe(battery, query_text="含锂电池的储能装置", doc_text="锂电池生产，含回收")
    assert reasons.evidence and reasons.sentences[0].startswith("双方都涉及：锂电池")


def test_a_one_character_word_is_listed_only_when_it_names_something() -> None:
    """A cathode demand's list read 「双方都涉及：正极材料、电池、高」: 高 ("high") is no topic two
    texts share, 镍 (nickel) is."""
    from shuanglian.engine.records import Explanation, TermMatch

    terms = [TermMatch("正极材料", 4.0), TermMatch("镍", 2.0), TermMatch("高", 1.0)]
    demand, patent = "寻求高镍三元正极材料的制备技术", "一种高镍三元正极材料及其制备方法"
    reasons = describe(Explanation(terms=terms, match=0.9), query_text=demand, doc_text=patent)
    assert [w.query for w in reasons.words] == ["正极材料", "镍"]
    assert reasons.sentences[0] == "双方都涉及：正极材料、镍"
