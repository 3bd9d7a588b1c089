"""JSON routes for patents and institutions under /api/v1."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile

from shuanglian.accounts import permissions as perm
from shuanglian.importing import ImportReport
from shuanglian.matching.schemas import Match
from shuanglian.matching.service import match_patent
from shuanglian.patents import service
from shuanglian.patents.schemas import (
    InstitutionRead,
    PatentRead,
)
from shuanglian.patents.workspace import import_institution_patents, workspace_institution
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, IdQuery, SessionDep, SettingsDep
from shuanglian.web.imports import attach_error_csv, finish_import
from shuanglian.web.schemas import ERROR_RESPONSES, INDEX_RESPONSES, ListResponse
from shuanglian.web.uploads import PATENT_SUFFIXES, UPLOAD_ERROR_RESPONSES, received_file

router = APIRouter(tags=["patents"], responses=ERROR_RESPONSES)

Q_DESCRIPTION = (
    "an application or publication number, or words that must all be in the title (either "
    "language; Chinese matched by character pairs, English by stem), read from the term index, "
    f"most recently added first. `total` counts up to {service.COUNT_CAP}: beyond that it "
    f"says {service.COUNT_CAP} and `total_capped` is true (show it as {service.COUNT_CAP}+)."
)


@router.get("/patents", response_model=ListResponse[PatentRead], summary="专利列表 / list patents")
def list_patents_api(
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200, description=Q_DESCRIPTION)] = None,
    institution_id: IdQuery = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ListResponse[PatentRead]:
    found = service.search_patents(
        session, q=q, institution_id=institution_id, offset=offset, limit=limit
    )
    return _page(found, offset=offset, limit=limit)


@router.get(
    "/patents/search", response_model=ListResponse[PatentRead], summary="检索专利 / search patents"
)
def search_patents_api(
    session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description=Q_DESCRIPTION)],
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ListResponse[PatentRead]:
    found = service.search_patents(session, q=q, offset=offset, limit=limit)
    return _page(found, offset=offset, limit=limit)


def _page(found: service.PatentPage, *, offset: int, limit: int) -> ListResponse[PatentRead]:
    return ListResponse[PatentRead](
        items=[PatentRead.model_validate(p) for p in found.items],
        total=found.total,
        total_capped=found.capped,
        offset=offset,
        limit=limit,
    )


@router.get("/patents/{patent_id}", response_model=PatentRead, summary="专利详情 / one patent")
def get_patent_api(session: SessionDep, patent_id: IdPath) -> PatentRead:
    return PatentRead.model_validate(service.get_patent(session, patent_id=patent_id))


@router.get(
    "/institutions", response_model=list[InstitutionRead], summary="机构列表 / institutions"
)
def list_institutions_api(session: SessionDep) -> list[InstitutionRead]:
    rows = service.list_institutions(session, limit=1000)
    return [InstitutionRead.model_validate(r) for r in rows]


@router.get(
    "/patents/{patent_id}/matches",
    response_model=list[Match],
    summary="为专利匹配企业 / enterprises for a patent",
    responses=INDEX_RESPONSES,
)
def patent_matches_api(
    request: Request,
    session: SessionDep,
    patent_id: IdPath,
    top: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[Match]:
    return match_patent(session, settings=request.app.state.settings, patent_id=patent_id, top=top)


@router.post(
    "/patents/upload",
    response_model=ImportReport,
    summary="上传专利文件，导入为本机构专利 / import an uploaded patent file",
    dependencies=[CsrfDep],
    responses=UPLOAD_ERROR_RESPONSES,
)
def upload_patents_api(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    file: Annotated[
        UploadFile, File(description="CNIPA .xlsx/.csv, PatentsView g_patent.tsv or USPTO .xml")
    ],
    institution_id: IdQuery = None,
    fmt: Annotated[
        Literal["auto", "cnipa", "patentsview", "uspto-xml"], Query(alias="format")
    ] = "auto",
    dry_run: bool = False,
) -> ImportReport:
    """The workspace's 导入专利: staff import for their own institution (admin names one).

    Answers the import report: counts and every rejected row (row, the file's column, reason).
    """
    workspace_institution(session, actor=user, institution_id=institution_id)
    with received_file(file, settings=settings, allowed=PATENT_SUFFIXES) as path:
        report = import_institution_patents(
            session,
            actor=user,
            institution_id=institution_id,
            path=path,
            fmt=fmt,
            dry_run=dry_run,
            batch_size=settings.import_batch_size,
        )
    finish_import(session, report, engine=request.app.state.engine)
    return attach_error_csv(settings, user_id=perm.require_login(user).id, report=report)
