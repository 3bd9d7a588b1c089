"""SQLite under ordinary concurrency: an import runs while people log in, browse and use the API.

Before, every login (it reads the user, then writes the audit entry) and every bearer request
(it stamped the token) started a deferred transaction that tried to upgrade to a write while
the import held the write lock, and failed at once with "database is locked" — a 500. Now
writing requests begin with BEGIN IMMEDIATE and wait, the operator's import commits per batch,
and bearer reads write nothing in their own transaction. Real server, real SQLite file.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from shuanglian.accounts import service as accounts
from shuanglian.accounts.models import ApiToken
from shuanglian.accounts.passwords import use_cheap_hashing_for_tests
from shuanglian.config import Settings
from shuanglian.db import make_engine, make_session_factory
from tests.patents.factories import CNIPA_HEADER
from tests.web.factories import make_institution, make_listing, make_user
from tests.web.live_server import live_server, log_in
from tests.web.upload_helpers import numbered_rows

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-9"


def _rows_csv(count: int, start: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CNIPA_HEADER, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(numbered_rows(count, start=start))
    return buffer.getvalue().encode()


def test_logins_pages_and_api_keep_working_while_imports_write(tmp_path: Path) -> None:
    use_cheap_hashing_for_tests()  # stored hashes are cheap to check; the server follows them
    with live_server(tmp_path, import_batch_size="500") as base:
        settings = Settings(home=tmp_path)
        engine = make_engine(settings)
        with make_session_factory(engine)() as session:
            institution = make_institution(session, "并发测试大学")
            make_listing(session, institution)
            users = [
                accounts.create_user(
                    session, username=f"user{n}", password=PASSWORD, role="institution_staff",
                    institution_id=institution.id,
                )
                for n in range(6)
            ]  # fmt: skip
            _, token = accounts.create_api_token(session, user=users[0], name="load")
            session.commit()
        engine.dispose()
        big = tmp_path / "big.csv"
        big.write_bytes(_rows_csv(12_000, 1))
        env = dict(
            os.environ,
            SHUANGLIAN_HOME=str(tmp_path),
            SHUANGLIAN_IMPORT_BATCH_SIZE="500",
            PYTHONPATH=str(ROOT),
        )
        env.pop("SHUANGLIAN_DATABASE_URL", None)
        importer = subprocess.Popen(
            [sys.executable, "-c", "from shuanglian.cli.main import app; app()",
             "import", "patents", str(big),
             "--institution", "并发测试大学", "--json"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        statuses: Counter[int] = Counter()
        failures: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def note(response: httpx.Response, what: str) -> None:
            with lock:
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    failures.append(f"{what}: {response.status_code} {response.text[:200]}")

        def visitor(n: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as client:
                while not stop.is_set():
                    client.cookies.clear()
                    note(log_in(client, f"user{n}", PASSWORD), "login")
                    for path in ("/market", "/market/1", "/workspace/institution", "/healthz"):
                        note(client.get(path), path)

        def api_user() -> None:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, timeout=120, headers=headers) as client:
                start = 50_000
                while not stop.is_set():
                    note(client.get("/api/v1/patents", params={"per_page": 5}), "api list")
                    upload = client.post(
                        "/api/v1/patents/upload",
                        files={"file": ("small.csv", _rows_csv(300, start), "text/csv")},
                    )
                    note(upload, "upload")
                    start += 300

        threads = [threading.Thread(target=visitor, args=(n,)) for n in range(6)]
        threads.append(threading.Thread(target=api_user))
        for thread in threads:
            thread.start()
        try:
            out, err = importer.communicate(timeout=600)
        finally:
            time.sleep(1)  # a last round after the import
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
    assert importer.returncode == 0, (out + err).decode()[-2000:]
    assert b'"inserted": 12000' in out
    assert failures == []
    assert statuses[200] > 50 and statuses[303] >= 6, statuses


def test_a_bearer_read_writes_nothing_in_its_own_transaction(
    client: TestClient, db_session: Session
) -> None:
    institution = make_institution(db_session)
    user = make_user(db_session, "institution_staff", institution_id=institution.id)
    row, token = accounts.create_api_token(db_session, user=user, name="reader")
    db_session.commit()
    updates: list[str] = []

    def watch(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            updates.append(statement)

    bind = db_session.get_bind()
    engine = bind.engine if hasattr(bind, "engine") else bind
    event.listen(engine, "before_cursor_execute", watch)
    try:
        for _ in range(5):
            response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    # Stamped once (after the first answer), not on every request.
    assert len(updates) == 1
    db_session.expire_all()
    stamped = db_session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == row.id))
    assert stamped is not None
