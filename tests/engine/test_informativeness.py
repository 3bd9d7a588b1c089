"""Query terms weighted by how informative they are in general Chinese (issue 11: generic
words such as 分析, 评估 must not outweigh the specific words a patent and a firm share)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shuanglian.engine.fusion import load_params
from shuanglian.engine.matcher import Matcher
from shuanglian.engine.records import Record
from shuanglian.text.informativeness import informativeness, query_factor
from shuanglian.text.tokenize import BIGRAM_MARK

FIRMS = [
    Record(id="consulting", title="咨询公司", text="需求分析、效果评估、数据统计"),
    Record(id="grid", title="电力公司", text="电网拓扑、故障录波、继电保护"),
    Record(id="food", title="食品公司", text="食品包装机"),
    Record(id="textile", title="纺织公司", text="纺织机械"),
]
PATENT = Record(id="q", text="配电网拓扑故障的分析、评估与统计方法")


def test_generic_words_are_less_informative_than_technical_ones() -> None:
    for generic in ("分析", "评估", "根据", "结果", "系统"):
        for specific in ("拓扑", "故障", "正极", "锂电池", "采样"):
            assert informativeness(generic) < informativeness(specific), (generic, specific)
    # A word the general dictionary never saw is as informative as a word can be.
    assert informativeness("隔离开关") == 1.0
    assert all(0.0 < informativeness(w) <= 1.0 for w in ("高", "的", "飞机", "拓扑"))


def test_latin_terms_bigrams_and_phrases() -> None:
    # No background table for Latin script: English matching is left as it was.
    assert informativeness("batteri") == informativeness("d2d") == 1.0
    # A character pair is judged as the two-character word; a phrase by its best word.
    assert informativeness(BIGRAM_MARK + "分析") == informativeness("分析")
    assert informativeness("分析_拓扑") == informativeness("拓扑")
    # A pair across a word boundary keeps full weight, unless it holds a function word:
    # ·型的 (of 成型的制造) must not make a plastics moulder match a chemistry patent.
    assert informativeness(BIGRAM_MARK + "统提") == 1.0
    assert informativeness(BIGRAM_MARK + "型的") == informativeness("型") < 0.6
    assert informativeness(BIGRAM_MARK + "的制") == informativeness("制") < 0.6
    assert query_factor("分析", 0.0) == 1.0
    assert query_factor("分析", 2.0) == pytest.approx(informativeness("分析") ** 2)


def test_specific_shared_words_outrank_generic_ones() -> None:
    params = load_params()
    assert params.background_idf > 0  # the shipped engine weighs query terms this way
    ranked = [h.doc_id for h in Matcher.build(FIRMS, params=params).search(PATENT, top=2)]
    assert ranked[0] == "grid"
    # Off, the three generic words the consulting firm shares win over 拓扑 and 故障.
    off = Matcher.build(FIRMS, params=replace(params, background_idf=0.0))
    assert [h.doc_id for h in off.search(PATENT, top=2)][0] == "consulting"


def test_english_queries_score_as_before() -> None:
    docs = [
        Record(id="a", title="Lithium battery cathode", text="A cathode material for batteries."),
        Record(id="b", title="Drone gimbal", text="A camera gimbal for a drone."),
    ]
    query = Record(id="q", text="battery cathode material analysis")
    params = load_params()
    on = Matcher.build(docs, params=params).search(query, top=2)
    off = Matcher.build(docs, params=replace(params, background_idf=0.0)).search(query, top=2)
    assert [(h.doc_id, h.score) for h in on] == [(h.doc_id, h.score) for h in off]
