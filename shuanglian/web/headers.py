"""Every response's safety headers, the sticky `?lang=` choice, and the NUL refusal.

A plain ASGI middleware, not `@app.middleware("http")`: that form runs each request through an
extra task and memory stream, a fixed cost paid by every page (measured under load on the
catalogue, issue 10).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shuanglian.web.errors import http_error
from shuanglian.web.i18n import LANG_COOKIE, LANGS

SAFETY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
LANG_COOKIE_MAX_AGE_S = 365 * 24 * 3600


def _lang_cookie(lang: str) -> str:
    """The Set-Cookie value that keeps `lang` for later pages."""
    carrier = Response()
    carrier.set_cookie(
        LANG_COOKIE, lang, max_age=LANG_COOKIE_MAX_AGE_S, samesite="lax", httponly=True
    )
    return carrier.headers["set-cookie"]


class PageHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope["path"]:
            # PostgreSQL text cannot hold NUL; refuse it here instead of failing deep inside.
            refusal = await http_error(
                request, StarletteHTTPException(400, "请求中含有非法字符 (NUL in request)")
            )
            await refusal(scope, receive, self._with_headers(send, None))
            return
        asked = request.query_params.get("lang")
        keep = asked if asked in LANGS and request.cookies.get(LANG_COOKIE) != asked else None
        await self.app(scope, receive, self._with_headers(send, keep))

    @staticmethod
    def _with_headers(send: Send, lang: str | None) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if lang is not None:
                    headers.append("set-cookie", _lang_cookie(lang))
                for name, value in SAFETY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        return sending
