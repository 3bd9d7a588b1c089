"""The whole loop on real sample data: import → self-assess (Excel) → review → pool → push →
feedback (Excel) → tiers → report, with the report's counts checked against the database."""

from __future__ import annotations

from openpyxl import load_workbook
from sqlalchemy import func, select

from shuanglian.inventory.importers import (
    ASSESSMENT_HEADERS,
    FEEDBACK_HEADERS,
    import_assessments,
    import_feedback,
    sync_inventory,
    write_assessment_template,
    write_feedback_template,
)
from shuanglian.inventory.indicators import assess_pool
from shuanglian.inventory.models import (
    COOPERATION_INTENTS,
    Feedback,
    InventoryItem,
    PoolEntry,
    Push,
    SelfAssessment,
)
from shuanglian.inventory.push import industry_matcher, run_push_round
from shuanglian.inventory.reports import inventory_report, write_report_xlsx
from shuanglian.inventory.review import review_item
from shuanglian.inventory.service import list_items
from shuanglian.inventory.tiers import recompute_tiers
from shuanglian.patents.models import Patent

from .conftest import hand_link
from .helpers import enterprise_user

GRADES = ["高", "中", "低", "高", "中", "低", "高", "中", "低", "高"]


def _fill_assessments(path):
    wb = load_workbook(path)
    ws = wb.active
    headers = [c.value for c in ws[1]]
    col = {f: headers.index(h) + 1 for f, h in ASSESSMENT_HEADERS.items()}
    for r in range(2, ws.max_row + 1):
        i = r - 2
        values = {
            "publicly_funded": "是" if i % 2 == 0 else "否",
            "implementation_status": "已许可" if i == 4 else "未实施",
            "transfer_mode": "许可",
            "trl": 4 + i % 5,
            "value_grade": GRADES[i],
            "value_reason": "团队自评",
            "scenarios": "无人机巡检与环境监测",
            "industry_codes": "C37，I65",
            "contact_name": "李老师",
            "contact_phone": "010-12345678",
        }
        if i == 8:
            values["trl"] = 12  # out of range: the row must be rejected
        if i == 9:
            values["implementation_status"] = "已卖掉"  # not in the list
        for field, value in values.items():
            ws.cell(row=r, column=col[field], value=value)
    r = ws.max_row + 1
    ws.cell(row=r, column=col["application_number"], value="CN209999999999.9")
    ws.cell(row=r, column=col["value_reason"], value="团队自评")  # an attempted row, not blank
    wb.save(path)
    return r


def _fill_feedback(path, intents):
    wb = load_workbook(path)
    ws = wb.active
    headers = [c.value for c in ws[1]]
    col = {f: headers.index(h) + 1 for f, h in FEEDBACK_HEADERS.items()}
    for r in range(2, ws.max_row + 1):
        intent, prospect = intents[(r - 2) % len(intents)]
        ws.cell(row=r, column=col["intent"], value=intent)
        ws.cell(row=r, column=col["prospect"], value=prospect)
        ws.cell(row=r, column=col["improvement_needs"], value="希望提供中试数据")
    wb.save(path)
    return ws.max_row - 1


def test_round_trip(db_session, world, enterprises, tmp_path, sample_csv):
    inst = world.institution.id
    # 1. import happened in the fixture (10 real CNIPA records); a second sync changes nothing.
    again = sync_inventory(db_session, actor=world.admin, path=sample_csv, institution_id=inst)
    assert (again["inserted"], again["unchanged"], again["new_batch_id"]) == (0, 10, None)

    # 2. self-assessment by Excel: template → filled by the inventors → imported.
    template = tmp_path / "自评表.xlsx"
    assert (
        write_assessment_template(db_session, actor=world.staff, path=template, institution_id=inst)
        == 10
    )
    unknown_row = _fill_assessments(template)
    report = import_assessments(db_session, actor=world.staff, path=template)
    assert (report.inserted, report.rejected) == (8, 3)
    errors = {(e.row, e.field) for e in report.errors}
    assert (10, ASSESSMENT_HEADERS["trl"]) in errors
    assert (11, ASSESSMENT_HEADERS["implementation_status"]) in errors
    assert (unknown_row, "申请号") in errors
    assert all(e.message for e in report.errors)

    # 3. review: approve seven, reject one.
    queue = list_items(db_session, actor=world.institution_reviewer, status="institution_review")
    assert len(queue) == 8
    for item in queue[:7]:
        review_item(
            db_session, actor=world.institution_reviewer, item_id=item.id, decision="approve"
        )
    review_item(
        db_session,
        actor=world.institution_reviewer,
        item_id=queue[7].id,
        decision="reject",
        comment="不具备转化条件",
    )

    # 4. pool assessed, 5. pushed.
    assert sum(assess_pool(db_session, industry_link=hand_link).values()) == 7
    matcher = industry_matcher(db_session, industry_link=hand_link)
    rnd = run_push_round(
        db_session, actor=world.admin, matcher=matcher, per_patent=3, per_enterprise_cap=4
    )
    assert rnd.pushes_made > 0

    # 6. feedback by Excel from every enterprise that received something.
    pushed_enterprises = sorted(set(db_session.scalars(select(Push.enterprise_id))))
    intents = [("洽谈", 5), ("无", 2), ("了解更多", 3)]
    filled = 0
    for eid in pushed_enterprises:
        user = enterprise_user(db_session, eid, f"ent{eid}")
        path = tmp_path / f"feedback_{eid}.xlsx"
        rows = write_feedback_template(db_session, actor=user, enterprise_id=eid, path=path)
        filled += _fill_feedback(path, intents)
        rep = import_feedback(db_session, actor=user, path=path)
        assert rep.rejected == 0 and rep.inserted == rows
    assert db_session.scalar(select(func.count()).select_from(Feedback)) == filled

    # 7. tiers.
    tiers = recompute_tiers(db_session)
    assert sum(tiers["tiers"].values()) == 7
    assert tiers["tiers"]["1"] >= 1

    # 8. report, checked against the database.
    rep = inventory_report(db_session, actor=world.staff)
    [row] = rep["institutions"]
    assert row["institution"] == "中科大数据研究院"
    q = db_session.scalar
    assert row["盘点数"] == q(select(func.count()).select_from(InventoryItem)) == 10
    assert (
        row["入库数"]
        == q(select(func.count()).select_from(PoolEntry).where(PoolEntry.active.is_(True)))
        == 7
    )
    inventions = q(
        select(func.count())
        .select_from(PoolEntry)
        .join(Patent, Patent.id == PoolEntry.patent_id)
        .where(Patent.patent_type == "invention")
    )
    assert row["其中发明专利"] == inventions
    good = q(
        select(func.count()).select_from(SelfAssessment).where(SelfAssessment.value_grade == "高")
    )
    assert row["自评转化前景好占比"] == round(good / 8, 4)
    assert row["推送企业数"] == len(pushed_enterprises)
    assert row["反馈数"] == filled
    assert row["有合作意向数"] == q(
        select(func.count(func.distinct(Feedback.patent_id))).where(
            Feedback.intent.in_(COOPERATION_INTENTS)
        )
    )
    assert (
        row["有转化记录数"] == 1
    )  # the one self-assessed 已许可 (sample records show 0 transfers)
    assert row["已转化数"] == 0  # no contract signed on the platform yet
    assert rep["total"] == {k: row[k] for k in rep["columns"]}

    out = write_report_xlsx(rep, tmp_path / "report.xlsx")
    ws = load_workbook(out).active
    assert [c.value for c in ws[1]] == ["单位", *rep["columns"]]
    assert ws.cell(row=3, column=1).value == "合计"
    assert ws.cell(row=3, column=2).value == 10


def test_report_is_limited_to_own_institution(db_session, world):
    import pytest

    from shuanglian.errors import PermissionDenied

    rep = inventory_report(db_session, actor=world.other_staff)
    assert rep["institutions"] == [] and rep["total"]["盘点数"] == 0
    with pytest.raises(PermissionDenied):
        inventory_report(db_session, actor=world.other_staff, institution_id=world.institution.id)
    assert inventory_report(db_session, actor=world.admin)["total"]["盘点数"] == 10


def test_dry_run_changes_nothing(db_session, world, tmp_path):
    template = tmp_path / "自评表.xlsx"
    write_assessment_template(
        db_session, actor=world.staff, path=template, institution_id=world.institution.id
    )
    _fill_assessments(template)
    report = import_assessments(db_session, actor=world.staff, path=template, dry_run=True)
    assert report.dry_run and report.inserted == 8
    assert db_session.scalar(select(func.count()).select_from(SelfAssessment)) == 0
    assert world.institution.name == "中科大数据研究院"  # the session itself still works
