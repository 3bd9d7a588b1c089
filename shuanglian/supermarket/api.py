"""JSON routes of the technology supermarket under /api/v1.

They call the services the pages call (`supermarket.service`), so the same checks apply: the
catalogue and a visitor's inquiry are public; an institution's drafts and inquiries belong to
its staff and the admin.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from shuanglian import mail
from shuanglian.patents import service as patent_service
from shuanglian.supermarket import inquiry_limits, notify, service
from shuanglian.supermarket.models import Inquiry, Listing
from shuanglian.supermarket.service import MODES, SORTS, ListingInput, unfence
from shuanglian.web.deps import (
    CsrfDep,
    CurrentUser,
    IdPath,
    IdQuery,
    PublicCsrfDep,
    SessionDep,
    SettingsDep,
)
from shuanglian.web.schemas import ERROR_RESPONSES, ListResponse

router = APIRouter(tags=["supermarket"], responses=ERROR_RESPONSES)


class ListingRead(BaseModel):
    id: int
    number: str
    status: str
    title: str
    title_en: str | None
    summary: str
    scenarios: str | None
    industries: list[str]
    tech_field: str | None
    region: str | None
    trl: int | None
    modes: list[str]
    price: Decimal | None = Field(description="万元 (10k CNY); null = negotiable")
    open_licence_terms: str | None
    institution_id: int
    institution_name: str | None
    patent_ids: list[int]
    published_at: datetime | None
    view_count: int
    scan_count: int
    deals_signed: int
    signed_amount: Decimal

    @classmethod
    def of(cls, listing: Listing, *, with_members: bool = True) -> ListingRead:
        return cls(
            id=listing.id,
            number=listing.number,
            status=listing.status,
            title=listing.title,
            title_en=listing.title_en,
            summary=listing.summary,
            scenarios=listing.scenarios,
            industries=unfence(listing.industries),
            tech_field=listing.tech_field,
            region=listing.region,
            trl=listing.trl,
            modes=unfence(listing.modes),
            price=listing.price,
            open_licence_terms=listing.open_licence_terms,
            institution_id=listing.institution_id,
            institution_name=listing.institution.name if listing.institution else None,
            patent_ids=[m.patent_id for m in listing.members]
            if with_members
            else [listing.patent_id]
            if listing.patent_id is not None
            else [],
            published_at=listing.published_at,
            view_count=listing.view_count,
            scan_count=listing.scan_count,
            deals_signed=listing.deals_signed,
            signed_amount=listing.signed_amount,
        )


PatentId = Annotated[int, Field(ge=1, le=2_147_483_647)]


class ListingFields(BaseModel):
    """What a listing says about itself; shared by create and update."""

    title: str = Field(max_length=300)
    summary: str = Field(max_length=5000)
    scenarios: str | None = Field(default=None, max_length=5000)
    title_en: str | None = Field(default=None, max_length=300)
    industries: list[str] = Field(default_factory=list, max_length=20)
    tech_field: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    trl: int | None = Field(default=None, ge=1, le=9)
    modes: list[str] = Field(min_length=1, max_length=len(MODES))
    price: Decimal | None = Field(default=None, ge=0, le=10**9, max_digits=18, decimal_places=4)
    open_licence_terms: str | None = Field(default=None, max_length=5000)
    contact_name: str | None = Field(default=None, max_length=100)


class ListingCreate(ListingFields):
    patent_ids: list[PatentId] = Field(min_length=1, max_length=service.MAX_PACKAGE)
    publish: bool = False


class ListingUpdate(ListingFields):
    """A listing's fields, all sent (PUT replaces them; null clears an optional one).

    `patent_ids` omitted or null keeps the package; given, it replaces it (the first is the
    lead patent). `status` and `featured` (admin only) omitted or null keep theirs.
    """

    patent_ids: list[PatentId] | None = Field(
        default=None, min_length=1, max_length=service.MAX_PACKAGE
    )
    status: Literal["draft", "published", "withdrawn"] | None = None
    featured: bool | None = None


# Bounds keep a request small; the field rules (lengths, e-mail or phone, their formats) are
# `submit_inquiry`'s, so the contact form and the API refuse the same input with one message.
InquiryText = Annotated[str | None, Field(default=None, max_length=5000)]


class InquiryCreate(BaseModel):
    """A visitor's message about a published listing: a name, 5–2000 characters of message,
    and an e-mail or a phone number so the institution can answer."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=5000)
    message: str = Field(max_length=5000)
    organisation: InquiryText
    email: InquiryText
    phone: InquiryText


class InquiryReceipt(BaseModel):
    """What the visitor gets back: the message is stored (the contacts are not echoed)."""

    id: int
    listing_id: int
    created_at: datetime


class InquiryRead(BaseModel):
    """An inquiry as its institution's staff see it, with the listing it is about."""

    id: int
    listing_id: int
    listing_number: str
    listing_title: str
    name: str
    organisation: str | None
    email: str | None
    phone: str | None
    message: str
    created_at: datetime
    handled: bool

    @classmethod
    def of(cls, inquiry: Inquiry, listing: Listing) -> InquiryRead:
        return cls(
            id=inquiry.id,
            listing_id=listing.id,
            listing_number=listing.number,
            listing_title=listing.title,
            name=inquiry.name,
            organisation=inquiry.organisation,
            email=inquiry.email,
            phone=inquiry.phone,
            message=inquiry.message,
            created_at=inquiry.created_at,
            handled=inquiry.handled,
        )


class ScreenRead(BaseModel):
    listings: int
    scans_today: int
    contracts: int
    amount: Decimal = Field(description="万元")
    featured: list[ListingRead]


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
    session.commit()
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
    session.commit()
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
    background: BackgroundTasks,
) -> InquiryReceipt:
    wait = inquiry_limits.retry_after(request, listing_id)
    if wait:
        raise HTTPException(429, inquiry_limits.message(wait), headers={"Retry-After": str(wait)})
    inquiry = service.submit_inquiry(session, listing_id=listing_id, user=user, **body.model_dump())
    session.commit()
    inquiry_limits.record(request, listing_id)
    # As the contact form: only a committed inquiry is announced, after the answer is sent.
    notice = notify.inquiry_notice(
        session, settings, inquiry_id=inquiry.id, base_url=str(request.base_url).rstrip("/")
    )
    if notice is not None:
        background.add_task(mail.send, settings, notice)
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


class HandledUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handled: bool = Field(description="true: answered; false: open again")


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
    session.commit()
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
