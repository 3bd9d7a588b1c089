"""Who may see and change what in the inventory: the permission checks every service calls.

Institution staff act only on their own institution; reviewers are named per level (college or
institution) in `ReviewerAssignment`; enterprise users see only what was pushed to them.
Admins (platform operators) may act everywhere.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions
from shuanglian.accounts.models import User
from shuanglian.errors import PermissionDenied
from shuanglian.inventory.models import InventoryItem, ReviewerAssignment


def is_admin(actor: User | None) -> bool:
    """Platform operators (and local bureaus configured as admins) see every institution."""
    return actor is not None and actor.is_active and actor.role == permissions.ADMIN


def require_admin(actor: User | None) -> None:
    """Refuse anyone but an admin (platform-wide jobs such as push rounds and sync)."""
    if not is_admin(actor):
        raise PermissionDenied("只有平台管理员可以执行此操作 (admin only)")


def require_institution(actor: User | None, institution_id: int) -> None:
    """Refuse unless the actor is an admin or staff of this institution."""
    if not permissions.can_manage_institution(actor, institution_id):
        raise PermissionDenied("只能查看和修改本单位的专利 (only your own institution's patents)")


def require_enterprise(actor: User | None, enterprise_id: int) -> None:
    """Refuse unless the actor is an admin or a user of this enterprise."""
    if not permissions.can_manage_enterprise(actor, enterprise_id):
        raise PermissionDenied(
            "只能查看推送给本企业的专利 (only patents pushed to your enterprise)"
        )


def review_levels(session: Session, *, actor: User, item: InventoryItem) -> set[str]:
    """The review levels ("college", "institution") the actor holds for this item."""
    if is_admin(actor):
        return {"college", "institution"}
    if not actor.is_active:
        return set()
    rows = session.scalars(
        select(ReviewerAssignment).where(
            ReviewerAssignment.user_id == actor.id,
            ReviewerAssignment.institution_id == item.institution_id,
        )
    )
    levels: set[str] = set()
    for row in rows:
        if row.level == "institution":
            levels.add("institution")
        elif row.level == "college" and row.college_id == item.college_id:
            levels.add("college")
    return levels
