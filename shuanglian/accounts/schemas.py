"""Pydantic input and output shapes of the accounts API (users, tokens, audit entries)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shuanglian.web.deps import MAX_ID
from shuanglian.web.schemas import SafeStr, UtcDateTime


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str | None = None
    email: str | None = None
    role: str
    institution_id: int | None = None
    enterprise_id: int | None = None
    college: str | None = None
    is_active: bool


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: UtcDateTime
    last_used_at: UtcDateTime | None = None


class TokenCreate(BaseModel):
    name: SafeStr = Field(min_length=1, max_length=100)


class TokenIssued(TokenRead):
    token: str = Field(description="shown once; send as `Authorization: Bearer <token>`")


Role = Literal["admin", "institution_staff", "enterprise_user", "tech_manager", "pilot_platform"]


# Passwords are bounded only so a request stays small; strength is the service's rule.
Password = Annotated[SafeStr, Field(max_length=1000)]


class UserCreate(BaseModel):
    """A new login. Institution staff name their institution, enterprise users their
    enterprise; the other roles need neither."""

    model_config = ConfigDict(extra="forbid")

    username: SafeStr = Field(max_length=80)
    password: Password
    role: Role
    display_name: SafeStr | None = Field(default=None, max_length=100)
    email: SafeStr | None = Field(
        default=None, max_length=200, description="inquiry notices go here (institution staff)"
    )
    institution_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    enterprise_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    college: SafeStr | None = Field(
        default=None, max_length=100, description="学院: limits staff to one college"
    )


class ActiveUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool = Field(description="false disables the login and its API tokens")


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_password: Password


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: Password


class AuditEventRead(BaseModel):
    id: int
    at: UtcDateTime
    user_id: int | None = None
    username: str | None = Field(default=None, description="null: the system or a deleted user")
    action: str
    action_label: str = Field(description="the action in words (zh, or en with ?lang=en)")
    subject_type: str | None = None
    subject_id: int | None = None
    subject: str = Field(default="", description="the record in words")
    link: str | None = Field(default=None, description="site path of the record's page")
    institution_id: int | None = None
    detail: dict[str, Any] | None = None
    detail_text: str = Field(default="", description="one line: file and counts, comment ...")
