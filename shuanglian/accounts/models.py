"""Users and their roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shuanglian.db import Base, TimestampMixin

ROLES = ("admin", "institution_staff", "enterprise_user", "tech_manager", "pilot_platform")


class User(TimestampMixin, Base):
    """A person who logs in; what they may see follows from `role` and the linked org."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str | None] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="SET NULL")
    )
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprises.id", ondelete="SET NULL")
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Institution staff may be limited to one college (学院) of their institution; None = all.
    college: Mapped[str | None] = mapped_column(String(100))


class ApiToken(TimestampMixin, Base):
    """A bearer token for programmatic clients; only its SHA-256 is stored, never the token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # First characters of the token, shown in lists so a person can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class WebSession(TimestampMixin, Base):
    """A signed-in browser session, kept on the server so logout and a password change end it.

    The cookie carries a random session key; only its SHA-256 is stored. A cookie replayed after
    logout names a row that is gone, and is refused.
    """

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# An account application's states, named for people (admin queue, audit log).
APPLICATION_STATUSES: dict[str, tuple[str, str]] = {
    "pending": ("待审核", "pending"),
    "approved": ("已批准", "approved"),
    "rejected": ("已驳回", "rejected"),
}


class AccountApplication(TimestampMixin, Base):
    """An enterprise's request for an account (申请账号), waiting for an administrator.

    The applicant chooses the password when applying; only its hash is kept, and it becomes the
    account's password on approval (no password travels by e-mail). On approval the account is
    linked to the enterprise with the same credit code, or to a new enterprise record.
    """

    __tablename__ = "account_applications"
    __table_args__ = (Index("ix_account_applications_code_status", "credit_code", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_name: Mapped[str] = mapped_column(String(300))
    credit_code: Mapped[str] = mapped_column(String(18))  # checked (GB 32100-2015)
    contact_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    username: Mapped[str] = mapped_column(String(80), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    reason: Mapped[str | None] = mapped_column(Text)  # why it was rejected
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprises.id", ondelete="SET NULL")
    )
