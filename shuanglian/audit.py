"""The one audit log (操作留痕): who did what to which record, when, and with what detail.

Every data-changing service calls `record_audit` inside its own transaction, so an entry exists
exactly when the change it describes was committed. `institution_id` is kept on the row so an
institution's staff can read their own institution's entries without joining every subject.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shuanglian.db import Base, utcnow
from shuanglian.importing import ImportReport

_SKIP = {"created_at", "updated_at", "password_hash", "token_hash"}


class AuditEntry(Base):
    """One recorded action. `subject_type` is the table name of the record acted on."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(100), default="system")
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(60))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    institution_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def jsonable(value: Any) -> Any:
    """A value as JSON can hold it (dates as ISO text, decimals as text)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: object) -> dict[str, Any]:
    """The column values of an ORM object as JSON-ready data (timestamps and secrets left out)."""
    mapper = inspect(obj).mapper
    return {
        attr.key: jsonable(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in _SKIP
    }


Subject = object | tuple[str, int | None] | None


def _subject_key(subject: Subject) -> tuple[str | None, int | None]:
    if subject is None:
        return None, None
    if isinstance(subject, tuple):
        return subject[0], subject[1]
    return getattr(subject, "__tablename__", type(subject).__name__), getattr(subject, "id", None)


def record_audit(
    session: Session,
    *,
    actor: Any,
    action: str,
    subject: Subject,
    detail: dict[str, Any] | None = None,
    institution_id: int | None = None,
) -> AuditEntry:
    """Append one entry, committed (or rolled back) with the caller's unit of work.

    `actor` is a User or None (the system, a scheduled job). `subject` is an ORM object (its
    table and id are recorded; it is flushed first so a new object has its id) or a
    `(type, id)` pair. The institution defaults to the subject's own `institution_id`.
    """
    if subject is not None and not isinstance(subject, tuple):
        session.flush()
    subject_type, subject_id = _subject_key(subject)
    if institution_id is None and subject is not None and not isinstance(subject, tuple):
        institution_id = getattr(subject, "institution_id", None)
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None) or "system",
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        institution_id=institution_id,
        detail=jsonable(detail) if detail else None,
    )
    session.add(entry)
    session.flush()
    return entry


def audit_trail(session: Session, *, subject_type: str, subject_id: int) -> list[AuditEntry]:
    """Every entry about one record, oldest first (a record's history on its page)."""
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.subject_type == subject_type, AuditEntry.subject_id == subject_id)
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(stmt))


IMPORT_COUNTS = ("inserted", "updated", "unchanged", "rejected")


def record_import(
    session: Session,
    *,
    actor: Any,
    kind: str,
    files: Path | str | Sequence[Path | str],
    report: ImportReport | Mapping[str, Any],
    subject: Subject = None,
    institution_id: int | None = None,
    **extra: Any,
) -> AuditEntry | None:
    """Log a finished import as `import.<kind>` with the file name(s) and the counts.

    The file is named as the person chose it (uploads keep the browser's file name), never a
    server path. A dry run changed nothing, so it leaves no entry and None is returned.
    """
    counts = report.as_dict() if isinstance(report, ImportReport) else dict(report)
    if counts.get("dry_run"):
        return None
    paths = [files] if isinstance(files, str | Path) else list(files)
    names = [Path(p).name for p in paths]
    detail: dict[str, Any] = {
        "file": "、".join(names),
        **{k: int(counts.get(k) or 0) for k in IMPORT_COUNTS},
        **{k: v for k, v in extra.items() if v is not None},
    }
    return record_audit(
        session,
        actor=actor,
        action=f"import.{kind}",
        subject=subject,
        detail=detail,
        institution_id=institution_id,
    )
