"""Enterprise workspace edits over HTTP: the pages and the JSON API reach the same service.

Pages: a refused field's message sits beside that field with what was typed put back, and the
database is unchanged. API: the same rules answer in the one error shape, for cookie sessions
(with the CSRF header) and API tokens alike.
"""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from shuanglian.accounts import service as accounts
from shuanglian.enterprises.models import Demand
from tests.web.factories import csrf_of, login, make_demand, make_enterprise, make_user


def _row(db_session, demand: Demand) -> tuple[object, ...]:
    db_session.expire(demand)
    return (demand.title, demand.region, demand.budget, demand.status)


def test_demand_edit_error_shows_beside_field_and_keeps_row(client: TestClient, db_session) -> None:
    ent = make_enterprise(db_session)
    demand = make_demand(db_session, ent, "电池回收技术需求")
    login(client, make_user(db_session, "enterprise_user", enterprise_id=ent.id))
    token = csrf_of(client, f"/workspace/enterprise/demands/{demand.id}")
    before = _row(db_session, demand)
    bad = client.post(
        f"/workspace/enterprise/demands/{demand.id}",
        data={
            "csrf_token": token,
            "title": "电池回收与梯次利用",
            "industry_code": "ZZ9",
            "region": "苏州",
            "status": "closed",
        },
    )
    assert bad.status_code == 422
    assert 'id="err-industry_code"' in bad.text and "GB/T 4754" in bad.text
    assert 'aria-describedby="err-industry_code"' in bad.text
    # What was typed comes back, not the stored values.
    assert 'value="电池回收与梯次利用"' in bad.text and 'value="苏州"' in bad.text
    assert _row(db_session, demand) == before
    ok = client.post(
        f"/workspace/enterprise/demands/{demand.id}",
        data={
            "csrf_token": token,
            "title": "电池回收与梯次利用",
            "industry_code": "C4210",
            "budget": "80万元",
            "region": "苏州",
            "status": "closed",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/workspace/enterprise#demands"
    assert _row(db_session, demand) == ("电池回收与梯次利用", "苏州", Decimal(80), "closed")
    assert demand.industry_code == "4210"


def test_new_demand_error_keeps_profile_form_apart(client: TestClient, db_session) -> None:
    ent = make_enterprise(db_session, business_scope="锂电池材料研发", industry_code="38")
    login(client, make_user(db_session, "enterprise_user", enterprise_id=ent.id))
    token = csrf_of(client, "/workspace/enterprise")
    bad = client.post(
        "/workspace/enterprise/demands",
        data={
            "csrf_token": token,
            "title": "正极材料再生",
            "industry_code": "X99",
            "visibility": "public",
        },
    )
    assert bad.status_code == 422 and 'id="err-demand-industry_code"' in bad.text
    assert 'id="err-industry_code"' not in bad.text
    # The profile form still shows the stored code (with its 门类 letter and name), not the one
    # typed into the demand form.
    assert 'id="p-industry" name="industry_code" value="C38"' in bad.text
    assert "C38 电气机械和器材制造业" in bad.text
    assert 'value="X99"' in bad.text
    assert db_session.query(Demand).filter_by(enterprise_id=ent.id).count() == 0


def test_admin_edits_any_demand_through_the_page(client: TestClient, db_session) -> None:
    demand = make_demand(db_session, make_enterprise(db_session), "需求甲")
    login(client, make_user(db_session, "admin"))
    page = client.get(f"/workspace/enterprise/demands/{demand.id}")
    assert page.status_code == 200 and f'href="/demands/{demand.id}"' in page.text
    token = csrf_of(client, f"/workspace/enterprise/demands/{demand.id}")
    ok = client.post(
        f"/workspace/enterprise/demands/{demand.id}",
        data={"csrf_token": token, "title": "需求甲（修订）", "status": "open"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == f"/demands/{demand.id}"
    assert _row(db_session, demand)[0] == "需求甲（修订）"


def test_other_enterprise_cannot_edit_through_the_page(client: TestClient, db_session) -> None:
    demand = make_demand(db_session, make_enterprise(db_session))
    other = make_enterprise(db_session)
    login(client, make_user(db_session, "enterprise_user", enterprise_id=other.id))
    token = csrf_of(client, "/workspace/enterprise")
    before = _row(db_session, demand)
    assert client.get(f"/workspace/enterprise/demands/{demand.id}").status_code == 403
    # A bad field must not let the request past the permission check either.
    for title in ("篡改", ""):
        denied = client.post(
            f"/workspace/enterprise/demands/{demand.id}",
            data={"csrf_token": token, "title": title, "status": "closed"},
        )
        assert denied.status_code == 403 and "只能管理本企业" in denied.text
    assert _row(db_session, demand) == before


# --------------------------------------------------------------------------- JSON API


def _token_for(db_session, user) -> dict[str, str]:
    _, plain = accounts.create_api_token(db_session, user=user, name="test")
    db_session.flush()
    return {"Authorization": f"Bearer {plain}"}


def test_api_profile_update(client: TestClient, db_session) -> None:
    ent = make_enterprise(db_session)
    owner = _token_for(db_session, make_user(db_session, "enterprise_user", enterprise_id=ent.id))
    url = f"/api/v1/enterprises/{ent.id}/profile"
    ok = client.put(
        url, json={"business_scope": "储能系统集成", "industry_code": "C3841"}, headers=owner
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["industry_code"] == "3841" and ok.json()["business_scope"] == "储能系统集成"
    bad = client.put(url, json={"business_scope": "x", "industry_code": "ZZ9"}, headers=owner)
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "industry_code"
    assert bad.json()["error"]["code"] == "invalid"
    # PUT replaces both fields: leaving one out is refused rather than clearing it.
    partial = client.put(url, json={"industry_code": "33"}, headers=owner)
    assert partial.status_code == 422 and partial.json()["error"]["field"] == "business_scope"
    db_session.refresh(ent)
    assert (ent.business_scope, ent.industry_code) == ("储能系统集成", "3841")

    other = make_enterprise(db_session)
    stranger = _token_for(
        db_session, make_user(db_session, "enterprise_user", enterprise_id=other.id)
    )
    body = {"business_scope": "篡改", "industry_code": None}
    denied = client.put(url, json=body, headers=stranger)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    assert client.put(url, json=body).status_code == 403  # anonymous
    admin = _token_for(db_session, make_user(db_session, "admin"))
    assert client.put(url, json=body, headers=admin).status_code == 200
    db_session.refresh(ent)
    assert (ent.business_scope, ent.industry_code) == ("篡改", None)


def test_api_demand_create_and_update_with_cookie_session(client: TestClient, db_session) -> None:
    ent = make_enterprise(db_session)
    login(client, make_user(db_session, "enterprise_user", enterprise_id=ent.id))
    csrf = {"X-CSRF-Token": csrf_of(client, "/workspace/enterprise")}
    body = {"enterprise_id": ent.id, "title": "废水除氟工艺", "budget": "120.5"}
    assert client.post("/api/v1/demands", json=body).status_code == 403  # no CSRF header
    created = client.post("/api/v1/demands", json=body, headers=csrf)
    assert created.status_code == 201, created.text
    demand = created.json()
    assert demand["status"] == "open" and Decimal(demand["budget"]) == Decimal("120.5")
    bad = client.post("/api/v1/demands", json={**body, "deadline": "2027-13-01"}, headers=csrf)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "deadline"
    neg = client.post("/api/v1/demands", json={**body, "budget": -1}, headers=csrf)
    assert neg.status_code == 400 and neg.json()["error"]["field"] == "budget"
    assert "负数" in neg.json()["error"]["message"]
    assert db_session.query(Demand).filter_by(enterprise_id=ent.id).count() == 1

    url = f"/api/v1/demands/{demand['id']}"
    edit = {
        "title": "废水除氟与回用",
        "description": None,
        "industry_code": "4620",
        "budget": None,
        "deadline": "2027-12-31",
        "region": "江苏",
        "status": "closed",
    }
    updated = client.put(url, json=edit, headers=csrf)
    assert updated.status_code == 200, updated.text
    assert updated.json()["status"] == "closed" and updated.json()["budget"] is None
    empty = client.put(url, json={**edit, "title": " "}, headers=csrf)
    assert empty.status_code == 400 and empty.json()["error"]["field"] == "title"
    assert client.get(url).json()["title"] == "废水除氟与回用"
    # Status left out keeps it closed.
    kept = client.put(url, json={k: v for k, v in edit.items() if k != "status"}, headers=csrf)
    assert kept.json()["status"] == "closed"

    other = make_enterprise(db_session)
    denied = client.post("/api/v1/demands", json={**body, "enterprise_id": other.id}, headers=csrf)
    assert denied.status_code == 403
    theirs = make_demand(db_session, other)
    assert client.put(f"/api/v1/demands/{theirs.id}", json=edit, headers=csrf).status_code == 403
    db_session.refresh(theirs)
    assert theirs.status == "open"
