"""Tables for stock-patent inventory (存量专利盘点), the convertible pool, pushes and feedback.

One row per concern: a batch groups the patents an institution inventories together; an item is
one patent's way through self-assessment and review; a pool entry is its life in the convertible
pool (可转化资源库) with the latest indicators, grade and tier; pushes and feedback record the
market's side. Every state change is also written to the audit log (`shuanglian.audit`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shuanglian.db import Base, TimestampMixin, utcnow

# 实施状态 / 意向转化方式 / 价值分级自评 / 合作意向: the values the national inventory forms use,
# stored as the forms' own Chinese words; each with its names for people (zh, en).
IMPLEMENTATION_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "未实施": ("未实施", "Not in use"),
    "自行实施": ("自行实施", "Used by the holder"),
    "已许可": ("已许可", "Licensed"),
    "已转让": ("已转让", "Transferred"),
    "已作价入股": ("已作价入股", "Contributed as equity"),
}
TRANSFER_MODE_LABELS: dict[str, tuple[str, str]] = {
    "转让": ("转让", "Transfer"),
    "许可": ("许可", "Licence"),
    "开放许可": ("开放许可", "Open licence"),
    "作价入股": ("作价入股", "Equity"),
    "合作开发": ("合作开发", "Joint development"),
    "暂不转化": ("暂不转化", "Not for now"),
}
VALUE_GRADE_LABELS: dict[str, tuple[str, str]] = {
    "高": ("高", "High"),
    "中": ("中", "Medium"),
    "低": ("低", "Low"),
}
INTENT_LABELS: dict[str, tuple[str, str]] = {
    "无": ("无", "None"),
    "了解更多": ("了解更多", "Wants to know more"),
    "洽谈": ("洽谈", "Negotiation"),
    "许可": ("许可", "Licence"),
    "转让": ("转让", "Transfer"),
    "作价入股": ("作价入股", "Equity"),
    "合作开发": ("合作开发", "Joint development"),
}
IMPLEMENTATION_STATUSES = tuple(IMPLEMENTATION_STATUS_LABELS)
TRANSFER_MODES = tuple(TRANSFER_MODE_LABELS)
VALUE_GRADES = tuple(VALUE_GRADE_LABELS)
INTENTS = tuple(INTENT_LABELS)
# Intents that count as "有合作意向" in the official statistics and open a deal (tier 1).
COOPERATION_INTENTS = ("洽谈", "许可", "转让", "作价入股", "合作开发")
# ReviewerAssignment.level: who reviews at which level, in words (zh, en).
REVIEW_LEVELS: dict[str, tuple[str, str]] = {
    "institution": ("单位审核人", "Institution reviewer"),
    "college": ("院系审核人", "College reviewer"),
}


class College(TimestampMixin, Base):
    """A college or department (学院/院系) inside an institution; the first review level."""

    __tablename__ = "inventory_colleges"
    __table_args__ = (UniqueConstraint("institution_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))


class ReviewerAssignment(TimestampMixin, Base):
    """Who may review at which level: a college reviewer for one college, or an institution one."""

    __tablename__ = "inventory_reviewers"
    __table_args__ = (UniqueConstraint("user_id", "institution_id", "level", "college_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(20))  # one of REVIEW_LEVELS
    college_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_colleges.id", ondelete="CASCADE")
    )


class InventoryBatch(TimestampMixin, Base):
    """A set of patents an institution (or one of its colleges) inventories together."""

    __tablename__ = "inventory_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    college_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_colleges.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    # Where the patents came from: "manual", "import:<file>", "sync:<file>".
    source: Mapped[str] = mapped_column(String(500), default="manual")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    items: Mapped[list[InventoryItem]] = relationship(back_populates="batch")


class InventoryItem(TimestampMixin, Base):
    """One patent's way through self-assessment and review; a patent is inventoried once."""

    __tablename__ = "inventory_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_batches.id", ondelete="CASCADE"), index=True
    )
    patent_id: Mapped[int] = mapped_column(
        ForeignKey("patents.id", ondelete="CASCADE"), unique=True
    )
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    college_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_colleges.id", ondelete="SET NULL"), index=True
    )
    # See review.STATUSES: draft → college_review → institution_review → approved, etc.
    status: Mapped[str] = mapped_column(String(30), default="draft", index=True)
    last_comment: Mapped[str | None] = mapped_column(Text)

    batch: Mapped[InventoryBatch] = relationship(back_populates="items")
    assessment: Mapped[SelfAssessment | None] = relationship(back_populates="item")


class SelfAssessment(TimestampMixin, Base):
    """The self-assessment form (自评) filled by inventors or staff for one inventoried patent."""

    __tablename__ = "inventory_self_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_items.id", ondelete="CASCADE"), unique=True
    )
    publicly_funded: Mapped[bool] = mapped_column(Boolean)  # 财政资助
    implementation_status: Mapped[str] = mapped_column(String(20))
    transfer_mode: Mapped[str] = mapped_column(String(20))
    trl: Mapped[int] = mapped_column(Integer)  # technology readiness level 1–9
    value_grade: Mapped[str] = mapped_column(String(4))
    value_reason: Mapped[str] = mapped_column(Text)
    scenarios: Mapped[str] = mapped_column(Text)
    industry_codes: Mapped[list[str]] = mapped_column(JSON, default=list)  # GB/T 4754-2017
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(50))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    filled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    item: Mapped[InventoryItem] = relationship(back_populates="assessment")


class PoolEntry(TimestampMixin, Base):
    """A patent's membership of the convertible pool, with its latest grade and tier.

    The row stays when the patent leaves (lapse, withdrawal) so history and reports keep it;
    `active` says whether it is in the pool now.
    """

    __tablename__ = "inventory_pool"

    id: Mapped[int] = mapped_column(primary_key=True)
    patent_id: Mapped[int] = mapped_column(
        ForeignKey("patents.id", ondelete="CASCADE"), unique=True
    )
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    leave_reason: Mapped[str | None] = mapped_column(Text)
    # Latest value assessment (indicators.assess_patent): 0–100 score, A–D grade, details.
    score: Mapped[float | None] = mapped_column(Float, index=True)
    grade: Mapped[str | None] = mapped_column(String(1))
    indicators: Mapped[dict | None] = mapped_column(JSON)
    assessed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Tiered promotion (分层推广): 1 negotiate, 2 interest, 3 broad push.
    tier: Mapped[int | None] = mapped_column(Integer)
    tier_reasons: Mapped[list[str] | None] = mapped_column(JSON)


class PushRound(TimestampMixin, Base):
    """One push round (推送批次) over the pool; parameters kept for reproducibility."""

    __tablename__ = "inventory_push_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    per_patent: Mapped[int] = mapped_column(Integer)
    per_enterprise_cap: Mapped[int] = mapped_column(Integer)
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="SET NULL")
    )
    patents_considered: Mapped[int] = mapped_column(Integer, default=0)
    pushes_made: Mapped[int] = mapped_column(Integer, default=0)
    skipped_already_pushed: Mapped[int] = mapped_column(Integer, default=0)
    skipped_cap: Mapped[int] = mapped_column(Integer, default=0)
    # Pairs whose explanation showed nothing to check (only generic words in common).
    skipped_no_evidence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Weak (低) pairs beyond the few a patent may push in a round (`push.WEAK_PUSHES`).
    skipped_weak: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    matcher_name: Mapped[str] = mapped_column(String(100), default="")


class Push(Base):
    """One patent pushed to one enterprise; a pair is pushed at most once, ever."""

    __tablename__ = "inventory_pushes"
    __table_args__ = (UniqueConstraint("patent_id", "enterprise_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_push_rounds.id", ondelete="CASCADE"), index=True
    )
    patent_id: Mapped[int] = mapped_column(ForeignKey("patents.id", ondelete="CASCADE"))
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int] = mapped_column(Integer)  # 1 = best for this patent in this round
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Feedback(TimestampMixin, Base):
    """An enterprise's evaluation (企业评价反馈) of one pushed patent; one per push, editable."""

    __tablename__ = "inventory_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    push_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_pushes.id", ondelete="CASCADE"), unique=True
    )
    patent_id: Mapped[int] = mapped_column(ForeignKey("patents.id", ondelete="CASCADE"), index=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), index=True
    )
    prospect: Mapped[int] = mapped_column(Integer)  # 产业化前景 1–5
    improvement_needs: Mapped[str | None] = mapped_column(Text)  # 技术改进需求
    intent: Mapped[str] = mapped_column(String(10))  # 合作意向, one of INTENTS
    source: Mapped[str] = mapped_column(String(10), default="api")  # api / web / excel
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
