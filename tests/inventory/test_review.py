"""Every review transition and permission, and the audit trail each leaves."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shuanglian.audit import audit_trail
from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.inventory.models import InventoryItem, PoolEntry
from shuanglian.inventory.review import TRANSITIONS, allowed_actions, apply_transition, review_item
from shuanglian.inventory.schemas import SelfAssessmentIn
from shuanglian.inventory.service import (
    assign_college,
    batch_progress,
    item_for_patent,
    save_self_assessment,
)

FORM = SelfAssessmentIn(
    publicly_funded=True,
    implementation_status="未实施",
    transfer_mode="许可",
    trl=5,
    value_grade="高",
    value_reason="已有样机",
    scenarios="电力巡检、农业植保",
    industry_codes=["C37"],
    contact_name="王工",
    contact_email="wang@example.cn",
)


def _item(db_session, world, index=0, college=True):
    item = item_for_patent(db_session, patent_id=world.patents[index].id)
    if college:
        assign_college(
            db_session, actor=world.staff, item_ids=[item.id], college_id=world.college.id
        )
    return item


def test_full_path_college_then_institution_enters_pool(db_session, world):
    item = _item(db_session, world)
    save_self_assessment(db_session, actor=world.staff, item_id=item.id, data=FORM)
    assert item.status == "college_review"
    review_item(db_session, actor=world.college_reviewer, item_id=item.id, decision="approve")
    assert item.status == "institution_review"
    review_item(db_session, actor=world.institution_reviewer, item_id=item.id, decision="approve")
    assert item.status == "approved"
    entry = db_session.scalar(select(PoolEntry).where(PoolEntry.patent_id == item.patent_id))
    assert entry is not None and entry.active
    actions = [
        e.action
        for e in audit_trail(db_session, subject_type="inventory_items", subject_id=item.id)
    ]
    assert actions == [
        "item.assign_college",
        "review.submit",
        "review.college_approve",
        "review.institution_approve",
    ]
    last = audit_trail(db_session, subject_type="inventory_items", subject_id=item.id)[-1]
    assert last.detail["before"]["status"] == "institution_review"
    assert last.detail["after"]["status"] == "approved"
    assert last.actor_id == world.institution_reviewer.id


def test_item_without_college_goes_straight_to_institution_review(db_session, world):
    item = _item(db_session, world, college=False)
    save_self_assessment(db_session, actor=world.staff, item_id=item.id, data=FORM)
    assert item.status == "institution_review"


def test_approve_twice_is_refused(db_session, world):
    item = _item(db_session, world, college=False)
    save_self_assessment(db_session, actor=world.staff, item_id=item.id, data=FORM)
    review_item(db_session, actor=world.institution_reviewer, item_id=item.id, decision="approve")
    with pytest.raises(DomainError, match="不在审核阶段"):
        review_item(
            db_session, actor=world.institution_reviewer, item_id=item.id, decision="approve"
        )
    with pytest.raises(DomainError, match="不能执行“单位通过”"):
        apply_transition(
            db_session, actor=world.admin, item_id=item.id, action="institution_approve"
        )


def test_wrong_level_is_refused(db_session, world):
    item = _item(db_session, world)
    save_self_assessment(db_session, actor=world.staff, item_id=item.id, data=FORM)
    # The institution reviewer may not skip the college stage.
    with pytest.raises(PermissionDenied, match="院系审核人"):
        review_item(
            db_session, actor=world.institution_reviewer, item_id=item.id, decision="approve"
        )
    review_item(db_session, actor=world.college_reviewer, item_id=item.id, decision="approve")
    # And the college reviewer may not take the institution's decision.
    with pytest.raises(PermissionDenied, match="单位审核人"):
        review_item(db_session, actor=world.college_reviewer, item_id=item.id, decision="approve")
    # Plain staff hold no review level at all.
    with pytest.raises(PermissionDenied):
        review_item(db_session, actor=world.staff, item_id=item.id, decision="approve")


def test_return_then_resubmit_and_reject(db_session, world):
    item = _item(db_session, world)
    save_self_assessment(db_session, actor=world.staff, item_id=item.id, data=FORM)
    with pytest.raises(DomainError, match="需要填写意见"):
        review_item(db_session, actor=world.college_reviewer, item_id=item.id, decision="return")
    review_item(
        db_session,
        actor=world.college_reviewer,
        item_id=item.id,
        decision="return",
        comment="应用场景写得太笼统",
    )
    assert item.status == "returned" and item.last_comment == "应用场景写得太笼统"
    # Editing is allowed again after return, and saving resubmits.
    save_self_assessment(
        db_session,
        actor=world.staff,
        item_id=item.id,
        data=FORM.model_copy(update={"scenarios": "输电线路无人机巡检"}),
    )
    assert item.status == "college_review"
    # Editing while under review is not.
    with pytest.raises(DomainError, match="退回修改后才能更改"):
        save_self_assessment(db_session, actor=world.staff, item_id=item.id, data=FORM)
    review_item(
        db_session,
        actor=world.college_reviewer,
        item_id=item.id,
        decision="reject",
        comment="不具备转化条件",
    )
    assert item.status == "rejected"
    assert allowed_actions("rejected") == []
    with pytest.raises(DomainError):
        review_item(db_session, actor=world.college_reviewer, item_id=item.id, decision="approve")


def test_institution_level_return_and_reject(db_session, world):
    a = _item(db_session, world, 0, college=False)
    b = _item(db_session, world, 1, college=False)
    for item in (a, b):
        save_self_assessment(db_session, actor=world.staff, item_id=item.id, data=FORM)
    review_item(
        db_session,
        actor=world.institution_reviewer,
        item_id=a.id,
        decision="return",
        comment="补充联系人电话",
    )
    review_item(
        db_session,
        actor=world.institution_reviewer,
        item_id=b.id,
        decision="reject",
        comment="已失去新颖性",
    )
    assert (a.status, b.status) == ("returned", "rejected")


def test_withdraw_takes_patent_out_of_pool_with_reason(db_session, world):
    item = _item(db_session, world, college=False)
    save_self_assessment(db_session, actor=world.staff, item_id=item.id, data=FORM)
    review_item(db_session, actor=world.institution_reviewer, item_id=item.id, decision="approve")
    with pytest.raises(NotFound):  # another institution is not told the item exists
        apply_transition(
            db_session, actor=world.other_staff, item_id=item.id, action="withdraw", comment="x"
        )
    with pytest.raises(PermissionDenied):
        apply_transition(
            db_session, actor=world.staff, item_id=item.id, action="lapse", comment="x"
        )
    apply_transition(
        db_session, actor=world.staff, item_id=item.id, action="withdraw", comment="拟自行实施"
    )
    entry = db_session.scalar(select(PoolEntry).where(PoolEntry.patent_id == item.patent_id))
    assert not entry.active and "拟自行实施" in entry.leave_reason and entry.left_at


def test_other_institution_cannot_touch_items(db_session, world):
    item = _item(db_session, world, college=False)
    with pytest.raises(NotFound):
        save_self_assessment(db_session, actor=world.other_staff, item_id=item.id, data=FORM)
    with pytest.raises(PermissionDenied):
        batch_progress(db_session, actor=world.other_staff, batch_id=item.batch_id)


def test_submit_without_assessment_is_refused(db_session, world):
    item = _item(db_session, world, college=False)
    with pytest.raises(DomainError, match="请先完成自评"):
        apply_transition(db_session, actor=world.staff, item_id=item.id, action="submit")


def test_progress_counts(db_session, world):
    items = [_item(db_session, world, i, college=False) for i in range(3)]
    save_self_assessment(db_session, actor=world.staff, item_id=items[0].id, data=FORM)
    save_self_assessment(db_session, actor=world.staff, item_id=items[1].id, data=FORM)
    review_item(
        db_session, actor=world.institution_reviewer, item_id=items[0].id, decision="approve"
    )
    progress = batch_progress(db_session, actor=world.staff, batch_id=items[0].batch_id)
    assert progress["total"] == 10
    assert progress["self_assessed"] == 2
    assert progress["reviewed"] == 1 and progress["pooled"] == 1
    assert progress["by_status"] == {"draft": 8, "institution_review": 1, "approved": 1}


def test_transition_table_is_consistent():
    targets = {t.target for t in TRANSITIONS}
    sources = {s for t in TRANSITIONS for s in t.sources}
    assert {"approved", "rejected", "returned"} <= targets
    assert sources <= targets | {"draft"}
    assert len({t.action for t in TRANSITIONS}) == len(TRANSITIONS)


def test_items_are_inventoried_once(db_session, world):
    count = db_session.scalar(
        select(InventoryItem.id).where(InventoryItem.patent_id == world.patents[0].id)
    )
    assert count is not None


def test_college_restriction_limits_staff_to_their_college(db_session, world):
    """`User.college` limits staff to one college: another college's pooled patent is neither
    listed nor withdrawable for them (issue 10: "saw and withdrew another college's patent")."""
    from shuanglian.accounts.models import User
    from shuanglian.inventory.pool import list_pool as pool_entries
    from shuanglian.inventory.service import create_college, list_items

    item = _item(db_session, world)  # routed to world.college (智能感知学院)
    save_self_assessment(db_session, actor=world.staff, item_id=item.id, data=FORM)
    review_item(db_session, actor=world.college_reviewer, item_id=item.id, decision="approve")
    review_item(db_session, actor=world.institution_reviewer, item_id=item.id, decision="approve")
    create_college(
        db_session, actor=world.staff, institution_id=world.institution.id, name="化学院"
    )

    def staff(name: str, college: str) -> User:
        user = User(
            username=name,
            role="institution_staff",
            password_hash="x",
            institution_id=world.institution.id,
            college=college,
        )
        db_session.add(user)
        db_session.flush()
        return user

    chem, own = staff("chem", "化学院"), staff("own", world.college.name)
    assert item.id not in {i.id for i in list_items(db_session, actor=chem)}
    assert [i.id for i in list_items(db_session, actor=own)] == [item.id]
    assert item.patent_id not in {e.patent_id for e, _ in pool_entries(db_session, actor=chem)}
    assert item.patent_id in {e.patent_id for e, _ in pool_entries(db_session, actor=own)}
    with pytest.raises(NotFound):
        apply_transition(db_session, actor=chem, item_id=item.id, action="withdraw", comment="x")
    with pytest.raises(NotFound):
        save_self_assessment(db_session, actor=chem, item_id=item.id, data=FORM)
    assert item.status == "approved"
    apply_transition(db_session, actor=own, item_id=item.id, action="withdraw", comment="自行实施")
    assert item.status == "withdrawn"
