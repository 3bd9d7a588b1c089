"""Identity and origin (issue 10): forwarded headers, Host, absolute URLs, the secret key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from shuanglian.cli.main import app as cli_app
from shuanglian.cli.main import demo_secret_key
from shuanglian.config import DEFAULT_SECRET_KEY, Settings
from shuanglian.web.app import create_app
from shuanglian.web.deps import get_session
from shuanglian.web.transactions import request_transaction
from tests.web.factories import csrf_of, make_institution, make_listing, make_user


def _app(settings: Settings, db_session: Session, **changes: object) -> FastAPI:
    application = create_app(settings.model_copy(update=changes))

    def request_session(request: Request) -> Iterator[Session]:
        db_session.commit()
        yield from request_transaction(request, db_session)

    application.dependency_overrides[get_session] = request_session
    return application


def _bad_logins(client: TestClient, username: str, tries: int) -> list[int]:
    token = csrf_of(client)
    return [
        client.post(
            "/login",
            data={"username": username, "password": "wrong-pass-1", "csrf_token": token},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        ).status_code
        for i in range(tries)
    ]


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    db_settings: Settings, db_session: Session
) -> None:
    user = make_user(db_session, "tech_manager")
    with TestClient(_app(db_settings, db_session)) as client:
        # A new X-Forwarded-For per request no longer walks past the login limit.
        assert _bad_logins(client, user.username, 6)[-1] == 429
    trusting = _app(db_settings, db_session, trusted_proxies="testclient")
    with TestClient(trusting) as client:
        # Behind a configured proxy, each forwarded address is its own client.
        assert 429 not in _bad_logins(client, user.username + "x", 6)


def test_unknown_host_is_refused_when_hosts_are_configured(
    db_settings: Settings, db_session: Session
) -> None:
    strict = _app(db_settings, db_session, allowed_hosts="market.example.org")
    with TestClient(strict, base_url="http://market.example.org") as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400


def test_links_and_codes_use_the_public_url_not_the_host_header(
    db_settings: Settings, db_session: Session
) -> None:
    listing = make_listing(db_session, make_institution(db_session))
    public = _app(db_settings, db_session, public_url="https://market.example.org/")
    with TestClient(public) as client:
        page = client.get(f"/market/{listing.id}", headers={"Host": "evil.example"})
        assert f"https://market.example.org/market/{listing.id}" in page.text
        assert "evil.example" not in page.text


def test_serve_refuses_the_default_secret_key(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli_app,
        ["serve"],
        env={"SHUANGLIAN_HOME": str(tmp_path), "SHUANGLIAN_SECRET_KEY": DEFAULT_SECRET_KEY},
    )
    assert result.exit_code == 2
    assert "SHUANGLIAN_SECRET_KEY" in result.output and "--demo" in result.output


def test_the_demo_generates_its_own_key_once(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    key = demo_secret_key(settings)
    assert key != DEFAULT_SECRET_KEY and len(key) >= 32
    assert demo_secret_key(settings) == key  # kept in HOME/secret_key across restarts
    assert (tmp_path / "home" / "secret_key").stat().st_mode & 0o077 == 0
    assert demo_secret_key(Settings(home=tmp_path / "home", secret_key="mine")) == "mine"
