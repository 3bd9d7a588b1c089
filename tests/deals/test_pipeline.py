"""Deal stages: every transition allowed from its sources and refused from every other stage,
the refusal naming what is allowed; timeline, next actions, reminders, documents."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shuanglian.audit import AuditEntry
from shuanglian.deals import pipeline
from shuanglian.deals.contracts import create_contract
from shuanglian.deals.models import DealActivity
from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.notifications import Notification
from shuanglian.supermarket.service import today_in_china
from tests.deals.helpers import build_world, contract_data, open_deal

EXTRA = {"start_pilot": {"pilot_booking_ref": "ZS-2025-001"}, "close": {"reason": "price"}}
TRANSITIONS = [(t.action, s) for t in pipeline.DEAL_MACHINE.transitions for s in pipeline.STAGES]


@pytest.mark.parametrize(("action", "stage"), TRANSITIONS)
def test_each_transition_from_each_stage(db_session, action: str, stage: str) -> None:
    w = build_world(db_session)
    deal = open_deal(db_session, w, manager_id=w.manager.id)
    deal.stage = stage
    deal.stage_changed_on = today_in_china() - timedelta(days=3)
    create_contract(
        db_session,
        actor=w.staff,
        data=contract_data(w, "transfer", "patent_right", deal_id=deal.id),
    )
    t = pipeline.DEAL_MACHINE.transition(action)
    assert t is not None
    if stage in t.sources:
        pipeline.move_deal(
            db_session,
            actor=w.manager_user,
            deal_id=deal.id,
            action=action,
            note="步骤说明",
            **EXTRA.get(action, {}),
        )
        assert deal.stage == t.target
        step = db_session.scalars(
            select(DealActivity).where(
                DealActivity.deal_id == deal.id, DealActivity.kind == "stage"
            )
        ).one()
        assert (step.from_stage, step.to_stage, step.actor_id) == (
            stage,
            t.target,
            w.manager_user.id,
        )
        assert step.on == today_in_china()
        audit = db_session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == f"deal.{action}", AuditEntry.subject_id == deal.id
            )
        ).one()
        assert audit.detail["from"] == stage and audit.detail["to"] == t.target
    else:
        with pytest.raises(DomainError) as err:
            pipeline.move_deal(
                db_session,
                actor=w.manager_user,
                deal_id=deal.id,
                action=action,
                **EXTRA.get(action, {}),
            )
        assert pipeline.STAGES[stage][0] in err.value.message
        assert deal.stage == stage


def test_required_fields_and_rules_of_steps(db_session) -> None:
    w = build_world(db_session)
    deal = open_deal(db_session, w)
    for action in ("sign_nda", "start_due_diligence", "negotiate"):
        pipeline.move_deal(db_session, actor=w.staff, deal_id=deal.id, action=action)
    with pytest.raises(DomainError, match="先录入合同"):
        pipeline.move_deal(db_session, actor=w.staff, deal_id=deal.id, action="sign")
    with pytest.raises(DomainError) as err:
        pipeline.move_deal(db_session, actor=w.staff, deal_id=deal.id, action="close")
    assert err.value.field == "reason"
    with pytest.raises(DomainError) as err:
        pipeline.move_deal(
            db_session, actor=w.staff, deal_id=deal.id, action="close", reason="bored"
        )
    assert err.value.field == "reason"
    with pytest.raises(DomainError) as err:
        pipeline.move_deal(
            db_session,
            actor=w.staff,
            deal_id=deal.id,
            action="close",
            reason="price",
            on=today_in_china() + timedelta(days=1),
        )
    assert err.value.field == "on"
    pipeline.move_deal(
        db_session,
        actor=w.staff,
        deal_id=deal.id,
        action="close",
        reason="price",
        note="报价差距 30%",
    )
    assert (deal.stage, deal.closed_reason, deal.closed_note) == ("closed", "price", "报价差距 30%")


def test_who_may_move_and_see_a_deal(db_session) -> None:
    from tests.web.factories import make_enterprise, make_institution, make_user

    w = build_world(db_session)
    deal = open_deal(db_session, w)
    # Enterprise users see the deal but do not move it; the unassigned manager does not see it.
    assert pipeline.timeline(db_session, actor=w.ent_user, deal_id=deal.id)
    with pytest.raises(PermissionDenied):
        pipeline.move_deal(db_session, actor=w.ent_user, deal_id=deal.id, action="sign_nda")
    outsiders = [
        w.manager_user,
        make_user(db_session, "institution_staff", institution_id=make_institution(db_session).id),
        make_user(db_session, "enterprise_user", enterprise_id=make_enterprise(db_session).id),
        make_user(db_session, "pilot_platform"),
    ]
    for user in outsiders:
        with pytest.raises(NotFound):
            pipeline.timeline(db_session, actor=user, deal_id=deal.id)
        with pytest.raises(NotFound):
            pipeline.move_deal(db_session, actor=user, deal_id=deal.id, action="sign_nda")
    with pytest.raises(PermissionDenied):
        pipeline.assign_manager(
            db_session, actor=w.ent_user, deal_id=deal.id, manager_id=w.manager.id
        )
    pipeline.assign_manager(db_session, actor=w.staff, deal_id=deal.id, manager_id=w.manager.id)
    pipeline.move_deal(db_session, actor=w.manager_user, deal_id=deal.id, action="sign_nda")
    assert deal.stage == "nda"
    mine, total = pipeline.list_deals(db_session, actor=w.manager_user)
    assert total == 1 and mine[0].id == deal.id
    assert pipeline.list_deals(db_session, actor=outsiders[1])[1] == 0


def test_deal_sources_are_checked(db_session) -> None:
    w = build_world(db_session, intent="无")
    with pytest.raises(DomainError) as err:
        open_deal(db_session, w)
    assert err.value.field == "push_id"
    with pytest.raises(DomainError) as err:
        open_deal(db_session, w, source="inquiry")
    assert err.value.field == "inquiry_id"
    with pytest.raises(DomainError) as err:
        open_deal(db_session, w, source="challenge", push_id=None, challenge_id=77)
    assert err.value.field == "challenge_id"
    from tests.challenges.factories import make_challenge

    ch = make_challenge(db_session, w.ent_user)
    deal = open_deal(db_session, w, source="challenge", push_id=None, challenge_id=ch.id)
    assert deal.challenge_id == ch.id and deal.items[0].patent_id == w.patent.id


def test_prefill_from_push_and_inquiry(db_session) -> None:
    from shuanglian.supermarket.service import submit_inquiry

    w = build_world(db_session)
    form = pipeline.prefill_deal(db_session, actor=w.staff, push_id=w.push.id)
    assert form["enterprise_id"] == w.ent.id and form["patent_ids"] == [w.patent.id]
    assert form["source"] == "push" and "作价入股" in form["note"]
    deal = pipeline.create_deal(db_session, actor=w.staff, data=form)
    assert deal.source == "push" and deal.push_id == w.push.id
    inquiry = submit_inquiry(
        db_session,
        listing_id=w.listing.id,
        name="赵工",
        organisation=w.ent.name,
        email="z@example.com",
        message="想了解许可条件",
    )
    form = pipeline.prefill_deal(db_session, actor=w.staff, inquiry_id=inquiry.id)
    assert form["enterprise_id"] == w.ent.id and form["listing_id"] == w.listing.id
    # Someone else's push or inquiry reads as one that does not exist: no title, no message.
    for kw, missing in (
        ({"push_id": w.push.id}, {"push_id": 2_000_000_000}),
        ({"inquiry_id": inquiry.id}, {"inquiry_id": 2_000_000_000}),
    ):
        with pytest.raises(NotFound) as theirs:
            pipeline.prefill_deal(db_session, actor=w.manager_user, **kw)
        with pytest.raises(NotFound) as nothing:
            pipeline.prefill_deal(db_session, actor=w.manager_user, **missing)
        assert theirs.value.message == nothing.value.message
    deal = pipeline.create_deal(db_session, actor=w.staff, data=form)
    assert deal.inquiry_id == inquiry.id and [i.patent_id for i in deal.items] == [w.patent.id]


def test_next_actions_board_and_idempotent_reminders(db_session) -> None:
    w = build_world(db_session)
    late = open_deal(db_session, w, manager_id=w.manager.id, title="逾期项目")
    soon = open_deal(db_session, w, manager_id=w.manager.id, title="正常项目")
    today = today_in_china()
    pipeline.add_next_action(
        db_session,
        actor=w.staff,
        deal_id=soon.id,
        title="发送报价",
        due_on=today + timedelta(days=5),
    )
    overdue = pipeline.add_next_action(
        db_session,
        actor=w.staff,
        deal_id=late.id,
        title="催签保密协议",
        due_on=today - timedelta(days=2),
    )
    assert overdue.assignee_id == w.manager_user.id
    board = pipeline.manager_board(db_session, actor=w.manager_user)
    assert [c.deal.id for c in board.overdue] == [late.id]
    contact = dict(board.columns)["contact"]
    assert [c.deal.id for c in contact] == [late.id, soon.id]
    with pytest.raises(PermissionDenied):
        pipeline.manager_board(db_session, actor=w.staff, manager_id=w.manager.id)

    def reminders() -> int:
        return len(
            db_session.scalars(
                select(Notification).where(
                    Notification.user_id == w.manager_user.id, Notification.kind == "deal.reminder"
                )
            ).all()
        )

    assert pipeline.remind_due_actions(db_session, today=today)["reminded"] == 1
    assert pipeline.remind_due_actions(db_session, today=today)["reminded"] == 0
    assert reminders() == 1
    reminder = db_session.scalars(
        select(Notification).where(Notification.kind == "deal.reminder")
    ).one()
    assert (reminder.title, reminder.title_en) == (
        "待办已逾期 2 天：催签保密协议",
        "To-do overdue by 2 days: 催签保密协议",
    )
    assert reminder.body_en == f"Deal: 逾期项目 (due {overdue.due_on.isoformat()})"
    assert pipeline.remind_due_actions(db_session, today=today + timedelta(days=1))["reminded"] == 1
    pipeline.complete_next_action(
        db_session, actor=w.manager_user, deal_id=late.id, action_id=overdue.id
    )
    assert pipeline.remind_due_actions(db_session, today=today + timedelta(days=2))["reminded"] == 0
    assert reminders() == 2


def test_documents_type_and_size(db_session) -> None:
    from shuanglian.deals.schemas import MAX_DOCUMENT_BYTES

    w = build_world(db_session)
    deal = open_deal(db_session, w)
    doc = pipeline.add_document(
        db_session,
        actor=w.ent_user,
        deal_id=deal.id,
        kind="nda",
        filename="保密协议.pdf",
        content=b"%PDF-1.4 test",
    )
    assert doc.size == 13 and doc.content_type == "application/pdf"
    cases = [
        ("x.exe", b"MZ..", "only"),
        ("x.pdf", b"MZ..", "content"),
        ("x.pdf", b"", "empty"),
        ("x.pdf", b"%PDF-" + b"0" * MAX_DOCUMENT_BYTES, "too large"),
    ]
    for name, content, words in cases:
        with pytest.raises(DomainError) as err:
            pipeline.add_document(
                db_session,
                actor=w.staff,
                deal_id=deal.id,
                kind="nda",
                filename=name,
                content=content,
            )
        assert err.value.field == "file" and words in err.value.message
    got = pipeline.get_document(db_session, actor=w.staff, deal_id=deal.id, document_id=doc.id)
    assert got.content == b"%PDF-1.4 test"
    with pytest.raises(NotFound):
        pipeline.get_document(db_session, actor=w.manager_user, deal_id=deal.id, document_id=doc.id)
    assert date.today()  # the module imports date for typing of other tests
