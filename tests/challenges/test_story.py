"""The whole story of a challenge, through the services, on both databases: post with two
indicators → routed by the engine → two teams apply → one accepted → two milestones →
verification passes one indicator and fails the other → re-run passes → the report PDF."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.audit import AuditEntry
from shuanglian.challenges import service
from shuanglian.challenges.report import verification_report_pdf
from shuanglian.challenges.schemas import MeasurementIn
from shuanglian.config import Settings
from shuanglian.errors import DomainError, NotFound
from shuanglian.matching.service import build_index
from shuanglian.notifications import Notification
from tests.challenges.factories import TODAY, apply, make_challenge
from tests.notices import english_notices
from tests.web.factories import make_enterprise, make_institution, make_patent, make_user, pool


@pytest.fixture
def routed_settings(db_settings: Settings, db_session: Session, tmp_path: Path) -> Settings:
    settings = db_settings.model_copy(update={"home": tmp_path / "home"})
    db_session.info["settings"] = settings
    return settings


def _measure(ch, values: list[str]) -> list[MeasurementIn]:
    return [
        MeasurementIn(
            indicator_id=ind.id,
            value=Decimal(v),
            measured_on=TODAY,
            place="苏州工厂二号产线",
            verifier="王工",
        )
        for ind, v in zip(ch.indicators, values, strict=True)
    ]


def test_whole_story(db_session: Session, routed_settings: Settings) -> None:
    s = db_session
    ent = make_enterprise(s, name="苏州新能源材料有限公司")
    owner = make_user(s, "enterprise_user", enterprise_id=ent.id, email="owner@example.com")
    inst_a, inst_b = make_institution(s), make_institution(s)
    staff_a = make_user(s, "institution_staff", institution_id=inst_a.id, email="a@example.com")
    manager = make_user(s, "tech_manager")
    outsider = make_user(s, "institution_staff", institution_id=inst_b.id)
    p1 = make_patent(
        s,
        inst_a,
        title="一种废旧锂电池正极材料中钴和锂的湿法回收方法",
        abstract="选择性浸出与萃取回收钴锂，回收率高，能耗低。",
        inventors=["张伟", "李娜"],
    )
    make_patent(s, inst_b, title="一种高强度混凝土外加剂", abstract="混凝土减水剂。")
    pool(s, p1)
    build_index(s, settings=routed_settings)

    # 出题: a draft with two indicators, then publish → routed.
    ch = make_challenge(s, owner)
    assert [i.name for i in ch.indicators] == ["钴回收率", "吨处理能耗"]
    service.act_on_challenge(s, actor=owner, challenge_id=ch.id, action="publish")
    assert ch.status == "published" and ch.published_at is not None
    sugg = service.list_suggestions(s, actor=owner, challenge_id=ch.id)
    kinds = {(x.kind, x.ref_id) for x in sugg}
    assert ("patent", p1.id) in kinds and ("institution", inst_a.id) in kinds
    inst_row = next(x for x in sugg if x.kind == "institution" and x.ref_id == inst_a.id)
    assert "张伟" in inst_row.explanation and inst_row.notified == 1
    routed = s.scalars(
        select(Notification).where(
            Notification.user_id == staff_a.id, Notification.kind == "challenge.routed"
        )
    ).all()
    assert len(routed) == 1 and routed[0].link == f"/challenges/{ch.id}"

    # 领题: two teams apply; the enterprise accepts one and rejects the other with a reason.
    app_a = apply(s, staff_a, ch, patent_ids=[p1.id])
    app_m = apply(s, manager, ch, team_name="独立顾问团队", price=Decimal("150"))
    assert [a.id for a in service.list_applications(s, actor=owner, challenge_id=ch.id)] == [
        app_a.id,
        app_m.id,
    ]
    # Teams see only their own application; an outsider sees none and cannot open one.
    assert service.list_applications(s, actor=manager, challenge_id=ch.id) == [app_m]
    assert service.list_applications(s, actor=outsider, challenge_id=ch.id) == []
    with pytest.raises(NotFound):
        service.get_application(s, application_id=app_a.id, actor=manager)
    service.decide_application(s, actor=owner, application_id=app_a.id, action="shortlist")
    service.decide_application(s, actor=owner, application_id=app_a.id, action="accept")
    with pytest.raises(DomainError, match="原因"):
        service.decide_application(s, actor=owner, application_id=app_m.id, action="reject")
    service.decide_application(
        s, actor=owner, application_id=app_m.id, action="reject", reason="报价高于预算的技术路线"
    )
    assert (app_a.status, app_m.status, app_m.reject_reason) == (
        "accepted",
        "rejected",
        "报价高于预算的技术路线",
    )

    # 答题: start, two milestones submitted, one returned and resubmitted, both accepted, paid.
    service.act_on_challenge(s, actor=owner, challenge_id=ch.id, action="start")
    m1, m2 = app_a.milestones
    service.act_on_milestone(
        s, actor=staff_a, milestone_id=m1.id, action="submit", note="小试报告见附件"
    )
    service.act_on_milestone(
        s, actor=owner, milestone_id=m1.id, action="return", reason="缺少能耗数据"
    )
    assert m1.status == "returned" and m1.return_reason == "缺少能耗数据"
    service.act_on_milestone(s, actor=staff_a, milestone_id=m1.id, action="submit", note="已补充")
    service.act_on_milestone(s, actor=owner, milestone_id=m1.id, action="accept")
    service.record_payment(s, actor=owner, milestone_id=m1.id, amount=Decimal("60"), paid_on=TODAY)
    service.act_on_milestone(
        s, actor=staff_a, milestone_id=m2.id, action="submit", note="试运行完成"
    )
    service.act_on_milestone(s, actor=owner, milestone_id=m2.id, action="accept")
    assert (m1.status, m1.paid_amount, m2.status) == ("accepted", Decimal("60"), "accepted")
    service.post_message(s, actor=owner, application_id=app_a.id, body="下周安排产线验证")
    service.post_message(s, actor=staff_a, application_id=app_a.id, body="收到")
    assert [m.body for m in service.list_messages(s, actor=staff_a, application_id=app_a.id)] == [
        "下周安排产线验证",
        "收到",
    ]
    with pytest.raises(NotFound):
        service.list_messages(s, actor=manager, application_id=app_a.id)

    # 验题: run 1 passes the recovery rate and fails the energy → failed; re-run passes.
    service.act_on_challenge(s, actor=owner, challenge_id=ch.id, action="begin_verification")
    run1 = service.record_verification(
        s,
        actor=owner,
        challenge_id=ch.id,
        measurements=_measure(ch, ["98.6", "362.5"]),
        application_id=app_a.id,
    )
    assert [m.passed for m in run1.measurements] == [True, False]
    assert run1.verdict == "failed" and ch.status == "failed"
    evidence = service.attach_file(
        s,
        actor=owner,
        scope="measurement",
        ref_id=run1.measurements[1].id,
        filename="电表读数.csv",
        data="时间,读数\n1,362.5\n".encode(),
    )
    assert service.readable_attachment(s, actor=staff_a, attachment_id=evidence.id) is evidence
    with pytest.raises(NotFound):
        service.readable_attachment(s, actor=manager, attachment_id=evidence.id)
    service.act_on_challenge(s, actor=owner, challenge_id=ch.id, action="rerun")
    run2 = service.record_verification(
        s,
        actor=owner,
        challenge_id=ch.id,
        measurements=_measure(ch, ["98.9", "341.2"]),
        application_id=app_a.id,
    )
    assert (run2.run, run2.verdict, ch.status) == (2, "passed", "verified")

    pdf = verification_report_pdf(s, actor=staff_a, challenge_id=ch.id)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("98.6", "362.5", "98.9", "341.2", "钴回收率", "吨处理能耗"):
        assert expected in text
    with pytest.raises(NotFound):
        verification_report_pdf(s, actor=manager, challenge_id=ch.id)

    actions = s.scalars(
        select(AuditEntry.action).where(
            AuditEntry.subject_type == "challenges", AuditEntry.subject_id == ch.id
        )
    ).all()
    for action in (
        "challenge.publish",
        "challenge.route",
        "challenge.start",
        "challenge.fail",
        "challenge.rerun",
        "challenge.pass",
    ):
        assert action in actions

    # Every step's notification reads in English too; typed names and titles stay as typed.
    typed = (ch.title, app_a.team_name, app_m.team_name, m1.title, m2.title)
    notices = english_notices(s, data=typed)
    assert {
        "challenge.routed",
        "challenge.application",
        "challenge.application.accept",
        "challenge.application.reject",
        "challenge.start",
        "challenge.milestone.return",
        "challenge.milestone.pay",
        "challenge.message",
    } <= set(notices)
    assert (
        notices["challenge.milestone.pay"].title_en == f"Milestone “{m1.title}” paid: 60 × 10k CNY"
    )
    assert notices["challenge.application.reject"].body_en == "报价高于预算的技术路线"
    routed = notices["challenge.routed"].body_en or ""
    assert routed.startswith("Budget 200 × 10k CNY, applications close ") and "张伟" in routed


def test_publish_without_index_still_publishes(db_session: Session, routed_settings: Settings):
    ent = make_enterprise(db_session)
    owner = make_user(db_session, "enterprise_user", enterprise_id=ent.id)
    ch = make_challenge(db_session, owner)
    service.act_on_challenge(db_session, actor=owner, challenge_id=ch.id, action="publish")
    assert ch.status == "published"
    assert service.list_suggestions(db_session, actor=owner, challenge_id=ch.id) == []


def test_rerun_refused_after_the_delivery_window(db_session: Session) -> None:
    ent = make_enterprise(db_session)
    owner = make_user(db_session, "enterprise_user", enterprise_id=ent.id)
    ch = make_challenge(db_session, owner)
    ch.status = "failed"
    with pytest.raises(DomainError, match="交付期限"):
        service.act_on_challenge(
            db_session,
            actor=owner,
            challenge_id=ch.id,
            action="rerun",
            today=ch.delivery_deadline + timedelta(days=1),
        )
    assert ch.status == "failed"
