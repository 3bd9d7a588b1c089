"""Who may do what: role checks and per-object checks, called by services (not only routes).

Anonymous visitors are `None`. Every check raises `PermissionDenied` with a message a person can
act on; the web layer turns it into a 403 page or the JSON error shape.
"""

from __future__ import annotations

from shuanglian.accounts.models import User
from shuanglian.errors import PermissionDenied

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


def require_login(user: User | None) -> User:
    """Return the user, or refuse an anonymous visitor."""
    if user is None or not user.is_active:
        raise PermissionDenied("请先登录 (please log in)")
    return user


def require_role(user: User | None, *roles: str) -> User:
    """Return the user when their role is one of `roles` (admin always passes)."""
    user = require_login(user)
    if user.role != ADMIN and user.role not in roles:
        raise PermissionDenied("您的角色无权进行此操作 (your role may not do this)")
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
    """Refuse anyone who is not admin or staff of `institution_id`."""
    user = require_login(user)
    if not can_manage_institution(user, institution_id):
        raise PermissionDenied("只能管理本机构的数据 (only your own institution's data)")
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
    """Refuse anyone who is not admin or a user of `enterprise_id`."""
    user = require_login(user)
    if not can_manage_enterprise(user, enterprise_id):
        raise PermissionDenied("只能管理本企业的数据 (only your own enterprise's data)")
    return user
