"""What a signed-in visitor keeps an eye on: saved listings (收藏, 我的收藏) and followed
searches or industries (关注), whose new matches `supermarket.alerts` e-mails.

A follow stores the search words and/or the industry exactly as the catalogue filters them, so
an alert finds what the visitor would find by searching again (`service.search_listings`).
"""

from __future__ import annotations

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.errors import DomainError, NotFound
from shuanglian.reference.gbt4754 import lettered_code, parse_industry_input
from shuanglian.supermarket.models import Listing, MarketFollow, SavedListing
from shuanglian.supermarket.service import get_listing, industry_filter_code
from shuanglian.text.normalize import is_storable

MAX_FOLLOWS = 50  # per user: each one is a search the alerts command runs


def save_listing(session: Session, *, user: User | None, listing_id: int) -> SavedListing:
    """Save a published listing (收藏) for the signed-in user; saving twice keeps one."""
    user = perm.require_login(user)
    listing = get_listing(session, listing_id=listing_id, actor=user)
    found = session.scalar(
        select(SavedListing).where(
            SavedListing.user_id == user.id, SavedListing.listing_id == listing.id
        )
    )
    if found is not None:
        return found
    saved = SavedListing(user_id=user.id, listing_id=listing.id)
    session.add(saved)
    session.flush()
    return saved


def unsave_listing(session: Session, *, user: User | None, listing_id: int) -> bool:
    """Remove a listing from the user's saved ones; False when it was not saved (then
    nothing happens)."""
    user = perm.require_login(user)
    result = session.execute(
        delete(SavedListing).where(
            SavedListing.user_id == user.id, SavedListing.listing_id == listing_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def is_saved(session: Session, *, user: User | None, listing_id: int) -> bool:
    """Whether the signed-in user saved this listing (False for a visitor)."""
    if user is None:
        return False
    return (
        session.scalar(
            select(SavedListing.id).where(
                SavedListing.user_id == user.id, SavedListing.listing_id == listing_id
            )
        )
        is not None
    )


def _saved_of(user: User) -> Select[SavedListing, Listing]:
    """The user's saves of listings still published (a withdrawn one is no longer shown)."""
    return (
        select(SavedListing, Listing)
        .join(Listing, SavedListing.listing_id == Listing.id)
        .where(SavedListing.user_id == user.id, Listing.status == "published")
    )


def saved_listings(session: Session, *, user: User | None, limit: int = 200) -> list[Listing]:
    """The user's saved listings that are still published, most recently saved first."""
    user = perm.require_login(user)
    stmt = _saved_of(user).order_by(SavedListing.id.desc()).limit(limit)
    return [listing for _, listing in session.execute(stmt)]


def saved_page(
    session: Session, *, user: User | None, offset: int, limit: int
) -> tuple[list[tuple[SavedListing, Listing]], int]:
    """One page of what `saved_listings` shows, with when each was saved, and the total (the
    API's list of 我的收藏)."""
    user = perm.require_login(user)
    total = session.scalar(select(func.count()).select_from(_saved_of(user).subquery())) or 0
    stmt = _saved_of(user).order_by(SavedListing.id.desc()).offset(offset).limit(limit)
    return [(saved, listing) for saved, listing in session.execute(stmt)], int(total)


def follow(
    session: Session, *, user: User | None, query: str | None, industry: str | None
) -> MarketFollow:
    """Follow a search (its words), an industry, or both; following the same again keeps one."""
    user = perm.require_login(user)
    words = " ".join((query or "").split())
    if len(words) > 200:
        raise DomainError("搜索词最多 200 字 (at most 200 characters)", field="q")
    if not is_storable(words):
        raise DomainError("含无效字符 (invalid characters)", field="q")
    code = ""
    if industry and industry.strip():
        try:
            code = lettered_code(parse_industry_input(industry))
        except ValueError:
            raise DomainError(
                f"行业 {industry.strip()!r} 不在 GB/T 4754-2017 中 (unknown industry, e.g. C38)",
                field="industry",
            ) from None
    if not words and not code:
        raise DomainError(
            "请先输入搜索词或选择行业，再关注 (search or choose an industry first)", field="q"
        )
    found = session.scalar(
        select(MarketFollow).where(
            MarketFollow.user_id == user.id,
            MarketFollow.query == words,
            MarketFollow.industry == code,
        )
    )
    if found is not None:
        return found
    count = len(follows_of(session, user=user))
    if count >= MAX_FOLLOWS:
        raise DomainError(
            f"最多关注 {MAX_FOLLOWS} 项，请先取消一些 (at most {MAX_FOLLOWS} follows)", field="q"
        )
    row = MarketFollow(user_id=user.id, query=words, industry=code)
    session.add(row)
    session.flush()
    return row


def unfollow(session: Session, *, user: User | None, follow_id: int) -> None:
    """Stop following (only one's own follows)."""
    user = perm.require_login(user)
    row = session.get(MarketFollow, follow_id)
    if row is None or row.user_id != user.id:
        raise NotFound("没有这项关注 (no such follow)")
    session.delete(row)


def follows_of(session: Session, *, user: User | None) -> list[MarketFollow]:
    """The user's follows, oldest first."""
    user = perm.require_login(user)
    stmt = select(MarketFollow).where(MarketFollow.user_id == user.id)
    return list(session.scalars(stmt.order_by(MarketFollow.id)))


def follow_of(
    session: Session, *, user: User | None, query: str | None, industry: str | None
) -> MarketFollow | None:
    """The user's follow of exactly this search, if any (the catalogue's 关注 button)."""
    if user is None:
        return None
    words = " ".join((query or "").split())
    code = industry_filter_code(industry) if industry and industry.strip() else ""
    return session.scalar(
        select(MarketFollow).where(
            MarketFollow.user_id == user.id,
            MarketFollow.query == words,
            MarketFollow.industry == code,
        )
    )
