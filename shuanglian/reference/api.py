"""JSON routes for the reference tables the platform ships (what /admin/reference shows).

GB/T 4754-2017, the IPC titles and the WIPO technology fields are published standards, and the
codes they define appear on public pages (catalogue filters, enterprise profiles), so reading
them needs no login; only the admin page that presents them sits in the admin area.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shuanglian.reference import gbt4754, ipc, summary
from shuanglian.web.schemas import ERROR_RESPONSES

router = APIRouter(prefix="/reference", tags=["reference"], responses=ERROR_RESPONSES)

LEVEL_PATTERN = "^(门类|大类|中类|小类|section|division|group|class)$"


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


@router.get("", response_model=ReferenceSummary, summary="参考数据概况 / reference tables")
def reference_summary_api() -> ReferenceSummary:
    return ReferenceSummary(**summary())


@router.get(
    "/industries",
    response_model=list[IndustryRead],
    summary="国民经济行业分类 / GB/T 4754-2017 industries",
    description="With `q`: entries whose name or 说明 contains the words, best first, else the "
    "entry whose code `q` is (C38, 3841). Without `q`: every entry at `level` (门类 when "
    "left out).",
)
def industries_api(
    q: Annotated[str | None, Query(max_length=50, description="words or a code")] = None,
    level: Annotated[str | None, Query(pattern=LEVEL_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="most entries a lookup returns")] = 50,
) -> list[IndustryRead]:
    if q and q.strip():
        found = gbt4754.lookup_industries(q, level=level, limit=limit)
    else:
        found = list(gbt4754.industries_at_level(level or "门类"))
    return [IndustryRead.of(item) for item in found]


@router.get(
    "/wipo-fields",
    response_model=list[WipoFieldRead],
    summary="WIPO 技术领域 / WIPO technology fields",
)
def wipo_fields_api() -> list[WipoFieldRead]:
    names = ipc.technology_field_names()
    return [WipoFieldRead(number=n, name=names[n]) for n in sorted(names)]
