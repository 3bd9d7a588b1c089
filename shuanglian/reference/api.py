"""JSON routes for the reference tables the platform ships (what /admin/reference shows).

GB/T 4754-2017, the IPC titles and the WIPO technology fields are published standards, and the
codes they define appear on public pages (catalogue filters, enterprise profiles), so reading
them needs no login; only the admin page that presents them sits in the admin area.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from shuanglian.reference import gbt4754, ipc, summary
from shuanglian.reference.schemas import (
    IndustryRead,
    ReferenceSummary,
    WipoFieldRead,
)
from shuanglian.web.schemas import ERROR_RESPONSES

router = APIRouter(prefix="/reference", tags=["reference"], responses=ERROR_RESPONSES)

LEVEL_PATTERN = "^(门类|大类|中类|小类|section|division|group|class)$"


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
