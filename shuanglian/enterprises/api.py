"""JSON routes for enterprises and their demands under /api/v1.

Reads serve public data only: an enterprise's name, industry, region and business scope are on
its public registration; users, feedback and push lists are served elsewhere behind permission
checks. Writes (profile, demands) call `enterprises.workspace`, the functions the enterprise
workspace pages call, so both check the same rules and permissions.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from shuanglian.enterprises import service, workspace
from shuanglian.enterprises.schemas import (
    DemandCreate,
    DemandRead,
    DemandUpdate,
    EnterpriseRead,
    ProfileUpdate,
)
from shuanglian.enterprises.workspace import DemandInput, ProfileInput
from shuanglian.matching.schemas import Match
from shuanglian.matching.service import match_demand, match_enterprise
from shuanglian.web.deps import (
    CsrfDep,
    CurrentUser,
    IdPath,
    IdQuery,
    LimitQuery,
    OffsetQuery,
    SessionDep,
)
from shuanglian.web.schemas import ERROR_RESPONSES, INDEX_RESPONSES, ListResponse

router = APIRouter(tags=["enterprises"], responses=ERROR_RESPONSES)

Words = Annotated[str | None, Query(max_length=200, description="words to search")]


def _enterprise_page(page: Any) -> ListResponse[EnterpriseRead]:
    return ListResponse[EnterpriseRead](
        items=[EnterpriseRead.model_validate(e) for e in page.items],
        total=page.total,
        offset=page.offset,
        limit=page.limit,
    )


@router.get(
    "/enterprises", response_model=ListResponse[EnterpriseRead], summary="企业列表 / enterprises"
)
def list_enterprises_api(
    session: SessionDep,
    q: Words = None,
    province: Annotated[str | None, Query(max_length=50)] = None,
    industry_code: Annotated[str | None, Query(max_length=5, pattern=r"^[A-T0-9]{1,5}$")] = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 20,
) -> ListResponse[EnterpriseRead]:
    page = service.list_enterprises(
        session, q=q, province=province, industry_code=industry_code, offset=offset, limit=limit
    )
    return _enterprise_page(page)


@router.get(
    "/enterprises/search",
    response_model=ListResponse[EnterpriseRead],
    summary="检索企业 / search enterprises",
)
def search_enterprises_api(
    session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    offset: OffsetQuery = 0,
    limit: LimitQuery = 20,
) -> ListResponse[EnterpriseRead]:
    page = service.list_enterprises(session, q=q, offset=offset, limit=limit)
    return _enterprise_page(page)


@router.get(
    "/enterprises/{enterprise_id}",
    response_model=EnterpriseRead,
    summary="企业详情 / one enterprise",
)
def get_enterprise_api(session: SessionDep, enterprise_id: IdPath) -> EnterpriseRead:
    return EnterpriseRead.model_validate(
        service.get_enterprise(session, enterprise_id=enterprise_id)
    )


@router.put(
    "/enterprises/{enterprise_id}/profile",
    response_model=EnterpriseRead,
    dependencies=[CsrfDep],
    summary="更新企业资料 / update an enterprise's profile",
)
def update_enterprise_profile_api(
    session: SessionDep, user: CurrentUser, enterprise_id: IdPath, body: ProfileUpdate
) -> EnterpriseRead:
    enterprise = workspace.update_enterprise_profile(
        session, actor=user, enterprise_id=enterprise_id, data=ProfileInput(**body.model_dump())
    )
    return EnterpriseRead.model_validate(enterprise)


@router.get("/demands", response_model=ListResponse[DemandRead], summary="技术需求 / demands")
def list_demands_api(
    session: SessionDep,
    user: CurrentUser,
    q: Words = None,
    enterprise_id: IdQuery = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 20,
) -> ListResponse[DemandRead]:
    page = service.list_demands(
        session,
        q=q,
        enterprise_id=enterprise_id,
        region=region,
        status=status,
        offset=offset,
        limit=limit,
        viewer=user,
        public=True,
    )
    if enterprise_id is not None:
        # Asking by company must not reveal which anonymous demands are that company's.
        page.items = [d for d in page.items if service.demand_company_shown(d, user)]
    return ListResponse[DemandRead](
        items=[DemandRead.for_viewer(d, user) for d in page.items],
        total=page.total,
        offset=page.offset,
        limit=page.limit,
    )


@router.get("/demands/{demand_id}", response_model=DemandRead, summary="需求详情 / one demand")
def get_demand_api(session: SessionDep, user: CurrentUser, demand_id: IdPath) -> DemandRead:
    demand = service.get_demand(session, demand_id=demand_id, viewer=user, public=True)
    return DemandRead.for_viewer(demand, user)


@router.post(
    "/demands",
    response_model=DemandRead,
    status_code=201,
    dependencies=[CsrfDep],
    summary="发布技术需求 / publish a demand",
)
def create_demand_api(session: SessionDep, user: CurrentUser, body: DemandCreate) -> DemandRead:
    demand = workspace.create_demand(
        session,
        actor=user,
        enterprise_id=body.enterprise_id,
        data=DemandInput(**body.model_dump(exclude={"enterprise_id"})),
    )
    return DemandRead.model_validate(demand)


@router.put(
    "/demands/{demand_id}",
    response_model=DemandRead,
    dependencies=[CsrfDep],
    summary="修改技术需求 / edit, close or reopen a demand",
)
def update_demand_api(
    session: SessionDep, user: CurrentUser, demand_id: IdPath, body: DemandUpdate
) -> DemandRead:
    demand = workspace.update_demand(
        session, actor=user, demand_id=demand_id, data=DemandInput(**body.model_dump())
    )
    return DemandRead.model_validate(demand)


MATCH_RESPONSES = INDEX_RESPONSES
Top = Annotated[int, Query(ge=1, le=200)]


@router.get(
    "/enterprises/{enterprise_id}/matches",
    response_model=list[Match],
    summary="为企业匹配专利 / patents for an enterprise",
    responses=MATCH_RESPONSES,
)
def enterprise_matches_api(
    request: Request, session: SessionDep, enterprise_id: IdPath, top: Top = 20
) -> list[Match]:
    return match_enterprise(
        session, settings=request.app.state.settings, enterprise_id=enterprise_id, top=top
    )


@router.get(
    "/demands/{demand_id}/matches",
    response_model=list[Match],
    summary="为技术需求匹配专利 / patents for a demand",
    responses=MATCH_RESPONSES,
)
def demand_matches_api(
    request: Request, session: SessionDep, user: CurrentUser, demand_id: IdPath, top: Top = 20
) -> list[Match]:
    service.get_demand(session, demand_id=demand_id, viewer=user, public=True)
    return match_demand(session, settings=request.app.state.settings, demand_id=demand_id, top=top)
