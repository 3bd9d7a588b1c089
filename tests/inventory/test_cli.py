"""`shuanglian inventory ...` end to end on a SQLite file, as the lead will mount it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from shuanglian.accounts.models import User
from shuanglian.config import Settings
from shuanglian.db import Base, make_engine
from shuanglian.enterprises.models import Enterprise
from shuanglian.inventory.cli import app
from shuanglian.inventory.importers import ASSESSMENT_HEADERS, FEEDBACK_HEADERS
from shuanglian.inventory.service import assign_reviewer
from shuanglian.patents.models import Institution

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, enterprise_rows) -> dict[str, str]:
    home = tmp_path / "home"
    engine = make_engine(Settings(home=home, database_url=None))
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        inst = Institution(name="中科大数据研究院")
        session.add(inst)
        session.flush()
        staff = User(
            username="staff", role="institution_staff", password_hash="x", institution_id=inst.id
        )
        rev = User(
            username="rev", role="institution_staff", password_hash="x", institution_id=inst.id
        )
        session.add_all([staff, rev])
        session.flush()
        assign_reviewer(
            session, actor=staff, user_id=rev.id, institution_id=inst.id, level="institution"
        )
        for row in enterprise_rows:
            session.add(
                Enterprise(
                    name=row["企业名称"],
                    industry_code=row["industry_code"],
                    business_scope=row["经营范围"],
                )
            )
        session.commit()
    engine.dispose()
    return {"SHUANGLIAN_HOME": str(home), "SHUANGLIAN_DATABASE_URL": ""}


def call(env: dict[str, str], *args: str) -> tuple[int, dict]:
    result = runner.invoke(app, [*args, "--json"], env=env)
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, result.output
    return result.exit_code, json.loads(lines[0])


def _fill(path: Path, headers: dict[str, str], values: dict[str, object]) -> None:
    wb = load_workbook(path)
    ws = wb.active
    names = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        for field, value in values.items():
            ws.cell(row=r, column=names.index(headers[field]) + 1, value=value)
    wb.save(path)


def test_cli_flow(env, tmp_path, sample_csv):
    code, synced = call(env, "sync", str(sample_csv), "--institution", "1")
    assert code == 0 and synced["new_patents"] == 10 and synced["new_batch_id"] == 1
    code, progress = call(env, "batch", "progress", "1")
    assert progress["total"] == 10 and progress["self_assessed"] == 0

    template = tmp_path / "assess.xlsx"
    code, out = call(env, "assess", "template", str(template), "--as", "staff")
    assert code == 0 and out["rows"] == 10
    _fill(
        template,
        ASSESSMENT_HEADERS,
        {
            "publicly_funded": "是",
            "implementation_status": "未实施",
            "transfer_mode": "转让",
            "trl": 6,
            "value_grade": "中",
            "value_reason": "有样机",
            "scenarios": "环境监测",
            "contact_name": "李老师",
        },
    )
    code, out = call(env, "assess", "import", str(template))
    assert code == 2 and "--as" in out["error"]["message"]
    code, out = call(env, "assess", "import", str(template), "--as", "staff")
    assert code == 0 and out["inserted"] == 10 and out["rejected"] == 0

    code, queue = call(env, "review", "--as", "rev")
    assert len(queue["queue"]) == 10
    first = queue["queue"][0]  # a reviewer recognises a patent by number and title
    assert first["application_number"].startswith("CN") and first["title"]
    assert first["status_label"].startswith("待单位审核")
    for row in queue["queue"][:6]:
        code, out = call(env, "review", str(row["item_id"]), "approve", "--as", "rev")
        assert code == 0 and out["status"] == "approved"
    code, out = call(env, "review", str(queue["queue"][0]["item_id"]), "approve", "--as", "rev")
    assert code == 2 and "不在审核阶段" in out["error"]["message"]
    code, out = call(env, "review", str(queue["queue"][6]["item_id"]), "approve", "--as", "staff")
    assert code == 2 and out["error"]["code"] == "forbidden"

    code, grades = call(env, "indicators")  # the shipped IPC → industry link
    assert code == 0 and sum(grades["grades"].values()) == 6
    code, pushed = call(
        env, "push", "round", "--matcher", "industry", "--per-patent", "3", "--cap", "3"
    )
    assert code == 0 and pushed["pushes_made"] > 0 and pushed["skipped_no_evidence"] == 0
    assert pushed["skipped_weak"] == 0  # the industry matcher gives no levels

    code, pool = call(env, "pool", "list")
    assert len(pool["pool"]) == 6 and all(p["grade"] for p in pool["pool"])

    feedback = tmp_path / "fb.xlsx"
    from sqlalchemy import create_engine, text

    eng = create_engine(f"sqlite:///{env['SHUANGLIAN_HOME']}/shuanglian.db")
    with eng.connect() as conn:
        eid = conn.execute(text("select enterprise_id from inventory_pushes limit 1")).scalar()
    eng.dispose()
    code, out = call(env, "feedback", "template", str(feedback), "--enterprise", str(eid))
    assert out["rows"] >= 1
    _fill(feedback, FEEDBACK_HEADERS, {"prospect": 4, "intent": "洽谈"})
    code, out = call(env, "feedback", "import", str(feedback), "--enterprise", str(eid))
    assert code == 0 and out["inserted"] == out_rows(feedback)

    code, tiers = call(env, "tiers", "--institution", "1")
    assert tiers["tiers"]["1"] >= 1 and tiers["deal_suggestions"]
    assert tiers["maintenance"] == []  # only one round so far

    xlsx = tmp_path / "report.xlsx"
    code, report = call(env, "report", "--xlsx", str(xlsx))
    assert report["total"]["盘点数"] == 10 and report["total"]["入库数"] == 6
    assert report["total"]["反馈数"] == out["inserted"] and xlsx.exists()

    code, out = call(
        env,
        "pool",
        "withdraw",
        str(pool["pool"][0]["patent_id"]),
        "--reason",
        "拟自行实施",
        "--as",
        "staff",
    )
    assert code == 0 and out["status"] == "withdrawn"


def out_rows(path: Path) -> int:
    return load_workbook(path).active.max_row - 1


def test_cli_batch_create_from_import_file(env, sample_csv):
    call(env, "sync", str(sample_csv), "--institution", "1")
    code, out = call(
        env,
        "batch",
        "create",
        "--institution",
        "1",
        "--name",
        "再盘点",
        "--source-file",
        sample_csv.name,
        "--as",
        "staff",
    )
    # Every patent of that file is already inventoried by the sync batch: an empty batch
    # would be a mistake, so it is refused and nothing is created.
    assert code == 2 and out["error"]["field"] == "source_file"
    assert "都已盘点过" in out["error"]["message"]
    assert call(env, "batch", "progress", "2")[0] == 2  # batch 2 does not exist


def test_batch_create_takes_the_path_imported_with_and_refuses_an_empty_batch(
    env, tmp_path, sample_csv, monkeypatch
):
    """`--source-file` as typed at import time (`~/exports/x.csv`); an empty batch: refused."""
    from shuanglian.cli.main import app as root

    user_home = tmp_path / "user"
    (user_home / "exports").mkdir(parents=True)
    export = user_home / "exports" / "x.csv"
    export.write_bytes(sample_csv.read_bytes())
    monkeypatch.setenv("HOME", str(user_home))

    def root_call(*args: str) -> tuple[int, dict]:
        result = runner.invoke(root, [*args, "--json"], env=env)
        lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
        assert len(lines) == 1, result.output
        return result.exit_code, json.loads(lines[0])

    # The shell expands `~` for the import; `--source-file=~/...` reaches us unexpanded.
    code, report = root_call("import", "patents", str(export), "--institution", "中科大数据研究院")
    assert code == 0 and report["inserted"] == 10

    create = ("batch", "create", "--institution", "1")
    code, missing = call(env, *create, "--name", "错", "--source-file", "~/exports/y.csv")
    assert code == 2 and missing["error"]["field"] == "source_file"
    assert "y.csv" in missing["error"]["message"]

    code, created = call(env, *create, "--name", "2026 盘点", "--source-file", "~/exports/x.csv")
    assert code == 0 and (created["added"], created["skipped_already_inventoried"]) == (10, 0)

    code, again = call(env, *create, "--name", "再来")
    assert code == 2 and "没有尚未盘点的专利" in again["error"]["message"]
    plain = runner.invoke(app, ["batch", "create", "--institution", "1", "--name", "x"], env=env)
    assert plain.exit_code == 2 and "批次未创建" in plain.output and "Traceback" not in plain.output
    code, progress = call(env, "batch", "progress", str(created["batch_id"]))
    assert progress["total"] == 10 and created["batch_id"] == 1  # no empty batch was left behind


def test_batch_create_without_options_takes_the_institutions_patents(env, sample_csv):
    from shuanglian.cli.main import app as root

    result = runner.invoke(
        root, ["import", "patents", str(sample_csv), "--institution", "中科大数据研究院"], env=env
    )
    assert result.exit_code == 0, result.output
    code, created = call(env, "batch", "create", "--institution", "1", "--name", "全部")
    assert code == 0 and created["added"] == 10
