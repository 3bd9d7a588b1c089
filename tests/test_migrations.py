"""Migrations and models must agree on both backends: `init` builds the tables the code uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from shuanglian.config import Settings
from shuanglian.db import Base, make_engine
from shuanglian.migrate import upgrade_database
from tests.conftest import _create_pg_database, _drop_pg_database


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_to_head_matches_the_models(backend: str, tmp_path: Path):
    pg_name = None
    if backend == "postgresql":
        pg_name, url = _create_pg_database()
        settings = Settings(home=tmp_path, database_url=url)
    else:
        settings = Settings(home=tmp_path, database_url=None)
    engine = make_engine(settings)
    try:
        before, after = upgrade_database(engine)
        assert before is None and after is not None
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        # A second upgrade is a no-op.
        assert upgrade_database(engine) == (after, after)
    finally:
        engine.dispose()
        if pg_name:
            _drop_pg_database(pg_name)
