"""Pydantic input and output shapes of the technology supermarket API: listings, inquiries,
the big screen."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shuanglian.reference.gbt4754 import industry_label
from shuanglian.supermarket import service
from shuanglian.supermarket.models import Inquiry, Listing, MarketFollow, SavedListing
from shuanglian.supermarket.service import MODES, unfence
from shuanglian.web.schemas import Code, SafeStr, UtcDateTime


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
    plain_summary: str | None = None
    benefits: str | None = None
    contact_name: str | None = None
    contact_role: str | None = None
    institution_id: int
    institution_name: str | None
    patent_ids: list[int]
    published_at: UtcDateTime | None
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
            plain_summary=listing.plain_summary,
            benefits=listing.benefits,
            contact_name=listing.contact_name,
            contact_role=listing.contact_role,
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

    title: SafeStr = Field(max_length=300)
    summary: SafeStr = Field(max_length=5000)
    scenarios: SafeStr | None = Field(default=None, max_length=5000)
    title_en: SafeStr | None = Field(default=None, max_length=300)
    industries: list[Code] = Field(default_factory=list, max_length=20)
    tech_field: SafeStr | None = Field(default=None, max_length=100)
    region: SafeStr | None = Field(default=None, max_length=100)
    trl: int | None = Field(default=None, ge=1, le=9)
    modes: list[Code] = Field(min_length=1, max_length=len(MODES))
    price: Decimal | None = Field(default=None, ge=0, le=10**9, max_digits=18, decimal_places=4)
    open_licence_terms: SafeStr | None = Field(default=None, max_length=5000)
    contact_name: SafeStr | None = Field(default=None, max_length=100)
    plain_summary: SafeStr | None = Field(default=None, max_length=5000)
    benefits: SafeStr | None = Field(default=None, max_length=5000)
    contact_role: SafeStr | None = Field(default=None, max_length=100)
    contact_phone: SafeStr | None = Field(default=None, max_length=40)
    contact_email: SafeStr | None = Field(default=None, max_length=200)


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
InquiryText = Annotated[SafeStr | None, Field(default=None, max_length=5000)]


class InquiryCreate(BaseModel):
    """A visitor's message about a published listing: a name, 2–2000 characters of message,
    and an e-mail or a phone number so the institution can answer."""

    model_config = ConfigDict(extra="forbid")

    name: SafeStr = Field(max_length=5000)
    message: SafeStr = Field(max_length=5000)
    organisation: InquiryText
    email: InquiryText
    phone: InquiryText


class InquiryReceipt(BaseModel):
    """What the visitor gets back: the message is stored (the contacts are not echoed)."""

    id: int
    listing_id: int
    created_at: UtcDateTime


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
    created_at: UtcDateTime
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


class HandledUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handled: bool = Field(description="true: answered; false: open again")


# --------------------------------------------------------------------------- 收藏 and 关注


class SaveCreate(BaseModel):
    """收藏: the listing to add to the signed-in user's saved ones."""

    model_config = ConfigDict(extra="forbid")

    listing_id: int = Field(
        ge=1, le=2_147_483_647, description="a published listing (its staff: a draft too)"
    )


class SavedListingRead(BaseModel):
    """One of 我的收藏: the listing as the catalogue shows it, and when it was saved."""

    listing_id: int
    saved_at: UtcDateTime
    listing: ListingRead

    @classmethod
    def of(cls, saved: SavedListing, listing: Listing) -> SavedListingRead:
        return cls(
            listing_id=listing.id,
            saved_at=saved.created_at,
            listing=ListingRead.of(listing, with_members=False),
        )


class FollowCreate(BaseModel):
    """关注: search words, an industry, or both (what the form on /market/saved takes)."""

    model_config = ConfigDict(extra="forbid")

    # Runs of spaces count once (at most 200 after that, said by the service under `q`).
    q: SafeStr | None = Field(default=None, max_length=1000, description="search words")
    industry: SafeStr | None = Field(
        default=None, max_length=100, description="GB/T 4754-2017 code or name, e.g. C38"
    )


class FollowRead(BaseModel):
    """A followed search or industry; new listings matching it are e-mailed."""

    id: int
    q: str | None = Field(description="the search words; null when only an industry")
    industry: str | None = Field(description="lettered GB/T 4754 code, e.g. C38; null if none")
    industry_label: str | None = Field(description="the code with its name")
    created_at: UtcDateTime

    @classmethod
    def of(cls, row: MarketFollow) -> FollowRead:
        return cls(
            id=row.id,
            q=row.query or None,
            industry=row.industry or None,
            industry_label=industry_label(row.industry) if row.industry else None,
            created_at=row.created_at,
        )
