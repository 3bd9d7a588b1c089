"""Tables of pilot platforms (中试平台), the users who manage them, and their bookings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shuanglian.db import Base, TimestampMixin

LEVELS = {
    "national": ("国家级", "National"),
    "provincial": ("省级", "Provincial"),
    "municipal": ("市级", "Municipal"),
}
SERVICES = {
    "lab": ("小试", "Lab-scale trial"),
    "pilot": ("中试", "Pilot-scale trial"),
    "testing": ("检测", "Testing"),
    "scale_up": ("工艺放大", "Process scale-up"),
}


class PilotPlatform(TimestampMixin, Base):
    """A pilot-scale platform: what fields it serves, what it has, where, and on what terms.

    `industries`, `ipc_classes` and `services` are comma-fenced (",C26,C27,") like the
    supermarket's listings, so one LIKE filter works on SQLite and PostgreSQL alike.
    `capacity` is how many bookings (in units of `PilotBooking.quantity`) run at once.
    """

    __tablename__ = "pilot_platforms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    operator: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20), index=True)
    industries: Mapped[str] = mapped_column(String(300), default=",")
    ipc_classes: Mapped[str] = mapped_column(String(300), default=",")
    services: Mapped[str] = mapped_column(String(100), default=",")
    equipment: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    province: Mapped[str] = mapped_column(String(50), index=True)
    city: Mapped[str | None] = mapped_column(String(100))
    fees: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    open_booking: Mapped[bool] = mapped_column(Boolean, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    search_text: Mapped[str] = mapped_column(Text, default="")


class PlatformManager(Base):
    """Links a `pilot_platform` user to the platform entry they manage."""

    __tablename__ = "pilot_platform_managers"
    __table_args__ = (UniqueConstraint("user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(
        ForeignKey("pilot_platforms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class PilotBooking(TimestampMixin, Base):
    """A request for the platform's time: what, how much, when, and what it serves."""

    __tablename__ = "pilot_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(
        ForeignKey("pilot_platforms.id", ondelete="CASCADE"), index=True
    )
    requester_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    service: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    listing_id: Mapped[int | None] = mapped_column(
        ForeignKey("market_listings.id", ondelete="SET NULL")
    )
    challenge_id: Mapped[int | None] = mapped_column(
        ForeignKey("challenges.id", ondelete="SET NULL")
    )
    deal_ref: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="requested", index=True)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    outcome_report: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)

    platform: Mapped[PilotPlatform] = relationship()
