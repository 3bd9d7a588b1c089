"""Technology managers (技术经理人): the registry, track records and suggestions for a deal.

A track record is computed from the manager's deals and contracts every time it is shown, so it
cannot be typed in or drift. Suggestions score how a manager's fields (IPC codes and GB/T 4754
industries) meet the deal's patents and enterprise, using the engine's IPC parsing and its
IPC ↔ industry link, then discount by current workload; each comes with its reasons.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import ADMIN, TECH_MANAGER, require_login
from shuanglian.audit import record_audit, snapshot
from shuanglian.deals import access
from shuanglian.deals.models import Contract, Deal, DealActivity, DealItem, Manager
from shuanglian.deals.pipeline import OPEN_STAGES, STAGES
from shuanglian.deals.schemas import ManagerIn, parse
from shuanglian.engine.ipc import ipc_subclass
from shuanglian.enterprises.models import Enterprise
from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.patents.models import Patent

# Each open deal a manager carries lowers their suggestion score by this fraction of itself:
# a manager with 4 open deals ranks like one with a 1/(1+4·0.15) = 62 % field match.
WORKLOAD_WEIGHT = 0.15


def save_manager(
    session: Session,
    *,
    actor: User | None,
    data: ManagerIn | dict[str, Any],
    manager_id: int | None = None,
) -> Manager:
    """Register or update a manager's profile (the manager themself, or an admin)."""
    actor = require_login(actor)
    data = parse(ManagerIn, data)
    if actor.role != ADMIN and actor.id != data.user_id:
        raise PermissionDenied("只能维护自己的档案 (only your own profile)")
    user = session.get(User, data.user_id)
    if user is None or user.role != TECH_MANAGER:
        raise DomainError(
            "档案须关联一个“技术经理人”角色的用户 (user must have the tech_manager role)",
            field="user_id",
        )
    if manager_id is None:
        existing = session.scalar(select(Manager).where(Manager.user_id == data.user_id))
        if existing is not None:
            raise DomainError("该用户已有档案 (profile exists)", field="user_id")
        manager = Manager(user_id=data.user_id)
        session.add(manager)
    else:
        found = session.get(Manager, manager_id)
        if found is None:
            raise NotFound("技术经理人不存在 (manager not found)")
        if found.user_id != data.user_id:
            raise DomainError("不能更换档案所属用户 (user cannot change)", field="user_id")
        manager = found
    for key, value in data.model_dump(exclude={"user_id"}).items():
        setattr(manager, key, value)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="manager.save",
        subject=manager,
        detail=snapshot(manager),
        institution_id=manager.institution_id,
    )
    return manager


def get_manager(session: Session, *, manager_id: int) -> Manager:
    """One manager's profile."""
    manager = session.get(Manager, manager_id)
    if manager is None:
        raise NotFound("技术经理人不存在 (manager not found)")
    return manager


def list_managers(session: Session, *, active_only: bool = True) -> list[Manager]:
    """The registry, by name."""
    stmt = select(Manager).order_by(Manager.name, Manager.id)
    if active_only:
        stmt = stmt.where(Manager.active.is_(True))
    return list(session.scalars(stmt))


@dataclass
class TrackRecord:
    """What a manager's deals show: counts by stage, contract amounts, speed to contract."""

    by_stage: dict[str, int] = field(default_factory=dict)
    deals: int = 0
    open_deals: int = 0
    contracts: int = 0
    amount: Decimal = Decimal(0)  # 万元, contracts on their deals
    median_days_to_contract: float | None = None


def track_records(session: Session, *, manager_ids: list[int]) -> dict[int, TrackRecord]:
    """Track records for several managers with a few grouped queries."""
    out = {m: TrackRecord(by_stage={s: 0 for s in STAGES}) for m in manager_ids}
    if not manager_ids:
        return out
    for mid, stage, n in session.execute(
        select(Deal.manager_id, Deal.stage, func.count())
        .where(Deal.manager_id.in_(manager_ids))
        .group_by(Deal.manager_id, Deal.stage)
    ):
        rec = out[mid or 0]
        rec.by_stage[stage] = int(n)
        rec.deals += int(n)
        if stage in OPEN_STAGES:
            rec.open_deals += int(n)
    for mid, n, amount in session.execute(
        select(
            Deal.manager_id, func.count(Contract.id), func.coalesce(func.sum(Contract.amount), 0)
        )
        .join(Contract, Contract.deal_id == Deal.id)
        .where(Deal.manager_id.in_(manager_ids))
        .group_by(Deal.manager_id)
    ):
        out[mid or 0].contracts = int(n)
        out[mid or 0].amount = Decimal(amount)
    # Days from opening to the step into 签约, as the timeline recorded it.
    days: dict[int, list[int]] = {m: [] for m in manager_ids}
    for mid, opened, signed in session.execute(
        select(Deal.manager_id, Deal.opened_on, func.min(DealActivity.on))
        .join(DealActivity, DealActivity.deal_id == Deal.id)
        .where(
            Deal.manager_id.in_(manager_ids),
            DealActivity.kind == "stage",
            DealActivity.to_stage == "contract",
        )
        .group_by(Deal.id, Deal.manager_id, Deal.opened_on)
    ):
        days[mid or 0].append((signed - opened).days)
    for mid, values in days.items():
        if values:
            out[mid].median_days_to_contract = float(statistics.median(values))
    return out


def track_record(session: Session, *, manager_id: int) -> TrackRecord:
    """One manager's track record."""
    get_manager(session, manager_id=manager_id)
    return track_records(session, manager_ids=[manager_id])[manager_id]


@dataclass
class Suggestion:
    manager: Manager
    score: float
    field_score: float
    open_deals: int
    reasons: list[str]


def _deal_codes(session: Session, deal: Deal) -> tuple[list[str], str | None]:
    ipcs: list[str] = []
    for main, codes in session.execute(
        select(Patent.main_ipc, Patent.ipc_codes)
        .join(DealItem, DealItem.patent_id == Patent.id)
        .where(DealItem.deal_id == deal.id)
    ):
        ipcs.extend([main] if main else [])
        ipcs.extend(codes or [])
    industry = session.scalar(
        select(Enterprise.industry_code).where(Enterprise.id == deal.enterprise_id)
    )
    return list(dict.fromkeys(ipcs)), industry


def field_match(manager: Manager, ipcs: list[str], industry: str | None) -> tuple[float, list[str]]:
    """How well a manager's fields cover the patents' IPC codes and the enterprise's industry
    (0–1), with the reasons. Exact IPC subclass 1.0, same IPC class 0.5; an industry of theirs
    the engine's IPC ↔ industry link connects to the patents adds up to 0.5; the enterprise's
    own industry among theirs adds 0.5. Capped at 1."""
    from shuanglian.engine.prior import industry_key
    from shuanglian.matching.service import industry_link

    reasons: list[str] = []
    score = 0.0
    deal_subs = {s for s in (ipc_subclass(c) for c in ipcs) if s}
    own_subs = {s for s in (ipc_subclass(c) or c[:4] for c in manager.ipc_fields) if s}
    exact = sorted(deal_subs & own_subs)
    if exact:
        score += 1.0
        reasons.append("擅长分类号与专利一致 (same IPC subclass): " + "、".join(exact))
    else:
        near = sorted({s[:3] for s in deal_subs} & {s[:3] for s in own_subs})
        if near:
            score += 0.5
            reasons.append("擅长分类号与专利同属一类 (same IPC class): " + "、".join(near))
    own_ind = [c for c in manager.industry_fields if industry_key(c)]
    if own_ind and deal_subs:
        link = industry_link()
        profile = link.industry_profile(sorted(deal_subs))
        best, best_code = 0.0, ""
        for code in own_ind:
            idx = link.industry_index(code)
            if idx >= 0 and float(profile[idx]) > best:
                best, best_code = float(profile[idx]), code
        if best > 0:
            # The profile's weights sum to about 1 over all industries; 0.2 is a strong link.
            part = min(0.5, best / 0.2 * 0.5)
            score += part
            reasons.append(
                f"擅长行业 {best_code} 与专利技术领域相关 (IPC ↔ industry link {best:.2f})"
            )
    ent_key = industry_key(industry)
    if ent_key and any(
        (k := industry_key(c)) and (ent_key.startswith(k) or k.startswith(ent_key)) for c in own_ind
    ):
        score += 0.5
        reasons.append(f"熟悉企业所在行业 (knows the enterprise's industry {industry})")
    return min(score, 1.0), reasons


def suggest_managers(
    session: Session, *, actor: User | None, deal_id: int, top: int = 5
) -> list[Suggestion]:
    """Managers for a deal, best first: field match discounted by open deals, explained."""
    deal = access.require_deal_view(session, actor, deal_id)
    ipcs, industry = _deal_codes(session, deal)
    managers = list_managers(session)
    records = track_records(session, manager_ids=[m.id for m in managers])
    out = []
    for manager in managers:
        fit, reasons = field_match(manager, ipcs, industry)
        load = records[manager.id].open_deals
        score = fit / (1 + WORKLOAD_WEIGHT * load)
        reasons = reasons or ["擅长领域与本项目无直接重合 (no field overlap)"]
        reasons.append(f"当前在办项目 {load} 个 (open deals: {load})")
        if manager.institution_id == deal.institution_id:
            score += 0.05
            reasons.append("本机构技术转移人员 (from the institution's own TTO)")
        out.append(Suggestion(manager, round(score, 4), round(fit, 4), load, reasons))
    out.sort(key=lambda s: (-s.score, s.open_deals, s.manager.id))
    return out[:top]
