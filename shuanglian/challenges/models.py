"""Tables of enterprise challenges: the challenge and its indicators, applications by teams,
milestones with payments, messages, NDA acceptances, verification runs and measurements, and
the suggestions the engine made when it was published."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shuanglian.db import Base, TimestampMixin, utcnow
from shuanglian.enterprises.models import Enterprise

# Challenge.visibility / .ip_owner and Verification.verdict, with their names (zh, en).
VISIBILITIES: dict[str, tuple[str, str]] = {
    "public": ("全部公开", "Public"),
    "summary": ("仅公开摘要", "Summary only"),
    "nda": ("签保密协议后可见", "Details after NDA"),
}
COMPARISONS = (">=", "<=", "=", "range")
IP_OWNERS: dict[str, tuple[str, str]] = {
    "enterprise": ("企业", "Enterprise"),
    "team": ("团队", "Team"),
    "joint": ("共有", "Joint"),
}
VERDICTS: dict[str, tuple[str, str]] = {
    "passed": ("通过", "Passed"),
    "failed": ("未通过", "Failed"),
}
# Suggestion.kind: what a suggested solver is.
SUGGESTION_KINDS: dict[str, tuple[str, str]] = {
    "patent": ("专利", "Patent"),
    "listing": ("成果", "Listing"),
    "institution": ("机构", "Institution"),
}


class Challenge(TimestampMixin, Base):
    """A technical problem an enterprise posts with measurable targets, budget and deadlines."""

    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")  # shown publicly in every visibility
    problem: Mapped[str] = mapped_column(Text, default="")  # the full problem statement
    industry_code: Mapped[str | None] = mapped_column(String(5), index=True)  # GB/T 4754
    region: Mapped[str | None] = mapped_column(String(100))
    budget: Mapped[Decimal] = mapped_column(Numeric(18, 4))  # 榜额, 万元
    payment_terms: Mapped[str] = mapped_column(Text, default="")
    application_deadline: Mapped[date] = mapped_column(Date, index=True)
    delivery_deadline: Mapped[date] = mapped_column(Date, index=True)
    ip_owner: Mapped[str] = mapped_column(String(20), default="enterprise")
    licence_back: Mapped[bool] = mapped_column(Boolean, default=False)
    ip_terms: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    nda_text: Mapped[str | None] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(24), default="draft", index=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    search_text: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    enterprise: Mapped[Enterprise] = relationship()
    indicators: Mapped[list[Indicator]] = relationship(
        cascade="all, delete-orphan", order_by="Indicator.position"
    )


class Indicator(Base):
    """A technical indicator: the target a solution must reach, and how it is measured."""

    __tablename__ = "challenge_indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(40))
    comparison: Mapped[str] = mapped_column(String(5))
    target: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    target_max: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))  # upper bound of a range
    method: Mapped[str] = mapped_column(Text, default="")


class Application(TimestampMixin, Base):
    """A team's application (领题), filed by institution staff or a technology manager."""

    __tablename__ = "challenge_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), index=True
    )
    applicant_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="SET NULL"), index=True
    )
    team_name: Mapped[str] = mapped_column(String(200))
    team_members: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{name, role}]
    patent_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # from the pool
    approach: Mapped[str] = mapped_column(Text)
    price: Mapped[Decimal] = mapped_column(Numeric(18, 4))  # 万元
    duration_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    reject_reason: Mapped[str | None] = mapped_column(Text)

    challenge: Mapped[Challenge] = relationship()
    milestones: Mapped[list[Milestone]] = relationship(
        cascade="all, delete-orphan", order_by="Milestone.position"
    )


class Milestone(TimestampMixin, Base):
    """A step of an accepted team's plan: deliverable, due date, amount and its payment."""

    __tablename__ = "challenge_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("challenge_applications.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    deliverable: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))  # 万元
    status: Mapped[str] = mapped_column(String(20), default="planned")
    delivery_note: Mapped[str | None] = mapped_column(Text)
    return_reason: Mapped[str | None] = mapped_column(Text)
    paid_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    paid_on: Mapped[date | None] = mapped_column(Date)
    payment_note: Mapped[str | None] = mapped_column(String(300))


class Message(Base):
    """A message between the enterprise and one team on one challenge."""

    __tablename__ = "challenge_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("challenge_applications.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NdaAcceptance(Base):
    """Who accepted a challenge's NDA and when (the record that unlocks its details)."""

    __tablename__ = "challenge_nda_acceptances"
    __table_args__ = (UniqueConstraint("challenge_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    nda_text: Mapped[str] = mapped_column(Text, default="")  # the wording accepted


class Verification(Base):
    """One verification run on the production line; `verdict` is computed from measurements."""

    __tablename__ = "challenge_verifications"
    __table_args__ = (UniqueConstraint("challenge_id", "run"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("challenge_applications.id", ondelete="SET NULL")
    )
    run: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(10))  # passed / failed
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    measurements: Mapped[list[Measurement]] = relationship(
        cascade="all, delete-orphan", order_by="Measurement.id"
    )


class Measurement(Base):
    """One indicator's measured value in one run, with where, when and by whom."""

    __tablename__ = "challenge_measurements"

    id: Mapped[int] = mapped_column(primary_key=True)
    verification_id: Mapped[int] = mapped_column(
        ForeignKey("challenge_verifications.id", ondelete="CASCADE"), index=True
    )
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("challenge_indicators.id", ondelete="CASCADE")
    )
    value: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    measured_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200))
    verifier: Mapped[str] = mapped_column(String(100))
    passed: Mapped[bool] = mapped_column(Boolean)

    indicator: Mapped[Indicator] = relationship()


class Suggestion(Base):
    """What the engine routed a published challenge to: a patent, listing or institution."""

    __tablename__ = "challenge_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # patent / listing / institution
    ref_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    score: Mapped[float] = mapped_column(default=0.0)
    explanation: Mapped[str] = mapped_column(Text, default="")
    notified: Mapped[int] = mapped_column(Integer, default=0)  # staff notified (institutions)
