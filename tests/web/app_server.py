"""The app served by uvicorn in a thread of the test's process, and Chromium, for browser tests.

A real socket and a real event loop (the browser needs a URL), while the test keeps direct
access to the same database; `live_server` starts a separate process instead, for tests that
need real concurrency.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from playwright.sync_api import Browser, Page
from sqlalchemy.orm import Session

from shuanglian.accounts.passwords import use_cheap_hashing_for_tests
from shuanglian.config import Settings
from shuanglian.db import Base, make_engine, make_session_factory, session_scope
from shuanglian.web.app import create_app

CHROMIUM = "/usr/bin/chromium"  # Debian's, installed by `make test-deps`
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def app_in_thread(app: Any) -> Iterator[str]:
    """Base URL of `app` served on 127.0.0.1 until the block ends."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def seeded_site(home: Path, seed: Callable[[Session], None]) -> Iterator[str]:
    """Base URL of the app over a new SQLite database in `home`, filled by `seed` (one
    transaction, committed before the first request), until the block ends."""
    use_cheap_hashing_for_tests()
    settings = Settings(home=home, database_url=None)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    with session_scope(make_session_factory(engine)) as session:
        seed(session)
    engine.dispose()
    with app_in_thread(create_app(settings)) as url:
        yield url


def signed_in_page(
    browser: Browser,
    url: str,
    username: str,
    password: str,
    *,
    width: int,
    height: int,
    accept_downloads: bool = False,
) -> Page:
    """A zh-CN page of `width` × `height` in a new context, signed in through the login form."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="zh-CN",
        accept_downloads=accept_downloads,
    )
    page = context.new_page()
    page.goto(f"{url}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    return page
