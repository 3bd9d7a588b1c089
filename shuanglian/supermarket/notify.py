"""Tell an institution's staff by e-mail that a visitor left a message about one of its listings.

The notice is built from the committed inquiry (so it reads only what was stored) and handed to
`shuanglian.mail`, which sends it or keeps it in the outbox. Building is split from sending so
the web handler can reply to the visitor first and send afterwards.
"""

from __future__ import annotations

import logging
from email.headerregistry import Address
from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.clock import in_zone, zone_label
from shuanglian.config import Settings
from shuanglian.mail import compose
from shuanglian.supermarket.models import Inquiry, Listing

log = logging.getLogger("shuanglian.supermarket")


def inquiry_recipients(session: Session, *, institution_id: int) -> list[str]:
    """E-mail addresses of the institution's active staff, in account order, without repeats."""
    stmt = (
        select(User.email)
        .where(
            User.institution_id == institution_id,
            User.role == perm.INSTITUTION_STAFF,
            User.is_active.is_(True),
            User.email.is_not(None),
            func.trim(User.email) != "",
        )
        .order_by(User.id)
    )
    return list(dict.fromkeys(e.strip() for e in session.scalars(stmt) if e))


def inquiry_notice(
    session: Session, settings: Settings, *, inquiry_id: int, base_url: str
) -> EmailMessage | None:
    """The notice of one stored inquiry, addressed to its institution's staff.

    `base_url` is the site's address for the listing link when `SHUANGLIAN_PUBLIC_URL` is not
    set. Returns None (and logs why) if the notice cannot be built: the inquiry is already
    stored and listed in the institution's workspace, so a notice lost to a fault must not turn
    the visitor's confirmation into an error page.
    """
    try:
        inquiry = session.get(Inquiry, inquiry_id)
        listing = session.get(Listing, inquiry.listing_id) if inquiry else None
        if inquiry is None or listing is None:
            log.warning("inquiry %s not found; no notice sent", inquiry_id)
            return None
        recipients = inquiry_recipients(session, institution_id=listing.institution_id)
        site = (settings.public_url or base_url).rstrip("/")
        return compose(
            settings,
            to=recipients,
            subject=f"[双链] {listing.number} 收到新留言 / New inquiry: {listing.title}",
            text=_notice_text(inquiry, listing, site=site, timezone=settings.timezone),
            reply_to=_reply_to(inquiry),
        )
    except Exception:
        log.exception("notice of inquiry %s could not be built", inquiry_id)
        return None


def _reply_to(inquiry: Inquiry) -> Address | None:
    """The visitor's address, so staff can answer by replying (when one was left)."""
    if not inquiry.email:
        return None
    try:
        name = " ".join(inquiry.name.split())
        return Address(display_name=name, addr_spec=inquiry.email)
    except (ValueError, IndexError):
        # An address Python's header model rejects is still in the text for a person to read.
        return None


def _notice_text(inquiry: Inquiry, listing: Listing, *, site: str, timezone: str) -> str:
    # The time on the platform's clock (SHUANGLIAN_TIMEZONE), labelled like the pages.
    local = in_zone(inquiry.created_at, timezone).strftime("%Y-%m-%d %H:%M")
    label = zone_label(timezone, inquiry.created_at)
    lines = [
        "您好：",
        "有访客在科技成果超市就贵机构的成果留言，请尽快回复。",
        "Hello, a visitor has left a message about one of your listings in the technology",
        "market. Please reply soon.",
        "",
        f"成果 Listing:        {listing.number} {listing.title}",
        f"链接 Link:           {site}/market/{listing.id}",
        "",
        f"姓名 Name:           {inquiry.name}",
        f"单位 Organisation:   {inquiry.organisation or '-'}",
        f"邮箱 E-mail:         {inquiry.email or '-'}",
        f"电话 Phone:          {inquiry.phone or '-'}",
        f"时间 Time:           {local}（{label}）",
        "",
        "留言 Message:",
        inquiry.message,
        "",
        "回复本邮件即可联系留言人（若其留下邮箱）。所有留言也列在机构工作台：",
        "Reply to this e-mail to answer the visitor (when they left an e-mail). All messages",
        "are also listed in the institution workspace:",
        f"{site}/workspace/institution#inquiries",
        "",
        "-- ",
        "双链 shuanglian",
    ]
    return "\n".join(lines) + "\n"
