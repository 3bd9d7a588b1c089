"""Error pages keep the site's menu, and a request is one transaction.

These tests run the app's real session dependency (a session per request, committed or rolled
back, then closed), bound to the test's connection so everything is still rolled back at the
end. The shared `app` fixture cannot show the error-page bug: it hands every request the test's
own session and never closes it, so the signed-in user could always reload itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from shuanglian.accounts.models import User
from shuanglian.config import Settings
from shuanglian.db import make_session_factory
from shuanglian.supermarket import inquiry_limits
from shuanglian.supermarket.models import Inquiry
from shuanglian.web.app import create_app
from tests.web.factories import (
    csrf_of,
    login,
    make_enterprise,
    make_institution,
    make_listing,
    make_user,
)


@pytest.fixture
def live_app(db_settings: Settings, db_session: Session) -> FastAPI:
    """The app with its own session factory, on the test's connection (savepoints)."""
    application = create_app(db_settings)
    factory: sessionmaker[Session] = make_session_factory(
        db_session.connection(),  # type: ignore[arg-type]
        db_settings,
    )
    factory.configure(join_transaction_mode="create_savepoint")
    application.state.session_factory = factory
    return application


@pytest.fixture
def live(live_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(live_app, raise_server_exceptions=False) as test_client:
        yield test_client


def _people(session: Session) -> dict[str, User | None]:
    inst = make_institution(session)
    people: dict[str, User | None] = {
        "anonymous": None,
        "staff": make_user(session, "institution_staff", institution_id=inst.id),
        "admin": make_user(session, "admin"),
        "enterprise": make_user(
            session, "enterprise_user", enterprise_id=make_enterprise(session).id
        ),
    }
    session.commit()
    return people


# (path, method, who gets which status); a missing entry means "not this status".
CASES = [
    ("/admin/users", "GET", {"anonymous": 403, "staff": 403, "enterprise": 403}),
    ("/workspace/enterprise", "GET", {"anonymous": 403, "staff": 403, "admin": 403}),
    ("/workspace/institution", "GET", {"enterprise": 403}),
    ("/patents/99999", "GET", {p: 404 for p in ("anonymous", "staff", "admin", "enterprise")}),
    ("/no-such-page", "GET", {p: 404 for p in ("anonymous", "staff", "admin", "enterprise")}),
    ("/logout", "GET", {p: 405 for p in ("anonymous", "staff", "admin", "enterprise")}),
    ("/patents/not-a-number", "GET", {p: 404 for p in ("anonymous", "staff", "admin")}),
    ("/deals/contracts", "GET", {p: 404 for p in ("staff", "admin")}),
    ("/market?trl_min=12", "GET", {p: 400 for p in ("anonymous", "staff", "admin")}),
]


@pytest.mark.parametrize("who", ["anonymous", "staff", "admin", "enterprise"])
def test_error_pages_have_the_menu_of_whoever_is_signed_in(
    live: TestClient, db_session: Session, who: str
) -> None:
    person = _people(db_session)[who]
    if person is not None:
        login(live, person)
    checked = 0
    for path, method, statuses in CASES:
        if who not in statuses:
            continue
        response = live.request(method, path)
        wanted = statuses[who]
        assert response.status_code == wanted, (path, response.text[:300])
        assert "text/html" in response.headers["content-type"]
        page = response.text
        assert 'class="account"' in page, path  # the site's chrome, not a bare error
        if person is None:
            assert 'href="/login"' in page, path
        else:
            assert f'<a href="/account">{person.username}</a>' in page, path
            assert 'action="/logout"' in page, path
            if person.role == "admin":
                assert 'href="/admin/users"' in page, path
        checked += 1
    assert checked >= 4


def test_the_contact_form_limit_page_keeps_the_menu(live: TestClient, db_session: Session) -> None:
    """429 is the contact form shown again with the wait, the signed-in menu intact."""
    listing = make_listing(db_session, make_institution(db_session))
    staff = make_user(db_session, "institution_staff", institution_id=listing.institution_id)
    db_session.commit()
    login(live, staff)
    visitor = {"name": "李四", "email": "li@example.com", "message": "请联系我，谢谢。"}
    for _ in range(inquiry_limits.PER_CONTACT_AND_LISTING + 1):
        token = csrf_of(live, f"/market/{listing.id}")
        response = live.post(f"/market/{listing.id}/contact", data={"csrf_token": token, **visitor})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "留言过于频繁" in response.text
    assert f'<a href="/account">{staff.username}</a>' in response.text


def _fail_on_commit(session_factory: sessionmaker[Session]) -> None:
    """Make the next commit of the app's sessions fail the way a lost connection or a
    constraint checked at commit time does: after the handler succeeded."""

    def refuse(session: Session) -> None:
        raise RuntimeError("database refused the commit")

    event.listen(session_factory, "before_commit", refuse, once=True)


def test_a_failed_commit_is_an_error_page_and_keeps_nothing(
    live_app: FastAPI, live: TestClient, db_session: Session
) -> None:
    """The handler succeeded and asked for a redirect; the commit then failed. The admin gets
    the error page (no redirect announcing a change), and the account is still active."""
    admin = make_user(db_session, "admin")
    target = make_user(
        db_session, "institution_staff", institution_id=make_institution(db_session).id
    )
    db_session.commit()
    login(live, admin)
    token = csrf_of(live, "/admin/users")
    _fail_on_commit(live_app.state.session_factory)
    response = live.post(
        f"/admin/users/{target.id}/active",
        data={"csrf_token": token, "active": "0"},
        follow_redirects=False,
    )
    assert response.status_code == 500 and "location" not in response.headers
    assert "服务器内部错误" in response.text and "Traceback" not in response.text
    assert f'<a href="/account">{admin.username}</a>' in response.text
    db_session.expire_all()
    assert db_session.get(User, target.id).is_active  # type: ignore[union-attr]
    # Without the failure the same request goes through and redirects.
    done = live.post(
        f"/admin/users/{target.id}/active",
        data={"csrf_token": token, "active": "0"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    db_session.expire_all()
    assert not db_session.get(User, target.id).is_active  # type: ignore[union-attr]


def test_a_failed_commit_of_an_api_write_is_json_and_sends_nothing(
    live_app: FastAPI, live: TestClient, db_session: Session, db_settings: Settings, tmp_path
) -> None:
    listing = make_listing(db_session, make_institution(db_session))
    db_session.commit()
    live_app.state.settings = db_settings.model_copy(
        update={"home": tmp_path, "database_url": db_settings.resolved_database_url}
    )
    _fail_on_commit(live_app.state.session_factory)
    response = live.post(
        f"/api/v1/listings/{listing.id}/inquiries",
        json={"name": "王五", "email": "w@example.com", "message": "想了解许可条件。"},
    )
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal"
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).where(Inquiry.listing_id == listing.id)) == 0
    assert not (tmp_path / "outbox").exists()  # the notice hook was dropped with the rollback
    # The refused inquiry used up none of the address's allowance.
    limits: inquiry_limits.InquiryLimits = live_app.state.inquiry_limits
    assert limits.retry_after("testclient", listing.id) == 0
    again = live.post(
        f"/api/v1/listings/{listing.id}/inquiries",
        json={"name": "王五", "email": "w@example.com", "message": "想了解许可条件。"},
    )
    assert again.status_code == 201
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_a_page_address_with_a_word_for_an_id_is_not_found_in_plain_words(
    live: TestClient,
) -> None:
    page = live.get("/patents/not-a-number")
    assert page.status_code == 404
    assert "页面或记录不存在" in page.text
    assert "Input should be" not in page.text  # the parser's English message never shows
    api = live.get("/api/v1/patents/not-a-number")
    assert api.status_code == 422  # the API keeps naming the field it could not read
    assert api.json()["error"]["code"] == "invalid"
