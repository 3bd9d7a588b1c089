"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

Each backend gets one fresh database per test session (PostgreSQL: created here and dropped at
the end); each test runs inside a transaction that is rolled back, so tests never see each
other's rows even when the code under test calls `commit()` (it commits a savepoint).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

import shuanglian.models  # noqa: F401  (registers every table on Base.metadata)
from shuanglian.config import Settings
from shuanglian.db import Base, make_engine
from shuanglian.supermarket import catalogue_cache

PG_ADMIN_URL = os.environ.get(
    "SHUANGLIAN_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only shared data folder beside the project (../shared)."""
    return SHARED


def _create_pg_database() -> tuple[str, str]:
    name = f"shuanglian_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    admin.dispose()
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _drop_pg_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_settings(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Settings]:  # type: ignore[no-untyped-def]
    """Settings pointing at a fresh, empty database of each backend (tables created)."""
    home = tmp_path_factory.mktemp(f"home-{request.param}")
    pg_name = None
    if request.param == "sqlite":
        settings = Settings(home=home, database_url=None)
    else:
        pg_name, url = _create_pg_database()
        settings = Settings(home=home, database_url=url)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield settings
    if pg_name:
        _drop_pg_database(pg_name)


@pytest.fixture(scope="session")
def db_engine(db_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(db_settings)
    yield engine
    engine.dispose()


@pytest.fixture
def db_session(db_engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (commits become savepoints)."""
    connection = db_engine.connect()
    outer = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()
        # The rollback happened behind the session's back: counts kept from it are gone too.
        catalogue_cache.clear()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with an empty home folder and the default SQLite database under it."""
    return Settings(home=tmp_path / "home", database_url=None)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, shared by a module's browser tests."""
    from playwright.sync_api import sync_playwright

    from tests.web.app_server import CHROMIUM, CHROMIUM_ARGS

    assert Path(CHROMIUM).exists(), "install Debian's chromium (make test-deps does)"
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
