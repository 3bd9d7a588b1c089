"""App and client fixtures: the app is built from `db_settings` and reads the test's session.

Overriding `get_session` with the rolled-back `db_session` lets a test set rows up, drive the
app through HTTP, and see the app's writes, on SQLite and PostgreSQL alike, with nothing left
behind afterwards. Each request still runs in a transaction of its own (a savepoint), committed
or rolled back as in production; only the session is shared and never closed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.web.app import create_app
from shuanglian.web.deps import get_session
from shuanglian.web.transactions import request_transaction


@pytest.fixture
def app(db_settings: Settings, db_session: Session) -> FastAPI:
    application = create_app(db_settings)

    def request_session(request: Request) -> Iterator[Session]:
        # The test's own rows are data stored before the request, as in real use; the request
        # then commits or rolls back its own work like the real dependency (savepoints here).
        db_session.commit()
        yield from request_transaction(request, db_session)

    application.dependency_overrides[get_session] = request_session
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    # raise_server_exceptions=False: a 500 must come back as the site's page, as users see it.
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
