"""How often the contact form (page and API) may be used, counted per person and per listing.

Every inquiry e-mails an institution's staff, so the form must not be a way to flood their
inboxes. At an exhibition, though, dozens of visitors share one Wi-Fi address: counting by
address refused the 4th visitor asking about a featured listing. So the limits count by the
contact the visitor leaves (e-mail or phone) and by listing; the address keeps only a generous
cap against a script flooding from one machine. In process memory, like the login limiter.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from starlette.requests import Request

from shuanglian.accounts.ratelimit import RateLimiter

PER_CONTACT_AND_LISTING = 3  # messages from one contact about one listing per window
PER_CONTACT = 20  # messages from one contact in all per window
PER_LISTING = 120  # messages about one listing from everybody per window (an inbox's cap)
PER_ADDRESS = 300  # messages from one network address per window (a flood cap, not a person's)
WINDOW_S = 3600.0
_ALL = "*"


def contact_key(email: str | None, phone: str | None) -> str:
    """Who is writing, as the limits count them: the e-mail (case-insensitive), else the phone's
    digits. Empty when neither is given (the form then refuses the message anyway)."""
    if email and email.strip():
        return "mail:" + email.strip().lower()
    digits = re.sub(r"\D", "", phone or "")
    return f"tel:{digits}" if digits else ""


class InquiryLimits:
    """The windows of one running app; `send_inquiry` checks them and counts each stored
    inquiry (after its commit: a refused or rolled-back message uses up nothing)."""

    def __init__(self) -> None:
        self.per_contact_listing = RateLimiter(
            max_events=PER_CONTACT_AND_LISTING, window_s=WINDOW_S
        )
        self.per_contact = RateLimiter(max_events=PER_CONTACT, window_s=WINDOW_S)
        self.per_listing = RateLimiter(max_events=PER_LISTING, window_s=WINDOW_S)
        self.per_address = RateLimiter(max_events=PER_ADDRESS, window_s=WINDOW_S)

    def retry_after(self, client: str, listing_id: int, contact: str = "") -> int:
        """Seconds until this contact, from `client`, may write about this listing; 0 if now."""
        waits = [
            self.per_listing.retry_after(_ALL, str(listing_id)),
            self.per_address.retry_after(client, _ALL),
        ]
        if contact:
            waits.append(self.per_contact_listing.retry_after(contact, str(listing_id)))
            waits.append(self.per_contact.retry_after(contact, _ALL))
        return max(waits)

    def record(self, client: str, listing_id: int, contact: str = "") -> None:
        """Count one stored inquiry against every window."""
        self.per_listing.record(_ALL, str(listing_id))
        self.per_address.record(client, _ALL)
        if contact:
            self.per_contact_listing.record(contact, str(listing_id))
            self.per_contact.record(contact, _ALL)


def install(app: FastAPI) -> None:
    app.state.inquiry_limits = InquiryLimits()


def for_app(request: Request) -> InquiryLimits:
    """The limits of the app serving `request`."""
    limits: InquiryLimits = request.app.state.inquiry_limits
    return limits


def client_address(request: Request) -> str:
    """The address the flood cap counts by (the proxy's, unless the server is told otherwise)."""
    return request.client.host if request.client else "unknown"


def message(wait_s: int) -> str:
    """The refusal, saying when to try again; the page keeps the typed message in the form."""
    minutes = max(1, -(-wait_s // 60))
    return (
        f"留言过于频繁，您的留言已保留在表单中，请 {minutes} 分钟后再发送 "
        f"(too many messages; your text is kept below, send it again in {minutes} min)"
    )
