"""A catalogue search that no listing matches in full: the listings holding most of its words,
rarer words first, in either language, with the page's filters, and a page that says so."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from shuanglian.supermarket import service
from shuanglian.text.query_words import query_words
from tests.web.factories import make_institution, make_listing

PARTIAL = "没有同时含有全部关键词的成果"
CHIP = ("锂电池组监控芯片", "锂电池组各单体电压的在线监测芯片。")
TEA = ("一种茶叶杀青设备", "滚筒式茶叶杀青机的温度控制。")
CATHODE = ("一种富锂锰基正极材料及其制备方法", "富锂锰基正极材料的合成与改性方法。")


def _titles(listings) -> list[str]:
    return [x.title for x in listings]


def test_query_words_split_a_phrase_and_keep_dictionary_pairs() -> None:
    assert query_words("锂电池正极材料") == ["锂电池", "正极材料"]
    assert query_words("lithium battery cathode") == ["lithium batteri", "cathod"]
    assert query_words("無人機") == ["无人机"]  # Traditional, as everywhere


def test_listings_with_more_and_rarer_words_come_first(db_session) -> None:
    inst = make_institution(db_session)
    make_listing(db_session, inst, title=CATHODE[0], summary=CATHODE[1])
    make_listing(db_session, inst, title=CHIP[0], summary=CHIP[1])
    for n in range(3):  # 材料 is common: a listing holding only it comes last
        summary = "外墙保温材料的配方与施工工艺。"
        make_listing(db_session, inst, title=f"一种建筑保温材料{n}", summary=summary)
    make_listing(db_session, inst, title=TEA[0], summary=TEA[1])
    assert service.search_listings(db_session, q="锂电池 正极材料 监控").total == 0
    found = _titles(service.partial_matches(db_session, q="锂电池 正极材料 监控"))
    assert found[0] == "锂电池组监控芯片"  # two of the three words
    assert "一种富锂锰基正极材料及其制备方法" in found
    assert "一种茶叶杀青设备" not in found


def test_an_english_search_finds_chinese_listings_word_by_word(db_session) -> None:
    inst = make_institution(db_session)
    make_listing(db_session, inst, title=CHIP[0], summary=CHIP[1])
    make_listing(db_session, inst, title=TEA[0], summary=TEA[1])
    found = _titles(service.partial_matches(db_session, q="lithium battery tea harvester robot"))
    assert set(found) == {"锂电池组监控芯片", "一种茶叶杀青设备"}


def test_filters_apply_and_a_one_word_search_is_left_as_it_is(db_session) -> None:
    first, second = make_institution(db_session), make_institution(db_session)
    make_listing(db_session, first, title="锂电池组监控芯片")
    theirs = make_listing(db_session, second, title="锂电池回收技术")
    found = service.partial_matches(db_session, q="锂电池 杀青", institution_id=second.id)
    assert [x.id for x in found] == [theirs.id]
    assert service.partial_matches(db_session, q="杀青机") == []


def test_the_market_page_lists_partial_matches_without_a_zero_pager(
    client: TestClient, db_session
) -> None:
    inst = make_institution(db_session)
    make_listing(db_session, inst, title="锂电池组监控芯片")
    page = client.get("/market", params={"q": "锂电池正极材料"})
    assert page.status_code == 200
    assert PARTIAL in page.text and "锂电池组监控芯片" in page.text
    assert not re.search(r"共\s*0\s*条", page.text)
    nothing = client.get("/market", params={"q": "茶叶杀青"}).text
    assert PARTIAL not in nothing and "没有符合条件的成果" in nothing
