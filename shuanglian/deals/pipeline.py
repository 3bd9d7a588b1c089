"""The deal pipeline: stages as a transition table, the timeline, next actions and reminders.

接洽 → 保密协议 → 尽职调查 → 谈判 → 签约 → (中试) → 量产, or 终止 with a reason from any open
stage. `apply_transition` checks the table, the actor and the required fields, and writes the
audit entry; the effect here adds the step (date, actor, note) to the deal's own timeline and
tells the other parties.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import PurePath
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, selectinload

from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import (
    ADMIN,
    ENTERPRISE_USER,
    INSTITUTION_STAFF,
    TECH_MANAGER,
    can_manage_enterprise,
    can_manage_institution,
    require_login,
)
from shuanglian.audit import record_audit
from shuanglian.deals import access
from shuanglian.deals.models import (
    Contract,
    Deal,
    DealActivity,
    DealDocument,
    DealItem,
    DealService,
    Manager,
    NextAction,
)
from shuanglian.deals.schemas import (
    ACTIVITY_KINDS,
    CLOSE_REASONS,
    DOCUMENT_KINDS,
    DOCUMENT_MAGIC,
    DOCUMENT_TYPES,
    MAX_DOCUMENT_BYTES,
    SERVICE_DETAILS,
    DealIn,
    ServiceIn,
    one_of,
    parse,
)
from shuanglian.enterprises.models import Enterprise
from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.inventory.models import COOPERATION_INTENTS, Feedback, Push
from shuanglian.notifications import notify
from shuanglian.patents.models import Institution, Patent
from shuanglian.supermarket.models import Inquiry, Listing
from shuanglian.supermarket.service import today_in_china
from shuanglian.workflow import Machine, Transition, apply_transition

STAGES = {
    "contact": ("接洽", "Contact"),
    "nda": ("保密协议", "NDA"),
    "due_diligence": ("尽职调查", "Due diligence"),
    "negotiation": ("谈判", "Negotiation"),
    "contract": ("签约", "Contract"),
    "pilot": ("中试", "Pilot"),
    "production": ("量产", "Production"),
    "closed": ("终止", "Closed (lost)"),
}
OPEN_STAGES = ("contact", "nda", "due_diligence", "negotiation", "contract", "pilot")


def _may(session: Session, actor: Any, deal: Any) -> None:
    access.may_work(session, actor, deal)


def _record_step(
    session: Session, deal: Any, t: Transition, actor: Any, fields: Mapping[str, Any]
) -> None:
    """The step on the deal's timeline, the stage date, and a word to the other parties."""
    on = fields.get("on") or today_in_china()
    before = fields.get("_from")
    deal.stage_changed_on = on
    if t.action == "close":
        deal.closed_reason = fields["reason"]
        deal.closed_note = fields.get("note")
    if t.action == "start_pilot":
        deal.pilot_booking_ref = fields["pilot_booking_ref"]
    text = text_en = fields.get("note") or ""
    if t.action == "close":
        reason_zh, reason_en = CLOSE_REASONS[fields["reason"]]
        text = f"{reason_zh}：{text}".rstrip("：")
        text_en = f"{reason_en}: {text_en}" if text_en else reason_en
    session.add(
        DealActivity(
            deal_id=deal.id,
            kind="stage",
            on=on,
            actor_id=getattr(actor, "id", None),
            actor_name=getattr(actor, "username", None) or "system",
            from_stage=before,
            to_stage=deal.stage,
            text=text,
        )
    )
    _tell_parties(
        session,
        deal,
        actor,
        kind="deal.stage",
        title=f"洽谈项目“{deal.title}”进入{STAGES[deal.stage][0]}阶段",
        title_en=f"Deal “{deal.title}” moved to stage: {STAGES[deal.stage][1]}",
        body=text or None,
        body_en=text_en or None,
    )


DEAL_MACHINE = Machine(
    name="deal",
    state_attr="stage",
    states=STAGES,
    transitions=(
        Transition("sign_nda", ("contact",), "nda", "签署保密协议", "Sign NDA", _may),
        Transition(
            "start_due_diligence", ("nda",), "due_diligence", "开始尽职调查", "Start DD", _may
        ),
        Transition("negotiate", ("due_diligence",), "negotiation", "进入谈判", "Negotiate", _may),
        Transition("sign", ("negotiation",), "contract", "签约", "Sign contract", _may),
        Transition(
            "start_pilot",
            ("contract",),
            "pilot",
            "进入中试",
            "Start pilot",
            _may,
            required=("pilot_booking_ref",),
        ),
        Transition(
            "start_production",
            ("contract", "pilot"),
            "production",
            "进入量产",
            "Start production",
            _may,
        ),
        Transition(
            "close", OPEN_STAGES, "closed", "终止", "Close (lost)", _may, required=("reason",)
        ),
    ),
    effects=(_record_step,),
    field_labels={"pilot_booking_ref": "中试预约编号", "reason": "终止原因"},
)


def _party_user_ids(session: Session, deal: Deal) -> list[int]:
    """Users to tell about a deal: its institution's staff, its enterprise's users, its
    manager."""
    conds = [
        and_(User.role == INSTITUTION_STAFF, User.institution_id == deal.institution_id),
        and_(User.role == ENTERPRISE_USER, User.enterprise_id == deal.enterprise_id),
    ]
    from sqlalchemy import or_

    ids = set(session.scalars(select(User.id).where(User.is_active.is_(True), or_(*conds))))
    if deal.manager_id is not None:
        manager = session.get(Manager, deal.manager_id)
        if manager is not None:
            ids.add(manager.user_id)
    return sorted(ids)


def _tell_parties(
    session: Session,
    deal: Deal,
    actor: Any,
    *,
    kind: str,
    title: str,
    title_en: str,
    body: str | None,
    body_en: str | None,
) -> None:
    others = [u for u in _party_user_ids(session, deal) if u != getattr(actor, "id", None)]
    if others:
        notify(
            session,
            user_ids=others,
            kind=kind,
            title=title,
            title_en=title_en,
            body=body,
            body_en=body_en,
            link=f"/deals/{deal.id}",
        )


def _log(session: Session, deal: Deal, actor: Any, kind: str, text: str, on: date | None = None):  # type: ignore[no-untyped-def]
    row = DealActivity(
        deal_id=deal.id,
        kind=kind,
        on=on or today_in_china(),
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None) or "system",
        text=text,
    )
    session.add(row)
    return row


# --------------------------------------------------------------------------- creating deals


def _may_open(session: Session, actor: User, data: DealIn) -> None:
    if actor.role == ADMIN:
        return
    if actor.role == INSTITUTION_STAFF and actor.institution_id == data.institution_id:
        return
    if actor.role == ENTERPRISE_USER and actor.enterprise_id == data.enterprise_id:
        return
    if actor.role == TECH_MANAGER and access.manager_id_of(session, actor) is not None:
        return
    raise PermissionDenied(
        "只能为本机构或本企业发起洽谈 (only for your own institution or enterprise)"
    )


def create_deal(session: Session, *, actor: User | None, data: DealIn | dict[str, Any]) -> Deal:
    """Open a deal at 接洽 from a push with intent, an inquiry, a challenge or by hand."""
    actor = require_login(actor)
    data = parse(DealIn, data)
    _may_open(session, actor, data)
    if session.get(Institution, data.institution_id) is None:
        raise DomainError("机构不存在 (institution not found)", field="institution_id")
    if session.get(Enterprise, data.enterprise_id) is None:
        raise DomainError("企业不存在 (enterprise not found)", field="enterprise_id")
    patent_ids = list(dict.fromkeys(data.patent_ids))
    listing = session.get(Listing, data.listing_id) if data.listing_id else None
    if data.listing_id and listing is None:
        raise DomainError("成果不存在 (listing not found)", field="listing_id")
    if listing is not None:
        if listing.institution_id != data.institution_id:
            raise DomainError(
                "成果不属于该机构 (listing of another institution)", field="listing_id"
            )
        lead = [listing.patent_id] if listing.patent_id is not None else []
        patent_ids = patent_ids or [m.patent_id for m in listing.members] or lead
    if not patent_ids:
        raise DomainError("须至少关联一项专利或成果 (at least one patent)", field="patent_ids")
    patents = list(session.scalars(select(Patent).where(Patent.id.in_(patent_ids))))
    if len(patents) != len(patent_ids):
        raise DomainError("专利不存在 (patent not found)", field="patent_ids")
    if any(p.institution_id != data.institution_id for p in patents):
        raise DomainError("专利须属于该机构 (patents of another institution)", field="patent_ids")
    _check_source(session, data)
    manager_id = data.manager_id
    if actor.role == TECH_MANAGER:
        manager_id = access.manager_id_of(session, actor)
    if manager_id is not None and session.get(Manager, manager_id) is None:
        raise DomainError("技术经理人不存在 (manager not found)", field="manager_id")
    today = today_in_china()
    deal = Deal(
        title=data.title,
        institution_id=data.institution_id,
        enterprise_id=data.enterprise_id,
        manager_id=manager_id,
        stage="contact",
        stage_changed_on=today,
        opened_on=today,
        source=data.source,
        push_id=data.push_id,
        inquiry_id=data.inquiry_id,
        challenge_id=data.challenge_id,
        created_by_id=actor.id,
        items=[DealItem(patent_id=p, listing_id=data.listing_id) for p in patent_ids],
    )
    session.add(deal)
    session.flush()
    _log(session, deal, actor, "system", data.note or "发起洽谈 (deal opened)")
    record_audit(
        session,
        actor=actor,
        action="deal.create",
        subject=deal,
        detail={"source": data.source, "patents": patent_ids, "enterprise": data.enterprise_id},
    )
    _tell_parties(
        session,
        deal,
        actor,
        kind="deal.new",
        title=f"新的洽谈项目：{deal.title}",
        title_en=f"New deal: {deal.title}",
        body=None,
        body_en=None,
    )
    return deal


def _check_source(session: Session, data: DealIn) -> None:
    if data.source == "push":
        push = session.get(Push, data.push_id)
        if push is None or push.enterprise_id != data.enterprise_id:
            raise DomainError("推送记录不存在 (push not found)", field="push_id")
        intent = session.scalar(select(Feedback.intent).where(Feedback.push_id == push.id))
        if intent not in COOPERATION_INTENTS:
            raise DomainError(
                "该推送尚无合作意向反馈 (the push has no cooperation intent)", field="push_id"
            )
    if data.source == "challenge":
        from shuanglian.challenges.models import Challenge

        challenge = session.get(Challenge, data.challenge_id)
        if challenge is None or challenge.enterprise_id != data.enterprise_id:
            raise DomainError(
                "榜单不存在或不是该企业发布的 (challenge not found for this enterprise)",
                field="challenge_id",
            )
    if data.source == "inquiry":
        inquiry = session.get(Inquiry, data.inquiry_id)
        if inquiry is None:
            raise DomainError("咨询不存在 (inquiry not found)", field="inquiry_id")
        owner = session.scalar(
            select(Listing.institution_id).where(Listing.id == inquiry.listing_id)
        )
        if owner != data.institution_id:
            raise DomainError(
                "咨询不属于该机构 (inquiry of another institution)", field="inquiry_id"
            )


def prefill_deal(
    session: Session,
    *,
    actor: User | None,
    push_id: int | None = None,
    inquiry_id: int | None = None,
    listing_id: int | None = None,
    challenge_id: int | None = None,
    application_id: int | None = None,
) -> dict[str, Any]:
    """The "start a deal" form's values from a push with intent, an inquiry, a listing or a
    verified challenge (its enterprise, an accepted team's institution and patents)."""
    actor = require_login(actor)
    if challenge_id is not None:
        return prefill_from_challenge(
            session, actor=actor, challenge_id=challenge_id, application_id=application_id
        )
    if push_id is not None:
        push = session.get(Push, push_id)
        patent = session.get(Patent, push.patent_id) if push is not None else None
        # A push is the business of the patent's institution and the enterprise it went to;
        # to anyone else it does not exist (its title and enterprise are not theirs to read).
        if (
            push is None
            or patent is None
            or not (
                can_manage_institution(actor, patent.institution_id)
                or can_manage_enterprise(actor, push.enterprise_id)
            )
        ):
            raise NotFound("推送记录不存在 (push not found)")
        enterprise = session.get(Enterprise, push.enterprise_id)
        assert enterprise is not None
        intent = session.scalar(select(Feedback.intent).where(Feedback.push_id == push.id))
        return {
            "title": f"{patent.title} — {enterprise.name}",
            "institution_id": patent.institution_id,
            "enterprise_id": enterprise.id,
            "patent_ids": [patent.id],
            "source": "push",
            "push_id": push.id,
            "note": f"企业反馈合作意向：{intent}" if intent else "",
        }
    if inquiry_id is not None:
        inquiry = session.get(Inquiry, inquiry_id)
        listing = session.get(Listing, inquiry.listing_id) if inquiry is not None else None
        # An inquiry (a visitor's name, organisation and message) is for the listing's owner.
        if (
            inquiry is None
            or listing is None
            or not can_manage_institution(actor, listing.institution_id)
        ):
            raise NotFound("咨询不存在 (inquiry not found)")
        ent_id = None
        if inquiry.organisation:
            ent_id = session.scalar(
                select(Enterprise.id).where(Enterprise.name == inquiry.organisation).limit(1)
            )
        return {
            "title": f"{listing.title} — {inquiry.organisation or inquiry.name}",
            "institution_id": listing.institution_id,
            "enterprise_id": ent_id,
            "listing_id": listing.id,
            "patent_ids": [],
            "source": "inquiry",
            "inquiry_id": inquiry.id,
            "note": f"来自咨询：{inquiry.message[:200]}",
        }
    if listing_id is not None:
        listing = session.get(Listing, listing_id)
        if listing is None:
            raise NotFound("成果不存在 (listing not found)")
        return {
            "title": listing.title,
            "institution_id": listing.institution_id,
            "listing_id": listing.id,
            "patent_ids": [],
            "source": "manual",
        }
    return {
        "source": "manual",
        "institution_id": actor.institution_id,
        "enterprise_id": actor.enterprise_id,
        "patent_ids": [],
    }


def prefill_from_challenge(
    session: Session, *, actor: User, challenge_id: int, application_id: int | None = None
) -> dict[str, Any]:
    """A deal's values from a verified challenge: the posting enterprise, the accepted team's
    institution and the patents the team brought (the first accepted team unless one is named).

    Only the challenge's parties (its enterprise, accepted teams, admins) get them: who was
    accepted is private to the challenge.
    """
    from shuanglian.challenges import service as challenges
    from shuanglian.challenges.models import Application

    ch = challenges.get_challenge(session, challenge_id=challenge_id, actor=actor)
    challenges.require_party(session, actor, ch)
    if ch.status != "verified":
        raise DomainError(
            "榜单验题通过后才能转为洽谈项目 (only a verified challenge turns into a deal)",
            field="challenge_id",
        )
    stmt = select(Application).where(
        Application.challenge_id == ch.id, Application.status == "accepted"
    )
    if application_id is not None:
        stmt = stmt.where(Application.id == application_id)
    app = session.scalars(stmt.order_by(Application.id).limit(1)).first()
    if app is None:
        raise DomainError(
            "该榜单没有此已接受的团队 (no such accepted team on this challenge)",
            field="application_id",
        )
    patent_rows = list(
        session.execute(
            select(Patent.id, Patent.institution_id).where(Patent.id.in_(app.patent_ids or [0]))
        ).all()
    )
    institution_id = app.institution_id or (patent_rows[0][1] if patent_rows else None)
    return {
        "title": f"{ch.title} — {app.team_name}",
        "institution_id": institution_id,
        "enterprise_id": ch.enterprise_id,
        "patent_ids": [pid for pid, inst in patent_rows if inst == institution_id],
        "source": "challenge",
        "challenge_id": ch.id,
        "note": f"来自揭榜挂帅榜单 #{ch.id}（验题通过），揭榜团队：{app.team_name}",
    }


# --------------------------------------------------------------------------- moving deals


def move_deal(
    session: Session,
    *,
    actor: User | None,
    deal_id: int,
    action: str,
    on: date | None = None,
    note: str | None = None,
    reason: str | None = None,
    pilot_booking_ref: str | None = None,
) -> Deal:
    """Take one step of the pipeline (with its date, actor and note)."""
    deal = access.require_deal_view(session, actor, deal_id)
    on = on or today_in_china()
    if on > today_in_china():
        raise DomainError("日期不能晚于今天 (date in the future)", field="on")
    if on < deal.stage_changed_on:
        raise DomainError("日期不能早于上一阶段 (date before the previous step)", field="on")
    if reason is not None and reason != "":
        one_of_reason(reason)
    if action == "sign" and deal.stage == "negotiation":
        signed = session.scalar(select(func.count()).where(Contract.deal_id == deal.id))
        if not signed:
            raise DomainError("签约前须先录入合同 (record the contract first)", field="action")
    apply_transition(
        session,
        machine=DEAL_MACHINE,
        obj=deal,
        action=action,
        actor=actor,
        on=on,
        note=note or None,
        reason=reason or None,
        pilot_booking_ref=pilot_booking_ref or None,
        _from=deal.stage,
    )
    session.flush()
    return deal


def one_of_reason(reason: str) -> str:
    """A closing reason from the list, else a DomainError naming the field."""
    try:
        return one_of(reason, CLOSE_REASONS, "终止原因")
    except ValueError as exc:
        raise DomainError(str(exc), field="reason") from None


def assign_manager(
    session: Session, *, actor: User | None, deal_id: int, manager_id: int | None
) -> Deal:
    """Give the deal a manager (institution staff of the deal, or an admin)."""
    actor = require_login(actor)
    deal = access.require_deal_view(session, actor, deal_id)
    if not (
        actor.role == ADMIN
        or (actor.role == INSTITUTION_STAFF and actor.institution_id == deal.institution_id)
    ):
        raise PermissionDenied(
            "只有本机构工作人员或管理员可以指派技术经理人 (only institution staff or admin)"
        )
    manager = session.get(Manager, manager_id) if manager_id is not None else None
    if manager_id is not None and (manager is None or not manager.active):
        raise DomainError("技术经理人不存在或已停用 (manager not found)", field="manager_id")
    before = deal.manager_id
    deal.manager_id = manager_id
    name = manager.name if manager else "无"
    _log(session, deal, actor, "system", f"指派技术经理人：{name}")
    record_audit(
        session,
        actor=actor,
        action="deal.assign_manager",
        subject=deal,
        detail={"from": before, "to": manager_id},
    )
    if manager is not None:
        notify(
            session,
            user_ids=[manager.user_id],
            kind="deal.assigned",
            title=f"您被指派为洽谈项目“{deal.title}”的技术经理人",
            title_en=f"You have been assigned as the technology manager of deal “{deal.title}”",
            link=f"/deals/{deal.id}",
        )
    session.flush()
    return deal


# --------------------------------------------------------------------------- the timeline


def add_activity(
    session: Session,
    *,
    actor: User | None,
    deal_id: int,
    kind: str,
    text: str,
    on: date | None = None,
) -> DealActivity:
    """A call, meeting, visit or note on the deal's timeline."""
    deal = access.require_deal_view(session, actor, deal_id)
    if kind not in ACTIVITY_KINDS or kind in ("stage", "system"):
        raise DomainError("记录类型无效 (invalid activity kind)", field="kind")
    text = (text or "").strip()
    if not text or len(text) > 5000:
        raise DomainError("请填写内容（不超过 5000 字）(text required, ≤ 5000)", field="text")
    if on is not None and on > today_in_china():
        raise DomainError("日期不能晚于今天 (date in the future)", field="on")
    row = _log(session, deal, actor, kind, text, on)
    session.flush()
    record_audit(session, actor=actor, action="deal.activity", subject=deal, detail={"kind": kind})
    return row


def timeline(session: Session, *, actor: User | None, deal_id: int) -> list[DealActivity]:
    """The deal's log, newest first."""
    access.require_deal_view(session, actor, deal_id)
    stmt = (
        select(DealActivity)
        .where(DealActivity.deal_id == deal_id)
        .order_by(DealActivity.on.desc(), DealActivity.id.desc())
    )
    return list(session.scalars(stmt))


def add_next_action(
    session: Session,
    *,
    actor: User | None,
    deal_id: int,
    title: str,
    due_on: date,
    assignee_id: int | None = None,
) -> NextAction:
    """A dated to-do; the reminder job tells its assignee when it falls due."""
    deal = access.require_deal_work(session, actor, deal_id)
    title = (title or "").strip()
    if not title or len(title) > 300:
        raise DomainError("请填写待办事项（不超过 300 字）(title required, ≤ 300)", field="title")
    if assignee_id is None:
        manager = session.get(Manager, deal.manager_id) if deal.manager_id else None
        assignee_id = manager.user_id if manager else getattr(actor, "id", None)
    elif assignee_id not in _party_user_ids(session, deal) and assignee_id != getattr(
        actor, "id", None
    ):
        raise DomainError(
            "负责人须为本项目的参与方 (assignee must be a party)", field="assignee_id"
        )
    row = NextAction(deal_id=deal.id, title=title, due_on=due_on, assignee_id=assignee_id)
    session.add(row)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="deal.next_action",
        subject=deal,
        detail={"title": title, "due_on": due_on},
    )
    return row


def complete_next_action(
    session: Session, *, actor: User | None, deal_id: int, action_id: int
) -> NextAction:
    """Mark a to-do done (and log it on the timeline)."""
    deal = access.require_deal_work(session, actor, deal_id)
    row = session.get(NextAction, action_id)
    if row is None or row.deal_id != deal.id:
        raise NotFound("待办事项不存在 (next action not found)")
    if row.done_on is None:
        row.done_on = today_in_china()
        _log(session, deal, actor, "note", f"完成待办：{row.title}")
        record_audit(
            session,
            actor=actor,
            action="deal.next_action_done",
            subject=deal,
            detail={"id": row.id},
        )
    session.flush()
    return row


def next_actions(session: Session, *, deal_id: int) -> list[NextAction]:
    """A deal's to-dos: open ones by due date, then the done ones."""
    stmt = (
        select(NextAction)
        .where(NextAction.deal_id == deal_id)
        .order_by(NextAction.done_on.is_not(None), NextAction.due_on, NextAction.id)
    )
    return list(session.scalars(stmt))


def remind_due_actions(session: Session, *, today: date | None = None) -> dict[str, int]:
    """Tell assignees about open to-dos due today or overdue, once per day (cron-safe)."""
    today = today or today_in_china()
    rows = session.scalars(
        select(NextAction)
        .where(
            NextAction.done_on.is_(None),
            NextAction.due_on <= today,
            NextAction.assignee_id.is_not(None),
            (NextAction.reminded_on.is_(None)) | (NextAction.reminded_on < today),
        )
        .order_by(NextAction.id)
    ).all()
    sent = 0
    for row in rows:
        deal = session.get(Deal, row.deal_id)
        if deal is None or deal.stage in ("closed", "production"):
            row.reminded_on = today
            continue
        late = (today - row.due_on).days
        when = "今天到期" if late == 0 else f"已逾期 {late} 天"
        when_en = "due today" if late == 0 else f"overdue by {late} day{'s' if late > 1 else ''}"
        notify(
            session,
            user_ids=[row.assignee_id] if row.assignee_id else [],
            kind="deal.reminder",
            title=f"待办{when}：{row.title}",
            title_en=f"To-do {when_en}: {row.title}",
            body=f"洽谈项目：{deal.title}（截止 {row.due_on.isoformat()}）",
            body_en=f"Deal: {deal.title} (due {row.due_on.isoformat()})",
            link=f"/deals/{deal.id}",
        )
        row.reminded_on = today
        sent += 1
    session.flush()
    return {"due": len(rows), "reminded": sent}


# --------------------------------------------------------------------------- documents


def add_document(
    session: Session,
    *,
    actor: User | None,
    deal_id: int,
    kind: str,
    filename: str,
    content: bytes,
) -> DealDocument:
    """Attach a file (PDF, Word, Excel or image up to 10 MiB, type checked by its bytes)."""
    deal = access.require_deal_view(session, actor, deal_id)
    if kind not in DOCUMENT_KINDS:
        raise DomainError("文件类型无效 (invalid document kind)", field="kind")
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    suffix = PurePath(name).suffix.lower()
    if not name or suffix not in DOCUMENT_TYPES:
        raise DomainError(
            f"只接受 {' '.join(DOCUMENT_TYPES)} 文件 (only {', '.join(DOCUMENT_TYPES)})",
            field="file",
        )
    if not content:
        raise DomainError("文件为空 (empty file)", field="file")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise DomainError(
            f"文件过大，上限 {MAX_DOCUMENT_BYTES // 1024 // 1024} MB (file too large)", field="file"
        )
    if not content.startswith(DOCUMENT_MAGIC[suffix]):
        raise DomainError(f"文件内容与扩展名 {suffix} 不符 (content is not {suffix})", field="file")
    doc = DealDocument(
        deal_id=deal.id,
        kind=kind,
        filename=name[:255],
        content_type=DOCUMENT_TYPES[suffix],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by_id=getattr(actor, "id", None),
    )
    session.add(doc)
    session.flush()
    _log(session, deal, actor, "system", f"上传文件：{DOCUMENT_KINDS[kind][0]} {doc.filename}")
    record_audit(
        session,
        actor=actor,
        action="deal.document",
        subject=deal,
        detail={"document": doc.id, "kind": kind, "size": doc.size},
    )
    return doc


def documents(session: Session, *, actor: User | None, deal_id: int) -> list[DealDocument]:
    """The deal's files (without their bytes)."""
    access.require_deal_view(session, actor, deal_id)
    stmt = select(DealDocument).where(DealDocument.deal_id == deal_id).order_by(DealDocument.id)
    return list(session.scalars(stmt))


def get_document(
    session: Session, *, actor: User | None, deal_id: int, document_id: int
) -> DealDocument:
    """One file with its bytes, for the deal's parties."""
    access.require_deal_view(session, actor, deal_id)
    doc = session.get(DealDocument, document_id)
    if doc is None or doc.deal_id != deal_id:
        raise NotFound("文件不存在 (document not found)")
    return doc


# --------------------------------------------------------------------------- services


def add_service(
    session: Session, *, actor: User | None, deal_id: int, data: ServiceIn | dict[str, Any]
) -> DealService:
    """Record a service along the chain (valuation, company, financing, pilot, subsidy)."""
    deal = access.require_deal_work(session, actor, deal_id)
    data = parse(ServiceIn, data)
    details = parse(SERVICE_DETAILS[data.kind], data.details)
    amount = getattr(details, "amount", None)
    if data.kind == "company":
        amount = getattr(details, "registered_capital", None)
    row = DealService(
        deal_id=deal.id,
        kind=data.kind,
        status=data.status,
        started_on=data.started_on,
        finished_on=data.finished_on,
        amount=amount,
        details=details.model_dump(mode="json"),
    )
    session.add(row)
    session.flush()
    if data.kind == "pilot" and not deal.pilot_booking_ref:
        deal.pilot_booking_ref = details.model_dump()["booking_ref"]
    _log(session, deal, actor, "system", f"服务记录：{_service_line(row)}")
    record_audit(
        session, actor=actor, action="deal.service", subject=deal, detail={"service": row.id}
    )
    return row


def update_service_status(
    session: Session,
    *,
    actor: User | None,
    deal_id: int,
    service_id: int,
    status: str,
    finished_on: date | None = None,
    details: dict[str, Any] | None = None,
) -> DealService:
    """Move a service on (e.g. the company is registered: done, with its credit code)."""
    deal = access.require_deal_work(session, actor, deal_id)
    row = session.get(DealService, service_id)
    if row is None or row.deal_id != deal.id:
        raise NotFound("服务记录不存在 (service not found)")
    merged = parse(
        ServiceIn,
        {
            "kind": row.kind,
            "status": status,
            "started_on": row.started_on,
            "finished_on": finished_on or row.finished_on,
            "details": {**row.details, **(details or {})},
        },
    )
    checked = parse(SERVICE_DETAILS[row.kind], merged.details)
    row.status = merged.status
    row.finished_on = merged.finished_on
    row.details = checked.model_dump(mode="json")
    _log(session, deal, actor, "system", f"服务更新：{_service_line(row)}")
    record_audit(
        session,
        actor=actor,
        action="deal.service_update",
        subject=deal,
        detail={"service": row.id, "status": status},
    )
    session.flush()
    return row


def _service_line(row: DealService) -> str:
    from shuanglian.deals.schemas import SERVICE_KINDS, SERVICE_STATUSES

    d = row.details
    main = d.get("name") or d.get("investor") or d.get("platform") or d.get("programme") or ""
    main = main or d.get("method", "")
    return f"{SERVICE_KINDS[row.kind][0]} {main}（{SERVICE_STATUSES[row.status][0]}）".strip()


def services(session: Session, *, deal_id: int) -> list[DealService]:
    """A deal's services in the order they were recorded."""
    stmt = select(DealService).where(DealService.deal_id == deal_id).order_by(DealService.id)
    return list(session.scalars(stmt))


# --------------------------------------------------------------------------- reading


def list_deals(
    session: Session,
    *,
    actor: User | None,
    stage: str | None = None,
    institution_id: int | None = None,
    enterprise_id: int | None = None,
    manager_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Deal], int]:
    """The deals the actor may see, newest first, with optional filters, and the total."""
    actor = require_login(actor)
    where = [access.deals_visible_to(session, actor)]
    if stage:
        where.append(Deal.stage == stage)
    if institution_id:
        where.append(Deal.institution_id == institution_id)
    if enterprise_id:
        where.append(Deal.enterprise_id == enterprise_id)
    if manager_id:
        where.append(Deal.manager_id == manager_id)
    total = session.scalar(select(func.count()).select_from(Deal).where(*where)) or 0
    stmt = (
        select(Deal)
        .where(*where)
        .options(
            selectinload(Deal.institution),
            selectinload(Deal.enterprise),
            selectinload(Deal.manager),
        )
        .order_by(Deal.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(stmt)), int(total)


@dataclass
class BoardCard:
    """A deal on the board with what the manager must do next."""

    deal: Deal
    next_action: NextAction | None
    overdue: bool
    days_in_stage: int


@dataclass
class Board:
    manager: Manager
    columns: list[tuple[str, list[BoardCard]]]  # stage → cards (open stages, then outcomes)
    overdue: list[BoardCard]


def manager_board(session: Session, *, actor: User | None, manager_id: int | None = None) -> Board:
    """A manager's deals by stage, each with its next to-do; overdue ones listed first."""
    actor = require_login(actor)
    own = access.manager_id_of(session, actor)
    if manager_id is None:
        manager_id = own
    if manager_id is None:
        raise NotFound("您还没有技术经理人档案 (no manager profile)")
    if actor.role != ADMIN and own != manager_id:
        raise PermissionDenied("只能查看自己的看板 (only your own board)")
    manager = session.get(Manager, manager_id)
    if manager is None:
        raise NotFound("技术经理人不存在 (manager not found)")
    today = today_in_china()
    deals = list(
        session.scalars(
            select(Deal)
            .where(Deal.manager_id == manager_id)
            .options(selectinload(Deal.enterprise), selectinload(Deal.institution))
            .order_by(Deal.id)
        )
    )
    first_open: dict[int, NextAction] = {}
    if deals:
        for row in session.scalars(
            select(NextAction)
            .where(NextAction.deal_id.in_([d.id for d in deals]), NextAction.done_on.is_(None))
            .order_by(NextAction.due_on, NextAction.id)
        ):
            first_open.setdefault(row.deal_id, row)
    cards = []
    for deal in deals:
        action = first_open.get(deal.id)
        overdue = action is not None and action.due_on < today and deal.stage in OPEN_STAGES
        cards.append(BoardCard(deal, action, overdue, (today - deal.stage_changed_on).days))

    def order(card: BoardCard) -> tuple[int, date, int]:
        due = card.next_action.due_on if card.next_action else date.max
        return (0 if card.overdue else 1, due, card.deal.id)

    columns = [(s, sorted((c for c in cards if c.deal.stage == s), key=order)) for s in STAGES]
    return Board(manager, columns, sorted((c for c in cards if c.overdue), key=order))
