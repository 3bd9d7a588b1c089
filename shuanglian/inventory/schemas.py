"""Pydantic shapes for the inventory API and the Excel importers (validation lives here once)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shuanglian.inventory.models import (
    IMPLEMENTATION_STATUSES,
    INTENTS,
    TRANSFER_MODES,
    VALUE_GRADES,
)
from shuanglian.web.deps import DbId
from shuanglian.web.schemas import Code, SafeStr, UtcDateTime

# GB/T 4754-2017 codes: 门类 letter optionally followed by 2–4 digits, or 2–4 digits alone.
_INDUSTRY_CODE = re.compile(r"^(?:[A-T]\d{0,4}|\d{2,4})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _one_of(value: str, allowed: tuple[str, ...], label: str) -> str:
    value = value.strip()
    if value not in allowed:
        raise ValueError(f"{label}须为 {'/'.join(allowed)} 之一，收到“{value}”")
    return value


class SelfAssessmentIn(BaseModel):
    """The self-assessment form; every field is required except phone, e-mail, industry codes."""

    model_config = ConfigDict(str_strip_whitespace=True)

    publicly_funded: bool = Field(description="财政资助 funded by public money")
    implementation_status: Code = Field(
        description="实施状态: " + "/".join(IMPLEMENTATION_STATUSES)
    )
    transfer_mode: Code = Field(description="意向转化方式: " + "/".join(TRANSFER_MODES))
    trl: int = Field(description="技术成熟度 TRL 1–9")
    value_grade: Code = Field(description="价值分级自评: 高/中/低")
    value_reason: SafeStr = Field(max_length=5000, description="分级理由 (reason for the grade)")
    scenarios: SafeStr = Field(max_length=5000, description="应用场景 (application scenarios)")
    industry_codes: list[Code] = Field(
        default_factory=list, max_length=50, description="GB/T 4754-2017 codes"
    )
    contact_name: SafeStr = Field(max_length=100, description="联系人")
    contact_phone: SafeStr | None = Field(default=None, max_length=40)
    contact_email: SafeStr | None = Field(default=None, max_length=200)

    @field_validator("implementation_status")
    @classmethod
    def _impl(cls, v: str) -> str:
        return _one_of(v, IMPLEMENTATION_STATUSES, "实施状态")

    @field_validator("transfer_mode")
    @classmethod
    def _mode(cls, v: str) -> str:
        return _one_of(v, TRANSFER_MODES, "意向转化方式")

    @field_validator("value_grade")
    @classmethod
    def _grade(cls, v: str) -> str:
        return _one_of(v, VALUE_GRADES, "价值分级自评")

    @field_validator("trl")
    @classmethod
    def _trl(cls, v: int) -> int:
        if not 1 <= v <= 9:
            raise ValueError(f"技术成熟度须为 1–9 的整数，收到 {v}")
        return v

    @field_validator("value_reason", "scenarios", "contact_name")
    @classmethod
    def _required_text(cls, v: str) -> str:
        if not v:
            raise ValueError("必填项不能为空 (required)")
        return v

    @field_validator("industry_codes")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        from shuanglian.reference.gbt4754 import is_valid_industry_code

        codes = [c.strip().upper() for c in v if c and c.strip()]
        # The shape first (cheap), then the standard's own table: 9999 has the shape of a
        # code but names no industry, and was stored before.
        bad = [c for c in codes if not _INDUSTRY_CODE.match(c) or not is_valid_industry_code(c)]
        if bad:
            raise ValueError(
                f"行业代码须为 GB/T 4754-2017《国民经济行业分类》中的代码（如 C39 或 3911），"
                f"表中没有：{', '.join(bad)} (not a GB/T 4754-2017 industry code)"
            )
        return codes

    @field_validator("contact_email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v and not _EMAIL.match(v):
            raise ValueError(f"邮箱格式不正确：{v}")
        return v or None


class FeedbackIn(BaseModel):
    """An enterprise's feedback on one pushed patent."""

    model_config = ConfigDict(str_strip_whitespace=True)

    prospect: int = Field(description="产业化前景 1–5")
    improvement_needs: SafeStr | None = Field(
        default=None, max_length=2000, description="技术改进需求"
    )
    intent: Code = Field(description="合作意向: " + "/".join(INTENTS))

    @field_validator("prospect")
    @classmethod
    def _prospect(cls, v: int) -> int:
        if not 1 <= v <= 5:
            raise ValueError(f"产业化前景须为 1–5 的整数，收到 {v}")
        return v

    @field_validator("intent")
    @classmethod
    def _intent(cls, v: str) -> str:
        return _one_of(v, INTENTS, "合作意向")


class BatchCreate(BaseModel):
    institution_id: DbId
    name: SafeStr = Field(min_length=1, max_length=200)
    college_id: DbId | None = None
    patent_ids: list[DbId] = Field(default_factory=list, max_length=100_000)
    source_file: SafeStr | None = Field(
        default=None,
        max_length=500,
        description=(
            "Take the institution's patents imported from this file (its name or the path "
            "imported with); with neither this nor patent_ids: every patent not inventoried yet"
        ),
    )


class ReviewIn(BaseModel):
    decision: Code = Field(description="approve / return / reject")
    comment: SafeStr | None = Field(default=None, max_length=2000)


class WithdrawIn(BaseModel):
    reason: SafeStr = Field(max_length=2000)


class PushRoundIn(BaseModel):
    per_patent: int = Field(default=10, ge=1, le=200)
    per_enterprise_cap: int = Field(default=20, ge=1, le=10_000)
    institution_id: DbId | None = None


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    batch_id: int
    patent_id: int
    institution_id: int
    college_id: int | None
    status: str
    last_comment: str | None


class PoolEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    patent_id: int
    institution_id: int
    active: bool
    entered_at: UtcDateTime
    left_at: UtcDateTime | None
    leave_reason: str | None
    score: float | None
    grade: str | None
    tier: int | None
    tier_reasons: list[str] | None


class FeedbackRequest(FeedbackIn):
    """Feedback naming the push, or the patent (the enterprise is the caller's)."""

    push_id: DbId | None = None
    patent_id: DbId | None = None
    enterprise_id: DbId | None = Field(default=None, description="admins acting for one")


class PushRoundRequest(PushRoundIn):
    matcher: Literal["engine", "industry"] = "engine"
