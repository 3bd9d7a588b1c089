"""What happened to a patent (盘点与盘活经过): review decisions, grade, tier, pushes, feedback.

One read for the patent page and the item page, so the clerk and the inventor see the same
story: who decided what and when (from the audit trail), the value grade with the reason for
each point, the tier and what it means, whom it was pushed to and why, what they answered.
Callers check who may see it (the patent's institution and admins); this only reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.audit import AuditEntry, action_label, audit_trail
from shuanglian.enterprises.models import Enterprise
from shuanglian.inventory.feedback import SOURCE_LABELS
from shuanglian.inventory.indicators import explain
from shuanglian.inventory.models import Feedback, InventoryItem, PoolEntry, Push, PushRound
from shuanglian.inventory.tiers import TIER_LABELS
from shuanglian.patents.models import Patent
from shuanglian.reference.ipc import ipc_title_for


@dataclass
class Decision:
    """One step of an item's review as people read it."""

    at: datetime
    who: str
    action: str  # label in zh
    action_en: str
    comment: str | None


@dataclass
class PushLine:
    push: Push
    enterprise: str
    round_started: datetime | None


@dataclass
class FeedbackLine:
    feedback: Feedback
    enterprise: str
    source: tuple[str, str]
    recorded_by: str | None  # a staff member who typed it in for the enterprise


@dataclass
class PatentOutcome:
    item: InventoryItem | None
    decisions: list[Decision] = field(default_factory=list)
    pool: PoolEntry | None = None
    assessment: dict[str, Any] | None = None  # indicators.explain of the stored grade
    tier_meaning: str | None = None
    pushes: list[PushLine] = field(default_factory=list)
    feedback: list[FeedbackLine] = field(default_factory=list)


# The review and pool steps worth showing on a record's history (logins and the like are not).
_STEPS = ("review.", "assessment.save", "pool.", "batch.create")


def review_decisions(session: Session, *, item_id: int) -> list[Decision]:
    """The item's review history, oldest first: submissions, decisions with comments, pool."""
    entries: list[AuditEntry] = audit_trail(
        session, subject_type="inventory_items", subject_id=item_id
    )
    out = []
    for e in entries:
        if not e.action.startswith(_STEPS):
            continue
        detail = e.detail or {}
        out.append(
            Decision(
                at=e.at,
                who=e.actor_name,
                action=action_label(e.action, "zh"),
                action_en=action_label(e.action, "en"),
                comment=detail.get("comment"),
            )
        )
    return out


def patent_outcome(session: Session, *, patent_id: int) -> PatentOutcome:
    """Everything the inventory did with one patent, for its page."""
    item = session.scalar(select(InventoryItem).where(InventoryItem.patent_id == patent_id))
    outcome = PatentOutcome(item=item)
    if item is not None:
        outcome.decisions = review_decisions(session, item_id=item.id)
    entry = session.scalar(select(PoolEntry).where(PoolEntry.patent_id == patent_id))
    if entry is not None:
        outcome.pool = entry
        outcome.assessment = explain(entry.indicators)
        outcome.tier_meaning = TIER_LABELS.get(entry.tier) if entry.tier else None
    rows = session.execute(
        select(Push, Enterprise.name, PushRound.started_at)
        .join(Enterprise, Enterprise.id == Push.enterprise_id)
        .join(PushRound, PushRound.id == Push.round_id)
        .where(Push.patent_id == patent_id)
        .order_by(Push.round_id, Push.rank)
    ).all()
    outcome.pushes = [PushLine(p, name, started) for p, name, started in rows]
    fb_rows = session.execute(
        select(Feedback, Enterprise.name, User.username)
        .join(Enterprise, Enterprise.id == Feedback.enterprise_id)
        .outerjoin(User, User.id == Feedback.submitted_by_id)
        .where(Feedback.patent_id == patent_id)
        .order_by(Feedback.id)
    ).all()
    outcome.feedback = [
        FeedbackLine(
            fb,
            name,
            SOURCE_LABELS.get(fb.source, (fb.source, fb.source)),
            username if fb.source in ("phone", "paper") else None,
        )
        for fb, name, username in fb_rows
    ]
    return outcome


def ipc_lines(patent: Patent, *, lang: str = "zh") -> list[tuple[str, str | None, bool]]:
    """The patent's IPC codes with their titles in `lang`; main first. Chinese titles exist for
    sections, classes and common subclasses (a group shows its subclass's); English ones come
    from the shipped scheme.

    (code, title or None when the scheme lacks it, is the main code).
    """
    codes = list(dict.fromkeys([c for c in [patent.main_ipc, *(patent.ipc_codes or [])] if c]))
    # A subgroup the scheme lacks reads as its subclass (G06F 18/2321 → G06F's title).
    return [
        (c, ipc_title_for(c, lang=lang) or ipc_title_for(c[:4], lang=lang), c == patent.main_ipc)
        for c in codes
    ]
