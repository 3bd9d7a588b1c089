"""Demo challenges at every state, from real enterprise demands (2020; 40 rows in demo/).

The lead's `demo seed` calls `seed_challenges_demo(session)` after the demo users exist. It
plays the people through the same services their clicks call, so the demo shows the real
state machine, audit log and notifications. The demands' titles and texts are real; the
indicators, budgets and measurements are illustrative and every challenge is marked `is_demo`.
Safe to run again: when demo challenges exist it does nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.challenges import service
from shuanglian.challenges.models import Challenge
from shuanglian.challenges.schemas import (
    ApplicationIn,
    ChallengeIn,
    IndicatorIn,
    MeasurementIn,
    MemberIn,
    MilestoneIn,
)
from shuanglian.challenges.states import CHALLENGE_MACHINE
from shuanglian.errors import DomainError
from shuanglian.figures import today_in_china
from shuanglian.workflow import apply_transition

# The first 40 lines of the 1,915-row 2020 demands sample, copied into the repository's demo/
# folder (provenance in demo/PROVENANCE.md) so the demo needs nothing outside the checkout.
DEMANDS_FILE = Path(__file__).resolve().parents[2] / "demo" / "cn_enterprise_demands_sample.jsonl"
# The state each demo challenge is brought to, in order.
TARGETS = (
    "draft",
    "published",
    "published",
    "applications_closed",
    "in_progress",
    "verifying",
    "verified",
    "failed",
    "withdrawn",
    "expired",
)


def read_demands(path: Path = DEMANDS_FILE, *, limit: int = len(TARGETS)) -> list[dict[str, str]]:
    """The first demands with a usable name and text (JSON lines: name, context, ...)."""
    out: list[dict[str, str]] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row.get("name") and len(row.get("context") or "") >= 30:
                out.append(row)
            if len(out) == limit:
                break
    return out


def _user(session: Session, role: str, *, preferred: str) -> User | None:
    user = session.scalar(select(User).where(User.username == preferred, User.role == role))
    return user or session.scalar(
        select(User).where(User.role == role, User.is_active.is_(True)).order_by(User.id).limit(1)
    )


def _input(row: dict[str, str], i: int) -> ChallengeIn:
    today = service.today_utc()
    text = row["context"].strip()
    return ChallengeIn(
        title=row["name"][:300],
        summary=text[:120],
        problem=text,
        budget=Decimal(50 + 30 * i),
        payment_terms="签约后付 30%，里程碑验收付 40%，产线验题通过后付 30%（演示数据）",
        application_deadline=today + timedelta(days=30 + i),
        delivery_deadline=today + timedelta(days=200 + i),
        visibility="nda" if i == 3 else "public",
        anonymous=i == 2,
        ip_terms="演示数据：成果归企业，团队保留非独占研究许可",
        licence_back=True,
        indicators=[
            IndicatorIn(
                name="良品率",
                unit="%",
                comparison=">=",
                target=Decimal(98),
                method="产线连续运行 72 小时统计（演示）",
            ),
            IndicatorIn(
                name="单位成本降幅",
                unit="%",
                comparison=">=",
                target=Decimal(15),
                method="与改造前同批次成本对比（演示）",
            ),
        ],
    )


def _application(i: int) -> ApplicationIn:
    today = service.today_utc()
    return ApplicationIn(
        team_name=f"联合攻关团队 {i + 1}（演示）",
        members=[MemberIn(name="张工", role="负责人"), MemberIn(name="李博士", role="工艺")],
        approach="调研现有工艺 → 小试验证 → 产线改造 → 72 小时试运行（演示数据）",
        price=Decimal(40 + 25 * i),
        duration_days=150,
        milestones=[
            MilestoneIn(
                title="小试方案与样件",
                deliverable="小试报告",
                due_on=today + timedelta(days=60),
                amount=Decimal(20),
            ),
            MilestoneIn(
                title="产线试运行",
                deliverable="试运行报告",
                due_on=today + timedelta(days=150),
                amount=Decimal(20 + 25 * i),
            ),
        ],
    )


def _measure(ch: Challenge, values: tuple[str, str]) -> list[MeasurementIn]:
    return [
        MeasurementIn(
            indicator_id=ind.id,
            value=Decimal(v),
            measured_on=service.today_utc(),
            place="企业一号产线（演示）",
            verifier="质检部（演示）",
        )
        for ind, v in zip(ch.indicators, values, strict=True)
    ]


def seed_challenges_demo(session: Session) -> dict[str, Any]:
    """Create one demo challenge per state (draft … expired) for the demo enterprise user."""
    if session.scalar(select(func.count()).where(Challenge.is_demo.is_(True))):
        return {"created": 0}
    owner = _user(session, perm.ENTERPRISE_USER, preferred="ent")
    staff = _user(session, perm.INSTITUTION_STAFF, preferred="tto")
    manager = _user(session, perm.TECH_MANAGER, preferred="manager")
    if owner is None or owner.enterprise_id is None or staff is None:
        raise DomainError(
            "演示榜单需要企业用户和机构工作人员，请先运行 `shuanglian demo seed` "
            "(demo challenges need the demo users)"
        )
    created: dict[str, int] = {}
    for i, (row, target) in enumerate(zip(read_demands(), TARGETS, strict=False)):
        ch = service.create_challenge(session, actor=owner, data=_input(row, i))
        ch.is_demo = True
        _bring_to(session, ch, target, owner=owner, staff=staff, manager=manager, i=i)
        created[target] = created.get(target, 0) + 1
    return {"created": sum(created.values()), "by_state": created}


def _bring_to(
    session: Session,
    ch: Challenge,
    target: str,
    *,
    owner: User,
    staff: User,
    manager: User | None,
    i: int,
) -> None:
    def act(action: str, reason: str | None = None) -> None:
        service.act_on_challenge(
            session, actor=owner, challenge_id=ch.id, action=action, reason=reason
        )

    if target == "draft":
        return
    if target == "withdrawn":
        act("withdraw", "需求调整，暂停发榜（演示）")
        return
    act("publish")
    if target == "published":
        return
    if ch.visibility == "nda":  # the teams read the details under the NDA first
        for team in (staff, manager):
            if team is not None:
                service.accept_nda(session, actor=team, challenge_id=ch.id)
    app = service.apply_to_challenge(session, actor=staff, challenge_id=ch.id, data=_application(i))
    if manager is not None:
        other = service.apply_to_challenge(
            session, actor=manager, challenge_id=ch.id, data=_application(i + 1)
        )
        service.decide_application(
            session,
            actor=owner,
            application_id=other.id,
            action="reject",
            reason="技术路线与产线条件不匹配（演示）",
        )
    if target == "applications_closed":
        act("close")
        return
    if target == "expired":
        # An expired challenge is one whose delivery window has passed: its dates say so, as
        # they would after `challenges tick` (posting refuses dates in the past, so they are
        # moved back here).
        today = today_in_china()
        ch.application_deadline = today - timedelta(days=60)
        ch.delivery_deadline = today - timedelta(days=1)
        apply_transition(session, machine=CHALLENGE_MACHINE, obj=ch, action="expire", actor=None)
        return
    service.decide_application(session, actor=owner, application_id=app.id, action="accept")
    act("start")
    first = app.milestones[0]
    service.act_on_milestone(
        session, actor=staff, milestone_id=first.id, action="submit", note="小试报告已上传（演示）"
    )
    service.act_on_milestone(session, actor=owner, milestone_id=first.id, action="accept")
    service.post_message(
        session, actor=owner, application_id=app.id, body="小试结果很好，请准备产线试运行。"
    )
    if target == "in_progress":
        return
    act("begin_verification")
    if target == "verifying":
        return
    values = ("98.7", "16.2") if target == "verified" else ("98.4", "11.0")
    service.record_verification(
        session,
        actor=owner,
        challenge_id=ch.id,
        measurements=_measure(ch, values),
        application_id=app.id,
    )
