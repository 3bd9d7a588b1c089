"""The enterprise workspace's profile matches: a confident list when something matches well,
and 「暂无高度匹配的成果…」 with only the closest three when nothing does."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from shuanglian.config import Settings
from shuanglian.matching.service import build_index
from shuanglian.web.app import create_app
from shuanglian.web.deps import get_session
from tests.web.factories import login, make_enterprise, make_institution, make_patent, make_user

NOTICE = "暂无高度匹配的成果"
# Patents about batteries: one matches a battery-materials maker squarely; all of them touch a
# general store's 电池 only in passing.
PATENTS = [
    ("一种锂离子电池正极材料回收方法", "从废旧锂离子电池中回收钴酸锂正极材料，再生正极材料。"),
    ("一种电池包散热结构", "电池包内设置散热片与风道。"),
    ("一种电池电量显示装置", "显示电池剩余电量的指示电路。"),
    ("一种电池盒防水结构", "电池盒盖板设置密封圈。"),
    ("一种电池快速充电方法", "按电池温度调节充电电流。"),
]


def _page(db_settings: Settings, db_session, home: Path, scope: str, lang: str = "zh") -> str:
    inst = make_institution(db_session)
    for title, abstract in PATENTS:
        make_patent(db_session, inst, title=title, abstract=abstract)
    ent = make_enterprise(db_session, business_scope=scope)
    user = make_user(db_session, "enterprise_user", enterprise_id=ent.id)
    settings = db_settings.model_copy(update={"home": home})
    build_index(db_session, settings=settings)
    app = create_app(settings)
    app.dependency_overrides[get_session] = lambda: db_session
    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, user)
        page = client.get(f"/workspace/enterprise?lang={lang}")
    assert page.status_code == 200
    section = page.text.split('id="recommended"', 1)[1].split("</section>", 1)[0]
    return section


def _items(section: str) -> int:
    return len(re.findall(r'<li class="row match">', section))


def test_weak_profile_matches_are_introduced_as_weak_and_cut_to_three(
    db_settings: Settings, db_session, tmp_path: Path
) -> None:
    section = _page(
        db_settings,
        db_session,
        tmp_path,
        "日用百货、五金交电、服装鞋帽、文化用品、家用电器、电池、建筑材料、装饰材料的零售；"
        "餐饮服务；停车场服务；房屋租赁。",
    )
    assert NOTICE in section and 'id="weak-notice"' in section
    assert _items(section) == 3


def test_a_strong_profile_match_is_listed_without_the_weak_notice(
    db_settings: Settings, db_session, tmp_path: Path
) -> None:
    section = _page(
        db_settings, db_session, tmp_path, "锂离子电池正极材料回收与再生；废旧锂离子电池回收。"
    )
    assert NOTICE not in section
    assert _items(section) == len(PATENTS)
    first = section.split('<li class="row match">')[1]
    assert "锂离子电池正极材料回收方法" in re.sub(r"</?mark>", "", first)


def test_english_reasons_are_joined_the_english_way(
    db_settings: Settings, db_session, tmp_path: Path
) -> None:
    section = _page(db_settings, db_session, tmp_path, "电池、五金交电、日用百货的零售。", "en")
    assert "No strong match yet" in section
    snippets = re.findall(r'<p class="snippet">(.*?)</p>', section)
    assert snippets and all("；" not in s for s in snippets)
    assert any("; Weak match" in s for s in snippets)


def test_the_shared_words_are_marked_in_the_title_the_abstract_and_the_patent_page(
    db_settings: Settings, db_session, tmp_path: Path
) -> None:
    """「双方都涉及：锂离子电池、正极材料」 names the words; the list marks them in the patent's
    title and a line of its abstract, and the link carries them to the patent page, which
    marks them there too."""
    section = _page(
        db_settings, db_session, tmp_path, "锂离子电池正极材料回收与再生；废旧锂离子电池回收。"
    )
    first = section.split('<li class="row match">')[1].split("</li>", 1)[0]
    assert "<mark>" in first.split("</strong>", 1)[0]  # the title
    snippet = first.split('class="snippet abstract-snippet">', 1)[1].split("</p>", 1)[0]
    assert re.search(r"<mark>[^<]*正极材料[^<]*</mark>", snippet), snippet
    link = re.search(r'href="(/patents/\d+\?hl=[^"]+)"', first)
    assert link is not None
    user = make_user(db_session, "enterprise_user", enterprise_id=make_enterprise(db_session).id)
    app = create_app(db_settings.model_copy(update={"home": tmp_path}))
    app.dependency_overrides[get_session] = lambda: db_session
    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, user)
        page = client.get(link.group(1).replace("&amp;", "&"))
        hostile = client.get(link.group(1).split("?")[0] + "?hl=%3Cscript%3E,%E6%AD%A3%E6%9E%81")
    assert page.status_code == 200 and 'id="marked-hint"' in page.text
    abstract = page.text.split('class="abstract">', 1)[1].split("</p>", 1)[0]
    assert re.search(r"<mark>[^<]*正极材料[^<]*</mark>", abstract), abstract
    # Words come back escaped, never as markup.
    assert hostile.status_code == 200 and "<script>" not in hostile.text
    assert "&lt;script&gt;" in hostile.text
