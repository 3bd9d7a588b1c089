"""HTML pages of the technology supermarket: catalogue, listing, codes, card sheets, big screen,
and the institution's listing editor."""

from __future__ import annotations

from contextlib import suppress
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from shuanglian.accounts import permissions as perm
from shuanglian.errors import DomainError, NotFound, TooManyRequests
from shuanglian.patents import service as patent_service
from shuanglian.pilots.service import suggest_for_listing
from shuanglian.supermarket import inquiry_limits, interest, service, visits
from shuanglian.supermarket.cards import MAX_IDS, SheetCache, card_sheet_pdf, sheet_key
from shuanglian.supermarket.codes import code128_png, code128_svg, listing_url, qr_png, qr_svg
from shuanglian.supermarket.interest_pages import router as interest_router
from shuanglian.supermarket.service import MODES, SORTS, ListingInput, parse_price, unfence
from shuanglian.web.deps import (
    CsrfDep,
    CurrentUser,
    FormNumber,
    IdPath,
    PageDep,
    SessionDep,
    SettingsDep,
    optional_decimal,
    optional_int,
)
from shuanglian.web.forms import FormDep, form_errors, form_status, form_text
from shuanglian.web.origin import site_url
from shuanglian.web.templating import render

router = APIRouter(include_in_schema=False)
router.routes.extend(interest_router.routes)  # 收藏 / 关注 (before /market/{id} routes)

CODE_CACHE = "public, max-age=86400"


def base_url(request: Request) -> str:
    """The site's address for printed codes and short URLs (`SHUANGLIAN_PUBLIC_URL` when set)."""
    return site_url(request)


def parse_ids(raw: str, *, limit: int = MAX_IDS) -> list[int]:
    """ "3,1,2" → [3, 1, 2]; anything else is a field error on `ids`."""
    parts = [p.strip() for p in raw.replace(" ", ",").split(",") if p.strip()]
    if not parts:
        raise DomainError("请给出成果编号，如 ids=1,2,3 (give ids=1,2,3)", field="ids")
    if len(parts) > limit:
        raise DomainError(f"一次最多打印 {limit} 张 (at most {limit})", field="ids")
    try:
        ids = [int(p.upper().removeprefix("SL")) for p in parts]
    except ValueError as exc:
        raise DomainError("成果编号须为数字 (ids must be numbers)", field="ids") from exc
    if any(i < 1 or i > 2**31 for i in ids):
        raise DomainError("成果编号超出范围 (id out of range)", field="ids")
    return ids


def _catalogue_context(request: Request, session: Any, page: Any, params: dict[str, Any]) -> dict:
    result = service.search_listings(session, offset=page.offset, limit=page.per_page, **params)
    pages = page.pages(result.total)
    if result.total_capped and len(result.items) == page.per_page:
        pages = max(pages, page.page + 1)  # more beyond the counted ones: keep "next"
    partial = []
    if not result.total and params.get("q") and page.page == 1:
        filters = {k: v for k, v in params.items() if k not in ("q", "sort")}
        partial = service.partial_matches(session, q=params["q"], **filters)
    return {
        "items": result.items,
        "partial": partial,
        "total": f"{result.total}+" if result.total_capped else result.total,
        "page": page.page,
        "pages": pages,
        "params": params,
        "modes": MODES,
        "sorts": SORTS,
        "facets": service.facet_values(session),
        "view": "list" if request.query_params.get("view") == "list" else "grid",
        "unfence": unfence,
    }


@router.get("/market", response_class=HTMLResponse)
def market_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    industry: Annotated[str | None, Query(max_length=60)] = None,
    tech_field: Annotated[str | None, Query(max_length=100)] = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    mode: Annotated[str | None, Query(max_length=20)] = None,
    trl_min: FormNumber = None,
    trl_max: FormNumber = None,
    price_min: FormNumber = None,
    price_max: FormNumber = None,
    sort: Annotated[str, Query(max_length=20)] = "newest",
) -> HTMLResponse:
    max_price = Decimal(10**9)
    params = {
        "q": q or None,
        "industry": industry or None,
        "tech_field": tech_field or None,
        "region": region or None,
        "mode": mode if mode in MODES else None,
        "trl_min": optional_int(trl_min, field="trl_min", low=1, high=9),
        "trl_max": optional_int(trl_max, field="trl_max", low=1, high=9),
        "price_min": optional_decimal(price_min, field="price_min", high=max_price),
        "price_max": optional_decimal(price_max, field="price_max", high=max_price),
        "sort": sort if sort in SORTS else "newest",
    }
    ctx = _catalogue_context(request, session, page, params)
    ctx["following"] = interest.follow_of(session, user=user, query=q, industry=industry)
    # HTMX asks for the results block only when a filter changes; plain browsers get the page.
    if request.headers.get("hx-request") == "true":
        return render(request, "market/_results.html", {**ctx, "results_only": True})
    return render(request, "market/list.html", ctx)


@router.get("/market/cards.pdf")
def cards_pdf(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    ids: Annotated[str, Query(max_length=4000)],
) -> Response:
    """A printable sheet: at most `cards_pdf_max_ids` cards; a sheet already rendered (same
    listings, unchanged) comes from the cache, and each client may have only
    `cards_pdf_per_minute` new ones rendered a minute (a sheet costs ~5 ms of CPU per card)."""
    listings = service.listings_by_ids(
        session, ids=parse_ids(ids, limit=min(MAX_IDS, settings.cards_pdf_max_ids))
    )
    if not listings:
        # A blank sheet looked like a printer fault; say that nothing of these ids is public.
        raise NotFound("没有可打印的成果：编号不存在或未上架 (no published listing with these ids)")
    base = base_url(request)
    key = sheet_key(listings, base_url=base)
    cache: SheetCache = request.app.state.card_sheets
    pdf = cache.get(key)
    if pdf is None:
        limiter = request.app.state.card_sheet_limiter
        client = request.client.host if request.client else "unknown"
        wait = limiter.retry_after(client, "cards")
        if wait:
            raise TooManyRequests(
                f"打印卡片过于频繁，请 {wait} 秒后再试 (too many card sheets; retry in {wait} s)",
                retry_after=wait,
            )
        limiter.record(client, "cards")
        pdf = card_sheet_pdf(listings, base_url=base)
        cache.put(key, pdf)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="market-cards.pdf"'},
    )


@router.get("/market/{listing_id:int}", response_class=HTMLResponse)
def listing_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    listing_id: IdPath,
    src: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    listing = service.get_listing(session, listing_id=listing_id, actor=user)
    counted = None
    own = perm.can_manage_institution(user, listing.institution_id)
    if visits.should_count(request, listing_id=listing.id, source=src, own_listing=own):
        counted = service.count_visit(session, listing=listing, source=src)
    platforms = None
    if user is not None and listing.status == "published":
        # Signed-in visitors only: booking needs an account, and the anonymous QR-scan path
        # stays a plain read.
        platforms = suggest_for_listing(session, listing_id=listing.id, limit=5)
    return _listing_response(request, session, listing, user, counted=counted, platforms=platforms)


def _listing_response(
    request: Request,
    session: Any,
    listing: Any,
    user: Any,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    sent: bool = False,
    counted: str | None = None,
    status_code: int = 200,
    platforms: list[Any] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "market/detail.html",
        {
            "platforms": platforms,
            "book_query": f"listing_id={listing.id}",
            "listing": listing,
            # This visit is counted after the response; the page already includes it.
            "views": listing.view_count + (counted == "view"),
            "scans": listing.scan_count + (counted == "scan"),
            "modes": MODES,
            "unfence": unfence,
            "short_url": listing_url(base_url(request), listing.id, source=None),
            "can_edit": perm.can_manage_institution(user, listing.institution_id),
            "saved": interest.is_saved(session, user=user, listing_id=listing.id),
            "errors": errors or {},
            "form": form or {},
            "sent": sent,
        },
        status_code=status_code,
    )


@router.post(
    "/market/{listing_id:int}/contact", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def listing_contact(
    request: Request,
    posted: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    listing_id: IdPath,
) -> HTMLResponse:
    listing = service.get_listing(session, listing_id=listing_id, actor=user)
    form = _text_fields(posted, ("name", "organisation", "email", "phone", "message"))
    try:
        service.send_inquiry(
            session,
            settings=settings,
            limits=inquiry_limits.for_app(request),
            client=inquiry_limits.client_address(request),
            base_url=base_url(request),
            listing_id=listing.id,
            user=user,
            **form,
        )
    except DomainError as exc:
        response = _listing_response(
            request,
            session,
            listing,
            user,
            errors=form_errors(session, exc, default="message"),
            form=form,
            status_code=form_status(exc),
        )
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return _listing_response(request, session, listing, user, sent=True)


@router.post("/workspace/institution/inquiries/{inquiry_id:int}/handled", dependencies=[CsrfDep])
def inquiry_handled_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, inquiry_id: int
) -> Response:
    service.set_inquiry_handled(
        session, actor=user, inquiry_id=inquiry_id, handled=form_text(form, "handled") == "1"
    )
    return RedirectResponse("/workspace/institution#inquiries", status_code=303)


def _text_fields(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    return {name: form_text(form, name) for name in names}


def _code_image(body: bytes, media_type: str) -> Response:
    return Response(body, media_type=media_type, headers={"Cache-Control": CODE_CACHE})


@router.get("/market/{listing_id:int}/qr.svg")
def listing_qr_svg(request: Request, session: SessionDep, listing_id: IdPath) -> Response:
    listing = service.get_listing(session, listing_id=listing_id)
    return _code_image(qr_svg(listing_url(base_url(request), listing.id)), "image/svg+xml")


@router.get("/market/{listing_id:int}/qr.png")
def listing_qr_png(request: Request, session: SessionDep, listing_id: IdPath) -> Response:
    listing = service.get_listing(session, listing_id=listing_id)
    return _code_image(qr_png(listing_url(base_url(request), listing.id)), "image/png")


@router.get("/market/{listing_id:int}/barcode.svg")
def listing_barcode_svg(session: SessionDep, listing_id: IdPath) -> Response:
    listing = service.get_listing(session, listing_id=listing_id)
    return _code_image(code128_svg(listing.number), "image/svg+xml")


@router.get("/market/{listing_id:int}/barcode.png")
def listing_barcode_png(session: SessionDep, listing_id: IdPath) -> Response:
    listing = service.get_listing(session, listing_id=listing_id)
    return _code_image(code128_png(listing.number), "image/png")


# The big screen (`/screen`) lives in shuanglian.dashboard.pages: it shows the dashboards'
# figures and activity as well as the listings.


# --------------------------------------------------------------------------- listing editor


def listing_input_from_form(form: FormData) -> ListingInput:
    """Read the editor's fields; number fields that do not parse become field errors."""
    text = _text_fields(
        form,
        (
            "title",
            "title_en",
            "summary",
            "scenarios",
            "industries",
            "tech_field",
            "region",
            "trl",
            "price",
            "open_licence_terms",
            "contact_name",
            "plain_summary",
            "benefits",
            "contact_role",
            "contact_phone",
            "contact_email",
        ),
    )
    trl: int | None = None
    if text["trl"].strip():
        try:
            trl = int(text["trl"])
        except ValueError as exc:
            raise DomainError("技术成熟度须为 1–9 的整数 (TRL 1–9)", field="trl") from exc
    return ListingInput(
        title=text["title"],
        title_en=text["title_en"],
        summary=text["summary"],
        scenarios=text["scenarios"],
        industries=[
            c for c in text["industries"].replace("，", ",").replace(" ", ",").split(",") if c
        ],
        tech_field=text["tech_field"],
        region=text["region"],
        trl=trl,
        modes=[m.replace("\x00", "") for m in form.getlist("modes") if isinstance(m, str)],
        price=parse_price(text["price"]),
        open_licence_terms=text["open_licence_terms"],
        contact_name=text["contact_name"],
        plain_summary=text["plain_summary"],
        benefits=text["benefits"],
        contact_role=text["contact_role"],
        contact_phone=text["contact_phone"],
        contact_email=text["contact_email"],
        featured=form.get("featured") == "on",
    )


def patent_ids_from_form(form: FormData) -> list[int]:
    """The ticked patents, the chosen lead first (choosing a lead also ticks it)."""
    ids = [int(v) for v in form.getlist("patent_ids") if isinstance(v, str) and v.isdigit()]
    lead = form.get("lead_patent_id")
    if isinstance(lead, str) and lead.isdigit():
        ids = [int(lead)] + [i for i in ids if i != int(lead)]
    return ids


def _editor(
    request: Request,
    session: Any,
    user: Any,
    *,
    listing: Any = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "market/edit.html",
        {
            "listing": listing,
            "pooled": service.editor_patent_choices(session, actor=user, listing=listing),
            "form": form or {},
            "errors": errors or {},
            "modes": MODES,
        },
        status_code=status_code,
    )


def _form_echo(form: FormData) -> dict[str, Any]:
    echo: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    echo["modes"] = form.getlist("modes")
    ids = patent_ids_from_form(form)
    echo["patent_ids"] = [str(i) for i in ids]
    echo["lead_patent_id"] = str(ids[0]) if ids else ""
    return echo


def _listing_echo(listing: Any) -> dict[str, Any]:
    return {
        "title": listing.title,
        "title_en": listing.title_en or "",
        "summary": listing.summary,
        "scenarios": listing.scenarios or "",
        "industries": ",".join(unfence(listing.industries)),
        "tech_field": listing.tech_field or "",
        "region": listing.region or "",
        "trl": listing.trl or "",
        "price": "" if listing.price is None else f"{listing.price.normalize():f}",
        "open_licence_terms": listing.open_licence_terms or "",
        "contact_name": listing.contact_name or "",
        "plain_summary": listing.plain_summary or "",
        "benefits": listing.benefits or "",
        "contact_role": listing.contact_role or "",
        "contact_phone": listing.contact_phone or "",
        "contact_email": listing.contact_email or "",
        "modes": unfence(listing.modes),
        "featured": "on" if listing.featured else "",
        "patent_ids": [str(m.patent_id) for m in listing.members],
        "lead_patent_id": str(listing.patent_id),
    }


@router.get("/market/new", response_class=HTMLResponse)
def new_listing_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    patent_id: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    form: dict[str, Any] = {"patent_ids": [str(patent_id)] if patent_id else []}
    if patent_id:
        with suppress(NotFound):  # an unknown patent just leaves the form empty
            patent = patent_service.get_patent(session, patent_id=patent_id)
            form["title"] = patent.title
            form["summary"] = patent.abstract or ""
    return _editor(request, session, user, form=form)


@router.post("/market/new", response_class=HTMLResponse, dependencies=[CsrfDep])
def new_listing_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    try:
        listing = service.create_listing(
            session,
            actor=user,
            patent_ids=patent_ids_from_form(form),
            data=listing_input_from_form(form),
            publish=form.get("action") == "publish",
        )
    except DomainError as exc:
        return _editor(
            request,
            session,
            user,
            form=_form_echo(form),
            errors=form_errors(session, exc, default="title"),
            status_code=form_status(exc),
        )
    return RedirectResponse(f"/market/{listing.id}", status_code=303)


@router.get("/market/{listing_id:int}/edit", response_class=HTMLResponse)
def edit_listing_page(
    request: Request, session: SessionDep, user: CurrentUser, listing_id: IdPath
) -> HTMLResponse:
    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    listing = service.get_listing(session, listing_id=listing_id, actor=user)
    perm.require_institution(user, listing.institution_id)
    return _editor(request, session, user, listing=listing, form=_listing_echo(listing))


@router.post("/market/{listing_id:int}/edit", response_class=HTMLResponse, dependencies=[CsrfDep])
def edit_listing_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, listing_id: IdPath
) -> Response:
    user = perm.require_role(user, perm.INSTITUTION_STAFF)
    listing = service.get_listing(session, listing_id=listing_id, actor=user)
    perm.require_institution(user, listing.institution_id)
    # The editor marks that it showed the patent list: then an empty ticking is a mistake to
    # report, while a post without the list (a script sending only text) keeps the package.
    patent_ids = patent_ids_from_form(form) if form.get("patents_shown") == "1" else None
    try:
        service.update_listing(
            session,
            actor=user,
            listing_id=listing.id,
            data=listing_input_from_form(form),
            patent_ids=patent_ids,
        )
        status = form.get("status")
        if isinstance(status, str) and status and status != listing.status:
            service.set_listing_status(session, actor=user, listing_id=listing.id, status=status)
    except DomainError as exc:
        return _editor(
            request,
            session,
            user,
            listing=listing,
            form=_form_echo(form),
            errors=form_errors(session, exc, default="title"),
            status_code=form_status(exc),
        )
    return RedirectResponse(f"/market/{listing.id}", status_code=303)
