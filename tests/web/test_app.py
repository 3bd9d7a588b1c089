"""The minimal app: health, JSON list/detail/search, one error shape, pages, language."""

from __future__ import annotations

import importlib
import sys

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuanglian.config import Settings
from shuanglian.web.app import create_app
from tests.web.factories import make_demand, make_enterprise, make_institution, make_patent


def test_importing_the_app_module_builds_nothing() -> None:
    sys.modules.pop("shuanglian.web.app", None)
    module = importlib.import_module("shuanglian.web.app")
    assert not [name for name in vars(module) if name in ("app", "engine", "session_factory")]


def test_create_app_builds_its_own_engine(settings: Settings) -> None:
    first, second = create_app(settings), create_app(settings)
    assert first.state.engine is not second.state.engine
    assert first.state.settings is settings


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_openapi_is_served_under_api_v1(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/patents",
        "/api/v1/patents/{patent_id}",
        "/api/v1/patents/search",
        "/api/v1/enterprises",
        "/api/v1/enterprises/{enterprise_id}",
        "/api/v1/demands",
        "/api/v1/listings",
        "/api/v1/screen",
    ):
        assert path in schema["paths"], path
    assert not [p for p in schema["paths"] if not p.startswith("/api/v1/")]


def test_patent_list_detail_and_search(client: TestClient, db_session) -> None:
    inst = make_institution(db_session)
    battery = make_patent(db_session, inst, title="一种锂电池回收方法")
    make_patent(db_session, inst, title="无人机避障控制系统")
    listing = client.get("/api/v1/patents", params={"institution_id": inst.id}).json()
    assert listing["total"] == 2 and len(listing["items"]) == 2
    found = client.get("/api/v1/patents/search", params={"q": "锂电池"}).json()
    assert [p["id"] for p in found["items"]] == [battery.id]
    # Traditional characters find the Simplified record (search text is normalised).
    found_trad = client.get("/api/v1/patents", params={"q": "鋰電池"}).json()
    assert [p["id"] for p in found_trad["items"]] == [battery.id]
    detail = client.get(f"/api/v1/patents/{battery.id}").json()
    assert detail["title"] == "一种锂电池回收方法"
    assert detail["institution"]["name"] == inst.name


def test_enterprise_and_demand_endpoints(client: TestClient, db_session) -> None:
    ent = make_enterprise(db_session, "沈阳新能源材料有限公司", province="辽宁")
    demand = make_demand(db_session, ent, "高镍正极材料回收")
    page = client.get("/api/v1/enterprises", params={"province": "辽宁", "q": "新能源"}).json()
    assert ent.id in [e["id"] for e in page["items"]]
    assert client.get(f"/api/v1/enterprises/{ent.id}").json()["name"] == ent.name
    assert client.get("/api/v1/enterprises/search", params={"q": "新能源材料"}).json()["total"] >= 1
    demands = client.get("/api/v1/demands", params={"enterprise_id": ent.id}).json()
    assert [d["id"] for d in demands["items"]] == [demand.id]
    assert client.get(f"/api/v1/demands/{demand.id}").json()["title"] == "高镍正极材料回收"


def test_errors_have_one_json_shape(client: TestClient) -> None:
    missing = client.get("/api/v1/patents/999999")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    invalid = client.get("/api/v1/patents", params={"limit": 1000})
    assert invalid.status_code == 422
    assert invalid.json()["error"] == {
        "code": "invalid",
        "message": invalid.json()["error"]["message"],
        "field": "limit",
    }
    huge = client.get("/api/v1/patents/99999999999999")
    assert huge.status_code == 422 and huge.json()["error"]["field"] == "patent_id"
    unknown = client.get("/api/v1/nothing-here")
    assert unknown.status_code == 404 and set(unknown.json()["error"]) == {
        "code",
        "message",
        "field",
    }


def test_404_page_is_in_the_site_style(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "找不到这个页面" in response.text and 'href="/static/css/site.css"' in response.text


def test_500_never_shows_a_stack_trace(app: FastAPI) -> None:
    @app.get("/boom-html", include_in_schema=False)
    def boom_html() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    @app.get("/api/v1/boom", include_in_schema=False)
    def boom_json() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/boom-html")
        assert page.status_code == 500 and "出错了" in page.text
        assert "Traceback" not in page.text and "secret" not in page.text
        api = client.get("/api/v1/boom")
        assert api.status_code == 500 and api.json()["error"]["code"] == "internal"
        assert "secret" not in api.text


def test_pages_render_lists_and_details(client: TestClient, db_session) -> None:
    inst = make_institution(db_session, "东北大学测试")
    patent = make_patent(db_session, inst, title="一种钢板冷轧工艺")
    ent = make_enterprise(db_session, "鞍山钢铁测试有限公司")
    demand = make_demand(db_session, ent, "冷轧板表面缺陷检测")
    assert "一种钢板冷轧工艺" in client.get("/patents", params={"q": "冷轧"}).text
    detail = client.get(f"/patents/{patent.id}").text
    assert patent.application_number in detail and "东北大学测试" in detail
    assert "鞍山钢铁测试有限公司" in client.get("/enterprises", params={"q": "鞍山钢铁"}).text
    assert "冷轧板表面缺陷检测" in client.get(f"/enterprises/{ent.id}").text
    assert "冷轧板表面缺陷检测" in client.get("/demands").text
    assert client.get(f"/demands/{demand.id}").status_code == 200
    assert client.get("/enterprises/99999999").status_code == 404


def test_language_switch_sticks_through_a_cookie(client: TestClient) -> None:
    zh = client.get("/patents")
    assert 'lang="zh-CN"' in zh.text and "专利库" in zh.text
    en = client.get("/patents?lang=en")
    assert 'lang="en"' in en.text and "Patents" in en.text
    assert en.cookies.get("lang") == "en" or client.cookies.get("lang") == "en"
    again = client.get("/patents")
    assert 'lang="en"' in again.text


def test_home_shows_figures(client: TestClient, db_session) -> None:
    make_patent(db_session, make_institution(db_session))
    page = client.get("/")
    assert page.status_code == 200 and 'class="figures"' in page.text


def test_security_headers(client: TestClient) -> None:
    response = client.get("/")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_public_pages_set_no_cookie_for_anonymous_visitors(client: TestClient) -> None:
    assert "set-cookie" not in client.get("/market").headers
    assert "sl_session=" in client.get("/login").headers.get("set-cookie", "")


def test_oversized_bodies_are_refused_with_the_error_shape(client: TestClient) -> None:
    response = client.post(
        "/api/v1/tokens",
        content=b"x" * (2 * 1024 * 1024 + 1),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


def test_nul_in_the_query_string_is_a_clean_400(client: TestClient) -> None:
    response = client.get("/api/v1/patents?q=%00")
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"


def test_sqlite_server_refreshes_statistics_at_start_and_starts_while_locked(tmp_path) -> None:
    """Start-up runs ANALYZE on SQLite, but an import holding the write lock must not stop it."""
    from sqlalchemy import text

    from shuanglian.db import make_engine
    from shuanglian.migrate import upgrade_database

    settings = Settings(home=tmp_path, database_url=None)
    engine = make_engine(settings)
    upgrade_database(engine)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sqlite_stat1")).scalar() > 0
        conn.execute(
            text(
                "INSERT INTO institutions (name, kind, created_at, updated_at) "
                "VALUES ('写锁', 'university', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        with TestClient(create_app(settings)) as client:  # the insert is not committed yet
            assert client.get("/market").status_code == 200
        conn.rollback()
    engine.dispose()
