"""Enterprise feedback (企业评价反馈) on pushed patents — only on what was pushed to them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import (
    ENTERPRISE_USER,
    can_manage_enterprise,
    require_institution,
    require_role,
)
from shuanglian.audit import record_audit, snapshot
from shuanglian.errors import DomainError, NotFound
from shuanglian.inventory.models import INTENTS, Feedback, Push
from shuanglian.inventory.schemas import FeedbackIn
from shuanglian.patents.models import Patent

__all__ = ["INTENTS", "feedback_by_push", "submit_feedback"]

SOURCES = ("api", "web", "excel")
# Feedback an enterprise gave by phone or on paper, typed in by the institution's staff.
RECORDED_CHANNELS: dict[str, tuple[str, str]] = {
    "phone": ("电话", "by phone"),
    "paper": ("纸质", "on paper"),
}
SOURCE_LABELS: dict[str, tuple[str, str]] = {
    "api": ("企业经接口提交", "by the enterprise (API)"),
    "web": ("企业在线提交", "by the enterprise (web)"),
    "excel": ("企业反馈表", "by the enterprise (workbook)"),
    **{
        k: (f"{zh}反馈，工作人员代录", f"{en}, recorded by staff")
        for k, (zh, en) in RECORDED_CHANNELS.items()
    },
}


# One refusal for "no such push", "pushed to someone else" and "never pushed to you": a
# different answer for each would tell any enterprise which patents went to its competitors.
PUSH_NOT_FOUND = "没有推送给本企业的这条记录 (no such push to your enterprise)"


def find_push(
    session: Session,
    *,
    push_id: int | None = None,
    patent_id: int | None = None,
    enterprise_id: int | None = None,
) -> Push:
    """The push a feedback refers to, by its id or by (patent, enterprise)."""
    if push_id is not None:
        push = session.get(Push, push_id)
        if push is None or (enterprise_id is not None and push.enterprise_id != enterprise_id):
            raise NotFound(PUSH_NOT_FOUND, field="push_id")
        return push
    if patent_id is None or enterprise_id is None:
        raise DomainError("请指定推送编号，或专利与企业 (push id or patent + enterprise)")
    push = session.scalar(
        select(Push).where(Push.patent_id == patent_id, Push.enterprise_id == enterprise_id)
    )
    if push is None:
        raise NotFound(PUSH_NOT_FOUND, field="patent_id")
    return push


def submit_feedback(
    session: Session,
    *,
    actor: User | None,
    data: FeedbackIn,
    push_id: int | None = None,
    patent_id: int | None = None,
    enterprise_id: int | None = None,
    source: str = "api",
) -> Feedback:
    """Record (or update) an enterprise's feedback on one pushed patent."""
    if source not in SOURCES:
        raise DomainError(f"来源须为 {'/'.join(SOURCES)} (source)", field="source")
    if actor is not None:
        require_role(actor, ENTERPRISE_USER)
        if enterprise_id is None and actor.enterprise_id is not None:
            enterprise_id = actor.enterprise_id
    push = find_push(session, push_id=push_id, patent_id=patent_id, enterprise_id=enterprise_id)
    if actor is not None and not can_manage_enterprise(actor, push.enterprise_id):
        raise NotFound(PUSH_NOT_FOUND, field="push_id" if push_id is not None else "patent_id")
    fb = session.scalar(select(Feedback).where(Feedback.push_id == push.id))
    before = snapshot(fb) if fb is not None else None
    if fb is None:
        fb = Feedback(push_id=push.id, patent_id=push.patent_id, enterprise_id=push.enterprise_id)
        session.add(fb)
    fb.prospect = data.prospect
    fb.improvement_needs = data.improvement_needs or None
    fb.intent = data.intent
    fb.source = source
    fb.submitted_by_id = actor.id if actor is not None else None
    record_audit(
        session,
        actor=actor,
        action="feedback.submit",
        subject=fb,
        detail={"before": before, "after": snapshot(fb)},
        # The patent's institution sees the market's answer in its own audit view.
        institution_id=session.scalar(
            select(Patent.institution_id).where(Patent.id == push.patent_id)
        ),
    )
    return fb


def record_feedback_for_enterprise(
    session: Session, *, actor: User, push_id: int, data: FeedbackIn, channel: str
) -> Feedback:
    """Staff type in feedback an enterprise gave by phone or on paper, signed as theirs.

    Only the pushed patent's own institution may do this, and never over feedback the
    enterprise submitted itself: its own words stay its own.
    """
    if channel not in RECORDED_CHANNELS:
        raise DomainError("请选择反馈方式：电话或纸质 (channel: phone or paper)", field="channel")
    push = find_push(session, push_id=push_id)
    institution_id = session.scalar(
        select(Patent.institution_id).where(Patent.id == push.patent_id)
    )
    require_institution(actor, institution_id)
    fb = session.scalar(select(Feedback).where(Feedback.push_id == push.id))
    if fb is not None and fb.source not in RECORDED_CHANNELS:
        raise DomainError(
            "企业已自行提交反馈，不能代为修改 (the enterprise submitted this feedback itself)",
            field="intent",
        )
    before = snapshot(fb) if fb is not None else None
    if fb is None:
        fb = Feedback(push_id=push.id, patent_id=push.patent_id, enterprise_id=push.enterprise_id)
        session.add(fb)
    fb.prospect = data.prospect
    fb.improvement_needs = data.improvement_needs or None
    fb.intent = data.intent
    fb.source = channel
    fb.submitted_by_id = actor.id
    record_audit(
        session,
        actor=actor,
        action="feedback.record",
        subject=fb,
        detail={
            "before": before,
            "after": snapshot(fb),
            "text": f"{RECORDED_CHANNELS[channel][0]}反馈，由 {actor.username} 代录",
        },
        institution_id=institution_id,
    )
    return fb


def feedback_for_patent(session: Session, *, patent_id: int) -> list[Feedback]:
    """All feedback on one patent, oldest first."""
    stmt = select(Feedback).where(Feedback.patent_id == patent_id).order_by(Feedback.id)
    return list(session.scalars(stmt))


def feedback_by_push(session: Session, *, enterprise_id: int) -> dict[int | None, Feedback]:
    """The enterprise's feedback keyed by the push it answers (its workspace marks them)."""
    stmt = select(Feedback).where(Feedback.enterprise_id == enterprise_id)
    return {fb.push_id: fb for fb in session.scalars(stmt)}
