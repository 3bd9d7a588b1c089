"""Log in and out, password change and reset, CSRF, rate limit, API tokens — on both DBs."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuanglian.accounts import service
from tests.web.factories import PASSWORD, csrf_of, login, make_institution, make_user


def test_login_sets_a_signed_httponly_samesite_cookie(client: TestClient, db_session) -> None:
    user = make_user(db_session, "tech_manager")
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = [
        v
        for k, v in response.headers.multi_items()
        if k == "set-cookie" and v.startswith("sl_session=")
    ][0]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert client.get("/api/v1/me").json()["username"] == user.username


def test_wrong_password_shows_the_error_next_to_the_field(client: TestClient, db_session) -> None:
    user = make_user(db_session, "tech_manager")
    response = client.post(
        "/login",
        data={"username": user.username, "password": "nope-nope-1", "csrf_token": csrf_of(client)},
    )
    assert response.status_code == 401
    assert 'id="err-password"' in response.text and 'aria-invalid="true"' in response.text
    assert client.get("/api/v1/me").status_code == 403


def test_login_without_csrf_token_is_refused(client: TestClient, db_session) -> None:
    user = make_user(db_session, "tech_manager")
    csrf_of(client)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/api/v1/me").status_code == 403


def test_login_is_rate_limited(client: TestClient, db_session) -> None:
    user = make_user(db_session, "tech_manager")
    token = csrf_of(client)
    for _ in range(5):
        bad = client.post(
            "/login",
            data={"username": user.username, "password": "wrong-pass-1", "csrf_token": token},
        )
        assert bad.status_code == 401
    blocked = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
    )
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert client.get("/api/v1/me").status_code == 403


def test_logout_ends_the_session(client: TestClient, db_session) -> None:
    login(client, make_user(db_session, "pilot_platform"))
    token = csrf_of(client, "/account")
    assert (
        client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code
        == 303
    )
    assert client.get("/api/v1/me").status_code == 403


def test_a_cookie_replayed_after_logout_is_refused(app: FastAPI, client: TestClient, db_session):
    """The session lives on the server: a copy of the cookie taken before logout is dead too."""
    login(client, make_user(db_session, "pilot_platform"))
    stolen = client.cookies.get("sl_session")
    assert stolen
    token = csrf_of(client, "/account")
    client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    with TestClient(app) as replay:
        replay.cookies.set("sl_session", stolen)
        assert replay.get("/api/v1/me").status_code == 403
        assert replay.get("/account", follow_redirects=False).status_code in (303, 403)


def test_open_redirect_after_login_is_blocked(client: TestClient, db_session) -> None:
    user = make_user(db_session, "tech_manager")
    response = client.post(
        "/login",
        data={
            "username": user.username,
            "password": PASSWORD,
            "csrf_token": csrf_of(client),
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/market"


def test_password_change_ends_other_sessions(app: FastAPI, client: TestClient, db_session) -> None:
    user = make_user(db_session, "tech_manager")
    login(client, user)
    _, plain = service.create_api_token(db_session, user=user, name="old-laptop")
    db_session.commit()
    bearer = {"Authorization": f"Bearer {plain}"}
    with TestClient(app) as other:
        login(other, user)
        assert other.get("/api/v1/me").status_code == 200
        assert other.get("/api/v1/me", headers=bearer).status_code == 200
        token = csrf_of(client, "/account")
        mismatch = client.post(
            "/account/password",
            data={
                "csrf_token": token,
                "current_password": PASSWORD,
                "new_password": "brand-new-pass-9",
                "confirm_password": "different-9",
            },
        )
        assert mismatch.status_code == 422 and 'id="err-confirm_password"' in mismatch.text
        changed = client.post(
            "/account/password",
            data={
                "csrf_token": token,
                "current_password": PASSWORD,
                "new_password": "brand-new-pass-9",
                "confirm_password": "brand-new-pass-9",
            },
        )
        assert changed.status_code == 200 and "密码已修改" in changed.text
        assert client.get("/api/v1/me").status_code == 200
        assert other.get("/api/v1/me").status_code == 403
        # The API token made with the old password is revoked with it.
        assert other.get("/api/v1/me", headers=bearer).status_code == 403
    assert (
        service.authenticate(db_session, username=user.username, password="brand-new-pass-9")
        is not None
    )


def test_admin_resets_a_password_and_creates_users(client: TestClient, db_session) -> None:
    admin = make_user(db_session, "admin")
    clerk = make_user(db_session, "tech_manager")
    inst = make_institution(db_session)
    login(client, admin)
    token = csrf_of(client, "/admin/users")
    weak = client.post(
        f"/admin/users/{clerk.id}/reset", data={"csrf_token": token, "new_password": "short"}
    )
    assert weak.status_code == 422 and f'id="err-reset-{clerk.id}"' in weak.text
    ok = client.post(
        f"/admin/users/{clerk.id}/reset",
        data={"csrf_token": token, "new_password": "reset-by-admin-7"},
    )
    assert ok.status_code == 200
    assert (
        service.authenticate(db_session, username=clerk.username, password="reset-by-admin-7")
        is not None
    )
    missing_inst = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "staff-x",
            "password": "long-enough-pass-1",
            "role": "institution_staff",
        },
    )
    assert missing_inst.status_code == 422 and 'id="err-institution_id"' in missing_inst.text
    created = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "staff-x",
            "password": "long-enough-pass-1",
            "role": "institution_staff",
            "institution_id": str(inst.id),
            "college": "材料学院",
        },
    )
    assert created.status_code == 200 and "staff-x" in created.text
    staff = service.get_user_by_username(db_session, username="staff-x")
    assert staff is not None and staff.institution_id == inst.id and staff.college == "材料学院"
    audit = client.get("/admin/audit").text
    # Actions in words, never as the code's strings.
    assert "<td>重置密码</td>" in audit and "<td>创建用户</td>" in audit
    assert "<td>user.create</td>" not in audit


def test_api_tokens_authenticate_and_can_be_revoked(client: TestClient, db_session) -> None:
    user = make_user(db_session, "tech_manager")
    login(client, user)
    token = csrf_of(client, "/account")
    # API writes from a browser session need the CSRF header.
    assert client.post("/api/v1/tokens", json={"name": "no-csrf"}).status_code == 403
    issued = client.post("/api/v1/tokens", json={"name": "ci"}, headers={"X-CSRF-Token": token})
    assert issued.status_code == 201
    plain = issued.json()["token"]
    with TestClient(client.app) as bot:
        me = bot.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
        assert me.status_code == 200 and me.json()["username"] == user.username
        assert (
            bot.get("/api/v1/me", headers={"Authorization": "Bearer slk_wrong"}).status_code == 403
        )
        # Token clients are exempt from CSRF (no cookies involved).
        assert (
            bot.delete(
                f"/api/v1/tokens/{issued.json()['id']}",
                headers={"Authorization": f"Bearer {plain}"},
            ).status_code
            == 204
        )
        assert (
            bot.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 403
        )
    page = client.post("/account/tokens", data={"csrf_token": token, "name": "laptop"})
    assert page.status_code == 200 and "slk_" in page.text


def test_disabled_user_cannot_log_in(client: TestClient, db_session) -> None:
    admin = make_user(db_session, "admin")
    user = make_user(db_session, "tech_manager")
    service.set_user_active(db_session, actor=admin, user_id=user.id, active=False)
    response = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_of(client)},
    )
    assert response.status_code == 401


def test_admin_reference_lookup(client: TestClient, db_session) -> None:
    login(client, make_user(db_session, "admin"))
    page = client.get("/admin/reference", params={"q": "C38"})
    assert page.status_code == 200 and "电气机械和器材制造业" in page.text
    by_name = client.get("/admin/reference", params={"q": "电池"})
    assert "电池制造" in by_name.text
