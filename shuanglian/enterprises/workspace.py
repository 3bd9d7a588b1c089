"""Enterprise workspace edits: an enterprise's profile and its technical demands (我的需求).

The web workspace and the JSON API both call these functions, so each edit is validated and
permission-checked in one place. Every function checks that the actor may manage the
enterprise (one of its own users, or an admin), validates the whole input before it touches a
row — a refused edit leaves the row exactly as it was — then flushes and leaves the commit to
the caller.

Field rules are the importers' (`validators.py`): an industry code must exist in GB/T 4754-2017
and is stored bare (`C3311` → `3311`), so a filter by 大类 finds rows typed in the form and rows
imported from a file alike; a budget is in 万元 人民币 and may be written `50` or `50万元`; a
date takes any form `text.dates.parse_date` reads. Text lengths follow the columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.audit import record_audit
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.enterprises.service import (
    DEMAND_STATUSES,
    DEMAND_VISIBILITY,
    demand_search_text,
    enterprise_search_text,
    get_demand,
    get_enterprise,
)
from shuanglian.enterprises.validators import parse_budget, validate_industry_code
from shuanglian.errors import DomainError, PermissionDenied
from shuanglian.text.dates import parse_date
from shuanglian.text.normalize import is_storable

# Free-text limits for Text columns: long enough for a real 经营范围 (registrations run to a
# few hundred characters) and small enough that one row cannot bloat the search index.
MAX_SCOPE_CHARS = 5000
MAX_DESCRIPTION_CHARS = 5000


@dataclass(frozen=True)
class ProfileInput:
    """The profile fields an enterprise maintains itself; the rest comes from its registration.

    The business scope doubles as the place to state technology needs: matching reads it.
    Empty text clears a field.
    """

    business_scope: str | None = None
    industry_code: str | None = None


@dataclass(frozen=True)
class DemandInput:
    """A technical demand as a person submits it (form text or JSON values).

    `budget` and `deadline` take text (parsed here) or typed values; `status` None keeps the
    current status on update and means "open" on create.
    """

    title: str
    description: str | None = None
    industry_code: str | None = None
    budget: Decimal | str | None = None
    deadline: date | str | None = None
    region: str | None = None
    status: str | None = None
    # None keeps the current one on update and means "public" on create; the workspace form
    # has no default and asks the person to choose before publishing.
    visibility: str | None = None


def workspace_enterprise_id(actor: User | None) -> int:
    """The enterprise an enterprise user works for; admins have none to act as."""
    user = perm.require_role(actor, perm.ENTERPRISE_USER)
    if user.enterprise_id is None:
        raise PermissionDenied("账号未关联企业 (this account has no enterprise)")
    return int(user.enterprise_id)


def update_enterprise_profile(
    session: Session, *, actor: User | None, enterprise_id: int, data: ProfileInput
) -> Enterprise:
    """Replace an enterprise's business scope and industry code (its own users, or admin)."""
    perm.require_login(actor)
    enterprise = get_enterprise(session, enterprise_id=enterprise_id)
    perm.require_enterprise(actor, enterprise.id)
    values = _clean_profile(data)
    before = {key: getattr(enterprise, key) for key in values}
    for key, value in values.items():
        setattr(enterprise, key, value)
    enterprise.search_text = enterprise_search_text(enterprise.name, enterprise.business_scope)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="enterprise.update",
        subject=enterprise,
        detail={"before": before, "after": values},
    )
    return enterprise


def create_demand(
    session: Session, *, actor: User | None, enterprise_id: int, data: DemandInput
) -> Demand:
    """Publish a technical demand for an enterprise (its own users, or admin)."""
    perm.require_login(actor)
    enterprise = get_enterprise(session, enterprise_id=enterprise_id)
    perm.require_enterprise(actor, enterprise.id)
    values = _clean_demand(data)
    values["status"] = values["status"] or "open"
    values["visibility"] = values["visibility"] or "public"
    demand = Demand(enterprise_id=enterprise.id, **values)
    demand.search_text = demand_search_text(demand.title, demand.description)
    session.add(demand)
    session.flush()
    record_audit(
        session, actor=actor, action="demand.create", subject=demand, detail={"after": values}
    )
    return demand


def demand_for_editing(session: Session, *, actor: User | None, demand_id: int) -> Demand:
    """The demand, once the actor is known to manage its enterprise (own users, or admin).

    Demands are public, so refusing with 403 rather than pretending the demand is missing
    reveals nothing.
    """
    perm.require_login(actor)
    demand = get_demand(session, demand_id=demand_id)
    perm.require_enterprise(actor, demand.enterprise_id)
    return demand


def update_demand(
    session: Session, *, actor: User | None, demand_id: int, data: DemandInput
) -> Demand:
    """Edit a demand's text and terms, and open or close it."""
    demand = demand_for_editing(session, actor=actor, demand_id=demand_id)
    values = _clean_demand(data)
    for key in ("status", "visibility"):
        if values[key] is None:
            del values[key]
    before = {key: getattr(demand, key) for key in values}
    for key, value in values.items():
        setattr(demand, key, value)
    demand.search_text = demand_search_text(demand.title, demand.description)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="demand.update",
        subject=demand,
        detail={"before": before, "after": values},
    )
    return demand


# --------------------------------------------------------------------------- validation


def _clean_profile(data: ProfileInput) -> dict[str, Any]:
    return {
        "business_scope": _text(
            data.business_scope, field="business_scope", label="经营范围", limit=MAX_SCOPE_CHARS
        ),
        "industry_code": _industry(data.industry_code),
    }


def _clean_demand(data: DemandInput) -> dict[str, Any]:
    """Every demand field checked and normalised; DomainError naming the first bad field."""
    title = _text(data.title, field="title", label="需求标题", limit=_length(Demand, "title"))
    if not title:
        raise DomainError("需求标题不能为空（title is required）", field="title")
    values: dict[str, Any] = {
        "title": title,
        "description": _text(
            data.description, field="description", label="需求描述", limit=MAX_DESCRIPTION_CHARS
        ),
        "industry_code": _industry(data.industry_code),
        "budget": _budget(data.budget),
        "deadline": _deadline(data.deadline),
        "region": _text(data.region, field="region", label="地区", limit=_length(Demand, "region")),
        "status": None,
    }
    if data.status is not None:
        status = data.status.strip()
        if status not in DEMAND_STATUSES:
            raise DomainError(
                f"状态须为 {' 或 '.join(DEMAND_STATUSES)}"
                f"（status must be {' or '.join(DEMAND_STATUSES)}）",
                field="status",
            )
        values["status"] = status
    values["visibility"] = None
    if data.visibility is not None:
        visibility = data.visibility.strip()
        if visibility not in DEMAND_VISIBILITY:
            raise DomainError(
                "请选择公开方式：公开、匿名或仅对匹配的机构可见"
                "（choose who sees it: public, anonymous or matched institutions only）",
                field="visibility",
            )
        values["visibility"] = visibility
    return values


def _text(value: str | None, *, field: str, label: str, limit: int) -> str | None:
    """Stripped text, None when empty; refuses what the column cannot hold.

    NUL and lone surrogates arrive only from crafted requests; PostgreSQL cannot store either,
    so they are refused here as bad input rather than failing in the database.
    """
    text = (value or "").strip()
    if not text:
        return None
    if not is_storable(text):
        raise DomainError(f"{label}含无效字符（invalid characters）", field=field)
    if len(text) > limit:
        raise DomainError(
            f"{label}最多 {limit} 个字符，实际 {len(text)}"
            f"（at most {limit} characters, got {len(text)}）",
            field=field,
        )
    return text


def _industry(value: str | None) -> str | None:
    try:
        return validate_industry_code(value)
    except ValueError as exc:
        raise DomainError(str(exc), field="industry_code") from exc


def _budget(value: Decimal | str | None) -> Decimal | None:
    try:
        return parse_budget(value)
    except ValueError as exc:
        raise DomainError(str(exc), field="budget") from exc


def _deadline(value: date | str | None) -> date | None:
    try:
        return parse_date(value)
    except ValueError as exc:
        raise DomainError(str(exc), field="deadline") from exc


def _length(model: type[Demand], column: str) -> int:
    length = getattr(model.__table__.c[column].type, "length", None)
    assert isinstance(length, int), f"{column} has no declared length"
    return length


__all__ = [
    "DemandInput",
    "ProfileInput",
    "create_demand",
    "demand_for_editing",
    "update_demand",
    "update_enterprise_profile",
    "workspace_enterprise_id",
]
