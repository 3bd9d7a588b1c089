"""JSON routes of 我的收藏 and 我的关注 under /api/v1/me: what /market/saved shows and does.

They call the functions the pages call (`supermarket.interest`), so saving, following and their
limits are the same: any signed-in user, only their own rows (another's follow is 404, as
anything not yours is in this API); signed out is 403.
"""

from __future__ import annotations

from fastapi import APIRouter

from shuanglian.errors import NotFound
from shuanglian.supermarket import interest
from shuanglian.supermarket.schemas import (
    FollowCreate,
    FollowRead,
    SaveCreate,
    SavedListingRead,
)
from shuanglian.web.deps import (
    CsrfDep,
    CurrentUser,
    IdPath,
    LimitQuery,
    OffsetQuery,
    SessionDep,
)
from shuanglian.web.schemas import ERROR_RESPONSES, ListResponse

router = APIRouter(prefix="/me", tags=["supermarket"], responses=ERROR_RESPONSES)


@router.get(
    "/saved-listings",
    response_model=ListResponse[SavedListingRead],
    summary="我的收藏 / my saved listings",
    description="Still-published saved listings, most recently saved first (as /market/saved).",
)
def saved_listings_api(
    session: SessionDep, user: CurrentUser, offset: OffsetQuery = 0, limit: LimitQuery = 50
) -> ListResponse[SavedListingRead]:
    rows, total = interest.saved_page(session, user=user, offset=offset, limit=limit)
    return ListResponse[SavedListingRead](
        items=[SavedListingRead.of(saved, listing) for saved, listing in rows],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.post(
    "/saved-listings",
    response_model=SavedListingRead,
    status_code=201,
    dependencies=[CsrfDep],
    summary="收藏成果 / save a listing",
    description="Saving a listing already saved keeps the one save (and answers it again).",
)
def save_listing_api(session: SessionDep, user: CurrentUser, body: SaveCreate) -> SavedListingRead:
    saved = interest.save_listing(session, user=user, listing_id=body.listing_id)
    return SavedListingRead.of(saved, saved.listing)


@router.delete(
    "/saved-listings/{listing_id}",
    status_code=204,
    dependencies=[CsrfDep],
    summary="取消收藏 / unsave a listing",
    description="404 when the listing is not among the user's saved ones (or does not exist).",
)
def unsave_listing_api(session: SessionDep, user: CurrentUser, listing_id: IdPath) -> None:
    if not interest.unsave_listing(session, user=user, listing_id=listing_id):
        raise NotFound(f"没有收藏成果 {listing_id} (listing {listing_id} is not saved)")


@router.get(
    "/follows",
    response_model=ListResponse[FollowRead],
    summary="我的关注 / my followed searches and industries",
    description=f"Oldest first; at most {interest.MAX_FOLLOWS} per user.",
)
def follows_api(
    session: SessionDep, user: CurrentUser, offset: OffsetQuery = 0, limit: LimitQuery = 50
) -> ListResponse[FollowRead]:
    rows = interest.follows_of(session, user=user)  # a few dozen at most: paged here
    return ListResponse[FollowRead](
        items=[FollowRead.of(f) for f in rows[offset : offset + limit]],
        total=len(rows),
        offset=offset,
        limit=limit,
    )


@router.post(
    "/follows",
    response_model=FollowRead,
    status_code=201,
    dependencies=[CsrfDep],
    summary="关注搜索或行业 / follow a search or an industry",
    description="`q` and/or `industry`, as the form on /market/saved; following the same "
    "again keeps the one follow (and answers it again).",
)
def follow_api(session: SessionDep, user: CurrentUser, body: FollowCreate) -> FollowRead:
    row = interest.follow(session, user=user, query=body.q, industry=body.industry)
    return FollowRead.of(row)


@router.delete(
    "/follows/{follow_id}",
    status_code=204,
    dependencies=[CsrfDep],
    summary="取消关注 / unfollow",
)
def unfollow_api(session: SessionDep, user: CurrentUser, follow_id: IdPath) -> None:
    interest.unfollow(session, user=user, follow_id=follow_id)
