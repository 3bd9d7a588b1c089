"""Value indicators for pooled patents: each computed, weighted and explained.

`assess_patent` is pure (a patent's facts plus market context in, scores and reasons out), so
the maths can be checked by hand; `assess_pool` gathers the context from the database once and
stores the result on every active pool entry. Weights, thresholds and each indicator's source
live in `indicator_weights.json` beside this module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.audit import record_audit
from shuanglian.db import utcnow
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.inventory.models import COOPERATION_INTENTS, Feedback, PoolEntry
from shuanglian.inventory.pool import is_lapsed
from shuanglian.patents import numbers
from shuanglian.patents.models import PATENT_TYPE_ZH, Patent

IndustryLink = Callable[[str], list[tuple[str, float]]]
"""IPC code → [(GB/T 4754 大类, weight)], e.g. shuanglian.reference.industry_link."""

INDICATOR_LABELS = {
    "legal_status": "法律状态",
    "remaining_term": "剩余保护期",
    "patent_type": "专利类型",
    "claims_count": "权利要求数",
    "ipc_breadth": "IPC 覆盖面",
    "transfer_history": "转让/许可历史",
    "industry_fit": "产业适配度",
    "demand_density": "需求密度",
    "market_feedback": "市场反馈",
}
_DIGITS = re.compile(r"\d{2}")
# Link weights below this are dropped: the chained concordance (IPC → NACE → ISIC → GB/T) gives
# every code a long tail of ~1% weights that is smoothing, not evidence; keeping it would make
# every patent "fit" dozens of industries and cost ~10x the work per patent.
MIN_LINK_WEIGHT = 0.02


def default_industry_link() -> IndustryLink:
    """The shipped approximate IPC → GB/T 4754 大类 link (shuanglian.reference.industry_link)."""
    from shuanglian.reference.industry_link import industries_for_ipc

    return industries_for_ipc


@lru_cache(maxsize=1)
def load_config() -> dict[str, Any]:
    """The shipped weights file (read once)."""
    text = (
        resources.files("shuanglian.inventory")
        .joinpath("indicator_weights.json")
        .read_text(encoding="utf-8")
    )
    return json.loads(text)


def division_of(code: str | None) -> str | None:
    """GB/T 4754 code (C3911, 3911, C39, 39) → its 大类 as two digits ("39")."""
    if not code:
        return None
    if len(code) == 2 and code.isdigit():  # the link's own spelling: the common, hot case
        return code
    m = _DIGITS.search(code)
    return m.group(0) if m else None


@dataclass
class MarketContext:
    """What the market looks like, gathered once per assessment run."""

    enterprises_total: int
    enterprises_by_division: dict[str, int]
    open_demands_by_division: dict[str, int]


@dataclass
class FeedbackStats:
    """A patent's feedback so far."""

    count: int = 0
    mean_prospect: float | None = None
    cooperation: int = 0  # feedback rows with a cooperation intent (洽谈/许可/...)
    interest: int = 0  # feedback rows with any intent other than 无


@dataclass
class IndicatorResult:
    key: str
    label: str
    value: Any
    score: float  # 0–1
    weight: float
    contribution: float  # points of the 0–100 total
    reason: str
    source: str


@dataclass
class Assessment:
    score: float
    grade: str
    suggested_tier: int
    indicators: list[IndicatorResult] = field(default_factory=list)

    def as_dict(self, *, with_sources: bool = True) -> dict[str, Any]:
        """JSON shape; stored without `source` (the same text for every patent, see
        `with_sources`) and read back through `explain`."""
        skip = () if with_sources else ("source",)
        return {
            "score": self.score,
            "grade": self.grade,
            "suggested_tier": self.suggested_tier,
            "indicators": [
                {k: v for k, v in vars(i).items() if k not in skip} for i in self.indicators
            ],
        }


def explain(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored assessment with each indicator's documented source filled back in."""
    if stored is None:
        return None
    sources = load_config()["sources"]
    return {
        **stored,
        "indicators": [
            {**i, "source": sources.get(i["key"], "")} for i in stored.get("indicators", [])
        ],
    }


def _clamp(x: float) -> float:
    return max(0.0, min(1.0, x))


@lru_cache(maxsize=200_000)
def _code_divisions(link: IndustryLink, code: str) -> tuple[tuple[str, float], ...]:
    """One IPC code's linked 大类, cached: a pool repeats the same codes many times."""
    try:
        linked = link(code)
    except ValueError:  # a malformed code in the record links to nothing
        return ()
    out: dict[str, float] = {}
    for industry, weight in linked:
        div = division_of(industry)
        if div is not None and weight >= MIN_LINK_WEIGHT:
            out[div] = out.get(div, 0.0) + weight
    return tuple(out.items())


def linked_divisions(patent: Patent, link: IndustryLink) -> dict[str, float]:
    """Industry divisions linked to the patent's IPC codes, weights normalised to sum 1."""
    return divisions_for_codes(patent.main_ipc, patent.ipc_codes or [], link)


def divisions_for_codes(
    main_ipc: str | None, ipc_codes: list[str], link: IndustryLink
) -> dict[str, float]:
    """`linked_divisions` from the bare codes (bulk jobs read codes without loading patents)."""
    codes = [main_ipc] if main_ipc else []
    codes += [c for c in ipc_codes if c and c != main_ipc]
    totals: dict[str, float] = {}
    for code in codes:
        for div, weight in _code_divisions(link, code):
            totals[div] = totals.get(div, 0.0) + weight
    norm = sum(totals.values())
    return {d: w / norm for d, w in totals.items()} if norm else {}


def _legal(patent: Patent) -> tuple[float, str]:
    status = patent.legal_status or ""
    if not status:
        return 0.5, "法律状态未知，按中性值计"
    if is_lapsed(status):
        return 0.0, f"“{status}”：权利已终止"
    if "有权" in status or "授权" in status:
        return 1.0, f"“{status}”：有效授权"
    return 0.5, f"“{status}”：尚未授权或状态待定"


def _remaining(patent: Patent, cfg: dict[str, Any], as_of: date) -> tuple[Any, float, str]:
    expiry = patent.expiry_date
    if expiry is None and patent.filing_date is not None:
        ptype = patent.patent_type or "invention"
        if ptype not in cfg["term_years"]:
            ptype = "invention"
        expiry = numbers.expiry_date(ptype, patent.filing_date)
    if expiry is None:
        return None, 0.5, "申请日未知，按中性值计"
    years = round(max(0.0, (expiry - as_of).days / 365.25), 2)
    sat = cfg["saturation"]["remaining_years"]
    return years, _clamp(years / sat), f"剩余约 {years} 年（{sat} 年及以上得满分）"


def assess_patent(
    patent: Patent,
    *,
    divisions: dict[str, float],
    market: MarketContext,
    feedback: FeedbackStats,
    as_of: date,
    config: dict[str, Any] | None = None,
) -> Assessment:
    """Score one patent on every indicator; `divisions` from `linked_divisions`."""
    cfg = config or load_config()
    sat = cfg["saturation"]
    rows: list[tuple[str, Any, float, str]] = []

    legal_score, legal_reason = _legal(patent)
    rows.append(("legal_status", patent.legal_status, legal_score, legal_reason))

    rows.append(("remaining_term", *_remaining(patent, cfg, as_of)))

    ptype = patent.patent_type or ""
    type_score = cfg["type_scores"].get(ptype, 0.5)
    rows.append(
        (
            "patent_type",
            ptype or None,
            type_score,
            f"类型“{PATENT_TYPE_ZH.get(ptype or '', ptype or '未知')}”",
        )
    )

    if patent.claims_count is None:
        rows.append(("claims_count", None, 0.5, "权利要求数未知，按中性值计"))
    else:
        n = patent.claims_count
        rows.append(
            (
                "claims_count",
                n,
                _clamp(n / sat["claims"]),
                f"{n} 项权利要求（{sat['claims']} 项及以上得满分）",
            )
        )

    subclasses = sorted({c.replace(" ", "")[:4] for c in _ipc_codes(patent) if len(c) >= 4})
    rows.append(
        (
            "ipc_breadth",
            len(subclasses),
            _clamp(len(subclasses) / sat["ipc_subclasses"]),
            f"涉及 {len(subclasses)} 个 IPC 小类：{'、'.join(subclasses) or '无'}",
        )
    )

    moves = (patent.transfer_count or 0) + (patent.licence_count or 0)
    rows.append(
        (
            "transfer_history",
            moves,
            1.0 if moves else 0.0,
            f"转让 {patent.transfer_count or 0} 次、许可 {patent.licence_count or 0} 次",
        )
    )

    if not divisions or market.enterprises_total == 0:
        rows.append(("industry_fit", 0.0, 0.0, "无关联行业或无在册企业"))
    else:
        share = sum(
            w * market.enterprises_by_division.get(d, 0) / market.enterprises_total
            for d, w in divisions.items()
        )
        share = round(share, 6)
        top = "、".join(f"{d}({w:.0%})" for d, w in sorted(divisions.items(), key=lambda x: -x[1]))
        rows.append(
            (
                "industry_fit",
                share,
                _clamp(share / sat["industry_share"]),
                f"关联行业大类 {top}；在册企业加权占比 {share:.2%}"
                f"（{sat['industry_share']:.0%} 及以上得满分）",
            )
        )

    demands = sum(market.open_demands_by_division.get(d, 0) for d in divisions)
    rows.append(
        (
            "demand_density",
            demands,
            _clamp(demands / sat["open_demands"]),
            f"关联行业未关闭需求 {demands} 项（{sat['open_demands']} 项及以上得满分）",
        )
    )

    if feedback.count == 0 or feedback.mean_prospect is None:
        rows.append(("market_feedback", None, 0.5, "暂无企业反馈，按中性值计"))
    else:
        fb = _clamp((feedback.mean_prospect - 1) / 4 + (0.25 if feedback.cooperation else 0.0))
        rows.append(
            (
                "market_feedback",
                round(feedback.mean_prospect, 2),
                fb,
                f"{feedback.count} 条反馈，产业化前景均值 {feedback.mean_prospect:.2f}/5，"
                f"合作意向 {feedback.cooperation} 条",
            )
        )

    weights = cfg["weights"]
    total_w = sum(weights[k] for k, *_ in rows)
    results = []
    for key, value, score, reason in rows:
        w = weights[key]
        results.append(
            IndicatorResult(
                key=key,
                label=INDICATOR_LABELS[key],
                value=value,
                score=round(score, 4),
                weight=w,
                contribution=round(100 * w * score / total_w, 2),
                reason=reason,
                source=cfg["sources"][key],
            )
        )
    total = round(100 * sum(weights[k] * s for k, _, s, _ in rows) / total_w, 2)
    return Assessment(
        score=total,
        grade=grade_for(total, cfg),
        suggested_tier=suggested_tier(grade_for(total, cfg)),
        indicators=results,
    )


def _ipc_codes(patent: Patent) -> list[str]:
    codes = list(patent.ipc_codes or [])
    if patent.main_ipc and patent.main_ipc not in codes:
        codes.insert(0, patent.main_ipc)
    return codes


def grade_for(score: float, config: dict[str, Any] | None = None) -> str:
    """0–100 score → A/B/C/D by the configured thresholds."""
    thresholds = (config or load_config())["grade_thresholds"]
    for grade in ("A", "B", "C"):
        if score >= thresholds[grade]:
            return grade
    return "D"


def suggested_tier(grade: str) -> int:
    """Before any feedback: strong grades get targeted push (tier 2), the rest broad (tier 3)."""
    return 2 if grade in ("A", "B") else 3


def market_context(session: Session) -> MarketContext:
    """Enterprise counts and open demands by GB/T 4754 大类, read once."""
    by_div: dict[str, int] = {}
    for code, n in session.execute(
        select(Enterprise.industry_code, func.count()).group_by(Enterprise.industry_code)
    ):
        div = division_of(code)
        if div is not None:
            by_div[div] = by_div.get(div, 0) + n
    demands: dict[str, int] = {}
    for code, n in session.execute(
        select(Demand.industry_code, func.count())
        .where(Demand.status == "open")
        .group_by(Demand.industry_code)
    ):
        div = division_of(code)
        if div is not None:
            demands[div] = demands.get(div, 0) + n
    total = session.scalar(select(func.count()).select_from(Enterprise)) or 0
    return MarketContext(total, by_div, demands)


def feedback_stats(session: Session, *, patent_ids: Iterable[int]) -> dict[int, FeedbackStats]:
    """Feedback count, mean prospect and intents per patent."""
    ids = list(patent_ids)
    stats: dict[int, FeedbackStats] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        rows = session.execute(
            select(Feedback.patent_id, Feedback.prospect, Feedback.intent).where(
                Feedback.patent_id.in_(chunk)
            )
        )
        sums: dict[int, list[int]] = {}
        for pid, prospect, intent in rows:
            st = stats.setdefault(pid, FeedbackStats())
            st.count += 1
            sums.setdefault(pid, []).append(prospect)
            if intent in COOPERATION_INTENTS:
                st.cooperation += 1
            if intent != "无":
                st.interest += 1
        for pid, values in sums.items():
            stats[pid].mean_prospect = sum(values) / len(values)
    return stats


def assess_institution_pool(
    session: Session, *, actor: User, institution_id: int
) -> dict[str, int]:
    """An institution's staff re-grade their own part of the pool (the web's button)."""
    from shuanglian.accounts.permissions import require_institution

    require_institution(actor, institution_id)
    return assess_pool(
        session, industry_link=default_industry_link(), institution_id=institution_id, actor=actor
    )


def assess_pool(
    session: Session,
    *,
    industry_link: IndustryLink,
    institution_id: int | None = None,
    as_of: date | None = None,
    actor: User | None = None,
) -> dict[str, int]:
    """Recompute indicators and grades of every active pool entry; returns counts by grade."""
    as_of = as_of or utcnow().date()
    market = market_context(session)
    stmt = select(PoolEntry.id).where(PoolEntry.active.is_(True))
    if institution_id is not None:
        stmt = stmt.where(PoolEntry.institution_id == institution_id)
    entry_ids = list(session.scalars(stmt.order_by(PoolEntry.id)))
    counts = {"A": 0, "B": 0, "C": 0, "D": 0}
    now = utcnow()
    # Chunks keep memory flat at national scale: flushed entries are no longer held.
    for start in range(0, len(entry_ids), 2000):
        pairs = session.execute(
            select(PoolEntry, Patent)
            .join(Patent, Patent.id == PoolEntry.patent_id)
            .where(PoolEntry.id.in_(entry_ids[start : start + 2000]))
        ).all()
        fb = feedback_stats(session, patent_ids=[p.id for _, p in pairs])
        for entry, patent in pairs:
            result = assess_patent(
                patent,
                divisions=linked_divisions(patent, industry_link),
                market=market,
                feedback=fb.get(patent.id, FeedbackStats()),
                as_of=as_of,
            )
            entry.score = result.score
            entry.grade = result.grade
            entry.indicators = result.as_dict(with_sources=False)
            entry.assessed_at = now
            counts[result.grade] += 1
        session.flush()
    record_audit(
        session,
        actor=actor,
        action="pool.assess",
        subject=("institutions", institution_id) if institution_id else None,
        detail={"grades": counts, "as_of": as_of},
        institution_id=institution_id,
    )
    return counts
