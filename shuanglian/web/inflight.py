"""At most as many requests in progress as there are worker threads and database connections.

A request's handler and its dependencies each take a worker thread in turn, and its session
holds a database connection from its first query to the response. With more requests in
progress than threads, every thread can end up blocked waiting for a connection that belongs to
a request now waiting for a thread: nothing finishes until the pool's checkout timeout fails
them (500 users on PostgreSQL: no request finished in 40 s). Requests beyond the limit wait
here, in the event loop, before they take anything.
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

# Never queued: the health check must answer while the site is busy; static files need no
# thread-held connection.
EXEMPT_PREFIXES = ("/healthz", "/static/")


class InFlightLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._limiter: anyio.CapacityLimiter | None = None

    def _capacity(self) -> anyio.CapacityLimiter:
        # Made on first use, inside the running event loop.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.limit)
        return self._limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        async with self._capacity():
            await self.app(scope, receive, send)


def in_flight_limit(*, threads: int, pool_size: int, max_overflow: int) -> int:
    """Requests allowed in progress: each may hold one thread and one connection at once."""
    return max(1, min(threads, pool_size + max_overflow))
