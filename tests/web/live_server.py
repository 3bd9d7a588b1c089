"""A real server for tests that need real concurrency: uvicorn in its own process on 127.0.0.1.

TestClient runs requests one after another inside the test's process, so it cannot show one
request starving another; these tests start `uvicorn` (as `shuanglian serve` does) on a fresh
database under the test's temporary folder and talk to it over loopback HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

import shuanglian.models  # noqa: F401  (registers every table on Base.metadata)
from benchmarks.web_load import start_server, stop_server
from shuanglian.config import Settings
from shuanglian.db import Base, make_engine

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def live_server(home: Path, url: str | None = None, **settings: str) -> Iterator[str]:
    """Base URL of a server on a fresh schema; `settings` are SHUANGLIAN_<NAME> values."""
    engine = make_engine(Settings(home=home, database_url=url))
    Base.metadata.create_all(engine)
    engine.dispose()
    env = {f"SHUANGLIAN_{name.upper()}": value for name, value in settings.items()}
    proc, base = start_server(home, url, workers=1, log=home / "server.log", extra_env=env)
    try:
        yield base
    finally:
        stop_server(proc)


def csrf_token(client: httpx.Client, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a form page."""
    match = _CSRF.search(client.get(path).text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def log_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    """Post the login form as a browser would (CSRF token from the login page)."""
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
