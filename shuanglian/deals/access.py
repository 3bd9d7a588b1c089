"""Who may see and act on a deal or a contract.

A deal's documents, amounts and log are confidential to its parties: staff of its institution,
users of its enterprise, its manager, and admins. Anyone else gets "not found", so the
existence of a negotiation does not leak.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import (
    ADMIN,
    ENTERPRISE_USER,
    INSTITUTION_STAFF,
    TECH_MANAGER,
    require_login,
)
from shuanglian.deals.models import Contract, Deal, Manager
from shuanglian.errors import NotFound, PermissionDenied


def manager_id_of(session: Session, user: User | None) -> int | None:
    """The manager profile id of a tech_manager user, if they have one."""
    if user is None or user.role != TECH_MANAGER:
        return None
    return session.scalar(select(Manager.id).where(Manager.user_id == user.id))


def is_party(session: Session, user: User | None, deal: Deal) -> bool:
    """Whether the user is one of the deal's parties (or an admin)."""
    if user is None or not user.is_active:
        return False
    if user.role == ADMIN:
        return True
    if user.role == INSTITUTION_STAFF:
        return user.institution_id == deal.institution_id
    if user.role == ENTERPRISE_USER:
        return user.enterprise_id == deal.enterprise_id
    if user.role == TECH_MANAGER:
        return deal.manager_id is not None and manager_id_of(session, user) == deal.manager_id
    return False


def require_deal_view(session: Session, user: User | None, deal_id: int) -> Deal:
    """The deal when the user is a party; otherwise "not found" (its existence is private)."""
    require_login(user)
    deal = session.get(Deal, deal_id)
    if deal is None or not is_party(session, user, deal):
        raise NotFound("洽谈项目不存在 (deal not found)")
    return deal


def may_work(session: Session, user: Any, deal: Deal) -> None:
    """Moving a deal on is for its manager, its institution's staff and admins."""
    if user is None or not is_party(session, user, deal) or user.role == ENTERPRISE_USER:
        raise PermissionDenied(
            "只有本项目的技术经理人、机构工作人员或管理员可以推进 "
            "(only the deal's manager, institution staff or an admin may do this)"
        )


def require_deal_work(session: Session, user: User | None, deal_id: int) -> Deal:
    """The deal, when the user may work on it (view first, so outsiders see "not found")."""
    deal = require_deal_view(session, user, deal_id)
    may_work(session, user, deal)
    return deal


def deals_visible_to(session: Session, user: User) -> ColumnElement[bool]:
    """A WHERE clause selecting the deals `user` may see."""
    if user.role == ADMIN:
        return true()
    if user.role == INSTITUTION_STAFF and user.institution_id is not None:
        return Deal.institution_id == user.institution_id
    if user.role == ENTERPRISE_USER and user.enterprise_id is not None:
        return Deal.enterprise_id == user.enterprise_id
    mid = manager_id_of(session, user)
    if mid is not None:
        return Deal.manager_id == mid
    return false()


def contract_visible(session: Session, user: User | None, contract: Contract) -> bool:
    """Parties of the contract (or of its deal) and admins."""
    if user is None or not user.is_active:
        return False
    if user.role == ADMIN:
        return True
    if user.role == INSTITUTION_STAFF and user.institution_id == contract.institution_id:
        return True
    if user.role == ENTERPRISE_USER and user.enterprise_id == contract.enterprise_id:
        return True
    if contract.deal_id is not None:
        deal = session.get(Deal, contract.deal_id)
        return deal is not None and is_party(session, user, deal)
    return False


def require_contract_view(session: Session, user: User | None, contract_id: int) -> Contract:
    """The contract when the user is a party; otherwise "not found"."""
    require_login(user)
    contract = session.get(Contract, contract_id)
    if contract is None or not contract_visible(session, user, contract):
        raise NotFound("合同不存在 (contract not found)")
    return contract


def contracts_visible_to(session: Session, user: User) -> ColumnElement[bool]:
    """A WHERE clause selecting the contracts `user` may see."""
    if user.role == ADMIN:
        return true()
    if user.role == INSTITUTION_STAFF and user.institution_id is not None:
        return Contract.institution_id == user.institution_id
    if user.role == ENTERPRISE_USER and user.enterprise_id is not None:
        return Contract.enterprise_id == user.enterprise_id
    mid = manager_id_of(session, user)
    if mid is not None:
        return or_(Contract.deal_id.in_(select(Deal.id).where(Deal.manager_id == mid)))
    return false()
