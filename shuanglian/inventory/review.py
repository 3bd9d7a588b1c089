"""Review (审核) as a state machine held in data: college reviewer → institution reviewer.

`TRANSITIONS` is the whole rule book: for each action, the states it may start from, the state
it leads to and who may take it. Anything not in the table is refused with a zh-CN message.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.audit import record_audit, snapshot
from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.inventory.access import require_institution, review_levels
from shuanglian.inventory.models import InventoryItem
from shuanglian.inventory.pool import enter_pool, leave_pool
from shuanglian.patents.models import Patent

STATUS_LABELS: dict[str, str] = {
    "draft": "待自评 (awaiting self-assessment)",
    "college_review": "待院系审核 (awaiting college review)",
    "institution_review": "待单位审核 (awaiting institution review)",
    "approved": "已入库 (approved, in the pool)",
    "returned": "退回修改 (returned for revision)",
    "rejected": "未通过 (rejected)",
    "withdrawn": "单位已撤回 (withdrawn by the institution)",
    "lapsed": "已失效出库 (left the pool: lapsed; back on restoration)",
}

# Who: "staff" = the institution's own staff (fill in and submit, withdraw); "college" /
# "institution" = a reviewer of that level; "system" = dynamic inventory (sync), never a person.


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    who: str
    label: str
    needs_comment: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", ("draft", "returned"), "college_review", "staff", "提交审核"),
    Transition("college_approve", ("college_review",), "institution_review", "college", "院系通过"),
    Transition("college_return", ("college_review",), "returned", "college", "院系退回", True),
    Transition("college_reject", ("college_review",), "rejected", "college", "院系不通过", True),
    Transition(
        "institution_approve", ("institution_review",), "approved", "institution", "单位通过"
    ),
    Transition(
        "institution_return", ("institution_review",), "returned", "institution", "单位退回", True
    ),
    Transition(
        "institution_reject", ("institution_review",), "rejected", "institution", "单位不通过", True
    ),
    Transition("withdraw", ("approved",), "withdrawn", "staff", "单位撤回出库", True),
    Transition("lapse", ("approved",), "lapsed", "system", "失效出库", True),
    # 恢复权利 (Patent Law Implementing Rules art. 6): a restored right puts the patent back.
    Transition("restore", ("lapsed",), "approved", "system", "权利恢复重新入库", True),
)
_BY_ACTION = {t.action: t for t in TRANSITIONS}
# Review stage → the level that reviews it; a decision is mapped onto that level's action.
STAGE_LEVEL = {"college_review": "college", "institution_review": "institution"}
DECISIONS = ("approve", "return", "reject")


def allowed_actions(status: str) -> list[str]:
    """The actions the table allows from a status (for the web to show the right buttons)."""
    return [t.action for t in TRANSITIONS if status in t.sources]


def _check_actor(session: Session, actor: User | None, item: InventoryItem, t: Transition) -> None:
    if t.who == "system":
        if actor is not None and actor.role != "admin":
            raise PermissionDenied(f"“{t.label}”只能由系统或管理员执行 (system only)")
        return
    if actor is None:
        raise PermissionDenied("需要登录 (login required)")
    if t.who == "staff":
        require_institution(actor, item.institution_id)
        return
    levels = review_levels(session, actor=actor, item=item)
    if t.who not in levels:
        level_zh = "院系审核人" if t.who == "college" else "单位审核人"
        raise PermissionDenied(
            f"当前为{STATUS_LABELS[item.status]}阶段，需由{level_zh}审核 "
            f"(this stage needs a {t.who}-level reviewer)"
        )


def apply_transition(
    session: Session,
    *,
    actor: User | None,
    item_id: int,
    action: str,
    comment: str | None = None,
) -> InventoryItem:
    """Move one item along the table, with permission checks, audit entry and pool effects."""
    item = session.get(InventoryItem, item_id)
    if item is None:
        raise NotFound(f"盘点条目 {item_id} 不存在 (inventory item not found)")
    t = _BY_ACTION.get(action)
    if t is None:
        raise DomainError(f"未知操作“{action}” (unknown action)", field="action")
    _check_actor(session, actor, item, t)
    if item.status not in t.sources:
        raise DomainError(
            f"当前状态为“{STATUS_LABELS.get(item.status, item.status)}”，不能执行“{t.label}” "
            f"(illegal transition {item.status} → {action})"
        )
    if t.needs_comment and not (comment and comment.strip()):
        raise DomainError(f"“{t.label}”需要填写意见 (a comment is required)", field="comment")
    if t.action == "submit" and item.assessment is None:
        raise DomainError("请先完成自评再提交 (complete the self-assessment first)")
    before = snapshot(item)
    target = t.target
    # An institution without colleges has no first level: submission goes straight up.
    if target == "college_review" and item.college_id is None:
        target = "institution_review"
    item.status = target
    item.last_comment = comment
    patent = session.get(Patent, item.patent_id)
    assert patent is not None  # FK guarantees it
    if target == "approved":
        enter_pool(session, actor=actor, patent=patent)
    elif t.action in ("withdraw", "lapse"):
        leave_pool(session, actor=actor, patent_id=patent.id, reason=f"{t.label}：{comment}")
    record_audit(
        session,
        actor=actor,
        action=f"review.{t.action}",
        subject=item,
        detail={"before": before, "after": snapshot(item), "comment": comment},
    )
    return item


def review_item(
    session: Session,
    *,
    actor: User,
    item_id: int,
    decision: str,
    comment: str | None = None,
) -> InventoryItem:
    """Approve, return or reject an item at whatever review stage it is in now."""
    if decision not in DECISIONS:
        raise DomainError(
            f"审核结论须为 {'/'.join(DECISIONS)} (decision must be approve/return/reject)",
            field="decision",
        )
    item = session.get(InventoryItem, item_id)
    if item is None:
        raise NotFound(f"盘点条目 {item_id} 不存在 (inventory item not found)")
    level = STAGE_LEVEL.get(item.status)
    if level is None:
        raise DomainError(
            f"当前状态为“{STATUS_LABELS.get(item.status, item.status)}”，不在审核阶段，不能审核 "
            f"(item is not awaiting review)"
        )
    return apply_transition(
        session, actor=actor, item_id=item_id, action=f"{level}_{decision}", comment=comment
    )
