"""`shuanglian report` and `shuanglian report schedule` on a real (SQLite) database."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from shuanglian.cli.main import app
from shuanglian.config import Settings
from shuanglian.db import make_engine
from shuanglian.migrate import upgrade_database
from tests.dashboard.world import build

runner = CliRunner()


def _env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    engine = make_engine(Settings(home=home, database_url=None))
    upgrade_database(engine)
    with Session(engine) as s:
        w = build(s)
        s.commit()
    engine.dispose()
    return {"SHUANGLIAN_HOME": str(home), "SHUANGLIAN_DATABASE_URL": "", "INST": str(w.a)}


def _json(result) -> dict:  # type: ignore[no-untyped-def]
    return json.loads([ln for ln in result.stdout.splitlines() if ln.startswith("{")][-1])


def test_report_json_pdf_xlsx_and_errors(tmp_path: Path) -> None:
    env = _env(tmp_path)
    pdf, xlsx = tmp_path / "r.pdf", tmp_path / "r.xlsx"
    args = ["report", "--period", "2026Q4", "--region", "32", "--pdf", str(pdf),
            "--xlsx", str(xlsx), "--json"]  # fmt: skip
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    data = _json(result)
    assert data["scope"]["title"] == "全平台 · 江苏省 · 2026年第4季度"
    assert data["figures"]["contracts"] == 1 and data["figures"]["amount"] == 100.0
    assert "签约项目" in "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "核心指标" in load_workbook(xlsx).sheetnames
    inst = runner.invoke(app, ["report", "--institution", env["INST"], "--json"], env=env)
    assert _json(inst)["figures"]["inventoried"] == 3
    bad = runner.invoke(app, ["report", "--period", "2026-13", "--json"], env=env)
    assert bad.exit_code == 2 and _json(bad)["error"]["field"] == "--period"
    text = runner.invoke(app, ["report", "--period", "2026-11"], env=env)
    assert text.exit_code == 0 and "漏斗" in text.stdout


def test_schedule_is_idempotent(tmp_path: Path) -> None:
    env = _env(tmp_path)
    first = runner.invoke(app, ["report", "schedule", "--today", "2026-12-03", "--json"], env=env)
    assert first.exit_code == 0, first.output
    assert len(_json(first)["written"]) == 6  # November: platform + 2 institutions, PDF + Excel
    again = _json(runner.invoke(app, ["report", "schedule", "--today", "2026-12-09", "--json"],
                                env=env))  # fmt: skip
    assert again["written"] == [] and len(again["kept"]) == 6
