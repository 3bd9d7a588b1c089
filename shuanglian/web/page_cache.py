"""The catalogue's anonymous pages, kept a few seconds (issue 10: a hundred visitors).

Most catalogue traffic is people who are not signed in opening the same first pages and common
searches. Their page depends only on the URL, the language cookie and whether HTMX asked for
the results alone, so the whole response is kept for RESPONSE_TTL_S and served again without
a thread, a database connection or a template. Kept responses live in
`supermarket.catalogue_cache.responses`: cleared, like the catalogue's counts, as soon as this
process writes a listing, so only a change made by another process can take up to
RESPONSE_TTL_S to show.

Never kept: anything but a 200 GET of CACHED_PATHS, a request with a session (signed in, or
holding a form token or a flash message) or an Authorization header, a response that sets a
cookie. The safety headers and the sticky language cookie are added outside this middleware,
on every response, kept or not.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shuanglian.supermarket import catalogue_cache
from shuanglian.web.i18n import LANG_COOKIE

CACHED_PATHS = frozenset({"/market", "/api/v1/listings"})
# What else a kept page may vary by (HTMX asks for the results alone).
VARY_HEADERS = ("hx-request", "hx-target", "hx-boosted")


class AnonymousPageCache:
    def __init__(self, app: ASGIApp, *, database: str) -> None:
        self.app = app
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["path"] not in CACHED_PATHS
            or scope.get("session")
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "authorization" in headers:
            await self.app(scope, receive, send)
            return
        key = (
            self.database,
            scope["path"],
            scope.get("query_string", b""),
            _cookie(headers, LANG_COOKIE),
            *(headers.get(name) for name in VARY_HEADERS),
        )
        kept = catalogue_cache.responses.get(key)
        if kept is not None:
            start, body = kept
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        counted_at = catalogue_cache.responses.generation
        start_message: Message | None = None
        chunks: list[bytes] = []
        keep = True

        async def capture(message: Message) -> None:
            nonlocal start_message, keep
            if message["type"] == "http.response.start":
                start_message = message
                sent = Headers(raw=message.get("headers", []))
                keep = message["status"] == 200 and "set-cookie" not in sent
            elif message["type"] == "http.response.body" and keep:
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if keep and start_message is not None:
            # Headers are copied: the outer middlewares add theirs to the message they get.
            start = {**start_message, "headers": list(start_message.get("headers", []))}
            catalogue_cache.responses.put(key, (start, b"".join(chunks)), counted_at=counted_at)


def _cookie(headers: Headers, name: str) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None
