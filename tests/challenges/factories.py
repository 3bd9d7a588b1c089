"""Small builders for challenge tests: a challenge with indicators, an application."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.challenges import service
from shuanglian.challenges.models import Application, Challenge
from shuanglian.challenges.schemas import (
    ApplicationIn,
    ChallengeIn,
    IndicatorIn,
    MemberIn,
    MilestoneIn,
)

TODAY = date.today()


def challenge_input(**kw: Any) -> ChallengeIn:
    values: dict[str, Any] = {
        "title": "废旧锂电池正极材料高效回收",
        "summary": "寻求钴锂回收率高、能耗低的湿法回收工艺",
        "problem": "现有湿法回收工艺中钴和锂的回收率偏低，酸耗和能耗高，需要新的浸出与萃取工艺。",
        "industry": "42",
        "region": "江苏苏州",
        "budget": Decimal("200"),
        "payment_terms": "按里程碑付款",
        "application_deadline": TODAY + timedelta(days=30),
        "delivery_deadline": TODAY + timedelta(days=200),
        "indicators": [
            IndicatorIn(
                name="钴回收率",
                unit="%",
                comparison=">=",
                target=Decimal("98"),
                method="产线连续运行 72 小时取样化验",
            ),
            IndicatorIn(
                name="吨处理能耗",
                unit="kWh/t",
                comparison="<=",
                target=Decimal("350"),
                method="电表计量",
            ),
        ],
    }
    values.update(kw)
    return ChallengeIn(**values)


def make_challenge(session: Session, owner: User, **kw: Any) -> Challenge:
    return service.create_challenge(session, actor=owner, data=challenge_input(**kw))


def application_input(**kw: Any) -> ApplicationIn:
    values: dict[str, Any] = {
        "team_name": "湿法冶金课题组",
        "members": [MemberIn(name="张伟", role="负责人"), MemberIn(name="李娜", role="工艺")],
        "approach": "选择性浸出 + 协同萃取，先小试后中试。",
        "price": Decimal("180"),
        "duration_days": 150,
        "milestones": [
            MilestoneIn(
                title="小试工艺包",
                deliverable="小试报告",
                due_on=TODAY + timedelta(days=60),
                amount=Decimal("60"),
            ),
            MilestoneIn(
                title="产线改造与试运行",
                deliverable="试运行报告",
                due_on=TODAY + timedelta(days=150),
                amount=Decimal("120"),
            ),
        ],
    }
    values.update(kw)
    return ApplicationIn(**values)


def apply(session: Session, user: User, challenge: Challenge, **kw: Any) -> Application:
    return service.apply_to_challenge(
        session, actor=user, challenge_id=challenge.id, data=application_input(**kw)
    )


def verified_challenge(
    session: Session, owner: User, solver: User, *, patent_ids: list[int] | None = None
) -> tuple[Challenge, Application]:
    """A challenge taken through every step to `verified` with `solver`'s team accepted."""
    from shuanglian.challenges.schemas import MeasurementIn

    ch = make_challenge(session, owner)
    service.act_on_challenge(session, actor=owner, challenge_id=ch.id, action="publish")
    app = apply(session, solver, ch, patent_ids=patent_ids or [])
    service.decide_application(session, actor=owner, application_id=app.id, action="accept")
    service.act_on_challenge(session, actor=owner, challenge_id=ch.id, action="start")
    for m in app.milestones:
        service.act_on_milestone(
            session, actor=solver, milestone_id=m.id, action="submit", note="交付物已提交"
        )
        service.act_on_milestone(session, actor=owner, milestone_id=m.id, action="accept")
    service.act_on_challenge(session, actor=owner, challenge_id=ch.id, action="begin_verification")
    measured = [
        MeasurementIn(
            indicator_id=ind.id,
            value=value,
            measured_on=TODAY,
            place="苏州工厂二号产线",
            verifier="王工",
        )
        for ind, value in zip(ch.indicators, (Decimal("99"), Decimal("300")), strict=True)
    ]
    service.record_verification(
        session, actor=owner, challenge_id=ch.id, measurements=measured, application_id=app.id
    )
    assert ch.status == "verified"
    return ch, app
