"""Who may do what: role checks and per-object checks, called by services (not only routes).

The one permission module for every domain. Anonymous visitors are `None`. Every `require_*`
check returns the (active) user it let through, or raises `PermissionDenied` with a sentence a
person can act on; the web layer turns it into a 403 page or the JSON error shape. The `can_*` /
`is_*` forms answer the same question as a bool for pages that only hide a button.

Institution staff act only on their own institution; reviewers are named per level (college or
institution) in `ReviewerAssignment`; enterprise users act only for their own enterprise.
Admins (platform operators, local bureaus) may act everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.errors import PermissionDenied

if TYPE_CHECKING:  # only for the annotation: inventory's models never import this module
    from shuanglian.inventory.models import InventoryItem

ADMIN = "admin"
INSTITUTION_STAFF = "institution_staff"
ENTERPRISE_USER = "enterprise_user"
TECH_MANAGER = "tech_manager"
PILOT_PLATFORM = "pilot_platform"

ROLE_LABELS = {
    ADMIN: ("管理员", "Administrator"),
    INSTITUTION_STAFF: ("机构工作人员", "Institution staff"),
    ENTERPRISE_USER: ("企业用户", "Enterprise user"),
    TECH_MANAGER: ("技术经理人", "Technology manager"),
    PILOT_PLATFORM: ("中试平台", "Pilot platform"),
}

MSG_LOGIN = "请先登录 (please log in)"
MSG_ROLE = "您的角色无权进行此操作 (your role may not do this)"
MSG_ADMIN = "只有平台管理员可以执行此操作 (admin only)"
MSG_INSTITUTION = "只能管理本单位的数据 (only your own institution's data)"
MSG_ENTERPRISE = "只能管理本企业的数据 (only your own enterprise's data)"
MSG_COLLEGE = "只能管理本学院的数据 (only your own college's data)"


def is_admin(user: User | None) -> bool:
    """Platform operators (and local bureaus configured as admins) see every institution."""
    return user is not None and user.is_active and user.role == ADMIN


def require_login(user: User | None) -> User:
    """Return the user, or refuse an anonymous visitor."""
    if user is None or not user.is_active:
        raise PermissionDenied(MSG_LOGIN)
    return user


def require_role(user: User | None, *roles: str) -> User:
    """Return the user when their role is one of `roles` (admin always passes)."""
    user = require_login(user)
    if user.role != ADMIN and user.role not in roles:
        raise PermissionDenied(MSG_ROLE)
    return user


def require_admin(user: User | None) -> User:
    """Return the user if an admin (platform-wide jobs such as push rounds and sync)."""
    user = require_login(user)
    if user.role != ADMIN:
        raise PermissionDenied(MSG_ADMIN)
    return user


def can_manage_institution(user: User | None, institution_id: int | None) -> bool:
    """Admin, or staff of that very institution."""
    if user is None or not user.is_active:
        return False
    if user.role == ADMIN:
        return True
    return (
        user.role == INSTITUTION_STAFF
        and institution_id is not None
        and user.institution_id == institution_id
    )


def require_institution(user: User | None, institution_id: int | None) -> User:
    """Return the user if admin or staff of `institution_id`; refuse anyone else."""
    user = require_login(user)
    if not can_manage_institution(user, institution_id):
        raise PermissionDenied(MSG_INSTITUTION)
    return user


def can_manage_enterprise(user: User | None, enterprise_id: int | None) -> bool:
    """Admin, or a user of that very enterprise."""
    if user is None or not user.is_active:
        return False
    if user.role == ADMIN:
        return True
    return (
        user.role == ENTERPRISE_USER
        and enterprise_id is not None
        and user.enterprise_id == enterprise_id
    )


def require_enterprise(user: User | None, enterprise_id: int | None) -> User:
    """Return the user if admin or a user of `enterprise_id`; refuse anyone else."""
    user = require_login(user)
    if not can_manage_enterprise(user, enterprise_id):
        raise PermissionDenied(MSG_ENTERPRISE)
    return user


def college_limit(user: User | None) -> str | None:
    """The college (学院) name institution staff are limited to; None = the whole institution.

    `User.college` names one college of the user's institution; such staff see and act only on
    inventory items routed to a college of that name (items not routed to any college are the
    institution's office's, not theirs).
    """
    if user is None or user.role != INSTITUTION_STAFF:
        return None
    return (user.college or "").strip() or None


def college_ids_for(session: Session, user: User | None) -> list[int] | None:
    """Ids of the colleges a college-limited user may act in; None = no college limit."""
    from shuanglian.inventory.models import College

    name = college_limit(user)
    if name is None or user is None:
        return None
    return list(
        session.scalars(
            select(College.id).where(
                College.institution_id == user.institution_id, College.name == name
            )
        )
    )


def can_manage_item(session: Session, user: User | None, item: InventoryItem) -> bool:
    """Admin, or staff of the item's institution (and of its college when limited to one)."""
    if not can_manage_institution(user, item.institution_id):
        return False
    allowed = college_ids_for(session, user)
    return allowed is None or item.college_id in allowed


def require_item(session: Session, user: User | None, item: InventoryItem) -> User:
    """Return the user if they may manage this inventory item; refuse anyone else."""
    user = require_institution(user, item.institution_id)
    if not can_manage_item(session, user, item):
        raise PermissionDenied(MSG_COLLEGE)
    return user


def can_see_item(session: Session, user: User | None, item: InventoryItem) -> bool:
    """Whether the item exists as far as this user is told: its managers and its reviewers."""
    if user is None or not user.is_active:
        return False
    return can_manage_item(session, user, item) or bool(
        review_levels(session, actor=user, item=item)
    )


def review_levels(session: Session, *, actor: User, item: InventoryItem) -> set[str]:
    """The review levels ("college", "institution") the actor holds for this inventory item."""
    from shuanglian.inventory.models import ReviewerAssignment  # inventory builds on accounts

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
