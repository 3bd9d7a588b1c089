"""Tables for enterprises and their technical demands (技术需求)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shuanglian.db import Base, TimestampMixin


class Enterprise(TimestampMixin, Base):
    """A registered enterprise; matched by its business scope (经营范围) and industry."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    # 统一社会信用代码, GB 32100-2015; unique when present (older records may lack one).
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    industry_code: Mapped[str | None] = mapped_column(String(5), index=True)  # GB/T 4754-2017
    business_scope: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, default="")
    enterprise_type: Mapped[str | None] = mapped_column(String(100))
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    # Registered capital in 万元 of `capital_currency` (人民币 unless the record says otherwise).
    registered_capital: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    capital_currency: Mapped[str | None] = mapped_column(String(20))
    founded_on: Mapped[date | None] = mapped_column(Date)
    size: Mapped[str | None] = mapped_column(String(20))
    province: Mapped[str | None] = mapped_column(String(50), index=True)
    city: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(Text)
    source_file: Mapped[str | None] = mapped_column(String(500))
    source_row: Mapped[int | None] = mapped_column()

    demands: Mapped[list[Demand]] = relationship(back_populates="enterprise")


class Demand(TimestampMixin, Base):
    """A technical need an enterprise publishes; matched against patents."""

    __tablename__ = "demands"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, default="")
    industry_code: Mapped[str | None] = mapped_column(String(5))
    budget: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))  # 万元
    deadline: Mapped[date | None] = mapped_column(Date)
    # First day of the validity window the enterprise posted (有效期 start; `deadline` is its end).
    valid_from: Mapped[date | None] = mapped_column(Date)
    # Cooperation modes the enterprise accepts, fenced like listings' (",transfer,commission,");
    # the codes are `supermarket.service.MODES`.
    modes: Mapped[str] = mapped_column(String(200), default=",")
    region: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="open")
    # Who sees it: public, anonymous (the company's name hidden: a public demand tells
    # competitors where the company is weak), or matched (only institutions pushed to it).
    visibility: Mapped[str] = mapped_column(String(20), default="public", server_default="public")
    source_file: Mapped[str | None] = mapped_column(String(500))
    source_row: Mapped[int | None] = mapped_column()

    enterprise: Mapped[Enterprise] = relationship(back_populates="demands")
