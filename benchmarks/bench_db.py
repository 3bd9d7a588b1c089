"""Scratch databases for the benchmarks: an empty SQLite file or a new PostgreSQL database.

PostgreSQL is reached through `SHUANGLIAN_TEST_PG_ADMIN_URL` (default: postgres on 127.0.0.1,
trust auth) — the same server the tests use; each benchmark creates its own database and drops it.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from shuanglian.config import Settings

PG_ADMIN_URL = os.environ.get(
    "SHUANGLIAN_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def scratch_settings(backend: str, home: Path) -> tuple[Settings, str | None]:
    """Settings for a fresh database of `backend`; the PostgreSQL database name to drop, or None."""
    if backend != "postgresql":
        return Settings(home=home, database_url=None), None
    name = f"shuanglian_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    admin.dispose()
    return Settings(home=home, database_url=PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name), name


def drop_scratch_database(name: str | None) -> None:
    """Drop a database made by `scratch_settings` (nothing to do for SQLite)."""
    if not name:
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
