"""New-match alerts (`shuanglian market alerts`, for cron): e-mail each user the listings
published since they followed a search or an industry, each listing once.

Idempotent by construction: every listing announced to a user is written to
`market_alerts_sent` in the same transaction that queues the e-mail, and a listing found there
is never announced to that user again; the mail goes out after that transaction commits (the
mail module keeps any undelivered message in the outbox). So running the command twice, or
every ten minutes, sends each user each new listing once. A listing published before the follow
was created is not "new" to that follow and is left out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian import mail
from shuanglian.accounts.models import User
from shuanglian.config import Settings
from shuanglian.db import after_commit, utcnow
from shuanglian.supermarket.models import AlertSent, Listing, MarketFollow
from shuanglian.supermarket.service import search_listings

PER_FOLLOW = 100  # newest matches looked at per follow and run (a cron run every hour or day)
PER_MAIL = 30  # listings named in one e-mail; the rest wait for the next run


@dataclass
class AlertReport:
    """What one run did, for `--json`: users e-mailed, listings announced, users skipped."""

    users_mailed: int = 0
    listings_sent: int = 0
    users_without_email: int = 0
    recipients: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "users_mailed": self.users_mailed,
            "listings_sent": self.listings_sent,
            "users_without_email": self.users_without_email,
        }


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive UTC datetimes; PostgreSQL aware ones.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def new_matches(session: Session, *, follow: MarketFollow) -> list[Listing]:
    """Published listings matching `follow` that were published after it was created."""
    page = search_listings(
        session,
        q=follow.query or None,
        industry=follow.industry or None,
        sort="newest",
        limit=PER_FOLLOW,
    )
    since = _aware(follow.created_at)
    return [
        listing
        for listing in page.items
        if listing.published_at is not None and _aware(listing.published_at) > since
    ]


def send_alerts(session: Session, *, settings: Settings, base_url: str) -> AlertReport:
    """Queue one e-mail per user with the listings new to them; record them as sent."""
    report = AlertReport()
    follows = session.scalars(select(MarketFollow).order_by(MarketFollow.user_id, MarketFollow.id))
    by_user: dict[int, list[MarketFollow]] = defaultdict(list)
    for row in follows:
        by_user[row.user_id].append(row)
    for user_id, rows in by_user.items():
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            continue
        if not (user.email or "").strip():
            report.users_without_email += 1
            continue
        sent = set(
            session.scalars(select(AlertSent.listing_id).where(AlertSent.user_id == user_id))
        )
        found: dict[int, tuple[Listing, MarketFollow]] = {}
        for row in rows:
            for listing in new_matches(session, follow=row):
                if listing.id not in sent and listing.id not in found:
                    found[listing.id] = (listing, row)
        if not found:
            continue
        chosen = sorted(found.values(), key=lambda pair: pair[0].id)[:PER_MAIL]
        for listing, _row in chosen:
            session.add(AlertSent(user_id=user_id, listing_id=listing.id))
        message = _alert_mail(settings, user=user, chosen=chosen, base_url=base_url)
        after_commit(session, partial(_send, settings, message))
        report.users_mailed += 1
        report.listings_sent += len(chosen)
        report.recipients.append(user.email or "")
    session.flush()
    return report


def _follow_words(row: MarketFollow) -> str:
    parts = []
    if row.query:
        parts.append(f"“{row.query}”")
    if row.industry:
        parts.append(f"行业 {row.industry}")
    return " + ".join(parts)


def _alert_mail(
    settings: Settings,
    *,
    user: User,
    chosen: list[tuple[Listing, MarketFollow]],
    base_url: str,
) -> EmailMessage:
    base = (settings.public_url or base_url).rstrip("/")
    lines = [
        f"{user.display_name or user.username}，您好：",
        "",
        f"您关注的搜索有 {len(chosen)} 项新上架的科技成果 "
        f"({len(chosen)} new listings match what you follow):",
        "",
    ]
    for listing, row in chosen:
        lines.append(f"· {listing.title}（{listing.institution.name}）")
        lines.append(f"  关注：{_follow_words(row)}  {base}/market/{listing.id}")
    lines += ["", f"管理关注与收藏 (manage what you follow): {base}/market/saved"]
    assert user.email
    return mail.compose(
        settings,
        to=[user.email.strip()],
        subject=f"双链科技成果超市：{len(chosen)} 项新成果 ({len(chosen)} new listings)",
        text="\n".join(lines) + "\n",
    )


def _send(settings: Settings, message: EmailMessage) -> None:
    mail.send(settings, message)  # never raises: an undelivered message stays in the outbox
