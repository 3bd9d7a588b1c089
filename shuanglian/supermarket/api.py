"""JSON routes of the technology supermarket under /api/v1.

They call the services the pages call (`supermarket.service`), so the same checks apply: the
catalogue and a visitor's inquiry are public; an institution's drafts and inquiries belong to
its staff and the admin.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request

from shuanglian.patents import service as patent_service
from shuanglian.supermarket import inquiry_limits, service
from shuanglian.supermarket.schemas import (
    HandledUpdate,
    InquiryCreate,
    InquiryRead,
    InquiryReceipt,
    ListingCreate,
    ListingRead,
    ListingUpdate,
    ScreenRead,
)
from shuanglian.supermarket.service import MODES, SORTS, ListingInput
from shuanglian.web.deps import (
    CsrfDep,
    CurrentUser,
    IdPath,
    IdQuery,
    PublicCsrfDep,
    SessionDep,
    SettingsDep,
)
from shuanglian.web.origin import site_url
from shuanglian.web.schemas import ERROR_RESPONSES, RATE_LIMITED_RESPONSES, ListResponse

router = APIRouter(tags=["supermarket"], responses=ERROR_RESPONSES)


@router.get(
    "/listings", response_model=ListResponse[ListingRead], summary="科技成果目录 / catalogue"
)
def list_listings_api(
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    industry: Annotated[str | None, Query(max_length=5)] = None,
    tech_field: Annotated[str | None, Query(max_length=100)] = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    mode: Annotated[str | None, Query(pattern="^(" + "|".join(MODES) + ")$")] = None,
    trl_min: Annotated[int | None, Query(ge=1, le=9)] = None,
    trl_max: Annotated[int | None, Query(ge=1, le=9)] = None,
    price_min: Annotated[
        Decimal | None, Query(ge=0, le=10**9, max_digits=18, decimal_places=4)
    ] = None,
    price_max: Annotated[
        Decimal | None, Query(ge=0, le=10**9, max_digits=18, decimal_places=4)
    ] = None,
    institution_id: IdQuery = None,
    sort: Annotated[str, Query(pattern="^(" + "|".join(SORTS) + ")$")] = "newest",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 24,
) -> ListResponse[ListingRead]:
    page = service.search_listings(
        session,
        q=q,
        industry=industry,
        tech_field=tech_field,
        region=region,
        mode=mode,
        trl_min=trl_min,
        trl_max=trl_max,
        price_min=price_min,
        price_max=price_max,
        institution_id=institution_id,
        sort=sort,
        offset=offset,
        limit=limit,
        with_signed=True,
    )
    return ListResponse[ListingRead](
        items=[ListingRead.of(x, with_members=False) for x in page.items],
        total=page.total,
        offset=page.offset,
        limit=page.limit,
        total_capped=page.total_capped,
    )


@router.get("/listings/{listing_id}", response_model=ListingRead, summary="成果详情 / listing")
def get_listing_api(session: SessionDep, user: CurrentUser, listing_id: IdPath) -> ListingRead:
    return ListingRead.of(service.get_listing(session, listing_id=listing_id, actor=user))


@router.post(
    "/listings",
    response_model=ListingRead,
    status_code=201,
    dependencies=[CsrfDep],
    summary="上架成果 / create a listing",
)
def create_listing_api(session: SessionDep, user: CurrentUser, body: ListingCreate) -> ListingRead:
    data = ListingInput(**body.model_dump(exclude={"patent_ids", "publish"}))
    listing = service.create_listing(
        session, actor=user, patent_ids=body.patent_ids, data=data, publish=body.publish
    )
    return ListingRead.of(service.get_listing(session, listing_id=listing.id, actor=user))


@router.put(
    "/listings/{listing_id}",
    response_model=ListingRead,
    dependencies=[CsrfDep],
    summary="修改成果（含专利组成） / edit a listing, its patents included",
)
def update_listing_api(
    session: SessionDep, user: CurrentUser, listing_id: IdPath, body: ListingUpdate
) -> ListingRead:
    fields = body.model_dump(exclude={"patent_ids", "status", "featured"})
    current = service.get_listing(session, listing_id=listing_id, actor=user)
    featured = current.featured if body.featured is None else body.featured
    service.update_listing(
        session,
        actor=user,
        listing_id=listing_id,
        data=ListingInput(**fields, featured=featured),
        patent_ids=body.patent_ids,
    )
    if body.status is not None:
        service.set_listing_status(session, actor=user, listing_id=listing_id, status=body.status)
    return ListingRead.of(service.get_listing(session, listing_id=listing_id, actor=user))


@router.get("/screen", response_model=ScreenRead, summary="大屏数据 / big-screen figures")
def screen_api(session: SessionDep) -> ScreenRead:
    figures = service.screen_figures(session)
    featured = [
        ListingRead.of(x, with_members=False) for x in service.featured_listings(session, limit=12)
    ]
    return ScreenRead(featured=featured, **figures)


@router.post(
    "/listings/{listing_id}/inquiries",
    response_model=InquiryReceipt,
    status_code=201,
    responses=RATE_LIMITED_RESPONSES,
    dependencies=[PublicCsrfDep],
    summary="咨询留言 / send an inquiry about a listing",
    description="Public, like the contact form on /market/{id}. A signed-in browser session "
    "sends `X-CSRF-Token`. After the message is stored its institution's staff are told by "
    "e-mail (or the outbox), as for the form.",
)
def submit_inquiry_api(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    listing_id: IdPath,
    body: InquiryCreate,
) -> InquiryReceipt:
    inquiry = service.send_inquiry(
        session,
        settings=settings,
        limits=inquiry_limits.for_app(request),
        client=inquiry_limits.client_address(request),
        base_url=site_url(request),
        listing_id=listing_id,
        user=user,
        **body.model_dump(),
    )
    return InquiryReceipt(
        id=inquiry.id, listing_id=inquiry.listing_id, created_at=inquiry.created_at
    )


@router.get(
    "/inquiries",
    response_model=ListResponse[InquiryRead],
    summary="咨询留言 / an institution's inquiries (its staff, admin)",
)
def list_inquiries_api(
    session: SessionDep,
    user: CurrentUser,
    institution_id: Annotated[
        int | None,
        Query(ge=1, le=2_147_483_647, description="staff: own institution when left out"),
    ] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ListResponse[InquiryRead]:
    rows, total = service.list_inquiries(
        session, actor=user, institution_id=institution_id, offset=offset, limit=limit
    )
    return ListResponse[InquiryRead](
        items=[InquiryRead.of(i, lst) for i, lst in rows], total=total, offset=offset, limit=limit
    )


@router.post(
    "/inquiries/{inquiry_id}/handled",
    response_model=InquiryRead,
    dependencies=[CsrfDep],
    summary="标记留言已处理 / mark an inquiry answered or open (its staff, admin)",
)
def set_inquiry_handled_api(
    session: SessionDep, user: CurrentUser, inquiry_id: IdPath, body: HandledUpdate
) -> InquiryRead:
    inquiry, listing = service.set_inquiry_handled(
        session, actor=user, inquiry_id=inquiry_id, handled=body.handled
    )
    return InquiryRead.of(inquiry, listing)


@router.get(
    "/institutions/{institution_id}/listings",
    response_model=list[ListingRead],
    summary="本机构全部成果（含草稿） / an institution's listings in any status",
)
def institution_listings_api(
    session: SessionDep, user: CurrentUser, institution_id: IdPath
) -> list[ListingRead]:
    listings = service.listings_for_institution(session, actor=user, institution_id=institution_id)
    return [ListingRead.of(x) for x in listings]


@router.get(
    "/patents/{patent_id}/listings",
    response_model=list[ListingRead],
    summary="含此专利的上架成果 / published listings of a patent",
)
def patent_listings_api(session: SessionDep, patent_id: IdPath) -> list[ListingRead]:
    patent = patent_service.get_patent(session, patent_id=patent_id)
    listings = service.published_listings_for_patent(session, patent_id=patent.id)
    return [ListingRead.of(x) for x in listings]
