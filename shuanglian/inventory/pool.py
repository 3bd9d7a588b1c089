"""The convertible pool (可转化资源库): entering, leaving and listing pooled patents."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import college_ids_for, is_admin, require_institution
from shuanglian.audit import record_audit, snapshot
from shuanglian.db import utcnow
from shuanglian.errors import DomainError, NotFound
from shuanglian.inventory.models import InventoryItem, PoolEntry
from shuanglian.patents.models import Patent
from shuanglian.supermarket.service import withdraw_listings_of_patent

# Legal-status words (CNIPA 法律状态) meaning the right is gone; "有权" or pending keep a patent.
LAPSED_MARKERS = ("无权", "失效", "终止", "届满", "撤回", "驳回", "放弃", "未缴年费", "视为")


def is_lapsed(legal_status: str | None) -> bool:
    """True when a CNIPA legal status says the right has ended (无权, 未缴年费终止, 届满 ...)."""
    if not legal_status:
        return False
    return any(marker in legal_status for marker in LAPSED_MARKERS)


def enter_pool(session: Session, *, actor: User | None, patent: Patent) -> PoolEntry:
    """Put an approved patent into the pool (or back into it), logging the change."""
    if patent.institution_id is None:
        raise DomainError("专利没有所属单位，不能入库 (patent has no institution)")
    if is_lapsed(patent.legal_status):
        raise DomainError(
            f"专利法律状态为“{patent.legal_status}”，已失效，不能入库 "
            "(lapsed patents cannot be pooled)"
        )
    entry = session.scalar(select(PoolEntry).where(PoolEntry.patent_id == patent.id))
    before = snapshot(entry) if entry is not None else None
    if entry is None:
        entry = PoolEntry(patent_id=patent.id, institution_id=patent.institution_id)
        session.add(entry)
    elif entry.active:
        raise DomainError("该专利已在可转化资源库中 (already in the pool)")
    entry.active = True
    entry.entered_at = utcnow()
    entry.left_at = None
    entry.leave_reason = None
    record_audit(
        session,
        actor=actor,
        action="pool.enter",
        subject=entry,
        detail={"before": before, "after": snapshot(entry)},
    )
    return entry


def leave_pool(session: Session, *, actor: User | None, patent_id: int, reason: str) -> PoolEntry:
    """Take a patent out of the pool with the reason logged (lapse or withdrawal)."""
    entry = session.scalar(select(PoolEntry).where(PoolEntry.patent_id == patent_id))
    if entry is None or not entry.active:
        raise DomainError("该专利不在可转化资源库中 (patent is not in the pool)")
    before = snapshot(entry)
    entry.active = False
    entry.left_at = utcnow()
    entry.leave_reason = reason
    record_audit(
        session,
        actor=actor,
        action="pool.leave",
        subject=entry,
        detail={"before": before, "after": snapshot(entry), "comment": reason},
    )
    # Cross-domain consequence, same transaction: what left the pool is no longer on sale.
    withdraw_listings_of_patent(session, actor=actor, patent_id=patent_id, reason=reason)
    return entry


def list_pool(
    session: Session,
    *,
    actor: User | None = None,
    institution_id: int | None = None,
    tier: int | None = None,
    grade: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[tuple[PoolEntry, Patent]]:
    """Active pool entries with their patents, best score first; staff see only their own."""
    if actor is not None and not is_admin(actor):
        if actor.institution_id is None:
            raise NotFound("没有可查看的资源库 (no pool visible to this account)")
        if institution_id is not None:
            require_institution(actor, institution_id)
        institution_id = actor.institution_id
    stmt = (
        select(PoolEntry, Patent)
        .join(Patent, Patent.id == PoolEntry.patent_id)
        .where(PoolEntry.active.is_(True))
    )
    colleges = college_ids_for(session, actor)
    if colleges is not None:
        stmt = stmt.join(InventoryItem, InventoryItem.patent_id == PoolEntry.patent_id).where(
            InventoryItem.college_id.in_(colleges)
        )
    if institution_id is not None:
        stmt = stmt.where(PoolEntry.institution_id == institution_id)
    if tier is not None:
        stmt = stmt.where(PoolEntry.tier == tier)
    if grade is not None:
        stmt = stmt.where(PoolEntry.grade == grade)
    stmt = stmt.order_by(PoolEntry.score.desc().nulls_last(), PoolEntry.patent_id)
    rows = session.execute(stmt.limit(limit).offset(offset)).all()
    return [(entry, patent) for entry, patent in rows]
