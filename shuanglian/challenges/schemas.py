"""What the API, pages and CLI hand to the challenge services, and what the API returns.

Shapes only: the services check the values (dates, units, amounts) so that a form, a JSON
client and the CLI get the same sentence naming the same field.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from shuanglian.web.schemas import Code, Measure, Money, SafeStr, UtcDateTime

MAX_ID = 2_147_483_647  # 32-bit ids on PostgreSQL
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class IndicatorIn(BaseModel):
    """A technical indicator: target value with its unit and comparison, and how it is measured."""

    name: SafeStr = Field(max_length=200)
    unit: SafeStr = Field(default="", max_length=40)
    comparison: Code = Field(default=">=", description=">=, <=, = or range")
    target: Measure
    target_max: Measure | None = Field(default=None, description="upper bound for a range")
    method: SafeStr = Field(default="", max_length=2000)


class ChallengeIn(BaseModel):
    """A challenge as its enterprise writes it (出题)."""

    title: SafeStr = Field(max_length=300)
    summary: SafeStr = Field(default="", max_length=2000)
    problem: SafeStr = Field(default="", max_length=20000)
    industry: SafeStr | None = Field(default=None, max_length=100, description="code or name")
    region: SafeStr | None = Field(default=None, max_length=100)
    budget: Money = Field(description="榜额, 万元")
    payment_terms: SafeStr = Field(default="", max_length=2000)
    application_deadline: date
    delivery_deadline: date
    ip_owner: Code = Field(default="enterprise", description="enterprise, team or joint")
    licence_back: bool = False
    ip_terms: SafeStr = Field(default="", max_length=2000)
    visibility: Code = Field(default="public", description="public, summary or nda")
    nda_text: SafeStr | None = Field(default=None, max_length=5000)
    anonymous: bool = False
    indicators: list[IndicatorIn] = Field(default_factory=list, max_length=30)


class MemberIn(BaseModel):
    name: SafeStr = Field(max_length=100)
    role: SafeStr = Field(default="", max_length=100)


class MilestoneIn(BaseModel):
    title: SafeStr = Field(max_length=300)
    deliverable: SafeStr = Field(default="", max_length=2000)
    due_on: date
    amount: Money = Decimal(0)


class ApplicationIn(BaseModel):
    """A team's application (领题)."""

    team_name: SafeStr = Field(max_length=200)
    members: list[MemberIn] = Field(default_factory=list, max_length=50)
    patent_ids: list[Id] = Field(default_factory=list, max_length=50)
    approach: SafeStr = Field(max_length=20000)
    price: Money = Field(description="万元")
    duration_days: int = Field(ge=-100000, le=100000)
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=20)


class MeasurementIn(BaseModel):
    indicator_id: Id
    value: Measure
    measured_on: date
    place: SafeStr = Field(max_length=200)
    verifier: SafeStr = Field(max_length=100)


class VerificationIn(BaseModel):
    measurements: list[MeasurementIn]
    note: SafeStr | None = Field(default=None, max_length=5000)
    application_id: Id | None = None


class ActionIn(BaseModel):
    action: Code
    reason: SafeStr | None = Field(default=None, max_length=2000)


class PaymentIn(BaseModel):
    amount: Money
    paid_on: date
    note: SafeStr | None = Field(default=None, max_length=300)


class TextIn(BaseModel):
    body: SafeStr = Field(max_length=5000)


class IndicatorOut(BaseModel):
    id: int
    name: str
    unit: str
    comparison: str
    target: Decimal
    target_max: Decimal | None
    method: str
    requirement: str


class ChallengeOut(BaseModel):
    """A challenge as this user may see it: hidden parts are None and `details_hidden` says why."""

    id: int
    title: str
    summary: str
    status: str
    status_label: str
    enterprise: str | None
    industry_code: str | None
    region: str | None
    budget: Decimal
    payment_terms: str | None
    application_deadline: date
    delivery_deadline: date
    ip_owner: str
    licence_back: bool
    ip_terms: str | None
    visibility: str
    anonymous: bool
    published_at: UtcDateTime | None
    problem: str | None
    indicators: list[IndicatorOut] | None
    details_hidden: str | None
    actions: list[str]


class MilestoneOut(BaseModel):
    id: int
    title: str
    deliverable: str
    due_on: date
    amount: Decimal
    status: str
    delivery_note: str | None
    return_reason: str | None
    paid_amount: Decimal | None
    paid_on: date | None


class ApplicationOut(BaseModel):
    id: int
    challenge_id: int
    team_name: str
    team_members: list[dict[str, str]]
    patent_ids: list[int]
    approach: str
    price: Decimal
    duration_days: int
    status: str
    reject_reason: str | None
    institution_id: int | None
    milestones: list[MilestoneOut]


class MeasurementOut(BaseModel):
    indicator_id: int
    indicator: str
    value: Decimal
    unit: str
    requirement: str
    passed: bool
    measured_on: date
    place: str
    verifier: str


class VerificationOut(BaseModel):
    id: int
    run: int
    verdict: str
    note: str | None
    recorded_at: UtcDateTime
    measurements: list[MeasurementOut]


class SuggestionOut(BaseModel):
    kind: str
    ref_id: int
    name: str
    score: float
    explanation: str


class MessageOut(BaseModel):
    id: int
    author_name: str
    body: str
    created_at: UtcDateTime
