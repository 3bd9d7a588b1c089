"""FastAPI dependencies shared by every route: database session, settings, user, language."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from pydantic import Field
from sqlalchemy import Engine
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from shuanglian.accounts import service as accounts
from shuanglian.accounts.models import User
from shuanglian.config import Settings
from shuanglian.db import writer
from shuanglian.errors import DomainError
from shuanglian.web.i18n import pick_lang
from shuanglian.web.security import session_key, verify_csrf
from shuanglian.web.transactions import request_transaction

log = logging.getLogger("shuanglian.web")


# Requests that may only read; every other method is taken to write.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POSTs that read and check something slow before they write, and then call
# `db.begin_writing` themselves (the login: its argon2 check must not hold the write lock; a
# push round: its ranking must not).
READ_FIRST_PATHS = frozenset(
    {"/login", "/api/v1/inventory/push-rounds", "/workspace/institution/flow/push"}
)


def get_session(request: Request) -> Iterator[Session]:
    """One session and one transaction per request: committed when the handler succeeded,
    rolled back when it raised (`web.transactions`); handlers never commit themselves.

    A request that may write (POST, PUT, PATCH, DELETE) gets the writer engine: on SQLite its
    transaction takes the write lock as it begins and waits for it (`db.writer`); a GET never
    writes in its own transaction (counters and token stamps run after it, in their own).
    """
    factory = request.app.state.session_factory
    bind = factory.kw.get("bind")
    reads = request.method in READ_METHODS or request.url.path in READ_FIRST_PATHS
    if reads or not isinstance(bind, Engine):
        # (A factory bound to one connection — a test's — keeps it: its transaction is open.)
        session: Session = factory()
    else:
        session = factory(bind=writer(bind))
    try:
        yield from request_transaction(request, session)
    finally:
        session.close()


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings  # type: ignore[no-any-return]


# scope="function": the commit runs before the response is sent, so a failed commit is an
# error response, never a 200 (or a redirect) announcing data that was not stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def get_current_user(request: Request, session: SessionDep) -> User | None:
    """The user from an API token (Authorization: Bearer) or the session cookie, else None."""
    if hasattr(request.state, "user"):
        return request.state.user  # type: ignore[no-any-return]
    user: User | None = None
    token = _bearer(request)
    if token is not None:
        # `last_used_at` is stamped after the request's transaction, in one of its own.
        user = accounts.user_for_token(session, token=token)
        request.state.auth = "token" if user else None
    else:
        user = _cookie_user(request, session)
        if user is None:
            request.session.pop("uid", None)
        request.state.auth = "cookie" if user else None
    request.state.user = user
    return user


def _cookie_user(request: Request, session: Session) -> User | None:
    """The active user the session cookie names, while its server-side session lives."""
    uid = request.session.get("uid")
    key = session_key(request)
    if not isinstance(uid, int) or key is None:
        return None
    if accounts.web_session_user_id(session, key=key) != uid:
        return None
    candidate = session.get(User, uid)
    if candidate is not None and candidate.is_active:
        return candidate
    return None


_UNSET = object()


def user_for_error_page(request: Request) -> User | None:
    """The signed-in user for the menu of an error page, safe to read after the request's
    session is gone.

    By the time an exception handler renders, the request's transaction is rolled back and
    its session closed, so the user it loaded can no longer load its own attributes (that was
    a bare 500 for every logged-in 403/404). It is then read again in a short session of its
    own; a request that never reached a route (an unknown path, a wrong method) has no user
    yet and is recognised by its cookie as a route would. If the database cannot answer, the
    page shows the anonymous menu rather than fail.
    """
    known = getattr(request.state, "user", _UNSET)
    if known is None:
        return None
    if isinstance(known, User):
        state = sa_inspect(known)
        if not state.detached or not state.expired_attributes:
            return known
        identity = state.identity
        uid = identity[0] if identity else None
    elif "session" in request.scope:
        uid = request.session.get("uid")
    else:
        return None
    if not isinstance(uid, int):
        return None
    try:
        with request.app.state.session_factory() as session:
            if known is _UNSET:
                return _cookie_user(request, session)
            user = session.get(User, uid)
            return user if user is not None and user.is_active else None
    except SQLAlchemyError:
        log.warning("user %s not loaded for an error page", uid, exc_info=True)
        return None


CurrentUser = Annotated[User | None, Depends(get_current_user)]


async def csrf_for_cookie_auth(request: Request) -> None:
    """CSRF applies to browser (cookie) sessions; token-authenticated clients are exempt."""
    if _bearer(request) is None:
        await verify_csrf(request)


CsrfDep = Depends(csrf_for_cookie_auth)


async def csrf_for_signed_in_browser(request: Request, user: CurrentUser) -> None:
    """CSRF for public writes (a visitor's inquiry): only a signed-in browser session has
    authority a forged request could borrow, so only it must send the token. Anonymous
    clients, who have no session to take a token from, and token clients are exempt."""
    if user is not None and _bearer(request) is None:
        await verify_csrf(request)


PublicCsrfDep = Depends(csrf_for_signed_in_browser)


def get_lang(request: Request) -> str:
    """The language this request's page is rendered in."""
    return pick_lang(request)


LangDep = Annotated[str, Depends(get_lang)]


class Page:
    """Offset pagination parameters shared by list pages and API lists."""

    def __init__(
        self,
        page: Annotated[int, Query(ge=1, le=100000, description="1-based page number")] = 1,
        per_page: Annotated[int, Query(ge=1, le=100, description="rows per page")] = 20,
    ) -> None:
        self.page = page
        self.per_page = per_page

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def pages(self, total: int) -> int:
        """Number of pages for `total` rows (at least 1)."""
        return max(1, -(-total // self.per_page))

    def context(self, total: int) -> dict[str, int]:
        """What a list template's pager needs: the total, this page and the page count."""
        return {"total": total, "page": self.page, "pages": self.pages(total)}


PageDep = Annotated[Page, Depends(Page)]


# Database ids are 32-bit on PostgreSQL: a larger number in a URL is refused as invalid
# input (422) before it can reach the database and fail there.
MAX_ID = 2_147_483_647
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="record id")]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="record id")]
# The same bound for ids inside JSON bodies (Pydantic models): 422 naming the field, never a
# database overflow.
DbId = Annotated[int, Field(ge=1, le=MAX_ID, description="record id")]
# Paging of JSON lists (`ListResponse`): rows skipped, and rows per page for lists of whole
# records (a list of small rows may allow more with a Limit of its own).
OffsetQuery = Annotated[int, Query(ge=0, le=10_000_000)]
LimitQuery = Annotated[int, Query(ge=1, le=100)]
# Number fields of GET forms arrive as "" when left empty; parse them with optional_int/_decimal.
FormNumber = Annotated[str | None, Query(max_length=30)]


def optional_int(raw: str | None, *, field: str, low: int, high: int) -> int | None:
    """A number from an HTML form's query string, where an untouched field arrives as ""."""
    if raw is None or not raw.strip():
        return None
    try:
        value = int(raw.strip())
    except ValueError as exc:
        raise DomainError(f"{field} 须为整数 (must be a whole number)", field=field) from exc
    if not low <= value <= high:
        raise DomainError(f"{field} 须在 {low}–{high} 之间 (out of range)", field=field)
    return value


AMOUNT_STEP = Decimal("0.0001")


def optional_decimal(raw: str | None, *, field: str, high: Decimal) -> Decimal | None:
    """A non-negative amount from a form field; "" means no filter."""
    if raw is None or not raw.strip():
        return None
    try:
        value = Decimal(raw.strip())
    except InvalidOperation as exc:
        raise DomainError(f"{field} 须为数字 (must be a number)", field=field) from exc
    if not value.is_finite() or not 0 <= value <= high:
        raise DomainError(f"{field} 超出范围 (out of range)", field=field)
    # Amounts are stored with 4 decimal places; 1e-999999 is 0 here, not a PostgreSQL error.
    return value.quantize(AMOUNT_STEP)
