"""Inventory statistics in the shape the official returns use, as JSON and as Excel.

Columns (per institution and overall):
盘点数 inventoried patents · 入库数 patents in the pool now · 其中发明专利 of which inventions ·
自评转化前景好占比 share of self-assessments graded 高 · 推送企业数 distinct enterprises pushed to ·
反馈数 feedback received · 有合作意向数 patents with a cooperation intent (洽谈/许可/转让/作价入股/
合作开发) · 有转化记录数 inventoried patents transferred, licensed or contributed as equity (a
CNIPA transfer/licence record, or self-assessed 已许可/已转让/已作价入股) · 已转化数 patents with a
technology contract signed on the platform (the dashboards' 已转化).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import is_admin, require_institution
from shuanglian.figures import figures_by_institution, headline_figures
from shuanglian.patents.models import Institution
from shuanglian.spreadsheet import append_row

COLUMNS = (
    "盘点数",
    "入库数",
    "其中发明专利",
    "自评转化前景好占比",
    "推送企业数",
    "反馈数",
    "有合作意向数",
    "有转化记录数",
    "已转化数",
)
# Report column → the headline figure it shows (`shuanglian.figures` defines each one).
COLUMN_FIGURES = {
    "盘点数": "inventoried",
    "入库数": "pooled",
    "其中发明专利": "pooled_invention",
    "_assessed": "assessed",
    "_good": "assessed_good",
    "推送企业数": "enterprises_reached",
    "反馈数": "feedback",
    "有合作意向数": "cooperation_intents",
    # 有转化记录: CNIPA transfer/licence records or a self-assessed 已许可/已转让/已作价入股;
    # 已转化: a contract signed on the platform (the dashboards' definition).
    "有转化记录数": "transfer_records",
    "已转化数": "converted",
}


def _by_institution(session: Session, institution_id: int | None) -> dict[str, dict[int, Any]]:
    grouped = figures_by_institution(
        session, keys=COLUMN_FIGURES.values(), institution_id=institution_id
    )
    return {col: grouped[key] for col, key in COLUMN_FIGURES.items()}


def _row(data: dict[str, dict[int, Any]], key: int) -> dict[str, Any]:
    def get(col: str) -> int:
        return int(data[col].get(key, 0))

    assessed = get("_assessed")
    row: dict[str, Any] = {col: get(col) for col in COLUMNS if col != "自评转化前景好占比"}
    row["自评转化前景好占比"] = round(get("_good") / assessed, 4) if assessed else 0.0
    return {col: row[col] for col in COLUMNS}


def inventory_report(
    session: Session, *, actor: User | None = None, institution_id: int | None = None
) -> dict[str, Any]:
    """Counts per institution plus an overall row; staff get only their own institution."""
    if actor is not None and not is_admin(actor):
        if institution_id is None:
            institution_id = actor.institution_id
        require_institution(actor, institution_id or -1)
    data = _by_institution(session, institution_id)
    ids = sorted({k for col in data.values() for k in col if k is not None})
    names = (
        dict(
            session.execute(
                select(Institution.id, Institution.name).where(Institution.id.in_(ids))
            ).all()
        )
        if ids
        else {}
    )
    rows = [{"institution_id": i, "institution": names.get(i, ""), **_row(data, i)} for i in ids]
    # The total row is the figures themselves, not a sum of the rows: enterprises reached are
    # distinct across institutions, and records of patents without an institution count too.
    overall = headline_figures(session, keys=COLUMN_FIGURES.values(), institution_id=institution_id)
    total = _row({col: {0: overall[key]} for col, key in COLUMN_FIGURES.items()}, 0)
    return {"columns": list(COLUMNS), "institutions": rows, "total": total}


def write_report_xlsx(report: dict[str, Any], path: Path) -> Path:
    """Write the report as one sheet: a row per institution, then 合计."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "存量专利盘活统计"
    append_row(ws, ["单位", *report["columns"]])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in report["institutions"]:
        append_row(ws, [row["institution"], *(row[c] for c in report["columns"])])
    append_row(ws, ["合计", *(report["total"][c] for c in report["columns"])])
    ws[ws.max_row][0].font = Font(bold=True)
    share_col = report["columns"].index("自评转化前景好占比") + 2
    for r in range(2, ws.max_row + 1):
        ws.cell(row=r, column=share_col).number_format = "0.0%"
    ws.column_dimensions["A"].width = 30
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
