"""Session cookie contents and CSRF tokens.

The session cookie is Starlette's signed cookie (itsdangerous, HttpOnly, SameSite=Lax; Secure
when `cookie_secure`). It holds only the user id, a password fingerprint and the CSRF token.
CSRF uses the synchroniser-token pattern: the token lives in the signed session and every form
posts it back (`csrf_token` field) or an API client sends it as `X-CSRF-Token`.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request

from shuanglian.errors import PermissionDenied

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


def log_in(request: Request, *, user_id: int, version: str) -> None:
    """Start a fresh session for the user (new CSRF token: no fixation across the login)."""
    request.session.clear()
    request.session["uid"] = user_id
    request.session["ver"] = version
    request.session["csrf"] = secrets.token_urlsafe(32)


def log_out(request: Request) -> None:
    """Forget everything in the session."""
    request.session.clear()
