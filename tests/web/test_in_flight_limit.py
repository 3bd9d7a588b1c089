"""More signed-in visitors than worker threads: every request is served, none times out.

A signed-in request takes a thread to read its session (checking out a database connection it
keeps until the response) and a thread again for its handler. With more requests in progress
than threads, all threads could sit waiting for connections held by requests that wait for a
thread, until the pool's checkout timeout failed them. Real server, real SQLite file.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import httpx

from shuanglian.accounts import service as accounts
from shuanglian.accounts.passwords import use_cheap_hashing_for_tests
from shuanglian.config import Settings
from shuanglian.db import make_engine, make_session_factory
from shuanglian.web.inflight import in_flight_limit
from tests.web.live_server import live_server, log_in

PASSWORD = "correct-horse-9"
VISITORS = 8


def test_signed_in_visitors_beyond_the_threads_all_get_their_pages(tmp_path: Path) -> None:
    use_cheap_hashing_for_tests()
    # One thread and one connection: the smallest server, where the wait shows at once.
    with live_server(
        tmp_path, web_threads="1", db_pool_size="1", db_max_overflow="0", db_pool_timeout_s="3"
    ) as base:
        engine = make_engine(Settings(home=tmp_path))
        with make_session_factory(engine)() as session:
            for n in range(VISITORS):
                accounts.create_user(
                    session, username=f"visitor{n}", password=PASSWORD, role="admin"
                )
            session.commit()
        engine.dispose()
        clients = [httpx.Client(base_url=base, timeout=60) for _ in range(VISITORS)]
        for n, client in enumerate(clients):
            assert log_in(client, f"visitor{n}", PASSWORD).status_code == 303
        statuses: Counter[int] = Counter()
        lock = threading.Lock()
        start = threading.Barrier(VISITORS)

        def visit(client: httpx.Client) -> None:
            start.wait()
            for _ in range(3):
                code = client.get("/market").status_code
                with lock:
                    statuses[code] += 1

        threads = [threading.Thread(target=visit, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        for client in clients:
            client.close()
    assert statuses == Counter({200: VISITORS * 3})


def test_the_limit_fits_both_threads_and_connections() -> None:
    assert in_flight_limit(threads=64, pool_size=20, max_overflow=60) == 64
    assert in_flight_limit(threads=64, pool_size=5, max_overflow=10) == 15
    assert in_flight_limit(threads=1, pool_size=1, max_overflow=0) == 1
