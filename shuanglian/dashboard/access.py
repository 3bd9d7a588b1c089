"""Who sees which dashboard: admins (platform operators, bureaus) every scope; institution
staff their own institution only; enterprise users their enterprise; managers their deals."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.deals.access import manager_id_of
from shuanglian.enterprises.models import Enterprise
from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.figures import Scope
from shuanglian.patents.models import Institution

MAX_CHOICES = 500


def dashboard_scope(
    session: Session,
    user: User | None,
    *,
    institution_id: int | None,
    region: str | None,
    period: str | None,
) -> Scope:
    """The scope a user may look at: admin any; staff only their own institution (a region
    filter means nothing there and is ignored); everyone else is refused."""
    user = perm.require_login(user)
    if user.role == perm.INSTITUTION_STAFF:
        if institution_id is not None and institution_id != user.institution_id:
            raise PermissionDenied(perm.MSG_INSTITUTION)
        if user.institution_id is None:
            raise PermissionDenied(perm.MSG_INSTITUTION)
        institution_id, region = user.institution_id, None
    elif user.role != perm.ADMIN:
        raise PermissionDenied(perm.MSG_ROLE)
    elif institution_id is not None and session.get(Institution, institution_id) is None:
        raise NotFound("机构不存在 (institution not found)")
    try:
        return Scope.parse(institution_id=institution_id, region=region or None,
                           period=period or None)  # fmt: skip
    except ValueError as exc:
        field = "period" if "统计期" in str(exc) else "region"
        raise DomainError(str(exc), field=field) from exc


def institution_choices(session: Session, user: User | None) -> list[tuple[int, str]]:
    """Institutions an admin may pick (by name, first 500); none for anyone else."""
    if not perm.is_admin(user):
        return []
    rows = session.execute(select(Institution.id, Institution.name).order_by(Institution.name)
                           .limit(MAX_CHOICES))  # fmt: skip
    return [(int(i), n) for i, n in rows]


def enterprise_scope(
    session: Session, user: User | None, *, enterprise_id: int | None
) -> Enterprise:
    """The enterprise whose view this is: the user's own, or (admin) the one asked for."""
    user = perm.require_login(user)
    if user.role == perm.ENTERPRISE_USER:
        if enterprise_id is not None and enterprise_id != user.enterprise_id:
            raise PermissionDenied(perm.MSG_ENTERPRISE)
        enterprise_id = user.enterprise_id
    elif user.role != perm.ADMIN:
        raise PermissionDenied(perm.MSG_ROLE)
    ent = session.get(Enterprise, enterprise_id) if enterprise_id is not None else None
    if ent is None:
        raise NotFound("企业不存在，请在地址中指定 enterprise_id (enterprise not found)")
    return ent


def manager_scope(session: Session, user: User | None) -> int | None:
    """A technology manager's profile id (None before they registered one: an empty view)."""
    user = perm.require_login(user)
    if user.role != perm.TECH_MANAGER:
        raise PermissionDenied(perm.MSG_ROLE)
    return manager_id_of(session, user)
