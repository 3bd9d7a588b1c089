"""Tables of the deal pipeline: technology managers, deals, their services, contracts, payments,
income distribution rules and open-licence declarations.

Amounts are in 万元 (10k CNY) with four decimals, exact to the yuan, like the supermarket's
prices, so one unit is shown and exported everywhere. A manager's track record and a listing's
signed count are never stored: they are computed from deal and contract rows.
"""

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
    LargeBinary,
    Numeric,
    String,
    Text,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, deferred, mapped_column, relationship

from shuanglian.db import Base, TimestampMixin, utcnow
from shuanglian.enterprises.models import Enterprise
from shuanglian.patents.models import Institution, Patent
from shuanglian.supermarket.models import Listing

Money = Numeric(18, 4)  # 万元


class Manager(TimestampMixin, Base):
    """A registered technology manager (技术经理人); the profile belongs to one user."""

    __tablename__ = "deal_managers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # IPC codes at any level ("H01M", "C04B28") and GB/T 4754 codes ("C30") the manager covers.
    ipc_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    industry_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    certification_level: Mapped[str | None] = mapped_column(String(20))  # CERT_LEVELS
    certified_by: Mapped[str | None] = mapped_column(String(200))
    # An institution's TTO (institution_id set) or an agency (organisation name only).
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="SET NULL"), index=True
    )
    organisation: Mapped[str] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    bio: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    institution: Mapped[Institution | None] = relationship()


class Deal(TimestampMixin, Base):
    """One conversion effort between an institution and an enterprise, from contact onwards."""

    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), index=True
    )
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("deal_managers.id", ondelete="SET NULL"), index=True
    )
    stage: Mapped[str] = mapped_column(String(20), default="contact", index=True)
    stage_changed_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20), default="manual")  # SOURCES
    push_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_pushes.id", ondelete="SET NULL")
    )
    inquiry_id: Mapped[int | None] = mapped_column(
        ForeignKey("market_inquiries.id", ondelete="SET NULL")
    )
    # A verified challenge; no foreign key until the challenges domain has its table.
    challenge_id: Mapped[int | None] = mapped_column(Integer, index=True)
    closed_reason: Mapped[str | None] = mapped_column(String(30))  # CLOSE_REASONS
    closed_note: Mapped[str | None] = mapped_column(Text)
    pilot_booking_ref: Mapped[str | None] = mapped_column(String(100))
    opened_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    institution: Mapped[Institution] = relationship()
    enterprise: Mapped[Enterprise] = relationship()
    manager: Mapped[Manager | None] = relationship()
    items: Mapped[list[DealItem]] = relationship(
        cascade="all, delete-orphan", order_by="DealItem.id"
    )


class DealItem(Base):
    """A patent (and the listing it was found through, if any) a deal is about."""

    __tablename__ = "deal_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    patent_id: Mapped[int] = mapped_column(ForeignKey("patents.id", ondelete="CASCADE"))
    listing_id: Mapped[int | None] = mapped_column(
        ForeignKey("market_listings.id", ondelete="SET NULL")
    )

    patent: Mapped[Patent] = relationship()
    listing: Mapped[Listing | None] = relationship()


class DealActivity(Base):
    """One line of a deal's timeline: a stage step, a call, a meeting, a note."""

    __tablename__ = "deal_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # ACTIVITY_KINDS
    on: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(100), default="system")
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")


class NextAction(Base):
    """A dated to-do on a deal; `reminded_on` makes the daily reminder run idempotent."""

    __tablename__ = "deal_next_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    done_on: Mapped[date | None] = mapped_column(Date)
    reminded_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DealDocument(Base):
    """A file on a deal (NDA, due-diligence report, valuation report …), kept in the database
    so it is committed or rolled back with the step that brought it."""

    __tablename__ = "deal_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # DOCUMENT_KINDS
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DealService(Base):
    """A service along the chain (陪伴式服务): valuation, company formation, financing round,
    pilot booking, subsidy application. Kind-specific fields live in `details` (validated by
    `deals.schemas`); `amount` repeats the one amount each kind has, for sums."""

    __tablename__ = "deal_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # SERVICE_KINDS
    status: Mapped[str] = mapped_column(String(20), default="in_progress")  # SERVICE_STATUSES
    started_on: Mapped[date | None] = mapped_column(Date)
    finished_on: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DistributionRule(TimestampMixin, Base):
    """How an institution shares net income from conversion (its own rule; without one the
    law's floor applies: 50 % to the inventors' team, Law on Promoting the Transformation of
    S&T Achievements art. 45). The three cash shares sum to 100."""

    __tablename__ = "deal_distribution_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), unique=True
    )
    inventor_pct: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    tto_pct: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    institution_pct: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    inventor_equity_pct: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    note: Mapped[str | None] = mapped_column(Text)


class OpenLicence(TimestampMixin, Base):
    """An open-licence declaration (开放许可声明, Patent Law arts. 50–52) on one patent."""

    __tablename__ = "deal_open_licences"

    id: Mapped[int] = mapped_column(primary_key=True)
    patent_id: Mapped[int] = mapped_column(ForeignKey("patents.id", ondelete="CASCADE"), index=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    listing_id: Mapped[int | None] = mapped_column(
        ForeignKey("market_listings.id", ondelete="SET NULL")
    )
    fee_mode: Mapped[str] = mapped_column(String(20))  # lump_sum / royalty
    fee_amount: Mapped[Decimal | None] = mapped_column(Money)  # 万元, lump sum per licence
    royalty_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))  # % of sales
    payment_method: Mapped[str] = mapped_column(String(300))
    term_years: Mapped[int] = mapped_column(Integer)
    evaluation_report: Mapped[bool] = mapped_column(Boolean, default=False)
    evaluation_report_ref: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="in_force", index=True)
    declared_on: Mapped[date] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdrawal_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    patent: Mapped[Patent] = relationship()
    institution: Mapped[Institution] = relationship()


class Contract(TimestampMixin, Base):
    """A technology contract. Common registration fields are columns; the fields particular to
    its type (licence scope, equity terms …) are in `details`, validated by `deals.schemas`."""

    __tablename__ = "deal_contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)  # the platform's own number
    deal_id: Mapped[int | None] = mapped_column(
        ForeignKey("deals.id", ondelete="CASCADE"), index=True
    )
    open_licence_id: Mapped[int | None] = mapped_column(
        ForeignKey("deal_open_licences.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), index=True)  # CONTRACT_KINDS
    subtype: Mapped[str | None] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), index=True
    )
    patent_id: Mapped[int | None] = mapped_column(
        ForeignKey("patents.id", ondelete="SET NULL"), index=True
    )
    listing_id: Mapped[int | None] = mapped_column(
        ForeignKey("market_listings.id", ondelete="SET NULL"), index=True
    )
    signed_on: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)  # 合同成交额, 万元
    technical_income: Mapped[Decimal | None] = mapped_column(Money)  # 技术交易额, 万元
    payment_mode: Mapped[str] = mapped_column(String(20))  # lump_sum / instalments / royalty
    royalty_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))  # % of sales
    royalty_minimum: Mapped[Decimal | None] = mapped_column(Money)  # 万元 per year
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="in_force")  # in_force / terminated
    # 技术合同登记 fields: the office's number once assigned, and what its form asks per party.
    registration_number: Mapped[str | None] = mapped_column(String(40))
    seller_nature: Mapped[str | None] = mapped_column(String(20))  # PARTY_NATURES
    buyer_nature: Mapped[str | None] = mapped_column(String(20))
    seller_region_code: Mapped[str | None] = mapped_column(String(6))  # GB/T 2260
    buyer_region_code: Mapped[str | None] = mapped_column(String(6))
    seller_credit_code: Mapped[str | None] = mapped_column(String(18))
    buyer_credit_code: Mapped[str | None] = mapped_column(String(18))
    seller_country: Mapped[str] = mapped_column(String(40), default="中国")
    buyer_country: Mapped[str] = mapped_column(String(40), default="中国")
    tech_field: Mapped[str | None] = mapped_column(String(100))  # 技术领域
    ip_type: Mapped[str | None] = mapped_column(String(30))  # 知识产权类型
    expected_investment: Mapped[Decimal | None] = mapped_column(Money)  # 预计新增投入
    expected_output: Mapped[Decimal | None] = mapped_column(Money)  # 预计新增产值
    notice_text: Mapped[str | None] = mapped_column(Text)  # an open licence's written notice
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    institution: Mapped[Institution] = relationship()
    enterprise: Mapped[Enterprise] = relationship()
    patent: Mapped[Patent | None] = relationship()
    schedule: Mapped[list[ScheduledPayment]] = relationship(
        cascade="all, delete-orphan", order_by="ScheduledPayment.due_on"
    )
    payments: Mapped[list[Payment]] = relationship(
        cascade="all, delete-orphan", order_by="Payment.received_on"
    )


class ScheduledPayment(Base):
    """One instalment the contract promises (a lump sum is one row)."""

    __tablename__ = "deal_payment_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("deal_contracts.id", ondelete="CASCADE"), index=True
    )
    due_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(String(200))


class Payment(Base):
    """Money received under a contract; `costs` (taxes, fees) are deducted for net income."""

    __tablename__ = "deal_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("deal_contracts.id", ondelete="CASCADE"), index=True
    )
    received_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    costs: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    reference: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InventorPayout(Base):
    """A sum paid out to the inventors' team under a contract (what is owed minus this)."""

    __tablename__ = "deal_inventor_payouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("deal_contracts.id", ondelete="CASCADE"), index=True
    )
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    reference: Mapped[str | None] = mapped_column(String(100))


# A listing's public signed count and amount come from its contract rows, never from counters.
# Deferred: the catalogue's list queries do not pay for them; the detail page and API do.
_signed = Contract.listing_id == Listing.id
Listing.deals_signed = column_property(  # type: ignore[assignment]
    select(func.count(Contract.id)).where(_signed).correlate_except(Contract).scalar_subquery(),
    deferred=True,
)
Listing.signed_amount = column_property(  # type: ignore[assignment]
    select(func.coalesce(func.sum(Contract.amount), 0))
    .where(_signed)
    .correlate_except(Contract)
    .scalar_subquery(),
    deferred=True,
)
