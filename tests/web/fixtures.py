"""App and client fixtures: the app is built from `db_settings` and reads the test's session.

Overriding `get_session` with the rolled-back `db_session` lets a test set rows up, drive the
app through HTTP, and see the app's writes, on SQLite and PostgreSQL alike, with nothing left
behind afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.web.app import create_app
from shuanglian.web.deps import get_session


@pytest.fixture
def app(db_settings: Settings, db_session: Session) -> FastAPI:
    application = create_app(db_settings)
    application.dependency_overrides[get_session] = lambda: db_session
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    # raise_server_exceptions=False: a 500 must come back as the site's page, as users see it.
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
