"""The CLI end to end on a fresh database of each backend, as other tools drive it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shuanglian.cli.main import app
from tests.conftest import _create_pg_database, _drop_pg_database

runner = CliRunner()


@pytest.fixture(params=["sqlite", "postgresql"])
def cli_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a CLI run against a brand-new, empty database (no tables yet)."""
    env = {"SHUANGLIAN_HOME": str(tmp_path / "home")}
    pg_name = None
    if request.param == "postgresql":
        pg_name, url = _create_pg_database()
        env["SHUANGLIAN_DATABASE_URL"] = url
    else:
        env["SHUANGLIAN_DATABASE_URL"] = ""
    yield env
    if pg_name:
        _drop_pg_database(pg_name)


def run_json(env: dict[str, str], *args: str) -> tuple[int, dict]:
    result = runner.invoke(app, [*args, "--json"], env=env)
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
    assert lines, result.output
    return result.exit_code, json.loads(lines[-1])


def test_init_creates_the_schema_and_is_idempotent(cli_env):
    code, first = run_json(cli_env, "init")
    assert code == 0
    assert first["revision_before"] is None and first["revision"]
    assert first["reference"]["gbt4754_codes"] > 1900
    code, second = run_json(cli_env, "init")
    assert code == 0 and second["revision_before"] == first["revision"]


def test_import_patents_then_reimport_changes_nothing(cli_env, shared_dir):
    sample = shared_dir / "data/samples/cn_patents_research_institute_sample10.csv"
    run_json(cli_env, "init")
    code, report = run_json(
        cli_env, "import", "patents", str(sample), "--institution", "中科大数据研究院"
    )
    assert code == 0
    assert (report["inserted"], report["rejected"]) == (10, 0)
    code, again = run_json(cli_env, "import", "patents", str(sample))
    assert (again["inserted"], again["unchanged"]) == (0, 10)
    code, stats = run_json(cli_env, "stats")
    assert stats["patents"] == 10 and stats["institutions"] == 1


def test_dry_run_reports_but_writes_nothing(cli_env, shared_dir):
    sample = shared_dir / "data/samples/cn_patents_research_institute_sample10.csv"
    run_json(cli_env, "init")
    code, report = run_json(cli_env, "import", "patents", str(sample), "--dry-run")
    assert code == 0 and report["inserted"] == 10 and report["dry_run"] is True
    assert run_json(cli_env, "stats")[1]["patents"] == 0


def test_missing_file_is_one_clear_error_without_a_trace(cli_env, tmp_path):
    run_json(cli_env, "init")
    code, out = run_json(cli_env, "import", "enterprises", str(tmp_path / "nope.csv"))
    assert code == 2
    assert "nope.csv" in out["error"]["message"]
    result = runner.invoke(app, ["import", "enterprises", str(tmp_path / "nope.csv")], env=cli_env)
    assert "Traceback" not in result.output and "文件不存在" in result.output


def test_not_a_spreadsheet_fails_as_a_whole_and_changes_nothing(cli_env, tmp_path):
    bogus = tmp_path / "export.xlsx"
    bogus.write_bytes(b"%PDF-1.4 not really a spreadsheet")
    run_json(cli_env, "init")
    code, out = run_json(cli_env, "import", "patents", str(bogus))
    assert code == 2 and out["error"]["message"]
    assert run_json(cli_env, "stats")[1]["patents"] == 0


def test_users_create_hashes_the_password(cli_env):
    run_json(cli_env, "init")
    code, out = run_json(
        cli_env, "users", "create", "admin1", "--role", "admin", "--password", "s3cret-pass"
    )
    assert code == 0 and out["created"]["role"] == "admin"
    code, dup = run_json(
        cli_env, "users", "create", "admin1", "--role", "admin", "--password", "s3cret-pass"
    )
    assert code == 2 and dup["error"]["field"] == "username"


def test_users_create_refuses_an_unknown_institution_and_appoints_reviewers(cli_env):
    run_json(cli_env, "init")
    staff = ("--role", "institution_staff", "--password", "s3cret-pass")
    code, out = run_json(cli_env, "users", "create", "bob", *staff, "--institution", "不存在大学")
    assert code == 2 and "不存在大学”不存在" in out["error"]["message"]
    assert (
        run_json(cli_env, "users", "create", "bob", *staff, "--institution", "不存在大学")[0] == 2
    )
    code, out = run_json(
        cli_env, "users", "create", "bob", *staff, "--institution", "新大学",
        "--create-institution", "--reviewer", "college", "--college", "机械学院",
    )  # fmt: skip
    assert code == 0 and out["reviewer"]["level"] == "college"
    assert out["reviewer"]["college"] == "机械学院"
    code, out = run_json(
        cli_env, "users", "create", "carol", *staff, "--institution", "新大学",
        "--reviewer", "institution",
    )  # fmt: skip
    assert code == 0 and out["reviewer"]["level_label"] == "单位审核人"


def test_an_import_leaves_statistics_for_the_query_planner(cli_env, shared_dir):
    """Without them SQLite's planner walks whole indexes for rare search terms."""
    from shuanglian.config import Settings
    from shuanglian.db import make_engine

    sample = shared_dir / "data/samples/cn_patents_research_institute_sample10.csv"
    run_json(cli_env, "init")
    code, _ = run_json(cli_env, "import", "patents", str(sample), "--institution", "中科院")
    assert code == 0
    url = cli_env["SHUANGLIAN_DATABASE_URL"] or None
    engine = make_engine(Settings(home=Path(cli_env["SHUANGLIAN_HOME"]), database_url=url))
    sql = {
        "sqlite": "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'patents'",
        "postgresql": "SELECT count(*) FROM pg_stats WHERE tablename = 'patents'",
    }[engine.dialect.name]
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql(sql).scalar() > 0
    finally:
        engine.dispose()
