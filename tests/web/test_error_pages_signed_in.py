"""A refusal on a real request (no test session override: the request's own session is rolled
back and closed) renders the site's error page with the signed-in user's menu, not a bare 500."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from shuanglian.accounts.passwords import use_cheap_hashing_for_tests
from shuanglian.config import Settings
from shuanglian.db import Base, make_engine, make_session_factory, session_scope
from shuanglian.web.app import create_app
from tests.web.factories import login, make_user


def test_not_found_and_forbidden_pages_for_a_signed_in_user(tmp_path: Path) -> None:
    use_cheap_hashing_for_tests()
    settings = Settings(home=tmp_path / "home", database_url=None)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    with session_scope(make_session_factory(engine)) as session:
        user = make_user(session, "pilot_platform", username="err-pilot")
        session.flush()
        session.expunge(user)
    engine.dispose()
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        login(client, user)
        missing = client.get("/pilots/bookings/999")
        assert missing.status_code == 404
        assert "预约不存在" in missing.text and "err-pilot" in missing.text
        forbidden = client.get("/admin/pilots")
        assert forbidden.status_code == 403 and "err-pilot" in forbidden.text
