"""The JSON API does what the pages do, through the same services (issue 5: API parity).

Inquiries, the admin's users / audit log / reference tables, one's own password, and the
institution workspace's listings and batches: each happy path, each role that must be refused,
and the one error shape for bad input, which leaves the database as it was. Both databases.
"""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shuanglian.accounts import service as accounts
from shuanglian.accounts.models import ROLES, User
from shuanglian.audit import AuditEntry, record_audit
from shuanglian.config import Settings
from shuanglian.inventory.service import create_batch
from shuanglian.reference import gbt4754, summary
from shuanglian.supermarket.models import Inquiry
from tests.web.factories import (
    PASSWORD,
    csrf_of,
    login,
    make_enterprise,
    make_institution,
    make_listing,
    make_patent,
    make_user,
)

VISITOR = {
    "name": "李四",
    "organisation": "江苏某电池材料有限公司",
    "email": "li@example.com",
    "phone": "+86 139-0000-0000",
    "message": "我们想许可这项回收技术，请联系我。",
}
NEW_PASSWORD = "new-secret-2026"


def _signed_in(client: TestClient, user: User) -> dict[str, str]:
    """Log the client in and return the CSRF header its API writes need."""
    login(client, user)
    return {"X-CSRF-Token": csrf_of(client, "/account")}


def _bearer(db_session, user: User) -> dict[str, str]:
    _, plain = accounts.create_api_token(db_session, user=user, name="script")
    return {"Authorization": f"Bearer {plain}"}


def _error(response, status: int, field: str | None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "field"}
    assert error["field"] == field, error
    return error  # type: ignore[no-any-return]


def _post_json(
    client: TestClient, path: str, body: dict[str, object], headers: dict[str, str] | None = None
):  # type: ignore[no-untyped-def]
    """POST `body` as ASCII JSON, so that lone surrogates travel as `\\ud800` escapes the way a
    crafted request sends them (httpx's own encoder would refuse them)."""
    return client.post(
        path,
        content=json.dumps(body),
        headers={"Content-Type": "application/json"} | (headers or {}),
    )


def _count(db_session, model: type) -> int:
    return db_session.scalar(select(func.count()).select_from(model)) or 0


# --------------------------------------------------------------------------- inquiries


@pytest.fixture
def outbox(app: FastAPI, db_settings: Settings, tmp_path: Path) -> Path:
    """Give the app a home of this test's own, so its outbox starts empty."""
    app.state.settings = db_settings.model_copy(
        update={"database_url": db_settings.resolved_database_url, "home": tmp_path}
    )
    return tmp_path / "outbox"


def test_anyone_may_send_an_inquiry_and_staff_are_told(
    client: TestClient, db_session, outbox: Path
) -> None:
    inst = make_institution(db_session)
    listing = make_listing(db_session, inst, title="废旧锂电池高效回收技术")
    make_user(db_session, "institution_staff", institution_id=inst.id, email="tto@example.edu.cn")
    response = client.post(f"/api/v1/listings/{listing.id}/inquiries", json=VISITOR)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert set(receipt) == {"id", "listing_id", "created_at"}  # contacts are not echoed
    stored = db_session.get(Inquiry, receipt["id"])
    assert (stored.listing_id, stored.name, stored.email, stored.user_id) == (
        listing.id,
        "李四",
        "li@example.com",
        None,
    )
    [eml] = sorted(outbox.glob("*.eml"))
    notice = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert notice["To"] == "tto@example.edu.cn"
    assert listing.number in notice["Subject"]
    body = notice.get_content()
    assert VISITOR["message"] in body and f"http://testserver/market/{listing.id}" in body


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"email": "not-an-address"}, 400, "email"),
        ({"email": None, "phone": None}, 400, "email"),
        ({"phone": "call me"}, 400, "phone"),
        ({"message": "短"}, 400, "message"),
        ({"name": "  "}, 400, "name"),
        ({"name": "李\x00四"}, 422, "name"),  # NUL (PostgreSQL cannot store it): the schema refuses
        ({"organisation": "\ud800"}, 422, "organisation"),  # a lone surrogate (JSON escape)
        ({"message": "长" * 5001}, 422, "message"),
        ({"website": "x"}, 422, "website"),
    ],
)
def test_a_refused_inquiry_names_the_field_and_stores_and_sends_nothing(
    client: TestClient,
    db_session,
    outbox: Path,
    changes: dict[str, object],
    status: int,
    field: str,
) -> None:
    listing = make_listing(db_session, make_institution(db_session))
    response = _post_json(client, f"/api/v1/listings/{listing.id}/inquiries", VISITOR | changes)
    error = _error(response, status, field)
    assert "(" in str(error["message"])  # zh-CN first, English in parentheses
    assert _count(db_session, Inquiry) == 0
    assert not outbox.exists() or not list(outbox.glob("*.eml"))


def test_an_inquiry_about_a_draft_or_missing_listing_is_not_found(
    client: TestClient, db_session, outbox: Path
) -> None:
    draft = make_listing(db_session, make_institution(db_session), publish=False)
    for listing_id in (draft.id, 2_000_000_000):
        response = client.post(f"/api/v1/listings/{listing_id}/inquiries", json=VISITOR)
        _error(response, 404, None)
    assert _count(db_session, Inquiry) == 0
    _error(
        client.post(f"/api/v1/listings/{draft.id}/inquiries", json={"name": "x"}), 422, "message"
    )


def test_a_signed_in_browser_needs_the_csrf_header_a_token_does_not(
    client: TestClient, db_session, outbox: Path
) -> None:
    listing = make_listing(db_session, make_institution(db_session))
    member = make_user(db_session, "enterprise_user", enterprise_id=make_enterprise(db_session).id)
    path = f"/api/v1/listings/{listing.id}/inquiries"
    headers = _signed_in(client, member)
    refused = client.post(path, json=VISITOR)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf"
    assert _count(db_session, Inquiry) == 0
    sent = client.post(path, json=VISITOR, headers=headers)
    assert sent.status_code == 201
    assert db_session.get(Inquiry, sent.json()["id"]).user_id == member.id
    with TestClient(client.app) as bot:
        by_token = bot.post(path, json=VISITOR, headers=_bearer(db_session, member))
        assert by_token.status_code == 201


def test_inquiries_are_listed_for_their_institution_only(client: TestClient, db_session) -> None:
    from shuanglian.supermarket.service import submit_inquiry

    inst_a, inst_b = make_institution(db_session), make_institution(db_session)
    listing = make_listing(db_session, inst_a)
    for n in range(3):
        submit_inquiry(
            db_session,
            listing_id=listing.id,
            name=f"访客{n}",
            message="请联系我们洽谈",
            phone="010-1",
        )
    staff_a = make_user(db_session, "institution_staff", institution_id=inst_a.id)
    staff_b = make_user(db_session, "institution_staff", institution_id=inst_b.id)
    admin = make_user(db_session, "admin")
    with TestClient(client.app) as bot:
        own = bot.get(
            "/api/v1/inquiries", params={"limit": 2}, headers=_bearer(db_session, staff_a)
        )
        assert own.status_code == 200
        page = own.json()
        assert page["total"] == 3 and [i["name"] for i in page["items"]] == ["访客2", "访客1"]
        first = page["items"][0]
        assert first["listing_number"] == listing.number and first["phone"] == "010-1"
        assert first["handled"] is False
        rest = bot.get(
            "/api/v1/inquiries", params={"offset": 2}, headers=_bearer(db_session, staff_a)
        ).json()
        assert [i["name"] for i in rest["items"]] == ["访客0"]

        b = _bearer(db_session, staff_b)
        assert bot.get("/api/v1/inquiries", headers=b).json()["total"] == 0
        other = bot.get("/api/v1/inquiries", params={"institution_id": inst_a.id}, headers=b)
        _error(other, 403, None)

        a = _bearer(db_session, admin)
        _error(bot.get("/api/v1/inquiries", headers=a), 400, "institution_id")
        chosen = bot.get("/api/v1/inquiries", params={"institution_id": inst_a.id}, headers=a)
        assert chosen.json()["total"] == 3
        ent = make_user(db_session, "enterprise_user", enterprise_id=make_enterprise(db_session).id)
        _error(bot.get("/api/v1/inquiries", headers=_bearer(db_session, ent)), 403, None)
        _error(bot.get("/api/v1/inquiries"), 403, None)
        zero = bot.get("/api/v1/inquiries", params={"institution_id": 0}, headers=a)
        _error(zero, 422, "institution_id")


def test_staff_mark_their_inquiries_answered_in_the_workspace_and_the_api(
    client: TestClient, db_session
) -> None:
    from shuanglian.supermarket.models import Inquiry
    from shuanglian.supermarket.service import submit_inquiry

    inst_a, inst_b = make_institution(db_session), make_institution(db_session)
    listing = make_listing(db_session, inst_a)
    inquiry = submit_inquiry(
        db_session, listing_id=listing.id, name="访客", message="请联系我们洽谈", phone="010-1"
    )
    staff_a = make_user(db_session, "institution_staff", institution_id=inst_a.id)
    staff_b = make_user(db_session, "institution_staff", institution_id=inst_b.id)
    path = f"/api/v1/inquiries/{inquiry.id}/handled"
    with TestClient(client.app) as bot:
        # Another institution's staff are told it does not exist, and nothing changes.
        _error(
            bot.post(path, json={"handled": True}, headers=_bearer(db_session, staff_b)), 404, None
        )
        db_session.refresh(inquiry)
        assert inquiry.handled is False
        done = bot.post(path, json={"handled": True}, headers=_bearer(db_session, staff_a))
        assert done.status_code == 200 and done.json()["handled"] is True
    # The workspace shows it answered and offers to reopen it, through the page's own form.
    headers = _signed_in(client, staff_a)
    page = client.get("/workspace/institution")
    assert "已处理" in page.text and "重新打开" in page.text
    reopen = client.post(
        f"/workspace/institution/inquiries/{inquiry.id}/handled",
        data={"handled": "0", "csrf_token": headers["X-CSRF-Token"]},
        follow_redirects=False,
    )
    assert reopen.status_code == 303
    assert db_session.get(Inquiry, inquiry.id).handled is False


# --------------------------------------------------------------------------- admin: users


def test_admin_creates_a_user_through_the_api(client: TestClient, db_session) -> None:
    inst = make_institution(db_session)
    headers = _signed_in(client, make_user(db_session, "admin"))
    body = {
        "username": "kjc-zhang",
        "password": PASSWORD,
        "role": "institution_staff",
        "display_name": "张老师",
        "email": "zhang@example.edu.cn",
        "institution_id": inst.id,
        "college": "材料学院",
    }
    created = client.post("/api/v1/users", json=body, headers=headers)
    assert created.status_code == 201, created.text
    data = created.json()
    assert (data["username"], data["institution_id"], data["email"], data["is_active"]) == (
        "kjc-zhang",
        inst.id,
        "zhang@example.edu.cn",
        True,
    )
    assert "password" not in created.text and "$argon2" not in created.text
    user = accounts.get_user_by_username(db_session, username="kjc-zhang")
    assert user is not None and accounts.authenticate(
        db_session, username="kjc-zhang", password=PASSWORD
    )
    actions = db_session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.subject_type == "users", AuditEntry.subject_id == user.id
        )
    )
    assert "user.create" in list(actions)
    listed = client.get("/api/v1/users", params={"limit": 100}).json()
    assert "kjc-zhang" in [u["username"] for u in listed["items"]]
    assert "$argon2" not in str(listed)


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"password": "short1"}, 400, "password"),
        ({"password": "onlyletterslong"}, 400, "password"),
        ({"username": "taken"}, 400, "username"),
        ({"username": " "}, 400, "username"),
        ({"institution_id": None}, 400, "institution_id"),
        ({"institution_id": 2_000_000_000}, 400, "institution_id"),
        ({"email": "zhang-at-example"}, 400, "email"),
        ({"college": "学院\x00"}, 422, "college"),
        ({"role": "superuser"}, 422, "role"),
        ({"username": "x" * 81}, 422, "username"),
        ({"is_admin": True}, 422, "is_admin"),
    ],
)
def test_a_refused_user_names_the_field_and_creates_nothing(
    client: TestClient, db_session, changes: dict[str, object], status: int, field: str
) -> None:
    inst = make_institution(db_session)
    make_user(db_session, "tech_manager", username="taken")
    headers = _signed_in(client, make_user(db_session, "admin"))
    before = _count(db_session, User)
    body = {
        "username": "new-staff",
        "password": PASSWORD,
        "role": "institution_staff",
        "institution_id": inst.id,
    }
    _error(client.post("/api/v1/users", json=body | changes, headers=headers), status, field)
    assert _count(db_session, User) == before


def test_admin_disables_and_enables_a_user(client: TestClient, db_session) -> None:
    admin = make_user(db_session, "admin")
    manager = make_user(db_session, "tech_manager")
    token = _bearer(db_session, manager)
    headers = _signed_in(client, admin)
    off = client.post(f"/api/v1/users/{manager.id}/active", json={"active": False}, headers=headers)
    assert off.status_code == 200 and off.json()["is_active"] is False
    with TestClient(client.app) as bot:
        assert bot.get("/api/v1/me", headers=token).status_code == 403  # its tokens stop too
        on = client.post(
            f"/api/v1/users/{manager.id}/active", json={"active": True}, headers=headers
        )
        assert on.json()["is_active"] is True
        assert bot.get("/api/v1/me", headers=token).status_code == 200
    itself = client.post(
        f"/api/v1/users/{admin.id}/active", json={"active": False}, headers=headers
    )
    _error(itself, 400, "active")
    db_session.refresh(admin)
    assert admin.is_active
    missing = client.post(
        "/api/v1/users/2000000000/active", json={"active": False}, headers=headers
    )
    _error(missing, 404, None)
    _error(
        client.post(f"/api/v1/users/{manager.id}/active", json={}, headers=headers), 422, "active"
    )


def test_admin_resets_a_password(client: TestClient, db_session) -> None:
    manager = make_user(db_session, "tech_manager")
    headers = _signed_in(client, make_user(db_session, "admin"))
    path = f"/api/v1/users/{manager.id}/reset"
    weak = client.post(path, json={"new_password": "12345678901"}, headers=headers)
    _error(weak, 400, "new_password")
    assert accounts.authenticate(db_session, username=manager.username, password=PASSWORD)
    reset = client.post(path, json={"new_password": NEW_PASSWORD}, headers=headers)
    assert reset.status_code == 200 and "$argon2" not in reset.text
    assert accounts.authenticate(db_session, username=manager.username, password=NEW_PASSWORD)
    assert not accounts.authenticate(db_session, username=manager.username, password=PASSWORD)


@pytest.mark.parametrize("role", ["anonymous", "institution_staff", "tech_manager"])
def test_only_an_admin_manages_users(role: str, client: TestClient, db_session) -> None:
    inst = make_institution(db_session)
    victim = make_user(db_session, "admin")
    headers: dict[str, str] = {}
    if role != "anonymous":
        headers = _signed_in(client, make_user(db_session, role, institution_id=inst.id))
    before = _count(db_session, User)
    body = {"username": "intruder", "password": PASSWORD, "role": "admin"}
    _error(client.post("/api/v1/users", json=body, headers=headers), 403, None)
    path = f"/api/v1/users/{victim.id}"
    _error(client.post(f"{path}/active", json={"active": False}, headers=headers), 403, None)
    _error(
        client.post(f"{path}/reset", json={"new_password": NEW_PASSWORD}, headers=headers),
        403,
        None,
    )
    if role == "institution_staff":  # staff read the audit log, but only their institution's
        entries = client.get("/api/v1/audit").json()["items"]
        assert entries and {e["institution_id"] for e in entries} == {inst.id}
    else:
        _error(client.get("/api/v1/audit"), 403, None)
    assert _count(db_session, User) == before
    db_session.refresh(victim)
    assert victim.is_active
    assert accounts.authenticate(db_session, username=victim.username, password=PASSWORD)


def test_role_names_in_the_schema_are_the_models_roles(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    role = schema["components"]["schemas"]["UserCreate"]["properties"]["role"]
    assert set(role["enum"]) == set(ROLES)


# --------------------------------------------------------------------------- own password


def test_own_password_change_keeps_this_session_and_ends_others(
    app: FastAPI, client: TestClient, db_session
) -> None:
    user = make_user(db_session, "pilot_platform")
    headers = _signed_in(client, user)
    with TestClient(app) as other:
        login(other, user)
        wrong = client.post(
            "/api/v1/me/password",
            json={"current_password": "not-my-password-1", "new_password": NEW_PASSWORD},
            headers=headers,
        )
        _error(wrong, 400, "current_password")
        weak = client.post(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": "abcdefghijk"},
            headers=headers,
        )
        _error(weak, 400, "new_password")
        assert accounts.authenticate(db_session, username=user.username, password=PASSWORD)
        no_csrf = client.post(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert no_csrf.status_code == 403
        changed = client.post(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=headers,
        )
        assert changed.status_code == 200 and changed.json()["username"] == user.username
        assert client.get("/api/v1/me").status_code == 200  # this session goes on
        assert other.get("/api/v1/me").status_code == 403  # the other one ended
    assert accounts.authenticate(db_session, username=user.username, password=NEW_PASSWORD)


def test_own_password_change_by_token_and_refusals(client: TestClient, db_session) -> None:
    user = make_user(db_session, "tech_manager")
    token = _bearer(db_session, user)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    _error(client.post("/api/v1/me/password", json=body), 403, None)  # anonymous
    odd = {"current_password": "\ud800", "new_password": NEW_PASSWORD}
    _error(_post_json(client, "/api/v1/me/password", odd, token), 422, "current_password")
    _error(
        client.post("/api/v1/me/password", json={"new_password": "x"}, headers=token),
        422,
        "current_password",
    )
    assert client.post("/api/v1/me/password", json=body, headers=token).status_code == 200
    assert accounts.authenticate(db_session, username=user.username, password=NEW_PASSWORD)


# --------------------------------------------------------------------------- audit log


def test_admin_reads_the_audit_log_newest_first(client: TestClient, db_session) -> None:
    admin = make_user(db_session, "admin")
    for n in range(3):
        record_audit(db_session, actor=admin, action=f"test.step{n}", subject=None, detail={"n": n})
    record_audit(db_session, actor=None, action="test.system", subject=None)
    total = _count(db_session, AuditEntry)
    login(client, admin)  # logging in is itself audited
    first = client.get("/api/v1/audit", params={"limit": 3}).json()
    assert first["total"] == total + 1 and first["limit"] == 3
    assert [e["action"] for e in first["items"]] == ["user.login", "test.system", "test.step2"]
    assert first["items"][0]["username"] == admin.username
    assert first["items"][1]["username"] is None and first["items"][1]["user_id"] is None
    second = client.get("/api/v1/audit", params={"limit": 2, "offset": 3}).json()
    assert [e["action"] for e in second["items"]] == ["test.step1", "test.step0"]
    _error(client.get("/api/v1/audit", params={"limit": 1000}), 422, "limit")


# --------------------------------------------------------------------------- reference


def test_reference_tables_are_public(client: TestClient) -> None:
    assert client.get("/api/v1/reference").json() == summary()
    sections = client.get("/api/v1/reference/industries").json()
    assert len(sections) == 20 and sections[2]["code"] == "C" and sections[2]["level"] == "门类"
    divisions = client.get("/api/v1/reference/industries", params={"level": "division"}).json()
    assert len(divisions) == len(gbt4754.industries_at_level("大类"))
    battery = client.get("/api/v1/reference/industries", params={"q": "电池"}).json()
    assert {"code": "384", "name": "电池制造", "level": "中类", "parent_code": "38"}.items() <= (
        battery[0].items()
    )
    by_code = client.get("/api/v1/reference/industries", params={"q": "C38"}).json()
    assert [i["code"] for i in by_code] == ["38"]
    nothing = client.get("/api/v1/reference/industries", params={"q": "不存在的行业xyz"})
    assert nothing.status_code == 200 and nothing.json() == []
    _error(client.get("/api/v1/reference/industries", params={"level": "亚类"}), 422, "level")
    fields = client.get("/api/v1/reference/wipo-fields").json()
    assert len(fields) == 35 and fields[0]["number"] == 1 and fields[0]["name"]


# --------------------------------------------------------------------------- workspace data


def test_institution_listings_include_drafts_for_its_staff_only(
    client: TestClient, db_session
) -> None:
    inst_a, inst_b = make_institution(db_session), make_institution(db_session)
    draft = make_listing(db_session, inst_a, title="草稿成果", publish=False)
    published = make_listing(db_session, inst_a, title="公开成果")
    path = f"/api/v1/institutions/{inst_a.id}/listings"
    staff_a = make_user(db_session, "institution_staff", institution_id=inst_a.id)
    with TestClient(client.app) as bot:
        mine = bot.get(path, headers=_bearer(db_session, staff_a))
        assert [(x["id"], x["status"]) for x in mine.json()] == [
            (published.id, "published"),
            (draft.id, "draft"),
        ]
        assert mine.json()[1]["patent_ids"] == [draft.patent_id]
        staff_b = make_user(db_session, "institution_staff", institution_id=inst_b.id)
        _error(bot.get(path, headers=_bearer(db_session, staff_b)), 403, None)
        _error(bot.get(path), 403, None)
        admin = make_user(db_session, "admin")
        assert len(bot.get(path, headers=_bearer(db_session, admin)).json()) == 2


def test_a_patents_published_listings_are_public(client: TestClient, db_session) -> None:
    inst = make_institution(db_session)
    listing = make_listing(db_session, inst)
    hidden = make_listing(db_session, inst, publish=False)
    shown = client.get(f"/api/v1/patents/{listing.patent_id}/listings")
    assert [x["id"] for x in shown.json()] == [listing.id]
    assert client.get(f"/api/v1/patents/{hidden.patent_id}/listings").json() == []
    _error(client.get("/api/v1/patents/2000000000/listings"), 404, None)


def test_inventory_batches_with_progress_for_their_institution(
    client: TestClient, db_session
) -> None:
    inst_a, inst_b = make_institution(db_session), make_institution(db_session)
    staff_a = make_user(db_session, "institution_staff", institution_id=inst_a.id)
    older, _, _ = create_batch(
        db_session,
        actor=staff_a,
        institution_id=inst_a.id,
        name="2025",
        patent_ids=[make_patent(db_session, inst_a).id],
    )
    newer, _, _ = create_batch(
        db_session,
        actor=staff_a,
        institution_id=inst_a.id,
        name="2026",
        patent_ids=[make_patent(db_session, inst_a).id, make_patent(db_session, inst_a).id],
    )
    with TestClient(client.app) as bot:
        own = bot.get("/api/v1/inventory/batches", headers=_bearer(db_session, staff_a)).json()
        assert [(b["batch_id"], b["name"], b["total"]) for b in own] == [
            (newer.id, "2026", 2),
            (older.id, "2025", 1),
        ]
        staff_b = make_user(db_session, "institution_staff", institution_id=inst_b.id)
        other = bot.get(
            "/api/v1/inventory/batches",
            params={"institution_id": inst_a.id},
            headers=_bearer(db_session, staff_b),
        )
        _error(other, 403, None)
        admin = _bearer(db_session, make_user(db_session, "admin"))
        _error(bot.get("/api/v1/inventory/batches", headers=admin), 400, "institution_id")
        chosen = bot.get(
            "/api/v1/inventory/batches", params={"institution_id": inst_a.id}, headers=admin
        )
        assert len(chosen.json()) == 2
        _error(bot.get("/api/v1/inventory/batches"), 403, None)
