"""Pydantic input and output shapes of the enterprises API (enterprises, demands)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shuanglian.web.deps import MAX_ID
from shuanglian.web.forms import MAX_FIELD_CHARS
from shuanglian.web.schemas import Money, SafeStr

# Request bodies only bound the size of what is sent; the field rules (lengths, GB/T 4754 codes,
# budgets, dates) are checked by the workspace service, so the API and the pages refuse the
# same input with the same message.
Text = Annotated[SafeStr | None, Field(max_length=MAX_FIELD_CHARS)]
Code = Annotated[SafeStr | None, Field(max_length=20, description="GB/T 4754-2017, e.g. C3311")]
Budget = Annotated[Money | None, Field(description="万元 人民币 (10k CNY)")]


class EnterpriseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    credit_code: str | None = None
    industry_code: str | None = None
    business_scope: str | None = None
    enterprise_type: str | None = None
    province: str | None = None
    city: str | None = None
    founded_on: date | None = None


class DemandRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    # None for an anonymous demand (the company stays hidden from others).
    enterprise_id: int | None
    title: str
    description: str | None = None
    industry_code: str | None = None
    budget: Decimal | None = None
    deadline: date | None = None
    region: str | None = None
    status: str
    visibility: str = "public"

    @classmethod
    def for_viewer(cls, demand: Any, viewer: Any) -> DemandRead:
        """The demand as `viewer` may read it: an anonymous one without its enterprise."""
        from shuanglian.enterprises.service import demand_company_shown

        read = cls.model_validate(demand)
        if not demand_company_shown(demand, viewer):
            read.enterprise_id = None
        return read


class ProfileUpdate(BaseModel):
    """An enterprise's own profile fields. Both must be sent (PUT replaces them): null or ""
    clears one, so a client cannot wipe a field by leaving it out by mistake."""

    model_config = ConfigDict(extra="forbid")

    business_scope: Text = Field(description="经营范围 and technology needs (matching reads it)")
    industry_code: Code


class DemandCreate(BaseModel):
    """A new demand; it starts open."""

    model_config = ConfigDict(extra="forbid")

    enterprise_id: int = Field(ge=1, le=MAX_ID)
    title: SafeStr = Field(max_length=MAX_FIELD_CHARS)
    description: Text = None
    industry_code: Code = None
    budget: Budget = None
    deadline: date | None = None
    region: Text = None
    visibility: Literal["public", "anonymous", "matched"] = "public"


class DemandUpdate(BaseModel):
    """A demand's fields, all sent (PUT replaces them; null clears one); `status` omitted or
    null keeps the current status."""

    model_config = ConfigDict(extra="forbid")

    title: SafeStr = Field(max_length=MAX_FIELD_CHARS)
    description: Text
    industry_code: Code
    budget: Budget
    deadline: date | None
    region: Text
    status: Literal["open", "closed"] | None = None
    visibility: Literal["public", "anonymous", "matched"] | None = None
