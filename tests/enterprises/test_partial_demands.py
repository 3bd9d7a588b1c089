"""A demand search that no demand matches in full: the demands holding most of its words,
English words looked up by their Chinese translations, only those the viewer may see."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from shuanglian.enterprises import service
from tests.web.factories import make_demand, make_enterprise
from tests.web.fixtures import app, client  # noqa: F401  (shared fixtures)

PARTIAL = "没有同时含有全部关键词的需求"


def _titles(demands) -> list[str]:
    return [d.title for d in demands]


def test_the_demand_with_most_words_comes_first(db_session) -> None:
    ent = make_enterprise(db_session)
    make_demand(db_session, ent, "锂电池组热管理技术")
    make_demand(db_session, ent, "锂电池用正极材料的开发")
    make_demand(db_session, ent, "高镍正极材料量产工艺")
    make_demand(db_session, ent, "茶叶杀青设备改进")
    assert service.list_demands(db_session, q="锂电池正极材料").total == 0
    found = _titles(service.partial_demands(db_session, q="锂电池正极材料", viewer=None))
    assert found[0] == "锂电池用正极材料的开发"
    assert set(found[1:]) == {"锂电池组热管理技术", "高镍正极材料量产工艺"}


def test_english_words_find_chinese_demands(db_session) -> None:
    ent = make_enterprise(db_session)
    make_demand(db_session, ent, "锂电池组热管理技术")
    make_demand(db_session, ent, "茶叶杀青设备改进")
    assert service.list_demands(db_session, q="lithium battery").total == 0
    found = _titles(service.partial_demands(db_session, q="lithium battery", viewer=None))
    assert found == ["锂电池组热管理技术"]
    # One Chinese word that nothing holds: nothing to cut, nothing listed.
    assert service.partial_demands(db_session, q="杀青机", viewer=None) == []


def test_hidden_demands_stay_hidden(db_session) -> None:
    ent = make_enterprise(db_session)
    hidden = make_demand(db_session, ent, "锂电池正极包覆工艺")
    hidden.visibility = "matched"
    make_demand(db_session, ent, "正极材料检测方法")
    db_session.flush()
    found = _titles(service.partial_demands(db_session, q="锂电池正极材料", viewer=None))
    assert found == ["正极材料检测方法"]


def test_the_demands_page_lists_partial_matches_without_a_zero_pager(
    client: TestClient,  # noqa: F811
    db_session,
) -> None:
    make_demand(db_session, make_enterprise(db_session), "锂电池组热管理技术")
    page = client.get("/demands", params={"q": "lithium battery"})
    assert page.status_code == 200
    assert PARTIAL in page.text and "锂电池组热管理技术" in page.text
    assert not re.search(r"共\s*0\s*条", page.text)
    nothing = client.get("/demands", params={"q": "杀青机"}).text
    assert PARTIAL not in nothing and "没有符合条件的需求" in nothing
