"""The demo seed (`shuanglian demo seed`): the imported demo data brought to life by services.

After `make demo-data` has imported patents, enterprises and demands and built the matching
index, the pool, the supermarket, push lists, feedback and the big screen would still be empty
and nobody could log in. This module plays the people a real platform has, one step at a time,
calling the same service functions their clicks call (never raw inserts), so the demo shows
exactly what the product does — permissions, audit log and state machine included:

1. demo users (one documented password) and the reviewer assignments review needs;
2. an inventory batch per institution, a self-assessment per patent derived transparently from
   its bibliographic record, and the two-level review into the convertible pool, then the value
   indicators;
3. one push round with the matching engine, feedback from the demo enterprise user, tiers;
4. published supermarket listings for the pooled patents, a few of them featured.

Every step first looks at what exists and only does what is missing, so a second run creates
nothing and never fails because things exist (`make demo` may be run any number of times).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.accounts.service import create_user, get_user_by_username
from shuanglian.challenges.demo import seed_challenges_demo
from shuanglian.config import Settings
from shuanglian.deals.demo import seed_deals_demo
from shuanglian.errors import DomainError
from shuanglian.inventory.models import (
    College,
    Feedback,
    InventoryBatch,
    InventoryItem,
    PoolEntry,
    Push,
    PushRound,
    ReviewerAssignment,
)
from shuanglian.inventory.pool import is_lapsed
from shuanglian.inventory.schemas import FeedbackIn, SelfAssessmentIn
from shuanglian.patents.models import PATENT_TYPE_ZH, Institution, Patent
from shuanglian.pilots.demo import seed_pilots_demo
from shuanglian.supermarket.models import Listing, ListingPatent

DEMO_PASSWORD = "shuanglian-demo-2026"
DEMO_INSTITUTION = "中科大数据研究院"
# A college (院系) so that the demo shows both review levels; named as demo data on purpose.
# Where the demo's institutions are (the imports name them but carry no address): the bureau's
# dashboards place pools and contracts by the institution's province. Set only when empty.
DEMO_INSTITUTION_REGIONS = {
    "中山大学": "广东省广州市",
    DEMO_INSTITUTION: "河南省郑州市",
    "NVIDIA Corporation": "美国加利福尼亚州",
}
DEMO_COLLEGE = "智能感知与无人系统研究室（演示院系）"
DEMO_SOURCE = "demo"  # InventoryBatch.source of the batches this module creates
VALUE_REASON = "演示数据：由专利著录项目推导"  # stored data: in the users' language, zh
CONTACT = "技术转移办公室 (TTO)"
FEATURED_COUNT = 4
DEMO_ENT_MIN_PUSHES = 3  # the demo enterprise user's list is not one lucky push
PUSH_PER_PATENT = 10
PUSH_CAP = 20
# Illustrative asking prices (万元) by value grade; shown as demo terms, not valuations.
DEMO_PRICE = {"A": Decimal(120), "B": Decimal(80), "C": Decimal(40), "D": Decimal(20)}
DEMO_OPEN_FEE = {"A": 5, "B": 5, "C": 2, "D": 2}  # 开放许可 declared fee, 万元 per year
# Self-assessed grade → the supermarket mode names (shuanglian.supermarket.service.MODES).
LISTING_MODES = {"转让": ["transfer", "licence"], "许可": ["licence", "open_licence"]}


@dataclass(frozen=True)
class DemoUser:
    """One demo login: name, role and what it is for (shown in the report and the README)."""

    username: str
    role: str
    display_name: str


DEMO_USERS = (
    DemoUser("admin", perm.ADMIN, "平台管理员（演示）"),
    DemoUser("tto", perm.INSTITUTION_STAFF, "技术转移办公室（演示）"),
    DemoUser("reviewer", perm.INSTITUTION_STAFF, "单位审核人（演示）"),
    DemoUser("ent", perm.ENTERPRISE_USER, "企业用户（演示）"),
    DemoUser("manager", perm.TECH_MANAGER, "技术经理人（演示）"),
    DemoUser("manager2", perm.TECH_MANAGER, "技术经理人二（演示）"),
    DemoUser("manager3", perm.TECH_MANAGER, "技术经理人三（演示）"),
    DemoUser("pilot", perm.PILOT_PLATFORM, "中试平台（演示）"),
)

# (产业化前景 1–5, 合作意向, 技术改进需求): what an enterprise's R&D department typically writes.
FEEDBACK_TEXTS = (
    (
        4,
        "洽谈",
        "希望了解该技术在我司现有产线上的改造投入与周期，请提供中试验证数据和样机测试报告，"
        "可安排技术人员到厂对接。",
    ),
    (
        3,
        "了解更多",
        "关注技术成熟度与量产成本，希望补充与现有方案的性能对比及可靠性试验数据。",
    ),
    (
        2,
        "无",
        "与我司主营产品关联度一般，暂无合作计划；如能降低设备改造成本可再评估。",
    ),
)


# --------------------------------------------------------------------------- derivations


def is_granted(patent: Patent) -> bool:
    """Granted when the record says so: a grant date, or a CNIPA status like 有权-审定授权."""
    status = patent.legal_status or ""
    return patent.grant_date is not None or "有权" in status or "授权" in status


def lead_code(patent: Patent) -> str | None:
    """The code that best says what the patent is about: main IPC, else first IPC, else CPC.

    US records from PatentsView carry only CPC groups; CPC shares IPC's structure below the
    subclass, so its first non-Y code (Y = CPC's cross-cutting tagging scheme) stands in.
    """
    if patent.main_ipc:
        return patent.main_ipc
    for code in [*(patent.ipc_codes or []), *(patent.cpc_codes or [])]:
        if code and not code.upper().startswith("Y"):
            return code
    return None


def industry_codes_for(patent: Patent, *, limit: int = 3) -> list[str]:
    """GB/T 4754 大类 with their 门类 letter (C39) linked to the main IPC (approximate link)."""
    from shuanglian.reference.gbt4754 import industry
    from shuanglian.reference.industry_link import industries_for_ipc

    code = lead_code(patent)
    if not code:
        return []
    out: list[str] = []
    # Weights under 5% are the concordance's smoothing tail, not a real link.
    for division, weight in industries_for_ipc(code):
        entry = industry(division)
        if entry is None or weight < 0.05:
            continue
        out.append(f"{entry.section}{division}")
        if len(out) == limit:
            break
    return out


def tech_field_for(patent: Patent) -> str | None:
    """The WIPO technology field (Schmoch's 35) of the main IPC, as the catalogue's facet."""
    from shuanglian.reference.ipc import technology_field

    code = lead_code(patent)
    found = technology_field(code) if code else None
    return found[1] if found else None


def derived_self_assessment(patent: Patent) -> SelfAssessmentIn:
    """The self-assessment a TTO would fill from the bibliographic record alone.

    Granted invention → TRL 6, grade 高, 转让; granted utility model → TRL 5, grade 中, 许可;
    a pending application → TRL 4, grade 低, 许可. Nothing is implemented yet (未实施).
    Chinese-language records of a research institute are taken as publicly funded.
    """
    kind = PATENT_TYPE_ZH.get(patent.patent_type or "", "专利")
    status = patent.legal_status or ("已授权 (granted)" if patent.grant_date else "未注明")
    if is_granted(patent) and patent.patent_type == "invention":
        trl, grade, mode = 6, "高", "转让"
    elif is_granted(patent):
        trl, grade, mode = 5, "中", "许可"
    else:
        trl, grade, mode = 4, "低", "许可"
    if patent.language == "zh":
        scenarios = f"应用场景：{patent.title}相关产品的开发、工艺改进与系统集成。"
    else:
        scenarios = f"应用场景 (application): products and systems built on “{patent.title}”."
    return SelfAssessmentIn(
        publicly_funded=patent.language == "zh",
        implementation_status="未实施",
        transfer_mode=mode,
        trl=trl,
        value_grade=grade,
        value_reason=f"{VALUE_REASON}：{kind}，法律状态“{status}” → 自评“{grade}”。",
        scenarios=scenarios,
        industry_codes=industry_codes_for(patent),
        contact_name=CONTACT,
    )


# --------------------------------------------------------------------------- 1. users


def _ensure_user(
    session: Session,
    created: list[str],
    spec: DemoUser,
    *,
    actor: User | None,
    institution_name: str | None = None,
    enterprise_id: int | None = None,
) -> User:
    user = get_user_by_username(session, username=spec.username)
    if user is not None:
        return user
    user = create_user(
        session,
        username=spec.username,
        password=DEMO_PASSWORD,
        role=spec.role,
        display_name=spec.display_name,
        institution_name=institution_name,
        enterprise_id=enterprise_id,
        actor=actor,
    )
    created.append(spec.username)
    return user


def _spec(username: str) -> DemoUser:
    return next(u for u in DEMO_USERS if u.username == username)


def ensure_reviewers(
    session: Session, *, admin: User, tto: User, reviewer: User
) -> tuple[College, int]:
    """The demo college with `tto` as its reviewer and `reviewer` at institution level."""
    from shuanglian.inventory.service import assign_reviewer, create_college

    assert tto.institution_id is not None  # institution staff always have one
    inst_id = tto.institution_id
    college = session.scalar(
        select(College).where(College.institution_id == inst_id, College.name == DEMO_COLLEGE)
    )
    if college is None:
        college = create_college(session, actor=admin, institution_id=inst_id, name=DEMO_COLLEGE)
        session.flush()
    added = 0
    for user, level, college_id in (
        (tto, "college", college.id),
        (reviewer, "institution", None),
    ):
        exists = session.scalar(
            select(ReviewerAssignment.id).where(
                ReviewerAssignment.user_id == user.id,
                ReviewerAssignment.institution_id == inst_id,
                ReviewerAssignment.level == level,
            )
        )
        if exists is None:
            assign_reviewer(
                session,
                actor=admin,
                user_id=user.id,
                institution_id=inst_id,
                level=level,
                college_id=college_id,
            )
            added += 1
    return college, added


# --------------------------------------------------------------------------- 2. inventory


def _staff_for(institution_id: int, *, admin: User, tto: User) -> User:
    """The demo TTO for its own institution; the platform operator acts for the others."""
    return tto if tto.institution_id == institution_id else admin


def ensure_batches(session: Session, *, admin: User, tto: User, college: College) -> dict[str, int]:
    """One batch per institution holding patents not inventoried yet (counts of new rows)."""
    from shuanglian.inventory.service import create_batch

    inventoried = select(InventoryItem.patent_id)
    rows = session.execute(
        select(Patent.institution_id, Patent.id)
        .where(Patent.institution_id.is_not(None), Patent.id.not_in(inventoried))
        .order_by(Patent.institution_id, Patent.id)
    ).all()
    by_inst: dict[int, list[int]] = {}
    for inst_id, pid in rows:
        if inst_id is not None:  # already filtered in SQL; this narrows the type
            by_inst.setdefault(inst_id, []).append(pid)
    batches = items = 0
    for inst_id, ids in by_inst.items():
        _, added, _ = create_batch(
            session,
            actor=_staff_for(inst_id, admin=admin, tto=tto),
            institution_id=inst_id,
            name="演示盘点批次",
            college_id=college.id if inst_id == college.institution_id else None,
            patent_ids=ids,
            source=DEMO_SOURCE,
        )
        batches += 1
        items += added
    return {"batches": batches, "items": items}


def _demo_items(session: Session, status: str) -> list[tuple[InventoryItem, Patent]]:
    rows = session.execute(
        select(InventoryItem, Patent)
        .join(InventoryBatch, InventoryBatch.id == InventoryItem.batch_id)
        .join(Patent, Patent.id == InventoryItem.patent_id)
        .where(InventoryBatch.source == DEMO_SOURCE, InventoryItem.status == status)
        .order_by(InventoryItem.id)
    ).all()
    return [(item, patent) for item, patent in rows]


def self_assess_items(session: Session, *, admin: User, tto: User) -> int:
    """Fill and submit the self-assessment of every demo item still in draft without one."""
    from shuanglian.inventory.service import save_self_assessment

    done = 0
    for item, patent in _demo_items(session, "draft"):
        if item.assessment is not None:
            continue  # someone started this form by hand: leave it to them
        save_self_assessment(
            session,
            actor=_staff_for(item.institution_id, admin=admin, tto=tto),
            item_id=item.id,
            data=derived_self_assessment(patent),
        )
        done += 1
    return done


def review_items(session: Session, *, admin: User, tto: User, reviewer: User) -> dict[str, int]:
    """Take demo items through college and institution review into the pool.

    Lapsed patents are rejected (the pool refuses them); pending applications are left in the
    institution reviewer's queue so that `reviewer` has real work to show after logging in.
    """
    from shuanglian.inventory.review import review_item

    counts = {"college_approved": 0, "approved": 0, "rejected": 0}
    for item, patent in _demo_items(session, "college_review"):
        actor = tto if tto.institution_id == item.institution_id else admin
        if is_lapsed(patent.legal_status):
            comment = f"法律状态“{patent.legal_status}”，已失效，不入库 (lapsed)"
            review_item(session, actor=actor, item_id=item.id, decision="reject", comment=comment)
            counts["rejected"] += 1
            continue
        review_item(session, actor=actor, item_id=item.id, decision="approve")
        counts["college_approved"] += 1
    for item, patent in _demo_items(session, "institution_review"):
        actor = reviewer if reviewer.institution_id == item.institution_id else admin
        if is_lapsed(patent.legal_status):
            comment = f"法律状态“{patent.legal_status}”，已失效，不入库 (lapsed)"
            review_item(session, actor=actor, item_id=item.id, decision="reject", comment=comment)
            counts["rejected"] += 1
        elif is_granted(patent):
            review_item(session, actor=actor, item_id=item.id, decision="approve")
            counts["approved"] += 1
    return counts


# --------------------------------------------------------------------------- 3. push, feedback


def _needs_push_round(session: Session) -> bool:
    """True when a patent entered the pool after the last round began (or no round ran yet)."""
    last = session.scalar(select(func.max(PushRound.started_at)))
    stmt = select(func.count()).select_from(PoolEntry).where(PoolEntry.active.is_(True))
    if last is not None:
        stmt = stmt.where(PoolEntry.entered_at > last)
    return bool(session.scalar(stmt))


def push_round_if_needed(session: Session, *, admin: User, settings: Settings) -> dict[str, int]:
    """One push round with the matching engine when the pool has patents no round has seen."""
    from shuanglian.inventory.push import engine_matcher, run_push_round

    if not _needs_push_round(session):
        return {"rounds": 0, "pushes": 0}
    rnd = run_push_round(
        session,
        actor=admin,
        matcher=engine_matcher(session, settings=settings),
        per_patent=PUSH_PER_PATENT,
        per_enterprise_cap=PUSH_CAP,
        matcher_name="engine",
    )
    return {"rounds": 1, "pushes": rnd.pushes_made}


def best_matched_enterprise(session: Session) -> int | None:
    """The enterprise whose pushes share the most specific words with it: the sum, over its
    pushes, of the strongest shared word's BM25 part (at least `DEMO_ENT_MIN_PUSHES` pushes;
    more pushes, then the lowest id, on a tie). None before any push.

    Why not the most pushes: that is the hub whose generic business scope (通信、信息、数据)
    every patent touches weakly. Why not the best mean calibrated match: on business scopes
    the calibration cannot tell right leads from wrong (README, "What a level means for a
    business scope"), and its best mean went to a power-equipment seller whose few pushes
    matched 电力 ↔ power. A rare word shared push after push (电池 for a battery maker,
    催化剂 for a catalyst developer) is what a person reads as "these are about our business".
    """
    total: dict[int, float] = defaultdict(float)
    count: dict[int, int] = defaultdict(int)
    for enterprise_id, explanation in session.execute(select(Push.enterprise_id, Push.explanation)):
        terms = (explanation or {}).get("terms") or []
        total[enterprise_id] += max((float(t.get("contribution", 0.0)) for t in terms), default=0.0)
        count[enterprise_id] += 1
    if not count:
        return None
    enough = [e for e, n in count.items() if n >= DEMO_ENT_MIN_PUSHES] or list(count)
    return int(min(enough, key=lambda e: (-total[e], -count[e], e)))


def submit_demo_feedback(session: Session, *, ent: User) -> int:
    """Feedback from `ent` on its best-ranked pushes until it has one per FEEDBACK_TEXTS entry."""
    from shuanglian.inventory.feedback import submit_feedback

    assert ent.enterprise_id is not None  # enterprise users always have one
    given = (
        session.scalar(
            select(func.count())
            .select_from(Feedback)
            .where(Feedback.enterprise_id == ent.enterprise_id)
        )
        or 0
    )
    wanted = FEEDBACK_TEXTS[given:]
    if not wanted:
        return 0
    pushes = session.scalars(
        select(Push)
        .where(
            Push.enterprise_id == ent.enterprise_id,
            Push.id.not_in(select(Feedback.push_id)),
        )
        .order_by(Push.score.desc(), Push.id)
        .limit(len(wanted))
    ).all()
    for push, (prospect, intent, needs) in zip(pushes, wanted, strict=False):
        submit_feedback(
            session,
            actor=ent,
            data=FeedbackIn(prospect=prospect, intent=intent, improvement_needs=needs),
            push_id=push.id,
            source="web",
        )
    return len(pushes)


# --------------------------------------------------------------------------- 4. supermarket


def _listing_terms(grade: str | None, mode: str) -> tuple[list[str], Decimal | None, str | None]:
    """Modes, asking price (万元) and open-licence terms for a self-assessed transfer mode."""
    key = grade or "C"
    modes = LISTING_MODES.get(mode, ["licence"])
    if "open_licence" in modes:
        terms = (
            f"开放许可使用费：每年 {DEMO_OPEN_FEE[key]} 万元，许可期限至专利权届满；任何单位书面"
            "通知专利权人并支付使用费即获得许可（专利法第五十至五十二条）。（演示条款）"
        )
        return modes, Decimal(DEMO_OPEN_FEE[key]), terms  # the declared fee is the price
    return modes, DEMO_PRICE[key], None


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def publish_listings(session: Session, *, admin: User, tto: User) -> dict[str, int]:
    """Publish one supermarket listing per pooled patent not listed yet; feature the best few."""
    from shuanglian.supermarket.service import ListingInput, create_listing

    listed = select(ListingPatent.patent_id)
    rows = session.execute(
        select(PoolEntry, Patent, InventoryItem)
        .join(Patent, Patent.id == PoolEntry.patent_id)
        .join(InventoryItem, InventoryItem.patent_id == Patent.id)
        .where(PoolEntry.active.is_(True), Patent.id.not_in(listed))
        .order_by(PoolEntry.score.desc().nulls_last(), Patent.id)
    ).all()
    any_featured = session.scalar(
        select(func.count()).select_from(Listing).where(Listing.featured.is_(True))
    )
    to_feature = 0 if any_featured else FEATURED_COUNT
    regions = dict(session.execute(select(Institution.id, Institution.region)).all())
    counts = {"listings": 0, "featured": 0}
    # Chinese titles first, then by the pool's score: the best few are featured, and they are
    # published last, so the catalogue's "newest" opens on them, not on the English minority.
    rows = [row for row in rows if row[2].assessment is not None]  # others: listed by hand
    rows.sort(key=lambda row: not _has_han(row[1].title))  # stable: score order kept within
    featured_ids = {patent.id for _, patent, _ in rows[:to_feature]}
    for entry, patent, item in reversed(rows):
        assessment = item.assessment
        assert assessment is not None  # kept above
        modes, price, terms = _listing_terms(entry.grade, assessment.transfer_mode)
        inst_id = entry.institution_id
        summary = (patent.abstract or "").strip()[:5000]
        if len(summary) < 10:  # the catalogue needs a sentence; say what the record does say
            kind = PATENT_TYPE_ZH.get(patent.patent_type or "", "专利")
            summary = f"{kind} {patent.application_number}：{patent.title}"
        featured = patent.id in featured_ids
        create_listing(
            session,
            # Featuring is an admin decision; other listings are put up by their TTO.
            actor=admin if featured else _staff_for(inst_id, admin=admin, tto=tto),
            patent_ids=[patent.id],
            data=ListingInput(
                title=patent.title[:300],
                summary=summary,
                scenarios=assessment.scenarios,
                industries=industry_codes_for(patent),
                tech_field=tech_field_for(patent),
                region=regions.get(inst_id),
                trl=assessment.trl,
                modes=modes,
                price=price,
                open_licence_terms=terms,
                contact_name=assessment.contact_name,
                featured=featured,
            ),
            publish=True,
        )
        counts["listings"] += 1
        counts["featured"] += int(featured)
    return counts


# --------------------------------------------------------------------------- the whole seed


def place_institutions(session: Session) -> int:
    """Give the demo's institutions their address where none is recorded; returns how many."""
    placed = 0
    for inst in session.scalars(
        select(Institution).where(
            Institution.name.in_(DEMO_INSTITUTION_REGIONS), Institution.region.is_(None)
        )
    ):
        inst.region = DEMO_INSTITUTION_REGIONS[inst.name]
        placed += 1
    return placed


def _totals(session: Session) -> dict[str, int]:
    def count(stmt: Any) -> int:
        return int(session.scalar(stmt) or 0)

    return {
        "users": count(select(func.count()).select_from(User)),
        "pool": count(
            select(func.count()).select_from(PoolEntry).where(PoolEntry.active.is_(True))
        ),
        "awaiting_review": count(
            select(func.count())
            .select_from(InventoryItem)
            .where(InventoryItem.status.in_(("college_review", "institution_review")))
        ),
        "pushes": count(select(func.count()).select_from(Push)),
        "feedback": count(select(func.count()).select_from(Feedback)),
        "listings_published": count(
            select(func.count()).select_from(Listing).where(Listing.status == "published")
        ),
        "listings_featured": count(
            select(func.count())
            .select_from(Listing)
            .where(Listing.status == "published", Listing.featured.is_(True))
        ),
    }


def seed_demo(session: Session, *, settings: Settings) -> dict[str, Any]:
    """Bring the imported demo data to life through the real services; safe to run again."""
    from shuanglian.inventory.indicators import assess_pool, default_industry_link
    from shuanglian.inventory.tiers import recompute_tiers

    if not session.scalar(
        select(func.count()).select_from(Patent).where(Patent.institution_id.is_not(None))
    ):
        raise DomainError(
            "数据库中没有属于任何单位的专利：请先导入演示专利（make demo-data） "
            "(no institution patents yet: import the demo patents first)"
        )
    users: list[str] = []
    placed = place_institutions(session)
    role_staff = perm.INSTITUTION_STAFF
    admin = _ensure_user(session, users, _spec("admin"), actor=None)
    tto = _ensure_user(session, users, _spec("tto"), actor=admin, institution_name=DEMO_INSTITUTION)
    reviewer = _ensure_user(
        session, users, _spec("reviewer"), actor=admin, institution_name=DEMO_INSTITUTION
    )
    for user, role in ((admin, perm.ADMIN), (tto, role_staff), (reviewer, role_staff)):
        # A same-named account of another kind must not be taken over by the demo.
        if user.role != role or (role == role_staff and user.institution_id is None):
            raise DomainError(
                f"用户“{user.username}”已存在，但角色不是 {role}，无法用作演示账号 "
                f"(existing user {user.username} has another role)"
            )
    for name in ("manager", "manager2", "manager3"):
        _ensure_user(session, users, _spec(name), actor=admin)
    _ensure_user(session, users, _spec("pilot"), actor=admin)
    college, reviewers = ensure_reviewers(session, admin=admin, tto=tto, reviewer=reviewer)

    inventory = ensure_batches(session, admin=admin, tto=tto, college=college)
    assessed = self_assess_items(session, admin=admin, tto=tto)
    reviewed = review_items(session, admin=admin, tto=tto, reviewer=reviewer)
    link = default_industry_link()
    if reviewed["approved"]:
        assess_pool(session, industry_link=link)  # push rounds go best-graded first
    pushed = push_round_if_needed(session, admin=admin, settings=settings)

    ent = get_user_by_username(session, username="ent")
    enterprise_id = best_matched_enterprise(session)
    if ent is None and enterprise_id is not None:
        ent = _ensure_user(session, users, _spec("ent"), actor=admin, enterprise_id=enterprise_id)
    has_enterprise = ent is not None and ent.enterprise_id is not None
    feedback = submit_demo_feedback(session, ent=ent) if ent is not None and has_enterprise else 0
    tiers = None
    if feedback or reviewed["approved"]:
        assess_pool(session, industry_link=link)  # feedback is one of the indicators
        tiers = recompute_tiers(session, actor=admin)["tiers"]
    listings = publish_listings(session, admin=admin, tto=tto)
    session.flush()
    deals = seed_deals_demo(session, password=DEMO_PASSWORD)
    pilots = seed_pilots_demo(session)
    challenges = seed_challenges_demo(session) if has_enterprise else {"created": 0}

    created = {
        "users": len(users),
        "institutions_placed": placed,
        "reviewer_assignments": reviewers,
        "batches": inventory["batches"],
        "inventory_items": inventory["items"],
        "self_assessments": assessed,
        "pool_entries": reviewed["approved"],
        "push_rounds": pushed["rounds"],
        "pushes": pushed["pushes"],
        "feedback": feedback,
        "listings": listings["listings"],
        "deals": int(deals.get("deals", 0)),
        "pilot_platforms": int(pilots.get("created", 0)),
        "challenges": int(challenges.get("created", 0)),
    }
    return {
        "created": created,
        "created_total": sum(created.values()),
        "users_created": users,
        "review": reviewed,
        "tiers": tiers,
        "totals": _totals(session),
        "login": {
            "password": DEMO_PASSWORD,
            "users": {u.username: u.role for u in DEMO_USERS},
        },
    }
