"""收藏 and 关注 from the pages: save a listing, follow a search or an industry, and the
我的收藏 page listing both (`/market/saved`). Posts redirect back (a reload repeats nothing)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shuanglian.accounts import permissions as perm
from shuanglian.errors import DomainError
from shuanglian.supermarket import interest
from shuanglian.supermarket.service import MODES, unfence
from shuanglian.web.deps import CsrfDep, CurrentUser, IdPath, SessionDep
from shuanglian.web.forms import FormDep, form_errors, form_status, form_text
from shuanglian.web.templating import render

router = APIRouter(include_in_schema=False)


def _saved_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "market/saved.html",
        {
            "saved": interest.saved_listings(session, user=user),
            "follows": interest.follows_of(session, user=user),
            "modes": MODES,
            "unfence": unfence,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/market/saved", response_class=HTMLResponse)
def saved_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    """我的收藏: saved listings and followed searches."""
    perm.require_login(user)
    return _saved_page(request, session, user)


@router.post("/market/{listing_id:int}/save", dependencies=[CsrfDep])
def save_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, listing_id: IdPath
) -> Response:
    if form_text(form, "action") == "unsave":
        interest.unsave_listing(session, user=user, listing_id=listing_id)
    else:
        interest.save_listing(session, user=user, listing_id=listing_id)
    back = "/market/saved" if form_text(form, "back") == "saved" else f"/market/{listing_id}"
    return RedirectResponse(f"{back}#save", status_code=303)


@router.post("/market/follows", response_class=HTMLResponse, dependencies=[CsrfDep])
def follow_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    q = form_text(form, "q").strip()
    industry = form_text(form, "industry").strip()
    try:
        interest.follow(session, user=user, query=q, industry=industry)
    except DomainError as exc:
        errors = form_errors(session, exc, default="q", prefix="follow-")
        return _saved_page(request, session, user, errors=errors, status_code=form_status(exc))
    params = {k: v for k, v in (("q", q), ("industry", industry)) if v}
    return RedirectResponse(f"/market?{urlencode(params)}#follow", status_code=303)


@router.post("/market/follows/{follow_id:int}/delete", dependencies=[CsrfDep])
def unfollow_submit(
    request: Request, form: FormDep, session: SessionDep, user: CurrentUser, follow_id: IdPath
) -> Response:
    interest.unfollow(session, user=user, follow_id=follow_id)
    return RedirectResponse("/market/saved#follows", status_code=303)
