"""The challenge, application and milestone state machines as data (see shuanglian.workflow).

Who may act is part of each row: the posting enterprise's users (or an admin) move the
challenge; the scheduled `tick` (actor None, the system) closes applications and expires
challenges at their deadlines; a team's own applicant (or its institution's staff) submits
milestones. Pass and fail are never clicked: recording a verification computes them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.db import session_settings
from shuanglian.errors import PermissionDenied
from shuanglian.workflow import Machine, Transition

STATES = {
    "draft": ("草稿", "Draft"),
    "published": ("征集中", "Open for applications"),
    "applications_closed": ("报名截止", "Applications closed"),
    "in_progress": ("攻关中", "In progress"),
    "verifying": ("验题中", "Verifying"),
    "verified": ("验题通过", "Verified"),
    "failed": ("验题未通过", "Verification failed"),
    "withdrawn": ("已撤回", "Withdrawn"),
    "expired": ("已过期", "Expired"),
}
# States a visitor may see in the public list (drafts stay with their enterprise).
PUBLIC_STATES = tuple(s for s in STATES if s != "draft")
# A challenge whose work is under way: milestones, messages and verification happen here.
ACTIVE_STATES = ("in_progress", "verifying", "failed")


def _owner(session: Session, actor: Any, obj: Any) -> None:
    """The posting enterprise's users, or an admin."""
    perm.require_enterprise(actor, obj.enterprise_id)


def _publisher(session: Session, actor: Any, obj: Any) -> None:
    """The owner publishes, unless the platform asks an admin to approve every challenge."""
    _owner(session, actor, obj)
    settings = session_settings(session)
    if settings is not None and settings.challenge_approval and actor.role != perm.ADMIN:
        raise PermissionDenied(
            "本平台的榜单须由管理员审核后发布 (an administrator must approve and publish)"
        )


def _system(session: Session, actor: Any, obj: Any) -> None:
    """Deadlines move challenges on their own (actor None); an admin may do it by hand."""
    if actor is not None and getattr(actor, "role", None) != perm.ADMIN:
        raise PermissionDenied("只能由系统按截止日期执行 (done by the system at the deadline)")


def _nobody_by_hand(session: Session, actor: Any, obj: Any) -> None:
    """Pass/fail follow from the measurements; the verification service takes these steps."""
    _owner(session, actor, obj)


CHALLENGE_MACHINE = Machine(
    name="challenge",
    states=STATES,
    transitions=(
        Transition("publish", ("draft",), "published", "发布", "Publish", _publisher),
        Transition(
            "close",
            ("published",),
            "applications_closed",
            "截止报名",
            "Close applications",
            _owner,
        ),
        Transition(
            "start",
            ("published", "applications_closed"),
            "in_progress",
            "开始攻关",
            "Start work",
            _owner,
        ),
        Transition(
            "begin_verification",
            ("in_progress",),
            "verifying",
            "开始验题",
            "Begin verification",
            _owner,
        ),
        Transition("pass", ("verifying",), "verified", "验题通过", "Pass", _nobody_by_hand),
        Transition("fail", ("verifying",), "failed", "验题未通过", "Fail", _nobody_by_hand),
        Transition("rerun", ("failed",), "verifying", "重新验题", "Re-run verification", _owner),
        Transition(
            "withdraw",
            ("draft", "published", "applications_closed", "in_progress"),
            "withdrawn",
            "撤回",
            "Withdraw",
            _owner,
            required=("reason",),
        ),
        Transition(
            "expire",
            ("published", "applications_closed", "in_progress"),
            "expired",
            "过期",
            "Expire",
            _system,
        ),
        Transition(
            "system_close",
            ("published",),
            "applications_closed",
            "到期截止报名",
            "Close at deadline",
            _system,
        ),
    ),
    field_labels={"reason": "原因 (reason)"},
)
# Actions a person takes with a button; the rest are taken by services and the tick.
MANUAL_ACTIONS = ("publish", "close", "start", "begin_verification", "rerun", "withdraw")

APPLICATION_STATES = {
    "submitted": ("已提交", "Submitted"),
    "shortlisted": ("入围", "Shortlisted"),
    "accepted": ("已选中", "Accepted"),
    "rejected": ("未选中", "Rejected"),
    "withdrawn": ("已撤回", "Withdrawn"),
}


def _challenge_owner(session: Session, actor: Any, app: Any) -> None:
    perm.require_enterprise(actor, app.challenge.enterprise_id)


def is_team_party(session: Session, actor: Any, app: Any) -> bool:
    """The applicant themself, or staff of the institution the team belongs to."""
    if actor is None or not actor.is_active:
        return False
    if app.applicant_id is not None and actor.id == app.applicant_id:
        return True
    return (
        actor.role == perm.INSTITUTION_STAFF
        and app.institution_id is not None
        and actor.institution_id == app.institution_id
    )


def _team(session: Session, actor: Any, app: Any) -> None:
    if not is_team_party(session, actor, app):
        raise PermissionDenied("只有申请团队可以执行此操作 (only the applying team may do this)")


APPLICATION_MACHINE = Machine(
    name="challenge_application",
    states=APPLICATION_STATES,
    transitions=(
        Transition(
            "shortlist", ("submitted",), "shortlisted", "入围", "Shortlist", _challenge_owner
        ),
        Transition(
            "accept",
            ("submitted", "shortlisted"),
            "accepted",
            "选中",
            "Accept",
            _challenge_owner,
        ),
        Transition(
            "reject",
            ("submitted", "shortlisted"),
            "rejected",
            "不予选中",
            "Reject",
            _challenge_owner,
            required=("reason",),
        ),
        Transition(
            "withdraw", ("submitted", "shortlisted"), "withdrawn", "撤回申请", "Withdraw", _team
        ),
    ),
    field_labels={"reason": "原因 (reason)"},
)

MILESTONE_STATES = {
    "planned": ("计划中", "Planned"),
    "submitted": ("已提交", "Submitted"),
    "accepted": ("已验收", "Accepted"),
    "returned": ("已退回", "Returned"),
}


def _milestone_team(session: Session, actor: Any, ms: Any) -> None:
    from shuanglian.challenges.models import Application

    app = session.get(Application, ms.application_id)
    _team(session, actor, app)


def _milestone_owner(session: Session, actor: Any, ms: Any) -> None:
    from shuanglian.challenges.models import Application, Challenge

    enterprise_id = session.scalar(
        select(Challenge.enterprise_id)
        .join(Application, Application.challenge_id == Challenge.id)
        .where(Application.id == ms.application_id)
    )
    perm.require_enterprise(actor, enterprise_id)


MILESTONE_MACHINE = Machine(
    name="challenge_milestone",
    states=MILESTONE_STATES,
    transitions=(
        Transition(
            "submit",
            ("planned", "returned"),
            "submitted",
            "提交成果",
            "Submit",
            _milestone_team,
            required=("note",),
        ),
        Transition("accept", ("submitted",), "accepted", "验收通过", "Accept", _milestone_owner),
        Transition(
            "return",
            ("submitted",),
            "returned",
            "退回修改",
            "Return",
            _milestone_owner,
            required=("reason",),
        ),
    ),
    field_labels={"reason": "原因 (reason)", "note": "成果说明 (note)"},
)
