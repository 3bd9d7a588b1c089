"""Inventory statistics in the shape the official returns use, as JSON and as Excel.

Columns (per institution and overall):
盘点数 inventoried patents · 入库数 patents in the pool now · 其中发明专利 of which inventions ·
自评转化前景好占比 share of self-assessments graded 高 · 推送企业数 distinct enterprises pushed to ·
反馈数 feedback received · 有合作意向数 patents with a cooperation intent (洽谈/许可/转让/作价入股/
合作开发) · 已转化数 inventoried patents transferred, licensed or contributed as equity (a
CNIPA transfer/licence record, or self-assessed 已许可/已转让/已作价入股).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import is_admin, require_institution
from shuanglian.inventory.models import (
    COOPERATION_INTENTS,
    Feedback,
    InventoryItem,
    PoolEntry,
    Push,
    SelfAssessment,
)
from shuanglian.patents.models import Institution, Patent

COLUMNS = (
    "盘点数",
    "入库数",
    "其中发明专利",
    "自评转化前景好占比",
    "推送企业数",
    "反馈数",
    "有合作意向数",
    "已转化数",
)
CONVERTED_STATUSES = ("已许可", "已转让", "已作价入股")


def _grouped(session: Session, stmt: Any) -> dict[int, int]:
    return {k: int(v) for k, v in session.execute(stmt).all()}


def _by_institution(session: Session, institution_id: int | None) -> dict[str, dict[int, Any]]:
    def scoped(stmt: Any, col: Any) -> Any:
        stmt = stmt.group_by(col)
        return stmt.where(col == institution_id) if institution_id is not None else stmt

    inst = InventoryItem.institution_id
    pinst = Patent.institution_id
    data = {
        "盘点数": _grouped(session, scoped(select(inst, func.count()), inst)),
        "入库数": _grouped(
            session,
            scoped(
                select(PoolEntry.institution_id, func.count()).where(PoolEntry.active.is_(True)),
                PoolEntry.institution_id,
            ),
        ),
        "其中发明专利": _grouped(
            session,
            scoped(
                select(PoolEntry.institution_id, func.count())
                .join(Patent, Patent.id == PoolEntry.patent_id)
                .where(PoolEntry.active.is_(True), Patent.patent_type == "invention"),
                PoolEntry.institution_id,
            ),
        ),
        "_assessed": _grouped(
            session,
            scoped(
                select(inst, func.count()).join(
                    SelfAssessment, SelfAssessment.item_id == InventoryItem.id
                ),
                inst,
            ),
        ),
        "_good": _grouped(
            session,
            scoped(
                select(inst, func.count())
                .join(SelfAssessment, SelfAssessment.item_id == InventoryItem.id)
                .where(SelfAssessment.value_grade == "高"),
                inst,
            ),
        ),
        "推送企业数": _grouped(
            session,
            scoped(
                select(pinst, func.count(func.distinct(Push.enterprise_id)))
                .select_from(Push)
                .join(Patent, Patent.id == Push.patent_id),
                pinst,
            ),
        ),
        "反馈数": _grouped(
            session,
            scoped(
                select(pinst, func.count())
                .select_from(Feedback)
                .join(Patent, Patent.id == Feedback.patent_id),
                pinst,
            ),
        ),
        "有合作意向数": _grouped(
            session,
            scoped(
                select(pinst, func.count(func.distinct(Feedback.patent_id)))
                .select_from(Feedback)
                .join(Patent, Patent.id == Feedback.patent_id)
                .where(Feedback.intent.in_(COOPERATION_INTENTS)),
                pinst,
            ),
        ),
        "已转化数": _grouped(
            session,
            scoped(
                select(inst, func.count())
                .join(Patent, Patent.id == InventoryItem.patent_id)
                .outerjoin(SelfAssessment, SelfAssessment.item_id == InventoryItem.id)
                .where(
                    or_(
                        func.coalesce(Patent.transfer_count, 0)
                        + func.coalesce(Patent.licence_count, 0)
                        > 0,
                        SelfAssessment.implementation_status.in_(CONVERTED_STATUSES),
                    )
                ),
                inst,
            ),
        ),
    }
    return data


def _row(data: dict[str, dict[int, Any]], key: int | None) -> dict[str, Any]:
    def get(col: str) -> int:
        if key is None:
            return sum(data[col].values())
        return data[col].get(key, 0)

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
    total = _row(data, None)
    # Enterprises reached overall are distinct across institutions, not a sum of the rows.
    stmt = select(func.count(func.distinct(Push.enterprise_id)))
    if institution_id is not None:
        stmt = stmt.join(Patent, Patent.id == Push.patent_id).where(
            Patent.institution_id == institution_id
        )
    total["推送企业数"] = session.scalar(stmt) or 0
    return {"columns": list(COLUMNS), "institutions": rows, "total": total}


def write_report_xlsx(report: dict[str, Any], path: Path) -> Path:
    """Write the report as one sheet: a row per institution, then 合计."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "存量专利盘活统计"
    ws.append(["单位", *report["columns"]])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in report["institutions"]:
        ws.append([row["institution"], *(row[c] for c in report["columns"])])
    ws.append(["合计", *(report["total"][c] for c in report["columns"])])
    ws[ws.max_row][0].font = Font(bold=True)
    share_col = report["columns"].index("自评转化前景好占比") + 2
    for r in range(2, ws.max_row + 1):
        ws.cell(row=r, column=share_col).number_format = "0.0%"
    ws.column_dimensions["A"].width = 30
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
