"""In-app notifications (the bell) and their e-mail copies, for every multi-party workflow.

`notify` stores one row per recipient inside the caller's transaction and registers the e-mail
copy to go out after commit, so a refused or rolled-back step never announces itself and a slow
mail server never holds a transaction open. Delivery itself is `shuanglian.mail`'s job (SMTP or
the outbox), which never raises for a delivery problem.

Each message is stored in both languages (`title`/`body` in Chinese, `title_en`/`body_en` in
English) because it is written once, when the event happens, and read later by someone whose
page language is not known then; pages pick the half in their language (`title_in`), and the
e-mail copy carries both, Chinese first. Rows written before the English columns existed have
none and read in Chinese everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session

from shuanglian.db import Base, after_commit, session_settings, utcnow

TITLE_MAX = 300  # the title columns' length


class Notification(Base):
    """One message for one user; `read_at` is set when they open or dismiss it."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str | None] = mapped_column(Text)
    title_en: Mapped[str | None] = mapped_column(String(TITLE_MAX))
    body_en: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))  # a site path such as /challenges/3
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    emailed: Mapped[bool] = mapped_column(Boolean, default=False)

    def title_in(self, lang: str) -> str:
        """The title in the page's language: English where stored, else the Chinese."""
        return (self.title_en or self.title) if lang == "en" else self.title

    def body_in(self, lang: str) -> str | None:
        """The body in the page's language: English where stored, else the Chinese."""
        return (self.body_en or self.body) if lang == "en" else self.body


def notify(
    session: Session,
    *,
    user_ids: Iterable[int],
    kind: str,
    title: str,
    title_en: str,
    body: str | None = None,
    body_en: str | None = None,
    link: str | None = None,
    email: bool = True,
) -> list[Notification]:
    """Store a notification for each user (once each) and e-mail a copy after commit.

    `title_en` is required so that no new caller can forget the English reader; `body_en`
    goes with `body` (text a person typed, such as a reason, is passed as both). Titles longer
    than the column are cut with "…".
    """
    from shuanglian.accounts.models import User  # accounts imports nothing from here

    ids = list(dict.fromkeys(int(u) for u in user_ids))
    title, title_en = _fit(title), _fit(title_en)
    rows = [
        Notification(
            user_id=u,
            kind=kind,
            title=title,
            body=body,
            title_en=title_en,
            body_en=body_en,
            link=link,
        )
        for u in ids
    ]
    session.add_all(rows)
    session.flush()
    settings = session_settings(session)
    if email and settings is not None and ids:
        addresses = [
            a.strip()
            for a in session.scalars(
                select(User.email).where(
                    User.id.in_(ids), User.is_active.is_(True), User.email.is_not(None)
                )
            )
            if a and a.strip()
        ]
        if addresses:
            site = (settings.public_url or "").rstrip("/")
            text = email_text(
                title=title,
                body=body,
                title_en=title_en,
                body_en=body_en,
                url=f"{site}{link}" if link else None,
            )
            subject = f"[双链] {title}" if title_en == title else f"[双链] {title} / {title_en}"

            def send() -> None:
                from shuanglian.mail import compose
                from shuanglian.mail import send as send_mail

                send_mail(
                    settings,
                    compose(settings, to=addresses, subject=subject, text=text),
                )

            after_commit(session, send)
            for row in rows:
                row.emailed = True
    return rows


def _fit(title: str) -> str:
    """A title cut to the column (a 300-character deal title inside a sentence would not fit,
    and PostgreSQL refuses what SQLite keeps)."""
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


def email_text(
    *,
    title: str,
    body: str | None,
    title_en: str | None,
    body_en: str | None,
    url: str | None,
) -> str:
    """The e-mail copy: the Chinese, then the English (a part the Chinese already said, such
    as a reason a person typed, is not repeated), then the link and the signature."""
    english = [title_en if title_en != title else None, body_en if body_en != body else None]
    blocks = [title, body, *english, url]
    return "\n\n".join(b for b in blocks if b) + "\n\n-- \n双链 shuanglian\n"


def unread_count(session: Session, *, user_id: int) -> int:
    """How many of the user's notifications are unread (the number on the bell)."""
    stmt = select(func.count()).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    return int(session.scalar(stmt) or 0)


def list_notifications(
    session: Session, *, user_id: int, offset: int = 0, limit: int = 50
) -> tuple[list[Notification], int]:
    """One page of the user's notifications, newest first, and the total."""
    stmt = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.id.desc())
        .offset(offset)
        .limit(limit)
    )
    total = session.scalar(select(func.count()).where(Notification.user_id == user_id))
    return list(session.scalars(stmt)), int(total or 0)


def mark_read(
    session: Session, *, user_id: int, notification_ids: Iterable[int] | None = None
) -> int:
    """Mark the user's notifications read (all unread ones when no ids are given); the count."""
    stmt = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_ids is not None:
        stmt = stmt.where(Notification.id.in_(list(notification_ids)))
    result = session.execute(stmt.values(read_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def unread_for(user: object | None) -> int:
    """The unread count for the page header (0 for visitors or a user no longer in a session)."""
    if user is None:
        return 0
    session = object_session(user)
    user_id = getattr(user, "id", None)
    if session is None or user_id is None:
        return 0
    return unread_count(session, user_id=user_id)
