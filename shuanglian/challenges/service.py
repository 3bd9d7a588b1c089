"""Challenge services: post, route, apply, choose teams, solve in milestones, verify.

Every function takes the session first and keyword-only arguments, checks who may act, writes
the audit entry and queues notifications in the caller's transaction; none commits. State
changes go through `shuanglian.workflow.apply_transition` with the tables in `states.py`, so a
refused step always names the current state and what is allowed from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.audit import record_audit
from shuanglian.challenges.models import (
    COMPARISONS,
    IP_OWNERS,
    VISIBILITIES,
    Application,
    Challenge,
    Indicator,
    Measurement,
    Message,
    Milestone,
    NdaAcceptance,
    Suggestion,
    Verification,
)
from shuanglian.challenges.schemas import (
    ApplicationIn,
    ChallengeIn,
    IndicatorIn,
    MeasurementIn,
    MilestoneIn,
)
from shuanglian.challenges.states import (
    APPLICATION_MACHINE,
    CHALLENGE_MACHINE,
    MANUAL_ACTIONS,
    MILESTONE_MACHINE,
    PUBLIC_STATES,
    is_team_party,
)
from shuanglian.db import session_settings, utcnow
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.errors import DomainError, NotFound, PermissionDenied
from shuanglian.notifications import notify
from shuanglian.text.normalize import normalize_for_search
from shuanglian.workflow import Transition, apply_transition, available_actions

COMPARISON_LABELS = {">=": "≥", "<=": "≤", "=": "=", "range": "范围"}
DEFAULT_NDA = (
    "本人承诺对本榜单的技术细节、指标与附件保密，仅用于评估和申请本榜单，未经发榜企业书面同意"
    "不向第三方披露。(I will keep the challenge's details confidential.)"
)
SOLVER_ROLES = (perm.INSTITUTION_STAFF, perm.TECH_MANAGER)
ROUTE_TOP = 20


def today_utc() -> date:
    """The date deadlines are compared with (UTC, like every stored timestamp)."""
    return utcnow().date()


# --------------------------------------------------------------------------- validation
def _decimal(value: Any, field: str, label: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(f"{label}须为数字 ({field} must be a number)", field=field) from exc
    if not number.is_finite() or abs(number) >= Decimal(10) ** 12:
        raise DomainError(f"{label}超出范围 ({field} out of range)", field=field)
    return number


def _text(value: str | None, field: str, label: str, *, required: bool, max_len: int) -> str:
    text = (value or "").replace("\x00", "").strip()
    if required and not text:
        raise DomainError(f"请填写{label} ({field} is required)", field=field)
    if len(text) > max_len:
        raise DomainError(f"{label}过长，最多 {max_len} 字 ({field} too long)", field=field)
    return text


def resolve_industry(value: str | None) -> str | None:
    """A GB/T 4754 code from a code or an exact industry name (the form offers the names)."""
    from shuanglian.reference.gbt4754 import industry, normalize_industry_code, search_industries

    raw = (value or "").strip()
    if not raw:
        return None
    name = raw.split(" ", 1)[-1] if " " in raw else raw  # "38 电气机械和器材制造业"
    for candidate in (raw.split(" ", 1)[0], raw):
        try:
            code = normalize_industry_code(candidate)
        except ValueError:
            continue
        if industry(code) is not None:
            return code
    found = search_industries(name, limit=1)
    if found and found[0].name == name:
        return found[0].code
    raise DomainError(
        f"未知的行业“{raw}”，请从列表中选择 GB/T 4754 行业 (unknown industry)", field="industry"
    )


def requirement_text(ind: Indicator | IndicatorIn) -> str:
    """How a target reads: "≥ 95 %", "10–20 mm"."""
    if ind.comparison == "range":
        return f"{_num(ind.target)}–{_num(ind.target_max)} {ind.unit}"
    return f"{COMPARISON_LABELS.get(ind.comparison, ind.comparison)} {_num(ind.target)} {ind.unit}"


def _num(value: Decimal | None) -> str:
    if value is None:
        return ""
    number = Decimal(value).normalize()
    return f"{number:f}"


def indicator_passes(ind: Indicator, value: Decimal) -> bool:
    """Whether a measured value meets the indicator's target under its comparison."""
    if ind.comparison == ">=":
        return value >= ind.target
    if ind.comparison == "<=":
        return value <= ind.target
    if ind.comparison == "=":
        return value == ind.target
    return ind.target <= value <= (ind.target_max if ind.target_max is not None else ind.target)


def _check_indicators(items: list[IndicatorIn]) -> list[IndicatorIn]:
    out: list[IndicatorIn] = []
    for i, ind in enumerate(items):
        prefix = f"indicators.{i}"
        name = _text(
            ind.name, f"{prefix}.name", f"第 {i + 1} 个指标的名称", required=True, max_len=200
        )
        unit = (ind.unit or "").strip()
        if not unit:
            raise DomainError(
                f"指标“{name}”缺少单位，如 %、mm、kWh/t；无量纲请填“无量纲” (unit required)",
                field=f"{prefix}.unit",
            )
        if ind.comparison not in COMPARISONS:
            raise DomainError(
                f"指标“{name}”的比较方式应为 ≥、≤、= 或范围 (comparison must be one of "
                f"{', '.join(COMPARISONS)})",
                field=f"{prefix}.comparison",
            )
        target = _decimal(ind.target, f"{prefix}.target", f"指标“{name}”的目标值")
        target_max = None
        if ind.comparison == "range":
            if ind.target_max is None:
                raise DomainError(
                    f"指标“{name}”为范围，须填写上限 (range needs an upper bound)",
                    field=f"{prefix}.target_max",
                )
            target_max = _decimal(ind.target_max, f"{prefix}.target_max", "上限")
            if target_max <= target:
                raise DomainError(
                    f"指标“{name}”的上限须大于下限 (upper bound must exceed the lower)",
                    field=f"{prefix}.target_max",
                )
        out.append(
            IndicatorIn(
                name=name,
                unit=unit,
                comparison=ind.comparison,
                target=target,
                target_max=target_max,
                method=(ind.method or "").strip(),
            )
        )
    return out


def check_challenge_input(data: ChallengeIn, *, today: date) -> dict[str, Any]:
    """The challenge's column values, or a DomainError naming the first bad field."""
    values: dict[str, Any] = {
        "title": _text(data.title, "title", "榜单标题", required=True, max_len=300),
        "summary": _text(data.summary, "summary", "公开摘要", required=False, max_len=2000),
        "problem": _text(data.problem, "problem", "问题描述", required=True, max_len=20000),
        "industry_code": resolve_industry(data.industry),
        "region": (data.region or "").strip() or None,
        "payment_terms": (data.payment_terms or "").strip(),
        "ip_terms": (data.ip_terms or "").strip(),
        "licence_back": bool(data.licence_back),
        "anonymous": bool(data.anonymous),
    }
    budget = _decimal(data.budget, "budget", "榜额")
    if budget <= 0:
        raise DomainError("榜额须大于 0 万元 (budget must be > 0)", field="budget")
    values["budget"] = budget
    if data.application_deadline < today:
        raise DomainError(
            f"报名截止日期 {data.application_deadline} 已过，请选择今天或以后的日期 "
            "(application deadline is in the past)",
            field="application_deadline",
        )
    if data.delivery_deadline < today:
        raise DomainError(
            f"交付日期 {data.delivery_deadline} 已过 (delivery deadline is in the past)",
            field="delivery_deadline",
        )
    if data.application_deadline > data.delivery_deadline:
        raise DomainError(
            "报名截止日期不能晚于交付日期 (application deadline is after the delivery deadline)",
            field="application_deadline",
        )
    values["application_deadline"] = data.application_deadline
    values["delivery_deadline"] = data.delivery_deadline
    if data.ip_owner not in IP_OWNERS:
        raise DomainError(
            "成果归属应为 enterprise、team 或 joint (ip_owner invalid)", field="ip_owner"
        )
    values["ip_owner"] = data.ip_owner
    if data.visibility not in VISIBILITIES:
        raise DomainError(
            "公开方式应为 public、summary 或 nda (visibility invalid)", field="visibility"
        )
    values["visibility"] = data.visibility
    values["nda_text"] = (
        ((data.nda_text or "").strip() or DEFAULT_NDA) if data.visibility == "nda" else None
    )
    if data.visibility != "public" and not values["summary"]:
        raise DomainError(
            "仅公开摘要或需保密协议时，请填写公开摘要 (summary required when details are hidden)",
            field="summary",
        )
    if not values["summary"]:
        values["summary"] = values["problem"][:200]
    values["search_text"] = normalize_for_search(f"{values['title']} {values['summary']}")
    return values


# --------------------------------------------------------------------------- access
def get_challenge(session: Session, *, challenge_id: int, actor: User | None) -> Challenge:
    """A challenge the actor may see; drafts are their enterprise's (others get 404)."""
    ch = session.get(Challenge, challenge_id)
    if ch is None or (ch.status == "draft" and not is_owner(actor, ch)):
        raise NotFound(f"榜单不存在 (challenge not found): {challenge_id}")
    return ch


def is_owner(actor: User | None, ch: Challenge) -> bool:
    """The posting enterprise's users and admins."""
    return perm.can_manage_enterprise(actor, ch.enterprise_id)


def _user_applications(session: Session, actor: User | None, ch: Challenge) -> list[Application]:
    if actor is None:
        return []
    conds = [Application.applicant_id == actor.id]
    if actor.role == perm.INSTITUTION_STAFF and actor.institution_id is not None:
        conds.append(Application.institution_id == actor.institution_id)
    stmt = select(Application).where(Application.challenge_id == ch.id, or_(*conds))
    return list(session.scalars(stmt))


def has_accepted_nda(session: Session, actor: User | None, ch: Challenge) -> bool:
    """Whether this user accepted the challenge's NDA."""
    if actor is None:
        return False
    return (
        session.scalar(
            select(NdaAcceptance.id).where(
                NdaAcceptance.challenge_id == ch.id, NdaAcceptance.user_id == actor.id
            )
        )
        is not None
    )


def details_hidden_reason(session: Session, actor: User | None, ch: Challenge) -> str | None:
    """Why the full problem, indicators and attachments are hidden from this user (None: shown)."""
    if ch.visibility == "public" or is_owner(actor, ch) or _user_applications(session, actor, ch):
        return None
    if ch.visibility == "summary":
        if actor is not None and actor.role in SOLVER_ROLES:
            return None
        return "仅公开摘要；科研机构和技术经理人登录后可查看全文 (summary only: log in as a solver)"
    if has_accepted_nda(session, actor, ch):
        return None
    return "查看全文须先接受保密协议 (accept the NDA to see the details)"


def shows_enterprise(session: Session, actor: User | None, ch: Challenge) -> bool:
    """An anonymous poster is named only to itself, admins and teams it shortlisted or chose."""
    if not ch.anonymous or is_owner(actor, ch):
        return True
    return any(
        a.status in ("shortlisted", "accepted") for a in _user_applications(session, actor, ch)
    )


def enterprise_label(
    session: Session, actor: User | None, ch: Challenge, *, lang: str = "zh"
) -> str:
    """The enterprise's name, or "匿名企业" where the poster chose anonymity."""
    if shows_enterprise(session, actor, ch):
        return ch.enterprise.name
    return "Anonymous enterprise" if lang == "en" else "匿名企业"


def _application_parties(session: Session, app: Application) -> list[int]:
    """User ids of both sides of one application (for notifications)."""
    ids = set(_enterprise_user_ids(session, app.challenge.enterprise_id))
    if app.applicant_id:
        ids.add(app.applicant_id)
    return sorted(ids)


def _enterprise_user_ids(session: Session, enterprise_id: int) -> list[int]:
    stmt = select(User.id).where(
        User.enterprise_id == enterprise_id,
        User.role == perm.ENTERPRISE_USER,
        User.is_active.is_(True),
    )
    return list(session.scalars(stmt))


def get_application(session: Session, *, application_id: int, actor: User | None) -> Application:
    """An application its parties may see (others, even signed in, get 404)."""
    app = session.get(Application, application_id)
    if app is None or not (is_owner(actor, app.challenge) or is_team_party(session, actor, app)):
        raise NotFound(f"申请不存在 (application not found): {application_id}")
    return app


# --------------------------------------------------------------------------- post
def _set_indicators(ch: Challenge, items: list[IndicatorIn]) -> None:
    ch.indicators.clear()
    for i, ind in enumerate(items):
        ch.indicators.append(
            Indicator(
                position=i,
                name=ind.name,
                unit=ind.unit,
                comparison=ind.comparison,
                target=ind.target,
                target_max=ind.target_max,
                method=ind.method,
            )
        )


def create_challenge(
    session: Session,
    *,
    actor: User | None,
    data: ChallengeIn,
    enterprise_id: int | None = None,
    demand_id: int | None = None,
    today: date | None = None,
) -> Challenge:
    """Save a draft challenge for the actor's enterprise (an admin names the enterprise)."""
    user = perm.require_role(actor, perm.ENTERPRISE_USER)
    enterprise_id = enterprise_id if user.role == perm.ADMIN else user.enterprise_id
    if enterprise_id is None or session.get(Enterprise, enterprise_id) is None:
        raise DomainError("请指定发榜企业 (enterprise required)", field="enterprise_id")
    perm.require_enterprise(user, enterprise_id)
    values = check_challenge_input(data, today=today or today_utc())
    indicators = _check_indicators(data.indicators)
    ch = Challenge(
        enterprise_id=enterprise_id, created_by_id=user.id, demand_id=demand_id, **values
    )
    _set_indicators(ch, indicators)
    session.add(ch)
    session.flush()
    record_audit(session, actor=user, action="challenge.create", subject=ch, detail=values)
    return ch


def update_challenge(
    session: Session,
    *,
    actor: User | None,
    challenge_id: int,
    data: ChallengeIn,
    today: date | None = None,
) -> Challenge:
    """Change a draft (a published challenge's terms are what teams applied to: fixed)."""
    ch = get_challenge(session, challenge_id=challenge_id, actor=actor)
    perm.require_enterprise(actor, ch.enterprise_id)
    if ch.status != "draft":
        raise DomainError(
            f"当前状态为“{CHALLENGE_MACHINE.state_label(ch.status)}”，只有草稿可以修改 "
            "(only a draft can be edited)",
            field="status",
        )
    values = check_challenge_input(data, today=today or today_utc())
    indicators = _check_indicators(data.indicators)
    for key, value in values.items():
        setattr(ch, key, value)
    _set_indicators(ch, indicators)
    session.flush()
    record_audit(session, actor=actor, action="challenge.update", subject=ch, detail=values)
    return ch


def challenge_input_from_demand(demand: Demand, *, today: date) -> ChallengeIn:
    """A draft challenge's fields taken from a demand (the enterprise adds the indicators)."""
    from datetime import timedelta

    apply_by = demand.deadline if demand.deadline and demand.deadline >= today else None
    apply_by = apply_by or today + timedelta(days=60)
    return ChallengeIn(
        title=demand.title[:300],
        summary=(demand.description or demand.title)[:200],
        problem=demand.description or demand.title,
        industry=demand.industry_code,
        region=demand.region,
        budget=demand.budget if demand.budget and demand.budget > 0 else Decimal(50),
        application_deadline=apply_by,
        delivery_deadline=apply_by + timedelta(days=180),
    )


def challenge_from_demand(
    session: Session, *, actor: User | None, demand_id: int, today: date | None = None
) -> Challenge:
    """Turn an existing demand into a draft challenge (the demand stays as it is)."""
    demand = session.get(Demand, demand_id)
    if demand is None or not perm.can_manage_enterprise(actor, demand.enterprise_id):
        raise NotFound(f"技术需求不存在 (demand not found): {demand_id}")
    day = today or today_utc()
    return create_challenge(
        session,
        actor=actor,
        data=challenge_input_from_demand(demand, today=day),
        enterprise_id=demand.enterprise_id,
        demand_id=demand.id,
        today=day,
    )


# --------------------------------------------------------------------------- transitions
def act_on_challenge(
    session: Session,
    *,
    actor: User | None,
    challenge_id: int,
    action: str,
    reason: str | None = None,
    today: date | None = None,
) -> Challenge:
    """Take one of the buttons' steps (publish, close, start, begin verification, re-run,
    withdraw); pass/fail come from `record_verification`, closing and expiry from `tick`."""
    ch = get_challenge(session, challenge_id=challenge_id, actor=actor)
    day = today or today_utc()
    if action not in MANUAL_ACTIONS:
        t = CHALLENGE_MACHINE.transition(action)
        label = t.label if t else action
        raise DomainError(
            f"“{label}”不能手动执行：验题结果由录入的测量值决定，截止与过期由系统按日期执行 "
            f"({action} is not a manual action)",
            field="action",
        )
    t = CHALLENGE_MACHINE.transition(action)
    assert t is not None
    if ch.status in t.sources:  # else apply_transition gives the state sentence
        _precheck(session, ch, action, day)
    apply_transition(
        session, machine=CHALLENGE_MACHINE, obj=ch, action=action, actor=actor, reason=reason
    )
    _after_transition(session, ch, t, actor, reason=reason)
    return ch


def _precheck(session: Session, ch: Challenge, action: str, day: date) -> None:
    if action == "publish":
        if not ch.indicators:
            raise DomainError(
                "发布前请至少填写一个技术指标 (add at least one indicator before publishing)",
                field="indicators",
            )
        if ch.application_deadline < day:
            raise DomainError(
                f"报名截止日期 {ch.application_deadline} 已过，请先修改 "
                "(application deadline is in the past)",
                field="application_deadline",
            )
    elif action == "start":
        accepted = session.scalar(
            select(func.count()).where(
                Application.challenge_id == ch.id, Application.status == "accepted"
            )
        )
        if not accepted:
            raise DomainError(
                "开始攻关前请至少选中一个团队 (accept at least one application first)",
                field="action",
            )
    elif action == "rerun" and ch.delivery_deadline < day:
        raise DomainError(
            f"交付期限 {ch.delivery_deadline} 已过，不能重新验题 "
            "(the delivery window has closed; no re-run)",
            field="action",
        )


def _after_transition(
    session: Session, ch: Challenge, t: Transition, actor: User | None, reason: str | None = None
) -> None:
    """Follow-on effects: publication time and routing; telling the teams what changed."""
    if t.action == "publish":
        ch.published_at = utcnow()
        route_challenge(session, challenge=ch)
        return
    teams = list(
        session.scalars(
            select(Application.applicant_id).where(
                Application.challenge_id == ch.id,
                Application.status.in_(("submitted", "shortlisted", "accepted")),
                Application.applicant_id.is_not(None),
            )
        )
    )
    owners = _enterprise_user_ids(session, ch.enterprise_id)
    actor_id = getattr(actor, "id", None)
    recipients = [u for u in (*teams, *owners) if u is not None and u != actor_id]
    if recipients:
        state = CHALLENGE_MACHINE.state_label(ch.status)
        state_en = CHALLENGE_MACHINE.state_label(ch.status, "en")
        notify(
            session,
            user_ids=recipients,
            kind=f"challenge.{t.action}",
            title=f"榜单“{ch.title}”：{state}",
            title_en=f"Challenge “{ch.title}”: {state_en}",
            body=reason or None,
            body_en=reason or None,
            link=f"/challenges/{ch.id}",
        )


def challenge_actions(session: Session, *, actor: User | None, ch: Challenge) -> list[Transition]:
    """The buttons this user may press on this challenge now."""
    return [
        t
        for t in available_actions(session, machine=CHALLENGE_MACHINE, obj=ch, actor=actor)
        if t.action in MANUAL_ACTIONS
    ]


def tick(session: Session, *, today: date | None = None) -> dict[str, Any]:
    """Move challenges past their deadlines: applications close, unfinished work expires.

    Idempotent: a challenge already moved is no longer in a source state, so a second run the
    same day changes nothing.
    """
    day = today or today_utc()
    expired: list[int] = []
    closed: list[int] = []
    stale = select(Challenge).where(
        Challenge.status.in_(("published", "applications_closed", "in_progress")),
        Challenge.delivery_deadline < day,
    )
    for ch in session.scalars(stale).all():
        t = apply_transition(
            session, machine=CHALLENGE_MACHINE, obj=ch, action="expire", actor=None
        )
        _after_transition(session, ch, t, None, reason=f"交付期限 {ch.delivery_deadline} 已过")
        expired.append(ch.id)
    due = select(Challenge).where(
        Challenge.status == "published", Challenge.application_deadline < day
    )
    for ch in session.scalars(due).all():
        t = apply_transition(
            session, machine=CHALLENGE_MACHINE, obj=ch, action="system_close", actor=None
        )
        _after_transition(
            session, ch, t, None, reason=f"报名截止日期 {ch.application_deadline} 已过"
        )
        closed.append(ch.id)
    return {"date": day.isoformat(), "closed": closed, "expired": expired}


# --------------------------------------------------------------------------- routing
def _route_query(ch: Challenge) -> str:
    parts = [ch.title, ch.summary, ch.problem]
    parts += [f"{i.name} {i.method}" for i in ch.indicators]
    return "\n".join(p for p in parts if p)


def route_challenge(session: Session, *, challenge: Challenge) -> dict[str, Any]:
    """Ask the engine for patents matching the challenge, derive the listings and institutions
    (with their inventor teams), store them as suggestions and notify those institutions' staff.

    Without a built index the challenge still publishes; the audit entry says it was not routed.
    """
    from shuanglian.matching.service import IndexNotReady, match_text
    from shuanglian.patents.models import Institution, Patent
    from shuanglian.supermarket.models import Listing, ListingPatent

    settings = session_settings(session)
    ch = challenge
    session.query(Suggestion).filter(Suggestion.challenge_id == ch.id).delete()
    if settings is None:
        record_audit(
            session, actor=None, action="challenge.route", subject=ch, detail={"routed": False}
        )
        return {"patents": 0, "listings": 0, "institutions": 0, "notified": 0}
    try:
        matches = match_text(
            session,
            settings=settings,
            text=_route_query(ch),
            target="patents",
            industry=ch.industry_code,
            top=ROUTE_TOP,
        )
    except IndexNotReady as exc:
        record_audit(
            session,
            actor=None,
            action="challenge.route",
            subject=ch,
            detail={"routed": False, "reason": exc.message},
        )
        return {"patents": 0, "listings": 0, "institutions": 0, "notified": 0}
    by_id = {m.id: m for m in matches}
    patents = {p.id: p for p in session.scalars(select(Patent).where(Patent.id.in_(list(by_id))))}
    for m in matches:
        session.add(
            Suggestion(
                challenge_id=ch.id,
                kind="patent",
                ref_id=m.id,
                name=m.name[:500],
                score=m.score,
                explanation=m.explanation.summary,
            )
        )
    # Listings presenting any matched patent, published ones only.
    listing_rows = session.execute(
        select(Listing.id, Listing.title, ListingPatent.patent_id)
        .join(ListingPatent, ListingPatent.listing_id == Listing.id)
        .where(ListingPatent.patent_id.in_(list(by_id)), Listing.status == "published")
    ).all()
    seen_listings: set[int] = set()
    for lid, title, pid in listing_rows:
        if lid in seen_listings:
            continue
        seen_listings.add(lid)
        session.add(
            Suggestion(
                challenge_id=ch.id,
                kind="listing",
                ref_id=lid,
                name=title[:500],
                score=by_id[pid].score,
                explanation=f"上架成果包含匹配专利“{by_id[pid].name[:60]}”；"
                + by_id[pid].explanation.summary,
            )
        )
    # Institutions holding matched patents, best patent first, with the inventors as the team.
    per_inst: dict[int, list[int]] = {}
    for m in matches:
        p = patents.get(m.id)
        if p is not None and p.institution_id is not None:
            per_inst.setdefault(p.institution_id, []).append(m.id)
    notified = 0
    for inst_id, pids in per_inst.items():
        inst = session.get(Institution, inst_id)
        if inst is None:
            continue
        inventors = list(dict.fromkeys(n for pid in pids for n in (patents[pid].inventors or [])))
        best = by_id[pids[0]]
        explanation = f"匹配专利 {len(pids)} 件，最佳“{best.name[:60]}”：{best.explanation.summary}"
        explanation_en = (
            f"{len(pids)} matching patent{'s' if len(pids) > 1 else ''}, best “{best.name[:60]}”"
        )
        if best.explanation.reasons_en:
            explanation_en += ": " + "; ".join(best.explanation.reasons_en)
        if inventors:
            explanation += "；发明人团队：" + "、".join(inventors[:6])
            explanation_en += "; inventor team: " + ", ".join(inventors[:6])
        staff = list(
            session.scalars(
                select(User.id).where(
                    User.institution_id == inst_id,
                    User.role == perm.INSTITUTION_STAFF,
                    User.is_active.is_(True),
                )
            )
        )
        session.add(
            Suggestion(
                challenge_id=ch.id,
                kind="institution",
                ref_id=inst_id,
                name=inst.name,
                score=best.score,
                explanation=explanation,
                notified=len(staff),
            )
        )
        if staff:
            notify(
                session,
                user_ids=staff,
                kind="challenge.routed",
                title=f"新榜单与贵单位专利匹配：{ch.title}",
                title_en=f"A new challenge matches your institution's patents: {ch.title}",
                body=(
                    f"榜额 {_num(ch.budget)} 万元，报名截止 {ch.application_deadline}。"
                    f"{explanation}"
                ),
                body_en=(
                    f"Budget {_num(ch.budget)} × 10k CNY, applications close "
                    f"{ch.application_deadline}. {explanation_en}"
                ),
                link=f"/challenges/{ch.id}",
            )
            notified += len(staff)
    session.flush()
    result = {
        "patents": len(matches),
        "listings": len(seen_listings),
        "institutions": len(per_inst),
        "notified": notified,
    }
    record_audit(
        session, actor=None, action="challenge.route", subject=ch, detail={"routed": True, **result}
    )
    return result


def list_suggestions(
    session: Session, *, actor: User | None, challenge_id: int
) -> list[Suggestion]:
    """What the engine routed the challenge to (its owner sees them; they name institutions)."""
    ch = get_challenge(session, challenge_id=challenge_id, actor=actor)
    perm.require_enterprise(actor, ch.enterprise_id)
    stmt = (
        select(Suggestion)
        .where(Suggestion.challenge_id == ch.id)
        .order_by(Suggestion.kind, Suggestion.score.desc(), Suggestion.id)
    )
    return list(session.scalars(stmt))


# --------------------------------------------------------------------------- search
@dataclass
class ChallengePage:
    items: list[Challenge]
    total: int


def search_challenges(
    session: Session,
    *,
    q: str | None = None,
    status: str | None = None,
    industry: str | None = None,
    region: str | None = None,
    offset: int = 0,
    limit: int = 20,
) -> ChallengePage:
    """Public challenges (never drafts), newest first; text search covers title and summary
    only, so a search cannot reveal what an NDA hides."""
    stmt = select(Challenge).where(Challenge.status.in_(PUBLIC_STATES))
    if status:
        if status not in PUBLIC_STATES:
            raise DomainError(f"未知状态 (unknown status): {status}", field="status")
        stmt = stmt.where(Challenge.status == status)
    if q and q.strip():
        for word in normalize_for_search(q).split():
            stmt = stmt.where(Challenge.search_text.contains(word))
    if industry:
        code = resolve_industry(industry)
        stmt = stmt.where(Challenge.industry_code.startswith(code or ""))
    if region and region.strip():
        stmt = stmt.where(Challenge.region.contains(region.strip()))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(
        stmt.order_by(Challenge.published_at.desc(), Challenge.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return ChallengePage(items=list(items), total=int(total))


def list_enterprise_challenges(session: Session, *, actor: User | None) -> list[Challenge]:
    """The actor's enterprise's challenges, drafts included, newest first (admins: all)."""
    user = perm.require_role(actor, perm.ENTERPRISE_USER)
    stmt = select(Challenge).order_by(Challenge.id.desc())
    if user.role != perm.ADMIN:
        stmt = stmt.where(Challenge.enterprise_id == user.enterprise_id)
    return list(session.scalars(stmt.limit(500)))


def list_my_applications(session: Session, *, actor: User | None) -> list[Application]:
    """Applications the actor filed, and (staff) those of their institution's teams."""
    user = perm.require_role(actor, *SOLVER_ROLES)
    conds = [Application.applicant_id == user.id]
    if user.role == perm.INSTITUTION_STAFF and user.institution_id is not None:
        conds.append(Application.institution_id == user.institution_id)
    stmt = select(Application).where(or_(*conds)).order_by(Application.id.desc())
    return list(session.scalars(stmt.limit(500)))


# --------------------------------------------------------------------------- NDA
def accept_nda(session: Session, *, actor: User | None, challenge_id: int) -> NdaAcceptance:
    """Record that the user accepted the challenge's NDA (time, user and wording kept)."""
    user = perm.require_login(actor)
    ch = get_challenge(session, challenge_id=challenge_id, actor=user)
    if ch.visibility != "nda":
        raise DomainError("本榜单无需保密协议 (this challenge has no NDA)", field="nda")
    existing = session.scalar(
        select(NdaAcceptance).where(
            NdaAcceptance.challenge_id == ch.id, NdaAcceptance.user_id == user.id
        )
    )
    if existing is not None:
        return existing
    row = NdaAcceptance(challenge_id=ch.id, user_id=user.id, nda_text=ch.nda_text or DEFAULT_NDA)
    session.add(row)
    session.flush()
    record_audit(
        session,
        actor=user,
        action="challenge.nda_accept",
        subject=ch,
        detail={"accepted_at": row.accepted_at},
    )
    return row


# --------------------------------------------------------------------------- apply
def _check_milestones(items: list[MilestoneIn], *, today: date, delivery: date) -> None:
    for i, ms in enumerate(items):
        _text(
            ms.title,
            f"milestones.{i}.title",
            f"第 {i + 1} 个里程碑的名称",
            required=True,
            max_len=300,
        )
        if ms.due_on < today:
            raise DomainError(
                f"里程碑“{ms.title}”的日期 {ms.due_on} 已过 (milestone date in the past)",
                field=f"milestones.{i}.due_on",
            )
        if ms.due_on > delivery:
            raise DomainError(
                f"里程碑“{ms.title}”晚于榜单交付日期 {delivery} (milestone after delivery)",
                field=f"milestones.{i}.due_on",
            )
        if _decimal(ms.amount, f"milestones.{i}.amount", "金额") < 0:
            raise DomainError("里程碑金额不能为负 (amount < 0)", field=f"milestones.{i}.amount")


def apply_to_challenge(
    session: Session,
    *,
    actor: User | None,
    challenge_id: int,
    data: ApplicationIn,
    today: date | None = None,
) -> Application:
    """File a team's application (领题) on an open challenge, on behalf of the team."""
    from shuanglian.inventory.models import PoolEntry

    user = perm.require_role(actor, *SOLVER_ROLES)
    if user.role == perm.ADMIN:
        raise PermissionDenied("管理员不能代为领题 (an admin does not apply)")
    ch = get_challenge(session, challenge_id=challenge_id, actor=user)
    day = today or today_utc()
    if ch.status != "published":
        raise DomainError(
            f"当前状态为“{CHALLENGE_MACHINE.state_label(ch.status)}”，不接受报名 "
            "(applications are taken only while the challenge is open)",
            field="status",
        )
    if ch.application_deadline < day:
        raise DomainError(
            f"报名已于 {ch.application_deadline} 截止 (the application deadline has passed)",
            field="status",
        )
    hidden = details_hidden_reason(session, user, ch)
    if hidden:
        raise PermissionDenied(hidden)
    team = _text(data.team_name, "team_name", "团队名称", required=True, max_len=200)
    members = [
        {"name": m.name.strip(), "role": (m.role or "").strip()}
        for m in data.members
        if m.name.strip()
    ]
    if not members:
        raise DomainError("请至少填写一名团队成员 (at least one team member)", field="members")
    approach = _text(data.approach, "approach", "技术路线", required=True, max_len=20000)
    price = _decimal(data.price, "price", "报价")
    if price <= 0:
        raise DomainError("报价须大于 0 万元 (price must be > 0)", field="price")
    if data.duration_days <= 0 or data.duration_days > 3650:
        raise DomainError("工期须为 1–3650 天 (duration 1..3650 days)", field="duration_days")
    patent_ids = list(dict.fromkeys(data.patent_ids))
    if patent_ids:
        pooled = set(
            session.scalars(
                select(PoolEntry.patent_id).where(
                    PoolEntry.patent_id.in_(patent_ids), PoolEntry.active.is_(True)
                )
            )
        )
        missing = [p for p in patent_ids if p not in pooled]
        if missing:
            raise DomainError(
                f"专利 {', '.join(map(str, missing))} 不在可转化资源库中 (not in the pool)",
                field="patent_ids",
            )
    _check_milestones(data.milestones, today=day, delivery=ch.delivery_deadline)
    if not data.milestones:
        raise DomainError("请至少填写一个里程碑 (at least one milestone)", field="milestones")
    app = Application(
        challenge_id=ch.id,
        applicant_id=user.id,
        institution_id=user.institution_id if user.role == perm.INSTITUTION_STAFF else None,
        team_name=team,
        team_members=members,
        patent_ids=patent_ids,
        approach=approach,
        price=price,
        duration_days=data.duration_days,
    )
    for i, ms in enumerate(data.milestones):
        app.milestones.append(
            Milestone(
                position=i,
                title=ms.title.strip(),
                deliverable=(ms.deliverable or "").strip(),
                due_on=ms.due_on,
                amount=Decimal(ms.amount),
            )
        )
    session.add(app)
    session.flush()
    record_audit(
        session,
        actor=user,
        action="challenge.apply",
        subject=app,
        detail={"challenge_id": ch.id, "team": team, "price": price},
    )
    notify(
        session,
        user_ids=_enterprise_user_ids(session, ch.enterprise_id),
        kind="challenge.application",
        title=f"“{ch.title}”收到新的揭榜申请：{team}",
        title_en=f"New application to “{ch.title}”: {team}",
        body=f"报价 {_num(price)} 万元，工期 {data.duration_days} 天",
        body_en=f"Price {_num(price)} × 10k CNY, duration {data.duration_days} days",
        link=f"/challenges/{ch.id}/applications",
    )
    return app


def list_applications(
    session: Session, *, actor: User | None, challenge_id: int
) -> list[Application]:
    """All applications of a challenge for its enterprise; a team sees only its own."""
    ch = get_challenge(session, challenge_id=challenge_id, actor=actor)
    if is_owner(actor, ch):
        stmt = select(Application).where(Application.challenge_id == ch.id)
        return list(session.scalars(stmt.order_by(Application.id)))
    return _user_applications(session, actor, ch)


def decide_application(
    session: Session,
    *,
    actor: User | None,
    application_id: int,
    action: str,
    reason: str | None = None,
) -> Application:
    """Shortlist, accept (one or several teams) or reject with a reason; the team withdraws."""
    app = get_application(session, application_id=application_id, actor=actor)
    ch = app.challenge
    if action in ("shortlist", "accept", "reject") and ch.status not in (
        "published",
        "applications_closed",
        "in_progress",
    ):
        raise DomainError(
            f"榜单当前状态为“{CHALLENGE_MACHINE.state_label(ch.status)}”，不能再处理申请 "
            "(applications can no longer be decided)",
            field="action",
        )
    apply_transition(
        session, machine=APPLICATION_MACHINE, obj=app, action=action, actor=actor, reason=reason
    )
    if action == "reject":
        app.reject_reason = (reason or "").strip()
    label = APPLICATION_MACHINE.state_label(app.status)
    label_en = APPLICATION_MACHINE.state_label(app.status, "en")
    recipients = (
        _enterprise_user_ids(session, ch.enterprise_id)
        if action == "withdraw"
        else [app.applicant_id]
    )
    notify(
        session,
        user_ids=[u for u in recipients if u is not None],
        kind=f"challenge.application.{action}",
        title=f"“{ch.title}”的申请（{app.team_name}）：{label}",
        title_en=f"Application to “{ch.title}” ({app.team_name}): {label_en}",
        body=reason or None,
        body_en=reason or None,
        link=f"/challenges/{ch.id}/applications/{app.id}",
    )
    return app


# --------------------------------------------------------------------------- solve
def _milestone_with_app(session: Session, milestone_id: int, actor: User | None) -> Milestone:
    ms = session.get(Milestone, milestone_id)
    if ms is None:
        raise NotFound(f"里程碑不存在 (milestone not found): {milestone_id}")
    get_application(session, application_id=ms.application_id, actor=actor)
    return ms


def act_on_milestone(
    session: Session,
    *,
    actor: User | None,
    milestone_id: int,
    action: str,
    note: str | None = None,
    reason: str | None = None,
) -> Milestone:
    """The team submits a milestone's deliverable; the enterprise accepts or returns it."""
    ms = _milestone_with_app(session, milestone_id, actor)
    app = session.get(Application, ms.application_id)
    assert app is not None
    if app.status != "accepted" or app.challenge.status not in (
        "in_progress",
        "verifying",
        "failed",
    ):
        raise DomainError(
            "只有已选中团队在攻关阶段的里程碑可以提交或验收 "
            "(milestones move only for an accepted team while work is in progress)",
            field="action",
        )
    apply_transition(
        session,
        machine=MILESTONE_MACHINE,
        obj=ms,
        action=action,
        actor=actor,
        note=note,
        reason=reason,
    )
    if action == "submit":
        ms.delivery_note = (note or "").strip()
        ms.return_reason = None
    elif action == "return":
        ms.return_reason = (reason or "").strip()
    others = [u for u in _application_parties(session, app) if u != getattr(actor, "id", None)]
    notify(
        session,
        user_ids=others,
        kind=f"challenge.milestone.{action}",
        title=f"里程碑“{ms.title}”：{MILESTONE_MACHINE.state_label(ms.status)}",
        title_en=f"Milestone “{ms.title}”: {MILESTONE_MACHINE.state_label(ms.status, 'en')}",
        body=reason or note or None,
        body_en=reason or note or None,
        link=f"/challenges/{app.challenge_id}/applications/{app.id}",
    )
    return ms


def record_payment(
    session: Session,
    *,
    actor: User | None,
    milestone_id: int,
    amount: Decimal,
    paid_on: date,
    note: str | None = None,
    today: date | None = None,
) -> Milestone:
    """Record the enterprise's payment for an accepted milestone."""
    ms = _milestone_with_app(session, milestone_id, actor)
    app = session.get(Application, ms.application_id)
    assert app is not None
    perm.require_enterprise(actor, app.challenge.enterprise_id)
    if ms.status != "accepted":
        raise DomainError(
            f"里程碑当前为“{MILESTONE_MACHINE.state_label(ms.status)}”，验收通过后才能登记付款 "
            "(pay only an accepted milestone)",
            field="amount",
        )
    amount = _decimal(amount, "amount", "付款金额")
    if amount <= 0:
        raise DomainError("付款金额须大于 0 (amount must be > 0)", field="amount")
    if paid_on > (today or today_utc()):
        raise DomainError("付款日期不能在未来 (payment date in the future)", field="paid_on")
    ms.paid_amount = (ms.paid_amount or Decimal(0)) + amount
    ms.paid_on = paid_on
    ms.payment_note = (note or "").strip()[:300] or None
    record_audit(
        session,
        actor=actor,
        action="challenge.milestone.pay",
        subject=ms,
        detail={"amount": amount, "paid_on": paid_on, "total": ms.paid_amount},
    )
    if app.applicant_id:
        notify(
            session,
            user_ids=[app.applicant_id],
            kind="challenge.milestone.pay",
            title=f"里程碑“{ms.title}”已付款 {_num(amount)} 万元",
            title_en=f"Milestone “{ms.title}” paid: {_num(amount)} × 10k CNY",
            link=f"/challenges/{app.challenge_id}/applications/{app.id}",
        )
    return ms


def post_message(
    session: Session, *, actor: User | None, application_id: int, body: str
) -> Message:
    """A message between the enterprise and one team; only the two sides read it."""
    user = perm.require_login(actor)
    app = get_application(session, application_id=application_id, actor=user)
    text = _text(body, "body", "消息内容", required=True, max_len=5000)
    msg = Message(
        application_id=app.id,
        author_id=user.id,
        author_name=user.display_name or user.username,
        body=text,
    )
    session.add(msg)
    session.flush()
    record_audit(session, actor=user, action="challenge.message", subject=msg)
    notify(
        session,
        user_ids=[u for u in _application_parties(session, app) if u != user.id],
        kind="challenge.message",
        title=f"“{app.challenge.title}”有新消息",
        title_en=f"New message on “{app.challenge.title}”",
        body=text[:200],
        body_en=text[:200],
        link=f"/challenges/{app.challenge_id}/applications/{app.id}#messages",
        email=False,
    )
    return msg


def list_messages(session: Session, *, actor: User | None, application_id: int) -> list[Message]:
    """The conversation on one application, oldest first."""
    app = get_application(session, application_id=application_id, actor=actor)
    stmt = select(Message).where(Message.application_id == app.id).order_by(Message.id)
    return list(session.scalars(stmt))


# --------------------------------------------------------------------------- verify
def record_verification(
    session: Session,
    *,
    actor: User | None,
    challenge_id: int,
    measurements: list[MeasurementIn],
    note: str | None = None,
    application_id: int | None = None,
    today: date | None = None,
) -> Verification:
    """Record one verification run: a measured value per indicator; pass/fail per indicator is
    computed from its target and comparison, and the run passes only if every indicator does.
    The challenge moves to verified or failed accordingly."""
    ch = get_challenge(session, challenge_id=challenge_id, actor=actor)
    perm.require_enterprise(actor, ch.enterprise_id)
    if ch.status != "verifying":
        raise DomainError(
            f"当前状态为“{CHALLENGE_MACHINE.state_label(ch.status)}”，不能录入验题结果；"
            "请先“开始验题”或“重新验题” (record a verification only while verifying)",
            field="status",
        )
    day = today or today_utc()
    by_indicator = {i.id: i for i in ch.indicators}
    given: dict[int, MeasurementIn] = {}
    for i, m in enumerate(measurements):
        if m.indicator_id not in by_indicator:
            raise DomainError(
                f"指标 {m.indicator_id} 不属于本榜单 (indicator not in this challenge)",
                field=f"measurements.{i}.indicator_id",
            )
        given[m.indicator_id] = m
    missing = [ind.name for ind in ch.indicators if ind.id not in given]
    if missing:
        raise DomainError(
            f"请为每个指标录入测量值，缺少：{'、'.join(missing)} (a value for every indicator)",
            field="measurements",
        )
    if application_id is not None:
        app = session.get(Application, application_id)
        if app is None or app.challenge_id != ch.id or app.status != "accepted":
            raise DomainError(
                "所验团队须为本榜单已选中的团队 (not an accepted team)", field="application_id"
            )
    run = (
        session.scalar(select(func.max(Verification.run)).where(Verification.challenge_id == ch.id))
        or 0
    ) + 1
    ver = Verification(
        challenge_id=ch.id,
        application_id=application_id,
        run=run,
        verdict="failed",
        note=(note or "").strip() or None,
        recorded_by_id=getattr(actor, "id", None),
    )
    for i, ind in enumerate(ch.indicators):
        m = given[ind.id]
        field = f"measurements.{i}"
        value = _decimal(m.value, f"{field}.value", f"指标“{ind.name}”的测量值")
        if m.measured_on > day:
            raise DomainError(
                f"指标“{ind.name}”的测量日期不能在未来 (measured date in the future)",
                field=f"{field}.measured_on",
            )
        place = _text(
            m.place, f"{field}.place", f"指标“{ind.name}”的测量地点", required=True, max_len=200
        )
        verifier = _text(
            m.verifier, f"{field}.verifier", f"指标“{ind.name}”的验证人", required=True, max_len=100
        )
        ver.measurements.append(
            Measurement(
                indicator_id=ind.id,
                value=value,
                measured_on=m.measured_on,
                place=place,
                verifier=verifier,
                passed=indicator_passes(ind, value),
            )
        )
    ver.verdict = "passed" if all(x.passed for x in ver.measurements) else "failed"
    session.add(ver)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="challenge.verification",
        subject=ch,
        detail={
            "run": run,
            "verdict": ver.verdict,
            "values": {str(x.indicator_id): [x.value, x.passed] for x in ver.measurements},
        },
    )
    action = "pass" if ver.verdict == "passed" else "fail"
    t = apply_transition(session, machine=CHALLENGE_MACHINE, obj=ch, action=action, actor=actor)
    _after_transition(session, ch, t, actor)
    return ver


def list_verifications(
    session: Session, *, actor: User | None, challenge_id: int
) -> list[Verification]:
    """Every verification run of a challenge, for its parties (evidence is private)."""
    ch = get_challenge(session, challenge_id=challenge_id, actor=actor)
    require_party(session, actor, ch)
    stmt = select(Verification).where(Verification.challenge_id == ch.id).order_by(Verification.run)
    return list(session.scalars(stmt))


def is_party(session: Session, actor: User | None, ch: Challenge) -> bool:
    """The enterprise (and admins) or an accepted team."""
    if is_owner(actor, ch):
        return True
    return any(a.status == "accepted" for a in _user_applications(session, actor, ch))


def require_party(session: Session, actor: User | None, ch: Challenge) -> None:
    """Refuse anyone but the enterprise and accepted teams (as not found: nothing leaks)."""
    if not is_party(session, actor, ch):
        raise NotFound(f"记录不存在 (not found): challenge {ch.id}")


def attach_file(
    session: Session,
    *,
    actor: User | None,
    scope: str,
    ref_id: int,
    filename: str,
    data: bytes,
) -> Any:
    """Attach a document to a challenge (its enterprise), a milestone (the team) or a
    measurement (the enterprise, as verification evidence)."""
    from shuanglian.attachments import store_attachment

    if scope == "challenge":
        ch = get_challenge(session, challenge_id=ref_id, actor=actor)
        perm.require_enterprise(actor, ch.enterprise_id)
        subject: Any = ch
    elif scope == "milestone":
        ms = _milestone_with_app(session, ref_id, actor)
        app = session.get(Application, ms.application_id)
        if not (is_team_party(session, actor, app) or is_owner(actor, app.challenge)):  # type: ignore[union-attr]
            raise PermissionDenied("只有双方可上传 (only the parties may upload)")
        subject = ms
    elif scope == "measurement":
        m = session.get(Measurement, ref_id)
        if m is None:
            raise NotFound(f"测量记录不存在 (measurement not found): {ref_id}")
        ver = session.get(Verification, m.verification_id)
        ch = get_challenge(session, challenge_id=ver.challenge_id, actor=actor)  # type: ignore[union-attr]
        perm.require_enterprise(actor, ch.enterprise_id)
        subject = m
    else:
        raise DomainError(f"unknown scope {scope!r}", field="scope")
    row = store_attachment(
        session, scope=scope, ref_id=ref_id, filename=filename, data=data, actor=actor
    )
    record_audit(
        session,
        actor=actor,
        action="challenge.attach",
        subject=subject,
        detail={"file": row.filename, "size": row.size, "sha256": row.sha256},
    )
    return row


def readable_attachment(session: Session, *, actor: User | None, attachment_id: int) -> Any:
    """A file the actor may download: challenge documents to those who may see the details,
    milestone files and evidence only to the parties."""
    from shuanglian.attachments import get_attachment

    row = get_attachment(session, attachment_id=attachment_id)
    if row.scope == "challenge":
        ch = get_challenge(session, challenge_id=row.ref_id, actor=actor)
        if details_hidden_reason(session, actor, ch):
            raise NotFound(f"文件不存在 (file not found): {attachment_id}")
    elif row.scope == "milestone":
        _milestone_with_app(session, row.ref_id, actor)
    elif row.scope == "measurement":
        m = session.get(Measurement, row.ref_id)
        ver = session.get(Verification, m.verification_id) if m else None
        if ver is None:
            raise NotFound(f"文件不存在 (file not found): {attachment_id}")
        ch = get_challenge(session, challenge_id=ver.challenge_id, actor=actor)
        require_party(session, actor, ch)
    else:
        raise NotFound(f"文件不存在 (file not found): {attachment_id}")
    return row
