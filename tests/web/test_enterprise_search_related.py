"""The enterprise register's search when no name or business scope holds the words as typed:
the enterprises whose scope the engine finds closest (either language), filters kept, and a
weak list introduced as one of enterprises, not of 成果."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from shuanglian.config import Settings
from tests.web.factories import (
    indexed_client,
    make_enterprise,
    make_institution,
    make_patent,
    make_user,
)

NO_WORDS = "没有名称或经营范围含有这些字词的企业"
NOTHING = "没有符合条件的企业"
SCOPES = [
    ("锂电新能源有限公司", "广东省", "锂离子电池正极材料的研发、生产与销售；电池回收。"),
    ("湘江电池材料有限公司", "湖南省", "锂离子电池正极材料、三元前驱体的生产与销售。"),
    ("茶山茶业有限公司", "湖南省", "茶叶种植、加工与销售；茶具零售。"),
]


def _client(db_settings: Settings, db_session, home: Path, *, indexed: bool = True) -> TestClient:
    make_patent(db_session, make_institution(db_session), title="一种锂离子电池正极材料")
    for name, province, scope in SCOPES:
        make_enterprise(db_session, name=name, province=province, business_scope=scope)
    user = make_user(db_session, "admin")
    settings = db_settings.model_copy(update={"home": home})
    return indexed_client(settings, db_session, user, indexed=indexed)


def _names(page: str) -> list[str]:
    section = page.split('id="related"', 1)[1].split("</section>", 1)[0]
    return [re.sub(r"<[^>]+>", "", n) for n in re.findall(r"<strong>(.*?)</strong>", section)]


def test_an_english_search_lists_the_closest_chinese_scopes(
    db_settings: Settings, db_session, tmp_path: Path
) -> None:
    client = _client(db_settings, db_session, tmp_path)
    page = client.get("/enterprises", params={"q": "cathode material for lithium-ion batteries"})
    assert page.status_code == 200
    assert NO_WORDS in page.text and NOTHING not in page.text
    names = _names(page.text)
    assert set(names[:2]) == {"锂电新能源有限公司", "湘江电池材料有限公司"}
    assert "茶山茶业有限公司" not in names
    assert not re.search(r"共\\s*0\\s*条", page.text)


def test_the_province_filter_applies_to_the_related_list(
    db_settings: Settings, db_session, tmp_path: Path
) -> None:
    client = _client(db_settings, db_session, tmp_path)
    page = client.get(
        "/enterprises", params={"q": "lithium-ion battery cathode", "province": "湖南省"}
    )
    assert _names(page.text) == ["湘江电池材料有限公司"]


def test_a_weak_list_of_enterprises_says_enterprises(
    db_settings: Settings, db_session, tmp_path: Path
) -> None:
    client = _client(db_settings, db_session, tmp_path)
    # Only generic words (销售、服务) in common with any scope: a weak list.
    page = client.get("/enterprises", params={"q": "销售服务"}).text
    assert 'id="weak-notice"' in page
    assert "暂无高度匹配的企业" in page and "暂无高度匹配的成果" not in page


def test_before_the_index_is_built_nothing_matches(
    db_settings: Settings, db_session, tmp_path: Path
) -> None:
    client = _client(db_settings, db_session, tmp_path, indexed=False)
    page = client.get("/enterprises", params={"q": "lithium-ion battery cathode"}).text
    assert NOTHING in page and NO_WORDS not in page
