"""HTML pages for patents: the public register (list, detail) and the institution workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from shuanglian.accounts import permissions as perm
from shuanglian.errors import NotFound
from shuanglian.patents.api import fetch_patent, search_patents
from shuanglian.patents.models import PATENT_TYPE_ZH, Institution
from shuanglian.web.deps import CurrentUser, IdPath, PageDep, SessionDep, optional_int
from shuanglian.web.templating import render

router = APIRouter(include_in_schema=False)

PATENT_TYPE_EN = {"invention": "Invention", "utility_model": "Utility model", "design": "Design"}


@router.get("/patents", response_class=HTMLResponse)
def patents_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    institution: Annotated[str | None, Query(alias="institution_id", max_length=12)] = None,
) -> HTMLResponse:
    institution_id = optional_int(institution, field="institution_id", low=1, high=2**31 - 1)
    items, total = search_patents(
        session, q=q, institution_id=institution_id, offset=page.offset, limit=page.per_page
    )
    institutions = session.scalars(select(Institution).order_by(Institution.name).limit(500)).all()
    return render(
        request,
        "patents/list.html",
        {
            "items": items,
            "total": total,
            "page": page.page,
            "pages": page.pages(total),
            "q": q,
            "institution_id": institution_id,
            "institutions": institutions,
        },
    )


@router.get("/patents/{patent_id}", response_class=HTMLResponse)
def patent_page(
    request: Request, session: SessionDep, user: CurrentUser, patent_id: IdPath
) -> HTMLResponse:
    from shuanglian.supermarket.service import published_listings_for_patent

    patent = fetch_patent(session, patent_id=patent_id)
    kind = patent.patent_type or ""
    type_label = (
        PATENT_TYPE_EN.get(kind, kind)
        if request.query_params.get("lang") == "en" or request.cookies.get("lang") == "en"
        else PATENT_TYPE_ZH.get(kind, kind)
    )
    return render(
        request,
        "patents/detail.html",
        {
            "patent": patent,
            "type_label": type_label,
            "listings": published_listings_for_patent(session, patent_id=patent.id),
        },
    )


# --------------------------------------------------------------------------- workspace


@router.get("/workspace/institution", response_class=HTMLResponse)
def institution_workspace(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    institution_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> HTMLResponse:
    """Staff see their own institution; an admin picks one with `?institution_id=`."""
    from shuanglian.inventory.models import InventoryBatch
    from shuanglian.inventory.pool import list_pool
    from shuanglian.inventory.service import batch_progress
    from shuanglian.supermarket.service import inquiries_for_institution, listings_for_institution

    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    if user.role != perm.ADMIN:
        institution_id = user.institution_id
    institutions = (
        session.scalars(select(Institution).order_by(Institution.name).limit(500)).all()
        if user.role == perm.ADMIN
        else []
    )
    if institution_id is None:
        return render(
            request,
            "workspace/institution.html",
            {"institution": None, "institutions": institutions},
        )
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise NotFound(f"机构 {institution_id} 不存在 (institution not found)")
    perm.require_institution(user, institution.id)
    patents, patent_total = search_patents(session, institution_id=institution.id, limit=20)
    batches = session.scalars(
        select(InventoryBatch)
        .where(InventoryBatch.institution_id == institution.id)
        .order_by(InventoryBatch.id.desc())
        .limit(20)
    ).all()
    progress = [batch_progress(session, actor=user, batch_id=b.id) for b in batches]
    pool = list_pool(session, actor=user, institution_id=institution.id, limit=50)
    listings = listings_for_institution(session, actor=user, institution_id=institution.id)
    listed = {lst.patent_id for lst in listings}
    return render(
        request,
        "workspace/institution.html",
        {
            "institution": institution,
            "institutions": institutions,
            "patents": patents,
            "patent_total": patent_total,
            "progress": progress,
            "pool": pool,
            "listings": listings,
            "listed": listed,
            "inquiries": inquiries_for_institution(
                session, actor=user, institution_id=institution.id
            ),
        },
    )
