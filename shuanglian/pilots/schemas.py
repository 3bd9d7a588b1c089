"""What the pilot API takes and returns."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from shuanglian.challenges.schemas import Id
from shuanglian.web.schemas import Code, SafeStr, UtcDateTime


class PlatformIn(BaseModel):
    name: SafeStr = Field(max_length=200)
    operator: SafeStr = Field(max_length=200)
    level: Code = Field(description="national, provincial or municipal")
    province: SafeStr = Field(max_length=50)
    city: SafeStr | None = Field(default=None, max_length=100)
    industries: list[Code] = Field(default_factory=list, max_length=50, description="GB/T 4754")
    ipc_classes: list[Code] = Field(default_factory=list, max_length=50)
    services: list[Code] = Field(
        default_factory=list, max_length=10, description="lab, pilot, testing, scale_up"
    )
    equipment: SafeStr = Field(default="", max_length=5000)
    capacity: int = Field(default=1, ge=-100000, le=100000)
    fees: SafeStr = Field(default="", max_length=2000)
    description: SafeStr = Field(default="", max_length=5000)
    contact_name: SafeStr | None = Field(default=None, max_length=100)
    contact_phone: SafeStr | None = Field(default=None, max_length=40)
    contact_email: SafeStr | None = Field(default=None, max_length=200)
    open_booking: bool = True


class PlatformOut(PlatformIn):
    id: int
    is_demo: bool
    rating: float | None = None
    ratings: int = 0


class SuggestionOut(BaseModel):
    platform: PlatformOut
    score: float
    region: str
    reasons: list[str]


class BookingIn(BaseModel):
    title: SafeStr = Field(max_length=300)
    service: Code
    quantity: int = Field(default=1, ge=-100000, le=100000)
    start_on: date
    end_on: date
    description: SafeStr = Field(default="", max_length=5000)
    listing_id: Id | None = None
    challenge_id: Id | None = None
    deal_ref: SafeStr | None = Field(default=None, max_length=100)


class BookingActionIn(BaseModel):
    action: Code
    reason: SafeStr | None = Field(default=None, max_length=2000)
    report: SafeStr | None = Field(default=None, max_length=20000)
    start_on: date | None = None
    end_on: date | None = None


class RatingIn(BaseModel):
    rating: int = Field(ge=-100, le=100)
    comment: SafeStr | None = Field(default=None, max_length=2000)


class BookingOut(BaseModel):
    id: int
    platform_id: int
    title: str
    description: str
    service: str
    quantity: int
    start_on: date
    end_on: date
    listing_id: int | None
    challenge_id: int | None
    deal_ref: str | None
    status: str
    decline_reason: str | None
    outcome_report: str | None
    completed_at: UtcDateTime | None
    rating: int | None
    rating_comment: str | None
