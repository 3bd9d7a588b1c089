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


class InquiryLimits:
    """Both windows of one running app; `send_inquiry` checks them and counts each stored
    inquiry (after its commit: a refused or rolled-back message uses up nothing)."""

    def __init__(self) -> None:
        self.per_listing = RateLimiter(max_events=PER_LISTING, window_s=WINDOW_S)
        self.per_address = RateLimiter(max_events=PER_ADDRESS, window_s=WINDOW_S)

    def retry_after(self, client: str, listing_id: int) -> int:
        """Seconds until `client` may send another inquiry about this listing; 0 if now."""
        return max(
            self.per_listing.retry_after(client, str(listing_id)),
            self.per_address.retry_after(client, _ALL),
        )

    def record(self, client: str, listing_id: int) -> None:
        """Count one stored inquiry against both windows."""
        self.per_listing.record(client, str(listing_id))
        self.per_address.record(client, _ALL)


def install(app: FastAPI) -> None:
    app.state.inquiry_limits = InquiryLimits()


def for_app(request: Request) -> InquiryLimits:
    """The limits of the app serving `request`."""
    limits: InquiryLimits = request.app.state.inquiry_limits
    return limits


def client_address(request: Request) -> str:
    """The address the limits count by (the proxy's, unless the server is told otherwise)."""
    return request.client.host if request.client else "unknown"


def message(wait_s: int) -> str:
    minutes = max(1, -(-wait_s // 60))
    return f"留言过于频繁，请 {minutes} 分钟后再试 (too many messages; retry in {minutes} min)"
