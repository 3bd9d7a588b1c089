"""The inventory's Excel round trips in the browser workspaces: download, fill, upload.

Self-assessment (institution staff) and feedback (enterprise users) workbooks are downloaded
from the page, filled with openpyxl as a person would in Excel, uploaded, and the rows the
import recorded are read back from the database, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.inventory.models import Feedback, InventoryItem, Push, PushRound
from shuanglian.inventory.service import create_batch
from shuanglian.patents.models import Institution, Patent
from shuanglian.patents.numbers import application_key
from tests.web.factories import csrf_of, login, make_enterprise, make_institution, make_user
from tests.web.factories import make_patent as make_any_patent
from tests.web.upload_helpers import XLSX, app_number, counts, error_rows

TRL_HEADER = "技术成熟度(TRL 1-9)"
_serials = iter(range(1, 100_000))


def make_patent(session: Session, institution: Institution, *, title: str) -> Patent:
    """A patent whose application number is real enough (check digit) for the workbooks."""
    patent = make_any_patent(session, institution, title=title)
    patent.application_number = app_number(f"2024200{next(_serials):05d}")
    patent.application_key = application_key(patent.application_number)
    session.flush()
    return patent


def _workbook_rows(content: bytes) -> tuple[list[str], list[list[object]], object]:
    wb = load_workbook(io.BytesIO(content))
    ws = wb.active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return [str(c) for c in rows[0]], rows[1:], wb


def _save(wb: object) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)  # type: ignore[attr-defined]
    return buffer.getvalue()


def _fill_assessment(ws, row: int, header: list[str], **values: object) -> None:  # type: ignore[no-untyped-def]
    for name, value in values.items():
        ws.cell(row=row, column=header.index(name) + 1, value=value)


VALID = {
    "财政资助(是/否)": "是",
    "实施状态": "未实施",
    "意向转化方式": "许可",
    TRL_HEADER: 6,
    "价值分级自评(高/中/低)": "高",
    "分级理由": "已完成中试，性能优于同类产品",
    "应用场景": "动力电池回收企业",
    "联系人": "张老师",
}


# --------------------------------------------------------------------------- self-assessment


def test_self_assessment_round_trip_through_the_page(
    client: TestClient, db_session: Session
) -> None:
    inst = make_institution(db_session, "自评大学")
    patents = [make_patent(db_session, inst, title=f"一种自评测试装置{i}") for i in range(3)]
    batch, added, _ = create_batch(
        db_session,
        actor=None,
        institution_id=inst.id,
        name="2026 盘点",
        patent_ids=[p.id for p in patents],
    )
    assert added == 3
    other = make_institution(db_session, "别的大学")
    foreign = make_patent(db_session, other, title="别校的专利")
    other_batch, _, _ = create_batch(
        db_session, actor=None, institution_id=other.id, name="别校批次", patent_ids=[foreign.id]
    )
    staff = make_user(db_session, "institution_staff", institution_id=inst.id)
    db_session.commit()
    login(client, staff)

    page = client.get("/workspace/institution/imports")
    assert f"assessments/template.xlsx?batch_id={batch.id}" in page.text
    template = client.get(f"/workspace/institution/assessments/template.xlsx?batch_id={batch.id}")
    assert template.status_code == 200 and template.headers["content-type"] == XLSX
    assert "attachment" in template.headers["content-disposition"]
    header, rows, wb = _workbook_rows(template.content)
    assert [r[0] for r in rows] == [p.application_number for p in patents]
    ws = wb.active  # type: ignore[attr-defined]
    _fill_assessment(ws, 2, header, **VALID)
    _fill_assessment(ws, 3, header, **{**VALID, TRL_HEADER: 12})
    _fill_assessment(ws, 4, header, **VALID)
    ws.append([foreign.application_number, foreign.title])
    _fill_assessment(ws, 5, header, **VALID)

    token = csrf_of(client, "/workspace/institution/imports")
    response = client.post(
        "/workspace/institution/assessments/upload",
        data={"csrf_token": token, "submit": "1"},
        files={"file": ("自评表.xlsx", _save(wb), XLSX)},
    )
    assert response.status_code == 200, response.text[:2000]
    assert counts(response.text) == {"inserted": 2, "updated": 0, "unchanged": 0, "rejected": 2}
    rejected = error_rows(response.text)
    assert (3, TRL_HEADER) in [(r, f) for r, f, _ in rejected]
    assert any(r == 5 and "本单位" in m for r, _, m in rejected)
    db_session.expire_all()
    items = {i.patent_id: i for i in db_session.scalars(select(InventoryItem))}
    assert items[patents[0].id].assessment is not None
    assert items[patents[0].id].status == "institution_review"  # no college: straight to it
    assert items[patents[0].id].assessment.filled_by_id == staff.id
    assert items[patents[1].id].assessment is None
    assert items[patents[2].id].status == "institution_review"  # no college: straight to it
    assert items[foreign.id].assessment is None

    # Another institution's batch is not this staff member's to download.
    refused = client.get(
        f"/workspace/institution/assessments/template.xlsx?batch_id={other_batch.id}"
    )
    assert refused.status_code in (403, 404)


def test_self_assessment_api_dry_run_and_wrong_file(
    client: TestClient, db_session: Session
) -> None:
    inst = make_institution(db_session, "API 自评大学")
    patent = make_patent(db_session, inst, title="一种接口测试装置")
    batch, _, _ = create_batch(
        db_session, actor=None, institution_id=inst.id, name="批次", patent_ids=[patent.id]
    )
    staff = make_user(db_session, "institution_staff", institution_id=inst.id)
    db_session.commit()
    login(client, staff)
    token = csrf_of(client, "/account")
    template = client.get(f"/api/v1/inventory/assessments/template?batch_id={batch.id}")
    assert template.status_code == 200 and template.headers["content-type"] == XLSX
    header, _, wb = _workbook_rows(template.content)
    _fill_assessment(wb.active, 2, header, **VALID)  # type: ignore[attr-defined]
    dry = client.post(
        "/api/v1/inventory/assessments/upload?dry_run=true",
        headers={"X-CSRF-Token": token},
        files={"file": ("a.xlsx", _save(wb), XLSX)},
    )
    assert dry.status_code == 200 and dry.json()["inserted"] == 1 and dry.json()["dry_run"]
    db_session.expire_all()
    assert db_session.scalar(select(InventoryItem)).assessment is None  # type: ignore[union-attr]
    no_columns = client.post(
        "/api/v1/inventory/assessments/upload",
        headers={"X-CSRF-Token": token},
        files={"file": ("a.csv", "甲,乙\n1,2\n".encode(), "text/csv")},
    )
    assert no_columns.status_code == 422 and "缺少必需的列" in no_columns.json()["error"]["message"]
    real = client.post(
        "/api/v1/inventory/assessments/upload?submit=false",
        headers={"X-CSRF-Token": token},
        files={"file": ("a.xlsx", _save(wb), XLSX)},
    )
    assert real.json()["inserted"] == 1
    db_session.expire_all()
    item = db_session.scalar(select(InventoryItem))
    assert item is not None and item.assessment is not None and item.status == "draft"


# --------------------------------------------------------------------------- feedback


def _pushed_world(db_session: Session):  # type: ignore[no-untyped-def]
    inst = make_institution(db_session, "推送大学")
    first = make_patent(db_session, inst, title="一种电池热管理系统")
    second = make_patent(db_session, inst, title="一种高导热陶瓷基板")
    ent_x = make_enterprise(db_session, "甲电池有限公司")
    ent_y = make_enterprise(db_session, "乙材料有限公司")
    rnd = PushRound(per_patent=5, per_enterprise_cap=50)
    db_session.add(rnd)
    db_session.flush()
    pushes = [
        Push(round_id=rnd.id, patent_id=first.id, enterprise_id=ent_x.id, rank=1, score=0.9),
        Push(round_id=rnd.id, patent_id=second.id, enterprise_id=ent_x.id, rank=2, score=0.8),
        Push(round_id=rnd.id, patent_id=first.id, enterprise_id=ent_y.id, rank=1, score=0.7),
    ]
    db_session.add_all(pushes)
    db_session.flush()
    user_x = make_user(db_session, "enterprise_user", enterprise_id=ent_x.id)
    user_y = make_user(db_session, "enterprise_user", enterprise_id=ent_y.id)
    db_session.commit()
    return ent_x, ent_y, pushes, user_x, user_y


def test_enterprise_feedback_round_trip_through_the_page(
    client: TestClient, db_session: Session
) -> None:
    ent_x, _, pushes, user_x, _ = _pushed_world(db_session)
    login(client, user_x)
    workspace = client.get("/workspace/enterprise")
    assert 'action="/workspace/enterprise/feedback-workbook/upload"' in workspace.text
    template = client.get("/workspace/enterprise/feedback-workbook/template.xlsx")
    assert template.status_code == 200 and template.headers["content-type"] == XLSX
    header, rows, wb = _workbook_rows(template.content)
    assert sorted(r[0] for r in rows) == sorted([pushes[0].id, pushes[1].id])
    ws = wb.active  # type: ignore[attr-defined]
    target = next(i for i, r in enumerate(rows, start=2) if r[0] == pushes[0].id)
    ws.cell(row=target, column=header.index("产业化前景(1-5)") + 1, value=4)
    ws.cell(row=target, column=header.index("合作意向") + 1, value="洽谈")
    ws.cell(row=target, column=header.index("技术改进需求") + 1, value="希望适配 48V 系统")
    ws.append([pushes[2].id, "", "", 5, "", "许可"])  # row 4: pushed to the other enterprise
    ws.append(["abc", "", "", 3, "", "洽谈"])  # row 5: no such push number

    token = csrf_of(client, "/workspace/enterprise")
    response = client.post(
        "/workspace/enterprise/feedback-workbook/upload",
        data={"csrf_token": token},
        files={"file": ("评价表.xlsx", _save(wb), XLSX)},
    )
    assert response.status_code == 200, response.text[:2000]
    assert counts(response.text) == {"inserted": 1, "updated": 0, "unchanged": 0, "rejected": 2}
    assert [(r, f) for r, f, _ in error_rows(response.text)] == [(4, "推送编号"), (5, "推送编号")]
    db_session.expire_all()
    feedback = list(db_session.scalars(select(Feedback)))
    assert len(feedback) == 1
    fb = feedback[0]
    assert (fb.push_id, fb.enterprise_id, fb.prospect, fb.intent) == (
        pushes[0].id,
        ent_x.id,
        4,
        "洽谈",
    )
    assert fb.source == "excel" and fb.submitted_by_id == user_x.id
    assert fb.improvement_needs == "希望适配 48V 系统"
    # The workspace shows it as given.
    assert "已评价" in client.get("/workspace/enterprise").text

    again = client.post(
        "/workspace/enterprise/feedback-workbook/upload",
        data={"csrf_token": token},
        files={"file": ("评价表.xlsx", _save(wb), XLSX)},
    )
    assert counts(again.text)["updated"] == 1
    wrong = client.post(
        "/workspace/enterprise/feedback-workbook/upload",
        data={"csrf_token": token},
        files={"file": ("评价表.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, XLSX)},
    )
    assert wrong.status_code == 415 and 'id="err-feedback-file"' in wrong.text


def test_feedback_api_is_scoped_to_the_enterprise(client: TestClient, db_session: Session) -> None:
    ent_x, ent_y, pushes, user_x, user_y = _pushed_world(db_session)
    login(client, user_y)
    token = csrf_of(client, "/account")
    own = client.get("/api/v1/inventory/feedback/template")
    _, rows, wb = _workbook_rows(own.content)
    assert [r[0] for r in rows] == [pushes[2].id]
    assert (
        client.get(f"/api/v1/inventory/feedback/template?enterprise_id={ent_x.id}").status_code
        == 403
    )
    ws = wb.active  # type: ignore[attr-defined]
    ws.cell(row=2, column=4, value=5)
    ws.cell(row=2, column=6, value="许可")
    other = client.post(
        f"/api/v1/inventory/feedback/upload?enterprise_id={ent_x.id}",
        headers={"X-CSRF-Token": token},
        files={"file": ("fb.xlsx", _save(wb), XLSX)},
    )
    assert other.status_code == 403
    dry = client.post(
        "/api/v1/inventory/feedback/upload?dry_run=true",
        headers={"X-CSRF-Token": token},
        files={"file": ("fb.xlsx", _save(wb), XLSX)},
    )
    assert dry.status_code == 200 and dry.json()["inserted"] == 1
    assert db_session.scalar(select(Feedback)) is None
    real = client.post(
        "/api/v1/inventory/feedback/upload",
        headers={"X-CSRF-Token": token},
        files={"file": ("fb.xlsx", _save(wb), XLSX)},
    )
    assert real.json() == {
        "inserted": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "errors": [],
        "error_count": 0,
        "dry_run": False,
        "skipped": 0,
        "warnings": [],
        "errors_csv": None,
    }
    db_session.expire_all()
    fb = db_session.scalar(select(Feedback))
    assert fb is not None and (fb.enterprise_id, fb.prospect, fb.intent) == (ent_y.id, 5, "许可")
