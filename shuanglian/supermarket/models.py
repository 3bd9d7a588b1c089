"""Tables of the technology supermarket: listings, their patents, visits and inquiries."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shuanglian.db import Base, TimestampMixin, utcnow
from shuanglian.patents.models import Institution, Patent

# Listing.status, with its names for people (zh, en).
LISTING_STATUSES: dict[str, tuple[str, str]] = {
    "draft": ("草稿", "Draft"),
    "published": ("已上架", "Published"),
    "withdrawn": ("已下架", "Withdrawn"),
}


class Listing(TimestampMixin, Base):
    """A pooled patent, or a package of patents, presented to the public as one technology.

    `industries` and `modes` are stored as comma-fenced strings (",C34,C38,") rather than JSON
    so that one portable LIKE filter works the same on SQLite and PostgreSQL, with an index-
    friendly shape for the catalogue's most common filters.
    """

    __tablename__ = "market_listings"
    # The catalogue's default page: published listings, newest first, read straight off this
    # index instead of sorting the whole table (100k listings: ~100 ms → ~1 ms).
    # The default catalogue page (newest first) reads straight off this index and stops after
    # one page instead of sorting every published listing (100k listings: ~100 ms → ~1 ms);
    # the other sort orders have expression indexes below the class.
    __table_args__ = (Index("ix_market_listings_catalogue", "status", "published_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The lead patent; package members are in market_listing_patents. None for a technology
    # without a patent (非专利技术: know-how, a plant variety, software) that an institution
    # lists from its own register (`supermarket.importers`).
    patent_id: Mapped[int | None] = mapped_column(
        ForeignKey("patents.id", ondelete="CASCADE"), index=True
    )
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str | None] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    scenarios: Mapped[str | None] = mapped_column(Text)  # 应用场景
    industries: Mapped[str] = mapped_column(String(200), default=",")  # GB/T 4754 codes
    tech_field: Mapped[str | None] = mapped_column(String(100), index=True)  # WIPO 35 fields
    region: Mapped[str | None] = mapped_column(String(100), index=True)
    trl: Mapped[int | None] = mapped_column(Integer, index=True)  # 1–9
    modes: Mapped[str] = mapped_column(String(200), default=",")
    # Asking price in 万元 (10k CNY); None means 面议 (negotiable).
    price: Mapped[Decimal | None] = mapped_column(Numeric(18, 4), index=True)
    open_licence_terms: Mapped[str | None] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(String(100))
    # What people need to act: a plain-language summary beside the abstract-like `summary`, the
    # benefits (效益), and who answers (a named person, e.g. the technology manager, and the
    # phone or e-mail the institution chooses to publish for them).
    plain_summary: Mapped[str | None] = mapped_column(Text)
    benefits: Mapped[str | None] = mapped_column(Text)
    contact_role: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # Only searched, never shown: not loaded with the listing (a catalogue page reads 24).
    search_text: Mapped[str] = mapped_column(Text, default="", deferred=True)
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    scan_count: Mapped[int] = mapped_column(Integer, default=0)
    # `deals_signed` and `signed_amount` (万元) are computed from contract rows: see
    # shuanglian.deals.models (registered with every table by shuanglian.models).
    if TYPE_CHECKING:
        deals_signed: int
        signed_amount: Decimal
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Where an imported listing came from (file name and the row a person sees in it).
    source_file: Mapped[str | None] = mapped_column(String(500))
    source_row: Mapped[int | None] = mapped_column(Integer)

    patent: Mapped[Patent | None] = relationship()
    institution: Mapped[Institution] = relationship()
    members: Mapped[list[ListingPatent]] = relationship(
        cascade="all, delete-orphan", order_by="ListingPatent.position"
    )

    @property
    def number(self) -> str:
        """The listing's public number (printed under the barcode): SL + six digits."""
        return f"SL{self.id:06d}"


# One index per `search_listings` sort order, repeating its ORDER BY expressions and directions
# exactly (a planner only walks an index whose order matches all of them), so a sorted page
# stops after `limit` rows. Alembic's autogenerate cannot compare expression indexes;
# tests/test_migrations.py checks that the migrations create each of these by name.
SORT_INDEXES = (
    Index(
        "ix_market_listings_by_popular",
        Listing.status,
        (Listing.view_count + Listing.scan_count).self_group().desc(),
        Listing.id.desc(),
    ),
    Index(
        "ix_market_listings_by_price_asc",
        Listing.status,
        Listing.price.is_(None).self_group(),
        Listing.price.asc(),
        Listing.id.desc(),
    ),
    Index(
        "ix_market_listings_by_price_desc",
        Listing.status,
        Listing.price.is_(None).self_group(),
        Listing.price.desc(),
        Listing.id.desc(),
    ),
    Index(
        "ix_market_listings_by_trl",
        Listing.status,
        Listing.trl.is_(None).self_group(),
        Listing.trl.desc(),
        Listing.id.desc(),
    ),
)


class ListingPatent(Base):
    """A patent belonging to a listing (a package lists several)."""

    __tablename__ = "market_listing_patents"
    __table_args__ = (UniqueConstraint("listing_id", "patent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(
        ForeignKey("market_listings.id", ondelete="CASCADE"), index=True
    )
    patent_id: Mapped[int] = mapped_column(ForeignKey("patents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    patent: Mapped[Patent] = relationship()


class ListingDailyStat(Base):
    """Views and QR scans of one listing on one day (UTC): the big screen's "scans today".

    One row per listing and day instead of one per hit keeps the table small at exhibition
    traffic; the lifetime totals live on the listing itself.
    """

    __tablename__ = "market_listing_daily"
    __table_args__ = (UniqueConstraint("listing_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(
        ForeignKey("market_listings.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date, index=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    scans: Mapped[int] = mapped_column(Integer, default=0)


class Inquiry(Base):
    """A visitor's message about a listing; the platform forwards it, contacts stay private."""

    __tablename__ = "market_inquiries"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(
        ForeignKey("market_listings.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    handled: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ListingTerm(Base):
    """One search term of one listing: the catalogue's inverted index.

    Terms are `text.tokenize` words (the engine's tokeniser: jieba words with their sub-words,
    stemmed English) plus filter terms (`ind:C34`, `mode:licence`, `field:…`), so a search or
    a filter reads one posting list through the primary key instead of `LIKE '%…%'` over every
    listing. `supermarket.search_terms` builds the terms; the service keeps them in step with
    the listing whenever its text or filters change.
    """

    __tablename__ = "market_listing_terms"

    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    listing_id: Mapped[int] = mapped_column(
        ForeignKey("market_listings.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SavedListing(Base):
    """A listing a signed-in user saved (收藏), shown in 我的收藏."""

    __tablename__ = "market_saved"
    __table_args__ = (UniqueConstraint("user_id", "listing_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    listing_id: Mapped[int] = mapped_column(
        ForeignKey("market_listings.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    listing: Mapped[Listing] = relationship()


class MarketFollow(Base):
    """A search or an industry a user follows (关注): new listings matching it are e-mailed.

    `query` and `industry` are "" rather than NULL when unused, so the unique constraint
    refuses a repeated follow on SQLite and PostgreSQL alike (NULLs never compare equal).
    """

    __tablename__ = "market_follows"
    __table_args__ = (UniqueConstraint("user_id", "query", "industry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    query: Mapped[str] = mapped_column(String(200), default="")
    industry: Mapped[str] = mapped_column(String(10), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AlertSent(Base):
    """One listing announced to one user by `shuanglian market alerts`: never announced twice."""

    __tablename__ = "market_alerts_sent"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    listing_id: Mapped[int] = mapped_column(
        ForeignKey("market_listings.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
