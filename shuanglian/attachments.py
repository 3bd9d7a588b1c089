"""Files attached to workflow records (challenge documents, milestone deliverables,
verification evidence, pilot outcome reports), kept in the database itself.

Why in the database: the file and the record it belongs to are written in one transaction, so
a refused step never leaves an orphan file on disk and a backup of the database is a backup of
the evidence. Files are small documents (limit `MAX_ATTACHMENT_BYTES`), checked by extension
*and* by content so a renamed executable is not accepted as a PDF. Who may read one is decided
by the domain that owns the record (`scope`, `ref_id`), never here.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column

from shuanglian.db import Base, utcnow
from shuanglian.errors import DomainError, NotFound

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# extension -> (content type, accepted leading bytes; empty = plain text, checked for NUL)
ALLOWED_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF",)),
    ".png": ("image/png", (b"\x89PNG",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".csv": ("text/csv; charset=utf-8", ()),
    ".txt": ("text/plain; charset=utf-8", ()),
}
SCOPES = ("challenge", "milestone", "measurement", "booking")


class Attachment(Base):
    """One stored file belonging to one record of one scope."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_scope_ref", "scope", "ref_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def clean_filename(name: str) -> str:
    """The last path part of a browser-given name, without control characters, ≤ 200 chars."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*')
    return base.strip()[-200:] or "file"


def check_file(filename: str, data: bytes, *, field: str = "file") -> tuple[str, str]:
    """(clean name, content type) if the file is of an accepted type and size, else refuse."""
    name = clean_filename(filename)
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if suffix not in ALLOWED_TYPES:
        allowed = " ".join(sorted(ALLOWED_TYPES))
        raise DomainError(
            f"不支持的文件类型“{suffix or name}”，可上传：{allowed} (file type not accepted)",
            field=field,
        )
    if not data:
        raise DomainError("文件是空的 (the file is empty)", field=field)
    if len(data) > MAX_ATTACHMENT_BYTES:
        mib = MAX_ATTACHMENT_BYTES // (1024 * 1024)
        raise DomainError(f"文件超过 {mib} MiB (file larger than {mib} MiB)", field=field)
    content_type, magic = ALLOWED_TYPES[suffix]
    if magic and not any(data.startswith(m) for m in magic):
        raise DomainError(
            f"文件内容与扩展名 {suffix} 不符 (content does not match {suffix})", field=field
        )
    if not magic and b"\x00" in data[:65536]:
        raise DomainError(f"文件内容不是文本 (not a text file: {suffix})", field=field)
    return name, content_type


def store_attachment(
    session: Session, *, scope: str, ref_id: int, filename: str, data: bytes, actor: object
) -> Attachment:
    """Check and store one file for a record; the caller has already checked the permission."""
    if scope not in SCOPES:
        raise DomainError(f"unknown attachment scope {scope!r}", field="scope")
    name, content_type = check_file(filename, data)
    row = Attachment(
        scope=scope,
        ref_id=ref_id,
        filename=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by_id=getattr(actor, "id", None),
    )
    session.add(row)
    session.flush()
    return row


def list_attachments(session: Session, *, scope: str, ref_ids: list[int]) -> list[Attachment]:
    """The files of some records of one scope, oldest first (data not loaded)."""
    if not ref_ids:
        return []
    stmt = (
        select(Attachment)
        .where(Attachment.scope == scope, Attachment.ref_id.in_(ref_ids))
        .order_by(Attachment.id)
    )
    return list(session.scalars(stmt))


def get_attachment(session: Session, *, attachment_id: int) -> Attachment:
    """One file's row (the caller checks that the user may see its record)."""
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound(f"文件不存在 (file not found): {attachment_id}")
    return row
