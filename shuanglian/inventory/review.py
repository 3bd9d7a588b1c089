"""Review (审核) of inventory items: the first machine on `shuanglian.workflow`.

`REVIEW` is the whole rule book: the states an item goes through (with their names for people),
and for each action the states it may start from, the state it leads to, who may take it and
whether a comment is required. Entering and leaving the convertible pool are the machine's
effects, so they happen in the same transaction as the step and nowhere else. Anything not in
the table is refused with a sentence naming the item's state and what may be done from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from shuanglian import workflow
from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import (
    can_see_item,
    is_admin,
    require_item,
    review_levels,
)
from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.inventory.models import InventoryItem
from shuanglian.inventory.pool import enter_pool, leave_pool
from shuanglian.patents.models import Patent

STATES: dict[str, tuple[str, str]] = {
    "draft": ("待自评", "awaiting self-assessment"),
    "college_review": ("待院系审核", "awaiting college review"),
    "institution_review": ("待单位审核", "awaiting institution review"),
    "approved": ("已入库", "approved, in the pool"),
    "returned": ("退回修改", "returned for revision"),
    "rejected": ("未通过", "rejected"),
    "withdrawn": ("单位已撤回", "withdrawn by the institution"),
    "lapsed": ("已失效出库", "left the pool: lapsed; back on restoration"),
}
# "中文 (English)", as pages and the CLI have always shown a status.
STATUS_LABELS: dict[str, str] = {state: f"{zh} ({en})" for state, (zh, en) in STATES.items()}


# --- Who may take a step (workflow.Permission: raise PermissionDenied, return nothing) -----


def _staff(session: Session, actor: User | None, item: InventoryItem) -> None:
    """The item's own institution's staff (of its college, when limited to one), or an admin."""
    require_item(session, actor, item)


def _staff_with_assessment(session: Session, actor: User | None, item: InventoryItem) -> None:
    """Staff, and only once the self-assessment the reviewers will read exists."""
    _staff(session, actor, item)
    if item.assessment is None:
        raise DomainError("请先完成自评再提交 (complete the self-assessment first)")


def _reviewer(level: str) -> workflow.Permission:
    level_zh = "院系审核人" if level == "college" else "单位审核人"

    def may(session: Session, actor: User | None, item: InventoryItem) -> None:
        if actor is None or not actor.is_active:
            raise PermissionDenied("请先登录 (please log in)")
        if level not in review_levels(session, actor=actor, item=item):
            raise PermissionDenied(
                f"当前为{STATUS_LABELS.get(item.status, item.status)}阶段，需由{level_zh}审核 "
                f"(this stage needs a {level}-level reviewer)"
            )

    may.__doc__ = f"A {level}-level reviewer of the item (or an admin)."
    return may


def _system(session: Session, actor: User | None, item: InventoryItem) -> None:
    """Dynamic inventory (sync, actor None) or an admin acting for it; never other people."""
    if actor is not None and not is_admin(actor):
        raise PermissionDenied("只能由系统（动态盘点）或管理员执行 (system or admin only)")


# --- What a step does besides changing the status ------------------------------------------


def _keep_comment(
    session: Session, item: InventoryItem, t: workflow.Transition, actor: Any, fields: Mapping
) -> None:
    """The latest reviewer's comment is what the staff read on the item's page."""
    item.last_comment = fields.get("comment")


def _pool(
    session: Session, item: InventoryItem, t: workflow.Transition, actor: Any, fields: Mapping
) -> None:
    """Approval puts the patent in the pool; withdrawal and lapse take it out (and off sale)."""
    if item.status == "approved":
        patent = session.get(Patent, item.patent_id)
        assert patent is not None  # FK guarantees it
        enter_pool(session, actor=actor, patent=patent)
    elif t.action in ("withdraw", "lapse"):
        reason = f"{t.label}：{fields.get('comment')}"
        leave_pool(session, actor=actor, patent_id=item.patent_id, reason=reason)


T = workflow.Transition
REVIEW = workflow.Machine(
    name="review",
    states=STATES,
    transitions=(
        T("submit", ("draft", "returned"), "college_review", "提交审核", "Submit for review",
          _staff_with_assessment),
        T("college_approve", ("college_review",), "institution_review", "院系通过",
          "Approve (college)", _reviewer("college")),
        T("college_return", ("college_review",), "returned", "院系退回", "Return (college)",
          _reviewer("college"), ("comment",)),
        T("college_reject", ("college_review",), "rejected", "院系不通过", "Reject (college)",
          _reviewer("college"), ("comment",)),
        T("institution_approve", ("institution_review",), "approved", "单位通过",
          "Approve (institution)", _reviewer("institution")),
        T("institution_return", ("institution_review",), "returned", "单位退回",
          "Return (institution)", _reviewer("institution"), ("comment",)),
        T("institution_reject", ("institution_review",), "rejected", "单位不通过",
          "Reject (institution)", _reviewer("institution"), ("comment",)),
        T("withdraw", ("approved",), "withdrawn", "单位撤回出库", "Withdraw from the pool",
          _staff, ("comment",)),
        T("lapse", ("approved",), "lapsed", "失效出库", "Lapsed: out of the pool", _system,
          ("comment",)),
        # 恢复权利 (Patent Law Implementing Rules art. 6): a restored right puts the patent back.
        T("restore", ("lapsed",), "approved", "权利恢复重新入库", "Restored: back in the pool",
          _system, ("comment",)),
    ),
    effects=(_keep_comment, _pool),
    field_labels={"comment": "意见"},
)  # fmt: skip
TRANSITIONS: tuple[workflow.Transition, ...] = REVIEW.transitions
# Review stage → the level that reviews it; a decision is mapped onto that level's action.
STAGE_LEVEL = {"college_review": "college", "institution_review": "institution"}
DECISIONS = ("approve", "return", "reject")


def allowed_actions(status: str) -> list[str]:
    """The actions the table allows from a status (for the web to show the right buttons)."""
    return [t.action for t in REVIEW.allowed_from(status)]


def _get_item(session: Session, item_id: int, actor: User | None) -> InventoryItem:
    """The item, when `actor` may know of it (`None` = the system: lapse, restore).

    Anyone else hears "not found", exactly as for an id that does not exist: telling them the
    item's review state would say what another institution holds and where it stands.
    """
    item = session.get(InventoryItem, item_id)
    if item is None or (actor is not None and not can_see_item(session, actor, item)):
        raise NotFound(f"盘点条目 {item_id} 不存在 (inventory item not found)")
    return item


def apply_transition(
    session: Session,
    *,
    actor: User | None,
    item_id: int,
    action: str,
    comment: str | None = None,
) -> InventoryItem:
    """Take one step of review on an item: checks, status, pool effects and audit entry."""
    item = _get_item(session, item_id, actor)
    # An institution without colleges has no first level: submission goes straight up.
    target = None
    if action == "submit" and item.college_id is None:
        target = "institution_review"
    workflow.apply_transition(
        session, machine=REVIEW, obj=item, action=action, actor=actor, target=target,
        comment=comment,
    )  # fmt: skip
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
    item = _get_item(session, item_id, actor)
    level = STAGE_LEVEL.get(item.status)
    if level is None:
        allowed = REVIEW.allowed_from(item.status)
        names = "、".join(f"“{t.label}”" for t in allowed) or "无"
        raise DomainError(
            f"当前状态为“{REVIEW.state_label(item.status)}”，不在审核阶段，不能审核；"
            f"此时可执行：{names} (item is not awaiting review)"
        )
    return apply_transition(
        session, actor=actor, item_id=item_id, action=f"{level}_{decision}", comment=comment
    )


def approve_items(
    session: Session, *, actor: User, item_ids: list[int], comment: str | None = None
) -> list[InventoryItem]:
    """Approve several items at their current stage with one comment, all or none.

    A reviewer clearing a queue of sound self-assessments need not open each one; if any
    selected item cannot be approved by this person now, nothing is approved and the sentence
    names that item, so the queue is never left half-done without saying so.
    """
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        raise DomainError("请先勾选要通过的条目 (select the items to approve)", field="item_ids")
    done = []
    for item_id in ids:
        try:
            done.append(
                review_item(
                    session, actor=actor, item_id=item_id, decision="approve", comment=comment
                )
            )
        except (DomainError, PermissionDenied) as exc:
            item = session.get(InventoryItem, item_id)
            visible = item is not None and not isinstance(exc, NotFound)
            patent = session.get(Patent, item.patent_id) if visible and item else None
            number = patent.application_number if patent is not None else str(item_id)
            raise DomainError(
                f"{number} 未能通过：{exc.message}；所选条目均未处理 "
                f"({number} could not be approved; none of the selected items was changed)",
                field="item_ids",
            ) from None
    return done
