"""The one audit log (操作留痕): who did what to which record, when, and with what detail.

Every data-changing service calls `record_audit` inside its own transaction, so an entry exists
exactly when the change it describes was committed. `institution_id` is kept on the row so an
institution's staff can read their own institution's entries without joining every subject.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shuanglian.db import Base, utcnow
from shuanglian.importing import ImportReport

_SKIP = {"created_at", "updated_at", "password_hash", "token_hash"}


class AuditEntry(Base):
    """One recorded action. `subject_type` is the table name of the record acted on."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(100), default="system")
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(60))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    institution_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def jsonable(value: Any) -> Any:
    """A value as JSON can hold it (dates as ISO text, decimals as text)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: object) -> dict[str, Any]:
    """The column values of an ORM object as JSON-ready data (timestamps and secrets left out)."""
    mapper = inspect(obj).mapper
    return {
        attr.key: jsonable(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in _SKIP
    }


Subject = object | tuple[str, int | None] | None


def _subject_key(subject: Subject) -> tuple[str | None, int | None]:
    if subject is None:
        return None, None
    if isinstance(subject, tuple):
        return subject[0], subject[1]
    return getattr(subject, "__tablename__", type(subject).__name__), getattr(subject, "id", None)


def record_audit(
    session: Session,
    *,
    actor: Any,
    action: str,
    subject: Subject,
    detail: dict[str, Any] | None = None,
    institution_id: int | None = None,
) -> AuditEntry:
    """Append one entry, committed (or rolled back) with the caller's unit of work.

    `actor` is a User or None (the system, a scheduled job). `subject` is an ORM object (its
    table and id are recorded; it is flushed first so a new object has its id) or a
    `(type, id)` pair. The institution defaults to the subject's own `institution_id` (an
    institution's own id when the subject is one).
    """
    if subject is not None and not isinstance(subject, tuple):
        session.flush()
    subject_type, subject_id = _subject_key(subject)
    if institution_id is None and subject_type == "institutions":
        institution_id = subject_id  # an institution's own entry concerns that institution
    elif institution_id is None and subject is not None and not isinstance(subject, tuple):
        institution_id = getattr(subject, "institution_id", None)
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None) or "system",
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        institution_id=institution_id,
        detail=jsonable(detail) if detail else None,
    )
    session.add(entry)
    session.flush()
    return entry


def audit_trail(session: Session, *, subject_type: str, subject_id: int) -> list[AuditEntry]:
    """Every entry about one record, oldest first (a record's history on its page)."""
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.subject_type == subject_type, AuditEntry.subject_id == subject_id)
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(stmt))


IMPORT_COUNTS = ("inserted", "updated", "unchanged", "rejected")


def record_import(
    session: Session,
    *,
    actor: Any,
    kind: str,
    files: Path | str | Sequence[Path | str],
    report: ImportReport | Mapping[str, Any],
    subject: Subject = None,
    institution_id: int | None = None,
    **extra: Any,
) -> AuditEntry | None:
    """Log a finished import as `import.<kind>` with the file name(s) and the counts.

    The file is named as the person chose it (uploads keep the browser's file name), never a
    server path. A dry run changed nothing, so it leaves no entry and None is returned.
    """
    counts: dict[str, Any] = report.as_dict() if isinstance(report, ImportReport) else dict(report)
    if counts.get("dry_run"):
        return None
    paths = [files] if isinstance(files, str | Path) else list(files)
    names = [Path(p).name for p in paths]
    detail: dict[str, Any] = {
        "file": "、".join(names),
        **{k: int(counts.get(k) or 0) for k in IMPORT_COUNTS},
        **{k: v for k, v in extra.items() if v is not None},
    }
    return record_audit(
        session,
        actor=actor,
        action=f"import.{kind}",
        subject=subject,
        detail=detail,
        institution_id=institution_id,
    )


# --- What people read: action and subject names, one line of detail ------------------------
# Every action string the code writes has its name here (zh, en); tests/test_audit_labels.py
# finds every `record_audit` / `record_import` call and every workflow machine and fails when
# one is missing. An unknown action (an old row, a test) is shown as written.

AUDIT_ACTION_LABELS: dict[str, tuple[str, str]] = {
    # accounts
    "user.login": ("登录", "Logged in"),
    "user.create": ("创建用户", "Created a user"),
    "user.password_change": ("修改密码", "Changed password"),
    "user.password_reset": ("重置密码", "Reset a password"),
    "user.enable": ("启用账号", "Enabled an account"),
    "user.disable": ("停用账号", "Disabled an account"),
    "token.create": ("创建 API 令牌", "Created an API token"),
    "token.revoke": ("吊销 API 令牌", "Revoked an API token"),
    "application.submit": ("提交账号申请", "Applied for an account"),
    "application.approve": ("批准账号申请", "Approved an account application"),
    "application.reject": ("驳回账号申请", "Rejected an account application"),
    # organisations
    "institution.create": ("新增机构", "Added an institution"),
    "institution.update": ("修改机构", "Edited an institution"),
    "enterprise.create": ("新增企业", "Added an enterprise"),
    "enterprise.update": ("修改企业资料", "Edited an enterprise profile"),
    "demand.create": ("发布技术需求", "Published a technical demand"),
    "demand.update": ("修改技术需求", "Edited a technical demand"),
    # imports
    "import.patents": ("导入专利", "Imported patents"),
    "import.enterprises": ("导入企业", "Imported enterprises"),
    "import.demands": ("导入技术需求", "Imported technical demands"),
    "import.assessments": ("导入自评表", "Imported self-assessments"),
    "import.feedback": ("导入企业反馈表", "Imported enterprise feedback"),
    "import.sync": ("动态盘点（法律状态更新）", "Dynamic inventory (status update)"),
    "import.listings": ("导入科技成果", "Imported technology listings"),
    # inventory
    "college.create": ("新增院系", "Added a college"),
    "college.update": ("修改院系", "Edited a college"),
    "reviewer.assign": ("指定审核人", "Assigned a reviewer"),
    "reviewer.remove": ("取消审核人", "Removed a reviewer"),
    "batch.create": ("创建盘点批次", "Created an inventory batch"),
    "batch.rename": ("重命名盘点批次", "Renamed an inventory batch"),
    "batch.delete": ("删除盘点批次", "Deleted an inventory batch"),
    "item.assign_college": ("分配院系", "Assigned a college"),
    "assessment.save": ("保存自评", "Saved a self-assessment"),
    "review.submit": ("提交审核", "Submitted for review"),
    "review.college_approve": ("院系通过", "Approved (college)"),
    "review.college_return": ("院系退回", "Returned (college)"),
    "review.college_reject": ("院系不通过", "Rejected (college)"),
    "review.institution_approve": ("单位通过", "Approved (institution)"),
    "review.institution_return": ("单位退回", "Returned (institution)"),
    "review.institution_reject": ("单位不通过", "Rejected (institution)"),
    "review.withdraw": ("单位撤回出库", "Withdrawn from the pool"),
    "review.lapse": ("失效出库", "Lapsed: out of the pool"),
    "review.restore": ("权利恢复重新入库", "Restored: back in the pool"),
    "pool.enter": ("进入可转化资源库", "Entered the convertible pool"),
    "pool.leave": ("移出可转化资源库", "Left the convertible pool"),
    "pool.assess": ("重新评价资源库", "Re-graded the pool"),
    "pool.tiers": ("重新分层", "Re-tiered the pool"),
    "push.round": ("推送轮次", "Push round"),
    "push.bulk": ("全量推送", "Bulk push"),
    "feedback.submit": ("企业反馈", "Enterprise feedback"),
    "feedback.record": ("代企业录入反馈", "Recorded feedback for an enterprise"),
    # supermarket
    "listing.create": ("创建成果", "Created a listing"),
    "listing.update": ("修改成果", "Edited a listing"),
    "listing.patents": ("更改成果所含专利", "Changed a listing's patents"),
    "listing.status": ("更改成果状态", "Changed a listing's status"),
    "listing.auto_withdraw": ("专利出库，成果自动下架", "Patent left the pool: listing withdrawn"),
    "inquiry.submit": ("收到咨询留言", "Inquiry received"),
    "inquiry.handled": ("留言已处理", "Inquiry handled"),
    "inquiry.reopen": ("留言重新打开", "Inquiry reopened"),
    # challenges (揭榜挂帅)
    "challenge.create": ("创建榜单", "Created a challenge"),
    "challenge.update": ("修改榜单", "Edited a challenge"),
    "challenge.publish": ("发布榜单", "Published a challenge"),
    "challenge.route": ("推送榜单", "Routed a challenge"),
    "challenge.close": ("截止报名", "Closed applications"),
    "challenge.system_close": ("到期截止报名", "Applications closed at the deadline"),
    "challenge.start": ("开始揭榜攻关", "Started the work"),
    "challenge.begin_verification": ("开始验题", "Began verification"),
    "challenge.verification": ("录入验题结果", "Recorded a verification"),
    "challenge.pass": ("验题通过", "Verification passed"),
    "challenge.fail": ("验题未通过", "Verification failed"),
    "challenge.rerun": ("重新验题", "Verification re-run"),
    "challenge.withdraw": ("撤回榜单", "Withdrew a challenge"),
    "challenge.expire": ("榜单过期", "Challenge expired"),
    "challenge.apply": ("揭榜申请", "Applied for a challenge"),
    "challenge.attach": ("上传附件", "Attached a file"),
    "challenge.message": ("发送消息", "Sent a message"),
    "challenge.nda_accept": ("接受保密协议", "Accepted the NDA"),
    "challenge.milestone.pay": ("记录里程碑付款", "Recorded a milestone payment"),
    "challenge_application.shortlist": ("入围揭榜申请", "Shortlisted an application"),
    "challenge_application.accept": ("选定揭榜团队", "Accepted an application"),
    "challenge_application.reject": ("拒绝揭榜申请", "Rejected an application"),
    "challenge_application.withdraw": ("撤回揭榜申请", "Withdrew an application"),
    "challenge_milestone.submit": ("提交里程碑", "Submitted a milestone"),
    "challenge_milestone.accept": ("验收里程碑", "Accepted a milestone"),
    "challenge_milestone.return": ("退回里程碑", "Returned a milestone"),
    # pilot platforms (中试平台)
    "pilot.create": ("登记中试平台", "Registered a pilot platform"),
    "pilot.update": ("修改中试平台", "Edited a pilot platform"),
    "pilot.import": ("导入中试平台", "Imported pilot platforms"),
    "pilot.link_manager": ("关联平台管理员", "Linked a platform manager"),
    "pilot_booking.request": ("申请中试预约", "Requested a pilot booking"),
    "pilot_booking.accept": ("接受中试预约", "Accepted a booking"),
    "pilot_booking.decline": ("拒绝中试预约", "Declined a booking"),
    "pilot_booking.schedule": ("排定中试", "Scheduled a booking"),
    "pilot_booking.complete": ("完成中试", "Completed a booking"),
    "pilot_booking.cancel": ("取消中试预约", "Cancelled a booking"),
    "pilot_booking.rate": ("评价中试服务", "Rated a booking"),
    "pilot_booking.document": ("上传中试成果文件", "Uploaded a booking document"),
    # deals, contracts, open licences
    "manager.save": ("保存技术经理人档案", "Saved a manager profile"),
    "deal.create": ("创建洽谈项目", "Started a deal"),
    "deal.assign_manager": ("指派技术经理人", "Assigned a manager"),
    "deal.sign_nda": ("签署保密协议", "Signed the NDA"),
    "deal.start_due_diligence": ("开始尽职调查", "Started due diligence"),
    "deal.negotiate": ("进入谈判", "Started negotiation"),
    "deal.sign": ("签约", "Signed"),
    "deal.start_pilot": ("进入中试", "Started the pilot"),
    "deal.start_production": ("进入量产", "Started production"),
    "deal.close": ("终止洽谈", "Closed the deal"),
    "deal.activity": ("记录洽谈活动", "Logged an activity"),
    "deal.next_action": ("添加待办", "Added a next action"),
    "deal.next_action_done": ("完成待办", "Completed a next action"),
    "deal.document": ("上传洽谈文件", "Uploaded a document"),
    "deal.service": ("添加转化服务", "Added a service"),
    "deal.service_update": ("更新转化服务", "Updated a service"),
    "contract.create": ("登记技术合同", "Recorded a contract"),
    "contract.payment": ("记录合同收款", "Recorded a payment"),
    "contract.update": ("修改技术合同", "Edited a contract"),
    "contract.delete": ("删除技术合同", "Deleted a contract"),
    "distribution.rule": ("设置收益分配规则", "Set the distribution rule"),
    "distribution.payout": ("发放成果完成人奖酬", "Paid inventors their share"),
    "open_licence.declare": ("发布开放许可声明", "Declared an open licence"),
    "open_licence.take": ("获得开放许可", "Took an open licence"),
    "open_licence.withdraw": ("撤回开放许可声明", "Withdrew an open licence"),
}

# Record kinds by table name (subject_type), as people call them.
SUBJECT_LABELS: dict[str, tuple[str, str]] = {
    "users": ("用户", "User"),
    "account_applications": ("账号申请", "Account application"),
    "api_tokens": ("API 令牌", "API token"),
    "institutions": ("机构", "Institution"),
    "enterprises": ("企业", "Enterprise"),
    "demands": ("技术需求", "Demand"),
    "patents": ("专利", "Patent"),
    "inventory_colleges": ("院系", "College"),
    "inventory_reviewers": ("审核人", "Reviewer"),
    "inventory_batches": ("盘点批次", "Inventory batch"),
    "inventory_items": ("盘点条目", "Inventory item"),
    "inventory_self_assessments": ("自评", "Self-assessment"),
    "inventory_pool": ("资源库条目", "Pool entry"),
    "inventory_push_rounds": ("推送轮次", "Push round"),
    "inventory_feedback": ("企业反馈", "Feedback"),
    "market_listings": ("成果", "Listing"),
    "market_inquiries": ("咨询留言", "Inquiry"),
    "challenges": ("榜单", "Challenge"),
    "challenge_applications": ("揭榜申请", "Challenge application"),
    "challenge_milestones": ("里程碑", "Milestone"),
    "challenge_messages": ("榜单消息", "Challenge message"),
    "challenge_verifications": ("验题记录", "Verification"),
    "attachments": ("附件", "Attachment"),
    "pilot_platforms": ("中试平台", "Pilot platform"),
    "pilot_bookings": ("中试预约", "Pilot booking"),
    "deal_managers": ("技术经理人", "Technology manager"),
    "deals": ("洽谈项目", "Deal"),
    "deal_documents": ("洽谈文件", "Deal document"),
    "deal_services": ("转化服务", "Deal service"),
    "deal_next_actions": ("待办", "Next action"),
    "deal_contracts": ("技术合同", "Contract"),
    "deal_payments": ("合同收款", "Payment"),
    "deal_open_licences": ("开放许可声明", "Open-licence declaration"),
    "deal_distribution_rules": ("收益分配规则", "Distribution rule"),
    "deal_inventor_payouts": ("奖酬发放", "Inventor payout"),
}

# Each workflow machine registers its state names here when it is defined (shuanglian.workflow),
# so a transition's `from` / `to` reads in that machine's own words ("withdrawn" is 已撤回 for a
# challenge and 已下架 for a listing).
MACHINE_STATE_LABELS: dict[str, Mapping[str, tuple[str, str]]] = {}

# State values that appear as `from` / `to` in entries, in words (records outside a machine).
STATE_WORDS: dict[str, tuple[str, str]] = {
    "draft": ("草稿/待自评", "draft"),
    "published": ("已上架", "published"),
    "withdrawn": ("已下架/已撤回", "withdrawn"),
    "college_review": ("待院系审核", "college review"),
    "institution_review": ("待单位审核", "institution review"),
    "approved": ("已入库", "approved"),
    "returned": ("退回修改", "returned"),
    "rejected": ("未通过", "rejected"),
    "lapsed": ("已失效出库", "lapsed"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def action_label(action: str, lang: str = "zh") -> str:
    """The action's name for people (the raw string only for an action the table lacks)."""
    pair = AUDIT_ACTION_LABELS.get(action)
    return _pick(pair, lang) if pair else action


def subject_type_label(subject_type: str | None, lang: str = "zh") -> str:
    """The record kind's name for people."""
    if not subject_type:
        return ""
    pair = SUBJECT_LABELS.get(subject_type)
    return _pick(pair, lang) if pair else subject_type


def detail_line(entry: AuditEntry, lang: str = "zh") -> str:
    """One line saying what the entry's detail holds: file and counts, comment, state change."""
    d = entry.detail or {}
    en = lang == "en"
    parts: list[str] = []
    if entry.action.startswith("import.") and "file" in d:
        counts = [int(d.get(k) or 0) for k in IMPORT_COUNTS]
        if en:
            parts.append(
                f"file {d['file']}: {counts[0]} new, {counts[1]} updated, "
                f"{counts[2]} unchanged, {counts[3]} rejected"
            )
        else:
            parts.append(
                f"文件 {d['file']}：新增 {counts[0]}，更新 {counts[1]}，"
                f"未变 {counts[2]}，拒绝 {counts[3]}"
            )
        for key, zh in (("left_pool", "出库"), ("restored", "恢复入库")):
            if d.get(key):
                parts.append(f"{key} {d[key]}" if en else f"{zh} {d[key]}")
    if d.get("from") and d.get("to") and d["from"] != d["to"]:
        table = MACHINE_STATE_LABELS.get(entry.action.split(".", 1)[0], STATE_WORDS)
        words = [
            _pick(table.get(s) or STATE_WORDS.get(s, (s, s)), lang) for s in (d["from"], d["to"])
        ]
        parts.append(" → ".join(words))
    if d.get("text"):
        parts.append(str(d["text"]))
    label = d.get("role_label")  # a created user's role as (zh, en)
    if isinstance(label, list) and len(label) == 2:
        parts.append(_pick((str(label[0]), str(label[1])), lang))
    if d.get("comment"):
        parts.append(f"comment: {d['comment']}" if en else f"意见：{d['comment']}")
    if not parts:  # counts of a bulk job (grades, tiers, a round's pushes)
        after = d.get("after") if isinstance(d.get("after"), dict) else {}
        for key in ("grades", "tiers", "deal_suggestions", "amount"):
            if key in d:
                parts.append(f"{key}: {d[key]}")
        for key in ("patents_considered", "pushes_made", "added", "skipped", "intent"):
            if after and key in after:
                parts.append(f"{key}: {after[key]}")
    return "；".join(parts) if not en else "; ".join(parts)
