"""The technical glossary: read strictly, and read before CC-CEDICT both ways, so a battery's
cathode is 正极 and a wafer is 晶圆 in searches, matching and explanations."""

from __future__ import annotations

import pytest

from shuanglian.engine.matcher import Matcher
from shuanglian.engine.reasons import describe
from shuanglian.engine.records import Record
from shuanglian.text.bilingual import _gloss_terms, alternatives, glosses, translate_term
from shuanglian.text.glossary import GlossaryError, parse_glossary, tech_glossary
from shuanglian.text.tokenize import stopwords_en, tokenize


def test_the_shipped_glossary_reads_and_lists_battery_electrodes() -> None:
    glossary = tech_glossary()
    assert glossary["正极"][0] == "cathode" and glossary["负极"][0] == "anode"


def test_every_listed_word_is_a_search_term_and_every_rendering_keeps_its_words() -> None:
    """A listed word the tokenizer drops (公司, 实现) would take its English words away from
    CC-CEDICT and match nothing; a rendering that loses a word to the gloss stoplists
    ("existing technology" → technology) would claim a word it does not mean."""
    dropped = [w for w in tech_glossary() if not tokenize(w, lang="zh")]
    assert dropped == []
    stop = stopwords_en()
    shrunk = [
        (w, r)
        for w, renderings in tech_glossary().items()
        for r in renderings
        if len([t for t in _gloss_terms(r) if "_" not in t])
        != len([x for x in r.replace("-", " ").split() if len(x) > 1 and x not in stop])
    ]
    assert shrunk == []


def test_a_line_is_a_word_a_tab_and_renderings() -> None:
    assert parse_glossary("# 注释\n\n晶圆\twafer\n隔膜\tseparator; membrane\n") == {
        "晶圆": ("wafer",),
        "隔膜": ("separator", "membrane"),
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("晶圆 wafer\n", "line 1: expected"),
        ("圆\twafer\n", "line 1: expected"),
        ("晶圆\twafer\n隔膜\tseparator\n晶圆\tchip\n", "line 3: 晶圆 is listed twice"),
        ("晶圆\twafer (semiconductor)\n", "not a rendering"),
        ("晶圆\tthin slice of silicon\n", "not a rendering"),
        ("晶圆\t\n", "line 1: expected"),
    ],
)
def test_a_malformed_line_is_named(text: str, reason: str) -> None:
    with pytest.raises(GlossaryError, match=reason):
        parse_glossary(text)


def _targets(term: str) -> set[str]:
    return {t for t, _w in translate_term(term)}


def test_english_terms_reach_the_technical_chinese_word_only() -> None:
    assert {"正极", "阴极"} <= _targets("cathod") and "负极" not in _targets("cathod")
    assert {"负极", "阳极"} <= _targets("anod") and "正极" not in _targets("anod")
    assert "晶圆" in _targets("wafer") and "威化" not in _targets("wafer")
    assert "处理" in _targets("treatment") and "对待" not in _targets("treatment")


def test_chinese_words_read_as_their_technical_sense() -> None:
    assert "anod" in {t for t, _w in translate_term("负极")}
    assert "cathod" not in {t for t, _w in translate_term("负极")}
    assert glosses("负极", limit=1) == ["anode"]
    # The catalogue's readings: `cathode` is 正极 or 阴极, never 负极.
    readings = {r for (r,) in alternatives("cathod")}
    assert {"正极", "阴极"} <= readings and "负极" not in readings


ELECTRODES = {
    "cathode": "一种锂离子电池正极材料及其制备方法，提高正极的比容量。",
    "anode": "一种锂离子电池负极材料及其制备方法，提高负极的比容量。",
}


def test_an_english_cathode_search_finds_the_chinese_cathode_patent_first() -> None:
    matcher = Matcher.build(Record(id=k, text=v) for k, v in ELECTRODES.items())
    query = "Cathode material for lithium ion batteries"
    hits = matcher.search(Record(id="q", text=query), top=2)
    assert [h.doc_id for h in hits][0] == "cathode"
    reasons = describe(hits[0].explanation, query_text=query, doc_text=ELECTRODES["cathode"])
    assert [w.label() for w in reasons.words][0] == "Cathode material ↔ 正极材料"


def test_a_chinese_anode_demand_finds_the_english_anode_patent_first() -> None:
    docs = {
        "anode": ("Silicon anode", "A silicon carbon anode for a lithium ion battery."),
        "cathode": ("Layered cathode", "A nickel rich layered cathode for a lithium ion battery."),
    }
    matcher = Matcher.build(Record(id=k, title=t, text=x) for k, (t, x) in docs.items())
    hits = matcher.search(Record(id="q", text="硅碳负极材料"), top=2)
    assert [h.doc_id for h in hits][0] == "anode"
