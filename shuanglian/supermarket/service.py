"""Supermarket services: create and publish listings, search the catalogue, count visits."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload, selectinload, undefer

from shuanglian import mail
from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.audit import record_audit, snapshot
from shuanglian.config import Settings
from shuanglian.db import after_commit, utcnow
from shuanglian.errors import DomainError, NotFound, TooManyRequests
from shuanglian.figures import headline_figures, today_in_china
from shuanglian.inventory.models import PoolEntry
from shuanglian.patents.models import Patent
from shuanglian.reference.gbt4754 import lettered_code, parse_industry_input
from shuanglian.supermarket import catalogue_cache, inquiry_limits, notify, search_terms
from shuanglian.supermarket.catalogue_cache import UNCHANGED_CATALOGUE
from shuanglian.supermarket.inquiry_limits import InquiryLimits
from shuanglian.supermarket.models import (
    Inquiry,
    Listing,
    ListingDailyStat,
    ListingPatent,
    ListingTerm,
)
from shuanglian.text.normalize import is_storable, normalize_for_search
from shuanglian.text.query_words import most_words, query_words

# Cooperation modes (合作方式), code → (zh, en). 开放许可: Patent Law art. 50–52.
MODES: dict[str, tuple[str, str]] = {
    "transfer": ("转让", "Assignment"),
    "licence": ("许可", "Licence"),
    "open_licence": ("开放许可", "Open licence"),
    "equity": ("作价入股", "Equity contribution"),
    "joint_dev": ("合作开发", "Joint development"),
    # 委托开发: the buyer commissions the development (Civil Code art. 851, 技术开发合同).
    "commission": ("委托开发", "Commissioned development"),
}
SORTS = ("newest", "popular", "price_asc", "price_desc", "trl")
MAX_PACKAGE = 20
# Exhibition days are Beijing days: "scans today" must not roll over at 08:00 local time.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class ListingPage:
    """One page of listings and the total the filters match.

    `total_capped` means there are at least `total` matches (counting stopped at COUNT_CAP).
    """

    items: list[Listing]
    total: int
    offset: int
    limit: int
    total_capped: bool = False


# Counting every match of a common word means scanning the whole catalogue; past this many
# a pager only needs to know "more than COUNT_CAP", and the scan can stop early.
COUNT_CAP = 1000


@dataclass
class ListingInput:
    """What the listing editor submits; validated by `validate_listing_input`."""

    title: str
    summary: str
    scenarios: str | None = None
    title_en: str | None = None
    industries: list[str] | None = None
    tech_field: str | None = None
    region: str | None = None
    trl: int | None = None
    modes: list[str] | None = None
    price: Decimal | None = None
    open_licence_terms: str | None = None
    contact_name: str | None = None
    featured: bool = False
    plain_summary: str | None = None  # 通俗介绍: what it does, for a non-specialist
    benefits: str | None = None  # 效益: what an adopter gains
    contact_role: str | None = None  # e.g. 技术经理人, 成果转化办公室
    contact_phone: str | None = None  # published on the page when given
    contact_email: str | None = None


def industry_filter_code(code: str) -> str:
    """A filter's industry in the stored (lettered) form: 38 → C38; unknown text as typed, so
    it simply matches nothing."""
    try:
        return lettered_code(parse_industry_input(code))
    except ValueError:
        return code.strip().upper()


def _fence(values: list[str]) -> str:
    return "," + ",".join(values) + "," if values else ","


def unfence(value: str | None) -> list[str]:
    """ ",C34,C38," → ["C34", "C38"]."""
    return [v for v in (value or "").split(",") if v]


def price_words(listing: Listing) -> tuple[str, str]:
    """The one price of a listing, (zh, en), as the catalogue, the page, the card and the screen
    all show it.

    An open-licence listing's price is its declared fee (stored as `price` when the declaration
    names a sum): showing 面议 beside terms of 每年 2 万元 told visitors two different things.
    A royalty-only declaration has no sum, so its price is "per the open-licence terms".
    """
    open_licence = "open_licence" in unfence(listing.modes)
    if listing.price is not None:
        amount = f"{listing.price.normalize():f}"
        if open_licence:
            return f"开放许可使用费 {amount} 万元", f"Open-licence fee {amount} × 10k CNY"
        return f"{amount} 万元", f"{amount} × 10k CNY"
    if open_licence and listing.open_licence_terms:
        return "按开放许可条件", "Per the open-licence terms"
    return "面议", "Negotiable"


def parse_price(raw: str | None, *, field: str = "price") -> Decimal | None:
    """A price in 万元 from a form field; blank means negotiable (None)."""
    if raw is None or not str(raw).strip():
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise DomainError(
            "价格须为数字，单位万元 (price must be a number, 10k CNY)", field=field
        ) from exc
    if not value.is_finite() or value < 0 or value > Decimal("1e9"):
        raise DomainError("价格须在 0 到 10 亿万元之间 (price out of range)", field=field)
    return value


_CONTACT_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,38}[0-9]$")
_CONTACT_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _optional_text(value: str | None, *, field: str, limit: int) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise DomainError(f"最多 {limit} 个字符 (at most {limit} characters)", field=field)
    _refuse_unstorable(**{field: text})
    return text or None


def validate_listing_input(data: ListingInput) -> ListingInput:
    """Check every field and return a cleaned copy; errors name the field."""
    title = (data.title or "").strip()
    if not 2 <= len(title) <= 300:
        raise DomainError("标题须为 2–300 个字符 (title: 2–300 characters)", field="title")
    summary = (data.summary or "").strip()
    if not 10 <= len(summary) <= 5000:
        raise DomainError("简介须为 10–5000 个字符 (summary: 10–5000 characters)", field="summary")
    industries = []
    for code in (c.strip() for c in (data.industries or []) if c.strip()):
        # 38, C38 and a picked "C38 电气机械和器材制造业" are one industry, stored as C38.
        try:
            industries.append(lettered_code(parse_industry_input(code)))
        except ValueError:
            raise DomainError(
                f"行业代码 {code!r} 不符合 GB/T 4754-2017 (e.g. C34)", field="industries"
            ) from None
    modes = [m for m in (data.modes or []) if m]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise DomainError(f"未知合作方式 {unknown[0]!r} (unknown mode)", field="modes")
    if not modes:
        raise DomainError("请至少选择一种合作方式 (choose at least one mode)", field="modes")
    if data.trl is not None and not 1 <= data.trl <= 9:
        raise DomainError("技术成熟度须为 1–9 (TRL 1–9)", field="trl")
    terms = (data.open_licence_terms or "").strip() or None
    if "open_licence" in modes and not terms:
        raise DomainError(
            "开放许可须写明许可使用费和条件 (open licence needs declared fee and terms)",
            field="open_licence_terms",
        )
    contact_phone = _optional_text(data.contact_phone, field="contact_phone", limit=40)
    if contact_phone and not _CONTACT_PHONE.match(contact_phone):
        raise DomainError("联系电话格式不正确 (invalid phone number)", field="contact_phone")
    contact_email = _optional_text(data.contact_email, field="contact_email", limit=200)
    if contact_email and not _CONTACT_EMAIL.match(contact_email):
        raise DomainError("联系邮箱格式不正确 (invalid e-mail)", field="contact_email")
    return ListingInput(
        title=title,
        summary=summary,
        plain_summary=_optional_text(data.plain_summary, field="plain_summary", limit=5000),
        benefits=_optional_text(data.benefits, field="benefits", limit=5000),
        contact_role=_optional_text(data.contact_role, field="contact_role", limit=100),
        contact_phone=contact_phone,
        contact_email=contact_email,
        scenarios=(data.scenarios or "").strip() or None,
        title_en=(data.title_en or "").strip() or None,
        industries=list(dict.fromkeys(industries)),
        tech_field=(data.tech_field or "").strip() or None,
        region=(data.region or "").strip() or None,
        trl=data.trl,
        modes=list(dict.fromkeys(modes)),
        price=data.price,
        open_licence_terms=terms,
        contact_name=(data.contact_name or "").strip() or None,
        featured=data.featured,
    )


def _search_text(data: ListingInput, patents: list[Patent]) -> str:
    parts = [data.title, data.title_en or "", data.summary, data.scenarios or ""]
    parts += [data.plain_summary or "", data.benefits or ""]
    parts += [p.title for p in patents]
    parts += [p.application_number for p in patents]
    return normalize_for_search(" ".join(parts))


def _apply(listing: Listing, data: ListingInput, patents: list[Patent]) -> None:
    listing.title = data.title
    listing.title_en = data.title_en
    listing.summary = data.summary
    listing.scenarios = data.scenarios
    listing.industries = _fence(data.industries or [])
    listing.tech_field = data.tech_field
    listing.region = data.region
    listing.trl = data.trl
    listing.modes = _fence(data.modes or [])
    listing.price = data.price
    listing.open_licence_terms = data.open_licence_terms
    listing.contact_name = data.contact_name
    listing.plain_summary = data.plain_summary
    listing.benefits = data.benefits
    listing.contact_role = data.contact_role
    listing.contact_phone = data.contact_phone
    listing.contact_email = data.contact_email
    listing.search_text = _search_text(data, patents)


def terms_of(listing: Listing) -> set[str]:
    """The search and filter terms `listing` must be indexed under (see `search_terms`)."""
    return search_terms.listing_terms(
        search_text=listing.search_text,
        industries=unfence(listing.industries),
        modes=unfence(listing.modes),
        tech_field=listing.tech_field,
        region=listing.region,
    )


def sync_listing_terms(session: Session, listing: Listing) -> None:
    """Bring the listing's rows in `market_listing_terms` in step with its text and filters.

    Call after any change to a listing's text, industries, modes or field (and after the
    flush that gave a new listing its id); only the difference is written.
    """
    wanted = terms_of(listing)
    have = set(
        session.scalars(select(ListingTerm.term).where(ListingTerm.listing_id == listing.id))
    )
    gone = have - wanted
    if gone:
        session.execute(
            delete(ListingTerm).where(
                ListingTerm.listing_id == listing.id, ListingTerm.term.in_(gone)
            )
        )
    new = wanted - have
    if new:
        session.execute(
            insert(ListingTerm), [{"term": t, "listing_id": listing.id} for t in sorted(new)]
        )


def _pooled_patents(session: Session, *, actor: User | None, patent_ids: list[int]) -> list[Patent]:
    ids = list(dict.fromkeys(patent_ids))
    if not ids:
        raise DomainError("请选择至少一件专利 (choose at least one patent)", field="patent_ids")
    if len(ids) > MAX_PACKAGE:
        raise DomainError(
            f"一个成果包最多 {MAX_PACKAGE} 件专利 (at most {MAX_PACKAGE})", field="patent_ids"
        )
    patents = {p.id: p for p in session.scalars(select(Patent).where(Patent.id.in_(ids)))}
    missing = [i for i in ids if i not in patents]
    if missing:
        raise NotFound(f"专利 {missing[0]} 不存在 (patent not found)", field="patent_ids")
    institutions = {p.institution_id for p in patents.values()}
    if len(institutions) != 1 or None in institutions:
        raise DomainError(
            "成果包中的专利须属于同一机构 (all patents must belong to one institution)",
            field="patent_ids",
        )
    perm.require_institution(actor, next(iter(institutions)))
    pooled = set(
        session.scalars(
            select(PoolEntry.patent_id).where(
                PoolEntry.patent_id.in_(ids), PoolEntry.active.is_(True)
            )
        )
    )
    not_pooled = [i for i in ids if i not in pooled]
    if not_pooled:
        raise DomainError(
            f"专利 {patents[not_pooled[0]].application_number} 不在可转化资源库中，不能上架 "
            "(only pooled patents can be listed)",
            field="patent_ids",
        )
    return [patents[i] for i in ids]


def create_listing(
    session: Session,
    *,
    actor: User | None,
    patent_ids: list[int],
    data: ListingInput,
    publish: bool = False,
) -> Listing:
    """Create a listing (draft, or published at once) from pooled patents of one institution."""
    patents = _pooled_patents(session, actor=actor, patent_ids=patent_ids)
    clean = validate_listing_input(data)
    listing = Listing(
        patent_id=patents[0].id,
        institution_id=patents[0].institution_id,
        created_by_id=actor.id if actor else None,
        featured=clean.featured and actor is not None and actor.role == perm.ADMIN,
    )
    _apply(listing, clean, patents)
    listing.members = [ListingPatent(patent_id=p.id, position=i) for i, p in enumerate(patents)]
    session.add(listing)
    if publish:
        listing.status = "published"
        listing.published_at = utcnow()
    session.flush()
    sync_listing_terms(session, listing)
    record_audit(
        session,
        actor=actor,
        action="listing.create",
        subject=listing,
        detail={"after": snapshot(listing), "patent_ids": [p.id for p in patents]},
    )
    return listing


def update_listing(
    session: Session,
    *,
    actor: User | None,
    listing_id: int,
    data: ListingInput,
    patent_ids: list[int] | None = None,
) -> Listing:
    """Edit a listing's text and terms and, when `patent_ids` is given, its patents.

    `patent_ids` replaces the package (the first is the lead patent) under the same checks as
    creation. Passing the current members unchanged re-checks nothing, so a listing whose
    patent later left the pool can still be edited or withdrawn. Everything is checked before
    anything changes, so a refused edit leaves the listing as it was.
    """
    listing = _listing_for_manager(session, actor=actor, listing_id=listing_id)
    clean = validate_listing_input(data)
    before = snapshot(listing)
    current = [m.patent_id for m in listing.members]
    wanted = None if patent_ids is None else list(dict.fromkeys(patent_ids))
    if wanted is None or wanted == current:
        patents = [m.patent for m in listing.members]
    else:
        # Another institution's patent is a wrong choice in this form, not a missing right:
        # say so at the field before the creation checks would refuse it as forbidden.
        foreign = session.scalar(
            select(Patent.application_number)
            .where(
                Patent.id.in_(wanted[:MAX_PACKAGE]),
                Patent.institution_id.is_distinct_from(listing.institution_id),
            )
            .limit(1)
        )
        if foreign is not None:
            raise DomainError(
                f"专利 {foreign} 不属于本成果的机构 "
                "(the patents must belong to the listing's institution)",
                field="patent_ids",
            )
        patents = _pooled_patents(session, actor=actor, patent_ids=wanted)
        _replace_members(listing, patents)
    _apply(listing, clean, patents)
    if actor is not None and actor.role == perm.ADMIN:
        listing.featured = clean.featured
    session.flush()
    sync_listing_terms(session, listing)
    detail: dict[str, Any] = {"before": before, "after": snapshot(listing)}
    members = [p.id for p in patents]
    if members != current:
        detail["patents_before"], detail["patents_after"] = current, members
    record_audit(session, actor=actor, action="listing.update", subject=listing, detail=detail)
    if members != current:
        record_audit(
            session,
            actor=actor,
            action="listing.patents",
            subject=listing,
            detail={"before": current, "after": members},
        )
    return listing


def _replace_members(listing: Listing, patents: list[Patent]) -> None:
    """Make `patents` the listing's package, in order, the first one its lead.

    Rows of patents that stay are kept and renumbered rather than deleted and re-inserted:
    the unit of work inserts before it deletes, and a re-inserted (listing, patent) pair would
    collide with its old row on the unique constraint.
    """
    kept = {m.patent_id: m for m in listing.members}
    members = []
    for position, patent in enumerate(patents):
        member = kept.get(patent.id) or ListingPatent(patent_id=patent.id)
        member.position = position
        members.append(member)
    listing.members = members  # rows left out are deleted (delete-orphan)
    listing.patent_id = patents[0].id


def set_listing_status(
    session: Session, *, actor: User | None, listing_id: int, status: str
) -> Listing:
    """Publish, withdraw or return a listing to draft."""
    if status not in ("draft", "published", "withdrawn"):
        raise DomainError(f"未知状态 {status!r} (unknown status)", field="status")
    listing = _listing_for_manager(session, actor=actor, listing_id=listing_id)
    if status == "published":
        _refuse_unpooled_members(session, listing)
        if listing.published_at is None:
            listing.published_at = utcnow()
    before = listing.status
    listing.status = status
    session.flush()
    if before != status:
        record_audit(
            session,
            actor=actor,
            action="listing.status",
            subject=listing,
            detail={"from": before, "to": status},
        )
    return listing


def _refuse_unpooled_members(session: Session, listing: Listing) -> None:
    """Only pooled patents go on sale: a lapsed or withdrawn one cannot be republished."""
    ids = [m.patent_id for m in listing.members]
    pooled = set(
        session.scalars(
            select(PoolEntry.patent_id).where(
                PoolEntry.patent_id.in_(ids), PoolEntry.active.is_(True)
            )
        )
    )
    gone = [m.patent for m in listing.members if m.patent_id not in pooled]
    if gone:
        raise DomainError(
            f"专利 {gone[0].application_number} 已不在可转化资源库中（已失效或已撤回），"
            "不能上架 (a patent of this listing has left the pool; it cannot be published)",
            field="status",
        )


def withdraw_listings_of_patent(
    session: Session, *, actor: User | None, patent_id: int, reason: str
) -> list[Listing]:
    """Take every listing that includes a patent off sale when the patent leaves the pool.

    Called by the pool in the same transaction as the lapse or withdrawal, so a lapsed patent
    is never on sale with open-licence terms: its listings become 已下架 (withdrawn, hidden
    from the catalogue and the big screen) with the reason in the audit log. Drafts are left
    as drafts; publishing them again is refused while the patent is out of the pool.
    """
    stmt = (
        select(Listing)
        .join(ListingPatent, ListingPatent.listing_id == Listing.id)
        .where(ListingPatent.patent_id == patent_id, Listing.status == "published")
        .order_by(Listing.id)
    )
    listings = list(session.scalars(stmt))
    for listing in listings:
        listing.status = "withdrawn"
        record_audit(
            session,
            actor=actor,
            action="listing.auto_withdraw",
            subject=listing,
            detail={"from": "published", "to": "withdrawn", "patent_id": patent_id,
                    "comment": reason},
        )  # fmt: skip
    session.flush()
    return listings


def _listing_for_manager(session: Session, *, actor: User | None, listing_id: int) -> Listing:
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise NotFound(f"成果 {listing_id} 不存在 (listing not found)")
    if not perm.can_manage_institution(actor, listing.institution_id):
        # Same answer as a missing listing: do not reveal other institutions' drafts.
        if listing.status != "published":
            raise NotFound(f"成果 {listing_id} 不存在 (listing not found)")
        perm.require_institution(actor, listing.institution_id)
    return listing


def get_listing(session: Session, *, listing_id: int, actor: User | None = None) -> Listing:
    """A published listing, or any listing its institution's staff (or admin) may see."""
    listing = session.get(
        Listing,
        listing_id,
        options=[selectinload(Listing.members).selectinload(ListingPatent.patent)],
    )
    if listing is None or (
        listing.status != "published"
        and not perm.can_manage_institution(actor, listing.institution_id)
    ):
        raise NotFound(f"成果 {listing_id} 不存在 (listing not found)")
    return listing


# A posting list at most this long drives the query: its listings are fetched by id and the
# few matches sorted. Longer (common terms, broad filters): the sorted catalogue index is
# walked and each listing probed for its terms, which stops after one page of matches.
DRIVING_POSTINGS_MAX = 2000
# Posting lists are counted only up to here: enough to pick the plan and order the probes,
# without reading the whole list of a term half the catalogue has.
POSTINGS_COUNT_CAP = 20000
# A group of readings is counted from its rarest posting lists up to this many postings.
COUNT_FROM_POSTINGS_MAX = 10_000


def _has_terms(terms: list[str], *, of: Any = None) -> Any:
    """A condition: the listing (`of`, default the outer listing's id) has every one of `terms`.

    Its own alias of the term table, correlated to the outer query only, so it stays correct
    inside queries that read the term table themselves.
    """
    term = aliased(ListingTerm)
    listing_id = Listing.id if of is None else of
    if len(terms) == 1:
        return exists().where(term.term == terms[0], term.listing_id == listing_id)
    # One correlated count instead of an EXISTS per term: PostgreSQL turns each EXISTS
    # into a semi-join and then spends ~100 ms planning the join order of eight of them.
    found = (
        select(func.count())
        .select_from(term)
        .where(term.listing_id == listing_id, term.term.in_(terms))
        .scalar_subquery()
    )
    return found == len(terms)


def _posting_lengths(session: Session, terms: list[str]) -> dict[str, int]:
    """How many listings each term has, counted up to POSTINGS_COUNT_CAP; absent terms left out.

    One query for all the terms: enough to pick the plan, to order the probes, and to know
    at once that a term no listing has can match nothing.
    """
    if not terms:
        return {}
    if not catalogue_cache.usable(session):
        return _count_postings(session, terms)
    database = catalogue_cache.database_of(session)
    counted_at = catalogue_cache.postings.generation
    kept = {t: catalogue_cache.postings.get((database, t)) for t in terms}
    missing = [t for t, n in kept.items() if n is None]
    if missing:
        found = _count_postings(session, missing)
        for term in missing:
            kept[term] = found.get(term, 0)
            if kept[term]:  # a term no listing has yet is asked again: one may come at once
                catalogue_cache.postings.put((database, term), kept[term], counted_at=counted_at)
    return {term: n for term, n in kept.items() if n}


def _count_postings(session: Session, terms: list[str]) -> dict[str, int]:
    """`_posting_lengths` read from the database: one query for all the terms."""
    counts = union_all(
        *(
            select(literal(term), func.count()).select_from(
                select(ListingTerm.listing_id)
                .where(ListingTerm.term == term)
                .limit(POSTINGS_COUNT_CAP)
                .subquery()
            )
            for term in terms
        )
    )
    return {term: n for term, n in session.execute(counts).all() if n}


def _restrict_to_terms(
    session: Session, stmt: Select[Listing], terms: list[str], lengths: dict[str, int]
) -> tuple[Select[Listing], Select[Listing], bool]:
    """(page query, count query, whether the page reads a list of ids): `stmt` limited to
    listings indexed under every term.

    Every term must have postings (`lengths`, from `_posting_lengths`). The plans are chosen
    here from the posting lengths, not left to the planner: SQLite keeps no per-term
    statistics, and the right plan differs by orders of magnitude between a rare and a common
    term. The page reads the rarest posting list when it is short, else walks the sorted index
    probing each listing (a page of matches comes quickly); the capped count always reads the
    rarest posting list, whose listings match far more often than the catalogue's at large.
    """
    others = sorted(terms, key=lambda t: lengths[t])
    rarest = others.pop(0)
    counted = stmt.join(
        ListingTerm, and_(ListingTerm.listing_id == Listing.id, ListingTerm.term == rarest)
    )
    if others:
        counted = counted.where(_has_terms(others))
    ids: list[int] | None = None
    if lengths[rarest] <= DRIVING_POSTINGS_MAX:
        ids = list(
            session.scalars(select(ListingTerm.listing_id).where(ListingTerm.term == rarest))
        )
    elif others and lengths[rarest] < POSTINGS_COUNT_CAP:
        # Several common terms can still be rare together (an industry and an unrelated
        # field): then a walk of the sorted index would read the whole catalogue. Their
        # intersection, read from the rarest list, is bounded by that list's length.
        both = (
            select(ListingTerm.listing_id)
            .where(ListingTerm.term == rarest, _has_terms(others, of=ListingTerm.listing_id))
            .limit(DRIVING_POSTINGS_MAX + 1)
        )
        found = list(session.scalars(both))
        if len(found) <= DRIVING_POSTINGS_MAX:
            ids, others = found, []
    if ids is not None:
        page = stmt.where(Listing.id.in_(ids))
        return (page.where(_has_terms(others)) if others else page), counted, True
    return stmt.where(_has_terms([rarest, *others])), counted, False


def _has_any(options: list[tuple[str, ...]]) -> Any:
    """A condition: the listing has every term of at least one of `options` (a word or one of
    its readings in the other language)."""
    return or_(*(_has_terms(list(option)) for option in options))


def _rarest_total(options: list[tuple[str, ...]], lengths: dict[str, int]) -> int:
    """How many postings reading each option from its rarest term would read."""
    return sum(min(lengths[t] for t in option) for option in options)


def _group_members(options: list[tuple[str, ...]], lengths: dict[str, int]) -> Any:
    """A query of the listings holding every term of some option: each option read from
    its rarest posting list, its other terms probed in the index."""
    members = []
    for option in options:
        rarest = min(option, key=lambda t: lengths[t])
        others = [t for t in option if t != rarest]
        found = select(ListingTerm.listing_id).where(ListingTerm.term == rarest)
        if others:
            found = found.where(_has_terms(others, of=ListingTerm.listing_id))
        members.append(found)
    return union(*members)


def _drive_by_group(
    session: Session, options: list[tuple[str, ...]], lengths: dict[str, int]
) -> Any:
    """A condition: the listing holds the rarest term of some option, when those posting
    lists are short together (the same choice `_restrict_to_terms` makes for one term); else
    None, and the group's condition filters a walk of the sorted index."""
    rarest = list(dict.fromkeys(min(o, key=lambda t: lengths[t]) for o in options))
    if sum(lengths[t] for t in rarest) > DRIVING_POSTINGS_MAX:
        return None
    ids = session.scalars(
        select(ListingTerm.listing_id).where(ListingTerm.term.in_(rarest)).distinct()
    )
    return Listing.id.in_(list(ids))


def search_listings(
    session: Session,
    *,
    q: str | None = None,
    industry: str | None = None,
    tech_field: str | None = None,
    region: str | None = None,
    mode: str | None = None,
    trl_min: int | None = None,
    trl_max: int | None = None,
    price_min: Decimal | None = None,
    price_max: Decimal | None = None,
    institution_id: int | None = None,
    status: str = "published",
    sort: str = "newest",
    offset: int = 0,
    limit: int = 24,
    with_signed: bool = False,
) -> ListingPage:
    """The catalogue: every word of `q` (Chinese or English, normalised) plus the filters.

    Which listings a page holds, and the total, are kept a while (`catalogue_cache`): the same
    pages and searches come again and again; the listings themselves are read fresh.
    `with_signed` loads each listing's signed contracts count and amount in the page query
    (the API shows them; read one by one they were two more queries per listing).
    """
    if sort not in SORTS:
        raise DomainError(f"未知排序 {sort!r} (unknown sort)", field="sort")
    if mode and mode not in MODES:
        raise DomainError(f"未知合作方式 {mode!r} (unknown mode)", field="mode")
    # What the number of matches depends on (not the page, the sort or the visitor).
    search_key: tuple[Any, ...] = (q, industry, tech_field, region, mode, trl_min, trl_max)
    search_key += (price_min, price_max, institution_id, status)
    loads: list[Any] = [selectinload(Listing.institution)]
    if with_signed:
        signed: list[Any] = [Listing.deals_signed, Listing.signed_amount]
        loads += [undefer(column) for column in signed]
    usable = catalogue_cache.usable(session)
    page_key = (catalogue_cache.database_of(session), search_key, sort, offset, limit)
    kept = catalogue_cache.pages.get(page_key) if usable else None
    if kept is not None:
        ids, total, total_capped = kept
        # Joined here (one query by primary key); the search below keeps its own plan.
        by_key = [joinedload(Listing.institution, innerjoin=True), *loads[1:]]
        found = session.scalars(
            select(Listing).where(Listing.id.in_(ids), Listing.status == status).options(*by_key)
        )
        by_id = {listing.id: listing for listing in found}
        items = [by_id[i] for i in ids if i in by_id]
        return ListingPage(items, total, offset, limit, total_capped)
    counted_at = catalogue_cache.pages.generation
    page = _search_listings(
        session,
        search_key,
        loads,
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
        status=status,
        sort=sort,
        offset=offset,
        limit=limit,
    )
    if usable:
        found_ids = [listing.id for listing in page.items]
        kept_page = (found_ids, page.total, page.total_capped)
        catalogue_cache.pages.put(page_key, kept_page, counted_at=counted_at)
    return page


# A search no listing matches in full: the listings that hold the most of its words, read from
# each word's first PARTIAL_PER_WORD matches (newest first), PARTIAL_SHOWN of them shown.
PARTIAL_PER_WORD = 200
PARTIAL_SHOWN = 12


def partial_matches(
    session: Session, *, q: str | None, status: str = "published", **filters: Any
) -> list[Listing]:
    """The listings holding the most words of `q` when none holds them all (锂电池正极材料: no
    listing says it in one phrase), a rarer word counting more (log(1 + listings / its
    matches)); ties newest first. Each word is a catalogue search of its own, with the same
    filters and in either language. [] for a search of one word: its answer stands."""
    words = query_words(q)
    if len(words) < 2:
        return []
    catalogue = session.scalar(select(func.count(Listing.id)).where(Listing.status == status))
    pages = [
        search_listings(session, q=word, status=status, limit=PARTIAL_PER_WORD, **filters)
        for word in words
    ]
    found = {listing.id: listing for page in pages for listing in page.items}
    per_word = [([x.id for x in page.items], page.total) for page in pages]
    return [found[i] for i in most_words(per_word, catalogue or 0, PARTIAL_SHOWN)]


def _search_listings(
    session: Session,
    search_key: tuple[Any, ...],
    loads: list[Any],
    *,
    q: str | None,
    industry: str | None,
    tech_field: str | None,
    region: str | None,
    mode: str | None,
    trl_min: int | None,
    trl_max: int | None,
    price_min: Decimal | None,
    price_max: Decimal | None,
    institution_id: int | None,
    status: str,
    sort: str,
    offset: int,
    limit: int,
) -> ListingPage:
    """`search_listings` read from the database."""
    stmt = select(Listing).where(Listing.status == status)
    query = search_terms.parse_query(q)
    terms = list(query.terms)
    for word in query.substrings:
        stmt = stmt.where(Listing.search_text.contains(word, autoescape=True))
    if industry and industry.strip():
        terms.append(search_terms.industry_term(industry_filter_code(industry)))
    if mode:
        terms.append(search_terms.mode_term(mode))
    if tech_field and tech_field.strip():
        terms.append(search_terms.field_term(tech_field))
    region_term = search_terms.region_term(region) if region and region.strip() else None
    if trl_min is not None:
        stmt = stmt.where(Listing.trl >= trl_min)
    if trl_max is not None:
        stmt = stmt.where(Listing.trl <= trl_max)
    if price_min is not None:
        stmt = stmt.where(Listing.price >= price_min)
    if price_max is not None:
        stmt = stmt.where(Listing.price <= price_max)
    if institution_id is not None:
        stmt = stmt.where(Listing.institution_id == institution_id)
    terms = list(dict.fromkeys(terms))
    group_terms = [t for g in query.groups for option in g.options() for t in option]
    lookup = [*terms, *group_terms, *([region_term] if region_term else [])]
    lengths = _posting_lengths(session, list(dict.fromkeys(lookup)))
    if region_term is not None and region_term not in lengths:
        # No listing's region starts with it (南京 in 江苏省南京市): match part of one.
        stmt = stmt.where(Listing.region.contains((region or "").strip(), autoescape=True))
    elif region_term is not None:
        terms.append(region_term)
    groups: list[list[tuple[str, ...]]] = []
    for group in query.groups:
        # Only the readings some listing has: the rest can match nothing.
        options = [o for o in group.options() if all(t in lengths for t in o)]
        if not options:
            return ListingPage(items=[], total=0, offset=offset, limit=limit)
        if options == [group.own]:
            terms.extend(t for t in group.own if t not in terms)  # the plain plan, as before
        else:
            groups.append(options)
    if any(term not in lengths for term in terms):  # a term no listing has: nothing matches
        return ListingPage(items=[], total=0, offset=offset, limit=limit)
    counted = stmt
    count_from = 0  # the first group still to be tested listing by listing
    by_ids = False  # whether the page reads a short list of listings (then sorts them)
    if terms:
        stmt, counted, by_ids = _restrict_to_terms(session, stmt, terms, lengths)
    elif groups:
        # The count is limited like the page: without it, the count alone walked every
        # listing testing each reading (an industry name typed as a query: ~250 ms).
        driving = _drive_by_group(session, groups[0], lengths)
        by_ids = driving is not None
        if driving is not None:
            stmt, counted = stmt.where(driving), counted.where(driving)
        elif _rarest_total(groups[0], lengths) <= COUNT_FROM_POSTINGS_MAX:
            # Too many to list here, but still far fewer than the catalogue: the page and the
            # count read each reading's rarest posting list instead of testing every listing
            # with every reading (an industry name typed as a query, 100k listings: count
            # ~800 ms → ~30 ms). Common readings match densely: the walk is quicker for them.
            members = Listing.id.in_(_group_members(groups[0], lengths))
            stmt, counted = stmt.where(members), counted.where(members)
            count_from = 1  # the page still walks the sorted index: members are common
    for options in groups[count_from:]:
        either = _has_any(options)
        stmt, counted = stmt.where(either), counted.where(either)
    order = _page_order(sort, by_ids=by_ids)
    items = session.scalars(stmt.options(*loads).order_by(*order).offset(offset).limit(limit)).all()
    # A short first page already is the whole result: skip the count, which for a rare or
    # absent search term would scan every listing a second time.
    if offset == 0 and len(items) < limit:
        total, total_capped = len(items), False
    else:
        total, total_capped = _count_matches(session, counted, search_key)
    return ListingPage(
        items=list(items), total=total, offset=offset, limit=limit, total_capped=total_capped
    )


def _page_order(sort: str, *, by_ids: bool) -> list[Any]:
    """ORDER BY of a catalogue page.

    With `by_ids` the keys are wrapped so that no index can supply the order: the page is a
    short list of listings to look up and sort, and otherwise SQLite walked the whole sorted
    index testing each listing against the list (a 24-match search, 100k listings: ~40 ms).
    """

    def key(column: Any) -> Any:
        return func.coalesce(column, column) if by_ids else column

    popularity = key(Listing.view_count + Listing.scan_count)
    orders: dict[str, list[Any]] = {
        "newest": [key(Listing.published_at).desc(), Listing.id.desc()],
        "popular": [popularity.desc(), Listing.id.desc()],
        "price_asc": [Listing.price.is_(None), key(Listing.price).asc(), Listing.id.desc()],
        "price_desc": [Listing.price.is_(None), key(Listing.price).desc(), Listing.id.desc()],
        "trl": [Listing.trl.is_(None), key(Listing.trl).desc(), Listing.id.desc()],
    }
    return orders[sort]


def _count_matches(
    session: Session, counted: Select[Listing], search_key: tuple[Any, ...]
) -> tuple[int, bool]:
    """(matches up to COUNT_CAP, whether there are more), kept a while per search
    (`catalogue_cache`): a pager needs the number on every page of the same search."""
    usable = catalogue_cache.usable(session)
    key = (catalogue_cache.database_of(session), search_key)
    kept = catalogue_cache.totals.get(key) if usable else None
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    counted_at = catalogue_cache.totals.generation
    capped = counted.with_only_columns(Listing.id).order_by(None).limit(COUNT_CAP + 1)
    total = session.scalar(select(func.count()).select_from(capped.subquery())) or 0
    result = (min(total, COUNT_CAP), total > COUNT_CAP)
    if usable:
        catalogue_cache.totals.put(key, result, counted_at=counted_at)
    return result


FACET_TTL_S = 60.0
_facet_cache: dict[str, tuple[float, dict[str, list[str]]]] = {}


def _published_values(session: Session, column: Any, *, limit: int = 100) -> list[str]:
    """Distinct values of an indexed column among published listings, in order.

    A loose index scan: one index seek per distinct value (tens of them) instead of a
    DISTINCT over every listing (100k listings: ~500 ms → a few ms); each value found is kept
    only if some published listing carries it.
    """
    values: list[str] = []
    last: str | None = None
    while len(values) < limit:
        above = column.is_not(None) if last is None else column > last
        last = session.scalar(select(func.min(column)).where(above))
        if last is None:
            return values
        published = select(Listing.id).where(column == last, Listing.status == "published")
        if session.scalar(published.limit(1)) is not None:
            values.append(last)
    return values


def facet_values(session: Session) -> dict[str, list[str]]:
    """Distinct tech fields and regions among published listings, for filter menus.

    The menus may lag a minute behind, so they are kept per database for FACET_TTL_S.
    """
    key = str(session.get_bind().engine.url)
    cached = _facet_cache.get(key)
    now = time.monotonic()
    if cached and now - cached[0] < FACET_TTL_S:
        return cached[1]
    facets = {
        "tech_fields": _published_values(session, Listing.tech_field),
        "regions": _published_values(session, Listing.region),
    }
    _facet_cache[key] = (now, facets)
    return facets


def editor_patent_choices(
    session: Session, *, actor: User, listing: Listing | None = None
) -> list[Patent]:
    """Patents the listing editor offers: a new listing's pooled patents (the actor's
    institution's, all for an admin), or, when editing, the listing's members first (in
    package order, even one that has since left the pool, so it can be unticked) and then the
    other pooled patents of the listing's institution."""
    stmt = (
        select(Patent)
        .join(PoolEntry, PoolEntry.patent_id == Patent.id)
        .where(PoolEntry.active.is_(True))
        .order_by(Patent.id.desc())
        .limit(200)
    )
    if listing is not None:
        members = [m.patent for m in listing.members]
        member_ids = [p.id for p in members]
        stmt = stmt.where(
            Patent.institution_id == listing.institution_id, Patent.id.not_in(member_ids)
        )
        return members + list(session.scalars(stmt))
    if actor.role != perm.ADMIN:
        stmt = stmt.where(Patent.institution_id == actor.institution_id)
    return list(session.scalars(stmt))


def count_visit(session: Session, *, listing: Listing, source: str | None) -> str | None:
    """Count this page view (or QR scan) once the request's transaction has ended.

    The count is a side effect of reading the page, not part of it: it runs after commit in a
    short transaction of its own that writes first (see `record_visit`), so on SQLite it waits
    for the write lock instead of failing at once, and a busy database never turns a visitor's
    page into an error (a failed count is logged). Returns what will be counted ("view",
    "scan", or None for a listing that is not published), so the page can show it already.
    """
    if listing.status != "published":
        return None
    bind = session.get_bind()
    listing_id = listing.id

    def count() -> None:
        with Session(bind=bind) as own, own.begin():
            record_visit(own, listing_id=listing_id, source=source)

    after_commit(session, count)
    return "scan" if source == "qr" else "view"


def record_visit(session: Session, *, listing_id: int, source: str | None) -> bool:
    """Count one page view, or one QR scan when the URL came from a card (`?src=qr`).

    Only published listings count; returns whether this visit was counted. Call it first in
    its own transaction and commit at once, as `count_visit` does: on SQLite a transaction
    that reads before it writes cannot wait for the write lock (SQLITE_BUSY at once), one
    that writes first can.
    """
    is_scan = source == "qr"
    column = Listing.scan_count if is_scan else Listing.view_count
    if session.get_bind().dialect.name == "postgresql":
        # A view count may be lost in a crash; it is not worth a disk flush per page view.
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    counted = session.execute(
        update(Listing)
        .where(Listing.id == listing_id, Listing.status == "published")
        .values({column: column + 1})
        .execution_options(synchronize_session=False, **{UNCHANGED_CATALOGUE: True})
    )
    if not counted.rowcount:  # type: ignore[attr-defined]
        return False
    day = today_in_china()
    daily_col = ListingDailyStat.scans if is_scan else ListingDailyStat.views
    where = (ListingDailyStat.listing_id == listing_id, ListingDailyStat.day == day)
    bump = (
        update(ListingDailyStat)
        .where(*where)
        .values({daily_col: daily_col + 1})
        .execution_options(synchronize_session=False)
    )
    if session.execute(bump).rowcount:  # type: ignore[attr-defined]
        return True
    try:
        with session.begin_nested():
            session.add(
                ListingDailyStat(
                    listing_id=listing_id,
                    day=day,
                    views=0 if is_scan else 1,
                    scans=1 if is_scan else 0,
                )
            )
    except IntegrityError:
        # Another request created today's row first; add to it instead.
        session.execute(bump)
    return True


def screen_figures(session: Session) -> dict[str, Any]:
    """Live figures for the big screen: listings, scans today, contracts signed, amount."""
    return headline_figures(session, keys=("listings", "scans_today", "contracts", "amount"))


def featured_listings(session: Session, *, limit: int = 12) -> list[Listing]:
    """Published listings for the big screen: featured first, then the most visited."""
    stmt = (
        select(Listing)
        .where(Listing.status == "published")
        .options(selectinload(Listing.institution))
        .order_by(
            Listing.featured.desc(),
            (Listing.view_count + Listing.scan_count).desc(),
            Listing.id.desc(),
        )
        .limit(limit)
    )
    return list(session.scalars(stmt))


def published_listings_for_patent(session: Session, *, patent_id: int) -> list[Listing]:
    """Published listings that include this patent (shown on the patent's page)."""
    stmt = (
        select(Listing)
        .join(ListingPatent, ListingPatent.listing_id == Listing.id)
        .where(ListingPatent.patent_id == patent_id, Listing.status == "published")
        .order_by(Listing.id)
    )
    return list(session.scalars(stmt))


def listings_by_ids(session: Session, *, ids: list[int]) -> list[Listing]:
    """Published listings in the order asked (unknown or unpublished ids are skipped)."""
    rows = {
        row.id: row
        for row in session.scalars(
            select(Listing)
            .where(Listing.id.in_(ids), Listing.status == "published")
            .options(selectinload(Listing.institution))
        )
    }
    return [rows[i] for i in dict.fromkeys(ids) if i in rows]


def publish_open_licence_terms(
    session: Session, *, patent_id: int, terms: str, in_force: bool, fee: Decimal | None = None
) -> list[Listing]:
    """Show an open-licence declaration (or its withdrawal notice) on the published listings
    of a patent: the 开放许可 mode is the badge and filter while in force, `terms` the text.

    Called by the deal pipeline, which checks who may declare or withdraw; the listings'
    search terms follow the mode so the catalogue's open-licence filter stays right. A
    declared lump-sum `fee` (万元) becomes the listing's price, so one price shows everywhere.
    """
    listings = published_listings_for_patent(session, patent_id=patent_id)
    for listing in listings:
        modes = [m for m in unfence(listing.modes) if m != "open_licence"]
        if in_force:
            modes.append("open_licence")
            if fee is not None:
                listing.price = fee
        listing.modes = _fence(modes)
        listing.open_licence_terms = terms
        session.flush()
        sync_listing_terms(session, listing)
    return listings


MIN_MESSAGE = 2  # characters; 请发资料 (send me the details) is a complete inquiry


def submit_inquiry(
    session: Session,
    *,
    listing_id: int,
    name: str,
    message: str,
    organisation: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    user: User | None = None,
) -> Inquiry:
    """Store a visitor's message about a published listing for its institution to answer."""
    listing = get_listing(session, listing_id=listing_id)
    _refuse_unstorable(
        name=name, message=message, organisation=organisation, email=email, phone=phone
    )
    name = (name or "").strip()
    message = (message or "").strip()
    email = (email or "").strip() or None
    phone = (phone or "").strip() or None
    if not 1 <= len(name) <= 100:
        raise DomainError("请填写姓名 (name is required)", field="name")
    if not MIN_MESSAGE <= len(message) <= 2000:
        # A visitor at a stand types 请发资料 and nothing more: that is a whole request.
        raise DomainError("请填写留言，最多 2000 字 (message: 2–2000 characters)", field="message")
    if email is None and phone is None:
        raise DomainError("请留下邮箱或电话以便回复 (leave an e-mail or phone)", field="email")
    if email is not None and (len(email) > 200 or not _EMAIL.match(email)):
        raise DomainError("邮箱格式不正确 (invalid e-mail)", field="email")
    if phone is not None and not re.fullmatch(r"[0-9+\-() ]{5,40}", phone):
        raise DomainError("电话格式不正确 (invalid phone)", field="phone")
    inquiry = Inquiry(
        listing_id=listing_id,
        name=name,
        organisation=(organisation or "").strip()[:200] or None,
        email=email,
        phone=phone,
        message=message,
        user_id=user.id if user else None,
    )
    session.add(inquiry)
    session.flush()
    record_audit(
        session,
        actor=user,
        action="inquiry.submit",
        subject=inquiry,
        detail={"listing_id": listing_id},
        institution_id=listing.institution_id,
    )
    return inquiry


def send_inquiry(
    session: Session,
    *,
    settings: Settings,
    limits: InquiryLimits,
    client: str,
    base_url: str,
    listing_id: int,
    name: str,
    message: str,
    organisation: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    user: User | None = None,
) -> Inquiry:
    """The contact flow of the page and the API alike: within the contact's, the listing's and
    the address's limits, store the visitor's message, and once it is committed count it and
    e-mail the institution's staff.

    The fields are checked as `submit_inquiry` checks them. The notice is built now from the
    stored row and sent after commit, so a refused or rolled-back message announces nothing
    and uses up none of the limits. `base_url` is the site's address for the listing link
    when `SHUANGLIAN_PUBLIC_URL` is not set.
    """
    contact = inquiry_limits.contact_key(email, phone)
    wait = limits.retry_after(client, listing_id, contact)
    if wait:
        raise TooManyRequests(inquiry_limits.message(wait), retry_after=wait)
    inquiry = submit_inquiry(
        session,
        listing_id=listing_id,
        name=name,
        message=message,
        organisation=organisation,
        email=email,
        phone=phone,
        user=user,
    )
    after_commit(session, lambda: limits.record(client, listing_id, contact))
    notice = notify.inquiry_notice(session, settings, inquiry_id=inquiry.id, base_url=base_url)
    if notice is not None:

        def send() -> None:
            mail.send(settings, notice)

        after_commit(session, send)
    return inquiry


def _refuse_unstorable(**fields: str | None) -> None:
    """Refuse NUL and lone surrogates, which only crafted requests carry (a JSON `\u0000`).

    PostgreSQL text can hold neither, so they would fail in the database as a server error;
    here they are the visitor's bad input, named by field.
    """
    for field, value in fields.items():
        if value is not None and not is_storable(value):
            raise DomainError("含无效字符 (invalid characters)", field=field)


def inquiries_for_institution(
    session: Session,
    *,
    actor: User | None,
    institution_id: int,
    limit: int = 50,
    offset: int = 0,
) -> list[tuple[Inquiry, Listing]]:
    """Messages about an institution's listings, newest first (its staff and admin only)."""
    perm.require_institution(actor, institution_id)
    stmt = (
        select(Inquiry, Listing)
        .join(Listing, Listing.id == Inquiry.listing_id)
        .where(Listing.institution_id == institution_id)
        .order_by(Inquiry.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [(i, listing) for i, listing in session.execute(stmt).all()]


def set_inquiry_handled(
    session: Session, *, actor: User | None, inquiry_id: int, handled: bool
) -> tuple[Inquiry, Listing]:
    """Mark an inquiry answered (or open again): the institution's inbox shows what is left.

    Only the listing's institution's staff and admin; anyone else is told it does not exist,
    so inquiry numbers reveal nothing about other institutions.
    """
    row = session.execute(
        select(Inquiry, Listing)
        .join(Listing, Listing.id == Inquiry.listing_id)
        .where(Inquiry.id == inquiry_id)
    ).first()
    if row is None or not perm.can_manage_institution(actor, row[1].institution_id):
        raise NotFound(f"留言 {inquiry_id} 不存在 (inquiry not found)")
    inquiry, listing = row
    before = inquiry.handled
    inquiry.handled = handled
    session.flush()
    if before != handled:
        record_audit(
            session,
            actor=actor,
            action="inquiry.handled" if handled else "inquiry.reopen",
            subject=inquiry,
            detail={"listing_id": listing.id},
            institution_id=listing.institution_id,
        )
    return inquiry, listing


def list_inquiries(
    session: Session,
    *,
    actor: User | None,
    institution_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[tuple[Inquiry, Listing]], int]:
    """One page of an institution's inquiries and their total, for the JSON API.

    Staff need not name their institution (their own is meant); an admin must, since the
    inquiries of all institutions together are no one's inbox.
    """
    actor = perm.require_role(actor, perm.INSTITUTION_STAFF)
    if institution_id is None:
        institution_id = actor.institution_id
    if institution_id is None:
        raise DomainError("请指定机构 institution_id (give institution_id)", field="institution_id")
    rows = inquiries_for_institution(
        session, actor=actor, institution_id=institution_id, limit=limit, offset=offset
    )
    total = session.scalar(
        select(func.count())
        .select_from(Inquiry)
        .join(Listing, Listing.id == Inquiry.listing_id)
        .where(Listing.institution_id == institution_id)
    )
    return rows, total or 0


def listings_for_institution(
    session: Session, *, actor: User | None, institution_id: int, limit: int = 200
) -> list[Listing]:
    """All of an institution's listings in any status, for its workspace."""
    perm.require_institution(actor, institution_id)
    stmt = (
        select(Listing)
        .where(Listing.institution_id == institution_id)
        .order_by(Listing.id.desc())
        .limit(limit)
        .options(selectinload(Listing.members))
    )
    return list(session.scalars(stmt))
