"""How often one client address may use the contact form (page and API).

Every inquiry e-mails an institution's staff, so the form must not be a way to flood their
inboxes. Two windows: a few messages about one listing (a person rarely writes more), and a
larger overall allowance per address, since an exhibition hall's visitors share one Wi-Fi
address. In process memory, like the login limiter.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request

from shuanglian.accounts.ratelimit import RateLimiter

PER_LISTING = 3  # inquiries about one listing per address per window
PER_ADDRESS = 30  # inquiries in all per address per window
WINDOW_S = 3600.0
_ALL = "*"


def install(app: FastAPI) -> None:
    app.state.inquiry_limiter_listing = RateLimiter(max_events=PER_LISTING, window_s=WINDOW_S)
    app.state.inquiry_limiter_address = RateLimiter(max_events=PER_ADDRESS, window_s=WINDOW_S)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def retry_after(request: Request, listing_id: int) -> int:
    """Seconds until this address may send another inquiry about this listing; 0 if now."""
    state = request.app.state
    client = _client(request)
    return max(
        state.inquiry_limiter_listing.retry_after(client, str(listing_id)),
        state.inquiry_limiter_address.retry_after(client, _ALL),
    )


def record(request: Request, listing_id: int) -> None:
    """Count one stored inquiry against both windows."""
    state = request.app.state
    client = _client(request)
    state.inquiry_limiter_listing.record(client, str(listing_id))
    state.inquiry_limiter_address.record(client, _ALL)


def message(wait_s: int) -> str:
    minutes = max(1, -(-wait_s // 60))
    return f"留言过于频繁，请 {minutes} 分钟后再试 (too many messages; retry in {minutes} min)"
