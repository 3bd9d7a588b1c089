"""Issue 14, the TTO clerk and the reviewer: the service side of each complaint.

Each test would fail if the behaviour the issue asked for broke: lapsed patents left out of a
batch, batches renamed and deleted with audit entries, the item list paged past 200, bulk
approval all or nothing, the workbook skipping untouched rows and calling an identical
re-upload unchanged, GB/T 4754 checked, messages in words, duplicate rows and foreign
applicants in a patent file, `users create` refusing an unknown institution.
"""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from shuanglian.accounts.service import create_user
from shuanglian.audit import AuditEntry, audit_trail
from shuanglian.errors import DomainError
from shuanglian.importing import readable_error
from shuanglian.inventory.feedback import record_feedback_for_enterprise, submit_feedback
from shuanglian.inventory.importers import (
    ASSESSMENT_HEADERS,
    import_assessments,
    write_assessment_template,
)
from shuanglian.inventory.models import InventoryBatch, InventoryItem, Push, PushRound
from shuanglian.inventory.review import approve_items
from shuanglian.inventory.schemas import FeedbackIn, SelfAssessmentIn
from shuanglian.inventory.service import (
    build_batch,
    count_items,
    delete_batch,
    item_for_patent,
    list_items,
    rename_batch,
    save_self_assessment,
)
from shuanglian.patents.importers import import_patents
from shuanglian.patents.models import Institution, Patent
from tests.patents.factories import cnipa_row, write_csv
from tests.web.upload_helpers import app_number

from .helpers import FORM


def _fresh_patent(session, institution, n: int, **kw) -> Patent:  # type: ignore[no-untyped-def]
    patent = Patent(
        application_key=f"CN2031{n:08d}",
        application_number=f"CN2031{n:08d}.1",
        title=kw.pop("title", f"一种测试方法{n}"),
        institution_id=institution.id,
        legal_status=kw.pop("legal_status", "有权"),
        **kw,
    )
    session.add(patent)
    session.flush()
    return patent


def test_lapsed_patents_are_flagged_and_left_out_unless_asked(db_session, world) -> None:
    inst = world.institution
    alive = _fresh_patent(db_session, inst, 1)
    dead = _fresh_patent(db_session, inst, 2, legal_status="未缴年费专利权终止")
    built = build_batch(
        db_session, actor=world.staff, institution_id=inst.id, name="新批次",
        patent_ids=[alive.id, dead.id],
    )  # fmt: skip
    assert (built.added, [p for p, _, _ in built.lapsed_left_out]) == (1, [dead.id])
    assert item_for_patent(db_session, patent_id=dead.id) is None
    with pytest.raises(DomainError, match="均为已失效"):
        build_batch(
            db_session, actor=world.staff, institution_id=inst.id, name="只有失效",
            patent_ids=[dead.id],
        )  # fmt: skip
    again = build_batch(
        db_session, actor=world.staff, institution_id=inst.id, name="含失效",
        patent_ids=[dead.id], include_lapsed=True,
    )  # fmt: skip
    assert again.added == 1 and again.lapsed_left_out == []


def test_batches_are_renamed_and_untouched_ones_deleted_with_audit(db_session, world) -> None:
    inst = world.institution
    patent = _fresh_patent(db_session, inst, 3)
    batch = build_batch(
        db_session, actor=world.staff, institution_id=inst.id, name="建错的", patent_ids=[patent.id]
    ).batch
    rename_batch(db_session, actor=world.staff, batch_id=batch.id, name="2025 年补充批次")
    assert batch.name == "2025 年补充批次"
    with pytest.raises(DomainError, match="不能为空"):
        rename_batch(db_session, actor=world.staff, batch_id=batch.id, name="  ")
    batch_id = batch.id
    assert delete_batch(db_session, actor=world.staff, batch_id=batch_id) == 1
    assert db_session.get(InventoryBatch, batch_id) is None
    assert item_for_patent(db_session, patent_id=patent.id) is None  # free for a new batch
    actions = [
        e.action
        for e in audit_trail(db_session, subject_type="inventory_batches", subject_id=batch_id)
    ]
    assert actions == ["batch.create", "batch.rename", "batch.delete"]
    # A batch someone has worked on keeps its decisions: it cannot be deleted.
    worked = db_session.scalars(select(InventoryItem)).first()
    save_self_assessment(db_session, actor=world.staff, item_id=worked.id, data=FORM, submit=False)
    with pytest.raises(DomainError, match="不能删除"):
        delete_batch(db_session, actor=world.staff, batch_id=worked.batch_id)


def test_item_list_pages_past_200_with_count_batch_and_search(db_session, world) -> None:
    inst = world.institution
    patents = [_fresh_patent(db_session, inst, 100 + n) for n in range(211)]
    batch = build_batch(
        db_session, actor=world.staff, institution_id=inst.id, name="大批次",
        patent_ids=[p.id for p in patents],
    ).batch  # fmt: skip
    assert count_items(db_session, actor=world.staff, batch_id=batch.id) == 211
    page5 = list_items(db_session, actor=world.staff, batch_id=batch.id, offset=200, limit=50)
    assert len(page5) == 11
    found = list_items(db_session, actor=world.staff, q=patents[7].application_number)
    assert [i.patent_id for i in found] == [patents[7].id]
    assert count_items(db_session, actor=world.staff, q="测试方法") == 211
    assert count_items(db_session, actor=world.other_staff, batch_id=batch.id) == 0


def test_bulk_approve_is_all_or_nothing_with_one_comment(db_session, world) -> None:
    items = [item_for_patent(db_session, patent_id=p.id) for p in world.patents[:3]]
    for item in items[:2]:
        save_self_assessment(db_session, actor=world.staff, item_id=item.id, data=FORM)
    # The third is still a draft: approving the three together changes none of them.
    with pytest.raises(DomainError, match="所选条目均未处理"), db_session.begin_nested():
        approve_items(db_session, actor=world.institution_reviewer, item_ids=[i.id for i in items])
    assert {i.status for i in items[:2]} == {"institution_review"}
    done = approve_items(
        db_session,
        actor=world.institution_reviewer,
        item_ids=[i.id for i in items[:2]],
        comment="材料齐全",
    )
    assert [i.status for i in done] == ["approved", "approved"]
    assert all(i.last_comment == "材料齐全" for i in done)


def _fill(path, rows: dict[int, dict[str, object]]) -> None:  # type: ignore[no-untyped-def]
    wb = load_workbook(path)
    ws = wb["专利自评表"]
    headers = [c.value for c in ws[1]]
    col = {f: headers.index(h) + 1 for f, h in ASSESSMENT_HEADERS.items()}
    for r, values in rows.items():
        for field, value in values.items():
            ws.cell(row=r, column=col[field], value=value)
    wb.save(path)


GOOD = {
    "publicly_funded": "是",
    "implementation_status": "未实施",
    "transfer_mode": "许可",
    "trl": 6,
    "value_grade": "高",
    "value_reason": "已有样机",
    "scenarios": "电力巡检",
    "industry_codes": "C37",
    "contact_name": "王工",
}


def test_workbook_skips_untouched_rows_and_reports_reuploads_unchanged(
    db_session, world, tmp_path
) -> None:
    path = tmp_path / "自评表.xlsx"
    n = write_assessment_template(
        db_session, actor=world.staff, path=path, institution_id=world.institution.id
    )
    wb = load_workbook(path)
    assert wb.sheetnames == ["专利自评表", "填写说明"]
    ws = wb["专利自评表"]
    headers = [c.value for c in ws[1]]
    assert "法律状态" in headers and ws.cell(row=2, column=3).value  # pre-filled status
    for i, header in enumerate(headers, start=1):
        width = ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width
        assert width >= min(40, len(header) * 2), header  # the header can be read
    assert "跳过" in wb["填写说明"]["A5"].value
    # Two rows filled, one with a bad grade and a bad industry code; the rest untouched.
    _fill(
        path,
        {
            2: GOOD,
            3: {**GOOD, "trl": "高", "industry_codes": "9999", "publicly_funded": None},
        },
    )
    first = import_assessments(db_session, actor=world.staff, path=path)
    assert (first.inserted, first.rejected, first.skipped) == (1, 1, n - 2)
    messages = {e.field: e.message for e in first.errors}
    assert "须为整数" in messages[ASSESSMENT_HEADERS["trl"]]
    assert "9999" in messages[ASSESSMENT_HEADERS["industry_codes"]]
    assert messages[ASSESSMENT_HEADERS["publicly_funded"]].startswith("必填")
    assert not any("int_parsing" in m or "bool_type" in m for m in messages.values())
    # Correct row 3 and upload the same file again: row 2 was submitted and is unchanged.
    _fill(path, {3: GOOD})
    second = import_assessments(db_session, actor=world.staff, path=path)
    assert (second.inserted, second.unchanged, second.rejected) == (1, 1, 0)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"type": "int_parsing", "input": "高"}, "须为整数，填写的是“高”"),
        ({"type": "bool_type", "input": None}, "必填项不能为空"),
        ({"type": "bool_parsing", "input": "也许"}, "须填“是”或“否”"),
        ({"type": "missing", "input": {}}, "必填项不能为空"),
        ({"type": "value_error", "msg": "Value error, 邮箱格式不正确"}, "邮箱格式不正确"),
    ],
)
def test_validation_errors_read_as_sentences(error, expected) -> None:
    assert readable_error(error).startswith(expected)


def test_industry_code_must_exist_in_gbt4754() -> None:
    with pytest.raises(ValueError, match="9999"):
        SelfAssessmentIn(**{**FORM.model_dump(), "industry_codes": ["9999"]})
    assert SelfAssessmentIn(**{**FORM.model_dump(), "industry_codes": ["c3911"]}).industry_codes


def test_staff_record_phone_feedback_marked_as_theirs(db_session, world, enterprises) -> None:
    patent = world.patents[0]
    rnd = PushRound(per_patent=1, per_enterprise_cap=1)
    db_session.add(rnd)
    db_session.flush()
    push = Push(round_id=rnd.id, patent_id=patent.id, enterprise_id=enterprises[0].id, rank=1,
                score=0.5)  # fmt: skip
    db_session.add(push)
    db_session.flush()
    data = FeedbackIn(prospect=4, intent="洽谈")
    fb = record_feedback_for_enterprise(
        db_session, actor=world.staff, push_id=push.id, data=data, channel="paper"
    )
    assert (fb.source, fb.submitted_by_id) == ("paper", world.staff.id)
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "feedback.record"))
    assert entry is not None and entry.actor_name == "staff"
    with pytest.raises(DomainError):  # another institution's staff may not
        record_feedback_for_enterprise(
            db_session, actor=world.other_staff, push_id=push.id, data=data, channel="phone"
        )
    # Once the enterprise answers itself, staff cannot overwrite its words.
    submit_feedback(db_session, actor=None, data=data, push_id=push.id, source="web")
    with pytest.raises(DomainError, match="自行提交"):
        record_feedback_for_enterprise(
            db_session, actor=world.staff, push_id=push.id, data=data, channel="phone"
        )


def test_patent_file_duplicates_and_foreign_applicants(db_session, tmp_path) -> None:
    rows = [
        cnipa_row(申请号=app_number("202310000001"), 申请人="甲大学"),
        cnipa_row(申请号=app_number("202310000002"), 申请人="某某科技有限公司"),
        cnipa_row(申请号=app_number("202310000001"), 申请人="甲大学"),
    ]
    path = write_csv(tmp_path / "dup.csv", rows)
    report = import_patents(db_session, path=path, institution="甲大学")
    assert (report.inserted, report.rejected) == (2, 1)
    (error,) = report.errors
    assert error.row == 4 and "第 2 行与第 4 行" in error.message
    (warning,) = report.warnings
    assert warning.row == 3 and "某某科技有限公司" in warning.message


def test_users_create_refuses_an_unknown_institution(db_session) -> None:
    with pytest.raises(DomainError, match="不存在大学”不存在"):
        create_user(
            db_session, username="alice", password="correct-horse-42",
            role="institution_staff", institution_name="不存在大学",
        )  # fmt: skip
    assert db_session.scalar(select(Institution).where(Institution.name == "不存在大学")) is None
