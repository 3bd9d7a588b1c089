"""The patent library's search when no title holds every word: instead of 「没有符合条件的专利」,
the patents whose title and abstract are closest to the words (in either language), with their
level and the shared words marked, and no 「共 0 条」 pager under them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shuanglian.config import Settings
from tests.web.factories import (
    indexed_client,
    make_enterprise,
    make_institution,
    make_patent,
    make_user,
)

NO_TITLE = "没有标题同时含有全部关键词的专利"
NOTHING = "没有符合条件的专利"
PATENTS = [
    ("一种锂离子电池正极材料回收方法", "从废旧锂离子电池中回收钴酸锂正极材料，再生正极材料。"),
    ("一种电池包散热结构", "电池包内设置散热片与风道。"),
    ("一种钢板冷轧工艺", "冷轧机组的轧制力控制与板形调节。"),
    ("一种茶叶杀青设备", "滚筒式杀青机的温度控制。"),
]


@pytest.fixture
def world(db_settings: Settings, db_session, tmp_path: Path) -> Iterator[tuple]:
    """Two institutions' patents, and a client factory (index built or not)."""
    first, second = make_institution(db_session), make_institution(db_session)
    made = [
        make_patent(db_session, first if i % 2 == 0 else second, title=title, abstract=abstract)
        for i, (title, abstract) in enumerate(PATENTS)
    ]
    ent = make_enterprise(db_session, business_scope="锂离子电池正极材料的研发与销售。")
    user = make_user(db_session, "enterprise_user", enterprise_id=ent.id)
    settings = db_settings.model_copy(update={"home": tmp_path})

    def client(*, indexed: bool = True) -> TestClient:
        return indexed_client(settings, db_session, user, indexed=indexed)

    yield made, (first, second), client


def _titles(page: str) -> list[str]:
    section = page.split('id="related"', 1)[1].split("</section>", 1)[0]
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<strong>(.*?)</strong>", section, re.S)]


def test_words_no_title_holds_list_the_closest_patents(world) -> None:
    made, _insts, client = world
    page = client().get("/patents", params={"q": "锂电池正极材料"})
    assert page.status_code == 200
    assert NO_TITLE in page.text and NOTHING not in page.text
    titles = _titles(page.text)
    assert titles[0] == PATENTS[0][0]
    assert "一种茶叶杀青设备" not in titles  # nothing in common: not listed
    assert "<mark>正极材料</mark>" in page.text  # the shared word marked where it stands
    assert "匹配度" in page.text
    assert "共 0 条" not in page.text


def test_an_english_query_finds_chinese_patents(world) -> None:
    _made, _insts, client = world
    page = client().get("/patents", params={"q": "lithium battery cathode material recycling"})
    assert page.status_code == 200
    assert _titles(page.text)[0] == PATENTS[0][0]
    assert "↔" in page.text  # the reason says which words matched across languages


def test_the_institution_filter_applies_to_the_related_list(world) -> None:
    _made, (first, second), client = world
    c = client()
    own = _titles(c.get("/patents", params={"q": "锂电池散热", "institution_id": second.id}).text)
    assert own == ["一种电池包散热结构"]
    other = c.get("/patents", params={"q": "锂电池散热", "institution_id": first.id}).text
    assert "一种电池包散热结构" not in _titles(other)


def test_a_title_match_is_listed_as_before(world) -> None:
    _made, _insts, client = world
    page = client().get("/patents", params={"q": "冷轧"}).text
    assert "一种钢板冷轧工艺" in page and NO_TITLE not in page and 'id="related"' not in page


def test_before_the_index_is_built_the_search_says_nothing_matches(world) -> None:
    _made, _insts, client = world
    page = client(indexed=False).get("/patents", params={"q": "锂电池正极材料"})
    assert page.status_code == 200
    assert NOTHING in page.text and NO_TITLE not in page.text
