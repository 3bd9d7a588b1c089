"""Pilot platform services: the registry, suggestions for a listing or challenge, bookings.

A `pilot_platform` user manages the one entry they are linked to (`PlatformManager`); admins
manage any. Bookings follow the table in `BOOKING_MACHINE`; accepting or scheduling a booking
is refused when the platform's capacity would be exceeded on any overlapping day, and the
refusal names the booking it clashes with.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.attachments import Attachment, get_attachment, list_attachments, store_attachment
from shuanglian.audit import record_audit, snapshot
from shuanglian.db import utcnow
from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.notifications import notify
from shuanglian.pilots.models import LEVELS, SERVICES, PilotBooking, PilotPlatform, PlatformManager
from shuanglian.text.normalize import normalize_for_search
from shuanglian.workflow import Machine, Transition, apply_transition

# --------------------------------------------------------------------------- booking table
BOOKING_STATES = {
    "requested": ("待确认", "Requested"),
    "accepted": ("已接受", "Accepted"),
    "declined": ("已拒绝", "Declined"),
    "scheduled": ("已排期", "Scheduled"),
    "completed": ("已完成", "Completed"),
    "cancelled": ("已取消", "Cancelled"),
}
HOLDS_CAPACITY = ("accepted", "scheduled")


def _platform_side(session: Session, actor: Any, booking: Any) -> None:
    require_platform_manager(session, actor, booking.platform_id)


def _requester(session: Session, actor: Any, booking: Any) -> None:
    user = perm.require_login(actor)
    if user.id != booking.requester_id and user.role != perm.ADMIN:
        raise PermissionDenied("只有预约人可以执行此操作 (only the requester may do this)")


BOOKING_MACHINE = Machine(
    name="pilot_booking",
    states=BOOKING_STATES,
    transitions=(
        Transition("accept", ("requested",), "accepted", "接受", "Accept", _platform_side),
        Transition(
            "decline",
            ("requested",),
            "declined",
            "拒绝",
            "Decline",
            _platform_side,
            required=("reason",),
        ),
        Transition("schedule", ("accepted",), "scheduled", "排期", "Schedule", _platform_side),
        Transition(
            "complete",
            ("scheduled",),
            "completed",
            "完成并提交报告",
            "Complete with report",
            _platform_side,
            required=("report",),
        ),
        Transition("cancel", ("requested", "accepted"), "cancelled", "取消", "Cancel", _requester),
    ),
    field_labels={"reason": "原因 (reason)", "report": "结果报告 (outcome report)"},
)


# --------------------------------------------------------------------------- helpers
def fence(codes: list[str]) -> str:
    """["C26", "C27"] → ",C26,C27," (a LIKE-friendly fenced list)."""
    clean = [c.strip() for c in codes if c and c.strip()]
    return "," + ",".join(dict.fromkeys(clean)) + ","


def unfence(value: str | None) -> list[str]:
    return [c for c in (value or "").split(",") if c]


def managed_platform_id(session: Session, user: User | None) -> int | None:
    """The platform a `pilot_platform` user manages, if linked."""
    if user is None:
        return None
    return session.scalar(
        select(PlatformManager.platform_id).where(PlatformManager.user_id == user.id)
    )


def require_platform_manager(session: Session, actor: User | None, platform_id: int) -> User:
    """Admins, or the pilot_platform user linked to this platform."""
    user = perm.require_login(actor)
    if user.role == perm.ADMIN:
        return user
    if user.role == perm.PILOT_PLATFORM and managed_platform_id(session, user) == platform_id:
        return user
    raise PermissionDenied("只能管理本平台的数据 (only your own platform's data)")


@dataclass
class PlatformInput:
    """A platform's fields as a form, the API or an import row gives them."""

    name: str
    operator: str
    level: str
    province: str
    industries: list[str]
    ipc_classes: list[str]
    services: list[str]
    equipment: str = ""
    capacity: int = 1
    city: str | None = None
    fees: str = ""
    description: str = ""
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    open_booking: bool = True


def check_platform_input(data: PlatformInput) -> dict[str, Any]:
    """Column values for a platform, or a DomainError naming the field."""
    from shuanglian.reference.gbt4754 import industry, normalize_industry_code

    name = (data.name or "").strip()
    if not name or len(name) > 200:
        raise DomainError("请填写平台名称（≤200 字）(name required)", field="name")
    operator = (data.operator or "").strip()
    if not operator:
        raise DomainError("请填写运营单位 (operator required)", field="operator")
    if data.level not in LEVELS:
        raise DomainError(
            "级别应为 国家级/省级/市级 (level must be national, provincial or municipal)",
            field="level",
        )
    province = (data.province or "").strip()
    if not province:
        raise DomainError("请填写所在省份 (province required)", field="province")
    codes = []
    for raw in data.industries:
        try:
            code = normalize_industry_code(raw)
        except ValueError:
            code = ""
        if not code or industry(code) is None:
            raise DomainError(f"未知的行业代码“{raw}”(unknown GB/T 4754 code)", field="industries")
        codes.append(code)
    ipcs = []
    for raw in data.ipc_classes:
        code = raw.strip().upper().replace(" ", "")
        if len(code) < 3 or not code[0].isalpha() or not code[1:3].isdigit():
            raise DomainError(
                f"IPC 分类“{raw}”格式不正确，如 C22B (bad IPC class)", field="ipc_classes"
            )
        ipcs.append(code[:4])
    for s in data.services:
        if s not in SERVICES:
            raise DomainError(
                f"未知服务“{s}”，应为 {'/'.join(SERVICES)} (unknown service)", field="services"
            )
    if not data.services:
        raise DomainError("请至少选择一项服务 (at least one service)", field="services")
    if not 1 <= int(data.capacity) <= 10000:
        raise DomainError(
            "产能（可同时承接的任务数）须为 1–10000 (capacity 1..10000)", field="capacity"
        )
    email = (data.contact_email or "").strip() or None
    if email and "@" not in email:
        raise DomainError("联系邮箱格式不正确 (bad e-mail)", field="contact_email")
    return {
        "name": name,
        "operator": operator,
        "level": data.level,
        "province": province,
        "city": (data.city or "").strip() or None,
        "industries": fence(codes),
        "ipc_classes": fence(ipcs),
        "services": fence(list(data.services)),
        "equipment": (data.equipment or "").strip(),
        "capacity": int(data.capacity),
        "fees": (data.fees or "").strip(),
        "description": (data.description or "").strip(),
        "contact_name": (data.contact_name or "").strip() or None,
        "contact_phone": (data.contact_phone or "").strip() or None,
        "contact_email": email,
        "open_booking": bool(data.open_booking),
        "search_text": normalize_for_search(
            f"{name} {operator} {data.equipment} {data.description} {province} {data.city or ''}"
        ),
    }


# --------------------------------------------------------------------------- registry
def create_platform(
    session: Session, *, actor: User | None, data: PlatformInput, is_demo: bool = False
) -> PilotPlatform:
    """Register a platform (admins; imports run as the system with actor None)."""
    if actor is not None:
        perm.require_role(actor, perm.ADMIN)
    values = check_platform_input(data)
    if session.scalar(select(PilotPlatform.id).where(PilotPlatform.name == values["name"])):
        raise DomainError(f"平台“{values['name']}”已存在 (platform exists)", field="name")
    platform = PilotPlatform(is_demo=is_demo, **values)
    session.add(platform)
    session.flush()
    record_audit(session, actor=actor, action="pilot.create", subject=platform, detail=values)
    return platform


def update_platform(
    session: Session, *, actor: User | None, platform_id: int, data: PlatformInput
) -> PilotPlatform:
    """Change a platform's entry: its own manager or an admin."""
    platform = get_platform(session, platform_id=platform_id)
    require_platform_manager(session, actor, platform.id)
    before = snapshot(platform)
    values = check_platform_input(data)
    clash = session.scalar(
        select(PilotPlatform.id).where(
            PilotPlatform.name == values["name"], PilotPlatform.id != platform.id
        )
    )
    if clash:
        raise DomainError(f"平台“{values['name']}”已存在 (platform exists)", field="name")
    for key, value in values.items():
        setattr(platform, key, value)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="pilot.update",
        subject=platform,
        detail={"before": before, "after": snapshot(platform)},
    )
    return platform


def link_manager(
    session: Session, *, actor: User | None, platform_id: int, user_id: int, system: bool = False
) -> PlatformManager:
    """Let a pilot_platform user manage this platform (admins; the CLI and demo as `system`)."""
    if not system:
        perm.require_role(actor, perm.ADMIN)
    platform = get_platform(session, platform_id=platform_id)
    user = session.get(User, user_id)
    if user is None or user.role != perm.PILOT_PLATFORM:
        raise DomainError(
            "须为“中试平台”角色的用户 (user must have the pilot_platform role)", field="user_id"
        )
    existing = session.scalar(select(PlatformManager).where(PlatformManager.user_id == user.id))
    if existing is not None:
        existing.platform_id = platform.id
        link = existing
    else:
        link = PlatformManager(platform_id=platform.id, user_id=user.id)
        session.add(link)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="pilot.link_manager",
        subject=platform,
        detail={"user_id": user.id},
    )
    return link


def get_platform(session: Session, *, platform_id: int) -> PilotPlatform:
    """One platform (the registry is public)."""
    platform = session.get(PilotPlatform, platform_id)
    if platform is None:
        raise NotFound(f"中试平台不存在 (pilot platform not found): {platform_id}")
    return platform


@dataclass
class PlatformPage:
    items: list[PilotPlatform]
    total: int


def search_platforms(
    session: Session,
    *,
    q: str | None = None,
    field: str | None = None,
    province: str | None = None,
    level: str | None = None,
    service: str | None = None,
    offset: int = 0,
    limit: int = 20,
) -> PlatformPage:
    """Platforms filtered by text, field (industry code prefix or IPC class), region, level and
    service; national first, then by name."""
    stmt = select(PilotPlatform)
    if q and q.strip():
        for word in normalize_for_search(q).split():
            stmt = stmt.where(PilotPlatform.search_text.contains(word))
    if field and field.strip():
        code = field.strip().upper()
        stmt = stmt.where(
            or_(
                PilotPlatform.industries.contains(f",{code}"),
                PilotPlatform.ipc_classes.contains(f",{code}"),
            )
        )
    if province and province.strip():
        stmt = stmt.where(PilotPlatform.province.contains(province.strip()))
    if level:
        if level not in LEVELS:
            raise DomainError("级别应为 national/provincial/municipal (bad level)", field="level")
        stmt = stmt.where(PilotPlatform.level == level)
    if service:
        if service not in SERVICES:
            raise DomainError(f"未知服务 (unknown service): {service}", field="service")
        stmt = stmt.where(PilotPlatform.services.contains(f",{service},"))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rank = case(
        (PilotPlatform.level == "national", 0),
        (PilotPlatform.level == "provincial", 1),
        else_=2,
    )
    items = session.scalars(stmt.order_by(rank, PilotPlatform.name).offset(offset).limit(limit))
    return PlatformPage(items=list(items), total=int(total))


def platforms_by_province(session: Session) -> list[tuple[str, int, int]]:
    """(province, platforms, national-level platforms), most platforms first: the ranked list."""
    rows = session.execute(
        select(
            PilotPlatform.province,
            func.count(),
            func.sum(case((PilotPlatform.level == "national", 1), else_=0)),
        )
        .group_by(PilotPlatform.province)
        .order_by(func.count().desc(), PilotPlatform.province)
    ).all()
    return [(p, int(n), int(k or 0)) for p, n, k in rows]


# --------------------------------------------------------------------------- suggestions
@dataclass
class PlatformSuggestion:
    platform: PilotPlatform
    score: float
    region: str  # city / province / other
    reasons: list[str]


def _division(code: str) -> str:
    """A GB/T 4754 code's 大类 (first two digits), the level platforms usually register."""
    return code[:2]


def suggest_platforms(
    session: Session,
    *,
    industries: list[str],
    ipc_codes: list[str],
    province: str | None = None,
    city: str | None = None,
    limit: int = 10,
) -> list[PlatformSuggestion]:
    """Platforms whose fields overlap the given industries and IPC classes, explained; those in
    the same city, then the same province, come first, then by overlap."""
    from shuanglian.reference.industry_link import industries_for_ipc

    want_div = {_division(c) for c in industries if c}
    want_ipc = {c.strip().upper()[:4] for c in ipc_codes if c and len(c.strip()) >= 4}
    # IPC → industry concordance (the engine's link), so a patent's IPC reaches platforms that
    # registered only industry codes.
    linked: dict[str, float] = {}
    for ipc in want_ipc:
        try:
            for code, weight in industries_for_ipc(ipc)[:3]:
                div = _division(code)
                linked[div] = max(linked.get(div, 0.0), float(weight))
        except ValueError:
            continue
    out: list[PlatformSuggestion] = []
    for p in session.scalars(select(PilotPlatform)):
        p_div = {_division(c) for c in unfence(p.industries)}
        p_ipc = set(unfence(p.ipc_classes))
        reasons: list[str] = []
        score = 0.0
        shared_div = sorted(want_div & p_div)
        if shared_div:
            score += 1.0 * len(shared_div)
            reasons.append("行业相同 (same industry): " + "、".join(_industry_names(shared_div)))
        shared_ipc = sorted(want_ipc & p_ipc)
        if shared_ipc:
            score += 1.0 * len(shared_ipc)
            reasons.append("IPC 分类相同 (same IPC): " + "、".join(shared_ipc))
        via = sorted(d for d in p_div & set(linked) if d not in want_div)
        if via:
            score += sum(linked[d] for d in via)
            reasons.append(
                "IPC↔行业对照 (IPC↔industry link, approximate): " + "、".join(_industry_names(via))
            )
        if score <= 0:
            continue
        if city and p.city and (city in p.city or p.city in city):
            region = "city"
            reasons.append(f"同城 (same city): {p.city}")
        elif province and (province in p.province or p.province in province):
            region = "province"
            reasons.append(f"同省 (same province): {p.province}")
        else:
            region = "other"
        out.append(
            PlatformSuggestion(platform=p, score=round(score, 4), region=region, reasons=reasons)
        )
    order = {"city": 0, "province": 1, "other": 2}
    out.sort(key=lambda s: (order[s.region], -s.score, s.platform.name))
    return out[:limit]


def _industry_names(divs: list[str]) -> list[str]:
    from shuanglian.reference.gbt4754 import industry

    names = []
    for d in divs:
        item = industry(d)
        names.append(f"{d} {item.name}" if item else d)
    return names


def suggest_for_listing(
    session: Session, *, listing_id: int, limit: int = 10
) -> list[PlatformSuggestion]:
    """Platforms for a supermarket listing: its industries, its patents' IPC, its region."""
    from shuanglian.patents.models import Patent
    from shuanglian.supermarket.models import Listing, ListingPatent

    listing = session.get(Listing, listing_id)
    if listing is None or listing.status != "published":
        raise NotFound(f"成果不存在 (listing not found): {listing_id}")
    ipcs: list[str] = []
    rows = session.execute(
        select(Patent.main_ipc, Patent.ipc_codes)
        .join(ListingPatent, ListingPatent.patent_id == Patent.id)
        .where(ListingPatent.listing_id == listing.id)
    ).all()
    for main, codes in rows:
        ipcs += [c for c in [main, *(codes or [])] if c]
    return suggest_platforms(
        session,
        industries=[c.lstrip("ABCDEFGHIJKLMNOPQRST") for c in unfence(listing.industries)],
        ipc_codes=ipcs,
        province=listing.region,
        limit=limit,
    )


def suggest_for_challenge(
    session: Session, *, actor: User | None, challenge_id: int, limit: int = 10
) -> list[PlatformSuggestion]:
    """Platforms for a challenge: its industry, the IPC of the patents routed to it and of the
    accepted teams' patents, and its region."""
    from shuanglian.challenges import service as challenges
    from shuanglian.challenges.models import Application, Suggestion
    from shuanglian.patents.models import Patent

    ch = challenges.get_challenge(session, challenge_id=challenge_id, actor=actor)
    patent_ids = list(
        session.scalars(
            select(Suggestion.ref_id).where(
                Suggestion.challenge_id == ch.id, Suggestion.kind == "patent"
            )
        )
    )
    for pids in session.scalars(
        select(Application.patent_ids).where(
            Application.challenge_id == ch.id, Application.status == "accepted"
        )
    ):
        patent_ids += list(pids or [])
    ipcs = [
        c
        for main, codes in session.execute(
            select(Patent.main_ipc, Patent.ipc_codes).where(Patent.id.in_(patent_ids or [0]))
        ).all()
        for c in [main, *(codes or [])]
        if c
    ]
    province = ch.region or ch.enterprise.province
    return suggest_platforms(
        session,
        industries=[ch.industry_code] if ch.industry_code else [],
        ipc_codes=ipcs,
        province=province,
        city=ch.enterprise.city or ch.region,
        limit=limit,
    )


# Deal stages in which the parties are looking for, or running, a pilot (中试).
DEAL_PILOT_STAGES = ("negotiation", "contract", "pilot")
DEAL_REF_PREFIX = "deal:"


def deal_ref_for(deal_id: int) -> str:
    """How a booking records the platform deal it serves (`deal_ref`, otherwise free text)."""
    return f"{DEAL_REF_PREFIX}{deal_id}"


def deal_id_of(booking: PilotBooking) -> int | None:
    """The platform deal a booking serves, when it was booked from one."""
    ref = booking.deal_ref or ""
    tail = ref[len(DEAL_REF_PREFIX) :]
    return int(tail) if ref.startswith(DEAL_REF_PREFIX) and tail.isdigit() else None


def suggest_for_deal(
    session: Session, *, actor: User | None, deal_id: int, limit: int = 10
) -> list[PlatformSuggestion]:
    """Platforms for a deal: the enterprise's industry, the deal's patents' IPC, and the
    enterprise's city and province (the scale-up usually happens near the buyer)."""
    from shuanglian.deals.access import require_deal_view
    from shuanglian.enterprises.models import Enterprise
    from shuanglian.patents.models import Patent

    deal = require_deal_view(session, actor, deal_id)
    enterprise = session.get(Enterprise, deal.enterprise_id)
    patent_ids = [item.patent_id for item in deal.items]
    ipcs = [
        c
        for main, codes in session.execute(
            select(Patent.main_ipc, Patent.ipc_codes).where(Patent.id.in_(patent_ids or [0]))
        ).all()
        for c in [main, *(codes or [])]
        if c
    ]
    industry = (enterprise.industry_code or "").lstrip("ABCDEFGHIJKLMNOPQRST") if enterprise else ""
    return suggest_platforms(
        session,
        industries=[industry] if industry else [],
        ipc_codes=ipcs,
        province=enterprise.province if enterprise else None,
        city=enterprise.city if enterprise else None,
        limit=limit,
    )


def bookings_for_deal(session: Session, *, actor: User | None, deal_id: int) -> list[PilotBooking]:
    """Bookings made for a deal, for its parties (newest first)."""
    from shuanglian.deals.access import require_deal_view

    deal = require_deal_view(session, actor, deal_id)
    stmt = (
        select(PilotBooking)
        .where(PilotBooking.deal_ref == deal_ref_for(deal.id))
        .order_by(PilotBooking.id.desc())
    )
    return list(session.scalars(stmt))


@dataclass
class DealPilotPanel:
    """What the deal page shows about pilots: suggested platforms and the deal's bookings."""

    deal_id: int
    stage: str
    platforms: list[PlatformSuggestion]
    bookings: list[PilotBooking]
    states: dict[str, tuple[str, str]] = dc_field(default_factory=lambda: BOOKING_STATES)


def deal_pilot_panel(
    session: Session, *, actor: User | None, deal_id: int, stage: str
) -> DealPilotPanel | None:
    """The deal page's pilot section while the deal is at negotiation, contract or pilot
    (None at other stages, so the page shows nothing)."""
    if stage not in DEAL_PILOT_STAGES:
        return None
    return DealPilotPanel(
        deal_id=deal_id,
        stage=stage,
        platforms=suggest_for_deal(session, actor=actor, deal_id=deal_id, limit=5),
        bookings=bookings_for_deal(session, actor=actor, deal_id=deal_id),
    )


# --------------------------------------------------------------------------- bookings
@dataclass
class BookingInput:
    title: str
    service: str
    quantity: int
    start_on: date
    end_on: date
    description: str = ""
    listing_id: int | None = None
    challenge_id: int | None = None
    deal_ref: str | None = None
    deal_id: int | None = None  # a platform deal the requester is a party to


def _clash(
    session: Session,
    platform: PilotPlatform,
    start: date,
    end: date,
    quantity: int,
    skip: int | None,
) -> PilotBooking | None:
    """The first booking that, with this one, would exceed the platform's capacity on a day."""
    stmt = select(PilotBooking).where(
        PilotBooking.platform_id == platform.id,
        PilotBooking.status.in_(HOLDS_CAPACITY),
        PilotBooking.start_on <= end,
        PilotBooking.end_on >= start,
    )
    if skip is not None:
        stmt = stmt.where(PilotBooking.id != skip)
    others = list(session.scalars(stmt.order_by(PilotBooking.start_on, PilotBooking.id)))
    # Capacity is checked at every day a booking starts inside the window (load only rises then).
    days = sorted({max(start, b.start_on) for b in others} | {start})
    for day in days:
        on_day = [b for b in others if b.start_on <= day <= b.end_on]
        if sum(b.quantity for b in on_day) + quantity > platform.capacity and on_day:
            return on_day[0]
    return None


def _refuse_clash(clash: PilotBooking, platform: PilotPlatform) -> DomainError:
    return DomainError(
        f"与预约 #{clash.id}“{clash.title}”（{clash.start_on}–{clash.end_on}，"
        f"{BOOKING_STATES[clash.status][0]}）时间冲突，平台产能 {platform.capacity} 已满 "
        f"(clashes with booking #{clash.id} {clash.start_on}..{clash.end_on}; capacity "
        f"{platform.capacity} exceeded)",
        field="start_on",
    )


def request_booking(
    session: Session,
    *,
    actor: User | None,
    platform_id: int,
    data: BookingInput,
    today: date | None = None,
) -> PilotBooking:
    """Ask a platform for time; refused at once when the dates are already full."""
    user = perm.require_login(actor)
    platform = get_platform(session, platform_id=platform_id)
    if not platform.open_booking:
        raise DomainError(
            "该平台暂不接受在线预约，请直接联系 (not open for booking)", field="platform_id"
        )
    day = today or utcnow().date()
    title = (data.title or "").strip()
    if not title:
        raise DomainError("请填写预约事项 (title required)", field="title")
    if data.service not in unfence(platform.services):
        raise DomainError(
            "该平台不提供此项服务 (the platform does not offer this service)", field="service"
        )
    if data.start_on < day:
        raise DomainError("开始日期不能早于今天 (start date in the past)", field="start_on")
    if data.end_on < data.start_on:
        raise DomainError("结束日期不能早于开始日期 (end before start)", field="end_on")
    if not 1 <= data.quantity <= platform.capacity:
        raise DomainError(
            f"数量须为 1–{platform.capacity}（平台产能）(quantity 1..capacity)", field="quantity"
        )
    if data.challenge_id is not None:
        from shuanglian.challenges import service as challenges

        challenges.get_challenge(session, challenge_id=data.challenge_id, actor=user)
    deal_ref = (data.deal_ref or "").strip() or None
    if data.deal_id is not None:
        from shuanglian.deals.access import require_deal_view

        try:
            require_deal_view(session, user, data.deal_id)
        except NotFound:
            raise DomainError(
                f"洽谈项目 #{data.deal_id} 不存在或您不是其参与方 (deal not found)",
                field="deal_id",
            ) from None
        deal_ref = deal_ref_for(data.deal_id)
    if data.listing_id is not None:
        from shuanglian.supermarket.models import Listing

        listing = session.get(Listing, data.listing_id)
        if listing is None or listing.status != "published":
            raise DomainError(
                f"成果 #{data.listing_id} 不存在 (listing not found)", field="listing_id"
            )
    clash = _clash(session, platform, data.start_on, data.end_on, data.quantity, None)
    if clash is not None:
        raise _refuse_clash(clash, platform)
    booking = PilotBooking(
        platform_id=platform.id,
        requester_id=user.id,
        title=title,
        description=(data.description or "").strip(),
        service=data.service,
        quantity=data.quantity,
        start_on=data.start_on,
        end_on=data.end_on,
        listing_id=data.listing_id,
        challenge_id=data.challenge_id,
        deal_ref=deal_ref,
    )
    session.add(booking)
    session.flush()
    record_audit(
        session,
        actor=user,
        action="pilot_booking.request",
        subject=booking,
        detail=snapshot(booking),
    )
    _notify_managers(
        session,
        platform,
        f"新的预约：{title}",
        f"New booking: {title}",
        f"/pilots/bookings/{booking.id}",
    )
    return booking


def _notify_managers(
    session: Session, platform: PilotPlatform, title: str, title_en: str, link: str
) -> None:
    ids = list(
        session.scalars(
            select(PlatformManager.user_id).where(PlatformManager.platform_id == platform.id)
        )
    )
    if ids:
        notify(
            session,
            user_ids=ids,
            kind="pilot.booking",
            title=title,
            title_en=title_en,
            link=link,
        )


def get_booking(session: Session, *, actor: User | None, booking_id: int) -> PilotBooking:
    """A booking, for its requester, the platform's managers and admins (others: 404)."""
    booking = session.get(PilotBooking, booking_id)
    if booking is None:
        raise NotFound(f"预约不存在 (booking not found): {booking_id}")
    user = actor
    if user is None or not (
        user.role == perm.ADMIN
        or user.id == booking.requester_id
        or (
            user.role == perm.PILOT_PLATFORM
            and managed_platform_id(session, user) == booking.platform_id
        )
    ):
        raise NotFound(f"预约不存在 (booking not found): {booking_id}")
    return booking


def act_on_booking(
    session: Session,
    *,
    actor: User | None,
    booking_id: int,
    action: str,
    reason: str | None = None,
    report: str | None = None,
    start_on: date | None = None,
    end_on: date | None = None,
    documents: list[tuple[str, bytes]] | None = None,
) -> PilotBooking:
    """Accept, decline (with reason), schedule (optionally moving the dates), complete (with
    the outcome report and its documents) or cancel; capacity is checked when the booking
    starts to hold it."""
    booking = get_booking(session, actor=actor, booking_id=booking_id)
    platform = booking.platform
    t = BOOKING_MACHINE.transition(action)
    if t is not None and booking.status in t.sources and action in ("accept", "schedule"):
        t.may(session, actor, booking)
        start = start_on or booking.start_on
        end = end_on or booking.end_on
        if end < start:
            raise DomainError("结束日期不能早于开始日期 (end before start)", field="end_on")
        clash = _clash(session, platform, start, end, booking.quantity, booking.id)
        if clash is not None:
            raise _refuse_clash(clash, platform)
        booking.start_on, booking.end_on = start, end
    apply_transition(
        session,
        machine=BOOKING_MACHINE,
        obj=booking,
        action=action,
        actor=actor,
        reason=reason,
        report=report,
    )
    if action == "decline":
        booking.decline_reason = (reason or "").strip()
    if action == "complete":
        booking.outcome_report = (report or "").strip()
        booking.completed_at = utcnow()
    if documents:
        if action != "complete":
            raise DomainError(
                "只有完成时可以附上结果文件 (documents go with completing)", field="file"
            )
        for filename, data in documents:
            store_attachment(
                session,
                scope="booking",
                ref_id=booking.id,
                filename=filename,
                data=data,
                actor=actor,
            )
    label, label_en = BOOKING_STATES[booking.status]
    if action == "cancel":
        _notify_managers(
            session,
            platform,
            f"预约“{booking.title}”已取消",
            f"Booking “{booking.title}” was cancelled",
            f"/pilots/bookings/{booking.id}",
        )
    elif booking.requester_id:
        notify(
            session,
            user_ids=[booking.requester_id],
            kind=f"pilot.booking.{action}",
            title=f"{platform.name}：预约“{booking.title}”{label}",
            title_en=f"{platform.name}: booking “{booking.title}” {label_en.lower()}",
            body=reason or report or None,
            body_en=reason or report or None,
            link=f"/pilots/bookings/{booking.id}",
        )
    return booking


def attach_booking_document(
    session: Session, *, actor: User | None, booking_id: int, filename: str, data: bytes
) -> Attachment:
    """The platform adds an outcome document (test report, process package) to a booking it
    has scheduled or completed; type and size are checked by the shared attachments module."""
    booking = get_booking(session, actor=actor, booking_id=booking_id)
    require_platform_manager(session, actor, booking.platform_id)
    if booking.status not in ("scheduled", "completed"):
        raise DomainError(
            f"预约当前为“{BOOKING_STATES[booking.status][0]}”，排期或完成后才能上传结果文件 "
            "(documents are added once the booking is scheduled or completed)",
            field="file",
        )
    row = store_attachment(
        session, scope="booking", ref_id=booking.id, filename=filename, data=data, actor=actor
    )
    record_audit(
        session,
        actor=actor,
        action="pilot_booking.document",
        subject=booking,
        detail={"attachment": row.id, "filename": row.filename, "sha256": row.sha256},
    )
    if booking.requester_id and actor is not None and booking.requester_id != actor.id:
        notify(
            session,
            user_ids=[booking.requester_id],
            kind="pilot.booking.document",
            title=f"{booking.platform.name}：预约“{booking.title}”有新的结果文件",
            title_en=f"{booking.platform.name}: new result document for booking “{booking.title}”",
            body=row.filename,
            body_en=row.filename,
            link=f"/pilots/bookings/{booking.id}",
        )
    return row


def booking_documents(session: Session, *, actor: User | None, booking_id: int) -> list[Attachment]:
    """A booking's outcome documents, for whoever may see the booking."""
    booking = get_booking(session, actor=actor, booking_id=booking_id)
    return list_attachments(session, scope="booking", ref_ids=[booking.id])


def readable_booking_document(
    session: Session, *, actor: User | None, attachment_id: int
) -> Attachment:
    """One outcome document, for the booking's requester, its platform and admins."""
    row = get_attachment(session, attachment_id=attachment_id)
    if row.scope != "booking":
        raise NotFound(f"文件不存在 (file not found): {attachment_id}")
    get_booking(session, actor=actor, booking_id=row.ref_id)
    return row


def rate_booking(
    session: Session,
    *,
    actor: User | None,
    booking_id: int,
    rating: int,
    comment: str | None = None,
) -> PilotBooking:
    """The requester rates a completed booking once (1–5)."""
    booking = get_booking(session, actor=actor, booking_id=booking_id)
    if actor is None or actor.id != booking.requester_id:
        raise PermissionDenied("只有预约人可以评价 (only the requester rates)")
    if booking.status != "completed":
        raise DomainError(
            f"预约当前为“{BOOKING_STATES[booking.status][0]}”，完成后才能评价 "
            "(rate a completed booking)",
            field="rating",
        )
    if booking.rating is not None:
        raise DomainError("已评价过 (already rated)", field="rating")
    if not 1 <= int(rating) <= 5:
        raise DomainError("评分须为 1–5 (rating 1..5)", field="rating")
    booking.rating = int(rating)
    booking.rating_comment = (comment or "").strip() or None
    record_audit(
        session,
        actor=actor,
        action="pilot_booking.rate",
        subject=booking,
        detail={"rating": rating},
    )
    return booking


def list_bookings(
    session: Session, *, actor: User | None, platform_id: int | None = None
) -> list[PilotBooking]:
    """Bookings the actor may see: a platform's (its managers, admins) or their own requests."""
    user = perm.require_login(actor)
    stmt = select(PilotBooking).order_by(PilotBooking.start_on.desc(), PilotBooking.id.desc())
    if platform_id is not None:
        require_platform_manager(session, user, platform_id)
        stmt = stmt.where(PilotBooking.platform_id == platform_id)
    else:
        stmt = stmt.where(PilotBooking.requester_id == user.id)
    return list(session.scalars(stmt.limit(500)))


def platform_rating(session: Session, *, platform_id: int) -> tuple[float | None, int]:
    """(average rating, count) of a platform's completed, rated bookings."""
    avg, count = session.execute(
        select(func.avg(PilotBooking.rating), func.count(PilotBooking.rating)).where(
            PilotBooking.platform_id == platform_id, PilotBooking.rating.is_not(None)
        )
    ).one()
    return (round(float(avg), 1) if avg is not None else None), int(count or 0)
