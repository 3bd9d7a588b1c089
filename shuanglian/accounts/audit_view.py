"""Reading the audit log (`/admin/audit`, `/api/v1/audit`): filters, who may see what, and
each entry in words — the action's name, the record it concerns (with a link where that record
has a page) and one line of detail, such as the file name and counts of an import.

Admins see every entry; an institution's staff see the entries that concern their institution
(`audit_log.institution_id`); everyone else is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import ApiToken, User
from shuanglian.audit import (
    AUDIT_ACTION_LABELS,
    SUBJECT_LABELS,
    AuditEntry,
    action_label,
    detail_line,
    subject_type_label,
)
from shuanglian.clock import DEFAULT_TIMEZONE, in_zone, zone
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.errors import DomainError, PermissionDenied
from shuanglian.inventory.models import (
    College,
    Feedback,
    InventoryBatch,
    InventoryItem,
    PoolEntry,
    PushRound,
    SelfAssessment,
)
from shuanglian.patents.models import Institution, Patent
from shuanglian.supermarket.models import Inquiry, Listing

# Audit times are stored in UTC and shown, and filtered by day, on the configured clock.


@dataclass(frozen=True)
class AuditRow:
    """One entry as people read it."""

    entry: AuditEntry
    time: str  # "YYYY-MM-DD HH:MM:SS" in China Standard Time
    action_label: str
    subject: str  # e.g. "专利：一种无人机巡检方法", "" when the entry concerns no record
    link: str | None  # a page about the subject, when one exists
    detail: str


@dataclass(frozen=True)
class AuditFilter:
    """What to show: each field narrows the list; None means "any"."""

    username: str | None = None  # the actor's login name; "system" for jobs and the CLI
    action: str | None = None  # an exact action ("user.login") or a family ("import")
    subject_type: str | None = None  # a table name ("patents", "market_listings")
    date_from: date | None = None  # days on the `timezone` clock, both ends included
    date_to: date | None = None
    timezone: str = DEFAULT_TIMEZONE  # SHUANGLIAN_TIMEZONE: the clock days and times are read on


def parse_day(raw: str | None, *, field: str) -> date | None:
    """A YYYY-MM-DD from a GET form (empty means no bound), or a clear error naming the field."""
    if raw is None or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise DomainError(
            "日期格式须为 YYYY-MM-DD，例如 2025-03-01 (date must be YYYY-MM-DD)", field=field
        ) from None


def _day_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone(timezone)).astimezone(UTC)


def local_time(at: datetime, timezone: str = DEFAULT_TIMEZONE) -> str:
    """A stored timestamp (naive on SQLite means UTC) as text on the `timezone` clock."""
    return in_zone(at, timezone).strftime("%Y-%m-%d %H:%M:%S")


def _filtered(stmt: Select[Any], actor: User, flt: AuditFilter) -> Select[Any]:
    if actor.role != perm.ADMIN:
        stmt = stmt.where(AuditEntry.institution_id == actor.institution_id)
    if flt.username:
        stmt = stmt.where(AuditEntry.actor_name == flt.username.strip())
    if flt.action:
        action = flt.action.strip()
        if "." in action:
            stmt = stmt.where(AuditEntry.action == action)
        else:
            stmt = stmt.where(AuditEntry.action.like(f"{action}.%"))
    if flt.subject_type:
        stmt = stmt.where(AuditEntry.subject_type == flt.subject_type.strip())
    if flt.date_from:
        stmt = stmt.where(AuditEntry.at >= _day_start(flt.date_from, flt.timezone))
    if flt.date_to:
        stmt = stmt.where(AuditEntry.at < _day_start(flt.date_to + timedelta(days=1), flt.timezone))
    return stmt


def _may_read(actor: User | None) -> User:
    user = perm.require_login(actor)
    if user.role == perm.ADMIN:
        return user
    if user.role == perm.INSTITUTION_STAFF and user.institution_id is not None:
        return user
    raise PermissionDenied(
        "只有管理员和机构工作人员可以查看审计日志 (admins and institution staff only)"
    )


def list_audit_rows(
    session: Session,
    *,
    actor: User | None,
    flt: AuditFilter | None = None,
    offset: int = 0,
    limit: int = 50,
    lang: str = "zh",
) -> tuple[list[AuditRow], int]:
    """One page of the audit log the actor may read, newest first, in words; and the total."""
    user = _may_read(actor)
    flt = flt or AuditFilter()
    if flt.date_from and flt.date_to and flt.date_from > flt.date_to:
        raise DomainError(
            "开始日期不能晚于结束日期 (date_from must not be after date_to)", field="date_from"
        )
    stmt = _filtered(select(AuditEntry), user, flt).order_by(AuditEntry.id.desc())
    entries = list(session.scalars(stmt.offset(offset).limit(limit)))
    total = session.scalar(_filtered(select(func.count(AuditEntry.id)), user, flt)) or 0
    names = _subject_names(session, entries)
    rows = []
    for e in entries:
        key = (e.subject_type or "", e.subject_id or 0)
        name, link = names.get(key, (None, None))
        kind = subject_type_label(e.subject_type, lang)
        if e.subject_type is None:
            subject = ""
        elif name:
            subject = f"{kind}：{name}" if lang != "en" else f"{kind}: {name}"
        else:
            subject = f"{kind} #{e.subject_id}" if e.subject_id else kind
        rows.append(
            AuditRow(
                entry=e,
                time=local_time(e.at, flt.timezone),
                action_label=action_label(e.action, lang),
                subject=subject,
                link=link,
                detail=detail_line(e, lang),
            )
        )
    return rows, int(total)


# subject_type → (query of (id, name, link target id) for some ids, link pattern or None).
# The link target is the id the page is addressed by (a pool entry's page is its patent's).
_Namer = Callable[[list[int]], Any]  # a SELECT of (id, name, link target id)
_NAMERS: dict[str, tuple[_Namer, str | None]] = {
    "users": (lambda ids: select(User.id, User.username, User.id).where(User.id.in_(ids)), None),
    "api_tokens": (
        lambda ids: select(ApiToken.id, ApiToken.name, ApiToken.id).where(ApiToken.id.in_(ids)),
        None,
    ),
    "institutions": (
        lambda ids: select(Institution.id, Institution.name, Institution.id).where(
            Institution.id.in_(ids)
        ),
        "/patents?institution_id={}",
    ),
    "enterprises": (
        lambda ids: select(Enterprise.id, Enterprise.name, Enterprise.id).where(
            Enterprise.id.in_(ids)
        ),
        "/enterprises/{}",
    ),
    "demands": (
        lambda ids: select(Demand.id, Demand.title, Demand.id).where(Demand.id.in_(ids)),
        "/demands/{}",
    ),
    "patents": (
        lambda ids: select(Patent.id, Patent.title, Patent.id).where(Patent.id.in_(ids)),
        "/patents/{}",
    ),
    "inventory_colleges": (
        lambda ids: select(College.id, College.name, College.id).where(College.id.in_(ids)),
        None,
    ),
    "inventory_batches": (
        lambda ids: select(InventoryBatch.id, InventoryBatch.name, InventoryBatch.id).where(
            InventoryBatch.id.in_(ids)
        ),
        None,
    ),
    "inventory_items": (
        lambda ids: (
            select(InventoryItem.id, Patent.title, InventoryItem.id)
            .join(Patent, Patent.id == InventoryItem.patent_id)
            .where(InventoryItem.id.in_(ids))
        ),
        "/workspace/institution/items/{}",
    ),
    "inventory_self_assessments": (
        lambda ids: (
            select(SelfAssessment.id, Patent.title, InventoryItem.id)
            .join(InventoryItem, InventoryItem.id == SelfAssessment.item_id)
            .join(Patent, Patent.id == InventoryItem.patent_id)
            .where(SelfAssessment.id.in_(ids))
        ),
        "/workspace/institution/items/{}",
    ),
    "inventory_pool": (
        lambda ids: (
            select(PoolEntry.id, Patent.title, Patent.id)
            .join(Patent, Patent.id == PoolEntry.patent_id)
            .where(PoolEntry.id.in_(ids))
        ),
        "/patents/{}",
    ),
    "inventory_push_rounds": (
        lambda ids: select(PushRound.id, PushRound.matcher_name, PushRound.id).where(
            PushRound.id.in_(ids)
        ),
        None,
    ),
    "inventory_feedback": (
        lambda ids: (
            select(Feedback.id, Patent.title, Patent.id)
            .join(Patent, Patent.id == Feedback.patent_id)
            .where(Feedback.id.in_(ids))
        ),
        "/patents/{}",
    ),
    "market_listings": (
        lambda ids: select(Listing.id, Listing.title, Listing.id).where(Listing.id.in_(ids)),
        "/market/{}",
    ),
    "market_inquiries": (
        lambda ids: (
            select(Inquiry.id, Listing.title, Listing.id)
            .join(Listing, Listing.id == Inquiry.listing_id)
            .where(Inquiry.id.in_(ids))
        ),
        "/market/{}",
    ),
}


def _subject_names(
    session: Session, entries: list[AuditEntry]
) -> dict[tuple[str, int], tuple[str | None, str | None]]:
    """Names and page links of the entries' subjects: one query per kind of record."""
    wanted: dict[str, set[int]] = {}
    for e in entries:
        if e.subject_type in _NAMERS and e.subject_id is not None:
            wanted.setdefault(e.subject_type, set()).add(e.subject_id)
    out: dict[tuple[str, int], tuple[str | None, str | None]] = {}
    for kind, ids in wanted.items():
        namer, pattern = _NAMERS[kind]
        for row_id, name, target in session.execute(namer(sorted(ids))):
            link = pattern.format(target) if pattern else None
            out[(kind, row_id)] = (str(name) if name else None, link)
    return out


def action_choices(lang: str = "zh") -> list[tuple[str, str]]:
    """(value, label) for the action filter: each family ("import": every import), then each."""
    families: dict[str, None] = {a.split(".")[0]: None for a in AUDIT_ACTION_LABELS}
    family_names = {
        "user": ("账号", "accounts"),
        "token": ("API 令牌", "API tokens"),
        "institution": ("机构", "institutions"),
        "enterprise": ("企业", "enterprises"),
        "demand": ("技术需求", "demands"),
        "import": ("导入", "imports"),
        "college": ("院系", "colleges"),
        "reviewer": ("审核人", "reviewers"),
        "batch": ("盘点批次", "batches"),
        "item": ("盘点条目", "items"),
        "assessment": ("自评", "self-assessment"),
        "review": ("审核", "review"),
        "pool": ("资源库", "pool"),
        "push": ("推送", "pushes"),
        "feedback": ("企业反馈", "feedback"),
        "listing": ("成果", "listings"),
        "inquiry": ("咨询留言", "inquiries"),
        "challenge": ("揭榜挂帅榜单", "challenges"),
        "challenge_application": ("揭榜申请", "challenge applications"),
        "challenge_milestone": ("里程碑", "milestones"),
        "pilot": ("中试平台", "pilot platforms"),
        "pilot_booking": ("中试预约", "pilot bookings"),
        "manager": ("技术经理人档案", "manager profiles"),
        "deal": ("洽谈项目", "deals"),
        "contract": ("技术合同", "contracts"),
        "distribution": ("收益分配", "income distribution"),
        "open_licence": ("开放许可", "open licences"),
        "application": ("账号申请", "account applications"),
    }
    out = []
    for fam in families:
        zh, en = family_names.get(fam, (fam, fam))
        out.append((fam, f"全部{zh}操作" if lang != "en" else f"all {en}"))
    out += [(a, action_label(a, lang)) for a in AUDIT_ACTION_LABELS]
    return out


def subject_type_choices(lang: str = "zh") -> list[tuple[str, str]]:
    """(value, label) for the record-kind filter."""
    return [(kind, subject_type_label(kind, lang)) for kind in SUBJECT_LABELS]
