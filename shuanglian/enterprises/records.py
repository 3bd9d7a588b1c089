"""One enterprise record created by hand (an administrator's form), not by an import file.

Imports remain the way to load enterprises in bulk; this is for the one company that phoned in.
The credit code, when given, must pass the GB 32100-2015 check digit and be unused.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.audit import record_audit, snapshot
from shuanglian.enterprises.models import Enterprise
from shuanglian.enterprises.service import enterprise_search_text
from shuanglian.enterprises.validators import validate_credit_code, validate_industry_code
from shuanglian.errors import DomainError


def create_enterprise(
    session: Session,
    *,
    actor: User | None,
    name: str,
    credit_code: str | None = None,
    industry_code: str | None = None,
    province: str | None = None,
    business_scope: str | None = None,
) -> Enterprise:
    """Add one enterprise (an admin); refuses a bad or already registered credit code."""
    perm.require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise DomainError("企业名称不能为空 (enterprise name required)", field="name")
    if len(name) > 300:
        raise DomainError("企业名称最多 300 字 (at most 300 characters)", field="name")
    code = None
    if credit_code and credit_code.strip():
        try:
            code = validate_credit_code(credit_code)
        except ValueError as exc:
            raise DomainError(str(exc), field="credit_code") from None
        if session.scalar(select(Enterprise.id).where(Enterprise.credit_code == code)):
            raise DomainError(
                f"统一社会信用代码 {code} 已登记 (credit code already registered)",
                field="credit_code",
            )
    try:
        industry = validate_industry_code(industry_code)
    except ValueError as exc:
        raise DomainError(str(exc), field="industry_code") from None
    scope = (business_scope or "").strip() or None
    enterprise = Enterprise(
        name=name,
        credit_code=code,
        industry_code=industry,
        province=(province or "").strip()[:50] or None,
        business_scope=scope,
        search_text=enterprise_search_text(name, scope),
    )
    session.add(enterprise)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="enterprise.create",
        subject=enterprise,
        detail={"text": name, "before": None, "after": snapshot(enterprise)},
    )
    return enterprise
