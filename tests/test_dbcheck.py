"""`shuanglian db check` on both backends: a complete schema passes; a dropped index is named,
and the query that needed it shows a full scan."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, text
from typer.testing import CliRunner

from shuanglian.config import Settings
from shuanglian.db import Base, make_engine
from shuanglian.dbcheck.service import check_database
from shuanglian.enterprises.models import Enterprise
from shuanglian.inventory.models import Push, PushRound
from shuanglian.patents.models import Patent
from tests.conftest import _create_pg_database, _drop_pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def settings_db(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    pg_name = None
    if request.param == "postgresql":
        pg_name, url = _create_pg_database()
        settings = Settings(home=tmp_path, database_url=url)
    else:
        settings = Settings(home=tmp_path, database_url=None)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(Enterprise), [{"id": i, "name": f"企业{i}"} for i in range(1, 301)])
        conn.execute(
            insert(Patent),
            [{"id": i, "application_key": f"K{i}", "application_number": f"K{i}", "title": "t"}
             for i in range(1, 11)],
        )  # fmt: skip
        conn.execute(insert(PushRound), [{"id": 1, "per_patent": 1, "per_enterprise_cap": 1}])
        conn.execute(
            insert(Push),
            [{"round_id": 1, "patent_id": p, "enterprise_id": e, "rank": 1, "score": 1.0}
             for p in range(1, 11) for e in range(1, 301)],
        )  # fmt: skip
    yield settings, engine
    engine.dispose()
    if pg_name:
        _drop_pg_database(pg_name)


def test_complete_schema_passes_and_reports_sizes(settings_db):
    settings, engine = settings_db
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    report = check_database(engine, big_rows=1000)
    assert report.missing_indexes == []
    sizes = {t["table"]: t for t in report.tables}
    assert sizes["inventory_pushes"]["rows"] == 3000
    names = {p.name for p in report.plans}
    assert {"push_list_of_enterprise", "catalogue_page", "dashboard_pushes_by_round"} <= names
    push_list = next(p for p in report.plans if p.name == "push_list_of_enterprise")
    assert any("ix_inventory_pushes_enterprise_id" in line for line in push_list.plan)


def test_dropped_index_is_named_and_its_query_scans(settings_db):
    settings, engine = settings_db
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_inventory_pushes_enterprise_id"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    report = check_database(engine, big_rows=1000)
    assert report.missing_indexes == [
        {"table": "inventory_pushes", "columns": "enterprise_id",
         "why": "企业推送列表 (an enterprise's push list)"}
    ]  # fmt: skip
    push_list = next(p for p in report.plans if p.name == "push_list_of_enterprise")
    assert push_list.slow and "inventory_pushes" in push_list.reasons[0]
    assert not report.ok
    # The command says the same and exits non-zero.
    from shuanglian.cli.main import app

    env = {"SHUANGLIAN_HOME": str(settings.home)}
    if settings.database_url:
        env["SHUANGLIAN_DATABASE_URL"] = settings.database_url
    result = CliRunner().invoke(app, ["db", "check", "--big-rows", "1000"], env=env)
    assert result.exit_code == 1
    assert "inventory_pushes (enterprise_id)" in result.output and "SLOW" in result.output
