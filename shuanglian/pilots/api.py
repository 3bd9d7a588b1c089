"""JSON routes of pilot platforms under /api/v1/pilots, on the same services as the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from shuanglian.pilots import service
from shuanglian.pilots.models import PilotPlatform
from shuanglian.pilots.schemas import (
    BookingActionIn,
    BookingIn,
    BookingOut,
    PlatformIn,
    PlatformOut,
    RatingIn,
    SuggestionOut,
)
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, IdQuery, PageDep, SessionDep
from shuanglian.web.schemas import ERROR_RESPONSES, ListResponse

router = APIRouter(prefix="/pilots", tags=["pilots"], responses=ERROR_RESPONSES)


def platform_out(session: Session, p: PilotPlatform) -> PlatformOut:
    rating, count = service.platform_rating(session, platform_id=p.id)
    return PlatformOut(
        id=p.id,
        name=p.name,
        operator=p.operator,
        level=p.level,
        province=p.province,
        city=p.city,
        industries=service.unfence(p.industries),
        ipc_classes=service.unfence(p.ipc_classes),
        services=service.unfence(p.services),
        equipment=p.equipment,
        capacity=p.capacity,
        fees=p.fees,
        description=p.description,
        contact_name=p.contact_name,
        contact_phone=p.contact_phone,
        contact_email=p.contact_email,
        open_booking=p.open_booking,
        is_demo=p.is_demo,
        rating=rating,
        ratings=count,
    )


def _suggestions(session: Session, found: list[service.PlatformSuggestion]) -> list[SuggestionOut]:
    return [
        SuggestionOut(
            platform=platform_out(session, s.platform),
            score=s.score,
            region=s.region,
            reasons=s.reasons,
        )
        for s in found
    ]


@router.get("", response_model=ListResponse[PlatformOut], summary="中试平台 / pilot platforms")
def list_platforms_api(
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    field: Annotated[str | None, Query(max_length=20, description="industry code or IPC")] = None,
    province: Annotated[str | None, Query(max_length=50)] = None,
    level: Annotated[str | None, Query(max_length=20)] = None,
    service_: Annotated[str | None, Query(alias="service", max_length=20)] = None,
) -> ListResponse[PlatformOut]:
    result = service.search_platforms(
        session,
        q=q,
        field=field,
        province=province,
        level=level or None,
        service=service_ or None,
        offset=page.offset,
        limit=page.per_page,
    )
    return ListResponse(
        items=[platform_out(session, p) for p in result.items],
        total=result.total,
        offset=page.offset,
        limit=page.per_page,
    )


@router.get("/by-province", summary="按省份排名 / platforms per province")
def by_province_api(session: SessionDep) -> list[dict[str, object]]:
    return [
        {"province": p, "platforms": n, "national": k}
        for p, n, k in service.platforms_by_province(session)
    ]


@router.post(
    "",
    response_model=PlatformOut,
    status_code=201,
    dependencies=[CsrfDep],
    summary="登记平台 / register (admin)",
)
def create_platform_api(session: SessionDep, user: CurrentUser, body: PlatformIn) -> PlatformOut:
    p = service.create_platform(
        session, actor=user, data=service.PlatformInput(**body.model_dump())
    )
    return platform_out(session, p)


@router.get("/suggest", response_model=list[SuggestionOut], summary="推荐平台 / suggest platforms")
def suggest_api(
    session: SessionDep,
    user: CurrentUser,
    listing_id: IdQuery = None,
    challenge_id: IdQuery = None,
) -> list[SuggestionOut]:
    if listing_id is not None:
        return _suggestions(session, service.suggest_for_listing(session, listing_id=listing_id))
    if challenge_id is not None:
        return _suggestions(
            session, service.suggest_for_challenge(session, actor=user, challenge_id=challenge_id)
        )
    from shuanglian.errors import DomainError

    raise DomainError(
        "请给出 listing_id 或 challenge_id (give listing_id or challenge_id)", field="listing_id"
    )


@router.get("/bookings/mine", response_model=list[BookingOut], summary="我的预约 / my bookings")
def my_bookings_api(session: SessionDep, user: CurrentUser) -> list[BookingOut]:
    return [
        BookingOut.model_validate(b, from_attributes=True)
        for b in service.list_bookings(session, actor=user)
    ]


@router.get("/bookings/{booking_id}", response_model=BookingOut, summary="预约 / a booking")
def booking_api(session: SessionDep, user: CurrentUser, booking_id: IdPath) -> BookingOut:
    return BookingOut.model_validate(
        service.get_booking(session, actor=user, booking_id=booking_id), from_attributes=True
    )


@router.post(
    "/bookings/{booking_id}/actions",
    response_model=BookingOut,
    dependencies=[CsrfDep],
    summary="接受/拒绝/排期/完成/取消 / move a booking",
)
def booking_action_api(
    session: SessionDep, user: CurrentUser, booking_id: IdPath, body: BookingActionIn
) -> BookingOut:
    b = service.act_on_booking(session, actor=user, booking_id=booking_id, **body.model_dump())
    return BookingOut.model_validate(b, from_attributes=True)


@router.post(
    "/bookings/{booking_id}/rating",
    response_model=BookingOut,
    dependencies=[CsrfDep],
    summary="评价 / rate a completed booking",
)
def rate_api(
    session: SessionDep, user: CurrentUser, booking_id: IdPath, body: RatingIn
) -> BookingOut:
    b = service.rate_booking(
        session, actor=user, booking_id=booking_id, rating=body.rating, comment=body.comment
    )
    return BookingOut.model_validate(b, from_attributes=True)


@router.get("/{platform_id}", response_model=PlatformOut, summary="平台详情 / a platform")
def platform_api(session: SessionDep, platform_id: IdPath) -> PlatformOut:
    return platform_out(session, service.get_platform(session, platform_id=platform_id))


@router.put(
    "/{platform_id}",
    response_model=PlatformOut,
    dependencies=[CsrfDep],
    summary="修改平台 / edit (its manager, admin)",
)
def update_platform_api(
    session: SessionDep, user: CurrentUser, platform_id: IdPath, body: PlatformIn
) -> PlatformOut:
    p = service.update_platform(
        session,
        actor=user,
        platform_id=platform_id,
        data=service.PlatformInput(**body.model_dump()),
    )
    return platform_out(session, p)


@router.get(
    "/{platform_id}/bookings",
    response_model=list[BookingOut],
    summary="平台的预约 / a platform's bookings",
)
def platform_bookings_api(
    session: SessionDep, user: CurrentUser, platform_id: IdPath
) -> list[BookingOut]:
    rows = service.list_bookings(session, actor=user, platform_id=platform_id)
    return [BookingOut.model_validate(b, from_attributes=True) for b in rows]


@router.post(
    "/{platform_id}/bookings",
    response_model=BookingOut,
    status_code=201,
    dependencies=[CsrfDep],
    summary="预约 / request a booking",
)
def request_booking_api(
    session: SessionDep, user: CurrentUser, platform_id: IdPath, body: BookingIn
) -> BookingOut:
    b = service.request_booking(
        session, actor=user, platform_id=platform_id, data=service.BookingInput(**body.model_dump())
    )
    return BookingOut.model_validate(b, from_attributes=True)
