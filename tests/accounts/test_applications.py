"""申请账号: an enterprise applies (credit code check digit verified, duplicates refused, rate-
limited, CSRF), an administrator approves — the account is linked to the enterprise with that
credit code, or a new enterprise is created — or rejects with a reason; both audited and e-mailed
to the applicant (the outbox is the test's mail capture). Both databases."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts import applications
from shuanglian.accounts.models import AccountApplication, User
from shuanglian.audit import AuditEntry
from shuanglian.config import Settings
from shuanglian.enterprises.models import Enterprise
from shuanglian.enterprises.validators import compute_credit_check_char
from tests.web.factories import PASSWORD, csrf_of, login, make_enterprise, make_user


def credit_code(body: str) -> str:
    """A valid 18-character code from a 17-character body (GB 32100 check character)."""
    return body + compute_credit_check_char(body)


CODE = credit_code("91320500MA1T8K3Q2")
NEW_CODE = credit_code("91210100MA0U7P1R4")


@pytest.fixture
def home(app: FastAPI, db_settings: Settings, tmp_path: Path) -> Path:
    app.state.settings = db_settings.model_copy(
        update={"database_url": db_settings.resolved_database_url, "home": tmp_path}
    )
    return tmp_path


def outbox(home: Path) -> list:  # type: ignore[type-arg]
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted((home / "outbox").glob("*.eml"))
    ]


def form(**changes: str) -> dict[str, str]:
    return {
        "company_name": "苏州某新材料有限公司",
        "credit_code": CODE,
        "contact_name": "王经理",
        "phone": "0512-6666 8888",
        "email": "wang@example.com",
        "username": "suzhou-xcl",
        "password": "a-long-password-9",
        "password_confirm": "a-long-password-9",
    } | changes


def apply(client: TestClient, **changes: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client, "/apply")
    return client.post("/apply", data={"csrf_token": token, **form(**changes)})


def test_login_page_says_how_to_get_an_account(client: TestClient) -> None:
    page = client.get("/login").text
    assert 'href="/apply"' in page and "申请账号" in page
    assert "apply for an account" in client.get("/login?lang=en").text


def test_apply_then_approve_links_the_registered_enterprise(
    client: TestClient, db_session: Session, home: Path
) -> None:
    ent = make_enterprise(db_session, "苏州某新材料有限公司", credit_code=CODE)
    admin = make_user(db_session, "admin")
    response = apply(client)
    assert response.status_code == 200 and "申请已提交" in response.text
    application = db_session.scalars(select(AccountApplication)).one()
    assert application.status == "pending" and application.password_hash != form()["password"]

    client.cookies.clear()
    login(client, admin)
    # The admins are told in the bell (and by e-mail when they have an address).
    assert "新的账号申请" in client.get("/notifications").text
    english = client.get("/notifications?lang=en").text
    assert "New account application: 苏州某新材料有限公司" in english
    assert f"苏州某新材料有限公司 ({CODE}), contact: 王经理" in english
    assert "新的账号申请" in client.get("/notifications?lang=zh").text  # Chinese again after
    queue = client.get("/admin/applications").text
    assert "苏州某新材料有限公司" in queue and "关联已登记企业" in queue
    token = csrf_of(client, "/admin/applications")
    done = client.post(
        f"/admin/applications/{application.id}/approve",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "账号 suzhou-xcl 已创建" in client.get(done.headers["location"]).text
    user = db_session.scalars(select(User).where(User.username == "suzhou-xcl")).one()
    assert (user.role, user.enterprise_id) == ("enterprise_user", ent.id)
    assert db_session.scalar(select(Enterprise.id).where(Enterprise.credit_code == CODE)) == ent.id
    actions = set(db_session.scalars(select(AuditEntry.action)))
    assert {"application.submit", "application.approve", "user.create"} <= actions
    [notice] = outbox(home)
    assert notice["To"] == "wang@example.com" and "suzhou-xcl" in notice.get_content()

    # The applicant logs in with the password chosen when applying.
    client.cookies.clear()
    login(client, user, password="a-long-password-9")
    assert client.get("/workspace/enterprise").status_code == 200


def test_approving_an_unknown_code_creates_the_enterprise(
    client: TestClient, db_session: Session, home: Path
) -> None:
    admin = make_user(db_session, "admin")
    apply(client, credit_code=NEW_CODE.lower(), username="new-co", email="", phone="13900001111")
    application = db_session.scalars(select(AccountApplication)).one()
    assert application.credit_code == NEW_CODE  # normalised
    settings = Settings(home=home)
    user = applications.approve_application(
        db_session, actor=admin, application_id=application.id, settings=settings, login_url="x"
    )
    ent = db_session.get(Enterprise, user.enterprise_id)
    assert ent is not None and (ent.name, ent.credit_code) == ("苏州某新材料有限公司", NEW_CODE)
    assert outbox(home) == []  # no e-mail given: nothing to send


def test_reject_needs_a_reason_and_tells_the_applicant(
    client: TestClient, db_session: Session, home: Path
) -> None:
    admin = make_user(db_session, "admin")
    apply(client)
    application = db_session.scalars(select(AccountApplication)).one()
    login(client, admin)
    token = csrf_of(client, "/admin/applications")
    url = f"/admin/applications/{application.id}/reject"
    refused = client.post(url, data={"csrf_token": token, "reason": " "})
    assert refused.status_code == 422 and "请填写驳回理由" in refused.text
    done = client.post(url, data={"csrf_token": token, "reason": "营业执照名称不符"})
    assert done.status_code == 200 and "已驳回" in done.text
    db_session.refresh(application)
    assert (application.status, application.reason) == ("rejected", "营业执照名称不符")
    assert db_session.scalar(select(User).where(User.username == "suzhou-xcl")) is None
    [notice] = outbox(home)
    assert "营业执照名称不符" in notice.get_content()
    again = client.post(url, data={"csrf_token": token, "reason": "x"})
    assert "已处理" in again.text
    # A rejected applicant may apply again.
    client.cookies.clear()
    assert "申请已提交" in apply(client).text


@pytest.mark.parametrize(
    ("changes", "field_text"),
    [
        ({"credit_code": CODE[:17] + ("0" if CODE[17] != "0" else "1")}, "校验位错误"),
        ({"credit_code": "123"}, "应为 18 位"),
        ({"phone": "", "email": ""}, "请填写电话或邮箱"),
        ({"email": "not-an-address"}, "邮箱格式不正确"),
        ({"password_confirm": "other-password-9"}, "两次输入的密码不一致"),
        ({"company_name": ""}, "请填写企业名称"),
    ],
)
def test_bad_applications_are_refused_beside_the_field(
    client: TestClient, db_session: Session, changes: dict[str, str], field_text: str
) -> None:
    response = apply(client, **changes)
    assert response.status_code == 422 and field_text in response.text
    assert 'value="苏州某新材料有限公司"' in response.text or "company_name" in changes
    assert db_session.scalars(select(AccountApplication)).all() == []


def test_duplicates_are_refused_with_a_clear_message(
    client: TestClient, db_session: Session
) -> None:
    make_user(
        db_session,
        "enterprise_user",
        username="taken",
        enterprise_id=make_enterprise(db_session).id,
    )
    assert "用户名已被使用" in apply(client, username="taken").text
    assert "申请已提交" in apply(client).text
    again = apply(client, username="someone-else")
    assert again.status_code == 422 and "已有待审核的申请" in again.text
    other = apply(client, credit_code=NEW_CODE, username="SUZHOU-XCL")
    assert "用户名已被使用" in other.text  # a pending application holds the name too


def test_applying_is_rate_limited_per_credit_code(client: TestClient, db_session: Session) -> None:
    for n in range(applications.PER_CODE):
        # Each refused-as-duplicate attempt is not counted; only stored applications are.
        assert "申请已提交" in apply(client, username=f"u{n}").text
        db_session.execute(
            AccountApplication.__table__.update().values(status="rejected", reason="x")
        )
        db_session.commit()
    limited = apply(client, username="u-last")
    assert limited.status_code == 429 and "申请过于频繁" in limited.text
    assert limited.headers["Retry-After"]
    assert 'value="u-last"' in limited.text  # what was typed is kept


def test_apply_needs_the_csrf_token(client: TestClient) -> None:
    client.get("/apply")
    assert client.post("/apply", data=form()).status_code == 403


def test_only_admins_see_the_queue(client: TestClient, db_session: Session) -> None:
    staff = make_user(db_session, "enterprise_user", enterprise_id=make_enterprise(db_session).id)
    login(client, staff)
    assert client.get("/admin/applications").status_code == 403


def test_apply_page_in_english(client: TestClient) -> None:
    page = client.get("/apply?lang=en").text
    assert "Unified social credit code" in page and "Send application" in page
    assert PASSWORD not in page
