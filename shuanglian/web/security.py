"""Session cookie contents and CSRF tokens.

The session cookie is Starlette's signed cookie (itsdangerous, HttpOnly, SameSite=Lax; Secure
when `cookie_secure`). It holds only the user id, a server-side session key (a `web_sessions`
row; logout and a password change delete it, so a replayed cookie is refused) and the CSRF
token.
CSRF uses the synchroniser-token pattern: the token lives in the signed session and every form
posts it back (`csrf_token` field) or an API client sends it as `X-CSRF-Token`.
"""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session
from starlette.requests import Request

from shuanglian.accounts.models import User
from shuanglian.errors import PermissionDenied

# How long a signed-in browser session lasts (the cookie's max age and the row's expiry).
SESSION_MAX_AGE_S = 14 * 24 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfFailed(PermissionDenied):
    code = "csrf"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def verify_csrf(request: Request) -> None:
    """Refuse an unsafe request whose form field / header does not carry the session's token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    expected = request.session.get("csrf")
    if not sent or not expected or not secrets.compare_digest(str(sent), str(expected)):
        raise CsrfFailed(
            "表单已过期或来源不明，请刷新页面后重试 (form expired or forged; reload and retry)"
        )


def log_in(request: Request, *, user_id: int, key: str) -> None:
    """Start a fresh session for the user (new CSRF token: no fixation across the login).

    `key` names the server-side session row (`accounts.service.open_web_session`); the cookie is
    only honoured while that row exists.
    """
    request.session.clear()
    request.session["uid"] = user_id
    request.session["sid"] = key
    request.session["csrf"] = secrets.token_urlsafe(32)


def web_session(request: Request, db: Session, user: User) -> str:
    """Open the server-side session row a fresh login cookie will name; returns its key."""
    from shuanglian.accounts.service import open_web_session

    return open_web_session(db, user=user, max_age_s=SESSION_MAX_AGE_S)


def session_key(request: Request) -> str | None:
    """The server-side session key the cookie carries, if any."""
    key = request.session.get("sid")
    return key if isinstance(key, str) and key else None


def log_out(request: Request) -> None:
    """Forget everything in the session (the caller deletes its server-side row)."""
    request.session.clear()
