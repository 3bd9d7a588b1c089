"""Pydantic output shapes of the reference-data API (GB/T 4754, WIPO fields)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shuanglian.reference import gbt4754


class ReferenceSummary(BaseModel):
    gbt4754_codes: int = Field(description="GB/T 4754-2017 entries at all four levels")
    gbt4754_divisions: int = Field(description="大类 (two-digit divisions)")
    ipc_titles: int
    wipo_fields: int
    ipc_industry_rows: int = Field(description="IPC codes in the approximate industry link")


class IndustryRead(BaseModel):
    code: str = Field(description="bare code: C, 38, 384, 3841")
    name: str
    level: str = Field(description="门类 / 大类 / 中类 / 小类")
    parent_code: str | None
    description: str = Field(description="说明 from the standard; empty where it gives none")

    @classmethod
    def of(cls, item: gbt4754.Industry) -> IndustryRead:
        return cls(
            code=item.code,
            name=item.name,
            level=item.level,
            parent_code=item.parent_code,
            description=item.description,
        )


class WipoFieldRead(BaseModel):
    number: int = Field(description="WIPO IPC–technology concordance field number, 1–35")
    name: str
