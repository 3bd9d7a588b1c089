"""A flood of anonymous logins must not take the rest of the site with it.

Each login costs an argon2 check (64 MiB, t=3 in production). When the check ran on the event
loop, twelve clients posting random user names kept the loop busy and `/healthz` waited behind
every queued login. The live-server test sends 24 logins at once and then one `/healthz`: it
must come back before most of the logins do. (Timings are in `benchmarks/login_flood.py`.)
"""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from shuanglian.config import Settings
from shuanglian.web.app import create_app
from tests.web.live_server import csrf_token, live_server

LOGINS = 24


def test_healthz_answers_while_a_login_flood_queues(tmp_path: Path) -> None:
    # The per-client limit would turn the flood away early; here the queue itself is tested.
    with live_server(tmp_path, login_ip_max_failures="100000") as base:
        clients = [httpx.Client(base_url=base, timeout=120) for _ in range(LOGINS)]
        tokens = [csrf_token(client) for client in clients]
        done: list[float] = []
        statuses: list[int] = []
        lock = threading.Lock()
        start = threading.Barrier(LOGINS + 1)

        def flood(client: httpx.Client, token: str) -> None:
            start.wait()
            response = client.post(
                "/login",
                data={
                    "username": "nobody-" + secrets.token_hex(6),
                    "password": secrets.token_hex(8),
                    "csrf_token": token,
                },
            )
            with lock:
                statuses.append(response.status_code)
                done.append(time.monotonic())

        threads = [
            threading.Thread(target=flood, args=pair) for pair in zip(clients, tokens, strict=True)
        ]
        for thread in threads:
            thread.start()
        start.wait()
        time.sleep(0.5)  # every login has reached the server and queued
        with lock:
            finished_before = len(done)
        health = httpx.get(base + "/healthz", timeout=120)
        with lock:
            finished_during = len(done) - finished_before
        for thread in threads:
            thread.join(timeout=300)
        for client in clients:
            client.close()

    assert health.status_code == 200
    assert sorted(set(statuses)) == [401]
    assert len(statuses) == LOGINS
    # At most a few logins (the two being checked, and a pair more) finish while /healthz is
    # answered; on the event loop it waited for nearly all of the queue.
    assert finished_before < LOGINS - 8, finished_before
    assert finished_during <= 4, (finished_before, finished_during)


def _login(client: TestClient, username: str, password: str = "wrong-password-1") -> int:
    token_page = client.get("/login")
    token = token_page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    ).status_code


@pytest.fixture
def flood_app(tmp_path: Path) -> FastAPI:
    from shuanglian.db import Base, make_engine

    settings = Settings(home=tmp_path, login_ip_max_failures=7)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    engine.dispose()
    return create_app(settings)


def test_one_client_is_stopped_after_its_failures_across_user_names(flood_app: FastAPI) -> None:
    with TestClient(flood_app) as client:
        statuses = [_login(client, f"random-{n}") for n in range(9)]
    assert statuses[:7] == [401] * 7
    assert statuses[7:] == [429, 429]


def test_no_route_handler_blocks_the_event_loop(flood_app: FastAPI) -> None:
    """Every route is a plain `def` (run in the thread pool) except the login, whose blocking
    part runs in the hash gate's threads; a new `async def` handler must say why here."""
    import inspect

    def api_routes(routes: list[Any]) -> list[APIRoute]:
        # Newer FastAPI keeps an included router as one `_IncludedRouter` entry holding the
        # original router; walking only `app.routes` would then find no handler at all.
        found: list[APIRoute] = []
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            elif (inner := getattr(route, "original_router", None)) is not None:
                found.extend(api_routes(inner.routes))
        return found

    allowed = {"login_submit"}
    routes = api_routes(flood_app.routes)
    assert len(routes) > 100, "the app's handlers were not found"
    async_routes = {
        route.endpoint.__name__ for route in routes if inspect.iscoroutinefunction(route.endpoint)
    }
    assert async_routes <= allowed, async_routes - allowed


def test_an_anonymous_upload_is_refused_before_its_body_is_sent(tmp_path: Path) -> None:
    """A 50 MB upload without a login is answered from its headers: the client has sent
    64 KiB when the refusal arrives (before, the server read all 50 MB first)."""
    import socket
    from urllib.parse import urlsplit

    size = 50 * 1024 * 1024
    with live_server(tmp_path) as base:
        address = urlsplit(base)
        with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
            head = (
                "POST /api/v1/patents/upload HTTP/1.1\r\n"
                f"Host: {address.netloc}\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n"
                f"Content-Length: {size}\r\n\r\n"
            )
            sock.sendall(head.encode() + b"\0" * 65536)
            answer = b""
            while b"forbidden" not in answer and (chunk := sock.recv(65536)):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 403"), answer[:300]
    assert b'"code":"forbidden"' in answer
