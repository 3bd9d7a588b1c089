"""The inventory JSON API: permissions and the one error shape, on a SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.config import Settings
from shuanglian.db import Base, make_engine, make_session_factory
from shuanglian.enterprises.models import Enterprise
from shuanglian.inventory.api import router
from shuanglian.inventory.feedback import PUSH_NOT_FOUND
from shuanglian.inventory.importers import sync_inventory
from shuanglian.inventory.models import Push
from shuanglian.inventory.service import assign_reviewer
from shuanglian.patents.models import Institution
from shuanglian.web.deps import get_current_user
from shuanglian.web.errors import install_error_handlers

FORM = {
    "publicly_funded": True,
    "implementation_status": "未实施",
    "transfer_mode": "许可",
    "trl": 6,
    "value_grade": "高",
    "value_reason": "样机",
    "scenarios": "巡检",
    "contact_name": "王工",
}


@pytest.fixture
def client(tmp_path: Path, enterprise_rows, sample_csv):  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path / "home", database_url=None)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        inst, other = Institution(name="中科大数据研究院"), Institution(name="另一所大学")
        s.add_all([inst, other])
        s.flush()
        users = [
            User(username="admin", role="admin", password_hash="x"),
            User(
                username="staff",
                role="institution_staff",
                password_hash="x",
                institution_id=inst.id,
            ),
            User(
                username="rev", role="institution_staff", password_hash="x", institution_id=inst.id
            ),
            User(
                username="other",
                role="institution_staff",
                password_hash="x",
                institution_id=other.id,
            ),
        ]
        s.add_all(users)
        s.flush()
        assign_reviewer(
            s, actor=users[1], user_id=users[2].id, institution_id=inst.id, level="institution"
        )
        for row in enterprise_rows:
            s.add(Enterprise(name=row["企业名称"], industry_code=row["industry_code"]))
        sync_inventory(s, actor=users[0], path=sample_csv, institution_id=inst.id)
        s.commit()
    app = FastAPI()
    app.state.settings = settings
    app.state.session_factory = make_session_factory(engine)
    install_error_handlers(app)
    app.include_router(router, prefix="/api/v1")

    def user_from_header(request: Request) -> User | None:
        name = request.headers.get("x-user")
        with Session(engine) as s:
            return s.scalar(select(User).where(User.username == name)) if name else None

    app.dependency_overrides[get_current_user] = user_from_header
    with TestClient(app) as c:
        c.engine = engine  # type: ignore[attr-defined]
        yield c
    engine.dispose()


def _h(user: str) -> dict[str, str]:
    # A bearer header marks a token client (CSRF exempt); the user comes from X-User.
    return {"x-user": user, "authorization": "Bearer test"}


def test_flow_and_permissions(client):
    assert client.get("/api/v1/inventory/items").status_code == 403  # anonymous
    items = client.get("/api/v1/inventory/items", headers=_h("staff")).json()
    assert len(items) == 10
    assert client.get("/api/v1/inventory/items", headers=_h("other")).json() == []
    item = items[0]["id"]
    r = client.put(f"/api/v1/inventory/items/{item}/assessment", json=FORM, headers=_h("other"))
    # Another institution's item and one that does not exist get the same answer (no oracle).
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    missing = client.put(
        "/api/v1/inventory/items/2000000000/assessment", json=FORM, headers=_h("other")
    )
    assert missing.status_code == 404
    assert r.json()["error"]["message"].replace(str(item), "#") == missing.json()["error"][
        "message"
    ].replace("2000000000", "#")
    for who in ("other", "staff"):  # staff: the item is not under review yet
        r = client.post(
            f"/api/v1/inventory/items/{item}/review", json={"decision": "approve"}, headers=_h(who)
        )
        gone = client.post(
            "/api/v1/inventory/items/2000000000/review",
            json={"decision": "approve"},
            headers=_h(who),
        )
        if who == "other":  # the item's state is not told to another institution
            assert (r.status_code, gone.status_code) == (404, 404)
            assert "状态" not in r.json()["error"]["message"]
        else:
            assert r.status_code == 400 and "不在审核阶段" in r.json()["error"]["message"]
    r = client.put(
        f"/api/v1/inventory/items/{item}/assessment", json={**FORM, "trl": 10}, headers=_h("staff")
    )
    assert r.status_code == 422
    r = client.put(f"/api/v1/inventory/items/{item}/assessment", json=FORM, headers=_h("staff"))
    assert r.status_code == 200 and r.json()["status"] == "institution_review"
    r = client.post(
        f"/api/v1/inventory/items/{item}/review", json={"decision": "approve"}, headers=_h("staff")
    )
    assert r.status_code == 403
    r = client.post(
        f"/api/v1/inventory/items/{item}/review", json={"decision": "approve"}, headers=_h("rev")
    )
    assert r.json()["status"] == "approved"
    r = client.post(
        f"/api/v1/inventory/items/{item}/review", json={"decision": "approve"}, headers=_h("rev")
    )
    assert r.status_code == 400 and "不在审核阶段" in r.json()["error"]["message"]

    r = client.post(
        "/api/v1/inventory/push-rounds", json={"matcher": "industry"}, headers=_h("staff")
    )
    assert r.status_code == 403
    r = client.post(
        "/api/v1/inventory/push-rounds",
        json={"matcher": "industry", "per_patent": 2},
        headers=_h("admin"),
    )
    assert r.status_code == 200 and r.json()["pushes_made"] == 2
    # The industry matcher's pairs are linked by industry: nothing skipped for want of evidence,
    # and it gives no match levels, so no pair is left out as weak.
    assert r.json()["skipped_no_evidence"] == 0 and r.json()["skipped_weak"] == 0

    with Session(client.engine) as s:
        push = s.scalars(select(Push)).first()
        ent_user = User(
            username="ent",
            role="enterprise_user",
            password_hash="x",
            enterprise_id=push.enterprise_id,
        )
        s.add(ent_user)
        other_eid = s.scalar(
            select(Enterprise.id).where(
                Enterprise.id != push.enterprise_id,
                Enterprise.id.not_in(select(Push.enterprise_id)),
            )
        )
        s.add(
            User(
                username="ent2", role="enterprise_user", password_hash="x", enterprise_id=other_eid
            )
        )
        s.commit()
        push_id, patent_id, push_eid = push.id, push.patent_id, push.enterprise_id
    listed = client.get("/api/v1/inventory/pushes", headers=_h("ent")).json()
    assert [p["push_id"] for p in listed] == [push_id]
    assert client.get("/api/v1/inventory/pushes?offset=1", headers=_h("ent")).json() == []
    assert client.get("/api/v1/inventory/pushes", headers=_h("ent2")).json() == []
    r = client.post(
        "/api/v1/inventory/feedback",
        headers=_h("ent2"),
        json={"patent_id": patent_id, "prospect": 4, "intent": "洽谈"},
    )
    never = r.json()["error"]
    assert r.status_code == 404 and never["message"] == PUSH_NOT_FOUND
    # Pushed to another enterprise, or a push that does not exist: the very same answer.
    for body in (
        {"patent_id": patent_id, "enterprise_id": push_eid},
        {"push_id": push_id},
        {"push_id": 2_000_000_000},
    ):
        r = client.post(
            "/api/v1/inventory/feedback",
            headers=_h("ent2"),
            json={**body, "prospect": 4, "intent": "洽谈"},
        )
        assert (r.status_code, r.json()["error"]["message"]) == (404, PUSH_NOT_FOUND), body
    r = client.post(
        "/api/v1/inventory/feedback",
        headers=_h("ent"),
        json={"push_id": push_id, "prospect": 4, "intent": "洽谈"},
    )
    assert r.status_code == 200 and r.json()["intent"] == "洽谈"

    r = client.post("/api/v1/inventory/tiers/recompute?institution_id=1", headers=_h("staff"))
    assert r.json()["tiers"]["1"] == 1
    pool = client.get("/api/v1/inventory/pool", headers=_h("staff")).json()
    assert [p["tier"] for p in pool] == [1]
    assert (
        client.get(
            f"/api/v1/inventory/pool/{patent_id}/indicators", headers=_h("other")
        ).status_code
        == 404  # the same as a patent that is not pooled: no oracle
    )
    report = client.get("/api/v1/inventory/report", headers=_h("staff")).json()
    assert report["total"]["入库数"] == 1 and report["total"]["有合作意向数"] == 1
    r = client.post(
        f"/api/v1/inventory/pool/{patent_id}/withdraw",
        json={"reason": "自行实施"},
        headers=_h("staff"),
    )
    assert r.json()["status"] == "withdrawn"
