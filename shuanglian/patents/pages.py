"""HTML pages for patents: the public register (list, detail) and the institution workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.config import Settings
from shuanglian.matching.schemas import Match
from shuanglian.patents import service as patent_service
from shuanglian.patents.workspace import import_institution_patents, workspace_institution
from shuanglian.web.deps import (
    MAX_ID,
    CsrfDep,
    CurrentUser,
    IdPath,
    PageDep,
    SessionDep,
    SettingsDep,
    optional_int,
)
from shuanglian.web.imports import workspace_upload
from shuanglian.web.templating import render
from shuanglian.web.uploads import PATENT_SUFFIXES

router = APIRouter(include_in_schema=False)


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
    found = patent_service.search_patents(
        session, q=q, institution_id=institution_id, offset=page.offset, limit=page.per_page
    )
    institutions = patent_service.list_institutions(session, limit=500)
    related: list[Match] = []
    abstracts: dict[int, str] = {}
    if q and q.strip() and found.total == 0 and page.offset == 0:
        related, abstracts = _related_patents(
            session, request.app.state.settings, q=q.strip(), institution_id=institution_id
        )
    pager = page.context(found.total)
    if found.capped:  # counted up to the cap: say "10000+" and keep "next" while pages are full
        pager["total"] = f"{found.total}+"  # type: ignore[assignment]
        if len(found.items) == page.per_page:
            pager["pages"] = max(pager["pages"], page.page + 1)
    return render(
        request,
        "patents/list.html",
        {
            "items": found.items,
            **pager,
            "q": q,
            "institution_id": institution_id,
            "institutions": institutions,
            "related": related,
            "abstracts": abstracts,
        },
    )


# Patents the related list asks the engine for; an institution filter keeps those of its own.
RELATED_TOP = 20
RELATED_ASKED = 100


def _related_patents(
    session: Session, settings: Settings, *, q: str, institution_id: int | None
) -> tuple[list[Match], dict[int, str]]:
    """When no title holds every word (锂电池正极材料 is no title's phrase), the patents whose
    title and abstract the engine finds closest to the words, in either language, with their
    level and shared words; ([], {}) while the index is not built."""
    from shuanglian.matching.service import IndexNotReady, match_text

    top = RELATED_TOP if institution_id is None else RELATED_ASKED
    try:
        matches = match_text(session, settings=settings, text=q, target="patents", top=top)
    except IndexNotReady:
        return [], {}
    found = patent_service.patents_by_id(session, ids=[m.id for m in matches])
    if institution_id is not None:
        matches = [
            m for m in matches if m.id in found and found[m.id].institution_id == institution_id
        ][:RELATED_TOP]
    return matches, {pid: p.abstract for pid, p in found.items() if p.abstract}


@router.get("/patents/{patent_id}", response_class=HTMLResponse)
def patent_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    patent_id: IdPath,
    hl: Annotated[str | None, Query(max_length=400)] = None,
) -> HTMLResponse:
    """A patent; `?hl=锂电池,正极材料` (a match list's link) marks those words in it."""
    from shuanglian.enterprises.pages import explanation_lines
    from shuanglian.inventory.history import patent_outcome
    from shuanglian.matching.bulk import explain_compact_pushes
    from shuanglian.supermarket.service import published_listings_for_patent
    from shuanglian.web.highlight import words_from_query

    patent = patent_service.get_patent(session, patent_id=patent_id)
    # The inventory's story (grade, tier, pushes, feedback) is the institution's own business.
    own = patent.institution_id is not None and perm.can_manage_institution(
        user, patent.institution_id
    )
    outcome = patent_outcome(session, patent_id=patent.id) if own else None
    return render(
        request,
        "patents/detail.html",
        {
            "patent": patent,
            "listings": published_listings_for_patent(session, patent_id=patent.id),
            "outcome": outcome,
            "explained": explain_compact_pushes(
                session,
                settings=request.app.state.settings,
                pushes=[line.push for line in outcome.pushes] if outcome else [],
            ),
            "explain": explanation_lines,
            "marked": words_from_query(hl),
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
    from shuanglian.inventory.pool import list_pool
    from shuanglian.inventory.service import batch_progress, list_batches
    from shuanglian.supermarket.service import inquiries_for_institution, listings_for_institution

    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    if user.role != perm.ADMIN:
        institution_id = user.institution_id
    institutions = (
        patent_service.list_institutions(session, limit=500) if user.role == perm.ADMIN else []
    )
    if institution_id is None:
        return render(
            request,
            "workspace/institution.html",
            {"institution": None, "institutions": institutions},
        )
    institution = patent_service.get_institution(session, institution_id=institution_id)
    perm.require_institution(user, institution.id)
    found = patent_service.search_patents(session, institution_id=institution.id, limit=20)
    patents = found.items
    patent_total = f"{found.total}+" if found.capped else found.total
    batches = list_batches(session, actor=user, institution_id=institution.id)
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


# --------------------------------------------------------------------------- imports (uploads)

PATENT_IMPORT_FIELDS = ("file", "format")


@router.post(
    "/workspace/institution/patents/upload", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def institution_patents_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    file: Annotated[UploadFile | None, File()] = None,
    fmt: Annotated[str, Form(alias="format", max_length=20)] = "auto",
    dry_run: Annotated[bool, Form()] = False,
    institution: Annotated[str | None, Form(alias="institution_id", max_length=12)] = None,
) -> Response:
    """导入专利: the upload becomes the institution's patents; the report page follows."""
    institution_id = optional_int(institution, field="institution_id", low=1, high=MAX_ID)
    # Who may import where is settled before the file is copied anywhere.
    workspace_institution(session, actor=user, institution_id=institution_id)
    return workspace_upload(
        request,
        session,
        settings=settings,
        user=user,
        institution_id=institution_id,
        file=file,
        allowed=PATENT_SUFFIXES,
        run=lambda path: import_institution_patents(
            session,
            actor=user,
            institution_id=institution_id,
            path=path,
            fmt=fmt,
            dry_run=dry_run,
            batch_size=settings.import_batch_size,
        ),
        fields=PATENT_IMPORT_FIELDS,
        prefix="patents-",
        form={"patents-format": fmt, "patents-dry_run": dry_run},
        title=("导入专利结果", "Patent import"),
        engine=request.app.state.engine,
    )


LISTING_IMPORT_FIELDS = ("file",)


@router.post(
    "/workspace/institution/listings/upload", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def institution_listings_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    file: Annotated[UploadFile | None, File()] = None,
    publish: Annotated[bool, Form()] = False,
    dry_run: Annotated[bool, Form()] = False,
    institution: Annotated[str | None, Form(alias="institution_id", max_length=12)] = None,
) -> Response:
    """导入科技成果: the institution's register becomes catalogue listings; the report follows."""
    from shuanglian.supermarket.importers import import_institution_listings
    from shuanglian.web.uploads import LISTING_SUFFIXES

    institution_id = optional_int(institution, field="institution_id", low=1, high=MAX_ID)
    workspace_institution(session, actor=user, institution_id=institution_id)
    return workspace_upload(
        request,
        session,
        settings=settings,
        user=user,
        institution_id=institution_id,
        file=file,
        allowed=LISTING_SUFFIXES,
        run=lambda path: import_institution_listings(
            session,
            actor=user,
            institution_id=institution_id,
            path=path,
            publish=publish,
            dry_run=dry_run,
            batch_size=settings.import_batch_size,
        ),
        fields=LISTING_IMPORT_FIELDS,
        prefix="listings-",
        form={"listings-publish": publish, "listings-dry_run": dry_run},
        title=("导入科技成果结果", "Listing import"),
        engine=request.app.state.engine,
    )
