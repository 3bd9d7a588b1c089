"""Tiered promotion (分层推广) and maintenance suggestions, recomputed from grade and feedback.

Tier 1: an enterprise wants to negotiate or take a licence/transfer/equity/co-development —
open a deal and assign a technology manager. Tier 2: interest (了解更多, or prospect ≥ 4) or a
strong grade — promote in the supermarket and push in a targeted way. Tier 3: no interest yet —
push broadly. Maintenance suggestions (放弃 / 降低维持) are advice for the institution, never
applied automatically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.accounts.permissions import require_institution
from shuanglian.audit import record_audit
from shuanglian.enterprises.models import Enterprise
from shuanglian.inventory.indicators import FeedbackStats, feedback_stats
from shuanglian.inventory.models import COOPERATION_INTENTS, Feedback, PoolEntry
from shuanglian.inventory.push import rounds_pushed
from shuanglian.patents.models import Patent

TIER_LABELS = {
    1: "一层：有洽谈/合作意向——开立对接项目，指派技术经理人",
    2: "二层：有兴趣或评级较高——进入科技成果超市并定向推送",
    3: "三层：暂无意向——扩大推送范围",
}
INTEREST_PROSPECT = 4  # 产业化前景 at or above this counts as interest even with intent 无
LOW_GRADES = ("C", "D")


@dataclass
class DealSuggestion:
    """A tier-1 pair for the deals domain: open a deal and suggest a technology manager."""

    patent_id: int
    enterprise_id: int
    enterprise_name: str
    intent: str


@dataclass
class TierResult:
    tier: int
    reasons: list[str]
    deals: list[DealSuggestion] = field(default_factory=list)


def tier_for(
    grade: str | None, stats: FeedbackStats, cooperating: list[tuple[str, str]]
) -> TierResult:
    """Decide one patent's tier; `cooperating` = [(enterprise name, intent)] of tier-1 feedback."""
    if cooperating:
        names = "、".join(f"{name}（{intent}）" for name, intent in cooperating)
        return TierResult(1, [f"企业有合作意向：{names}", TIER_LABELS[1]])
    if stats.interest or (stats.mean_prospect or 0) >= INTEREST_PROSPECT:
        reasons = [f"{stats.interest} 家企业表示有兴趣"] if stats.interest else []
        if (stats.mean_prospect or 0) >= INTEREST_PROSPECT:
            reasons.append(f"产业化前景均值 {stats.mean_prospect:.1f}/5")
        return TierResult(2, reasons + [TIER_LABELS[2]])
    if grade in ("A", "B"):
        return TierResult(2, [f"价值评级 {grade}，暂无企业意向", TIER_LABELS[2]])
    reason = "尚无企业反馈" if stats.count == 0 else f"{stats.count} 条反馈均无合作意向"
    return TierResult(3, [f"价值评级 {grade or '未评'}，{reason}", TIER_LABELS[3]])


def recompute_tiers(
    session: Session, *, actor: User | None = None, institution_id: int | None = None
) -> dict[str, Any]:
    """Recompute every active pool entry's tier; returns counts and tier-1 deal suggestions."""
    if actor is not None and institution_id is not None:
        require_institution(actor, institution_id)
    stmt = select(PoolEntry).where(PoolEntry.active.is_(True))
    if institution_id is not None:
        stmt = stmt.where(PoolEntry.institution_id == institution_id)
    entries = list(session.scalars(stmt))
    ids = [e.patent_id for e in entries]
    stats = feedback_stats(session, patent_ids=ids)
    coop: dict[int, list[tuple[int, str, str]]] = {}
    for start in range(0, len(ids), 5000):
        rows = session.execute(
            select(Feedback.patent_id, Feedback.enterprise_id, Enterprise.name, Feedback.intent)
            .join(Enterprise, Enterprise.id == Feedback.enterprise_id)
            .where(
                Feedback.patent_id.in_(ids[start : start + 5000]),
                Feedback.intent.in_(COOPERATION_INTENTS),
            )
            .order_by(Feedback.id)
        )
        for pid, eid, name, intent in rows:
            coop.setdefault(pid, []).append((eid, name, intent))
    counts = {1: 0, 2: 0, 3: 0}
    deals: list[DealSuggestion] = []
    for entry in entries:
        pairs = coop.get(entry.patent_id, [])
        result = tier_for(
            entry.grade,
            stats.get(entry.patent_id, FeedbackStats()),
            [(name, intent) for _, name, intent in pairs],
        )
        entry.tier = result.tier
        entry.tier_reasons = result.reasons
        counts[result.tier] += 1
        deals += [DealSuggestion(entry.patent_id, eid, name, intent) for eid, name, intent in pairs]
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="pool.tiers",
        subject=("institutions", institution_id) if institution_id else None,
        detail={"tiers": {str(k): v for k, v in counts.items()}, "deal_suggestions": len(deals)},
        institution_id=institution_id,
    )
    return {
        "tiers": {str(k): v for k, v in counts.items()},
        "deal_suggestions": [vars(d) for d in deals],
    }


def maintenance_candidates(
    session: Session, *, actor: User | None, institution_id: int, min_rounds: int = 2
) -> list[dict[str, Any]]:
    """Low-grade pooled patents with no interest after `min_rounds` push rounds, with reasons."""
    if actor is not None:
        require_institution(actor, institution_id)
    rows = session.execute(
        select(PoolEntry, Patent)
        .join(Patent, Patent.id == PoolEntry.patent_id)
        .where(
            PoolEntry.active.is_(True),
            PoolEntry.institution_id == institution_id,
            PoolEntry.grade.in_(LOW_GRADES),
        )
        .order_by(PoolEntry.score, PoolEntry.patent_id)
    ).all()
    ids = [p.id for _, p in rows]
    rounds = rounds_pushed(session, patent_ids=ids)
    stats = feedback_stats(session, patent_ids=ids)
    out: list[dict[str, Any]] = []
    for entry, patent in rows:
        n = rounds.get(patent.id, 0)
        st = stats.get(patent.id, FeedbackStats())
        if n < min_rounds or st.interest > 0:
            continue
        suggestion = "放弃" if entry.grade == "D" else "降低维持"
        reasons = [
            f"价值评级 {entry.grade}（{entry.score} 分）",
            f"已推送 {n} 轮，无企业表示兴趣"
            + (f"（{st.count} 条反馈均为“无”）" if st.count else "（无反馈）"),
        ]
        for ind in (entry.indicators or {}).get("indicators", []):
            if ind["score"] < 0.3:
                reasons.append(f"{ind['label']}偏低：{ind['reason']}")
        out.append(
            {
                "patent_id": patent.id,
                "application_number": patent.application_number,
                "title": patent.title,
                "grade": entry.grade,
                "score": entry.score,
                "rounds_pushed": n,
                "suggestion": suggestion,
                "reasons": reasons,
                "note": "仅为建议，需单位维持审查决定 (a suggestion for the institution's review)",
            }
        )
    return out
